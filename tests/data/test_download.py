"""The verified download and the opt-in full MNIST, against a real HTTP server on 127.0.0.1.

No network: the server runs in a thread of this test. The code under test is the real one
(urllib, hashing, atomic replace, idx parsing); only the file table and sizes are swapped for
tiny generated files.
"""
import gzip
import hashlib
import http.server
import socket
import threading
import time

import numpy as np
import pytest

from nnviz.data import mnist
from nnviz.data.download import DownloadError, download

GOOD = bytes(range(256)) * 1000  # 256,000 bytes: several chunks
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}  # path -> (kind, body)
    hits: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        kind, body = self.routes.get(self.path, ("404", b""))
        if kind == "404":
            self.send_error(404, "Not Found")
            return
        if kind == "slow":
            time.sleep(1.0)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind != "no-length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "interrupted":  # promise everything, send half, hang up
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    """A threaded HTTP/1.0 server on a free loopback port. Yields its base url."""
    _Handler.routes = {
        "/good.bin": ("ok", GOOD),
        "/no-length.bin": ("no-length", GOOD),
        "/corrupt.bin": ("ok", GOOD[:-1] + b"X"),
        "/interrupted.bin": ("interrupted", GOOD),
        "/slow.bin": ("slow", GOOD),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def _one_sentence(message: str):
    assert message and "\n" not in message and message.endswith(".")
    assert "Traceback" not in message


# ----- download() -----------------------------------------------------------------------------
def test_good_file_with_progress(server, tmp_path):
    seen = []
    dest = download(f"{server}/good.bin", tmp_path / "sub" / "good.bin", GOOD_SHA,
                    progress=lambda done, total: seen.append((done, total)))
    assert dest.read_bytes() == GOOD
    assert _leftovers(tmp_path / "sub") == ["good.bin"]  # no temporary file left behind
    assert seen[0] == (0, len(GOOD)) and seen[-1] == (len(GOOD), len(GOOD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) > 2


def test_good_file_without_content_length(server, tmp_path):
    totals = set()
    download(f"{server}/no-length.bin", tmp_path / "f.bin", GOOD_SHA, progress=lambda d, t: totals.add(t))
    assert (tmp_path / "f.bin").read_bytes() == GOOD and totals == {None}


def test_checksum_mismatch_discards_the_file(server, tmp_path):
    with pytest.raises(DownloadError, match="corrupt") as err:
        download(f"{server}/corrupt.bin", tmp_path / "f.bin", GOOD_SHA)
    _one_sentence(str(err.value))
    assert _leftovers(tmp_path) == []


def test_interrupted_transfer_is_detected(server, tmp_path):
    with pytest.raises(DownloadError, match="interrupted") as err:
        download(f"{server}/interrupted.bin", tmp_path / "f.bin", GOOD_SHA)
    _one_sentence(str(err.value))
    assert _leftovers(tmp_path) == []


def test_http_404(server, tmp_path):
    with pytest.raises(DownloadError, match="404") as err:
        download(f"{server}/nothing-here.bin", tmp_path / "f.bin", GOOD_SHA)
    _one_sentence(str(err.value))
    assert _leftovers(tmp_path) == []


def test_unreachable_server_means_no_network(closed_port, tmp_path):
    with pytest.raises(DownloadError, match="Cannot reach") as err:
        download(f"http://127.0.0.1:{closed_port}/f.bin", tmp_path / "f.bin", GOOD_SHA, timeout=5)
    _one_sentence(str(err.value))
    assert "network" in str(err.value)
    assert _leftovers(tmp_path) == []


def test_timeout(server, tmp_path):
    with pytest.raises(DownloadError, match="timed out|Cannot reach") as err:
        download(f"{server}/slow.bin", tmp_path / "f.bin", GOOD_SHA, timeout=0.2)
    _one_sentence(str(err.value))
    assert _leftovers(tmp_path) == []


def test_too_large_is_refused(server, tmp_path):
    for route in ("good.bin", "no-length.bin"):  # declared, and discovered while streaming
        with pytest.raises(DownloadError, match="more than|larger than"):
            download(f"{server}/{route}", tmp_path / "f.bin", GOOD_SHA, max_bytes=1000)
    assert _leftovers(tmp_path) == []


def test_only_http_urls(tmp_path):
    (tmp_path / "secret").write_bytes(GOOD)
    with pytest.raises(DownloadError, match="not an http"):
        download((tmp_path / "secret").as_uri(), tmp_path / "f.bin", GOOD_SHA)
    assert _leftovers(tmp_path) == ["secret"]


def test_an_unwritable_destination(server, tmp_path):
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(DownloadError, match="Cannot write") as err:
        download(f"{server}/good.bin", tmp_path / "a-file" / "f.bin", GOOD_SHA)
    _one_sentence(str(err.value))


def test_a_failed_download_leaves_an_existing_file_alone(server, tmp_path):
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"the old, good file")
    with pytest.raises(DownloadError):
        download(f"{server}/interrupted.bin", dest, GOOD_SHA)
    assert dest.read_bytes() == b"the old, good file" and _leftovers(tmp_path) == ["f.bin"]


def test_an_exception_in_the_progress_callback_leaves_no_half_file(server, tmp_path):
    def stop(done, total):
        if done > 100_000:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        download(f"{server}/good.bin", tmp_path / "f.bin", GOOD_SHA, progress=stop)
    assert _leftovers(tmp_path) == []


# ----- full MNIST, end to end on tiny idx files ------------------------------------------------
N_TRAIN, N_TEST = 12, 5


def _idx_gz(magic: int, array: np.ndarray) -> bytes:
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


@pytest.fixture
def tiny_mnist(server, monkeypatch):
    """Four tiny idx.gz files served under /mnist/, and mnist's file table pointed at them."""
    rng = np.random.default_rng(0)
    raw = {"train": (rng.integers(0, 256, (N_TRAIN, 28, 28)), np.arange(N_TRAIN) % 10),
           "t10k": (rng.integers(0, 256, (N_TEST, 28, 28)), (np.arange(N_TEST) * 3) % 10)}
    files = {}
    for prefix, (images, labels) in raw.items():
        files[f"{prefix}-images-idx3-ubyte.gz"] = _idx_gz(2051, images)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = _idx_gz(2049, labels)
    for name, data in files.items():
        _Handler.routes[f"/mnist/{name}"] = ("ok", data)
    monkeypatch.setattr(mnist, "FULL_FILES", {n: (hashlib.sha256(d).hexdigest(), len(d)) for n, d in files.items()})
    monkeypatch.setattr(mnist, "FULL_SIZES", {"train": N_TRAIN, "t10k": N_TEST})
    yield f"{server}/mnist/", raw, files
    for name in files:
        _Handler.routes.pop(f"/mnist/{name}", None)


def test_load_full_downloads_verifies_parses_and_caches(tiny_mnist, tmp_path):
    base, raw, files = tiny_mnist
    cache = tmp_path / "cache"
    assert not mnist.full_is_cached(cache)
    reports = []
    hits_before = len(_Handler.hits)
    d = mnist.load_full(progress=lambda f, m: reports.append((f, m)), cache_dir=cache, base_url=base)
    assert len(_Handler.hits) - hits_before == 4
    assert d.x_train.shape == (N_TRAIN, 784) and d.x_test.shape == (N_TEST, 784) and d.n_classes == 10
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_allclose(d.x_train * 255, raw["train"][0].reshape(N_TRAIN, 784), atol=1e-4)
    np.testing.assert_array_equal(d.y_test, raw["t10k"][1])
    assert not any(a.flags.writeable for a in (d.x_train, d.y_train, d.x_test, d.y_test))
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in reports)
    assert any("Downloading" in m for _, m in reports)
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)
    assert mnist.full_is_cached(cache)
    # Second time: straight from the cache, no request.
    again = mnist.load_full(cache_dir=cache, base_url=base)
    assert len(_Handler.hits) - hits_before == 4
    np.testing.assert_array_equal(again.x_train, d.x_train)


def test_a_corrupt_cached_file_is_fetched_again(tiny_mnist, tmp_path):
    base, raw, _ = tiny_mnist
    mnist.load_full(cache_dir=tmp_path, base_url=base)
    victim = tmp_path / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:-3] + b"xyz")
    assert not mnist.full_is_cached(tmp_path)
    hits_before = len(_Handler.hits)
    d = mnist.load_full(cache_dir=tmp_path, base_url=base)
    assert _Handler.hits[hits_before:] == ["/mnist/t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(d.y_test, raw["t10k"][1])
    assert mnist.full_is_cached(tmp_path)


def test_load_full_with_a_corrupt_mirror_raises_and_caches_nothing(tiny_mnist, tmp_path, monkeypatch):
    base, _, _ = tiny_mnist
    table = dict(mnist.FULL_FILES)
    sha, size = table["train-labels-idx1-ubyte.gz"]
    table["train-labels-idx1-ubyte.gz"] = (hashlib.sha256(b"another file").hexdigest(), size)
    monkeypatch.setattr(mnist, "FULL_FILES", table)
    with pytest.raises(DownloadError, match="corrupt"):
        mnist.load_full(cache_dir=tmp_path, base_url=base)
    assert "train-labels-idx1-ubyte.gz" not in _leftovers(tmp_path)
    assert not any(n.endswith(".part") for n in _leftovers(tmp_path))


def test_load_full_without_network(tiny_mnist, tmp_path, closed_port):
    with pytest.raises(DownloadError, match="Cannot reach") as err:
        mnist.load_full(cache_dir=tmp_path, base_url=f"http://127.0.0.1:{closed_port}/mnist")
    _one_sentence(str(err.value))
    assert not mnist.full_is_cached(tmp_path)


@pytest.mark.parametrize("name,data", [
    ("train-images-idx3-ubyte.gz", gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 100)),  # wrong magic
    ("train-labels-idx1-ubyte.gz", _idx_gz(2049, np.zeros(N_TRAIN + 1))),  # wrong count
    ("t10k-labels-idx1-ubyte.gz", _idx_gz(2049, np.full(N_TEST, 11))),  # labels outside 0-9
    ("t10k-images-idx3-ubyte.gz", b"not gzip at all"),
    ("t10k-images-idx3-ubyte.gz", _idx_gz(2051, np.zeros((N_TEST, 28, 28)))[:-20]),  # truncated gzip
    ("train-images-idx3-ubyte.gz", gzip.compress(  # trailing bytes after the promised data
        np.array([2051, N_TRAIN, 28, 28], ">u4").tobytes() + bytes(N_TRAIN * 784 + 1))),
])
def test_idx_files_are_validated(tiny_mnist, tmp_path, monkeypatch, name, data):
    """Even a file with the expected checksum (a wrong table, say) is parsed defensively."""
    base, _, files = tiny_mnist
    _Handler.routes[f"/mnist/{name}"] = ("ok", data)
    monkeypatch.setattr(mnist, "FULL_FILES",
                        dict(mnist.FULL_FILES, **{name: (hashlib.sha256(data).hexdigest(), len(data))}))
    with pytest.raises(DownloadError, match="delete") as err:
        mnist.load_full(cache_dir=tmp_path, base_url=base)
    _one_sentence(str(err.value))


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mnist.default_cache_dir() == tmp_path / "nnviz"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.default_cache_dir() == tmp_path / "home" / ".cache" / "nnviz"


def test_the_real_table_is_complete():
    """The four files of the public mirror, with their well-known SHA-256 sums."""
    assert mnist.FULL_BASE_URL.startswith("https://")
    assert set(mnist.FULL_FILES) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    assert all(len(sha) == 64 and int(sha, 16) >= 0 and size > 4000 for sha, size in mnist.FULL_FILES.values())
    assert mnist.FULL_SIZES == {"train": 60_000, "t10k": 10_000}
