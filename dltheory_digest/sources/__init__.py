"""Source kinds, registered by the `kind` name used in sources.yaml.

Each module below defines one `KIND: SourceKind`; this registry is the only place
that lists them.
"""

from __future__ import annotations

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

__all__ = ["REGISTRY", "NoOptions", "PlanContext", "SourceKind"]
