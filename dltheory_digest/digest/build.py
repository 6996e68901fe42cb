"""Building a week's digest from clusters, its JSON form, and per-reader filtering (pure functions)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from dltheory_digest.config import Reader
from dltheory_digest.digest.text import summarize
from dltheory_digest.ids import is_withdrawn
from dltheory_digest.models import (
    RESOURCE_CATEGORIES,
    AnnounceType,
    Classification,
    Digest,
    DigestPaper,
    DirectionSection,
    Item,
    ItemKind,
    Note,
    Paper,
    PaperCluster,
    ReaderFilters,
    Resource,
    Sighting,
    SourceReport,
    UpdateReason,
)
from dltheory_digest.weeks import CATCH_UP_WEEKS

if TYPE_CHECKING:
    from dltheory_digest.language.glossary import Glossary


def _unique_sightings(
    sightings: Iterable[Sighting], arxiv_sources: Collection[str] = ()
) -> tuple[Sighting, ...]:
    """One sighting per source name: arXiv's own sources (by kind, never by id: a user may name
    an RSS source "cs-lg", and "arxivdaily-..." is a Chinese aggregator) first, then the rest by
    name, so "Seen in" reads the same every week."""

    def order(sighting: Sighting) -> tuple[int, str, str]:
        return (
            0 if sighting.source_id in arxiv_sources else 1,
            sighting.source_name.lower(),
            sighting.url or "",
        )

    best: dict[str, Sighting] = {}
    for sighting in sorted(sightings, key=order):
        best.setdefault(sighting.source_name, sighting)
    return tuple(sorted(best.values(), key=order))


def _badges(
    cluster: PaperCluster,
    window_start: dt.datetime,
    *,
    sent_before: bool = False,
    arxiv_sources: Collection[str] = (),
) -> tuple[str, ...]:
    """new: never sent, and first announced in this window or in the weeks it catches up on
    (whatever its version now); updated vN: a revision announced (or dated) in the window;
    cross-listed: it reached a listing we read from another primary category (arXiv says so);
    discussed: neither new nor revised, here because a blog, article or page brought it up;
    withdrawn: arXiv's comment or abstract says the authors withdrew it.

    `sent_before`: an earlier digest showed the paper (it is back as updated), so it is never new;
    `arxiv_sources`: the ids of arXiv's own sources (`sources.arxiv_source_ids`)."""
    paper = cluster.paper
    types = {s.announce_type for s in cluster.sightings if s.announce_type}
    version = max([paper.version or 0, *cluster.versions, *(s.version or 0 for s in cluster.sightings)])
    # the first version came out in this window, or in a week an arXiv source catches up on
    # (arXiv's API gives dates, no announcement types): no digest showed it, so it is new to
    # readers; a recent paper only a blog brought in stays `discussed`, which says why it is here
    since = window_start - dt.timedelta(weeks=CATCH_UP_WEEKS)
    first_version_recent = paper.published is not None and (
        paper.published >= window_start
        or (paper.published >= since and any(s.source_id in arxiv_sources for s in cluster.sightings))
    )
    revised_now = version > 1 and (
        any(t.is_revision for t in types) or (paper.updated is not None and paper.updated >= window_start)
    )
    announced_new = AnnounceType.NEW in types or AnnounceType.CROSS in types
    badges: list[str] = []
    if not sent_before and (first_version_recent or announced_new):
        badges.append("new")
    if revised_now:
        badges.append(f"updated v{version}")
    if AnnounceType.CROSS in types or AnnounceType.REPLACE_CROSS in types:
        badges.append("cross-listed")
    if not badges and any(s.source_id not in arxiv_sources for s in cluster.sightings):
        # a 2017 paper among this week's announcements: say why it is here
        badges.append("discussed")
    if is_withdrawn(paper.comment, paper.abstract):
        badges.append("withdrawn")
    return tuple(badges)


def post_targets(post: Item) -> set[str]:
    """arXiv ids, DOIs (and URLs) a post points at, from its cited mentions and its links."""
    from dltheory_digest.ids import find_arxiv_ids, find_dois

    targets = {key for cited in post.cited for key in _cited_keys(cited)}
    for link in post.links:
        targets.update(f"arxiv:{i}" for i, _ in find_arxiv_ids(link))
        targets.update(f"doi:{doi}" for doi in find_dois(link))
        targets.add(f"url:{link}")
    return targets


def _cited_keys(cited: Item) -> set[str]:
    """The keys of a paper a post cites: its arXiv id, its DOI, an arXiv id in its link."""
    from dltheory_digest.ids import find_arxiv_ids

    keys = {f"arxiv:{cited.arxiv_id}"} if cited.arxiv_id else set()
    if cited.doi:
        keys.add(f"doi:{cited.doi}")
    keys.update(f"arxiv:{i}" for i, _ in find_arxiv_ids(cited.url or ""))
    return keys


def _points_at_paper(url: str, paper: Paper) -> bool:
    """Whether a link is the paper itself (its arXiv abstract or PDF, its DOI), not a page about it."""
    from dltheory_digest.ids import find_arxiv_ids, find_dois

    if paper.arxiv_id and any(found == paper.arxiv_id for found, _ in find_arxiv_ids(url)):
        return True
    return bool(paper.doi) and paper.doi in find_dois(url)


def _as_seen(
    sighting: Sighting,
    paper: Paper,
    *,
    source_names: Mapping[str, str],
    source_langs: Mapping[str, str],
    source_pages: Mapping[str, str | None],
) -> Sighting:
    """A sighting as "Seen in" shows it: named, linked to the page it was seen on, tagged with
    that page's language.

    A notes page links the paper itself (arXiv, PDF): the sighting links the notes page
    instead, and an arXiv listing gets no link at all (the title already links the
    abstract). A source that declares a non-English language tags all its sightings, also
    those of English titles it lists.
    """
    url = sighting.url
    if not url or _points_at_paper(url, paper):
        url = source_pages.get(sighting.source_id)
    return dataclasses.replace(
        sighting,
        source_name=source_names.get(sighting.source_id, sighting.source_name or sighting.source_id),
        url=url,
        lang=_page_lang(source_langs, sighting.source_id, sighting.lang),
    )


def _page_lang(source_langs: Mapping[str, str], source_id: str, detected: str | None) -> str | None:
    declared = source_langs.get(source_id)
    return declared if declared and declared not in ("en", "mixed") else detected


def with_item_texts(clusters: Sequence[PaperCluster], items: Sequence[Item]) -> list[PaperCluster]:
    """Give each sighting of a Chinese, Arabic (any non-English) source what that source says
    about the paper: the English translation as `commentary`, the text as written as
    `commentary_original`, and the model that translated it.

    `items` are the localized items the clusters were made from; a paper's own page on such
    a source (Shamra's Arabic abstract) counts as commentary too, so readers of the arXiv
    abstract still see what the community wrote.
    """
    by_key: dict[str, list[Item]] = {}
    for item in items:
        by_key.setdefault(f"{item.source_id}|{item.key}", []).append(item)
    out: list[PaperCluster] = []
    for cluster in clusters:
        members = [i for key in cluster.item_keys for i in by_key.get(key, ())]
        sightings = tuple(_with_text(s, members) for s in cluster.sightings)
        out.append(
            dataclasses.replace(cluster, sightings=sightings) if sightings != cluster.sightings else cluster
        )
    return out


def _with_text(sighting: Sighting, members: Sequence[Item]) -> Sighting:
    candidates = [
        i
        for i in members
        if (i.source_id, i.url, i.kind, i.version)
        == (sighting.source_id, sighting.url, sighting.kind, sighting.version)
    ]
    item = next((i for i in candidates if (i.text_en or i.text) == sighting.commentary), None)
    item = item or (candidates[0] if candidates else None)
    if item is None or not item.text.strip() or item.text.isascii():
        return sighting  # no text, or English: the arXiv abstract says it better
    lang = _written_in(item.text)
    if lang is None:
        return sighting
    return dataclasses.replace(
        sighting,
        commentary=item.text_en or item.text,
        commentary_original=item.text if item.text_en else "",
        commentary_lang=lang,
        translated_by=item.translated_by if item.text_en else None,
    )


def _written_in(text: str) -> str | None:
    """The non-English language a comment is written in ("zh" for Chinese around an English title)."""
    from dltheory_digest.language.detect import detect

    found = detect(text)
    if found.lang not in ("en", "mixed"):
        return found.lang
    return next((s.lang for s in found.segments if s.lang not in ("en", "mixed", "und")), None)


def _paper_keys(cluster: PaperCluster) -> set[str]:
    return _keys_of(cluster.paper)


def _keys_of(paper: Paper) -> set[str]:
    """Every key a post may cite the paper by (`post_targets`)."""
    keys = {paper.key}
    if paper.arxiv_id:
        keys.add(f"arxiv:{paper.arxiv_id}")
    if paper.doi:  # a post citing the journal version discusses the paper too
        keys.add(f"doi:{paper.doi}")
    if paper.url:
        keys.add(f"url:{paper.url}")
    return keys


def _post_order(post: Item) -> tuple[bool, str, str, str]:
    # dated posts first, oldest first; undated ones (aggregator discussions) after them
    published = post.published.isoformat() if post.published else ""
    return (post.published is None, published, post.source_id, post.url or post.title)


def _paper_order(entry: DigestPaper) -> tuple[float, str, str]:
    published = entry.paper.published.isoformat() if entry.paper.published else ""
    # most relevant first; ties newest first, then by key so the order never depends on input order
    return (-round(entry.classification.relevance, 4), _invert(published), entry.paper.key)


def _section_order(entry: DigestPaper) -> tuple[int, float, str, str]:
    """A direction's papers: this week's news first (new papers, then revisions), then older
    papers a post or page brought up; within each, `_paper_order` (most relevant first)."""
    if "new" in entry.badges:
        news = 0
    elif any(b.startswith("updated") for b in entry.badges):
        news = 1
    else:
        news = 2
    return (news, *_paper_order(entry))


def _invert(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def _digest_paper(
    cluster: PaperCluster,
    classification: Classification,
    *,
    window_start: dt.datetime,
    posts_by_key: Mapping[str, Sequence[Item]],
    source_names: Mapping[str, str],
    source_langs: Mapping[str, str],
    source_pages: Mapping[str, str | None],
    update_reason: UpdateReason | None = None,
    group: int | None = None,
    sent_before: bool = False,
    arxiv_sources: Collection[str] = (),
) -> DigestPaper:
    paper = cluster.paper
    sightings = tuple(
        _as_seen(s, paper, source_names=source_names, source_langs=source_langs, source_pages=source_pages)
        for s in cluster.sightings
    )
    discussed: dict[str, Item] = {}
    for key in sorted(_paper_keys(cluster)):
        for post in posts_by_key.get(key, ()):
            discussed.setdefault(post.url or post.key, post)
    for sighting in sightings:
        # an article about the paper on an aggregator (a Zhihu post, ...) is a discussion too
        if sighting.kind is ItemKind.POST and sighting.url and sighting.source_id not in arxiv_sources:
            discussed.setdefault(sighting.url, _discussion(sighting, paper))
    # a blog post linking the paper is a place it was seen, too ("Seen in: arXiv · offconvex")
    seen_sources = {s.source_id for s in sightings}
    sightings += tuple(
        Sighting(
            source_id=post.source_id,
            source_name=source_names.get(post.source_id, post.source_id),
            url=post.url,
            lang=_page_lang(source_langs, post.source_id, post.lang),
            kind=ItemKind.POST,
            seen_at=post.published,
        )
        for post in sorted(discussed.values(), key=_post_order)
        if post.source_id not in seen_sources
    )
    original_title = cluster.original_title
    if original_title and original_title.strip() == paper.title.strip():
        original_title = None
    return DigestPaper(
        paper=paper,
        classification=classification,
        sightings=_unique_sightings(sightings, arxiv_sources),
        english_title=paper.title,
        original_title=original_title,
        original_lang=cluster.original_lang if original_title else None,
        # no abstract (a mention nobody resolved): what the page that mentioned it says, unless
        # that is a Chinese or Arabic page's, which its commentary line shows already
        summary=summarize(paper.abstract) or _said_about(sightings, foreign=False),
        badges=_badges(cluster, window_start, sent_before=sent_before, arxiv_sources=arxiv_sources),
        update_reason=update_reason,
        discussed_in=tuple(sorted(discussed.values(), key=_post_order)),
        group=group,
    )


def _said_about(sightings: Iterable[Sighting], *, foreign: bool) -> str:
    """What the first page with something to say about a paper says, summarized; a non-English
    text (`with_item_texts`: a paper entry shows it on a line of its own) only if `foreign`."""
    return summarize(
        next(
            (
                s.commentary
                for s in sightings
                if s.commentary and (foreign or s.commentary_lang in (None, "en", "mixed"))
            ),
            "",
        )
    )


def _discussion(sighting: Sighting, paper: Paper) -> Item:
    mention = Item(
        source_id=sighting.source_id, kind=ItemKind.MENTION, title=paper.title, arxiv_id=paper.arxiv_id
    )
    return Item(
        source_id=sighting.source_id,
        kind=ItemKind.POST,
        title=sighting.original_title or paper.title,
        url=sighting.url,
        lang=sighting.lang,
        text=sighting.commentary,
        published=sighting.seen_at,
        cited=(mention,),
    )


# More older papers than this from one curated list in one week are its backlog, not news.
BACKLOG_MIN = 10

# The fewest papers an Emerging group has (`directions.emerging_groups`' min_size, as the
# pipeline asks for it): below it, papers sharing a word are no topic.
EMERGING_MIN_SIZE = 3
# The most (its max_size): a topic no direction covers that brings more than this many papers
# in one week is no longer emerging, and a larger component is a chain of shared words; it is
# split at a stricter similarity, and what stays larger is left in Other.
EMERGING_MAX_SIZE = 10


# The origin of the older papers only a first read's earlier posts cite (`build_digest`'s
# `backlog_posts`): they are that read's backlog whatever their number.
FIRST_READ = "first-read"


def _bulk_listed(
    entries: Sequence[DigestPaper],
    origins: Mapping[str, frozenset[str]],
    also_brought: Sequence[DigestPaper] = (),
) -> dict[str, DigestPaper]:
    """Of `entries` (the sections' papers), the older ones (`discussed`, nothing else brought
    them) that one origin alone brought in: a curated list or one post (`_origins`) that brought
    in more than BACKLOG_MIN of them (a reading list), counting those it brought under the
    threshold or unconfirmed too (`also_brought`), or a feed's first read (FIRST_READ); keyed by
    paper key."""
    by_origin: dict[str, list[DigestPaper]] = {}
    brought: dict[str, int] = {}
    listed_keys = {e.paper.key for e in entries}
    for entry in (*entries, *also_brought):
        found = origins.get(entry.paper.key, frozenset())
        if "discussed" in entry.badges and len(found) == 1:
            (origin,) = found
            if origin.startswith(("list:", "post:")) or origin == FIRST_READ:
                brought[origin] = brought.get(origin, 0) + 1
                if entry.paper.key in listed_keys:
                    by_origin.setdefault(origin, []).append(entry)
    return {
        e.paper.key: e
        for origin, listed in by_origin.items()
        if origin == FIRST_READ or brought[origin] > BACKLOG_MIN
        for e in listed
    }


def _origins(
    cluster: PaperCluster,
    entry: DigestPaper,
    list_sources: Collection[str],
    post_origins: Mapping[tuple[str, str | None], str],
) -> frozenset[str]:
    """What brought a paper in: "list:<source>" for a curated list, "post:<identity>" for a post
    (a crosspost on two sites is one), FIRST_READ for a feed's earlier posts read for the first
    time, "source:<id>" for anything else (a listing, an aggregator's page)."""
    found: set[str] = set()
    for sighting in cluster.sightings:
        if sighting.source_id in list_sources:
            found.add(f"list:{sighting.source_id}")
        else:
            found.add(post_origins.get((sighting.source_id, sighting.url), f"source:{sighting.source_id}"))
    # a post linking the paper without citing it as a mention (`post_targets`)
    found.update(post_origins.get((p.source_id, p.url), f"source:{p.source_id}") for p in entry.discussed_in)
    return frozenset(found)


# More talks and courses than this from one list in one week are its backlog (a page read for
# the first time lists every course it ever linked), not news. Lower than BACKLOG_MIN: a page
# adds a course or two a week, and a section of thirty year-old videos buries them.
RESOURCE_BACKLOG_MIN = 5


def resource_category(item: Item) -> str | None:
    """The category (in RESOURCE_CATEGORIES) of a notes page's OTHER item the digest lists; None for the rest."""
    category = dict(item.extra).get("category")
    if item.kind is not ItemKind.OTHER or category not in RESOURCE_CATEGORIES:
        return None
    return category


def resource_key(item: Item) -> str:
    """What makes two sightings (two pages, two weeks) the same resource: its `canonical_link`;
    its title when it has no link. Only for comparing: the store keeps each item's own key."""
    if item.url:
        return "url:" + canonical_link(item.url)
    return "title:" + " ".join((item.title_en or item.title).lower().split())


# One video, many spellings: youtu.be/ID, youtube.com/watch?v=ID&t=90s&list=..., m.youtube.com,
# /embed/ID, /shorts/ID, /live/ID, youtube-nocookie.com; a Vimeo video as vimeo.com/ID or
# player.vimeo.com/video/ID; a Bilibili video as (m.)bilibili.com/video/BV.../?share_source=...
_YOUTUBE_HOSTS = frozenset({"youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com"})
_YOUTUBE_PATH = re.compile(r"/(?:embed|shorts|live|v)/([^/]+)")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_VIMEO_PATH = re.compile(r"/(?:video/)?(\d+)/?")
_BILIBILI_PATH = re.compile(r"/video/(BV[0-9A-Za-z]{10}|av\d+)/?")
# Query parameters that say where a click came from, not what the page is.
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})


def canonical_link(url: str) -> str:
    """One spelling of a link, for telling whether two links are the same resource: without
    scheme, "www.", default port, fragment, trailing slash or tracking parameters, and a
    YouTube or Vimeo video reduced to its id (`youtube.com/watch?v=ID`)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    text = url.strip()
    parts = urlsplit(text if "//" in text else f"//{text}")  # "example.org/x" written bare
    host = (parts.hostname or "").lower().removeprefix("www.")
    try:
        port = parts.port
    except ValueError:  # a port that is no number: left out
        port = None
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    video = _youtube_id(host, parts.path, query)
    if video:
        return f"youtube.com/watch?v={video}"
    if host in _YOUTUBE_HOSTS and parts.path.rstrip("/") == "/playlist" and dict(query).get("list"):
        return f"youtube.com/playlist?list={dict(query)['list']}"
    vimeo = _VIMEO_PATH.fullmatch(parts.path) if host in ("vimeo.com", "player.vimeo.com") else None
    if vimeo:
        return f"vimeo.com/{vimeo.group(1)}"
    bilibili = _BILIBILI_PATH.fullmatch(parts.path) if host in ("bilibili.com", "m.bilibili.com") else None
    if bilibili:
        episode = dict(query).get("p", "1")  # one part of a multi-part upload: a lecture of a course
        return f"bilibili.com/video/{bilibili.group(1)}" + (f"?p={episode}" if episode != "1" else "")
    kept = [
        (k, v) for k, v in query if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    return f"{host}{parts.path.rstrip('/')}" + (f"?{urlencode(kept)}" if kept else "")


def _youtube_id(host: str, path: str, query: Sequence[tuple[str, str]]) -> str | None:
    found: str | None = None
    if host == "youtu.be":
        found = path.strip("/").split("/")[0]
    elif host in _YOUTUBE_HOSTS:
        if path.rstrip("/") == "/watch":
            found = dict(query).get("v")
        elif match := _YOUTUBE_PATH.match(path):
            found = match.group(1)
    return found if found and _YOUTUBE_ID.fullmatch(found) else None


def build_resources(
    items: Sequence[Item],
    *,
    source_names: Mapping[str, str],
    source_langs: Mapping[str, str],
    source_pages: Mapping[str, str | None],
) -> tuple[tuple[Resource, ...], tuple[Resource, ...]]:
    """(new resources, a list's backlog) from the week's localized notes-page items: one
    Resource per video or course however many pages listed it; a resource only lists that
    each brought in more than RESOURCE_BACKLOG_MIN of them this week goes to the backlog."""
    grouped: dict[str, list[Item]] = {}
    for item in items:
        if resource_category(item) and (item.title or "").strip():
            grouped.setdefault(resource_key(item), []).append(item)
    per_list: dict[str, int] = {}
    for found in grouped.values():
        for source_id in {i.source_id for i in found}:
            per_list[source_id] = per_list.get(source_id, 0) + 1
    flooding = {source_id for source_id, n in per_list.items() if n > RESOURCE_BACKLOG_MIN}
    new: list[Resource] = []
    backlog: list[Resource] = []
    for found in grouped.values():
        found = sorted(found, key=lambda i: (source_names.get(i.source_id, i.source_id).lower(), i.source_id))
        resource = _resource(found, source_names, source_langs, source_pages)
        (backlog if {i.source_id for i in found} <= flooding else new).append(resource)
    return tuple(sorted(new, key=_resource_order)), tuple(sorted(backlog, key=_resource_order))


def _comment_lang(text: str) -> str | None:
    """The language a page's remark is written in: "en" for English (shown as it is, unlike a
    paper's English commentary: a course has no abstract that says it better)."""
    if not text:
        return None
    return (None if text.isascii() else _written_in(text)) or "en"


def _resource_order(resource: Resource) -> tuple[str, str, str]:
    return (resource.title.lower(), resource.url or "", resource.category)


def _resource(
    found: Sequence[Item],
    source_names: Mapping[str, str],
    source_langs: Mapping[str, str],
    source_pages: Mapping[str, str | None],
) -> Resource:
    first = found[0]
    english = (first.title_en or first.title).strip()
    original = first.title.strip() if first.title.strip() != english else None
    sightings = []
    for item in found:
        text = item.text.strip()
        translated = bool(item.text_en) and item.text_en != item.text
        sightings.append(
            Sighting(
                source_id=item.source_id,
                source_name=source_names.get(item.source_id, item.source_id),
                url=source_pages.get(item.source_id),
                lang=_page_lang(source_langs, item.source_id, item.lang),
                original_title=original,
                kind=ItemKind.OTHER,
                commentary=(item.text_en or text) if text else "",
                commentary_original=text if translated else "",
                commentary_lang=_comment_lang(text),
                translated_by=item.translated_by if translated else None,
            )
        )
    if original:
        original_lang = _written_in(original) or first.lang
    else:  # untranslated: the title itself may be in the page's language (no zh→en model)
        original_lang = None if english.isascii() else _written_in(english)
    return Resource(
        category=resource_category(first) or "course",
        title=english,
        url=first.url,
        original_title=original,
        original_lang=original_lang,
        sightings=_unique_sightings(sightings),
    )


def _confirmed(cluster: PaperCluster, post_urls: set[str]) -> bool:
    """Whether anything beyond a bare title says this is a paper: an arXiv id, a DOI, authors,
    an abstract, a page of its own on some source, or a link of its own (not the post it was
    cited in). A notes line "FLAT MINIMA - flat regions ..." has none of these.

    Nor is a paper known by the start of what a page says about it (Shamra's related papers
    shown without their titles, labelled by their abstract's first words): its label is no
    title, and the link it has is the page of the paper it was listed under."""
    paper = cluster.paper
    if paper.arxiv_id or paper.doi:
        return True
    if _named_by_its_text(cluster):
        return False
    if paper.authors or paper.abstract.strip():
        return True
    if any(s.kind is ItemKind.PAPER for s in cluster.sightings):
        return True
    return bool(paper.url) and paper.url not in post_urls


def _named_by_its_text(cluster: PaperCluster) -> bool:
    """Whether every source showed the paper without a title, so that it goes by a label made
    from their text (`Sighting.titled_by_text`)."""
    return bool(cluster.sightings) and all(s.titled_by_text for s in cluster.sightings)


def post_id(post: Item) -> str:
    """What tells a week's posts apart: its link, else its key (a post read twice is one)."""
    return post.url or post.key


# LessWrong, the Alignment Forum and GreaterWrong serve one database: a post crossposted to
# both sites (or read through GreaterWrong's mirror) has the same 17-character id on each.
_LW_HOSTS = frozenset({"lesswrong.com", "alignmentforum.org", "greaterwrong.com"})
_LW_POST = re.compile(r"/posts/([A-Za-z0-9]{17})(?:/|$)")
# A feed's guid that is no URL and this long is the platform's record id, not a per-blog
# counter ("123"); with the same title it is one record syndicated on two feeds.
_GUID_MIN_CHARS = 16
ALSO_IN = "also_in"  # a crosspost's other sources, in `Item.extra` (one pair per source id)


def post_identity(post: Item) -> str:
    """What makes two sources' posts one post: a LessWrong/Alignment Forum/GreaterWrong post id
    ("lw:<id>"); a long non-URL guid with the same title; else the post itself (`post_id`).
    Deliberately not a title and author alone: a series' posts may share both."""
    from urllib.parse import urlsplit

    if post.url:
        parts = urlsplit(post.url)
        host = (parts.hostname or "").removeprefix("www.")
        found = _LW_POST.match(parts.path) if host in _LW_HOSTS else None
        if found:
            return f"lw:{found.group(1)}"
    guid = dict(post.extra).get("guid", "").strip()
    if len(guid) >= _GUID_MIN_CHARS and "://" not in guid and not guid.startswith(("www.", "tag:")):
        return f"guid:{guid}|{' '.join(post.title.lower().split())}"
    return post_id(post)


def merge_crossposts(posts: Iterable[Item], source_names: Mapping[str, str]) -> list[Item]:
    """One post per `post_identity`: the copy of the source first by name, citing and linking
    what every copy does, its other sources in `extra` (ALSO_IN), as a paper seen in two
    sources is one entry. Posts are revisions merged already (`merge_post_revisions`)."""
    groups: dict[str, list[Item]] = {}
    for post in posts:
        groups.setdefault(post_identity(post), []).append(post)
    merged: list[Item] = []
    for group in groups.values():
        sources = {p.source_id for p in group}
        if len(sources) == 1:
            merged.extend(group)
            continue
        group.sort(
            key=lambda p: (source_names.get(p.source_id, p.source_id).lower(), p.source_id, p.url or "")
        )
        first = group[0]
        cited: dict[str, Item] = {}
        for copy in group:
            for paper in copy.cited:
                cited.setdefault(paper.key, paper)
        others = sorted(sources - {first.source_id}, key=lambda s: source_names.get(s, s).lower())
        merged.append(
            dataclasses.replace(
                first,
                cited=tuple(cited.values()),
                links=tuple(dict.fromkeys(link for copy in group for link in copy.links)),
                extra=(*first.extra, *((ALSO_IN, s) for s in others)),
            )
        )
    return merged


def merge_post_revisions(posts: Iterable[Item]) -> list[Item]:
    """One post per `post_id`: its latest revision (highest `version`; of equals, the one given
    last) with every paper and link its revisions cite, in the order they were first cited.

    A post edited within the week is stored as revisions, each later one citing only what it
    added (`pipeline.with_new_citations`), so the latest alone would drop what the post cited
    first. A citation the edit removed is kept, deliberately: the revisions record additions
    only, so a removal cannot be told from "still there", and a reader loses less by seeing a
    link the post once made than by missing one it still makes."""
    revisions: dict[str, list[Item]] = {}
    for post in posts:
        revisions.setdefault(post_id(post), []).append(post)
    merged: list[Item] = []
    for group in revisions.values():
        # stable sort: of two equal versions the later given stays last (a re-read post's text)
        group.sort(key=lambda p: p.version or 0)
        latest = group[-1]
        if len(group) == 1:
            merged.append(latest)
            continue
        cited: dict[str, Item] = {}
        for revision in group:
            for paper in revision.cited:
                cited[paper.key] = paper  # first place, latest wording
        merged.append(
            dataclasses.replace(
                latest,
                cited=tuple(cited.values()),
                links=tuple(dict.fromkeys(link for revision in group for link in revision.links)),
                published=latest.published
                or next((p.published for p in reversed(group) if p.published), None),
            )
        )
    return merged


# What a post is scored on: its title and its text up to this long. The start alone misses a
# theory post that opens with a story (offconvex's "biologically plausible neural
# computation" scores 0.22 on its first 1,500 characters, 0.66 on the whole post).
POST_SCORED_CHARS = 20_000


def classify_posts(
    posts: Sequence[Item], classify_many: Callable[[Sequence[tuple[str, str]]], list[Classification]]
) -> dict[str, Classification]:
    """Each post's classification (keyed by `post_id`), on its title and text as a paper's
    are on title and abstract: in English (its translation when it has one), the text up to
    POST_SCORED_CHARS. A Chinese or Arabic post no model translated is not scored (an
    English model would call it off-topic): it stays as it is. So does one in any other
    language no model translated (Japanese, Persian, Russian), also from a source declaring
    `lang: en`: readable is what the text (else the title) is written in, as detected."""
    readable = [p for p in posts if _scorable(p)]
    rows = [(p.english_title, (p.text_en or p.text)[:POST_SCORED_CHARS]) for p in readable]
    return {post_id(p): c for p, c in zip(readable, classify_many(rows), strict=True)}


def _scorable(post: Item) -> bool:
    """Whether an English model can read a post: its text (else its title) translated, or
    written mostly in English. Not `Item.lang`, which is the source's declared language when the
    parser could not tell (`pipeline._owned`)."""
    text, english = (post.text, post.text_en) if post.text.strip() else (post.title, post.title_en)
    return bool(english) or _mostly_english(text[:POST_SCORED_CHARS])


def _mostly_english(text: str) -> bool:
    """ASCII, or detected as English (or no language), or mixed with at least half of it English
    (an English post quoting a Japanese title)."""
    from dltheory_digest.language.detect import MIXED, UNDETERMINED, detect

    if text.isascii():
        return True
    found = detect(text)
    if found.lang in ("en", UNDETERMINED):
        return True
    if found.lang != MIXED:
        return False
    sizes: dict[str, int] = {}
    for segment in found.segments:
        sizes[segment.lang] = sizes.get(segment.lang, 0) + len(segment.text.strip())
    return sizes.get("en", 0) * 2 >= sum(size for lang, size in sizes.items() if lang != UNDETERMINED)


def _split_posts(
    posts: Sequence[Item],
    classifications: Mapping[str, Classification],
    digest_keys: set[str],
    threshold: float,
) -> tuple[tuple[Item, ...], tuple[tuple[Item, float], ...]]:
    """(the posts the digest lists, the off-topic ones with their relevance): a post citing a
    paper of the digest goes with it whatever its score; one citing none is listed only when
    its score reaches the threshold, as a paper is."""
    from dltheory_digest.directions import is_relevant  # imports scikit-learn: only when building

    kept: list[Item] = []
    below: list[tuple[Item, float]] = []
    for post in posts:
        scored = classifications.get(post_id(post))
        if scored is None or is_relevant(scored, threshold) or post_targets(post) & digest_keys:
            kept.append(post)
        else:
            below.append((post, scored.relevance))
    below.sort(key=lambda pair: (-round(pair[1], 4), _post_order(pair[0])))
    return tuple(kept), tuple(below)


def _fallback_classification(directions: Sequence[tuple[str, str]]) -> Classification:
    other = (
        "other"
        if any(d == "other" for d, _ in directions)
        else (directions[-1][0] if directions else "other")
    )
    return Classification(primary=other, relevance=0.0, confident=False)


def _emerging_entries(
    groups: Sequence[Sequence[str]], body: Mapping[str, Sequence[DigestPaper]], other: str
) -> list[DigestPaper]:
    """The Emerging groups' entries, numbered from 1, each group's papers in a section's order.

    A group takes only papers of the digest's body that no direction claims (unconfident, or
    filed under `other`), each once: one under the relevance threshold, a backlog's, an
    unconfirmed mention or a paper back under "Updated" is shown elsewhere already."""
    eligible = {
        p.paper.key: p
        for ps in body.values()
        for p in ps
        if not p.classification.confident or p.classification.primary == other
    }
    entries: list[DigestPaper] = []
    taken: set[str] = set()
    number = 0
    for group in groups:
        keys = list(dict.fromkeys(group))
        members = [eligible[k] for k in keys if k in eligible and k not in taken]
        # a group that lost members (mentions no paper was found for) to under the size that
        # made it a group is two papers sharing a word, not a topic
        if len(members) < min(len(keys), EMERGING_MIN_SIZE):
            continue
        number += 1
        taken |= {m.paper.key for m in members}
        # most relevant first, as in a section: the first few are what a shortened email shows
        entries += [dataclasses.replace(m, group=number) for m in sorted(members, key=_section_order)]
    return entries


def build_digest(
    *,
    week: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    timezone: str,
    clusters: Sequence[PaperCluster],
    classifications: Mapping[str, Classification],
    directions: Sequence[tuple[str, str]],
    updated: Sequence[tuple[PaperCluster, UpdateReason]] = (),
    posts: Sequence[Item] = (),
    reports: Sequence[SourceReport] = (),
    relevance_threshold: float = 0.0,
    emerging: Sequence[Sequence[str]] = (),
    announcement_days: Sequence[dt.date] = (),
    notes: Sequence[Note] = (),
    models: Sequence[tuple[str, str]] = (),
    source_names: Mapping[str, str] | None = None,
    source_langs: Mapping[str, str] | None = None,
    source_pages: Mapping[str, str | None] | None = None,
    list_sources: Collection[str] = (),
    others: Sequence[Item] = (),
    post_classifications: Mapping[str, Classification] | None = None,
    arxiv_sources: Collection[str] | None = None,
    backlog_posts: Collection[str] = (),
) -> Digest:
    """Group the week's papers by direction, attach the posts citing them, and count.

    `classifications` is keyed by `PaperCluster.paper.key`; a paper without one goes to
    "other" with relevance 0. Papers below `relevance_threshold` go to the collapsed
    appendix; papers in `updated` are shown only in "Updated and newly discussed"; a
    title-only mention nothing confirms as a paper goes to `unconfirmed`, outside the count.
    `source_langs` (source id -> declared language) tags sightings of Chinese or Arabic
    sources; `source_pages` (source id -> its page) is what a sighting links when the source
    linked the paper itself (leave arXiv listings out: their sightings get no link).
    `list_sources` are the curated lists (notes pages): when one of them alone brings in more
    than BACKLOG_MIN older papers in a week (read for the first time, or a large addition),
    those go to `backlog`, one line each, instead of filling the direction sections; so do
    those of one post (a reading list; a crosspost on two sites is one post, `post_identity`).
    `backlog_posts` (by `post_id`) are a feed's posts from before the week, read with its first
    read (`pipeline.first_read_backlog`): they go to `post_backlog`, and the older papers only
    they cite to `backlog`, however few.
    `others` are the week's OTHER items (notes pages' non-paper links, localized): its videos
    and courses become `resources` (see `build_resources`); wiki, code, blog and plain links
    are left out, being context for the page's reader rather than something to follow.
    `post_classifications` (keyed by `post_id`) scores the posts: one that cites none of the
    digest's papers and scores under `relevance_threshold` goes to `posts_below_threshold`
    (the collapsed appendix), as an off-topic paper does; one without a score stays.
    `emerging` are groups of paper keys (`directions.emerging_groups`): a group takes the body's
    papers no direction claims, which Other then leaves out (see `_emerging_entries`); the
    "papers" count is the sections' and the groups' together.
    `arxiv_sources` are the ids of arXiv's own sources (`sources.arxiv_source_ids` of the sources
    read): listed first in "Seen in", and what makes a caught-up paper `new`; None: those
    `reports` names with an arXiv kind.
    """
    from dltheory_digest.directions import is_relevant  # imports scikit-learn: only when building

    if arxiv_sources is None:
        from dltheory_digest.sources import arxiv_source_ids  # the kinds import parsers: only when asked

        arxiv_sources = arxiv_source_ids((r.source_id, r.kind) for r in reports)
    arxiv_ids = frozenset(arxiv_sources)
    names = dict(source_names or {})
    langs = dict(source_langs or {})
    pages = dict(source_pages or {})
    revisions = merge_post_revisions(posts)
    merged = merge_crossposts(revisions, names)
    # a crosspost is a first read's earlier post only when every copy of it is
    earlier = {post_identity(p) for p in revisions if post_id(p) in backlog_posts}
    earlier -= {post_identity(p) for p in revisions if post_id(p) not in backlog_posts}
    post_backlog = tuple(sorted((p for p in merged if post_identity(p) in earlier), key=_post_order))
    posts = tuple(sorted((p for p in merged if post_identity(p) not in earlier), key=_post_order))
    # what brought each cited paper in: the post (every copy and revision), or a first read
    post_origins: dict[tuple[str, str | None], str] = {
        (p.source_id, p.url): FIRST_READ if (identity := post_identity(p)) in earlier else f"post:{identity}"
        for p in revisions
        if p.url
    }
    digest_keys = {k for c in (*clusters, *(c for c, _ in updated)) for k in _paper_keys(c)}
    posts, posts_below = _split_posts(posts, post_classifications or {}, digest_keys, relevance_threshold)
    posts_by_key: dict[str, list[Item]] = {}
    for post in posts:
        for target in sorted(post_targets(post)):
            posts_by_key.setdefault(target, []).append(post)

    def classify(cluster: PaperCluster) -> Classification:
        return classifications.get(cluster.paper.key) or _fallback_classification(directions)

    def entry(cluster: PaperCluster, reason: UpdateReason | None = None) -> DigestPaper:
        return _digest_paper(
            cluster,
            classify(cluster),
            window_start=window_start,
            posts_by_key=posts_by_key,
            source_names=names,
            source_langs=langs,
            source_pages=pages,
            update_reason=reason,
            sent_before=cluster.paper.key in updated_keys,
            arxiv_sources=arxiv_ids,
        )

    post_urls = {p.url for p in posts if p.url} | {
        s.url for c in clusters for s in c.sightings if s.kind is ItemKind.POST and s.url
    }
    updated_keys = {c.paper.key for c, _ in updated}
    unique_clusters = {c.paper.key: c for c in clusters if c.paper.key not in updated_keys}
    by_direction: dict[str, list[DigestPaper]] = {}
    below: list[DigestPaper] = []
    unconfirmed: list[DigestPaper] = []
    for cluster in unique_clusters.values():
        item = entry(cluster)
        if not _confirmed(cluster, post_urls):
            # its one line has no commentary line: what a Chinese or Arabic page says is its summary
            unconfirmed.append(
                dataclasses.replace(item, summary=item.summary or _said_about(item.sightings, foreign=True))
            )
        elif not is_relevant(item.classification, relevance_threshold):
            below.append(item)
        else:
            by_direction.setdefault(item.classification.primary, []).append(item)

    lists = set(list_sources)
    in_sections = [p for ps in by_direction.values() for p in ps]
    origins = {
        e.paper.key: _origins(unique_clusters[e.paper.key], e, lists, post_origins)
        for e in (*in_sections, *below, *unconfirmed)
    }
    backlog = _bulk_listed(in_sections, origins, also_brought=(*below, *unconfirmed))
    by_direction = {d: [p for p in ps if p.paper.key not in backlog] for d, ps in by_direction.items()}
    emerging_entries = _emerging_entries(emerging, by_direction, _fallback_classification(directions).primary)
    # a grouped paper is listed once, in its group: Other keeps the unconfident papers no group took
    grouped = {e.paper.key for e in emerging_entries}
    by_direction = {d: [p for p in ps if p.paper.key not in grouped] for d, ps in by_direction.items()}
    known = [d for d, _ in directions]
    ordered = list(directions) + [(d, d) for d in sorted(by_direction) if d not in known]
    sections = []
    for direction_id, name in ordered:
        papers = tuple(sorted(by_direction.get(direction_id, ()), key=_section_order))
        if not papers:
            continue
        cited: dict[str, Item] = {}
        for paper in papers:
            for post in paper.discussed_in:
                cited.setdefault(post.url or post.key, post)
        sections.append(
            DirectionSection(
                direction_id=direction_id,
                name=name,
                papers=papers,
                posts=tuple(sorted(cited.values(), key=_post_order)),
            )
        )

    updated_entries = tuple(
        sorted(
            {c.paper.key: entry(c, reason) for c, reason in updated}.values(),
            key=lambda e: (e.classification.primary, e.paper.key),
        )
    )

    resources, resource_backlog = build_resources(
        others, source_names=names, source_langs=langs, source_pages=pages
    )
    # kept for the readers' filters: a post citing papers goes with them instead
    scored_posts = {
        key: scored
        for post in (*posts, *(p for p, _ in posts_below))
        if not post_targets(post) & digest_keys
        and (scored := (post_classifications or {}).get(key := post_id(post))) is not None
    }
    # the papers the body shows: the sections' and, once each, the Emerging groups'
    shown = sum(len(s.papers) for s in sections) + len(emerging_entries)
    counts = (
        ("papers", shown),
        ("directions", len(sections)),
        ("updated", len(updated_entries)),
        ("below_threshold", len(below)),
        ("unconfirmed", len(unconfirmed)),
        ("backlog", len(backlog)),
        ("posts", len(posts)),
        # a first read's earlier posts, listed apart; only when there are some (older digests lack it)
        *((("post_backlog", len(post_backlog)),) if post_backlog else ()),
        ("posts_below_threshold", len(posts_below)),
        ("resources", len(resources)),
        ("resource_backlog", len(resource_backlog)),
        ("sources", len(reports)),
        ("sources_failed", sum(1 for r in reports if not r.ok)),
    )
    return Digest(
        week=week,
        window_start=window_start,
        window_end=window_end,
        timezone=timezone,
        sections=tuple(sections),
        updated=updated_entries,
        emerging=tuple(emerging_entries),
        below_threshold=tuple(sorted(below, key=_paper_order)),
        unconfirmed=tuple(sorted(unconfirmed, key=lambda e: (e.paper.title.lower(), e.paper.key))),
        backlog=tuple(sorted(backlog.values(), key=_paper_order)),
        posts=posts,
        post_backlog=post_backlog,
        posts_below_threshold=posts_below,
        post_classifications=tuple(sorted(scored_posts.items())),
        resources=resources,
        resource_backlog=resource_backlog,
        reports=tuple(sorted(reports, key=lambda r: r.source_id)),
        announcement_days=tuple(sorted(set(announcement_days))),
        notes=tuple(dict.fromkeys(notes)),
        models=tuple(sorted(set(models))),
        counts=counts,
        directions=tuple(directions),
        source_names=tuple(sorted((source_names or {}).items())),
    )


# A paper is also listed under another direction scoring at least this much (at most two):
# "generalization bounds for graph networks" is filed under architectures, and a reader of
# generalization still gets it.
ALSO_MIN_SCORE = 0.35


def also_directions(entry: DigestPaper) -> tuple[str, ...]:
    """The paper's other strong directions, best first (none for an unconfident paper)."""
    return _also_of(entry.classification)


def _also_of(classification: Classification) -> tuple[str, ...]:
    primary = classification.primary
    if primary == "other":
        return ()
    others = [
        d for d, score in classification.scores if d not in (primary, "other") and score >= ALSO_MIN_SCORE
    ]
    return tuple(others[:2])


@cache
def _digest_adapter() -> TypeAdapter[Digest]:
    return TypeAdapter(Digest)


def digest_to_json(digest: Digest) -> str:
    """The whole digest as JSON, so a stored week can later be filtered and translated per reader."""
    return _digest_adapter().dump_json(digest).decode()


def digest_from_json(data: str | bytes | Mapping[str, object]) -> Digest:
    """A digest back from `digest_to_json` text, or from that JSON already parsed (a JSON column).

    Also a digest stored before reasons had parts (`_from_string_reasons`) or before notes
    were typed (`_from_string_notes`)."""
    parsed = data if isinstance(data, Mapping) else json.loads(data)
    return _digest_adapter().validate_python(_from_string_notes(_from_string_reasons(parsed)))


def _from_string_notes(data: Mapping[str, object]) -> Mapping[str, object]:
    """A stored digest whose notes are still bare texts, each as the typed Note its text
    opens as (`Note.from_legacy`); notes stored as objects are left as they are."""
    notes = data.get("notes")
    if not isinstance(notes, list) or not any(isinstance(n, str) for n in notes):
        return data
    typed = [dataclasses.asdict(Note.from_legacy(n)) if isinstance(n, str) else n for n in notes]
    return {**data, "notes": typed}


_ENTRY_LISTS = ("updated", "emerging", "below_threshold", "unconfirmed", "backlog")


def _from_string_reasons(data: Mapping[str, object]) -> Mapping[str, object]:
    """A stored digest whose entries still have the one-string `reason` of earlier versions,
    in today's shape: "group 3" of an Emerging entry becomes its `group`, any other line an
    UpdateReason holding it as `legacy_text` (English; a zh/ar edition machine-translates it)."""

    def entry(paper: object, *, emerging: bool) -> object:
        if not isinstance(paper, Mapping) or "reason" not in paper:
            return paper
        upgraded = {k: v for k, v in paper.items() if k != "reason"}
        reason = paper["reason"]
        group = re.fullmatch(r"group (\d+)", reason) if emerging and isinstance(reason, str) else None
        if group:
            upgraded["group"] = int(group.group(1))
        elif isinstance(reason, str) and reason:
            upgraded["update_reason"] = {"legacy_text": reason}
        return upgraded

    def entries(papers: object, *, emerging: bool = False) -> object:
        return [entry(p, emerging=emerging) for p in papers] if isinstance(papers, list) else papers

    upgraded = {
        key: entries(value, emerging=key == "emerging") if key in _ENTRY_LISTS else value
        for key, value in data.items()
    }
    sections = data.get("sections")
    if isinstance(sections, list):
        upgraded["sections"] = [
            {**section, "papers": entries(section["papers"])}
            if isinstance(section, Mapping) and "papers" in section
            else section
            for section in sections
        ]
    return upgraded


# ---------------------------------------------------------------------------------------
# Per-reader editions
# ---------------------------------------------------------------------------------------


def _paper_texts(entry: DigestPaper) -> tuple[str, ...]:
    """What a reader's keywords are looked for in: titles in every language, abstract,
    summary, authors and what each source says about the paper (translated and as written)."""
    paper = entry.paper
    return (
        paper.title,
        entry.english_title or "",
        entry.original_title or "",
        paper.abstract or "",
        entry.summary,
        "; ".join(paper.authors),
        *(s.commentary for s in entry.sightings),
        *(s.commentary_original for s in entry.sightings),
    )


def _post_texts(post: Item) -> tuple[str, ...]:
    """What a reader's keywords are looked for in for a post: its titles and text, as written
    and in English."""
    return (post.title, post.original_title or "", post.title_en or "", post.text, post.text_en or "")


def resource_texts(resource: Resource) -> tuple[str, ...]:
    """What a reader's keywords are looked for in for a talk or course: its titles and what
    each page says about it (translated and as written)."""
    return (
        resource.title,
        resource.original_title or "",
        *(s.commentary for s in resource.sightings),
        *(s.commentary_original for s in resource.sightings),
    )


# A paper of a followed author carries one badge per such author, "followed:" and the name as
# the paper writes it; the renderer shows it as that edition's mark ("★ followed: Sanjeev Arora").
FOLLOWED_BADGE = "followed:"
# ... and a post, which has no badges, an `extra` fact ("followed", name) for each
FOLLOWED_EXTRA = "followed"


def followed_in(entry: DigestPaper) -> tuple[str, ...]:
    """The names of the followed authors a reader's edition marks this paper by (none: not marked)."""
    return tuple(b.removeprefix(FOLLOWED_BADGE) for b in entry.badges if b.startswith(FOLLOWED_BADGE))


def followed_post_authors(post: Item) -> tuple[str, ...]:
    """The followed authors a reader's edition marks this post by (none: not marked)."""
    return tuple(value for key, value in post.extra if key == FOLLOWED_EXTRA)


def _marked_post(post: Item, authors: Sequence[str]) -> Item:
    extra = (*((k, v) for k, v in post.extra if k != FOLLOWED_EXTRA), *((FOLLOWED_EXTRA, a) for a in authors))
    return post if extra == post.extra else dataclasses.replace(post, extra=extra)


def _marked(entry: DigestPaper, authors: Sequence[str]) -> DigestPaper:
    """The entry with a "followed:" badge for each of `authors`, in front of its other badges."""
    unmarked = tuple(b for b in entry.badges if not b.startswith(FOLLOWED_BADGE))
    return dataclasses.replace(entry, badges=(*(FOLLOWED_BADGE + a for a in authors), *unmarked))


def _promoted(
    sections: Sequence[DirectionSection], papers: Sequence[DigestPaper], digest: Digest
) -> list[DirectionSection]:
    """`sections` with `papers` (of followed authors, under the week's relevance threshold) each
    filed under its direction, a section of its own opened in the taxonomy's order when needed,
    with the posts that discuss them."""
    if not papers:
        return list(sections)
    by_direction = {s.direction_id: s for s in sections}
    names = dict(digest.directions) | {s.direction_id: s.name for s in digest.sections}
    for entry in papers:
        direction = entry.classification.primary
        section = by_direction.get(direction) or DirectionSection(direction, names.get(direction, direction))
        posts = {p.url or p.key: p for p in (*section.posts, *entry.discussed_in)}
        by_direction[direction] = dataclasses.replace(
            section,
            papers=tuple(sorted((*section.papers, entry), key=_section_order)),
            posts=tuple(sorted(posts.values(), key=_post_order)),
        )
    order = [d for d, _ in digest.directions] + [s.direction_id for s in digest.sections]
    rank = {d: i for i, d in reversed(list(enumerate(order)))}
    return sorted(by_direction.values(), key=lambda s: (rank.get(s.direction_id, len(order)), s.direction_id))


def filter_for_reader(digest: Digest, reader: Reader, *, glossary: Glossary | None = None) -> Digest:
    """The reader's own edition: their directions, keywords, negative keywords and minimum
    relevance, and the authors they follow.

    A paper stays when its direction or one of its `also_directions` is included (all when
    none are listed) and its direction is not excluded, it matches a keyword (any when none
    are listed), it matches no negative keyword, and its relevance reaches the reader's
    minimum; this holds in every part (sections, updated, emerging, appendix). Keywords
    match as `directions.passes` does (whole phrases, any case, hyphen or space, plurals;
    Chinese and Arabic inside words, whatever their diacritics, letter variants or Traditional
    characters, and as the `glossary`'s English: the shipped one when None) in titles,
    abstract, authors and commentary. A blog post that links papers of the digest goes with
    them (a negative keyword in it drops it too); one that links none is kept when it matches
    the keywords and no negative keyword, looked for in its titles and text, and in the
    appendix also when its relevance reaches the reader's minimum; such a post the classifier
    scored (`Digest.post_classifications`) also passes the reader's directions and minimum
    relevance as a paper does (one no model could read, unscored, is kept). Talks and courses
    (`resources`) have no direction or relevance: the reader's keywords and negative keywords
    alone decide, looked for in their titles and what the pages say about them.

    A paper by an author the reader follows (`Reader.authors`, matched as bibliographies vary
    a name: `identity.normalize.same_author`) is always in, marked with that author's name: the
    reader asked for that person by name, which says more than any filter. So it passes the
    directions, keywords, negative keywords and minimum relevance, and one under the week's
    relevance threshold moves from the appendix into its direction. A blog post a followed
    author wrote (its feed names them) is kept and marked the same way, in the posts even when
    scored under the threshold. Followed authors add papers and never take any away: a reader
    with authors and no keywords gets everything their directions give and their authors'
    other papers, as the peers do with an author list beside the keywords (an OR, never an AND).
    """
    include = set(reader.include_directions)
    exclude = set(reader.exclude_directions)
    # imported here: the phrase matcher lives with the classifier, whose import is slow
    from dltheory_digest.directions import KeywordFilter, passes
    from dltheory_digest.identity.normalize import followed_authors

    by_keywords = KeywordFilter(tuple(reader.keywords), tuple(reader.negative_keywords), glossary)
    by_negative_keywords = KeywordFilter(negative_keywords=by_keywords.negative_keywords, glossary=glossary)
    minimum = reader.min_relevance
    post_scores = dict(digest.post_classifications)

    def wanted(classification: Classification) -> bool:
        """The reader's directions, excluded directions and minimum relevance."""
        direction = classification.primary
        if include and not include & {direction, *_also_of(classification)}:
            return False
        if direction in exclude:
            return False
        return minimum is None or classification.relevance >= minimum

    def mark(entries: Sequence[DigestPaper]) -> tuple[DigestPaper, ...]:
        """The entries with their followed authors marked (a stored edition's marks dropped first)."""
        marked = []
        for entry in entries:
            authors = followed_authors(reader.authors, entry.paper.authors)
            marked.append(_marked(entry, authors) if authors or followed_in(entry) else entry)
        return tuple(marked)

    def keep(entry: DigestPaper) -> bool:
        if followed_in(entry):
            return True
        return wanted(entry.classification) and passes(by_keywords, *_paper_texts(entry))

    def mark_post(post: Item) -> Item:
        return _marked_post(post, followed_authors(reader.authors, post.authors))

    def post_wanted(post: Item) -> bool:
        if followed_post_authors(post):
            return True
        scored = post_scores.get(post_id(post))
        return (scored is None or wanted(scored)) and passes(by_keywords, *_post_texts(post))

    sections = []
    for section in digest.sections:
        papers = tuple(p for p in mark(section.papers) if keep(p))
        if not papers:
            continue
        cited = {post.url or post.key for p in papers for post in p.discussed_in}
        posts = tuple(mark_post(p) for p in section.posts if (p.url or p.key) in cited)
        sections.append(dataclasses.replace(section, papers=papers, posts=posts))
    updated = tuple(p for p in mark(digest.updated) if keep(p))
    emerging = tuple(p for p in mark(digest.emerging) if keep(p))
    below = tuple(p for p in mark(digest.below_threshold) if keep(p))
    # a followed author's paper is no appendix matter for this reader
    sections = _promoted(sections, [p for p in below if followed_in(p)], digest)
    below = tuple(p for p in below if not followed_in(p))
    unconfirmed = tuple(p for p in mark(digest.unconfirmed) if keep(p))
    backlog = tuple(p for p in mark(digest.backlog) if keep(p))
    kept_keys = {p.paper.key for s in sections for p in s.papers} | {
        p.paper.key for p in (*updated, *emerging, *below, *backlog)
    }
    all_keys = {p.paper.key for p in all_entries(digest)}

    def post_ok(post: Item) -> bool:
        linked = {k for k in post_targets(post) if k in all_keys}
        if not linked or followed_post_authors(post):
            # a post about no paper of the digest: its own score and the keywords decide (a
            # followed author's post is kept, whatever it links to)
            return post_wanted(post)
        # a post about papers this reader filtered out goes with them
        return passes(by_negative_keywords, *_post_texts(post)) and bool(linked & kept_keys)

    # a post's "links to" names papers this edition filtered out by the full digest's titles
    titles = _titles_by_key(all_entries(digest))
    # scored posts all (`post_classifications`): the reader's minimum relevance is in `post_wanted`;
    # a followed author's post under the week's threshold joins the posts, as their papers do
    posts_below = tuple(
        (marked, score)
        for post, score in digest.posts_below_threshold
        if post_wanted(marked := mark_post(post))
    )
    promoted_posts = [post for post, _ in posts_below if followed_post_authors(post)]
    posts_below = tuple((post, score) for post, score in posts_below if not followed_post_authors(post))
    posts = tuple(
        sorted(
            (
                _with_cited_titles(p, titles)
                for p in (*map(mark_post, digest.posts), *promoted_posts)
                if post_ok(p)
            ),
            key=_post_order,
        )
    )
    resources = tuple(r for r in digest.resources if passes(by_keywords, *resource_texts(r)))
    resource_backlog = tuple(r for r in digest.resource_backlog if passes(by_keywords, *resource_texts(r)))
    week_papers = dict(digest.counts).get("papers", 0)  # the number the week's subject line gives
    filters = ReaderFilters(
        include_directions=tuple(reader.include_directions),
        exclude_directions=tuple(reader.exclude_directions),
        keywords=tuple(reader.keywords),
        negative_keywords=tuple(reader.negative_keywords),
        min_relevance=reader.min_relevance,
        authors=tuple(reader.authors),
    )
    # "no papers this week" would be wrong when the filters left none: the edition says which
    unmatched = (
        filters
        if not sections and not updated and not emerging and week_papers and filters != ReaderFilters()
        else None
    )
    counts = dict(digest.counts)
    # a digest stored before Emerging took only the body's papers listed its groups' papers under
    # Other too, or below the threshold: each body paper once, none from the appendix
    elsewhere = {p.paper.key for s in sections for p in s.papers} | {
        p.paper.key for p in (*below, *updated, *backlog)
    }
    counts.update(
        papers=sum(len(s.papers) for s in sections)
        + sum(1 for p in emerging if p.paper.key not in elsewhere),
        directions=len(sections),
        updated=len(updated),
        below_threshold=len(below),
        posts=len(posts),
        week_papers=week_papers,
        **_left_out(digest, sections, emerging, posts),
    )
    if "posts_below_threshold" in counts:
        counts["posts_below_threshold"] = len(posts_below)
    if "unconfirmed" in counts:
        counts["unconfirmed"] = len(unconfirmed)
    if "backlog" in counts:
        counts["backlog"] = len(backlog)
    if "resources" in counts:
        counts.update(resources=len(resources), resource_backlog=len(resource_backlog))
    return dataclasses.replace(
        digest,
        sections=tuple(sections),
        updated=updated,
        emerging=emerging,
        below_threshold=below,
        unconfirmed=unconfirmed,
        backlog=backlog,
        posts=posts,
        posts_below_threshold=posts_below,
        resources=resources,
        resource_backlog=resource_backlog,
        generated_for=reader.email,
        unmatched_filters=unmatched,
        counts=tuple(counts.items()),
    )


def _left_out(
    digest: Digest,
    sections: Sequence[DirectionSection],
    emerging: Sequence[DigestPaper],
    posts: Sequence[Item],
) -> dict[str, int]:
    """What a reader's filters left out of the week's body papers (the sections' and Emerging's,
    each once) and posts, and the week's posts: the edition says so, since filters that drop most
    of a week (a mistyped negative keyword) would otherwise do it unseen."""
    week = {p.paper.key for s in digest.sections for p in s.papers} | {p.paper.key for p in digest.emerging}
    kept = {p.paper.key for s in sections for p in s.papers} | {p.paper.key for p in emerging}
    week_posts = {p.url or p.key for p in digest.posts}
    return {
        "week_posts": len(week_posts),
        "left_out_papers": len(week - kept),
        "left_out_posts": len(week_posts - {p.url or p.key for p in posts}),
    }


def _titles_by_key(entries: Sequence[DigestPaper]) -> dict[str, str]:
    """Each paper's English title under every key a post may cite it by (the first entry wins)."""
    titles: dict[str, str] = {}
    for entry in entries:
        for key in sorted(_keys_of(entry.paper)):
            titles.setdefault(key, entry.english_title or entry.paper.title)
    return titles


def _with_cited_titles(post: Item, titles: Mapping[str, str]) -> Item:
    """The post with each cited paper of the digest under the paper's English title rather
    than the post's link wording ("this paper", "[3]"), for an edition without that paper."""
    cited = []
    for item in post.cited:
        title = next((titles[k] for k in sorted(_cited_keys(item)) if k in titles), None)
        cited.append(dataclasses.replace(item, title=title, title_en=title, lang=None) if title else item)
    return dataclasses.replace(post, cited=tuple(cited))


def all_entries(digest: Digest) -> list[DigestPaper]:
    return [p for s in digest.sections for p in s.papers] + [
        *digest.updated,
        *digest.emerging,
        *digest.below_threshold,
        *digest.unconfirmed,
        *digest.backlog,
    ]
