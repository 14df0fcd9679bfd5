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

The flush pause: a frame ends with a short sleep (FLUSH_SECONDS) that lets the server's event loop
send what the frame drew. When the next tick is already queued behind a frame, Streamlit starts its
run the moment this one ends, and a new run of a fragment first clears from the session's outgoing
queue whatever that fragment's last run drew and was not yet sent (Streamlit 1.67's
ForwardMsgQueue.clear; the queue is flushed every 5 ms). At 10 frames a second most frames were so
computed and then dropped ("finished early for rerun" in tests/playground_fps.py).

The timer's interval follows the load (timer_seconds), chosen at each full run (Play, any click):
a lone session (the lecturer's projector) ticks fast, but once more than BUSY_SESSIONS sessions
play on this server a session that starts playing ticks at the slower interval. (Restarting a
running timer from inside its fragment with st.rerun() lost Play in some tabs of a busy hall.) Each tick costs its browser a script-state change and a rerun request even
when the server has no frame for it; with 20 tabs on two cores ticking 10 times a second the tabs
fell behind reading their websockets, and the server closed them (ping timeout, 1006).
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

CONCURRENT_FRAMES = 2  # frames computed at once in the whole server (two cores)
# A tick queued behind a frame waits until SPACING * min_seconds after that frame's start: never
# back to back, yet the browser's timer sets the pace (a tick that comes a little late must not
# push the next frame later too: with the full min_seconds, 10 frames/s came out as 9.5).
SPACING = 0.8
FLUSH_SECONDS = 0.02  # after a frame, outside the gate: its elements leave before the next run starts

BUSY_SESSIONS = 4  # more sessions with live frames than this: every session ticks slower
ACTIVE_SECONDS = 3.0  # a session whose last frame is older than this no longer counts

_gate = threading.BoundedSemaphore(CONCURRENT_FRAMES)
_last_frame: dict[str, float] = {}  # session id -> when its last live frame started
_last_frame_lock = threading.Lock()


def _note_frame() -> None:
    session = getattr(get_script_run_ctx(), "session_id", None)  # None outside a script run
    if session is None:
        return
    now = time.monotonic()
    with _last_frame_lock:
        _last_frame[session] = now
        for sid in [s for s, t in _last_frame.items() if now - t > ACTIVE_SECONDS]:
            del _last_frame[sid]


def active_sessions() -> int:
    """Sessions of this server that computed a live frame in the last ACTIVE_SECONDS."""
    now = time.monotonic()
    with _last_frame_lock:
        return sum(now - t <= ACTIVE_SECONDS for t in _last_frame.values())


def timer_seconds(fast: float, busy: float, current: float | None = None) -> float:
    """The interval for a live view's timer: `fast` while at most BUSY_SESSIONS sessions play on
    this server, `busy` once more do. With the interval in use (`current`) the answer only
    changes past a margin (more than BUSY_SESSIONS to slow down, at most half of it to speed up
    again), so a hall at the threshold does not flip back and forth."""
    n = active_sessions()
    if current == busy and n > BUSY_SESSIONS // 2:
        return busy
    return busy if n > BUSY_SESSIONS else fast


def _fragment_run() -> bool:
    """Whether this script run reruns fragments only (else it is a full run: a click, a page load)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@contextmanager
def frame(key: str, min_seconds: float):
    """Wrap one live frame's body (inside a fragment with run_every=min_seconds, the browser's
    timer): frames start at least SPACING * min_seconds apart, and at most CONCURRENT_FRAMES are
    computed at once server-wide (`key`: where this session keeps the last frame's start time).

    A frame inside a full run (the click on Play, say) neither waits nor gates, so a click is
    answered at once. A frame that ends normally pauses FLUSH_SECONDS, outside the gate."""
    _note_frame()
    if not _fragment_run():
        st.session_state[key] = time.monotonic()
        yield
        return
    last = st.session_state.get(key)
    if last is not None:  # ticks queued behind a slow frame must not come back to back
        wait = SPACING * min_seconds - (time.monotonic() - last)
        if wait > 0:
            time.sleep(wait)
    with _gate:
        st.session_state[key] = time.monotonic()
        yield
    time.sleep(FLUSH_SECONDS)  # not after an exception (a rerun, a stop): nothing to flush then
