"""Baseline: the predictions and feedback tables as ``Base.metadata.create_all`` made them before migrations.

A database made that way (no ``alembic_version`` table) is stamped at this revision by
:func:`medai.store.schema.upgrade` and then upgraded, so its rows stay where they are.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create ``predictions`` and ``feedback``."""
    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(120), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("model_name", sa.String(80), nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("label", sa.String(80), nullable=True),
        sa.Column("probabilities", sa.JSON(), nullable=True),
        sa.Column("uncertainty", sa.Float(), nullable=True),
    )
    op.create_index("ix_predictions_input_sha256", "predictions", ["input_sha256"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(120), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("corrected_label", sa.String(80), nullable=True),
        sa.Column("comment", sa.String(2000), nullable=True),
    )
    op.create_index("ix_feedback_prediction_id", "feedback", ["prediction_id"])


def downgrade() -> None:
    """Drop both tables (and every row in them)."""
    op.drop_index("ix_feedback_prediction_id", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_predictions_input_sha256", table_name="predictions")
    op.drop_table("predictions")
