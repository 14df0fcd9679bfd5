"""One BLAS call NumPy does not expose: a matrix product added into an existing matrix.

GEMM computes C = alpha A B + beta C; NumPy always uses beta = 0, so an SGD step writes the weight
gradient into a buffer and then subtracts it from W in a second pass. With beta = 1 the product
lands in W itself: one pass fewer, and on two BLAS threads a much cheaper one. Each thread then
updates the half of W it computed, while a second pass would read, from this core, a 300 kB
gradient whose other half sits in the other core's cache (b128 on 2 cores: the W1 update 9 -> 95
us, and two threads slower than one).

The GEMM is the one NumPy itself calls: the OpenBLAS library threadpoolctl finds in the process,
through ctypes (which releases the GIL, as NumPy does). Anything else (MKL, a BLAS whose integer
width is unknown, an array that is not C-contiguous float32/float64) takes the NumPy path, and the
call is checked once against NumPy before it is trusted.
"""
from __future__ import annotations

import ctypes
import threading

import numpy as np

from nnviz.engine import threads

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enum values
# Below this many numbers in C, NumPy's two passes cost less than the ~5 us that ctypes takes to
# convert the call's 14 arguments and 3 pointers (W2 of a [784, 100, 10] net has 1,000; W1 78,400).
MIN_SIZE = 1 << 14
_lock = threading.Lock()
_gemm: dict | None = None  # dtype -> ctypes function, once looked up ({} when unavailable)


def _find_gemm() -> dict:
    """{np.float32: cblas_sgemm, np.float64: cblas_dgemm} of NumPy's OpenBLAS, or {}."""
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
                sgemm = getattr(dll, f"{prefix}cblas_sgemm{suffix}", None)
                dgemm = getattr(dll, f"{prefix}cblas_dgemm{suffix}", None)
                if config is None or sgemm is None or dgemm is None:
                    continue
                config.restype = ctypes.c_char_p
                # The integer width of the BLAS interface: ILP64 builds say so in their config.
                index = ctypes.c_int64 if b"USE64BITINT" in (config() or b"") else ctypes.c_int32
                found = {}
                for dtype, fn, scalar in ((np.float32, sgemm, ctypes.c_float), (np.float64, dgemm, ctypes.c_double)):
                    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, scalar,
                                   ctypes.c_void_p, index, ctypes.c_void_p, index, scalar, ctypes.c_void_p, index]
                    fn.restype = None
                    found[np.dtype(dtype)] = fn
                return found if _agrees_with_numpy(found) else {}
    return {}


def _agrees_with_numpy(found: dict) -> bool:
    """The looked-up calls give NumPy's numbers on a small product (a wrong guess about the
    library would show here, not in a trained model)."""
    rng = np.random.default_rng(0)
    for dtype, fn in found.items():
        a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((5, 3), (5, 4), (3, 4)))
        want = c - 0.5 * (a.T @ b)
        _call(fn, a, b, c, -0.5)
        if not np.allclose(c, want, rtol=1e-5, atol=1e-5):
            return False
    return True


def _call(fn, a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float) -> None:
    k, m = a.shape
    n = b.shape[1]
    fn(_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, alpha, a.ctypes.data, m, b.ctypes.data, n, 1.0, c.ctypes.data, n)


def _functions() -> dict:
    global _gemm
    if _gemm is None:
        with _lock:
            if _gemm is None:
                try:
                    _gemm = _find_gemm()
                except Exception:  # an unusual BLAS must never break training: NumPy's path instead
                    _gemm = {}
    return _gemm


def available(dtype) -> bool:
    """Whether add_product_tn() runs in one BLAS call for arrays of this dtype."""
    return np.dtype(dtype) in _functions()


def add_product_tn(a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float) -> bool:
    """c += alpha * a.T @ b in one BLAS call, for a (k, m), b (k, n), c (m, n) C-contiguous arrays of
    one dtype, k, m, n >= 1, c apart from a and b. False, with c untouched, when that call is not
    available for them, or c is smaller than MIN_SIZE (the caller's own two passes are faster)."""
    fn = _functions().get(c.dtype)
    if (fn is None or c.size < MIN_SIZE or a.dtype != c.dtype or b.dtype != c.dtype or a.ndim != 2 or b.ndim != 2 or c.ndim != 2
            or a.shape[0] != b.shape[0] or c.shape != (a.shape[1], b.shape[1]) or 0 in a.shape or 0 in c.shape
            or not (a.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous and c.flags.writeable)
            or np.may_share_memory(c, a) or np.may_share_memory(c, b)):
        return False
    _call(fn, a, b, c, float(alpha))
    return True
