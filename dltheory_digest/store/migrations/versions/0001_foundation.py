"""Foundation: fetches, items, papers, item_papers, digests, week_items, week_reports, cursors.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fetches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("elapsed_ms", sa.Float, nullable=False),
        sa.Column("cache_hit", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("fetched_at", TS, nullable=False),
    )
    op.create_index("ix_fetches_run_id", "fetches", ["run_id"])
    op.create_index("ix_fetches_source_id", "fetches", ["source_id"])
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("item_key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("lang", sa.String(16), nullable=True),
        sa.Column("arxiv_id", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("doi", sa.String(256), nullable=True),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("published", TS, nullable=True),
        sa.Column("updated", TS, nullable=True),
        sa.Column("announce_type", sa.String(16), nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.UniqueConstraint("source_id", "item_key", name="uq_items_source_key"),
    )
    op.create_index("ix_items_arxiv_id", "items", ["arxiv_id"])
    op.create_index("ix_items_doi", "items", ["doi"])
    op.create_table(
        "papers",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("arxiv_id", sa.String(64), nullable=True),
        sa.Column("doi", sa.String(256), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("published", TS, nullable=True),
        sa.Column("updated", TS, nullable=True),
        sa.Column("latest_version", sa.Integer, nullable=True),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("primary_category", sa.String(64), nullable=True),
        sa.Column("journal_ref", sa.Text, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
    )
    op.create_index("ix_papers_arxiv_id", "papers", ["arxiv_id"])
    op.create_index("ix_papers_doi", "papers", ["doi"])
    op.create_table(
        "item_papers",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "paper_key", sa.String(512), sa.ForeignKey("papers.key", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "digests",
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("edition", sa.String(64), primary_key=True),
        sa.Column("markdown", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("paper_keys", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "week_items",
        sa.Column("source_id", sa.String(128), primary_key=True),
        sa.Column("item_key", sa.String(512), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("week", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
    )
    op.create_index("ix_week_items_week", "week_items", ["week"])
    op.create_table(
        "week_reports",
        sa.Column("week", sa.String(16), primary_key=True),
        sa.Column("source_id", sa.String(128), primary_key=True),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "cursors",
        sa.Column("source_id", sa.String(128), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("last_success", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "cursors",
        "week_reports",
        "week_items",
        "digests",
        "item_papers",
        "papers",
        "items",
        "fetches",
    ):
        op.drop_table(table)
