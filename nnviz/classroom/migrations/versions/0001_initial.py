"""Round 1: classes, their students and the submitted networks (which are also the rating queue).

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("teacher_key_hash", sa.String(64), nullable=False),
        sa.Column("eps", sa.Double, nullable=False),
        sa.Column("submit_limit", sa.Integer, nullable=False),
        sa.Column("submit_open", sa.Boolean, nullable=False),
        sa.Column("break_open", sa.Boolean, nullable=False),
        sa.Column("revealed", sa.Boolean, nullable=False),
        sa.Column("ended", sa.Boolean, nullable=False),
        sa.Column("challenge_seed", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.UniqueConstraint("class_id", "name_key", name="uq_students_class_name"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False, index=True),
        sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id"), nullable=True, index=True),
        sa.Column("reference", sa.String(16), nullable=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("model", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_params", sa.Integer, nullable=False),
        sa.Column("sizes", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.Text, nullable=True),
        sa.Column("claimed_at", sa.Double, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("rated_at", sa.Double, nullable=True),
        sa.Column("clean_acc", sa.Double, nullable=True),
        sa.Column("robust_acc", sa.Double, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("seconds", sa.Double, nullable=True),
    )
    op.create_index("ix_submissions_status", "submissions", ["status", "id"])


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("students")
    op.drop_table("classes")
