"""The class challenge's tables (SQLAlchemy 2 declarative). Alembic's migrations/ build them;
tests/classroom/test_store.py checks that the migrated database and these classes agree.

Times are float seconds since the epoch (UTC), the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

from sqlalchemy import Double, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

REFERENCE_KINDS = ("template", "default", "adversarial")
STATUSES = ("queued", "rating", "rated", "failed")


class Base(DeclarativeBase):
    pass


class ClassRecord(Base):
    """One class: its join code, the hash of the teacher's key, the rules and the phase flags."""
    __tablename__ = "classes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    teacher_key_hash: Mapped[str] = mapped_column(String(64))
    eps: Mapped[float] = mapped_column(Double)
    submit_limit: Mapped[int]
    submit_open: Mapped[bool]
    break_open: Mapped[bool]
    revealed: Mapped[bool]
    ended: Mapped[bool]
    challenge_seed: Mapped[int]
    created_at: Mapped[float] = mapped_column(Double)


class StudentRecord(Base):
    """A student of a class; name_key (casefolded, stripped) makes names unique case-insensitively."""
    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("class_id", "name_key", name="uq_students_class_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Double)


class SubmissionRecord(Base):
    """A network in round 1 (a student's, or a teacher's reference) and, once rated, its figures.

    The table is also the rating queue: status queued -> rating (claimed_by, claimed_at, attempts
    bumped by each claim, which makes the claim a compare-and-set) -> rated | failed.
    """
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_status", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(Text)
    model: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    n_params: Mapped[int]
    sizes: Mapped[str] = mapped_column(Text)
    round: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))
    removed: Mapped[bool]
    attempts: Mapped[int]
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    rated_at: Mapped[float | None] = mapped_column(Double)
    clean_acc: Mapped[float | None] = mapped_column(Double)
    robust_acc: Mapped[float | None] = mapped_column(Double)
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float | None] = mapped_column(Double)


class AttackRecord(Base):
    """A break-round attack: the validated (20, 784) float32 images as .npy bytes, and the score."""
    __tablename__ = "attacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    attacker_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    images: Mapped[bytes] = mapped_column(LargeBinary)
    fooled: Mapped[int]
    n_digits: Mapped[int]
    created_at: Mapped[float] = mapped_column(Double)


class JoinFailureRecord(Base):
    """A join with an unknown code, kept a minute for the rate limit."""
    __tablename__ = "join_failures"
    __table_args__ = (Index("ix_join_failures_client_at", "client", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Double)


classes = ClassRecord.__table__
students = StudentRecord.__table__
submissions = SubmissionRecord.__table__
attacks = AttackRecord.__table__
join_failures = JoinFailureRecord.__table__
