"""Source kinds, registered by the `kind` name used in sources.yaml.

Each module below defines one `KIND: SourceKind`; this registry is the only place
that lists them.
"""

from __future__ import annotations

from collections.abc import Iterable

from dltheory_digest.sources import (
    arxiv_api,
    arxiv_mirror,
    arxiv_oai,
    arxiv_rss,
    arxivdaily,
    feed,
    notes_page,
    papers_cool,
    shamra,
    zhihu,
)
from dltheory_digest.sources.base import NoOptions, PlanContext, SourceKind

REGISTRY: dict[str, SourceKind] = {
    module.KIND.name: module.KIND
    for module in (
        arxiv_rss,
        arxiv_api,
        arxiv_oai,
        feed,
        zhihu,
        papers_cool,
        arxivdaily,
        shamra,
        arxiv_mirror,
        notes_page,
    )
}


def arxiv_source_ids(sources: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The ids of arXiv's own sources (listings, API, OAI: `SourceKind.arxiv`) among
    (source id, kind name) pairs; an unknown kind is not arXiv."""
    return frozenset(source_id for source_id, kind in sources if (k := REGISTRY.get(kind)) and k.arxiv)


__all__ = ["REGISTRY", "NoOptions", "PlanContext", "SourceKind", "arxiv_source_ids"]
