"""Frame pacing for live views: the server starts the next frame when the last one is drawn, and
only a few frames are computed at once, whoever's they are.

A fragment with run_every asks for its next run on the browser's fixed timer, and a new run
interrupts one still going. When frames get slower than the timer (many students on one 2-core
server) nearly every frame is cut short after training and before drawing, and nobody sees
anything (measured: 10 sessions at 0.2 s got 0.03-0.12 frames/s each). So while playing, each
frame ends by rerunning its fragment on the server (st.rerun(scope="fragment")), after waiting
out the rest of the frame time: slower frames under load, never wasted ones. The fragment's own
timer ticks only every KICK_SECONDS: it starts the chain after a full run (where a fragment rerun
is not allowed) and restarts it if anything broke it.

The frame gate: every session is a thread of one server process, and the frame's Python work
holds the GIL. With 20 sessions all computing frames at once, the server's event loop (which
reads clicks and starts script runs) got one twenty-first of the interpreter and a student's Play
click waited over a minute. The gate lets CONCURRENT_FRAMES frames compute at a time, first come
first served (threading's Condition wakes waiters in order), and waits without holding the GIL:
under load each student's frames come further apart, fairly, and clicks stay quick, because full
script runs (every click) never wait at the gate.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

KICK_SECONDS = 1.0
CONCURRENT_FRAMES = 2  # frames computed at once in the whole server (two cores)

_gate = threading.BoundedSemaphore(CONCURRENT_FRAMES)


def _fragment_run() -> bool:
    """Whether this script run reruns fragments only (else it is a full run: a click, a page load)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@contextmanager
def frame(key: str, min_seconds: float):
    """Wrap one live frame's body: frames start at least min_seconds apart, at most
    CONCURRENT_FRAMES are computed at once server-wide, and each one ends by starting the next
    (`key`: where this session keeps the last frame's start time).

    A frame inside a full run (the click on Play, say) neither waits nor gates, so a click is
    answered at once; it cannot rerun its fragment either, so the fragment's timer takes over."""
    if not _fragment_run():
        st.session_state[key] = time.monotonic()
        yield
        return
    last = st.session_state.get(key)
    if last is not None:  # measured from the last start, so the rerun's own overhead counts too
        wait = min_seconds - (time.monotonic() - last)
        if wait > 0:
            time.sleep(min(wait, min_seconds))
    with _gate:
        st.session_state[key] = time.monotonic()
        yield
    st.rerun(scope="fragment")
