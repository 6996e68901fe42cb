"""Mentions -> papers: tie every sighting to a canonical arXiv paper, or say why not.

In order of trust:

1. an arXiv id (any URL form, already extracted by the kinds) or an arXiv DOI
   (`10.48550/arXiv.<id>`): metadata from the API in `id_list` batches;
2. another DOI: matched against the DOIs of papers already known or just fetched
   (arXiv cannot be searched by DOI);
3. a title: an arXiv title search, accepted only when the normalized titles are at
   least `title_threshold` similar and, when the mention names authors, the first
   author's surname matches.

Nothing here does I/O: the caller injects `fetch(url) -> bytes`, in production
`lambda url: client.get(url, source_id="arxiv-resolver").content` on the shared
PoliteClient (its HTTPStatusError carries the page, so arXiv's HTTP 400 error feed is
still read and a rejected id is dropped from its batch). An unresolved mention is
reported with its reason and counted, never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from dltheory_digest.identity.normalize import TitleShape, title_shape
from dltheory_digest.ids import abs_url, arxiv_id_from_doi, parse_arxiv_id
from dltheory_digest.models import NOTE_ARXIV_LOOKUP, Item, ItemKind, Paper, ParseResult, Resolution
from dltheory_digest.sources.arxiv_api import API_BASE, id_list_url, parse_feed, query_url

Fetch = Callable[[str], bytes]

RESOLVER_SOURCE = "arxiv-resolver"
TITLE_SEARCH_RESULTS = 5
MIN_TITLE_WORDS = 3
# "incorrect id format for 1234.5678x": one bad id fails a whole id_list call
_BAD_ID = re.compile(r"incorrect id format for (\S+)")
_WORD = re.compile(r"[^\W_]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_LUCENE_OPERATORS = frozenset({"AND", "OR", "ANDNOT", "NOT"})
# link text that cites rather than names a paper: "Lee et al. 2016", "Nesterov and Polyak 2006"
_CITATION = re.compile(r"\bet al\b|\b(?:19|20)\d\d\b|[’']\d\d\b")
_STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "via",
        "into",
        "onto",
        "are",
        "its",
        "their",
        "our",
        "how",
        "what",
        "when",
        "why",
    ]
)


@dataclass(frozen=True, slots=True)
class ResolveResult:
    """Papers by arXiv id (latest version known) and one resolution per item that needed one."""

    papers: dict[str, Paper] = field(default_factory=dict)
    resolutions: tuple[Resolution, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def unresolved(self) -> int:
        return sum(1 for r in self.resolutions if r.method == "unresolved")

    def unresolved_by_source(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resolution in self.resolutions:
            if resolution.method == "unresolved":
                counts[resolution.source_id] = counts.get(resolution.source_id, 0) + 1
        return counts


def paper_from_item(item: Item) -> Paper:
    """An arXiv listing or API item -> the canonical paper record."""
    if item.arxiv_id:
        key = f"arxiv:{item.arxiv_id}"
    elif item.doi:
        key = f"doi:{item.doi}"
    else:
        key = f"title:{normalize_title(item.title)}"
    return Paper(
        key=key,
        title=item.title,
        arxiv_id=item.arxiv_id,
        version=item.version,
        authors=item.authors,
        abstract=item.text,
        published=item.published,
        updated=item.updated,
        categories=item.categories,
        primary_category=item.primary_category,
        doi=item.doi,
        journal_ref=item.journal_ref,
        comment=item.comment,
        url=abs_url(item.arxiv_id) if item.arxiv_id else item.url,
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def normalize_title(title: str) -> str:
    """Case, accents, punctuation and TeX markup do not make two titles different."""
    return " ".join(_WORD.findall(_fold(title.replace("$", " ").replace("\\", " "))))


def _surname(name: str) -> str:
    name = name.strip()
    if "," in name:  # "Jacot, Arthur"
        return normalize_title(name.split(",", 1)[0]).split(" ")[-1]
    words = normalize_title(name).split()
    return words[-1] if words else ""


def first_author_matches(mention_authors: Sequence[str], paper_authors: Sequence[str]) -> bool:
    """The mention's first author and the paper's share a surname (either name order)."""
    if not mention_authors:
        return True
    if not paper_authors:
        return False
    mention_first, paper_first = mention_authors[0], paper_authors[0]
    mention_words = set(normalize_title(mention_first.replace(",", " ")).split())
    paper_words = set(normalize_title(paper_first.replace(",", " ")).split())
    return _surname(paper_first) in mention_words or _surname(mention_first) in paper_words


def title_similarity(a: str, b: str) -> float:
    return fuzz.ratio(normalize_title(a), normalize_title(b)) / 100.0


def _query_words(title: str) -> list[str]:
    # Lucene operators inside a title would become query syntax
    return [w.lower() if w in _LUCENE_OPERATORS else w for w in _WORD.findall(title)]


def title_search_url(title: str, *, base: str = API_BASE, max_results: int = TITLE_SEARCH_RESULTS) -> str:
    """`ti:"..."` phrase search on the title's words (punctuation would be query syntax)."""
    return query_url(search_query=f'ti:"{" ".join(_query_words(title))}"', max_results=max_results, base=base)


def title_words_search_url(
    title: str, *, base: str = API_BASE, max_results: int = TITLE_SEARCH_RESULTS
) -> str:
    """Any of the title's words, best matches first: finds titles a phrase misses
    ("Kernels" for "Kernel", "Generalisation" for "Generalization")."""
    words = list(dict.fromkeys(w for w in _query_words(title) if len(w) > 2 and w.lower() not in _STOP_WORDS))
    terms = " OR ".join(f"ti:{w}" for w in words[:12])
    return query_url(search_query=terms, max_results=max_results, sort_by="relevance", base=base)


def _targets(items: Sequence[Item]) -> Iterator[Item]:
    """Items whose paper must be found: papers and mentions, and the papers a post cites."""
    for item in items:
        if item.kind in (ItemKind.PAPER, ItemKind.MENTION):
            yield item
        yield from (cited for cited in item.cited if cited.kind in (ItemKind.PAPER, ItemKind.MENTION))


def _listing_complete(item: Item) -> bool:
    return bool(item.kind is ItemKind.PAPER and item.arxiv_id and item.title and item.authors and item.text)


def _search_title(item: Item) -> str | None:
    """The title to search arXiv with: the raw one if it is Latin-script, else its English version.

    Markup a page showed as text ("<script>alert(1)</script>") and a reader's remark are
    never searched for.
    """
    for candidate in (item.title, item.title_en):
        if not candidate or len(_LATIN_WORD.findall(candidate)) < MIN_TITLE_WORDS:
            continue
        if title_shape(candidate) < TitleShape.WEAK:
            continue
        if len(candidate.split()) <= 6 and _CITATION.search(candidate):
            continue
        return candidate
    return None


class _Resolver:
    def __init__(
        self,
        fetch: Fetch,
        *,
        batch_size: int,
        title_threshold: float,
        known: Mapping[str, Paper],
        api_base: str,
    ) -> None:
        self.fetch = fetch
        self.batch_size = max(1, min(batch_size, 2000))
        self.title_threshold = title_threshold
        self.known = known
        self.api_base = api_base
        self.fetched: dict[str, Paper] = {}
        self.missing: set[str] = set()  # ids arXiv answered it does not have
        self.failed: dict[str, str] = {}  # ids whose lookup failed, with why
        self.warnings: list[str] = []
        self.title_cache: dict[str, tuple[Paper | None, float | None, str]] = {}
        self._by_title: dict[str, list[Paper]] | None = None
        self._by_doi: dict[str, Paper] | None = None

    def _held(self) -> Iterator[Paper]:
        yield from self.fetched.values()
        yield from self.known.values()

    def papers_with_title(self, normalized: str) -> list[Paper]:
        # built once, after the id lookups: a store can hold many thousands of papers
        if self._by_title is None:
            self._by_title = {}
            for paper in self._held():
                self._by_title.setdefault(normalize_title(paper.title), []).append(paper)
        return self._by_title.get(normalized, [])

    def paper_with_doi(self, doi: str) -> Paper | None:
        if self._by_doi is None:
            self._by_doi = {}
            for paper in self._held():
                if paper.doi and paper.arxiv_id:
                    self._by_doi.setdefault(paper.doi, paper)
        return self._by_doi.get(doi)

    # -- I/O through the injected fetch ---------------------------------------------------

    def _call(self, url: str) -> tuple[ParseResult | None, str | None]:
        try:
            content = self.fetch(url)
        except Exception as exc:  # the injected fetch may raise anything; report, never crash
            page = getattr(exc, "page", None)
            body = getattr(page, "content", b"") if page is not None else b""
            if not body:
                return None, f"{type(exc).__name__}: {exc}"
            content = body  # arXiv sends its error feed with HTTP 400: read the message
        try:
            result = parse_feed(content, RESOLVER_SOURCE)
        except Exception as exc:
            return None, f"unreadable arXiv API response: {exc}"
        return result, result.error

    def lookup_ids(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self.batch_size):
            self._lookup_batch(list(ids[start : start + self.batch_size]))

    def _lookup_batch(self, batch: list[str]) -> None:
        while batch:
            result, error = self._call(id_list_url(batch, base=self.api_base))
            if error is not None or result is None:
                bad = _BAD_ID.search(error or "")
                if bad and bad.group(1) in batch:
                    self.missing.add(bad.group(1))
                    self.warnings.append(f"{NOTE_ARXIV_LOOKUP} rejected id {bad.group(1)!r}: {error}")
                    batch = [i for i in batch if i != bad.group(1)]
                    continue
                reason = error or "no response"
                self.warnings.append(f"{NOTE_ARXIV_LOOKUP} id_list of {len(batch)} id(s) failed: {reason}")
                self.failed.update(dict.fromkeys(batch, reason))
                return
            for entry in result.items:
                if entry.arxiv_id is None:
                    continue
                current = self.fetched.get(entry.arxiv_id)
                if current is None or (entry.version or 0) >= (current.version or 0):
                    self.fetched[entry.arxiv_id] = paper_from_item(entry)
            self.missing.update(i for i in batch if i not in self.fetched)
            return

    def search_title(self, title: str, authors: Sequence[str]) -> tuple[Paper | None, float | None, str]:
        cache_key = normalize_title(title) + "|" + (authors[0] if authors else "")
        if cache_key in self.title_cache:
            return self.title_cache[cache_key]
        outcome = self._search_title(title, authors)
        self.title_cache[cache_key] = outcome
        return outcome

    def _search_title(self, title: str, authors: Sequence[str]) -> tuple[Paper | None, float | None, str]:
        # a paper we already hold with the same title costs no request
        for paper in self.papers_with_title(normalize_title(title)):
            if paper.arxiv_id and first_author_matches(authors, paper.authors):
                return paper, 1.0, f"same title as known paper {paper.arxiv_id}"
        outcome: tuple[Paper | None, float | None, str] = (None, None, "title search found nothing")
        # the exact phrase first; when it finds no acceptable paper, any of the title's words
        for url in (
            title_search_url(title, base=self.api_base),
            title_words_search_url(title, base=self.api_base),
        ):
            result, error = self._call(url)
            if result is None or error is not None:
                self.warnings.append(f"{NOTE_ARXIV_LOOKUP} title search failed for {title[:80]!r}: {error}")
                return None, None, f"title search failed: {error}"
            judged = self._judge(title, authors, result.items)
            if judged[0] is not None:
                return judged
            if judged[1] is not None and (outcome[1] is None or judged[1] > outcome[1]):
                outcome = judged
        return outcome

    def _judge(
        self, title: str, authors: Sequence[str], candidates: Sequence[Item]
    ) -> tuple[Paper | None, float | None, str]:
        best: tuple[float, Item] | None = None
        for candidate in candidates:
            score = title_similarity(title, candidate.title)
            if best is None or score > best[0]:
                best = (score, candidate)
        if best is None:
            return None, None, "title search found nothing"
        score, candidate = best
        label = f"{candidate.arxiv_id} {candidate.title[:80]!r}"
        if score < self.title_threshold:
            return None, score, f"best title match {label} scored {score:.2f} < {self.title_threshold:.2f}"
        if not first_author_matches(authors, candidate.authors):
            return None, score, f"title matches {label} but first author {authors[0]!r} does not"
        return paper_from_item(candidate), score, f"title search: {label} scored {score:.2f}"

    # -- one item -------------------------------------------------------------------------

    def paper_for_id(self, arxiv_id: str) -> Paper | None:
        return self.fetched.get(arxiv_id) or self.known.get(arxiv_id)

    def resolve_item(self, item: Item, papers: dict[str, Paper]) -> Resolution:
        def done(arxiv_id: str | None, method: str, score: float | None, detail: str) -> Resolution:
            return Resolution(item.key, item.source_id, arxiv_id, method, score, detail)

        arxiv_id, method = item.arxiv_id, "arxiv_id"
        if arxiv_id is None and item.doi:
            arxiv_id, method = arxiv_id_from_doi(item.doi), "doi"
        if arxiv_id and parse_arxiv_id(arxiv_id) is None:
            return done(None, "unresolved", None, f"{arxiv_id!r} is not a valid arXiv id")
        if arxiv_id:
            paper = self.paper_for_id(arxiv_id)
            if paper is not None:
                papers[arxiv_id] = paper
                source = "arXiv API" if arxiv_id in self.fetched else "known papers"
                return done(arxiv_id, method, 1.0, f"{arxiv_id} from {source}")
            if _listing_complete(item):
                # an arXiv listing item carries its own metadata: keep it rather than lose the paper
                papers.setdefault(arxiv_id, paper_from_item(item))
                why = self.failed.get(arxiv_id, "not returned by the arXiv API")
                return done(arxiv_id, method, 1.0, f"{arxiv_id}: listing metadata kept ({why})")
            if arxiv_id in self.failed:
                return done(
                    arxiv_id, method, None, f"{arxiv_id}: metadata not fetched ({self.failed[arxiv_id]})"
                )
            return done(None, "unresolved", None, f"arXiv has no paper {arxiv_id}")

        held = self.paper_with_doi(item.doi) if item.doi else None
        if held is not None and held.arxiv_id:
            papers[held.arxiv_id] = held
            return done(held.arxiv_id, "doi", 1.0, f"journal DOI {item.doi} of {held.arxiv_id}")

        title = _search_title(item)
        if title is None:
            if item.doi:
                return done(None, "unresolved", None, f"DOI {item.doi}: arXiv cannot be searched by DOI")
            shown = (item.title_en or item.title)[:60]
            return done(None, "unresolved", None, f"no title to search by ({shown!r} is not a paper title)")
        paper, score, detail = self.search_title(title, item.authors)
        if paper is None or paper.arxiv_id is None:
            return done(None, "unresolved", score, detail)
        papers[paper.arxiv_id] = paper
        return done(paper.arxiv_id, "title_search", score, detail)


def resolve(
    items: Sequence[Item],
    fetch: Fetch,
    *,
    batch_size: int = 100,
    title_threshold: float = 0.9,
    known: Mapping[str, Paper] | None = None,
    api_base: str = API_BASE,
    trust_listings: bool = False,
) -> ResolveResult:
    """Resolve every paper, mention and cited paper in `items` to an arXiv paper.

    `known` maps arXiv ids to papers already held (the store): they are not fetched again
    unless an item names a newer version. With `trust_listings`, arXiv listing items that
    carry title, authors and abstract become papers without an API call.
    """
    known = known or {}
    resolver = _Resolver(
        fetch, batch_size=batch_size, title_threshold=title_threshold, known=known, api_base=api_base
    )
    targets = list(_targets(items))
    papers: dict[str, Paper] = {}

    wanted: dict[str, None] = {}
    for item in targets:
        arxiv_id = item.arxiv_id or (arxiv_id_from_doi(item.doi) if item.doi else None)
        if arxiv_id is None or parse_arxiv_id(arxiv_id) is None:
            continue
        if trust_listings and _listing_complete(item):
            listed = paper_from_item(item)
            current = resolver.fetched.get(arxiv_id)
            if current is None or (listed.version or 0) > (current.version or 0):
                resolver.fetched[arxiv_id] = listed
            continue
        held = known.get(arxiv_id)
        if held is not None and (item.version is None or (held.version or 0) >= item.version):
            continue
        wanted[arxiv_id] = None
    # ids resolved from listings need no call
    resolver.lookup_ids([i for i in wanted if i not in resolver.fetched])

    resolutions = tuple(resolver.resolve_item(item, papers) for item in targets)
    return ResolveResult(papers=papers, resolutions=resolutions, warnings=tuple(resolver.warnings))
