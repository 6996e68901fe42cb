"""Frozen, typed records passed between pipeline stages.

An item moves one way through these types:

    SourceSpec (config) -> RawPage (fetch) -> ParseResult[Item] (sources.<kind>.parse)
    -> Paper (resolve) -> NormalizedText (language) -> PaperCluster (identity)
    -> Classification (directions) -> Digest (digest) -> Markdown -> store/outputs -> mail

Every record is immutable so a stage can never change what an earlier stage produced;
stages return new records instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum


class ItemKind(StrEnum):
    """What a parsed item is."""

    PAPER = "paper"  # a paper's own record (arXiv listing/API entry, aggregator paper page)
    POST = "post"  # a blog post or article that discusses papers
    MENTION = "mention"  # a reference to a paper inside another page (reading list line, related paper)
    OTHER = "other"  # a non-paper link on a notes page: video, course, blog, wiki page


class AnnounceType(StrEnum):
    """arXiv's `arxiv:announce_type` values; `new` and `cross` are new papers."""

    NEW = "new"
    CROSS = "cross"
    REPLACE = "replace"
    REPLACE_CROSS = "replace-cross"

    @property
    def is_revision(self) -> bool:
        return self in (AnnounceType.REPLACE, AnnounceType.REPLACE_CROSS)


@dataclass(frozen=True, slots=True)
class RawPage:
    """One HTTP response body, exactly as received (parsers take bytes)."""

    source_id: str
    url: str
    status: int
    content: bytes
    content_type: str = ""
    fetched_at: dt.datetime | None = None
    from_cache: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """What one fetch cost and how it ended; stored for every request."""

    source_id: str
    url: str
    status: int | None
    bytes: int
    elapsed_ms: float
    cache_hit: bool
    error: str | None = None
    fetched_at: dt.datetime | None = None
    # the page arrived but could not be used (it does not parse): it cancels that page's success
    unusable: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    """One sighting of a paper, post or link on one source.

    `title` and `text` are raw, in the source's language; the language stage adds
    English alongside without replacing them.
    """

    source_id: str
    kind: ItemKind
    title: str
    url: str | None = None
    arxiv_id: str | None = None  # canonical, without version: "2106.10165", "math/0309136"
    version: int | None = None
    doi: str | None = None  # lower-cased, without resolver prefix
    authors: tuple[str, ...] = ()
    lang: str | None = None  # ISO 639-1 as declared or detected, "mixed" for mixed text
    text: str = ""  # abstract, summary or the commentary around a mention
    published: dt.datetime | None = None  # first version / post date
    updated: dt.datetime | None = None  # this version
    categories: tuple[str, ...] = ()
    primary_category: str | None = None
    announce_type: AnnounceType | None = None
    comment: str | None = None
    journal_ref: str | None = None
    links: tuple[str, ...] = ()  # for posts and pages: the URLs they link to
    cited: tuple[Item, ...] = ()  # for posts: the papers it links to, as mention items
    original_title: str | None = None  # e.g. the Chinese title when `title` is the English one
    extra: tuple[tuple[str, str], ...] = ()  # kind-specific facts worth keeping (score, license, ...)
    # filled by the language stage; the raw title/text above are never replaced
    title_en: str | None = None
    text_en: str | None = None
    translated_by: str | None = None  # "argos zh→en 1.9" or None when nothing was translated

    @property
    def english_title(self) -> str:
        return self.title_en or self.title

    @property
    def key(self) -> str:
        """Stable identity of the sighting within its source.

        A mention without an id is keyed by its link *and* title: several title-only
        mentions on one page share the page's URL but are different sightings. A key longer
        than the store's column (`ITEM_KEY_LENGTH`) ends in a hash of the whole (`fit_key`).
        """
        if self.arxiv_id and self.kind is not ItemKind.POST:
            return f"arxiv:{self.arxiv_id}"
        title = " ".join(self.title.lower().split())
        if self.kind is ItemKind.MENTION:
            return fit_key(f"mention:{self.url or ''}|{title}")
        if self.url:
            return fit_key(f"url:{self.url}")
        return fit_key(f"title:{title}")


# The length of the store's item_key columns (store/schema.py): PostgreSQL refuses a longer one.
ITEM_KEY_LENGTH = 512
_KEY_HASH = "#sha256:"


def fit_key(key: str, length: int = ITEM_KEY_LENGTH) -> str:
    """`key` itself when it fits its column (so every key stored so far stays as it was), else
    its start and a SHA-256 of the whole: still one key per sighting, and still readable, with
    its "mention:"/"url:"/"title:" prefix kept for the queries that select by it."""
    if len(key) <= length:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key[: length - len(_KEY_HASH) - len(digest)] + _KEY_HASH + digest


@dataclass(frozen=True, slots=True)
class TitleMiss:
    """An arXiv title search that found no acceptable paper: for `title` (normalized) with
    `author` first ("" for none), the best candidate scored `score` and `detail` says why.
    Both keys are fitted to the store's columns (`TitleMiss.key`)."""

    title: str
    author: str
    score: float | None
    detail: str
    searched_at: dt.datetime | None = None  # None until stored

    @staticmethod
    def key(title: str, author: str) -> tuple[str, str]:
        """(title, author) as stored: PostgreSQL indexes at most ~2,700 bytes of a row's key."""
        return fit_key(title, TITLE_MISS_TITLE_LENGTH), fit_key(author, TITLE_MISS_AUTHOR_LENGTH)


# The title_misses key columns' lengths (store/schema.py), within PostgreSQL's index row limit.
TITLE_MISS_TITLE_LENGTH = 400
TITLE_MISS_AUTHOR_LENGTH = 128


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Items parsed from one page, plus what went wrong without stopping the parse.

    `next_urls` lets a kind ask for further pages (API paging, OAI resumption tokens)
    without doing any I/O itself; `cursor` is the state to remember for the next run.
    """

    items: tuple[Item, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the page says the request failed (arXiv error feed, ...)
    next_urls: tuple[str, ...] = ()
    total_results: int | None = None
    cursor: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a mention was tied to a paper (or why it was not)."""

    item_key: str
    source_id: str
    arxiv_id: str | None
    method: str  # "arxiv_id", "doi", "title_search", "unresolved"
    score: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Paper:
    """A canonical paper, as arXiv (or the best source) describes it."""

    key: str  # "arxiv:<id>" or "doi:<doi>" or "title:<normalized>"
    title: str
    arxiv_id: str | None = None
    version: int | None = None
    authors: tuple[str, ...] = ()
    abstract: str = ""
    published: dt.datetime | None = None
    updated: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    primary_category: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    url: str | None = None

    @property
    def abs_url(self) -> str | None:
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where a paper was seen: one per (source, item)."""

    source_id: str
    source_name: str
    url: str | None
    lang: str | None
    original_title: str | None = None
    kind: ItemKind = ItemKind.PAPER
    commentary: str = ""
    version: int | None = None
    announce_type: AnnounceType | None = None
    seen_at: dt.datetime | None = None
    # what the source says about the paper, as written, when `commentary` is its English
    # translation ("" when `commentary` is already the original), and who translated it
    commentary_original: str = ""
    commentary_lang: str | None = None  # language of the commentary as written
    translated_by: str | None = None
    # the source showed no title: the one it goes by is made from its text (Shamra's related
    # papers in a text rendering, evidence "abstract_only")
    titled_by_text: bool = False


@dataclass(frozen=True, slots=True)
class PaperCluster:
    """One paper, however many sources, languages, versions and weeks it appeared in."""

    paper: Paper
    sightings: tuple[Sighting, ...] = ()
    versions: tuple[int, ...] = ()  # versions seen, ascending
    item_keys: tuple[str, ...] = ()  # "<source_id>|<item key>" of every item in the cluster
    original_title: str | None = None  # non-English title when the paper was seen in zh/ar
    original_lang: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text in one language."""

    text: str
    lang: str


@dataclass(frozen=True, slots=True)
class Detection:
    """Language of a text: dominant ISO 639-1 code or "mixed", with its segments."""

    lang: str
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class Translated:
    """A text in English next to its original; `model` is None when nothing was translated."""

    original: str
    english: str
    source_lang: str
    model: str | None = None
    note: str | None = None  # e.g. "untranslated: no zh→en model (...)"


@dataclass(frozen=True, slots=True)
class Classification:
    """Direction scores for a paper; `primary` is used for grouping."""

    primary: str
    scores: tuple[tuple[str, float], ...] = ()
    relevance: float = 1.0
    confident: bool = True


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One line of the per-source report in the digest footer."""

    source_id: str
    kind: str
    fetched: int = 0  # responses received
    parsed: int = 0  # items parsed (posts, papers, mentions, links)
    # papers the parsed posts cite (a reading list, a blog post's links): not in `parsed`, which
    # counts a post once however many papers it brings
    cited: int = 0
    new: int = 0  # items not in the store before this run
    cache_hits: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None
    unresolved: int = 0
    elapsed_ms: float = 0.0
    # the error is that no host could be reached from this machine (no name resolved, no
    # network): a run where every source says so is told once that it looks offline
    offline: bool = False
    # of this run's sightings, those that belong to a later week still to be made (dated after
    # the week's window, or new to a week its readers already have), and those weeks' ids
    later: int = 0
    later_weeks: tuple[str, ...] = ()
    # the day the run read the source from (`--since`, or a backfill), ISO; None: its window.
    # A feed's posts dated since then are the week's, also on its first read (`first_read_backlog`)
    since: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class VersionChange:
    """A newer arXiv version than the one readers were sent."""

    new: int
    old: int  # the version sent
    week: str  # the week it was sent in: "2026-W46"
    withdrawn: bool = False  # the new version withdraws the paper
    old_title: str | None = None  # the title sent, when the new version changed it

    def english(self) -> str:
        change = "withdrawn in" if self.withdrawn else "updated to"
        text = f"{change} v{self.new} (was v{self.old} on {self.week})"
        return text + (f', retitled (was: "{self.old_title}")' if self.old_title else "")


@dataclass(frozen=True, slots=True)
class JournalVersion:
    """A journal DOI arXiv gave the paper after it was sent."""

    doi: str  # without "doi:" or resolver
    venue: str | None = None  # arXiv's journal reference ("JMLR 24")

    def english(self) -> str:
        venue = f"{self.venue}, " if self.venue else ""
        return f"journal version: {venue}doi:{self.doi}"


@dataclass(frozen=True, slots=True)
class Place:
    """A source that discusses the paper: its display name, shown as written, and its language."""

    name: str
    lang: str | None = None

    def english(self) -> str:
        """The name, with its language when not English: "Zhihu (zh)" but "A theory blog", as
        "Seen in" says them ("mixed" pages count as English there too)."""
        return f"{self.name} ({self.lang})" if self.lang and self.lang not in ("en", "mixed") else self.name


@dataclass(frozen=True, slots=True)
class UpdateReason:
    """Why an already-sent paper is back, part by part, so that every edition words each part
    with its own labels (digest.render) and no part is ever parsed back out of a sentence.

    `legacy_text` is only for digests stored before reasons had parts: their whole English
    line, which a zh/ar edition can only machine-translate."""

    version_change: VersionChange | None = None
    journal: JournalVersion | None = None
    discussed_on: tuple[Place, ...] = ()  # newly discussed there, in display order
    legacy_text: str | None = None

    def english(self) -> str:
        """The reason as one English line: "updated to v2 (was v1 on 2026-W46); newly discussed on Zhihu (zh)"."""
        if self.legacy_text is not None:
            return self.legacy_text
        parts = [part.english() for part in (self.version_change, self.journal) if part]
        if self.discussed_on:
            # a name holding the list's own separators is quoted, so the list reads one way
            places = [
                f'"{place.english()}"' if "," in place.name or " and " in place.name else place.english()
                for place in self.discussed_on
            ]
            joined = places[0] if len(places) == 1 else ", ".join(places[:-1]) + " and " + places[-1]
            parts.append(f"newly discussed on {joined}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class DigestPaper:
    """A paper as the digest shows it."""

    paper: Paper
    classification: Classification
    sightings: tuple[Sighting, ...] = ()
    english_title: str | None = None  # when the best title came through translation
    original_title: str | None = None
    original_lang: str | None = None
    summary: str = ""
    badges: tuple[str, ...] = ()  # "new", "updated v3", "cross-listed", "discussed", "withdrawn"
    update_reason: UpdateReason | None = None  # in "Updated and newly discussed": why it is back
    discussed_in: tuple[Item, ...] = ()  # posts citing the paper
    group: int | None = None  # in "Emerging": the number of its group, from 1

    @property
    def reason(self) -> str | None:
        """Why the paper is back, as one English line (None for a paper not back)."""
        return self.update_reason.english() if self.update_reason else None


@dataclass(frozen=True, slots=True)
class Resource:
    """A video, course or lecture series a curated notes page listed (an OTHER item whose
    category is in RESOURCE_CATEGORIES), as "New talks and courses" shows it: once, in the
    week a page first listed it, with each page that did and what it says about it."""

    category: str  # "video", "course" (lecture series are courses), "talk" or "workshop"
    title: str  # English (translated when the page wrote it in another language)
    url: str | None = None
    original_title: str | None = None  # as the page wrote it, when that is not the English one
    # the language of `original_title`; without one, of `title` itself when no model translated
    # it (then it is no English title, and is shown as written)
    original_lang: str | None = None
    # one per page: its name and page link, and what it says next to the link (`commentary`
    # English, `commentary_original` as written when translated, as in a paper's sighting)
    sightings: tuple[Sighting, ...] = ()


# The OTHER items of a notes page that the digest lists as resources: things a researcher
# follows (watches, takes). Wiki pages, code, blogs and plain links stay out (see digest.build).
RESOURCE_CATEGORIES = ("video", "course", "talk", "workshop")


@dataclass(frozen=True, slots=True)
class ReaderFilters:
    """The filters of a reader's edition, kept when they let none of the week's papers through
    so that the edition can say which (in its own language)."""

    include_directions: tuple[str, ...] = ()
    exclude_directions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    negative_keywords: tuple[str, ...] = ()
    min_relevance: float | None = None
    authors: tuple[str, ...] = ()  # followed authors: none of them wrote a paper of the week


@dataclass(frozen=True, slots=True)
class DirectionSection:
    direction_id: str
    name: str
    papers: tuple[DigestPaper, ...] = ()
    posts: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one week's digest says, before rendering."""

    week: str  # "2026-W47"
    window_start: dt.datetime
    window_end: dt.datetime
    timezone: str
    sections: tuple[DirectionSection, ...] = ()
    updated: tuple[DigestPaper, ...] = ()  # "Updated and newly discussed"
    emerging: tuple[DigestPaper, ...] = ()
    below_threshold: tuple[DigestPaper, ...] = ()  # collapsed appendix
    # title-only mentions no identifier or known paper confirms: listed apart, not counted as papers
    unconfirmed: tuple[DigestPaper, ...] = ()
    # older papers one curated list brought in at once (a first read): one line each, not counted
    backlog: tuple[DigestPaper, ...] = ()
    posts: tuple[Item, ...] = ()
    # posts a blog had out before the week, read with it for the first time (its feed's latest
    # entries): one line each, collapsed, not counted as the week's posts
    post_backlog: tuple[Item, ...] = ()
    # posts citing none of the digest's papers that scored under the relevance threshold, with
    # their relevance: kept out of the posts section, listed in the collapsed appendix, counted
    posts_below_threshold: tuple[tuple[Item, float], ...] = ()
    # the classification of each scored post citing none of the digest's papers (in `posts` or
    # in the appendix), by `digest.post_id`: a reader's direction filters and minimum relevance
    # apply to such a post as to a paper (a post citing papers goes with them)
    post_classifications: tuple[tuple[str, Classification], ...] = ()
    # videos and courses a notes page added this week ("New talks and courses"); a page's
    # whole list at once (a first read) goes to `resource_backlog`, one line each, collapsed
    resources: tuple[Resource, ...] = ()
    resource_backlog: tuple[Resource, ...] = ()
    reports: tuple[SourceReport, ...] = ()
    announcement_days: tuple[dt.date, ...] = ()
    notes: tuple[Note, ...] = ()  # the run's notes: the operator's text and what a reader is told
    models: tuple[tuple[str, str], ...] = ()  # translation model -> version
    generated_for: str | None = None  # reader address for a personal edition
    language: str = "en"
    counts: tuple[tuple[str, int], ...] = field(default=())
    directions: tuple[tuple[str, str], ...] = ()  # (id, name) of every direction of the taxonomy
    unmatched_filters: ReaderFilters | None = None  # a personal edition whose filters matched nothing
    # (source id, display name) of every source read: a filtered edition names the sources
    # it has no item of too
    source_names: tuple[tuple[str, str], ...] = ()
    # a digest of a week still under way: the moment it covers up to (None: the whole week)
    covers_until: dt.datetime | None = None


# How the operator's text of each kind of run note opens. Only the wording: what a note is
# travels as its `Note.kind`; the openings are read back only from notes stored as bare text
# (`Note.from_legacy`), which is why they must not change.
NOTE_UNTRANSLATED = "untranslated:"  # a language pair without a usable model
NOTE_DISCARDED = "discarded:"  # a model's output was unusable; the original is kept
NOTE_ARXIV_LOOKUP = "arXiv lookup:"  # arXiv could not be asked about some papers
NOTE_MISSED_WEEKS = "No digest was made for"  # weeks the scheduler skipped
NOTE_CROSSREF_LOOKUP = "Crossref lookup:"  # Crossref could not be asked about some DOIs


class NoteKind(StrEnum):
    """What a run note is about: a reader's edition says each kind in the reader's language."""

    UNTRANSLATED = "untranslated"  # no usable model for a language pair (`Note.lang`)
    DISCARDED = "discarded"  # a model's output was unusable, the original kept (`Note.lang`)
    ARXIV_LOOKUP = "arxiv_lookup"  # arXiv could not be asked about some papers
    CROSSREF_LOOKUP = "crossref_lookup"  # Crossref could not be asked about some DOIs
    MISSED_WEEKS = "missed_weeks"  # weeks no digest went out for (`Note.weeks`)
    OTHER = "other"  # for the operator only


# a language pair inside a stored note's text: "no ar→en model", "translate-zh_en-1_9"
_LEGACY_FROM_LANG = re.compile(r"(?<![a-z])([a-z]{2,3})(?:→|_)en(?![a-z])")
_LEGACY_WEEK = re.compile(r"\d{4}-W\d{2}")


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Note:
    """One note of a run, typed where it is made.

    `text` is the operator's English line (with the command to run), shown as it is in the
    operator's file and logs; a reader's edition words the note from `kind` and its facts
    alone (`digest.reader_notes`), whatever the text says. Notes sort by their text."""

    kind: NoteKind
    text: str
    lang: str | None = None  # UNTRANSLATED, DISCARDED: the language left as written (None: several)
    weeks: tuple[str, ...] = ()  # MISSED_WEEKS: the weeks, "2026-W46", oldest first

    def __str__(self) -> str:
        return self.text

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Note):
            return NotImplemented
        return self._order() < other._order()

    def _order(self) -> tuple[str, str, str, tuple[str, ...]]:
        return (self.text, self.kind, self.lang or "", self.weeks)

    @classmethod
    def from_legacy(cls, text: str) -> Note:
        """A note stored as its text alone (digests and files written before notes were
        typed): its kind and facts read back, once, from how each kind's text opens."""
        if text.startswith((NOTE_UNTRANSLATED, NOTE_DISCARDED)):
            kind = NoteKind.UNTRANSLATED if text.startswith(NOTE_UNTRANSLATED) else NoteKind.DISCARDED
            pair = _LEGACY_FROM_LANG.search(text)
            return cls(kind, text, lang=pair.group(1) if pair else None)
        if text.startswith(NOTE_ARXIV_LOOKUP):
            return cls(NoteKind.ARXIV_LOOKUP, text)
        if text.startswith(NOTE_CROSSREF_LOOKUP):
            return cls(NoteKind.CROSSREF_LOOKUP, text)
        if text.startswith(NOTE_MISSED_WEEKS):
            return cls(NoteKind.MISSED_WEEKS, text, weeks=tuple(_LEGACY_WEEK.findall(text)))
        return cls(NoteKind.OTHER, text)


@dataclass(frozen=True, slots=True)
class DoiRecord:
    """What Crossref said about one DOI, and the arXiv paper it was found to be.

    Kept for good: the Crossref record of a published paper rarely changes, and a rebuilt week
    must read as it did when Crossref answered (with Crossref down, or its look-ups spent)."""

    doi: str  # as the pages cite it, normalized; Crossref may answer an alias with its primary DOI
    paper: Paper  # Crossref's description: key "doi:<its DOI>", no arXiv id
    preprints: tuple[str, ...] = ()  # arXiv ids of the preprints the record names
    # the arXiv paper the DOI resolved to (a preprint the record names, or its title on arXiv);
    # None: none found yet, so the title is searched again on the next build
    arxiv_id: str | None = None
    fetched_at: dt.datetime | None = None  # when Crossref answered (None until stored)
