"""The digest stage: summaries, escaping, building, per-reader filtering, Markdown and HTML.

`sample_digest()` (real arXiv ids, titles and authors; abstracts written for these tests)
is also used by the mail tests and the screenshot test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from dltheory_digest import digest as dg
from dltheory_digest.config import Reader
from dltheory_digest.digest.build import (
    POST_SCORED_CHARS,
    classify_posts,
    followed_in,
    merge_post_revisions,
    post_id,
)
from dltheory_digest.models import (
    AnnounceType,
    Classification,
    Digest,
    Item,
    ItemKind,
    JournalVersion,
    Note,
    NoteKind,
    Paper,
    PaperCluster,
    Place,
    Sighting,
    SourceReport,
    UpdateReason,
    VersionChange,
)

UTC = dt.UTC
WEEK = "2026-W47"
WINDOW = (dt.datetime(2026, 11, 15, 23, tzinfo=UTC), dt.datetime(2026, 11, 22, 23, tzinfo=UTC))
DIRECTIONS = [
    ("optimization", "Optimization and implicit bias"),
    ("generalization", "Generalization"),
    ("kernels", "Neural tangent kernel and infinite width"),
    ("other", "Other"),
]


def _paper(
    arxiv_id: str,
    title: str,
    authors: list[str],
    categories: list[str],
    abstract: str,
    *,
    version: int = 1,
    published: dt.datetime = dt.datetime(2026, 11, 17, 19, tzinfo=UTC),
    updated: dt.datetime | None = None,
) -> Paper:
    return Paper(
        key=f"arxiv:{arxiv_id}",
        title=title,
        arxiv_id=arxiv_id,
        version=version,
        authors=tuple(authors),
        abstract=abstract,
        published=published,
        updated=updated or published,
        categories=tuple(categories),
        primary_category=categories[0],
    )


def _arxiv(arxiv_id: str, kind: AnnounceType = AnnounceType.NEW, version: int = 1) -> Sighting:
    return Sighting(
        source_id="arxiv-cs-lg",
        source_name="arXiv",
        url=f"https://arxiv.org/abs/{arxiv_id}v{version}",
        lang="en",
        version=version,
        announce_type=kind,
    )


def sample_inputs() -> dict:
    """build_digest keyword arguments for one week with zh/ar sightings, a blog post and hostile text."""
    ntk = PaperCluster(
        paper=_paper(
            "1806.07572",
            "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
            ["Arthur Jacot", "Franck Gabriel", "Clément Hongler"],
            ["cs.LG", "cs.NE", "math.PR", "stat.ML"],
            "In the infinite-width limit, training a network by gradient descent follows a kernel method, "
            "e.g. with a kernel fixed at initialization (see Fig. 2). The error decays at rate "
            "$O(1/\\sqrt{n})$ for 3.5 times wider layers. Further remarks follow.",
        ),
        sightings=(
            _arxiv("1806.07572", AnnounceType.CROSS),
            Sighting(
                "zhihu", "Zhihu", "https://zhuanlan.zhihu.com/p/48381795", "zh", "神经正切核：收敛与泛化"
            ),
            Sighting("shamra", "Shamra", "https://shamra-academia.com/show/3a3f", "ar", "نواة الظل العصبية"),
        ),
        versions=(1,),
        original_title="神经正切核：收敛与泛化",
        original_lang="zh",
    )
    gd = PaperCluster(
        paper=_paper(
            "1810.02054",
            "Gradient Descent Provably Optimizes Over-parameterized Neural Networks",
            ["Simon S. Du", "Xiyu Zhai", "Barnabas Poczos", "Aarti Singh"],
            ["cs.LG", "math.OC", "stat.ML"],
            "We show that gradient descent reaches zero training loss on a two-layer ReLU network. "
            "Over-parameterization keeps the Gram matrix well conditioned throughout training.",
        ),
        sightings=(
            _arxiv("1810.02054"),
            Sighting(
                "zhihu",
                "Zhihu",
                "https://zhuanlan.zhihu.com/p/500000002",
                "zh",
                "过参数化网络上的梯度下降",
                kind=ItemKind.POST,
            ),
        ),
        versions=(1,),
    )
    arabic = PaperCluster(
        paper=_paper(
            "1611.03530",
            "Understanding deep learning requires rethinking generalization",
            ["Chiyuan Zhang", "Samy Bengio", "Moritz Hardt", "Benjamin Recht", "Oriol Vinyals"],
            ["cs.LG"],
            "Networks that fit random labels still generalize on real ones. Classical complexity measures "
            "do not explain this gap.",
        ),
        sightings=(
            _arxiv("1611.03530"),
            Sighting("shamra", "Shamra", "https://shamra-academia.com/show/5b1c", "ar", "فهم التعلم العميق"),
        ),
        versions=(1,),
        original_title="فهم التعلم العميق يتطلب إعادة التفكير في التعميم",
        original_lang="ar",
    )
    hostile = PaperCluster(
        paper=_paper(
            "2201.02177",
            "Grokking: <script>alert('x')</script> *Generalization* | Beyond_ Overfitting [on] Small Datasets",
            ["Alethea Power", "Yuri Burda", "Harri Edwards", "Igor Babuschkin", "Vedant Misra"],
            ["cs.LG"],
            "<img src=https://tracker.example/p.gif onerror=alert(1)> Models trained long past "
            'overfitting suddenly generalize. [click](javascript:alert(1)) and <a href="javascript:evil()">x</a>.',
        ),
        sightings=(
            _arxiv("2201.02177"),
            Sighting("notes", "Notes <b>page</b>", "javascript:alert(2)", "en"),
        ),
        versions=(1,),
    )
    low = PaperCluster(
        paper=_paper(
            "1912.02292",
            "Deep Double Descent: Where Bigger Models and More Data Hurt",
            [
                "Preetum Nakkiran",
                "Gal Kaplun",
                "Yamini Bansal",
                "Tristan Yang",
                "Boaz Barak",
                "Ilya Sutskever",
            ],
            ["cs.LG", "cs.CV", "stat.ML"],
            "Test error first rises and then falls again as models grow. The same happens with more data.",
        ),
        sightings=(_arxiv("1912.02292"),),
        versions=(1,),
    )
    principles = PaperCluster(
        paper=_paper(
            "2106.10165",
            "The Principles of Deep Learning Theory",
            ["Daniel A. Roberts", "Sho Yaida", "Boris Hanin"],
            ["cs.LG", "hep-th", "stat.ML"],
            "A book on effective theory for deep networks at large but finite width. It develops the tools.",
            version=3,
            published=dt.datetime(2021, 6, 18, tzinfo=UTC),
            updated=dt.datetime(2026, 11, 18, tzinfo=UTC),
        ),
        sightings=(
            _arxiv("2106.10165", AnnounceType.REPLACE, 3),
            Sighting("zhihu", "Zhihu", "https://zhuanlan.zhihu.com/p/400000001", "zh", kind=ItemKind.POST),
        ),
        versions=(1, 2, 3),
    )
    post = Item(
        source_id="offconvex",
        kind=ItemKind.POST,
        title="Why does gradient descent find global minima?",
        url="https://www.offconvex.org/2026/11/18/gd-global/",
        lang="en",
        links=("https://arxiv.org/abs/1810.02054v4", "https://example.org/unrelated"),
        published=dt.datetime(2026, 11, 18, 12, tzinfo=UTC),
    )
    classifications = {
        ntk.paper.key: Classification("kernels", relevance=0.92),
        gd.paper.key: Classification("optimization", relevance=0.88),
        arabic.paper.key: Classification("generalization", relevance=0.81),
        hostile.paper.key: Classification("generalization", relevance=0.75),
        low.paper.key: Classification("generalization", relevance=0.12, confident=False),
        principles.paper.key: Classification("other", relevance=0.7),
    }
    reports = [
        SourceReport("arxiv-cs-lg", "arxiv_rss", fetched=5, parsed=120, new=80),
        SourceReport("zhihu", "zhihu", fetched=2, parsed=4, new=2, warnings=("no body | in <div>",)),
        SourceReport("shamra", "shamra", error="HTTP 503 after 3 retries"),
    ]
    return {
        "week": WEEK,
        "window_start": WINDOW[0],
        "window_end": WINDOW[1],
        "timezone": "Europe/Berlin",
        "clusters": [ntk, gd, arabic, hostile, low],
        "classifications": classifications,
        "directions": DIRECTIONS,
        "updated": [(principles, PRINCIPLES_BACK)],
        "posts": [post],
        "reports": reports,
        "relevance_threshold": 0.3,
        # a group takes papers no direction claims: the sample has none (see `_emerging_inputs`)
        "emerging": [],
        "announcement_days": [dt.date(2026, 11, 17), dt.date(2026, 11, 16)],
        "notes": [
            Note(
                NoteKind.UNTRANSLATED,
                "untranslated: no ar→en model (run `dltheory-digest models install ar`)",
                lang="ar",
            )
        ],
        "models": [("argos zh→en", "1.9")],
        "source_names": {"offconvex": "offconvex", "arxiv-cs-lg": "arXiv"},
    }


# why the sample's updated paper is back
PRINCIPLES_BACK = UpdateReason(
    version_change=VersionChange(new=3, old=2, week="2026-W45"), discussed_on=(Place("Zhihu", "zh"),)
)
PRINCIPLES_BACK_EN = "updated to v3 (was v2 on 2026-W45); newly discussed on Zhihu (zh)"
# as the digest shows it: the place it is newly discussed on links the post there
PRINCIPLES_BACK_MD = PRINCIPLES_BACK_EN.replace(
    "Zhihu (zh)", "[Zhihu (zh)](https://zhuanlan.zhihu.com/p/400000001)"
)


def sample_digest() -> Digest:
    return dg.build_digest(**sample_inputs())


class EchoTranslator:
    """Stands in for the argos model: marks each text so the test can see what was translated."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str]] = []

    def translate_many(self, texts, from_code, to_code):  # type: ignore[no-untyped-def]
        self.calls.append((len(texts), from_code, to_code))
        mark = {"zh": "译", "ar": "مترجم"}[to_code]
        return [f"{mark}:{t}" for t in texts]


# --- summaries and authors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("abstract", "expected"),
    [
        ("We use e.g. SGD here. It works. A third one.", "We use e.g. SGD here. It works."),
        ("Smith et al. showed this. We extend it. A third one.", "Smith et al. showed this. We extend it."),
        (
            "As in Fig. 2 the loss drops. Rates improve. A third one.",
            "As in Fig. 2 the loss drops. Rates improve.",
        ),
        (
            "Accuracy rises by 3.5 points. Error falls by 0.25. A third one.",
            "Accuracy rises by 3.5 points. Error falls by 0.25.",
        ),
        (
            "A rate $O(1/\\sqrt{n})$. holds. Next one. A third one.",
            "A rate $O(1/\\sqrt{n})$. holds. Next one.",
        ),
        ("The bound $a. B$ is tight. Next one. A third one.", "The bound $a. B$ is tight. Next one."),
        ("Work by J. Smith matters. Next one. A third one.", "Work by J. Smith matters. Next one."),
        ("Is it really? Yes it is! A third one.", "Is it really? Yes it is!"),
        (
            "Context. Many methods exist for this. We add one. A third one.",
            "Context. Many methods exist for this. We add one.",
        ),
        ("我们证明了收敛。速率是最优的。第三句。", "我们证明了收敛。速率是最优的。"),
        ("  spaced\n out   text.  ", "spaced out text."),
        ("", ""),
    ],
)
def test_summarize_two_sentences(abstract: str, expected: str) -> None:
    assert dg.summarize(abstract) == expected


def test_summarize_caps_a_runaway_sentence_without_cutting_math() -> None:
    abstract = "word " * 200 + "$x_1 + x_2$ end."
    summary = dg.summarize(abstract)
    assert summary.endswith("…")
    assert len(summary) <= 482
    assert summary.count("$") % 2 == 0


def test_shorten_authors() -> None:
    assert dg.shorten_authors(["A", "B", "C"]) == "A, B, C"
    assert dg.shorten_authors(["A", "B", "C", "D"]) == "A, B, C et al."
    assert dg.shorten_authors(["A", "B"], limit=1) == "A et al."
    assert dg.shorten_authors([]) == ""
    assert dg.shorten_authors(["A", "B", "C", "D"], et_al="{} 等") == "A, B, C 等"


def test_et_al_is_in_the_editions_language() -> None:
    digest = sample_digest()
    english = dg.render_markdown(digest)
    assert "Simon S. Du, Xiyu Zhai, Barnabas Poczos et al." in english
    for language, written in (
        ("zh", "Simon S. Du, Xiyu Zhai, Barnabas Poczos 等"),
        ("ar", "Simon S. Du, Xiyu Zhai, Barnabas Poczos وآخرون"),
    ):
        markdown = dg.render_markdown(digest, _zh_edition(digest, language))
        assert written in markdown and "et al." not in markdown.split("## ", 2)[2]
        # the one-line lists (the appendix) too
        below = markdown.split("<details>", 1)[1]
        assert dg.labels_for(language)["et_al"].format("Preetum Nakkiran, Gal Kaplun, Yamini Bansal") in below
    # an edition that fell back to English is English throughout
    fallback = dg.render_markdown(digest, dg.Edition(language="zh", note=dg.labels_for("zh")["untranslated"]))
    assert "Barnabas Poczos et al." in fallback


# --- escaping ---------------------------------------------------------------------------------


def _inline_html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").renderInline(markdown)


def test_markdown_specials_in_scraped_text_stay_literal() -> None:
    title = "A *bold* claim_ | with [brackets](x) and `code` <b>tag</b> &amp; $5"
    html = _inline_html(dg.md_text(title))
    assert "<em>" not in html and "<strong>" not in html and "<a " not in html and "<b>" not in html
    assert "*bold*" in html and "claim_" in html and "&amp;amp;" in html and "&lt;b&gt;" in html


def test_simple_latex_reads_as_text_and_the_rest_stays_verbatim() -> None:
    text = dg.md_text("rate $O(1/\\sqrt{n})$, $x_i * y_j$ and $\\foo{n}$")
    assert text == "rate O(1/√n), xᵢ \\* yⱼ and `$\\foo{n}$`"
    html = _inline_html(text)
    assert "rate O(1/√n), xᵢ * yⱼ and <code>$\\foo{n}$</code>" in html


def test_a_command_in_a_run_note_is_code_and_the_rest_stays_literal() -> None:
    note = "untranslated: no zh→en model (run `dltheory-digest models install zh`) *now*"
    html = _inline_html(dg.md_text(note, commands=True))
    assert "<code>dltheory-digest models install zh</code>" in html
    assert "*now*" in html and "<em>" not in html
    # scraped text keeps its backticks as characters
    assert "<code>" not in _inline_html(dg.md_text(note))


def test_line_start_constructs_are_neutralized() -> None:
    for text in ("# heading", "- item", "1. first", "12) twelfth", "> quote", "=== underline", "3.5 times"):
        rendered = MarkdownIt("commonmark").render("x  \n" + dg.md_text(text))
        assert "<h1>" not in rendered and "<li>" not in rendered and "<blockquote>" not in rendered
        # and the text reads as written: no backslash left in front of a number
        assert rendered == f"<p>x<br />\n{text.replace('>', '&gt;')}</p>\n"


def test_only_web_links_survive() -> None:
    assert dg.safe_url("javascript:alert(1)") is None
    assert dg.safe_url("data:text/html,x") is None
    assert dg.md_link("x", "JavaScript:alert(1)") == "x"
    assert dg.safe_url("https://arxiv.org/abs/1 (x)") == "https://arxiv.org/abs/1%20%28x%29"


# --- building ---------------------------------------------------------------------------------


def test_build_groups_by_direction_in_taxonomy_order() -> None:
    digest = sample_digest()
    assert [s.direction_id for s in digest.sections] == ["optimization", "generalization", "kernels"]
    generalization = digest.sections[1]
    assert [p.paper.arxiv_id for p in generalization.papers] == ["1611.03530", "2201.02177"]  # by relevance
    counts = dict(digest.counts)
    assert counts["papers"] == 4 and counts["updated"] == 1 and counts["below_threshold"] == 1
    assert counts["sources_failed"] == 1
    assert digest.announcement_days == (dt.date(2026, 11, 16), dt.date(2026, 11, 17))


def test_updated_papers_only_in_their_part_and_low_relevance_in_the_appendix() -> None:
    digest = sample_digest()
    shown = {p.paper.arxiv_id for s in digest.sections for p in s.papers}
    assert "2106.10165" not in shown and "1912.02292" not in shown
    assert [p.paper.arxiv_id for p in digest.updated] == ["2106.10165"]
    assert digest.updated[0].update_reason == PRINCIPLES_BACK
    assert digest.updated[0].reason == PRINCIPLES_BACK_EN
    assert "updated v3" in digest.updated[0].badges and "new" not in digest.updated[0].badges
    assert [p.paper.arxiv_id for p in digest.below_threshold] == ["1912.02292"]


def test_badges_and_sightings() -> None:
    digest = sample_digest()
    ntk = digest.sections[2].papers[0]
    assert ntk.badges == ("new", "cross-listed")
    assert [s.source_name for s in ntk.sightings] == ["arXiv", "Shamra", "Zhihu"]
    assert ntk.original_title == "神经正切核：收敛与泛化" and ntk.original_lang == "zh"
    assert ntk.summary.endswith("for 3.5 times wider layers.")


def _badges_of(cluster: PaperCluster, *, sent_before: bool = False) -> tuple[str, ...]:
    """The badges `cluster` gets in the sample week: among its new papers, or back as updated."""
    back = [(cluster, PRINCIPLES_BACK)] if sent_before else []
    inputs = {**sample_inputs(), "clusters": [cluster], "updated": back, "emerging": []}
    inputs["classifications"] = {cluster.paper.key: Classification("optimization", relevance=0.9)}
    digest = dg.build_digest(**inputs)
    [entry] = [*(p for s in digest.sections for p in s.papers), *digest.updated]
    return entry.badges


def test_a_paper_caught_up_from_a_missed_week_is_new_at_whatever_version_it_is_now() -> None:
    missed_week = dt.datetime(2026, 11, 10, 19, tzinfo=UTC)  # W46: no digest went out
    revised = dt.datetime(2026, 11, 18, tzinfo=UTC)
    paper = _paper(
        "2611.04321",
        "Feature learning in two-layer networks beyond the kernel regime",
        ["Ada Author"],
        ["cs.LG"],
        "We study feature learning.",
        version=2,
        published=missed_week,
        updated=revised,
    )
    # the RSS listing of the missed week said "new", this week's says "replace"
    listed = PaperCluster(
        paper=paper,
        sightings=(_arxiv("2611.04321", AnnounceType.NEW, 1), _arxiv("2611.04321", AnnounceType.REPLACE, 2)),
        versions=(1, 2),
    )
    assert _badges_of(listed) == ("new", "updated v2")
    # arXiv's API gives no announcement type: the date of the first version says it
    from_api = PaperCluster(
        paper=paper,
        sightings=(dataclasses.replace(_arxiv("2611.04321", version=2), announce_type=None),),
        versions=(2,),
    )
    assert _badges_of(from_api) == ("new", "updated v2")
    # a v1 caught up unrevised is new too (it had no badge at all)
    first = replace_paper(from_api, version=1, updated=missed_week)
    assert _badges_of(first) == ("new",)
    # a paper readers were sent is never new, whatever its sightings say
    assert _badges_of(listed, sent_before=True) == ("updated v2",)
    # never sent, but first out years ago: a revision, not a new paper
    old = replace_paper(from_api, published=dt.datetime(2019, 3, 1, tzinfo=UTC))
    assert _badges_of(old) == ("updated v2",)
    # out in the missed week, but only a blog brought it in: the badge says why it is here
    blog = Sighting("offconvex", "offconvex", "https://www.offconvex.org/x/", "en", kind=ItemKind.POST)
    discussed = replace_paper(
        dataclasses.replace(from_api, sightings=(blog,)), version=1, updated=missed_week
    )
    assert _badges_of(discussed) == ("discussed",)
    inputs = {**sample_inputs(), "clusters": [listed], "updated": [], "emerging": []}
    inputs["classifications"] = {listed.paper.key: Classification("optimization", relevance=0.9)}
    markdown = dg.render_markdown(dg.build_digest(**inputs))
    assert "arXiv:2611.04321v2 · [PDF](https://arxiv.org/pdf/2611.04321) · `new` · `updated v2`" in markdown


def replace_paper(cluster: PaperCluster, **changes: Any) -> PaperCluster:
    return dataclasses.replace(cluster, paper=dataclasses.replace(cluster.paper, **changes))


def test_an_old_paper_seen_only_in_a_blog_is_marked_discussed_not_new() -> None:
    old = PaperCluster(
        paper=_paper(
            "1710.10345",
            "The Implicit Bias of Gradient Descent on Separable Data",
            ["Daniel Soudry", "Elad Hoffer", "Mor Shpigel Nacson", "Suriya Gunasekar", "Nathan Srebro"],
            ["stat.ML", "cs.LG"],
            "Gradient descent on separable data converges in direction to the max-margin solution.",
            version=5,
            published=dt.datetime(2017, 10, 27, tzinfo=UTC),
            updated=dt.datetime(2024, 1, 2, tzinfo=UTC),
        ),
        sightings=(
            Sighting("offconvex", "offconvex", "https://www.offconvex.org/x/", "en", kind=ItemKind.POST),
        ),
    )
    inputs = {**sample_inputs(), "clusters": [old], "updated": [], "emerging": []}
    inputs["classifications"] = {old.paper.key: Classification("optimization", relevance=0.9)}
    digest = dg.build_digest(**inputs)
    [entry] = digest.sections[0].papers
    # not new, not revised: the badge says why a 2017 paper sits among this week's announcements
    assert entry.badges == ("discussed",)
    # dated by its first version, its latest one after it (as a revised paper is)
    assert (
        "Daniel Soudry, Elad Hoffer, Mor Shpigel Nacson et al. · 2017-10-27 (v5: 2024-01-02) · stat.ML · "
        "arXiv:1710.10345"
    ) in dg.render_markdown(digest)
    assert "[PDF](https://arxiv.org/pdf/1710.10345) · `discussed`" in dg.render_markdown(digest)


def test_an_unresolved_mention_shows_what_its_page_says() -> None:
    flat = PaperCluster(
        paper=Paper(key="title:flat minima", title="Flat Minima"),
        sightings=(
            Sighting(
                "notes",
                "Notes",
                None,
                "en",
                kind=ItemKind.MENTION,
                commentary="Wide basins are said to generalize better than sharp ones.",
            ),
        ),
    )
    inputs = {**sample_inputs(), "clusters": [flat], "updated": [], "emerging": []}
    inputs["classifications"] = {flat.paper.key: Classification("landscape", relevance=0.9)}
    digest = dg.build_digest(**inputs)
    # a bare title nothing confirms as a paper is listed apart, not counted among the papers
    assert digest.sections == ()
    [entry] = digest.unconfirmed
    assert entry.summary == "Wide basins are said to generalize better than sharp ones."
    assert dict(digest.counts)["papers"] == 0 and dict(digest.counts)["unconfirmed"] == 1
    # a paper with an abstract keeps its own summary
    ntk = sample_digest().sections[2].papers[0]
    assert ntk.summary.endswith("for 3.5 times wider layers.")


def test_posts_and_discussions_are_attached_to_the_papers_they_cite() -> None:
    digest = sample_digest()
    optimization = digest.sections[0]
    assert [p.url for p in optimization.posts] == [
        "https://www.offconvex.org/2026/11/18/gd-global/",  # a blog post linking the paper
        "https://zhuanlan.zhihu.com/p/500000002",  # a Zhihu article about it
    ]
    assert optimization.papers[0].discussed_in[0].title.startswith("Why does gradient descent")
    assert optimization.posts[1].title == "过参数化网络上的梯度下降" and optimization.posts[1].lang == "zh"
    assert all(not s.posts for s in digest.sections[1:])
    assert [s.source_name for s in optimization.papers[0].sightings] == ["arXiv", "offconvex", "Zhihu"]
    assert [p.url for p in digest.posts] == ["https://www.offconvex.org/2026/11/18/gd-global/"]


READING_LIST = "https://zhuanlan.zhihu.com/p/660000001"


def _reading_list(title: str, *cited: tuple[str, str]) -> Item:
    """A Zhihu reading list citing papers by title-only lines (the parser found their ids)."""
    mentions = tuple(
        Item("zhihu", ItemKind.MENTION, paper_title, url=READING_LIST, arxiv_id=arxiv_id)
        for arxiv_id, paper_title in cited
    )
    return Item("zhihu", ItemKind.POST, title, url=READING_LIST, lang="zh", cited=mentions)


NTK = ("1806.07572", "Neural Tangent Kernel: Convergence and Generalization in Neural Networks")
GD = ("1810.02054", "Gradient Descent Provably Optimizes Over-parameterized Neural Networks")


@pytest.mark.parametrize("edit_keeps_ntk", [True, False])
def test_a_post_edited_within_the_week_keeps_what_it_cited_before_the_edit(
    tmp_path: Path, edit_keeps_ntk: bool
) -> None:
    """A mid-week refresh stores the list citing the NTK paper; Monday's run finds it edited to
    cite the GD paper too (or instead): the store keeps a revision citing only GD, and the
    digest still shows the list under both papers, with its latest title. A citation the edit
    removed stays: a link the post once made beats losing one it still makes."""
    from dltheory_digest.pipeline import Collected, record_collection
    from dltheory_digest.store import open_store, records
    from dltheory_digest.weeks import Week

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week, report = Week(2026, 47), SourceReport("zhihu", "zhihu")
    record_collection(store, week, [Collected("zhihu", (_reading_list("阅读清单", NTK),), report)])
    edited = _reading_list("阅读清单（更新）", *((NTK, GD) if edit_keeps_ntk else (GD,)))
    record_collection(store, week, [Collected("zhihu", (edited,), report)])
    posts = [i for i in records.items_of_week(store, str(week)) if i.kind is ItemKind.POST]
    store.close()
    assert sorted(p.version or 0 for p in posts) == [0, 1]  # two revisions, the second citing GD alone

    inputs = sample_inputs()
    digest = dg.build_digest(**{**inputs, "posts": [*inputs["posts"], *posts]})
    entries = {e.paper.arxiv_id: e for e in dg.all_entries(digest)}
    for arxiv_id in (NTK[0], GD[0]):
        assert READING_LIST in [p.url for p in entries[arxiv_id].discussed_in], arxiv_id
    [listed] = [p for p in digest.posts if p.url == READING_LIST]
    assert listed.title == "阅读清单（更新）"
    assert [c.arxiv_id for c in listed.cited] == [NTK[0], GD[0]]
    markdown = dg.render_markdown(digest)
    # shown once, with the papers it cited before and after the edit: under the GD paper's
    # direction, naming the NTK paper's as one it also discusses papers in
    [line] = [line for line in markdown.splitlines() if READING_LIST in line]
    optimization = markdown.split("## Optimization and implicit bias (1)")[1].split("\n## ")[0]
    assert line in optimization and "(https://arxiv.org/abs/1810.02054)" in optimization
    assert line.endswith(
        "also discusses papers in: [Neural tangent kernel and infinite width](#neural-tangent-kernel-and-infinite-width-1)"
    )


def test_merged_revisions_take_the_latest_text_and_every_link_once() -> None:
    first = dataclasses.replace(
        _reading_list("v0", NTK),
        links=("https://arxiv.org/abs/1806.07572", "https://example.org/a"),
        published=dt.datetime(2026, 11, 17, 2, tzinfo=UTC),
        text="旧",
    )
    second = dataclasses.replace(
        _reading_list("v1", GD, NTK),
        version=1,
        links=("https://example.org/a", "https://example.org/b"),
        text="新",
    )
    other = _lesswrong_post("other", "Another post", "text", 18)
    [merged, alone] = merge_post_revisions([second, other, first])
    assert (merged.title, merged.text, merged.version) == ("v1", "新", 1)
    assert merged.published == first.published  # the latest revision gave no date: the earlier one's
    assert [c.arxiv_id for c in merged.cited] == [NTK[0], GD[0]]
    assert merged.links == (
        "https://arxiv.org/abs/1806.07572",
        "https://example.org/a",
        "https://example.org/b",
    )
    assert alone == other


GROKKING = [
    # arXiv id, title, relevance, announced on the 16th + n
    ("2611.30000", "Grokking modular arithmetic in two-layer networks", 0.45, 0),
    ("2611.30001", "Progress measures for grokking via mechanistic interpretability", 0.62, 1),
    ("2611.30002", "Grokking as the transition from lazy to rich training dynamics", 0.45, 2),
]


def _emerging_inputs() -> dict:
    """The sample week plus three unconfident papers on grokking, grouped, and one on knitting
    alone; the group as given also names a paper of a direction and one under the threshold."""
    inputs = sample_inputs()
    clusters, classifications = list(inputs["clusters"]), dict(inputs["classifications"])
    for arxiv_id, title, relevance, day in [
        *GROKKING,
        ("2611.30009", "Knitting patterns as programs", 0.35, 0),
    ]:
        published = dt.datetime(2026, 11, 16 + day, 19, tzinfo=UTC)
        abstract = "Delayed generalization." if arxiv_id in {g[0] for g in GROKKING} else "Stitches."
        paper = _paper(arxiv_id, title, ["Ann Author"], ["cs.LG"], abstract, published=published)
        clusters.append(PaperCluster(paper=paper, sightings=(_arxiv(arxiv_id),), versions=(1,)))
        classifications[paper.key] = Classification("other", relevance=relevance, confident=False)
    inputs["clusters"], inputs["classifications"] = clusters, classifications
    gd, low = f"arxiv:{GD[0]}", "arxiv:1912.02292"
    inputs["emerging"] = [[f"arxiv:{g[0]}" for g in GROKKING] + [gd, low]]
    return inputs


def test_an_emerging_group_takes_its_papers_out_of_other_and_counts_them_once() -> None:
    digest = dg.build_digest(**_emerging_inputs())
    # most relevant first, then the newest: not by id
    assert [(p.paper.arxiv_id, p.group, p.update_reason) for p in digest.emerging] == [
        ("2611.30001", 1, None),
        ("2611.30002", 1, None),
        ("2611.30000", 1, None),
    ]
    # Other keeps the unconfident paper no group took; the directions keep theirs, the appendix its own
    sections = {s.direction_id: [p.paper.arxiv_id for p in s.papers] for s in digest.sections}
    assert sections["other"] == ["2611.30009"] and sections["optimization"] == [GD[0]]
    assert [p.paper.arxiv_id for p in digest.below_threshold] == ["1912.02292"]
    # the header's count is what the sections and the groups show, each paper once
    counts = dict(digest.counts)
    assert counts["papers"] == sum(len(s.papers) for s in digest.sections) + len(digest.emerging) == 8
    shown = [p.paper.key for s in digest.sections for p in s.papers] + [p.paper.key for p in digest.emerging]
    assert len(shown) == len(set(shown))
    markdown = dg.render_markdown(digest)
    assert "**8** papers" in markdown
    toc = re.findall(r"^- \[(.+) \((\d+)\)\]\(#", markdown.split("## Contents")[1].split("\n## ")[0], re.M)
    assert sum(int(n) for name, n in toc if not name.startswith(("Updated", "Blog"))) == 8
    assert "## Other (1)" in markdown and "## Emerging (3)" in markdown
    for arxiv_id, *_ in GROKKING:
        assert markdown.count(f"(https://arxiv.org/abs/{arxiv_id})") == 1
    # a paper two groups name is in the first; the second, left with two, is no group
    inputs = _emerging_inputs()
    inputs["emerging"] = [*inputs["emerging"], ["arxiv:2611.30000", "arxiv:2611.30001", "arxiv:2611.30009"]]
    again = dg.build_digest(**inputs)
    assert again.emerging == digest.emerging and again.sections == digest.sections


def test_a_readers_edition_counts_the_emerging_papers_it_keeps() -> None:
    digest = dg.build_digest(**_emerging_inputs())
    grokking = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("delayed generalization",))
    )
    assert [p.paper.arxiv_id for p in grokking.emerging] == ["2611.30001", "2611.30002", "2611.30000"]
    assert grokking.sections == () and grokking.unmatched_filters is None
    assert dict(grokking.counts)["papers"] == 3
    assert "**3** papers" in dg.render_markdown(grokking)
    no_other = dg.filter_for_reader(digest, Reader(email="a@example.org", exclude_directions=("other",)))
    assert no_other.emerging == () and dict(no_other.counts)["papers"] == 4
    # a digest stored when Emerging repeated its papers under Other counts each once
    other = next(s for s in digest.sections if s.direction_id == "other")
    old = dataclasses.replace(
        digest,
        sections=tuple(
            dataclasses.replace(s, papers=(*s.papers, *digest.emerging)) if s is other else s
            for s in digest.sections
        ),
    )
    assert dict(dg.filter_for_reader(old, Reader(email="a@example.org")).counts)["papers"] == 8


def test_an_emerging_group_says_which_words_its_papers_share() -> None:
    inputs = sample_inputs()
    grokking = []
    for number, title in enumerate(
        [
            "Grokking modular arithmetic in two-layer networks",
            "Progress measures for grokking via mechanistic interpretability",
            "Grokking as the transition from lazy to rich training dynamics",
        ]
    ):
        arxiv_id = f"2611.3000{number}"
        paper = _paper(arxiv_id, title, ["Ann Author"], ["cs.LG"], "Delayed generalization on modular tasks.")
        grokking.append(PaperCluster(paper=paper, sightings=(_arxiv(arxiv_id),), versions=(1,)))
    inputs["clusters"] = [*inputs["clusters"], *grokking]
    low = Classification("other", relevance=0.4, confident=False)
    inputs["classifications"] = {**inputs["classifications"], **{c.paper.key: low for c in grokking}}
    inputs["emerging"] = [[c.paper.key for c in grokking]]
    digest = dg.build_digest(**inputs)
    # every paper says "grokking", "modular" and "delayed", the first of them first; "networks"
    # and "tasks" say nothing about a group of deep-learning papers
    assert dg.shared_words(digest.emerging) == ["grokking", "modular", "delayed"]
    markdown = dg.render_markdown(digest)
    assert '**Group 1** (shared words: "grokking", "modular", "delayed"):\n\n- [Grokking' in markdown
    zh = dg.render_markdown(digest, dg.Edition(language="zh"))
    assert "**组 1**（共同词：“grokking”、“modular”、“delayed”）:\n\n- [" in zh
    # a word is shown as the papers write it, not as its counting key ("dynamic", "physic")
    physics = [
        dataclasses.replace(grokking_entry, english_title=title, summary="")
        for grokking_entry, title in zip(
            digest.emerging,
            [
                "Statistical physics of learning dynamics",
                "The physics of kernels in learning dynamics",
                "Kernel dynamics and physics",
            ],
            strict=True,
        )
    ]
    assert dg.shared_words(physics) == ["physics", "dynamics", "kernel"]
    # papers that share no word get no such note
    unrelated = [p for s in sample_digest().sections for p in s.papers][:2]
    assert dg.shared_words([dataclasses.replace(unrelated[0], summary=""), unrelated[1]]) == []


def test_an_emerging_group_that_loses_its_unconfirmed_members_under_the_minimum_is_not_shown() -> None:
    inputs = sample_inputs()
    low = Classification("other", relevance=0.4, confident=False)
    found = []
    for number, title in enumerate(
        ["Truth or backpropaganda? Deep learning theory", "Theory of sharp minima"]
    ):
        arxiv_id = f"2611.3100{number}"
        paper = _paper(arxiv_id, title, ["Ann Author"], ["cs.LG"], "A theory.")
        found.append(PaperCluster(paper=paper, sightings=(_arxiv(arxiv_id),), versions=(1,)))
    mention = PaperCluster(
        paper=Paper(key="title:theory of deep learning draft", title="Theory of Deep Learning")
    )
    inputs["clusters"] = [*inputs["clusters"], *found, mention]
    inputs["classifications"] = {**inputs["classifications"], **{c.paper.key: low for c in (*found, mention)}}
    three = [c.paper.key for c in (*found, mention)]
    inputs["emerging"] = [three]
    digest = dg.build_digest(**inputs)
    assert [e.paper.title for e in digest.unconfirmed] == ["Theory of Deep Learning"]
    assert digest.emerging == ()
    assert "## Emerging" not in dg.render_markdown(digest)
    # groups after it are numbered from 1; a group that was given smaller keeps its members
    inputs["emerging"] = [three, three[:2]]
    assert [(e.paper.arxiv_id, e.group) for e in dg.build_digest(**inputs).emerging] == [
        ("2611.31000", 1),
        ("2611.31001", 1),
    ]
    # a group still three strong after it lost one is shown
    extra = _emerging_inputs()["clusters"][-1]
    inputs["clusters"] = [*inputs["clusters"], extra]
    inputs["classifications"] = {**inputs["classifications"], extra.paper.key: low}
    inputs["emerging"] = [[*three, extra.paper.key]]
    assert len(dg.build_digest(**inputs).emerging) == 3


def test_missing_classification_goes_to_other() -> None:
    inputs = sample_inputs()
    inputs["classifications"] = {}
    inputs["relevance_threshold"] = 0.0
    digest = dg.build_digest(**inputs)
    assert [s.direction_id for s in digest.sections] == ["other"]


# --- rendering ----------------------------------------------------------------------------------


def test_markdown_has_every_part() -> None:
    markdown = dg.render_markdown(sample_digest())
    assert markdown.startswith("# Deep-learning theory digest 2026-W47\n")
    assert "**Window:** 2026-11-16 00:00 – 2026-11-23 00:00 (Europe/Berlin)" in markdown
    assert "arXiv announcement days: 2026-11-16 (Mon), 2026-11-17 (Tue)" in markdown
    assert "- [Optimization and implicit bias (1)](#optimization-and-implicit-bias-1)" in markdown
    assert (
        "### [Neural Tangent Kernel: Convergence and Generalization in Neural Networks]"
        "(https://arxiv.org/abs/1806.07572)"
    ) in markdown
    assert "*Original title (zh):* 神经正切核：收敛与泛化" in markdown
    assert (
        "Arthur Jacot, Franck Gabriel, Clément Hongler · 2026-11-17 · cs.LG · arXiv:1806.07572v1 · "
        "[PDF](https://arxiv.org/pdf/1806.07572) · `new` · `cross-listed`" in markdown
    )
    assert (
        "Simon S. Du, Xiyu Zhai, Barnabas Poczos et al. · 2026-11-17 · cs.LG · arXiv:1810.02054v1 · "
        "[PDF](https://arxiv.org/pdf/1810.02054) · `new`  \n"
    ) in markdown
    assert "— Preetum Nakkiran, Gal Kaplun, Yamini Bansal et al. · cs.LG · relevance 0.12" in markdown
    assert "- [过参数化网络上的梯度下降](https://zhuanlan.zhihu.com/p/500000002) — Zhihu · zh" in markdown
    assert (
        # the arXiv listing is not linked: the title already links the abstract
        "Seen in: arXiv | [Shamra](https://shamra-academia.com/show/3a3f) (ar)"
        " | [Zhihu](https://zhuanlan.zhihu.com/p/48381795) (zh)"
    ) in markdown
    assert "## Updated and newly discussed (1)" in markdown and f"— {PRINCIPLES_BACK_MD}" in markdown
    # a post its direction lists with its papers is shown there only: the posts part counts it
    # in one line that links the direction
    assert (
        "## Blog posts, articles and discussions (1)\n\n1 listed with the papers it discusses, under "
        "[Optimization and implicit bias](#optimization-and-implicit-bias-1)\n"
    ) in markdown
    assert markdown.count("Why does gradient descent find global minima?") == 1
    # a line before <details> says what it holds: Gmail and Outlook show it expanded
    assert (
        "**Below the relevance threshold (1):** papers scored under this week's relevance threshold,"
        " one line each.\n\n<details>\n<summary>Show the list</summary>"
    ) in markdown
    # a source that failed before receiving anything has no counts, not zero of everything
    assert "| shamra | **failed:** HTTP 503 after 3 retries | shamra | — | — | — | — | 0 |" in markdown
    assert "| zhihu | ok | zhihu | 2 | 4 | 2 | 0 | 1: no body \\| in \\<div\\> |" in markdown
    assert "Translation models: argos zh→en 1.9" in markdown
    assert "- untranslated: no ar→en model" in markdown


def test_each_paper_shows_its_arxiv_id_and_a_pdf_link_or_its_doi() -> None:
    inputs = sample_inputs()
    journal = PaperCluster(
        paper=Paper(
            key="doi:10.1073/pnas.1903070116",
            title="Reconciling modern machine-learning practice and the classical bias-variance trade-off",
            authors=("Mikhail Belkin", "Daniel Hsu", "Siyuan Ma", "Soumik Mandal"),
            abstract="Risk curves descend a second time past the interpolation threshold.",
            doi="10.1073/pnas.1903070116",
        ),
        sightings=(Sighting("notes", "Notes", "https://notes.example.org/dd", "en", kind=ItemKind.PAPER),),
    )
    inputs["clusters"] = [*inputs["clusters"], journal]
    inputs["classifications"] = {
        **inputs["classifications"],
        journal.paper.key: Classification("generalization", relevance=0.7),
    }
    digest = dg.build_digest(**inputs)
    markdown = dg.render_markdown(digest)
    # in the block, after the category, as arXiv lists it; the version is the newest known
    assert (
        "Arthur Jacot, Franck Gabriel, Clément Hongler · 2026-11-17 · cs.LG · arXiv:1806.07572v1 · "
        "[PDF](https://arxiv.org/pdf/1806.07572) · `new`"
    ) in markdown
    # one-line entries: Updated (a revision: its new version) and the appendix
    assert (
        "`updated v3` · arXiv:2106.10165v3 · [PDF](https://arxiv.org/pdf/2106.10165) — updated to v3"
        in markdown
    )
    assert "· `new` · arXiv:1912.02292v1 · [PDF](https://arxiv.org/pdf/1912.02292) — Preetum" in markdown
    # no arXiv id: the DOI, linked
    assert (
        "Mikhail Belkin, Daniel Hsu, Siyuan Ma et al. · [doi:10.1073/pnas.1903070116](https://doi.org/10.1073/pnas.1903070116)"
        in markdown
    )
    html = dg.render_html(markdown)
    assert re.search(r'<a [^>]*href="https://arxiv.org/pdf/1806.07572"[^>]*>PDF</a>', html)
    # a DOI holding "#" (older ACM ones do) is quoted, or its link would stop at the "#"
    odd = dataclasses.replace(journal, paper=dataclasses.replace(journal.paper, doi="10.1145/3#42"))
    odd_inputs = {**inputs, "clusters": [*inputs["clusters"][:-1], odd]}
    assert "(https://doi.org/10.1145/3%2342)" in dg.render_markdown(dg.build_digest(**odd_inputs))
    # a shortened email keeps the id and leaves the PDF link to the attached file
    short = dg.render_markdown(digest, shortened=dg.Shortened(f"{WEEK}.md", one_line=True))
    assert "· `new` · `cross-listed` · arXiv:1806.07572v1 — Arthur Jacot" in short
    assert "arxiv.org/pdf/" not in short
    # Arabic keeps the id left to right
    arabic = dg.render_markdown(digest, _zh_edition(digest, "ar"))
    assert "\u2066arXiv:1806.07572v1\u2069 · [PDF](https://arxiv.org/pdf/1806.07572)" in arabic
    assert dg.render_markdown(dg.build_digest(**inputs)) == markdown


def test_markdown_is_byte_identical_whatever_the_input_order() -> None:
    first = dg.render_markdown(sample_digest())
    assert dg.render_markdown(sample_digest()) == first
    inputs = sample_inputs()
    shuffled = random.Random(7)
    for key in ("clusters", "posts", "reports", "announcement_days"):
        items = list(inputs[key])
        shuffled.shuffle(items)
        inputs[key] = items
    inputs["classifications"] = dict(reversed(list(inputs["classifications"].items())))
    assert dg.render_markdown(dg.build_digest(**inputs)) == first


def test_hostile_title_does_not_break_the_table_of_contents_or_headings() -> None:
    html = dg.render_html(dg.render_markdown(sample_digest()))
    heading = re.search(
        r"<h3[^>]*><a [^>]*href=\"https://arxiv.org/abs/2201.02177\"[^>]*>(.*?)</a></h3>", html
    )
    assert heading is not None
    assert "&lt;script&gt;" in heading.group(1) and "*Generalization*" in heading.group(1)
    assert "Beyond_ Overfitting [on] Small Datasets" in heading.group(1)


class _Tags(HTMLParser):
    """Every real tag with its attributes (escaped text like `&lt;script&gt;` is not a tag)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _squeeze(css: str) -> str:
    return re.sub(r"\s+", "", css)


def assert_inert(html: str) -> None:
    """No script/img/iframe/style tag from content, no on* handler, no non-web link, styles only ours."""
    ours = dg.email_styles()
    for tag, attrs in _Tags(html).tags:
        assert tag not in ("script", "img", "iframe", "object", "embed", "form", "input", "link"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action"):
            if name in attrs:
                assert re.match(r"^(https?:|mailto:|#)", attrs[name]), (tag, attrs)
        if "style" in attrs and tag not in ("body", "div"):
            assert _squeeze(attrs["style"]) == _squeeze(ours[tag]), (tag, attrs["style"])


def test_html_is_inert() -> None:
    html = dg.render_html(dg.render_markdown(sample_digest()))
    assert_inert(html)
    assert "&lt;script&gt;alert(" in html  # shown as text, not run
    assert "tracker.example" not in "".join(str(attrs) for _, attrs in _Tags(html).tags)


def test_html_sanitizer_strips_raw_html_in_markdown() -> None:
    markdown = (
        '<div style="position:fixed" onclick="x()">a</div>\n\n'
        '<img src="https://tracker.example/p.gif">\n\n'
        '[x](javascript:alert(1)) <a href="javascript:alert(2)">y</a> <script>alert(3)</script>\n\n'
        '<span style="font-size:99px">big</span>\n'
    )
    html = dg.render_html(markdown)
    assert_inert(html)
    body = html.split("<body", 1)[1]
    assert "position:fixed" not in body and "99px" not in body and "onclick" not in body
    assert (
        "<img" not in body
        and "tracker.example" not in body
        and "<script" not in body
        and "alert(3)" not in body
    )
    assert "javascript:" not in body.replace("[x](javascript:alert(1))", "")


def test_html_has_inline_styles_anchors_and_direction() -> None:
    html = dg.render_html(dg.render_markdown(sample_digest()))
    assert '<html lang="en" dir="ltr">' in html
    assert re.search(r'<h2 style="[^"]+" dir="ltr" id="optimization-and-implicit-bias-1">', html)
    assert 'href="#optimization-and-implicit-bias-1"' in html
    assert re.search(r'<table style="[^"]*border-collapse:collapse', html)
    styles = {tag: attrs.get("style", "") for tag, attrs in _Tags(html).tags}
    assert styles["body"].endswith("font-size: 15px; line-height: 1.55")  # quoted font names did not cut it
    assert _squeeze(styles["code"]) == _squeeze(dg.email_styles()["code"])
    assert "O(1/√n)" in html and "\\sqrt" not in html  # a formula reads as text
    arabic = dg.render_html("مرحبا", language="ar")
    assert '<html lang="ar" dir="rtl">' in arabic


def test_html_has_dark_colours_for_every_light_colour() -> None:
    html = dg.render_html(dg.render_markdown(sample_digest()))
    assert '<meta name="color-scheme" content="light dark">' in html
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    dark_css = style.split("@media (prefers-color-scheme: dark) {", 1)[1]
    dark = {
        selector.strip(): {d.split(":")[0].strip(): d.split(":", 1)[1].strip() for d in body.split(";")}
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", dark_css)
    }
    # a light text colour, background or border left without its dark one would be dark on dark
    # (or a white box on a dark page); each dark one beats the inlined light one
    for selector, declarations in dg.email_styles().items():
        for declaration in declarations.split("; "):
            prop, value = (part.strip() for part in declaration.split(":", 1))
            if prop in ("color", "background") or ("#" in value and prop.startswith("border")):
                overrides = dark.get(selector, {})
                assert any(p == prop or p.startswith(f"{prop}-") for p in overrides), (selector, prop)
                assert all(v.endswith("!important") for v in overrides.values()), (selector, overrides)


# --- per-reader editions ------------------------------------------------------------------------


def _ids(digest: Digest) -> list[str]:
    return [p.paper.arxiv_id or "" for s in digest.sections for p in s.papers]


def test_reader_directions() -> None:
    digest = sample_digest()
    only = dg.filter_for_reader(digest, Reader(email="a@example.org", include_directions=("kernels",)))
    assert _ids(only) == ["1806.07572"] and dict(only.counts)["papers"] == 1
    assert only.generated_for == "a@example.org"
    without = dg.filter_for_reader(
        digest, Reader(email="a@example.org", exclude_directions=("generalization",))
    )
    assert _ids(without) == ["1810.02054", "1806.07572"]
    assert without.updated == digest.updated  # "other" was not excluded


def _with_scores() -> Digest:
    inputs = sample_inputs()
    gd = next(c for c in inputs["clusters"] if c.paper.arxiv_id == "1810.02054")
    scores = (("optimization", 0.8), ("kernels", 0.5), ("generalization", 0.36), ("landscape", 0.3))
    inputs["classifications"][gd.paper.key] = Classification("optimization", scores, relevance=0.88)
    return dg.build_digest(**inputs)


def test_a_paper_is_also_listed_under_its_other_strong_directions() -> None:
    digest = _with_scores()
    entries = {p.paper.arxiv_id: p for p in dg.all_entries(digest)}
    assert dg.also_directions(entries["1810.02054"]) == ("kernels", "generalization")  # 0.3 < 0.35
    assert dg.also_directions(entries["1806.07572"]) == ()  # no other scores
    markdown = dg.render_markdown(digest)
    assert "also in: Neural tangent kernel and infinite width; Generalization" in markdown
    # direction names hold commas: the list separator must not be one
    comma = dataclasses.replace(
        digest,
        directions=tuple(
            (d, "Overparameterization, NTK and infinite width" if d == "kernels" else n)
            for d, n in digest.directions
        ),
    )
    assert "also in: Overparameterization, NTK and infinite width; Generalization" in dg.render_markdown(
        comma
    )
    assert dict(digest.directions)["kernels"] == "Neural tangent kernel and infinite width"
    # a reader of a secondary direction gets the paper, under its own direction
    kernels = dg.filter_for_reader(digest, Reader(email="a@example.org", include_directions=("kernels",)))
    assert _ids(kernels) == ["1810.02054", "1806.07572"]
    # excluding a direction drops only the papers filed under it
    no_kernels = dg.filter_for_reader(digest, Reader(email="a@example.org", exclude_directions=("kernels",)))
    assert "1810.02054" in _ids(no_kernels) and "1806.07572" not in _ids(no_kernels)
    # a zh edition names the other direction in Chinese
    edition = dg.Edition(language="zh", translations={t: f"译:{t}" for t in dg.translatable_texts(digest)})
    assert "亦属: 译:Neural tangent kernel and infinite width；译:Generalization" in dg.render_markdown(
        digest, edition
    )


def test_reader_keywords_and_negative_keywords() -> None:
    digest = sample_digest()
    kernel = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("kernel",)))
    assert _ids(kernel) == ["1806.07572"]
    assert dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("kern",))).sections == ()
    no_relu = dg.filter_for_reader(
        digest, Reader(email="a@example.org", negative_keywords=("relu", "GROKKING"))
    )
    assert "1810.02054" not in _ids(no_relu) and "2201.02177" not in _ids(no_relu)
    assert not no_relu.sections[0].posts if no_relu.sections else True
    by_author = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("Moritz Hardt",)))
    assert _ids(by_author) == ["1611.03530"]


def test_reader_keywords_match_across_hyphens_and_in_the_original_language() -> None:
    digest = sample_digest()
    # 'over-parameterized' in the title, written apart by the reader
    spaced = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("overparameterized neural network",))
    )
    assert _ids(spaced) == ["1810.02054"]
    # a Chinese keyword finds the paper whose original title holds it
    chinese = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("正切核",)))
    assert _ids(chinese) == ["1806.07572"]


def test_reader_min_relevance() -> None:
    digest = sample_digest()
    strict = dg.filter_for_reader(digest, Reader(email="a@example.org", min_relevance=0.85))
    assert _ids(strict) == ["1810.02054", "1806.07572"]
    assert strict.below_threshold == () and strict.updated == ()


# --- authors a reader follows -------------------------------------------------------------------


def _marks(digest: Digest) -> dict[str, tuple[str, ...]]:
    return {p.paper.arxiv_id or "": followed_in(p) for p in dg.all_entries(digest) if followed_in(p)}


def test_a_followed_authors_paper_passes_every_filter_and_is_marked() -> None:
    digest = sample_digest()
    # Du et al. is filed under optimization, under 0.95 and holds "gradient descent"
    reader = Reader(
        email="a@example.org",
        include_directions=("kernels",),
        negative_keywords=("gradient descent",),
        min_relevance=0.95,
        authors=("Du, Simon S.",),
    )
    edition = dg.filter_for_reader(digest, reader)
    assert _ids(edition) == ["1810.02054"]  # the kernels paper is under 0.95; Du's paper stays
    assert _marks(edition) == {"1810.02054": ("Simon S. Du",)}
    assert edition.sections[0].papers[0].badges[0] == "followed:Simon S. Du"
    # the post discussing it comes with it
    assert "https://www.offconvex.org/2026/11/18/gd-global/" in [p.url for p in edition.sections[0].posts]
    assert dict(edition.counts)["papers"] == 1 and edition.unmatched_filters is None


def test_authors_add_to_keywords_and_never_take_away() -> None:
    digest = sample_digest()
    by_keyword = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("kernel",)))
    both = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("kernel",), authors=("M. Hardt",))
    )
    assert _ids(by_keyword) == ["1806.07572"]
    assert _ids(both) == ["1611.03530", "1806.07572"]  # a keyword's paper OR a followed author's
    assert _marks(both) == {"1611.03530": ("Moritz Hardt",)}
    # authors and no keywords: everything the directions give, the followed papers marked
    everything = dg.filter_for_reader(digest, Reader(email="a@example.org", authors=("Arthur Jacot",)))
    assert _ids(everything) == _ids(digest)
    assert _marks(everything) == {"1806.07572": ("Arthur Jacot",)}
    # the paper of a namesake is not marked, nor let through by the name
    namesake = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("kernel",), authors=("Yoshua Bengio",))
    )
    assert _ids(namesake) == ["1806.07572"] and _marks(namesake) == {}


def test_a_followed_authors_paper_under_the_weeks_threshold_moves_into_its_direction() -> None:
    digest = sample_digest()
    assert [p.paper.arxiv_id for p in digest.below_threshold] == ["1912.02292"]  # relevance 0.12
    edition = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("kernel",), authors=("B. Barak",))
    )
    assert [s.direction_id for s in edition.sections] == ["generalization", "kernels"]  # taxonomy order
    assert _ids(edition) == ["1912.02292", "1806.07572"]
    assert edition.below_threshold == ()
    counts = dict(edition.counts)
    assert counts["papers"] == 2 and counts["below_threshold"] == 0 and counts["directions"] == 2
    # into a direction the edition already shows, in its order there (by relevance)
    all_of_it = dg.filter_for_reader(digest, Reader(email="a@example.org", authors=("Boaz Barak",)))
    generalization = next(s for s in all_of_it.sections if s.direction_id == "generalization")
    assert [p.paper.arxiv_id for p in generalization.papers] == ["1611.03530", "2201.02177", "1912.02292"]
    # another reader's edition of the same digest is untouched
    assert [
        p.paper.arxiv_id for p in dg.filter_for_reader(digest, Reader(email="b@example.org")).below_threshold
    ] == ["1912.02292"]


def test_the_mark_shows_who_in_every_language_markdown_and_html() -> None:
    digest = sample_digest()
    # Boaz Barak is the fifth author: "et al." hides him in the author line, the mark does not
    reader = Reader(email="a@example.org", keywords=("kernel",), authors=("Boaz Barak", "Boris Hanin"))
    edition = dg.filter_for_reader(digest, reader)
    markdown = dg.render_markdown(edition)
    barak = next(line for line in markdown.splitlines() if "arXiv:1912.02292" in line)
    assert "et al." in barak and "`★ followed: Boaz Barak`" in barak
    # a one-line entry (updated) carries it too
    hanin = next(line for line in markdown.splitlines() if "arXiv:2106.10165" in line)
    assert "`★ followed: Boris Hanin`" in hanin
    html = dg.render_html(markdown)
    assert re.search(r"<code[^>]*>★ followed: Boaz Barak</code>", html)
    assert "followed:" not in dg.render_markdown(digest)  # the shared digest has no marks
    texts = dg.translatable_texts(edition)
    zh = dg.render_markdown(edition, dg.Edition(language="zh", translations={t: f"译:{t}" for t in texts}))
    assert "`★ 关注的作者：Boaz Barak`" in zh
    ar = dg.render_markdown(edition, dg.Edition(language="ar", translations={t: f"ت:{t}" for t in texts}))
    # the Latin name isolated in the right-to-left line
    assert "`★ مؤلف تتابعه: \u2068Boaz Barak\u2069`" in ar


def test_a_followed_authors_blog_post_is_kept_and_marked() -> None:
    inputs = sample_inputs()
    essay = Item(
        source_id="offconvex",
        kind=ItemKind.POST,
        title="Is Optimization a Sufficient Language for Understanding Deep Learning?",
        url="https://www.offconvex.org/2019/06/03/trajectories/",
        lang="en",
        authors=("Sanjeev Arora",),
        published=dt.datetime(2026, 11, 18, 9, tzinfo=UTC),
    )
    inputs["posts"] = [*inputs["posts"], essay]
    # scored off-topic: the shared digest keeps it in the appendix
    inputs["post_classifications"] = {post_id(essay): Classification("other", relevance=0.1)}
    digest = dg.build_digest(**inputs)
    assert [p.url for p, _ in digest.posts_below_threshold] == [essay.url]
    plain = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("kernel",)))
    assert essay.url not in [p.url for p in plain.posts] + [p.url for p, _ in plain.posts_below_threshold]
    follower = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("kernel",), authors=("S. Arora",))
    )
    assert essay.url in [p.url for p in follower.posts] and follower.posts_below_threshold == ()
    assert dict(follower.counts)["posts"] == len(follower.posts)
    line = next(line for line in dg.render_markdown(follower).splitlines() if essay.url in line)
    assert line.endswith("`★ followed: Sanjeev Arora`")


def test_a_stored_editions_marks_are_the_readers_own() -> None:
    """Filtering an edition again (a stored one) for another reader drops the first one's marks."""
    digest = sample_digest()
    first = dg.filter_for_reader(digest, Reader(email="a@example.org", authors=("Arthur Jacot",)))
    again = dg.filter_for_reader(
        dg.digest_from_json(dg.digest_to_json(first)), Reader(email="b@example.org", authors=("Sho Yaida",))
    )
    assert _marks(again) == {"2106.10165": ("Sho Yaida",)}


def test_translated_edition_keeps_english_titles() -> None:
    digest = sample_digest()
    texts = dg.translatable_texts(digest)
    translations = {t: f"译:{t}" for t in texts}
    edition = dg.Edition(language="zh", translations=translations, model="argos en→zh 1.9")
    markdown = dg.render_markdown(digest, edition)
    assert markdown.startswith("# 深度学习理论周报 2026-W47")
    assert "### [Gradient Descent Provably Optimizes Over-parameterized Neural Networks]" in markdown
    assert "**标题:** 译:Gradient Descent Provably Optimizes" in markdown
    # a title first seen in Chinese is shown as it was written, not machine-translated back
    assert "**标题:** 神经正切核：收敛与泛化" in markdown
    assert "由英文机器翻译，模型 argos en→zh 1.9" in markdown
    assert "`更新 v3`" in markdown
    assert dg.subject_for(digest, edition) == "深度学习理论周报 2026-W47：4 篇论文，1 篇更新"
    # one-line entries (Updated, the appendix, a shortened email) show the translation too
    assert (
        "- [The Principles of Deep Learning Theory](https://arxiv.org/abs/2106.10165)"
        " · *译:The Principles of Deep Learning Theory* · 2021-06-18（v3：2026-11-18） · `更新 v3` · "
        "arXiv:2106.10165v3 · "
        "[PDF](https://arxiv.org/pdf/2106.10165) — 更新至 v3（2026-W45 时为 v2）；"
        "新近在 [Zhihu (zh)](https://zhuanlan.zhihu.com/p/400000001) 上被讨论\n" in markdown
    )
    assert "(https://arxiv.org/abs/1912.02292) · *译:Deep Double Descent: Where Bigger" in markdown
    short = dg.render_markdown(digest, edition, shortened=dg.Shortened(f"{WEEK}.md", one_line=True))
    assert "(https://arxiv.org/abs/1806.07572) · *神经正切核：收敛与泛化* · 2026-11-17 · `新`" in short
    # an English edition adds nothing
    english = dg.render_markdown(digest, shortened=dg.Shortened(f"{WEEK}.md", one_line=True))
    assert "(https://arxiv.org/abs/1806.07572) · 2026-11-17 · `new`" in english


def test_untranslated_edition_says_so_in_english() -> None:
    edition = dg.Edition(language="ar", note="ar edition requested; no en→ar model; sent in English")
    markdown = dg.render_markdown(sample_digest(), edition)
    assert markdown.startswith("# Deep-learning theory digest")
    assert "ar edition requested; no en→ar model; sent in English" in markdown


def test_digest_json_round_trip() -> None:
    digest = sample_digest()
    again = dg.digest_from_json(dg.digest_to_json(digest))
    assert again == digest
    assert dg.digest_from_json(json.loads(dg.digest_to_json(digest))) == digest  # as a JSON column holds it
    assert dg.render_markdown(again) == dg.render_markdown(digest)


def test_filtering_does_not_touch_the_original() -> None:
    digest = sample_digest()
    copy = dataclasses.replace(digest)
    dg.filter_for_reader(digest, Reader(email="a@example.org", include_directions=("kernels",)))
    assert digest == copy


def test_markdown_is_identical_across_processes() -> None:
    """Set and dict order must not leak into the file: two interpreters with different hash seeds agree."""
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]); from tests.digest.test_build import sample_digest; "
        "from dltheory_digest import digest as dg; "
        "print(hashlib.sha256(dg.render_markdown(sample_digest()).encode()).hexdigest())"
    )
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(root)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
    assert digests == {hashlib.sha256(dg.render_markdown(sample_digest()).encode()).hexdigest()}


# --- cross-language reading, sightings, unconfirmed mentions, counts ------------------------------

ZHIHU_POST_URL = "https://zhuanlan.zhihu.com/p/1973625480917305344"
NOTES_PAGE = "https://notes.example.org/Theory+of+deep+learning"


def _zhihu_mention(arxiv_id: str, text: str, text_en: str | None) -> Item:
    """A reading-list line of a Zhihu article, as the pipeline sees it (the article's URL, localized)."""
    return Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        url=ZHIHU_POST_URL,
        arxiv_id=arxiv_id,
        lang="zh",
        text=text,
        text_en=text_en,
        translated_by="argos zh→en 1.9" if text_en else None,
    )


def _cross_language_inputs(*, translated: bool) -> dict:
    """NTK seen on arXiv, on a notes page that links its PDF, and in a Zhihu reading list that comments on it."""
    ntk_paper = _paper(
        "1806.07572",
        "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        ["Arthur Jacot", "Franck Gabriel", "Clément Hongler"],
        ["cs.LG"],
        "In the infinite-width limit, training follows a kernel method. The kernel stays constant.",
    )
    comment = "NTK 的开山之作：宽度趋于无穷时，网络函数沿一个固定的核演化。结论至今有争议。"
    comment_en = (
        "The founding NTK paper: at infinite width the network follows a fixed kernel. Still disputed."
    )
    mention = _zhihu_mention("1806.07572", comment, comment_en if translated else None)
    notes = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title="Neural Tangent Kernel",
        url="https://arxiv.org/pdf/1806.07572.pdf",
        arxiv_id="1806.07572",
        lang="en",
    )
    cluster = PaperCluster(
        paper=ntk_paper,
        sightings=(
            _arxiv("1806.07572"),
            Sighting("notes", "notes", notes.url, "en", kind=ItemKind.MENTION),
            Sighting(
                "zhihu",
                "zhihu",
                ZHIHU_POST_URL,
                "zh",
                kind=ItemKind.MENTION,
                commentary=mention.text_en or mention.text,
            ),
        ),
        versions=(1,),
        item_keys=("arxiv-cs-lg|arxiv:1806.07572", f"notes|{notes.key}", f"zhihu|{mention.key}"),
    )
    [cluster] = dg.with_item_texts([cluster], [mention, notes])
    flat = PaperCluster(
        paper=Paper(key="title:flat minima", title="FLAT MINIMA"),
        sightings=(
            Sighting(
                "notes",
                "notes",
                None,
                "en",
                kind=ItemKind.MENTION,
                commentary="flat regions around a minimizer are said to generalize better than sharp ones",
            ),
        ),
    )
    post = Item(
        source_id="zhihu",
        kind=ItemKind.POST,
        title="深度学习理论阅读清单（2026 秋季更新）",
        url=ZHIHU_POST_URL,
        lang="zh",
        title_en="Deep learning theory reading list (autumn 2026 update)" if translated else None,
        published=dt.datetime(2026, 11, 18, tzinfo=UTC),
        cited=(mention,),
    )
    low = PaperCluster(
        paper=_paper("1706.03762", "Attention Is All You Need", ["Ashish Vaswani"], ["cs.CL"], "x.")
    )
    return {
        **sample_inputs(),
        "clusters": [cluster, flat, low],
        "classifications": {
            cluster.paper.key: Classification("kernels", relevance=0.9),
            flat.paper.key: Classification("optimization", relevance=0.8),
            low.paper.key: Classification("other", relevance=0.1),
        },
        "updated": [],
        "emerging": [[flat.paper.key, cluster.paper.key]],
        "posts": [post],
        "reports": [],
        "source_names": {"arxiv-cs-lg": "arXiv", "notes": "Notes · Theory of deep learning", "zhihu": "知乎"},
        "source_langs": {"arxiv-cs-lg": "en", "notes": "en", "zhihu": "zh"},
        "source_pages": {"notes": NOTES_PAGE, "zhihu": "https://zhuanlan.zhihu.com/p/1"},
    }


def test_a_translated_post_shows_its_english_title_linked_and_the_original_after_it() -> None:
    markdown = dg.render_markdown(dg.build_digest(**_cross_language_inputs(translated=True)))
    line = f"- [Deep learning theory reading list (autumn 2026 update)]({ZHIHU_POST_URL}) · *深度学习理论阅读清单（2026 秋季更新）* — 知乎 · 2026-11-18 · zh"
    assert line in markdown
    # no line anywhere links the Chinese title alone
    assert f"[深度学习理论阅读清单（2026 秋季更新）]({ZHIHU_POST_URL})" not in markdown


def test_an_untranslated_post_keeps_its_original_title_and_the_note_says_why() -> None:
    inputs = _cross_language_inputs(translated=False)
    inputs["notes"] = [
        Note(
            NoteKind.UNTRANSLATED,
            "untranslated: no zh→en model (run `dltheory-digest models install zh`)",
            lang="zh",
        )
    ]
    markdown = dg.render_markdown(dg.build_digest(**inputs))
    assert f"- [深度学习理论阅读清单（2026 秋季更新）]({ZHIHU_POST_URL}) — 知乎 · 2026-11-18 · zh" in markdown
    assert "- untranslated: no zh→en model (run `dltheory-digest models install zh`)" in markdown


def test_community_commentary_is_shown_next_to_the_arxiv_abstract() -> None:
    digest = dg.build_digest(**_cross_language_inputs(translated=True))
    [ntk] = digest.sections[0].papers
    assert ntk.summary.startswith("In the infinite-width limit")  # the abstract stays the summary
    [zhihu] = [s for s in ntk.sightings if s.source_id == "zhihu"]
    assert zhihu.commentary_original.startswith("NTK 的开山之作") and zhihu.commentary_lang == "zh"
    assert zhihu.translated_by == "argos zh→en 1.9"
    markdown = dg.render_markdown(digest)
    # its first sentences (a curator's verdict follows the description), in English, then as written
    assert (
        "*知乎 (zh):* The founding NTK paper: at infinite width the network follows a fixed kernel."
        " Still disputed. · *original:* NTK 的开山之作：宽度趋于无穷时，网络函数沿一个固定的核演化。结论至今有争议。"
    ) in markdown


def test_untranslated_commentary_is_shown_as_written_with_its_language() -> None:
    markdown = dg.render_markdown(dg.build_digest(**_cross_language_inputs(translated=False)))
    # its "(zh)" says what it is; the notes say once that it could not be translated
    assert (
        "*知乎 (zh):* NTK 的开山之作：宽度趋于无穷时，网络函数沿一个固定的核演化。结论至今有争议。\n"
        in markdown
    )
    assert "not translated" not in markdown


def test_with_item_texts_takes_an_arabic_abstract_of_a_paper_page_as_commentary() -> None:
    page = Item(
        source_id="shamra",
        kind=ItemKind.PAPER,
        title="The Modern Mathematics of Deep Learning",
        url="https://shamra-academia.com/show/3a4f6c1d92e0b7",
        lang="ar",
        text="ورقة مراجعة تقدّم مدخلاً إلى التحليل الرياضي للتعلّم العميق. جملة ثانية.",
        text_en="A review paper introducing the mathematical analysis of deep learning. A second sentence.",
        translated_by="argos ar→en 1.0",
    )
    english = Item(
        "shamra",
        ItemKind.MENTION,
        "Deep Neural Networks as Gaussian Processes",
        url="u",
        text="An English abstract.",
    )
    cluster = PaperCluster(
        paper=Paper(key="arxiv:2105.04026", title=page.title, arxiv_id="2105.04026", abstract="An abstract."),
        sightings=(
            Sighting("shamra", "Shamra", page.url, "ar", kind=ItemKind.PAPER),
            Sighting("shamra", "Shamra", "u", "en", kind=ItemKind.MENTION, commentary="An English abstract."),
        ),
        item_keys=(f"shamra|{page.key}", f"shamra|{english.key}"),
    )
    [out] = dg.with_item_texts([cluster], [page, english])
    arabic, mention = out.sightings
    assert arabic.commentary == page.text_en and arabic.commentary_original == page.text
    assert (arabic.commentary_lang, arabic.translated_by) == ("ar", "argos ar→en 1.0")
    assert mention == cluster.sightings[1]  # English text is no community commentary: unchanged
    # items of other clusters never leak in
    assert dg.with_item_texts([dataclasses.replace(cluster, item_keys=())], [page])[0] == dataclasses.replace(
        cluster, item_keys=()
    )


def test_seen_in_links_the_page_it_was_seen_on_not_the_paper_again() -> None:
    digest = dg.build_digest(**_cross_language_inputs(translated=True))
    [ntk] = digest.sections[0].papers
    by_source = {s.source_id: s for s in ntk.sightings}
    assert by_source["arxiv-cs-lg"].url is None  # the title already links the abstract
    assert by_source["notes"].url == NOTES_PAGE  # the notes page linked the PDF: link the notes page
    assert by_source["zhihu"].url == ZHIHU_POST_URL  # the article it was seen in
    markdown = dg.render_markdown(digest)
    assert (
        f"Seen in: arXiv | [Notes · Theory of deep learning]({NOTES_PAGE}) | [知乎]({ZHIHU_POST_URL}) (zh)"
        in markdown
    )
    assert "(https://arxiv.org/pdf/1806.07572.pdf)" not in markdown


def test_a_source_declaring_a_language_tags_all_its_sightings() -> None:
    english_summary = PaperCluster(
        paper=_paper(
            "2012.10931", "Recent advances in deep learning theory", ["Fengxiang He"], ["cs.LG"], "A survey."
        ),
        sightings=(Sighting("shamra", "Shamra", "https://shamra-academia.com/show/3a4f6b90c81d25", "en"),),
    )
    inputs = {**_cross_language_inputs(translated=True), "clusters": [english_summary], "emerging": []}
    inputs["classifications"] = {english_summary.paper.key: Classification("kernels", relevance=0.9)}
    inputs["source_langs"] = {"shamra": "ar"}
    markdown = dg.render_markdown(dg.build_digest(**inputs))
    assert "Seen in: [Shamra](https://shamra-academia.com/show/3a4f6b90c81d25) (ar)" in markdown


def test_a_bare_title_is_an_unconfirmed_mention_not_a_paper() -> None:
    digest = dg.build_digest(**_cross_language_inputs(translated=True))
    counts = dict(digest.counts)
    assert counts["papers"] == 1 and counts["unconfirmed"] == 1 and counts["below_threshold"] == 1
    assert [p.paper.title for p in digest.unconfirmed] == ["FLAT MINIMA"]
    assert all(p.paper.title != "FLAT MINIMA" for p in dg.all_entries(digest) if p not in digest.unconfirmed)
    # not in a group either: and its group, one paper without it, is no group at all
    assert digest.emerging == ()
    markdown = dg.render_markdown(digest)
    assert "### FLAT MINIMA" not in markdown
    assert "## Unconfirmed mentions (1)" in markdown
    assert "- [Unconfirmed mentions (1)](#unconfirmed-mentions-1)" in markdown
    assert (
        "- **Flat Minima** — flat regions around a minimizer are said to generalize better than sharp ones"
        f" — Seen in: [Notes · Theory of deep learning]({NOTES_PAGE})"
    ) in markdown
    # the header counts papers, says what the appendix holds, and counts the mention apart
    assert (
        "**1** paper (+1 below the relevance threshold) · **1** direction · **1** post or article"
        " · **1** unconfirmed mention  \n"
    ) in markdown
    assert dg.subject_for(digest) == "DL theory digest 2026-W47: 1 paper"
    assert dg.subject_for(sample_digest()) == "DL theory digest 2026-W47: 4 papers, 1 updated"
    # a week of updates and talks only does not read as empty
    quiet = dataclasses.replace(sample_digest(), counts=(("papers", 0), ("updated", 2), ("resources", 1)))
    assert dg.subject_for(quiet) == "DL theory digest 2026-W47: 0 papers, 2 updated, 1 talk or course"
    # a reader's edition filters the mentions like papers
    strict = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("kernel",)))
    assert strict.unconfirmed == () and dict(strict.counts)["unconfirmed"] == 0


def test_a_title_with_its_own_link_or_authors_is_a_paper() -> None:
    inputs = _cross_language_inputs(translated=True)
    linked = PaperCluster(
        paper=Paper(key="title:flat minima", title="Flat Minima", url="https://example.org/flat-minima.pdf"),
        sightings=(
            Sighting("notes", "notes", "https://example.org/flat-minima.pdf", "en", kind=ItemKind.MENTION),
        ),
    )
    cited_in_post = PaperCluster(
        paper=Paper(key="title:a title", title="A Title", url=ZHIHU_POST_URL),  # only the post's own URL
        sightings=(Sighting("zhihu", "zhihu", ZHIHU_POST_URL, "zh", kind=ItemKind.MENTION),),
    )
    inputs["clusters"] = [linked, cited_in_post]
    inputs["classifications"] = {"title:flat minima": Classification("optimization", relevance=0.9)}
    inputs["emerging"] = []
    digest = dg.build_digest(**inputs)
    assert [p.paper.title for p in digest.sections[0].papers] == ["Flat Minima"]
    assert [p.paper.title for p in digest.unconfirmed] == ["A Title"]


def test_source_report_has_a_status_column_without_repeating_the_source() -> None:
    inputs = {
        **sample_inputs(),
        "reports": [
            SourceReport("dead-blog", "feed", error="[dead-blog] ConnectError: connection refused"),
            SourceReport("gone", "feed", fetched=1, error="[gone] HTTP 404 for https://example.org/feed"),
        ],
    }
    markdown = dg.render_markdown(dg.build_digest(**inputs))
    # the status comes second, so a phone shows it without scrolling the table sideways
    assert "| Source | Status | Kind | Fetched | Parsed | New | Unresolved | Warnings |" in markdown
    assert (
        "| dead-blog | **failed:** ConnectError: connection refused | feed | — | — | — | — | 0 |" in markdown
    )
    assert (
        "| gone | **failed:** HTTP 404 for https://example.org/feed | feed | 1 | 0 | 0 | 0 | 0 |" in markdown
    )


RUN_NOTES = (
    Note(
        NoteKind.UNTRANSLATED,
        "untranslated: no ar→en model (run `dltheory-digest models install ar`)",
        lang="ar",
    ),
    Note(
        NoteKind.DISCARDED,
        "discarded: the output of translate-zh_en-1_9 was unusable (runaway); kept the original",
        lang="zh",
    ),
    Note(NoteKind.ARXIV_LOOKUP, "arXiv lookup: id_list of 3 id(s) failed: HTTP 503"),
    Note(
        NoteKind.MISSED_WEEKS,
        "No digest was made for 2026-W45, 2026-W46 (no run); papers from then that the sources could "
        "still fetch are in this one",
        weeks=("2026-W45", "2026-W46"),
    ),
    Note(NoteKind.OTHER, "cache at /var/lib/dltheory/cache.sqlite was rebuilt"),
)


def test_a_reader_gets_the_run_notes_in_their_language_without_the_operators_commands() -> None:
    english = dg.reader_notes(RUN_NOTES)
    assert english == [
        "Some texts are shown as their sources wrote them: this week they could not be translated.",
        "arXiv could not be asked about some papers this week; their details may be incomplete.",
        "No digest was made for 2026-W45, 2026-W46; the papers from then that the sources still list "
        "are in this one.",
    ]  # one line for both untranslated notes; a note about the cache path is not the reader's
    # a zh reader reads the Chinese texts as written: only the Arabic ones are untranslated
    zh = dg.reader_notes(RUN_NOTES, dg.Edition(language="zh", translations={"a": "b"}))
    assert zh[0] == dg.labels_for("zh")["note_untranslated"] and "2026-W45、2026-W46" in zh[2]
    assert dg.reader_notes(RUN_NOTES[1:2], dg.Edition(language="zh")) == []
    # an Arabic reader of an edition that fell back to English still gets their own language
    ar = dg.reader_notes(RUN_NOTES, dg.Edition(language="ar", note=dg.labels_for("ar")["untranslated"]))
    assert ar[0] == dg.labels_for("ar")["note_untranslated"]  # the zh→en note; ar→en is theirs
    assert "\u20662026-W45\u2069" in ar[2]
    assert not any("models install" in n or "/var/lib" in n for n in english + zh + ar)


def test_the_operators_file_keeps_notes_and_errors_and_the_readers_copy_does_not() -> None:
    inputs = {
        **sample_inputs(),
        "notes": list(RUN_NOTES),
        "reports": [
            SourceReport(
                "dead-blog", "feed", error="[dead-blog] OSError: /srv/dltheory/cache/x.db is locked"
            ),
            SourceReport(
                "zhihu", "zhihu", fetched=1, parsed=1, warnings=("selector .RichText matched nothing",)
            ),
        ],
    }
    digest = dg.build_digest(**inputs)
    operator = dg.render_markdown(digest)
    assert "- untranslated: no ar→en model (run `dltheory-digest models install ar`)" in operator
    assert "/srv/dltheory/cache/x.db" in operator and "selector .RichText" in operator
    assert "- cache at /var/lib/dltheory/cache.sqlite was rebuilt" in operator
    reader = dg.render_markdown(digest, for_reader=True)
    assert "models install" not in reader and "/srv/" not in reader and "/var/lib" not in reader
    assert "selector" not in reader
    # which sources were read and which not, by name, instead of the operator's wide table
    assert "| Kind |" not in reader and "## Source report\n\nRead this week (1): Zhihu  \n" in reader
    assert "**Could not be read this week (1):** dead-blog\n" in reader
    assert (
        "- Some texts are shown as their sources wrote them: this week they could not be translated."
        in reader
    )
    # a translated edition says it in the reader's language
    zh = dg.render_markdown(digest, _zh_edition(digest), for_reader=True)
    notes = zh.split("**说明:**", 1)[1]
    assert dg.labels_for("zh")["note_untranslated"] in notes and "untranslated" not in notes
    assert dg.render_markdown(digest, for_reader=True) == reader


def test_a_digest_kept_only_as_markdown_is_mailed_as_a_reader_copy() -> None:
    inputs = {
        **sample_inputs(),
        "notes": list(RUN_NOTES),
        "reports": [
            *sample_inputs()["reports"],
            SourceReport("gone", "feed", fetched=1, error="[gone] HTTP 404 for https://example.org/a|b"),
        ],
    }
    for digest in (dg.build_digest(**inputs), sample_digest()):
        copy = dg.reader_copy(dg.render_markdown(digest))
        assert _sources_unnamed(copy) == _sources_unnamed(dg.render_markdown(digest, for_reader=True))
    # the file keeps no source names: the copy names the sources by id, or by the names
    # sources.yaml gives them (escaped as Markdown), as a stored digest's mail does
    assert "Read this week (2): arxiv-cs-lg | zhihu  \n" in dg.reader_copy(dg.render_markdown(digest))
    names = {"arxiv-cs-lg": "arXiv", "zhihu": "Zhihu *reading* list", "shamra": "Shamra Academia"}
    named = dg.reader_copy(dg.render_markdown(dg.build_digest(**inputs)), names)
    assert "Read this week (2): arXiv | Zhihu \\*reading\\* list  \n" in named
    assert "**Could not be read this week (2):** gone | Shamra Academia\n" in named
    copy = dg.reader_copy(dg.render_markdown(dg.build_digest(**inputs)))
    assert "**Could not be read this week (2):** gone | shamra\n" in copy and "HTTP" not in copy
    # a file written before the status column came second (the status last) reads the same
    table = re.compile(r"^\| ([^|]+) \| ((?:[^|\\]|\\.)+) \| (.*) \|$", re.M)
    older = table.sub(r"| \1 | \3 | \2 |", dg.render_markdown(dg.build_digest(**inputs)))
    assert "| Source | Kind | Fetched |" in older and "| 0 | **failed:**" in older
    assert dg.reader_copy(older) == copy
    # no note a reader needs: the heading goes too
    quiet = dg.build_digest(**{**inputs, "notes": [RUN_NOTES[-1]]})
    copy = dg.reader_copy(dg.render_markdown(quiet))
    assert "**Notes:**" not in copy and "/var/lib" not in copy
    assert _sources_unnamed(copy) == _sources_unnamed(dg.render_markdown(quiet, for_reader=True))


def _sources_unnamed(markdown: str) -> str:
    return re.sub(
        r"^(Read this week|\*\*Could not be read this week) \(\d+\):.*$", r"\1", markdown, flags=re.M
    )


def test_an_edition_note_with_a_command_is_code_in_the_header_as_in_the_footer() -> None:
    note = "untranslated: no en→zh model (run `dltheory-digest models install zh`)"
    markdown = dg.render_markdown(sample_digest(), dg.Edition(language="zh", note=note))
    header = markdown.split("## ", 1)[0]
    assert "(run `dltheory-digest models install zh`)" in header
    assert "\\`" not in markdown


# --- editions read in the reader's language, layout, plain text -----------------------------------


def _zh_edition(digest: Digest, language: str = "zh") -> dg.Edition:
    mark = {"zh": "译", "ar": "مترجم"}[language]
    return dg.Edition(
        language=language, translations={t: f"{mark}:{t}" for t in dg.translatable_texts(digest)}
    )


def test_a_zh_reader_gets_chinese_sources_as_written_not_translated_back() -> None:
    digest = dg.build_digest(**_cross_language_inputs(translated=True))
    markdown = dg.render_markdown(digest, _zh_edition(digest))
    # the Zhihu commentary: the Chinese as written, no zh→en translation, no "原文:"
    assert (
        "\n*知乎 (zh):* NTK 的开山之作：宽度趋于无穷时，网络函数沿一个固定的核演化。结论至今有争议。\n"
        in markdown
    )
    assert "The founding NTK paper" not in markdown and "原文" not in markdown
    # the Zhihu post: its Chinese title is the link, not the English translation
    assert f"- [深度学习理论阅读清单（2026 秋季更新）]({ZHIHU_POST_URL}) — 知乎 · 2026-11-18 · zh" in markdown
    assert "Deep learning theory reading list" not in markdown
    # an English edition keeps the translation first (as before)
    english = dg.render_markdown(digest)
    assert "*知乎 (zh):* The founding NTK paper" in english
    assert f"[Deep learning theory reading list (autumn 2026 update)]({ZHIHU_POST_URL})" in english


def test_an_ar_reader_gets_arabic_commentary_as_written() -> None:
    page = Item(
        source_id="shamra",
        kind=ItemKind.PAPER,
        title="Deep Neural Networks as Gaussian Processes",
        url="https://shamra-academia.com/show/3a4f5e27d6a913",
        lang="ar",
        text="شبكة عميقة عشوائية بطبقات لا نهائية العرض تكافئ عملية غاوسية. جملة ثانية.",
        text_en="A random deep network with infinitely wide layers is a Gaussian process. A second one.",
        translated_by="argos ar→en 1.0",
    )
    cluster = PaperCluster(
        paper=_paper("1711.00165", page.title, ["Jaehoon Lee"], ["stat.ML"], "An abstract sentence here."),
        sightings=(_arxiv("1711.00165"), Sighting("shamra", "Shamra", page.url, "ar")),
        item_keys=(f"shamra|{page.key}",),
    )
    [cluster] = dg.with_item_texts([cluster], [page])
    inputs = {**sample_inputs(), "clusters": [cluster], "updated": [], "emerging": [], "posts": []}
    inputs["classifications"] = {cluster.paper.key: Classification("kernels", relevance=0.9)}
    digest = dg.build_digest(**inputs)
    arabic = dg.render_markdown(digest, _zh_edition(digest, "ar"))
    assert (
        "*Shamra (ar):* شبكة عميقة عشوائية بطبقات لا نهائية العرض تكافئ عملية غاوسية. جملة ثانية." in arabic
    )
    assert "A random deep network" not in arabic
    chinese = dg.render_markdown(digest, _zh_edition(digest, "zh"))  # not the zh reader's language
    # translated into the edition's language (from its English), the Arabic after it
    assert (
        "*Shamra (ar):* 译:A random deep network with infinitely wide layers is a Gaussian process. A second one."
        " · *原文:* \u2068شبكة عميقة عشوائية بطبقات لا نهائية العرض تكافئ عملية غاوسية. جملة ثانية.\u2069"
    ) in chinese


def _html_blocks(html: str) -> list[tuple[str, str, str]]:
    """(tag, dir, inner HTML) of every p/li/h*/summary/td block."""
    return [
        (m.group(1), m.group(2), m.group(3))
        for m in re.finditer(
            r'<(p|li|h[1-4]|summary|td)\b[^>]*?dir="(\w+)"[^>]*>(.*?)</\1>', html, flags=re.DOTALL
        )
    ]


def test_arabic_blocks_are_right_to_left_and_english_lines_are_isolated() -> None:
    digest = sample_digest()
    # titles and direction names translated, summaries left in English (their output was unusable)
    edition = dg.Edition(
        language="ar",
        translations={t: f"مترجم: {t}" for t in dg.translatable_texts(digest) if len(t) < 80},
    )
    html = dg.render_html(dg.render_markdown(digest, edition), language="ar")
    blocks = _html_blocks(html)
    assert blocks and {d for _, d, _ in blocks} == {"rtl"}  # no dir="auto": every block the same way
    # the paper block of 1810.02054: Arabic title line, then English lines each in their own ltr span
    [block] = [inner for tag, _, inner in blocks if tag == "p" and "We show that gradient descent" in inner]
    lines = re.split(r"<br\s*/?>\s*", block)
    assert lines[0].startswith("<strong>العنوان:</strong>")
    # ... each English run with its language: the edition's is Arabic
    assert lines[1].startswith('<span dir="ltr"><span lang="en">Simon S. Du')
    summary = next(line for line in lines if "We show that" in line)
    assert summary.startswith('<span dir="ltr" lang="en">We show that') and summary.endswith(
        "training.</span>"
    )
    assert lines[-1].startswith("المصادر:")  # Arabic line: the block's own direction, no span
    # the table of contents: every entry right-to-left, the English names isolated
    contents = html.split('id="المحتويات"', 1)[1].split("</ul>", 1)[0]
    entries = re.findall(r'<li [^>]*dir="(\w+)"', contents)
    assert entries and set(entries) == {"rtl"}
    # an English edition: left-to-right blocks, an Arabic line isolated the other way
    english = dg.render_html("A line  \nفهم التعلم العميق يتطلب  \nAnother line\n")
    [(_, direction, inner)] = _html_blocks(english)
    assert direction == "ltr" and '<span dir="rtl" lang="ar">فهم التعلم العميق يتطلب</span>' in inner
    assert_inert(html)


def test_a_runaway_title_is_cut_wherever_it_is_shown() -> None:
    inputs = _cross_language_inputs(translated=True)
    [post] = inputs["posts"]
    runaway = "deep learning theory " + "d neural " * 100
    inputs["posts"] = [dataclasses.replace(post, title_en=runaway)]
    markdown = dg.render_markdown(dg.build_digest(**inputs))
    links = re.findall(rf"\[([^\]]*)\]\({re.escape(ZHIHU_POST_URL)}\)", markdown)
    long_links = [text for text in links if text.startswith("deep learning theory")]
    assert long_links and all(len(text) <= dg.TITLE_MAX_CHARS and text.endswith("…") for text in long_links)
    assert runaway.strip() not in markdown
    assert dg.display_title("A short title") == "A short title"


def test_plain_text_has_no_html_tags_and_no_in_page_links() -> None:
    markdown = dg.render_markdown(sample_digest())
    plain = dg.render_plain_text(markdown)
    assert "<details>" not in plain and "<summary>" not in plain and "</details>" not in plain
    assert "](#" not in plain
    assert "- Optimization and implicit bias (1)\n" in plain  # the contents, as a plain list
    assert "**Below the relevance threshold (1):**" in plain  # the appendix keeps its heading line
    assert (
        "- [Deep Double Descent: Where Bigger Models and More Data Hurt](https://arxiv.org/abs/1912.02292)"
        in plain
    )
    # scraped text reads as written, without the escapes that keep it literal in Markdown (a text
    # part is shown, never parsed); formulas stay whole
    assert "Grokking: <script>alert('x')</script> *Generalization* | Beyond_ Overfitting [on]" in plain
    assert "\\<" not in plain and "\\[" not in plain and "O(1/√n)" in plain
    assert dg.render_plain_text("a `x<b>y` <b>bold</b> \\<i\\> [k](#k) [w](https://w.org)\n") == (
        "a `x<b>y` bold <i> k [w](https://w.org)\n"
    )
    # in a code span an escape is as written; an escaped backtick opens none
    assert dg.render_plain_text("`a\\*b` \\`c\\` n \\> d \\\\ x\n") == "`a\\*b` `c` n > d \\ x\n"
    assert dg.render_plain_text(markdown) == plain  # the same Markdown, the same text
    # a stored digest from before the line that names the list: the summary stays, as a line
    old = "text\n\n<details>\n<summary>Below the relevance threshold (1)</summary>\n\n- a\n\n</details>\n"
    assert dg.render_plain_text(old) == "text\n\n**Below the relevance threshold (1)**\n\n- a\n"


def test_seen_in_separator_is_the_same_in_every_edition() -> None:
    digest = dg.build_digest(**_cross_language_inputs(translated=True))
    expected = f"arXiv | [Notes · Theory of deep learning]({NOTES_PAGE}) | [知乎]({ZHIHU_POST_URL}) (zh)"
    assert f"Seen in: {expected}" in dg.render_markdown(digest)
    assert f"来源: {expected}" in dg.render_markdown(digest, _zh_edition(digest))
    assert f"المصادر: {expected}" in dg.render_markdown(digest, _zh_edition(digest, "ar"))


def test_weekdays_are_written_in_the_edition_language() -> None:
    digest = sample_digest()
    assert "arXiv 发布日: 2026-11-16（周一）、2026-11-17（周二）" in dg.render_markdown(
        digest, _zh_edition(digest)
    )
    arabic = dg.render_markdown(digest, _zh_edition(digest, "ar"))
    assert "\u20662026-11-16\u2069 (الاثنين)، \u20662026-11-17\u2069 (الثلاثاء)" in arabic


def _shipped_directions_digest() -> Digest:
    from dltheory_digest.directions import load_taxonomy

    taxonomy = load_taxonomy()
    directions = [(d.id, d.name) for d in taxonomy.directions] + [("mine", "My own direction")]
    inputs = sample_inputs()
    ids = ["overparameterization", "optimization", "generalization", "mine", "generalization", "other"]
    inputs["classifications"] = {
        key: dataclasses.replace(c, primary=ids[i])
        for i, (key, c) in enumerate(inputs["classifications"].items())
    }
    return dg.build_digest(**{**inputs, "directions": directions})


def test_shipped_directions_have_hand_written_zh_and_ar_names() -> None:
    digest = _shipped_directions_digest()
    zh = dg.render_markdown(digest, _zh_edition(digest))
    assert "## 过参数化、神经正切核与无限宽度 (1)" in zh and "## 优化与训练动力学 (1)" in zh
    assert "- [泛化与模型容量 (1)](#泛化与模型容量-1)" in zh
    assert "Generalization and capacity" not in zh
    ar = dg.render_markdown(digest, _zh_edition(digest, "ar"))
    assert "## التعميم والسعة (1)" in ar
    # a direction the user added is machine-translated; only it is asked of the model
    texts = dg.translatable_texts(digest, "zh")
    assert "My own direction" in texts
    assert "## 译:My own direction (1)" in zh
    assert (
        "Generalization and capacity" not in texts
        and "Generalization and capacity" in dg.translatable_texts(digest)
    )
    renamed = dataclasses.replace(
        digest,
        sections=tuple(
            dataclasses.replace(s, name="Generalisation") if s.direction_id == "generalization" else s
            for s in digest.sections
        ),
    )
    assert dg.hand_written_direction("generalization", "Generalisation", "zh") is None  # renamed by the user
    edition = dg.Edition(language="zh", translations={"Generalisation": "译:Generalisation"})
    assert "## 译:Generalisation (1)" in dg.render_markdown(renamed, edition)
    # an edition that fell back to English keeps the English names
    assert "## Generalization and capacity (1)" in dg.render_markdown(
        digest, dg.Edition(language="zh", note="n")
    )


def test_a_reader_whose_filters_match_nothing_is_told_so() -> None:
    digest = sample_digest()
    reader = Reader(email="a@example.org", include_directions=("kernels",), keywords=("diffusion",))
    personal = dg.filter_for_reader(digest, reader)
    markdown = dg.render_markdown(personal)
    assert "No papers this week." not in markdown
    assert (
        "None of this week's 4 papers matched your filters (directions \"Neural tangent kernel and infinite"
        ' width"; keywords "diffusion").'
    ) in markdown
    assert markdown.count('keywords "diffusion"') == 1  # not repeated among the notes
    # followed authors none of whose papers came out are named too
    following = Reader(email="f@example.org", keywords=("diffusion",), authors=("Nobody Here",))
    assert 'matched your filters (keywords "diffusion"; authors "Nobody Here").' in dg.render_markdown(
        dg.filter_for_reader(digest, following)
    )
    # a zh or ar edition names the filters in its own language; with nothing to translate, it
    # needs no model for that (its labels are hand-written), unless it fell back to English
    for edition in (dg.Edition(language="zh", translations={"-": "-"}), dg.Edition(language="zh")):
        assert (
            "本周 4 篇论文中没有符合您筛选条件的论文（方向：“Neural tangent kernel and infinite width”；"
            "关键词：“diffusion”）。"
        ) in dg.render_markdown(personal, edition)
    fallen_back = dg.render_markdown(personal, dg.Edition(language="zh", note="no model"))
    assert 'matched your filters (directions "Neural tangent kernel' in fallen_back
    shipped = Reader(
        email="b@example.org",
        include_directions=("generalization", "robustness"),
        negative_keywords=("diffusion", "GAN"),
        min_relevance=0.99,
    )
    ar = dg.render_markdown(
        dg.filter_for_reader(_shipped_directions_digest(), shipped), dg.Edition(language="ar")
    )
    assert "(الاتجاهات: «التعميم والسعة»، «المتانة والخصوصية والإنصاف»؛ " in ar
    assert "؛ باستثناء الكلمات المفتاحية: «diffusion»، «GAN»؛ درجة الصلة 0.99 على الأقل)" in ar
    assert "directions" not in ar and "keywords" not in ar
    # a week without papers still says so plainly
    empty = dg.build_digest(**{**sample_inputs(), "clusters": [], "updated": [], "emerging": []})
    assert "No papers this week." in dg.render_markdown(dg.filter_for_reader(empty, reader))


# --- withdrawn papers and a list's backlog ------------------------------------------------


def _listed(number: int, source_id: str = "notes") -> PaperCluster:
    """An older paper that only a curated list mentions (ids and titles made up for the test)."""
    arxiv_id = f"1701.{number:05d}"
    return PaperCluster(
        paper=_paper(
            arxiv_id,
            f"Listed paper number {number} on neural network theory",
            ["Ann Author"],
            ["cs.LG"],
            "An older paper.",
            published=dt.datetime(2017, 1, 2, tzinfo=UTC),
        ),
        sightings=(
            Sighting(source_id, "Notes", "https://notes.example.org/dl", "en", kind=ItemKind.MENTION),
        ),
        versions=(1,),
    )


def _with_clusters(clusters: list[PaperCluster]) -> dict:
    inputs = sample_inputs()
    inputs["clusters"] = [*inputs["clusters"], *clusters]
    inputs["classifications"] = {
        **inputs["classifications"],
        **{c.paper.key: Classification("generalization", relevance=0.8) for c in clusters},
    }
    return inputs


def test_a_withdrawn_paper_says_so() -> None:
    withdrawn = _listed(1)
    paper = dataclasses.replace(withdrawn.paper, comment="This paper has been withdrawn by the author")
    digest = dg.build_digest(**_with_clusters([dataclasses.replace(withdrawn, paper=paper)]))
    (entry,) = [e for e in dg.all_entries(digest) if e.paper.key == paper.key]
    assert entry.badges == ("discussed", "withdrawn")
    assert "· `withdrawn`" in dg.render_markdown(digest)


def test_a_long_lists_older_papers_go_to_its_backlog_not_the_sections() -> None:
    many = [_listed(n) for n in range(1, dg.BACKLOG_MIN + 2)]
    digest = dg.build_digest(**_with_clusters(many), list_sources={"notes"})
    backlog_keys = {e.paper.key for e in digest.backlog}
    assert backlog_keys == {c.paper.key for c in many}
    in_sections = {p.paper.key for s in digest.sections for p in s.papers}
    assert not backlog_keys & in_sections
    counts = dict(digest.counts)
    assert counts["backlog"] == len(many) and counts["papers"] == len(in_sections)
    markdown = dg.render_markdown(digest)
    assert f"**Brought in at once by one list ({len(many)}):**" in markdown
    assert f"**{len(many)}** from a list's backlog" in markdown
    # a reader's filters apply to it as to the rest
    one = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("number 3 on",)))
    assert [e.paper.key for e in one.backlog] == ["arxiv:1701.00003"]


def test_a_few_listed_papers_or_a_source_that_is_not_a_list_stay_in_the_sections() -> None:
    few = [_listed(n) for n in range(1, dg.BACKLOG_MIN + 1)]  # exactly the limit
    assert dg.build_digest(**_with_clusters(few), list_sources={"notes"}).backlog == ()
    many = [_listed(n, source_id="blog") for n in range(1, dg.BACKLOG_MIN + 5)]
    assert dg.build_digest(**_with_clusters(many), list_sources={"notes"}).backlog == ()


def test_a_shortened_rendering_counts_the_backlog_and_the_papers_past_its_limit() -> None:
    many = [_listed(n) for n in range(1, dg.BACKLOG_MIN + 2)]
    digest = dg.build_digest(**_with_clusters(many), list_sources={"notes"})
    short = dg.render_markdown(digest, shortened=dg.Shortened(f"{WEEK}.md"))
    # the backlog is a count pointing at the attached file, like the appendix
    assert f"**Brought in at once by one list ({len(many)}):** listed in {WEEK}.md." in short
    assert "Listed paper number" not in short
    # with a limit each direction keeps its most relevant papers and counts the rest
    section = max(digest.sections, key=lambda s: len(s.papers))
    limited = dg.render_markdown(digest, shortened=dg.Shortened(f"{WEEK}.md", one_line=True, limit=1))
    body = limited.split(f"## {section.name} ({len(section.papers)})\n", 1)[1].split("\n## ", 1)[0]
    first, *rest = section.papers
    assert f"- [{dg.md_text(first.paper.title)}]" in body
    assert not any(dg.md_text(p.paper.title) in body for p in rest)
    assert f"- *… and {len(rest)} more, listed in {WEEK}.md; those shown are the most relevant.*" in body
    # the unshortened rendering has no such line
    assert "more, listed in" not in dg.render_markdown(digest)


# --- talks and courses (notes pages' videos and courses) ------------------------------------

NTK_TALKS = "https://www.youtube.com/results?search_query=neural+tangent+kernel"
NOTES_PAGE = "https://notes.example.org/Theory+of+deep+learning"
ZH_NOTES_PAGE = "https://notes.example.cn/shenduxuexi"


def other(source_id: str, title: str, url: str | None, category: str, text: str = "", **more: object) -> Item:
    """A notes page's OTHER item as the language stage leaves it."""
    return Item(
        source_id=source_id,
        kind=ItemKind.OTHER,
        title=title,
        url=url,
        lang=str(more.pop("lang", "en")),
        text=text,
        extra=(("category", category),),
        **more,  # type: ignore[arg-type]
    )


def week_others() -> list[Item]:
    return [
        other(
            "notes",
            "Stats 385: Theories of Deep Learning",
            "https://stats385.github.io/",
            "course",
            "Stanford's 2017 lecture series on why deep networks work. Slides and videos online.",
        ),
        other(
            "zh-notes",
            "神经正切核讲座",
            NTK_TALKS,
            "video",
            "从无限宽网络讲起，适合入门。",
            lang="zh",
            title_en="Lectures on the neural tangent kernel",
            text_en="Starting from infinitely wide networks, good for beginners.",
            translated_by="argos zh→en 1.9",
        ),
        other(
            "notes", "Neural tangent kernel", "https://en.wikipedia.org/wiki/Neural_tangent_kernel", "wiki"
        ),
        other("notes", "google/neural-tangents", "https://github.com/google/neural-tangents", "code"),
    ]


def digest_with_talks(others: list[Item] | None = None) -> Digest:
    inputs = sample_inputs()
    inputs["source_names"] = {**inputs["source_names"], "notes": "Notes", "zh-notes": "深度学习笔记"}
    inputs["source_langs"] = {"zh-notes": "zh"}
    inputs["source_pages"] = {"notes": NOTES_PAGE, "zh-notes": ZH_NOTES_PAGE}
    return dg.build_digest(**inputs, others=week_others() if others is None else others)


def test_videos_and_courses_are_listed_with_their_remarks_and_pages_wiki_and_code_are_not() -> None:
    digest = digest_with_talks()
    assert [(r.category, r.title) for r in digest.resources] == [
        ("video", "Lectures on the neural tangent kernel"),
        ("course", "Stats 385: Theories of Deep Learning"),
    ]
    talk = digest.resources[0]
    assert (talk.original_title, talk.original_lang) == ("神经正切核讲座", "zh")
    [seen] = talk.sightings
    assert (seen.commentary_original, seen.commentary_lang, seen.translated_by) == (
        "从无限宽网络讲起，适合入门。",
        "zh",
        "argos zh→en 1.9",
    )
    counts = dict(digest.counts)
    assert counts["resources"] == 2 and counts["resource_backlog"] == 0
    assert counts["papers"] == dict(sample_digest().counts)["papers"]  # not counted as papers

    markdown = dg.render_markdown(digest)
    assert "- [New talks and courses (2)](#new-talks-and-courses-2)" in markdown
    assert "**2** talks and courses" in markdown
    assert (
        f"- **Video:** [Lectures on the neural tangent kernel]({NTK_TALKS}) · *Original title (zh):* 神经正切核讲座"
        " — Starting from infinitely wide networks, good for beginners. · *original:* 从无限宽网络讲起，适合入门。"
        f" — Listed on: [深度学习笔记]({ZH_NOTES_PAGE}) (zh)"
    ) in markdown
    # the page's remark: its first sentence, as for a paper's commentary
    assert (
        "- **Course:** [Stats 385: Theories of Deep Learning](https://stats385.github.io/)"
        " — Stanford's 2017 lecture series on why deep networks work. Slides and videos online."
        f" — Listed on: [Notes]({NOTES_PAGE})"
    ) in markdown
    assert "wikipedia" not in markdown and "neural-tangents" not in markdown
    # the contents link lands on the section in the HTML mail
    html = dg.render_html(markdown)
    assert 'id="new-talks-and-courses-2"' in html and 'href="#new-talks-and-courses-2"' in html
    assert f'href="{NTK_TALKS}"' in html.replace("&amp;", "&")


def test_a_page_lists_a_resource_once_and_two_pages_listing_it_make_one_line() -> None:
    twice = [
        other(
            "notes", "Stats 385: Theories of Deep Learning", "https://stats385.github.io/", "course", "Great."
        ),
        other("notes", "Stats 385", "http://www.stats385.github.io", "course"),
        other(
            "zh-notes", "Stats 385 课程", "https://stats385.github.io", "course", "斯坦福的课程。", lang="zh"
        ),
    ]
    [course] = digest_with_talks(twice).resources
    assert course.title == "Stats 385: Theories of Deep Learning"
    assert [s.source_name for s in course.sightings] == ["Notes", "深度学习笔记"]
    markdown = dg.render_markdown(digest_with_talks(twice))
    # several pages: each remark says whose it is
    assert "— *Notes:* Great. — *深度学习笔记:* 斯坦福的课程。 — Listed on:" in markdown


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://youtu.be/aircAruvnKk", "https://www.youtube.com/watch?v=aircAruvnKk"),
        ("https://youtu.be/aircAruvnKk?t=42", "http://youtube.com/watch?v=aircAruvnKk&t=120s&list=PLZHQ"),
        ("https://m.youtube.com/watch?v=aircAruvnKk&feature=share", "https://youtu.be/aircAruvnKk?si=x1"),
        ("https://www.youtube.com/embed/aircAruvnKk", "https://www.youtube-nocookie.com/embed/aircAruvnKk"),
        ("https://www.youtube.com/live/aircAruvnKk?si=a", "https://www.youtube.com/watch/?v=aircAruvnKk"),
        ("https://www.youtube.com/playlist?list=PLZHQ&si=a", "https://m.youtube.com/playlist?list=PLZHQ"),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        (
            "https://www.bilibili.com/video/BV1Kb411W75N/?spm_id_from=333.337&vd_source=ab",
            "https://m.bilibili.com/video/BV1Kb411W75N?p=1",
        ),
        ("https://stats385.github.io/", "http://www.Stats385.github.io"),
        ("https://example.org:443/course/#week-1", "http://example.org:80/course"),
        ("https://example.org/course?utm_source=feed&id=7", "https://example.org/course?id=7&fbclid=Ab"),
    ],
)
def test_links_written_differently_to_one_resource_have_one_canonical_form(one: str, other: str) -> None:
    assert dg.canonical_link(one) == dg.canonical_link(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://youtu.be/aircAruvnKk", "https://youtu.be/IHZwWFHWa-w"),  # two videos
        ("https://www.youtube.com/watch?v=aircAruvnKk", "https://www.youtube.com/playlist?list=PLZHQ"),
        ("https://example.org/course?id=7", "https://example.org/course?id=8"),
        ("https://example.org:8080/course", "https://example.org/course"),
        ("https://www.bilibili.com/video/BV1Kb411W75N?p=2", "https://www.bilibili.com/video/BV1Kb411W75N"),
        (
            "https://www.youtube.com/results?search_query=ntk",
            "https://www.youtube.com/results?search_query=gd",
        ),
    ],
)
def test_links_to_different_resources_stay_apart(one: str, other: str) -> None:
    assert dg.canonical_link(one) != dg.canonical_link(other)


def test_a_video_linked_two_ways_on_two_pages_is_one_line() -> None:
    twice = [
        other("notes", "But what is a neural network?", "https://youtu.be/aircAruvnKk", "video"),
        other(
            "zh-notes", "神经网络入门", "https://m.youtube.com/watch?v=aircAruvnKk&t=5s", "video", lang="zh"
        ),
    ]
    [talk] = digest_with_talks(twice).resources
    # the first page's link as it wrote it: the canonical form is only for comparing
    assert talk.url == "https://youtu.be/aircAruvnKk"
    assert [s.source_name for s in talk.sightings] == ["Notes", "深度学习笔记"]


def test_a_list_bringing_in_more_than_a_few_talks_at_once_is_its_backlog_one_line_each() -> None:
    def talks(n: int, source_id: str = "notes") -> list[Item]:
        topics = [
            "double descent",
            "grokking",
            "implicit bias",
            "mean field",
            "scaling laws",
            "feature learning",
        ]
        return [
            other(
                source_id,
                f"{t.title()} lectures",
                "https://www.youtube.com/results?search_query=" + t,
                "video",
            )
            for t in topics[:n]
        ]

    assert dg.RESOURCE_BACKLOG_MIN == 5
    five = digest_with_talks(talks(5))
    assert len(five.resources) == 5 and five.resource_backlog == ()
    # a sixth at once from the same page (a first read): none is news; another page's is
    digest = digest_with_talks([*talks(6), *week_others()[1:2]])
    assert [r.title for r in digest.resources] == ["Lectures on the neural tangent kernel"]
    assert len(digest.resource_backlog) == 6
    markdown = dg.render_markdown(digest)
    assert "- [New talks and courses (1)](#new-talks-and-courses-1)" in markdown
    assert "**6** talks and courses from a list's backlog" in markdown
    block = markdown.split("**Talks and courses brought in at once by one list (6):**", 1)[1].split(
        "</details>"
    )[0]
    assert "<details>" in block and block.count("\n- **Video:**") == 6
    # a shortened email counts them and points at the attachment
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W47.md"))
    assert "**Talks and courses brought in at once by one list (6):** listed in 2026-W47.md." in short
    assert "Double Descent lectures" not in short


def test_shortened_mail_drops_the_remarks_then_keeps_the_first_talks() -> None:
    digest = digest_with_talks()
    one_line = dg.render_markdown(digest, shortened=dg.Shortened("2026-W47.md", one_line=True))
    assert (
        f"- **Course:** [Stats 385: Theories of Deep Learning](https://stats385.github.io/) — Listed on: [Notes]({NOTES_PAGE})"
        in one_line
    )
    assert "Stanford's 2017" not in one_line
    limited = dg.render_markdown(digest, shortened=dg.Shortened("2026-W47.md", one_line=True, limit=1))
    section = limited.split("## New talks and courses (2)", 1)[1].split("\n## ", 1)[0]
    assert "Lectures on the neural tangent kernel" in section and "Stats 385" not in section
    assert "- *… and 1 more, listed in 2026-W47.md.*" in section


def test_talks_and_courses_in_the_zh_and_ar_editions() -> None:
    digest = digest_with_talks()
    texts = dg.translatable_texts(digest, "zh")
    assert "Stats 385: Theories of Deep Learning" in texts
    assert "Stanford's 2017 lecture series on why deep networks work. Slides and videos online." in texts
    # the Chinese page's title and remark are shown to a zh reader as written: not translated back
    assert "Lectures on the neural tangent kernel" not in texts
    assert "Starting from infinitely wide networks, good for beginners." not in texts
    assert "Lectures on the neural tangent kernel" in dg.translatable_texts(digest, "ar")

    translations = {t: f"译:{t}" for t in texts}
    zh = dg.render_markdown(digest, dg.Edition("zh", translations, model="argos en→zh 1.0"), for_reader=True)
    assert "## 新增讲座与课程 (2)" in zh and "**2** 个讲座与课程" in zh
    assert (
        "- **课程:** [Stats 385: Theories of Deep Learning](https://stats385.github.io/)"
        " · *译:Stats 385: Theories of Deep Learning*"
        " — 译:Stanford's 2017 lecture series on why deep networks work. Slides and videos online."
        f" — 列于: [Notes]({NOTES_PAGE})"
    ) in zh
    assert (
        f"- **视频:** [Lectures on the neural tangent kernel]({NTK_TALKS}) · *神经正切核讲座* — 从无限宽网络讲起，适合入门。"
    ) in zh
    assert "*原标题" not in zh.split("## 新增讲座与课程", 1)[1]  # the original is the title it just gave
    # a shortened zh email counts the talks it left out with their own measure word
    short = dg.render_markdown(
        digest, dg.Edition("zh", translations), shortened=dg.Shortened("2026-W47.md", one_line=True, limit=1)
    )
    assert "- *…… 另有 1 个，见附件 2026-W47.md。*" in short.split("## 新增讲座与课程", 1)[1]

    ar_texts = dg.translatable_texts(digest, "ar")
    ar = dg.render_markdown(digest, dg.Edition("ar", {t: f"مترجم:{t}" for t in ar_texts}), for_reader=True)
    assert "## محاضرات ومقررات جديدة (2)" in ar and "**فيديو:**" in ar and "مدرجة في:" in ar
    assert "مترجم:Lectures on the neural tangent kernel" in ar


def test_a_talk_and_a_workshop_are_listed_under_their_own_label_in_every_edition() -> None:
    others = [
        other("zh-notes", "The Future of Mathematics?", "https://example.org/buzzard", "talk", "一场讲座", lang="zh"),
        other("zh-notes", "Deep Learning Theory 4", "https://example.org/dlt4", "workshop", "深度学习理论会议4", lang="zh"),
        *week_others()[:1],
    ]  # fmt: skip
    digest = digest_with_talks(others)
    assert sorted(r.category for r in digest.resources) == ["course", "talk", "workshop"]
    assert dict(digest.counts)["resources"] == 3
    for edition, talk, workshop in (
        (dg.ENGLISH, "Talk", "Workshop"),
        (dg.Edition("zh"), "讲座", "研讨会"),
        (dg.Edition("ar"), "محاضرة", "ورشة عمل"),
    ):
        markdown = dg.render_markdown(digest, edition)
        assert f"**{talk}:** [The Future of Mathematics?](https://example.org/buzzard)" in markdown
        assert f"**{workshop}:** [Deep Learning Theory 4](https://example.org/dlt4)" in markdown


def test_a_talk_no_model_put_into_english_is_shown_as_written_never_through_the_editions_model() -> None:
    # no zh→en model: the Chinese page's title and remark stay as written
    untranslated = other(
        "zh-notes", "神经正切核讲座", NTK_TALKS, "video", "从无限宽网络讲起，适合入门。", lang="zh"
    )
    digest = digest_with_talks([untranslated])
    [talk] = digest.resources
    assert (talk.title, talk.original_title, talk.original_lang) == ("神经正切核讲座", None, "zh")
    for language in ("zh", "ar"):
        texts = dg.translatable_texts(digest, language)
        assert not any("神经正切核" in t or "无限宽" in t for t in texts), language
    # an ar edition (en→ar model) shows them as written and marked; a zh reader reads them
    ar = dg.render_markdown(digest, dg.Edition("ar", {"x": "y"}, model="m"), for_reader=True)
    # a Chinese remark in an Arabic line is isolated: its "。" stays at its end
    assert f"[神经正切核讲座]({NTK_TALKS}) — \u2068从无限宽网络讲起，适合入门。\u2069 — مدرجة في" in ar
    zh = dg.render_markdown(digest, dg.Edition("zh", {"x": "y"}, model="m"), for_reader=True)
    assert f"[神经正切核讲座]({NTK_TALKS}) — 从无限宽网络讲起，适合入门。 — 列于" in zh


def test_a_readers_keywords_and_negative_keywords_choose_the_talks_and_courses() -> None:
    digest = digest_with_talks()
    kernel = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=["neural tangent kernel"]))
    assert [r.category for r in kernel.resources] == ["video"]
    assert dict(kernel.counts)["resources"] == 1
    # the remark counts too (as written and translated)
    stanford = dg.filter_for_reader(digest, Reader(email="b@example.org", keywords=["lecture series"]))
    assert [r.category for r in stanford.resources] == ["course"]
    beginners = dg.filter_for_reader(digest, Reader(email="c@example.org", negative_keywords=["入门"]))
    assert [r.category for r in beginners.resources] == ["course"]
    # resources have no direction: a reader's directions leave them all in
    optimization = dg.filter_for_reader(
        digest, Reader(email="d@example.org", include_directions=["optimization"])
    )
    assert len(optimization.resources) == 2
    markdown = dg.render_markdown(kernel, for_reader=True)
    assert "## New talks and courses (1)" in markdown and "Stats 385" not in markdown


def test_talks_and_courses_survive_the_stored_json_and_an_older_digest_still_loads() -> None:
    digest = digest_with_talks()
    again = dg.digest_from_json(dg.digest_to_json(digest))
    assert again.resources == digest.resources
    assert dg.render_markdown(again) == dg.render_markdown(digest)
    older = json.loads(dg.digest_to_json(sample_digest()))
    del older["resources"], older["resource_backlog"]
    assert dg.digest_from_json(older).resources == ()


def _with_reason(reason: UpdateReason) -> Digest:
    base = sample_digest()
    return dataclasses.replace(base, updated=(dataclasses.replace(base.updated[0], update_reason=reason),))


def test_update_reasons_are_worded_by_the_editions_labels_not_by_a_model() -> None:
    reason = UpdateReason(
        version_change=VersionChange(
            new=2, old=1, week="2026-W45", old_title="The Principles of Deep Learning Theory"
        ),
        journal=JournalVersion(doi="10.1073/pnas.1907378117", venue="Proc. Natl. Acad. Sci. U.S.A. 117"),
        discussed_on=(Place("Zhihu", "zh"), Place("A theory blog", "en")),
    )
    english = (
        'updated to v2 (was v1 on 2026-W45), retitled (was: "The Principles of Deep Learning Theory"); '
        "journal version: Proc. Natl. Acad. Sci. U.S.A. 117, doi:10.1073/pnas.1907378117; "
        "newly discussed on Zhihu (zh) and A theory blog"
    )
    assert reason.english() == english
    digest = _with_reason(reason)
    texts = dg.translatable_texts(digest)
    assert not any("was v1" in t or "journal version" in t or "newly discussed" in t for t in texts)
    translations = {t: f"译:{t}" for t in texts}
    zh = dg.render_markdown(digest, dg.Edition(language="zh", translations=translations, model="m"))
    assert (
        "更新至 v2（2026-W45 时为 v1），标题已更改（原为“The Principles of Deep Learning Theory”）；"
        "期刊版本：Proc. Natl. Acad. Sci. U.S.A. 117，doi:10.1073/pnas.1907378117；"
        "新近在 [Zhihu (zh)](https://zhuanlan.zhihu.com/p/400000001)和A theory blog 上被讨论"
    ) in zh
    arabic = dg.render_markdown(digest, dg.Edition(language="ar", translations=translations, model="m"))
    assert "حُدّثت إلى \u2066v2\u2069 (كانت \u2066v1\u2069 في \u20662026-W45\u2069)" in arabic
    # the parts are separated as the edition writes it ("؛ " with its space in Arabic)
    assert "«The Principles of Deep Learning Theory»)؛ النسخة المنشورة في مجلة: " in arabic
    # each name isolated by its first letter, so "(zh)" stays at its end in a right-to-left line
    assert (
        "؛ نوقشت حديثًا في \u2068[Zhihu (zh)](https://zhuanlan.zhihu.com/p/400000001)\u2069"
        " و\u2068A theory blog\u2069"
    ) in arabic
    # the English edition says the reason as identity built it, the post on Zhihu linked
    linked = english.replace("Zhihu (zh)", "[Zhihu (zh)](https://zhuanlan.zhihu.com/p/400000001)")
    assert f" — {linked}\n" in dg.render_markdown(digest)
    withdrawn = UpdateReason(version_change=VersionChange(new=4, old=3, week="2026-W40", withdrawn=True))
    zh = dg.render_markdown(_with_reason(withdrawn), dg.Edition(language="zh", translations=translations))
    assert " — 在 v4 中撤回（2026-W40 时为 v3）\n" in zh


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "A blog"), ("mixed", "A blog"), (None, "A blog"), ("zh", "A blog (zh)"), ("ar", "A blog (ar)")],
)
def test_a_place_says_its_language_only_when_seen_in_does(lang: str | None, said: str) -> None:
    assert Place("A blog", lang).english() == said
    # "Seen in" of a paper seen there in that language: the same rule
    base = sample_digest()
    section = base.sections[0]
    first = section.papers[0]
    sighting = dataclasses.replace(first.sightings[-1], lang=lang, source_name="A blog")
    entry = dataclasses.replace(first, sightings=(sighting,))
    section = dataclasses.replace(section, papers=(entry,))
    markdown = dg.render_markdown(dataclasses.replace(base, sections=(section,)))
    seen_in = next(line for line in markdown.splitlines() if line.startswith("Seen in: [A blog]("))
    assert seen_in.endswith(")" + said.removeprefix("A blog"))


def test_a_reason_words_each_place_and_old_title_as_written_whatever_they_hold() -> None:
    # a source name with " and " and ", ", an old title with quotes and what once split a reason
    reason = UpdateReason(
        version_change=VersionChange(
            new=3, old=2, week="2026-W44", old_title='Why "flat"; journal version: minima generalize'
        ),
        discussed_on=(
            Place("Notes · Theory, and practice", "en"),
            Place("Papers and Code", None),
            Place("知乎专栏", "zh"),
        ),
    )
    digest = _with_reason(reason)
    assert dg.translatable_texts(digest, "zh") == dg.translatable_texts(sample_digest(), "zh")
    zh = dg.render_markdown(digest, dg.Edition(language="zh", translations={"x": "y"}, model="m"))
    assert (
        '— 更新至 v3（2026-W44 时为 v2），标题已更改（原为“Why "flat"; journal version: minima generalize”）；'
        "新近在 Notes · Theory, and practice、Papers and Code和知乎专栏 (zh) 上被讨论\n"
    ) in zh
    arabic = dg.render_markdown(digest, dg.Edition(language="ar", translations={"x": "y"}, model="m"))
    assert (
        "نوقشت حديثًا في \u2068Notes · Theory, and practice\u2069، \u2068Papers and Code\u2069 "
        "و\u2068知乎专栏 (zh)\u2069\n"
    ) in arabic
    english = dg.render_markdown(digest)
    assert (
        '— updated to v3 (was v2 on 2026-W44), retitled (was: "Why "flat"; journal version: minima '
        'generalize"); newly discussed on "Notes · Theory, and practice", "Papers and Code" and 知乎专栏 (zh)\n'
    ) in english
    # a journal reference that is only a DOI: no venue, and nothing left of its separator
    journal = _with_reason(UpdateReason(journal=JournalVersion(doi="10.1000/xyz_1")))
    assert "— 期刊版本：doi:10.1000/xyz_1\n" in dg.render_markdown(
        journal, dg.Edition(language="zh", translations={"x": "y"})
    )
    assert "— journal version: doi:10.1000/xyz_1\n" in dg.render_markdown(journal)


def test_a_digest_stored_with_one_line_reasons_still_loads_and_renders() -> None:
    """JSON written before reasons had parts: `reason` a string, "group N" for Emerging."""
    digest = dg.build_digest(**_emerging_inputs())
    stored = json.loads(dg.digest_to_json(digest))
    line = "updated to v3 (was v2 on 2026-W45); newly discussed on Zhihu (zh)"
    for entry in [p for s in stored["sections"] for p in s["papers"]] + stored["below_threshold"]:
        del entry["update_reason"], entry["group"]
        entry["reason"] = None
    for entry in stored["updated"]:
        del entry["update_reason"], entry["group"]
        entry["reason"] = line
    for entry in stored["emerging"]:
        del entry["update_reason"], entry["group"]
        entry["reason"] = "group 1"
    old = dg.digest_from_json(json.dumps(stored))
    assert dg.digest_from_json(stored) == old  # a JSON column gives it already parsed
    [updated] = old.updated
    assert updated.update_reason == UpdateReason(legacy_text=line) and updated.reason == line
    assert [(p.group, p.update_reason) for p in old.emerging] == [(1, None)] * 3
    # the English digest reads as it did (a one-line reason cannot link the post it names)
    linked = "[Zhihu (zh)](https://zhuanlan.zhihu.com/p/400000001)"
    assert dg.render_markdown(old) == dg.render_markdown(digest).replace(linked, "Zhihu (zh)")
    # a zh edition can only machine-translate the stored line, as it did
    assert line in dg.translatable_texts(old, "zh")
    zh = dg.render_markdown(old, dg.Edition(language="zh", translations={line: "译文"}, model="m"))
    assert "[PDF](https://arxiv.org/pdf/2106.10165) — 译文\n" in zh
    assert "**组 1**" in zh


def test_digest_json_keeps_reasons_and_groups() -> None:
    digest = _with_reason(
        UpdateReason(
            version_change=VersionChange(new=2, old=1, week="2026-W45", withdrawn=True, old_title="Old"),
            journal=JournalVersion(doi="10.1/x", venue="JMLR 24"),
            discussed_on=(Place("Zhihu", "zh"), Place("offconvex")),
        )
    )
    again = dg.digest_from_json(dg.digest_to_json(digest))
    assert again == digest and again.updated[0].update_reason == digest.updated[0].update_reason
    grouped = dg.build_digest(**_emerging_inputs())
    again = dg.digest_from_json(dg.digest_to_json(grouped))
    assert again == grouped and [p.group for p in again.emerging] == [1, 1, 1]


def test_digest_json_keeps_typed_notes() -> None:
    digest = dg.build_digest(**{**sample_inputs(), "notes": list(RUN_NOTES)})
    stored = json.loads(dg.digest_to_json(digest))
    assert stored["notes"][0] == {
        "kind": "untranslated",
        "text": "untranslated: no ar→en model (run `dltheory-digest models install ar`)",
        "lang": "ar",
        "weeks": [],
    }
    assert dg.digest_from_json(dg.digest_to_json(digest)).notes == RUN_NOTES


def test_a_digest_stored_with_notes_as_plain_text_still_loads_with_their_kinds() -> None:
    """JSON written before notes were typed: each note a string, its kind in how it opens."""
    stored = json.loads(dg.digest_to_json(sample_digest()))
    stored["notes"] = json.loads(
        """[
        "untranslated: no ar\u2192en model (run `dltheory-digest models install ar`)",
        "discarded: the output of translate-zh_en-1_9 was unusable (runaway); kept the original",
        "arXiv lookup: id_list of 3 id(s) failed: HTTP 503",
        "Crossref lookup: unreadable answer for DOI 10.1000/x: bad JSON",
        "No digest was made for 2026-W45, 2026-W46 (no run); papers from then that the sources could still fetch are in this one",
        "cache at /var/lib/dltheory/cache.sqlite was rebuilt"
    ]"""
    )
    old = dg.digest_from_json(json.dumps(stored))
    assert dg.digest_from_json(stored) == old  # a JSON column gives it already parsed
    assert [(n.kind, n.lang, n.weeks) for n in old.notes] == [
        (NoteKind.UNTRANSLATED, "ar", ()),
        (NoteKind.DISCARDED, "zh", ()),
        (NoteKind.ARXIV_LOOKUP, None, ()),
        (NoteKind.CROSSREF_LOOKUP, None, ()),
        (NoteKind.MISSED_WEEKS, None, ("2026-W45", "2026-W46")),
        (NoteKind.OTHER, None, ()),
    ]
    assert [n.text for n in old.notes] == stored["notes"]
    # read as it was: the operator's lines as written, a reader's in their language
    operator = dg.render_markdown(old)
    assert "- untranslated: no ar→en model (run `dltheory-digest models install ar`)" in operator
    zh = dg.reader_notes(old.notes, dg.Edition(language="zh", translations={"a": "b"}))
    labels = dg.labels_for("zh")
    assert zh[:3] == [
        labels["note_untranslated"],
        labels["note_lookup_failed"],
        labels["note_crossref_failed"],
    ]
    assert zh[3:] == dg.reader_notes(RUN_NOTES, dg.Edition(language="zh", translations={"a": "b"}))[2:]
    assert len(zh) == 4 and "2026-W45" in zh[3]
    # stored again, the notes are objects
    assert all(isinstance(n, dict) for n in json.loads(dg.digest_to_json(old))["notes"])


def test_a_filtered_edition_names_every_source_read_by_its_name() -> None:
    inputs = sample_inputs()
    inputs["source_names"] = {**inputs["source_names"], "zhihu": "知乎专栏", "shamra": "Shamra Academia"}
    digest = dg.build_digest(**inputs)
    # a reader whose keywords keep no Zhihu paper still sees that Zhihu was read, by name
    narrow = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("double descent",)))
    mail_text = dg.render_markdown(narrow, for_reader=True)
    assert "知乎专栏" in mail_text and "Shamra Academia" in mail_text
    assert "| zhihu" not in mail_text and " zhihu " not in mail_text
    assert dg.digest_from_json(dg.digest_to_json(digest)) == digest


# --- posts below the relevance threshold ---------------------------------------------------------

LESSWRONG = "lesswrong"


def _lesswrong_post(slug: str, title: str, text: str, day: int) -> Item:
    return Item(
        source_id=LESSWRONG,
        kind=ItemKind.POST,
        title=title,
        url=f"https://www.lesswrong.com/posts/{slug}",
        lang="en",
        text=text,
        published=dt.datetime(2026, 11, day, 9, tzinfo=UTC),
    )


SOURDOUGH = _lesswrong_post(
    "sourdough", "My favourite sourdough starter routine", "Rye flour, water and patience.", 17
)
ELECTIONS = _lesswrong_post(
    "turnout",
    "Forecasting election turnout with prediction markets",
    "Market prices against polls over three elections.",
    18,
)
WIDE_NETS = _lesswrong_post(
    "wide-nets",
    "Why very wide networks train like kernel machines",
    "In the limit of infinite width the neural tangent kernel stays fixed during training.",
    19,
)


def digest_with_off_topic_posts() -> Digest:
    """The sample week with a feed's off-topic posts, a theory post citing no paper and the
    offconvex post (which cites a paper of the week) scored low."""
    inputs = sample_inputs()
    inputs["posts"] = [*inputs["posts"], SOURDOUGH, ELECTIONS, WIDE_NETS]
    inputs["source_names"] = {**inputs["source_names"], LESSWRONG: "LessWrong"}
    inputs["post_classifications"] = {
        SOURDOUGH.url: Classification("other", relevance=0.14, confident=False),
        ELECTIONS.url: Classification("other", relevance=0.03, confident=False),
        WIDE_NETS.url: Classification("kernels", relevance=0.58),
        inputs["posts"][0].url: Classification("other", relevance=0.05, confident=False),
    }
    return dg.build_digest(**inputs)


def test_an_off_topic_post_citing_no_paper_goes_to_the_appendix_and_is_counted() -> None:
    digest = digest_with_off_topic_posts()
    # the offconvex post cites a paper of the week: it goes with it whatever its own score
    assert [p.url for p in digest.posts] == [
        "https://www.offconvex.org/2026/11/18/gd-global/",
        WIDE_NETS.url,
    ]
    assert [(p.title, r) for p, r in digest.posts_below_threshold] == [
        (SOURDOUGH.title, 0.14),
        (ELECTIONS.title, 0.03),
    ]
    counts = dict(digest.counts)
    assert counts["posts"] == 2 and counts["posts_below_threshold"] == 2
    markdown = dg.render_markdown(digest)
    listed = markdown.split("## Blog posts, articles and discussions (2)")[1].split("\n## ")[0]
    assert "sourdough" not in listed.split("**Posts below")[0] and WIDE_NETS.title in listed
    appendix = markdown.split("**Posts below the relevance threshold (2):**")[1].split("</details>")[0]
    assert "cite none of this week's papers" in appendix and "<summary>Show the list</summary>" in appendix
    assert (
        f"- [My favourite sourdough starter routine]({SOURDOUGH.url}) — LessWrong · 2026-11-17"
        " · relevance 0.14" in appendix
    )
    assert ELECTIONS.title in appendix and "relevance 0.03" in appendix
    # a shortened email counts them and points at the full file
    short = dg.render_markdown(digest, shortened=dg.Shortened(full_file="digest-2026-W47.md"))
    assert "**Posts below the relevance threshold (2):** listed in" in short
    assert SOURDOUGH.url not in short
    # the editions name the list in their language
    assert "**低于相关性阈值的博客与文章 (2):**" in dg.render_markdown(digest, dg.Edition(language="zh"))
    assert "**تدوينات دون عتبة الصلة (2):**" in dg.render_markdown(digest, dg.Edition(language="ar"))


def test_a_post_without_a_score_stays_and_a_week_without_scores_reads_as_before() -> None:
    inputs = sample_inputs()
    inputs["posts"] = [*inputs["posts"], SOURDOUGH]
    unscored = dg.build_digest(**inputs)  # an untranslated Chinese post is never scored
    assert SOURDOUGH.url in [p.url for p in unscored.posts] and unscored.posts_below_threshold == ()
    assert "Posts below" not in dg.render_markdown(unscored)
    assert dict(sample_digest().counts)["posts_below_threshold"] == 0


def test_posts_are_scored_on_their_english_title_and_text() -> None:
    seen: list[tuple[str, str]] = []

    def classify_many(rows: Sequence[tuple[str, str]]) -> list[Classification]:
        seen.extend(rows)
        return [Classification("other", relevance=0.1) for _ in rows]

    translated = Item(
        source_id="zhihu",
        kind=ItemKind.POST,
        title="我的酸面包酵种",
        title_en="My sourdough starter",
        text="黑麦粉和水。",
        text_en="Rye flour and water.",
        url="https://zhuanlan.zhihu.com/p/1",
        lang="zh",
    )
    untranslated = dataclasses.replace(
        translated, title_en=None, text_en=None, url="https://zhuanlan.zhihu.com/p/2"
    )
    long_post = dataclasses.replace(SOURDOUGH, text="flour " * 10_000)
    scores = classify_posts([translated, untranslated, long_post], classify_many)
    assert set(scores) == {translated.url, long_post.url}  # no model read the second: not scored
    assert seen[0] == ("My sourdough starter", "Rye flour and water.")
    assert len(seen[1][1]) == POST_SCORED_CHARS  # past the first lines, up to a bound


def test_reader_keywords_apply_to_posts_that_cite_no_kept_paper() -> None:
    digest = digest_with_off_topic_posts()
    ntk = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("neural tangent kernel",)))
    # the theory post matches; the offconvex post goes with the paper this reader left out
    assert [p.url for p in ntk.posts] == [WIDE_NETS.url]
    assert ntk.posts_below_threshold == () and dict(ntk.counts)["posts_below_threshold"] == 0
    assert "sourdough" not in dg.render_markdown(ntk).lower()
    # a Chinese keyword finds the English post through the glossary
    chinese = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("神经正切核",)))
    assert [p.url for p in chinese.posts] == [WIDE_NETS.url]
    # the appendix follows the keywords and the reader's minimum relevance
    baker = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("sourdough",)))
    assert [p.url for p, _ in baker.posts_below_threshold] == [SOURDOUGH.url] and baker.posts == ()
    assert dict(baker.counts)["posts_below_threshold"] == 1
    strict = dg.filter_for_reader(digest, Reader(email="a@example.org", min_relevance=0.1))
    assert [p.url for p, _ in strict.posts_below_threshold] == [SOURDOUGH.url]
    # no keywords: every post the week lists; a negative keyword drops a post about no paper
    everyone = dg.filter_for_reader(digest, Reader(email="a@example.org"))
    assert everyone.posts == digest.posts and everyone.posts_below_threshold == digest.posts_below_threshold
    no_kernels = dg.filter_for_reader(digest, Reader(email="a@example.org", negative_keywords=("kernel",)))
    assert WIDE_NETS.url not in [p.url for p in no_kernels.posts]


def test_posts_below_the_threshold_survive_the_stored_json_and_an_older_digest_still_loads() -> None:
    digest = digest_with_off_topic_posts()
    again = dg.digest_from_json(dg.digest_to_json(digest))
    assert again == digest and again.posts_below_threshold[0][0] == SOURDOUGH
    assert dg.render_markdown(again) == dg.render_markdown(digest)
    older = json.loads(dg.digest_to_json(sample_digest()))
    del older["posts_below_threshold"]
    assert dg.digest_from_json(older).posts_below_threshold == ()


def test_arxiv_sources_are_told_by_their_kind_not_by_their_id() -> None:
    # a user names the RSS listing "cs-lg"; "arxivdaily-cs-lg" is a Chinese aggregator
    missed_week = dt.datetime(2026, 11, 10, 19, tzinfo=UTC)  # caught up: no digest went out
    listing = Sighting("cs-lg", "New in cs.LG", None, "en", version=1)
    aggregator = Sighting(
        "arxivdaily-cs-lg", "arxivdaily", "https://www.arxivdaily.com/thread/1", "zh", kind=ItemKind.POST
    )
    paper = _paper(
        "2611.04321",
        "Feature learning in two-layer networks beyond the kernel regime",
        ["Ada Author"],
        ["cs.LG"],
        "We study feature learning.",
        published=missed_week,
    )
    both = PaperCluster(paper=paper, sightings=(aggregator, listing), versions=(1,))
    only_aggregator = PaperCluster(
        paper=dataclasses.replace(paper, key="arxiv:2611.04999", arxiv_id="2611.04999"),
        sightings=(aggregator,),
        versions=(1,),
    )
    reports = [
        SourceReport("cs-lg", "arxiv_rss", fetched=1, parsed=1),
        SourceReport("arxivdaily-cs-lg", "arxivdaily", fetched=1, parsed=1),
    ]
    inputs = {
        **sample_inputs(),
        "clusters": [both, only_aggregator],
        "updated": [],
        "emerging": [],
        "reports": reports,
        "classifications": {
            both.paper.key: Classification("optimization", relevance=0.9),
            only_aggregator.paper.key: Classification("optimization", relevance=0.8),
        },
    }
    for arxiv_sources in (None, {"cs-lg"}):  # from the reports' kinds, or as the pipeline says
        digest = dg.build_digest(**inputs, arxiv_sources=arxiv_sources)
        by_id = {p.paper.arxiv_id: p for p in digest.sections[0].papers}
        # arXiv's listing first in "Seen in" though its name sorts after the aggregator's
        assert [s.source_id for s in by_id["2611.04321"].sightings] == ["cs-lg", "arxivdaily-cs-lg"]
        # caught up from a missed week: new when arXiv listed it; only an aggregator: discussed
        assert by_id["2611.04321"].badges == ("new",)
        assert by_id["2611.04999"].badges == ("discussed",)
        # the aggregator's thread is a discussion of the paper, as a Zhihu post is
        assert [p.url for p in by_id["2611.04999"].discussed_in] == [aggregator.url]
    assert dg.build_digest(**inputs, arxiv_sources=set()).sections[0].papers[0].badges == ("discussed",)


def test_a_post_citing_no_paper_passes_the_readers_directions_and_minimum_as_a_paper_does() -> None:
    digest = digest_with_off_topic_posts()
    offconvex = "https://www.offconvex.org/2026/11/18/gd-global/"
    # kept for the posts citing none of the week's papers only: offconvex goes with its paper
    assert [key for key, _ in digest.post_classifications] == sorted(
        post_id(p) for p in (SOURDOUGH, ELECTIONS, WIDE_NETS)
    )

    def edition(**filters: Any) -> Digest:
        return dg.filter_for_reader(digest, Reader(email="a@example.org", **filters))

    # a generalization reader: the kernel post is not theirs; the offconvex post goes with its
    # optimization paper, which this reader does not get either
    generalization = edition(include_directions=("generalization",))
    assert [p.url for p in generalization.posts] == []
    assert dict(generalization.counts)["posts"] == 0
    assert WIDE_NETS.title not in dg.render_markdown(generalization)
    kernels = edition(include_directions=("kernels",))
    assert [p.url for p in kernels.posts] == [WIDE_NETS.url]
    assert [p.url for p in edition(exclude_directions=("kernels",)).posts] == [offconvex]
    # the appendix's off-topic posts are "other": a reader excluding it does not get them
    assert edition(exclude_directions=("other",)).posts_below_threshold == ()
    assert len(edition().posts_below_threshold) == 2
    # the reader's minimum relevance: 0.58 is under 0.6 (the appendix already was)
    assert [p.url for p in edition(min_relevance=0.6).posts] == [offconvex]
    assert [p.url for p in edition(min_relevance=0.5).posts] == [offconvex, WIDE_NETS.url]
    # a post "also in" a direction (scores of at least ALSO_MIN_SCORE) reaches its readers too
    both = dataclasses.replace(
        digest,
        post_classifications=(
            (
                post_id(WIDE_NETS),
                Classification("kernels", (("kernels", 0.6), ("generalization", 0.4)), 0.58),
            ),
        ),
    )
    also = dg.filter_for_reader(both, Reader(email="a@example.org", include_directions=("generalization",)))
    assert [p.url for p in also.posts] == [WIDE_NETS.url]


def test_post_classifications_survive_the_stored_json_and_an_older_digest_keeps_every_post() -> None:
    digest = digest_with_off_topic_posts()
    again = dg.digest_from_json(dg.digest_to_json(digest))
    assert again.post_classifications == digest.post_classifications
    assert dict(again.post_classifications)[post_id(WIDE_NETS)] == Classification("kernels", relevance=0.58)
    older = json.loads(dg.digest_to_json(digest))
    del older["post_classifications"]
    stored = dg.digest_from_json(older)
    assert stored.post_classifications == ()
    # stored before posts were kept with their scores: the reader's keywords alone decide, as then
    reader = Reader(email="a@example.org", include_directions=("generalization",))
    assert WIDE_NETS.url in [p.url for p in dg.filter_for_reader(stored, reader).posts]


def test_a_directions_new_papers_come_first_then_revisions_then_older_papers_a_post_brought_up() -> None:
    inputs = sample_inputs()
    reconciling = PaperCluster(
        paper=_paper(
            "1812.11118",
            "Reconciling modern machine learning practice and the bias-variance trade-off",
            ["Mikhail Belkin", "Daniel Hsu", "Siyuan Ma", "Soumik Mandal"],
            ["stat.ML"],
            "A second descent of the risk curve past interpolation. It reconciles the trade-off.",
            published=dt.datetime(2018, 12, 28, tzinfo=UTC),
        ),
        sightings=(
            Sighting(
                "offconvex", "offconvex", "http://offconvex.github.io/2026/11/17/x/", "en", kind=ItemKind.POST
            ),
        ),
        versions=(1,),
    )
    implicit = PaperCluster(
        paper=_paper(
            "1710.10345",
            "The Implicit Bias of Gradient Descent on Separable Data",
            ["Daniel Soudry", "Elad Hoffer", "Mor Shpigel Nacson", "Suriya Gunasekar", "Nathan Srebro"],
            ["stat.ML"],
            "Gradient descent on separable data converges in direction to the max-margin solution.",
            version=4,
            published=dt.datetime(2017, 10, 27, tzinfo=UTC),
            updated=dt.datetime(2026, 11, 18, tzinfo=UTC),
        ),
        sightings=(_arxiv("1710.10345", AnnounceType.REPLACE, 4),),
        versions=(4,),
    )
    classifications = {
        **inputs["classifications"],
        # the older papers score higher than the week's new ones (0.81, 0.75)
        reconciling.paper.key: Classification("generalization", relevance=0.97),
        implicit.paper.key: Classification("generalization", relevance=0.9),
    }
    orders = []
    for clusters in (
        [*inputs["clusters"], reconciling, implicit],
        [implicit, reconciling, *inputs["clusters"]],
    ):
        digest = dg.build_digest(**{**inputs, "clusters": clusters, "classifications": classifications})
        [section] = [s for s in digest.sections if s.direction_id == "generalization"]
        orders.append([(p.paper.arxiv_id, p.badges) for p in section.papers])
    assert orders[0] == orders[1]  # whatever order the clusters came in
    assert orders[0] == [
        ("1611.03530", ("new",)),  # new, most relevant first
        ("2201.02177", ("new",)),
        ("1710.10345", ("updated v4",)),  # a revision announced this week
        ("1812.11118", ("discussed",)),  # an older paper a post brought up, however relevant
    ]


def test_a_paper_labelled_by_its_abstract_is_an_unconfirmed_mention_not_a_direction_entry() -> None:
    # a Shamra related paper shown without its title: labelled by its abstract's first words,
    # with an author, and the link of the Shamra page it was listed under
    abstract = (
        "Recent works (e.g., (Li and Arora, 2020)) suggest that the use of popular normalization"
        " schemes (including Batch Normalization) can move deep learning far from a traditional"
        " optimization viewpoint. The current paper highlights other ways."
    )
    label = "Recent works (e.g., (Li and Arora, 2020)) suggest that the use of popular normalization schemes (including…"
    shamra_page = "https://shamra-academia.com/show/3a43e949ea855f"
    labelled = PaperCluster(
        paper=Paper(key="title:recent works", title=label, authors=("Anirbit Mukherjee",), url=shamra_page),
        sightings=(
            Sighting(
                "shamra",
                "Shamra Academia",
                shamra_page,
                "ar",
                kind=ItemKind.MENTION,
                commentary=abstract,
                titled_by_text=True,
            ),
        ),
    )
    inputs = {**sample_inputs(), "clusters": [labelled], "updated": [], "emerging": []}
    inputs["classifications"] = {labelled.paper.key: Classification("optimization", relevance=0.9)}
    digest = dg.build_digest(**inputs)
    assert digest.sections == ()
    assert [e.paper.title for e in digest.unconfirmed] == [label]
    # the line names it by its label, not as a link to the other paper's Shamra page
    assert f"]({shamra_page})" not in dg.render_markdown(digest).split("Seen in")[0]
    # a label that another source also gives as a title (it merged with a titled sighting) is
    # a paper: only when every source showed no title is it one
    mixed = dataclasses.replace(
        labelled,
        sightings=(
            *labelled.sightings,
            Sighting("blog", "A blog", "https://blog.example/p", "en", kind=ItemKind.MENTION),
        ),
    )
    assert [e.paper.title for e in dg.build_digest(**{**inputs, "clusters": [mixed]}).unconfirmed] == []
    # a paper whose source gave its title is still a paper, even when what a page says about
    # it starts with that title (a Chinese remark restating it, translated back)
    named = dataclasses.replace(
        labelled,
        paper=dataclasses.replace(labelled.paper, title="Recent works (e.g., (Li and Arora, 2020)) suggest"),
        sightings=tuple(dataclasses.replace(s, titled_by_text=False) for s in labelled.sightings),
    )
    assert [e.paper.title for e in dg.build_digest(**{**inputs, "clusters": [named]}).unconfirmed] == []


def test_a_zh_mention_shows_its_commentary_once() -> None:
    said = "等证明了对某些类型的神经网络, 用k层的多项式规模网络需要任意weight(2020)"
    vardi = PaperCluster(
        paper=Paper(
            key="title:neural networks with small weights and depth separation barriers",
            title="Neural Networks with Small Weights and Depth-Separation Barriers",
            authors=("Gal Vardi",),
            url="https://zhuanlan.zhihu.com/p/20020002",
        ),
        sightings=(
            Sighting(
                "zhihu",
                "Zhihu reading list",
                "https://zhuanlan.zhihu.com/p/20020002",
                "zh",
                kind=ItemKind.MENTION,
                commentary=said,
                commentary_lang="zh",
            ),
        ),
    )
    inputs = {**sample_inputs(), "clusters": [vardi], "updated": [], "emerging": []}
    inputs["classifications"] = {vardi.paper.key: Classification("optimization", relevance=0.9)}
    digest = dg.build_digest(**inputs)
    [entry] = digest.sections[0].papers
    # the commentary line shows it; it is no summary (no abstract)
    assert entry.summary == ""
    assert dg.render_markdown(digest).count("等证明了") == 1
    # an unconfirmed mention has no commentary line: there it is the summary
    bare = dataclasses.replace(vardi, paper=dataclasses.replace(vardi.paper, authors=(), url=None))
    [unconfirmed] = dg.build_digest(**{**inputs, "clusters": [bare]}).unconfirmed
    assert unconfirmed.summary.startswith("等证明了")


def test_a_readers_edition_says_what_its_filters_left_out() -> None:
    digest = sample_digest()  # 4 papers, 1 post (about the optimization paper)
    ntk = dg.filter_for_reader(digest, Reader(email="a@example.org", keywords=("neural tangent kernel",)))
    assert [p.paper.arxiv_id for s in ntk.sections for p in s.papers] == ["1806.07572"]
    counts = dict(ntk.counts)
    assert (counts["left_out_papers"], counts["week_papers"]) == (3, 4)
    assert (counts["left_out_posts"], counts["week_posts"]) == (1, 1)
    header = dg.render_markdown(ntk, for_reader=True).split("\n## ", 1)[0]
    assert "Your filters left out 3 of this week's 4 papers and 1 of its 1 post." in header
    assert "您的筛选条件略去了本周 4 篇论文中的 3 篇，以及其 1 篇博客与文章中的 1 篇。" in dg.render_markdown(
        ntk, dg.Edition(language="zh"), for_reader=True
    )
    assert "استبعدت عوامل التصفية التي اخترتها 3 من أصل 4 من أوراق هذا الأسبوع و1 من أصل 1 من تدويناته." in (
        dg.render_markdown(ntk, dg.Edition(language="ar"), for_reader=True)
    )
    # only papers left out: the posts are not mentioned
    no_kernels = dg.filter_for_reader(digest, Reader(email="a@example.org", exclude_directions=("kernels",)))
    assert "Your filters left out 1 of this week's 4 papers.\n" in dg.render_markdown(
        no_kernels, for_reader=True
    )
    # nothing left out (no filters, or filters every paper passes): no line
    for reader in (
        Reader(email="a@example.org"),
        Reader(email="a@example.org", negative_keywords=("knitting",)),
    ):
        edition = dg.filter_for_reader(digest, reader)
        assert (dict(edition.counts)["left_out_papers"], dict(edition.counts)["left_out_posts"]) == (0, 0)
        assert "Your filters left out" not in dg.render_markdown(edition, for_reader=True)
    # the full digest says nothing of filters
    assert "Your filters left out" not in dg.render_markdown(digest)


def test_what_a_readers_filters_left_out_counts_the_emerging_papers_once() -> None:
    digest = dg.build_digest(**_emerging_inputs())  # 8 papers: 5 in sections, 3 in a group
    grokking = dg.filter_for_reader(
        digest, Reader(email="a@example.org", keywords=("delayed generalization",))
    )
    assert dict(grokking.counts)["left_out_papers"] == 5
    assert "Your filters left out 5 of this week's 8 papers" in dg.render_markdown(grokking, for_reader=True)
    # a paper a followed author wrote, moved up from the appendix, was left out of nothing
    nakkiran = dg.filter_for_reader(
        digest,
        Reader(email="a@example.org", keywords=("delayed generalization",), authors=("Preetum Nakkiran",)),
    )
    assert dict(nakkiran.counts)["left_out_papers"] == 5 and dict(nakkiran.counts)["papers"] == 4


# --- a blog's first read, a post that is a reading list, crossposts ----------------------

LW_REVIEW = "https://www.lesswrong.com/posts/AbCdEfGhIjKlMnOpQ/a-review"
AF_REVIEW = "https://www.alignmentforum.org/posts/AbCdEfGhIjKlMnOpQ/a-review"


def _post(source_id: str, url: str, published: dt.datetime, *numbers: int, title: str = "A post") -> Item:
    """A blog post citing the older papers `_listed` makes, by arXiv id."""
    cited = tuple(
        Item(
            source_id,
            ItemKind.MENTION,
            f"paper {n}",
            url=f"https://arxiv.org/abs/1701.{n:05d}",
            arxiv_id=f"1701.{n:05d}",
        )
        for n in numbers
    )
    return Item(source_id, ItemKind.POST, title, url=url, lang="en", published=published, cited=cited)


def _cited_in(number: int, *posts: Item) -> PaperCluster:
    """`_listed`'s paper, seen in these posts (as `pipeline.expand_mentions` makes it)."""
    cluster = _listed(number)
    sightings = tuple(Sighting(p.source_id, p.source_id, p.url, "en", kind=ItemKind.MENTION) for p in posts)
    return dataclasses.replace(cluster, sightings=sightings)


def test_a_first_reads_earlier_posts_and_the_papers_only_they_cite_are_listed_apart() -> None:
    old = _post("distill", "https://distill.pub/2017/momentum", dt.datetime(2017, 4, 4, tzinfo=UTC), 1, 2)
    this_week = _post("distill", "https://distill.pub/2026/new", WINDOW[0] + dt.timedelta(days=1), 2, 3)
    clusters = [_cited_in(1, old), _cited_in(2, old, this_week), _cited_in(3, this_week)]
    inputs = _with_clusters(clusters)
    digest = dg.build_digest(**{**inputs, "posts": [old, this_week]}, backlog_posts={post_id(old)})
    assert [p.url for p in digest.post_backlog] == [old.url]
    assert [p.url for p in digest.posts] == [this_week.url]  # a post of the week is unaffected
    # only the paper the earlier post alone cites leaves the sections, however few they are
    assert [e.paper.key for e in digest.backlog] == ["arxiv:1701.00001"]
    in_sections = {p.paper.key for s in digest.sections for p in s.papers}
    assert {"arxiv:1701.00002", "arxiv:1701.00003"} <= in_sections
    assert dict(digest.counts)["post_backlog"] == 1 and dict(digest.counts)["posts"] == 1
    # a stored digest keeps them; one stored before the field loads without them
    again = dg.digest_from_json(dg.digest_to_json(digest))
    assert again.post_backlog == digest.post_backlog
    data = json.loads(dg.digest_to_json(digest))
    del data["post_backlog"]
    assert dg.digest_from_json(data).post_backlog == ()
    # without a first read the same posts are the week's, as before
    assert dg.build_digest(**{**inputs, "posts": [old, this_week]}).backlog == ()


def test_a_post_bringing_more_than_the_backlog_minimum_of_older_papers_is_a_reading_list() -> None:
    numbers = range(1, dg.BACKLOG_MIN + 3)  # one also cited elsewhere: BACKLOG_MIN + 1 alone
    when = WINDOW[0] + dt.timedelta(days=2)
    review = _post("lesswrong", LW_REVIEW, when, *numbers, title="A review of many papers")
    other = _post("wot", "https://windowsontheory.org/2026/post", when, 1)
    clusters = [_cited_in(n, review, other) if n == 1 else _cited_in(n, review) for n in numbers]
    # a paper new this week that the review also cites stays in the sections
    fresh = dataclasses.replace(
        _cited_in(dg.BACKLOG_MIN + 5, review),
        paper=dataclasses.replace(
            _listed(dg.BACKLOG_MIN + 5).paper, published=WINDOW[0] + dt.timedelta(hours=3)
        ),
    )
    digest = dg.build_digest(**{**_with_clusters([*clusters, fresh]), "posts": [review, other]})
    in_sections = {p.paper.key for s in digest.sections for p in s.papers}
    backlog = {e.paper.key for e in digest.backlog}
    assert backlog == {c.paper.key for c in clusters[1:]}  # also brought up by another post: stays
    assert {clusters[0].paper.key, fresh.paper.key} <= in_sections
    # one paper fewer: no reading list
    few = dg.build_digest(**{**_with_clusters(clusters[:-1]), "posts": [review, other]})
    assert few.backlog == ()


def test_a_crosspost_is_one_post_and_does_not_escape_the_reading_list_rule() -> None:
    numbers = range(1, dg.BACKLOG_MIN + 2)
    when = WINDOW[0] + dt.timedelta(days=2)
    lw = _post("lesswrong", LW_REVIEW, when, *numbers, title="A review")
    af = _post("alignmentforum", AF_REVIEW, when, *numbers, title="A review")
    clusters = [_cited_in(n, lw, af) for n in numbers]
    inputs = {
        **_with_clusters(clusters),
        "posts": [lw, af],
        "source_names": {"lesswrong": "LessWrong", "alignmentforum": "Alignment Forum"},
    }
    digest = dg.build_digest(**inputs)
    (post,) = digest.posts  # listed once, the other site named with it
    assert post.source_id == "alignmentforum" and ("also_in", "lesswrong") in post.extra
    assert {e.paper.key for e in digest.backlog} == {c.paper.key for c in clusters}
    # under the minimum the papers stay, each discussed in the post once
    small = dg.build_digest(**{**inputs, "clusters": [*sample_inputs()["clusters"], clusters[0]]})
    (entry,) = [e for e in dg.all_entries(small) if e.paper.key == clusters[0].paper.key]
    assert [p.url for p in entry.discussed_in] == [AF_REVIEW]
    assert [s.source_name for s in entry.sightings] == ["Alignment Forum", "LessWrong"]


def test_post_identity_knows_lesswrong_crossposts_and_long_guids_only() -> None:
    from dltheory_digest.digest.build import post_identity

    when = dt.datetime(2026, 3, 4, tzinfo=UTC)
    gw = _post("gw", "https://www.greaterwrong.com/posts/AbCdEfGhIjKlMnOpQ/a-review", when)
    assert post_identity(_post("lw", LW_REVIEW, when)) == post_identity(gw) == "lw:AbCdEfGhIjKlMnOpQ"
    # a per-blog counter or a URL guid is no identity across sources; a long opaque one with the title is
    short = dataclasses.replace(_post("a", "https://a.example/1", when), extra=(("guid", "123"),))
    assert post_identity(short) == "https://a.example/1"
    url_guid = dataclasses.replace(short, extra=(("guid", "https://a.example/?p=123"),))
    assert post_identity(url_guid) == "https://a.example/1"
    ghost = dataclasses.replace(short, extra=(("guid", "65f0a1b2c3d4e5f6a7b8c9d0"),))
    assert post_identity(ghost).startswith("guid:65f0a1b2c3d4e5f6a7b8c9d0|")


def test_a_post_in_a_language_no_model_translated_is_not_scored_whatever_its_source_declares() -> None:
    def score(rows: Sequence[tuple[str, str]]) -> list[Classification]:
        return [Classification("generalization", relevance=0.5) for _ in rows]

    def post(title: str, text: str) -> Item:
        return Item(
            "blog", ItemKind.POST, title, url=f"https://blog.example/{len(title)}", lang="en", text=text
        )

    russian = post(
        "Заметки об обобщающей способности", "Заметки об обобщающей способности глубоких нейронных сетей."
    )
    japanese = post("深層学習の汎化誤差についてのノート", "深層学習の汎化誤差について考える。")
    english = post(
        "Notes on generalization", "Why do deep networks generalize? A short note on benign overfitting."
    )
    # English text with a Japanese title: scored on its English text
    titled = post(
        "深層学習の汎化誤差",
        "Why do deep networks generalize? A short note on benign overfitting and double descent.",
    )
    translated = dataclasses.replace(
        russian, url="https://blog.example/ru", text_en="Notes on generalization."
    )
    scored = classify_posts([russian, japanese, english, titled, translated], score)
    assert set(scored) == {post_id(english), post_id(titled), post_id(translated)}
