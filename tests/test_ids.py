from __future__ import annotations

import pytest

from dltheory_digest.ids import (
    abs_url,
    arxiv_id_from_doi,
    find_arxiv_ids,
    find_dois,
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
    ],
)
def test_every_single_form(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text", ["abc", "0000.0000", "2113.00001", "1412.12345", "1501.0001", "12.3456", "2106.10165v0"]
)
def test_not_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None


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
