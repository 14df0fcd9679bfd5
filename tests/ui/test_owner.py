"""One owner at a time for a session's training state (nnviz.ui.owner), on the real pages' code.

Streamlit can run a click's callback, a full rerun and a live frame of one session on different
threads at once (runner.fastReruns starts the new run while the old one is still in NumPy). Here
several threads call the pages' real callbacks on the real run objects at once; Streamlit's session
state is a plain dict shared by them (one session). Without the lock this failed with
`ValueError: WRITEBACKIFCOPY base is read-only` (Playground) and `ValueError: generator already
executing` (MNIST)."""
import random
import threading

import pytest

from nnviz.lab.playground import PlaygroundState
from nnviz.ui import mnist as mnist_ui
from nnviz.ui import owner
from nnviz.ui import playground as pg
from nnviz.ui import learn, learn_landscape, session


class OneSession:
    """Streamlit's `st` as the callbacks use it: one session state for every thread."""

    def __init__(self):
        self.session_state = {}


@pytest.fixture
def one_session(monkeypatch):
    fake = OneSession()
    for module in (pg, mnist_ui, session, owner, learn, learn_landscape):
        monkeypatch.setattr(module, "st", fake)
    return fake


def run_at_once(jobs, timeout: float = 120) -> list[str]:
    """Run each job (a list of calls) on its own thread, all started together; the errors raised."""
    errors: list[str] = []
    start = threading.Barrier(len(jobs))

    def worker(calls):
        start.wait()
        try:
            for call in calls:
                call()
        except Exception as e:  # noqa: BLE001 - the test reports any failure of a thread
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(calls,)) for calls in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return errors


def test_every_thread_of_a_session_gets_the_same_lock(one_session):
    locks = []
    run_at_once([[lambda: locks.append(owner.session_lock())] for _ in range(8)])
    assert len(locks) == 8 and all(lock is locks[0] for lock in locks)


def test_the_lock_is_released_when_the_owner_fails(one_session):
    """Streamlit stops a superseded run with an exception inside the block."""
    with pytest.raises(RuntimeError):
        with owner.owner():
            raise RuntimeError("stopped")
    assert owner.session_lock().acquire(timeout=1)
    owner.session_lock().release()


def test_playground_steps_from_several_threads_train_one_model_one_epoch_each(one_session):
    """The issue's settings: one example per batch, so every epoch reuses the batch buffer 200 times."""
    state = PlaygroundState(n_points=400, batch_size=1, hidden=(16, 16), test_ratio=0.5)
    pg.ensure_run(state)
    errors = run_at_once([[pg._step] * 3 for _ in range(4)])
    assert errors == []
    run = one_session.session_state[pg.RUN]
    assert run.epoch == 12 and len(run.history) == 13  # no epoch lost, none counted twice
    assert run.snapshots.epochs[-1] == 12


def test_learn_trains_the_playground_run_under_the_same_lock_as_the_playground(one_session):
    """/learn's "Train 50 epochs" and the Playground's Step train one run: one owner at a time (it
    failed with WRITEBACKIFCOPY when /learn held a lock of its own)."""
    state = PlaygroundState(n_points=400, batch_size=1, hidden=(16, 16), test_ratio=0.5)
    pg.ensure_run(state)
    assert learn.session_lock() is owner.session_lock()
    errors = run_at_once([[learn_landscape._train], [pg._step] * 5, [pg._step] * 5])
    assert errors == []
    run = one_session.session_state[pg.RUN]
    assert run.epoch == 60 and len(run.history) == 61


def test_playground_random_clicks_and_reruns_at_once_leave_a_consistent_run(one_session):
    """Play, Pause, Step, Reset and the page's own bookkeeping (a new learning rate) all at once."""
    state = PlaygroundState(n_points=400, batch_size=1, hidden=(8,), test_ratio=0.5)
    pg.ensure_run(state)
    rng = random.Random(0)
    choices = [pg._play, pg._pause, pg._step, pg._step, pg._reset,
               lambda: pg.ensure_run(state), lambda: pg.ensure_run(PlaygroundState(
                   n_points=400, batch_size=1, hidden=(8,), test_ratio=0.5, lr=0.3))]
    errors = run_at_once([[rng.choice(choices) for _ in range(8)] for _ in range(4)])
    assert errors == []
    run = one_session.session_state[pg.RUN]
    assert run.epoch == len(run.trainer.history) == len(run.history) - 1
    assert run.snapshots.epochs[-1] == run.epoch


@pytest.mark.timeout(180)
def test_mnist_steps_from_several_threads_share_one_epoch_generator(one_session):
    mnist_ui.current_run()
    errors = run_at_once([[mnist_ui.step, mnist_ui.train, mnist_ui.pause, mnist_ui.step] for _ in range(3)])
    assert errors == []
    run = one_session.session_state[mnist_ui.RUN_KEY]
    assert run.epoch == 6 and len(run.curve) == 7
    assert [s.epoch for s in run.curve] == list(range(7))


class Stopped(Exception):
    """What st.stop() raises in a real run (Streamlit's StopException)."""


@pytest.fixture
def superseded_run(one_session, monkeypatch):
    """This thread runs a script run that Streamlit has asked to stop (a newer click replaced it)."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequests

    class Ctx:
        script_requests = ScriptRequests()
        fragment_ids_this_run = ["live"]

    def stop():
        raise Stopped

    one_session.stop = stop
    monkeypatch.setattr(owner, "get_script_run_ctx", lambda suppress_warning=False: Ctx)
    monkeypatch.setattr(owner.pacing, "get_script_run_ctx", lambda: Ctx)
    monkeypatch.setattr(owner.pacing, "st", one_session)
    return Ctx.script_requests


def test_a_run_is_superseded_once_streamlit_asks_it_to_stop(superseded_run):
    """Pins where Streamlit keeps the request (a private field; an upgrade that moves it fails here)."""
    assert not owner.superseded()
    superseded_run.request_stop()
    assert owner.superseded()


def test_a_superseded_live_frame_neither_trains_nor_takes_the_gate(superseded_run):
    superseded_run.request_stop()
    ran = []
    with pytest.raises(Stopped):
        with owner.live_frame("k", 0.0):
            ran.append(True)
    assert ran == []
    gate = owner.pacing._gate
    assert all(gate.acquire(timeout=0.1) for _ in range(owner.pacing.CONCURRENT_FRAMES))
    for _ in range(owner.pacing.CONCURRENT_FRAMES):
        gate.release()


def test_a_frame_that_is_superseded_while_it_waits_stops_once_it_owns_the_state(superseded_run):
    """A click held the state; meanwhile a newer run replaced this frame's: it must not train."""
    ran = []
    with owner.owner():  # the click's callback
        waiting = threading.Thread(target=lambda: ran.append(_frame_outcome()))
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()  # waits for the owner
        superseded_run.request_stop()
    waiting.join(10)
    assert ran == ["stopped"]


def _frame_outcome() -> str:
    try:
        with owner.live_frame("k", 0.0):
            return "trained"
    except Stopped:
        return "stopped"
