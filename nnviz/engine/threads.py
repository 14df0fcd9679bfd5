"""How many threads BLAS (the library under NumPy's matrix products) may use.

OpenBLAS's thread count is one setting for the whole process. On a laptop or in the CLI the engine
has the machine to itself; on a Streamlit server every browser session is a thread of one process,
so the setting is shared by everyone in the lecture hall. The policy:

* A server calls `cap_blas_threads(1)` once at start-up (app.py does). Each session's matrix
  product then runs on that session's own thread (NumPy releases the GIL), so N sessions training
  at once keep the cores busy without oversubscribing them: with two BLAS threads per product,
  every product would wait for a second core that another session holds.
* The Trainer asks for one BLAS thread below batch `SMALL_BATCH` (thread hand-off costs more than
  the work it splits). From there up it measures (`ThreadChoice`): a few blocks of mini-batches on
  one thread and on all the threads allowed, taking turns, then the faster; with all threads it
  keeps watching, and drops to one thread when the batches slow down. Whether a second thread pays off
  depends on the batch, the layer sizes and on what else the machine runs (with the big products
  split by rows of W, engine/blas.py: 1.3x at batch 32 on 2 quiet cores; on a busy machine never),
  so more threads are never slower than one by more than the measurement's noise. It applies a limit
  once per stretch of training (between two yields, or a measuring block), never per step, and
  restores the previous setting before yielding.

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


class ThreadChoice:
    """Which BLAS thread limit trains this batch size fastest, found by timing real mini-batches.

    For a batch of SMALL_BATCH or more, with more than one BLAS thread allowed: ROUNDS rounds of
    BLOCK batches on one thread, then BLOCK on the threads in force (limit None); the first batch of
    each block is not counted (OpenBLAS's idle workers still spin from the block before). Then the
    limit with the lower median time per batch, where all threads must win by MARGIN and also win
    all rounds but one (block median against block median): a near tie, or a win that one busy
    moment of the machine made, keeps one thread (the other core stays free, no workers spinning),
    so that two threads allowed is never slower than one beyond the noise of the measurement.
    limit() is what to use for the next batch, and record(seconds) reports how long every batch took.

    Once all threads are chosen, it keeps watching: when a block of batches takes over WATCH times
    the measured median, it keeps one thread from then on. Threads that wait for each other
    collapse when another process takes a core (2 cores, one busy: b32 on 2 threads 2.3 ms a
    batch, on one 0.2 ms), so a choice made on a quiet machine must not outlive the quiet. It does
    not measure again: under such load the one-thread blocks share their core with BLAS workers
    still spinning from the blocks before, and all threads won a second measurement they then lost.
    """

    BLOCK, ROUNDS = 6, 5
    MARGIN = 0.95  # all threads are chosen only with a median at least 5% below one thread's
    WATCH = 1.5  # all threads chosen: a block this much slower than measured -> one thread

    def __init__(self, batch_size: int, available: int | None = None):
        """available: the BLAS threads in force (default: as set now)."""
        self.chosen: int | None = training_threads(batch_size)
        self.plan: list[int | None] = []
        self.collapsed = False  # all threads were chosen, then slowed down: one thread since
        self._watched: list[float] = []
        self._chosen_median = 0.0
        if self.chosen is None and (available or blas_threads() or 1) > 1:
            self.plan = ([1] * self.BLOCK + [None] * self.BLOCK) * self.ROUNDS
        self.times: dict[int | None, list[float]] = {1: [], None: []}
        self.block_medians: dict[int | None, list[float]] = {1: [], None: []}  # one per block, in order
        self._block: list[float] = []
        self._first = True

    @property
    def measuring(self) -> bool:
        return bool(self.plan)

    def limit(self) -> int | None:
        return self.plan[0] if self.plan else self.chosen

    def record(self, seconds: float) -> None:
        if not self.plan:
            if self.chosen is None and self._chosen_median > 0:  # all threads: watch them
                self._watched.append(seconds)
                if len(self._watched) == self.BLOCK:
                    if _median(self._watched) > self.WATCH * self._chosen_median:
                        self.chosen, self.collapsed = 1, True
                    self._watched = []
            return
        n = self.plan.pop(0)
        if not self._first:
            self.times[n].append(seconds)
            self._block.append(seconds)
        self._first = bool(self.plan) and self.plan[0] != n
        if (not self.plan or self._first) and self._block:  # a block ends
            self.block_medians[n].append(_median(self._block))
            self._block = []
        if not self.plan:
            medians = {k: _median(v) for k, v in self.times.items() if v}
            if len(medians) < 2:
                self.chosen = next(iter(medians), None)
            else:
                rounds_won = sum(a < b for b, a in zip(self.block_medians[1], self.block_medians[None]))
                wins = medians[None] < self.MARGIN * medians[1] and rounds_won >= len(self.block_medians[None]) - 1
                self.chosen = None if wins else 1
                self._chosen_median = medians[None]


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


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
