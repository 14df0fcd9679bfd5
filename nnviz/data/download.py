"""Download one file safely: streamed, SHA-256 verified, written atomically.

The bytes go to a temporary file beside the destination; only a complete file whose checksum
matches is moved into place (os.replace is atomic on one file system). A half-written or
corrupt file is deleted, never used. Every failure is a DownloadError whose message is one
sentence a user can act on.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

CHUNK_BYTES = 1 << 16
DEFAULT_TIMEOUT_S = 30.0

# progress(done_bytes, total_bytes or None), called after every chunk.
ByteProgress = Callable[[int, "int | None"], None]


class DownloadError(OSError):
    """A download failed; str(error) is a one-sentence message for the user."""


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: str | Path, sha256: str, progress: ByteProgress | None = None,
             timeout: float = DEFAULT_TIMEOUT_S, max_bytes: int | None = None) -> Path:
    """Fetch url into dest if its SHA-256 is `sha256` (hex); return dest.

    progress(done_bytes, total_bytes) is called as bytes arrive (total None if the server
    does not say). timeout is per network operation, in seconds. max_bytes caps the size.
    Raises DownloadError on no network, an HTTP error, an interrupted transfer, a file too
    large, a checksum mismatch or a disk error; dest is then left as it was.
    """
    dest = Path(dest)
    name = dest.name
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{name}.", suffix=".part")
    except OSError as e:
        raise DownloadError(f"Cannot write {name} to {dest.parent}: {e.strerror or e}.") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _fetch(url, name, out, progress, timeout, max_bytes)
        if digest != sha256.lower():
            raise DownloadError(f"The download of {name} is corrupt (its SHA-256 checksum does not match); "
                                f"it was discarded, please try again.")
        os.replace(tmp, dest)
    except DownloadError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as e:  # disk full, permission, ... while writing or moving
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"Cannot write {name} to {dest.parent}: {e.strerror or e}.") from None
    except BaseException:  # KeyboardInterrupt, a callback's exception: still never leave a half file
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _fetch(url, name, out, progress, timeout, max_bytes) -> str:
    """Stream url into the open file `out`; return the hex SHA-256 of what arrived."""
    h = hashlib.sha256()
    done = 0
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"Cannot download {name}: {url!r} is not an http(s) address.")
    request = urllib.request.Request(url, headers={"User-Agent": "nnviz"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if max_bytes is not None and total is not None and total > max_bytes:
                raise DownloadError(f"The server offers {name} with {total:,} bytes, more than the "
                                    f"expected {max_bytes:,}; download refused.")
            if progress:
                progress(0, total)
            while block := resp.read(CHUNK_BYTES):
                try:
                    out.write(block)
                except OSError as e:
                    raise DownloadError(f"Cannot write {name} to disk: {e.strerror or e}.") from None
                h.update(block)
                done += len(block)
                if max_bytes is not None and done > max_bytes:
                    raise DownloadError(f"The download of {name} is larger than the expected "
                                        f"{max_bytes:,} bytes; it was discarded.")
                if progress:
                    progress(done, total)
    except DownloadError:
        raise
    except urllib.error.HTTPError as e:
        raise DownloadError(f"The server refused {name} (HTTP {e.code} {e.reason}).") from None
    except urllib.error.URLError as e:
        raise DownloadError(f"Cannot reach the server for {name} ({_reason(e.reason)}); "
                            f"check the network connection.") from None
    except (TimeoutError, socket.timeout):
        raise DownloadError(f"The download of {name} timed out; check the network connection "
                            f"and try again.") from None
    except (http.client.HTTPException, OSError) as e:  # connection reset, TLS error, ...
        raise DownloadError(f"The download of {name} was interrupted ({type(e).__name__}); "
                            f"please try again.") from None
    # urllib's read() returns b"" when the server closes early, without an error: check the length.
    if total is not None and done != total:
        raise DownloadError(f"The download of {name} was interrupted after {done:,} of {total:,} bytes; "
                            f"please try again.")
    return h.hexdigest()


def _reason(reason) -> str:
    """A short readable reason from URLError.reason (an exception or a string)."""
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or "no answer"
