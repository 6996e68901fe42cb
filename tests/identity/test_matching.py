"""match_clusters: identifiers in every form, content matching, and the traps it must not fall into."""

from __future__ import annotations

import csv
import dataclasses
import random
from pathlib import Path

import pytest

from dltheory_digest.identity import Record, canonical_ids, match_clusters

PRINCIPLES = "The Principles of Deep Learning Theory"
PRINCIPLES_AUTHORS = ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")


def same(labels: list[int]) -> bool:
    return len(set(labels)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("arxiv_id", "2106.10165"),
        ("arxiv_id", "2106.10165v2"),
        ("arxiv_id", "arXiv:2106.10165"),
        ("arxiv_id", "[2106.10165]"),
        ("url", "https://arxiv.org/abs/2106.10165"),
        ("url", "https://arxiv.org/abs/2106.10165v1"),
        ("url", "http://arxiv.org/pdf/2106.10165v2"),
        ("url", "https://arxiv.org/pdf/2106.10165.pdf"),
        ("url", "https://arxiv.org/html/2106.10165v2"),
        ("doi", "10.48550/arXiv.2106.10165"),
        ("doi", "https://doi.org/10.48550/ARXIV.2106.10165"),
        ("url", "https://doi.org/10.48550/arXiv.2106.10165"),
        ("arxiv_id", "CoRR abs/2106.10165"),  # DBLP's journal and volume
        ("arxiv_id", "abs/2106.10165v2"),
        ("url", "https://huggingface.co/papers/2106.10165"),  # a mirror's page
    ],
)
def test_every_arxiv_form_is_one_paper(field: str, value: str) -> None:
    fields = {"arxiv_id": None, "url": None, "doi": None, field: value}
    record = Record(
        id="x", title="(title withheld)", arxiv_id=fields["arxiv_id"], url=fields["url"], doi=fields["doi"]
    )
    assert canonical_ids(record) == ("2106.10165", None)
    # titles disagree on purpose: the identifier decides
    labels = match_clusters([Record(id="a", title=PRINCIPLES, arxiv_id="2106.10165"), record])
    assert same(labels)


def test_old_style_ids_and_their_subject_class() -> None:
    records = [
        Record(id="a", title="x", arxiv_id="math/0309136"),
        Record(id="b", title="y", url="https://arxiv.org/abs/math/0309136v2"),
        Record(id="c", title="z", arxiv_id="arXiv:math.PR/0309136"),
        Record(id="d", title="w", arxiv_id="math/0309137"),
    ]
    labels = match_clusters(records)
    assert labels[0] == labels[1] == labels[2] != labels[3]


@pytest.mark.parametrize(
    "value",
    [
        "10.1038/nature14539",
        "10.1038/NATURE14539",
        "https://doi.org/10.1038/nature14539",
        "doi:10.1038/nature14539",
    ],
)
def test_doi_forms(value: str) -> None:
    record = Record(id="b", title="Deep learning (Nature review)", doi=value)
    assert canonical_ids(record) == (None, "10.1038/nature14539")
    assert same(match_clusters([Record(id="a", title="Deep learning", doi="10.1038/nature14539"), record]))


def test_journal_doi_joins_its_arxiv_preprint_through_a_record_that_has_both() -> None:
    records = [
        Record(id="preprint", title="Preprint title", arxiv_id="2105.04026"),
        Record(id="chapter", title="Chapter title", doi="10.1017/9781009025096.002"),
        Record(
            id="arxiv-meta", title="arXiv metadata", arxiv_id="2105.04026v2", doi="10.1017/9781009025096.002"
        ),
    ]
    assert same(match_clusters(records))


def test_different_arxiv_ids_never_merge_even_through_a_bridge() -> None:
    # two versions of a title on arXiv under different ids, and a mention matching both by content
    records = [
        Record(id="a", title=PRINCIPLES, authors=PRINCIPLES_AUTHORS, year=2021, arxiv_id="2106.10165"),
        Record(id="b", title=PRINCIPLES, authors=PRINCIPLES_AUTHORS, year=2021, arxiv_id="2106.99999"),
        Record(id="c", title=PRINCIPLES.lower(), authors=PRINCIPLES_AUTHORS, year=2021),
    ]
    labels = match_clusters(records)
    assert labels[0] != labels[1]
    assert labels[2] in (labels[0], labels[1])


def test_different_dois_never_merge_even_through_a_bridge() -> None:
    # a conference and a journal DOI for one title, and a DOI-less mention matching both by content
    title = "Gradient Descent Provably Optimizes Over-parameterized Neural Networks"
    authors = ("Simon S. Du", "Xiyu Zhai", "Barnabas Poczos", "Aarti Singh")
    records = [
        Record(id="a", title=title, authors=authors, year=2019, doi="10.1000/iclr.2019.1"),
        Record(id="b", title=title, authors=authors, year=2019),
        Record(id="c", title=title, authors=authors, year=2019, doi="10.1000/other.2019.2"),
    ]
    labels = match_clusters(records)
    assert labels[0] != labels[2]
    assert labels[1] in (labels[0], labels[2])


def test_content_match_tolerates_case_typos_order_and_missing_year() -> None:
    records = [
        Record(id="a", title=PRINCIPLES, authors=PRINCIPLES_AUTHORS, year=2021),
        Record(
            id="b", title="the principles of deep learning theroy", authors=("Hanin, B.", "Roberts, D. A.")
        ),
        Record(id="c", title="THE PRINCIPLES OF DEEP LEARNING THEORY (v2)", authors=("S. Yaida",), year=2021),
        Record(
            id="d",
            title="Understanding deep learning requires rethinking generalization",
            year=2016,
            authors=("Chiyuan Zhang", "Samy Bengio", "Moritz Hardt", "Benjamin Recht", "Oriol Vinyals"),
        ),
    ]
    labels = match_clusters(records)
    assert labels[0] == labels[1] == labels[2] != labels[3]


def test_subtitle_or_remark_added_by_one_source() -> None:
    records = [
        Record(
            id="a",
            title="Online query processing",
            authors=("Peter J. Haas", "Joseph M. Hellerstein"),
            year=2001,
        ),
        Record(
            id="b",
            title="Online query processing: a tutorial",
            authors=("P. Haas", "J. Hellerstein"),
            year=2001,
        ),
    ]
    assert same(match_clusters(records))


@pytest.mark.parametrize(
    "title", ["Editorial", "Guest editorial", "Introduction", "Book review column", "Erratum"]
)
def test_same_generic_title_in_different_years_stays_apart(title: str) -> None:
    records = [
        Record(id="a", title=title, authors=("Richard T. Snodgrass",), year=2001),
        Record(id="b", title=title, authors=("Richard Snodgrass",), year=2002),
        Record(id="c", title=title, year=2003),
        Record(id="d", title=title),
    ]
    assert len(set(match_clusters(records))) == 4


def test_generic_title_needs_the_same_people_in_the_same_year() -> None:
    records = [
        Record(id="a", title="Editorial", authors=("Richard T. Snodgrass",), year=2001),
        Record(id="b", title="editorial", authors=("Richard Snodgrass",), year=2001),
        Record(id="c", title="Editorial", authors=("Alon Y. Halevy",), year=2001),
    ]
    labels = match_clusters(records)
    assert labels[0] == labels[1] != labels[2]


def test_many_identical_columns_are_ambiguous_and_left_apart() -> None:
    # one "Book review column" per issue, a title used year after year, the same editor:
    # nothing tells which 2002 copy is which
    records = [
        Record(id=str(i), title="Book review column", authors=("Karl Aberer",), year=2002) for i in range(4)
    ]
    records.append(Record(id="2001", title="Book review column", authors=("Karl Aberer",), year=2001))
    assert len(set(match_clusters(records))) == 5


def test_erratum_and_parts_are_not_the_paper() -> None:
    authors = ("Dennis Shasha", "Philippe Bonnet")
    records = [
        Record(
            id="a", title="A database model for object dynamics", authors=("M. P. Papazoglou",), year=1997
        ),
        Record(
            id="b",
            title="Erratum - A database model for object dynamics",
            authors=("M. P. Papazoglou",),
            year=1997,
        ),
        Record(
            id="c",
            title="Database tuning: principles, experiments, and troubleshooting techniques (part I)",
            authors=authors,
            year=2002,
        ),
        Record(
            id="d",
            title="Database tuning: principles, experiments, and troubleshooting techniques (part II)",
            authors=authors,
            year=2002,
        ),
    ]
    assert len(set(match_clusters(records))) == 4


def test_same_informative_title_different_year_or_disjoint_authors() -> None:
    records = [
        Record(
            id="a",
            title="Optimization of queries with user-defined predicates",
            authors=("Surajit Chaudhuri", "Kyuseok Shim"),
            year=1996,
        ),
        Record(
            id="b",
            title="Optimization of queries with user-defined predicates",
            authors=("Surajit Chaudhuri", "Kyuseok Shim"),
            year=1999,
        ),  # the journal version
        Record(
            id="c",
            title="Secure transaction processing in firm real-time database systems",
            authors=("Binto George", "Jayant R. Haritsa"),
            year=1997,
        ),
        Record(
            id="d",
            title="Secure buffering in firm real-time database systems",
            authors=("Binto George", "Jayant R. Haritsa"),
            year=1997,
        ),
    ]
    assert len(set(match_clusters(records))) == 4


def test_cross_lingual_records() -> None:
    records = [
        Record(
            id="arxiv",
            title="Recent advances in deep learning theory",
            arxiv_id="2012.10931",
            authors=("Fengxiang He", "Dacheng Tao"),
            year=2020,
        ),
        # a Chinese reading-list line with the English title embedded in it
        Record(
            id="zh-list",
            title="Recent advances in deep learning theory —— 按六个方向整理的理论综述",
            lang="zh",
        ),
        # an Arabic page whose title is the English one
        Record(id="ar-page", title="The Modern Mathematics of Deep Learning", lang="ar", year=2021),
        Record(
            id="arxiv2",
            title="The modern mathematics of deep learning",
            arxiv_id="2105.04026",
            year=2021,
            authors=("Julius Berner", "Philipp Grohs", "Gitta Kutyniok", "Philipp Petersen"),
        ),
        # a Chinese title known only through its machine translation
        Record(
            id="zh-tr",
            title="深度学习理论的原理",
            title_en="Principles of the deep learning theory",
            lang="zh",
        ),
        Record(id="arxiv3", title=PRINCIPLES, arxiv_id="2106.10165", authors=PRINCIPLES_AUTHORS, year=2021),
        # an untranslated Chinese title matches nothing
        Record(id="zh-bare", title="深度学习理论的原理", lang="zh"),
    ]
    labels = match_clusters(records)
    assert labels[0] == labels[1]
    assert labels[2] == labels[3] != labels[0]
    assert labels[4] == labels[5] not in (labels[0], labels[2])
    assert labels[6] not in labels[:6]


def test_labels_are_deterministic_and_name_the_first_record() -> None:
    records = [
        Record(id="a", title=PRINCIPLES, year=2021),
        Record(id="b", title="Recent advances in deep learning theory", year=2020),
        Record(id="c", title=PRINCIPLES.upper(), year=2021),
    ]
    assert match_clusters(records) == [0, 1, 0]
    assert match_clusters(list(reversed(records))) == [0, 1, 0]


def test_blocking_finds_duplicates_among_many_distinct_titles() -> None:
    rng = random.Random(3)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "su"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=4)) for _ in range(3000)})
    records = []
    for n in range(1500):
        title = " ".join(rng.sample(vocabulary, 6))
        records.append(Record(id=f"{n}", title=title, authors=(f"A. {vocabulary[n]}",), year=2000 + n % 20))
        if n % 3 == 0:
            records.append(Record(id=f"{n}'", title=title.upper() + ".", authors=(f"{vocabulary[n]}, A.",)))
    labels = match_clusters(records)
    by_id = dict(zip((r.id for r in records), labels, strict=True))
    for n in range(0, 1500, 3):
        assert by_id[f"{n}"] == by_id[f"{n}'"]
    assert len(set(labels)) == 1500


def test_duplicate_free_sources_link_one_to_one_with_venue_breaking_ties() -> None:
    # two tables, each listing a talk twice (a conference and a journal version, same title,
    # author and year): only the venue tells which goes with which
    def rec(rid: str, title: str, venue: str, source: str) -> Record:
        return Record(
            id=rid, title=title, authors=("Ramesh Bhashyam",), year=1996, venue=venue, source=source
        )

    records = [
        rec("a1", "TPC-D: the challenges, issues and results", "vldb", "a"),
        rec("a2", "TCP-D - the challenges, issues and results", "sigmod record", "a"),
        rec("b1", "TPC-D-the challenges, issues and results", "acm sigmod record", "b"),
        rec("b2", "TPC-D: the challenges, issues and results", "very large data bases", "b"),
    ]
    labels = match_clusters(records)
    assert labels[0] == labels[3] != labels[1] == labels[2]
    # without sources nothing forbids the four from being one paper
    unsourced = [dataclasses.replace(r, source=None) for r in records]
    assert len(set(match_clusters(unsourced))) == 1


def test_mention_line_with_extra_words_finds_its_paper() -> None:
    paper = Record(
        id="arxiv",
        title="A Convergence Theory for Deep Learning via Over-Parameterization",
        arxiv_id="1811.03962",
        authors=("Zeyuan Allen-Zhu", "Yuanzhi Li", "Zhao Song"),
        year=2018,
    )
    line = Record(
        id="notes",
        title="A Convergence Theory for Deep Learning via Over-Parameterization -- slides, video and our reading notes",
    )
    short_generic = Record(id="generic", title="Deep Learning -- slides and reading notes")
    labels = match_clusters([paper, line, short_generic])
    assert labels[0] == labels[1] != labels[2]


def test_a_record_without_year_does_not_bridge_two_versions() -> None:
    authors = ("Seth J. White", "David J. DeWitt")
    records = [
        Record(
            id="conf", title="QuickStore: a high performance mapped object store", authors=authors, year=1994
        ),
        Record(
            id="journal",
            title="QuickStore: A High Performance Maped Object Store",
            authors=authors,
            year=1995,
        ),
        Record(id="undated", title="Quickstore - a high performance mapped object-store", authors=authors),
    ]
    labels = match_clusters(records)
    assert labels[0] != labels[1]
    assert labels[2] in (labels[0], labels[1])
    # the same specific title in two years: an undated copy joins one version, never both
    same_title = [*records[:2], Record(id="undated", title=records[0].title, authors=authors)]
    same_title[1] = dataclasses.replace(records[1], title=records[0].title)
    conf, journal, undated = match_clusters(same_title)
    assert conf != journal
    assert undated in (conf, journal)


def test_one_year_apart_only_as_each_others_best_match() -> None:
    authors = ("Prasan Roy", "S. Seshadri", "Abraham Silberschatz", "S. Sudarshan")
    title = "Garbage collection in object-oriented databases using transactional cyclic reference counting"
    # a year apart (a preprint and its journal version, or a wrong year): still one paper
    lone = [
        Record(id="a", title=title, authors=authors, year=1997),
        Record(id="b", title=title.upper(), authors=tuple(reversed(authors)), year=1998),
    ]
    assert same(match_clusters(lone))
    # both versions listed by both sources: each finds the copy from its own year
    both = [
        Record(id="a97", title=title, authors=authors, year=1997),
        Record(id="a98", title=title, authors=authors, year=1998),
        Record(id="b97", title=title.lower(), authors=authors, year=1997),
        Record(id="b98", title=title.lower(), authors=authors, year=1998),
    ]
    labels = match_clusters(both)
    assert labels[0] == labels[2] != labels[1] == labels[3]
    # generic titles never stretch across years
    editorials = [
        Record(id="e1", title="Editorial", authors=("Won Kim",), year=1994),
        Record(id="e2", title="Editorial", authors=("Won Kim",), year=1995),
    ]
    assert len(set(match_clusters(editorials))) == 2


def _venue_corpus() -> list[Record]:
    """Sixty papers per outlet, each listed under both names of its outlet (the anchors)."""
    methods = ["sparse", "kernel", "spectral", "stochastic", "bayesian", "robust", "tensor", "convex"]
    problems = [
        "recovery", "regression", "clustering", "bandits", "sensing", "completion", "ranking", "testing",
        "denoising", "embedding", "control", "filtering", "hashing", "sketching", "matching",
    ]  # fmt: skip
    given = ["Ana", "Bo", "Chen", "Dara", "Emil", "Femi", "Gita", "Hugo"]
    family = [
        "Okafor", "Lindqvist", "Tanaka", "Moreau", "Haddad", "Novak", "Silva", "Kowalski",
        "Brennan", "Ivanova", "Nakamura", "Castillo", "Fischer", "Adeyemi", "Rossi",
    ]  # fmt: skip
    outlets = {
        "conf": ("NeurIPS", "Advances in Neural Information Processing Systems"),
        "jour": ("JMLR", "Journal of Machine Learning Research"),
    }
    records = []
    for offset, (kind, names) in enumerate(outlets.items()):
        for k in range(60):
            n = 2 * k + offset  # each paper its own subject and author
            title = f"Sample complexity of {methods[n % 8]} {problems[n // 8]}"
            author = f"{given[n % 8]} {family[n // 8]}"
            for side, venue in zip("ab", names, strict=True):
                records.append(
                    Record(id=f"{side}-{kind}-{k}", title=title, authors=(author,), year=2020, venue=venue)
                )
    return records


TALK = "Open problems in the theory of deep learning"


def test_venues_learned_from_the_input_keep_a_talk_at_two_outlets_apart() -> None:
    talks = [
        Record(id=f"talk-{key}", title=TALK, authors=("Ada Byron",), year=2020, venue=venue)
        for key, venue in (
            ("conf-a", "NeurIPS"),
            ("jour-a", "JMLR"),
            ("conf-b", "Advances in Neural Information Processing Systems"),
            ("jour-b", "Journal of Machine Learning Research"),
        )
    ]
    corpus = _venue_corpus()
    labels = match_clusters(corpus + talks)
    by_id = dict(zip([r.id for r in corpus + talks], labels, strict=True))
    # the names were never given: the anchors taught that NeurIPS and "Advances in ..." are one outlet
    assert by_id["talk-conf-a"] == by_id["talk-conf-b"]
    assert by_id["talk-jour-a"] == by_id["talk-jour-b"]
    assert by_id["talk-conf-a"] != by_id["talk-jour-a"]
    assert all(
        by_id[f"a-{kind}-{k}"] == by_id[f"b-{kind}-{k}"] for kind in ("conf", "jour") for k in range(12)
    )
    # without the anchors nothing says the names differ: the same title, people and year are one paper
    assert same(match_clusters(talks))


def test_venues_are_learned_from_a_source_without_years() -> None:
    # one listing of each paper per venue name, the second source giving no years (a reading
    # list, a Scholar export): each undated copy is its dated copy's only counterpart
    corpus = [dataclasses.replace(r, year=None) if r.id.startswith("b-") else r for r in _venue_corpus()]
    talks = [
        Record(id="conf", title=TALK, authors=("Ada Byron",), year=2020, venue="NeurIPS"),
        Record(id="jour", title=TALK, authors=("Ada Byron",), year=2020, venue="JMLR"),
        Record(
            id="jour-copy", title=TALK, authors=("Ada Byron",), venue="Journal of Machine Learning Research"
        ),
    ]
    labels = match_clusters(corpus + talks)
    assert labels[-1] == labels[-2] != labels[-3]


def test_a_lone_counterpart_at_another_venue_is_kept() -> None:
    # one source may name the venue wrongly; with no better counterpart the match stands
    lone = [
        Record(id="x1", title=TALK, authors=("Ada Byron",), year=2020, venue="NeurIPS"),
        Record(
            id="x2",
            title=TALK,
            authors=("Ada Byron",),
            year=2020,
            venue="Journal of Machine Learning Research",
        ),
    ]
    labels = match_clusters(_venue_corpus() + lone)
    assert labels[-1] == labels[-2]


def test_a_record_without_year_joins_one_version_of_a_title_used_in_two_years() -> None:
    # a conference paper and its journal version two years later: the title is reused, yet
    # specific; a scraped copy with no year belongs with one of them, not neither
    title = "Gradient descent provably learns sparse parities with wide two-layer networks"
    people = ("Ada Byron", "Alan Turing")
    records = [
        Record(id="conf", title=title, authors=people, year=2018, venue="Conference on Learning Theory"),
        Record(
            id="jour", title=title, authors=people, year=2020, venue="Journal of Machine Learning Research"
        ),
        Record(
            id="copy", title=title, authors=("A. Byron", "A. Turing"), venue="J. Machine Learning Research"
        ),
    ]
    conf, jour, copy = match_clusters(records)
    assert conf != jour
    assert copy == jour


def test_the_fuller_author_agreement_wins_a_tie() -> None:
    # one title by two different author lists a year apart; the yearless copy has the first list
    title = "A desktop environment for managing experiments with neural networks"
    records = [
        Record(id="first", title=title, authors=("Mira Livny", "Yanis Ioannou", "Nora Pons", "Sara Gupta"), year=1996),
        Record(id="copy", title=title, authors=("Y Ioannou", "M Livny", "S Gupta", "N Pons")),
        Record(id="later", title=title, authors=("Yanis Ioannou", "Mira Livny", "Ana Ailam", "Ravi Narayan", "Tom Therber"), year=1997),
    ]  # fmt: skip
    first, copy, later = match_clusters(records)
    assert copy == first != later


def test_a_short_title_without_year_matches_only_when_nothing_else_could() -> None:
    short = [
        Record(id="dated", title="Managing web data", authors=("Dan Suciu",), year=1999),
        Record(id="undated", title="Managing Web Data", authors=("D. Suciu",)),
    ]
    assert same(match_clusters(short))
    # one editorial per year by the same editor: an undated one could be any of them
    editorials = [
        Record(id=f"e{year}", title="Editorial", authors=("Richard Snodgrass",), year=year)
        for year in (2001, 2002)
    ]
    editorials.append(Record(id="undated", title="Editorial", authors=("R. Snodgrass",)))
    assert len(set(match_clusters(editorials))) == 3


def test_a_copy_one_year_off_is_not_a_series_of_its_own_title() -> None:
    # the copy's year alone would make the title "used in two years"; only other records may
    title = "A fast index for semistructured data"
    records = [
        Record(id="dblp", title=title, authors=("Brian Cooper", "Gisli R. Hjaltason", "Michael J. Franklin"), year=2001),
        Record(id="scholar", title=title, authors=("B Cooper", "M J Franklin", "G R Hjaltason"), year=2002),
    ]  # fmt: skip
    assert same(match_clusters(records))
    # a third record of the title in yet another year makes it a series: each stays alone
    third = Record(id="again", title=title, authors=("B Cooper",), year=2004)
    assert len(set(match_clusters([*records, third]))) == 3


def test_a_reply_or_open_problem_is_not_the_paper_it_quotes() -> None:
    loss = ("Anna Choromanska", "Mikael Henaff", "Michael Mathieu", "Gérard Ben Arous", "Yann LeCun")
    records = [
        Record(id="aistats", title="The Loss Surfaces of Multilayer Networks", authors=loss, year=2015),
        # COLT 2015, three of the same people, the same year
        Record(
            id="colt",
            title="Open Problem: The landscape of the loss surfaces of multilayer networks",
            authors=("Anna Choromanska", "Yann LeCun", "Gérard Ben Arous"),
            year=2015,
        ),
        Record(
            id="paper",
            title="Why does deep and cheap learning work so well?",
            authors=("Henry W. Lin", "Max Tegmark", "David Rolnick"),
            year=2017,
        ),
        # a blog's link line: no authors, no year, the quoted title word for word
        Record(id="comment", title='Comment on "Why does deep and cheap learning work so well?"'),
        Record(id="comment2", title="Comment on 'Why does deep and cheap learning work so well?'"),
    ]
    labels = match_clusters(records)
    assert len(set(labels[:4])) == 4
    assert labels[3] == labels[4]  # two copies of the comment are still one paper


def test_a_word_put_inside_a_title_makes_another_paper_without_people_to_say_otherwise() -> None:
    gunasekar = Record(
        id="2017",
        title="Implicit Regularization in Matrix Factorization",
        authors=("Suriya Gunasekar", "Blake Woodworth", "Srinadh Bhojanapalli", "Behnam Neyshabur"),
        year=2017,
    )
    # Arora, Cohen, Hu, Luo (2019), named by a reading list without authors or year
    arora = Record(id="mention", title="Implicit Regularization in Deep Matrix Factorization")
    assert len(set(match_clusters([gunasekar, arora]))) == 2
    # spelling, joined compounds and typos are not inserted words
    for other in (
        "Implicit regularisation in matrix factorization",
        "Implicit Regularization in Matrix Factorisation",
        "Implicit regularization in matrix-factorization",
    ):
        assert same(match_clusters([gunasekar, Record(id="m", title=other)])), other
    nonconvex = Record(id="a", title="Gradient descent finds global minima of nonconvex deep networks")
    hyphen = Record(id="b", title="Gradient descent finds global minima of non-convex deep networks")
    assert same(match_clusters([nonconvex, hyphen]))
    # the same people vouch for a dropped word
    dropped = Record(
        id="c",
        title="Implicit Regularization in Factorization",
        authors=("S. Gunasekar", "B. Woodworth"),
        year=2017,
    )
    assert same(match_clusters([gunasekar, dropped]))


def test_a_chinese_name_in_family_name_first_order_is_the_same_person() -> None:
    full = Record(
        id="neurips",
        title="How SGD Selects the Global Minima in Over-parameterized Learning: A Dynamical Stability Perspective",
        authors=("Lei Wu", "Chao Ma", "Weinan E"),
        year=2018,
    )
    # a Chinese list names the first author only, family name first, and drops the subtitle
    short = Record(
        id="zh",
        title="How SGD selects the global minima in over-parameterized learning",
        authors=("Wu Lei",),
        year=2018,
    )
    assert same(match_clusters([full, short]))
    other = dataclasses.replace(short, authors=("Wu Jun",))
    assert not same(match_clusters([full, other]))
    # the same letters turned at another place are another person ("Ian Tan" / "Tania N")
    tan = dataclasses.replace(full, authors=("Ian Tan",))
    tania = dataclasses.replace(short, authors=("Tania N",))
    assert not same(match_clusters([tan, tania]))


def test_a_publisher_page_url_does_not_make_a_second_doi() -> None:
    pnas = Record(
        id="pnas",
        title="Reconciling modern machine-learning practice and the classical bias–variance trade-off",
        authors=("Mikhail Belkin", "Daniel Hsu", "Siyuan Ma", "Soumik Mandal"),
        year=2019,
        doi="10.1073/pnas.1903070116",
    )
    link = Record(
        id="blog",
        title="Reconciling modern machine-learning practice and the classical bias-variance trade-off",
        url="https://doi.org/10.1073/pnas.1903070116/-/DCSupplemental",
    )
    assert canonical_ids(link) == (None, "10.1073/pnas.1903070116")
    assert same(match_clusters([pnas, link]))


def _lookalikes(fixtures_dir: Path) -> list[tuple[Record, str]]:
    """Real papers with a look-alike title, as a paper record and as a reading list's bare mention."""
    with (fixtures_dir / "identity" / "lookalike_titles.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (
            Record(
                id=row["id"],
                title=row["title"],
                authors=tuple(a.strip() for a in row["authors"].split(";") if a.strip()),
                year=int(row["year"]) if row["year"] else None,
                arxiv_id=row["arxiv_id"] or None,
                url=row["url"] or None,
            ),
            row["paper"],
        )
        for row in rows
    ]


def test_a_bare_mention_of_a_look_alike_title_is_another_paper(fixtures_dir: Path) -> None:
    """A swapped word ("tensor" / "matrix"), a negation ("not", "not not") or a negating prefix
    ("nonseparable") makes another paper when no authors confirm; spelling, compounds and "nets"
    for "networks" do not."""
    rows = _lookalikes(fixtures_dir)
    for (first, paper), (second, other_paper) in zip(rows[::2], rows[1::2], strict=True):
        merged = same(match_clusters([first, second]))
        assert merged == (paper == other_paper), (first.title, second.title)
    # all at once, as one week's input: each record with exactly its own paper's
    labels = match_clusters([record for record, _ in rows])
    papers = [paper for _, paper in rows]
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            assert (labels[i] == labels[j]) == (papers[i] == papers[j]), (rows[i][0].id, rows[j][0].id)


def test_a_changed_prefix_or_number_is_another_paper_unless_authors_vouch() -> None:
    du = Record(
        id="du",
        title="Gradient Descent Provably Optimizes Over-parameterized Neural Networks",
        authors=("Simon S. Du", "Xiyu Zhai", "Barnabas Poczos", "Aarti Singh"),
        year=2018,
        arxiv_id="1810.02054",
    )
    for other in (
        "Gradient descent provably optimizes under-parameterized neural networks",
        "Gradient descent provably optimizes non-overparameterized neural networks",
        "Gradient descent provably optimizes overparameterized nonlinear neural networks",
    ):
        assert not same(match_clusters([du, Record(id="m", title=other)])), other
    # "two-layer" and "three-layer" are different numbers even for the same people
    two = Record(
        id="a",
        title="Learning and Generalization in Overparameterized Neural Networks, Going Beyond Two Layers",
        authors=("Zeyuan Allen-Zhu", "Yuanzhi Li", "Yingyu Liang"),
        year=2018,
    )
    three = dataclasses.replace(two, id="b", title=two.title.replace("Two", "Three"))
    assert not same(match_clusters([two, three]))
    assert same(match_clusters([two, dataclasses.replace(three, title=two.title.replace("Two", "2"))]))


def test_notices_of_different_kinds_about_one_paper_stay_apart() -> None:
    quoted = '"Why does deep and cheap learning work so well?"'
    records = [
        Record(id="comment", title=f"Comment on {quoted}", authors=("David J. Schwab", "Pankaj Mehta"), year=2016),
        Record(id="mention", title=f"Comment on {quoted}"),
        Record(id="reply", title=f"Reply to comment on {quoted}"),
        Record(id="erratum", title=f"Erratum: Comment on {quoted}"),
    ]  # fmt: skip
    labels = match_clusters(records)
    assert labels[0] == labels[1]
    assert len({labels[0], labels[2], labels[3]}) == 3


def test_a_mention_naming_nobody_does_not_join_two_groups_of_people() -> None:
    # two sets of lecture notes with one title; the list that names one of them gives neither
    # authors nor year, so it matches both equally
    telgarsky = Record(
        id="telgarsky", title="Deep learning theory lecture notes", authors=("Matus Telgarsky",), year=2021
    )
    hanin = Record(id="hanin", title="Deep Learning Theory Lecture Notes", authors=("Boris Hanin",))
    mention = Record(
        id="list", title="Deep learning theory lecture notes", url="https://example.org/reading-list"
    )
    labels = match_clusters([telgarsky, hanin, mention])
    assert labels[0] != labels[1]
    assert labels[2] in (labels[0], labels[1])  # it still joins one of them


def test_invisible_characters_inside_a_word_do_not_split_it() -> None:
    title = "Understanding deep learning requires rethinking generalization"
    paper = Record(id="paper", title=title, year=2017)
    for invisible in ("\u00ad", "\u200b", "\u2060", "\ufeff"):
        copy = Record(
            id="copy", title=title.replace("generalization", f"generali{invisible}zation"), year=2017
        )
        assert same(match_clusters([paper, copy])), repr(invisible)


def test_a_proceedings_version_a_year_later_joins_its_preprint_and_their_mentions() -> None:
    # Chizat, Oyallon, Bach: arXiv December 2018, NeurIPS 2019. A short title used in two
    # years looks like a series title; the arXiv listing and its metadata (one id) must count
    # as one use of it, and a mention naming neither people nor year matches both versions
    title = "On Lazy Training in Differentiable Programming"
    people = ("Lénaïc Chizat", "Edouard Oyallon", "Francis Bach")
    records = [
        Record(id="listing", title=title, authors=people, year=2018, arxiv_id="1812.07956v5"),
        Record(id="metadata", title=title, authors=people, year=2018, arxiv_id="1812.07956"),
        Record(id="neurips", title=title, authors=("L. Chizat", "E. Oyallon", "F. Bach"), year=2019, venue="NeurIPS"),
        Record(id="zhihu", title=f"论文解读：{title}", lang="zh"),
    ]  # fmt: skip
    assert same(match_clusters(records))
    # another paper with the title in a third year still makes it a series for the dated ones
    other = Record(id="2021", title=title, authors=("A. Nother",), year=2021)
    labels = match_clusters([*records, other])
    assert labels[4] != labels[0]


def test_dblp_corr_volume_in_the_venue_is_the_arxiv_id() -> None:
    dblp = Record(id="dblp", title="The Principles of Deep Learning Theory", venue="CoRR abs/2106.10165")
    assert canonical_ids(dblp) == ("2106.10165", None)
    assert canonical_ids(dataclasses.replace(dblp, venue="CoRR")) == (None, None)
    # a number in a path that is no arXiv id (no month 99) names nothing
    assert canonical_ids(Record(id="x", title="t", url="https://example.org/posts/1999.12345")) == (
        None,
        None,
    )


def test_a_short_title_by_different_people_is_two_works_even_in_a_tiny_input() -> None:
    # in a two-record input every word looks rare; five words are still a common phrase
    telgarsky = Record(
        id="t", title="Deep learning theory lecture notes", authors=("Matus Telgarsky",), year=2021
    )
    hanin = Record(id="h", title="Deep Learning Theory Lecture Notes", authors=("Boris Hanin",), year=2021)
    assert not same(match_clusters([telgarsky, hanin]))


def test_a_numbered_series_name_added_in_a_later_version() -> None:
    people = ("Greg Yang", "Edward J. Hu")
    v1 = Record(
        id="v1", title="Feature Learning in Infinite-Width Neural Networks", authors=people, year=2020
    )
    v3 = Record(
        id="v3",
        title="Tensor Programs IV: Feature Learning in Infinite-Width Neural Networks",
        authors=people,
        year=2020,
    )
    assert same(match_clusters([v1, v3]))
    # without the same people a numbered name still marks another part
    assert not same(match_clusters([dataclasses.replace(v1, authors=("A. Nother",)), v3]))
    assert not same(match_clusters([dataclasses.replace(v1, authors=()), v3]))
    # two numbered parts of one series stay two papers
    ntk = Record(
        id="ii",
        title="Tensor Programs II: Neural Tangent Kernel for Any Architecture",
        authors=("Greg Yang",),
        year=2020,
    )
    iib = Record(
        id="iib",
        title="Tensor Programs IIb: Architectural Universality of Neural Tangent Kernel Training Dynamics",
        authors=("Greg Yang", "Etai Littwin"),
        year=2021,
    )
    short = Record(
        id="short", title="Neural Tangent Kernel for Any Architecture", authors=("Greg Yang",), year=2020
    )
    labels = match_clusters([ntk, iib, short])
    assert labels[0] == labels[2] != labels[1]


def test_a_contracted_negation_is_the_same_negation_written_out() -> None:
    du = Record(
        id="du",
        title="Gradient Descent Learns One-hidden-layer CNN: Don't be Afraid of Spurious Local Minima",
        authors=("Simon S. Du", "Jason D. Lee", "Yuandong Tian", "Barnabas Poczos", "Aarti Singh"),
        year=2017,
    )
    for other in (
        "Gradient descent learns one-hidden-layer CNN: do not be afraid of spurious local minima",
        "Gradient descent learns one-hidden-layer CNN: don\u2019t be afraid of spurious local minima",
    ):
        assert same(match_clusters([du, Record(id="m", title=other)])), other
    bai = Record(
        id="bai",
        title="Why Can't Transformers Learn Multiplication? "
        "Reverse-Engineering Reveals Long-Range Dependency Pitfalls",
        authors=("Xiaoyan Bai", "Yuntian Deng", "Andrew Lee"),
        year=2025,
    )
    for written_out in ("cannot", "can not"):
        mention = Record(id="m", title=bai.title.replace("Can't", written_out))
        assert same(match_clusters([bai, mention])), written_out
    # the negation still counts: without it the title says the opposite
    affirmed = Record(id="m", title=bai.title.replace("Can't", "can"))
    assert not same(match_clusters([bai, affirmed]))
    unafraid = Record(id="m", title=du.title.replace("Don't be", "Be"))
    assert not same(match_clusters([du, unafraid]))


def test_initials_of_a_phrase_are_that_phrase_not_a_swapped_word() -> None:
    lee = Record(
        id="lee",
        title="Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent",
        authors=("Jaehoon Lee", "Lechao Xiao", "Samuel S. Schoenholz", "Yasaman Bahri"),
        year=2019,
    )
    jacot = Record(
        id="jacot",
        title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        authors=("Arthur Jacot", "Franck Gabriel", "Clement Hongler"),
        year=2018,
    )
    for paper, other in (
        (lee, "Wide NNs of any depth evolve as linear models under gradient descent"),
        (lee, "Wide neural networks of any depth evolve as linear models under GD"),
        # "neural" also starts the title: the initials still name the run at its end
        (jacot, "Neural tangent kernel: convergence and generalization in NNs"),
    ):
        assert same(match_clusters([paper, Record(id="m", title=other)])), other
    # initials of no run of the paper's words are another word: another method, another model
    for paper, other in (
        (lee, "Wide neural networks of any depth evolve as linear models under SGD"),
        (lee, "Wide neural networks of any depth evolve as linear models under NGD"),
        (lee, "Wide CNNs of any depth evolve as linear models under gradient descent"),
        (jacot, "Neural tangent kernel: convergence and generalization in GNNs"),
    ):
        assert not same(match_clusters([paper, Record(id="m", title=other)])), other


DU = ("Simon S. Du", "Jason D. Lee", "Haochuan Li", "Liwei Wang", "Xiyu Zhai")
DU_TITLE = "Gradient Descent Finds Global Minima of Deep Neural Networks"


@pytest.mark.parametrize(
    "shortened",
    [
        "Gradient descent finds global minima of …",  # a list cut it short
        "Gradient Descent Finds Global Minima of Deep...",
        "Gradient descent finds global mini…",  # inside a word
    ],
)
def test_a_title_cut_short_a_year_off_is_the_same_paper(shortened: str) -> None:
    preprint = Record(id="arxiv", title=DU_TITLE, authors=DU, year=2018)
    listed = Record(id="scholar", title=shortened, authors=("SS Du", "JD Lee", "H Li"), year=2019)
    assert same(match_clusters([preprint, listed]))
    # still only the same people's
    stranger = dataclasses.replace(listed, authors=("A. Nother",))
    assert not same(match_clusters([preprint, stranger]))


def test_a_shorter_title_a_year_off_must_be_visibly_cut_short() -> None:
    preprint = Record(id="arxiv", title=DU_TITLE, authors=DU, year=2018)
    # all its words are in the other title, but not as its start: not a cut-off title
    reordered = Record(id="x", title="Global minima of deep neural networks…", authors=DU, year=2019)
    assert not same(match_clusters([preprint, reordered]))
    # words added without a subtitle's separator, a year later: maybe the same people's next paper
    follow_up = Record(id="y", title=f"{DU_TITLE} with skip connections", authors=DU, year=2019)
    assert not same(match_clusters([preprint, follow_up]))
    assert same(
        match_clusters([preprint, dataclasses.replace(follow_up, title=f"{DU_TITLE}: a new analysis")])
    )
    # a start too generic to name one paper ("Deep learning" by the same people a year later)
    deep = Record(id="d", title="Deep learning", authors=("Yann LeCun", "Yoshua Bengio"), year=2015)
    later = Record(
        id="l",
        title="Deep learning for AI: the Turing lecture",
        authors=("Yann LeCun", "Yoshua Bengio"),
        year=2016,
    )
    assert not same(match_clusters([deep, later]))


def test_a_subtitled_book_version_a_year_later_is_the_preprint() -> None:
    preprint = Record(
        id="arxiv", title=PRINCIPLES, authors=PRINCIPLES_AUTHORS, year=2021, arxiv_id="2106.10165"
    )
    book = Record(
        id="book",
        title=f"{PRINCIPLES}: An Effective Theory Approach to Understanding Neural Networks",
        authors=PRINCIPLES_AUTHORS,
        year=2022,
        doi="10.1017/9781009023405",
    )
    assert same(match_clusters([preprint, book]))


def test_the_same_peoples_title_with_a_word_changed_a_year_later_is_another_paper() -> None:
    cao = Record(
        id="cao",
        title="Benign Overfitting in Two-layer Convolutional Neural Networks",
        authors=("Yuan Cao", "Zixiang Chen", "Mikhail Belkin", "Quanquan Gu"),
        year=2022,
    )
    kou = Record(
        id="kou",
        title="Benign Overfitting in Two-layer ReLU Convolutional Neural Networks",
        authors=("Yiwen Kou", "Zixiang Chen", "Yuanzhou Chen", "Quanquan Gu"),
        year=2023,
    )
    assert not same(match_clusters([cao, kou]))
    # the same title a year later, a typo and all, is still its journal version
    journal = dataclasses.replace(
        cao, id="journal", title=cao.title.replace("Convolutional", "Convolutinal"), year=2023
    )
    assert same(match_clusters([cao, journal]))


def _filler(count: int) -> list[Record]:
    rng = random.Random(11)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "su"]
    return [
        Record(
            id=f"filler{n}",
            title=" ".join("".join(rng.choices(syllables, k=4)) for _ in range(4)),
            authors=(f"A. {''.join(rng.choices(syllables, k=3))}",),
            year=1990 + n % 15,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("title", "other"),
    [
        ("Altruistic locking", "Altru- istic locking"),  # a word split at a line end
        ("Altruistic locking", "Altru istic locking"),
        ("Guest editorial", "Guesteditorial"),  # two words run together
        ("Modeling design versions", "Moedling desing versions"),  # typos in the rarest words
    ],
)
def test_blocking_meets_titles_whose_words_were_split_joined_or_mistyped(title: str, other: str) -> None:
    people = ("Kenneth Salem", "Hector Garcia-Molina")
    records = [
        *_filler(100),
        Record(id="a", title=title, authors=people, year=1994),
        *_filler(200)[100:],
        Record(id="b", title=other, authors=people, year=1994),
    ]
    labels = match_clusters(records)
    assert labels[100] == labels[-1]
    assert len(set(labels)) == len(records) - 1


@pytest.mark.parametrize(
    "notice",
    [
        "Author Correction: Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "Publisher Correction: Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "Correction to: Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "Addendum: Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "Editorial Expression of Concern: Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "Correction for Jacot et al., Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
    ],
)
def test_a_publishers_notice_by_the_same_people_is_not_the_paper(notice: str) -> None:
    people = ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")
    paper = Record(
        id="paper",
        title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        authors=people,
        year=2018,
    )
    assert not same(match_clusters([paper, Record(id="notice", title=notice, authors=people, year=2018)]))


def test_copies_of_a_short_title_from_several_sources_are_one_paper() -> None:
    people = ("Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton")
    copies = [
        Record(id=source, title="Deep learning", authors=people, year=2015, venue="Nature", source=source)
        for source in ("scholar", "dblp", "crossref")
    ]
    assert same(match_clusters(copies))
    # without sources nothing tells three copies from three columns: today's rule, left apart
    unsourced = [dataclasses.replace(r, source=None) for r in copies]
    assert len(set(match_clusters(unsourced))) == 3
    # several alike columns in one source are ambiguous whatever the other sources hold
    columns = [
        Record(id=f"c{n}", title="Book reviews", authors=("Karl Aberer",), year=2002, source="acm")
        for n in range(3)
    ]
    column = Record(id="dblp", title="Book reviews", authors=("K. Aberer",), year=2002, source="dblp")
    assert len(set(match_clusters([*columns, column]))) == 4
    # two editorials of one year in each of two duplicate-free sources: two papers each side, and
    # no telling which copy is which, so none is paired across at random
    editorials = [
        Record(
            id=f"{source}{n}", title="Editorial", authors=("Richard T. Snodgrass",), year=2001, source=source
        )
        for source in ("acm", "dblp")
        for n in range(2)
    ]
    assert len(set(match_clusters(editorials))) == 4


def test_columns_alike_up_to_typos_are_as_ambiguous_as_identical_ones() -> None:
    # two issues' editorials by one editor, each copied by a second source with a typo: nothing
    # says which copy is which issue's
    typed = ["Editorial", "Editorial", "Eidtorial", "Editoral"]
    columns = [
        Record(id=str(n), title=title, authors=("Richard T. Snodgrass",), year=2001)
        for n, title in enumerate(typed)
    ]
    assert len(set(match_clusters(columns))) == 4
    # one column and its copy with a typo are one
    assert same(match_clusters(columns[1:3]))


def test_names_in_another_script_are_neither_the_same_nor_other_people() -> None:
    paper = Record(id="arxiv", title=PRINCIPLES, authors=PRINCIPLES_AUTHORS, year=2021)
    shamra = Record(
        id="shamra",
        title="مبادئ نظرية التعلم العميق",
        title_en="Principles of deep learning theory",
        authors=("دانيال روبرتس", "شو يايدا"),
        lang="ar",
    )
    assert same(match_clusters([paper, shamra]))
    # Latin names on both sides still disagree
    others = dataclasses.replace(shamra, authors=("دانيال روبرتس", "A. Nother"))
    assert not same(match_clusters([paper, others]))
