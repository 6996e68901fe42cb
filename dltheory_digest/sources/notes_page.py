"""The `notes_page` kind: any curated page that lists papers (Obsidian Publish, TiddlyWiki,
a GitHub README or Markdown file, a Zhihu article, plain text).

Every paper mention becomes a MENTION item with its link, the ids found in it (arXiv ids
in any form, DOIs), its title text and the commentary written around it; videos,
courses, wiki pages, blogs and code links are kept as OTHER items (`extra` says which).
The page is read line by line (see `blocks`), so the same rules serve HTML, Markdown
and the plain-text renderings of such pages.

An id's title is the text after it, unless that only reads as a remark ("must read!",
"Smith et al.") and the text before reads as a title; markup a page shows as text
(`&lt;script&gt;`, unrendered Markdown links) is never part of a title or commentary.

Title-only lines (a paper title written without link or id, common in text renderings)
are kept as mentions with `extra` evidence "title_only"; resolution decides whether a
paper by that title exists.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import Tag
from pydantic import BaseModel, ConfigDict

from dltheory_digest.identity.normalize import TitleShape, title_shape
from dltheory_digest.ids import (
    abs_url,
    arxiv_id_from_doi,
    find_arxiv_ids,
    find_dois,
    is_arxiv_host,
    mirror_arxiv_id,
    normalize_doi,
    parse_arxiv_id,
)
from dltheory_digest.mathtext import MATH_SYMBOL_CHARS
from dltheory_digest.models import RESOURCE_CATEGORIES, Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind
from dltheory_digest.sources.blocks import (
    Block,
    Link,
    clean,
    finish,
    has_cjk,
    html_blocks,
    is_generic_anchor,
    latin_words,
    looks_like_html,
    script_lang,
    soup_of,
    sub_block,
    text_blocks,
)
from dltheory_digest.sources.decode import page_text


class NotesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title_only: bool = True  # keep lines that look like a paper title without link or id
    others: bool = True  # keep videos, courses, wiki, blog and code links as OTHER items
    tiddlers: tuple[str, ...] = ()  # for a single-file TiddlyWiki: read only these tiddlers (default: all)


# ---------------------------------------------------------------------------------------
# What a URL points to

_PAPER_HOSTS = (
    "openreview.net",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "proceedings.mlr.press",
    "jmlr.org",
    "aclanthology.org",
    "semanticscholar.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "link.springer.com",
    "sciencedirect.com",
    "pnas.org",
    "nature.com",
    "science.org",
    "journals.aps.org",
    "iopscience.iop.org",
    "biorxiv.org",
    "ojs.aaai.org",
    "openaccess.thecvf.com",
    "paperswithcode.com",
    "researchgate.net",
    "ssrn.com",
    "hal.science",
    "hal.archives-ouvertes.fr",
    "alphaxiv.org",
    "huggingface.co/papers",
    "scholar.archive.org",
    "papers.cool/arxiv",
)
# Matched with their subdomains (m., music., player.); youtube-nocookie.com is YouTube's
# privacy-mode embed host, the one pages copy from an embedded player.
_VIDEO_HOSTS = (
    "youtube.com",
    "youtube-nocookie.com",
    "youtu.be",
    "vimeo.com",
    "bilibili.com",
    "b23.tv",
    "videolectures.net",
    "slideslive.com",
)
# Pages of a video site that list videos (a search, a channel, a user's uploads): none of
# them is the talk a note points at, so they are "listing", not "video". A playlist or a
# collection is one: a lecture series, kept as a video.
_VIDEO_LISTINGS = (
    # youtube.com, m.youtube.com: /results?search_query=, /@name, /channel/UC…, /c/…, /user/…
    ("youtube.com", re.compile(r"^/(?:results|search|feed|hashtag|@|channel/|c/|user/)")),
    # every page of search.bilibili.com is a search; space.bilibili.com/<uid> is a user's page,
    # but its collections and series (lists/, collectiondetail, seriesdetail) are playlists
    ("search.bilibili.com", re.compile(r"")),
    ("bilibili.com", re.compile(r"^/(?:search)")),
    ("space.bilibili.com", re.compile(r"^/\d+/?(?!.*(?:lists/|collectiondetail|seriesdetail))")),
    # vimeo.com/search, /channels/<name> (not /channels/<name>/<video id>), /user123 pages
    ("vimeo.com", re.compile(r"^/(?:search|channels/[^/]+/?$|user\d+)")),
)
_WIKI_HOSTS = ("wikipedia.org", "ncatlab.org", "scholarpedia.org", "mathworld.wolfram.com", "wiki.")
_CODE_HOSTS = ("github.com", "gitlab.com", "huggingface.co", "colab.research.google.com", "gitee.com")
_BLOG_HOSTS = (
    "lesswrong.com",
    "alignmentforum.org",
    "medium.com",
    "towardsdatascience.com",
    "substack.com",
    "wordpress.com",
    "blogspot.com",
    "offconvex.org",
    "windowsontheory.org",
    "francisbach.com",
    "distill.pub",
    "zhihu.com",
    "zhuanlan.zhihu.com",
    "jiqizhixin.com",
    "weixin.qq.com",
    "csdn.net",
    "bair.berkeley.edu",
    "ai.googleblog.com",
    "research.google",
    "openai.com",
    "thegradient.pub",
    "quantamagazine.org",
    "github.io",
)
_COURSE_HINT = re.compile(
    r"(?:course|lecture|class|teaching|syllabus|/cs\d+|tutorial|summer-?school|\bifk?t\d+)", re.I
)

_COURSE_SITE = re.compile(r"(?:cs|stats?|math|ee|ece|eecs|cmsc|comp|ift|mit)\d{3,4}[a-z]?", re.I)


def classify_url(url: str) -> str:
    """ "arxiv", "doi", "paper", "video", "listing" (a video site's search or channel page),
    "course", "wiki", "code", "blog" or "link"."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[oops/": no site to tell by
        return "link"
    host = parts.netloc.lower().removeprefix("www.")
    if parse_arxiv_id(url) and (
        is_arxiv_host(host) or re.search(r"alphaxiv|arxiv-vanity|ar5iv|48550", url, re.I)
    ):
        return "arxiv"
    path = parts.path.lower()
    if host in {"doi.org", "dx.doi.org"} or (normalize_doi(url) and host.endswith("doi.org")):
        return "doi"
    if any(host == h or host.endswith("." + h) for h in _VIDEO_HOSTS):
        return "listing" if _is_video_listing(host, parts.path, parts.query) else "video"
    if any(
        host.startswith(h) if h.endswith(".") else host == h or host.endswith("." + h) for h in _WIKI_HOSTS
    ):
        return "wiki"
    target = host + path
    if any(
        target.startswith(h) or (host.endswith("." + h.split("/")[0]) and h in target) for h in _PAPER_HOSTS
    ):
        return "paper"
    if path.endswith(".pdf"):
        return "paper"
    if any(host == h or host.endswith("." + h) for h in _CODE_HOSTS):
        return "code"
    # a course's own site is named by its number ("stats385.github.io", "cs231n.github.io"),
    # often on a host that otherwise holds blogs
    if _COURSE_SITE.fullmatch(host.split(".", 1)[0]):
        return "course"
    if any(host == h or host.endswith("." + h) for h in _BLOG_HOSTS):
        return "blog"
    if _COURSE_HINT.search(path) or (host.endswith(".edu") and _COURSE_HINT.search(url)):
        return "course"
    return "link"


def _is_video_listing(host: str, path: str, query: str) -> bool:
    # the most specific host decides: search.bilibili.com before bilibili.com
    where = f"{path}?{query}" if query else path
    for listing_host, pattern in sorted(_VIDEO_LISTINGS, key=lambda entry: -len(entry[0])):
        if host == listing_host or host.endswith("." + listing_host):
            return pattern.match(where) is not None
    return False


# ---------------------------------------------------------------------------------------
# Title text

# "[2106.10165] Title", "[1] Title", "arXiv: 2106.10165 Title"; not "[Re]", which is part of the
# title of a reproduction report ("[Re] Parameterized Explainer for Graph Neural Network"): without
# it the title is the reproduced paper's
_LEADING_ID = re.compile(
    r"^\s*(?:\[(?!\s*re\s*\])\s*(?:arxiv:)?[\w.\-/]+?(?:v\d+)?\s*\]|arxiv\s*[:：]\s*[\w.\-/]+?(?:v\d+)?\b)\s*[-–—:|]?\s*",
    re.I,
)
_SITE_SUFFIX = re.compile(
    r"\s*(?:[-–—|·]\s*)(?:arxiv(?:\.org)?|semantic scholar|openreview|acl anthology|pnas|researchgate|"
    r"papers with code|sciencedirect|springerlink|ieee xplore)\s*$",
    re.I,
)
_PDF_PREFIX = re.compile(r"^\s*\[(?:pdf|html|ps)\]\s*", re.I)
# "2026-12-31: Title", "2027/01/02 - Title": a changelog's date before the title, with its
# separator, is taken off (as `_TRAILING_YEAR` takes "(2026-12-30)" off the end); a whole
# date only, so "2020-2021 Title" stays
_LEADING_DATE = re.compile(
    r"^\s*(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?:\s*[-–—:：|]\s*|\s+|$)"
)
_TRAILING_YEAR = re.compile(r"\s*[(（]\s*\d{4}(?:[.\-/]\d{1,2})?(?:[^)）]{0,20})?[)）]\s*$")
# "Title {ICML 2018}": a braced note after the title; a TeX group ("\mathbb{R}") has no space
# before it, and one holding a macro or formula is kept
_TRAILING_BRACED_NOTE = re.compile(r"(?<!\s)\s+\{[^{}\\$]*\}\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•·▪►→–—]+\s*|\d{1,2}(?:\.\d{1,2})*[.)、]?\s+(?=\S))")
_WIKILINK = re.compile(r"\[\[([^\]]+)\]\]")
_CITE_MARK = re.compile(r"(?<!\S)\[(\d{1,2})\](?=\s)")
# ", arXiv: " or " (doi:" before an id, matched on the reversed text: a search for it anchored
# at the end starts again at every space or comma and is quadratic on a long run of them
_ID_LEAD_IN_REVERSED = re.compile(r"\s*[:：]?\s*(?:vixra|iod|/?gro\.iod(?:\.xd)?//:s?ptth)?[\s,;:(（]*", re.I)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f]")


_LITERAL_ELEMENT = re.compile(r"<(script|style|iframe|noscript)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_LITERAL_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|<!--.*?(?:-->|$)", re.S)
_LITERAL_MD_LINK = re.compile(r"!?\[[^\[\]]*\]\((?:[^()\s]|\([^()]*\))*\)")
# "The Principles of Deep Learning Theory ]]]) [[": brackets left over from broken markup
# (matched on the reversed title, as _ID_LEAD_IN_REVERSED is)
_TRAILING_BRACKETS_REVERSED = re.compile(r"\s*(?:[\[\](){}]+\s+)+|\s*[\[\]{}]+")


def _without_tail(text: str, reversed_tail: re.Pattern[str]) -> str:
    """`text` without the end that `reversed_tail` matches when read backwards (linear time)."""
    match = reversed_tail.match(text[::-1])
    return text[: len(text) - match.end()] if match else text


_OPENING_OF = {"]": "[", ")": "(", "}": "{"}


def _without_stray_brackets(title: str) -> str:
    """`title` without the brackets broken markup left at its end, keeping those that close one
    of its own: "Bounds on 𝔼[‖∇f‖²]", "Deep Learning Theory [PDF]" (a label, taken off next)."""
    end = len(_without_tail(title, _TRAILING_BRACKETS_REVERSED))
    unclosed = {o: title.count(o, 0, end) - title.count(c, 0, end) for c, o in _OPENING_OF.items()}
    for char in title[end:]:
        opening = _OPENING_OF.get(char)
        if opening is None or unclosed[opening] <= 0:
            break
        unclosed[opening] -= 1
        end += 1
    return title[:end]


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _without_link_labels(title: str) -> str:
    """ "Title [PDF]", "Title [paper] [code]", "Title [1]" -> "Title": what a text rendering leaves
    of the links after a title, or a number after it (a reference's, a related paper's score
    "[56.44910327178975]"); read from the end, so a long run of them stays linear."""
    end = len(title)
    while title.endswith("]", 0, end):
        start = title.rfind("[", 0, end)
        label = title[start + 1 : end - 1]
        if start < 0 or not (_NUMBER.fullmatch(label) or is_generic_anchor(label)):
            break
        end = start
        while end and title[end - 1].isspace():
            end -= 1
    return title[:end]


# "Title. Zhang et al. ICLR 2017.": the citation after a title (awesome-list style) is not title
_CITATION_TAIL = re.compile(
    r"\.\s+(?:(?:[A-Z][\w'’\-]*\.?\s+){0,3}[A-Z][\w'’\-]*,?\s+et\s+al\b"
    r"|(?:In\s+)?(?:ICLR|ICML|NeurIPS|NIPS|COLT|AISTATS|UAI|CVPR|ICCV|ECCV|AAAI|IJCAI|JMLR|TMLR|ALT|STOC|FOCS)"
    r"\s*'?\d{2,4}\b).*$"
)


def clean_title(text: str) -> str:
    title = _EMOJI.sub("", clean(text))
    title = _CITATION_TAIL.sub("", title)
    title = _PDF_PREFIX.sub("", title)
    title = _LEADING_ID.sub("", title)
    title = _LEADING_DATE.sub("", title)
    title = _SITE_SUFFIX.sub("", title)
    title = _WIKILINK.sub(r"\1", title)
    title = _TRAILING_YEAR.sub("", title)
    title = _without_link_labels(_without_stray_brackets(title).rstrip())
    title = _TRAILING_BRACED_NOTE.sub("", title)
    # "~" and "\" may stand in a title's TeX, never at its end: there they part it from a remark
    return title.strip(" \t-–—:：|,，;；.。\"'“”‘’「」《》~\\")


# ---------------------------------------------------------------------------------------
# Lines without links: what the text itself says it is

_SUFFIX_KIND = (
    (re.compile(r"\s[-–—|]\s*(?:YouTube|bilibili|Vimeo)\s*$", re.I), "video"),
    (re.compile(r"\s[-–—|]\s*(?:Wikipedia|Scholarpedia)\s*$|\sin nLab\s*$", re.I), "wiki"),
    (re.compile(r"\s[-–—|]\s*(?:LessWrong|AI Alignment Forum|Medium|Substack)\s*$", re.I), "blog"),
    (re.compile(r"\|\s*by\s[^|]+\|\s*[^|]+$|Towards Data Science\s*$", re.I), "blog"),
    (re.compile(r"\s[-–—|]\s*(?:Coursera|edX|Udemy|MIT OpenCourseWare)\s*$", re.I), "course"),
    # "Stats 385: Theories of Deep Learning (Stanford course)"; lecture notes stay documents
    (re.compile(r"\s*[(（][^()（）]{0,40}\b(?:course|class|lectures)[)）]\s*$", re.I), "course"),
)
_CODE_PREFIX = re.compile(r"^GitHub\s*[-–—]\s*", re.I)
_PAPER_SUFFIX = re.compile(
    r"\s[-–—|]\s*(?:arXiv|Semantic Scholar|OpenReview|ACL Anthology|PNAS|ResearchGate|Papers With Code)\s*$",
    re.I,
)
_LABEL_LINE = re.compile(
    r"^(?:tags|metadata|part of|related|includes|additional|see(?: also)?|citations?|source|note|notes|"
    r"unfinished|status|type|aliases|created|updated|links?)\s*[:：]|^(?:see|more|nice)\b",
    re.I,
)
_DATE_LINE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b|\b\d{1,2}:\d{2}\s*(?:am|pm)\b",
    re.I,
)
# In Chinese commentary, words that say the thing is not a paper; the one written first wins.
# What a reading list's remark says an entry is, when its first clause names it ("斯坦福的课程",
# "一场讲座", "附代码")
_ZH_NON_PAPER = (
    ("课程", "course"),
    ("教程", "course"),
    ("系列讲座", "course"),  # "斯坦福的系列讲座": a lecture series (it opens before its 讲座)
    ("讲座", "talk"),  # "一场讲座": one lecture
    ("演讲", "talk"),
    ("研讨会", "workshop"),
    ("会议", "workshop"),  # "深度学习理论会议4": a workshop's session; not "会议论文" (_NOT_A_KIND_AFTER)
    ("主持", "workshop"),  # "X主持": a session chaired by X
    ("视频", "video"),
    ("博客", "blog"),
    ("博文", "blog"),
    ("代码", "code"),
)
# A kind word that modifies or accompanies a paper names no kind: "ICML会议论文" (a conference
# paper), "会议版本", "演讲的文字版" (the text of a talk), "附代码"/"有视频" (with code, a video),
# and "NeurIPS会议" after a venue's Latin name
_NOT_A_KIND_AFTER = ("论文", "版本", "文章", "的")
_NOT_A_KIND_BEFORE = ("附", "有", "含", "带")
# A later clause names what the entry is only when it ends with the kind ("room1最后一排,
# 鄂维南在icm的演讲视频"); "作者开源了代码", "NTK系列" or "ICML 2021 workshop" is about a paper
_ZH_KIND_AT_END = re.compile(r"(课程|教程|讲座|演讲视频|演讲|视频|研讨会|会议\d*)$")
_ZH_END_KINDS = {
    "课程": "course", "教程": "course", "讲座": "talk", "演讲": "talk", "演讲视频": "talk", "视频": "video",
    "研讨会": "workshop",
}  # fmt: skip
# A sentence end in Chinese commentary: its own punctuation, or a dot that is no ellipsis or decimal
_ZH_SENTENCE_END = re.compile(r"[。！？!?；;]|(?<![.\d])\.(?![.\d])")
# "IFT 6169: Theoretical principles…", "CS 231n: …": a course's code opens its title
_COURSE_CODE = re.compile(r"^[A-Z]{2,5}\s?\d{3,4}[A-Za-z]?:")
# The English title that opens a reading-list line runs to the first Chinese character or
# full-width punctuation mark, through the math a title is written in: Greek, ℓ ℋ ℝ, arrows and
# operators (√ ≤ ∞ ∇), ‖ ⟨⟩, ± ² µ, primes, super/subscripts, accents (θ̂), 𝔼 𝒪, brackets, and
# whole `$…$` formulas (Zhihu's formula images), inside which a `|` is the formula's own. A bare
# `|` stays out: a line written as "Title | 2019 | 评论" is a row of fields, not one title; so
# does "·", which joins the parts of a name written in Chinese ("John·Hopfield的论文").
_LATIN_HEAD = re.compile(
    r"^(?:\$[^$\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+\$"
    rf"|[A-Za-z0-9À-ɏ\s\-–—:;,.'’?!&()/+*^_=<>@#%\"“”\[\]{{}}~\\{MATH_SYMBOL_CHARS}]+|\$)+"
)
_LEADING_YEAR = re.compile(r"^\s*[(（]\s*(\d{4})[^)）]{0,20}[)）]\s*")
# "(2021, ICML)…" ends the title: a year opening a bracket closed somewhere after it
_YEAR_OPENING = re.compile(r"[(（]\s*\d{4}")
# "Theory of Deep LearningTTIC,西北大学等组织的…": an organiser's acronym glued to the title
_GLUED_ACRONYM = re.compile(r"(?<=[a-z])[A-Z]{2,6}\s*[,，、]\s*$")
# What the Chinese right after it is about: an acronym glued to the title's last word
# ("Universal approximation theoremNN逼近…"), or a word after a comma written without a space,
# as Chinese punctuation is ("MathsDL-spring19,MathDL系列…"; a title's own comma has one).
_GLUED_SUBJECT = re.compile(r"(?<=[a-z])[A-Z]{2,6}$|(?<=[A-Za-z0-9]),(?=[A-Za-z])[^\s,]+$")
# "Robust Learning with Jacobian Regularization(2019)Judy Hoffman...,": title, year, the rest
_DATED_TITLE = re.compile(
    r"(?P<title>[^()（）]*[^()（）\s])\s*[(（]\s*(?P<year>(?:19|20)\d\d)[^()（）]{0,20}[)）](?P<rest>.*)"
)
_FIRST_AUTHOR = re.compile(
    r"(?P<name>[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?:\s+(?:[A-Z]\.|[A-Z][a-z]+(?:-[A-Z][a-z]+)?)){1,2})"
    r"\s*(?:\.{2,}|…|\bet al\b\.?|等)[\s,.]*$"
)
_LEADING_ACRONYM = re.compile(r"^[A-Z]{2,6}\s*[,，、]\s*")


def _suffix_kind(text: str) -> tuple[str, str] | None:
    """("video"|"wiki"|"blog"|"course"|"code"|"paper", title) from the way a link text ends
    (or, for a course, from its code at the start)."""
    # a line with Chinese is a reading-list line: its title is split off first
    if _COURSE_CODE.match(text) and not has_cjk(text):
        return "course", clean(text)
    for pattern, kind in _SUFFIX_KIND:
        if pattern.search(text):
            return kind, clean(pattern.sub("", text))
    if _CODE_PREFIX.match(text):
        return "code", clean(_CODE_PREFIX.sub("", text))
    if _PAPER_SUFFIX.search(text) or _PDF_PREFIX.match(text):
        return "paper", clean_title(_PAPER_SUFFIX.sub("", text))
    return None


# a page's own furniture and requests to its readers, never a paper title
_BOILERPLATE = re.compile(
    r"^(?:table of contents|contents|license|contributing|acknowledge?ments?|copyright\b|please\b"
    r"|feel free\b|contributions?\b|if you\b|pull requests?\b|star this\b)",
    re.I,
)


def looks_like_title(text: str, *, min_words: int = 3) -> bool:
    """An English line that could be a paper title: short, one phrase, no sentence end."""
    if "[[" in text or "#" in text or "http" in text or text.endswith(("¶", ":", "：", ".", ";", ",", "!")):
        return False
    if _LABEL_LINE.match(text) or _DATE_LINE.search(text) or _BOILERPLATE.match(text) or has_cjk(text):
        return False
    words = text.split()
    if not min_words <= len(words) <= 25 or latin_words(text) < min_words:
        return False
    if re.search(r"[.!?]\s+[A-Z]", text):  # two sentences
        return False
    return _title_start(text) or _lower_case_title(words)


# What else a title opens with: a Greek letter or ℓ/µ ("μP: Tensor Programs V", "ℓ1-Regularized"),
# or a formula ("$\ell_1$-Regularized …"), where a sentence opens with a capital
_SYMBOL_START = re.compile(r"[\u0370-\u03ffℓµ]|\$[^$\s\d][^$]*\$")
# a tag in brackets before the title: "[Re]" (a reproduction report's title starts with it),
# "[R]"; not a GitHub alert ("[!NOTE]") or a reference number ("[1]")
_LEADING_TAG = re.compile(r"\[[A-Za-z]{1,12}\]\s*")
# a Markdown task list's box ("- [x] Read the NTK paper"): a to-do, not a reference
_TASK_BOX = re.compile(r"\[[ xX]\]")


def _title_start(text: str) -> bool:
    if _TASK_BOX.match(text):
        return False
    tag = _LEADING_TAG.match(text)
    text = text[tag.end() :] if tag else text
    return text[:1].isupper() or text[:1].isdigit() or _SYMBOL_START.match(text) is not None


# words a lower-case sentence or remark starts with, never an old lower-case title
_SENTENCE_START = frozenset(
    ("a", "an", "the", "and", "but", "or", "so", "see", "i", "we", "it", "this", "that", "these", "there",
     "he", "she", "they", "you", "my", "our", "his", "her", "their", "why", "how", "what", "when", "where",
     "which", "who", "if", "also", "more", "not", "no", "just", "maybe", "nice", "good", "great", "check",
     "read", "todo", "note", "cf", "eg", "ie")
)  # fmt: skip


def _lower_case_title(words: list[str]) -> bool:
    """An old paper's title written in lower case ("bounds for the computational power and
    learning complexity of analog neural nets"): a long run of plain words with no punctuation
    but hyphens, starting as a noun phrase does, not as a sentence or a remark."""
    return (
        len(words) >= 6
        and words[0] not in _SENTENCE_START
        and all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", w, re.I) for w in words)
        and any(w in ("of", "for", "in", "on", "with") for w in words[1:])
    )


_REMARK_DASH = re.compile(r"\s[-–—]\s(?=[a-z])")
# words that continue a sentence rather than start a remark
_PREDICATE_START = frozenset(
    ("is", "are", "was", "were", "be", "been", "can", "could", "may", "might", "must", "shall",
     "should", "will", "would", "has", "have", "had", "do", "does")
)  # fmt: skip


# a trailing pointer elsewhere: ", see also X", "(see also X)", "; cf. X"
_SEE_ALSO_TAIL = re.compile(r"\s*[,;(]\s*((?:see also|cf\.)\s.*?)\)?$", re.IGNORECASE)


def _title_with_remark(text: str) -> tuple[str, str] | None:
    """ "Flat Minima - flat regions are said to generalize better" -> (title, remark).

    Only when the part after the dash reads as prose (lower-case, several words): a title's own
    dash is followed by a capital ("Geometric Deep Learning - Grids, Groups, ...")."""
    see_also = _SEE_ALSO_TAIL.search(text)
    if see_also and looks_like_title(text[: see_also.start()].strip()):
        # "Why and when can deep ... a review, see also Expressivity of neural networks"
        return text[: see_also.start()].strip(), see_also.group(1)
    parts = _REMARK_DASH.split(text)
    if len(parts) != 2:  # "deep - but not shallow - networks": a dash pair inside a title
        return None
    title, remark = parts[0].strip(), parts[1].strip()
    if remark.split()[0] in _PREDICATE_START:  # "X – can be achieved ...": one sentence
        return None
    # a remark names the paper, so a two-word title ("Flat Minima") is enough here
    if len(remark.split()) < 3 or not looks_like_title(title, min_words=2):
        return None
    return title, remark


def _zh_reading_line(text: str) -> tuple[str, str] | None:
    """ "English Title(2021)中文评论" -> (title, commentary); None when the line is not that shape."""
    text = _EMOJI.sub("", text).strip()
    match = _LATIN_HEAD.match(text)
    if not match or _TASK_BOX.match(text):
        return None
    head = match.group(0)
    rest = text[len(head) :]
    if not rest or (not has_cjk(rest[:3]) and not rest.startswith(("（", "，", "。", "："))):
        return None
    # searched only up to the last closing bracket: one search, where a pattern that looks for
    # the closing bracket after each year scans to the end again for every "(2019" without one
    last_close = max(head.rfind(")"), head.rfind("）"))
    ended = _YEAR_OPENING.search(head, 0, max(last_close, 0))
    title = head[: ended.start()].rstrip() if ended else head
    commentary = text[len(title) :]
    glued = _GLUED_ACRONYM.search(title)
    if glued is None and has_cjk(commentary[:1]):
        glued = _GLUED_SUBJECT.search(title)
    if glued and latin_words(title[: glued.start()]) >= 2:
        # the acronym belongs to the commentary it starts ("TTIC,西北大学等组织的…")
        title, commentary = title[: glued.start()], text[glued.start() :]
    title = clean_title(title)
    if latin_words(title) < 2 or len(title) < 8:
        return None
    return title, clean(commentary).strip(" ,，.。:：;；")


# "Spectral Learning on Matrices and TensorsMajid Janzamin等(2020)": the first author written
# straight after the title (the page lost the space or break between them), then 等 ("et al.")
_GLUED_AUTHOR = re.compile(r"(?<=[a-z)\]])[A-Z][a-z]+(?:[ -][A-Z][a-z]*\.?){1,2}$")


# "... Depth-Separation Barriers Gal Vardi等": the name after a space, where title words are
# capitalised too. The trailing name-shaped words (Capitalised, or initials "D.") are taken
# for the first author only when the tests below say they are no title words; when unsure
# the line is left whole (as before), since a title cut short is worse than a name kept.
# - A name word (the surname, a second given name, a given name before initials) is not
#   English (pyspellchecker's dictionary), nor an English plural, nor two English words run
#   together ("Stepsizes"), nor a long derived word ("Equivariance", "Approximator"): titles
#   end on such words, or on acronyms, which the Capitalised shape rules out. This loses
#   authors whose surname is also a word ("Simon Du").
# - A given name just before the surname may also be a short plain English word ("Gal"),
#   not a joining word ("via"), a plural or a long word ("Algorithmic").
# - A name that starts with an initial ("D. Wildfogel") needs a sure title word before it
#   ("Networks"): after "Net" or "Laks" it is unclear where the name starts.
# - At least three words remain, not ending on a joining word ("Correct, and").
# A lone surname ("Barriers Vardi等") stays in the title: nothing tells it from a coinage.
# On ~890 real deep-learning titles followed by 等 none is cut; after the same titles, about
# half of 3,000 real author names are split off whole, and the others are mostly kept.
_NAME_WORD = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME_TAIL = re.compile(rf"(?:(?<=\s)(?:{_NAME_WORD}|[A-Z]\.)\s+){{1,4}}{_NAME_WORD}$")
_JOINING_WORDS = frozenset(
    ("a", "an", "the", "of", "and", "or", "for", "in", "on", "to", "with", "via", "by", "at", "from",
     "as", "is", "are", "vs", "versus", "through", "between", "into", "over", "under", "without",
     "within", "beyond", "towards", "toward", "using", "based")
)  # fmt: skip
_DERIVED_WORD = re.compile(
    r"(?:tion|sion|ness|ment|ity|ism|ics?|ware|able|ible|ous|ive|ance|ence|ing|ers?|ors?|ies|"
    r"ized|ised|ated|al|ary|ful|less)$"
)
_RARE_WORD_COUNT = 100  # uses in pyspellchecker's corpus; "tensor" has 163, "beng" 50
_LONG_WORD = 8  # letters; shorter English words are often names too ("Gal", "Mark", "Simon")


@functools.cache
def english_word_counts() -> dict[str, int]:
    """pyspellchecker's English words with their counts in its corpus (about 1.6 billion words)."""
    from spellchecker import SpellChecker  # loaded (0.2 s) only when a line may end in a name

    return dict(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def _is_initial(word: str) -> bool:
    return len(word) == 2 and word.endswith(".")


def _is_plain_english(word: str) -> bool:
    """In the dictionary, as written or without a plural "s"/"es"."""
    english = english_word_counts()
    return any(stem in english for stem in (word, word.removesuffix("s"), word.removesuffix("es")))


def _is_title_word(word: str) -> bool:
    """Surely a title word, never a given name: a joining word, an English plural, or a long
    English or derived word ("Networks", "Algorithmic"; a few long given names are lost)."""
    lowered = word.lower()
    if lowered in _JOINING_WORDS or (
        len(lowered) > 4 and lowered.endswith("s") and _is_plain_english(lowered[:-1])
    ):
        return True
    long = len(lowered) >= _LONG_WORD
    return long and (_is_plain_english(lowered) or _DERIVED_WORD.search(lowered) is not None)


def _is_name_word(word: str) -> bool:
    """A word no title is made of: not English, not run-together English, not derived."""
    english = english_word_counts()
    for part in word.lower().split("-"):
        if _is_plain_english(part) or (len(part) >= _LONG_WORD and _DERIVED_WORD.search(part)):
            return False
        if any(part[:cut] in english and part[cut:] in english for cut in range(3, len(part) - 2)):
            return False
    return True


def _is_second_given_name(word: str) -> bool:
    """A name word, or a word the dictionary holds only as a rarity ("Beng": it counts a few
    dozen uses, where title words count hundreds at least)."""
    if _is_initial(word) or word.lower() in _JOINING_WORDS:
        return False
    rare = len(word) <= 5 and english_word_counts().get(word.lower(), 0) < _RARE_WORD_COUNT
    return _is_name_word(word) or rare


def _spaced_author(title: str) -> tuple[str, str] | None:
    """(title, first author) when `title` ends in an author's name after a space (rules above)."""
    match = _NAME_TAIL.search(title)
    if not match:
        return None
    words, shaped = title[: match.start()].split(), match.group(0).split()  # shaped: name-like
    surname = shaped.pop()
    if not _is_name_word(surname):
        return None
    name = [surname]
    while shaped and _is_initial(shaped[-1]):
        name.insert(0, shaped.pop())
    initials = len(name) > 1
    before = shaped[-1] if shaped else (words[-1] if words else "")
    if shaped and (_is_name_word(before) or not (initials or _is_title_word(before))):
        name.insert(0, shaped.pop())
        if not initials and shaped and _is_second_given_name(shaped[-1]):
            name.insert(0, shaped.pop())  # a second given name ("Beng Chin Ooi")
    elif initials and before[:1].isupper() and not _is_title_word(before):
        return None  # "Net S. Arora", "Maurício R. Mediano": the name may start before
    rest = words + shaped
    if len(name) < 2 or len(rest) < 3 or rest[-1].lower() in _JOINING_WORDS or _is_initial(rest[-1]):
        return None
    return " ".join(rest), " ".join(name)


def _is_rare_name(name: str) -> bool:
    """ "Weinan E": a given name no English text uses as a word, then name words or initials.
    A title's own glued last words are English ("AlphaGo Zero", "TensorFlow Probability")."""
    given, *others = name.split()
    english = english_word_counts()
    # "Guan-Horng": one rare part makes a hyphenated given name ("Self-Attention" has none)
    if all(english.get(part.lower(), 0) >= _RARE_WORD_COUNT for part in given.split("-")):
        return False
    return all(
        len(word.rstrip(".")) == 1 or english.get(word.lower(), 0) < _RARE_WORD_COUNT or _is_name_word(word)
        for word in others
    )


def _glued_author(title: str, commentary: str) -> tuple[str, tuple[str, ...]]:
    """(title, (first author,)) when the title ends in a name followed by 等: glued on, or after
    a space when the rules above tell it from the title's own last words. Without 等, only a
    name glued on that reads as no English ("Applied MathematicsWeinan E关于…")."""
    match = _GLUED_AUTHOR.search(title)
    if not commentary.startswith("等"):
        if match and latin_words(title[: match.start()]) >= 2 and _is_rare_name(match.group(0)):
            return clean_title(title[: match.start()]), (match.group(0),)
        return title, ()
    if match and latin_words(title[: match.start()]) >= 2:
        return clean_title(title[: match.start()]), (match.group(0),)
    spaced = _spaced_author(title)
    if spaced is None:
        return title, ()
    return clean_title(spaced[0]), (spaced[1],)


def _zh_kind(commentary: str) -> str | None:
    # "(2019),西蒙研究中心会议": the year gone, the clause starts after its comma
    commentary = _LEADING_YEAR.sub("", commentary).lstrip(" ,，.。:：;；")
    commentary = _LEADING_ACRONYM.sub("", commentary)  # "TTIC,西北大学等组织的课程": who, then what
    # the clauses of its first sentence; a later sentence is about something else ("…GRAND++.
    # 有博文介绍…": a blog about it)
    opening = _ZH_SENTENCE_END.split(commentary, maxsplit=1)[0][:60].lower()
    clauses = [c.strip() for c in re.split(r"[,，、]", opening)]
    first = clauses[0][:30]
    found = [
        (position, kind)
        for word, kind in _ZH_NON_PAPER
        for position in _positions(first, word)
        if _names_a_kind(first, position, word)
    ]
    if found:
        return min(found)[1]
    for clause in clauses:
        ending = _ZH_KIND_AT_END.search(clause)
        if ending and _names_a_kind(clause, ending.start(), ending.group(1)):
            kind = ending.group(1)
            return "workshop" if kind.startswith("会议") else _ZH_END_KINDS[kind]
    return None


def _names_a_kind(clause: str, position: int, word: str) -> bool:
    before, after = clause[:position], clause[position + len(word) :]
    if after.startswith(_NOT_A_KIND_AFTER) or before.endswith(_NOT_A_KIND_BEFORE):
        return False
    return not (word == "会议" and before[-1:].isascii() and before[-1:].isalpha())


def _positions(text: str, word: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(word), text)]


# ---------------------------------------------------------------------------------------
# Mentions


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    title: str
    url: str | None = None
    arxiv_id: str | None = None
    version: int | None = None
    doi: str | None = None
    evidence: str = "title_only"
    kind: str = "paper"  # or video/course/wiki/code/blog/link for OTHER items
    extra: list[tuple[str, str]] = field(default_factory=list)
    authors: tuple[str, ...] = ()


@dataclass(slots=True)
class MentionCollector:
    """Collects mentions and other links of a page, one item per paper/link (first sighting wins)."""

    source_id: str
    page_url: str = ""
    title_only: bool = True
    others: bool = True
    zh_page: bool = False
    items: list[Item] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict)  # seen key -> index in items

    def add_blocks(self, blocks: list[Block]) -> None:
        for block in blocks:
            for segment in _segments(block):
                self._add_segment(segment)

    # -- one line -------------------------------------------------------------------
    def _add_segment(self, block: Block) -> None:
        text = block.text
        found: list[_Found] = []
        covered_ids: set[str] = set()
        for link in block.links:
            if link.relative:
                continue  # a page of the same site (Obsidian/TiddlyWiki internal link)
            from_link = self._from_link(link)
            found.append(from_link)
            if from_link.arxiv_id:
                covered_ids.add(from_link.arxiv_id)
        link_spans = [(link.start, link.end) for link in block.links if not link.relative]
        for match_id, version, start, end in _text_ids(text):
            if match_id in covered_ids:
                continue
            if any(s <= start < e for s, e in link_spans) and any(
                f.arxiv_id is None and f.start <= start < f.end and f.kind == "paper" for f in found
            ):
                # the id is in the text of a paper link without id: give the link the id
                for f in found:
                    if f.start <= start < f.end and f.kind == "paper" and f.arxiv_id is None:
                        f.arxiv_id, f.version, f.evidence = match_id, version, "arxiv_text"
                covered_ids.add(match_id)
                continue
            covered_ids.add(match_id)
            found.append(
                _Found(start, end, "", abs_url(match_id, version), match_id, version, evidence="arxiv_text")
            )
        for doi in find_dois(text):
            if any(f.doi == doi for f in found) or arxiv_id_from_doi(doi) in covered_ids:
                continue
            position = text.lower().find(doi)
            arxiv_id = arxiv_id_from_doi(doi)
            found.append(
                _Found(
                    max(position, 0),
                    max(position, 0) + len(doi),
                    "",
                    f"https://doi.org/{doi}",
                    arxiv_id,
                    doi=doi,
                    evidence="doi",
                )
            )
        if not found:
            internal = sum(link.end - link.start for link in block.links if link.relative)
            if internal * 2 < len(text):  # a line that is mostly an internal link names a note, not a paper
                self._add_textual(block)
            return
        found.sort(key=lambda f: f.start)
        for index, f in enumerate(found):
            next_start = found[index + 1].start if index + 1 < len(found) else len(text)
            previous_end = found[index - 1].end if index else 0
            if not f.title or is_generic_anchor(f.title) or parse_arxiv_id(f.title):
                f.title = _title_near(text, f, previous_end, next_start)
            commentary = _commentary(text, f, previous_end, next_start, single=len(found) == 1)
            self._emit(f, commentary)

    def _from_link(self, link: Link) -> _Found:
        kind = classify_url(link.href)
        if kind not in {"arxiv", "doi", "paper"} and mirror_arxiv_id(link.href):
            kind = "paper"  # arxiv-vanity, sciencecast, ar5iv.org: not paper hosts, but named by the id
        title = clean_title(link.text) if kind in {"arxiv", "doi", "paper"} else clean(link.text)
        if link.text.startswith(("http://", "https://")):
            title = ""
        if kind == "arxiv":
            parsed = parse_arxiv_id(link.href)
            assert parsed is not None
            return _Found(link.start, link.end, title, link.href, parsed[0], parsed[1], evidence="arxiv_link")
        if kind == "doi":
            doi = normalize_doi(link.href)
            return _Found(
                link.start, link.end, title, link.href, arxiv_id_from_doi(doi or ""), doi=doi, evidence="doi"
            )
        if kind == "paper":
            doi = normalize_doi(link.href) if "/10." in link.href else None
            mirrored = mirror_arxiv_id(link.href)
            if mirrored:  # huggingface.co/papers/<id>, papers.cool/arxiv/<id>, ...
                return _Found(link.start, link.end, title, link.href, *mirrored, evidence="arxiv_link")
            return _Found(link.start, link.end, title, link.href, doi=doi, evidence="paper_link")
        suffix = _suffix_kind(link.text)
        if suffix and suffix[0] == "paper":
            return _Found(link.start, link.end, suffix[1], link.href, evidence="paper_link")
        if suffix:
            kind = suffix[0] if kind in {"link", "blog", "code"} else kind
            title = suffix[1] or title
        return _Found(link.start, link.end, title or link.href, link.href, kind=kind)

    def _add_textual(self, block: Block) -> None:
        """A line without links or ids: a titled video/blog/wiki line, a reading-list line or a title."""
        text = _BULLET.sub("", block.text).strip()
        if not text or block.tag in {"h1", "h2", "h3", "h4", "h5", "h6"} or text.endswith("¶"):
            return
        suffix = _suffix_kind(text)
        if suffix:
            kind, title = suffix
            if kind == "paper":
                self._emit(_Found(0, len(text), title, evidence="title_only"), "")
            else:
                self._emit(_Found(0, len(text), title, kind=kind), "")
            return
        if not self.title_only:
            return
        reading = _zh_reading_line(text)
        if reading:
            title, commentary = reading
            title, authors = _glued_author(title, commentary)
            kind = "course" if _COURSE_CODE.match(title) else _zh_kind(commentary) or "paper"
            found = _Found(0, len(text), title, kind=kind, evidence="title_only", authors=authors)
            self._emit(found, commentary)
            return
        if self.zh_page:
            # an English line among Chinese ones is a heading or a note, unless it is written
            # as the page's references are: "Title(2019)Judy Hoffman..."
            dated = _DATED_TITLE.match(text) if not has_cjk(text) else None
            if dated and looks_like_title(dated["title"]):
                rest = clean(dated["rest"])
                first_author = _FIRST_AUTHOR.match(rest)  # "Judy Hoffman...": et al.
                authors = (first_author["name"],) if first_author else ()
                found = _Found(
                    0, len(text), clean_title(dated["title"]), evidence="title_only", authors=authors
                )
                found.extra.append(("year", dated["year"]))
                self._emit(found, "" if first_author else rest.strip(" ,.…"))
            return
        remarked = _title_with_remark(text)
        if remarked:
            title, remark = remarked
            self._emit(_Found(0, len(text), clean_title(title), evidence="title_only"), remark)
        elif looks_like_title(text):
            self._emit(_Found(0, len(text), clean_title(text), evidence="title_only"), "")

    def _emit(self, f: _Found, commentary: str) -> None:
        year = _LEADING_YEAR.match(commentary)
        if year:  # "（2021）从有限宽度出发…": the year is a fact, not commentary
            if not any(key == "year" for key, _ in f.extra):
                f.extra.append(("year", year.group(1)))
            commentary = clean(commentary[year.end() :]).lstrip(" ,，.。:：;；")
        if f.kind == "paper":
            if not f.title and not f.arxiv_id and not f.doi:
                return
            lang = (
                "zh" if has_cjk(commentary) or has_cjk(f.title) else script_lang(f.title + " " + commentary)
            )
            item = Item(
                source_id=self.source_id,
                kind=ItemKind.MENTION,
                title=f.title,
                url=f.url,
                arxiv_id=f.arxiv_id,
                version=f.version,
                doi=f.doi,
                authors=f.authors,
                lang=lang,
                text=commentary,
                extra=(("evidence", f.evidence), *f.extra),
            )
        else:
            if not self.others or not f.title:
                return
            item = Item(
                source_id=self.source_id,
                kind=ItemKind.OTHER,
                title=f.title,
                url=f.url,
                lang=script_lang(f.title + " " + commentary),
                text=commentary,
                extra=(("category", f.kind), *f.extra),
            )
        # one item per key, as the store keeps one per key and source: two link-less resources
        # of one name ("X - YouTube", "X - Wikipedia") would otherwise overwrite each other there
        seen_key = item.key
        if seen_key in self._seen:
            index = self._seen[seen_key]
            first = self.items[index]
            if _keep_rank(item) < _keep_rank(first):  # a talk or course over a wiki, blog or code link
                self.items[index] = item
                return
            # first sighting wins, but a later "v2" of the same paper is what the page points to last
            if item.version and (first.version or 0) < item.version:
                # with the link that names that version, so the two agree
                self.items[index] = dataclasses.replace(
                    first, version=item.version, url=item.url or first.url
                )
            return
        self._seen[seen_key] = len(self.items)
        self.items.append(item)

    @property
    def mentions(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.kind is ItemKind.MENTION)


def _keep_rank(item: Item) -> int:
    """Which of two items under one key a page keeps, lowest first: a paper, then a resource the
    digest lists (a talk, a course), then any other link (wiki, blog, code); the first seen on a tie."""
    if item.kind is ItemKind.MENTION:
        return 0
    return 1 if dict(item.extra).get("category") in RESOURCE_CATEGORIES else 2


def _segments(block: Block) -> list[Block]:
    """Split "Citations: [1] A [2] B" lines into one segment per numbered reference."""
    marks = [m.start() for m in _CITE_MARK.finditer(block.text)]
    if len(marks) < 2:
        return [block]
    cuts = [0, *marks, len(block.text)]
    pieces = [sub_block(block, a, b) for a, b in itertools.pairwise(cuts)]
    result = []
    for piece in pieces:
        stripped = re.sub(r"^\[\d{1,2}\]\s*", "", piece.text)
        shift = len(piece.text) - len(stripped)
        if shift:
            piece = sub_block(piece, shift, len(piece.text))
        if piece.text:
            result.append(piece)
    return result


# "arXiv:", "arXiv " and a URL written without its scheme ("arxiv.org/abs/") belong to the id
_ID_PREFIX = re.compile(r"(?:(?:www\.)?arxiv\.org/(?:abs|pdf|html)/|arxiv\s*[:：]?\s*)$", re.I)


def _text_ids(text: str) -> list[tuple[str, int | None, int, int]]:
    """arXiv ids written in the text, with where they are."""
    found = []
    for arxiv_id, version in find_arxiv_ids(text):
        position = text.find(arxiv_id)
        if position < 0:
            position = text.lower().find(arxiv_id.lower())
        end = position + len(arxiv_id)
        # extend over "[", "arXiv:", "v2", "]" so the title after it starts cleanly
        while end < len(text) and (text[end] in "]v)" or text[end].isdigit()):
            end += 1
        start = position
        while start > 0 and text[start - 1] in "[(":
            start -= 1
        # only the few characters before the id: a search over the whole line, once per id, made
        # a one-line list of thousands of ids quadratic
        lead_from = max(0, start - 32)
        prefix = _ID_PREFIX.search(text, lead_from, start)
        if prefix:
            start = prefix.start()
        found.append((arxiv_id, version, max(start, 0), end))
    return found


def without_literal_markup(text: str) -> str:
    """Text with the markup a page showed literally removed: escaped `<script>…</script>`,
    tags, comments and Markdown links left unrendered in HTML (`[Click me](javascript:…)`)."""
    if "<" not in text and "](" not in text:
        return text
    text = _LITERAL_ELEMENT.sub(" ", text)
    text = _LITERAL_MD_LINK.sub(" ", text)
    return clean(_LITERAL_TAG.sub(" ", text))


def _title_near(text: str, f: _Found, previous_end: int, next_start: int) -> str:
    """A title for an id or a bare link: the words after it, else the words before it.

    The words after lose to the words before when they only read as a remark ("Deep double
    descent — arXiv:1912.02292 — must read!") or as junk; neither is taken when neither
    reads as a title.
    """
    # a link written in brackets ("Title ([arXiv](url)) remark") leaves its closing bracket behind
    after = without_literal_markup(clean(text[f.end : next_start])).lstrip(")）]】 ")
    after = "" if after.startswith(("(", "（")) else clean_title(after)  # "(Authors, year)" is not a title
    after = re.split(r"\s[-–—]\s|[。；;]|(?<=[a-z])\.\s", after, maxsplit=1)[0] if after else ""
    reading = _zh_reading_line(after) if has_cjk(after) else None
    if reading:
        after = reading[0]
    elif has_cjk(after):
        after = ""
    after = clean_title(after) if latin_words(after) >= 2 else ""
    after_shape = title_shape(after) if after else TitleShape.JUNK
    if after_shape == TitleShape.TITLE:
        return after
    before = clean_title(
        _without_tail(without_literal_markup(text[previous_end : f.start]), _ID_LEAD_IN_REVERSED)
    )
    if has_cjk(before):
        reading = _zh_reading_line(before)
        before = reading[0] if reading else ""
    before = clean_title(_BULLET.sub("", before)) if latin_words(before) >= 2 else ""
    before_shape = title_shape(before) if before else TitleShape.JUNK
    best, shape = (after, after_shape) if after_shape >= before_shape else (before, before_shape)
    return best if shape >= TitleShape.WEAK else ""


_EMPTY_BRACKETS = re.compile(r"[(（\[【]\s*[)）\]】]")


def _commentary(text: str, f: _Found, previous_end: int, next_start: int, *, single: bool) -> str:
    """The words around a mention that are not its title."""
    rest = clean(text[: f.start] + " " + text[f.end :] if single else text[f.end : next_start])
    if f.title:
        position = rest.find(f.title)
        if position >= 0:
            rest = rest[:position] + rest[position + len(f.title) :]
    # the line's date ("2027-01-02 — Title, arXiv:…") is not said about the paper either
    rest = _LEADING_DATE.sub("", _LEADING_ID.sub("", _BULLET.sub("", clean(rest))))
    # brackets that held the link just taken out ("Title (arXiv) remark") are left empty
    rest = _EMPTY_BRACKETS.sub(" ", rest)
    rest = _TRAILING_YEAR.sub("", rest) if len(rest) < 16 else rest
    rest = clean(rest).strip(" -–—:：|,，;；.。")
    if (
        rest.startswith(("(", "（"))
        and rest.endswith((")", "）"))
        and rest.count("(") + rest.count("（") == 1
    ):
        rest = rest[1:-1]
    elif rest.startswith(("(", "（")) and ")" in rest and rest.count("(") == 0:
        rest = rest[1:]
    return without_literal_markup(clean(rest))


# ---------------------------------------------------------------------------------------
# The kind

_CONTENT_SELECTORS = (
    "div.RichText.ztext",
    "div.Post-RichText",
    "article.markdown-body",
    "div.markdown-body",
    "div.markdown-preview-view",
    "div.markdown-rendered",
    "div.tc-tiddler-body",
    "div.tc-tiddler-frame",
    "article",
    "main",
    "div#content",
    "div.content",
)


# A tiddler's tags as TiddlyWiki shows them: TW5 tag pills (`tc-`, `tw-` before 5.0.9, also what
# the `<<tag>>` macro puts in a body) and TiddlyWiki Classic's "tags:"/"tagging:" lists. They
# name other notes, never papers.
_TIDDLY_TAGS = (
    ".tc-tags-wrapper, .tc-tag-list-item, .tw-tags-wrapper, .tw-tag-list-item,"
    " .tiddler .tagged, .tiddler .tagging"
)
_TIDDLY_TAG_CLASSES = re.compile(r"t[cw]-tag|tagged|tagging", re.IGNORECASE)


def content_root(html: str) -> Tag:
    """The part of the page that holds the notes (drops navigation and sidebars when it can)."""
    soup = soup_of(html)
    if _TIDDLY_TAG_CLASSES.search(html):  # each selector pass costs a walk of the whole tree
        for tags in soup.select(_TIDDLY_TAGS):
            tags.extract()  # extract, not decompose: nested matches are then still safe to touch
    # one walk finds every candidate; each selector, in order, then keeps its own
    candidates = soup.select(", ".join(_CONTENT_SELECTORS))
    for selector in _CONTENT_SELECTORS:
        nodes = [node for node in candidates if node.css.match(selector)]
        if nodes:
            text_size = sum(len(node.get_text()) for node in nodes)
            if text_size > 200:
                wrapper = soup.new_tag("div")
                chosen = {id(node) for node in nodes}
                # a match inside another is copied, so moving the outer one never moves it;
                # apart, they move as they are (a copy parses the notes a second time)
                nested = any(id(parent) in chosen for node in nodes for parent in node.parents)
                for node in nodes:
                    wrapper.append(_copy(node) if nested else node.extract())
                return wrapper
    return soup.body or soup


def _copy(node: Tag) -> Tag:
    return soup_of(str(node)).body or node  # an independent copy, so nested matches never move


_TW_HEADING = re.compile(r"^(!{1,6})\s*", re.M)
_TW_NUMBERED = re.compile(r"^#+\s+", re.M)


def tiddlers(html: str) -> list[tuple[str, str]]:
    """(title, wikitext) of the tiddlers stored in a single-file TiddlyWiki, system tiddlers left out.

    TiddlyWiki >= 5.2 keeps them as JSON in `<script class="tiddlywiki-tiddler-store">`; older
    versions as `<div title=...><pre>text</pre></div>` inside `div#storeArea`.
    """
    if "tiddlywiki-tiddler-store" not in html and 'id="storeArea"' not in html:
        return []
    soup = soup_of(html)
    found: list[tuple[str, str]] = []
    for script in soup.select("script.tiddlywiki-tiddler-store"):
        try:
            store = json.loads(script.string or "[]")
        except json.JSONDecodeError:
            continue
        for tiddler in store if isinstance(store, list) else ():
            if isinstance(tiddler, dict) and tiddler.get("title") and tiddler.get("text"):
                found.append((str(tiddler["title"]), str(tiddler["text"])))
    for div in soup.select("div#storeArea > div[title]"):
        pre = div.find("pre")
        text = pre.get_text() if isinstance(pre, Tag) else div.get_text()
        found.append((str(div.get("title")), text))
    return [(title, text) for title, text in found if not title.startswith("$:/")]


def _wikitext_to_markdown(text: str) -> str:
    """The few TiddlyWiki markups that differ from Markdown: `!` headings and `#` numbered lists."""
    text = _TW_NUMBERED.sub("1. ", text)
    return _TW_HEADING.sub(lambda m: "#" * len(m.group(1)) + " ", text)


_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# TiddlyWiki's default subtitle: "<modifier> 30th November 2018 at 2:16am"
_TW_SUBTITLE = re.compile(
    r"^(?:\S.{0,80}\s)?\d{1,2}(?:st|nd|rd|th)\s+(?:January|February|March|April|May|June|July|August"
    r"|September|October|November|December)\s+\d{4}\s+at\s+\d{1,2}:\d{2}\s*[ap]m$"
)
# two tag pills copied as text with nothing between them: "Neural network theoryLearning theory"
_CAMEL_JOIN = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_NOT_IN_TAG_LINE = re.compile(r"[.,:;!?()\[\]{}\"“”/|#<>=–—]|\s-\s|https?:|\d{4}\.\d{4}")
_FUNCTION_WORDS = frozenset(
    ("a", "an", "and", "the", "of", "for", "in", "on", "at", "to", "with", "via", "by", "from", "or", "as")
)


def _is_tag_line(text: str) -> bool:
    """A line that reads as a row of tag names ("Deep learning Learning theory"), not as a title.

    Pills copied with nothing between them ("theoryLearning") say so outright. Otherwise tag
    names are short noun phrases that each start with a capital, so the line splits at capitals
    into pieces of a few words without "of", "with", "and"...; a paper title does not: Title
    Case splits into pieces like "Power of", sentence case into one long piece."""
    if _NOT_IN_TAG_LINE.search(text) or len(text.split()) > 10:
        return False
    if _CAMEL_JOIN.search(text):
        return True
    names: list[list[str]] = []
    for word in text.split():
        if not names or word[0].isupper():
            names.append([word])
        else:
            names[-1].append(word)
    if any(len(name) > 4 or _FUNCTION_WORDS.intersection(w.lower() for w in name) for name in names):
        return False
    if len(names) == 1:
        return len(names[0]) <= 3
    # "Deep Information Propagation" splits into single words: a title
    return any(len(name) > 1 for name in names)


def _without_tiddler_headers(blocks: list[Block]) -> list[Block]:
    """A TiddlyWiki page copied as text: each tiddler's title line becomes a heading and the tag
    rows under its subtitle (at most two: the tag pills and a row of parent links) are dropped.

    Only next to a subtitle in TiddlyWiki's own date format, so other pages are never touched;
    a tiddler without tags keeps its first line, which then reads as a title, not as tags."""
    result: list[Block] = []
    skip_tags = 0
    for block in blocks:
        if skip_tags:
            skip_tags -= 1
            if not block.links and _is_tag_line(block.text):
                continue
            skip_tags = 0
        if _TW_SUBTITLE.match(block.text):
            if result and not result[-1].links and result[-1].tag not in _HEADINGS:
                result[-1] = Block(result[-1].text, (), "h2")
            skip_tags = 2
        result.append(block)
    return result


def links_a_paper(href: str) -> bool:
    """An address `MentionCollector` reads as a paper: a line that is only such a link (an empty
    anchor, an arXiv badge image) is a mention, where a logo's or an avatar's link is nothing."""
    return classify_url(href) in {"arxiv", "doi", "paper"} or mirror_arxiv_id(href) is not None


def notes_blocks(text: str, page_url: str = "", *, only: tuple[str, ...] = ()) -> list[Block]:
    """A notes page as lines with links (HTML, a TiddlyWiki file, Markdown or plain text)."""
    if looks_like_html(text):
        stored = [(title, body) for title, body in tiddlers(text) if not only or title in only]
        if stored:
            blocks: list[Block] = []
            for title, body in stored:
                blocks.append(Block(title, tag="h2"))
                blocks.extend(text_blocks(_wikitext_to_markdown(body), page_url, keep_bare=links_a_paper))
            return blocks
        return html_blocks(content_root(text), page_url, keep_bare=links_a_paper)
    return _without_tiddler_headers(text_blocks(text, page_url, keep_bare=links_a_paper))


def collect_mentions(
    blocks: list[Block],
    *,
    source_id: str,
    page_url: str = "",
    title_only: bool = True,
    others: bool = True,
    zh_page: bool | None = None,
) -> MentionCollector:
    """Mentions and other links of a page's lines (used by notes_page and zhihu)."""
    if zh_page is None:
        sample = " ".join(block.text for block in blocks[:400])
        zh_page = len(re.findall(r"[\u4e00-\u9fff]", sample)) > 0.1 * max(1, len(sample.replace(" ", "")))
    collector = MentionCollector(source_id, page_url, title_only, others, zh_page)
    collector.add_blocks(blocks)
    return collector


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    opts = options if isinstance(options, NotesOptions) else NotesOptions()
    text = page_text(page)
    blocks = notes_blocks(text, page.url, only=opts.tiddlers)
    collector = collect_mentions(
        blocks, source_id=page.source_id, page_url=page.url, title_only=opts.title_only, others=opts.others
    )
    return finish(page, collector.items)


KIND = SourceKind(
    name="notes_page",
    parse=parse,
    options=NotesOptions,
    description="Curated notes pages (Obsidian, TiddlyWiki, GitHub, Zhihu, text): paper mentions and other links",
    curated_list=True,
)
