"""Matrix products NumPy cannot express, called in the BLAS NumPy itself uses.

A training step makes two big products per layer: Z = A W forward and W -= A^T delta backward.
NumPy's matmul does neither the way two cores want:

* **The update as one call.** GEMM computes C = alpha A B + beta C; NumPy always takes beta = 0, so
  the gradient goes into a buffer and is subtracted from W in a second pass. With beta = 1 the
  product lands in W itself: one pass fewer, and on two threads a far cheaper one (that pass
  read, from one core, a 300 kB gradient half written by the other: 9 -> 95 us at b128).
* **Each core keeps its half of W.** OpenBLAS splits the update by rows of W (the larger side),
  but the forward product by rows of the batch or by columns of W, so on two threads both cores
  read all of W and half of it crosses between their caches on every step (at b32 two threads
  were slower than one). Here the forward product is split by the same rows of W (K = the inputs:
  Z = A[:, :h] W[:h] + A[:, h:] W[h:]) and the update likewise, each part a GEMM of its own in one
  batched call that OpenBLAS runs a part a thread. A core then only ever touches its own rows of W.

A `Plan` is one such product on fixed arrays, its ctypes arguments built once (converting 14
arguments costs more than a small product). The library is NumPy's own OpenBLAS, found through
threadpoolctl and called through ctypes (which releases the GIL, as NumPy does); its calls are
checked once against NumPy before they are trusted. Anything else (MKL, an OpenBLAS without the
batched call, arrays that are not C-contiguous float32/float64) takes plain NumPy: `plan()` returns
None.
"""
from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from nnviz.engine import threads

# Below this many numbers in W, NumPy's own calls cost less than ctypes' overhead and a split
# (W2 of a [784, 100, 10] net has 1,000; W1 78,400).
MIN_SIZE = 1 << 14
MIN_PART = 64  # inputs per part at least: a thinner split costs more in calls than it saves
# OpenBLAS's batched call sends parts of m n k <= 100^3 to its small-matrix kernels through a table
# that, in a DYNAMIC_ARCH build (NumPy's), holds offsets rather than addresses: it crashes (0.3.31).
# Every part stays above that, with room for the rounding of the split.
BATCH_MIN_MNK = 1.2e6

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enum values
_lock = threading.Lock()
_library = None  # _Library once looked up, False when there is none to use


@dataclass(frozen=True)
class _Library:
    index: type  # ctypes integer type of the interface (ILP64: c_int64)
    gemm: dict  # np.dtype -> cblas_?gemm
    batch: dict  # np.dtype -> cblas_?gemm_batch (grouped interface), when the library has it
    scalar: dict  # np.dtype -> ctypes float type


def _find_library() -> _Library | None:
    for lib in threads.blas_info():
        if lib.get("internal_api") != "openblas" or not lib.get("filepath"):
            continue
        try:
            dll = ctypes.CDLL(lib["filepath"])
        except OSError:
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("64_", "_64", ""):
                config = getattr(dll, f"{prefix}openblas_get_config{suffix}", None)
                gemm = {np.dtype(t): getattr(dll, f"{prefix}cblas_{c}gemm{suffix}", None)
                        for t, c in ((np.float32, "s"), (np.float64, "d"))}
                if config is None or None in gemm.values():
                    continue
                config.restype = ctypes.c_char_p
                # The integer width of the interface: ILP64 builds say so in their config.
                index = ctypes.c_int64 if b"USE64BITINT" in (config() or b"") else ctypes.c_int32
                scalar = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}
                batch = {}
                for dtype, c in ((np.float32, "s"), (np.float64, "d")):
                    fn = getattr(dll, f"{prefix}cblas_{c}gemm_batch{suffix}", None)
                    if fn is not None:
                        fn.restype = None
                        batch[np.dtype(dtype)] = fn
                for dtype, fn in gemm.items():
                    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, scalar[dtype],
                                   ctypes.c_void_p, index, ctypes.c_void_p, index, scalar[dtype], ctypes.c_void_p, index]
                    fn.restype = None
                found = _Library(index, gemm, batch, scalar)
                return found if _agrees_with_numpy(found) else None
    return None


def _agrees_with_numpy(lib: _Library) -> bool:
    """Every call gives NumPy's numbers on small products (a wrong guess about the library would
    show here, not in a trained model). A batched call that disagrees is dropped alone."""
    rng = np.random.default_rng(0)
    for dtype in list(lib.gemm):
        # Parts above BATCH_MIN_MNK even split in three: (k, m, n) = (32, 384, 300), 1.2e6 a part.
        a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((32, 384), (32, 300), (384, 300)))
        w = rng.standard_normal((384, 300)).astype(dtype)
        for parts in (1, 2, 3):
            if parts > 1 and dtype not in lib.batch:
                break
            want_c, got_c = c - 0.5 * (a.T @ b), c.copy()
            Plan(lib, "update", a, b, got_c, -0.5, parts, min_part=1)()
            ok = np.allclose(got_c, want_c, rtol=1e-4, atol=1e-4)
            if parts > 1:
                z = np.empty((32, 300), dtype)
                Plan(lib, "forward", a, w, z, 1.0, parts, min_part=1)()
                ok = ok and np.allclose(z, a @ w, rtol=1e-4, atol=1e-4)
            if not ok:
                if parts == 1:
                    return False
                del lib.batch[dtype]
                break
    return True


def _lib() -> _Library | None:
    global _library
    if _library is None:
        with _lock:
            if _library is None:
                try:
                    _library = _find_library() or False
                except Exception:  # an unusual BLAS must never break training: NumPy's path instead
                    _library = False
    return _library or None


def available(dtype) -> bool:
    """Whether the one-call update runs for arrays of this dtype."""
    lib = _lib()
    return lib is not None and np.dtype(dtype) in lib.gemm


class Plan:
    """One product on fixed arrays, its BLAS arguments built once; calling it runs the product.

    kind "update": c += alpha a^T b, for a (k, m), b (k, n), c (m, n).
    kind "forward": c = alpha a b, for a (m, k), b (k, n), c (m, n).
    parts (the BLAS threads in force) > 1 splits it over the rows of the weights (m of an update, k
    of a forward) into that many GEMMs of one batched call; a forward then sums its parts' outputs into c.
    The plan keeps its arrays alive, so their memory stays where the built pointers point; whoever
    holds it must call it for those very arrays only (the model's workspace checks identity).
    """

    def __init__(self, lib: _Library, kind: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float,
                 parts: int, min_part: int = MIN_PART):
        self.kind, self.a, self.b, self.c = kind, a, b, c
        dtype, index = c.dtype, lib.index
        scalar = lib.scalar[dtype]
        size = dtype.itemsize
        split = a.shape[1]
        parts = _parts_to_run(a, b, parts, min_part) if dtype in lib.batch else 1
        bounds = [round(i * split / parts) for i in range(parts + 1)]
        self.outputs = [c]
        if kind == "forward":
            self.outputs += [np.empty_like(c) for _ in range(parts - 1)]  # each part's own partial sum
        n = b.shape[1]
        if parts == 1:  # one plain GEMM
            self._fn = lib.gemm[dtype]
            if kind == "update":
                k, m = a.shape
                self._args = (_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, alpha, a.ctypes.data, m, b.ctypes.data, n,
                              1.0, c.ctypes.data, n)
            else:
                m, k = a.shape
                self._args = (_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, alpha, a.ctypes.data, k, b.ctypes.data, n,
                              0.0, c.ctypes.data, n)
            return
        groups = []  # (transa, m, k, A pointer, B pointer, beta, C pointer) per part
        for i in range(parts):
            lo, hi = bounds[i], bounds[i + 1]
            if kind == "update":  # C rows lo:hi += alpha (A[:, lo:hi])^T B
                groups.append((_TRANS, hi - lo, a.shape[0], a.ctypes.data + lo * size, b.ctypes.data, 1.0,
                               c.ctypes.data + lo * n * size))
            else:  # partial i = alpha A[:, lo:hi] B[lo:hi]
                groups.append((_NO_TRANS, a.shape[0], hi - lo, a.ctypes.data + lo * size,
                               b.ctypes.data + lo * n * size, 0.0, self.outputs[i].ctypes.data))

        def array(kind_, values):
            return (kind_ * len(values))(*values)

        self._fn = lib.batch[dtype]
        self._args = (
            ctypes.c_int(_ROW_MAJOR), array(ctypes.c_int, [g[0] for g in groups]),
            array(ctypes.c_int, [_NO_TRANS] * parts), array(index, [g[1] for g in groups]),
            array(index, [n] * parts), array(index, [g[2] for g in groups]), array(scalar, [alpha] * parts),
            array(ctypes.c_void_p, [g[3] for g in groups]), array(index, [a.shape[1]] * parts),
            array(ctypes.c_void_p, [g[4] for g in groups]), array(index, [n] * parts),
            array(scalar, [g[5] for g in groups]), array(ctypes.c_void_p, [g[6] for g in groups]),
            array(index, [n] * parts), index(parts), array(index, [1] * parts))

    def __call__(self) -> np.ndarray:
        self._fn(*self._args)
        c = self.c
        for partial in self.outputs[1:]:
            np.add(c, partial, out=c)
        return c


def _parts_to_run(a: np.ndarray, b: np.ndarray, parts: int, min_part: int = MIN_PART) -> int:
    """How many parts the product of a and b is split into: at most `parts`, each at least
    min_part rows of W and above BATCH_MIN_MNK."""
    split = a.shape[1]  # rows of W: m of an update (a is (k, m)), k of a forward (a is (m, k))
    other = float(a.shape[0]) * b.shape[1]  # m n k of a part = its rows of W times this
    parts = max(1, min(parts, split // max(1, min_part)))
    while parts > 1 and (split // parts) * other <= BATCH_MIN_MNK:
        parts -= 1
    return parts


def plan(kind: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float, parts: int) -> Plan | None:
    """A Plan for this product (see Plan), or None when NumPy's own calls should do it: no usable
    library, weights under MIN_SIZE, a forward on one part (NumPy's matmul is that already), or
    arrays it cannot take (not C-contiguous, mixed or other dtypes, wrong shapes, c overlapping a
    or b, c read-only)."""
    lib = _lib()
    w = c if kind == "update" else b
    if lib is None or w.size < MIN_SIZE or c.dtype not in lib.gemm:
        return None
    if kind == "update":
        ok = a.ndim == b.ndim == 2 and a.shape[0] == b.shape[0] and c.shape == (a.shape[1], b.shape[1])
    elif kind == "forward":
        ok = a.ndim == b.ndim == 2 and a.shape[1] == b.shape[0] and c.shape == (a.shape[0], b.shape[1])
    else:
        raise ValueError(f"unknown product {kind!r}")
    if (not ok or 0 in a.shape or 0 in c.shape or a.dtype != c.dtype or b.dtype != c.dtype
            or not (a.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous and c.flags.writeable)
            or np.may_share_memory(c, a) or np.may_share_memory(c, b)):
        return None
    if kind == "forward" and (c.dtype not in lib.batch or _parts_to_run(a, b, parts) == 1):
        return None  # NumPy's matmul is that one GEMM already
    return Plan(lib, kind, a, b, c, alpha, parts)
