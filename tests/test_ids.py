from __future__ import annotations

import pytest

from dltheory_digest.ids import (
    DOI_LENGTH,
    abs_url,
    arxiv_id_from_doi,
    find_arxiv_ids,
    find_dois,
    is_arxiv_host,
    mirror_arxiv_id,
    normalize_doi,
    parse_arxiv_id,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2106.10165", ("2106.10165", None)),
        ("2106.10165v2", ("2106.10165", 2)),
        ("arXiv:2106.10165v2", ("2106.10165", 2)),
        ("[2106.10165]", ("2106.10165", None)),
        ("https://arxiv.org/abs/2106.10165", ("2106.10165", None)),
        ("http://arxiv.org/pdf/2106.10165v3.pdf", ("2106.10165", 3)),
        ("https://arxiv.org/html/2408.13767v2", ("2408.13767", 2)),
        ("https://export.arxiv.org/abs/1806.07572v4", ("1806.07572", 4)),
        ("oai:arXiv.org:2604.21952v1", ("2604.21952", 1)),
        ("10.48550/arXiv.2106.10165", ("2106.10165", None)),
        ("https://doi.org/10.48550/ARXIV.2106.10165", ("2106.10165", None)),
        ("math/0309136", ("math/0309136", None)),
        ("arXiv:math.GT/0309136v2", ("math/0309136", 2)),
        ("http://arxiv.org/abs/cond-mat/0603029v1", ("cond-mat/0603029", 1)),
        ("0704.0001", ("0704.0001", None)),
        ("1501.00001", ("1501.00001", None)),
        # the sentence's punctuation or a page anchor after the id
        ("(arXiv:2106.10165)", ("2106.10165", None)),
        ("https://arxiv.org/pdf/2106.10165v2.pdf.", ("2106.10165", 2)),
        ("https://arxiv.org/abs/2106.10165#S3", ("2106.10165", None)),
        ("arXiv:hep-th/9711200v1)", ("hep-th/9711200", 1)),
        ("arXiv:2106.10165的", ("2106.10165", None)),
    ],
)
def test_every_single_form(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text", ["abc", "0000.0000", "2113.00001", "1412.12345", "1501.0001", "12.3456", "2106.10165v0"]
)
def test_not_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None


@pytest.mark.parametrize(
    "impossible",
    [
        "0612.1234",  # new-style ids start in April 2007
        "0703.0001",
        "9912.12345",  # 99 is 1999, the old scheme's years (and 5 digits before 2015)
        "9104.0001",
        "1413.00001",  # month 13
        "2106.00000",  # numbers start at 1
        "0704.0000",
    ],
)
def test_impossible_new_style_ids_are_refused_in_every_form(impossible: str) -> None:
    assert parse_arxiv_id(impossible) is None
    assert parse_arxiv_id(f"arXiv:{impossible}v2") is None
    assert parse_arxiv_id(f"https://arxiv.org/abs/{impossible}") is None
    assert find_arxiv_ids(f"see {impossible} and [{impossible}] and arxiv.org/abs/{impossible}v1") == []
    assert arxiv_id_from_doi(f"10.48550/arXiv.{impossible}") is None


def test_the_new_schemes_first_ids_are_ids() -> None:
    # 0704.0001, April 2007, is arXiv's first new-style id; 1501.00001 the first with five digits
    assert parse_arxiv_id("0704.0001") == ("0704.0001", None)
    assert find_arxiv_ids("arXiv:0704.0001v2 and 1501.00001") == [("0704.0001", 2), ("1501.00001", None)]


def test_ids_in_free_text_keep_order_and_highest_version() -> None:
    text = (
        "[2106.10165] The Principles of Deep Learning Theory; see arXiv:1806.07572 and "
        "https://arxiv.org/pdf/2106.10165v3, old hep-th/9711200; not a score [56.44910327178975] "
        "nor a version 1.2.3 nor 3.14159"
    )
    assert find_arxiv_ids(text) == [("2106.10165", 3), ("1806.07572", None), ("hep-th/9711200", None)]


def test_dois() -> None:
    assert normalize_doi("https://doi.org/10.1103/PhysRevB.85.115117") == "10.1103/physrevb.85.115117"
    assert normalize_doi("doi:10.1145/3446776.") == "10.1145/3446776"
    assert normalize_doi("no doi here") is None
    assert find_dois(
        "a https://dx.doi.org/10.1145/3446776 b 10.48550/arXiv.2106.10165 c 10.1145/3446776"
    ) == [
        "10.1145/3446776",
        "10.48550/arxiv.2106.10165",
    ]
    assert arxiv_id_from_doi("10.48550/arxiv.2106.10165") == "2106.10165"
    assert arxiv_id_from_doi("10.1145/3446776") is None
    assert abs_url("2106.10165", 2) == "https://arxiv.org/abs/2106.10165v2"


def test_a_doi_longer_than_its_store_column_is_no_doi() -> None:
    """A page linking a 300-character "DOI" stopped the whole run on PostgreSQL (varchar(256))."""
    fits = "10.5555/" + "a" * (DOI_LENGTH - len("10.5555/"))
    assert normalize_doi(f"https://doi.org/{fits}") == fits
    too_long = fits + "a"
    assert normalize_doi(f"https://doi.org/{too_long}") is None
    assert normalize_doi("https://doi.org/10.5555/" + "a" * 300 + "?utm_source=x") is None
    assert find_dois(f"see https://doi.org/{too_long} and doi:10.1145/3446776") == ["10.1145/3446776"]


@pytest.mark.parametrize(
    ("url", "doi"),
    [
        ("https://www.pnas.org/doi/pdf/10.1073/pnas.1903070116?download=true", "10.1073/pnas.1903070116"),
        ("https://doi.org/10.1073/pnas.1903070116/-/DCSupplemental", "10.1073/pnas.1903070116"),
        ("https://link.springer.com/article/10.1007/s10955-017-1836-5#citeas", "10.1007/s10955-017-1836-5"),
        ("https://iopscience.iop.org/article/10.1088/1742-5468/ac3a74/meta", "10.1088/1742-5468/ac3a74"),
        ("https://www.frontiersin.org/articles/10.3389/fncom.2020.00029/full", "10.3389/fncom.2020.00029"),
        ("https://doi.org/10.1023/A:1026654312961", "10.1023/a:1026654312961"),
        # the page shown followed by a query or fragment, or by the sentence's punctuation
        ("https://dl.acm.org/doi/10.1145/3446776/abstract?download=true", "10.1145/3446776"),
        (
            "https://iopscience.iop.org/article/10.1088/1742-5468/ac3a74/meta#citeas",
            "10.1088/1742-5468/ac3a74",
        ),
        ("https://iopscience.iop.org/article/10.1088/1742-5468/ac3a74/meta).", "10.1088/1742-5468/ac3a74"),
    ],
)
def test_a_publisher_url_names_the_doi_it_is_built_on(url: str, doi: str) -> None:
    # the page shown, a query or a fragment would make a second DOI, and two DOIs veto a match
    assert normalize_doi(url) == doi
    assert find_dois(f"see {url} for the journal version") == [doi]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # full-width digits, period and colon, as Chinese input methods type them
        ("２２０３.０３４６６", ("2203.03466", None)),
        ("arXiv：２２０３．０３４６６ｖ２", ("2203.03466", 2)),
        ("［2106.10165］", ("2106.10165", None)),
        # Arabic-Indic and Extended Arabic-Indic digits, and the Arabic decimal separator
        ("٢١٠٦.١٠١٦٥", ("2106.10165", None)),
        ("۲۱۰۶.۱۰۱۶۵v۳", ("2106.10165", 3)),
        ("٢١٠٦٫١٠١٦٥", ("2106.10165", None)),
        ("https://arxiv.org/abs/hep-th/٩٧١١٢٠٠", ("hep-th/9711200", None)),
    ],
)
def test_digits_of_other_scripts_name_the_ascii_id(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["१२३४.५६७८९", "২১০৬.১০১৬৫", "arXiv:२१०६.१०१६५"])
def test_digits_that_stay_non_ascii_never_make_an_id(text: str) -> None:
    # Devanagari and Bengali digits have no ASCII compatibility form: they are no id's digits
    assert parse_arxiv_id(text) is None
    assert find_arxiv_ids(text) == []


def test_a_full_width_id_in_a_chinese_note_is_the_same_paper_as_the_ascii_one() -> None:
    note = "论文笔记 arXiv：２２０３.０３４６６，另见 [2203.03466] 和 https://arxiv.org/abs/2203.03466v2"
    assert find_arxiv_ids(note) == [("2203.03466", 2)]
    assert find_arxiv_ids("المرجع: ٢١٠٦.١٠١٦٥ و hep-th/9711200") == [
        ("2106.10165", None),
        ("hep-th/9711200", None),
    ]


def test_dois_written_with_other_scripts_digits_are_ascii() -> None:
    assert normalize_doi("DOI：１０.１１４５/３４４６７７６") == "10.1145/3446776"
    assert find_dois("انظر ١٠.١١٤٥/٣٤٤٦٧٧٦ للنسخة المنشورة") == ["10.1145/3446776"]
    assert arxiv_id_from_doi("１０.４８５５０/arXiv.２１０６.１０１６５") == "2106.10165"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("math.PR/0601001", ("math/0601001", None)),
        ("cond-mat.dis-nn/0101001v2", ("cond-mat/0101001", 2)),
        ("physics.optics/0612001", ("physics/0612001", None)),
        ("arXiv:cs.LG/0101001", ("cs/0101001", None)),
        ("https://arxiv.org/abs/q-bio/0703001", ("q-bio/0703001", None)),
        ("alg-geom/9108001", ("alg-geom/9108001", None)),
    ],
)
def test_old_style_ids_of_real_archives(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "answer/1234567",  # not an arXiv archive
        "arXiv:answer/1234567",
        "https://arxiv.org/abs/foo-bar/0101001",
        "math/1204001",  # 2012: new-style ids only since April 2007
        "hep-th/9913001",  # month 13
    ],
)
def test_not_old_style_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None
    assert find_arxiv_ids(f"see {text} here") == []


def test_ids_and_dois_written_against_chinese_text() -> None:
    # Chinese puts no space around a number: the characters next to an id are not part of it
    note = "见论文2106.10165的第3节，另见hep-th/9711200中的结果（２２０３.０３４６６）"
    assert find_arxiv_ids(note) == [("2106.10165", None), ("hep-th/9711200", None), ("2203.03466", None)]
    assert find_dois("见 10.1145/3446776。以及10.1073/pnas.1903070116的证明") == [
        "10.1145/3446776",
        "10.1073/pnas.1903070116",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "arXiv:2106.101651",  # one digit too many: not 2106.10165
        "arXiv:1412.69801",  # not Adam (1412.6980)
        "https://arxiv.org/abs/2106.101651",
        "http://arxiv.org/pdf/1412.69801v2.pdf",
        "10.48550/arXiv.2106.101651",
        "oai:arXiv.org:2106.101651",
        "arXiv:hep-th/97112001",  # old style: eight digits
        "https://arxiv.org/abs/math/03091361",
        "arXiv:2106.10165v12345",  # a version of five digits is no version: the id is part of a longer token
    ],
)
def test_an_id_followed_by_more_digits_is_no_id(text: str) -> None:
    assert parse_arxiv_id(text) is None
    assert find_arxiv_ids(f"see {text} here") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(arXiv:2106.10165)", [("2106.10165", None)]),
        ("[arXiv:2106.10165v2]", [("2106.10165", 2)]),
        ("https://arxiv.org/pdf/2106.10165v2.pdf.", [("2106.10165", 2)]),
        ("https://arxiv.org/abs/2106.10165#S3", [("2106.10165", None)]),
        ("arXiv:2106.10165的第3节", [("2106.10165", None)]),
        ("见arXiv：２１０６.１０１６５ｖ２中的定理", [("2106.10165", 2)]),
        ("arXiv:2106.10165, arXiv:1412.6980.", [("2106.10165", None), ("1412.6980", None)]),
        ("arXiv:hep-th/9711200v1)", [("hep-th/9711200", 1)]),
        ("10.48550/arXiv.2106.10165.", [("2106.10165", None)]),
    ],
)
def test_ids_end_at_punctuation_versions_and_chinese_text(
    text: str, expected: list[tuple[str, int | None]]
) -> None:
    assert find_arxiv_ids(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://huggingface.co/papers/2106.10165", ("2106.10165", None)),
        ("https://papers.cool/arxiv/2106.09685v2", ("2106.09685", 2)),
        ("https://www.arxiv-vanity.com/papers/1806.07572/", ("1806.07572", None)),
        ("https://arxiv.sciencecast.org/abs/1912.02292", ("1912.02292", None)),
        ("https://www.alphaxiv.org/overview/2106.10165v3", ("2106.10165", 3)),
        ("https://www.alphaxiv.org/abs/2106.10165", ("2106.10165", None)),
        ("https://ar5iv.labs.arxiv.org/html/2106.10165", ("2106.10165", None)),
        ("https://ar5iv.org/abs/hep-th/9711200", ("hep-th/9711200", None)),
        ("https://www.semanticscholar.org/arxiv/2106.10165", ("2106.10165", None)),
        ("https://paperswithcode.com/paper/arxiv/2106.10165", ("2106.10165", None)),
        ("https://scholar.archive.org/arxiv/2106.10165.pdf", ("2106.10165", None)),
        ("https://HuggingFace.co:443/papers/2106.10165?utm=x#top", ("2106.10165", None)),
    ],
)
def test_mirror_urls_name_the_arxiv_id(url: str, expected: tuple[str, int | None]) -> None:
    assert mirror_arxiv_id(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/papers/2106.10165",  # not a mirror
        "https://huggingface.co.evil.example/papers/2106.10165",  # a mirror's name inside another host
        "https://papers.cool/venue/ICLR.2026",
        "https://huggingface.co/papers/2106.101651",  # one digit too many
        "https://huggingface.co/papers/2106.10165-notes",
        "https://arxiv.org/abs/2106.10165",  # arXiv itself: parse_arxiv_id's job
        "not a url",
    ],
)
def test_urls_that_name_no_mirrored_paper(url: str) -> None:
    assert mirror_arxiv_id(url) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://128.84.21.199/abs/1502.03520v6", ("1502.03520", 6)),  # arXiv's old bare address
        ("http://xxx.lanl.gov/abs/hep-th/9711200", ("hep-th/9711200", None)),  # its name until 1999
        ("http://xxx.lanl.gov/pdf/cond-mat/0412498v2", ("cond-mat/0412498", 2)),
        ("https://lanl.arxiv.org/abs/1703.00887", ("1703.00887", None)),
        ("http://export.arxiv.org/abs/1703.00887v2", ("1703.00887", 2)),
    ],
)
def test_arxivs_old_and_other_addresses_are_arxiv_links(url: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(url) == expected
    assert find_arxiv_ids(f"see {url} for details") == [expected]


def test_arxiv_hosts() -> None:
    assert all(
        is_arxiv_host(host)
        for host in ("arxiv.org", "www.arxiv.org", "export.arxiv.org", "xxx.lanl.gov", "128.84.21.199:80")
    )
    assert not any(is_arxiv_host(host) for host in ("alphaxiv.org", "arxiv.org.example.com", "lanl.gov", ""))
