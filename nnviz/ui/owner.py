"""One owner at a time for a session's training state (a model being trained, its trainer, its run).

Streamlit runs one session's script on more than one thread at once. With `runner.fastReruns` (on
by default) a click does not wait for the run in progress: Streamlit asks that run to stop and
starts a new one at once, and the old thread carries on until its next Streamlit call. A live frame
deep in NumPy, the click's callback and the full rerun after it can so train one model together:
the trainer's reused batch buffer fails (`WRITEBACKIFCOPY base is read-only`), MNIST's epoch
generator fails (`generator already executing`), or the run is lost.

So every piece of code that reads or changes a session's training state holds the session's lock:
callbacks are decorated with @owned, page code uses `with owner():` and live frames `with
live_frame(...)`. The lock is re-entrant (a callback may call a function that takes it too).

A superseded run would still train once it gets the lock, and its output is thrown away: after a
storm of clicks a hundred of them queued up, each training a whole frame, and held the server-wide
frame gate (nnviz.ui.pacing) while they waited, starving every other student. So a live frame of a
superseded run stops (st.stop()) before the gate and again once it owns the state. Callbacks always
run: each is a click.
"""
from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

from nnviz.ui import pacing

F = TypeVar("F", bound=Callable)

_LOCK_KEY = "nnviz_owner_lock"  # this session's RLock, in its session state
_making = threading.Lock()  # two threads of one session must not each make a lock


def session_lock() -> threading.RLock:
    """This browser session's lock (the same object for every thread that runs its script)."""
    with _making:
        lock = st.session_state.get(_LOCK_KEY)
        if lock is None:
            lock = st.session_state[_LOCK_KEY] = threading.RLock()
    return lock


@contextmanager
def owner() -> Iterator[None]:
    """Hold this session's training state: other threads of the session wait until the block ends
    (also when it ends with an exception, such as Streamlit stopping a superseded run)."""
    with session_lock():
        yield


def owned(fn: F) -> F:
    """A callback (or any function) that runs as the owner of this session's training state."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with owner():
            return fn(*args, **kwargs)
    return run  # type: ignore[return-value]


def superseded() -> bool:
    """Whether Streamlit has asked this script run to stop: a newer run of the session replaced it
    (runner.fastReruns). False outside a script run. (Streamlit 1.67 keeps the request in
    ScriptRequests._state; tests/ui/test_owner.py pins that.)"""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    return getattr(requests, "_state", None) is ScriptRequestType.STOP


@contextmanager
def live_frame(key: str, min_seconds: float) -> Iterator[None]:
    """One live frame (inside a fragment with run_every=min_seconds): paced and gated by
    nnviz.ui.pacing.frame (`key`: where the session keeps its last frame's start), then the owner of
    the session's training state. A superseded run ends here instead of training for nothing."""
    if superseded():
        st.stop()
    with pacing.frame(key, min_seconds), owner():  # the gate first, then the owner: no lock waits on the gate
        if superseded():
            st.stop()
        yield
