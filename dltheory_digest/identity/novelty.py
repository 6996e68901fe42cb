"""Across weeks: a paper is new once; afterwards only a new version or new coverage brings it back."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from dltheory_digest.identity.matching import Record, match_clusters
from dltheory_digest.identity.normalize import (
    FUNCTION_WORDS,
    core_title,
    is_latin,
    normalize_title,
    title_variants,
)
from dltheory_digest.ids import abs_url, is_withdrawn, parse_arxiv_id
from dltheory_digest.models import (
    Item,
    ItemKind,
    JournalVersion,
    Paper,
    PaperCluster,
    Place,
    Sighting,
    UpdateReason,
    VersionChange,
    fit_key,
)

# Hosts whose paper pages are arXiv's own listing or a plain mirror of it: seeing a paper there
# again is not "new coverage".
ARXIV_HOSTS = ("arxiv.org", "export.arxiv.org", "rss.arxiv.org", "browse.arxiv.org")


@dataclass(frozen=True)
class LedgerEntry:
    """What a digest of `week` showed of a paper: the version, the title and where it had been seen."""

    paper_key: str
    week: str  # ISO week "2026-W47"; zero-padded, so string order is time order
    version: int | None
    source_ids: tuple[str, ...]
    langs: tuple[str, ...]
    title: str | None = None  # the (English) title shown; None in ledger rows older than titles


def is_community_sighting(sighting: Sighting) -> bool:
    """Coverage by people rather than arXiv's listing: posts, reading lists, aggregators, non-English pages."""
    if sighting.kind in (ItemKind.POST, ItemKind.MENTION):
        return True
    if sighting.lang not in (None, "en"):
        return True
    host = (urlsplit(sighting.url).hostname or "") if sighting.url else ""
    return bool(host) and not any(host == h or host.endswith("." + h) for h in ARXIV_HOSTS)


def latest_version(cluster: PaperCluster) -> int | None:
    versions = [v for v in (*cluster.versions, cluster.paper.version) if v]
    return max(versions) if versions else None


def ledger_entry(cluster: PaperCluster, week: str) -> LedgerEntry:
    """The ledger row recording that `week`'s digest presented `cluster`."""
    return LedgerEntry(
        paper_key=cluster.paper.key,
        week=week,
        version=latest_version(cluster),
        source_ids=tuple(sorted({s.source_id for s in cluster.sightings})),
        langs=tuple(sorted({s.lang for s in cluster.sightings if s.lang})),
        title=cluster.paper.title,  # what the digest prints as the paper's English title
    )


# Prefix of the ledger rows that record a sent paper under its DOI and title as well
# (`ledger_entries`); only a cluster without an arXiv id looks them up.
ALIAS = "alias:"


def history_keys(cluster: PaperCluster) -> tuple[str, ...]:
    """Ledger keys under which this paper may have been sent: its key, its DOI key, its title key,
    and for a paper without an arXiv id also the aliases of papers sent before.

    A paper first sent through a mention ("title:<normalized title>", "doi:<doi>") keeps being
    recognized once arXiv metadata gives it an "arxiv:<id>" key. A mention that nothing resolved
    to an arXiv id may be an arXiv paper sent before, which its aliases recognize; an arXiv paper
    never goes by them, so another paper that happens to share a sent paper's title is still new.
    """
    keys = [cluster.paper.key]
    doi_key = f"doi:{cluster.paper.doi}" if cluster.paper.doi else None
    title_key = f"title:{normalize_title(cluster.paper.title)}"
    keys += [k for k in (doi_key, title_key) if k]
    if not cluster.paper.arxiv_id:
        keys += [ALIAS + k for k in (doi_key, title_key) if k]
    elif doi_key:
        # a DOI names one paper (unlike a title): sent under it, the paper was sent, and
        # `update_reason` tells from it whether its journal version is news
        keys.append(ALIAS + doi_key)
    # a very long title would not fit the ledger's key column: the same fitting as `Item.key`
    return tuple(dict.fromkeys(fit_key(k) for k in keys))


# A title this short ("Deep learning") names too many papers to stand for one in the ledger.
_MIN_ALIAS_WORDS = 4


def ledger_entries(cluster: PaperCluster, week: str) -> list[LedgerEntry]:
    """`ledger_entry` plus the same row under the paper's aliases: its DOI and a specific title.

    A paper sent as an arXiv paper may come back as a journal DOI link or a title-only mention
    that nothing resolves to its arXiv id; `history_keys` of such a mention looks up these
    aliases, so the paper is not new twice.
    """
    entry = ledger_entry(cluster, week)
    title = normalize_title(cluster.paper.title)
    aliases = [f"doi:{cluster.paper.doi}"] if cluster.paper.doi else []
    if len(title.split()) >= _MIN_ALIAS_WORDS:
        aliases.append(f"title:{title}")
    return [entry] + [
        replace(entry, paper_key=fit_key(ALIAS + key))
        for key in dict.fromkeys(aliases)
        if key != entry.paper_key
    ]


def retitled_from(title: str, sent_title: str | None) -> str | None:
    """The title readers were sent when `title` is really another one, else None.

    Compared through `normalize_title`, so case, punctuation, spacing and TeX or Unicode
    math ("$\\ell_2$" / "ℓ2") make no retitle; a row with no title (written before the
    ledger kept titles) claims nothing.
    """
    if not sent_title:
        return None
    before = normalize_title(sent_title)
    if not before or before == normalize_title(title):
        return None
    return " ".join(sent_title.split())


def update_reason(
    cluster: PaperCluster,
    earlier: Sequence[LedgerEntry],
    *,
    community: Callable[[Sighting], bool] = is_community_sighting,
) -> UpdateReason | None:
    """Why an already-sent paper is back (a newer version, a journal version, new coverage),
    or None when nothing changed."""
    version_change: VersionChange | None = None
    version = latest_version(cluster)
    sent = [e for e in earlier if e.version is not None]
    if version is not None and sent:
        last = max(sent, key=lambda e: (e.version or 0, e.week))
        if last.version is not None and version > last.version:
            version_change = VersionChange(
                new=version,
                old=last.version,
                week=last.week,
                withdrawn=is_withdrawn(cluster.paper.comment, cluster.paper.abstract),
                # arXiv titles change only with a version: said with it, never a reason on its
                # own (a mention's wording of a title is no retitle)
                old_title=retitled_from(cluster.paper.title, last.title),
            )
    paper = cluster.paper
    journal: JournalVersion | None = None
    journal_doi = paper.doi if paper.doi and not paper.doi.startswith("10.48550/") else None
    if (
        paper.arxiv_id
        and journal_doi
        and not any(e.paper_key == f"{ALIAS}doi:{journal_doi}" for e in earlier)
    ):
        # arXiv gave a journal DOI it did not have when the paper was sent (ledger_entries
        # records the DOI of every paper shown, so this is said once)
        journal = JournalVersion(doi=journal_doi, venue=paper.journal_ref or None)
    known_sources = {s for e in earlier for s in e.source_ids}
    fresh: dict[str, Sighting] = {}
    for sighting in cluster.sightings:
        if sighting.source_id not in known_sources and community(sighting):
            fresh.setdefault(sighting.source_id, sighting)
    places = tuple(
        Place(s.source_name, s.lang or None)
        for s in sorted(fresh.values(), key=lambda s: (s.source_name, s.source_id))
    )
    if version_change is None and journal is None and not places:
        return None
    return UpdateReason(version_change=version_change, journal=journal, discussed_on=places)


def split_by_novelty(
    clusters: Sequence[PaperCluster],
    history: Mapping[str, Sequence[LedgerEntry]],
    week: str,
    *,
    community: Callable[[Sighting], bool] = is_community_sighting,
    sent_as: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[PaperCluster], list[tuple[PaperCluster, UpdateReason]]]:
    """(new papers, updated or newly discussed papers with the reason each is back).

    Only ledger entries of weeks before `week` count, so rerunning a week (whose own
    entries are already in the ledger) gives the same answer. A paper in an earlier digest
    is never new again; without a newer version or new community coverage it is dropped.
    `history` should hold the entries of every key in `history_keys(cluster)` and in
    `sent_as[cluster.paper.key]` (the sent papers `match_sent` found it to be).
    """
    new: list[PaperCluster] = []
    updated: list[tuple[PaperCluster, UpdateReason]] = []
    also = sent_as or {}
    for cluster in clusters:
        keys = dict.fromkeys((*history_keys(cluster), *also.get(cluster.paper.key, ())))
        earlier = [e for key in keys for e in history.get(key, ()) if e.week < week]
        if not earlier:
            new.append(cluster)
            continue
        reason = update_reason(cluster, earlier, community=community)
        if reason:
            updated.append((cluster, reason))
    return new, updated


# --- sent papers as candidates: a paper is recognised when it comes back under another title


@dataclass(frozen=True)
class SentPaper:
    """A paper an earlier digest presented, under its own ledger key (not an alias)."""

    key: str  # "arxiv:<id>", "doi:<doi>" or "title:<normalized>"
    week: str  # the last week that presented it
    title: str | None  # the title shown then; None in ledger rows older than titles
    paper: Paper | None = None  # the store's arXiv metadata, for an arXiv key when it has it

    @property
    def arxiv_id(self) -> str | None:
        parsed = parse_arxiv_id(self.key.removeprefix("arxiv:")) if self.key.startswith("arxiv:") else None
        return parsed[0] if parsed else None

    @property
    def shown_title(self) -> str:
        """The title to match on: the one sent, else the one a title key spells."""
        if self.title:
            return self.title
        return self.key.partition(":")[2].partition("|")[0]  # "title:<normalized>|<year>|<n>"


# A sent arXiv paper is worth matching a sighting without an arXiv id against only when their
# titles share words enough to be one title: the same words (a translation, a shortened or
# lengthened title, a citation's tail), most of them, or all of one of the two. Words are
# compared by their first letters ("generalisation" / "generalization").
_WORD = re.compile(r"[^\W_]+")
_STEM = 5
# a word in more than this share of the week's titles ("learning", "neural") is too common to
# find a paper by; a title made only of such words is too generic to be matched without authors
_COMMON_SHARE = 0.01


def title_stems(title: str) -> frozenset[str]:
    """A title's content words, cut to their first letters. Cheap on purpose: every title the
    digests sent in a year (a hundred thousand on a busy configuration) goes through it."""
    return frozenset(w[:_STEM] for w in _WORD.findall(title.casefold()) if w not in FUNCTION_WORDS)


def _title_forms(item: Item) -> set[frozenset[str]]:
    """The word sets of a sighting's English title forms: as written, translated, normalized,
    without its bracketed remarks."""
    texts = [item.title, item.title_en or "", *title_variants(item.title, item.title_en)]
    texts += [core_title(t) for t in (item.title, item.title_en) if t and is_latin(t)]
    return {stems for stems in map(title_stems, texts) if stems}


def _may_name(sent: frozenset[str], form: frozenset[str], common: Callable[[str], bool]) -> bool:
    shared = len(sent & form)
    if 2 * shared >= max(len(sent), len(form)) and shared:
        return True
    # one title is the other with words added (a series name, a subtitle, a remark), and the
    # shorter one says something (not "Neural networks")
    shorter = sent if len(sent) <= len(form) else form
    return shared == len(shorter) >= 2 and not all(map(common, shorter))


def sent_paper_filter(sightings: Sequence[Item]) -> Callable[[SentPaper], bool]:
    """Which sent papers `build_week` matches this week's sightings against.

    Every one without an arXiv id (`match_sent` compares them with the week's papers; they are
    the few title-only mentions and journal papers), and a sent arXiv paper only when its title
    shares words enough with a sighting that has no arXiv id (`_may_name`): the digests of a
    year hold a hundred thousand papers, and clustering them all every week cost a minute.
    What `cluster_items` could match is kept: the same title in other words shares most words,
    and a title inside another shares all of its own.
    """
    forms = sorted({f for item in sightings if not item.arxiv_id for f in _title_forms(item)}, key=sorted)
    if not forms:
        return lambda sent: not sent.key.startswith("arxiv:")
    # word rarity from the week's own titles: a word common this week is common in any week
    frequency = Counter(w for item in sightings for w in title_stems(item.title_en or item.title))
    limit = max(3, _COMMON_SHARE * len(sightings))

    def common(word: str) -> bool:
        return frequency[word] > limit

    # each form is found by its rarer half plus one word (a title sharing half its words shares
    # one of them) and by every word that is not common (a title inside it shares those)
    index: defaultdict[str, set[int]] = defaultdict(set)
    for n, form in enumerate(forms):
        rarest = sorted(form, key=lambda w: (frequency[w], w))[: len(form) // 2 + 1]
        for word in {*rarest, *(w for w in form if not common(w))}:
            index[word].add(n)

    indexed = index.keys()

    def wanted(sent: SentPaper) -> bool:
        if not sent.key.startswith("arxiv:"):
            return True
        title = sent.shown_title.casefold()
        # most titles share no indexed word: told before the function words are sorted out
        if indexed.isdisjoint({w[:_STEM] for w in _WORD.findall(title)}):
            return False
        words = title_stems(title)
        near = {n for w in words for n in index.get(w, ())}
        return any(_may_name(words, forms[n], common) for n in near)

    return wanted


def sent_candidates(sent: Sequence[SentPaper]) -> dict[str, Paper]:
    """The arXiv papers sent before, by arXiv id, as `cluster_items` candidates: a mention that
    names one under another title (a translation, a reading list's citation) joins it and is
    keyed by it. Without stored metadata the sent title stands in."""
    out: dict[str, Paper] = {}
    for entry in sent:
        arxiv_id = entry.arxiv_id
        if arxiv_id is None:
            continue
        out[arxiv_id] = entry.paper or Paper(
            key=f"arxiv:{arxiv_id}", title=entry.shown_title, arxiv_id=arxiv_id, url=abs_url(arxiv_id)
        )
    return out


def match_sent(clusters: Sequence[PaperCluster], sent: Sequence[SentPaper]) -> dict[str, tuple[str, ...]]:
    """Cluster key -> the keys of papers without an arXiv id, sent before, that it is.

    A mention sent as "title:..." or "doi:..." is recognised when the paper comes back as an
    arXiv paper or in other words (`history_keys` only knows the exact title). Matched by
    `match_clusters` on title, authors and year; the week's clusters are already one per paper
    and the sent papers one per key, so each side is a duplicate-free source: a cluster never
    joins another through a sent paper. Sent arXiv papers are left to `sent_candidates`.
    """
    others = [s for s in sent if s.arxiv_id is None]
    if not clusters or not others:
        return {}
    records = [
        Record(
            id=f"week:{n}",
            title=c.paper.title,
            authors=c.paper.authors,
            # a mention's date is its page's, not the paper's: only arXiv's says the year
            year=c.paper.published.year if c.paper.arxiv_id and c.paper.published else None,
            doi=c.paper.doi,
            arxiv_id=c.paper.arxiv_id,
            source="week",
        )
        for n, c in enumerate(clusters)
    ]
    records += [
        Record(
            id=f"sent:{s.key}",
            title=s.shown_title,
            doi=s.key.removeprefix("doi:").partition("|")[0] if s.key.startswith("doi:") else None,
            source="sent",
        )
        for s in others
    ]
    labels = match_clusters(records)
    sent_by_label: dict[int, list[str]] = {}
    for n, label in enumerate(labels[len(clusters) :]):
        sent_by_label.setdefault(label, []).append(others[n].key)
    found: dict[str, tuple[str, ...]] = {}
    for n, cluster in enumerate(clusters):
        keys = [k for k in sent_by_label.get(labels[n], ()) if k != cluster.paper.key]
        if keys:
            found[cluster.paper.key] = tuple(keys)
    return found
