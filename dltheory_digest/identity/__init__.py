"""Paper identity: one entry per paper across sources, languages, versions and weeks.

- `match_clusters(records)`: which records name the same paper (identifiers, then content).
- `cluster_items(items, papers)`: this week's items grouped into `PaperCluster`s.
- `split_by_novelty(clusters, history, week)`: new papers vs. updated / newly discussed ones,
  each with the `models.UpdateReason` it is back for (`update_reason`).
  The pipeline loads `history` with `store.ledger.load_history(store, keys)` for the keys of
  `history_keys(cluster)`, and once the digest is sent records `ledger_entries(cluster, week)`
  (the paper under its key, DOI and title) for every paper it presented with `store.ledger.record_week`.
"""

from __future__ import annotations

from dltheory_digest.identity.clusters import cluster_items
from dltheory_digest.identity.matching import (
    DEFAULT_CONFIG,
    MatchConfig,
    Record,
    canonical_ids,
    match_clusters,
)
from dltheory_digest.identity.normalize import normalize_title
from dltheory_digest.identity.novelty import (
    LedgerEntry,
    history_keys,
    is_community_sighting,
    ledger_entries,
    ledger_entry,
    split_by_novelty,
    update_reason,
)

__all__ = [
    "DEFAULT_CONFIG",
    "LedgerEntry",
    "MatchConfig",
    "Record",
    "canonical_ids",
    "cluster_items",
    "history_keys",
    "is_community_sighting",
    "ledger_entries",
    "ledger_entry",
    "match_clusters",
    "normalize_title",
    "split_by_novelty",
    "update_reason",
]
