"""ClassStore: the one place that talks to the class challenge's database.

SQLite by default (a file in the user's data directory), PostgreSQL by URL, so that several
server processes share one class. Every method is one or two short transactions; numeric work
(loading a model, counting fooled digits) happens outside them. On SQLite every write transaction
starts with BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of failing with
"database is locked" when a read transaction would turn into a write.

The rating queue is the submissions table: claim_next takes a row with a compare-and-set on
(status, attempts), so with any number of workers each submission is rated once.
"""
from __future__ import annotations

import csv
import io
import math
import os
import hashlib
import secrets
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from nnviz.classroom import codes
from nnviz.classroom.schema import REFERENCE_KINDS, attacks, classes, join_failures, students, submissions

MAX_CLASS_PARAMS = 300_000
MAX_MODEL_BYTES = 2_000_000
MAX_ATTACK_BYTES = 2**20
MAX_NAME_CHARS = 24
MAX_LABEL_CHARS = 60
EPS_RANGE = (0.05, 0.3)
LIMIT_RANGE = (1, 50)
JOIN_FAILURES_ALLOWED, JOIN_WINDOW_S = 10, 60.0
MAX_ATTEMPTS = 3  # a submission whose rating was abandoned this often (a crashing model) fails
REFERENCE_LABELS = {
    "template": "Reference: template network (no hidden layer)",
    "default": "Reference: default model",
    "adversarial": "Reference: adversarially trained",
}
ACTIVE = ("queued", "rating")
_MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x6E6E76697A  # "nnviz": one advisory lock key for every process's upgrade
# Bidirectional overrides and isolates would flip the text around a name on the board.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ClassError(ValueError):
    """What went wrong, in one sentence a student or teacher can act on."""


class NotAllowed(ClassError):
    """A wrong or forged teacher key or student token."""


class UnknownClass(ClassError):
    """No class has that code."""


@dataclass(frozen=True)
class ClassInfo:
    code: str
    eps: float
    submit_limit: int
    submit_open: bool
    break_open: bool
    revealed: bool
    ended: bool
    challenge_seed: int
    n_students: int
    created_at: float  # epoch seconds, UTC

    @property
    def phase(self) -> str:
        if self.ended:
            return "ended"
        if self.break_open:
            return "break"
        return "submit" if self.submit_open else "waiting"


@dataclass(frozen=True)
class NewClass:
    code: str
    teacher_key: str  # shown once; the database keeps only its hash


@dataclass(frozen=True)
class Joined:
    code: str
    name: str
    token: str  # the student's bearer token; the database keeps only its hash


@dataclass(frozen=True)
class Student:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class SubmissionRow:
    id: int
    label: str
    sizes: str  # "784-100-10"
    n_params: int
    status: str  # queued | rating | rated | failed
    queue_position: int | None  # 0 = being rated, k = k submissions ahead, None = not waiting
    clean_acc: float | None
    robust_acc: float | None
    error: str | None
    created_at: float
    removed: bool
    reference: str | None


@dataclass(frozen=True)
class Entry:
    rank: int
    name: str
    clean_acc: float
    robust_acc: float
    submissions: int  # the student's rated + waiting, non-removed submissions
    submission_id: int  # the one that counts
    reference: str | None
    sizes: str


@dataclass(frozen=True)
class Claim:
    submission_id: int
    model_bytes: bytes
    eps: float
    sha256: str


@dataclass(frozen=True)
class Target:
    submission_id: int
    name: str
    sizes: str
    clean_acc: float
    robust_acc: float


@dataclass(frozen=True)
class AttackResult:
    fooled: int
    n_digits: int
    target_name: str


@dataclass(frozen=True)
class Matrix:
    attackers: list[str]
    networks: list[str]
    fooled: np.ndarray  # (A, N) int: each attacker's best number of fooled digits per network
    n_digits: int
    attacked: np.ndarray | None = None  # (A, N) bool: the attacker submitted against that network


def default_url() -> str:
    """$NNVIZ_DATABASE_URL, else a SQLite file in the user's data directory."""
    url = os.environ.get("NNVIZ_DATABASE_URL")
    if url:
        return url
    folder = Path(platformdirs.user_data_dir("nnviz"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'class.db'}"


def make_engine(url: str) -> sa.Engine:
    """An engine for a SQLite file (WAL, busy timeout, foreign keys, BEGIN IMMEDIATE for writes)
    or PostgreSQL through psycopg 3 ('postgresql://' and 'postgres://' mean psycopg here)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain):]
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
        raise ValueError("the class store needs a SQLite file that every session shares, not :memory:")
    engine = sa.create_engine(parsed, connect_args={"timeout": 30}, pool_size=10, max_overflow=30)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # pysqlite begins nothing itself: _begin does
        cur = dbapi_connection.cursor()
        for pragma in ("busy_timeout = 30000", "synchronous = NORMAL", "foreign_keys = ON"):
            cur.execute(f"PRAGMA {pragma}")
        _use_wal(cur)
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        # A deferred transaction that reads and then writes cannot wait for the lock (SQLite
        # returns SQLITE_BUSY at once), so writers take it up front and queue on busy_timeout.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("nnviz_read") else "BEGIN IMMEDIATE")

    return engine


def _use_wal(cur) -> None:
    """Switch the file to WAL (it stays so). Several processes opening a fresh file at once can
    find it busy, and that switch does not wait on busy_timeout: so retry for a few seconds."""
    import sqlite3
    import time

    for attempt in range(100):
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.05)


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """`alembic upgrade <revision>` in one transaction; concurrent starts queue on a lock
    (pg_advisory_xact_lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and the later ones find
    nothing left to do."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def clean_text(text: object, max_chars: int, what: str) -> str:
    """`text` stripped, 1..max_chars characters with no control characters; else ClassError.
    HTML and Markdown are kept as they are: the UI shows names as plain text."""
    if not isinstance(text, str):
        raise ClassError(f"The {what} must be text.")
    if len(text) > 4 * max_chars:  # refuse a huge string by its length before looking at it
        raise ClassError(f"The {what} is too long: at most {max_chars} characters.")
    text = text.strip()
    if not text:
        raise ClassError(f"The {what} is empty: type at least one character.")
    if len(text) > max_chars:
        raise ClassError(f"The {what} is too long: at most {max_chars} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI_CONTROLS for ch in text):
        raise ClassError(f"The {what} contains control characters: use letters, digits and punctuation.")
    return text


def name_key(name: str) -> str:
    """What makes two names the same: 'Ana', ' ANA ' and 'ana' are one name."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def _check_eps(eps: object) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not np.isfinite(eps) \
            or not EPS_RANGE[0] <= eps <= EPS_RANGE[1]:
        raise ClassError(f"eps must be a number between {EPS_RANGE[0]} and {EPS_RANGE[1]}.")
    return float(eps)


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or not LIMIT_RANGE[0] <= limit <= LIMIT_RANGE[1]:
        raise ClassError(f"The submission limit must be a whole number from {LIMIT_RANGE[0]} to {LIMIT_RANGE[1]}.")
    return int(limit)


def _info(row, n_students: int) -> ClassInfo:
    return ClassInfo(row.code, row.eps, row.submit_limit, row.submit_open, row.break_open, row.revealed,
                     row.ended, row.challenge_seed, n_students, row.created_at)


def _shown_code(code: object) -> str:
    text = codes.normalise_code(code) or (str(code)[:12] if isinstance(code, str) else "")
    return text[:12]


def _npy_bytes(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, x, allow_pickle=False)
    return buf.getvalue()


def _defuse(cell: str) -> str:
    """A CSV cell a spreadsheet will not run: '=cmd()' becomes \"'=cmd()\"."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


_SUB_COLUMNS = [submissions.c[n] for n in ("id", "label", "sizes", "n_params", "status", "clean_acc", "robust_acc",
                                          "error", "created_at", "removed", "reference")]


class ClassStore:
    """All reads and writes of classes, students, submissions and attacks (see the module doc)."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        try:
            migrate(self.engine)
        except Exception:
            self.engine.dispose()
            raise

    def dispose(self) -> None:
        self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _read(self):
        """A read-only transaction (a plain BEGIN on SQLite, so it never waits for writers)."""
        with self.engine.connect() as conn:
            conn.execution_options(nnviz_read=True)
            with conn.begin():
                yield conn

    def _write(self):
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
        return self.engine.begin()

    # -- lookups inside a transaction -----------------------------------------------------------

    def _class(self, conn, code, lock: bool = False):
        norm = codes.normalise_code(code)
        query = sa.select(classes).where(classes.c.code == norm)
        row = conn.execute(query.with_for_update() if lock else query).first() if norm else None
        if row is None:
            raise UnknownClass(f"No class with the code {_shown_code(code)!r}: check the code and try again.")
        return row

    def _teacher_class(self, conn, code, key, lock: bool = False):
        row = self._class(conn, code, lock)
        if not codes.matches(key, row.teacher_key_hash):
            raise NotAllowed("That is not the teacher key of this class.")
        return row

    def _student(self, conn, token, lock: bool = False):
        """(student row, class row) of a token; NotAllowed for one this store never gave out."""
        if not codes.is_secret_like(token):
            raise NotAllowed("That student token is not valid: join the class again.")
        query = sa.select(students).where(students.c.token_hash == codes.digest(token))
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None or not codes.matches(token, row.token_hash):
            raise NotAllowed("That student token is not valid: join the class again.")
        klass = conn.execute(sa.select(classes).where(classes.c.id == row.class_id)).one()
        return row, klass

    def _n_students(self, conn, class_id: int) -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(students)
                            .where(students.c.class_id == class_id)).scalar_one()

    def _queue(self, conn) -> list[int]:
        """Ids of every waiting (queued or being rated) submission, in the order they are claimed."""
        return list(conn.execute(sa.select(submissions.c.id).where(
            submissions.c.status.in_(ACTIVE), submissions.c.removed.is_(False)).order_by(submissions.c.id)).scalars())

    def _rows(self, conn, where) -> list[SubmissionRow]:
        rows = conn.execute(sa.select(*_SUB_COLUMNS).where(where)
                            .order_by(submissions.c.created_at.desc(), submissions.c.id.desc())).all()
        queue = self._queue(conn) if any(r.status == "queued" and not r.removed for r in rows) else []
        position = {sid: k for k, sid in enumerate(queue)}

        def pos(r):
            if r.removed or r.status not in ACTIVE:
                return None
            return 0 if r.status == "rating" else position.get(r.id)
        return [SubmissionRow(r.id, r.label, r.sizes, r.n_params, r.status, pos(r), r.clean_acc, r.robust_acc,
                              r.error, r.created_at, r.removed, r.reference) for r in rows]

    # -- classes ------------------------------------------------------------------------------

    def create_class(self, eps: float = 0.1, submit_limit: int = 5) -> NewClass:
        """A new class, waiting (no round open); the teacher key is returned once and kept hashed."""
        eps, submit_limit = _check_eps(eps), _check_limit(submit_limit)
        key = codes.new_teacher_key()
        for _ in range(20):  # a clash of two random codes is unlikely; retry with a new code
            code = codes.new_code()
            try:
                with self._write() as conn:
                    conn.execute(classes.insert().values(
                        code=code, teacher_key_hash=codes.digest(key), eps=eps, submit_limit=submit_limit,
                        submit_open=False, break_open=False, revealed=False, ended=False,
                        challenge_seed=secrets.randbelow(2**31), created_at=time.time()))
                return NewClass(code, key)
            except sa.exc.IntegrityError:
                continue
        raise ClassError("Could not find a free class code: try again.")

    def class_info(self, code: str) -> ClassInfo:
        with self._read() as conn:
            row = self._class(conn, code)
            return _info(row, self._n_students(conn, row.id))

    def teacher(self, code: str, key: str) -> ClassInfo:
        """The class, if `key` is its teacher key; else NotAllowed."""
        with self._read() as conn:
            row = self._teacher_class(conn, code, key)
            return _info(row, self._n_students(conn, row.id))

    def update_class(self, code: str, key: str, *, eps=None, submit_limit=None, submit_open=None,
                     break_open=None, revealed=None, ended=None) -> ClassInfo:
        """Change the rules or the phase (teacher only). A new eps re-queues every rated or
        running rating of the class, since robust accuracy depends on eps. An ended class is final."""
        changes = {}
        if eps is not None:
            changes["eps"] = _check_eps(eps)
        if submit_limit is not None:
            changes["submit_limit"] = _check_limit(submit_limit)
        for name, value in (("submit_open", submit_open), ("break_open", break_open),
                            ("revealed", revealed), ("ended", ended)):
            if value is not None:
                if not isinstance(value, (bool, np.bool_)):
                    raise ClassError(f"{name} must be True or False.")
                changes[name] = bool(value)
        with self._write() as conn:
            row = self._teacher_class(conn, code, key, lock=True)
            if row.ended:
                raise ClassError("This class has ended: nothing in it can change.")
            if changes:
                conn.execute(classes.update().where(classes.c.id == row.id).values(**changes))
            if "eps" in changes and changes["eps"] != row.eps:
                conn.execute(submissions.update().where(
                    submissions.c.class_id == row.id, submissions.c.status.in_(("rated", "rating"))).values(
                    status="queued", claimed_by=None, claimed_at=None, rated_at=None, clean_acc=None,
                    robust_acc=None, seconds=None, error=None))
            row = conn.execute(sa.select(classes).where(classes.c.id == row.id)).one()
            return _info(row, self._n_students(conn, row.id))

    # -- students -----------------------------------------------------------------------------

    def join(self, code: str, name: str, client: str = "") -> Joined:
        """Join a class under a name unique in it (case-insensitively). A client with 10 unknown
        codes in the last minute is refused every join for a while, right codes included."""
        name = clean_text(name, MAX_NAME_CHARS, "name")
        if name_key(name).startswith("reference"):
            raise ClassError("Names starting with 'Reference' are kept for the teacher's networks: pick another.")
        client = str(client)[:200]
        now = time.time()
        with self._read() as conn:
            recent = conn.execute(sa.select(sa.func.count()).select_from(join_failures).where(
                join_failures.c.client == client, join_failures.c.at > now - JOIN_WINDOW_S)).scalar_one()
        if recent >= JOIN_FAILURES_ALLOWED:
            raise ClassError("Too many wrong codes: wait a minute.")
        token = codes.new_student_token()
        try:
            with self._write() as conn:
                row = self._class(conn, code)
                if row.ended:
                    raise ClassError("This class has ended: it takes no new students.")
                taken = conn.execute(sa.select(students.c.id).where(
                    students.c.class_id == row.id, students.c.name_key == name_key(name))).first()
                if taken:
                    raise ClassError(f"The name {name!r} is taken in this class: pick another one.")
                conn.execute(students.insert().values(class_id=row.id, name=name, name_key=name_key(name),
                                                      token_hash=codes.digest(token), created_at=now))
                return Joined(row.code, name, token)
        except sa.exc.IntegrityError:  # the same name, joined a moment ago in another session
            raise ClassError(f"The name {name!r} is taken in this class: pick another one.") from None
        except UnknownClass:
            with self._write() as conn:
                conn.execute(join_failures.delete().where(join_failures.c.at < now - JOIN_WINDOW_S))
                conn.execute(join_failures.insert().values(client=client, at=now))
            raise

    def student(self, token: str) -> Student:
        with self._read() as conn:
            row, klass = self._student(conn, token)
            return Student(row.id, klass.code, row.name)

    # -- round 1: submissions -----------------------------------------------------------------

    def _load_model(self, data: object):
        """The digit model in `data` (outside any transaction: it runs the network)."""
        from nnviz.engine.model_files import ModelFileError
        from nnviz.lab.digit_model import load_digit_model
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ClassError("The model must be the bytes of an .npz file.")
        if len(data) > MAX_MODEL_BYTES:
            raise ClassError(f"The file is {len(data):,} bytes; the limit is {MAX_MODEL_BYTES:,} bytes.")
        try:
            return load_digit_model(bytes(data))
        except ModelFileError as e:
            raise ClassError(str(e)) from None

    def submit_model(self, token: str, data: bytes, label: str | None = None) -> int:
        """Queue a student's network for rating; returns the submission id."""
        from nnviz.engine.model_files import model_to_bytes
        with self._read() as conn:
            me, klass = self._student(conn, token)
        self._check_round1(klass)
        label = me.name if label is None else clean_text(label, MAX_LABEL_CHARS, "label")
        model = self._load_model(data)
        if model.n_params > MAX_CLASS_PARAMS:
            raise ClassError(f"The network has {model.n_params:,} parameters; the class limit is "
                             f"{MAX_CLASS_PARAMS:,}.")
        canonical = model_to_bytes(model)
        with self._write() as conn:
            me, klass = self._student(conn, token, lock=True)  # the lock serialises a student's submits
            self._check_round1(klass)
            used = conn.execute(sa.select(sa.func.count()).select_from(submissions).where(
                submissions.c.student_id == me.id, submissions.c.round == 1)).scalar_one()
            if used >= klass.submit_limit:
                raise ClassError(f"You have used all {klass.submit_limit} submissions of this round.")
            return self._insert_submission(conn, klass.id, me.id, None, label, model, canonical)

    @staticmethod
    def _check_round1(klass) -> None:
        if klass.ended:
            raise ClassError("This class has ended: no more submissions.")
        if not klass.submit_open:
            raise ClassError("Round 1 is not open: wait for your teacher to open it.")

    @staticmethod
    def _insert_submission(conn, class_id, student_id, reference, label, model, canonical) -> int:
        return conn.execute(submissions.insert().values(
            class_id=class_id, student_id=student_id, reference=reference, label=label, model=canonical,
            sha256=hashlib.sha256(canonical).hexdigest(), n_params=model.n_params,
            sizes="-".join(str(s) for s in model.sizes), round=1, status="queued", removed=False, attempts=0,
            created_at=time.time()).returning(submissions.c.id)).scalar_one()

    def add_reference(self, code: str, key: str, kind: str, data: bytes) -> int:
        """A teacher's reference network on the board; a new one of the same kind replaces the old."""
        from nnviz.engine.model_files import model_to_bytes
        if kind not in REFERENCE_KINDS:
            raise ClassError(f"A reference is one of {', '.join(REFERENCE_KINDS)}.")
        with self._read() as conn:
            if self._teacher_class(conn, code, key).ended:
                raise ClassError("This class has ended: nothing in it can change.")
        model = self._load_model(data)
        canonical = model_to_bytes(model)
        with self._write() as conn:
            klass = self._teacher_class(conn, code, key, lock=True)
            if klass.ended:
                raise ClassError("This class has ended: nothing in it can change.")
            conn.execute(submissions.update().where(
                submissions.c.class_id == klass.id, submissions.c.reference == kind).values(removed=True))
            return self._insert_submission(conn, klass.id, None, kind, REFERENCE_LABELS[kind], model, canonical)

    def remove_submission(self, code: str, key: str, submission_id: int) -> None:
        """Take a submission off the board (teacher only); it still counts towards the limit."""
        with self._write() as conn:
            klass = self._teacher_class(conn, code, key)
            if klass.ended:
                raise ClassError("This class has ended: nothing in it can change.")
            done = conn.execute(submissions.update().where(
                submissions.c.id == int(submission_id), submissions.c.class_id == klass.id).values(removed=True))
            if done.rowcount != 1:
                raise ClassError(f"There is no submission {int(submission_id)} in this class.")

    def my_submissions(self, token: str) -> list[SubmissionRow]:
        """The student's submissions, newest first."""
        with self._read() as conn:
            me, _ = self._student(conn, token)
            return self._rows(conn, submissions.c.student_id == me.id)

    def submission(self, submission_id: int) -> SubmissionRow:
        with self._read() as conn:
            rows = self._rows(conn, submissions.c.id == int(submission_id))
        if not rows:
            raise ClassError(f"There is no submission {int(submission_id)}.")
        return rows[0]

    # -- the rating queue ---------------------------------------------------------------------

    def claim_next(self, worker: str, stale_after: float = 300) -> Claim | None:
        """Take the oldest waiting submission (queued, or claimed more than stale_after seconds ago
        by a worker that has not finished); None when there is none.

        The update is a compare-and-set on (status, attempts), so of several workers that saw the
        same row exactly one gets it. Looking happens inside the write transaction: SQLite's
        BEGIN IMMEDIATE queues the claimers, and on PostgreSQL FOR UPDATE SKIP LOCKED lets each
        one pass over a row another is taking, so a lost race is rare on both."""
        s = submissions.c
        while True:
            now = time.time()
            with self._write() as conn:
                seen = conn.execute(sa.select(s.id, s.status, s.attempts).where(s.removed.is_(False), sa.or_(
                    s.status == "queued", sa.and_(s.status == "rating", s.claimed_at <= now - stale_after)))
                    .order_by(s.id).limit(1).with_for_update(skip_locked=True)).first()
                if seen is None:
                    return None
                same = (s.id == seen.id, s.status == seen.status, s.attempts == seen.attempts)
                if seen.status == "rating" and seen.attempts >= MAX_ATTEMPTS:
                    conn.execute(submissions.update().where(*same).values(
                        status="failed", rated_at=now,
                        error=f"rating was abandoned {seen.attempts} times (the model may crash the worker)"))
                    continue
                won = conn.execute(submissions.update().where(*same).values(
                    status="rating", claimed_by=str(worker)[:200], claimed_at=now, attempts=s.attempts + 1))
                if won.rowcount != 1:
                    continue  # another worker was first: look again
                row = conn.execute(sa.select(s.model, s.sha256, classes.c.eps)
                                   .join_from(submissions, classes).where(s.id == seen.id)).one()
                return Claim(seen.id, row.model, row.eps, row.sha256)

    def finish(self, submission_id: int, worker: str, *, clean_acc=None, robust_acc=None, seconds=None,
               error=None) -> bool:
        """Record a rating (or, with error, a failure) if `worker` still holds the claim; returns
        whether it was recorded (False after the claim went stale and was taken over, or eps changed)."""
        values = dict(rated_at=time.time(), seconds=None if seconds is None else float(seconds))
        if error is not None:
            values.update(status="failed", error=str(error)[:1000])
        else:
            accs = [clean_acc, robust_acc]
            if any(a is None or not np.isfinite(a) or not 0 <= a <= 1 for a in accs):
                raise ValueError(f"accuracies must be numbers in [0, 1]; got {accs}")
            values.update(status="rated", clean_acc=float(clean_acc), robust_acc=float(robust_acc), error=None)
        with self._write() as conn:
            done = conn.execute(submissions.update().where(
                submissions.c.id == int(submission_id), submissions.c.status == "rating",
                submissions.c.claimed_by == str(worker)[:200]).values(**values))
            return done.rowcount == 1

    def pending_count(self, code: str | None = None) -> int:
        """Submissions waiting or being rated (of one class, or of all)."""
        with self._read() as conn:
            where = [submissions.c.status.in_(ACTIVE), submissions.c.removed.is_(False)]
            if code is not None:
                where.append(submissions.c.class_id == self._class(conn, code).id)
            return conn.execute(sa.select(sa.func.count()).select_from(submissions).where(*where)).scalar_one()

    # -- the board ----------------------------------------------------------------------------

    def _board(self, conn, class_id: int) -> list[Entry]:
        s = submissions.c
        rows = conn.execute(sa.select(s.id, s.student_id, s.reference, s.label, s.sizes, s.status, s.clean_acc,
                                      s.robust_acc, students.c.name)
                            .join_from(submissions, students, s.student_id == students.c.id, isouter=True)
                            .where(s.class_id == class_id, s.removed.is_(False),
                                   s.status.in_(("rated",) + ACTIVE)).order_by(s.id)).all()
        best, counts = {}, {}
        for r in rows:
            owner = ("student", r.student_id) if r.student_id is not None else ("reference", r.id)
            counts[owner] = counts.get(owner, 0) + 1
            if r.status == "rated":
                old = best.get(owner)
                if old is None or (r.robust_acc, r.clean_acc) > (old.robust_acc, old.clean_acc):
                    best[owner] = r
        entries = sorted(((r.name if r.student_id is not None else r.label), r, counts[o]) for o, r in best.items())
        entries.sort(key=lambda e: (-e[1].robust_acc, -e[1].clean_acc))  # stable: names stay in order
        board, rank = [], 0
        for k, (name, r, n) in enumerate(entries):
            if k == 0 or (r.robust_acc, r.clean_acc) != (entries[k - 1][1].robust_acc, entries[k - 1][1].clean_acc):
                rank = k + 1  # equal scores share a rank: 1, 1, 3
            board.append(Entry(rank, name, r.clean_acc, r.robust_acc, n, r.id, r.reference, r.sizes))
        return board

    def leaderboard(self, code: str) -> list[Entry]:
        """One entry per student (their best rated submission) and per rated reference, best first."""
        with self._read() as conn:
            return self._board(conn, self._class(conn, code).id)

    def targets(self, code: str) -> list[Target]:
        """The networks on the board, students' and references', as break-round targets."""
        return [Target(e.submission_id, e.name, e.sizes, e.clean_acc, e.robust_acc) for e in self.leaderboard(code)]

    # -- round 2: the break round -------------------------------------------------------------

    def _target(self, conn, klass, submission_id: int):
        """(board entry, owner student id) of a network on the class's board; else ClassError."""
        row = conn.execute(sa.select(submissions.c.class_id, submissions.c.student_id)
                           .where(submissions.c.id == int(submission_id))).first()
        if row is None or row.class_id != klass.id:
            raise NotAllowed("That network is not in your class.")
        entry = next((e for e in self._board(conn, klass.id) if e.submission_id == int(submission_id)), None)
        if entry is None:
            raise ClassError("That network is not on the board (it was replaced, removed or not rated).")
        return entry, row.student_id

    @staticmethod
    def _check_round2(klass) -> None:
        if klass.ended:
            raise ClassError("This class has ended: the break round is over.")
        if not klass.break_open:
            raise ClassError("The break round is not open: wait for your teacher to open it.")

    def target_model(self, token: str, submission_id: int) -> bytes:
        """A network's .npz bytes, once the teacher has opened the break round and revealed them."""
        with self._read() as conn:
            _, klass = self._student(conn, token)
            self._check_round2(klass)
            if not klass.revealed:
                raise ClassError("The networks are not revealed yet: wait for your teacher.")
            self._target(conn, klass, submission_id)
            return conn.execute(sa.select(submissions.c.model)
                                .where(submissions.c.id == int(submission_id))).scalar_one()

    def challenge(self, code: str) -> tuple[np.ndarray, np.ndarray]:
        """The class's challenge digits: x (20, 784) float32, y (20,) int64."""
        from nnviz.classroom.evaluate import challenge_digits
        return challenge_digits(self.class_info(code).challenge_seed)

    def submit_attack(self, token: str, target_submission_id: int, x_adv: np.ndarray) -> AttackResult:
        """Score a student's adversarial versions of the challenge digits against one network."""
        from nnviz.classroom.evaluate import ChallengeError, challenge_digits, count_fooled, validate_adversarial
        from nnviz.lab.digit_model import load_digit_model
        with self._read() as conn:
            me, klass = self._student(conn, token)
            self._check_round2(klass)
            entry, owner = self._target(conn, klass, target_submission_id)
            if owner == me.id:
                raise ClassError("That is your own network: attack someone else's.")
            model_bytes = conn.execute(sa.select(submissions.c.model)
                                       .where(submissions.c.id == entry.submission_id)).scalar_one()
        x, y = challenge_digits(klass.challenge_seed)
        try:
            x_adv = validate_adversarial(x_adv, x, klass.eps)
        except ChallengeError as e:
            raise ClassError(str(e)) from None
        fooled = int(count_fooled(load_digit_model(model_bytes), x_adv, x, y))
        with self._write() as conn:
            me, klass = self._student(conn, token, lock=True)  # serialises a student's attacks
            self._check_round2(klass)
            used = conn.execute(sa.select(sa.func.count()).select_from(attacks)
                                .where(attacks.c.attacker_id == me.id)).scalar_one()
            if used >= klass.submit_limit:
                raise ClassError(f"You have used all {klass.submit_limit} attacks of this round.")
            conn.execute(attacks.insert().values(
                class_id=klass.id, attacker_id=me.id, target_id=entry.submission_id, images=_npy_bytes(x_adv),
                fooled=fooled, n_digits=len(y), created_at=time.time()))
        return AttackResult(fooled, len(y), entry.name)

    @staticmethod
    def load_attack_upload(data: bytes) -> np.ndarray:
        """A user's .npy upload as a numeric 2-D array; ClassError for anything else. The header is
        checked before any data is read (an .npz, a pickle or a header that promises gigabytes
        is refused); shape and pixel ranges are validate_adversarial's."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ClassError("The upload must be the bytes of an .npy file.")
        if len(data) > MAX_ATTACK_BYTES:
            raise ClassError(f"The file is {len(data):,} bytes; the limit is {MAX_ATTACK_BYTES:,} bytes.")
        fmt = np.lib.format
        f = io.BytesIO(bytes(data))
        try:
            version = fmt.read_magic(f)
            read_header = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}[version]
            shape, _, dtype = read_header(f, max_header_size=10_000)
        except Exception:  # noqa: BLE001 - any parse error means: not an .npy array
            raise ClassError("The file is not a NumPy .npy array (save one with np.save).") from None
        if dtype.hasobject or dtype.kind not in "iuf" or len(shape) != 2:
            raise ClassError(f"The file holds a {dtype} array of shape {shape}; it must be a 2-D array of numbers.")
        if math.prod(shape) * dtype.itemsize != len(data) - f.tell():
            raise ClassError("The file is damaged: its size does not match the array it declares.")
        try:
            return np.load(io.BytesIO(bytes(data)), allow_pickle=False)
        except Exception:  # noqa: BLE001
            raise ClassError("The file is not a NumPy .npy array (save one with np.save).") from None

    def _best_fooled(self, conn, class_id: int) -> dict[tuple[int, int], tuple[int, int]]:
        """(attacker id, target id) -> (best fooled, n_digits) of the class's attacks."""
        rows = conn.execute(sa.select(attacks.c.attacker_id, attacks.c.target_id,
                                      sa.func.max(attacks.c.fooled).label("fooled"),
                                      sa.func.max(attacks.c.n_digits).label("n_digits"))
                            .where(attacks.c.class_id == class_id)
                            .group_by(attacks.c.attacker_id, attacks.c.target_id)).all()
        return {(r.attacker_id, r.target_id): (r.fooled, r.n_digits) for r in rows}

    def _matrix(self, conn, klass) -> tuple[Matrix, dict[int, int], dict[int, int]]:
        """The matrix, and per student id the digits they fooled, per network id the digits it
        survived: over every attacker but its owner, n_digits minus their best (0 if none)."""
        best = self._best_fooled(conn, klass.id)
        board = {e.submission_id: e.name for e in self._board(conn, klass.id)}
        attacked = {t for _, t in best} - set(board)
        s = submissions.c
        if attacked:  # attacked, then replaced or removed: still in the matrix
            for r in conn.execute(sa.select(s.id, s.label, students.c.name).where(s.id.in_(attacked))
                                  .join_from(submissions, students, s.student_id == students.c.id, isouter=True)):
                board[r.id] = f"{r.name or r.label} (off the board)"
        owners = dict(conn.execute(sa.select(s.id, s.student_id).where(s.id.in_(list(board)))).all()) if board else {}
        names = dict(conn.execute(sa.select(students.c.id, students.c.name)
                                  .where(students.c.id.in_({a for a, _ in best}))).all()) if best else {}
        a_ids, n_ids = list(names), list(board)
        fooled = np.zeros((len(a_ids), len(n_ids)), dtype=np.int64)  # (A, N)
        tried = np.zeros(fooled.shape, dtype=bool)
        for (a, t), (f, _) in best.items():
            fooled[a_ids.index(a), n_ids.index(t)] = f
            tried[a_ids.index(a), n_ids.index(t)] = True
        n_digits = max((n for _, n in best.values()), default=0)
        not_own = np.array([[owners.get(t) != a for t in n_ids] for a in a_ids], dtype=bool).reshape(fooled.shape)
        survived = ((n_digits - fooled) * not_own).sum(axis=0)  # (N,)
        a_order = sorted(range(len(a_ids)), key=lambda i: (-fooled[i].sum(), names[a_ids[i]]))
        n_order = sorted(range(len(n_ids)), key=lambda j: (-survived[j], board[n_ids[j]]))
        matrix = Matrix([names[a_ids[i]] for i in a_order], [board[n_ids[j]] for j in n_order],
                        fooled[np.ix_(a_order, n_order)], n_digits, tried[np.ix_(a_order, n_order)])
        return (matrix, {a: int(fooled[i].sum()) for i, a in enumerate(a_ids)},
                {t: int(survived[j]) for j, t in enumerate(n_ids)})

    def attack_matrix(self, code: str) -> Matrix:
        """Best fooled digits per (attacker, network); attackers by total fooled, networks by
        total digits survived (both descending)."""
        with self._read() as conn:
            return self._matrix(conn, self._class(conn, code))[0]

    def results_csv(self, code: str, key: str) -> str:
        """The board as CSV for the teacher; text cells defused against spreadsheet formulas."""
        with self._read() as conn:
            klass = self._teacher_class(conn, code, key)
            board = self._board(conn, klass.id)
            _, fooled_by, survived = self._matrix(conn, klass)
            owners = dict(conn.execute(sa.select(submissions.c.id, submissions.c.student_id).where(
                submissions.c.id.in_([e.submission_id for e in board]))).all()) if board else {}
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["rank", "name", "clean_acc", "robust_acc", "submissions", "reference", "fooled_by_them",
                    "digits_survived"])
        for e in board:
            w.writerow([e.rank, _defuse(e.name), f"{e.clean_acc:.4f}", f"{e.robust_acc:.4f}", e.submissions,
                        e.reference or "", fooled_by.get(owners.get(e.submission_id), 0),
                        survived.get(e.submission_id, 0)])
        return out.getvalue()
