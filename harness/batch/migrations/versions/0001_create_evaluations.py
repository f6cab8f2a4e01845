"""Create the evaluations table: one row per evaluation attempt of a submission.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("queued", "building", "running", "done", "error", "interrupted")


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("deposit_digest", sa.String(length=128), nullable=True),
        sa.Column("options_digest", sa.String(length=128), nullable=False),
        sa.Column("harness_version", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("badges_requested", sa.JSON(), nullable=False),
        sa.Column("badges_awarded", sa.JSON(), nullable=True),
        sa.Column("report_dir", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wall_s", sa.Float(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.CheckConstraint("state IN ('" + "', '".join(STATES) + "')",
                           name=op.f("ck_evaluations_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    op.create_index(op.f("ix_evaluations_submission"), "evaluations", ["submission"])


def downgrade() -> None:
    op.drop_index(op.f("ix_evaluations_submission"), table_name="evaluations")
    op.drop_table("evaluations")
