"""Simulated students for Locust: each speaks Streamlit's own protocol (tests/streamlit_client.py).

    .venv/bin/locust -f tests/locust_hall.py --headless -u 40 -r 20 -t 60s --host http://127.0.0.1:8501

(tests/load_hall.py starts the hall server, runs these in-process and reports per session.)

A `PlaygroundStudent` opens /playground, presses Play and takes frame after frame the way the
browser's timer does: the next tick goes out only after the last frame arrived, and never sooner
than the fragment's interval after the previous tick. Every `click_every` seconds (with jitter, so
a hall does not click in step; 0: never) it presses Pause and then Play, which times clicks under load. An
`MnistStudent` does the same with Train on /mnist.

Each request is reported to Locust (request type "st"): `open <page>`, `click <label>` (sent ->
the run's script_finished), `frame <page>` (tick -> the frame's script_finished; its length is the
bytes delivered). Frames are also counted per student in `STUDENTS`, for frames/s per session.
"""
from __future__ import annotations

import itertools
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import gevent
from locust import User, constant, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_client import Run, StreamlitError, StreamlitSession  # noqa: E402 (this folder)

MIN_FRAME_DELTAS = 3  # a frame that drew its charts (one cut short draws nothing), as in tests/load_sessions.py


@dataclass
class StudentStats:
    """One simulated student: frames taken (with their arrival times) and what went wrong."""
    page: str
    frame_times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cookie: str | None = None
    started: float = field(default_factory=time.monotonic)

    def frames_between(self, t0: float, t1: float) -> int:
        return sum(t0 <= t < t1 for t in self.frame_times)


STUDENTS: list[StudentStats] = []


class Student(User):
    abstract = True
    wait_time = constant(0)
    path = "/"
    start_label = stop_label = ""
    click_every = 10.0  # seconds between a student's Pause + Play; 0: never
    frame_seconds = 0.0  # a slower browser: at least this long between ticks (0: the page's interval)

    def on_start(self) -> None:
        self.stats = StudentStats(self.path)
        STUDENTS.append(self.stats)
        self.session = StreamlitSession(self.host, self.path, timeout=60)

    def on_stop(self) -> None:
        self.session.close()

    def _report(self, name: str, call) -> Run | None:
        """Run one request and report it to Locust; an error is reported, kept, and ends the task."""
        t0 = time.perf_counter()
        try:
            run = call()
            if run is not None and run.exceptions:
                raise StreamlitError("exception on the page: " + run.exceptions[0])
            if self.session.media_failures:
                raise StreamlitError(self.session.media_failures.pop())
        except StreamlitError as e:
            self.environment.events.request.fire(request_type="st", name=name, response_time=1000 * (time.perf_counter() - t0),
                                                 response_length=0, exception=e, context={})
            self.stats.errors.append(f"{name}: {e}")
            raise
        self.environment.events.request.fire(request_type="st", name=name, response_time=1000 * run.seconds,
                                             response_length=run.bytes, exception=None, context={})
        return run

    def _next_click(self) -> float:
        return time.monotonic() + random.uniform(0.5, 1.5) * self.click_every if self.click_every else float("inf")

    def _frame(self) -> float:
        """One tick of the live view's timer, counted when the frame drew its charts; returns when it was sent."""
        sent = time.monotonic()
        run = self._report(f"frame {self.path}", self.session.tick)
        if run.kind == "fragment" and run.deltas >= MIN_FRAME_DELTAS:
            self.stats.frame_times.append(time.monotonic())
        return sent

    @task
    def learn(self) -> None:
        self.visit()

    def visit(self) -> None:
        """Open the page, press start and take frames until the load ends; a failure reloads the page."""
        s = self.session
        try:
            self._report(f"open {self.path}", s.open)
            self.stats.cookie = s.http.cookies.get("NNVIZ_WORKER")
            self._report(f"click {self.start_label}", lambda: s.click(self.start_label))
            next_click = self._next_click()
            while True:
                interval = next(iter(s.fragments.values()), None)
                if interval is None:  # training finished (the page stopped its timer): start again
                    self._report(f"click {self.start_label}", lambda: s.click(self.start_label))
                    continue
                sent = self._frame()
                if time.monotonic() >= next_click:
                    self._report(f"click {self.stop_label}", lambda: s.click(self.stop_label))
                    self._report(f"click {self.start_label}", lambda: s.click(self.start_label))
                    next_click = self._next_click()
                    continue
                gevent.sleep(max(0.0, max(interval, self.frame_seconds) - (time.monotonic() - sent)))
        except StreamlitError:
            s.drop()
            s.session_id = s.page_script_hash = ""
            gevent.sleep(5)  # then Locust runs the task again: a student reloads the page


class PlaygroundStudent(Student):
    path, start_label, stop_label = "/playground", "Play", "Pause"


class MnistStudent(Student):
    path, start_label, stop_label = "/mnist", "Train", "Pause"


class ClassStudent(Student):
    """Trains a network on /mnist (one Train), joins the class whose code is in NNVIZ_LOAD_CLASS_CODE
    on /class, submits that network and waits, as the page does, until it is rated: `click Submit`
    times the submission, `rated /class` the wait from submission to the rating on screen."""
    path, start_label, stop_label = "/mnist", "Train", "Pause"
    names = itertools.count(1)

    def visit(self) -> None:
        s = self.session
        try:
            self._report(f"open {self.path}", s.open)
            self.stats.cookie = s.http.cookies.get("NNVIZ_WORKER")
            self._report("click Train", lambda: s.click("Train"))
            while s.fragments:  # until this Train's epochs are done
                sent = self._frame()
                gevent.sleep(max(0.0, next(iter(s.fragments.values()), 0) - (time.monotonic() - sent)))
            code = os.environ["NNVIZ_LOAD_CLASS_CODE"]
            self._report("open /class", lambda: s.switch_page("/class", f"join={code}"))
            name = f"sim-{os.getpid()}-{next(self.names)}"
            self._report("click Join", lambda: s.submit_form("Join", {"Your name on the board": name}))
            board = set(s.fragments)  # the live board's timer
            t0 = time.perf_counter()
            self._report("click Submit", lambda: s.click("Submit this session's model"))
            waiting = set(s.fragments) - board  # the timer of "your submissions", while one is not rated
            due = {fid: time.monotonic() + interval for fid, interval in s.fragments.items()}
            while waiting & set(s.fragments):  # every timer of the page ticks, as in the browser
                fid = min(due, key=due.get)
                gevent.sleep(max(0.0, due[fid] - time.monotonic()))
                self._report("frame /class", lambda: s.tick(fid))
                due = {f: due.get(f, time.monotonic()) for f in s.fragments}
                if fid in due:
                    due[fid] = time.monotonic() + s.fragments[fid]
            waited = time.perf_counter() - t0
            self.environment.events.request.fire(request_type="st", name="rated /class", response_time=1000 * waited,
                                                 response_length=0, exception=None, context={})
        except StreamlitError:
            s.drop()
        gevent.sleep(10**6)  # one submission a student; the run ends with the load's time


USERS = {"playground": PlaygroundStudent, "mnist": MnistStudent, "class": ClassStudent}
