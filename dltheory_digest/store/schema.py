"""The store's tables (SQLAlchemy Core). Migrations in `migrations/versions` create them.

Changing a table here means adding a migration: an existing store is upgraded at open,
never rebuilt. Portable types only, so the same schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

from dltheory_digest.ids import DOI_LENGTH

metadata = MetaData()

# What a packed text starts with: a JSON document or a Markdown digest never does, so a row
# written before texts were packed reads back as it is.
PACKED = "zlib+base64:"


def pack_text(text: str) -> str:
    """`text` deflated, in base64 so any text column (SQLite's, PostgreSQL's) holds it: a week's
    digest JSON of 10 MB takes under 3 MB."""
    return PACKED + base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def unpack_text(stored: str) -> str:
    """The text `pack_text` packed; a text an older release stored plain, as it is."""
    if not stored.startswith(PACKED):
        return stored
    return zlib.decompress(base64.b64decode(stored[len(PACKED) :])).decode("utf-8")


class PackedText(TypeDecorator[str]):
    """A large text that is written whole and read whole, never searched by SQL (a digest and
    its JSON): stored deflated (`pack_text`), read back as the text it was."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else pack_text(value)

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else unpack_text(value)


# Every HTTP request made, with what it cost and how it ended.
fetches = Table(
    "fetches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=True, index=True),
    Column("source_id", String(128), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("status", Integer, nullable=True),
    Column("bytes", Integer, nullable=False, default=0),
    Column("elapsed_ms", Float, nullable=False, default=0.0),
    Column("cache_hit", Boolean, nullable=False, default=False),
    Column("error", Text, nullable=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    # revision 0008: the page arrived but could not be used (`FetchRecord.unusable`)
    Column("unusable", Boolean, nullable=False, default=False, server_default=false()),
)

# Each sighting of a paper, post or link on one source (raw, in the source's language).
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(128), nullable=False),
    Column("item_key", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("url", Text, nullable=True),
    Column("lang", String(16), nullable=True),
    Column("arxiv_id", String(64), nullable=True, index=True),
    Column("version", Integer, nullable=True),
    Column("doi", String(DOI_LENGTH), nullable=True, index=True),
    Column("authors", JSON, nullable=False, default=list),
    Column("published", DateTime(timezone=True), nullable=True),
    Column("updated", DateTime(timezone=True), nullable=True),
    Column("announce_type", String(16), nullable=True),
    Column("data", JSON, nullable=False, default=dict),  # the whole Item, for rebuilding a week
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_id", "item_key", name="uq_items_source_key"),
)

# Canonical papers: one row per paper (key "arxiv:<id>", "doi:<doi>" or "title:<norm>").
papers = Table(
    "papers",
    metadata,
    Column("key", String(512), primary_key=True),
    # not a unique constraint: `key` already is "arxiv:<id>", and a second unique index would
    # make concurrent upserts on PostgreSQL fail (ON CONFLICT arbitrates only one index)
    Column("arxiv_id", String(64), nullable=True, index=True),
    Column("doi", String(DOI_LENGTH), nullable=True, index=True),
    Column("title", Text, nullable=False),
    Column("authors", JSON, nullable=False, default=list),
    Column("abstract", Text, nullable=False, default=""),
    Column("published", DateTime(timezone=True), nullable=True),
    Column("updated", DateTime(timezone=True), nullable=True),
    Column("latest_version", Integer, nullable=True),
    Column("categories", JSON, nullable=False, default=list),
    Column("primary_category", String(64), nullable=True),
    Column("journal_ref", Text, nullable=True),
    Column("comment", Text, nullable=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)

# Item -> paper, with how the link was made (arxiv_id, doi, title_search, content match).
item_papers = Table(
    "item_papers",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_key", String(512), ForeignKey("papers.key", ondelete="CASCADE"), primary_key=True),
    Column("method", String(32), nullable=False),
    Column("score", Float, nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Rendered digests, one per week (and edition).
digests = Table(
    "digests",
    metadata,
    Column("week", String(16), primary_key=True),
    Column("edition", String(64), primary_key=True, default="default"),
    Column("markdown", PackedText, nullable=False),  # rows written by older releases are plain text
    Column("path", Text, nullable=True),
    Column("paper_keys", JSON, nullable=False, default=list),
    Column("report", JSON, nullable=False, default=list),
    # the whole Digest as JSON: per-reader editions are built from it, and a week its readers
    # have is kept as it was sent; NULL once `store prune` dropped it (an old week)
    Column("data", PackedText, nullable=True),
    # False for a dry run's digest (nothing mailed or recorded); NULL in rows older than the column
    Column("published", Boolean, nullable=True),
    # when the week ended in the run's zone (NULL in rows without digest data older than the
    # column): a digest written after it is final, one written before is a mid-week refresh
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Which week each sighting (source, item, version) was first attributed to, with the item as
# seen then: a week's digest is rebuilt from these rows, so a rerun gives the same file and a
# paper seen in an earlier week is never attributed to a later one (a new version is).
week_items = Table(
    "week_items",
    metadata,
    Column("source_id", String(128), primary_key=True),
    Column("item_key", String(512), primary_key=True),
    Column("version", Integer, primary_key=True),  # 0 when the sighting has no version
    Column("week", String(16), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
)

# Per-source report of the latest run of each week (the digest footer).
week_reports = Table(
    "week_reports",
    metadata,
    Column("week", String(16), primary_key=True),
    Column("source_id", String(128), primary_key=True),
    Column("report", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Per-source incremental state: last seen item, date, ETag ...
cursors = Table(
    "cursors",
    metadata,
    Column("source_id", String(128), primary_key=True),
    Column("state", JSON, nullable=False, default=dict),
    Column("last_success", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- revision 0002: language, identity and delivery ---------------------------------

# Translation cache keyed by (text hash, from, to, model, model version).
translations = Table(
    "translations",
    metadata,
    Column("text_hash", String(64), primary_key=True),
    Column("from_code", String(8), primary_key=True),
    Column("to_code", String(8), primary_key=True),
    Column("model", String(128), primary_key=True),
    Column("model_version", String(32), primary_key=True),
    Column("source_text", Text, nullable=False),
    Column("translated", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Sent-ledger: what each paper looked like when a digest presented it.
sent_ledger = Table(
    "sent_ledger",
    metadata,
    Column("paper_key", String(512), primary_key=True),
    Column("week", String(16), primary_key=True),
    Column("version", Integer, nullable=True),
    Column("source_ids", JSON, nullable=False, default=list),
    Column("langs", JSON, nullable=False, default=list),
    Column("section", String(32), nullable=False, default="new"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # revision 0004: the (English) title the digest showed; NULL in rows written before it
    Column("title", Text, nullable=True),
    Index("ix_sent_ledger_week", "week"),
)

# Delivery ledger: each reader gets each week's digest once.
deliveries = Table(
    "deliveries",
    metadata,
    Column("week", String(16), primary_key=True),
    Column("reader", String(320), primary_key=True),
    Column("message_id", String(320), nullable=False),
    Column(
        "status", String(16), nullable=False
    ),  # sent | failed | unconfirmed | sending | resending (see store/deliveries.py)
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("edition", String(16), nullable=False, default="en"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # revision 0009: the process sending to the reader (store.locks.LockHolder encoding) while
    # the row is sending/resending; NULL otherwise and in rows written before it
    Column("holder", String(256), nullable=True),
)

# Run locks: one run per week at a time, across processes and machines.
run_locks = Table(
    "run_locks",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(256), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# --- revision 0003: limits shared by every worker ------------------------------------

# Reservation-based rate limit: the next moment a request to `key` (e.g. "arxiv") may start.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("next_at", Float, nullable=False),  # seconds since the epoch
)

# --- revision 0007: what Crossref said --------------------------------------------------

# Crossref's record of each journal DOI the pages cite (`resolve.DoiRecord`), kept for good:
# a rebuilt week reads the same with Crossref down, and no run asks about a DOI twice.
doi_records = Table(
    "doi_records",
    metadata,
    Column("doi", String(DOI_LENGTH), primary_key=True),  # as cited, normalized
    Column("record_doi", String(DOI_LENGTH), nullable=False),  # Crossref's own (an alias's primary DOI)
    Column("title", Text, nullable=False),
    Column("authors", JSON, nullable=False, default=list),
    Column("abstract", Text, nullable=False, default=""),
    Column("published", DateTime(timezone=True), nullable=True),
    Column("journal_ref", Text, nullable=True),
    Column("preprints", JSON, nullable=False, default=list),  # arXiv ids the record names
    Column("arxiv_id", String(64), nullable=True),  # the arXiv paper the DOI was found to be
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

# --- revision 0008: arXiv title searches that found nothing ---------------------------------

# A title (normalized) and first author arXiv's title search found no acceptable paper for, with
# that outcome: it is not searched again for a while (`resolve.TITLE_MISS_KEPT`).
title_misses = Table(
    "title_misses",
    metadata,
    Column("title", String(400), primary_key=True),  # models.TITLE_MISS_TITLE_LENGTH (`TitleMiss.key`)
    Column("author", String(128), primary_key=True),  # first author ("" for none), fitted alike
    Column("score", Float, nullable=True),  # the best candidate's title similarity, if any
    Column("detail", Text, nullable=False),  # why no candidate was accepted
    Column("searched_at", DateTime(timezone=True), nullable=False),
)
