"""Translation cache, sent-ledger, delivery ledger and run locks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "translations",
        sa.Column("text_hash", sa.String(64), primary_key=True),
        sa.Column("from_code", sa.String(8), primary_key=True),
        sa.Column("to_code", sa.String(8), primary_key=True),
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("model_version", sa.String(32), primary_key=True),
        sa.Column("source_text", sa.Text, nullable=False),
        sa.Column("translated", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "sent_ledger",
        sa.Column("paper_key", sa.String(512), primary_key=True),
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("source_ids", sa.JSON, nullable=False),
        sa.Column("langs", sa.JSON, nullable=False),
        sa.Column("section", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_sent_ledger_week", "sent_ledger", ["week"])
    op.create_table(
        "deliveries",
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("reader", sa.String(320), primary_key=True),
        sa.Column("message_id", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("edition", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(256), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("run_locks", "deliveries", "sent_ledger", "translations"):
        op.drop_table(table)
