"""ClassStore on SQLite and PostgreSQL (every test runs on both, see conftest.py), with real
model files: the class lifecycle, limits, forged secrets, hostile uploads, concurrency, migrations."""
import csv
import io
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from nnviz.classroom import schema
from nnviz.classroom.store import (MAX_CLASS_PARAMS, AttackResult, ClassError, ClassStore, NotAllowed, make_engine,
                                   migrate)
from nnviz.engine.model import MLP
from nnviz.engine.model_files import model_to_bytes


@lru_cache(maxsize=None)
def model_bytes(sizes=(784, 16, 10), seed=0) -> bytes:
    return model_to_bytes(MLP.create(sizes, "relu", "softmax", "cross_entropy", "he", np.random.default_rng(seed)))


def count(store, table) -> int:
    with store.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def open_class(store, n_students=0, **rules):
    """A class with round 1 open and n joined students: (NewClass, [Joined])."""
    new = store.create_class(**rules)
    store.update_class(new.code, new.teacher_key, submit_open=True)
    return new, [store.join(new.code, f"student {i}") for i in range(n_students)]


def rate_all(store, scores: dict[int, tuple[float, float]], worker="w"):
    """Claim every waiting submission and finish it with scores[id] = (clean, robust)."""
    while (claim := store.claim_next(worker)) is not None:
        clean, robust = scores.get(claim.submission_id, (0.9, 0.5))
        assert store.finish(claim.submission_id, worker, clean_acc=clean, robust_acc=robust, seconds=0.1)


# -- lifecycle --------------------------------------------------------------------------------

def test_lifecycle_submit_rate_rank_remove(store):
    new, (a, b, c, d) = open_class(store, 4, eps=0.1, submit_limit=5)
    info = store.teacher(new.code, new.teacher_key)
    assert (info.phase, info.n_students, info.eps, info.submit_limit) == ("submit", 4, 0.1, 5)
    assert store.class_info(f" {new.code[:3].lower()}-{new.code[3:]} ").code == new.code  # typed loosely
    a1 = store.submit_model(a.token, model_bytes())
    a2 = store.submit_model(a.token, model_bytes(seed=1), label="wide <b>one</b>")
    b1 = store.submit_model(b.token, model_bytes())
    c1 = store.submit_model(c.token, model_bytes())
    d1 = store.submit_model(d.token, model_bytes())  # stays queued: not on the board
    rows = store.my_submissions(a.token)
    assert [r.id for r in rows] == [a2, a1] and rows[0].label == "wide <b>one</b>" and rows[1].label == "student 0"
    assert [r.queue_position for r in rows] == [1, 0] and rows[0].sizes == "784-16-10"
    assert store.pending_count(new.code) == 5 and store.pending_count() == 5

    scores = {a1: (0.90, 0.40), a2: (0.95, 0.60), b1: (0.95, 0.60), c1: (0.99, 0.20)}
    for _ in range(4):
        claim = store.claim_next("w")
        assert claim.eps == 0.1 and claim.model_bytes == model_bytes(seed=claim.submission_id == a2 and 1 or 0)
        store.finish(claim.submission_id, "w", clean_acc=scores[claim.submission_id][0],
                     robust_acc=scores[claim.submission_id][1], seconds=0.2)
    assert store.submission(d1).queue_position == 0  # nothing ahead of it any more
    board = store.leaderboard(new.code)
    assert [(e.rank, e.name, e.submission_id, e.submissions) for e in board] == [
        (1, "student 0", a2, 2), (1, "student 1", b1, 1), (3, "student 2", c1, 1)]  # a tie shares rank 1
    assert board[0].robust_acc == 0.60 and board[0].reference is None and board[0].sizes == "784-16-10"

    store.remove_submission(new.code, new.teacher_key, a2)
    board = store.leaderboard(new.code)
    assert [(e.rank, e.name, e.submission_id, e.submissions) for e in board] == [
        (1, "student 1", b1, 1), (2, "student 0", a1, 1), (3, "student 2", c1, 1)]
    assert store.my_submissions(a.token)[0].removed
    with pytest.raises(ClassError, match="no submission"):
        other, _ = open_class(store)
        store.remove_submission(other.code, other.teacher_key, b1)  # not that class's submission


def test_references_join_the_board_and_replace_each_other(store):
    new, (a,) = open_class(store, 1)
    r1 = store.add_reference(new.code, new.teacher_key, "default", model_bytes())
    r2 = store.add_reference(new.code, new.teacher_key, "default", model_bytes(seed=2))  # replaces r1
    t = store.add_reference(new.code, new.teacher_key, "template", model_bytes((784, 10)))
    s = store.submit_model(a.token, model_bytes())
    rate_all(store, {r2: (0.96, 0.3), t: (0.92, 0.0), s: (0.9, 0.3)})
    board = store.leaderboard(new.code)
    assert [(e.rank, e.name, e.reference) for e in board] == [
        (1, "Reference: default model", "default"), (2, "student 0", None),
        (3, "Reference: template network (no hidden layer)", "template")]
    assert store.submission(r1).removed and [x.submission_id for x in store.targets(new.code)] == [r2, s, t]
    with pytest.raises(ClassError):
        store.add_reference(new.code, new.teacher_key, "mine", model_bytes())


def test_submission_limit_is_exact_and_counts_removed_ones(store):
    new, (a,) = open_class(store, 1, submit_limit=3)
    ids = [store.submit_model(a.token, model_bytes()) for _ in range(2)]
    store.remove_submission(new.code, new.teacher_key, ids[0])
    store.submit_model(a.token, model_bytes())
    with pytest.raises(ClassError, match="all 3 submissions"):
        store.submit_model(a.token, model_bytes())
    assert count(store, schema.submissions) == 3
    store.update_class(new.code, new.teacher_key, submit_limit=4)
    store.submit_model(a.token, model_bytes())
    assert len(store.my_submissions(a.token)) == 4


def test_size_and_parameter_caps_have_clear_messages(store):
    new, (a,) = open_class(store, 1)
    with pytest.raises(ClassError, match=r"2,000,001 bytes; the limit is 2,000,000 bytes"):
        store.submit_model(a.token, b"\0" * 2_000_001)
    big = (784, 400, 10)  # 318,010 parameters
    with pytest.raises(ClassError, match=rf"318,010 parameters; the class limit is {MAX_CLASS_PARAMS:,}"):
        store.submit_model(a.token, model_bytes(big))
    with pytest.raises(ClassError, match="not an nnviz model"):
        store.submit_model(a.token, b"PK\x03\x04 not really a zip")
    with pytest.raises(ClassError, match="digit model"):
        store.submit_model(a.token, model_bytes((784, 16, 3)))
    assert count(store, schema.submissions) == 0


def test_rules_are_checked(store):
    for bad in (dict(eps=0.01), dict(eps=0.5), dict(eps=float("nan")), dict(submit_limit=0), dict(submit_limit=51),
                dict(submit_limit=True)):
        with pytest.raises(ClassError):
            store.create_class(**bad)
    new = store.create_class()
    assert store.class_info(new.code).phase == "waiting"
    with pytest.raises(ClassError, match="No class with the code"):
        store.class_info("ZZZZZZ" if new.code != "ZZZZZZ" else "YYYYYY")
    a = store.join(new.code, "ana")
    with pytest.raises(ClassError, match="Round 1 is not open"):
        store.submit_model(a.token, model_bytes())


def test_an_ended_class_is_final(store):
    new, (a,) = open_class(store, 1)
    sid = store.submit_model(a.token, model_bytes())
    assert store.update_class(new.code, new.teacher_key, ended=True).phase == "ended"
    with pytest.raises(ClassError, match="ended"):
        store.submit_model(a.token, model_bytes())
    with pytest.raises(ClassError, match="ended"):
        store.join(new.code, "late")
    for change in (dict(ended=False), dict(submit_open=True), dict(eps=0.2)):
        with pytest.raises(ClassError, match="ended"):
            store.update_class(new.code, new.teacher_key, **change)
    with pytest.raises(ClassError, match="ended"):
        store.remove_submission(new.code, new.teacher_key, sid)
    with pytest.raises(ClassError, match="ended"):
        store.add_reference(new.code, new.teacher_key, "default", model_bytes())
    assert count(store, schema.submissions) == 1 and count(store, schema.students) == 1


# -- secrets ----------------------------------------------------------------------------------

def test_forged_tokens_and_wrong_keys_are_not_allowed_and_store_nothing(store):
    new, (a,) = open_class(store, 1)
    other = store.create_class()
    forged = ["", "x" * 24, a.token[:-1] + ("A" if a.token[-1] != "A" else "B"), "x" * 10**6, None, 42, new.teacher_key]
    for token in forged:
        with pytest.raises(NotAllowed):
            store.student(token)
        with pytest.raises(NotAllowed):
            store.submit_model(token, model_bytes())
        with pytest.raises(NotAllowed):
            store.my_submissions(token)
    for key in ["", a.token, other.teacher_key, new.teacher_key.upper(), None]:
        with pytest.raises(NotAllowed):
            store.teacher(new.code, key)
        with pytest.raises(NotAllowed):
            store.update_class(new.code, key, ended=True)
        with pytest.raises(NotAllowed):
            store.add_reference(new.code, key, "default", model_bytes())
        with pytest.raises(NotAllowed):
            store.results_csv(new.code, key)
    assert count(store, schema.submissions) == 0 and not store.class_info(new.code).ended
    with store.engine.connect() as c:  # only hashes are stored
        stored = [*c.execute(sa.select(schema.students.c.token_hash)).scalars(),
                  *c.execute(sa.select(schema.classes.c.teacher_key_hash)).scalars()]
    assert a.token not in stored and new.teacher_key not in stored and all(len(h) == 64 for h in stored)


def test_a_student_cannot_submit_as_another_or_change_their_entry(store):
    new, (a, b) = open_class(store, 2, submit_limit=2)
    sa_ = store.submit_model(a.token, model_bytes())
    store.submit_model(b.token, model_bytes(), label="student 0")  # a label is no identity
    assert [r.id for r in store.my_submissions(a.token)] == [sa_]
    assert store.student(b.token).name == "student 1"
    with pytest.raises(NotAllowed):  # a student's token is no teacher key
        store.remove_submission(new.code, a.token, sa_)
    rate_all(store, {})
    assert {e.name for e in store.leaderboard(new.code)} == {"student 0", "student 1"}
    store.submit_model(b.token, model_bytes())
    with pytest.raises(ClassError, match="all 2"):
        store.submit_model(b.token, model_bytes())
    assert len(store.my_submissions(a.token)) == 1  # b's uses counted against b only


# -- names and uploads ------------------------------------------------------------------------

def test_names_are_stored_verbatim_unique_case_insensitively_and_bounded(store):
    new = store.create_class()
    html = "<script>x</script>"[:24]
    assert store.join(new.code, f"  {html} ").name == html
    assert store.student(store.join(new.code, "**Ana** [x](y)").token).name == "**Ana** [x](y)"
    store.join(new.code, "Zoë")
    for same in ("zoë", " ZOË ", "<SCRIPT>X</SCRIPT>"):
        with pytest.raises(ClassError, match="is taken"):
            store.join(new.code, same)
    for bad in ("", "   ", "a" * 25, "tab\there", "bell\x07", "rtl\u202eevil", "Reference: default model"):
        with pytest.raises(ClassError):
            store.join(new.code, bad)
    start = time.perf_counter()
    with pytest.raises(ClassError, match="too long"):
        store.join(new.code, "x" * 2**20)
    assert time.perf_counter() - start < 0.5
    assert store.class_info(new.code).n_students == 3


@lru_cache(maxsize=1)
def zip_bomb() -> bytes:
    """An .npz-shaped zip whose one entry inflates to 1 GiB of zeros (about 1 MB compressed)."""
    buf = io.BytesIO()
    chunk = bytes(2**24)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("W0.npy", "w", force_zip64=True) as f:
            for _ in range(2**30 // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


def test_a_zip_bomb_is_refused_and_nothing_is_stored(store):
    new, (a,) = open_class(store, 1)
    bomb = zip_bomb()
    assert len(bomb) < 2_000_000
    start = time.perf_counter()
    with pytest.raises(ClassError, match="too large"):
        store.submit_model(a.token, bomb)
    with pytest.raises(ClassError, match="too large"):
        store.add_reference(new.code, new.teacher_key, "default", bomb)
    with pytest.raises(ClassError):  # an attack upload must be an .npy: the .npz is not even opened
        store.load_attack_upload(bomb)
    assert time.perf_counter() - start < 2
    assert count(store, schema.submissions) == 0


def test_attack_uploads_are_parsed_safely(store):
    x = np.random.default_rng(0).random((20, 784), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, x)
    assert np.array_equal(store.load_attack_upload(buf.getvalue()), x)
    bad = [b"", b"not numpy", b"\x93NUMPY\x01\x00" + b"x" * 100, b"\0" * (2**20 + 1)]
    for arr in (np.array(["a", "b"]), np.zeros(5), np.zeros((2, 2, 2))):
        b = io.BytesIO()
        np.save(b, arr, allow_pickle=False)
        bad.append(b.getvalue())
    pickled = io.BytesIO()  # an object array: what follows its header would be a pickle
    np.lib.format.write_array_header_1_0(pickled, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    bad.append(pickled.getvalue() + b"\x80\x04\x95 a pickle would follow")
    header = io.BytesIO()  # a valid header that promises 8 GB of float64
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**20, 2**10)})
    bad.append(header.getvalue() + bytes(1000))
    for data in bad:
        with pytest.raises(ClassError):
            store.load_attack_upload(data)


def test_wrong_codes_are_rate_limited_per_client(store):
    new = store.create_class()
    wrong = "ZZZZZZ" if new.code != "ZZZZZZ" else "YYYYYY"
    for i in range(10):
        with pytest.raises(ClassError, match="No class"):
            store.join(wrong, f"guess {i}", client="10.0.0.7")
    with pytest.raises(ClassError, match="Too many wrong codes: wait a minute"):
        store.join(new.code, "right code", client="10.0.0.7")
    assert store.join(new.code, "someone else", client="10.0.0.8").name == "someone else"
    with store.engine.begin() as c:  # a minute later
        c.execute(schema.join_failures.update().values(at=schema.join_failures.c.at - 61))
    assert store.join(new.code, "right code", client="10.0.0.7").name == "right code"
    assert store.class_info(new.code).n_students == 2


# -- concurrency and the queue ----------------------------------------------------------------

def test_twenty_students_submit_at_once(store, db_url, capsys):
    from nnviz.lab.digit_model import load_digit_model
    load_digit_model(model_bytes())  # warm the cached probe digits: time the store, not a cold start
    new, joined = open_class(store, 20)
    barrier = threading.Barrier(20)

    def submit(j):
        barrier.wait()
        return store.submit_model(j.token, model_bytes())
    start = time.perf_counter()
    with ThreadPoolExecutor(20) as pool:
        ids = list(pool.map(submit, joined))
    took = time.perf_counter() - start
    assert len(set(ids)) == 20 and store.pending_count(new.code) == 20
    assert all(len(store.my_submissions(j.token)) == 1 for j in joined)
    with capsys.disabled():
        print(f"\n20 threads submitting on {db_url.split(':')[0]}: {took:.2f} s")


def test_twenty_workers_claim_each_submission_exactly_once(store, db_url, capsys):
    new, joined = open_class(store, 20)
    ids = [store.submit_model(j.token, model_bytes()) for j in joined for _ in range(3)]
    claimed, errors = [], []
    barrier = threading.Barrier(20)

    def work(i):
        barrier.wait()
        try:
            while (claim := store.claim_next(f"worker {i}")) is not None:
                claimed.append(claim.submission_id)
                assert store.finish(claim.submission_id, f"worker {i}", clean_acc=0.9, robust_acc=0.5)
        except Exception as e:  # noqa: BLE001 - collected: "database is locked" would land here
            errors.append(repr(e))
    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    assert errors == []
    assert sorted(claimed) == sorted(ids)  # every one once, none twice
    assert store.pending_count() == 0 and len(store.leaderboard(new.code)) == 20
    assert all(e.submissions == 3 for e in store.leaderboard(new.code))
    with capsys.disabled():
        print(f"\n20 threads claiming 60 submissions on {db_url.split(':')[0]}: {took:.2f} s")


def test_several_stores_start_at_once_on_a_fresh_database(db_url):
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: ClassStore(db_url), range(4)))
    code = stores[0].create_class().code
    assert all(s.class_info(code).code == code for s in stores)
    for s in stores:
        s.dispose()


def test_stale_claims_are_taken_over_and_a_crashing_model_fails(store):
    new, (a,) = open_class(store, 1)
    sid = store.submit_model(a.token, model_bytes())
    assert store.claim_next("a").submission_id == sid
    assert store.claim_next("b") is None  # not stale yet
    assert store.claim_next("b", stale_after=0).submission_id == sid
    assert not store.finish(sid, "a", clean_acc=0.1, robust_acc=0.1)  # a lost the claim
    assert store.submission(sid).status == "rating"
    assert store.claim_next("c", stale_after=0).submission_id == sid  # third attempt
    assert store.claim_next("d", stale_after=0) is None  # abandoned three times: failed
    row = store.submission(sid)
    assert row.status == "failed" and "abandoned" in row.error and row.queue_position is None
    assert not store.finish(sid, "c", clean_acc=0.1, robust_acc=0.1)


def test_a_failed_rating_is_shown_not_ranked(store):
    new, (a,) = open_class(store, 1)
    sid = store.submit_model(a.token, model_bytes())
    claim = store.claim_next("w")
    assert store.finish(claim.submission_id, "w", error="could not be rated: boom")
    row = store.submission(sid)
    assert (row.status, row.error) == ("failed", "could not be rated: boom") and store.leaderboard(new.code) == []


def test_changing_eps_requeues_the_ratings(store):
    new, (a, b) = open_class(store, 2, eps=0.1)
    sa_, sb = store.submit_model(a.token, model_bytes()), store.submit_model(b.token, model_bytes())
    rate_all(store, {})
    store.update_class(new.code, new.teacher_key, eps=0.1, submit_open=False)  # same eps: nothing to redo
    assert store.pending_count(new.code) == 0 and len(store.leaderboard(new.code)) == 2
    store.update_class(new.code, new.teacher_key, eps=0.2)
    assert store.pending_count(new.code) == 2 and store.leaderboard(new.code) == []
    assert store.submission(sa_).clean_acc is None and store.submission(sb).queue_position == 1
    claim = store.claim_next("w")
    assert claim.eps == 0.2
    store.update_class(new.code, new.teacher_key, eps=0.15)  # while one is being rated
    assert not store.finish(claim.submission_id, "w", clean_acc=0.9, robust_acc=0.5)  # rated at the old eps
    assert {store.claim_next("w").eps for _ in range(2)} == {0.15}


# -- schema and migrations --------------------------------------------------------------------

def test_the_migrated_schema_is_the_declared_one(store):
    with store.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), schema.Base.metadata) == []


def test_a_database_at_revision_0001_is_upgraded_and_keeps_its_data(db_url):
    engine = make_engine(db_url)
    migrate(engine, "0001")
    with engine.begin() as c:
        assert not sa.inspect(c).has_table("attacks")
        c.execute(schema.classes.insert().values(
            code="ABCDEF", teacher_key_hash="0" * 64, eps=0.1, submit_limit=5, submit_open=True, break_open=False,
            revealed=False, ended=False, challenge_seed=7, created_at=time.time()))
    engine.dispose()
    store = ClassStore(db_url)
    try:
        assert store.class_info("abc-def").challenge_seed == 7
        assert store.join("ABCDEF", "first").name == "first"
        with pytest.raises(ClassError):
            store.join("ABCDEG", "x", client="c")  # writes to join_failures, a 0002 table
        with store.engine.connect() as c:
            assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
    finally:
        store.dispose()


def test_results_csv_defuses_formulas(store):
    new, _ = open_class(store)
    names = ["=cmd()", "+1", "-2", "@SUM(A1)", "plain, with comma"]
    tokens = [store.join(new.code, n).token for n in names]
    for t in tokens:
        store.submit_model(t, model_bytes())
    rate_all(store, {})
    text = store.results_csv(new.code, new.teacher_key)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["rank", "name", "clean_acc", "robust_acc", "submissions", "reference",
                             "fooled_by_them", "digits_survived"]
    assert sorted(r["name"] for r in rows) == sorted(["'=cmd()", "'+1", "'-2", "'@SUM(A1)", "plain, with comma"])
    assert all(r["rank"] == "1" and r["robust_acc"] == "0.5000" for r in rows)
    assert "\n=cmd()" not in text and ",=cmd()" not in text


# -- round 2: the break round -----------------------------------------------------------------

@lru_cache(maxsize=1)
def trained_bytes() -> bytes:
    """A real digit network (one epoch of the default model, ~90% right): attacks fool it."""
    from nnviz.lab.pretrained import train_default_model
    return model_to_bytes(train_default_model(epochs=1).model)


def break_class(store, reveal=True):
    """Class with students a, b (trained network), c, all rated; break round open."""
    new, (a, b, c) = open_class(store, 3, submit_limit=2, eps=0.1)
    ids = [store.submit_model(a.token, model_bytes()), store.submit_model(b.token, trained_bytes()),
           store.submit_model(c.token, model_bytes(seed=3))]
    rate_all(store, {})
    store.update_class(new.code, new.teacher_key, submit_open=False, break_open=True, revealed=reveal)
    return new, (a, b, c), ids


def test_target_models_only_in_an_open_revealed_break_round(store):
    new, (a, b, c), (sa_, sb, sc) = break_class(store, reveal=False)
    with pytest.raises(ClassError, match="not revealed"):
        store.target_model(a.token, sb)
    store.update_class(new.code, new.teacher_key, revealed=True)
    assert store.target_model(a.token, sb) == trained_bytes()
    other, (z,) = open_class(store, 1)
    sz = store.submit_model(z.token, model_bytes())
    with pytest.raises(NotAllowed):
        store.target_model(a.token, sz)  # another class's network
    with pytest.raises(ClassError, match="break round is not open"):
        store.target_model(z.token, sz)  # its own class has no break round
    store.remove_submission(new.code, new.teacher_key, sc)
    with pytest.raises(ClassError, match="not on the board"):
        store.target_model(a.token, sc)
    store.update_class(new.code, new.teacher_key, break_open=False)
    with pytest.raises(ClassError, match="break round is not open"):
        store.target_model(a.token, sb)
    x, _ = store.challenge(new.code)
    with pytest.raises(ClassError, match="break round is not open"):
        store.submit_attack(a.token, sb, x)


def test_bad_attacks_are_refused_and_nothing_is_stored(store):
    new, (a, b, c), (sa_, sb, sc) = break_class(store)
    x, y = store.challenge(new.code)
    assert x.shape == (20, 784) and x.dtype == np.float32 and y.shape == (20,) and y.dtype == np.int64
    far = np.clip(x + 0.2, 0, 1)
    nan = x.copy()
    nan[3, 100] = np.nan
    for x_adv, message in ((far, "more than the allowed eps"), (nan, "not finite"), (x[:10], "shape"),
                           (np.array([["a"] * 784] * 20), "numbers")):
        with pytest.raises(ClassError, match=message):
            store.submit_attack(a.token, sb, x_adv)
    with pytest.raises(ClassError, match="That is your own network"):
        store.submit_attack(b.token, sb, x)
    with pytest.raises(NotAllowed):
        store.submit_attack("forged", sb, x)
    assert count(store, schema.attacks) == 0


def test_attacks_score_and_fill_the_matrix(store):
    from nnviz.classroom.evaluate import attack_challenge, count_fooled
    from nnviz.engine.model_files import load_model
    new, (a, b, c), (sa_, sb, sc) = break_class(store)
    x, y = store.challenge(new.code)
    model_b = load_model(store.target_model(a.token, sb))
    x_adv = attack_challenge(model_b, x, y, 0.1)
    expected = count_fooled(model_b, x_adv, x, y)
    assert expected >= 5  # the attack works on a trained network

    assert store.submit_attack(a.token, sb, x) == AttackResult(0, 20, "student 1")  # unchanged: fools none
    assert store.submit_attack(a.token, sb, x_adv).fooled == expected
    with pytest.raises(ClassError, match="all 2 attacks"):
        store.submit_attack(a.token, sc, x)
    result = store.submit_attack(c.token, sb, x_adv)
    assert (result.fooled, result.n_digits, result.target_name) == (expected, 20, "student 1")
    model_a = load_model(store.target_model(c.token, sa_))
    fooled_a = store.submit_attack(c.token, sa_, x_adv).fooled
    assert fooled_a == count_fooled(model_a, x_adv, x, y)
    assert count(store, schema.attacks) == 4
    with store.engine.connect() as conn:
        images = conn.execute(sa.select(schema.attacks.c.images).where(
            schema.attacks.c.attacker_id == store.student(c.token).id).order_by(schema.attacks.c.id)).scalars().first()
    stored = np.load(io.BytesIO(images), allow_pickle=False)
    assert stored.dtype == np.float32 and np.array_equal(stored, x_adv)

    m = store.attack_matrix(new.code)
    assert m.n_digits == 20 and m.fooled.dtype.kind == "i"
    assert sorted(m.attackers) == ["student 0", "student 2"] and sorted(m.networks) == ["student 0", "student 1", "student 2"]
    cell = {(att, net): int(m.fooled[i, j]) for i, att in enumerate(m.attackers) for j, net in enumerate(m.networks)}
    assert cell[("student 0", "student 1")] == expected  # the best of a's two attacks on b
    assert cell[("student 2", "student 1")] == expected and cell[("student 2", "student 0")] == fooled_a
    assert cell[("student 0", "student 2")] == 0
    tried = {(att, net) for i, att in enumerate(m.attackers) for j, net in enumerate(m.networks) if m.attacked[i, j]}
    assert tried == {("student 0", "student 1"), ("student 2", "student 1"), ("student 2", "student 0")}
    totals = m.fooled.sum(axis=1)
    assert list(totals) == sorted(totals, reverse=True)
    survived = {net: sum(20 - cell[(att, net)] for att in m.attackers if att != net) for net in m.networks}
    assert [survived[n] for n in m.networks] == sorted(survived.values(), reverse=True)

    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(store.results_csv(new.code, new.teacher_key)))}
    assert int(rows["student 2"]["fooled_by_them"]) == expected + fooled_a
    assert int(rows["student 1"]["digits_survived"]) == survived["student 1"]
    store.remove_submission(new.code, new.teacher_key, sb)  # attacked, then taken off: still in the matrix
    m = store.attack_matrix(new.code)
    assert "student 1 (off the board)" in m.networks and int(m.fooled.sum()) == 2 * expected + fooled_a
