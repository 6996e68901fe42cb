"""Canonical paper identifiers: arXiv ids (new and old style, any URL or text form) and DOIs.

arXiv ids are returned without version ("2106.10165", "math/0309136") plus the version
as a separate int, so every stage keys a paper the same way whichever form it was seen in.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

# Digits are spelled [0-9], never \d: Python's \d matches every script's digits, and "２２０３.０３４６６"
# or "٢١٠٦.١٠١٦٥" would come out as ids no URL or other source agrees with. _ascii() turns such
# forms into ASCII first, so a digit that is still not ASCII after it is no digit of an id.
_NEW_ID = r"[0-9]{4}\.[0-9]{4,5}"
# Archive names of old-style ids (before April 2007): arXiv's real list, so "answer/1234567" is no id.
_OLD_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg|comp-gas|cond-mat|cs"
    "|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math|mtrl-th|nlin|nucl-ex|nucl-th|patt-sol"
    "|physics|plasm-ph|q-alg|q-bio|quant-ph|solv-int|supr-con"
)
# ... optionally cited with a subject class: math.GT/0309136, cond-mat.dis-nn/0101001, physics.optics/0101001
_OLD_ID = rf"(?:{_OLD_ARCHIVES})(?:\.[A-Za-z]{{2}}|\.[a-z]+(?:-[a-z]+)*)?/[0-9]{{7}}"
_VERSION = r"(?:v([0-9]{1,3}))?"
# Where an id ends inside text or a URL: a further digit ("arXiv:2106.101651", "v12345") means the
# token is something longer, not this id. Letters, punctuation and Chinese text may follow.
_END = r"(?!v?[0-9])"

# An id standing on its own: anchored so "12106.101650" or "x2106.10165" don't match.
_ID_BODY = re.compile(rf"^(?:arxiv:)?(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}$", re.IGNORECASE | re.ASCII)

# arXiv's hosts under their old names, which old pages still link to: xxx.lanl.gov (until
# 1999) and its bare address; lanl.arxiv.org and export.arxiv.org are arxiv.org's own subdomains
OLD_ARXIV_HOSTS = ("xxx.lanl.gov", "128.84.21.199")
# Ids inside free text or URLs.
_URL_FORM = re.compile(
    rf"(?:arxiv\.org|xxx\.lanl\.gov|128\.84\.21\.199)/(?:abs|pdf|html|format|ps)/(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}{_END}",
    re.IGNORECASE | re.ASCII,
)
_DOI_FORM = re.compile(
    rf"10\.48550/arxiv\.(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}{_END}", re.IGNORECASE | re.ASCII
)
_PREFIX_FORM = re.compile(
    rf"arxiv\s*:\s*(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}{_END}", re.IGNORECASE | re.ASCII
)
_BRACKET_FORM = re.compile(rf"\[(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}\]", re.ASCII)
_OAI_FORM = re.compile(
    rf"oai:arxiv\.org:(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}{_END}", re.IGNORECASE | re.ASCII
)
# A bare new-style id in text ("see 2106.10165v2"), not part of a longer number or a DOI/version string.
_BARE_NEW = re.compile(rf"(?<![\w./-])(?P<id>{_NEW_ID}){_VERSION}(?![\w.-]*\d)", re.ASCII)

# Old-style ids written bare in text ("hep-th/9711200", "math.PR/0601001").
_BARE_OLD = re.compile(
    rf"(?<![\w./-])(?P<id>(?:{_OLD_ARCHIVES})(?:\.[A-Z]{{2}})?/[0-9]{{7}}){_VERSION}(?![\w-]*\d)", re.ASCII
)

# DOI suffixes are printable ASCII in practice: a Chinese or Arabic sentence written right after
# one ("见 10.1145/3446776。", "10.1145/3446776的证明") is not part of it
_DOI = re.compile(r"\b(10\.[0-9]{4,9}/[!#-&(-;=?-~]+)", re.ASCII)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# What a publisher's URL adds after the DOI it is built on: the page shown ("/full", "/meta",
# "/-/DCSupplemental"), then a query ("?download=true") or a fragment ("#citeas"), or both.
_URL_TAIL = re.compile(
    r"(?:/(?:full|meta|pdf|epdf|abstract|fulltext|html|figures|tables|references|citedby"
    r"|-/dcsupplemental))?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;)]}"
# The length of the store's doi columns (store/schema.py): PostgreSQL refuses a longer value, and
# no registered DOI comes near it, so a longer candidate is a hostile or garbled link, not a DOI.
DOI_LENGTH = 256


# Arabic-Indic and Extended Arabic-Indic digits (NFKC keeps them) and the Arabic decimal separator.
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")


def _ascii(text: str) -> str:
    """Full-width ("２２０３．０３４６６", "arXiv："), Arabic-Indic ("٢١٠٦.١٠١٦٥") and other
    compatibility forms -> their ASCII spelling, so they name the same id as the ASCII one."""
    if text.isascii():  # nearly every text: no copy, no normalisation
        return text
    return unicodedata.normalize("NFKC", text).translate(_ARABIC_DIGITS)


def _valid_old_style(number: str) -> bool:
    """YYMMNNN of the old scheme: August 1991 to March 2007, month 01-12."""
    year, month = int(number[:2]), int(number[2:4])
    return 1 <= month <= 12 and (year >= 91 or year <= 7)


def _valid_new_style(arxiv_id: str) -> bool:
    """YYMM.NNNN(N): from April 2007 (0704) on, month 01-12, 5-digit numbers only from 1501 on,
    never number 0. YY 91-99 is the 1990s, as in old-style ids: "9912.12345" is no id."""
    yymm, number = arxiv_id.split(".")
    month_code = int(yymm)
    if not (704 <= month_code < 9100 and 1 <= month_code % 100 <= 12) or int(number) == 0:
        return False
    return month_code >= 1501 if len(number) == 5 else month_code < 1501


def _canonical(raw_id: str, raw_version: str | None) -> tuple[str, int | None] | None:
    arxiv_id = raw_id
    if "/" in arxiv_id:
        archive, number = arxiv_id.split("/", 1)
        # "math.GT/0309136" names the same paper as "math/0309136": the subject class is not part of the id
        arxiv_id = f"{archive.split('.')[0].lower()}/{number}"
        if not _valid_old_style(number):
            return None
    elif not _valid_new_style(arxiv_id):
        return None
    version = int(raw_version) if raw_version else None
    if version == 0:
        return None
    return arxiv_id, version


def is_arxiv_host(host: str) -> bool:
    """arxiv.org, a subdomain of it (export., lanl.) or one of its old names."""
    host = host.lower().removeprefix("www.").split(":")[0]
    return host == "arxiv.org" or host.endswith(".arxiv.org") or host in OLD_ARXIV_HOSTS


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """One id in any single form (bare, versioned, `arXiv:`, URL, arXiv DOI, OAI) -> (id, version)."""
    candidate = _ascii(unquote(text.strip())).strip().strip("[]()<>.,;")
    match = _ID_BODY.match(candidate)
    if match:
        return _canonical(match.group("id"), match.group(2))
    for pattern in (_URL_FORM, _DOI_FORM, _OAI_FORM, _PREFIX_FORM):
        match = pattern.search(candidate)
        if match:
            return _canonical(match.group("id"), match.group(2))
    return None


def find_arxiv_ids(text: str) -> list[tuple[str, int | None]]:
    """Every arXiv id mentioned in free text, first occurrence order, one entry per id.

    When the same id appears with and without a version, the highest version is kept.
    """
    found: dict[str, int | None] = {}
    order: list[str] = []
    covered: set[int] = set()  # positions inside an id already taken by an earlier form
    text = _ascii(unquote(text))

    def add(match: re.Match[str]) -> None:
        start, end = match.span()
        if start in covered:
            return
        canonical = _canonical(match.group("id"), match.group(2))
        if canonical is None:
            return
        covered.update(range(start, end))
        arxiv_id, version = canonical
        if arxiv_id not in found:
            order.append(arxiv_id)
            found[arxiv_id] = version
        elif version is not None and (found[arxiv_id] or 0) < version:
            found[arxiv_id] = version

    for pattern in _TEXT_FORMS:
        for match in pattern.finditer(text):
            add(match)
    # report in order of first appearance in the text
    first_pos: dict[str, int] = {}
    for pattern in _TEXT_FORMS:
        for match in pattern.finditer(text):
            canonical = _canonical(match.group("id"), match.group(2))
            if canonical and canonical[0] in found:
                first_pos[canonical[0]] = min(first_pos.get(canonical[0], match.start()), match.start())
    order.sort(key=lambda i: first_pos.get(i, 0))
    return [(i, found[i]) for i in order]


_TEXT_FORMS = (_URL_FORM, _DOI_FORM, _OAI_FORM, _PREFIX_FORM, _BRACKET_FORM, _BARE_NEW, _BARE_OLD)


def normalize_doi(text: str) -> str | None:
    """`https://doi.org/10.1103/PhysRevB.85.115117` -> `10.1103/physrevb.85.115117` (DOIs are case-insensitive).

    None when `text` names no DOI, or one longer than `DOI_LENGTH`."""
    candidate = _DOI_PREFIX.sub("", _ascii(unquote(text.strip())).strip())
    match = _DOI.search(candidate)
    if not match:
        return None
    # the sentence's punctuation first ("(.../meta)."), so the page suffix is at the end
    core = match.group(1).rstrip(_TRAILING_PUNCTUATION)
    doi = _URL_TAIL.sub("", core, count=1).rstrip(_TRAILING_PUNCTUATION)
    if len(doi) > DOI_LENGTH:
        return None
    return doi.lower()


def find_dois(text: str) -> list[str]:
    """Every DOI in free text, normalized, in order, without duplicates."""
    seen: list[str] = []
    for match in _DOI.finditer(_ascii(unquote(text))):
        doi = normalize_doi(match.group(1))
        if doi and doi not in seen:
            seen.append(doi)
    return seen


def arxiv_id_from_doi(doi: str) -> str | None:
    """arXiv's own DOIs (`10.48550/arXiv.2106.10165`) name the arXiv id."""
    match = _DOI_FORM.search(_ascii(doi))
    if not match:
        return None
    canonical = _canonical(match.group("id"), None)
    return canonical[0] if canonical else None


# Sites whose paper pages are named by the arXiv id: /papers/2106.10165, /arxiv/2106.10165v2, ...
_ARXIV_MIRRORS = (
    "huggingface.co",
    "papers.cool",
    "alphaxiv.org",
    "semanticscholar.org",
    "paperswithcode.com",
    "scholar.archive.org",
    "arxiv-vanity.com",
    "ar5iv.labs.arxiv.org",
    "ar5iv.org",
    "arxiv.sciencecast.org",
)
# The id is a whole path segment (or "<id>.pdf"): "/papers/2106.10165-notes" is some other page
_MIRROR_PATH_ID = re.compile(rf"/(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}(?:/|\.pdf|$)", re.ASCII)


def mirror_arxiv_id(url: str) -> tuple[str, int | None] | None:
    """The arXiv id in the URL of a site that mirrors arXiv papers (huggingface.co/papers/<id>,
    papers.cool/arxiv/<id>, arxiv-vanity, ar5iv, ...), or None for any other URL."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    if not any(host == mirror or host.endswith("." + mirror) for mirror in _ARXIV_MIRRORS):
        return None
    match = _MIRROR_PATH_ID.search(_ascii(unquote(parts.path)))
    return _canonical(match.group("id"), match.group(2)) if match else None


def abs_url(arxiv_id: str, version: int | None = None) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}" + (f"v{version}" if version else "")


# arXiv marks a withdrawal in the comment ("This paper has been withdrawn by the author")
# and usually replaces the abstract with the same sentence.
_WITHDRAWN = re.compile(
    r"\b(?:this|the) (?:paper|article|manuscript|submission|preprint|work) (?:has been|was|is) withdrawn"
    r"|\bwithdrawn by (?:the )?(?:authors?|arxiv|arxiv admin(?:istrators?)?)\b",
    re.IGNORECASE,
)


def is_withdrawn(comment: str | None, abstract: str | None) -> bool:
    """Whether arXiv's comment or abstract says the paper was withdrawn.

    The abstract counts only when it opens with the statement: a paper may well discuss
    withdrawn results.
    """
    if comment and (_WITHDRAWN.search(comment) or comment.lstrip().lower().startswith("withdrawn")):
        return True
    return bool(abstract and _WITHDRAWN.match(abstract.lstrip()))
