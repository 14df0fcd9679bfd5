"""The break round's attacks, and the failed joins behind the wrong-code rate limit.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attacks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False, index=True),
        sa.Column("attacker_id", sa.Integer, sa.ForeignKey("students.id"), nullable=False, index=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("images", sa.LargeBinary, nullable=False),
        sa.Column("fooled", sa.Integer, nullable=False),
        sa.Column("n_digits", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "join_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
    )
    op.create_index("ix_join_failures_client_at", "join_failures", ["client", "at"])


def downgrade() -> None:
    op.drop_table("join_failures")
    op.drop_table("attacks")
