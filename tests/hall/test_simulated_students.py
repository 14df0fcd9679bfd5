"""The load generator's students (tests/streamlit_client.py, tests/locust_hall.py) against a real
server: they must do what a browser does, or the hall figures mean nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from serving import ROOT, start_streamlit, stop
from streamlit_client import StreamlitError, StreamlitSession

from nnviz.ui.playground import FRAME_SECONDS


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'class.db'}"


@pytest.fixture(scope="module")
def server(tmp_path_factory, database):
    log = open(tmp_path_factory.mktemp("hall") / "server.log", "w")
    proc, url = start_streamlit(log, extra_env={"NNVIZ_DATABASE_URL": database})
    yield url
    stop(proc)
    log.close()
    assert "Traceback" not in open(log.name).read()


def epoch(run) -> int:
    return int(run.metrics["Epoch"].replace(",", ""))


def test_a_simulated_student_plays_and_every_frame_trains_further(server):
    s = StreamlitSession(server, "/playground")
    try:
        first = s.open()
        assert first.kind == "full" and not first.exceptions and {"Play", "Step", "Reset"} <= set(s.buttons)
        assert not s.fragments  # not playing: no timer
        played = s.click("Play")
        assert "Pause" in s.buttons and "Play" not in s.buttons
        assert list(s.fragments.values()) == [pytest.approx(FRAME_SECONDS)]  # the live view's timer
        epochs = [epoch(played)] + [epoch(s.tick()) for _ in range(3)]
        assert all(b > a for a, b in zip(epochs, epochs[1:])), epochs
        frame = s.tick()
        assert frame.kind == "fragment" and frame.deltas >= 3 and frame.bytes > 10_000  # the charts came again
        s.click("Pause")
        assert "Play" in s.buttons and not s.fragments
        with pytest.raises(StreamlitError, match="no button 'Train'"):
            s.click("Train")
    finally:
        s.close()


def test_a_dropped_socket_resumes_the_same_session_and_a_new_student_starts_afresh(server):
    s = StreamlitSession(server, "/playground")
    try:
        s.open()
        s.click("Play")
        before = epoch(s.tick())
        session_id = s.session_id
        s.reconnect()  # the browser after a network blip: the same session id in the subprotocol
        after = s.tick()
        assert s.session_id == session_id and epoch(after) > before
        other = StreamlitSession(server, "/playground")
        other.open()
        assert other.session_id != session_id and epoch(other.rerun()) == 0
        other.close()
    finally:
        s.close()


def test_an_mnist_student_trains_and_fetches_the_pictures_like_img_tags(server):
    s = StreamlitSession(server, "/mnist")
    try:
        opened = s.open()
        assert opened.media > 0 and not s.media_failures  # the sample digits are /media files
        s.click("Train")
        frame = s.tick()
        assert frame.kind == "fragment" and frame.deltas >= 3 and not frame.exceptions
    finally:
        s.close()


def test_a_student_trains_joins_a_class_by_its_form_and_submits(server, database):
    created = subprocess.run([sys.executable, "-m", "nnviz", "class", "create", "--open", "--json"], cwd=ROOT,
                             env={**os.environ, "NNVIZ_DATABASE_URL": database}, capture_output=True, text=True)
    code = json.loads(created.stdout)["code"]
    s = StreamlitSession(server, "/mnist")
    try:
        s.open()
        s.click("Train")
        while s.fragments:  # one Train: its epochs, frame by frame
            s.tick()
        assert {"class", "mnist", "playground"} <= set(s.pages)
        s.switch_page("/class", f"join={code}")
        assert {"Class code", "Your name on the board"} <= set(s.text_inputs)
        s.submit_form("Join", {"Your name on the board": "ada"})
        board_timer = set(s.fragments)
        s.click("Submit this session's model")
        waiting = set(s.fragments) - board_timer  # "your submissions", live until it is rated
        assert len(waiting) == 1
        deadline = time.monotonic() + 90
        while waiting & set(s.fragments):
            assert time.monotonic() < deadline, "the submission was never rated"
            time.sleep(1)
            s.tick(next(iter(waiting)))
        board = subprocess.run([sys.executable, "-m", "nnviz", "class", "board", "--code", code, "--json"], cwd=ROOT,
                               env={**os.environ, "NNVIZ_DATABASE_URL": database}, capture_output=True, text=True)
        assert board.returncode == 0, board.stderr
        assert "ada" in board.stdout  # the submission is in the shared database, under the joined name
    finally:
        s.close()


def test_no_server_is_a_clear_error_not_a_hang():
    # No server on this port: a clear error, not a hang.
    with pytest.raises(OSError):
        StreamlitSession("http://127.0.0.1:9", "/playground", timeout=2).open()


def test_locust_runs_a_few_students_with_no_failure(server, tmp_path):
    out = subprocess.run([sys.executable, "-m", "locust", "-f", "tests/locust_hall.py", "--headless", "-u", "3",
                          "-r", "3", "-t", "8s", "--host", server, "--json", "--only-summary",
                          "PlaygroundStudent"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    stats = {s["name"]: s for s in json.loads(out.stdout)}
    assert stats["open /playground"]["num_requests"] == 3
    assert stats["click Play"]["num_requests"] >= 3
    frames = stats["frame /playground"]
    assert frames["num_failures"] == 0 and frames["num_requests"] >= 3 * 8 * 0.5 / FRAME_SECONDS  # half the pace, at least
    assert sum(s["num_failures"] for s in stats.values()) == 0
