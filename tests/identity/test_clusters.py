"""cluster_items: one PaperCluster per paper across sources, languages and versions."""

from __future__ import annotations

import datetime as dt

from dltheory_digest.identity import cluster_items
from dltheory_digest.models import AnnounceType, Item, ItemKind, Paper, PaperCluster

UTC = dt.UTC
PRINCIPLES = Paper(
    key="arxiv:2106.10165",
    title="The Principles of Deep Learning Theory",
    arxiv_id="2106.10165",
    version=1,  # metadata fetched before the v2 listing
    authors=("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
    published=dt.datetime(2021, 6, 18, tzinfo=UTC),
)
ADVANCES = Paper(
    key="arxiv:2012.10931",
    title="Recent advances in deep learning theory",
    arxiv_id="2012.10931",
    version=1,
    authors=("Fengxiang He", "Dacheng Tao"),
    published=dt.datetime(2020, 12, 20, tzinfo=UTC),
)
MODERN = Paper(
    key="arxiv:2105.04026",
    title="The Modern Mathematics of Deep Learning",
    arxiv_id="2105.04026",
    version=1,
    authors=("Julius Berner", "Philipp Grohs", "Gitta Kutyniok", "Philipp Petersen"),
    published=dt.datetime(2021, 5, 9, tzinfo=UTC),
)
PAPERS = {p.arxiv_id: p for p in (PRINCIPLES, ADVANCES, MODERN) if p.arxiv_id}


def listing(paper: Paper, version: int, announce: AnnounceType, source: str = "arxiv-rss") -> Item:
    return Item(
        source_id=source,
        kind=ItemKind.PAPER,
        title=paper.title,
        url=f"https://arxiv.org/abs/{paper.arxiv_id}v{version}",
        arxiv_id=paper.arxiv_id,
        version=version,
        authors=paper.authors,
        lang="en",
        announce_type=announce,
    )


ZH_LIST = Item(  # a line of a Chinese reading list: English title inside Chinese commentary, no link
    source_id="zhihu-dl-theory",
    kind=ItemKind.MENTION,
    title="Recent advances in deep learning theory —— 按六个方向整理的深度学习理论综述",
    url="https://zhuanlan.zhihu.com/p/000000001",
    lang="mixed",
    text="按六个方向整理的深度学习理论综述",
)
AR_PAGE = Item(  # an Arabic aggregator page that keeps the English title
    source_id="shamra",
    kind=ItemKind.PAPER,
    title="The Modern Mathematics of Deep Learning",
    url="https://shamra-academia.com/show/000001",
    lang="ar",
    authors=("Julius Berner",),
    text="نبذة بالعربية عن البحث",
)
ZH_TRANSLATED = Item(  # a Chinese title known to us only through its machine translation
    source_id="papers-cool",
    kind=ItemKind.MENTION,
    title="深度学习理论的原理",
    url="https://papers.cool/venue/000002",
    lang="zh",
    title_en="Principles of the deep learning theory",
    translated_by="argos zh→en test",
)


def by_key(clusters: list[PaperCluster]) -> dict[str, PaperCluster]:
    return {c.paper.key: c for c in clusters}


def test_one_cluster_per_paper_with_every_sighting() -> None:
    items = [
        listing(PRINCIPLES, 1, AnnounceType.NEW),
        listing(PRINCIPLES, 2, AnnounceType.REPLACE, source="arxiv-api"),
        listing(ADVANCES, 1, AnnounceType.NEW),
        listing(MODERN, 1, AnnounceType.CROSS),
        ZH_LIST,
        AR_PAGE,
        ZH_TRANSLATED,
    ]
    clusters = cluster_items(
        items, PAPERS, source_names={"zhihu-dl-theory": "Zhihu", "shamra": "Shamra Academia"}
    )
    assert [c.paper.key for c in clusters] == ["arxiv:2012.10931", "arxiv:2105.04026", "arxiv:2106.10165"]
    found = by_key(clusters)

    advances = found["arxiv:2012.10931"]
    assert advances.paper is ADVANCES  # arXiv's record and title win
    assert {s.source_id for s in advances.sightings} == {"arxiv-rss", "zhihu-dl-theory"}
    zh = next(s for s in advances.sightings if s.source_id == "zhihu-dl-theory")
    assert zh.source_name == "Zhihu" and zh.kind is ItemKind.MENTION and zh.url == ZH_LIST.url
    assert zh.original_title == ZH_LIST.title
    assert advances.original_lang == "mixed"

    modern = found["arxiv:2105.04026"]
    assert modern.paper.version == 1
    assert {s.source_id for s in modern.sightings} == {"arxiv-rss", "shamra"}
    assert next(s for s in modern.sightings if s.source_id == "shamra").lang == "ar"

    principles = found["arxiv:2106.10165"]
    assert principles.versions == (1, 2)
    assert principles.paper.version == 2
    assert {s.source_id for s in principles.sightings} == {"arxiv-rss", "arxiv-api", "papers-cool"}
    translated = next(s for s in principles.sightings if s.source_id == "papers-cool")
    assert translated.original_title == "深度学习理论的原理"
    assert principles.original_title == "深度学习理论的原理" and principles.original_lang == "zh"
    assert len(principles.item_keys) == 3


def test_order_of_items_does_not_matter() -> None:
    items = [
        listing(PRINCIPLES, 1, AnnounceType.NEW),
        ZH_LIST,
        listing(ADVANCES, 1, AnnounceType.NEW),
        AR_PAGE,
        ZH_TRANSLATED,
        listing(MODERN, 1, AnnounceType.NEW),
    ]
    assert cluster_items(items, PAPERS) == cluster_items(list(reversed(items)), PAPERS)


def test_paper_without_arxiv_metadata_gets_the_best_english_title() -> None:
    english_blog_mention = Item(
        source_id="offconvex",
        kind=ItemKind.MENTION,
        title="A Convergence Theory for Deep Learning via Over-Parameterization",
        url="https://example.org/post#ref",
        lang="en",
    )
    chinese_mention = Item(
        source_id="zhihu-dl-theory",
        kind=ItemKind.MENTION,
        title="过参数化深度学习的收敛理论",
        title_en="A convergence theory for deep learning via over-parameterization",
        lang="zh",
    )
    clusters = cluster_items([chinese_mention, english_blog_mention], {})
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster.paper.title == "A Convergence Theory for Deep Learning via Over-Parameterization"
    assert cluster.paper.key == "title:a convergence theory for deep learning via over parameterization"
    assert cluster.original_title == "过参数化深度学习的收敛理论"


def test_journal_doi_is_linked_to_the_arxiv_paper() -> None:
    journal = Item(source_id="feed", kind=ItemKind.MENTION, title="Deep learning", doi="10.1038/nature14539")
    arxiv_with_doi = Item(
        source_id="arxiv-api",
        kind=ItemKind.PAPER,
        title="Some preprint",
        arxiv_id="2105.04026",
        doi="10.1038/NATURE14539",
    )
    clusters = cluster_items([journal, arxiv_with_doi], PAPERS)
    assert len(clusters) == 1
    assert clusters[0].paper.arxiv_id == "2105.04026"
    assert clusters[0].paper.doi == "10.1038/nature14539"


def test_same_generic_title_in_two_years_gets_two_keys() -> None:
    def editorial(year: int) -> Item:
        return Item(
            source_id="journal-feed",
            kind=ItemKind.PAPER,
            title="Editorial",
            url=f"https://example.org/{year}",
            published=dt.datetime(year, 1, 1, tzinfo=UTC),
        )

    clusters = cluster_items([editorial(2024), editorial(2025)], {})
    assert len(clusters) == 2
    assert len({c.paper.key for c in clusters}) == 2


def test_posts_are_not_papers() -> None:
    post = Item(
        source_id="offconvex",
        kind=ItemKind.POST,
        title="The Principles of Deep Learning Theory",
        url="https://example.org/post",
    )
    assert cluster_items([post], PAPERS) == []


def mention(source: str, title: str, lang: str = "en", arxiv_id: str | None = "1906.11300") -> Item:
    return Item(
        source_id=source,
        kind=ItemKind.MENTION,
        title=title,
        url=f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        arxiv_id=arxiv_id,
        lang=lang,
    )


def test_without_metadata_the_cluster_title_is_the_one_that_reads_as_a_title() -> None:
    items = [
        mention("notes-hostile", "<script>alert(5)</script>"),
        mention("notes-remark", "must read!"),
        mention("zhihu", "Benign Overfitting in Linear Regression", lang="zh"),
    ]
    # no arXiv metadata for the id: the title comes from the sightings
    (cluster,) = cluster_items(items, {})
    assert cluster.paper.arxiv_id == "1906.11300"
    assert cluster.paper.title == "Benign Overfitting in Linear Regression"
    assert len(cluster.sightings) == 3
    # order of the items does not matter
    (again,) = cluster_items(items[::-1], {})
    assert again.paper.title == cluster.paper.title


def test_arxiv_metadata_title_still_wins_over_any_sighting() -> None:
    items = [mention("notes", "Benign overfitting, the linear case", arxiv_id="2012.10931")]
    (cluster,) = cluster_items(items, PAPERS)
    assert cluster.paper.title == ADVANCES.title


def test_a_journal_version_two_years_after_the_preprint_is_one_entry() -> None:
    # Sirignano & Spiliopoulos: arXiv 2018, SIAM Journal on Applied Mathematics 2020. The arXiv
    # item and its metadata are one use of the title, not two (which would make it look like a
    # series), and a Chinese post naming neither people nor year must not stop the two versions
    # from being each other's best match
    title = "Mean Field Analysis of Neural Networks: A Law of Large Numbers"
    authors = ("Justin Sirignano", "Konstantinos Spiliopoulos")
    preprint = Paper(
        key="arxiv:1805.01053",
        title=title,
        arxiv_id="1805.01053",
        version=1,
        authors=authors,
        published=dt.datetime(2018, 5, 2, tzinfo=UTC),
    )
    journal = Paper(
        key="doi:10.1137/18m1192184",
        title=title,
        doi="10.1137/18M1192184",
        authors=authors,
        published=dt.datetime(2020, 2, 27, tzinfo=UTC),
    )
    items = [
        listing(preprint, 1, AnnounceType.NEW),
        Item(
            source_id="blog",
            kind=ItemKind.MENTION,
            title=title,
            doi="10.1137/18M1192184",
            url="https://doi.org/10.1137/18M1192184",
        ),
        Item(
            source_id="zhihu",
            kind=ItemKind.MENTION,
            title=f"论文解读：{title}",
            lang="zh",
            url="https://zhuanlan.zhihu.com/p/000000002",
        ),
    ]
    clusters = cluster_items(items, {"1805.01053": preprint, "doi:10.1137/18m1192184": journal})
    assert len(clusters) == 1
    assert clusters[0].paper.arxiv_id == "1805.01053"
    assert {s.source_id for s in clusters[0].sightings} == {"arxiv-rss", "blog", "zhihu"}


PRINCIPLES_BOOK = Item(  # Cambridge University Press, 2022: the preprint's title with a subtitle
    source_id="crossref",
    kind=ItemKind.PAPER,
    title=f"{PRINCIPLES.title}: An Effective Theory Approach to Understanding Neural Networks",
    doi="10.1017/9781009023405",
    url="https://doi.org/10.1017/9781009023405",
    authors=PRINCIPLES.authors,
    published=dt.datetime(2022, 5, 26, tzinfo=UTC),
)


def test_a_book_version_a_year_later_with_a_subtitle_joins_the_preprint() -> None:
    (cluster,) = cluster_items([listing(PRINCIPLES, 1, AnnounceType.NEW), PRINCIPLES_BOOK], PAPERS)
    assert cluster.paper.arxiv_id == "2106.10165"
    assert {s.source_id for s in cluster.sightings} == {"arxiv-rss", "crossref"}


def test_a_mention_the_source_showed_without_a_title_is_marked_so_on_its_sighting() -> None:
    # Shamra's related papers in a text rendering: labelled by their abstract's first words
    label = Item(
        source_id="shamra",
        kind=ItemKind.MENTION,
        title="Recent works suggest that the use of popular normalization schemes",
        url="https://shamra-academia.com/show/3a43e949ea855f",
        text="Recent works suggest that the use of popular normalization schemes can move deep learning.",
        extra=(("evidence", "abstract_only"),),
    )
    titled = Item(source_id="blog", kind=ItemKind.MENTION, title="Deep learning via normalization schemes")
    by_title = {c.paper.title: c for c in cluster_items([label, titled], {})}
    assert [s.titled_by_text for s in by_title[label.title].sightings] == [True]
    assert [s.titled_by_text for s in by_title[titled.title].sightings] == [False]
