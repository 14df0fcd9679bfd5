"""MNIST digits: the bundled 10,000 (works offline) and, opt-in, the full 70,000.

Images are returned flat and scaled to [0, 1]: x (n, 784) float32, y (n,) int64.
"""
from __future__ import annotations

import gzip
import os
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from nnviz.data.download import DownloadError, download, sha256_of
from nnviz.engine.training import Dataset

BUNDLED = Path(__file__).with_name("mnist-10k.npz")
BUNDLED_SHA256 = "0217e13bd0668deb198aa7d305edbf0331eb89f8a6e7dd226e03d1aa3a9bd4ef"
TEST_FRACTION = 0.2
SPLIT_SEED = 0


@lru_cache(maxsize=1)
def load_bundled_raw() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits as stored: images (10000, 28, 28) uint8, labels (10000,) uint8."""
    with np.load(BUNDLED, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    images.flags.writeable = labels.flags.writeable = False  # cached and shared: read-only
    return images, labels


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with every class split in the same proportion (largest remainder)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * test_fraction
    n_test = np.floor(exact).astype(int)
    short = int(round(len(labels) * test_fraction)) - n_test.sum()
    n_test[np.argsort(-(exact - n_test), kind="stable")[:short]] += 1
    train, test = [], []
    for c, k in zip(classes, n_test):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def flatten(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 -> (n, 784) float32 in [0, 1]."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


@lru_cache(maxsize=1)
def load_bundled() -> Dataset:
    """The bundled digits, split deterministically and stratified into 8,000 train / 2,000 test."""
    images, labels = load_bundled_raw()
    train, test = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
    x, y = flatten(images), labels.astype(np.int64)
    parts = (x[train], y[train], x[test], y[test])  # fancy indexing copies: protect the copies
    for a in parts:
        a.flags.writeable = False  # shared between sessions: read-only
    return Dataset(*parts, n_classes=10, name="mnist-10k")



# ----- the held-out digits in two halves ----------------------------------------------------
# The class challenge (nnviz/classroom) rates networks on digits no page ever shows, so that
# nobody can train on or tune against them: the 2,000 held-out digits split into a public half
# (what the pages test on and show) and a private half (only the class evaluation reads it).
HALVES_SEED = 1


@lru_cache(maxsize=1)
def held_out_halves() -> tuple[np.ndarray, np.ndarray]:
    """Indices into load_bundled().x_test: (public (1000,), private (1000,)), stratified by digit."""
    public, private = stratified_split(load_bundled().y_test, 0.5, HALVES_SEED)
    public, private = np.sort(public), np.sort(private)
    public.flags.writeable = private.flags.writeable = False
    return public, private


@lru_cache(maxsize=1)
def public_digits() -> Dataset:
    """The bundled digits as every page uses them: 8,000 to train on, the public 1,000 to test on."""
    full = load_bundled()
    public, _ = held_out_halves()
    x_test, y_test = full.x_test[public], full.y_test[public]
    x_test.flags.writeable = y_test.flags.writeable = False
    return Dataset(full.x_train, full.y_train, x_test, y_test, n_classes=10, name="mnist-10k")


def private_digits() -> tuple[np.ndarray, np.ndarray]:
    """The private half: x (1000, 784) float32, y (1000,) int64 (read-only). Only for the class's rating."""
    full = load_bundled()
    _, private = held_out_halves()
    x, y = full.x_test[private], full.y_test[private]
    x.flags.writeable = y.flags.writeable = False
    return x, y

# ----- full MNIST (opt-in download) ------------------------------------------------------
# The mirror torchvision uses; the SHA-256 and sizes of the four .gz files are the well-known ones
# (the same files as on yann.lecun.com). name -> (sha256, size in bytes).
FULL_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FULL_FILES = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
}
FULL_SIZES = {"train": 60_000, "t10k": 10_000}
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 2051, 2049  # 0x00000803: ubyte, 3 dims; 0x00000801: ubyte, 1 dim

# progress(fraction in [0, 1], message)
Progress = Callable[[float, str], None]


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/nnviz, else ~/.cache/nnviz."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnviz"


# (path, size, mtime_ns) -> sha256, so full_is_cached() hashes each file once, not on every rerun.
_verified: dict[tuple[str, int, int], str] = {}


def _cached_ok(path: Path, sha256: str) -> bool:
    """Whether path exists with exactly this SHA-256."""
    try:
        st = path.stat()
    except OSError:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        try:
            _verified[key] = sha256_of(path)
        except OSError:
            return False
    return _verified[key] == sha256


def full_is_cached(cache_dir: str | Path | None = None) -> bool:
    """True when all four full-MNIST files are in the cache with the right checksums."""
    d = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return all(_cached_ok(d / name, sha) for name, (sha, _) in FULL_FILES.items())


def load_full(progress: Progress | None = None, cache_dir: str | Path | None = None,
              base_url: str | None = None) -> Dataset:
    """The full MNIST: 60,000 train / 10,000 test, x (n, 784) float32 in [0, 1] (read-only).

    Downloads what the cache lacks (about 11.6 MB) from base_url (default FULL_BASE_URL), verifies
    each file's SHA-256 and keeps it in cache_dir (default default_cache_dir()).
    progress(fraction, message) reports the download and the reading.
    Raises DownloadError (nnviz.data.download) with a one-sentence message on any failure.
    """
    d = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = base_url if base_url is not None else FULL_BASE_URL
    if not base.endswith("/"):
        base += "/"
    report = progress or (lambda fraction, message: None)
    missing = [name for name, (sha, _) in FULL_FILES.items() if not _cached_ok(d / name, sha)]
    # Download ~95% of the bar, parsing the rest; bytes of the files to fetch set the pace.
    total = sum(FULL_FILES[name][1] for name in missing) or 1
    fetched = 0
    for name in missing:
        sha, size = FULL_FILES[name]

        def on_bytes(done, _total, name=name):
            mb = (fetched + done) / 1e6
            report(0.95 * min(1.0, (fetched + done) / total),
                   f"Downloading {name}: {mb:.1f} of {total / 1e6:.1f} MB")

        download(base + name, d / name, sha, progress=on_bytes, max_bytes=2 * size + 1024)
        fetched += size
    report(0.95, "Reading the digits")
    arrays = {}
    for prefix, n in FULL_SIZES.items():
        images = read_idx(d / f"{prefix}-images-idx3-ubyte.gz", IDX_IMAGES_MAGIC, (n, 28, 28))
        labels = read_idx(d / f"{prefix}-labels-idx1-ubyte.gz", IDX_LABELS_MAGIC, (n,))
        if labels.max(initial=0) > 9:
            raise DownloadError(f"The cached file {prefix}-labels-idx1-ubyte.gz holds labels outside 0-9; "
                                f"delete {d} and try again.")
        x, y = flatten(images), labels.astype(np.int64)
        x.flags.writeable = y.flags.writeable = False  # shared between sessions: read-only
        arrays[prefix] = (x, y)
    report(1.0, "Full MNIST ready: 60,000 training and 10,000 test digits")
    return Dataset(*arrays["train"], *arrays["t10k"], n_classes=10, name="mnist-70k")


def read_idx(path: Path, magic: int, shape: tuple[int, ...]) -> np.ndarray:
    """Read a gzipped idx file of unsigned bytes with this magic number and shape. Returns uint8.

    Reads no more than the header promises (a gzip bomb stops there) and checks every field.
    """
    count = int(np.prod(shape))
    header_bytes = 4 + 4 * len(shape)
    try:
        with gzip.open(path, "rb") as f:
            header = f.read(header_bytes)
            body = f.read(count)
            extra = f.read(1)
    except (OSError, EOFError, zlib.error):
        raise DownloadError(f"The cached file {path.name} is not a valid gzip file; delete it and try again.") from None
    fields = np.frombuffer(header, dtype=">u4") if len(header) == header_bytes else None
    if fields is None or int(fields[0]) != magic or tuple(int(s) for s in fields[1:]) != shape \
            or len(body) != count or extra:
        raise DownloadError(f"The cached file {path.name} is not an MNIST idx file of shape {shape}; "
                            f"delete it and try again.")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)
