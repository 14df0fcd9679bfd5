"""Frame pacing for live views: the fragment's timer follows how long a frame really takes.

A fragment with run_every asks for its next run on a fixed timer, and a new run interrupts one
still going. When frames get slower than the timer (many students on one 2-core server) every
frame is cut short after training and before drawing: nobody sees anything (measured: 10
sessions at 0.2 s got 0.12 frames/s each). So each session measures its own frames and widens
its interval when they overrun or get cut short, and narrows it again when they are quick.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import streamlit as st

MAX_INTERVAL = 4.0  # seconds: slower than this and the view is no longer "live" anyway
HEADROOM = 1.5  # the interval is this multiple of the measured frame time


def interval(key: str, base: float) -> float:
    """The run_every this session's live view `key` should use now (never below base)."""
    return max(base, st.session_state.get(f"{key}_interval", base))


def idle(key: str) -> None:
    """Not playing: a frame cut short by Pause is no sign of overload."""
    st.session_state[key + "_done"] = True


@contextmanager
def frame(key: str, base: float):
    """Wrap the body of one live frame. May end with a full rerun that re-registers the
    fragment with a new interval (rarely: only when the right interval changed by half or more)."""
    ss = st.session_state
    current = interval(key, base)
    cut_short = ss.get(key + "_started") is not None and not ss.get(key + "_done", True)
    if cut_short:  # the timer interrupted the last frame before it drew: slow down at once
        _switch(key, min(MAX_INTERVAL, current * HEADROOM))
    ss[key + "_started"], ss[key + "_done"] = time.monotonic(), False
    yield
    spent = time.monotonic() - ss[key + "_started"]
    ss[key + "_done"] = True
    wanted = min(MAX_INTERVAL, max(base, HEADROOM * spent))
    if wanted > current * 1.2 or wanted < current / HEADROOM:
        _switch(key, wanted)


def _switch(key: str, new: float) -> None:
    st.session_state[key + "_interval"] = new
    st.session_state[key + "_done"] = True
    st.rerun()  # the whole page: st.fragment(run_every=...) takes the new interval on a full run
