"""Mentions -> papers: tie every sighting to a canonical arXiv paper, or say why not.

In order of trust:

1. an arXiv id (any URL form, already extracted by the kinds) or an arXiv DOI
   (`10.48550/arXiv.<id>`): metadata from the API in `id_list` batches;
2. another DOI: matched against the DOIs of papers already known or just fetched
   (arXiv cannot be searched by DOI);
3. a title: an arXiv title search, accepted only when the normalized titles are at
   least `title_threshold` similar and, when the mention names authors, the first
   author's surname matches; a mention naming none must also have the same content words
   (`differing_words`), and a paper first posted well after the page that mentions it
   (`POSTED_AFTER_MENTION`) is refused;
4. a DOI none of the above resolved (a journal paper a blog cites as "Nesterov and
   Polyak 2006"): its Crossref record, when a `crossref_api_base` is given. A record
   that names an arXiv preprint (`relation.has-preprint`), or whose title an arXiv
   title search finds, resolves to that arXiv paper; otherwise the record itself is
   the paper (`ResolveResult.doi_papers`), so the entry shows its real title. What Crossref
   said is kept (`DoiRecord`, in the store): a DOI with a record given as `known_dois` is not
   asked about again, so a rebuilt week reads the same with Crossref down.

A title search that found no acceptable paper is remembered (`TitleMiss`, in the store) and
not made again for `TITLE_MISS_KEPT`: a rebuild or refresh does not ask arXiv the question it
answered days ago, and the next week's run asks again, in case the preprint is out by then.

Nothing here does I/O: the caller injects `fetch(url) -> bytes`, in production
`lambda url: client.get(url, source_id="arxiv-resolver").content` on the shared
PoliteClient (its HTTPStatusError carries the page, so arXiv's HTTP 400 error feed is
still read and a rejected id is dropped from its batch). An unresolved mention is
reported with its reason and counted, never dropped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from bs4 import BeautifulSoup, Tag
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from dltheory_digest.identity.normalize import (
    FUNCTION_WORDS,
    TitleShape,
    normalize_title,
    surname,
    title_shape,
)
from dltheory_digest.ids import abs_url, arxiv_id_from_doi, normalize_doi, parse_arxiv_id
from dltheory_digest.mathtext import formulas_as_text
from dltheory_digest.models import (
    NOTE_ARXIV_LOOKUP,
    NOTE_CROSSREF_LOOKUP,
    DoiRecord,
    Item,
    ItemKind,
    Note,
    NoteKind,
    Paper,
    PaperCluster,
    ParseResult,
    Resolution,
    TitleMiss,
)
from dltheory_digest.sources.arxiv_api import API_BASE, id_list_url, parse_feed, query_url

Fetch = Callable[[str], bytes]

RESOLVER_SOURCE = "arxiv-resolver"
CROSSREF_API_BASE = "https://api.crossref.org/works"
# Crossref looks works up one DOI per request (no batches): a run asks about this many DOIs at
# most, so a page citing hundreds of journal papers cannot hold the run for long (each request
# waits its turn on the polite client); the rest stay unresolved, counted, with that reason
CROSSREF_LOOKUPS_PER_RUN = 50
# markup inside a word or phrase ("<i>in silico</i>", "O(n<sup>2</sup>)", MathML) is unwrapped
# without a space; any other tag (<jats:p>, <jats:title>) separates words
_INLINE_HTML = ("i", "b", "u", "em", "strong", "sub", "sup", "sc", "span", "a")
_INLINE_JATS = (
    "italic",
    "bold",
    "underline",
    "monospace",
    "sc",
    "sub",
    "sup",
    "ext-link",
    "uri",
    "inline-formula",
)
_INLINE_TAGS = frozenset([*_INLINE_HTML, *(f"jats:{name}" for name in (*_INLINE_JATS, "alternatives"))])
# JATS abstracts open with their own heading: "<jats:title>Abstract</jats:title><jats:p>..."
_ABSTRACT_HEADING = re.compile(r"^abstract\b[\s:.]*", re.IGNORECASE)
TITLE_SEARCH_RESULTS = 5
# How long a title search that found nothing is not made again. Six days, not seven: the next
# weekly run starts about seven days after the search (minus however far into its run the search
# came), so it searches again and finds a preprint posted since; reruns and refreshes in between
# (same question, same answer days later) are spared, and a rebuilt week reads the same.
TITLE_MISS_KEPT = dt.timedelta(days=6)
MIN_TITLE_WORDS = 3
# A paper first posted this long after the page that mentions it was written is not the paper
# the page meant (arXiv's date and a page's date may differ by a day or two of time zones and
# announcement delays)
POSTED_AFTER_MENTION = dt.timedelta(days=7)
# a word this long may carry one typo ("Trnasitions") and still be the same word
_TYPO_WORD_LENGTH = 5
# numbers written as words or Roman numerals are the same words as digits ("Theory of Deep
# Learning III" / "3")
_NUMERALS = {
    word: str(value)
    for value, words in enumerate(
        [("one", "i"), ("two", "ii"), ("three", "iii"), ("four", "iv"), ("five", "v"), ("six", "vi"),
         ("seven", "vii"), ("eight", "viii"), ("nine", "ix"), ("ten", "x")],
        start=1,
    )
    for word in words
}  # fmt: skip
# a name in front of a title: "KAN: Kolmogorov-Arnold Networks" (one token, then a colon)
_NAME_PREFIX = re.compile(r"^\s*([^\s:]+)\s*:\s*\S")
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
    notes: tuple[Note, ...] = ()  # arXiv or Crossref could not be asked (the digest's notes)
    # journal papers Crossref describes and arXiv does not have, by DOI (`with_doi_papers`)
    doi_papers: dict[str, Paper] = field(default_factory=dict)
    # Crossref records this run learned (new answers, or a stored one newly tied to an arXiv
    # paper), by DOI: the caller stores them (`store.records.save_doi_records`)
    doi_records: dict[str, DoiRecord] = field(default_factory=dict)
    # title searches this run made that found nothing: the caller stores them
    # (`store.records.save_title_misses`) and hands them back as `title_misses` for a while
    title_misses: tuple[TitleMiss, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """The notes' texts, as the operator reads them."""
        return tuple(note.text for note in self.notes)

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


def first_author_matches(mention_authors: Sequence[str], paper_authors: Sequence[str]) -> bool:
    """The mention's first author and the paper's share a surname (either name order)."""
    if not mention_authors:
        return True
    if not paper_authors:
        return False
    mention_first, paper_first = mention_authors[0], paper_authors[0]
    mention_words = set(normalize_title(mention_first.replace(",", " ")).split())
    paper_words = set(normalize_title(paper_first.replace(",", " ")).split())
    return surname(paper_first) in mention_words or surname(mention_first) in paper_words


def title_similarity(a: str, b: str) -> float:
    return fuzz.ratio(normalize_title(a), normalize_title(b)) / 100.0


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _same_word(a: str, b: str, *, typo: bool = True) -> bool:
    if a == b or _singular(a) == _singular(b):
        return True
    if _NUMERALS.get(a, a) == _NUMERALS.get(b, b):  # "two-layer" / "2-layer", "III" / "3"
        return True
    # a typo is a letter off; a digit off is another model or paper ("GPT-3" / "GPT-4",
    # "Qwen2" / "Qwen2.5"), and a word glued to its neighbour is not given one ("3 layer" is
    # not "layer" misspelt)
    if not typo or any(ch.isdigit() for ch in a + b):
        return False
    return min(len(a), len(b)) >= _TYPO_WORD_LENGTH and OSA.distance(a, b) <= 1


def _unmatched_words(words: Sequence[str], other: Sequence[str]) -> list[str]:
    """The content words of `words` with no counterpart in `other`: the same word, its
    singular or plural, a one-typo spelling of a long word, or two words written as one
    ("non convex" / "nonconvex")."""
    joined = [a + b for a, b in itertools.pairwise(other)]
    covered = [
        any(_same_word(w, c) for c in other) or any(_same_word(w, c, typo=False) for c in joined)
        for w in words
    ]
    for i, (a, b) in enumerate(itertools.pairwise(words)):
        if any(_same_word(a + b, c, typo=False) for c in other):
            covered[i] = covered[i + 1] = True
    return [w for w, ok in zip(words, covered, strict=True) if not ok and w not in FUNCTION_WORDS]


# words before a colon that make another paper of the title, not a name of it
_REPLY_PREFIXES = frozenset(
    ("comment", "comments", "erratum", "corrigendum", "correction", "reply", "response", "rebuttal",
     "addendum", "retraction", "review", "discussion", "rejoinder")
)  # fmt: skip


def _name_prefix(title: str, words: list[str]) -> list[str]:
    """The leading words of a title's normalized `words` that are its one-token name ("KAN: ...",
    "BERT: ..."), or []. "Comment:" or "Erratum:" is no name: it makes another paper."""
    found = _NAME_PREFIX.match(title)
    prefix = normalize_title(found.group(1)).split() if found else []
    if any(word in _REPLY_PREFIXES for word in prefix):
        return []
    return prefix if words[: len(prefix)] == prefix else []


def differing_words(a: str, b: str) -> list[str]:
    """Content words one title has and the other lacks; function words ("the", "of", "for")
    may differ. A short title one word off scores high on similarity alone ("The mathematics
    of deep learning" against "The Modern Mathematics of Deep Learning") and is another paper.
    A name one title leads with and the other omits ("KAN: Kolmogorov-Arnold Networks"
    against "Kolmogorov-Arnold networks") is no difference: blogs often cite without it.
    Formulas are compared as their text: a page's "Õ(√T) Regret" is arXiv's
    "$\\widetilde{O}(\\sqrt{T})$ Regret", whose macro names are no words."""
    a, b = formulas_as_text(a), formulas_as_text(b)
    words_a, words_b = normalize_title(a).split(), normalize_title(b).split()
    prefix_a, prefix_b = _name_prefix(a, words_a), _name_prefix(b, words_b)
    # only one side named: two different names ("KAN: X" / "KAT: X") are two papers
    if prefix_a and not prefix_b and _unmatched_words(prefix_a, words_b):
        words_a = words_a[len(prefix_a) :]
    elif prefix_b and not prefix_a and _unmatched_words(prefix_b, words_a):
        words_b = words_b[len(prefix_b) :]
    return _unmatched_words(words_a, words_b) + _unmatched_words(words_b, words_a)


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


def journal_doi(item: Item) -> str | None:
    """The DOI the Crossref step would look up for `item` (normalized): a DOI that is not an
    arXiv DOI, on an item with no arXiv id."""
    if not item.doi or item.arxiv_id or arxiv_id_from_doi(item.doi):
        return None
    # "10.1016/0893-6080(89)90020-8" however a page wrote it: one record per paper
    return normalize_doi(item.doi) or item.doi.lower()


def journal_dois(items: Sequence[Item]) -> set[str]:
    """Every DOI the Crossref step may look up for `items` (their cited papers included): the
    stored records to hand `resolve` as `known_dois`."""
    return {doi for item in _targets(items) if (doi := journal_doi(item))}


def crossref_work_url(doi: str, *, base: str = CROSSREF_API_BASE, mailto: str | None = None) -> str:
    """The Crossref REST API's record of one DOI; a `mailto` puts the request in Crossref's
    "polite" pool (the contact address a maintainer can be reached at)."""
    url = f"{base.rstrip('/')}/{quote(doi, safe='/();:')}"
    return f"{url}?{urlencode({'mailto': mailto})}" if mailto else url


def contact_email(contact: str) -> str | None:
    """The e-mail address in a `contact` setting ("me@example.org", "mailto:me@example.org"),
    which Crossref takes as `mailto`; None for a web page."""
    address = contact.strip().removeprefix("mailto:")
    return address if re.fullmatch(r"[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+", address) else None


def _plain(text: str) -> str:
    """Crossref titles and abstracts as plain text: they may carry JATS, HTML and MathML markup
    (<jats:italic>, <i>, <jats:p>, <mml:msup>) and entities (&amp;)."""
    if "<" not in text and "&" not in text:
        return " ".join(text.split())
    soup = BeautifulSoup(text, "html.parser")
    # a formula given twice (<jats:alternatives>: TeX and MathML) is read once, as MathML
    for alternatives in soup.find_all("jats:alternatives"):
        if alternatives.find(_is_mathml) is not None:
            for tex in alternatives.find_all("jats:tex-math"):
                tex.decompose()
    for tag in soup.find_all(_is_inline):
        tag.unwrap()
    soup.smooth()  # "net" "2" "works" around an unwrapped <sub> are one string again
    return " ".join(soup.get_text(" ").split())


def _is_mathml(tag: Tag) -> bool:
    return tag.name.startswith("mml:")


def _is_inline(tag: Tag) -> bool:
    return tag.name in _INLINE_TAGS or _is_mathml(tag)


def _first_text(values: Any) -> str:
    if isinstance(values, list):
        return next((text for v in values if isinstance(v, str) and (text := _plain(v))), "")
    return _plain(values) if isinstance(values, str) else ""


def _crossref_date(work: Mapping[str, Any]) -> tuple[int | None, dt.datetime | None]:
    """(year, day of publication): the day only when Crossref gives one, since a digest shows
    `published` as a full date and "1989-01-01" for "1989" would claim a day nobody gave."""
    # "issued" is the earliest of print and online publication; the others are fallbacks
    for field_name in ("issued", "published", "published-print", "published-online", "created"):
        parts = (work.get(field_name) or {}).get("date-parts") or [[]]
        numbers = [p for p in (parts[0] or []) if isinstance(p, int)]
        if not numbers:
            continue
        if len(numbers) >= 3:
            try:
                return numbers[0], dt.datetime(numbers[0], numbers[1], numbers[2], tzinfo=dt.UTC)
            except ValueError:
                pass
        return numbers[0], None
    return None, None


def _crossref_author(author: Mapping[str, Any]) -> str:
    name = " ".join(str(author.get(k) or "").strip() for k in ("given", "family")).strip()
    return name or str(author.get("name") or "").strip()


def _crossref_venue(work: Mapping[str, Any], year: int | None) -> str | None:
    """ "Mathematical Programming 108(1), 177-205 (2006)": the journal, as arXiv's journal-ref
    field words one; a book's publisher when it is in no container."""
    venue = _first_text(work.get("container-title")) or (
        _plain(str(work.get("publisher") or "")) if work.get("type") in ("book", "monograph") else ""
    )
    if not venue:
        return None
    volume, issue, page = (str(work.get(k) or "").strip() for k in ("volume", "issue", "page"))
    if volume:
        venue += f" {volume}" + (f"({issue})" if issue else "")
    if page:
        venue += f", {page}"
    return venue + (f" ({year})" if year else "")


def crossref_preprints(content: bytes) -> tuple[str, ...]:
    """The arXiv ids of the preprints a Crossref record names (`relation.has-preprint`: an
    arXiv DOI, an arXiv URL or an `arxiv`-typed id). Raises ValueError like `crossref_paper`."""
    return _preprints(_crossref_message(content))


def _preprints(work: Mapping[str, Any]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for relation in (work.get("relation") or {}).get("has-preprint") or []:
        text = str(relation.get("id") or "") if isinstance(relation, Mapping) else ""
        parsed = arxiv_id_from_doi(text) or ((parse_arxiv_id(text) or (None,))[0] if text else None)
        if parsed:
            found[parsed] = None
    return tuple(found)


def _crossref_message(content: bytes) -> Mapping[str, Any]:
    answer = json.loads(content)
    work = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(work, dict) or (answer.get("message-type") not in (None, "work")):
        raise ValueError("not a Crossref work record")
    return work


def crossref_paper(content: bytes, doi: str) -> Paper:
    """A Crossref `works/{doi}` answer -> the paper it describes (no arXiv id).

    Raises ValueError on an answer that is not JSON, not a work record, or has no title."""
    return _paper_from_work(_crossref_message(content), doi)


def _paper_from_work(work: Mapping[str, Any], doi: str) -> Paper:
    title = _first_text(work.get("title"))
    if not title:
        raise ValueError("the record has no title")
    subtitle = _first_text(work.get("subtitle"))
    if subtitle and not title.endswith((":", "?", "!", ".")):
        title = f"{title}: {subtitle}"
    canonical = normalize_doi(str(work.get("DOI") or "")) or doi
    year, published = _crossref_date(work)
    authors = tuple(
        name for a in work.get("author") or [] if isinstance(a, Mapping) and (name := _crossref_author(a))
    )
    return Paper(
        key=f"doi:{canonical}",
        title=title,
        authors=authors,
        abstract=_ABSTRACT_HEADING.sub("", _plain(str(work.get("abstract") or ""))),
        published=published,
        doi=canonical,
        journal_ref=_crossref_venue(work, year),
        url=f"https://doi.org/{canonical}",
    )


def with_doi_papers(clusters: Sequence[PaperCluster], doi_papers: Mapping[str, Paper]) -> list[PaperCluster]:
    """Clusters of journal papers arXiv does not have, described by their Crossref records:
    the real title, authors, venue and year instead of a citation's link text ("Nesterov and
    Polyak 2006"). A cluster keeps its key, so the sent-ledger knows it as before."""
    out = []
    for cluster in clusters:
        paper = cluster.paper
        found = doi_papers.get(paper.doi) if paper.doi and not paper.arxiv_id else None
        if found is not None:
            paper = replace(
                found, key=paper.key, abstract=found.abstract or paper.abstract, url=found.url or paper.url
            )
            cluster = replace(cluster, paper=paper)
        out.append(cluster)
    return out


def _targets(items: Sequence[Item]) -> Iterator[Item]:
    """Items whose paper must be found: papers and mentions, and the papers a post cites."""
    for item in items:
        if item.kind in (ItemKind.PAPER, ItemKind.MENTION):
            yield item
        yield from (cited for cited in item.cited if cited.kind in (ItemKind.PAPER, ItemKind.MENTION))


def _last_written(item: Item) -> dt.datetime | None:
    """When a page was last written: a reading list edited in place keeps its first date as
    `published` and cites papers newer than it; `updated` says when they were added."""
    return max((d for d in (item.published, item.updated) if d is not None), default=None)


def _listing_complete(item: Item) -> bool:
    return bool(item.kind is ItemKind.PAPER and item.arxiv_id and item.title and item.authors and item.text)


def _search_title(item: Item) -> str | None:
    """The title to search arXiv with: the raw one if it is Latin-script, else its English version.

    Markup a page showed as text ("<script>alert(1)</script>") and a reader's remark are
    never searched for; nor is the label of a paper known by its abstract only (Shamra's
    related papers in a text rendering: the abstract's first sentence).
    """
    if dict(item.extra).get("evidence") == "abstract_only":
        return None
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
        crossref_api_base: str | None = None,
        crossref_mailto: str | None = None,
        crossref_limit: int = CROSSREF_LOOKUPS_PER_RUN,
        known_dois: Mapping[str, DoiRecord] | None = None,
        title_misses: Mapping[tuple[str, str], TitleMiss] | None = None,
    ) -> None:
        self.fetch = fetch
        self.title_misses = dict(title_misses or {})  # (title, first author) -> the earlier miss
        self.new_misses: dict[tuple[str, str], TitleMiss] = {}
        self.known_dois = known_dois or {}
        self.learned_dois: dict[str, DoiRecord] = {}  # new or changed records, to be stored
        self.crossref_api_base = crossref_api_base or None
        self.crossref_mailto = crossref_mailto
        self.crossref_limit = crossref_limit
        self.crossref_calls = 0
        self.crossref_down: str | None = None  # why Crossref is not asked again this run
        # DOI -> (its record, arXiv ids of its preprints) or (None, why not)
        self.crossref_answers: dict[str, tuple[Paper | None, tuple[str, ...], str]] = {}
        self.batch_size = max(1, min(batch_size, 2000))
        self.title_threshold = title_threshold
        self.known = known
        self.api_base = api_base
        self.fetched: dict[str, Paper] = {}
        self.missing: set[str] = set()  # ids arXiv answered it does not have
        self.failed: dict[str, str] = {}  # ids whose lookup failed, with why
        self.notes: list[Note] = []  # for the operator, and a reader's line of their kind
        self.title_cache: dict[tuple[str, str], tuple[Paper | None, float | None, str]] = {}
        self._by_title: dict[str, list[Paper]] | None = None
        self._by_doi: dict[str, Paper] | None = None

    def _arxiv_note(self, what: str) -> None:
        self.notes.append(Note(NoteKind.ARXIV_LOOKUP, f"{NOTE_ARXIV_LOOKUP} {what}"))

    def _crossref_note(self, what: str) -> None:
        self.notes.append(Note(NoteKind.CROSSREF_LOOKUP, f"{NOTE_CROSSREF_LOOKUP} {what}"))

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
                    self._arxiv_note(f"rejected id {bad.group(1)!r}: {error}")
                    batch = [i for i in batch if i != bad.group(1)]
                    continue
                reason = error or "no response"
                self._arxiv_note(f"id_list of {len(batch)} id(s) failed: {reason}")
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
        cache_key = TitleMiss.key(normalize_title(title), authors[0] if authors else "")
        if cache_key in self.title_cache:
            return self.title_cache[cache_key]
        outcome = self._search_title(title, authors, cache_key)
        self.title_cache[cache_key] = outcome
        return outcome

    def _search_title(
        self, title: str, authors: Sequence[str], key: tuple[str, str]
    ) -> tuple[Paper | None, float | None, str]:
        # a paper we already hold with the same title costs no request
        for paper in self.papers_with_title(normalize_title(title)):
            if paper.arxiv_id and first_author_matches(authors, paper.authors):
                return paper, 1.0, f"same title as known paper {paper.arxiv_id}"
        earlier = self.title_misses.get(key)
        if earlier is not None:  # arXiv found nothing days ago: its answer, as given then
            return None, earlier.score, earlier.detail
        outcome: tuple[Paper | None, float | None, str] = (None, None, "title search found nothing")
        # the exact phrase first; when it finds no acceptable paper, any of the title's words
        for url in (
            title_search_url(title, base=self.api_base),
            title_words_search_url(title, base=self.api_base),
        ):
            result, error = self._call(url)
            if result is None or error is not None:
                self._arxiv_note(f"title search failed for {title[:80]!r}: {error}")
                return None, None, f"title search failed: {error}"
            judged = self._judge(title, authors, result.items)
            if judged[0] is not None:
                return judged
            if judged[1] is not None and (outcome[1] is None or judged[1] > outcome[1]):
                outcome = judged
        # arXiv answered both searches, and no paper passed: remembered (a failed request is not)
        self.new_misses[key] = TitleMiss(key[0], key[1], outcome[1], outcome[2])
        return outcome

    def _judge(
        self, title: str, authors: Sequence[str], candidates: Sequence[Item]
    ) -> tuple[Paper | None, float | None, str]:
        scored = sorted(
            ((title_similarity(title, c.title), n, c) for n, c in enumerate(candidates)),
            key=lambda s: (-s[0], s[1]),
        )
        if not scored:
            return None, None, "title search found nothing"

        def differing(candidate: Item) -> list[str]:
            # a named first author confirms a title a word off ("Understanding deep learning
            # (still) requires ...", the journal version); a bare title must have the same words
            if authors and first_author_matches(authors, candidate.authors):
                return []
            return differing_words(title, candidate.title)

        # the most similar title that also has the same content words
        score, _, candidate = next(
            (s for s in scored if s[0] >= self.title_threshold and not differing(s[2])), scored[0]
        )
        label = f"{candidate.arxiv_id} {candidate.title[:80]!r}"
        if score < self.title_threshold:
            return None, score, f"best title match {label} scored {score:.2f} < {self.title_threshold:.2f}"
        if differing(candidate):
            words = ", ".join(repr(w) for w in differing_words(title, candidate.title))
            return None, score, f"best title match {label} scored {score:.2f} but differs in {words}"
        if not first_author_matches(authors, candidate.authors):
            return None, score, f"title matches {label} but first author {authors[0]!r} does not"
        return paper_from_item(candidate), score, f"title search: {label} scored {score:.2f}"

    def crossref(self, doi: str) -> tuple[Paper | None, tuple[str, ...], str]:
        """The Crossref record of `doi` and its preprints' arXiv ids, or None and why not.

        A stored record is used as it is: Crossref is asked only about DOIs it has none of."""
        # Never refreshed after an age, by decision: a published paper's record rarely changes,
        # and a refresh would let Crossref's later answer (or its outage) rewrite the rebuild of
        # a finished week that readers were sent. A wrong record is forgotten by the operator
        # (`sources forget-doi`) and asked about again; one with no arXiv match has its title
        # searched again each week (`TITLE_MISS_KEPT`), which finds a preprint posted later.
        if doi not in self.crossref_answers:
            stored = self.known_dois.get(doi)
            if stored is not None:
                self.crossref_answers[doi] = (stored.paper, stored.preprints, "")
            else:
                self.crossref_answers[doi] = answer = self._ask_crossref(doi)
                if answer[0] is not None:  # a 404 or an unreadable answer is asked again next run
                    self.learned_dois[doi] = DoiRecord(doi, answer[0], answer[1])
        return self.crossref_answers[doi]

    def _record_match(self, doi: str, arxiv_id: str) -> None:
        """Remember that `doi` is the arXiv paper `arxiv_id`, so a rebuild needs no search."""
        record = self.learned_dois.get(doi) or self.known_dois.get(doi)
        if record is not None and record.arxiv_id != arxiv_id:
            self.learned_dois[doi] = replace(record, arxiv_id=arxiv_id)

    def _ask_crossref(self, doi: str) -> tuple[Paper | None, tuple[str, ...], str]:
        if self.crossref_api_base is None:
            return None, (), f"DOI {doi}: Crossref not asked (no crossref_api_base)"
        if self.crossref_down is not None:
            return None, (), f"DOI {doi}: Crossref not asked ({self.crossref_down})"
        if self.crossref_calls >= self.crossref_limit:
            return None, (), f"DOI {doi}: not looked up, {self.crossref_limit} Crossref look-ups per run"
        self.crossref_calls += 1
        try:
            content = self.fetch(
                crossref_work_url(doi, base=self.crossref_api_base, mailto=self.crossref_mailto)
            )
        except Exception as exc:  # the injected fetch may raise anything; report, never crash
            page = getattr(exc, "page", None)
            status = getattr(page, "status", None) or getattr(exc, "status", None)
            if status == 404:
                return None, (), f"DOI {doi}: unknown to Crossref (HTTP 404)"
            if isinstance(status, int) and 400 <= status < 500 and status != 429:
                return None, (), f"DOI {doi}: Crossref answered HTTP {status}"
            # down, overloaded or unreachable: the next DOI would fail the same way, slowly
            self.crossref_down = f"unreachable: {type(exc).__name__}: {exc}"
            self._crossref_note(
                f"Crossref {self.crossref_down}; DOI citations of journal papers keep their link text this run"
            )
            return None, (), f"DOI {doi}: Crossref {self.crossref_down}"
        try:
            work = _crossref_message(content)
            return _paper_from_work(work, doi), _preprints(work), ""
        except (ValueError, TypeError, AttributeError) as exc:
            self._crossref_note(f"unreadable answer for DOI {doi}: {exc}")
            return None, (), f"DOI {doi}: unreadable Crossref answer ({exc})"

    def resolve_by_crossref(
        self, targets: Sequence[Item], resolutions: Sequence[Resolution], papers: dict[str, Paper]
    ) -> tuple[list[Resolution], dict[str, Paper]]:
        """Mentions still unresolved that carry a journal DOI, resolved through Crossref: to the
        arXiv preprint its record names or its title finds, else to the record itself."""
        # "10.1016/0893-6080(89)90020-8" however a page wrote it: one request per paper
        dois = {
            n: doi
            for n, (item, res) in enumerate(zip(targets, resolutions, strict=True))
            if res.method == "unresolved"
            and (doi := journal_doi(item))
            # without a Crossref to ask, only the DOIs it answered before
            and (self.crossref_api_base is not None or doi in self.known_dois)
        }
        pending = list(dois)
        for doi in dict.fromkeys(dois.values()):
            self.crossref(doi)
        # the arXiv papers the records name or were found to be, unless already held
        wanted = {
            p
            for doi in dois.values()
            if self.crossref(doi)[0] is not None
            for p in (self.stored_arxiv_id(doi), *self.crossref(doi)[1])
            if p
        }
        self.lookup_ids(sorted(p for p in wanted if self.paper_for_id(p) is None and p not in self.failed))
        self._by_title = self._by_doi = None  # the preprints just fetched are held papers too

        out = list(resolutions)
        doi_papers: dict[str, Paper] = {}
        for n in pending:
            item, doi = targets[n], dois[n]
            record, ids, why = self.crossref(doi)
            done = partial(Resolution, item.key, item.source_id)
            if record is None:
                out[n] = done(None, "unresolved", None, why)
                continue
            matched = self.stored_match(item, papers)
            if matched is not None:
                out[n] = matched
                continue
            preprint = next((p for i in ids if (p := self.paper_for_id(i)) is not None), None)
            if preprint is not None and preprint.arxiv_id:
                papers[preprint.arxiv_id] = preprint
                self._record_match(doi, preprint.arxiv_id)
                detail = f"DOI {doi}: Crossref names arXiv preprint {preprint.arxiv_id}"
                out[n] = done(preprint.arxiv_id, "crossref", 1.0, detail)
                continue
            if len(_LATIN_WORD.findall(record.title)) >= MIN_TITLE_WORDS:
                found, score, detail = self.search_title(record.title, record.authors)
                if found is not None and found.arxiv_id:
                    papers[found.arxiv_id] = found
                    self._record_match(doi, found.arxiv_id)
                    out[n] = done(found.arxiv_id, "crossref", score, f"DOI {doi}: Crossref title, {detail}")
                    continue
            # by the DOI the pages cite (Crossref answers an alias with the primary DOI)
            doi_papers[doi] = record
            out[n] = done(None, "crossref", 1.0, f"DOI {doi}: {record.title[:80]!r} from Crossref")
        return out, doi_papers

    def stored_arxiv_id(self, doi: str) -> str | None:
        stored = self.known_dois.get(doi)
        return stored.arxiv_id if stored is not None else None

    def stored_match(self, item: Item, papers: dict[str, Paper]) -> Resolution | None:
        """`item` resolved to the arXiv paper the stored Crossref record of its DOI was found
        to be, when that paper is held: a rebuild needs neither Crossref nor a title search."""
        doi = journal_doi(item)
        arxiv_id = self.stored_arxiv_id(doi) if doi else None
        paper = self.paper_for_id(arxiv_id) if arxiv_id else None
        if paper is None or not paper.arxiv_id:
            return None
        papers[paper.arxiv_id] = paper
        detail = f"DOI {doi}: arXiv paper {paper.arxiv_id}, as found before (stored Crossref record)"
        return Resolution(item.key, item.source_id, paper.arxiv_id, "crossref", 1.0, detail)

    # -- one item -------------------------------------------------------------------------

    def paper_for_id(self, arxiv_id: str) -> Paper | None:
        return self.fetched.get(arxiv_id) or self.known.get(arxiv_id)

    def resolve_item(
        self, item: Item, papers: dict[str, Paper], written: dt.datetime | None = None
    ) -> Resolution:
        """`written`: when the page that mentions `item` was written, or the paper's own date the
        mention gives (an arXiv mirror's related paper), if known; a paper a title search finds
        that was first posted well after it is not the one meant."""

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
                # a listing's (or a mirror's) item carries its own metadata: kept rather than lose the paper
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
        matched = self.stored_match(item, papers)
        if matched is not None:  # before searching the link text ("our CACM article")
            return matched

        title = _search_title(item)
        if title is None:
            if item.doi:
                return done(None, "unresolved", None, f"DOI {item.doi}: arXiv cannot be searched by DOI")
            shown = (item.title_en or item.title)[:60]
            return done(None, "unresolved", None, f"no title to search by ({shown!r} is not a paper title)")
        paper, score, detail = self.search_title(title, item.authors)
        if paper is None or paper.arxiv_id is None:
            return done(None, "unresolved", score, detail)
        if (
            written is not None
            and paper.published is not None
            and paper.published > written + POSTED_AFTER_MENTION
        ):
            posted, mentioned = paper.published.date(), written.date()
            dated_by = "the date given with it" if _last_written(item) else "the page"
            return done(
                None,
                "unresolved",
                score,
                f"{detail}, but first posted {posted}, after {dated_by} ({mentioned})",
            )
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
    listing_sources: Collection[str] = (),
    crossref_api_base: str | None = None,
    crossref_mailto: str | None = None,
    crossref_limit: int = CROSSREF_LOOKUPS_PER_RUN,
    known_dois: Mapping[str, DoiRecord] | None = None,
    title_misses: Mapping[tuple[str, str], TitleMiss] | None = None,
) -> ResolveResult:
    """Resolve every paper, mention and cited paper in `items` to an arXiv paper.

    `known` maps arXiv ids to papers already held (the store): they are not fetched again
    unless an item names a newer version. `listing_sources` are the ids of arXiv's own sources
    (listings, API, OAI: `sources.arxiv_source_ids`): their items that carry title,
    authors and abstract become papers without an API call. Any other source's paper (an arXiv
    mirror's, which lags arXiv) is looked up by id, in the same batched calls. With a
    `crossref_api_base`, a journal DOI nothing else resolved is looked up on Crossref (at most
    `crossref_limit` DOIs; `crossref_mailto` is sent as Crossref asks). `known_dois` maps DOIs
    (`journal_dois`) to the Crossref records already held (the store): they are used as they
    are, without a Crossref base too, and `ResolveResult.doi_records` holds what is new.
    `title_misses` maps (normalized title, first author) to title searches that found nothing
    recently (`store.records.load_title_misses`): they are not made again, their outcome is
    reused; `ResolveResult.title_misses` holds the ones this call made.
    """
    known = known or {}
    resolver = _Resolver(
        fetch,
        batch_size=batch_size,
        title_threshold=title_threshold,
        known=known,
        api_base=api_base,
        crossref_api_base=crossref_api_base,
        crossref_mailto=crossref_mailto,
        crossref_limit=crossref_limit,
        known_dois=known_dois,
        title_misses=title_misses,
    )
    targets = list(_targets(items))
    papers: dict[str, Paper] = {}

    wanted: dict[str, None] = {}
    for item in targets:
        # the arXiv paper a journal DOI was found to be before (a stored Crossref record)
        matched = resolver.stored_arxiv_id(doi) if (doi := journal_doi(item)) else None
        if matched and matched not in known:
            wanted[matched] = None
        arxiv_id = item.arxiv_id or (arxiv_id_from_doi(item.doi) if item.doi else None)
        if arxiv_id is None or parse_arxiv_id(arxiv_id) is None:
            continue
        if item.source_id in listing_sources and _listing_complete(item):
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

    # a mention's date: its own, else the date of the post that cites it. Only an arXiv mirror's
    # related papers carry their own, which is the paper's own (first-posted) date, not a page's:
    # a paper first posted well after it is as surely another paper.
    written = {id(c): date for item in items if (date := _last_written(item)) for c in item.cited}
    resolutions = [
        resolver.resolve_item(
            item,
            papers,
            written=(_last_written(item) or written.get(id(item))) if item.kind is ItemKind.MENTION else None,
        )
        for item in targets
    ]
    doi_papers: dict[str, Paper] = {}
    if crossref_api_base or known_dois:
        resolutions, doi_papers = resolver.resolve_by_crossref(targets, resolutions, papers)
    return ResolveResult(
        papers=papers,
        resolutions=tuple(resolutions),
        notes=tuple(resolver.notes),
        doi_papers=doi_papers,
        doi_records=dict(resolver.learned_dois),
        title_misses=tuple(resolver.new_misses.values()),
    )
