"""Frame pacing for live views, with many students on one server.

A live view is a fragment with run_every: the browser's timer asks for each frame. That makes the
browser the clock, which is what keeps a hall full of browsers working: a browser that is slow to
draw (a phone, or here 20 tabs on 2 cores) ticks later, so its server never sends it frames faster
than it draws them. (Measured with 20 sessions: when the server chained its own frames with
st.rerun(scope="fragment"), starved tabs fell behind until their websockets timed out, 1006.) A tick
that arrives while a frame is still computing does not interrupt it: Streamlit queues timer reruns
of a fragment behind the run in progress (Streamlit 1.67's ScriptRequests), so no work is wasted.

The frame gate: every session is a thread of one server process, and a frame's Python work holds
the GIL. With 20 sessions all computing frames at once, the server's event loop (which reads clicks
and starts script runs) got one twenty-first of the interpreter and a student's Play click waited
over a minute. The gate lets CONCURRENT_FRAMES frames compute at a time, first come first served
(threading's Condition wakes waiters in order), and waits without holding the GIL: under load each
student's frames come further apart, fairly, and clicks stay quick, because full script runs
(every click) never wait at the gate.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

CONCURRENT_FRAMES = 2  # frames computed at once in the whole server (two cores)

_gate = threading.BoundedSemaphore(CONCURRENT_FRAMES)


def _fragment_run() -> bool:
    """Whether this script run reruns fragments only (else it is a full run: a click, a page load)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@contextmanager
def frame(key: str, min_seconds: float):
    """Wrap one live frame's body (inside a fragment with run_every=min_seconds): frames start at
    least min_seconds apart, and at most CONCURRENT_FRAMES are computed at once server-wide
    (`key`: where this session keeps the last frame's start time).

    A frame inside a full run (the click on Play, say) neither waits nor gates, so a click is
    answered at once."""
    if not _fragment_run():
        st.session_state[key] = time.monotonic()
        yield
        return
    last = st.session_state.get(key)
    if last is not None:  # ticks queued behind a slow frame must not come back to back
        wait = min_seconds - (time.monotonic() - last)
        if wait > 0:
            time.sleep(wait)
    with _gate:
        st.session_state[key] = time.monotonic()
        yield
