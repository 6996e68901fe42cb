"""Crossref's records of journal DOIs are kept, so a rebuilt week does not depend on Crossref
answering again and no run asks about a DOI it already has the record of.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doi_records",
        sa.Column("doi", sa.String(256), primary_key=True),
        sa.Column("record_doi", sa.String(256), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("journal_ref", sa.Text, nullable=True),
        sa.Column("preprints", sa.JSON, nullable=False),
        sa.Column("arxiv_id", sa.String(64), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("doi_records")
