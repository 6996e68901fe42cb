"""Which records name the same paper: identifiers first, then content, with blocking.

1. Identifiers. Records sharing an arXiv id (without version; arXiv DOIs count as arXiv ids)
   or a normalized DOI are the same paper.
2. Blocking. Records are compared only when they share a blocking key: the rarest words of
   each title form (prefix filtering on word frequency, so titles sharing about half their
   words always meet), plus the first letters of the rarest long words. A key shared by too
   many records is handled by sorting them and comparing neighbours only, so the cost grows
   near-linearly with the input, never with all pairs. Two more sorted-neighbourhood passes
   over each title's letters without spaces, read forwards and backwards, meet the titles
   whose rarest words were mistyped, split or run together.
3. Decision (`pair_score`). Vetoes first: different arXiv ids or DOIs, an erratum against
   its paper (or notices of different kinds: a comment and the reply to it), different
   part/edition numbers, disjoint author lists (unless the very same specific title appears
   in the same year), different years. One or two years apart are allowed only for a
   specific title by the same people, no word changed, and only when the two records are each
   other's best match: a preprint and its journal version match (also when a list cut the title
   short with "..." or the later version added a subtitle), but where both versions are listed
   twice, each keeps its own counterpart.
   Then evidence: a near-identical title (rapidfuzz Indel similarity) is enough when it is
   specific and is not the other with a word put inside it ("... in deep matrix
   factorization"), swapped ("tensor" / "matrix") or negated ("not", "nonseparable"), unless
   the authors agree; a looser title, or one source's added subtitle or remark, needs the
   authors to agree. Names in scripts that cannot be compared ("سهو يايدا" / "Sho Yaida")
   neither agree nor disagree. A generic title ("Editorial", "Book review column", or a title
   that other records carry in other years) needs the same people in the same year, and is
   left alone when more than two records of one source look alike (up to typos); without a
   year it matches only when it is specific, or when the input holds no other record of that
   title by those people.
4. Venues, learned from the input. The near-certain matches show which venue names stand
   for one outlet ("sigmod conference" / "international conference on management of
   data"); two well-evidenced venues that (almost) never share one are different outlets,
   and a record gives up counterparts at a conflicting venue when it has one at a fitting
   venue (a talk given at two conferences stays two records). Otherwise venue and the
   share of people in common only order equally good matches.
5. Clusters. Union-find over matches, strongest first, refusing any union that would put two
   different arXiv ids, two different DOIs, two years (a record without a year may match
   both the conference and the journal version) or two records of one duplicate-free
   `source` in one cluster, or joining two groups of people that share no one through a
   record that names nobody.
"""

from __future__ import annotations

import gc
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from dltheory_digest.identity.normalize import (
    FUNCTION_WORDS,
    NEGATIONS,
    clean_text,
    core_title,
    expand_negations,
    head_title,
    is_latin,
    markers_conflict,
    name_key,
    normalize_title,
    notice_kinds,
    numbered_series_tail,
    surname,
    title_markers,
    title_variants,
)
from dltheory_digest.ids import arxiv_id_from_doi, normalize_doi, parse_arxiv_id


@dataclass(frozen=True)
class Record:
    """One description of a paper to be matched (a CSV row, an item, arXiv metadata)."""

    id: str
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    lang: str | None = None
    url: str | None = None
    title_en: str | None = None  # machine translation of a non-English title
    # optional: records of one duplicate-free source (one table of a record-linkage task) are
    # never merged with each other by content; identifiers still merge them
    source: str | None = None


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds of the content matcher (tuned on DBLP-ACM train/valid only)."""

    title_strong: float = 0.90  # title similarity at which the title alone is evidence enough
    title_weak: float = 0.80  # lowest similarity that can match when authors also agree
    author_overlap: float = 0.5  # share of the shorter author list found in the other
    min_informative: float = 10.0  # summed idf a title needs to stand without authors and year
    series_informative: float = 25.0  # a title used in several years is a series title below this
    max_generic_group: int = 2  # more records than this alike in generic title, year and authors: ambiguous
    idf_smoothing: int = 200  # pseudo-records in word rarity, so tiny inputs are not all "rare"
    title_exact: float = 0.97  # "the same title" up to a typo
    author_free_informative: float = 20.0  # summed idf of a title that overrides disjoint authors
    # ... and its fewest words: a short title is a common phrase ("Deep learning theory lecture
    # notes" by two lecturers), however rare its words look in a small input
    author_free_min_words: int = 7
    max_unshared: float = 0.3  # below title_strong: most of the title's weight must be shared
    year_tolerance: int = 0  # |year difference| that is no evidence at all
    # a further difference allowed for a specific title by the same people (a preprint and its
    # journal version, often two years apart), at a score `soft_year_penalty` lower per year,
    # and only between mutual best matches
    soft_year_gap: int = 2
    soft_year_penalty: float = 0.05
    prefix_share: float = 0.5  # blocking: titles sharing this share of their words always meet
    stem: int = 5  # blocking: the rarest long words also meet by their first letters
    max_block: int = 64  # a word in more titles than this is blocked by sorted neighbourhood
    window: int = 8  # neighbours compared inside an oversized block
    venue_evidence: int = 8  # anchor matches a venue needs before its counterparts are known
    venue_conflict_share: float = 0.02  # venues linked by fewer anchors than this share are different outlets


DEFAULT_CONFIG = MatchConfig()


@dataclass(frozen=True)
class _Prepared:
    variants: tuple[str, ...]  # normalized English titles
    cores: tuple[str, ...]  # the same without bracketed remarks
    heads: tuple[str, ...]  # the part before a subtitle separator, when there is one
    markers: frozenset[str]  # part / volume / edition numbers
    # the title after a numbered series name ("Tensor Programs IV: ..."), normalized, and its markers
    series_tails: tuple[tuple[str, frozenset[str]], ...]
    notice: frozenset[str]  # the kinds of notice (erratum, comment, reply ...); empty for a paper
    cut_off: bool  # the title ends in an ellipsis: a list cut it short, maybe inside a word
    translated: bool  # the only English title is a machine translation
    authors: tuple[tuple[str, str], ...]  # (surname, whole name run together)
    scripts: frozenset[str]  # the scripts the names are written in ("LATIN", "ARABIC", "CJK")
    year: int | None
    arxiv_id: str | None
    doi: str | None
    venue: str  # normalized; weak evidence, used only to order equally good matches
    source: str | None


# DBLP cites an arXiv paper as the journal "CoRR", volume "abs/2106.10165"
_CORR_VOLUME = re.compile(r"^\s*(?:corr\s*,?\s*)?abs/(?=\S)", re.IGNORECASE)
# a mirror's page of an arXiv paper ends its path with the id: huggingface.co/papers/2106.10165
_MIRROR_PATH = re.compile(
    r"^https?://[^?#]*/(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$", re.IGNORECASE
)


def canonical_ids(record: Record) -> tuple[str | None, str | None]:
    """(arXiv id without version, normalized non-arXiv DOI) of a record, from whichever fields have them."""
    arxiv: str | None = None
    corr = record.venue if record.venue and _CORR_VOLUME.match(record.venue) else None
    for text in (record.arxiv_id, record.url, record.doi, corr):
        if text:
            parsed = parse_arxiv_id(_CORR_VOLUME.sub("", text))
            if parsed:
                arxiv = parsed[0]
                break
    if arxiv is None and record.url:
        mirror = _MIRROR_PATH.match(record.url.strip())
        parsed = parse_arxiv_id(mirror.group(1)) if mirror else None
        arxiv = parsed[0] if parsed else None
    doi = normalize_doi(record.doi) if record.doi else None
    if doi:
        from_doi = arxiv_id_from_doi(doi)
        if from_doi:
            arxiv = arxiv or from_doi
            doi = None
    if doi is None and record.url and "doi.org/" in record.url.lower():
        doi_in_url = normalize_doi(record.url)
        if doi_in_url and not arxiv_id_from_doi(doi_in_url):
            doi = doi_in_url
    return arxiv, doi


def _prepare(record: Record) -> _Prepared:
    own = title_variants(record.title)
    translated = title_variants(record.title_en) if record.title_en else ()
    variants = own + tuple(v for v in translated if v not in own)
    english = [t for t in (record.title, record.title_en) if t]
    cores = tuple(dict.fromkeys(c for c in (core_title(t) for t in english if is_latin(t)) if c)) or variants
    heads = tuple(
        dict.fromkeys(h for h in (head_title(t) for t in english if is_latin(t)) if h and h not in cores)
    )
    markers = frozenset().union(*(title_markers(t) for t in english if is_latin(t)))
    tails = [numbered_series_tail(t) for t in english if is_latin(t)]
    series_tails = tuple(dict.fromkeys((normalize_title(t), title_markers(t)) for t in tails if t))
    arxiv, doi = canonical_ids(record)
    authors = tuple(dict.fromkeys(k for k in (name_key(a) for a in record.authors) if k[0]))
    return _Prepared(
        variants=variants,
        cores=cores,
        heads=heads,
        markers=markers,
        series_tails=series_tails,
        notice=frozenset().union(*(notice_kinds(t) for t in english)),
        cut_off=record.title.rstrip().endswith(("…", "...")),
        translated=not own and bool(translated),
        authors=authors,
        scripts=frozenset(map(_script, authors)),
        year=record.year,
        arxiv_id=arxiv,
        doi=doi,
        venue=normalize_title(record.venue) if record.venue else "",
        source=record.source,
    )


class _Clusters:
    """Union-find that keeps, per cluster, its arXiv ids and DOIs so conflicting unions are refused."""

    def __init__(self, prepared: Sequence[_Prepared]) -> None:
        self.parent = list(range(len(prepared)))
        self.arxiv: list[set[str]] = [{p.arxiv_id} if p.arxiv_id else set() for p in prepared]
        self.doi: list[set[str]] = [{p.doi} if p.doi else set() for p in prepared]
        self.sources: list[set[str]] = [{p.source} if p.source else set() for p in prepared]
        self.years: list[set[int]] = [{p.year} if p.year is not None else set() for p in prepared]
        self.named = [bool(p.authors) for p in prepared]
        # names in Latin script only: "雅各特" and "Jacot" cannot be compared, so they are
        # never "disjoint"
        self.people: list[tuple[tuple[str, str], ...]] = [
            tuple(k for k in p.authors if _script(k) == _LATIN) for p in prepared
        ]

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(
        self,
        i: int,
        j: int,
        *,
        check_doi: bool = True,
        check_source: bool = False,
        check_people: bool = False,
        year_tolerance: int | None = None,
    ) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        if self.arxiv[ri] and self.arxiv[rj] and self.arxiv[ri] != self.arxiv[rj]:
            return False
        if check_doi and self.doi[ri] and self.doi[rj] and not (self.doi[ri] & self.doi[rj]):
            return False
        if check_source and self.sources[ri] & self.sources[rj]:
            return False
        if year_tolerance is not None and self.years[ri] and self.years[rj]:
            # two records without a year can each match a conference and a journal version;
            # the cluster must not then hold both years
            years = self.years[ri] | self.years[rj]
            if max(years) - min(years) > year_tolerance:
                return False
        if (
            check_people
            and not (self.named[i] and self.named[j])
            and self.people[ri]
            and self.people[rj]
            and _author_overlap(self.people[ri], self.people[rj]) == 0
        ):
            # a mention that names nobody matches by title alone; it must not join the papers
            # of two groups of people that share a title ("Deep learning theory lecture notes")
            return False
        if ri > rj:  # the lower index is the root: labels do not depend on union order
            ri, rj = rj, ri
        self.parent[rj] = ri
        self.arxiv[ri] |= self.arxiv[rj]
        self.doi[ri] |= self.doi[rj]
        self.sources[ri] |= self.sources[rj]
        self.years[ri] |= self.years[rj]
        self.years[rj] = set()
        self.people[ri] = tuple(dict.fromkeys(self.people[ri] + self.people[rj]))
        self.people[rj] = ()
        self.arxiv[rj] = set()
        self.doi[rj] = set()
        self.sources[rj] = set()
        return True


_LATIN = "LATIN"


def _script(name: tuple[str, str]) -> str:
    """The script a name key is written in: LATIN up to Latin Extended-B (accents are folded),
    else the first word of its last letter's Unicode name ("ARABIC", "CJK", "CYRILLIC")."""
    last = max(name[1])
    return _LATIN if last < "\u0250" else unicodedata.name(last, "").split(" ")[0]


def _comparable_people(
    a: _Prepared, b: _Prepared
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """The two author lists without the names written in a script the other list does not use:
    "سهو يايدا" and "Sho Yaida" cannot be compared, so they neither agree nor disagree."""
    if a.scripts == b.scripts:
        return a.authors, b.authors
    shared = a.scripts & b.scripts
    return (
        tuple(k for k in a.authors if _script(k) in shared),
        tuple(k for k in b.authors if _script(k) in shared),
    )


def _idf(prepared: Sequence[_Prepared], config: MatchConfig) -> dict[str, float]:
    df: dict[str, int] = defaultdict(int)
    for p in prepared:
        for word in {w for v in p.variants for w in v.split()}:
            df[word] += 1
    # `smoothing` pseudo-records that lack every word keep idf meaningful on a week's few items
    n = len(prepared) + config.idf_smoothing
    return {w: 0.0 if w in FUNCTION_WORDS else math.log(n / (c + 1)) for w, c in df.items()}


def _candidate_pairs(
    prepared: Sequence[_Prepared], idf: dict[str, float], config: MatchConfig
) -> Iterable[tuple[int, int]]:
    """Pairs worth comparing: titles sharing one of their rarest words (prefix filtering).

    Main titles (before a subtitle) are indexed too, and the rarest long words also by their
    first letters, so "Environmental ..." meets "Environment ... - guest editor's foreword".
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    record_keys: list[list[str]] = []
    for index, p in enumerate(prepared):
        keys: set[str] = set()
        for variant in dict.fromkeys(p.variants + p.cores + p.heads):
            words = sorted(set(variant.split()), key=lambda w: (-idf.get(w, 0.0), w))
            prefix = max(len(words) - math.ceil(config.prefix_share * len(words)) + 1, 1)
            keys.update(words[:prefix])
            keys.update("~" + w[: config.stem] for w in words[:2] if len(w) > config.stem + 1)
        for key in keys:
            blocks[key].append(index)
        record_keys.append(sorted(keys))
    # a frequent word: each title is compared with its neighbours in sorted order only (the
    # order and each member's place in it, so a record's neighbours are read when needed)
    neighbours: dict[str, tuple[list[int], dict[int, int]]] = {}
    sort_keys: dict[int, tuple[str, int, tuple[tuple[str, str], ...]]] = {}

    def sort_key(i: int) -> tuple[str, int, tuple[tuple[str, str], ...]]:
        if i not in sort_keys:
            p = prepared[i]
            sort_keys[i] = (p.variants[0], p.year or 0, tuple(sorted(p.authors)))
        return sort_keys[i]

    for key, members in blocks.items():
        if len(members) > config.max_block:
            ordered = sorted(members, key=sort_key)
            neighbours[key] = (ordered, {i: place for place, i in enumerate(ordered)})
    letters, spelled = _spelled_orders(prepared)

    def window(order: list[int], place: int) -> list[int]:
        return order[max(0, place - config.window) : place + config.window + 1]

    # per record, so memory stays proportional to one record's candidates
    for i, keys_of_i in enumerate(record_keys):
        candidates: set[int] = set()
        for key in keys_of_i:
            near_key = neighbours.get(key)
            candidates.update(window(near_key[0], near_key[1][i]) if near_key is not None else blocks[key])
        for letters_order, places in spelled:
            if places[i] < 0:
                continue
            for j in window(letters_order, places[i]):
                # a neighbour in letters only is worth comparing when the letters are nearly the same
                if (
                    j > i
                    and j not in candidates
                    and Indel.normalized_similarity(letters[i], letters[j], score_cutoff=config.title_weak)
                ):
                    candidates.add(j)
        for j in sorted(candidates):
            if j > i:
                yield i, j


def _spelled_orders(prepared: Sequence[_Prepared]) -> tuple[list[str], list[tuple[list[int], list[int]]]]:
    """Two more sorted-neighbourhood passes (multi-pass blocking): the records ordered by their
    title's letters with the spaces removed, read forwards and backwards, each order with every
    record's place in it (-1 without a title). A typo in the rarest words, a word split in two
    ("altru istic") or two words written as one ("guesteditorial") leave no word key in common,
    but keep the letters before or after the change in order. A record's neighbours are read
    from the order when needed, not stored per record. Returns the letters too."""
    letters = ["".join(p.cores[0].split()) if p.cores else "" for p in prepared]
    titled = [i for i, spelled in enumerate(letters) if spelled]
    orders = []
    for reading in (lambda i: letters[i], lambda i: letters[i][::-1]):
        order = sorted(titled, key=reading)
        position = [-1] * len(prepared)
        for place, i in enumerate(order):
            position[i] = place
        orders.append((order, position))
    return letters, orders


def _same_person(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Tolerates typos, accents, "Camps" vs "Camps Paré", split names ("u ğ ur" vs "uğur")."""
    (sa, wa), (sb, wb) = a, b
    if sa == sb or wa == wb:
        return True
    if len(sa) >= 4 and len(sb) >= 4 and Indel.normalized_similarity(sa, sb) >= 0.8:
        return True
    if Indel.normalized_similarity(wa, wb) >= 0.85:
        return True
    if _swapped(a, b):
        return True  # family name first on one side only: "Wu Lei" / "Lei Wu"
    return (len(sa) >= 4 and sa in wb) or (len(sb) >= 4 and sb in wa)


def _swapped(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """The same two names in the other order: what one calls the family name (its last name)
    is the other's given name, and the other way round ("Lei Wu" / "Wu Lei"); the same letters
    cut at another place ("Ian Tan" / "Tania N") are another person."""
    (surname_a, whole_a), (surname_b, whole_b) = a, b
    if not (surname_a and surname_b and whole_a.endswith(surname_a) and whole_b.endswith(surname_b)):
        return False
    given_a, given_b = whole_a[: -len(surname_a)], whole_b[: -len(surname_b)]
    return bool(given_a) and given_a == surname_b and given_b == surname_a


def _author_overlap(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> int:
    """How many people of the shorter list are also in the longer one (each matched once)."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    free = list(large)
    found = 0
    for name in small:
        for k, other in enumerate(free):
            if _same_person(name, other):
                found += 1
                del free[k]
                break
    return found


def _informativeness(title: str, idf: dict[str, float]) -> float:
    return sum(idf.get(w, 0.0) for w in set(title.split()))


def _title_similarity(a: _Prepared, b: _Prepared) -> float:
    best = 0.0
    for xs, ys in ((a.variants, b.variants), (a.cores, b.cores)):
        for x in xs:
            for y in ys:
                sim = Indel.normalized_similarity(x, y)
                if a.translated or b.translated:
                    # a machine translation keeps the words but not always their order
                    sim = max(sim, fuzz.token_sort_ratio(x, y) / 100.0)
                best = max(best, sim)
    return best


def _contained(a: _Prepared, b: _Prepared, config: MatchConfig, *, fuzzy: bool = True) -> str | None:
    """The shorter title when one source added a subtitle or a remark to it.

    Either all words of the shorter title appear in the longer one (up to typos; a last word
    cut short counts when it starts a word there), or the longer title's main part (before
    ":" or " - ") is the shorter title: "X - book review" vs "X".
    """
    for x in a.cores:
        for y in b.cores:
            short, long_ = (x, y) if len(x) <= len(y) else (y, x)
            words = short.split()
            if len(words) >= 2 and _words_covered(words, long_.split(), fuzzy=fuzzy):
                return short
    for one, other in ((a, b), (b, a)):
        if other.heads:
            continue  # both have subtitles: differing subtitles may well mean different papers
        for head in one.heads:
            for core in other.cores:
                if Indel.normalized_similarity(head, core) >= config.title_strong:
                    return core
    return None


def _words_covered(words: list[str], others: list[str], *, fuzzy: bool = True) -> bool:
    pool = set(others)
    for position, word in enumerate(words):
        if word in pool:
            continue
        if not fuzzy:
            return False
        if len(word) >= 4 and any(
            Indel.normalized_similarity(word, other) >= 0.8
            for other in pool
            if abs(len(other) - len(word)) <= 2
        ):
            continue
        if position == len(words) - 1 and len(word) >= 3 and any(other.startswith(word) for other in pool):
            continue  # a title cut off in the middle of its last word
        return False
    return True


def _changes_words(a: _Prepared, b: _Prepared, idf: dict[str, float]) -> bool:
    """Whether one title is the other with a content word put inside it, swapped for another or
    negated: "Implicit regularization in (deep) matrix factorization", "The power of depth / width
    for ...", "... on separable / nonseparable data", "Attention is (not) all you need".

    Typos, spelling ("behaviour"), abbreviations ("nets"), initialisms ("NNs" / "neural
    networks"), contracted negations ("don't" / "do not"), compounds written apart ("non convex" /
    "nonconvex") and words added around a title kept whole (a subtitle, a remark, unless they
    negate it) are no change.
    """
    for x_core in map(expand_negations, a.cores):
        for y_core in map(expand_negations, b.cores):
            x, y = _join_compounds(x_core, y_core), _join_compounds(y_core, x_core)
            x, y = _spell_out_initialisms(x, y), _spell_out_initialisms(y, x)
            if _negations(x) != _negations(y):
                continue  # "Attention is not explanation" / "Attention is not not explanation"
            xs, ys = set(x.split()), set(y.split())
            short, long_ = (x, y) if len(x) <= len(y) else (y, x)
            if f" {short} " in f" {long_} ":
                return False
            if not _unmatched(xs - ys, ys - xs, idf) and not _unmatched(ys - xs, xs - ys, idf):
                return False  # these two forms differ only in spelling
    return True


def _negations(title: str) -> int:
    return sum(word in NEGATIONS for word in expand_negations(title).split())


def _spell_out_initialisms(title: str, other: str) -> str:
    """`title` with each word that `other` lacks and that is the initials of a run of words in
    `other`, optionally plural, replaced by that run: "gd for nns" -> "gradient descent for
    neural networks" when `other` says so."""
    words = title.split()
    other_words = other.split()
    vocabulary = set(other_words)
    spelled: list[str] = []
    for word in words:
        run = None
        if word not in vocabulary and word not in FUNCTION_WORDS and word not in NEGATIONS:
            run = _initialism_run(word, other_words)
        spelled.extend(run or [word])
    return " ".join(spelled)


def _initialism_run(word: str, words: Sequence[str]) -> list[str] | None:
    """The first run of `words` whose initials spell `word` or its singular ("nns"), at least
    two of them."""
    for initials in dict.fromkeys((word, word[:-1] if word.endswith("s") else word)):
        size = len(initials)
        if size < 2 or not initials.isalpha():
            continue
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if "".join(w[0] for w in run) == initials:
                return list(run)
    return None


def _join_compounds(title: str, other: str) -> str:
    """`title` with two neighbouring words written as one where `other` writes them so."""
    vocabulary = set(other.split())
    words: list[str] = []
    for word in title.split():
        if words and words[-1] + word in vocabulary:
            words[-1] += word
        else:
            words.append(word)
    return " ".join(words)


def _unmatched(words: set[str], others: set[str], idf: dict[str, float]) -> list[str]:
    """Content words with no typo, spelling variant, inflection or abbreviation among `others`."""
    return [
        w
        for w in words
        if (idf.get(w, 0.0) > 0.0 or w in _PREFIX_WORDS) and not any(_same_word(w, v) for v in others)
    ]


# function words that are also prefixes written apart: "over-parameterized" / "under-parameterized"
_PREFIX_WORDS = frozenset({"over", "under"})


def _same_word(word: str, other: str) -> bool:
    if _prefix_changed(word, other):
        return False  # "nonseparable" is no typo of "separable", however close the letters
    return (
        Indel.normalized_similarity(word, other) >= 0.8
        or other.startswith(word)  # inflected or cut off: "learn" / "learning"
        or _abbreviates(word, other)
        or _abbreviates(other, word)
    )


def _abbreviates(short: str, long_: str) -> bool:
    """Whether `short` abbreviates `long_` ("nets" / "networks"): the same first two letters,
    the rest in order."""
    if len(short) < 3 or len(short) >= len(long_) or short[:2] != long_[:2]:
        return False
    letters = iter(long_)
    return all(c in letters for c in short)


# Prefixes that make another word of a word, often its opposite ("separable" / "nonseparable",
# "overparameterized" / "underparameterized"); hyphenated forms were joined by `_join_compounds`.
_MEANING_PREFIXES = (
    "non", "un", "in", "im", "il", "ir", "dis", "a", "de", "anti", "counter", "mis",
    "over", "under", "sub", "super", "semi", "multi", "hyper", "pre", "post",
)  # fmt: skip


def _prefix_changed(word: str, other: str) -> bool:
    """Whether two words differ in a meaning prefix: one is the other behind it, or each has its
    own in front of the same stem, spelled alike ("overparameterized" / "underparametrized")."""
    if word == other:
        return False
    for prefix, stem in _prefix_splits(word):
        for other_prefix, other_stem in _prefix_splits(other):
            if prefix == other_prefix:
                continue
            if stem == other_stem:
                return True
            if (
                prefix
                and other_prefix
                # a typo of one word ("undrestanding") may start with another prefix ("un")
                and not word.startswith(other_prefix)
                and not other.startswith(prefix)
                and Indel.normalized_similarity(stem, other_stem) >= 0.8
            ):
                return True
    return False


def _prefix_splits(word: str) -> Iterator[tuple[str, str]]:
    yield "", word
    for prefix in _MEANING_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            yield prefix, word[len(prefix) :]


def _year_gap(a: _Prepared, b: _Prepared) -> int:
    return abs(a.year - b.year) if a.year is not None and b.year is not None else 0


def _verbatim_inside(title: str, others: Sequence[str]) -> bool:
    """`title` word for word inside another form, the words around it not negating it ("... may
    not be explainable by norms")."""
    return any(
        f" {title} " in f" {other} " and _negations(other) == _negations(title)
        for other in others
        if other != title
    )


def _cut_short(title: str, a: _Prepared, b: _Prepared) -> bool:
    """Whether `title`, a title of one record, is the other's cut short: the other's main title
    before its subtitle, or the start of the other's where this one ends in an ellipsis."""
    for one, other in ((a, b), (b, a)):
        if title in one.cores and (
            title in other.heads or (one.cut_off and any(core.startswith(title) for core in other.cores))
        ):
            return True
    return False


def _signature(p: _Prepared) -> tuple[str, int | None, tuple[str, ...]]:
    return (p.cores[0] if p.cores else "", p.year, tuple(sorted(s for s, _ in p.authors)))


def _reused(title: str, a: _Prepared, b: _Prepared, ctx: _Context) -> bool:
    """Whether other records carry `title` in a year that makes it a series title.

    The pair itself does not count: a copy whose year is one off (a preprint, a scraped
    record) must not turn its own paper's title into "used in several years"."""
    counts = ctx.title_years.get(title)
    if not counts:
        return False
    others = {
        year
        for year, n in counts.items()
        if n - (year == a.year and title in a.cores) - (year == b.year and title in b.cores) > 0
    }
    mention, paper = (a, b) if _anonymous(a) else (b, a)
    if others and _anonymous(mention) and paper.authors:
        # a mention that names neither people nor year: the paper's own people using the
        # title in another year is its journal version, not a series
        uses = ctx.title_people[title]
        others = {year for year in others if not _all_by(uses[year], paper.authors)}
    return bool(others) and len(others | {y for y in (a.year, b.year) if y is not None}) > 1


def _anonymous(p: _Prepared) -> bool:
    """A mention that names no people and no year: it can say nothing about which version it means."""
    return not p.authors and p.year is None


def _all_by(uses: Sequence[tuple[tuple[str, str], ...]], people: tuple[tuple[str, str], ...]) -> bool:
    """Whether every use (its authors) is by `people`: at least half of the shorter list in common."""
    return all(
        authors and 2 * _author_overlap(authors, people) >= min(len(authors), len(people)) for authors in uses
    )


def _alike_in_one_source(p: _Prepared, ctx: _Context) -> int:
    """The most records of one source (all records without one count as one source) that the
    rule for generic titles cannot tell from `p`: the same people, the same year, the same title
    up to typos, so "Book reivews" and "Book revews" do not make one issue's column another's.
    Copies from several sources are one paper, several alike columns in one source are ambiguous."""
    title, year, people = signature = _signature(p)
    if signature not in ctx.alike_counts:
        alike = Counter(
            source
            for source, other in ctx.titles_by_people.get((year, people), ())
            if _same_words(title, other)
        )
        ctx.alike_counts[signature] = max(alike.values(), default=0)
    return ctx.alike_counts[signature]


def _same_words(title: str, other: str) -> bool:
    """The same words in the same order, up to a typo in each: "book reivews" / "book revews",
    not "sample complexity of sparse recovery" / "... of kernel recovery"."""
    words, other_words = title.split(), other.split()
    return len(words) == len(other_words) and all(
        word == another
        or (min(len(word), len(another)) >= 4 and Indel.normalized_similarity(word, another) >= 0.8)
        for word, another in zip(words, other_words, strict=True)
    )


def _undated(p: _Prepared) -> tuple[str, int | None, tuple[str, ...]]:
    title, _, people = _signature(p)
    return title, None, people


def _unshared_weight(a: _Prepared, b: _Prepared, idf: dict[str, float]) -> float:
    """Share of the titles' word weight found on one side only (typos count as found).

    "Secure transaction processing in ..." vs "Secure buffering in ..." differ in the words
    that say what the paper is about, however similar the strings are.
    """
    best = 1.0
    for x in a.cores:
        for y in b.cores:
            xs, ys = set(x.split()), set(y.split())
            only_x = [
                w for w in xs - ys if not any(Indel.normalized_similarity(w, v) >= 0.8 for v in ys - xs)
            ]
            only_y = [
                w for w in ys - xs if not any(Indel.normalized_similarity(w, v) >= 0.8 for v in xs - ys)
            ]
            total = sum(idf.get(w, 0.0) for w in xs | ys)
            if total > 0:
                best = min(best, sum(idf.get(w, 0.0) for w in only_x + only_y) / total)
    return best


@dataclass(frozen=True)
class _Context:
    idf: dict[str, float]
    title_years: dict[str, Counter[int]]  # how many records carry a title, per year
    # the authors of those uses, per year ("who else used the title then")
    title_people: dict[str, dict[int, list[tuple[tuple[str, str], ...]]]]
    # the (source, title) of each signed record, by year and people (`_alike_in_one_source`)
    titles_by_people: dict[tuple[int | None, tuple[str, ...]], list[tuple[str | None, str]]]
    alike_counts: dict[tuple[str, int | None, tuple[str, ...]], int]  # memo of `_alike_in_one_source`
    # how many records share a title and its people, whatever the year
    undated_count: dict[tuple[str, int | None, tuple[str, ...]], int]


def pair_score(a: _Prepared, b: _Prepared, ctx: _Context, config: MatchConfig) -> float:
    """A match score in (0, 1] for two records, or 0.0 when the evidence says "not the same paper"."""
    if a.arxiv_id and b.arxiv_id and a.arxiv_id != b.arxiv_id:
        return 0.0
    if a.doi and b.doi and a.doi != b.doi:
        return 0.0
    if a.notice != b.notice:  # an erratum, a comment, the reply to it
        return 0.0
    # "Part I" / "Part II"; a series name with a number put before a title in a later version
    # ("Tensor Programs IV: ...") is no other part when the same people wrote both (checked below)
    renamed = False
    if markers_conflict(a.markers, b.markers):
        renamed = _series_renamed(a, b, config)
        if not renamed:
            return 0.0
    year_gap = _year_gap(a, b)
    if year_gap > config.year_tolerance + config.soft_year_gap:
        return 0.0
    soft_year = year_gap > config.year_tolerance  # e.g. a preprint and its journal version
    year_known = a.year is not None and b.year is not None and not soft_year
    sim = _title_similarity(a, b)
    contained = _contained(a, b, config) if sim < config.title_strong else None
    if sim < config.title_weak and contained is None:
        return 0.0
    title = contained or min((*a.cores, *b.cores), key=len)
    info = _informativeness(title, ctx.idf)
    # a title used in several years names a series ("Book review column"), not one paper
    reused = any(_reused(c, a, b, ctx) for c in {*a.cores, *b.cores})
    generic = info < config.min_informative or (reused and info < config.series_informative)

    people_a, people_b = _comparable_people(a, b)
    authors_known = bool(people_a) and bool(people_b)
    found = _author_overlap(people_a, people_b) if authors_known else 0
    shorter = min(len(people_a), len(people_b))
    longer = max(len(people_a), len(people_b))
    agree = authors_known and found >= config.author_overlap * shorter
    if renamed and not agree:
        return 0.0
    if authors_known and found == 0:
        # disjoint author lists: only the same specific title in the same year survives them
        # (a corporate author on one side, a panel's moderator vs. its panelists)
        if not (
            sim >= config.title_exact
            and year_known
            and not generic
            and info >= config.author_free_informative
            and len(title.split()) >= config.author_free_min_words
        ):
            return 0.0
        return sim
    if soft_year:
        # a year or two apart: only a specific title by the same people, and only as the best match
        # of both records (match_clusters checks that), so a conference and a journal version
        # listed side by side each keep their own counterpart. A title cut short is the same
        # title: a list cut it ("..."), or the other is a book or journal version that added a
        # subtitle (while "X for Y" may be the same people's next paper)
        cut_short = contained is not None and _cut_short(contained, a, b)
        if generic or not agree or (sim < config.title_strong and not cut_short):
            return 0.0
        if not cut_short and _changes_words(a, b, ctx.idf):
            return 0.0  # the same people's next paper, a word changed ("... two-layer ReLU ...")
        # the nearer year wins: a version one year off beats one two years off
        score = max(sim, config.title_weak) if cut_short else sim
        return score - config.soft_year_penalty * (year_gap - config.year_tolerance)
    if generic:
        # "Editorial", "Introduction": only the same people in the same year make them one
        same_people = agree and found >= config.author_overlap * longer
        # specific words, generic only because the title is reused in several years (a
        # conference and a journal version): a record without a year may still join one of
        # them, and the union-find keeps it out of the other
        one_undated = a.year is None or b.year is None
        reused_specific = info >= config.min_informative and one_undated
        # a short title by the same people, found only twice in the whole input: nothing else
        # it could be ("Managing web data" by one author, one copy without a year)
        only_pair = one_undated and _undated(a) == _undated(b) and ctx.undated_count[_undated(a)] == 2
        if not (same_people and (year_known or reused_specific or only_pair)):
            return 0.0
        if sim < config.title_weak and _contained(a, b, config, fuzzy=False) is None:
            return 0.0  # "Book reviews" is not "Book review column"
        # a duplicate-free source lists a paper once: two alike rows in it are already two
        # papers, and nothing says which of another source's copies is which
        limit = 1 if a.source is not None and b.source is not None else config.max_generic_group
        if max(_alike_in_one_source(a, ctx), _alike_in_one_source(b, ctx)) > limit:
            # several indistinguishable columns in one source (one "Book reviews" per issue):
            # nothing says which is which. Without a `source`, all records count as one source
            return 0.0
        return sim if sim >= config.title_weak else config.title_weak
    if sim >= config.title_strong:
        # a word put inside a title, swapped or negated makes another paper unless the same
        # people say otherwise
        return 0.0 if not agree and _changes_words(a, b, ctx.idf) else sim
    if (
        contained is not None
        and not authors_known
        and info >= config.author_free_informative
        and _verbatim_inside(contained, (*a.cores, *b.cores))
    ):
        # a mention line: a specific title, word for word, plus whatever surrounds it on the page
        return config.title_weak
    if not agree:
        return 0.0
    if contained is not None:  # one source added a subtitle or a remark
        return max(sim, config.title_weak)
    return sim if _unshared_weight(a, b, ctx.idf) <= config.max_unshared else 0.0


def _series_renamed(a: _Prepared, b: _Prepared, config: MatchConfig) -> bool:
    """Whether one title is the other behind a numbered series name, their numbers agreeing
    otherwise: "Tensor Programs IV: Feature Learning in Infinite-Width Neural Networks" and
    "Feature Learning in Infinite-Width Neural Networks"."""
    for one, other in ((a, b), (b, a)):
        for tail, markers in one.series_tails:
            if not markers_conflict(markers, other.markers) and any(
                Indel.normalized_similarity(tail, core) >= config.title_strong for core in other.cores
            ):
                return True
    return False


def _acronym(text: str) -> str:
    return "".join(w[0] for w in text.split() if w not in FUNCTION_WORDS)


def _tie_break(a: _Prepared, b: _Prepared) -> float:
    """Weak evidence that orders equally good matches: shared people, venue agreement, author order."""
    venue = 0.0
    if a.venue and b.venue:
        venue = fuzz.token_set_ratio(a.venue, b.venue) / 100.0
        short_a, short_b = _acronym(a.venue), _acronym(b.venue)
        if (len(short_a) > 1 and short_a in b.venue.split()) or (
            len(short_b) > 1 and short_b in a.venue.split()
        ):
            venue = 1.0  # "vldb" / "very large data bases"
    order = 1.0 if a.authors and b.authors and a.authors[0][0] == b.authors[0][0] else 0.0
    # the share of all named people the two lists have in common: a full list beats a
    # partial one ("Zoo" by four people vs. a later "Zoo" sharing two of them)
    people = 0.0
    if a.authors and b.authors:
        people = _author_overlap(a.authors, b.authors) / max(len(a.authors), len(b.authors))
    return 2.0 * people + venue + 0.5 * order


def _venue_pair(a: _Prepared, b: _Prepared) -> tuple[str, str]:
    return (a.venue, b.venue) if a.venue <= b.venue else (b.venue, a.venue)


def _venue_conflicts(
    prepared: Sequence[_Prepared], scored: Sequence[tuple[float, float, int, int]], config: MatchConfig
) -> set[tuple[str, str]]:
    """Venue pairs that this input shows to be different outlets.

    Venue names are learned from the input itself, not from a list: the near-certain matches
    (the same specific title in the same year or, where a year is missing, each other's only
    such counterpart) tell which names stand for one outlet ("sigmod conference" /
    "international conference on management of data"). Two venues that each
    have many such anchors but (almost) never share one are different places, so a talk at
    one and a same-titled article at the other are different records. Venues with little
    evidence, as in a week's handful of items, are never in conflict.
    """
    anchors: dict[tuple[str, str], int] = defaultdict(int)
    per_venue: dict[str, int] = defaultdict(int)
    exact = [
        (i, j)
        for negative, _, i, j in scored
        if -negative >= config.title_exact and prepared[i].venue and prepared[j].venue
    ]
    counterparts = Counter(k for pair in exact for k in pair)
    for i, j in exact:
        a, b = prepared[i], prepared[j]
        # a source without years (a reading list, a Scholar export) anchors too, where the two
        # records are each other's only exact counterpart: one listing of the paper at each venue
        if (a.year is not None and a.year == b.year) or (
            (a.year is None or b.year is None) and counterparts[i] == counterparts[j] == 1
        ):
            anchors[_venue_pair(a, b)] += 1
            per_venue[a.venue] += 1
            per_venue[b.venue] += 1
    known = {v for v, n in per_venue.items() if n >= config.venue_evidence}
    conflicts: set[tuple[str, str]] = set()
    for _, _, i, j in scored:
        a, b = prepared[i], prepared[j]
        if a.venue in known and b.venue in known and a.venue != b.venue:
            pair = _venue_pair(a, b)
            evidence = min(per_venue[a.venue], per_venue[b.venue])
            if anchors.get(pair, 0) <= config.venue_conflict_share * evidence:
                conflicts.add(pair)
    return conflicts


def _build_context(
    prepared: Sequence[_Prepared],
    config: MatchConfig = DEFAULT_CONFIG,
    identified: Sequence[int] | None = None,
) -> _Context:
    """Corpus statistics the pair decision needs: word rarity, how many records share a title.

    `identified[i]` is the cluster of record i after identifier matching: the copies of one
    arXiv id or DOI (a listing item and its metadata) are one use of their title, not two.
    """
    title_years: dict[str, Counter[int]] = defaultdict(Counter)
    title_people: dict[str, dict[int, list[tuple[tuple[str, str], ...]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    counted: set[tuple[str, int, int]] = set()
    titles_by_people: dict[tuple[int | None, tuple[str, ...]], list[tuple[str | None, str]]] = defaultdict(
        list
    )
    undated_count: dict[tuple[str, int | None, tuple[str, ...]], int] = defaultdict(int)
    for index, p in enumerate(prepared):
        cluster = identified[index] if identified is not None else index
        for core in p.cores:
            if p.year is not None and (core, p.year, cluster) not in counted:
                counted.add((core, p.year, cluster))
                title_years[core][p.year] += 1
                title_people[core][p.year].append(p.authors)
        if p.authors:
            title, year, people = _signature(p)
            titles_by_people[year, people].append((p.source, title))
        undated_count[_undated(p)] += 1
    return _Context(
        idf=_idf(prepared, config),
        title_years=title_years,
        title_people=title_people,
        titles_by_people=titles_by_people,
        alike_counts={},
        undated_count=undated_count,
    )


def clear_caches() -> None:
    """Forget memoized normalizations (benchmarks start each size cold)."""
    for cached in (normalize_title, clean_text, surname):
        cached.cache_clear()


def match_clusters(records: Sequence[Record], config: MatchConfig = DEFAULT_CONFIG) -> list[int]:
    """A cluster label per record (records with one label name the same paper).

    Labels are the index of the cluster's first record, so they are deterministic for a
    given input order.
    """
    with _cyclic_gc_paused():
        return _match(records, config)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Matching allocates millions of small acyclic objects; the cycle collector would rescan
    all of them again and again (a third of the time at 100k records), so pause it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _match(records: Sequence[Record], config: MatchConfig) -> list[int]:
    prepared = [_prepare(r) for r in records]
    clusters = _Clusters(prepared)
    by_arxiv: dict[str, int] = {}
    for index, p in enumerate(prepared):
        if p.arxiv_id:
            clusters.union(by_arxiv.setdefault(p.arxiv_id, index), index, check_doi=False)
    by_doi: dict[str, int] = {}
    for index, p in enumerate(prepared):
        if p.doi:
            clusters.union(by_doi.setdefault(p.doi, index), index)
    ctx = _build_context(prepared, config, [clusters.find(i) for i in range(len(prepared))])
    scored: list[tuple[float, float, int, int]] = []
    best: dict[int, float] = defaultdict(float)
    for i, j in _candidate_pairs(prepared, ctx.idf, config):
        if clusters.find(i) == clusters.find(j):
            continue
        score = pair_score(prepared[i], prepared[j], ctx, config)
        if score > 0.0:
            scored.append((-score, -_tie_break(prepared[i], prepared[j]), i, j))
            # the mutual-best rule for versions a year apart weighs dated or signed counterparts:
            # a mention naming neither matches both versions equally and says nothing
            if not _anonymous(prepared[j]):
                best[i] = max(best[i], score)
            if not _anonymous(prepared[i]):
                best[j] = max(best[j], score)
    conflicts = _venue_conflicts(prepared, scored, config)
    if conflicts:
        # a record with a counterpart at a matching venue gives up those at conflicting ones;
        # a lone counterpart is kept, since one source may simply name the venue wrongly
        conflicting = [_venue_pair(prepared[i], prepared[j]) in conflicts for _, _, i, j in scored]
        has_fitting: set[int] = set()
        for (_, _, i, j), conflict in zip(scored, conflicting, strict=True):
            if not conflict:
                has_fitting.update((i, j))
        scored = [
            s
            for s, conflict in zip(scored, conflicting, strict=True)
            if not conflict or not ({s[2], s[3]} & has_fitting)
        ]
    scored.sort()  # strongest first: with sources, the best counterpart of a record claims it
    for negative, _, i, j in scored:
        if _year_gap(prepared[i], prepared[j]) <= config.year_tolerance:
            clusters.union(i, j, check_source=True, check_people=True, year_tolerance=config.year_tolerance)
        elif -negative >= best[i] and -negative >= best[j]:  # years apart: mutual best matches only
            clusters.union(
                i,
                j,
                check_source=True,
                check_people=True,
                year_tolerance=config.year_tolerance + config.soft_year_gap,
            )
    return [clusters.find(i) for i in range(len(records))]


__all__ = ["DEFAULT_CONFIG", "MatchConfig", "Record", "canonical_ids", "match_clusters", "normalize_title"]
