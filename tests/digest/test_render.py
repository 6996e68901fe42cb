"""What a reader sees in the rendered editions (digest.render, digest.html): a week still under
way, the dates of revised papers, Arabic text in English lines, Arabic plurals, nothing said twice,
and the titles a post links to in a filtered edition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import unicodedata

import pytest

import dltheory_digest.digest as dg
from dltheory_digest.config import Reader
from dltheory_digest.digest.render import COMMENT_MAX_CHARS, bidi_marks, plural_category, short_comment
from dltheory_digest.models import (
    AnnounceType,
    Classification,
    Digest,
    DigestPaper,
    DirectionSection,
    Item,
    ItemKind,
    Note,
    NoteKind,
    Paper,
    Place,
    Sighting,
    SourceReport,
    UpdateReason,
    VersionChange,
)

UTC = dt.UTC
ZONE = "Europe/Berlin"
WINDOW = (dt.datetime(2026, 11, 22, 23, tzinfo=UTC), dt.datetime(2026, 11, 29, 23, tzinfo=UTC))
W48_DAYS = tuple(dt.date(2026, 11, 23) + dt.timedelta(days=i) for i in range(5))
DIRECTIONS = (
    ("generalization", "Generalization"),
    ("optimization", "Optimization and implicit bias"),
    ("kernels", "Overparameterization, NTK and infinite width"),
    ("other", "Other"),
)
FSI, PDI = "\u2068", "\u2069"
ARABIC_REMARK = "مسح لنظريات التعميم في الشبكات العميقة وحدود المعاملات."


def entry(
    arxiv_id: str,
    title: str,
    direction: str = "generalization",
    *,
    published: dt.datetime | None = dt.datetime(2026, 11, 24, 19, tzinfo=UTC),
    updated: dt.datetime | None = None,
    version: int = 1,
    badges: tuple[str, ...] = ("new",),
    sightings: tuple[Sighting, ...] = (),
    discussed_in: tuple[Item, ...] = (),
) -> DigestPaper:
    paper = Paper(
        key=f"arxiv:{arxiv_id}",
        title=title,
        arxiv_id=arxiv_id,
        version=version,
        authors=("A. Author",),
        abstract="We study a question. We answer it.",
        published=published,
        updated=updated or published,
        categories=("cs.LG",),
        primary_category="cs.LG",
    )
    return DigestPaper(
        paper=paper,
        classification=Classification(primary=direction, scores=((direction, 0.9),), relevance=0.9),
        sightings=sightings,
        summary="We study a question. We answer it.",
        badges=badges,
        discussed_in=discussed_in,
    )


def digest_of(
    sections: tuple[DirectionSection, ...] = (),
    *,
    updated: tuple[DigestPaper, ...] = (),
    posts: tuple[Item, ...] = (),
    covers_until: dt.datetime | None = None,
) -> Digest:
    papers = sum(len(s.papers) for s in sections)
    return Digest(
        week="2026-W48",
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        timezone=ZONE,
        sections=sections,
        updated=updated,
        posts=posts,
        announcement_days=W48_DAYS,
        counts=(
            ("papers", papers),
            ("directions", len(sections)),
            ("updated", len(updated)),
            ("posts", len(posts)),
        ),
        directions=DIRECTIONS,
        covers_until=covers_until,
    )


def ar_edition() -> dg.Edition:
    return dg.Edition(language="ar", translations={"x": "y"}, model="argos en→ar 1.0")


def zh_edition() -> dg.Edition:
    return dg.Edition(language="zh", translations={"x": "y"}, model="argos en→zh 1.9")


# 1. a week still under way -------------------------------------------------------------------

# Wednesday 2026-11-25, 14:30 in Berlin
WEDNESDAY = dt.datetime(2026, 11, 25, 13, 30, tzinfo=UTC)


def test_a_partial_week_says_so_and_up_to_when_in_every_edition() -> None:
    digest = digest_of(covers_until=WEDNESDAY)
    english = dg.render_markdown(digest)
    assert (
        "**Partial:** this week is still under way; this digest covers up to "
        "2026-11-25 14:30 (Europe/Berlin)." in english
    )
    # nothing found yet is not "no papers this week"
    assert "No papers so far this week." in english and "No papers this week." not in english
    zh = dg.render_markdown(digest, zh_edition())
    assert "**未完结:** 本周尚未结束；本期周报只涵盖到 2026-11-25 14:30 (Europe/Berlin)。" in zh
    assert "本周到目前为止没有论文。" in zh
    ar = dg.render_markdown(digest, ar_edition())
    assert "**موجز جزئي:**" in ar and "\u20662026-11-25 14:30 (Europe/Berlin)\u2069" in ar
    assert "لا أوراق حتى الآن هذا الأسبوع." in ar
    # the mail's other parts carry it too
    assert "this digest covers up to" in dg.render_plain_text(english)
    assert "this digest covers up to" in dg.render_html(english)


def test_announcement_days_not_yet_come_are_marked_as_to_come() -> None:
    english = dg.render_markdown(digest_of(covers_until=WEDNESDAY))
    [days] = [line for line in english.split("\n") if line.startswith("arXiv announcement days")]
    past, to_come = days.split("; still to come: ")
    assert past.endswith("2026-11-23 (Mon), 2026-11-24 (Tue), 2026-11-25 (Wed)")
    assert to_come.rstrip() == "2026-11-26 (Thu), 2026-11-27 (Fri)"
    # made at 00:30 on Monday in Berlin, before arXiv's Sunday 20:00 (US Eastern) announcement
    sunday = dg.render_markdown(digest_of(covers_until=dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC)))
    assert "arXiv announcement days (still to come): 2026-11-23 (Mon)" in sunday
    # made at 03:00 on Monday in Berlin: Monday's listing is out
    monday = dg.render_markdown(digest_of(covers_until=dt.datetime(2026, 11, 23, 2, tzinfo=UTC)))
    assert "arXiv announcement days: 2026-11-23 (Mon); still to come: 2026-11-24 (Tue)" in monday
    # the whole week: all listed, nothing to come, no partial line
    whole = dg.render_markdown(digest_of())
    assert "still to come" not in whole and "Partial" not in whole
    assert "No papers this week." in whole
    assert "2026-11-27 (Fri)" in whole


def test_the_moment_a_partial_digest_covers_survives_json_and_old_json_reads_as_a_whole_week() -> None:
    digest = digest_of(covers_until=WEDNESDAY)
    assert dg.digest_from_json(dg.digest_to_json(digest)) == digest
    old = json.loads(dg.digest_to_json(digest))
    del old["covers_until"]  # a digest stored before the field existed
    assert dg.digest_from_json(old).covers_until is None


# 2. the dates of a revised paper ------------------------------------------------------------


def revised_zhang() -> DigestPaper:
    return dataclasses.replace(
        entry(
            "1611.03530",
            "Understanding deep learning requires rethinking generalization",
            published=dt.datetime(2016, 11, 10, 16, tzinfo=UTC),
            updated=dt.datetime(2026, 11, 20, 10, tzinfo=UTC),
            version=3,
            badges=("updated v3",),
        ),
        update_reason=UpdateReason(version_change=VersionChange(new=3, old=2, week="2026-W40")),
    )


def test_a_revised_paper_shows_when_it_first_appeared_and_when_this_version_did() -> None:
    paper = revised_zhang()
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),), updated=(paper,))
    english = dg.render_markdown(digest)
    # the paper's block and its one-line entry under "Updated"
    assert "A. Author · 2016-11-10 (v3: 2026-11-20) · cs.LG · arXiv:1611.03530v3" in english
    assert (
        "- [Understanding deep learning requires rethinking generalization](https://arxiv.org/abs/1611.03530)"
        " · 2016-11-10 (v3: 2026-11-20) · `updated v3` · arXiv:1611.03530v3" in english
    )
    assert "· 2026-11-20 ·" not in english
    zh = dg.render_markdown(digest, zh_edition())
    assert "2016-11-10（v3：2026-11-20）" in zh
    ar = dg.render_markdown(digest, ar_edition())
    assert "\u20662016-11-10\u2069 (\u2066v3\u2069: \u20662026-11-20\u2069)" in ar
    # a shortened mail's one line per paper keeps both dates
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True))
    assert "· 2016-11-10 (v3: 2026-11-20) · `updated v3`" in short


def test_a_new_paper_shows_one_date_and_a_listed_revision_the_month_its_id_says() -> None:
    new = entry("2611.01234", "A new bound")
    # an arXiv listing of a replacement gives the revision's date only: the id tells the month
    listed = dataclasses.replace(
        revised_zhang(), paper=dataclasses.replace(revised_zhang().paper, published=None)
    )
    old_style = dataclasses.replace(
        listed, paper=dataclasses.replace(listed.paper, arxiv_id="math/0309136", key="arxiv:math/0309136")
    )
    no_id = dataclasses.replace(listed, paper=dataclasses.replace(listed.paper, arxiv_id=None, key="title:x"))
    digest = digest_of(
        (DirectionSection("generalization", "Generalization", (new, listed, old_style, no_id)),)
    )
    english = dg.render_markdown(digest)
    assert "A. Author · 2026-11-24 · cs.LG · arXiv:2611.01234v1" in english
    assert "A. Author · 2016-11 (v3: 2026-11-20) · cs.LG · arXiv:1611.03530v3" in english
    assert "A. Author · 2003-09 (v3: 2026-11-20) · cs.LG · arXiv:math/0309136v3" in english
    assert "A. Author · v3: 2026-11-20 · cs.LG" in english
    # one-line forms date every paper as the full blocks do: a new one by its first version
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True))
    assert "[A new bound](https://arxiv.org/abs/2611.01234) · 2026-11-24 · `new`" in short
    assert "[A new bound](https://arxiv.org/abs/2611.01234) · 2016-11 (v3: 2026-11-20)" not in short


# 3. Arabic text inside English lines ---------------------------------------------------------


def shamra_sighting() -> Sighting:
    return Sighting(
        source_id="shamra",
        source_name="Shamra Academia",
        url="https://shamra-academia.com/show/3a3f",
        lang="ar",
        commentary="A survey of generalization theories in deep networks and parameter bounds.",
        commentary_original=ARABIC_REMARK,
        commentary_lang="ar",
        translated_by="argos ar→en 1.0",
    )


def untranslated_shamra_sighting() -> Sighting:
    return dataclasses.replace(
        shamra_sighting(), commentary=ARABIC_REMARK, commentary_original="", translated_by=None
    )


def arabic_post() -> Item:
    return Item(
        source_id="shamra-blog",
        kind=ItemKind.POST,
        title="شرح نظرية التعميم.",
        url="https://example.org/ar-post",
        lang="ar",
        title_en="Generalization theory explained.",
        published=dt.datetime(2026, 11, 24, tzinfo=UTC),
    )


def test_arabic_quoted_in_an_english_line_is_isolated_in_markdown_text_and_html() -> None:
    paper = entry("2611.00001", "Generalization survey", sightings=(shamra_sighting(),))
    untranslated = entry("2611.00002", "Another survey", sightings=(untranslated_shamra_sighting(),))
    digest = digest_of(
        (DirectionSection("generalization", "Generalization", (paper, untranslated)),), posts=(arabic_post(),)
    )
    english = dg.render_markdown(digest)
    # the remark's final period stays at its (left) end: the run has its own direction
    assert f"*original:* {FSI}{ARABIC_REMARK}{PDI}" in english
    # no model put it into English: shown as written, its "(ar)" saying what it is (the notes
    # say once that some texts could not be translated)
    assert f"*Shamra Academia (ar):* {FSI}{ARABIC_REMARK}{PDI}\n" in english
    # a post's original title, next to its English one
    assert f"*{FSI}شرح نظرية التعميم.{PDI}*" in english
    # the text part: the marks every client knows (a text-only client draws isolates as boxes)
    text = dg.render_plain_text(english)
    assert f"\u200f{ARABIC_REMARK}\u200f" in text
    assert not any(c in text for c in "\u2066\u2067\u2068\u2069")
    html = dg.render_html(english)
    assert f'<span dir="auto" lang="ar">{ARABIC_REMARK}</span>' in html
    assert '<em><span dir="auto" lang="ar">شرح نظرية التعميم.</span></em>' in html
    # English text is never wrapped in an English edition
    assert f"{FSI}A survey" not in english and f"{FSI}Generalization" not in english


def test_an_edition_fallen_back_to_english_isolates_arabic_too() -> None:
    paper = entry("2611.00001", "Generalization survey", sightings=(shamra_sighting(),))
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    fallen = dg.Edition(language="ar", note=dg.labels_for("ar")["untranslated"])
    assert f"{FSI}{ARABIC_REMARK}{PDI}" in dg.render_markdown(digest, fallen, for_reader=True)


def test_latin_and_chinese_runs_in_an_arabic_line_are_isolated() -> None:
    chinese = Sighting(
        source_id="zhihu",
        source_name="Zhihu",
        url="https://zhuanlan.zhihu.com/p/1",
        lang="zh",
        commentary="A clear derivation.",
        commentary_original="推导很清楚。",
        commentary_lang="zh",
    )
    paper = entry("2611.00001", "Generalization survey", sightings=(chinese,))
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    ar = dg.render_markdown(digest, ar_edition())
    assert f"*Zhihu (zh):* {FSI}A clear derivation.{PDI} · *النص الأصلي:* {FSI}推导很清楚。{PDI}" in ar


def test_isolating_keeps_text_of_the_editions_own_direction_as_it_is() -> None:
    assert dg.ENGLISH.foreign("Deep nets.") == "Deep nets."
    assert dg.ENGLISH.foreign("شبكات عميقة.") == f"{FSI}شبكات عميقة.{PDI}"
    assert ar_edition().foreign("شبكات عميقة.") == "شبكات عميقة."
    assert ar_edition().foreign("Deep nets.") == f"{FSI}Deep nets.{PDI}"
    assert dg.ENGLISH.foreign("2026-11-20") == "2026-11-20"  # digits alone have no direction


# 4. Arabic plurals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "category"),
    [(0, "zero"), (1, "one"), (2, "two"), (3, "few"), (10, "few"), (11, "many"), (99, "many"),
     (100, "other"), (102, "other"), (103, "few"), (111, "many"), (1000, "other")],
)  # fmt: skip
def test_arabic_plural_categories_follow_cldr(count: int, category: str) -> None:
    assert plural_category(count, "ar") == category


def test_english_and_chinese_plural_categories() -> None:
    assert [plural_category(n, "en") for n in (0, 1, 2, 21)] == ["other", "one", "other", "other"]
    assert {plural_category(n, "zh") for n in (0, 1, 2, 11)} == {"other"}


def papers_in_one_section(count: int) -> Digest:
    papers = tuple(entry(f"2611.{i:05d}", f"Paper {i}") for i in range(count))
    return digest_of((DirectionSection("generalization", "Generalization", papers),))


@pytest.mark.parametrize(
    ("count", "papers", "directions"),
    [(1, "ورقة", "اتجاه"), (2, "ورقتان", "اتجاه"), (7, "أوراق", "اتجاه"), (11, "ورقة", "اتجاه")],
)
def test_arabic_counts_use_the_form_the_number_takes(count: int, papers: str, directions: str) -> None:
    ar = dg.render_markdown(papers_in_one_section(count), ar_edition())
    # the dual says its number itself: "ورقتان" alone, not after "2"
    counted = f"**{papers}**" if count == 2 else f"**{count}** {papers}"
    assert f"{counted} · **1** {directions}" in ar


def test_arabic_subject_and_counted_labels_agree_with_their_numbers() -> None:
    digest = papers_in_one_section(7)
    digest = dataclasses.replace(digest, counts=(*digest.counts[:2], ("updated", 2), ("resources", 2)))
    subject = dg.subject_for(digest, ar_edition())
    assert subject.endswith(": 7 أوراق، ورقتان محدّثتان، محاضرتان أو مقرران")
    assert "من المحاضرات" not in subject
    header = dg.render_markdown(digest, ar_edition())
    assert "**ورقتان محدّثتان**" in header and "**محاضرتان أو مقرران**" in header
    assert "**2**" not in header
    # English keeps its singular and plural
    one = papers_in_one_section(1)
    assert dg.subject_for(one).endswith(": 1 paper")
    assert "**1** paper · **1** direction" in dg.render_markdown(one)
    assert dg.subject_for(digest).endswith(": 7 papers, 2 updated, 2 talks and courses")


def test_every_arabic_counted_label_has_its_dual_and_plural() -> None:
    ar = dg.labels_for("ar")
    counted = ["papers", "directions", "updated_count", "posts_count", "unconfirmed_count", "backlog_count"]
    counted += ["resources_count", "resource_backlog_count", "subject", "subject_updated", "subject_talks"]
    counted += ["discussed_count", "subject_discussed"]
    for key in counted:
        forms = {
            ar[key],
            ar[f"{key}_one"] if f"{key}_one" in ar else ar[key],
            ar[f"{key}_two"],
            ar[f"{key}_few"],
        }
        assert len(forms) >= 2, key  # the dual and 3-10 differ from the 11+ form


# 5. nothing said twice -----------------------------------------------------------------------


def reading_list_post() -> Item:
    return Item(
        source_id="zhihu",
        kind=ItemKind.POST,
        title="深度学习理论阅读清单",
        url="https://zhuanlan.zhihu.com/p/999",
        lang="zh",
        title_en="A deep learning theory reading list",
        published=dt.datetime(2026, 11, 24, tzinfo=UTC),
        cited=tuple(
            Item(source_id="zhihu", kind=ItemKind.MENTION, title="这篇", arxiv_id=a)
            for a in ("2611.00001", "2611.00002", "2611.00003", "2611.00004")
        ),
    )


def three_sections_cited_by_one_post() -> Digest:
    post = reading_list_post()
    gen = (entry("2611.00001", "Bound one", discussed_in=(post,)),)
    opt = tuple(
        entry(a, t, "optimization", discussed_in=(post,))
        for a, t in (("2611.00002", "Descent two"), ("2611.00003", "Descent three"))
    )
    ker = (entry("2611.00004", "Kernel four", "kernels", discussed_in=(post,)),)
    sections = (
        DirectionSection("generalization", "Generalization", gen, (post,)),
        DirectionSection("optimization", "Optimization and implicit bias", opt, (post,)),
        DirectionSection("kernels", "Overparameterization, NTK and infinite width", ker, (post,)),
    )
    return digest_of(sections, posts=(post,))


def test_a_post_citing_papers_of_several_directions_is_listed_once_where_most_of_them_are() -> None:
    english = dg.render_markdown(three_sections_cited_by_one_post())
    sections_part = english.split("## Blog posts")[0]
    assert sections_part.count("A deep learning theory reading list") == 1
    assert sections_part.count("**Discussed in posts and articles:**") == 1
    optimization = sections_part.split("## Optimization and implicit bias (2)")[1]
    assert "A deep learning theory reading list" in optimization.split("## Overparameterization")[0]
    assert (
        " — also discusses papers in: [Generalization](#generalization-1); "
        "[Overparameterization, NTK and infinite width](#overparameterization-ntk-and-infinite-width-1)"
    ) in optimization
    # the links lead to the headings
    html = dg.render_html(english)
    assert 'id="generalization-1"' in html and 'id="overparameterization-ntk-and-infinite-width-1"' in html


def test_a_reader_without_the_posts_main_direction_still_finds_it_in_a_section() -> None:
    reader = Reader(email="r@example.org", exclude_directions=("optimization",))
    edition = dg.filter_for_reader(three_sections_cited_by_one_post(), reader)
    english = dg.render_markdown(edition)
    sections_part = english.split("## Blog posts")[0]
    assert sections_part.count("A deep learning theory reading list") == 1
    assert "also discusses papers in: [Overparameterization" in sections_part


def test_the_note_of_an_edition_fallen_back_to_english_is_said_once() -> None:
    digest = papers_in_one_section(2)
    for language in ("zh", "ar"):
        note = dg.labels_for(language)["untranslated"]
        fallen = dg.Edition(language=language, note=note)
        for for_reader in (True, False):
            markdown = dg.render_markdown(digest, fallen, for_reader=for_reader)
            assert markdown.count(note) == 1, (language, for_reader)
            # in the header, where the reader starts
            assert markdown.index(note) < markdown.index("## Generalization")


# 6. the titles a post links to in a filtered edition -----------------------------------------


def post_no_section_lists() -> Digest:
    """The reading list of `three_sections_cited_by_one_post` with no section listing it (as
    for a post whose papers are all under "Updated"): it is said in full among the posts."""
    digest = three_sections_cited_by_one_post()
    sections = tuple(
        dataclasses.replace(
            s, posts=(), papers=tuple(dataclasses.replace(p, discussed_in=()) for p in s.papers)
        )
        for s in digest.sections
    )
    return dataclasses.replace(digest, sections=sections)


def test_a_filtered_edition_names_the_papers_a_post_links_to_by_their_titles() -> None:
    digest = post_no_section_lists()
    full = dg.render_markdown(digest)
    assert "[Kernel four](https://arxiv.org/abs/2611.00004)\n" in full.split("## Blog posts")[1]
    assert "not in this edition" not in full
    reader = Reader(email="r@example.org", include_directions=("generalization",))
    edition = dg.filter_for_reader(digest, reader)
    assert [s.direction_id for s in edition.sections] == ["generalization"]
    for made in (dg.ENGLISH, zh_edition()):
        rendered = dg.render_markdown(edition, made)
        links = rendered.split(f"## {made.labels['posts']}")[1].split("\n## ")[0]
        for title, arxiv_id in (("Bound one", "00001"), ("Descent two", "00002"), ("Kernel four", "00004")):
            assert f"[{title}](https://arxiv.org/abs/2611.{arxiv_id})" in links
        assert "[这篇]" not in links
        # the papers the edition left out are linked to arXiv and said to be elsewhere
        absent = " *(not in this edition)*" if made is dg.ENGLISH else "*（本版未收录）*"
        assert f"[Descent two](https://arxiv.org/abs/2611.00002){absent}" in links
        assert f"[Kernel four](https://arxiv.org/abs/2611.00004){absent}" in links
        assert f"[Bound one](https://arxiv.org/abs/2611.00001){absent}" not in links
    # the stored full digest is untouched
    assert digest.posts[0].cited[0].title == "这篇"


def test_a_post_a_direction_lists_is_shown_once_and_counted_among_the_posts() -> None:
    for digest in (
        three_sections_cited_by_one_post(),
        dg.filter_for_reader(three_sections_cited_by_one_post(), Reader(email="r@example.org")),
    ):
        for made in (dg.ENGLISH, zh_edition(), ar_edition()):
            rendered = dg.render_markdown(digest, made)
            posts_part = rendered.split(f"## {made.labels['posts']}")[1].split("\n## ")[0]
            # one line that says where it is: no title, source, date or papers repeated, no list
            assert "zhihu.com/p/999" not in posts_part and "\n- " not in posts_part
            assert "](#optimization-and-implicit-bias-2)" in posts_part
            assert made.labels["links_to"] not in posts_part and "Kernel four" not in posts_part
            title = "深度学习理论阅读清单" if made.language == "zh" else "A deep learning theory reading list"
            assert rendered.count(title) == 1, made.language
    english = dg.render_markdown(three_sections_cited_by_one_post())
    assert (
        "## Blog posts, articles and discussions (1)\n\n1 listed with the papers it discusses, under "
        "[Optimization and implicit bias](#optimization-and-implicit-bias-2)\n"
    ) in english
    zh = dg.render_markdown(three_sections_cited_by_one_post(), zh_edition())
    assert "1 篇与其讨论的论文一同列于：[" in zh


def test_posts_no_direction_lists_are_a_tight_list_before_the_line_for_the_others() -> None:
    digest = three_sections_cited_by_one_post()
    alone = [
        Item(
            source_id="offconvex",
            kind=ItemKind.POST,
            title=f"Musings {n}",
            url=f"https://www.offconvex.org/2026/11/2{n}/musings/",
            lang="en",
            published=dt.datetime(2026, 11, 20 + n, tzinfo=UTC),
        )
        for n in (4, 5)
    ]
    second = dataclasses.replace(
        reading_list_post(), url="https://zhuanlan.zhihu.com/p/1000", title="第二份清单"
    )
    sections = tuple(dataclasses.replace(s, posts=(*s.posts, second)) for s in digest.sections)
    digest = dataclasses.replace(digest, sections=sections, posts=(*digest.posts, *alone, second))
    english = dg.render_markdown(digest)
    posts_part = english.split("## Blog posts, articles and discussions (4)\n\n")[1].split("\n## ")[0]
    assert posts_part.startswith(
        "- [Musings 4](https://www.offconvex.org/2026/11/24/musings/) — offconvex · 2026-11-24\n"
        "- [Musings 5](https://www.offconvex.org/2026/11/25/musings/) — offconvex · 2026-11-25\n\n"
        # the directions they are under, in the digest's order
        "2 listed with the papers they discuss, under [Generalization](#generalization-1); "
        "[Optimization and implicit bias](#optimization-and-implicit-bias-2)\n"
    )
    # the HTML list is tight: no paragraph in each item
    html = dg.render_html(english)
    assert "<li><p>" not in html.split("Musings 4")[0][-200:]


def missed(text: str, *weeks: str) -> Note:
    return Note(NoteKind.MISSED_WEEKS, text, weeks=weeks)


def test_the_arabic_note_on_missed_weeks_agrees_with_how_many_weeks() -> None:
    ar = ar_edition()
    [one] = dg.reader_notes([missed("No digest was made for 2026-W46 (no run).", "2026-W46")], ar)
    assert one.startswith("لم يصدر موجز للأسبوع \u20662026-W46\u2069؛")
    [two] = dg.reader_notes(
        [missed("No digest was made for 2026-W45 (no run), 2026-W46 (no run).", "2026-W45", "2026-W46")], ar
    )
    assert two.startswith("لم يصدر موجز للأسبوعين ")
    [three] = dg.reader_notes(
        [missed("No digest was made for 2026-W44, 2026-W45, 2026-W46.", "2026-W44", "2026-W45", "2026-W46")],
        ar,
    )
    assert three.startswith("لم يصدر موجز للأسابيع ")
    [english] = dg.reader_notes([missed("No digest was made for 2026-W46 (no run).", "2026-W46")])
    assert english.startswith("No digest was made for 2026-W46;")


def test_a_notes_reader_line_comes_from_its_kind_and_facts_never_its_wording() -> None:
    zh, ar = zh_edition(), ar_edition()
    reworded = [
        Note(NoteKind.UNTRANSLATED, "anything", lang="zh"),
        Note(NoteKind.DISCARDED, "Modell-Ausgabe verworfen", lang="ar"),
        Note(NoteKind.ARXIV_LOOKUP, "the API was slow"),
        missed("skipped: two weeks", "2026-W45", "2026-W46"),
        # worded as another kind: still only the operator's
        Note(NoteKind.OTHER, "untranslated: no zh→en model"),
        Note(NoteKind.CROSSREF_LOOKUP, "arXiv lookup: id_list failed"),
    ]
    for edition in (dg.ENGLISH, zh, ar):
        labels = dg.labels_for(edition.language)
        lines = dg.reader_notes(reworded, edition)
        assert lines[0] == labels["note_untranslated"]  # zh text for en and ar, ar text for en and zh
        assert lines[1] == labels["note_lookup_failed"]
        assert "2026-W45" in lines[2] and "2026-W46" in lines[2]
        # a Crossref outage: journal papers show as cited, and the reader is told why
        assert lines[3] == labels["note_crossref_failed"] and len(lines) == 4
    # the language a reader reads is not one they are told is untranslated
    assert dg.reader_notes(reworded[:1], zh) == [] and dg.reader_notes(reworded[1:2], ar) == []
    assert dg.reader_notes(reworded[:1], ar) == [dg.labels_for("ar")["note_untranslated"]]


def test_an_unconfirmed_arabic_mention_is_isolated_in_an_english_line() -> None:
    mention = dataclasses.replace(
        entry("x", "نظرية التعميم", sightings=(untranslated_shamra_sighting(),)),
        paper=Paper(key="title:نظرية التعميم", title="نظرية التعميم"),
        summary=ARABIC_REMARK,
        badges=(),
    )
    digest = dataclasses.replace(digest_of(), unconfirmed=(mention,), counts=(("unconfirmed", 1),))
    english = dg.render_markdown(digest)
    assert (
        f"- **{FSI}نظرية التعميم{PDI}** — {FSI}{ARABIC_REMARK}{PDI} — Seen in: [Shamra Academia]" in english
    )


def test_an_arabic_source_name_is_isolated_in_an_english_line() -> None:
    named = dataclasses.replace(shamra_sighting(), source_name="شمرا أكاديميا")
    paper = entry("2611.00001", "Generalization survey", sightings=(named,))
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    english = dg.render_markdown(digest)
    assert f"Seen in: [{FSI}شمرا أكاديميا{PDI}](https://shamra-academia.com/show/3a3f) (ar)" in english
    assert f"*{FSI}شمرا أكاديميا{PDI} (ar):*" in english


def test_text_that_starts_in_the_editions_direction_is_not_isolated() -> None:
    # an English title quoting an Arabic word reads left to right as a whole
    assert dg.ENGLISH.foreign("On the word تعميم.") == "On the word تعميم."
    assert ar_edition().foreign("عن نموذج GPT.") == "عن نموذج GPT."
    # an Arabic remark quoting an English term is still isolated in an English line
    assert dg.ENGLISH.foreign("نموذج GPT جيد.") == f"{FSI}نموذج GPT جيد.{PDI}"


# the source report counts the papers a post cites -----------------------------------------


def test_the_source_report_counts_the_papers_a_reading_list_cites_beside_its_posts() -> None:
    reports = (
        SourceReport("zhihu-dl-theory-reading-list", "zhihu", fetched=1, parsed=1, cited=6, new=1),
        SourceReport("empty-list", "zhihu", fetched=1, parsed=1, new=1),
        SourceReport("dead-blog", "feed", cited=0, error="[dead-blog] ConnectError: refused"),
    )
    digest = dataclasses.replace(digest_of(), reports=reports)
    markdown = dg.render_markdown(digest)
    # one post that brought six papers does not read as one post that brought none
    assert "| zhihu-dl-theory-reading-list | ok | zhihu | 1 | 1 + 6 cited | 1 | 0 | 0 |" in markdown
    assert "| empty-list | ok | zhihu | 1 | 1 | 1 | 0 | 0 |" in markdown
    assert "| dead-blog | **failed:** ConnectError: refused | feed | — | — | — | — | 0 |" in markdown
    assert "| 1 | 1，另引用 6 篇 | 1 |" in dg.render_markdown(digest, zh_edition())
    assert "| 1 | 1 + 6 مُستشهَد بها | 1 |" in dg.render_markdown(digest, ar_edition())
    # a digest stored before the count reads as before
    stored = json.loads(dg.digest_to_json(digest))
    for report in stored["reports"]:
        del report["cited"]
    assert [r.cited for r in dg.digest_from_json(stored).reports] == [0, 0, 0]


# dates in the digest's zone ------------------------------------------------------------------


def post_at(published: dt.datetime | None) -> Item:
    return dataclasses.replace(reading_list_post(), cited=(), published=published)


@pytest.mark.parametrize(
    ("zone", "day"),
    [("Asia/Shanghai", "2026-11-23"), ("Europe/Berlin", "2026-11-23"), ("America/New_York", "2026-11-22")],
)
def test_a_posts_date_is_the_day_it_falls_on_in_the_digests_zone(zone: str, day: str) -> None:
    from dltheory_digest.sources.blocks import BEIJING, parse_date

    # Zhihu shows "2026-11-23 07:30", Beijing time: 23:30 UTC the day before
    published = parse_date("2026-11-23 07:30", BEIJING)
    assert published == dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    digest = dataclasses.replace(digest_of(posts=(post_at(published),)), timezone=zone)
    [line] = [line for line in dg.render_markdown(digest).splitlines() if "p/999" in line]
    assert f"zhihu · {day} · zh" in line


def test_a_day_given_without_a_time_is_that_day_in_every_zone() -> None:
    from dltheory_digest.sources.blocks import parse_date

    published = parse_date("2026-11-24")  # a blog's date without a time: 00:00 UTC
    for zone in ("America/Los_Angeles", "Asia/Shanghai", "UTC"):
        digest = dataclasses.replace(digest_of(posts=(post_at(published),)), timezone=zone)
        assert "zhihu · 2026-11-24 · zh" in dg.render_markdown(digest), zone


def test_a_post_misdated_to_the_calendars_end_renders_without_crashing() -> None:
    published = dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC)  # no day in Beijing: past year 9999
    digest = dataclasses.replace(digest_of(posts=(post_at(published),)), timezone="Asia/Shanghai")
    assert "zhihu · 9999-12-31 · zh" in dg.render_markdown(digest)


def test_a_papers_dates_are_arxivs_days_whatever_the_digests_zone() -> None:
    """arXiv's abstract page dates a version by its UTC day and a listing is dated at 00:00 US
    Eastern: the digest says the same days in every zone, so a date matches the page it links."""
    paper = dataclasses.replace(
        revised_zhang(),
        paper=dataclasses.replace(
            revised_zhang().paper,
            published=dt.datetime(2016, 11, 10, 20, tzinfo=UTC),  # submitted 20:00 UTC
            updated=dt.datetime(2026, 11, 24, 5, tzinfo=UTC),  # Monday's listing, 00:00 in New York
        ),
    )
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    for zone in ("Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles"):
        markdown = dg.render_markdown(dataclasses.replace(digest, timezone=zone))
        assert "A. Author · 2016-11-10 (v3: 2026-11-24) ·" in markdown, zone


# 7. what the header counts, the reason's link, the appendix's dates ---------------------------


def offconvex_post() -> Item:
    return Item(
        source_id="offconvex",
        kind=ItemKind.POST,
        title="When interpolation is harmless",
        url="http://offconvex.github.io/2026/11/17/benign-interpolation/",
        lang="en",
        published=dt.datetime(2026, 11, 24, 9, tzinfo=UTC),
        cited=(Item(source_id="offconvex", kind=ItemKind.MENTION, title="this", arxiv_id="1812.11118"),),
    )


def back_because(arxiv_id: str, title: str, reason: UpdateReason, *, post: Item | None = None) -> DigestPaper:
    old = dt.datetime(2018, 12, 28, tzinfo=UTC)
    back = entry(arxiv_id, title, published=old, badges=("discussed",), discussed_in=(post,) if post else ())
    return dataclasses.replace(back, update_reason=reason)


DISCUSSED = UpdateReason(discussed_on=(Place("Off the convex path"),))
REVISED = UpdateReason(version_change=VersionChange(new=3, old=2, week="2026-W45"))


def test_the_header_counts_newly_discussed_papers_apart_from_updated_ones() -> None:
    papers = (entry("2611.00001", "Bound one"),)
    section = DirectionSection("generalization", "Generalization", papers)
    one_each = digest_of(
        (section,),
        updated=(
            back_because("1812.11118", "Reconciling", DISCUSSED),
            back_because("1611.03530", "Rethinking", REVISED),
        ),
    )
    two_discussed = digest_of(
        (section,),
        updated=(
            back_because("1812.11118", "Reconciling", DISCUSSED),
            back_because("1906.11300", "Benign overfitting", DISCUSSED),
        ),
    )
    english = dg.render_markdown(one_each)
    assert "**1** paper · **1** direction · **1** updated · **1** newly discussed" in english
    assert dg.subject_for(one_each).endswith(": 1 paper, 1 updated, 1 newly discussed")
    english = dg.render_markdown(two_discussed)
    assert "**2** newly discussed" in english and "updated" not in english.split("\n\n")[1]
    assert dg.subject_for(two_discussed).endswith(": 1 paper, 2 newly discussed")
    assert "**1** 篇论文 · **1** 个方向 · **2** 篇新近被讨论" in dg.render_markdown(
        two_discussed, zh_edition()
    )
    assert dg.subject_for(two_discussed, zh_edition()).endswith("，2 篇新近被讨论")
    # Arabic: the dual says its number itself
    arabic = dg.render_markdown(two_discussed, ar_edition())
    assert "**ورقتان نوقشتا حديثًا**" in arabic and "محدّث" not in arabic.split("\n\n")[1]
    assert dg.subject_for(two_discussed, ar_edition()).endswith("، ورقتان نوقشتا حديثًا")
    # the section keeps its title, and a stored one-line reason counts as it reads
    legacy = dataclasses.replace(
        two_discussed,
        updated=tuple(
            dataclasses.replace(p, update_reason=UpdateReason(legacy_text="newly discussed on Zhihu (zh)"))
            for p in two_discussed.updated
        ),
    )
    assert "**2** newly discussed" in dg.render_markdown(legacy)


def test_the_place_a_paper_is_newly_discussed_on_links_the_post() -> None:
    post = offconvex_post()
    back = back_because("1812.11118", "Reconciling", DISCUSSED, post=post)
    digest = dataclasses.replace(
        digest_of(updated=(back,), posts=(post,)), source_names=(("offconvex", "Off the convex path"),)
    )
    link = "[Off the convex path](http://offconvex.github.io/2026/11/17/benign-interpolation/)"
    english = dg.render_markdown(digest)
    assert f" — newly discussed on {link}\n" in english
    assert f"新近在 {link} 上被讨论" in dg.render_markdown(digest, zh_edition())
    html = dg.render_html(english)
    assert (
        'href="http://offconvex.github.io/2026/11/17/benign-interpolation/"'
        in html.split("— newly discussed")[1]
    )
    # without the post's link the place is named, not linked
    unlinked = dataclasses.replace(digest, updated=(dataclasses.replace(back, discussed_in=()),))
    assert " — newly discussed on Off the convex path\n" in dg.render_markdown(unlinked)


def test_the_appendix_dates_new_papers_as_the_sections_do() -> None:
    below = entry("2611.00009", "A low-relevance paper")
    digest = dataclasses.replace(digest_of(), below_threshold=(below,), counts=(("below_threshold", 1),))
    english = dg.render_markdown(digest)
    [line] = [line for line in english.splitlines() if "A low-relevance paper" in line]
    assert "(https://arxiv.org/abs/2611.00009) · 2026-11-24 · `new`" in line
    revised = dataclasses.replace(digest, below_threshold=(revised_zhang(),))
    assert "2016-11-10 (v3: 2026-11-20) · `updated v3`" in dg.render_markdown(revised)


# 8. the language of each run in the HTML mail -------------------------------------------------


def test_text_in_another_language_than_the_editions_has_its_lang_in_the_html() -> None:
    zhihu = Sighting(
        "zhihu",
        "知乎",
        "https://zhuanlan.zhihu.com/p/1",
        "zh",
        kind=ItemKind.POST,
        commentary="The founding paper of the NTK.",
        commentary_original="NTK 的开山之作。",
        commentary_lang="zh",
    )
    paper = entry("2611.00001", "Bound one", sightings=(zhihu, shamra_sighting()))
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    html = dg.render_html(dg.render_markdown(digest))
    assert '<html lang="en"' in html
    assert '<span lang="zh">知乎</span>' in html and '<span lang="zh">的开山之作。</span>' in html
    # an Arabic remark keeps its isolation and says its language in the same span
    assert f'<span dir="auto" lang="ar">{ARABIC_REMARK}</span>' in html
    assert 'lang="en"' not in html.split("<body")[1]  # English needs none in an English edition
    # an edition fallen back to English: its note in the reader's language is marked
    fallen = dg.Edition(language="zh", note=dg.labels_for("zh")["untranslated"])
    html = dg.render_html(dg.render_markdown(digest, fallen), language="en")
    assert f'<span lang="zh">{dg.labels_for("zh")["untranslated"]}</span>' in html
    # a Chinese edition: Chinese needs no span, the English title does
    zh = dg.render_html(dg.render_markdown(digest, zh_edition()), language="zh")
    assert '<html lang="zh"' in zh
    assert '<span lang="zh">' not in zh and '<span lang="en">Bound one</span>' in zh
    # the sanitizer keeps a span's language and direction, nothing else
    assert dg.sanitize_html('<span lang="zh" dir="auto" onclick="x()">中</span>') == (
        '<span lang="zh" dir="auto">中</span>'
    )


# 9. commentary from a source in the other language, in the edition's language ------------------

ZHIHU_REMARK = "NTK 的开山之作。"
ZHIHU_ENGLISH = "The founding paper of the NTK."
SHAMRA_ENGLISH = "A survey of generalization theories in deep networks and parameter bounds."


def zhihu_sighting() -> Sighting:
    return Sighting(
        "zhihu",
        "知乎",
        "https://zhuanlan.zhihu.com/p/1",
        "zh",
        kind=ItemKind.POST,
        commentary=ZHIHU_ENGLISH,
        commentary_original=ZHIHU_REMARK,
        commentary_lang="zh",
        translated_by="argos zh→en 1.9",
    )


def commented_by_both() -> Digest:
    paper = entry("2611.00001", "Bound one", sightings=(zhihu_sighting(), shamra_sighting()))
    return digest_of((DirectionSection("generalization", "Generalization", (paper,)),))


def test_commentary_in_the_other_language_is_translated_into_the_edition_with_the_original_after() -> None:
    digest = commented_by_both()
    # each edition asks its model for the other language's commentary (its English), not its own
    zh_texts, ar_texts = dg.translatable_texts(digest, "zh"), dg.translatable_texts(digest, "ar")
    assert SHAMRA_ENGLISH in zh_texts and ZHIHU_ENGLISH not in zh_texts
    assert ZHIHU_ENGLISH in ar_texts and SHAMRA_ENGLISH not in ar_texts

    zh = dg.render_markdown(
        digest, dg.Edition("zh", {SHAMRA_ENGLISH: "深度网络泛化理论与参数界的综述。"}, model="m")
    )
    assert (
        f"*Shamra Academia (ar):* 深度网络泛化理论与参数界的综述。 · *原文:* {FSI}{ARABIC_REMARK}{PDI}" in zh
    )
    # the reader's own language: the original alone, never its English
    assert f"*知乎 (zh):* {ZHIHU_REMARK}  \n" in zh
    assert SHAMRA_ENGLISH not in zh and ZHIHU_ENGLISH not in zh

    ar = dg.render_markdown(digest, dg.Edition("ar", {ZHIHU_ENGLISH: "الورقة المؤسسة لنواة NTK."}, model="m"))
    assert f"*知乎 (zh):* الورقة المؤسسة لنواة NTK. · *النص الأصلي:* {FSI}{ZHIHU_REMARK}{PDI}" in ar
    assert f"*Shamra Academia (ar):* {ARABIC_REMARK}" in ar
    assert SHAMRA_ENGLISH not in ar and ZHIHU_ENGLISH not in ar

    # a commentary no model put into the edition's language stays in English, the original after it
    untranslated = dg.render_markdown(digest, zh_edition())
    assert f"*Shamra Academia (ar):* {SHAMRA_ENGLISH} · *原文:* {FSI}{ARABIC_REMARK}{PDI}" in untranslated
    # the English edition: the English and the original, as before
    english = dg.render_markdown(digest)
    assert f"*知乎 (zh):* {ZHIHU_ENGLISH} · *original:* {ZHIHU_REMARK}" in english


def test_only_commentary_a_full_block_shows_is_sent_to_the_model() -> None:
    # the one-line lists (updated, appendix) show no commentary: nothing of it is translated
    paper = entry("2611.00001", "Bound one", sightings=(shamra_sighting(),))
    digest = dataclasses.replace(digest_of(), below_threshold=(paper,))
    assert SHAMRA_ENGLISH not in dg.translatable_texts(digest, "zh")


# 10. punctuation of each edition ------------------------------------------------------------


def header(markdown: str) -> str:
    return markdown.split("\n## ")[0]


def test_the_announcement_days_are_listed_with_each_editions_separators_and_brackets() -> None:
    digest = digest_of(covers_until=dt.datetime(2026, 11, 24, 2, tzinfo=UTC))
    zh = header(dg.render_markdown(digest, zh_edition()))
    assert "arXiv 发布日: 2026-11-23（周一）、2026-11-24（周二）；尚未到来: 2026-11-25（周三）、" in zh
    assert ", 2026" not in zh and "(周" not in zh
    ar = header(dg.render_markdown(digest, ar_edition()))
    assert "\u20662026-11-23\u2069 (الاثنين)، \u20662026-11-24\u2069 (الثلاثاء)؛ " in ar
    assert "), \u2066" not in ar
    english = header(dg.render_markdown(digest))
    assert "2026-11-23 (Mon), 2026-11-24 (Tue); still to come: 2026-11-25 (Wed), " in english
    # none out yet: the words "still to come" are bracketed the edition's way
    sunday = dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    zh = header(dg.render_markdown(digest_of(covers_until=sunday), zh_edition()))
    assert "arXiv 发布日（尚未到来）: 2026-11-23（周一）、" in zh


def test_the_chinese_header_brackets_the_appendix_count_full_width_without_a_space() -> None:
    paper = entry("2611.00001", "Bound one")
    digest = dataclasses.replace(
        digest_of((DirectionSection("generalization", "Generalization", (paper,)),)),
        counts=(("papers", 1), ("directions", 1), ("below_threshold", 3)),
    )
    assert "**1** 篇论文（另有 3 篇低于相关性阈值） · " in header(dg.render_markdown(digest, zh_edition()))
    assert "**1** paper (+3 below the relevance threshold) · " in header(dg.render_markdown(digest))
    assert "(و3 دون عتبة الصلة)" in header(dg.render_markdown(digest, ar_edition()))


def test_lists_of_directions_and_titles_use_the_editions_separator() -> None:
    paper = dataclasses.replace(
        entry("2611.00001", "Bound one"),
        classification=Classification(
            primary="generalization",
            scores=(("generalization", 0.9), ("optimization", 0.8), ("kernels", 0.7)),
            relevance=0.9,
        ),
    )
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    assert len(dg.also_directions(paper)) == 2
    [also] = [line for line in dg.render_markdown(digest, zh_edition()).split("\n") if "亦属" in line]
    # (names the user gave are not written by hand in Chinese: they show as the model left them)
    assert also.endswith(
        "亦属: Optimization and implicit bias；Overparameterization, NTK and infinite width  "
    )
    [also] = [
        line for line in dg.render_markdown(digest, ar_edition()).split("\n") if "ويندرج أيضًا في" in line
    ]
    assert "؛ " in also and "; " not in also
    english = dg.render_markdown(digest)
    assert "also in: Optimization and implicit bias; Overparameterization, NTK and infinite width" in english


# 11. text no model translated: said once, in the notes ---------------------------------------


def test_untranslated_commentary_is_said_once_in_the_notes_not_on_every_line() -> None:
    papers = tuple(
        entry(f"2611.0000{i}", f"Survey {i}", sightings=(untranslated_shamra_sighting(),)) for i in (1, 2, 3)
    )
    digest = dataclasses.replace(
        digest_of((DirectionSection("generalization", "Generalization", papers),)),
        notes=(Note(NoteKind.UNTRANSLATED, "untranslated: no ar→en model", lang="ar"),),
    )
    for edition, marker in ((dg.ENGLISH, "not translated"), (zh_edition(), "未翻译")):
        markdown = dg.render_markdown(digest, edition, for_reader=True)
        assert marker not in markdown
        # each line still says the language it is in; the notes say once why it is so
        assert markdown.count(f"*Shamra Academia (ar):* {FSI}{ARABIC_REMARK}{PDI}\n") == 3
        assert markdown.count(edition.labels["note_untranslated"]) == 1


# 7. what the authors say about the paper: journal reference and comment ----------------------


def commented(
    comment: str | None, journal_ref: str | None = None, arxiv_id: str = "2611.00007"
) -> DigestPaper:
    paper = entry(arxiv_id, "Sharp rates for shallow networks")
    return dataclasses.replace(
        paper, paper=dataclasses.replace(paper.paper, comment=comment, journal_ref=journal_ref)
    )


def meta_line(markdown: str, arxiv_id: str = "2611.00007") -> str:
    return next(line for line in markdown.splitlines() if f"arXiv:{arxiv_id}" in line)


@pytest.mark.parametrize(
    ("comment", "shown"),
    [
        ("32 pages, 5 figures. Accepted at COLT 2026", "*Accepted at COLT 2026*"),
        ("40 pages; 3 color figures; v2: fixed the proof of Lemma 3", "*v2: fixed the proof of Lemma 3*"),
        (
            "Camera-ready version, ICML 2024, 9 pages (main text), 3 tables",
            "*Camera-ready version, ICML 2024*",
        ),
    ],
)
def test_an_arxiv_papers_comment_is_on_its_meta_line_without_page_counts(comment: str, shown: str) -> None:
    paper = commented(comment)
    markdown = dg.render_markdown(
        digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    )
    line = meta_line(markdown)
    assert f"cs.LG · {shown} · arXiv:2611.00007v1" in line
    assert "pages" not in line and "figures" not in line


def test_an_arxiv_papers_journal_reference_is_shown_and_not_said_again_by_the_comment() -> None:
    paper = commented(
        "Published in Ann. Statist. 50(4), 2022; 45 pages", journal_ref="Ann. Statist. 50(4), 2022"
    )
    markdown = dg.render_markdown(
        digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    )
    assert "cs.LG · Ann. Statist. 50(4), 2022 · arXiv:2611.00007v1 ·" in meta_line(markdown)
    assert "Published in" not in markdown and "45 pages" not in markdown


def test_a_long_comment_is_cut_at_a_word_and_never_inside_a_formula() -> None:
    long = "We correct the constant in the main bound and add experiments on " + "$O(n^{-1/2})$ rates " * 5
    said = short_comment(long)
    assert len(said) <= COMMENT_MAX_CHARS and said.endswith("…")
    assert said.count("$") % 2 == 0 and said.startswith("We correct the constant")
    assert short_comment("12 pages + 30 pages appendix, 4 figures") == ""
    assert short_comment(None) == ""
    # only counts: nothing added to the line
    paper = commented("ten pages, two figures")
    markdown = dg.render_markdown(
        digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    )
    assert "A. Author · 2026-11-24 · cs.LG · arXiv:2611.00007v1 ·" in meta_line(markdown)


@pytest.mark.parametrize(
    ("comment", "said"),
    [
        # a part that goes on after a count is a note, not a count
        ("2 figures added in Section 5", "2 figures added in Section 5"),
        ("4 plots showing the failure of the NTK regime", "4 plots showing the failure of the NTK regime"),
        (
            "Two figures are added, and Section 3 is rewritten",
            "Two figures are added, and Section 3 is rewritten",
        ),
        (
            "Three pages of new experiments; accepted at ICML",
            "Three pages of new experiments; accepted at ICML",
        ),
        (
            "Five tables summarize the rates; accepted at AISTATS",
            "Five tables summarize the rates; accepted at AISTATS",
        ),
        # counts alone, however they are put, go
        ("32 pages, 5 figures", ""),
        ("32 pages", ""),
        ("5 figures", ""),
        ("Accepted at COLT 2026 (32 pages)", "Accepted at COLT 2026"),
        ("main paper: 9 pages; appendix: 20 pages", ""),
        ("Main text 9 pages, 40 pages total", ""),
        ("15 pages (+ 30 pages of supplementary material)", ""),
        ("32 pages including appendix", ""),
        ("Comments: 10 pages", ""),
        ("32pp, 5 figs", ""),
        # a final full stop goes every time
        ("Accepted to NeurIPS 2025. 10 pages + 25 pages appendix", "Accepted to NeurIPS 2025"),
        ("NeurIPS 2025 (spotlight). 10 pages, 4 figures", "NeurIPS 2025 (spotlight)"),
        ("Accepted at AISTATS", "Accepted at AISTATS"),
        ("Figure 3 corrected", "Figure 3 corrected"),
    ],
)
def test_a_comment_loses_only_the_parts_that_are_nothing_but_counts(comment: str, said: str) -> None:
    assert short_comment(comment) == said


def test_a_new_versions_comment_follows_its_reason_under_updated() -> None:
    back = back_because("1611.03530", "Rethinking", REVISED)
    back = dataclasses.replace(
        back, paper=dataclasses.replace(back.paper, comment="v3: fixed the proof of Lemma 3; 20 pages")
    )
    discussed = dataclasses.replace(
        back_because("1812.11118", "Reconciling", DISCUSSED),
        paper=dataclasses.replace(back.paper, arxiv_id="1812.11118", key="arxiv:1812.11118", version=1),
    )
    english = dg.render_markdown(digest_of(updated=(back, discussed)))
    assert "— updated to v3 (was v2 on 2026-W45) · *v3: fixed the proof of Lemma 3*\n" in english
    # a paper back only because a post discusses it: no version changed, its comment is not news
    assert "— newly discussed on Off the convex path\n" in english


# 8. "Updated and newly discussed": each kind apart, old papers dated by their first version ---


def test_updated_and_newly_discussed_papers_are_listed_apart_updated_first() -> None:
    digest = digest_of(
        updated=(
            back_because("1812.11118", "Reconciling", DISCUSSED),
            back_because("1611.03530", "Rethinking", REVISED),
            back_because("1906.11300", "Benign overfitting", DISCUSSED),
            back_because("1912.02292", "Double descent", REVISED),
        ),
    )
    english = dg.render_markdown(digest)
    part = english.split("## Updated and newly discussed (4)\n\n")[1].split("\n## ")[0]
    order = [
        t
        for t in (
            "New versions:",
            "Rethinking",
            "Double descent",
            "Newly discussed:",
            "Reconciling",
            "Benign",
        )
    ]
    assert sorted(order, key=part.index) == order
    assert "**New versions:**\n\n- [Rethinking]" in part and "**Newly discussed:**\n\n- [Reconciling]" in part
    # a paragraph of its own, not the last line of the list before it
    assert "\n\n**Newly discussed:**" in part
    assert re.search(r"</ul>\n<p [^>]*><strong>Newly discussed:</strong></p>", dg.render_html(english))
    assert "**新版本:**" in dg.render_markdown(digest, zh_edition())
    # one kind alone needs no line naming it
    alone = digest_of(updated=(back_because("1812.11118", "Reconciling", DISCUSSED),))
    assert "**Newly discussed:**" not in dg.render_markdown(alone)
    # a shortened mail keeps the first papers, updated ones first
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", limit=2))
    kept = short.split("## Updated and newly discussed (4)\n\n")[1].split("\n## ")[0]
    assert "Rethinking" in kept and "Double descent" in kept and "Reconciling" not in kept
    assert "**Newly discussed:**" not in kept


def test_an_old_paper_back_because_a_post_discusses_it_is_dated_by_its_first_version() -> None:
    # as an arXiv listing of its v3 left it: the latest version's day, no first date
    back = back_because("1611.03530", "Rethinking", DISCUSSED)
    back = dataclasses.replace(
        back,
        paper=dataclasses.replace(
            back.paper, published=None, updated=dt.datetime(2026, 11, 20, 10, tzinfo=UTC), version=3
        ),
    )
    english = dg.render_markdown(digest_of(updated=(back,)))
    assert (
        "[Rethinking](https://arxiv.org/abs/1611.03530) · 2016-11 (v3: 2026-11-20) · `discussed`" in english
    )
    assert "· 2026-11-20 ·" not in english
    # a first version discussed again keeps its one date
    first = back_because("1812.11118", "Reconciling", DISCUSSED)
    assert "[Reconciling](https://arxiv.org/abs/1812.11118) · 2018-12-28 · `discussed`" in dg.render_markdown(
        digest_of(updated=(first,))
    )


# 9. a paper arXiv did not describe ------------------------------------------------------------


def unknown_to_arxiv(badges: tuple[str, ...] = ("discussed",)) -> DigestPaper:
    """A post links arxiv.org/abs/2201.02177 as "Power et al."; the API did not know the id."""
    return DigestPaper(
        paper=Paper(key="arxiv:2201.02177", title="Power et al.", arxiv_id="2201.02177"),
        classification=Classification(
            primary="generalization", scores=(("generalization", 0.9),), relevance=0.9
        ),
        summary="",
        badges=badges,
    )


def test_a_paper_arxiv_did_not_describe_is_named_by_its_id_not_the_link_text() -> None:
    unknown = unknown_to_arxiv()
    section = DirectionSection("generalization", "Generalization", (unknown,))
    below = dataclasses.replace(
        unknown, classification=dataclasses.replace(unknown.classification, relevance=0.19)
    )
    digest = dataclasses.replace(digest_of((section,)), below_threshold=(below,))
    english = dg.render_markdown(digest)
    title = (
        '[arXiv:2201.02177 (details unavailable; cited as "Power et al.")](https://arxiv.org/abs/2201.02177)'
    )
    assert f"### {title}\n" in english
    assert "[Power et al.]" not in english
    # the id is said once; the PDF link stays
    assert "\n`discussed` · [PDF](https://arxiv.org/pdf/2201.02177)" in english.replace(
        " · `discussed`", "\n`discussed`"
    )
    # no empty author slot in the one-line appendix
    [line] = [line for line in english.split("<details>")[1].splitlines() if "2201.02177" in line]
    assert line.endswith("· [PDF](https://arxiv.org/pdf/2201.02177) — relevance 0.19")
    assert " —  ·" not in english and "—  " not in english
    # a shortened mail's one line per paper: no dangling dash either
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True))
    assert f"- {title} · `discussed`\n" in short
    # in a translated edition: the labels say it, nothing is translated
    zh = dg.render_markdown(digest, zh_edition())
    assert "[arXiv:2201.02177（详情暂缺；引用时写作 “Power et al.”）](https://arxiv.org/abs/2201.02177)" in zh


def test_a_paper_arxiv_did_not_describe_linked_by_its_id_is_not_cited_as_its_id() -> None:
    unknown = dataclasses.replace(
        unknown_to_arxiv(),
        paper=Paper(key="arxiv:2201.02177", title="arXiv:2201.02177", arxiv_id="2201.02177"),
    )
    english = dg.render_markdown(
        digest_of((DirectionSection("generalization", "Generalization", (unknown,)),))
    )
    assert "### [arXiv:2201.02177 (details unavailable)](https://arxiv.org/abs/2201.02177)\n" in english


# 10. the text part: marks, not isolates; the Markdown file keeps its isolates ----------------

LRM, RLM = "\u200e", "\u200f"
ISOLATES = ("\u2066", "\u2067", "\u2068", "\u2069")
LRI = "\u2066"


def test_the_text_part_carries_bidi_marks_where_the_markdown_has_isolates() -> None:
    paper = entry("2611.00001", "Generalization survey", sightings=(shamra_sighting(),))
    untranslated = entry("2611.00002", "Another survey", sightings=(untranslated_shamra_sighting(),))
    digest = digest_of(
        (DirectionSection("generalization", "Generalization", (paper, untranslated)),), posts=(arabic_post(),)
    )
    english = dg.render_markdown(digest)  # what the Markdown file holds: isolates, no marks
    assert f"{FSI}{ARABIC_REMARK}{PDI}" in english and LRM not in english and RLM not in english
    plain = dg.render_plain_text(english)
    assert not any(c in plain for c in ISOLATES)
    # the Arabic run is marked right to left inside, and left to right (its line's direction)
    # outside, so it neither merges with the text around it nor loses its final period
    assert f"*Shamra Academia (ar):* {LRM}{RLM}{ARABIC_REMARK}{RLM}{LRM}\n" in plain
    assert f"*{LRM}{RLM}شرح نظرية التعميم.{RLM}{LRM}*" in plain
    # the same text otherwise
    assert bidi_marks(english).replace(RLM, "").replace(LRM, "") == english.replace(FSI, "").replace(PDI, "")
    # an Arabic edition: its left-to-right runs (week, dates) are marked left to right inside
    # and right to left (the line's direction) outside
    arabic = dg.render_plain_text(dg.render_markdown(digest_of(covers_until=WEDNESDAY), ar_edition()))
    assert f"{RLM}{LRM}2026-11-25 14:30 (Europe/Berlin){LRM}{RLM}." in arabic
    assert not any(c in arabic for c in ISOLATES)
    assert bidi_marks("plain") == "plain"


# The lines where marks alone (LRM…LRM) reorder what the isolates kept apart. Each expected
# form was checked against the isolates with python-bidi's get_display (same display, both
# by each line's first letter and in the edition's direction); python-bidi is no project
# dependency, so these tests pin the character sequence.
@pytest.mark.parametrize(
    ("line", "rtl", "marked"),
    [
        # two left-to-right runs with " · " between them in an Arabic line: not one run
        (
            f"- Deep nets · عنوان مترجم · {LRI}2016-11 (v3: 2026-11-20){PDI} · {LRI}arXiv:1611.03530v3{PDI}",
            True,
            f"{RLM}- Deep nets · عنوان مترجم · {RLM}{LRM}2016-11 (v3: 2026-11-20){LRM}{RLM}"
            f" · {RLM}{LRM}arXiv:1611.03530v3{LRM}{RLM}",
        ),
        # the count after a Latin name stays on its side of the Arabic line
        (f"قائمة: {FSI}Zhihu (zh){PDI}، 12", True, f"قائمة: {RLM}{LRM}Zhihu (zh){LRM}{RLM}، 12"),
        (f"قائمة: {FSI}Zhihu (zh){PDI}، 12", None, f"قائمة: {RLM}{LRM}Zhihu (zh){LRM}{RLM}، 12"),
        # an Arabic run in an English line does not pull the date after it to its left
        (
            f"- Title · *{FSI}تعميم الشبكات العميقة{PDI}* · 2026-11-20",
            False,
            f"- Title · *{LRM}{RLM}تعميم الشبكات العميقة{RLM}{LRM}* · 2026-11-20",
        ),
        (
            f"- {FSI}تعميم الشبكات العميقة{PDI} — Shamra Academia · 2026-11-20",
            None,
            f"- {LRM}{RLM}تعميم الشبكات العميقة{RLM}{LRM} — Shamra Academia · 2026-11-20",
        ),
        # a run with no letter takes only its line's marks; a nested run its enclosing run's
        (f"a {FSI} 12 {PDI}.", None, f"a {LRM} 12 {LRM}."),
        (f"a {FSI}ب {LRI}x1{PDI}{PDI}.", None, f"a {LRM}{RLM}ب {RLM}{LRM}x1{LRM}{RLM}{RLM}{LRM}."),
        # the edition's direction: a line that starts the other way is led by the edition's mark
        ("- Deep nets · عنوان", True, f"{RLM}- Deep nets · عنوان"),
        ("- عنوان · Deep nets", False, f"{LRM}- عنوان · Deep nets"),
        ("- عنوان · Deep nets", None, "- عنوان · Deep nets"),
    ],
)
def test_bidi_marks_keep_each_run_apart_from_its_neighbours(line: str, rtl: bool | None, marked: str) -> None:
    assert bidi_marks(line, rtl=rtl) == marked


def test_the_text_part_reads_in_the_editions_direction_when_told_it() -> None:
    paper = entry("2611.00001", "Generalization survey")  # an English title, not translated
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    arabic = dg.render_markdown(digest, ar_edition())
    told = dg.render_plain_text(arabic, language="ar")
    # every line whose first letter is Latin starts with the edition's mark; the rest is as untold
    untold = dg.render_plain_text(arabic)
    assert told.replace(RLM, "").replace(LRM, "") == untold.replace(RLM, "").replace(LRM, "")
    # a line that starts with a Latin letter reads right to left, its runs marked for that
    line = (
        f"{RLM}A. Author · {RLM}{LRM}2026-11-24{LRM}{RLM} · cs.LG · {RLM}{LRM}arXiv:2611.00001v1{LRM}{RLM} · "
    )
    assert line in told and f"\n{RLM}We study a question." in told
    # untold, a client takes that line's direction from its first letter: left to right
    assert f"\nA. Author · {LRM}{LRM}2026-11-24{LRM}{LRM} · " in untold
    for line in told.split("\n"):
        first = next((c for c in line if unicodedata.bidirectional(c) in ("L", "R", "AL")), None)
        assert first in (None, RLM) or unicodedata.bidirectional(first) == "AL", line


# 11. a curator's verdict after their description ---------------------------------------------

TISHBY_REMARK = "从信息平面观察训练过程：先拟合、后压缩，和信息瓶颈联系在一起。结论争议很大，建议和后来的反驳文章一起读（2017）。"
TISHBY_ENGLISH = (
    "Watches training in the information plane: first fitting, then compression, tied to the "
    "information bottleneck. Its conclusions are much disputed; read it with the later rebuttals (2017)."
)


def test_commentary_keeps_the_verdict_that_follows_the_description_in_every_edition() -> None:
    untranslated = Sighting(
        "zhihu",
        "知乎",
        "https://zhuanlan.zhihu.com/p/1",
        "zh",
        commentary=TISHBY_REMARK,
        commentary_lang="zh",
    )
    translated = dataclasses.replace(
        untranslated,
        commentary=TISHBY_ENGLISH,
        commentary_original=TISHBY_REMARK,
        translated_by="argos zh→en 1.9",
    )
    for sighting in (untranslated, translated):
        paper = entry(
            "1703.00810",
            "Opening the Black Box of Deep Neural Networks via Information",
            sightings=(sighting,),
        )
        digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
        assert "结论争议很大，建议和后来的反驳文章一起读（2017）。" in dg.render_markdown(digest)
        assert "结论争议很大" in dg.render_markdown(digest, zh_edition())
        if sighting.commentary_original:  # and in English, when a model translated it
            assert "read it with the later rebuttals (2017)." in dg.render_markdown(digest)
    # up to three sentences, as many as fit whole in the cap; abstracts keep their two sentences
    many = "。".join(f"第{n}句说明这篇论文的一个方面" for n in range(1, 6)) + "。"
    assert (
        dg.excerpt(many)
        == "第1句说明这篇论文的一个方面。第2句说明这篇论文的一个方面。第3句说明这篇论文的一个方面。"
    )
    long_second = "A survey. " + "Very long " * 40 + "remark."
    assert dg.excerpt(long_second) == "A survey."
    # the remark stops where a sentence does not fit: a later short one would read out of order
    assert dg.excerpt(long_second + " Read it.") == "A survey."
    assert (
        dg.summarize("We study a question. We answer it. We go further.")
        == "We study a question. We answer it."
    )


# 12. a long list of unconfirmed mentions, and mentions written in capitals ---------------------


def mention(title: str) -> DigestPaper:
    paper = Paper(key=f"title:{title.lower()}", title=title)
    notes = Sighting("notes", "Notes", "https://example.org/notes", "en", kind=ItemKind.POST)
    return DigestPaper(paper=paper, classification=Classification(primary="other"), sightings=(notes,))


def with_mentions(count: int) -> Digest:
    paper = entry("2611.00001", "Bound one")
    digest = digest_of((DirectionSection("generalization", "Generalization", (paper,)),))
    unconfirmed = tuple(mention(f"Mentioned title {n:02d}") for n in range(count))
    return dataclasses.replace(
        digest, unconfirmed=unconfirmed, counts=(*digest.counts, ("unconfirmed", count))
    )


def test_more_than_ten_unconfirmed_mentions_are_collapsed_in_markdown_and_html() -> None:
    few = dg.render_markdown(with_mentions(10))
    assert "## Unconfirmed mentions (10)" in few and "<details>" not in few
    many = dg.render_markdown(with_mentions(11))
    section = many.split("## Unconfirmed mentions (11)")[1].split("\n## ")[0]
    # the heading (the contents link to it) and what the list is, then the list collapsed
    intro, collapsed = section.split("<details>")
    assert "no arXiv id, DOI, link" in intro and intro.endswith("papers.\n\n") and "- **" not in intro
    assert collapsed.startswith("\n<summary>Show the list</summary>\n\n- **Mentioned title 00**")
    assert (
        collapsed.count("- **Mentioned title") == 11
        and "(https://example.org/notes)\n\n</details>\n" in collapsed
    )
    assert "- [Unconfirmed mentions (11)](#unconfirmed-mentions-11)" in many
    html = dg.render_html(many)
    collapsed_html = html.split('id="unconfirmed-mentions-11">')[1].split("<h2")[0]
    assert "<details" in collapsed_html and ">Show the list</summary>" in collapsed_html
    assert collapsed_html.count("Mentioned title") == 11
    assert "<summary>" in dg.render_markdown(with_mentions(11), zh_edition())


def test_a_mention_written_in_capitals_is_shown_in_title_case_keeping_its_acronyms() -> None:
    digest = dataclasses.replace(
        with_mentions(0),
        unconfirmed=(mention("FLAT MINIMA"), mention("DEEP NETWORKS FROM THE PRINCIPLE OF RATE REDUCTION"),
                     mention("NTK AND SGD: A GAN VIEW"), mention("Flat minima of SGD")),
    )  # fmt: skip
    markdown = dg.render_markdown(digest)
    assert "- **Flat Minima** — Seen in:" in markdown
    assert "- **Deep Networks from the Principle of Rate Reduction** —" in markdown
    assert "- **NTK and SGD: A GAN View** —" in markdown
    assert "- **Flat minima of SGD** —" in markdown  # a title not in capitals is as written


# TeX, formulas and "|" in what the digest shows ---------------------------------------------------


def test_an_emerging_groups_shared_words_are_never_latex_command_names() -> None:
    summaries = [
        r"Regression in $\mathbb{R}^d$ with $\widetilde{O}(\sqrt{n})$ samples over a class $\mathcal{H}$.",
        r"A class $\mathcal{H}$ in $\mathbb{R}^d$ learned with $\widetilde{O}(\sqrt{n})$ samples.",
        r"With $\widetilde{O}(\sqrt{n})$ samples a class $\mathcal{H}$ on $\mathbb{R}^d$ is learned \emph{fast}.",
    ]
    group = [
        dataclasses.replace(entry(f"2611.1100{n}", "Sample complexity"), summary=summary)
        for n, summary in enumerate(summaries)
    ]
    words = dg.shared_words(group)
    assert words[:2] == ["sample", "complexity"]
    assert not {"mathbb", "mathcal", "widetilde", "sqrt", "emph"} & set(words)


FORMULA_WITH_A_PIPE = r"$\binom{n}{k|j}$"  # no text form: a code span


@pytest.mark.parametrize(
    ("error", "warning"),
    [
        (None, f"entry 3 '{FORMULA_WITH_A_PIPE} bounds' skipped: no id"),
        (f"[odd-feed] title '{FORMULA_WITH_A_PIPE}' broke the parser", None),
        (None, "a title 'A | B' outside a formula"),
    ],
)
def test_a_pipe_in_a_source_reports_cell_leaves_the_row_its_eight_cells(
    error: str | None, warning: str | None
) -> None:
    report = SourceReport(
        "odd-feed", "feed", fetched=1, parsed=1, error=error, warnings=(warning,) if warning else ()
    )
    markdown = dg.render_markdown(dataclasses.replace(digest_of(), reports=(report,)))
    html = dg.render_html(markdown)
    row = next(r for r in re.findall(r"<tr\b.*?</tr>", html, re.DOTALL) if "odd-feed" in r)
    assert len(re.findall(r"<td\b", row)) == 8
    shown = error or warning or ""
    if "$" in shown:
        assert f"<code>{FORMULA_WITH_A_PIPE}</code>" in re.sub(r"<code [^>]*>", "<code>", row)
    else:
        assert "A | B" in row


SCHRODINGER = r"A Schr\"odinger-Bridge View of Erd\H{o}s--R\'enyi Graphs"


def schrodinger_bridges() -> DigestPaper:
    """A paper as arXiv's API gave it: TeX accents and dashes in its title, abstract and names."""
    written = entry("2611.10008", SCHRODINGER)
    return dataclasses.replace(
        written,
        paper=dataclasses.replace(written.paper, authors=(r"Peter B\"uhlmann", r"Sara van de Geer")),
        summary=r"A Poincar\'e inequality for $\mathbb{R}^d$--valued maps.",
    )


@pytest.mark.parametrize(
    ("digest", "shown"),
    [
        # arXiv's title and abstract: its TeX accents and dashes read as arXiv's page shows them
        (
            digest_of(
                (
                    DirectionSection(
                        "generalization",
                        "Generalization",
                        papers=(schrodinger_bridges(),),
                    ),
                )
            ),
            [
                "A Schrödinger-Bridge View of Erdős–Rényi Graphs",
                "A Poincaré inequality for ℝᵈ–valued maps.",
                "Peter Bühlmann, Sara van de Geer",
            ],
        ),
        # a page's own title-only mention is shown as the page wrote it ("--" may be meant)
        (
            dataclasses.replace(digest_of(), unconfirmed=(mention("Pre--training Is All You Need"),)),
            ["Pre--training Is All You Need"],
        ),
        # a paper arXiv has not described: its title is what linked to it
        (
            digest_of(
                (
                    DirectionSection(
                        "generalization",
                        "Generalization",
                        papers=(
                            dataclasses.replace(
                                entry("2611.10009", "x"),
                                paper=Paper(
                                    key="arxiv:2611.10009", title="Erdos--Renyi notes", arxiv_id="2611.10009"
                                ),
                                summary="",
                            ),
                        ),
                    ),
                )
            ),
            ["Erdos--Renyi notes"],
        ),
    ],
)
def test_tex_outside_formulas_reads_as_unicode_only_in_what_arxiv_wrote(
    digest: Digest, shown: list[str]
) -> None:
    markdown = dg.render_markdown(digest)
    for text in shown:
        assert text in markdown
    assert "\\H{" not in markdown and "\\'" not in markdown
    html = dg.render_html(markdown)
    assert all(text in html for text in shown)


# shortened directions, the reader's sources by name, "Seen in" -------------------------------

# the shipped sources.yaml names three sources "arXiv": the listing and two API searches
ARXIV_REPORTS = (
    SourceReport("arxiv-listing", "arxiv_rss", fetched=1, parsed=40),
    SourceReport("arxiv-week", "arxiv_api", fetched=1, parsed=900),
    SourceReport("arxiv-week-revisions", "arxiv_api", fetched=1, parsed=300),
    SourceReport("offconvex", "feed", fetched=1, parsed=2),
)
NAMES = (
    ("arxiv-listing", "arXiv"),
    ("arxiv-week", "arXiv"),
    ("arxiv-week-revisions", "arXiv"),
    ("offconvex", "offconvex"),
)


def sources_part(markdown: str) -> str:
    return markdown.split("\n## ")[-1].split("\n\n", 1)[1].split("\n\n", 1)[0]


def with_reports(*failed: str) -> Digest:
    reports = tuple(
        dataclasses.replace(r, error="HTTP 503") if r.source_id in failed else r for r in ARXIV_REPORTS
    )
    return dataclasses.replace(digest_of(), reports=reports, source_names=NAMES)


def test_the_reader_is_told_each_source_name_once_and_partly_read_names_as_not_read() -> None:
    assert sources_part(dg.render_markdown(with_reports(), for_reader=True)) == (
        "Read this week (2): arXiv | offconvex"
    )
    # one of the three failed: arXiv is not said to be read, and not read, at once
    partly = with_reports("arxiv-week-revisions")
    assert sources_part(dg.render_markdown(partly, for_reader=True)) == (
        "Read this week (1): offconvex  \n**Could not be read this week (1):** arXiv (partly)"
    )
    assert sources_part(dg.render_markdown(partly, zh_edition(), for_reader=True)) == (
        "本周读取的来源 (1): offconvex  \n**本周无法读取的来源 (1):** arXiv（部分）"
    )
    assert sources_part(dg.render_markdown(partly, ar_edition(), for_reader=True)) == (
        "مصادر قُرئت هذا الأسبوع (1): offconvex  \n"
        f"**مصادر تعذّرت قراءتها هذا الأسبوع (1):** {FSI}arXiv{PDI} (جزئيًا)"
    )
    # all of them failed: arXiv could not be read
    gone = with_reports("arxiv-listing", "arxiv-week", "arxiv-week-revisions")
    assert "**Could not be read this week (1):** arXiv\n" in dg.render_markdown(gone, for_reader=True)
    # the operator's table keeps every source by its id
    operator = dg.render_markdown(partly)
    assert "| arxiv-week | ok |" in operator and "| arxiv-week-revisions | **failed:** HTTP 503 |" in operator
    # a week kept only as the operator's file, named from sources.yaml, reads the same
    copy = dg.reader_copy(operator, dict(NAMES))
    assert "Read this week (1): offconvex  \n**Could not be read this week (1):** arXiv (partly)\n" in copy


def arxiv_api_sighting(source_id: str = "arxiv-week", name: str = "arXiv") -> Sighting:
    # an API search's sighting: no announcement type, no link (the title links the abstract)
    return Sighting(source_id, name, None, "en")


def offconvex_sighting() -> Sighting:
    return Sighting(
        "offconvex", "offconvex", "https://www.offconvex.org/2026/11/24/ntk/", "en", kind=ItemKind.POST
    )


def test_seen_in_is_left_out_when_only_arxivs_own_sources_saw_the_paper() -> None:
    listed = Sighting("arxiv-listing", "arXiv", None, "en", announce_type=AnnounceType.NEW)
    papers = (
        entry("2611.00001", "Only the API", sightings=(arxiv_api_sighting(),)),
        entry("2611.00002", "Only the listing", sightings=(listed,)),
        entry("2611.00003", "And a blog", sightings=(arxiv_api_sighting(), offconvex_sighting())),
        # a feed the user named "arXiv" is no arXiv source: its sighting says where it was seen
        entry("2611.00004", "A feed named arXiv", sightings=(arxiv_api_sighting("my-feed"),)),
    )
    digest = dataclasses.replace(
        digest_of((DirectionSection("generalization", "Generalization", papers=papers),)),
        reports=(*ARXIV_REPORTS, SourceReport("my-feed", "feed")),
    )
    for edition in (dg.ENGLISH, zh_edition(), ar_edition()):
        markdown = dg.render_markdown(digest, edition)
        seen_in = edition.labels["seen_in"]
        blocks = {
            p.paper.arxiv_id: markdown.split(f"/abs/{p.paper.arxiv_id})", 1)[1].split("\n### ")[0]
            for p in papers
        }
        assert f"{seen_in}:" not in blocks["2611.00001"] and f"{seen_in}:" not in blocks["2611.00002"]
        assert (
            f"{seen_in}: arXiv | [offconvex](https://www.offconvex.org/2026/11/24/ntk/)"
            in blocks["2611.00003"]
        )
        assert f"{seen_in}: arXiv" in blocks["2611.00004"]
    # the summary no longer ends in a hard break before a line that is not there
    assert "We study a question. We answer it.\n\n### [And a blog]" in dg.render_markdown(digest)


def ranked_section(count: int) -> list[DigestPaper]:
    """`count` new papers, most relevant first, seen by arXiv's API alone."""
    return [
        dataclasses.replace(
            entry(f"2611.{10000 + n}", f"Paper {n}", sightings=(arxiv_api_sighting(),)),
            classification=Classification("generalization", relevance=round(0.9 - n / 100, 2)),
        )
        for n in range(count)
    ]


def test_a_shortened_direction_keeps_the_papers_beyond_arxiv_brought_up_then_the_most_relevant() -> None:
    papers = ranked_section(12)
    post = offconvex_post()
    # the least relevant papers: one a post discusses, one a Chinese source saw, one by a
    # followed author; and a revision, which the section lists after every new paper
    papers[9] = dataclasses.replace(
        papers[9], discussed_in=(post,), sightings=(*papers[9].sightings, offconvex_sighting())
    )
    papers[10] = dataclasses.replace(papers[10], sightings=(*papers[10].sightings, zhihu_sighting()))
    papers[11] = dataclasses.replace(papers[11], badges=("followed:A. Author", "new"))
    revision = dataclasses.replace(
        entry("2410.00001", "Revised", badges=("updated v2",), sightings=(arxiv_api_sighting(),)),
        classification=Classification("generalization", relevance=0.95),
    )
    section = DirectionSection("generalization", "Generalization", papers=(*papers, revision), posts=(post,))
    digest = dataclasses.replace(digest_of((section,), posts=(post,)), reports=ARXIV_REPORTS)
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True, limit=5))
    body = short.split("## Generalization (13)\n\n", 1)[1].split("\n## ", 1)[0]
    kept = re.findall(r"^- \[(Paper[^\]]+|Revised)\]", body, flags=re.M)
    # the three brought up, then the most relevant (the revision, then Paper 0), in the section's order
    assert kept == ["Paper 0", "Paper 9", "Paper 10", "Paper 11", "Revised"]
    assert (
        "- *… and 8 more, listed in 2026-W48.md; those shown are the ones a post, another source or "
        "an author you follow brought in, and the most relevant of the rest.*"
    ) in body
    assert (
        "…… 另有 8 篇，见附件 2026-W48.md。此处列出的是博文、其他来源或您关注的作者带来的论文"
        in dg.render_markdown(
            digest, zh_edition(), shortened=dg.Shortened("2026-W48.md", one_line=True, limit=5)
        )
    )
    # the post's line stays under the direction, its paper in the mail
    assert f"**Discussed in posts and articles:**\n\n- [{post.title}]" in body
    # more brought up than the limit: the most relevant of them
    two = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True, limit=2))
    assert re.findall(r"^- \[(Paper[^\]]+|Revised)\]", two, flags=re.M) == ["Paper 9", "Paper 10"]
    # none brought up: the most relevant, and the line says so in each edition
    plain = dataclasses.replace(
        digest, sections=(dataclasses.replace(section, papers=tuple(ranked_section(12))),)
    )
    limited = dg.Shortened("2026-W48.md", one_line=True, limit=3)
    short = dg.render_markdown(plain, shortened=limited)
    assert re.findall(r"^- \[(Paper[^\]]+)\]", short, flags=re.M) == ["Paper 0", "Paper 1", "Paper 2"]
    assert "- *… and 9 more, listed in 2026-W48.md; those shown are the most relevant.*" in short
    assert "此处列出的是相关度最高的论文。" in dg.render_markdown(plain, zh_edition(), shortened=limited)
    assert "المعروضة هنا هي الأكثر صلة." in dg.render_markdown(plain, ar_edition(), shortened=limited)


# Emerging: each grouped paper once, in its group, as a full line ---------------------------------


def grouped(arxiv_id: str, title: str, group: int = 1) -> DigestPaper:
    """An unconfident paper an Emerging group took (listed there, not under Other)."""
    unsure = Classification(primary="other", scores=(("other", 0.3),), relevance=0.4, confident=False)
    return dataclasses.replace(entry(arxiv_id, title, "other"), classification=unsure, group=group)


GROKKING_TITLES = (
    "Grokking modular arithmetic in two-layer networks",
    "Progress measures for grokking",
    "Grokking as the transition from lazy to rich dynamics",
)


def emerging_digest(*, other: bool = True, posts: tuple[Item, ...] = ()) -> Digest:
    members = tuple(grouped(f"2611.3000{n}", title) for n, title in enumerate(GROKKING_TITLES))
    sections = (
        (DirectionSection("other", "Other", papers=(entry("2611.30009", "Knitting patterns", "other"),)),)
        if other
        else ()
    )
    digest = digest_of(sections, posts=posts)
    counts = dict(digest.counts)
    counts["papers"] += len(members)
    return dataclasses.replace(digest, emerging=members, counts=tuple(counts.items()))


def test_a_week_whose_only_papers_form_an_emerging_group_is_not_a_week_without_papers() -> None:
    digest = emerging_digest(other=False)
    for edition in (dg.ENGLISH, zh_edition(), ar_edition()):
        markdown = dg.render_markdown(digest, edition)
        labels = dg.labels_for(edition.language)
        assert labels["none"] not in markdown
        assert f"## {labels['contents']}" in markdown
        assert f"## {labels['emerging']} (3)" in markdown
    # nor does Other say anything: there is none
    assert "low-confidence" not in dg.render_markdown(digest)


def test_an_emerging_groups_papers_are_full_lines_under_the_groups_line() -> None:
    digest = emerging_digest()
    markdown = dg.render_markdown(digest)
    body = markdown.split("## Emerging (3)\n\n", 1)[1].split("\n---", 1)[0]
    lines = [line for line in body.splitlines() if line]
    assert lines[0].startswith("**Group 1** (shared words: ") and lines[0].endswith(":")
    # each paper as a section's one-line entry: title, date, badge, id and PDF, authors
    assert lines[1] == (
        f"- [{GROKKING_TITLES[0]}](https://arxiv.org/abs/2611.30000) · 2026-11-24 · `new` · "
        "arXiv:2611.30000v1 · [PDF](https://arxiv.org/pdf/2611.30000) — A. Author"
    )
    assert len(lines) == 4 and " · [Progress" not in body
    # Other says how many of its kind the groups hold, linked to them; each paper is shown once
    other = markdown.split("## Other (1)\n\n", 1)[1].split("\n## ", 1)[0]
    assert "*3 more low-confidence papers are listed in their groups under [Emerging](#emerging-3).*" in other
    for n in range(3):
        assert markdown.count(f"(https://arxiv.org/abs/2611.3000{n})") == 1
    one = dataclasses.replace(digest, emerging=digest.emerging[:1])
    assert "*1 more low-confidence paper is listed in its group under [Emerging](#emerging-1).*" in (
        dg.render_markdown(one)
    )
    zh = dg.render_markdown(digest, zh_edition())
    assert "**组 1**（共同词：" in zh and "- [Grokking modular arithmetic" in zh
    assert "*另有 3 篇低置信度论文按组列于[新兴主题](#新兴主题-3)。*" in zh
    ar = dg.render_markdown(one, ar_edition())
    assert "*ورقة أخرى منخفضة الثقة مدرجة في مجموعتها ضمن [موضوعات ناشئة](#موضوعات-ناشئة-1).*" in ar
    # the HTML and the text mail list them as they do a section's one-line papers
    html = dg.render_html(markdown)
    assert len(re.findall(r'<li [^>]*><a [^>]*href="https://arxiv.org/abs/2611.3000[0-2]"', html)) == 3
    text = dg.render_plain_text(markdown)
    assert "Progress measures for grokking" in text and "A. Author" in text
    # a shortened email keeps the first of each group and counts the rest
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True, limit=2))
    group = short.split("**Group 1**", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"^- \[", group, flags=re.M)) == 2
    assert "- *… and 1 more, listed in 2026-W48.md.*" in group


def test_a_digest_stored_when_other_repeated_the_groups_papers_says_nothing_under_other() -> None:
    digest = emerging_digest()
    other = digest.sections[0]
    old = dataclasses.replace(
        digest, sections=(dataclasses.replace(other, papers=(*other.papers, *digest.emerging)),)
    )
    assert "low-confidence" not in dg.render_markdown(old)
    # nor when its groups took papers below the relevance threshold, listed in the appendix
    below = dataclasses.replace(digest, below_threshold=digest.emerging)
    assert "low-confidence" not in dg.render_markdown(below)


def test_a_post_linking_a_grouped_paper_keeps_its_title_in_links_to() -> None:
    post = Item(
        "blog",
        ItemKind.POST,
        "On grokking",
        url="https://blog.example/grokking",
        cited=(Item("blog", ItemKind.MENTION, "this paper", arxiv_id="2611.30001"),),
    )
    markdown = dg.render_markdown(emerging_digest(posts=(post,)))
    line = next(line for line in markdown.splitlines() if line.startswith("- [On grokking]"))
    assert f"links to: [{GROKKING_TITLES[1]}](https://arxiv.org/abs/2611.30001)" in line
    assert "not in this edition" not in line


# A DOI no record described: named by the DOI, never by its bare link -----------------------------

PNAS_DOI = "10.1073/pnas.1903070116"


def untitled_doi_entry(title: str = "") -> DigestPaper:
    paper = Paper(key=f"doi:{PNAS_DOI}", title=title, doi=PNAS_DOI, url=f"https://doi.org/{PNAS_DOI}")
    return dataclasses.replace(entry("2611.00001", "x"), paper=paper, summary="", badges=("discussed",))


def test_a_paper_known_only_by_an_untitled_doi_is_named_by_the_doi() -> None:
    cited = (
        Item("blog", ItemKind.MENTION, "", url=f"https://doi.org/{PNAS_DOI}", doi=PNAS_DOI),
        # a DOI the digest does not hold, cited as "PNAS version"
        Item(
            "blog", ItemKind.MENTION, "", url="https://www.pnas.org/doi/10.1073/pnas.2", doi="10.1073/pnas.2"
        ),
    )
    post = Item("blog", ItemKind.POST, "A post", url="https://blog.example/p1", cited=cited)
    paper = untitled_doi_entry()
    digest = digest_of(
        (DirectionSection("generalization", "Generalization", papers=(paper,)),), posts=(post,)
    )
    named = f"[doi:{PNAS_DOI} (details unavailable)](https://doi.org/{PNAS_DOI})"
    markdown = dg.render_markdown(digest)
    assert f"### {named}\n" in markdown
    # a post's "links to" names both by their DOIs, the one the edition lacks marked so
    line = next(line for line in markdown.splitlines() if line.startswith("- [A post]"))
    assert line.endswith(
        f"links to: {named}; [doi:10.1073/pnas.2 (details unavailable)]"
        "(https://www.pnas.org/doi/10.1073/pnas.2) *(not in this edition)*"
    )
    # one line each: the name, not the link, and the DOI not said twice
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True))
    assert f"- {named} · `discussed`\n" in short
    below = dataclasses.replace(digest, sections=(), below_threshold=(paper,))
    assert f"- {named} · `discussed` — " in dg.render_markdown(below)
    for markdown in (dg.render_markdown(digest), short):
        assert f"[https://doi.org/{PNAS_DOI}]" not in markdown
        assert markdown.count(f"doi:{PNAS_DOI}") == 1 + ("links to" in markdown)
    assert f"[doi:{PNAS_DOI}（详情暂缺）]" in dg.render_markdown(digest, zh_edition())
    # one Crossref described keeps its title, its DOI beside it
    titled = untitled_doi_entry("Benign overfitting")
    crossref = dg.render_markdown(
        dataclasses.replace(
            digest, sections=(DirectionSection("generalization", "Generalization", papers=(titled,)),)
        )
    )
    assert f"### [Benign overfitting](https://doi.org/{PNAS_DOI})" in crossref
    assert f"[doi:{PNAS_DOI}](https://doi.org/{PNAS_DOI})" in crossref
    assert (
        f"links to: [Benign overfitting](https://doi.org/{PNAS_DOI}); [doi:10.1073/pnas.2 (details"
        in crossref
    )


# The source report: what went to a later week -------------------------------------------------


def test_the_source_report_says_what_went_to_a_later_week_as_the_console_does() -> None:
    from dltheory_digest.digest.render import new_cell

    reports = (
        SourceReport("awk-blog", "feed", fetched=1, parsed=16, cited=39, new=15, later=1, later_weeks=("2026-W48",)),
        SourceReport("many", "feed", fetched=1, parsed=5, new=1, later=3, later_weeks=("2026-W48", "2026-W49", "2026-W50")),
        SourceReport("dead", "feed", error="ConnectError", later=0),
    )  # fmt: skip
    digest = dataclasses.replace(digest_of(), reports=reports)
    markdown = dg.render_markdown(digest)
    assert "| awk-blog | ok | feed | 1 | 16 + 39 cited | 15 · 1 for 2026-W48 | 0 | 0 |" in markdown
    assert "| 1 · 3 for 2026-W48, 2026-W49 and 2026-W50 |" in markdown
    assert "| dead | **failed:** ConnectError | feed | — | — | — | — | 0 |" in markdown
    # the console's own cell, the same function
    assert new_cell(15, 1, ["2026-W48"]) == "15 · 1 for 2026-W48" and new_cell(4, 0, []) == "4"
    assert ">15 · 1 for 2026-W48</td>" in dg.render_html(markdown)
    assert "| 15 · 1 项归入 2026-W48 |" in dg.render_markdown(digest, zh_edition())
    assert f"| 15 · 1 إلى \u20662026-W48{PDI} |" in dg.render_markdown(digest, ar_edition())
    # a reader's edition names the sources only
    assert "for 2026-W48" not in dg.render_markdown(digest, for_reader=True)


# A blog read for the first time, and a crosspost -------------------------------------------------


def test_a_first_reads_earlier_posts_are_one_collapsed_list_and_a_crosspost_names_both_sites() -> None:
    earlier = tuple(
        Item(
            "distill",
            ItemKind.POST,
            title,
            url=f"https://distill.pub/{year}/{slug}/",
            published=dt.datetime(year, 3, 4, tzinfo=UTC),
        )
        for year, slug, title in (
            (2017, "momentum", "Why Momentum Really Works"),
            (2021, "multimodal-neurons", "Multimodal Neurons in Artificial Neural Networks"),
        )
    )
    crosspost = Item(
        "alignmentforum",
        ItemKind.POST,
        "A review of singular learning theory",
        url="https://www.alignmentforum.org/posts/AbCdEfGhIjKlMnOpQ/review",
        published=dt.datetime(2026, 11, 24, tzinfo=UTC),
        extra=(("also_in", "lesswrong"),),
    )
    digest = dataclasses.replace(
        digest_of(posts=(crosspost,)),
        post_backlog=earlier,
        source_names=(
            ("distill", "Distill"),
            ("alignmentforum", "Alignment Forum"),
            ("lesswrong", "LessWrong"),
        ),
    )
    markdown = dg.render_markdown(digest)
    block = markdown.split("**Earlier posts of a blog read for the first time (2):**", 1)[1].split(
        "</details>"
    )[0]
    assert "<details>" in block
    assert "- [Why Momentum Really Works](https://distill.pub/2017/momentum/) — Distill · 2017-03-04" in block
    assert "Multimodal Neurons" in block
    assert "— Alignment Forum · LessWrong · 2026-11-24" in markdown
    assert markdown.count("A review of singular learning theory") == 1
    # the shortened mail counts them and points at the attached file
    short = dg.render_markdown(digest, shortened=dg.Shortened("2026-W48.md", one_line=True, limit=2))
    assert (
        "**Earlier posts of a blog read for the first time (2):** " in short and "Why Momentum" not in short
    )
    for edition, label in (
        (zh_edition(), "首次读取的博客的较早文章 (2)"),
        (ar_edition(), "تدوينات سابقة لمدونة تُقرأ لأول مرة (2)"),
    ):
        assert label in dg.render_markdown(digest, edition)
