"""Weeks through the plain pipeline functions (no Prefect): the sent-ledger at work, and a
deployment's life over several weeks against a simulated web (arXiv's API and RSS listing, a
blog feed and a Zhihu article in their real formats, served through httpx.MockTransport) on
one SQLite store: a source down for a week, a week the scheduler missed, a rerun of a sent week."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import httpx

from dltheory_digest import pipeline
from dltheory_digest.config import SourceSpec
from dltheory_digest.directions import DirectionClassifier, load_taxonomy
from dltheory_digest.fetch import LocalLimiter, PoliteClient
from dltheory_digest.models import AnnounceType, Item, ItemKind, NoteKind, SourceReport
from dltheory_digest.sources import PlanContext
from dltheory_digest.store import get_cursor, open_store, records
from dltheory_digest.store.deliveries import record_delivery
from dltheory_digest.store.ledger import load_history, weeks_sent
from dltheory_digest.weeks import Week

LISTING = SourceSpec(id="arxiv", kind="arxiv_rss", name="arXiv", options={"categories": ["cs.LG"]})
ZHIHU = SourceSpec(id="zhihu", kind="zhihu", name="Zhihu", url="https://zhuanlan.zhihu.com/p/1", lang="zh")


def paper(
    arxiv_id: str,
    title: str,
    version: int,
    kind: AnnounceType,
    authors: tuple[str, ...],
    listed: dt.datetime = dt.datetime(2026, 11, 10, tzinfo=dt.UTC),  # a Tuesday of 2026-W46
) -> Item:
    return Item(
        source_id="arxiv",
        kind=ItemKind.PAPER,
        title=title,
        arxiv_id=arxiv_id,
        version=version,
        authors=authors,
        lang="en",
        text="We study wide neural networks trained by gradient descent and prove generalization bounds.",
        updated=listed,
        categories=("cs.LG", "stat.ML"),
        primary_category="cs.LG",
        announce_type=kind,
        url=f"https://arxiv.org/abs/{arxiv_id}",
    )


NTK = ("1806.07572", "Neural Tangent Kernel: Convergence and Generalization in Neural Networks")
BENIGN = ("1906.11300", "Benign Overfitting in Linear Regression")


def run_week(store_url: str, out: Path, week: str, items: list[Item]) -> pipeline.WeekBuild:
    store = open_store(store_url)
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    by_source: dict[str, list[Item]] = {}
    for item in items:
        by_source.setdefault(item.source_id, []).append(item)
    collected = [
        pipeline.Collected(sid, tuple(found), SourceReport(sid, "test", fetched=1, parsed=len(found)))
        for sid, found in by_source.items()
    ]
    target = Week.parse(week)
    # as the scheduled run does it: Monday 07:00, the week just ended
    pipeline.record_collection(
        store, target, collected, now=target.window(ZoneInfo("UTC"))[1] + dt.timedelta(hours=7)
    )
    build = pipeline.build_week(
        store,
        target,
        zone_name="UTC",
        specs=[LISTING, ZHIHU],
        fetch_bytes=None,
        stages=stages,
        relevance_threshold=0.0,
    )
    pipeline.publish_week(store, out, target, build)
    store.close()
    return build


def test_a_paper_is_new_once_then_only_updated_with_a_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    week1 = [
        paper(*NTK, 1, AnnounceType.NEW, ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")),
        paper(*BENIGN, 1, AnnounceType.NEW, ("Peter L. Bartlett", "Philip M. Long")),
    ]
    first = run_week(url, tmp_path / "out", "2026-W46", week1)
    assert {c.paper.key for c in first.clusters} == {"arxiv:1806.07572", "arxiv:1906.11300"}
    assert first.digest.updated == ()

    zhihu_mention = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="Benign Overfitting in Linear Regression",
        text="良性过拟合的经典论文，讨论了最小范数插值何时泛化。",
        lang="zh",
        arxiv_id="1906.11300",
        url="https://zhuanlan.zhihu.com/p/1",
    )
    week2 = [
        paper(
            *NTK, 2, AnnounceType.REPLACE, ("Arthur Jacot", "Franck Gabriel", "Clément Hongler"), at(11, 17)
        ),
        paper(
            *BENIGN, 1, AnnounceType.NEW, ("Peter L. Bartlett", "Philip M. Long")
        ),  # seen again: nothing new
        zhihu_mention,
    ]
    second = run_week(url, tmp_path / "out", "2026-W47", week2)
    fresh_keys = {p.paper.key for s in second.digest.sections for p in s.papers}
    assert fresh_keys == set()  # neither paper is presented as new again
    reasons = {p.paper.key: p.reason for p in second.digest.updated}
    assert set(reasons) == {"arxiv:1806.07572", "arxiv:1906.11300"}
    assert "v2" in (reasons["arxiv:1806.07572"] or "")
    assert "Zhihu" in (reasons["arxiv:1906.11300"] or "")
    markdown = (tmp_path / "out" / "2026-W47.md").read_text(encoding="utf-8")
    assert "Updated and newly discussed" in markdown

    # rerunning week 2 gives the same digest
    again = run_week(url, tmp_path / "out", "2026-W47", week2)
    assert again.markdown == second.markdown


def test_a_paper_sent_once_is_not_new_again_as_a_title_only_mention(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    double_descent = ("1912.02292", "Deep Double Descent: Where Bigger Models and More Data Hurt")
    authors = ("Preetum Nakkiran", "Gal Kaplun", "Yamini Bansal")
    run_week(url, tmp_path / "out", "2026-W46", [paper(*double_descent, 1, AnnounceType.NEW, authors)])

    # no id and no lookup (offline): the mention is keyed by its title, which the ledger now knows
    mention = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="Deep Double Descent: Where Bigger Models and More Data Hurt",
        text="双下降现象的经典实验论文。",
        lang="zh",
        url="https://zhuanlan.zhihu.com/p/1",
    )
    second = run_week(url, tmp_path / "out", "2026-W47", [mention])
    assert [p for s in second.digest.sections for p in s.papers] == []
    assert [p.paper.title for p in second.digest.updated] == [double_descent[1]]


# --- a simulated web --------------------------------------------------------------------

HOST = "https://sim.test"


@dataclass(frozen=True)
class Version:
    title: str
    abstract: str
    updated: dt.datetime
    comment: str | None = None
    doi: str | None = None
    journal_ref: str | None = None


@dataclass
class ArxivPaper:
    arxiv_id: str
    authors: tuple[str, ...]
    submitted: dt.datetime
    versions: list[Version] = field(default_factory=list)
    categories: tuple[str, ...] = ("cs.LG", "stat.ML")

    @property
    def current(self) -> int:
        return len(self.versions)


@dataclass
class Post:
    url: str
    title: str
    html: str
    published: dt.datetime


@dataclass
class Web:
    papers: dict[str, ArxivPaper] = field(default_factory=dict)
    # (arxiv id, version, announce type) in today's RSS listing
    listing: list[tuple[str, int, str]] = field(default_factory=list)
    listing_date: dt.datetime = dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC)
    blog: list[Post] = field(default_factory=list)
    zhihu_paragraphs: list[str] = field(default_factory=list)
    # notes pages (Obsidian Publish's rendered shape): page name -> its list lines (HTML)
    notes: dict[str, list[str]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)  # path prefixes answering 503
    requests: list[str] = field(default_factory=list)

    # --- arXiv --------------------------------------------------------------------------

    def submit(self, paper: ArxivPaper) -> None:
        self.papers[paper.arxiv_id] = paper

    def revise(self, arxiv_id: str, version: Version) -> None:
        self.papers[arxiv_id].versions.append(version)

    def _entry(self, paper: ArxivPaper, version: int | None = None) -> str:
        v = version or paper.current
        meta = paper.versions[v - 1]
        extra = ""
        if meta.comment:
            extra += f"<arxiv:comment>{html.escape(meta.comment)}</arxiv:comment>"
        if meta.doi:
            extra += f"<arxiv:doi>{meta.doi}</arxiv:doi>"
        if meta.journal_ref:
            extra += f"<arxiv:journal_ref>{html.escape(meta.journal_ref)}</arxiv:journal_ref>"
        authors = "".join(f"<author><name>{html.escape(a)}</name></author>" for a in paper.authors)
        cats = "".join(
            f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in paper.categories
        )
        return (
            f"<entry><id>http://arxiv.org/abs/{paper.arxiv_id}v{v}</id>"
            f"<title>{html.escape(meta.title)}</title>"
            f"<updated>{meta.updated:%Y-%m-%dT%H:%M:%SZ}</updated>"
            f'<link href="https://arxiv.org/abs/{paper.arxiv_id}v{v}" rel="alternate" type="text/html"/>'
            f"<summary>{html.escape(meta.abstract)}</summary>{cats}"
            f"<published>{paper.submitted:%Y-%m-%dT%H:%M:%SZ}</published>{extra}"
            f'<arxiv:primary_category term="{paper.categories[0]}"/>{authors}</entry>'
        )

    def api(self, query: str) -> bytes:
        params = parse_qs(query)
        ids = [i for i in (params.get("id_list") or [""])[0].split(",") if i]
        search = (params.get("search_query") or [""])[0]
        chosen: list[tuple[ArxivPaper, int | None]] = []
        if ids:
            for raw in ids:
                base, _, v = raw.partition("v")
                if base in self.papers:
                    chosen.append((self.papers[base], int(v) if v else None))
        elif "submittedDate:[" in search:
            span = search.split("submittedDate:[", 1)[1].split("]", 1)[0]
            lo, hi = (
                dt.datetime.strptime(s.strip(), "%Y%m%d%H%M").replace(tzinfo=dt.UTC) for s in span.split("TO")
            )
            chosen = [(p, None) for p in self.papers.values() if lo <= p.submitted <= hi]
            chosen.sort(key=lambda pv: pv[0].submitted)
        elif "lastUpdatedDate:[" in search:
            span = search.split("lastUpdatedDate:[", 1)[1].split("]", 1)[0]
            lo, hi = (
                dt.datetime.strptime(s.strip(), "%Y%m%d%H%M").replace(tzinfo=dt.UTC) for s in span.split("TO")
            )
            chosen = [(p, None) for p in self.papers.values() if lo <= p.versions[-1].updated <= hi]
            chosen.sort(key=lambda pv: pv[0].versions[-1].updated)
        entries = "".join(self._entry(p, v) for p, v in chosen)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
            ' xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"<id>https://arxiv.org/api/sim</id><title>arXiv Query: {html.escape(quote(query))}</title>"
            "<updated>2026-11-20T00:00:00Z</updated>"
            f"<opensearch:itemsPerPage>{len(chosen)}</opensearch:itemsPerPage>"
            f"<opensearch:totalResults>{len(chosen)}</opensearch:totalResults>"
            f"<opensearch:startIndex>0</opensearch:startIndex>{entries}</feed>"
        ).encode()

    def rss(self) -> bytes:
        day = format_datetime(self.listing_date)
        items = []
        for arxiv_id, v, announce in self.listing:
            paper = self.papers[arxiv_id]
            meta = paper.versions[v - 1]
            doi = f"<arxiv:DOI>{meta.doi}</arxiv:DOI>" if meta.doi else ""
            ref = (
                f"<arxiv:journal_reference>{html.escape(meta.journal_ref)}</arxiv:journal_reference>"
                if meta.journal_ref
                else ""
            )
            cats = "".join(f"<category>{c}</category>" for c in paper.categories)
            items.append(
                f"<item><title>{html.escape(meta.title)}</title>"
                f"<link>https://arxiv.org/abs/{arxiv_id}</link>"
                f"<description>arXiv:{arxiv_id}v{v} Announce Type: {announce} \nAbstract: {html.escape(meta.abstract)}</description>"
                f'<guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{v}</guid>{cats}'
                f"<pubDate>{day}</pubDate><arxiv:announce_type>{announce}</arxiv:announce_type>{doi}{ref}"
                f"<dc:creator>{html.escape(', '.join(paper.authors))}</dc:creator></item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">'
            "<channel><title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
            f"<description>cs.LG updates</description><pubDate>{day}</pubDate>{''.join(items)}</channel></rss>"
        ).encode()

    # --- blog and Zhihu ------------------------------------------------------------------

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{html.escape(p.title)}</title><link>{p.url}</link><guid>{p.url}</guid>"
            f"<pubDate>{format_datetime(p.published)}</pubDate>"
            f"<description>{html.escape(p.html)}</description></item>"
            for p in sorted(self.blog, key=lambda p: p.published, reverse=True)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>A theory blog</title>'
            f"<link>{HOST}/blog/</link><description>posts</description>{items}</channel></rss>"
        ).encode()

    def zhihu(self) -> bytes:
        body = "".join(f"<p>{p}</p>" for p in self.zhihu_paragraphs)
        return (
            '<!doctype html><html lang="zh"><head><meta charset="utf-8"/><title>深度学习理论论文笔记 - 知乎</title>'
            '<meta property="og:title" content="深度学习理论论文笔记"/>'
            '<link rel="canonical" href="https://zhuanlan.zhihu.com/p/1974000000000000001"/></head><body>'
            '<article class="Post-Main"><h1 class="Post-Title">深度学习理论论文笔记</h1>'
            f'<div class="RichText ztext Post-RichText">{body}</div></article></body></html>'
        ).encode()

    def notes_page(self, name: str) -> bytes:
        lines = "".join(
            f'<li data-line="{n}" dir="auto">{line}</li>' for n, line in enumerate(self.notes[name])
        )
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name} - Notes</title></head>'
            '<body><div class="markdown-preview-view markdown-rendered"><div class="markdown-preview-sizer">'
            f'<div class="mod-header"><h1 class="page-header">{name}</h1></div>'
            f'<div class="el-ul"><ul>{lines}</ul></div></div></div></body></html>'
        ).encode()

    # --- HTTP ------------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(str(request.url))
        if path == "/robots.txt":
            return httpx.Response(404, content=b"")
        if any(path.startswith(p) for p in self.down):
            return httpx.Response(
                503, content=b"down for maintenance", headers={"content-type": "text/plain"}
            )
        if path == "/api/query":
            query = urlsplit(str(request.url)).query
            return httpx.Response(
                200, content=self.api(query), headers={"content-type": "application/atom+xml"}
            )
        if path == "/rss/cs.LG":
            return httpx.Response(200, content=self.rss(), headers={"content-type": "application/rss+xml"})
        if path == "/blog/feed.xml":
            return httpx.Response(200, content=self.feed(), headers={"content-type": "application/rss+xml"})
        if path == "/zhihu/p/1974000000000000001" and self.zhihu_paragraphs:
            return httpx.Response(
                200, content=self.zhihu(), headers={"content-type": "text/html; charset=utf-8"}
            )
        if path.startswith("/notes/") and path.removeprefix("/notes/") in self.notes:
            return httpx.Response(
                200,
                content=self.notes_page(path.removeprefix("/notes/")),
                headers={"content-type": "text/html; charset=utf-8"},
            )
        return httpx.Response(404, content=b"not found")

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


SIM_SPECS = [
    SourceSpec(
        id="arxiv-week",
        kind="arxiv_api",
        name="arXiv",
        url=f"{HOST}/api/query",
        options={"search_query": "cat:cs.LG", "within_window": True, "sort_order": "ascending"},
    ),
    SourceSpec(id="arxiv-listing", kind="arxiv_rss", name="arXiv", url=f"{HOST}/rss/cs.LG"),
    SourceSpec(id="blog", kind="feed", name="A theory blog", url=f"{HOST}/blog/feed.xml"),
    SourceSpec(id="zhihu", kind="zhihu", name="Zhihu", url=f"{HOST}/zhihu/p/1974000000000000001", lang="zh"),
]


def sim_week(
    web: Web,
    store_url: str,
    out: Path,
    week: str,
    *,
    resend: bool = False,
    specs: Sequence[SourceSpec] = SIM_SPECS,
    when: dt.datetime | None = None,
) -> pipeline.WeekBuild:
    """One run of `week` as the flow does it: per-source contexts (with catch-up of missed
    weeks), collect, record, build, publish; at `when` (default: Monday 07:00 after the week,
    the scheduled run), which is also the store's clock, so a digest written before the week
    ends is a partial one whatever the day the test runs."""
    zone = ZoneInfo("UTC")
    target = Week.parse(week)
    when = when or target.window(zone)[1] + dt.timedelta(hours=7)
    with mock.patch.object(records, "now_utc", lambda: when):
        return _sim_run(web, store_url, out, target, resend=resend, specs=specs, when=when)


def _sim_run(
    web: Web,
    store_url: str,
    out: Path,
    target: Week,
    *,
    resend: bool,
    specs: Sequence[SourceSpec],
    when: dt.datetime,
) -> pipeline.WeekBuild:
    store = open_store(store_url)
    zone = ZoneInfo("UTC")
    start, end = target.window(zone)
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(None, DirectionClassifier.from_taxonomy(taxonomy), taxonomy)
    backfill = pipeline.backfill_since(store, target, specs, zone, now=when)
    # the politeness spacing is kept, its real one-second waits skipped (tests/test_fetch.py
    # tests the spacing): they were nine tenths of this module's time
    with PoliteClient(
        transport=web.transport(),
        limiter=LocalLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
        max_retries=0,
        backoff_cap=0.0,
    ) as client:
        collected = []
        for spec in specs:
            ctx = PlanContext(start, end, since=backfill.get(spec.id), cursor=get_cursor(store, spec.id))
            got = pipeline.collect_source(spec, client, ctx)
            collected.append(
                pipeline.backfilled(got, backfill[spec.id], target) if spec.id in backfill else got
            )
        pipeline.record_collection(store, target, collected, resend=resend, now=when)
        build = pipeline.build_week(
            store,
            target,
            zone_name="UTC",
            specs=list(specs),
            fetch_bytes=lambda url: client.get(url, source_id="arxiv-metadata").content,
            stages=stages,
            relevance_threshold=0.0,
            api_base=f"{HOST}/api/query",
            now=when,
            resend=resend,
        )
    pipeline.publish_week(store, out, target, build, resend=resend)
    store.close()
    return build


def new_ids(build: pipeline.WeekBuild) -> list[str]:
    return sorted(p.paper.arxiv_id or p.paper.key for s in build.digest.sections for p in s.papers)


def updates(build: pipeline.WeekBuild) -> dict[str, str]:
    return {p.paper.arxiv_id or p.paper.key: p.reason or "" for p in build.digest.updated}


def abstract(topic: str) -> str:
    return f"We study {topic} in over-parameterized neural networks trained by gradient descent."


def sim_paper(
    arxiv_id: str, title: str, authors: tuple[str, ...], submitted: dt.datetime, topic: str
) -> ArxivPaper:
    return ArxivPaper(arxiv_id, authors, submitted, [Version(title, abstract(topic), submitted)])


def sim_ntk() -> ArxivPaper:
    return sim_paper(
        "1806.07572",
        "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        ("Arthur Jacot", "Franck Gabriel", "Clément Hongler"),
        at(11, 3),
        "the neural tangent kernel and kernel gradient descent",
    )


def sim_benign() -> ArxivPaper:
    return sim_paper(
        "1906.11300",
        "Benign Overfitting in Linear Regression",
        ("Peter L. Bartlett", "Philip M. Long", "Gábor Lugosi", "Alexander Tsigler"),
        at(11, 4),
        "benign overfitting of minimum-norm interpolation",
    )


def sim_chizat() -> ArxivPaper:
    return sim_paper(
        "2002.04486",
        "Implicit Bias of Gradient Descent for Wide Two-layer Neural Networks Trained with the Logistic Loss",
        ("Lénaïc Chizat", "Francis Bach"),
        at(11, 18),
        "the implicit bias of gradient descent towards max-margin classifiers",
    )


def sim_du() -> ArxivPaper:
    return sim_paper(
        "1810.02054",
        "Gradient Descent Provably Optimizes Over-parameterized Neural Networks",
        ("Simon S. Du", "Xiyu Zhai", "Barnabás Póczos", "Aarti Singh"),
        at(11, 24),
        "linear convergence of gradient descent on two-layer ReLU networks",
    )


def sim_pdlt() -> ArxivPaper:
    return sim_paper(
        "2106.10165",
        "The Principles of Deep Learning Theory",
        ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
        at(11, 10),
        "an effective theory of deep networks at large width",
    )


def test_a_source_down_for_a_week_and_a_week_without_a_run_lose_no_paper(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.submit(sim_ntk())
    assert new_ids(sim_week(web, url, out, "2026-W45")) == ["1806.07572"]
    web.submit(sim_pdlt())
    assert new_ids(sim_week(web, url, out, "2026-W46")) == ["2106.10165"]

    # W47: the API is down all week; a paper submitted that week is not fetched
    web.submit(sim_chizat())
    web.down = {"/api/query"}
    w47 = sim_week(web, url, out, "2026-W47")
    # failed: the API, and the Zhihu article (not written yet)
    assert new_ids(w47) == [] and w47.counts["sources_failed"] == 2
    web.down = set()
    # W48: the host is down, no run at all; a paper is submitted that week
    web.submit(sim_du())

    w49 = sim_week(web, url, out, "2026-W49")
    # both missed papers reach the next digest, once, as new
    assert new_ids(w49) == ["1810.02054", "2002.04486"]
    markdown = (out / "2026-W49.md").read_text(encoding="utf-8")
    assert "No digest was made for 2026-W48" in markdown
    # the note says which weeks, for a reader's line in any language
    [missed] = [n for n in w49.notes if n.kind is NoteKind.MISSED_WEEKS]
    assert missed.weeks == ("2026-W48",) and missed in w49.digest.notes
    [report] = [r for r in w49.digest.reports if r.source_id == "arxiv-week"]
    assert any("2026-W47 to 2026-W48" in w for w in report.warnings)
    # the API was asked from the start of the first missed week
    assert any("submittedDate:%5B202611160000+TO+202612062359%5D" in u for u in web.requests)

    # caught up: the next week neither fetches them again as missed nor presents them again
    w50 = sim_week(web, url, out, "2026-W50")
    assert new_ids(w50) == [] and updates(w50) == {}
    w51_run = at(12, 21, 7)
    assert (
        pipeline.backfill_since(
            open_store(url), Week.parse("2026-W51"), SIM_SPECS, ZoneInfo("UTC"), now=w51_run
        )
        == {}
    )


def test_a_first_run_and_a_source_that_never_worked_do_not_backfill(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert (
        pipeline.backfill_since(store, Week.parse("2026-W47"), SIM_SPECS, ZoneInfo("UTC"), now=at(11, 23, 7))
        == {}
    )
    assert pipeline.missed_weeks_note(store, Week.parse("2026-W47")) == []


def test_rerunning_a_sent_week_after_later_weeks_changes_nothing_and_loses_nothing(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.submit(sim_ntk())
    web.submit(sim_pdlt())
    sim_week(web, url, out, "2026-W45")
    sim_week(web, url, out, "2026-W46")
    sent_w46 = (out / "2026-W46.md").read_bytes()
    sim_week(web, url, out, "2026-W47")

    # after W47 went out: a blog post on a paper never sent, and a v2 with a new title
    web.submit(sim_chizat())
    web.revise(
        "2106.10165",
        Version(
            "The Principles of Deep Learning Theory: An Effective Theory Approach to Understanding Neural Networks",
            abstract("an effective theory of deep networks at large width"),
            at(11, 25),
        ),
    )
    web.listing, web.listing_date = [("2106.10165", 2, "replace")], at(11, 30, 5)
    web.blog.append(
        Post(
            f"{HOST}/blog/2026/11/implicit-bias/",
            "Where gradient descent ends up",
            '<p>On <a href="https://arxiv.org/abs/2002.04486">the implicit bias of wide two-layer networks</a>.</p>',
            at(11, 27),
        )
    )
    (out / "2026-W46.md").unlink()  # the operator reruns W46, e.g. to restore its file
    store = open_store(url)
    ledger_before = weeks_sent(store)
    again = sim_week(web, url, out, "2026-W46", when=at(12, 1))
    assert again.frozen and (out / "2026-W46.md").read_bytes() == sent_w46
    assert again.markdown.encode() == sent_w46
    assert weeks_sent(store) == ledger_before

    # what the rerun saw for the first time is in the next digest, presented once
    w48 = sim_week(web, url, out, "2026-W48")
    assert new_ids(w48) == ["2002.04486"]
    assert "v2" in updates(w48)["2106.10165"]
    assert next(p.paper.title for p in w48.digest.updated).endswith("Understanding Neural Networks")


def zhihu_line(arxiv_id: str, title: str, note: str) -> str:
    return f'<a href="https://link.zhihu.com/?target=https%3A//arxiv.org/abs/{arxiv_id}">{title}</a> {note}'


def test_papers_added_to_an_edited_zhihu_reading_list_are_discussed_once(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    ntk, benign = sim_ntk(), sim_benign()
    web.submit(ntk)
    web.submit(benign)
    sim_week(web, url, out, "2026-W45")
    web.zhihu_paragraphs = [
        zhihu_line(ntk.arxiv_id, ntk.versions[0].title, "提出了神经正切核，无限宽网络的训练等价于核回归。")
    ]
    w46 = sim_week(web, url, out, "2026-W46")
    assert updates(w46) == {"1806.07572": "newly discussed on Zhihu (zh)"}

    # the author adds a paper to the same article: that paper is newly discussed, the first is not again
    web.zhihu_paragraphs.append(
        zhihu_line(benign.arxiv_id, benign.versions[0].title, "讨论了最小范数插值何时仍能良好泛化。")
    )
    w47 = sim_week(web, url, out, "2026-W47")
    assert updates(w47) == {"1906.11300": "newly discussed on Zhihu (zh)"}
    [post] = w47.digest.posts
    assert [c.arxiv_id for c in post.cited] == ["1906.11300"]  # what the article added
    assert sim_week(web, url, out, "2026-W47").markdown == w47.markdown  # a rerun adds nothing

    # unchanged the week after: nothing comes back
    w48 = sim_week(web, url, out, "2026-W48")
    assert updates(w48) == {} and w48.digest.posts == ()


def test_a_refresh_of_a_mailed_week_mid_week_leaves_the_news_to_the_scheduled_run(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    pdlt = sim_pdlt()
    pdlt.versions[0] = Version(pdlt.versions[0].title, pdlt.versions[0].abstract, at(11, 4))
    pdlt.submitted = at(11, 4)  # in W45
    web.submit(pdlt)
    w45 = sim_week(web, url, out, "2026-W45")  # Monday 9 Nov, 07:00
    assert new_ids(w45) == ["2106.10165"]
    record_delivery(
        store := open_store(url),
        week="2026-W45",
        reader="reader@example.org",
        message_id="<1@x>",
        status="sent",
        attempts=1,
    )

    # Wednesday: a blog post on an older paper, and a v2 in that day's listing; the operator
    # runs `refresh` (the last complete week, W45, which the readers already have)
    du = sim_du()
    du.submitted = at(10, 1)
    web.submit(du)
    web.blog.append(
        Post(
            f"{HOST}/blog/2026/11/gd/",
            "Why gradient descent finds global minima",
            '<p>Revisiting <a href="https://arxiv.org/abs/1810.02054">the over-parameterized case</a>.</p>',
            at(11, 11),
        )
    )
    web.revise(
        "2106.10165",
        Version(pdlt.versions[0].title, pdlt.versions[0].abstract + " Second edition.", at(11, 10)),
    )
    web.listing, web.listing_date = [("2106.10165", 2, "replace")], at(11, 11, 5)
    refreshed = sim_week(web, url, out, "2026-W45", when=at(11, 11, 15))
    assert new_ids(refreshed) == ["2106.10165"] and refreshed.digest.posts == ()
    # the readers' week is kept as they got it: no v2 dated after it, byte for byte
    assert refreshed.frozen and refreshed.markdown == w45.markdown
    assert "v2" not in (out / "2026-W45.md").read_text(encoding="utf-8")
    [sent] = load_history(store, ["arxiv:2106.10165"])["arxiv:2106.10165"]
    assert sent.version == 1  # the ledger still says what the readers got

    # the scheduled run of W46 presents both, once
    web.listing = []
    w46 = sim_week(web, url, out, "2026-W46")
    assert new_ids(w46) == ["1810.02054"]
    assert updates(w46) == {"2106.10165": "updated to v2 (was v1 on 2026-W45)"}

    # with --resend the refresh is for the readers again: the week takes in what it finds
    record_delivery(
        store, week="2026-W46", reader="reader@example.org", message_id="<2@x>", status="sent", attempts=1
    )
    web.submit(sim_benign())
    web.blog.append(
        Post(
            f"{HOST}/blog/2026/11/interpolation/",
            "Interpolation without regret",
            '<p>On <a href="https://arxiv.org/abs/1906.11300">benign overfitting</a>.</p>',
            at(11, 15),
        )
    )
    assert new_ids(sim_week(web, url, out, "2026-W46", resend=True)) == ["1810.02054", "1906.11300"]


def all_keys(build: pipeline.WeekBuild) -> list[str]:
    return [p.paper.key for s in build.digest.sections for p in s.papers] + [
        p.paper.key for p in build.digest.updated
    ]


def test_six_weeks_of_a_deployment_read_as_a_reader_expects(tmp_path: Path) -> None:
    """W45-W50 on one store: a mid-week refresh, a v2 and a v3 with a journal DOI, a retitled v2,
    a withdrawal, a Chinese discussion, a source down for a week, a week without a run, and a
    rerun of a sent week. Every paper is new once, every update shows once, nothing is lost."""
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    ntk, benign, pdlt, chizat, du = sim_ntk(), sim_benign(), sim_pdlt(), sim_chizat(), sim_du()
    recent = sim_paper(
        "2012.10931",
        "Recent advances in deep learning theory",
        ("Fengxiang He", "Dacheng Tao"),
        at(11, 11),
        "generalization bounds, SGD dynamics and loss landscapes",
    )
    builds: dict[str, pipeline.WeekBuild] = {}

    web.submit(ntk)
    web.submit(benign)
    web.listing, web.listing_date = [(ntk.arxiv_id, 1, "new"), (benign.arxiv_id, 1, "new")], at(11, 9, 5)
    builds["2026-W45"] = sim_week(web, url, out, "2026-W45")

    web.submit(pdlt)  # Tuesday; the operator refreshes W46 on Wednesday, then the schedule runs
    web.listing, web.listing_date = [(pdlt.arxiv_id, 1, "new")], at(11, 11, 5)
    midweek = sim_week(web, url, out, "2026-W46", when=at(11, 11, 15))
    assert new_ids(midweek) == ["2106.10165"]
    web.submit(recent)
    web.revise(
        benign.arxiv_id, Version(benign.versions[0].title, abstract("benign overfitting, v2"), at(11, 12))
    )
    web.listing, web.listing_date = (
        [(recent.arxiv_id, 1, "new"), (benign.arxiv_id, 2, "replace")],
        at(11, 16, 5),
    )
    builds["2026-W46"] = sim_week(web, url, out, "2026-W46")
    sent_w46 = (out / "2026-W46.md").read_bytes()

    web.submit(chizat)
    web.down = {"/api/query"}
    new_title = "The Principles of Deep Learning Theory: An Effective Theory Approach to Understanding Neural Networks"
    web.revise(pdlt.arxiv_id, Version(new_title, pdlt.versions[0].abstract, at(11, 19)))
    web.listing, web.listing_date = [(pdlt.arxiv_id, 2, "replace")], at(11, 23, 5)
    web.zhihu_paragraphs = [
        zhihu_line(ntk.arxiv_id, ntk.versions[0].title, "神经正切核：无限宽网络的训练等价于核回归。")
    ]
    builds["2026-W47"] = sim_week(web, url, out, "2026-W47")
    web.down = set()

    # W48: no run (host down). A paper, and a blog post on two sent papers.
    web.submit(du)
    web.blog.append(
        Post(
            f"{HOST}/blog/2026/11/benign/",
            "When does interpolation not hurt?",
            '<p>On <a href="https://arxiv.org/abs/1906.11300">benign overfitting</a> and the '
            '<a href="https://arxiv.org/abs/1806.07572v1">neural tangent kernel</a>.</p>',
            at(11, 26),
        )
    )
    web.revise(
        benign.arxiv_id,
        Version(
            benign.versions[0].title,
            abstract("benign overfitting, journal version"),
            at(12, 2),
            doi="10.1073/pnas.1907378117",
            journal_ref="Proc. Natl. Acad. Sci. U.S.A. 117 (48) 30063-30070 (2020)",
        ),
    )
    web.listing, web.listing_date = [(benign.arxiv_id, 3, "replace")], at(12, 7, 5)
    builds["2026-W49"] = sim_week(web, url, out, "2026-W49")

    web.revise(
        recent.arxiv_id,
        Version(
            recent.versions[0].title,
            "This paper has been withdrawn by the author.",
            at(12, 9),
            comment="This paper has been withdrawn by the author",
        ),
    )
    web.listing, web.listing_date = [(recent.arxiv_id, 2, "replace")], at(12, 14, 5)
    builds["2026-W50"] = sim_week(web, url, out, "2026-W50")

    # what each digest presents as new, and what comes back, and why
    assert {w: new_ids(b) for w, b in builds.items()} == {
        "2026-W45": ["1806.07572", "1906.11300"],
        "2026-W46": ["2012.10931", "2106.10165"],
        "2026-W47": [],
        "2026-W49": ["1810.02054", "2002.04486"],  # missed in W47 (API down) and W48 (no run)
        "2026-W50": [],
    }
    # each Monday's arXiv listing (out before the run) is the next week's: the v2 of W46's
    # Monday listing is W47's, W47's Monday listing went to W48 (no run) and W49 shows it,
    # W49's to W50 and W50's (the withdrawal) to W51
    assert {w: updates(b) for w, b in builds.items()} == {
        "2026-W45": {},
        "2026-W46": {},
        "2026-W47": {
            "1806.07572": "newly discussed on Zhihu (zh)",
            "1906.11300": "updated to v2 (was v1 on 2026-W45)",
        },
        "2026-W49": {
            "1806.07572": "newly discussed on A theory blog",
            "1906.11300": "newly discussed on A theory blog",
            "2106.10165": (
                'updated to v2 (was v1 on 2026-W46), retitled (was: "The Principles of Deep Learning Theory")'
            ),
        },
        "2026-W50": {
            "1906.11300": "updated to v3 (was v2 on 2026-W49); journal version: Proc. Natl. Acad. Sci. "
            "U.S.A. 117 (48) 30063-30070 (2020), doi:10.1073/pnas.1907378117"
        },
    }
    for build in builds.values():
        assert len(all_keys(build)) == len(set(all_keys(build)))  # one entry per paper
    w49 = {p.paper.arxiv_id: p for p in builds["2026-W49"].digest.updated}
    assert w49["2106.10165"].paper.title == new_title
    w50 = {p.paper.arxiv_id: p for p in builds["2026-W50"].digest.updated}
    assert w50["1906.11300"].paper.doi == "10.1073/pnas.1907378117"
    assert "No digest was made for 2026-W48" in (out / "2026-W49.md").read_text(encoding="utf-8")

    # a rerun of W46 now is what was sent, and takes nothing from W51
    assert sim_week(web, url, out, "2026-W46", when=at(12, 15)).markdown.encode() == sent_w46
    assert (out / "2026-W46.md").read_bytes() == sent_w46
    w51 = sim_week(web, url, out, "2026-W51")
    assert new_ids(w51) == [] and updates(w51) == {"2012.10931": "withdrawn in v2 (was v1 on 2026-W46)"}
    assert "withdrawn" in {p.paper.arxiv_id: p for p in w51.digest.updated}["2012.10931"].badges


def test_catching_up_starts_where_the_missed_week_starts_in_the_readers_zone(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    ok = [SourceReport("arxiv-week", "arxiv_api", fetched=1), SourceReport("blog", "feed", fetched=1)]
    failed = [SourceReport("arxiv-week", "arxiv_api", fetched=1, error="[arxiv-week] HTTP 503")]
    records.save_week_reports(store, "2026-W45", ok)
    records.save_week_reports(store, "2026-W46", failed)
    shanghai = ZoneInfo("Asia/Shanghai")  # Monday 00:00 there is Sunday 16:00 UTC
    w47_run = at(11, 23, 7)
    since = pipeline.backfill_since(store, Week.parse("2026-W47"), SIM_SPECS, shanghai, now=w47_run)
    assert since == {"arxiv-week": dt.date(2026, 11, 8)}
    empty = pipeline.Collected("arxiv-week", (), ok[0])
    [warning] = pipeline.backfilled(empty, since["arxiv-week"], Week.parse("2026-W47")).report.warnings
    assert warning.startswith("also fetched 2026-W46 (from 2026-11-08)")
    # a catch-up that failed again says nothing of the kind: the next run tries again
    still_down = pipeline.Collected("arxiv-week", (), failed[0])
    assert pipeline.backfilled(still_down, since["arxiv-week"], Week.parse("2026-W47")).report.warnings == ()
    # only dated kinds go back: a feed or a daily listing shows what it shows now
    records.save_week_reports(
        store, "2026-W46", [*failed, SourceReport("blog", "feed", error="[blog] HTTP 503")]
    )
    assert set(pipeline.backfill_since(store, Week.parse("2026-W47"), SIM_SPECS, shanghai, now=w47_run)) == {
        "arxiv-week"
    }


REVISIONS_SPEC = SourceSpec(
    id="arxiv-week-revisions",
    kind="arxiv_api",
    name="arXiv",
    url=f"{HOST}/api/query",
    options={
        "search_query": "cat:cs.LG",
        "within_window": True,
        "window_by": "lastUpdatedDate",
        "sort_by": "lastUpdatedDate",
        "sort_order": "ascending",
    },
)


def test_a_revision_announced_mid_week_reaches_the_digest_through_the_revisions_query(
    tmp_path: Path,
) -> None:
    out, web = tmp_path / "out", Web()
    web.submit(sim_ntk())
    specs = [*SIM_SPECS, REVISIONS_SPEC]
    with_query, without = f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}"
    for url in (with_query, without):
        assert new_ids(
            sim_week(web, url, out, "2026-W45", specs=specs if url == with_query else SIM_SPECS)
        ) == ["1806.07572"]
    # a v2 on Wednesday of W46: the Monday listing the weekly run reads does not show it
    ntk = web.papers["1806.07572"]
    web.revise("1806.07572", Version(ntk.versions[0].title, ntk.versions[0].abstract, at(11, 11)))
    web.listing = []
    assert updates(sim_week(web, with_query, out, "2026-W46", specs=specs)) == {
        "1806.07572": "updated to v2 (was v1 on 2026-W45)"
    }
    assert updates(sim_week(web, without, out, "2026-W46")) == {}


# --- talks and courses on notes pages -------------------------------------------------------

NOTES_A = SourceSpec(id="notes-a", kind="notes_page", name="Theory notes", url=f"{HOST}/notes/theory")
NOTES_B = SourceSpec(id="notes-b", kind="notes_page", name="Reading list", url=f"{HOST}/notes/reading")
NOTES_SPECS = [SIM_SPECS[0], NOTES_A, NOTES_B]


def link(url: str, text: str) -> str:
    return (
        f'<a class="external-link" href="{html.escape(url)}" rel="noopener nofollow">{html.escape(text)}</a>'
    )


def video(topic: str, remark: str = "") -> str:
    # a lecture series: a playlist (a YouTube search would be a listing, not a talk)
    url = "https://www.youtube.com/playlist?list=PL-" + topic.lower().replace(" ", "-")
    return f"{link(url, f'{topic} lectures - YouTube')} {remark}".strip()


STATS385 = link("https://stats385.github.io/", "Stats 385: Theories of Deep Learning (Stanford course)")
CSC2541 = link(
    "https://www.cs.toronto.edu/~rgrosse/courses/csc2541_2021/", "CSC2541: Neural Net Training Dynamics"
)
WIKI = link("https://en.wikipedia.org/wiki/Neural_tangent_kernel", "Neural tangent kernel - Wikipedia")
CODE = link("https://github.com/google/neural-tangents", "GitHub - google/neural-tangents")


def resource_titles(build: pipeline.WeekBuild, backlog: bool = False) -> list[str]:
    return [r.title for r in (build.digest.resource_backlog if backlog else build.digest.resources)]


def test_talks_and_courses_a_notes_page_adds_are_listed_once_and_its_first_read_is_a_backlog(
    tmp_path: Path,
) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    old_topics = ["Neural tangent kernel", "Double descent", "Mean field limit", "Implicit bias", "Grokking"]
    web.notes["theory"] = [*(video(t) for t in old_topics), STATS385, WIKI, CODE]
    web.notes["reading"] = []

    # the first read of a page listing six talks and courses: its backlog, collapsed, not news
    w45 = sim_week(web, url, out, "2026-W45", specs=NOTES_SPECS)
    assert resource_titles(w45) == []
    assert resource_titles(w45, backlog=True) == [
        "Double descent lectures",
        "Grokking lectures",
        "Implicit bias lectures",
        "Mean field limit lectures",
        "Neural tangent kernel lectures",
        "Stats 385: Theories of Deep Learning",
    ]
    assert w45.counts["resources"] == 0 and w45.counts["resource_backlog"] == 6
    md45 = (out / "2026-W45.md").read_text(encoding="utf-8")
    assert "## New talks and courses" not in md45
    assert "**Talks and courses brought in at once by one list (6):**" in md45
    assert "Wikipedia" not in md45 and "neural-tangents" not in md45  # not resources a reader follows

    # the page adds a video (with a remark), the other page lists a course (remark in Chinese,
    # no model here) and a talk the first page listed in W45
    web.notes["theory"].insert(0, video("Feature learning", "a clear two-hour introduction, with exercises"))
    web.notes["reading"] = [f"{CSC2541} 讲训练动力学的课程，推荐。", video("Neural tangent kernel")]
    w46 = sim_week(web, url, out, "2026-W46", specs=NOTES_SPECS)
    assert resource_titles(w46) == ["CSC2541: Neural Net Training Dynamics", "Feature learning lectures"]
    assert w46.digest.resource_backlog == ()
    course, talk = w46.digest.resources
    assert (course.category, talk.category) == ("course", "video")
    [seen] = course.sightings
    assert (seen.source_name, seen.url, seen.commentary_lang) == (
        "Reading list",
        f"{HOST}/notes/reading",
        "zh",
    )
    md46 = (out / "2026-W46.md").read_text(encoding="utf-8")
    # no papers this week: no contents list, the section follows the line that says so
    assert "No papers this week.\n\n## New talks and courses (2)" in md46
    assert (
        "- **Video:** [Feature learning lectures](https://www.youtube.com/playlist?list=PL-feature-learning)"
        f" — a clear two-hour introduction, with exercises — Listed on: [Theory notes]({HOST}/notes/theory)"
    ) in md46
    assert "讲训练动力学的课程，推荐 — Listed on:" in md46 and "not translated" not in md46
    assert "**2** talks and courses" in md46

    # a rerun of the week gives the same digest; the week after, nothing is new again
    assert sim_week(web, url, out, "2026-W46", specs=NOTES_SPECS).markdown == w46.markdown
    w47 = sim_week(web, url, out, "2026-W47", specs=NOTES_SPECS)
    assert resource_titles(w47) == [] and resource_titles(w47, backlog=True) == []
    assert "talks and courses" not in (out / "2026-W47.md").read_text(encoding="utf-8").lower()


def test_a_course_two_pages_list_in_the_same_week_is_one_line_naming_both(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.notes["theory"] = [f"{STATS385} the 2017 lecture series"]
    web.notes["reading"] = [link("https://stats385.github.io", "Stats 385 (Stanford course)")]
    w46 = sim_week(web, url, out, "2026-W46", specs=NOTES_SPECS)
    [course] = w46.digest.resources
    assert [s.source_name for s in course.sightings] == ["Reading list", "Theory notes"]
    assert (
        f"the 2017 lecture series — Listed on: [Reading list]({HOST}/notes/reading) | [Theory notes]({HOST}/notes/theory)"
        in w46.markdown
    )


def test_a_course_a_second_page_lists_later_stays_in_the_week_the_first_page_listed_it(
    tmp_path: Path,
) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.notes["theory"], web.notes["reading"] = [STATS385], []
    w48 = sim_week(web, url, out, "2026-W48", specs=NOTES_SPECS)
    assert resource_titles(w48) == ["Stats 385: Theories of Deep Learning"]
    web.notes["reading"] = [STATS385]
    # a refresh of W49 while it is under way: W48 is not yet followed by a final digest
    w49 = sim_week(web, url, out, "2026-W49", specs=NOTES_SPECS, when=at(12, 2))
    assert resource_titles(w49) == []  # the first page listed it a week before
    # W48 built again (its readers do not have it yet): the later sighting does not take it away
    again = sim_week(web, url, out, "2026-W48", specs=NOTES_SPECS, when=at(12, 2, 16))
    assert not again.frozen and again.digest.resources == w48.digest.resources


def test_a_video_linked_two_ways_on_two_pages_in_two_weeks_is_one_resource(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.notes["theory"] = [link("https://youtu.be/aircAruvnKk", "But what is a neural network? - YouTube")]
    web.notes["reading"] = []
    w46 = sim_week(web, url, out, "2026-W46", specs=NOTES_SPECS)
    assert resource_titles(w46) == ["But what is a neural network?"]
    # W47: the other page lists it by its long link (a start time, a playlist), and the first
    # page rewrites its own link for the mobile site: neither is a new talk
    web.notes["reading"] = [
        link(
            "https://www.youtube.com/watch?v=aircAruvnKk&t=120s&list=PLZHQObOWTQDNU6R1_67000Dx_ZCJB-3pi",
            "Neural networks, chapter 1",
        )
    ]
    web.notes["theory"] = [link("http://m.youtube.com/watch?v=aircAruvnKk", "But what is a neural network?")]
    w47 = sim_week(web, url, out, "2026-W47", specs=NOTES_SPECS)
    assert resource_titles(w47) == [] and resource_titles(w47, backlog=True) == []
    assert "talks and courses" not in w47.markdown.lower()
    # the store keeps each page's link as written: only the comparison is canonical
    keys = {(i.source_id, i.key) for i in records.items_of_week(open_store(url), "2026-W47")}
    assert (
        "notes-b",
        "url:https://www.youtube.com/watch?v=aircAruvnKk&t=120s&list=PLZHQObOWTQDNU6R1_67000Dx_ZCJB-3pi",
    ) in keys


def test_a_talk_of_a_week_no_digest_went_out_for_is_shown_by_the_next_digest(tmp_path: Path) -> None:
    """The next digest catches up on a skipped week's sightings: a talk first seen then is
    still news (it must not count as "listed before" by its own, earlier, sighting)."""
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.notes["theory"], web.notes["reading"] = [STATS385], []
    sim_week(web, url, out, "2026-W46", specs=NOTES_SPECS)
    # W47 is only refreshed while under way (a partial digest, held back), then skipped
    web.notes["reading"] = [link("https://youtu.be/aircAruvnKk", "But what is a neural network? - YouTube")]
    partial = sim_week(web, url, out, "2026-W47", specs=NOTES_SPECS, when=at(11, 18, 15))
    assert resource_titles(partial) == ["But what is a neural network?"]
    # W48: the other page lists the same video by another link; the digest shows it once
    web.notes["theory"].append(link("https://www.youtube.com/watch?v=aircAruvnKk&t=1s", "Neural networks"))
    w48 = sim_week(web, url, out, "2026-W48", specs=NOTES_SPECS)
    [talk] = w48.digest.resources
    assert talk.title == "But what is a neural network?"
    assert [s.source_name for s in talk.sightings] == ["Reading list", "Theory notes"]


def test_a_video_two_pages_link_two_ways_in_the_same_week_is_one_line(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.notes["theory"] = [
        link("https://youtu.be/aircAruvnKk?si=shared", "But what is a neural network? - YouTube")
    ]
    web.notes["reading"] = [
        link("https://www.youtube.com/watch?v=aircAruvnKk", "But what is a neural network?")
    ]
    w46 = sim_week(web, url, out, "2026-W46", specs=NOTES_SPECS)
    [talk] = w46.digest.resources
    assert [s.source_name for s in talk.sightings] == ["Reading list", "Theory notes"]


# --- the week rules together ----------------------------------------------------------------

BOTH_API_SPECS = [*SIM_SPECS, REVISIONS_SPEC]


def badges(build: pipeline.WeekBuild) -> dict[str, tuple[str, ...]]:
    entries = [p for s in build.digest.sections for p in s.papers] + list(build.digest.updated)
    return {p.paper.arxiv_id or p.paper.key: p.badges for p in entries}


def test_a_refresh_of_the_week_under_way_before_the_scheduled_run_leaves_last_week_its_papers(
    tmp_path: Path,
) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    ntk, pdlt = sim_ntk(), sim_pdlt()
    web.submit(ntk)
    assert new_ids(sim_week(web, url, out, "2026-W45", specs=BOTH_API_SPECS)) == ["1806.07572"]
    web.submit(pdlt)  # Tuesday of W46
    web.revise(ntk.arxiv_id, Version(ntk.versions[0].title, abstract("the NTK, v2"), at(11, 12)))

    # Monday 16 Nov, 06:00: the operator refreshes the week just begun, an hour before the
    # scheduled run of W46; W46 has no run yet, and this partial digest must not take its papers
    early = sim_week(web, url, out, "2026-W47", specs=BOTH_API_SPECS, when=at(11, 16, 6))
    assert new_ids(early) == [] and updates(early) == {}
    assert not any("No digest was made" in n.text for n in early.notes)
    assert not any(w.startswith("also fetched") for r in early.digest.reports for w in r.warnings)

    w46 = sim_week(web, url, out, "2026-W46", specs=BOTH_API_SPECS)
    assert new_ids(w46) == ["2106.10165"]
    assert updates(w46) == {"1806.07572": "updated to v2 (was v1 on 2026-W45)"}
    w47 = sim_week(web, url, out, "2026-W47", specs=BOTH_API_SPECS)
    assert new_ids(w47) == [] and updates(w47) == {}


def test_a_catch_up_week_shows_a_missed_paper_once_as_new_at_its_latest_version(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    ntk, pdlt, benign = sim_ntk(), sim_pdlt(), sim_benign()
    web.submit(ntk)
    sim_week(web, url, out, "2026-W45", specs=BOTH_API_SPECS)

    # W46: the API is down all week (both queries); the RSS listing still shows one paper
    benign.submitted = at(11, 11)
    benign.versions[0] = Version(benign.versions[0].title, benign.versions[0].abstract, at(11, 11))
    web.submit(pdlt)
    web.submit(benign)
    web.down = {"/api/query"}
    web.listing, web.listing_date = [(benign.arxiv_id, 1, "new")], at(11, 13, 5)
    w46 = sim_week(web, url, out, "2026-W46", specs=BOTH_API_SPECS)
    assert new_ids(w46) == ["1906.11300"] and w46.counts["sources_failed"] == 3
    web.down = set()

    # W47: both papers of W46 get a v2; the catch-up brings the missed one at v2
    web.revise(pdlt.arxiv_id, Version(pdlt.versions[0].title, abstract("effective theory, v2"), at(11, 18)))
    web.revise(benign.arxiv_id, Version(benign.versions[0].title, abstract("benign, v2"), at(11, 19)))
    web.listing, web.listing_date = [(benign.arxiv_id, 2, "replace")], at(11, 20, 5)
    w47 = sim_week(web, url, out, "2026-W47", specs=BOTH_API_SPECS)
    assert new_ids(w47) == ["2106.10165"]  # never sent: new (at v2), not "updated"
    assert updates(w47) == {"1906.11300": "updated to v2 (was v1 on 2026-W46)"}
    assert len(all_keys(w47)) == len(set(all_keys(w47)))
    [entry] = [p for s in w47.digest.sections for p in s.papers]
    assert entry.paper.version == 2
    caught_up = {r.source_id for r in w47.digest.reports if any("2026-W46" in w for w in r.warnings)}
    assert caught_up == {"arxiv-week", "arxiv-week-revisions"}

    w48 = sim_week(web, url, out, "2026-W48", specs=BOTH_API_SPECS)
    assert new_ids(w48) == [] and updates(w48) == {}


class PartlyDownWeb(Web):
    """A web where requests whose URL contains `down_query` answer 503 (one API query, not all)."""

    down_query: str = ""

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down_query and self.down_query in str(request.url):
            self.requests.append(str(request.url))
            return httpx.Response(503, content=b"busy", headers={"content-type": "text/plain"})
        return super().handler(request)


def test_the_revisions_query_down_for_a_week_brings_its_revisions_the_week_after(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", PartlyDownWeb()
    ntk, benign, pdlt, chizat = sim_ntk(), sim_benign(), sim_pdlt(), sim_chizat()
    web.submit(ntk)
    web.submit(benign)
    sim_week(web, url, out, "2026-W45", specs=BOTH_API_SPECS)
    web.submit(pdlt)
    sim_week(web, url, out, "2026-W46", specs=BOTH_API_SPECS)

    # W47: the revisions query fails; the new-papers query works
    web.down_query = "lastUpdatedDate"
    web.submit(chizat)
    web.revise(ntk.arxiv_id, Version(ntk.versions[0].title, abstract("the NTK, v2"), at(11, 17)))
    retitled = "The Principles of Deep Learning Theory: An Effective Theory Approach"
    web.revise(pdlt.arxiv_id, Version(retitled, pdlt.versions[0].abstract, at(11, 19)))
    w47 = sim_week(web, url, out, "2026-W47", specs=BOTH_API_SPECS)
    assert new_ids(w47) == ["2002.04486"] and updates(w47) == {}
    web.down_query = ""

    # W48: the revisions of W47 arrive, and a v3 of the NTK paper replaces its unseen v2
    web.revise(ntk.arxiv_id, Version(ntk.versions[0].title, abstract("the NTK, v3"), at(11, 26)))
    web.revise(benign.arxiv_id, Version(benign.versions[0].title, abstract("benign, v2"), at(11, 25)))
    w48 = sim_week(web, url, out, "2026-W48", specs=BOTH_API_SPECS)
    assert new_ids(w48) == []  # chizat came back through the catch-up: not new again
    assert updates(w48) == {
        "1806.07572": "updated to v3 (was v1 on 2026-W45)",
        "1906.11300": "updated to v2 (was v1 on 2026-W45)",
        "2106.10165": f'updated to v2 (was v1 on 2026-W46), retitled (was: "{pdlt.versions[0].title}")',
    }
    assert sim_week(web, url, out, "2026-W49", specs=BOTH_API_SPECS).digest.updated == ()


def test_weeks_across_the_year_end_catch_up_on_2026_w53(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    assert Week.parse("2026-W52").monday.isoformat() == "2026-12-21"
    december = sim_paper(
        "2612.10001", "Scaling limits of wide transformers", ("Ada Author",), at(12, 22), "width"
    )
    between = sim_paper(
        "2612.20002", "Grokking as a phase transition", ("Bo Author",), at(12, 30), "grokking"
    )
    january = sim_paper(
        "2701.00003",
        "Sharpness and generalization revisited",
        ("Cy Author",),
        dt.datetime(2027, 1, 5, 12, tzinfo=dt.UTC),
        "sharp minima",
    )
    web.submit(december)
    w52 = sim_week(web, url, out, "2026-W52", specs=BOTH_API_SPECS)
    assert new_ids(w52) == ["2612.10001"]
    # 2026-W53 (28 Dec to 3 Jan): no run
    web.submit(between)
    web.revise(december.arxiv_id, Version(december.versions[0].title, abstract("width, v2"), at(12, 31)))
    web.submit(january)
    w01 = sim_week(web, url, out, "2027-W01", specs=BOTH_API_SPECS)
    assert new_ids(w01) == ["2612.20002", "2701.00003"]
    assert updates(w01) == {"2612.10001": "updated to v2 (was v1 on 2026-W52)"}
    assert any("No digest was made for 2026-W53" in n.text for n in w01.notes)
    assert any("submittedDate:%5B202612280000+TO+202701102359%5D" in u for u in web.requests)
    # W52 rerun in January: readers have it and later weeks followed, so it stays as sent
    again = sim_week(
        web, url, out, "2026-W52", specs=BOTH_API_SPECS, when=dt.datetime(2027, 1, 12, tzinfo=dt.UTC)
    )
    assert again.frozen and again.markdown == w52.markdown


def test_the_shipped_api_sources_give_one_entry_per_paper_with_the_right_badge(tmp_path: Path) -> None:
    from dltheory_digest.config import load_sources

    shipped = {s.id: s for s in load_sources(Path(__file__).resolve().parent.parent / "sources.yaml")}
    specs = [
        shipped[i].model_copy(update={"url": f"{HOST}/api/query", "politeness": SIM_SPECS[0].politeness})
        for i in ("arxiv-week", "arxiv-week-revisions")
    ]
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    ntk, benign, pdlt = sim_ntk(), sim_benign(), sim_pdlt()
    web.submit(ntk)
    web.submit(benign)
    w45 = sim_week(web, url, out, "2026-W45", specs=specs)
    # each paper came back from both queries: one entry each, new
    assert badges(w45) == {"1806.07572": ("new",), "1906.11300": ("new",)}
    assert {s.source_id for p in w45.digest.sections[0].papers for s in p.sightings} <= {
        "arxiv-week",
        "arxiv-week-revisions",
    }

    web.submit(pdlt)  # new on Tuesday, revised on Thursday of the same week
    web.revise(pdlt.arxiv_id, Version(pdlt.versions[0].title, abstract("effective theory, v2"), at(11, 12)))
    web.revise(benign.arxiv_id, Version(benign.versions[0].title, abstract("benign, v2"), at(11, 11)))
    w46 = sim_week(web, url, out, "2026-W46", specs=specs)
    assert new_ids(w46) == ["2106.10165"]
    assert updates(w46) == {"1906.11300": "updated to v2 (was v1 on 2026-W45)"}
    assert badges(w46) == {"2106.10165": ("new", "updated v2"), "1906.11300": ("updated v2",)}
    assert len(all_keys(w46)) == 2


def test_a_sent_week_rerun_while_a_talk_and_a_post_were_added_passes_them_on_once(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    specs = [*NOTES_SPECS, SIM_SPECS[2]]
    web.notes["theory"], web.notes["reading"] = [STATS385], []
    web.submit(sim_ntk())
    sim_week(web, url, out, "2026-W45", specs=specs)
    web.submit(sim_pdlt())
    w46 = sim_week(web, url, out, "2026-W46", specs=specs)
    sim_week(web, url, out, "2026-W47", specs=specs)

    # Wednesday of W48: a talk on one page, the other page lists a course the first listed in
    # W45, a blog post on a sent paper; the operator reruns W46
    web.notes["theory"].append(video("Feature learning"))
    web.notes["reading"] = [STATS385, CSC2541]
    web.blog.append(
        Post(
            f"{HOST}/blog/2026/11/ntk/",
            "Kernels at infinite width",
            '<p>On <a href="https://arxiv.org/abs/1806.07572">the neural tangent kernel</a>.</p>',
            at(11, 25),
        )
    )
    again = sim_week(web, url, out, "2026-W46", specs=specs, when=at(11, 25, 9))
    assert again.frozen and again.markdown == w46.markdown

    w48 = sim_week(web, url, out, "2026-W48", specs=specs)
    assert resource_titles(w48) == ["CSC2541: Neural Net Training Dynamics", "Feature learning lectures"]
    assert updates(w48) == {"1806.07572": "newly discussed on A theory blog"}
    w49 = sim_week(web, url, out, "2026-W49", specs=specs)
    assert resource_titles(w49) == [] and updates(w49) == {}


def test_a_week_only_refreshed_while_under_way_and_then_skipped_loses_no_paper(tmp_path: Path) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    ntk, chizat, du = sim_ntk(), sim_chizat(), sim_du()
    web.submit(ntk)
    sim_week(web, url, out, "2026-W45", specs=BOTH_API_SPECS)
    sim_week(web, url, out, "2026-W46", specs=BOTH_API_SPECS)

    # Wednesday of W47 the operator refreshes the week under way (a partial digest, held back
    # from readers); a paper follows on Friday; on Monday the host is down: W47 never goes out
    web.submit(chizat)
    partial = sim_week(web, url, out, "2026-W47", specs=BOTH_API_SPECS, when=at(11, 18, 15))
    assert new_ids(partial) == ["2002.04486"]
    du.submitted = at(11, 20)
    du.versions[0] = Version(du.versions[0].title, du.versions[0].abstract, at(11, 20))
    web.submit(du)

    # the next digest has both: the one the partial digest showed, the one fetched since
    w48 = sim_week(web, url, out, "2026-W48", specs=BOTH_API_SPECS)
    assert new_ids(w48) == ["1810.02054", "2002.04486"] and updates(w48) == {}
    assert any("No digest was made for 2026-W47 (only a partial refresh)" in n.text for n in w48.notes)
    assert "2026-W47" in (out / "2026-W48.md").read_text(encoding="utf-8")
    assert any("2026-11-16" in w for r in w48.digest.reports for w in r.warnings)
    # the ledger says W48 showed them, so they are not new again
    sent = load_history(open_store(url), ["arxiv:2002.04486"])["arxiv:2002.04486"]
    assert "2026-W48" in {e.week for e in sent}
    assert (
        sim_week(web, url, out, "2026-W48", specs=BOTH_API_SPECS, when=at(11, 30, 9)).markdown == w48.markdown
    )
    w49 = sim_week(web, url, out, "2026-W49", specs=BOTH_API_SPECS)
    assert new_ids(w49) == [] and updates(w49) == {} and w49.notes == ()

    # rerun later, W47 keeps its partial digest, which is not to be mailed: W48 showed its papers
    rerun = sim_week(web, url, out, "2026-W47", specs=BOTH_API_SPECS, when=at(12, 7, 9))
    assert rerun.frozen and rerun.partial and rerun.markdown == partial.markdown
    assert "written while it was under way" in rerun.notes[0].text
    # a sent week kept as it was sent is mailed (to readers who lack it) as before
    sent = sim_week(web, url, out, "2026-W48", specs=BOTH_API_SPECS, when=at(12, 7, 9))
    assert sent.frozen and not sent.partial


def test_the_monday_listing_a_scheduled_run_sees_is_the_next_weeks(tmp_path: Path) -> None:
    """The scheduled run of W47 (Monday 23 Nov, 07:00 UTC) reads Monday's arXiv listing, out
    Sunday 20:00 New York time and dated Monday 00:00 there, and a blog post of that morning:
    they are W48's, which shows them; W47 reads the same however often it is rebuilt."""
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    specs = [SIM_SPECS[1], SIM_SPECS[2]]  # arXiv's RSS listing and a blog
    new_york = ZoneInfo("America/New_York")
    ntk, benign, chizat = sim_ntk(), sim_benign(), sim_chizat()
    for p in (ntk, benign, chizat):
        web.submit(p)
    # Friday 20 Nov's listing, read by a refresh on Saturday, and a post of Thursday
    web.listing, web.listing_date = [(ntk.arxiv_id, 1, "new")], dt.datetime(2026, 11, 20, tzinfo=new_york)
    web.blog.append(Post(f"{HOST}/blog/2026/11/ntk/", "Kernels at infinite width", "<p>NTK.</p>", at(11, 19)))
    sim_week(web, url, out, "2026-W47", specs=specs, when=at(11, 21, 9))

    # Monday: the listing is Monday's; a post of 06:00; a post whose feed dates it 2030
    web.listing, web.listing_date = (
        [(benign.arxiv_id, 1, "new"), (chizat.arxiv_id, 1, "new")],
        dt.datetime(2026, 11, 23, tzinfo=new_york),
    )
    monday_post = Post(
        f"{HOST}/blog/2026/11/benign/", "Interpolation that does not hurt", "<p>B.</p>", at(11, 23, 6)
    )
    misdated = Post(
        f"{HOST}/blog/2030/01/x/",
        "A post from the future",
        "<p>X.</p>",
        dt.datetime(2030, 1, 7, tzinfo=dt.UTC),
    )
    web.blog += [monday_post, misdated]
    w47 = sim_week(web, url, out, "2026-W47", specs=specs)
    assert new_ids(w47) == ["1806.07572"]
    for title in (
        "Benign Overfitting",
        "Implicit Bias of Gradient Descent",
        "Interpolation that does not hurt",
    ):
        assert title not in w47.markdown
    assert sorted(p.title for p in w47.digest.posts) == [
        "A post from the future",
        "Kernels at infinite width",
    ]
    reports = {r.source_id: r for r in w47.digest.reports}
    assert (reports["arxiv-listing"].later, reports["arxiv-listing"].later_weeks) == (2, ("2026-W48",))
    assert (reports["blog"].later, reports["blog"].later_weeks) == (1, ("2026-W48",))
    assert reports["blog"].new == 2  # Thursday's post and the misdated one
    sent_w47 = (out / "2026-W47.md").read_bytes()

    # rebuilt on Monday evening (the listing unchanged), then again once readers have it
    assert sim_week(web, url, out, "2026-W47", specs=specs, when=at(11, 23, 18)).markdown.encode() == sent_w47
    record_delivery(
        open_store(url),
        week="2026-W47",
        reader="r@example.org",
        message_id="<47@x>",
        status="sent",
        attempts=1,
    )
    web.listing_date = dt.datetime(2026, 11, 24, tzinfo=new_york)  # Tuesday's listing
    web.listing = [(chizat.arxiv_id, 2, "replace")]
    web.revise(
        chizat.arxiv_id, Version(chizat.versions[0].title, abstract("implicit bias, v2"), at(11, 23, 16))
    )
    assert sim_week(web, url, out, "2026-W47", specs=specs, when=at(11, 24, 9)).markdown.encode() == sent_w47

    # W48's scheduled run: Monday 30 Nov's listing is W49's; W48 has what W47's runs passed on
    web.listing, web.listing_date = [], dt.datetime(2026, 11, 30, tzinfo=new_york)
    w48 = sim_week(web, url, out, "2026-W48", specs=specs)
    assert new_ids(w48) == ["1906.11300", "2002.04486"]
    assert [p.title for p in w48.digest.posts] == ["Interpolation that does not hurt"]
    # and W47, rebuilt after W48 went out, still reads as it was sent
    assert sim_week(web, url, out, "2026-W47", specs=specs, when=at(12, 1)).markdown.encode() == sent_w47


def test_an_old_week_run_after_a_later_catch_up_went_out_repeats_no_note_and_mails_no_reader(
    tmp_path: Path,
) -> None:
    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.submit(sim_ntk())
    sim_week(web, url, out, "2026-W46")
    web.submit(sim_chizat())
    # no run in W47 or W48: W49 catches up on both, and says so
    w49 = sim_week(web, url, out, "2026-W49")
    [missed] = [n for n in w49.notes if n.kind is NoteKind.MISSED_WEEKS]
    assert missed.weeks == ("2026-W47", "2026-W48") and new_ids(w49) == ["2002.04486"]
    w48 = Week.parse("2026-W48")
    store = open_store(url)
    assert pipeline.later_week_out(store, w48) == "2026-W49"
    assert pipeline.later_week_out(store, Week.parse("2026-W49")) is None

    # the operator runs W48 after all: W49 already caught up on W47 and showed its papers
    again = sim_week(web, url, out, "2026-W48", when=at(12, 8))
    assert not any(n.kind is NoteKind.MISSED_WEEKS for n in again.notes)
    assert "No digest was made" not in (out / "2026-W48.md").read_text(encoding="utf-8")
    assert new_ids(again) == [] and updates(again) == {}
    # (its readers are not mailed: `readers_held_back` is told of W49, tested in test_pipeline)
    # what the console says of the run's finds: not "readers have 2026-W48", which none had
    line = pipeline.carried_summary(w48, [], readers_had=True, later="2026-W49")
    assert (
        line
        == "2026-W49 went out after 2026-W48: it takes nothing new; nothing it found belongs to a later week"
    )
    store.close()


def test_a_week_whose_message_went_unconfirmed_is_one_readers_have(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    w47 = Week.parse("2026-W47")
    record_delivery(
        store, week="2026-W47", reader="ada@example.org", message_id="<m>", status="failed", attempts=3
    )
    assert not pipeline.readers_have_week(store, w47)
    # handed to the server, its answer lost: it may have arrived, so the week is not rebuilt
    # under the reader (nor is a later sighting put into it)
    record_delivery(
        store, week="2026-W47", reader="ada@example.org", message_id="<m>", status="unconfirmed", attempts=1
    )
    assert pipeline.readers_have_week(store, w47)
    assert not pipeline.readers_have_week(store, w47, resend=True)
    store.close()


def test_each_later_run_reminds_of_the_readers_an_earlier_week_never_reached(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    readers = ["ada@example.org", "bo@example.org", "cy@example.org", "di@example.org", "eve@example.org"]

    def row(week: str, reader: str, status: str) -> None:
        record_delivery(store, week=week, reader=reader, message_id=f"<{week}>", status=status, attempts=1)  # type: ignore[arg-type]

    for reader in readers[:4]:
        row("2026-W47", reader, "failed")  # the SMTP server was down that Monday
    row("2026-W47", "eve@example.org", "unconfirmed")
    row("2026-W48", "ada@example.org", "sent")
    row("2026-W48", "gone@example.org", "failed")  # no longer a reader: `send` would not mail them
    w49 = Week.parse("2026-W49")
    assert pipeline.undelivered_reminders(store, w49, readers) == [
        "2026-W47 was not delivered to 4 readers (ada@example.org, bo@example.org, cy@example.org, …): "
        "`dltheory-digest send --week 2026-W47` mails them; 2026-W47 may not have reached 1 reader "
        "(eve@example.org): the server's answer was never recorded; check its log, or "
        "`dltheory-digest send --week 2026-W47 --resend --to eve@example.org` sends it again"
    ]
    # every address in the ledger when no readers are given
    assert any(
        line.startswith("2026-W48 was not delivered to 1 reader (gone@example.org)")
        for line in pipeline.undelivered_reminders(store, w49)
    )
    # the week itself is not an earlier week; nor are weeks beyond the catch-up horizon
    assert pipeline.undelivered_reminders(store, Week.parse("2026-W47"), readers) == []
    assert pipeline.undelivered_reminders(store, w49, readers, lookback=1) == []
    assert pipeline.undelivered_reminders(store, Week.parse("2026-W52"), readers) == []  # 5 weeks on
    # once sent, a reader is no longer named; once all are, the week is not either
    for reader in readers[:4]:
        row("2026-W47", reader, "sent")
    row("2026-W47", "eve@example.org", "sent")
    assert pipeline.undelivered_reminders(store, w49, readers) == []
    store.close()


def test_mail_of_the_week_tells_times_in_the_configured_zone(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    from dltheory_digest.config import Reader, Settings
    from tests.test_mail import Mailbox, free_port

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    build = run_week(url, tmp_path / "out", "2026-W46", [paper(*NTK, 1, AnnounceType.NEW, ("Arthur Jacot",))])
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    store = open_store(url)
    try:
        settings = Settings(
            timezone="Asia/Shanghai",
            readers=(Reader(email="ada@example.org"),),
            smtp_host="127.0.0.1",
            smtp_port=port,
            mail_from="DL Theory <digest@example.org>",
        )
        [first] = pipeline.deliver_week(store, settings, Week.parse("2026-W46"), build)
        assert first.status == "sent" and len(box.received) == 1
        # the digest was built in UTC; the operator reads times in their own zone
        [again] = pipeline.deliver_week(store, settings, Week.parse("2026-W46"), build)
        assert again.status == "skipped" and len(box.received) == 1
        assert "Asia/Shanghai (UTC+08:00)" in (again.note or "") and " UTC " not in (again.note or "")
    finally:
        store.close()
        controller.stop()


def test_a_sent_week_pruned_from_the_store_is_not_rebuilt_into_another_digest(tmp_path: Path) -> None:
    """`store prune` drops an old week's digest JSON (and sightings): rebuilt, the week would
    replace what readers got with a poorer digest; the run refuses and names the file as sent."""
    import pytest
    from sqlalchemy import update

    from dltheory_digest.errors import DigestError
    from dltheory_digest.store.schema import digests

    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.submit(sim_ntk())
    sim_week(web, url, out, "2026-W45")
    sent = (out / "2026-W45.md").read_bytes()
    sim_week(web, url, out, "2026-W46")
    store = open_store(url)
    with store.begin() as conn:  # what `store prune` leaves of an old week's digest
        conn.execute(update(digests).where(digests.c.week == "2026-W45").values(data=None))
    store.close()
    with pytest.raises(DigestError, match=r"2026-W45 was pruned from the store .*2026-W45\.md, as sent"):
        sim_week(web, url, out, "2026-W45")
    assert (out / "2026-W45.md").read_bytes() == sent


def test_a_pruned_sent_week_is_named_before_the_fetch_as_the_build_would_refuse_it(tmp_path: Path) -> None:
    """`pipeline.pruned_week`, asked by `run`/`refresh` and the flow before anything is fetched:
    the guard's own words (`sent_digest`) for a pruned sent week, None for any other week."""
    from sqlalchemy import update

    from dltheory_digest.store.schema import digests

    url, out, web = f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "out", Web()
    web.submit(sim_ntk())
    sim_week(web, url, out, "2026-W45")
    sim_week(web, url, out, "2026-W46")
    store = open_store(url)
    try:
        assert pipeline.pruned_week(store, Week.parse("2026-W45")) is None  # sent, kept whole
        with store.begin() as conn:  # what `store prune` leaves of an old week's digest
            conn.execute(update(digests).where(digests.c.week == "2026-W45").values(data=None))
        said = pipeline.pruned_week(store, Week.parse("2026-W45")) or ""
        assert said.startswith("2026-W45 was pruned from the store (store prune): its digest is ")
        assert said.endswith(
            "2026-W45.md, as sent; `dltheory-digest send --week 2026-W45 --resend` mails it again"
        )
        assert pipeline.pruned_week(store, Week.parse("2026-W46")) is None
        assert pipeline.pruned_week(store, Week.parse("2026-W44")) is None  # never built
    finally:
        store.close()
