"""Frame pacing (nnviz.ui.pacing): the server-wide frame gate and the two kinds of run.

Streamlit's session state is replaced by a plain stand-in here, one per thread, so many "sessions"
can be run at once without a server; the gate and the timing are the real ones."""
import threading
import time

import pytest

from nnviz.ui import pacing


class FakeStreamlit:
    """One stand-in per session thread: its own session_state."""

    def __init__(self):
        self.local = threading.local()

    @property
    def session_state(self):
        if not hasattr(self.local, "state"):
            self.local.state = {}
        return self.local.state


@pytest.fixture
def fake_st(monkeypatch):
    fake = FakeStreamlit()
    monkeypatch.setattr(pacing, "st", fake)
    return fake


def test_at_most_concurrent_frames_are_computed_at_once_and_every_session_gets_its_frame(fake_st, monkeypatch):
    monkeypatch.setattr(pacing, "_fragment_run", lambda: True)
    lock, inside, most, done = threading.Lock(), [0], [0], []

    def session():
        with pacing.frame("k", min_seconds=0.0):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)  # a frame's work
            with lock:
                inside[0] -= 1
        done.append(True)

    threads = [threading.Thread(target=session) for _ in range(8)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == pacing.CONCURRENT_FRAMES
    assert len(done) == 8
    # 8 frames of 50 ms, CONCURRENT_FRAMES at a time
    assert time.monotonic() - t0 >= 8 / pacing.CONCURRENT_FRAMES * 0.05 * 0.9


def test_frames_of_one_session_never_come_back_to_back(fake_st, monkeypatch):
    """Ticks queued behind a slow frame start SPACING * min_seconds apart at the least."""
    monkeypatch.setattr(pacing, "_fragment_run", lambda: True)
    monkeypatch.setattr(pacing, "FLUSH_SECONDS", 0.0)
    starts = []
    for _ in range(3):
        with pacing.frame("k", min_seconds=0.1):
            starts.append(time.monotonic())
    assert 0.5 <= pacing.SPACING < 1
    assert all(b - a >= 0.1 * pacing.SPACING * 0.95 for a, b in zip(starts, starts[1:]))


def test_a_frame_pauses_after_its_work_outside_the_gate_so_its_elements_are_sent(fake_st, monkeypatch):
    """The next tick's run, queued behind this frame, would clear what the frame drew and the
    server had not sent yet: the frame leaves the event loop FLUSH_SECONDS to send it, and other
    sessions may compute meanwhile (the gate is free)."""
    monkeypatch.setattr(pacing, "_fragment_run", lambda: True)
    monkeypatch.setattr(pacing, "FLUSH_SECONDS", 0.3)
    took = []

    def session():
        t0 = time.monotonic()
        with pacing.frame("k", min_seconds=0.0):
            pass
        took.append(time.monotonic() - t0)

    worker = threading.Thread(target=session)
    worker.start()
    time.sleep(0.1)  # the worker is in its pause now
    got = [pacing._gate.acquire(timeout=0.05) for _ in range(pacing.CONCURRENT_FRAMES)]
    for ok in got:
        if ok:
            pacing._gate.release()
    worker.join(5)
    assert all(got) and took and took[0] >= 0.3 * 0.95


def test_a_frame_in_a_full_run_neither_waits_nor_gates(fake_st, monkeypatch):
    """A click (a full run) is answered at once even while other sessions hold the gate."""
    monkeypatch.setattr(pacing, "_fragment_run", lambda: False)
    for _ in range(pacing.CONCURRENT_FRAMES):
        assert pacing._gate.acquire(timeout=1)
    try:
        fake_st.session_state["k"] = time.monotonic()  # a frame just started
        t0 = time.monotonic()
        with pacing.frame("k", min_seconds=5.0):
            pass
        assert time.monotonic() - t0 < 0.5
    finally:
        for _ in range(pacing.CONCURRENT_FRAMES):
            pacing._gate.release()


def test_the_gate_is_released_when_a_frame_is_cut_short(fake_st, monkeypatch):
    """A click on Pause stops a frame with an exception inside it: the gate must not leak."""
    monkeypatch.setattr(pacing, "_fragment_run", lambda: True)
    for _ in range(pacing.CONCURRENT_FRAMES + 1):
        with pytest.raises(RuntimeError):
            with pacing.frame("k", min_seconds=0.0):
                raise RuntimeError("stopped")
    assert all(pacing._gate.acquire(timeout=0.1) for _ in range(pacing.CONCURRENT_FRAMES))
    for _ in range(pacing.CONCURRENT_FRAMES):
        pacing._gate.release()


def test_streamlit_is_told_not_to_collect_garbage_after_every_run():
    """Each live frame is a script run; a full gc.collect() after each cost 74% of a frame's CPU."""
    import tomllib
    from pathlib import Path
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_streamlit_never_refers_the_browser_to_a_cached_message():
    """With references, a burst of clicks made the browser drop a message the server then referred
    to ("Cached ForwardMsg MISS") and the session died for good (tests/browser/test_click_storm.py)."""
    import tomllib
    from pathlib import Path

    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    size = config["global"]["minCachedMessageSize"]
    assert size >= 1e15  # larger than any message: none is cacheable, so none is sent as a reference
    from streamlit import config as st_config
    from streamlit.runtime.forward_msg_cache import populate_hash_if_needed
    st_config.set_option("global.minCachedMessageSize", size)
    try:
        msg = ForwardMsg()
        msg.delta.new_element.markdown.body = "x" * 200_000  # a large element, cached before
        populate_hash_if_needed(msg)
        assert msg.hash and not msg.metadata.cacheable
    finally:
        st_config.set_option("global.minCachedMessageSize", 10e3)


def test_the_timer_ticks_slower_once_many_sessions_play_and_does_not_flip_at_the_threshold(monkeypatch):
    """A lone session (the projector) gets the fast timer; a busy server gives everybody the slow one."""
    now = time.monotonic()
    frames: dict[str, float] = {}
    monkeypatch.setattr(pacing, "_last_frame", frames)
    fast, busy, n = 0.1, 0.2, pacing.BUSY_SESSIONS
    assert pacing.timer_seconds(fast, busy) == fast
    frames.update({f"s{i}": now for i in range(n)})
    assert pacing.timer_seconds(fast, busy) == fast
    frames["one more"] = now
    assert pacing.active_sessions() == n + 1 and pacing.timer_seconds(fast, busy, current=fast) == busy
    del frames["one more"], frames["s0"]  # a little quieter: the busy timer stays
    assert pacing.timer_seconds(fast, busy, current=busy) == busy
    frames.clear()
    frames.update({f"s{i}": now for i in range(n // 2)})
    assert pacing.timer_seconds(fast, busy, current=busy) == fast
    frames.update({f"old{i}": now - pacing.ACTIVE_SECONDS - 1 for i in range(10)})  # stopped playing
    assert pacing.active_sessions() == n // 2
