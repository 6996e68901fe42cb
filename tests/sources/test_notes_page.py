"""notes_page on the five seeds (text renderings, read in place) and on hand-written pages in the
real formats (Obsidian Publish HTML, TiddlyWiki HTML, a GitHub Markdown README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.errors import ParseError
from dltheory_digest.models import Item, ItemKind, ParseResult
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.notes_page import classify_url, clean_title

KIND = REGISTRY["notes_page"]

SEED_000_IDS = {
    "2106.10165",
    "1910.00359",
    "2402.15332",
    "1911.00502",
    "2002.08071",
    "1908.10920",
    "1805.08522",
    "2006.07710",
    "2311.07498",
    "2212.09993",
    "1806.08734",
}


def seed(shared_dir: Path, number: str) -> bytes:
    (path,) = (shared_dir / "seeds").glob(f"{number}_*.txt")
    return path.read_bytes()


def parse_file(path: Path, url: str = "") -> ParseResult:
    return KIND.parse_bytes(path.read_bytes(), url=url, source_id="notes")


def by_title(items: tuple[Item, ...]) -> dict[str, Item]:
    return {item.title: item for item in items}


def category(item: Item) -> str | None:
    return dict(item.extra).get("category")


def test_seed_000_every_arxiv_id_with_its_title(shared_dir: Path) -> None:
    result = KIND.parse_bytes(seed(shared_dir, "000"), source_id="obsidian")
    with_ids = [item for item in result.items if item.arxiv_id]
    assert {item.arxiv_id for item in with_ids} == SEED_000_IDS
    assert len(with_ids) == 11
    titles = {item.arxiv_id: item.title for item in with_ids}
    assert titles["2106.10165"] == "The Principles of Deep Learning Theory"
    assert titles["2402.15332"] == "Categorical Deep Learning: An Algebraic Theory of Architectures"
    assert (
        titles["1910.00359"] == "Truth or Backpropaganda? An Empirical Investigation of Deep Learning Theory"
    )
    # ids inside a "Citations: [1] [id] title [2] ..." line are split per reference
    assert titles["1805.08522"] == (
        "Deep learning generalizes because the parameter-function map is biased towards simple functions"
    )
    assert titles["2006.07710"] == "The Pitfalls of Simplicity Bias in Neural Networks"
    assert all(
        item.kind is ItemKind.MENTION and item.url == f"https://arxiv.org/abs/{item.arxiv_id}"
        for item in with_ids
    )
    assert not result.warnings


def test_seed_000_videos_wiki_blogs_and_code_are_other_items(shared_dir: Path) -> None:
    items = KIND.parse_bytes(seed(shared_dir, "000"), source_id="obsidian").items
    others = {(item.title, category(item)) for item in items if item.kind is ItemKind.OTHER}
    assert ("Introduction to Deep Learning Theory", "video") in others
    assert ("Statistical learning theory", "wiki") in others
    # "Singular Learning Theory - LessWrong", then "... in nLab": one name, one item (the store
    # keeps one per key), the first of two links the digest leaves out
    assert ("Singular Learning Theory", "blog") in others
    assert not any(title.lower() == "singular learning theory" and kind == "wiki" for title, kind in others)
    assert ("Shard Theory: An Overview", "blog") in others  # "— LessWrong"
    assert (
        "Why More Is More (in Artificial Intelligence)",
        "blog",
    ) in others  # "| by ... | Towards Data Science"
    assert ("Generalization and Inductive Bias in Neural Networks", "video") in others
    assert any(title.startswith("Zymrael/awesome-neural-ode") and kind == "code" for title, kind in others)
    # a "| Semantic Scholar" citation is a paper mention without id
    mentions = by_title(items)
    semantic = mentions["Simplicity bias in the parameter-function map of deep neural networks"]
    assert semantic.kind is ItemKind.MENTION and semantic.arxiv_id is None
    assert dict(semantic.extra)["evidence"] == "title_only"
    # internal [[wiki links]], headings and "Includes:" lines are not items
    assert not any("[[" in item.title or item.title.startswith("Includes") for item in items)


def test_seed_001_title_only_lines(shared_dir: Path) -> None:
    items = KIND.parse_bytes(seed(shared_dir, "001"), source_id="tiddly").items
    mentions = by_title(items)
    for title in (
        "Understanding deep learning requires rethinking generalization",
        "Deep Learning and the Information Bottleneck Principle",
        "On the Expressive Power of Deep Neural Networks",
        "Do Deep Nets Really Need to be Deep?",
        "A Correspondence Between Random Neural Networks and Statistical Field Theory",
    ):
        assert mentions[title].kind is ItemKind.MENTION
        assert dict(mentions[title].extra)["evidence"] == "title_only"
    assert not any(item.arxiv_id for item in items)
    assert not any(item.title.startswith("See ") for item in items)
    assert "Nice lecture videos" not in mentions and "cosmos 30th November 2018 at 2:16am" not in mentions
    # a title followed by the reader's remark: the remark is commentary, not part of the title
    loss_surfaces = mentions["The Loss Surfaces of Multilayer Networks"]
    assert loss_surfaces.text.startswith("loss surfaces paper.")
    # a dash pair inside a title, and a sentence with a dash, are not cut at the dash
    assert "Why and when can deep" not in mentions
    assert "The approximation of functions with a compositional structure" not in mentions
    # a pointer elsewhere after the title is commentary
    review = mentions[
        "Why and when can deep - but not shallow - networks avoid the curse of dimensionality: a review"
    ]
    assert review.text == "see also Expressivity of neural networks"
    # an old paper's title written in lower case is still a title; a lower-case remark is not
    maass = mentions["bounds for the computational power and learning complexity of analog neural nets"]
    assert dict(maass.extra)["evidence"] == "title_only"
    assert not any(title.startswith("why deep learning works") for title in mentions)


def test_seed_001_tiddler_title_and_tag_rows_are_not_mentions(shared_dir: Path) -> None:
    items = KIND.parse_bytes(seed(shared_dir, "001"), source_id="tiddly").items
    titles = [item.title for item in items]
    # 54 before: the tiddler's title and its two rows of tags were taken for paper titles;
    # 52 with Maass's title written in lower case
    assert len(titles) == 52 and all(item.kind is ItemKind.MENTION for item in items)
    for furniture in (
        "Deep learning theory",
        "Deep learning Learning theory",
        "Neural network theoryLearning theory",
    ):
        assert furniture not in titles
    # no mention is made only of the tag names
    assert not any(set(title.replace("theoryL", "theory L").split()) <= TAG_WORDS for title in titles)
    # the first lines of the body are still read
    assert titles[:2] == [
        "A Theoretical Framework for Deep Learning Networks",
        "The mathematics of deep learning",
    ]


TAG_WORDS = {"Deep", "learning", "Learning", "theory", "Neural", "network"}


def test_tiddlywiki_tag_pills_in_html_are_not_mentions(fixtures_dir: Path) -> None:
    # two tiddlers with short bodies: the whole frames are read, tags wrapper included
    result = parse_file(fixtures_dir / "sources" / "notes_tiddlywiki_tags.html")
    assert [(item.arxiv_id, item.title) for item in result.items] == [
        ("1806.07572", "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"),
        # the untagged tiddler's only line is a title-only mention
        (None, "Exponential expressivity in deep neural networks through transient chaos"),
    ]
    # neither the tags row nor a <<tag>> pill inside the body ("Filed under Reading list")
    assert not any("Kernel methods" in item.title or "Reading list" in item.title for item in result.items)


def test_tiddlywiki_classic_tag_lists_are_not_mentions() -> None:
    page = (
        '<html><body><div id="tiddlerDisplay"><div class="tiddler" tiddler="Kernels">'
        '<div class="title">Kernels</div><div class="subtitle">cosmos, 2 December 2018</div>'
        '<div class="tagging"><ul><li class="listTitle">List of tiddlers tagged with Kernels:</li>'
        '<li><a href="javascript:;" class="tiddlyLink">Neural tangent kernel notes</a></li></ul></div>'
        '<div class="tagged"><ul><li class="listTitle">tags:</li>'
        '<li><a href="javascript:;" class="button">Statistical learning theory</a></li></ul></div>'
        '<div class="viewer"><p>Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent'
        "</p></div></div></div></body></html>"
    )
    titles = [item.title for item in KIND.parse_bytes(page.encode()).items]
    assert titles == ["Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent"]


def test_tiddlywiki_copied_as_text_titles_and_tags_are_not_mentions(fixtures_dir: Path) -> None:
    items = parse_file(fixtures_dir / "sources" / "notes_tiddlywiki_story.txt").items
    assert [item.title for item in items] == [
        "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent",
        # an untagged tiddler: the line under its subtitle is the body, kept
        "Exponential expressivity in deep neural networks through transient chaos",
        "On the Expressive Power of Deep Neural Networks",
    ]


@pytest.mark.parametrize(
    ("line", "is_tags"),
    [
        ("Deep learning Learning theory", True),
        ("Kernel methodsLearning theory", True),  # pills copied with nothing between them
        ("Statistical learning theory", True),  # a single tag
        ("On the Expressive Power of Deep Neural Networks", False),
        ("Understanding deep learning requires rethinking generalization", False),
        ("Improving RBMs with physical chemistry", False),
        ("Deep Information Propagation", False),
        ("Deep Learning and the Information Bottleneck Principle", False),
    ],
)
def test_the_line_under_a_tiddler_subtitle(line: str, is_tags: bool) -> None:
    page = f"Some tiddler\n\ncosmos 30th November 2018 at 2:16am\n{line}\n\nUnderstanding Black-box Predictions via Influence Functions\n"
    titles = [item.title for item in KIND.parse_bytes(page.encode()).items]
    assert "Some tiddler" not in titles
    assert (line not in titles) is is_tags
    assert titles[-1] == "Understanding Black-box Predictions via Influence Functions"


def test_a_date_line_outside_tiddlywiki_format_changes_nothing() -> None:
    page = "Reading list\n\nUpdated 30 November 2018\nDeep learning Learning theory\n"
    titles = [item.title for item in KIND.parse_bytes(page.encode()).items]
    assert titles == ["Deep learning Learning theory"]


@pytest.mark.parametrize(
    ("line", "title", "authors", "category_"),
    [
        (
            "Spectral Learning on Matrices and TensorsMajid Janzamin等(2020)",
            "Spectral Learning on Matrices and Tensors",
            ("Majid Janzamin",),
            None,
        ),
        # after a space: a name whose surname is no English word is the author
        (
            "Depth Separation for Neural Networks Amit Daniely等(2017)",
            "Depth Separation for Neural Networks",
            ("Amit Daniely",),
            None,
        ),
        (
            "Gradient Descent Maximizes the Margin of Homogeneous Neural Networks Kaifeng Lyu 等(2019)",
            "Gradient Descent Maximizes the Margin of Homogeneous Neural Networks",
            ("Kaifeng Lyu",),
            None,
        ),
        # an initial is a given name; the title's last word before it stays ("Networks")
        # ... but after a short word the name may start there ("Net S. Arora"): kept whole
        (
            "On Exact Computation with an Infinitely Wide Neural Net S. Arora等(2019)",
            "On Exact Computation with an Infinitely Wide Neural Net S. Arora",
            (),
            None,
        ),
        (
            "Neural Tangent Kernel: Convergence and Generalization in Neural Networks A. Jacot等(2018)",
            "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
            ("A. Jacot",),
            None,
        ),
        # a surname that is also an English word: it could be the title's, so it stays
        (
            "Gradient Descent Finds Global Minima of Deep Neural Networks Simon Du等(2019)",
            "Gradient Descent Finds Global Minima of Deep Neural Networks Simon Du",
            (),
            None,
        ),
        # title words, not a name: a coinage, a derived word, a joining word before them
        (
            "Towards Understanding Grokking等现象的研究",
            "Towards Understanding Grokking",
            (),
            None,
        ),
        (
            "A General Theory of Correct, Incorrect, and Extrinsic Equivariance等",
            "A General Theory of Correct, Incorrect, and Extrinsic Equivariance",
            (),
            None,
        ),
        (
            "Dynamics of SGD with Stochastic Polyak Stepsizes等",
            "Dynamics of SGD with Stochastic Polyak Stepsizes",
            (),
            None,
        ),
        (
            "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets等",
            "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
            (),
            None,
        ),
        # a glued name without 等 is split off when its given name is no English word (it was
        # left in the title before)
        (
            "Understanding Deep Learning via Notions of RankNoam Razin的博士论文",
            "Understanding Deep Learning via Notions of Rank",
            ("Noam Razin",),
            None,
        ),
        # a programme and a workshop's session, not courses
        (
            "Foundations of Deep Learning(2019),西蒙研究中心会议。",
            "Foundations of Deep Learning",
            (),
            "workshop",
        ),
        (
            "Deep Learning Theory 4(2021, ICML)Claire Monteleoni主持,深度学习理论会议",
            "Deep Learning Theory 4",
            (),
            "workshop",
        ),
        # one lecture is a talk; what it is can be said after the first clause
        (
            "The Future of Mathematics?(2019)Kevin Buzzard就lean的一场讲座",
            "The Future of Mathematics?",
            (),
            "talk",
        ),
        (
            "Weinan E-A Mathematical Perspective on Machine Learning(2022)room1最后一排,鄂维南在icm的演讲视频",
            "Weinan E-A Mathematical Perspective on Machine Learning",
            (),
            "talk",
        ),
        # a course's code opens its title
        (
            "IFT 6169: Theoretical principles for deep learning",
            "IFT 6169: Theoretical principles for deep learning",
            (),
            "course",
        ),
        # a paper's remark that mentions code, a conference paper, a series of works or the
        # authors' talk is about the paper: it stays a paper
        ("Deep Double Descent(2019),经典论文,作者开源了代码。", "Deep Double Descent", (), None),
        (
            "Sharp Minima Can Generalize For Deep Nets(2017),ICML会议论文,讨论平坦度",
            "Sharp Minima Can Generalize For Deep Nets",
            (),
            None,
        ),
        (
            "Gradient Descent Finds Global Minima(2019),这是一系列工作的起点",
            "Gradient Descent Finds Global Minima",
            (),
            None,
        ),
        (
            "Neural Tangent Kernel Theory(2018),作者在NeurIPS上的talk很清楚。",
            "Neural Tangent Kernel Theory",
            (),
            None,
        ),
        # ...and one that says it has a video, is the text of a talk, a part of a series of works,
        # or a paper of a conference
        ("Deep Double Descent(2019),附视频", "Deep Double Descent", (), None),
        # a later sentence is about something else: "it later became part of a Stanford course"
        ("Deep Double Descent(2019),经典论文。后来成了斯坦福的课程", "Deep Double Descent", (), None),
        ("Deep Double Descent(2019),该文是作者ICM演讲的文字版", "Deep Double Descent", (), None),
        ("Deep Double Descent(2019),属于NTK系列", "Deep Double Descent", (), None),
        ("Deep Double Descent(2019),发表在NeurIPS会议", "Deep Double Descent", (), None),
        ("Deep Double Descent(2019),ICML会议的最佳论文", "Deep Double Descent", (), None),
        ("Deep Double Descent(2019),ICML 2021 workshop", "Deep Double Descent", (), None),
    ],
)
def test_chinese_reading_list_lines(
    line: str, title: str, authors: tuple[str, ...], category_: str | None
) -> None:
    (item,) = KIND.parse_bytes(f"整理了一些论文。\n\n- {line}\n".encode()).items
    assert (item.title, item.authors, category(item)) == (title, authors, category_)


def test_title_lines_with_a_remark_after_a_dash() -> None:
    page = (
        "- Flat Minima - wide basins are said to generalize better than sharp ones\n"
        "- Geometric Deep Learning - Grids, Groups, Graphs, Geodesics, and Gauges\n"
        "- Deep Learning Theory - see also the lecture notes\n"
    )
    items = KIND.parse_bytes(page.encode()).items
    assert [(i.title, i.text) for i in items] == [
        ("Flat Minima", "wide basins are said to generalize better than sharp ones"),
        ("Geometric Deep Learning - Grids, Groups, Graphs, Geodesics, and Gauges", ""),
        ("Deep Learning Theory", "see also the lecture notes"),
    ]


def test_lower_case_title_lines_and_see_also_tails() -> None:
    page = (
        "- bounds for the computational power and learning complexity of analog neural nets\n"
        "- we should read more of the papers on the loss surface\n"
        "- why deep learning works -- spin glasses, protein folding, etc.\n"
        "- deep learning theory notes\n"
        "- Deep Information Propagation (see also Mean field theory)\n"
        "- Deep Learning Theory; cf. the lecture notes\n"
    )
    items = KIND.parse_bytes(page.encode()).items
    assert [(i.title, i.text) for i in items] == [
        ("bounds for the computational power and learning complexity of analog neural nets", ""),
        ("Deep Information Propagation", "see also Mean field theory"),
        ("Deep Learning Theory", "cf. the lecture notes"),
    ]


def test_seed_002_reading_list_keeps_chinese_commentary(shared_dir: Path) -> None:
    items = KIND.parse_bytes(seed(shared_dir, "002"), source_id="zhihu-list").items
    mentions = by_title(items)
    recent = mentions["Recent advances in deep learning theory"]
    assert recent.kind is ItemKind.MENTION and recent.lang == "zh"
    assert recent.text.startswith("总结了目前深度学习理论研究的六个方向的一些结果")
    principles = mentions["The Principles of Deep Learning Theory"]
    assert principles.text.startswith("Daniel A. Roberts and Sho Yaida")
    assert dict(principles.extra)["year"] == "2021"
    gans = mentions["Predicting Generalization using GANs"]
    assert gans.text == "用GAN来评估泛化性"
    assert mentions["A New Perspective of Entropy"].kind is ItemKind.MENTION  # emoji stripped
    # commentary that says "courses and lectures" makes the line a non-paper item
    # the organiser's acronym glued to the title goes back to the commentary it starts
    course = mentions["Theory of Deep Learning"]
    assert category(course) == "course" and course.text.startswith("TTIC,西北大学等组织")
    assert category(mentions["The Future of Mathematics?"]) == "talk"
    # English-only syllabus lines of a Chinese page are not taken as titles
    assert "Generalization: theoretical analysis and practical bounds" not in mentions
    # 33 before: a programme and two chaired sessions were taken for papers; 31 with the
    # English-only "Title(2019)Author..." line, which was dropped before; 29 without an ICM talk
    # (said in the second clause) and a course code's course. "MathDL系列" stays a mention: a
    # remark ending in 系列 as often says a paper belongs to a series of works ("NTK系列")
    assert sum(item.kind is ItemKind.MENTION for item in items) == 29
    assert category(mentions["Weinan È-A Mathematical Perspective on Machine Learning"]) == "talk"
    assert category(mentions["IFT 6169: Theoretical principles for deep learning"]) == "course"
    assert mentions["MathsDL-spring19"].kind is ItemKind.MENTION
    # a blog post named in a later sentence is about the paper: it stays a paper
    assert mentions["GRAND: Graph Neural Diffusion"].kind is ItemKind.MENTION
    jacobian = mentions["Robust Learning with Jacobian Regularization"]
    assert (jacobian.authors, jacobian.text, dict(jacobian.extra)["year"]) == (("Judy Hoffman",), "", "2019")
    # what is glued to the Chinese commentary is its subject, not the title's last word
    approximation = mentions["Universal approximation theorem"]
    assert approximation.text.startswith("NN逼近从这里开始")
    assert mentions["MathsDL-spring19"].text.startswith("MathDL系列")
    # a first author glued on without 等 ("et al."), when the given name is no English word
    assert mentions["The Dawning of a New Erain Applied Mathematics"].authors == ("Weinan E",)
    for event in ("Foundations of Deep Learning", "Deep Learning Theory 4", "Deep Learning Theory 5"):
        assert category(mentions[event]) == "workshop"
    # "Title" + first author glued on + 等 ("et al."): the name is the author, not title words
    spectral = mentions["Spectral Learning on Matrices and Tensors"]
    assert (spectral.authors, spectral.kind) == (("Majid Janzamin",), ItemKind.MENTION)
    assert mentions["Theory of Deep Learning(draft)"].authors == ("Rong Ge",)
    # ... and after a space, when the name cannot be title words (still 30 mentions)
    barriers = mentions["Neural Networks with Small Weights and Depth-Separation Barriers"]
    assert (barriers.authors, barriers.kind) == (("Gal Vardi",), ItemKind.MENTION)
    assert barriers.text.startswith("等证明了")


def test_a_chinese_reading_list_splits_three_word_names_and_glued_acronyms() -> None:
    page = (
        "A Survey on Data Management for Machine Learning Beng Chin Ooi等(2023)综述了数据管理\n"
        "Foundations of Deep Learning Theory Gal Vardi等(2022)讲义\n"
        "Deep Learning Theory SeminarMIT,哈佛等组织的一系列讲座(2021)\n"
    )
    mentions = by_title(KIND.parse_bytes(page.encode(), source_id="zhihu-list").items)
    # "Beng" is in the spelling dictionary, but only as a rarity: a second given name
    assert mentions["A Survey on Data Management for Machine Learning"].authors == ("Beng Chin Ooi",)
    # "Theory" is a common word: it stays in the title
    assert mentions["Foundations of Deep Learning Theory"].authors == ("Gal Vardi",)
    seminar = mentions["Deep Learning Theory Seminar"]
    assert category(seminar) == "course" and seminar.text.startswith("MIT,哈佛")


def test_seed_003_bracketed_scores_are_not_ids(shared_dir: Path) -> None:
    items = KIND.parse_bytes(seed(shared_dir, "003"), source_id="mirror").items
    assert {(item.arxiv_id, item.version) for item in items if item.arxiv_id} == {("2408.13767", 2)}


def test_seed_004_arabic_page_has_no_ids(shared_dir: Path) -> None:
    result = KIND.parse_bytes(seed(shared_dir, "004"), source_id="shamra")
    assert not any(item.arxiv_id for item in result.items)


def test_obsidian_publish_html(fixtures_dir: Path) -> None:
    result = parse_file(
        fixtures_dir / "sources" / "notes_obsidian_publish.html", "https://publish.obsidian.md/x/Theory"
    )
    items = by_title(result.items)
    assert set(items) == {
        "Statistical learning theory",
        "The Principles of Deep Learning Theory",
        "Principles of deep learning theory talks",
        "Geometric Deep Learning: Grids, Groups, Graphs, Geodesics, and Gauges",
        "Neural tangent kernel",
        "Ultra-Wide Deep Nets and Neural Tangent Kernel (NTK)",
        "CSC2541 Neural Net Training Dynamics",
        "Reconciling modern machine-learning practice and the classical bias–variance trade-off",
    }
    gdl = items["Geometric Deep Learning: Grids, Groups, Graphs, Geodesics, and Gauges"]
    assert (gdl.arxiv_id, gdl.version, gdl.url) == ("2104.13478", 2, "https://arxiv.org/pdf/2104.13478v2")
    assert gdl.text == "the proto-book that frames architectures by their symmetry groups"
    pnas = items["Reconciling modern machine-learning practice and the classical bias–variance trade-off"]
    assert (pnas.kind, pnas.doi, pnas.arxiv_id) == (ItemKind.MENTION, "10.1073/pnas.1903070116", None)
    assert {category(items[t]) for t in ("Statistical learning theory", "Neural tangent kernel")} == {"wiki"}
    # a YouTube search for talks, not a talk: kept, but not listed among the talks and courses
    assert category(items["Principles of deep learning theory talks"]) == "listing"
    assert category(items["Ultra-Wide Deep Nets and Neural Tangent Kernel (NTK)"]) == "blog"
    assert category(items["CSC2541 Neural Net Training Dynamics"]) == "course"


def test_a_link_text_that_says_course_is_a_course() -> None:
    page = (
        b"<html><body><ul>"
        b"<li><a href='https://stats385.github.io/'>Stats 385: Theories of Deep Learning (Stanford course)</a></li>"
        b"<li><a href='https://example.github.io/dl-theory/'>Deep learning theory, a primer</a></li>"
        b"</ul></body></html>"
    )
    items = KIND.parse_bytes(page, source_id="notes").items
    assert {(item.title, category(item)) for item in items} == {
        ("Stats 385: Theories of Deep Learning", "course"),
        ("Deep learning theory, a primer", "blog"),
    }


def test_tiddlywiki_html_skips_internal_links(fixtures_dir: Path) -> None:
    result = parse_file(fixtures_dir / "sources" / "notes_tiddlywiki.html")
    assert [(item.arxiv_id, item.title) for item in result.items] == [
        ("1611.03530", "Understanding deep learning requires rethinking generalization"),
        ("1503.02406", "Deep Learning and the Information Bottleneck Principle"),
        ("1703.00810", "Opening the Black Box of Deep Neural Networks via Information"),
        # the link text is just "arXiv": the title comes from the words after it
        ("1902.06720", "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent"),
    ]
    assert result.items[-1].text == "Reading notes on"


def test_markdown_readme_all_id_forms(fixtures_dir: Path) -> None:
    items = parse_file(fixtures_dir / "sources" / "notes_readme.md").items
    ids = {(item.arxiv_id, item.version, dict(item.extra).get("evidence")) for item in items if item.arxiv_id}
    assert ids == {
        ("1611.03530", None, "arxiv_link"),
        ("1812.11118", 2, "arxiv_text"),  # arXiv:1812.11118v2
        ("1912.02292", None, "arxiv_link"),  # bare URL in text
        ("1806.07572", None, "arxiv_link"),  # [[id] title](url)
        ("1902.06720", None, "arxiv_link"),  # https://doi.org/10.48550/arXiv.1902.06720
        ("hep-th/9711200", None, "arxiv_text"),  # old style
    }
    titles = by_title(items)
    belkin = titles["Reconciling modern machine learning practice and the bias-variance trade-off"]
    assert (belkin.arxiv_id, belkin.text) == ("1812.11118", "Belkin, Hsu, Ma, Mandal")
    assert (
        titles["Neural Tangent Kernel: Convergence and Generalization in Neural Networks"].arxiv_id
        == "1806.07572"
    )
    dois = {item.doi for item in items if item.doi}
    assert dois == {"10.1073/pnas.1903070116"}
    neurips = [item for item in items if item.url == "https://proceedings.neurips.cc/paper/2018"]
    assert len(neurips) == 1 and dict(neurips[0].extra)["evidence"] == "paper_link"
    assert (
        category(titles["Ultra-Wide Deep Nets and Neural Tangent Kernel"]) == "blog"
    )  # TiddlyWiki [[t|url]]
    assert category(titles["awesome-neural-ode"]) == "code"


def test_changed_layout_warns_instead_of_failing() -> None:
    result = KIND.parse_bytes(b"<html><body><div class='app'>Loading...</div></body></html>", source_id="n")
    assert result.items == ()
    assert "0 items parsed from a 200 response" in result.warnings


def test_undecodable_bytes_raise_parse_error_with_source_id() -> None:
    with pytest.raises(ParseError) as excinfo:
        KIND.parse_bytes(bytes(range(256)) * 50, source_id="my-notes")
    assert excinfo.value.source_id == "my-notes"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://arxiv.org/abs/2106.10165v2", "arxiv"),
        ("https://doi.org/10.1073/pnas.1903070116", "doi"),
        ("https://proceedings.mlr.press/v97/", "paper"),
        ("https://www.youtube.com/watch", "video"),
        ("https://en.wikipedia.org/wiki/Neural_tangent_kernel", "wiki"),
        ("https://github.com/Zymrael/awesome-neural-ode", "code"),
        ("https://www.lesswrong.com/w/singular-learning-theory", "blog"),
        ("https://stats385.github.io/", "course"),
        ("https://cs231n.github.io/convolutional-networks/", "course"),
        ("https://lilianweng.github.io/posts/2018-06-24-attention/", "blog"),
        ("https://example.org/page", "link"),
    ],
)
def test_classify_url(url: str, kind: str) -> None:
    assert classify_url(url) == kind


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube-nocookie.com/embed/kPm5Tbkq0Ho",
        "https://youtube-nocookie.com/embed/kPm5Tbkq0Ho?start=90",
        "https://www.youtube.com/embed/kPm5Tbkq0Ho",
        "https://m.youtube.com/watch?v=kPm5Tbkq0Ho",
        "https://music.youtube.com/watch?v=kPm5Tbkq0Ho",
        "https://youtu.be/kPm5Tbkq0Ho",
        "https://player.vimeo.com/video/76979871",
    ],
)
def test_every_spelling_of_a_video_link_is_a_video(url: str) -> None:
    page = (
        f"<html><body><ul><li><a href='{url}'>Feature learning in wide networks</a></li></ul></body></html>"
    )
    (item,) = KIND.parse_bytes(page.encode(), source_id="notes").items
    assert (item.kind, category(item)) == (ItemKind.OTHER, "video")


def test_clean_title() -> None:
    assert (
        clean_title("[2106.10165] The Principles of Deep Learning Theory")
        == "The Principles of Deep Learning Theory"
    )
    assert (
        clean_title("[PDF] Deep Information Propagation | Semantic Scholar") == "Deep Information Propagation"
    )
    assert (
        clean_title("Predicting Generalization using GANs(2022.6)") == "Predicting Generalization using GANs"
    )


def test_arxiv_ids_in_mirror_links() -> None:
    page = (
        "- [The Principles of Deep Learning Theory](https://huggingface.co/papers/2106.10165)\n"
        "- [LoRA](https://papers.cool/arxiv/2106.09685v2) read on papers.cool\n"
    )
    items = KIND.parse_bytes(page.encode()).items
    assert [(i.arxiv_id, i.version, i.title, i.text) for i in items] == [
        ("2106.10165", None, "The Principles of Deep Learning Theory", ""),
        ("2106.09685", 2, "LoRA", "read on papers.cool"),
    ]


def test_arxiv_ids_in_links_to_mirrors_that_are_not_paper_hosts() -> None:
    # arxiv-vanity, sciencecast and ar5iv.org pages are classed as plain links, yet name the paper
    page = (
        "- [Neural Tangent Kernel](https://www.arxiv-vanity.com/papers/1806.07572/)\n"
        "- [Deep Double Descent](https://arxiv.sciencecast.org/abs/1912.02292v2)\n"
        "- [The Large N Limit of Superconformal Field Theories and Supergravity](https://ar5iv.org/abs/hep-th/9711200)\n"
    )
    items = KIND.parse_bytes(page.encode()).items
    assert [(i.arxiv_id, i.version, i.title) for i in items] == [
        ("1806.07572", None, "Neural Tangent Kernel"),
        ("1912.02292", 2, "Deep Double Descent"),
        ("hep-th/9711200", None, "The Large N Limit of Superconformal Field Theories and Supergravity"),
    ]


def test_single_file_tiddlywiki_store(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "notes_tiddlywiki_single_file.html").read_bytes()
    items = KIND.parse_bytes(content, url="https://example.github.io/notes/", source_id="tw").items
    assert [(i.kind.value, i.arxiv_id, i.title) for i in items] == [
        ("mention", "1611.03530", "Understanding deep learning requires rethinking generalization"),
        ("mention", "1503.02406", "Deep Learning and the Information Bottleneck Principle"),
        ("mention", "1703.00810", "Opening the Black Box of Deep Neural Networks via Information"),
        ("other", None, "Neural tangent kernel"),
        ("mention", "1806.07572", ""),
    ]
    assert items[0].text == "random labels are memorised"
    # one tiddler only, through the kind's options
    only = KIND.parse_bytes(content, options={"tiddlers": ["Neural tangent kernel"]}).items
    assert [i.arxiv_id for i in only if i.arxiv_id] == ["1806.07572"]


# --- titles next to ids: remarks and literal markup are not titles ---------------------------


@pytest.mark.parametrize(
    ("line", "title", "commentary"),
    [
        ("Deep double descent — arXiv:1912.02292 — must read!", "Deep double descent", "must read!"),
        ("- Deep double descent - arXiv:1912.02292 - a classic", "Deep double descent", "a classic"),
        ("Deep double descent arXiv:1912.02292 Nakkiran et al.", "Deep double descent", "Nakkiran et al"),
        # the words after an id stay its title when they read as one
        ("arXiv:1912.02292 Deep Double Descent — must read!", "Deep Double Descent", "must read!"),
        ("Some notes: arXiv:1912.02292 Deep Double Descent", "Deep Double Descent", "Some notes"),
        # nothing that reads as a title: no title rather than the remark
        ("arXiv:1912.02292 — must read!", "", "must read!"),
    ],
)
def test_a_remark_after_an_id_is_commentary_not_the_title(line: str, title: str, commentary: str) -> None:
    (item,) = KIND.parse_bytes(line.encode(), source_id="notes").items
    assert (item.arxiv_id, item.title, item.text) == ("1912.02292", title, commentary)


def test_markup_shown_as_text_never_becomes_a_title(fixtures_dir: Path) -> None:
    result = parse_file(fixtures_dir / "sources" / "notes_literal_markup.html", "https://notes.example.org/")
    titles = {item.arxiv_id: item.title for item in result.items if item.kind is ItemKind.MENTION}
    assert titles == {
        "1806.07572": "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "1906.11300": "Benign overfitting in linear regression",
        "2106.10165": "The Principles of Deep Learning Theory",
        "1912.02292": "Deep double descent",
        "2103.00065": "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
        "2012.10931": "Recent advances in deep learning theory",
    }
    texts = {item.arxiv_id: item.text for item in result.items}
    assert texts["1912.02292"] == "must read!" and texts["2103.00065"] == "long but worth it"
    # the escaped script and the unrendered Markdown link are dropped, not kept as commentary
    assert not any("script" in item.text or "javascript" in item.text for item in result.items)


def test_table_rows_schemeless_links_repeats_and_bracketed_links(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "notes_table_and_forms.md").read_bytes()
    result = KIND.parse_bytes(content, source_id="notes")
    found = [(m.arxiv_id, m.version, m.title, m.text) for m in result.items]
    assert found == [
        # a table row is one mention: title, link and note of the same row
        ("1712.09913", None, "Visualizing the Loss Landscape of Neural Nets", "filter normalization"),
        ("1703.04933", None, "Sharp Minima Can Generalize For Deep Nets", "reparametrization argument"),
        # "arxiv.org/abs/" written without a scheme is part of the id, not commentary
        ("1606.05336", 6, "On the Expressive Power of Deep Neural Networks", ""),
        # listed again as v2 further down: one mention, at the later version
        ("1611.03530", 2, "Understanding deep learning requires rethinking generalization", ""),
        (
            "1810.02054",
            None,
            "Gradient Descent Provably Optimizes Over-parameterized Neural Networks",
            "global convergence",
        ),
    ]
    # and the link it keeps names that version
    repeated = next(m for m in result.items if m.arxiv_id == "1611.03530")
    assert repeated.url == "https://arxiv.org/abs/1611.03530v2"


def test_same_bytes_give_the_same_items(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "notes_obsidian_publish.html").read_bytes()
    first = KIND.parse_bytes(content, source_id="notes")
    assert first.items and first == KIND.parse_bytes(content, source_id="notes")


def test_one_line_holding_many_ids_gives_each_its_own_title() -> None:
    # a reading list flattened onto one line (a TiddlyWiki field, a pasted export)
    line = " ".join(f"arXiv:2101.{10000 + n:05d} Paper number {n} about wide networks;" for n in range(300))
    result = KIND.parse_bytes(f"Reading list: {line}\n".encode(), source_id="notes")
    assert [(m.arxiv_id, m.title) for m in result.items] == [
        (f"2101.{10000 + n:05d}", f"Paper number {n} about wide networks") for n in range(300)
    ]


def test_awesome_list_citations_and_readme_furniture() -> None:
    readme = (
        "# Deep Learning Theory\n\nTable of Contents\n- [Generalization](#generalization)\n\n"
        "## Generalization\n\n"
        "* Exploring Generalization in Deep Learning. Neyshabur et al. NeurIPS 2017. "
        "[[pdf]](https://arxiv.org/pdf/1706.08947.pdf)\n"
        "* Gradient Descent Finds Global Minima of Deep Neural Networks\n"
        "* Please open a pull request to add a paper\n"
    )
    result = KIND.parse_bytes(readme.encode(), source_id="notes")
    # the citation after the title is commentary; the page's own furniture is no paper
    assert [(m.arxiv_id, m.title, m.text) for m in result.items] == [
        ("1706.08947", "Exploring Generalization in Deep Learning", "Neyshabur et al. NeurIPS 2017"),
        (None, "Gradient Descent Finds Global Minima of Deep Neural Networks", ""),
    ]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        # searches, channels and users' pages list videos: not a talk
        ("https://www.youtube.com/results?search_query=introduction+to+deep+learning+theory", "listing"),
        ("https://m.youtube.com/results?search_query=neural+tangent+kernel", "listing"),
        ("https://www.youtube.com/@SimonsInstituteTOC", "listing"),
        ("https://www.youtube.com/@SimonsInstituteTOC/videos", "listing"),
        ("https://www.youtube.com/channel/UCW1Rb2aLFDxP8EvnoGtODsQ", "listing"),
        ("https://www.youtube.com/c/SimonsInstitute", "listing"),
        ("https://www.youtube.com/user/SimonsInstitute", "listing"),
        ("https://search.bilibili.com/all?keyword=深度学习理论", "listing"),
        ("https://space.bilibili.com/12345678", "listing"),
        ("https://space.bilibili.com/12345678/video", "listing"),
        ("https://vimeo.com/search?q=deep+learning+theory", "listing"),
        ("https://vimeo.com/channels/staffpicks", "listing"),
        # a talk, and a playlist or collection (a lecture series): videos
        ("https://www.youtube.com/watch?v=kPm5Tbkq0Ho", "video"),
        ("https://www.youtube.com/watch?v=kPm5Tbkq0Ho&list=PLgKuh-lKre11GbZWneln-VZDLHyejO7YD", "video"),
        ("https://www.youtube.com/playlist?list=PLgKuh-lKre11GbZWneln-VZDLHyejO7YD", "video"),
        ("https://www.bilibili.com/video/BV1Wv411h7kN", "video"),
        ("https://space.bilibili.com/12345678/channel/collectiondetail?sid=1234", "video"),
        ("https://space.bilibili.com/12345678/lists/1234?type=season", "video"),
        ("https://vimeo.com/76979871", "video"),
        ("https://vimeo.com/channels/staffpicks/76979871", "video"),
        ("https://vimeo.com/showcase/7425071", "video"),
    ],
)
def test_a_video_sites_search_or_channel_page_is_not_a_talk(url: str, kind: str) -> None:
    assert classify_url(url) == kind


def test_a_youtube_search_named_like_a_talk_is_not_listed_as_one() -> None:
    url = "https://www.youtube.com/results?search_query=introduction+to+deep+learning+theory"
    page = f"<html><body><ul><li><a href='{url}'>Introduction to Deep Learning Theory - YouTube</a></li></ul></body></html>"
    items = KIND.parse_bytes(page.encode(), source_id="notes").items
    assert [category(item) for item in items] == ["listing"]


def test_english_reference_lines_on_a_chinese_page() -> None:
    page = (
        "整理了一些深度学习的理论相关内容,持续更新。\n"
        "- Understanding deep learning requires rethinking generalization (2017)\n"
        "- Deep Double Descent(2019)Preetum Nakkiran et al.\n"
        "- Generalization: theoretical analysis and practical bounds\n"
        "- 3.1 Geometry of Data\n"
    )
    mentions = by_title(KIND.parse_bytes(page.encode(), source_id="zhihu-list").items)
    rethinking = mentions["Understanding deep learning requires rethinking generalization"]
    assert (rethinking.kind, rethinking.text, dict(rethinking.extra)["year"]) == (
        ItemKind.MENTION,
        "",
        "2017",
    )
    assert mentions["Deep Double Descent"].authors == ("Preetum Nakkiran",)
    # English lines without a year stay headings and syllabus notes, as before
    assert set(mentions) == {
        "Understanding deep learning requires rethinking generalization",
        "Deep Double Descent",
    }


@pytest.mark.parametrize(
    ("line", "title", "authors", "commentary"),
    [
        # an English product name glued on is title, not author: "Go" is a common word
        ("Mastering the game of Go without human knowledge AlphaGo Zero介绍(2017)", None, (), None),
        ("Attention Is All You NeedSelf-Attention Mechanism机制(2017)", None, (), None),
        (
            "Deep Learning Theory Review: An Optimal Control and Dynamical Systems PerspectiveGuan-Horng Liu关于最优控制(2019)",
            "Deep Learning Theory Review: An Optimal Control and Dynamical Systems Perspective",
            ("Guan-Horng Liu",),
            "关于最优控制",
        ),
        (
            "Scaling Laws for Neural Language ModelsLLM缩放定律(2020)",
            "Scaling Laws for Neural Language Models",
            (),
            "LLM缩放定律",
        ),
    ],
)
def test_chinese_commentary_glued_to_an_english_title(
    line: str, title: str | None, authors: tuple[str, ...], commentary: str | None
) -> None:
    (item,) = KIND.parse_bytes(f"整理了一些论文。\n\n- {line}\n".encode()).items
    if title is None:  # left whole, as before
        assert (item.title, item.authors) == (line.split("介绍")[0].split("机制")[0], ())
        return
    assert (item.title, item.authors) == (title, authors)
    assert item.text.startswith(commentary or "")


def test_long_runs_of_brackets_and_separators_are_cut_whole() -> None:
    # read from the end: these runs made the old end-anchored patterns quadratic
    assert clean_title("The Principles of Deep Learning Theory" + " ]]) [[" * 3000) == (
        "The Principles of Deep Learning Theory"
    )
    line = (
        "- Deep Double Descent: Where Bigger Models and More Data Hurt" + " ," * 3000 + " arXiv:1912.02292\n"
    )
    (item,) = KIND.parse_bytes(line.encode()).items
    assert (item.arxiv_id, item.title) == (
        "1912.02292",
        "Deep Double Descent: Where Bigger Models and More Data Hurt",
    )
    page = "整理了一些论文。\n\n- Deep Double Descent" + "(2019 " * 3000 + "(2019)双下降\n"
    (item,) = KIND.parse_bytes(page.encode()).items
    assert (item.title, item.text) == ("Deep Double Descent", "(2019 " * 2999 + "(2019 (2019)双下降")


def test_classify_url_of_an_unparsable_address_is_a_plain_link() -> None:
    assert classify_url("http://[oops/") == "link"


def test_an_unparsable_link_on_a_notes_page_costs_that_link_only(fixtures_dir: Path) -> None:
    page = (fixtures_dir / "sources" / "notes_obsidian_publish.html").read_bytes()
    url = "https://publish.obsidian.md/notes/Theory+of+deep+learning"
    good = KIND.parse_bytes(page, url=url, source_id="notes")
    bad_links = b'<li><a href="http://[oops/">a mirror</a> and <a href="https://link.zhihu.com/?target=http%3A//%5B">another</a></li>\n<li>'
    broken = KIND.parse_bytes(page.replace(b"<li>", bad_links, 1), url=url, source_id="notes")
    assert len(good.items) > 3
    assert [(item.title, item.url) for item in broken.items] == [
        (item.title, item.url) for item in good.items
    ]


def test_a_notes_page_nested_too_deep_is_refused_naming_the_source(fixtures_dir: Path) -> None:
    page = (fixtures_dir / "sources" / "notes_obsidian_publish.html").read_bytes()
    too_deep = page.replace(b"<ul>", b"<div>" * 5000 + b"<ul>", 1)
    with pytest.raises(ParseError, match=r"\[notes\] markup nested more than 4,096 levels deep"):
        KIND.parse_bytes(too_deep, url="https://publish.obsidian.md/notes/p", source_id="notes")
    # a broken page nested a few thousand levels (unclosed wrappers) is still read
    deep = page.replace(b"<ul>", b"<div>" * 3000 + b"<ul>", 1)
    titles = {item.title for item in KIND.parse_bytes(deep, source_id="notes").items}
    assert "The Principles of Deep Learning Theory" in titles


def test_the_first_content_selector_that_matches_wins_wherever_it_is() -> None:
    # one pass finds every candidate; the selectors keep their order of preference
    filler = "Neural networks in the kernel regime and beyond. " * 6
    page = (
        f"<html><body><main><p>{filler}</p><p><a href='https://arxiv.org/abs/1711.00165'>"
        "Deep Neural Networks as Gaussian Processes</a></p></main>"
        f"<div class='markdown-body'><p>{filler}</p><p><a href='https://arxiv.org/abs/1806.07572'>"
        "Neural Tangent Kernel: Convergence and Generalization in Neural Networks</a></p></div></body></html>"
    )
    result = KIND.parse_bytes(page.encode(), source_id="notes")
    assert [item.arxiv_id for item in result.items] == ["1806.07572"]


# --- titles written in math: formulas, Greek letters, math symbols, brackets ---

_ZH_INTRO = "<p>整理了一些深度学习理论的论文，持续更新，下面是阅读清单和我的一些评论。</p>"


@pytest.mark.parametrize(
    ("line", "title", "year", "commentary"),
    [
        # a formula as the page wrote it, and as Zhihu's formula image (its TeX kept as $…$)
        (
            r"$\ell_1$-Regularized Linear Regression: Persistence and Oracle Inequalities（2009）经典的 Lasso 理论。",
            r"$\ell_1$-Regularized Linear Regression: Persistence and Oracle Inequalities",
            "2009",
            "经典的 Lasso 理论",
        ),
        (
            '<img src="https://www.zhihu.com/equation?tex=%5Cell_1" alt="\\ell_1" eeimg="1"/>'
            "-Regularized Linear Regression: Persistence and Oracle Inequalities（2009）经典的 Lasso 理论。",
            r"$\ell_1$-Regularized Linear Regression: Persistence and Oracle Inequalities",
            "2009",
            "经典的 Lasso 理论",
        ),
        # a bar inside a formula is the formula's own
        (
            r"Norm-Based Capacity Bounds on $\|W\|_F$ for Deep Networks（2018）范数界。",
            r"Norm-Based Capacity Bounds on $\|W\|_F$ for Deep Networks",
            "2018",
            "范数界",
        ),
        (
            "Heavy Tails of α-Stable Gradient Noise in Deep Networks（2019）重尾噪声。",
            "Heavy Tails of α-Stable Gradient Noise in Deep Networks",
            "2019",
            "重尾噪声",
        ),
        (
            "Õ(√T) Regret for Linear Bandits with ≤ d Features 线性老虎机的遗憾界（2026）。",
            "Õ(√T) Regret for Linear Bandits with ≤ d Features",
            None,
            "线性老虎机的遗憾界（2026）",
        ),
        (
            "A Theory of ℋ-Divergence for Domain Adaptation（2010）域适应的经典理论。",
            "A Theory of ℋ-Divergence for Domain Adaptation",
            "2010",
            "域适应的经典理论",
        ),
        (
            "𝔼[‖∇f(x)‖²] ≤ ε After O(ε⁻⁴) Steps of Nonconvex SGD（2013）非凸优化。",
            "𝔼[‖∇f(x)‖²] ≤ ε After O(ε⁻⁴) Steps of Nonconvex SGD",
            "2013",
            "非凸优化",
        ),
        # a reproduction report's title starts with "[Re]": without it, it names the reproduced paper
        (
            "[Re] On the Spectral Bias of Neural Networks（2020）复现报告。",
            "[Re] On the Spectral Bias of Neural Networks",
            "2020",
            "复现报告",
        ),
        # a link label left after the title by a text rendering is not title
        (
            "Deep Learning Theory: A Survey [PDF] 综述文章。",
            "Deep Learning Theory: A Survey",
            None,
            "综述文章",
        ),
        # what parts a title from its remark in a list: "~", a backslash, a braced venue
        (
            "Understanding deep learning requires rethinking generalization ~ 张驰原 2017 经典",
            "Understanding deep learning requires rethinking generalization",
            None,
            "张驰原 2017 经典",
        ),
        (
            "Wide Neural Networks Evolve as Linear Models \\ 核方法 讨论",
            "Wide Neural Networks Evolve as Linear Models",
            None,
            "核方法 讨论",
        ),
        (
            "Implicit Bias of Gradient Descent on Separable Data {ICML 2018} 讨论隐式偏置",
            "Implicit Bias of Gradient Descent on Separable Data",
            None,
            "讨论隐式偏置",
        ),
    ],
)
def test_reading_list_titles_written_in_math(
    line: str, title: str, year: str | None, commentary: str
) -> None:
    page = f"<html><body><article>{_ZH_INTRO}<p>{line}</p></article></body></html>"
    (item,) = KIND.parse_bytes(page.encode(), source_id="notes").items
    assert (item.kind, item.title, item.text) == (ItemKind.MENTION, title, commentary)
    assert dict(item.extra).get("evidence") == "title_only" and dict(item.extra).get("year") == year


@pytest.mark.parametrize(
    "line",
    [
        # fields in a row, not one title; a to-do
        "Deep Learning Theory | 2019 | 综述文章",
        "[x] Read the NTK paper carefully 已读",
    ],
)
def test_reading_list_lines_that_stay_no_title(line: str) -> None:
    page = f"<html><body><article>{_ZH_INTRO}<p>{line}</p></article></body></html>"
    assert KIND.parse_bytes(page.encode(), source_id="notes").items == ()


@pytest.mark.parametrize(
    ("line", "title"),
    [
        (
            "μP: Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer",
            "μP: Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer",
        ),
        ("ℓp Norms and the Robustness of Deep Networks", "ℓp Norms and the Robustness of Deep Networks"),
        (
            r"$\ell_1$-Regularized Linear Regression: Persistence and Oracle Inequalities",
            r"$\ell_1$-Regularized Linear Regression: Persistence and Oracle Inequalities",
        ),
        ("[Re] On the Spectral Bias of Neural Networks", "[Re] On the Spectral Bias of Neural Networks"),
        # a tag before the title is not title
        (
            "[R] Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
            "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
        ),
        # a task box, a GitHub alert, a price: no title
        ("[x] Read the paper on neural tangent kernels", None),
        ("[!NOTE] Useful information that users should know", None),
        ("$5 million was granted for the theory of deep learning", None),
    ],
)
def test_english_notes_lines_that_open_with_math_or_a_tag(line: str, title: str | None) -> None:
    intro = "<p>Reading notes on the theory of deep learning, kept up to date with the papers I liked.</p>"
    page = f"<html><body><article>{intro}<ul><li>{line}</li></ul></article></body></html>"
    items = KIND.parse_bytes(page.encode(), source_id="notes").items
    assert [(item.kind, item.title) for item in items] == ([(ItemKind.MENTION, title)] if title else [])


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("[Re] On the Spectral Bias of Neural Networks", "[Re] On the Spectral Bias of Neural Networks"),
        ("[1] Deep Residual Learning for Image Recognition", "Deep Residual Learning for Image Recognition"),
        (
            "[arXiv:2106.10165v2] The Principles of Deep Learning Theory",
            "The Principles of Deep Learning Theory",
        ),
        ("Deep Information Propagation [PDF]", "Deep Information Propagation"),
        ("Deep Information Propagation [paper] [code]", "Deep Information Propagation"),
        # the brackets a title closes are its own; those broken markup leaves are not
        ("Bounds on 𝔼[‖∇f‖²]", "Bounds on 𝔼[‖∇f‖²]"),
        ("Bounds on 𝔼[‖∇f‖²] ]]) [[", "Bounds on 𝔼[‖∇f‖²]"),
        # a TeX group is the title's own; a braced note after it and a "~" or backslash ending it are not
        (r"Learning on $\mathbb{R}^{d}$", r"Learning on $\mathbb{R}^{d}$"),
        (r"Learning on \mathbb{R}", r"Learning on \mathbb{R}"),
        ("Implicit Bias of Gradient Descent {ICML 2018}", "Implicit Bias of Gradient Descent"),
        ("Deep Nets Generalize ~", "Deep Nets Generalize"),
        ("Wide Neural Networks Evolve as Linear Models \\", "Wide Neural Networks Evolve as Linear Models"),
    ],
)
def test_clean_title_keeps_what_brackets_belong_to_the_title(text: str, title: str) -> None:
    assert clean_title(text) == title


def test_seed_003_related_paper_score_is_not_title(shared_dir: Path) -> None:
    # "A Unified Framework … Over Time [56.44910327178975]": a related paper with its score
    titles = {item.title for item in KIND.parse_bytes(seed(shared_dir, "003"), source_id="mirror").items}
    assert "A Unified Framework for Neural Computation and Learning Over Time" in titles
    assert not any("[" in title for title in titles)


def test_a_line_that_is_only_a_paper_link_is_a_mention(fixtures_dir: Path) -> None:
    # an empty anchor, or the awesome-list arXiv/DOI badge image alone on its line: the link is
    # the line; arXiv or Crossref titles it later, as for a "[link]" anchor
    result = parse_file(
        fixtures_dir / "sources" / "notes_bare_links.html", "https://someone.github.io/awesome/"
    )
    assert [(m.arxiv_id, m.doi, m.title, m.version) for m in result.items] == [
        (
            "2103.00065",
            None,
            "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
            None,
        ),
        ("1712.09913", None, "", None),
        ("1806.07572", None, "", None),
        (None, "10.1073/pnas.1903070116", "", None),
        # beside a code badge: the paper only
        ("1902.06720", None, "", 4),
        ("1906.11300", None, "", None),
    ]
    assert all(m.kind is ItemKind.MENTION for m in result.items)
    # image-only links to a repository, an avatar, a note of the site and a video are no item,
    # and an OpenReview badge has neither id nor title to name a paper by


def test_a_markdown_badge_alone_on_its_line_is_a_mention() -> None:
    readme = (
        "## Papers\n\n"
        "- [![arXiv](https://img.shields.io/badge/arXiv-1712.09913-b31b1b.svg)](https://arxiv.org/abs/1712.09913)\n"
        "- [](https://arxiv.org/abs/1806.07572)\n"
        "- [![logo](https://example.org/logo.png)](https://github.com/someone/repo)\n"
    )
    items = KIND.parse_bytes(readme.encode(), source_id="notes").items
    assert [(m.kind, m.arxiv_id, m.title) for m in items] == [
        (ItemKind.MENTION, "1712.09913", ""),
        (ItemKind.MENTION, "1806.07572", ""),
    ]


def test_link_less_resources_of_one_name_are_one_item_the_talk_kept() -> None:
    # the store keeps one item per key and source: a talk and a wiki page of the same name,
    # neither linked, would overwrite each other there; the page keeps the talk, wherever it is
    page = (
        "Lectures\n"
        "- Theory of deep learning - Wikipedia\n"
        "- Theory of Deep Learning - YouTube\n"
        "- Singular Learning Theory - LessWrong\n"
        "- singular learning theory in nLab\n"
        "- Mathematics of Deep Learning course - YouTube\n"
    )
    items = KIND.parse_bytes(page.encode(), source_id="notes").items
    others = [(item.title, category(item), item.key) for item in items if item.kind is ItemKind.OTHER]
    assert others == [
        ("Theory of Deep Learning", "video", "title:theory of deep learning"),
        # two links the digest leaves out: the first stays
        ("Singular Learning Theory", "blog", "title:singular learning theory"),
        ("Mathematics of Deep Learning course", "video", "title:mathematics of deep learning course"),
    ]
    assert len({item.key for item in items}) == len(items)


@pytest.mark.parametrize(
    "line",
    [
        "2026-12-31: Mean-field limits of deep neural networks and feature learning",
        "2026-12-31 — Mean-field limits of deep neural networks and feature learning",
        "2027/01/02 - Mean-field limits of deep neural networks and feature learning",
        "2026-12-31 Mean-field limits of deep neural networks and feature learning",
        # as a trailing date is
        "Mean-field limits of deep neural networks and feature learning (2026-12-30)",
    ],
)
def test_a_date_before_a_title_is_not_part_of_it(line: str) -> None:
    (item,) = KIND.parse_bytes(f"# Reading notes\n\n- {line}\n".encode(), source_id="notes").items
    assert item.title == "Mean-field limits of deep neural networks and feature learning"
    # neither date dates the mention: a notes page's date is when it was noted, not the paper's
    assert item.published is None and item.extra == (("evidence", "title_only"),)


def test_a_dated_line_with_an_id_is_titled_without_the_date() -> None:
    line = "- 2027-01-02 — Implicit bias of gradient descent on separable data, arXiv:2612.00099\n"
    (item,) = KIND.parse_bytes(line.encode(), source_id="notes").items
    # nor is the date its commentary
    assert (item.arxiv_id, item.title, item.text) == (
        "2612.00099",
        "Implicit bias of gradient descent on separable data",
        "",
    )


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "2020-2021 Lectures on the theory of deep learning",
            "2020-2021 Lectures on the theory of deep learning",
        ),
        ("2026.12.30 | Scaling laws", "Scaling laws"),
    ],
)
def test_clean_title_takes_a_whole_leading_date_only(text: str, title: str) -> None:
    assert clean_title(text) == title
