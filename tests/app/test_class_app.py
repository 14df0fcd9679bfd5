"""The class challenge page (/class) through AppTest, on a fresh SQLite file per test: a lecturer
starts a class, students join and submit, the worker rates, the board shows it; hostile names and
forged links; the Submit button on /mnist; every other page works without a database."""
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnviz.classroom.store import ClassStore
from nnviz.engine.model import MLP
from nnviz.lab.pretrained import TrainedModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh class database for the app (NNVIZ_DATABASE_URL) and a store on it for the test."""
    from nnviz.ui import classroom

    url = f"sqlite:///{tmp_path}/class.db"
    monkeypatch.setenv("NNVIZ_DATABASE_URL", url)
    for cached in (classroom._store, classroom._worker, classroom.board_snapshot):
        cached.clear()
    store = ClassStore(url)
    yield store
    try:
        classroom._worker(classroom._store()).stop()
    except Exception:
        pass
    for cached in (classroom._store, classroom._worker, classroom.board_snapshot):
        cached.clear()
    store.dispose()


def open_page(page: str, query: dict | None = None) -> AppTest:
    """pages/<page>.py through app.py's navigation (page links need it), with ?query."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()  # switch_page needs a first run
    at.switch_page(f"pages/{page}.py")
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def open_class(query: dict | None = None) -> AppTest:
    return open_page("class", query)


def button(at, label):
    return next(b for b in at.button if b.label == label)


def small_model(seed=0) -> TrainedModel:
    """A real, quickly trained digit network (a few hundred steps on the bundled digits)."""
    from nnviz.data.mnist import public_digits
    from nnviz.engine.training import TrainConfig, Trainer

    rng = np.random.default_rng(seed)
    model = MLP.create((784, 16, 10), "relu", "softmax", "cross_entropy", "he", rng)
    stats = None
    for stats in Trainer(model, public_digits(), TrainConfig("momentum", 0.05, 64), rng).epochs(1):
        pass
    return TrainedModel(model, stats.test_acc, "[784, 16, 10] one epoch")


def wait_rated(store, code, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len([e for e in store.leaderboard(code) if e.reference is None]) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"not rated within {timeout} s: {store.leaderboard(code)}")


def test_a_lecturer_starts_a_class_and_gets_a_code_a_qr_code_and_a_key_once(db):
    at = open_class()
    assert not at.exception
    button(at, "Start a class").click().run()
    assert not at.exception
    code, key = at.query_params["code"], at.query_params["key"]
    assert len(code) == 6 and not set(code) & set("0O1IL")
    assert db.teacher(code, key).code == code
    assert any("Bookmark this page now" in w.value for w in at.warning)
    assert any(code in m.value for m in at.markdown)
    qr = at.get("image")[0].proto.imgs[0].url
    assert qr.startswith("data:image/svg+xml;base64,")  # inline: no media file behind it
    at.run()  # the key's warning is shown once
    assert not any("Bookmark this page now" in w.value for w in at.warning)
    button(at, "Open round 1: submit").click().run()
    assert db.class_info(code).submit_open


def test_students_join_submit_and_appear_on_the_board_with_their_names_as_plain_text(db):
    new = db.create_class()
    db.update_class(new.code, new.teacher_key, submit_open=True)
    at = open_class({"join": new.code})
    assert at.text_input[0].value == new.code
    at.text_input[1].input("**Ann** <b>x</b> $y$")
    next(b for b in at.button if b.label == "Join").click().run()  # the form's submit button
    assert not at.exception
    token = at.query_params["student"]
    assert db.student(token).name == "**Ann** <b>x</b> $y$"
    assert button(at, "Submit this session's model").disabled  # nothing trained in this session yet
    at.session_state["nnviz_digit_model"] = small_model()
    at.run()
    button(at, "Submit this session's model").click().run()
    assert any("in the queue" in s.value for s in at.success), [s.value for s in at.success]
    wait_rated(db, new.code, 1)
    time.sleep(2.1)  # the board's snapshot is at most 2 s old
    board = open_class({"board": new.code})
    assert not board.exception
    table = board.table[0].value
    shown = table["Name"].iloc[0]
    assert "\\*\\*Ann\\*\\*" in shown and "\\<b\\>" in shown  # escaped for st.table's Markdown
    scatter = board.get("plotly_chart")[0].proto.spec
    assert "&lt;b&gt;" in scatter and "<b>x</b>" not in scatter


def test_a_reload_with_the_rejoin_link_keeps_the_place_and_a_forged_one_does_not(db):
    new = db.create_class()
    joined = db.join(new.code, "Bea")
    at = open_class({"student": joined.token})
    assert any("Bea" in m.value and new.code in m.value for m in at.markdown)
    forged = open_class({"student": joined.token[:-2] + "xx"})
    assert not forged.exception
    assert any("not valid" in w.value for w in forged.warning)
    assert "student" not in forged.query_params


def test_a_wrong_teacher_key_opens_no_controls(db):
    new = db.create_class()
    at = open_class({"code": new.code, "key": "forged-key"})
    assert not at.exception
    assert at.error and not any(b.label.startswith("Open round") for b in at.button)


def test_a_taken_name_and_a_wrong_code_get_a_clear_message(db):
    new = db.create_class()
    db.join(new.code, "Cem")
    at = open_class({"join": new.code})
    at.text_input[1].input("cem")
    next(b for b in at.button if b.label == "Join").click().run()
    assert any("taken" in e.value for e in at.error), [e.value for e in at.error]
    at.text_input[0].input("ZZZZZZ")
    at.text_input[1].input("Dee")
    next(b for b in at.button if b.label == "Join").click().run()
    assert at.error and not at.exception


def test_mnist_page_offers_submit_to_class_only_in_an_open_class(db):
    new = db.create_class()
    joined = db.join(new.code, "Eve")
    at = open_page("mnist", {"student": joined.token})
    assert not any(b.label == "Submit to class" for b in at.button)  # round 1 not open
    db.update_class(new.code, new.teacher_key, submit_open=True)
    at.session_state["nnviz_digit_model"] = small_model(1)
    at.run()
    button(at, "Submit to class").click().run()
    assert not at.exception
    assert len(db.my_submissions(joined.token)) == 1
    assert at.query_params["student"] == joined.token  # the place is in the address bar on every page


def test_every_other_page_works_without_a_database(monkeypatch, tmp_path):
    from nnviz.ui import classroom
    monkeypatch.setenv("NNVIZ_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    classroom._store.clear()
    for page in ("home", "break", "mnist", "draw"):
        at = open_page(page)
        assert not at.exception, page
    at = open_class()
    assert not at.exception and any("cannot be opened" in e.value for e in at.error)
    classroom._store.clear()


def test_round_two_a_student_attacks_a_classmate_on_class_and_on_break(db):
    from nnviz.classroom.worker import drain
    from nnviz.engine.model_files import model_to_bytes

    new = db.create_class(eps=0.1)
    db.update_class(new.code, new.teacher_key, submit_open=True)
    ann, bo = db.join(new.code, "Ann"), db.join(new.code, "Bo")
    db.submit_model(ann.token, model_to_bytes(small_model(2).model))
    drain(db)
    db.update_class(new.code, new.teacher_key, submit_open=False, break_open=True, revealed=True)
    at = open_class({"student": bo.token})
    assert not at.exception
    assert any("Round 2" in h.value for h in at.subheader)
    button(at, "Attack and submit").click().run()
    assert not at.exception
    fooled = [s.value for s in at.success if s.value.startswith("Fooled")]
    assert fooled, [s.value for s in at.success] + [e.value for e in at.error]
    matrix = db.attack_matrix(new.code)
    assert matrix.attackers == ["Bo"] and matrix.networks == ["Ann"]
    assert f"Fooled {int(matrix.fooled[0, 0])} of 20" in fooled[0]
    brk = open_page("break", {"student": bo.token})
    assert not brk.exception
    assert any("Round 2" in h.value for h in brk.subheader)
    mine = open_class({"student": ann.token})  # her own network is not a target
    assert not any(b.label == "Attack and submit" for b in mine.button)
