"""`sources forget-doi`: stored Crossref records forgotten, as an operator types the DOIs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app
from dltheory_digest.config import load_settings
from dltheory_digest.models import DoiRecord, Paper
from dltheory_digest.store import open_store
from dltheory_digest.store.records import load_doi_records, save_doi_records

runner = CliRunner()

CYBENKO = "10.1007/bf02551274"
HORNIK = "10.1016/0893-6080(89)90020-8"
ZHANG_CACM = "10.1145/3446776"


def _store_records(*records: tuple[str, str, str | None]) -> None:
    store = open_store(load_settings().resolved_store_url)
    try:
        save_doi_records(
            store,
            [
                DoiRecord(
                    doi, Paper(f"doi:{doi}", title, doi=doi, url=f"https://doi.org/{doi}"), arxiv_id=arxiv
                )
                for doi, title, arxiv in records
            ],
        )
    finally:
        store.close()


def _stored(*dois: str) -> list[str]:
    store = open_store(load_settings().resolved_store_url)
    try:
        return sorted(load_doi_records(store, dois))
    finally:
        store.close()


def test_forget_doi_takes_any_spelling_and_says_what_it_removed() -> None:
    _store_records(
        (CYBENKO, "Approximation by superpositions of a sigmoidal function", None),
        (ZHANG_CACM, "Understanding deep learning (still) requires rethinking generalization", "1611.03530"),
        (HORNIK, "Multilayer feedforward networks are universal approximators", None),
    )
    result = runner.invoke(
        app, ["sources", "forget-doi", "https://doi.org/10.1007/BF02551274", f"doi:{ZHANG_CACM}"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == [
        f"forgot {CYBENKO}: 'Approximation by superpositions of a sigmoidal function'",
        f"forgot {ZHANG_CACM}: 'Understanding deep learning (still) requires rethinking "
        "generalization' (tied to arXiv 1611.03530)",
    ]
    assert _stored(CYBENKO, ZHANG_CACM, HORNIK) == [HORNIK]


def test_forget_doi_names_the_dois_it_did_not_know_and_fails() -> None:
    _store_records((HORNIK, "Multilayer feedforward networks are universal approximators", None))
    result = runner.invoke(
        app, ["sources", "forget-doi", HORNIK.upper(), "https://doi.org/10.1000/Never-Asked"]
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"forgot {HORNIK}: 'Multilayer feedforward networks are universal approximators'"
    ]
    assert (
        "no stored Crossref record of 10.1000/never-asked (given as https://doi.org/10.1000/Never-Asked)"
        in (result.stderr)
    )
    assert _stored(HORNIK) == []


@pytest.mark.parametrize("given", ["not a doi", "2106.10165"])
def test_forget_doi_refuses_what_is_not_a_doi_before_touching_the_store(given: str) -> None:
    _store_records((CYBENKO, "Approximation by superpositions of a sigmoidal function", None))
    result = runner.invoke(app, ["sources", "forget-doi", CYBENKO, given])
    assert result.exit_code == 2
    assert f"not a DOI: {given!r}" in result.stderr
    assert _stored(CYBENKO) == [CYBENKO]


def test_forget_doi_warns_when_crossref_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLTHEORY_CROSSREF_API_BASE", "")
    _store_records((CYBENKO, "Approximation by superpositions of a sigmoidal function", None))
    result = runner.invoke(app, ["sources", "forget-doi", CYBENKO])
    assert result.exit_code == 0, result.output
    assert "crossref_api_base is off: weeks citing it will show the citation's link text" in result.stderr
