"""The rating worker: takes queued submissions from the database, rates them, writes the figures.

The queue is the submissions table itself. A worker claims one submission with a compare-and-set
(ClassStore.claim_next), so any number of workers, in one process or in several server processes
sharing the database, rate each submission once; a claim left by a worker that died is taken over
after `stale_after` seconds. Rating runs here, in a background thread (or `python -m nnviz class
worker`), never in a page's script run: a page only reads the figures.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

from nnviz.classroom.evaluate import rate
from nnviz.classroom.store import ClassStore
from nnviz.engine.model_files import load_model

log = logging.getLogger(__name__)
POLL_S = 0.5  # an idle worker looks at the queue this often


def rate_one(store: ClassStore, worker: str) -> bool:
    """Claim and rate the oldest queued submission; False when the queue was empty."""
    claim = store.claim_next(worker)
    if claim is None:
        return False
    start = time.perf_counter()
    try:
        model = load_model(claim.model_bytes)  # stored bytes were validated on submission
        # The seed comes from the file: the same network at the same eps gets the same figures.
        rating = rate(model, claim.eps, seed=int(claim.sha256[:15], 16))
    except Exception as e:  # noqa: BLE001 - one bad submission must not stop the worker
        log.exception("rating submission %s failed", claim.submission_id)
        store.finish(claim.submission_id, worker, error=f"could not be rated: {e}")
        return True
    store.finish(claim.submission_id, worker, clean_acc=rating.clean_acc, robust_acc=rating.robust_acc,
                 seconds=time.perf_counter() - start)
    return True


def drain(store: ClassStore, worker: str | None = None) -> int:
    """Rate until the queue is empty; returns how many were rated (for scripts and tests)."""
    worker = worker or worker_name()
    n = 0
    while rate_one(store, worker):
        n += 1
    return n


def worker_name() -> str:
    """host:pid:thread, so a claim says who holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class RatingWorker:
    """A daemon thread that rates submissions as they arrive, until stop()."""

    def __init__(self, store: ClassStore, poll_s: float = POLL_S):
        self.store, self.poll_s = store, poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nnviz-rating", daemon=True)
        self.rated = 0

    def start(self) -> "RatingWorker":
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        name = worker_name()
        while not self._stop.is_set():
            try:
                if rate_one(self.store, name):
                    self.rated += 1
                    continue
            except Exception:  # noqa: BLE001 - the database may be away for a moment: try again
                log.exception("rating worker: the queue could not be read")
                self._stop.wait(5 * self.poll_s)
            self._stop.wait(self.poll_s)
