"""How many threads BLAS (the library under NumPy's matrix products) may use.

OpenBLAS's thread count is one setting for the whole process. On a laptop or in the CLI the engine
has the machine to itself; on a Streamlit server every browser session is a thread of one process,
so the setting is shared by everyone in the lecture hall. The policy:

* A server calls `cap_blas_threads(1)` once at start-up (app.py does). Each session's matrix
  product then runs on that session's own thread (NumPy releases the GIL), so N sessions training
  at once keep the cores busy without oversubscribing them: with two BLAS threads per product,
  every product would wait for a second core that another session holds.
* The Trainer asks for one BLAS thread below batch `SMALL_BATCH` (thread hand-off costs more than
  the work it splits) and leaves the setting alone from there up, where two threads help on an
  otherwise idle machine. It applies the limit once per stretch of training between two yields,
  never per step, and restores the previous setting before yielding.

threadpoolctl's `threadpool_limits` context manager scans the loaded libraries on every call
(~0.2 ms); the controller here is built once and reused, so a limit costs a few microseconds.
"""
from __future__ import annotations

import threading

SMALL_BATCH = 32  # batches smaller than this train fastest on one BLAS thread

_lock = threading.Lock()
_controller = None


def _blas():
    """The threadpoolctl controller of the BLAS libraries NumPy loaded, built once; None without any."""
    global _controller
    with _lock:
        if _controller is None:
            import numpy  # noqa: F401  (BLAS is loaded with NumPy; the scan must see it)
            try:
                from threadpoolctl import ThreadpoolController
                _controller = ThreadpoolController().select(user_api="blas")
            except Exception:  # threadpoolctl missing or unable to read a library: leave BLAS alone
                _controller = False
        return _controller or None


def blas_info() -> list[dict]:
    """threadpoolctl's description of each BLAS library in use (library, version, CPU kernel, threads)."""
    ctl = _blas()
    return ctl.info() if ctl is not None else []


def blas_threads() -> int | None:
    """Threads BLAS may use now (the largest over the BLAS libraries loaded); None if unknown."""
    ctl = _blas()
    if ctl is None or not ctl.lib_controllers:
        return None
    return max(lib.num_threads for lib in ctl.lib_controllers)


def cap_blas_threads(n: int = 1) -> None:
    """Let BLAS use at most n threads from now on, for the whole process (a server: once at start-up)."""
    ctl = _blas()
    current = blas_threads()
    if ctl is not None and current is not None and current > n:
        ctl.limit(limits=n)  # never restored: the cap is meant to last


def training_threads(batch_size: int) -> int | None:
    """The BLAS thread limit the Trainer uses for this batch size: 1 for small batches, else None (as is)."""
    return 1 if batch_size < SMALL_BATCH else None


class BlasLimit:
    """At most n BLAS threads while applied (n None: no change); restore() puts the old setting back.

    apply() and restore() may alternate (a generator restores before each yield, so the
    process-wide setting is never held while it is paused); both are idempotent and cost a few
    microseconds. apply() does nothing when BLAS already uses n threads or fewer, so under a
    server-wide cap it never touches the shared setting. Also a context manager.
    """

    def __init__(self, n: int | None):
        self.n = n
        self._limiter = None

    def apply(self) -> None:
        if self._limiter is None and self.n is not None:
            current = blas_threads()
            if current is not None and current > self.n:
                self._limiter = _blas().limit(limits=self.n)

    def restore(self) -> None:
        if self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None

    def __enter__(self) -> "BlasLimit":
        self.apply()
        return self

    def __exit__(self, *exc) -> None:
        self.restore()
