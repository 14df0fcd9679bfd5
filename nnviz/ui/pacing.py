"""Frame pacing for live views: the server starts the next frame when the last one is drawn.

A fragment with run_every asks for its next run on the browser's fixed timer, and a new run
interrupts one still going. When frames get slower than the timer (many students on one 2-core
server) nearly every frame is cut short after training and before drawing, and nobody sees
anything (measured: 10 sessions at 0.2 s got 0.03-0.12 frames/s each). So while playing, each
frame ends by rerunning its fragment on the server (st.rerun(scope="fragment")), after waiting
out the rest of the frame time: slower frames under load, never wasted ones. The fragment's own
timer ticks only every KICK_SECONDS: it starts the chain after a full run (where a fragment rerun
is not allowed) and restarts it if anything broke it.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import streamlit as st
from streamlit.errors import StreamlitAPIException

KICK_SECONDS = 1.0


@contextmanager
def frame(key: str, min_seconds: float):
    """Wrap one live frame's body: frames start at least min_seconds apart, and each one ends by
    starting the next (`key`: where this session keeps the last frame's start time)."""
    last = st.session_state.get(key)
    if last is not None:  # measured from the last start, so the rerun's own overhead counts too
        wait = min_seconds - (time.monotonic() - last)
        if wait > 0:
            time.sleep(min(wait, min_seconds))
    st.session_state[key] = time.monotonic()
    yield
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # this frame ran inside a full run: the fragment's timer takes over
        pass
