"""shamra on the seed 004 text rendering (read in place) and on a page in the site's HTML shape,
also served in Windows-1256."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dltheory_digest.models import Item, ItemKind, RawPage
from dltheory_digest.sources import REGISTRY, shamra

KIND = REGISTRY["shamra"]
URL = "https://shamra-academia.com/show/3a43f71cb08f65"


def test_seed_004_text_rendering(shared_dir: Path) -> None:
    (path,) = (shared_dir / "seeds").glob("004_*.txt")
    result = KIND.parse_bytes(path.read_bytes(), url=URL, source_id="shamra")
    main, *related = result.items
    assert main.kind is ItemKind.PAPER
    assert (main.title, main.arxiv_id, main.url) == ("The Modern Mathematics of Deep Learning", None, URL)
    # "نشر من قبل" names the uploader, not an author
    assert main.authors == ()
    assert dict(main.extra) == {"year": "2021", "uploaded_by": "Julius Berner", "paper_language": "English"}
    assert main.text.startswith("We describe the new field of mathematical analysis of deep learning.")
    assert main.text.endswith("we describe the main ideas in more detail.")
    assert main.lang == "en"
    assert len(related) == 5
    assert all(item.kind is ItemKind.MENTION for item in related)
    first = related[0]
    assert first.authors == ("Anirbit Mukherjee",)
    assert dict(first.extra)["views"] == "82" and dict(first.extra)["year"] == "2021"
    assert first.text.startswith("Deep Learning/Deep Neural Nets is a technological marvel")
    # the text rendering shows no titles for related papers: they are kept with their abstracts,
    # labelled by its first sentence, on the page's own address (no positional #related-N)
    assert [item.text.split()[0] for item in related[1:]] == ["Why", "Recent", "ML", "Neural"]
    assert {dict(item.extra)["evidence"] for item in related} == {"abstract_only"}
    assert (
        related[3].title
        == "ML models often exhibit unexpectedly poor behavior when they are deployed in real-world domains."
    )
    assert related[1].title.startswith("Why and how that deep learning works") and related[1].title.endswith(
        "…"
    )
    assert {item.url for item in related} == {URL}
    assert len({item.key for item in related}) == 5  # distinct keys, so none is merged away
    # keyed on the page and its text, not on its place in the list
    assert not any("related-" in item.key or "#" in (item.url or "") for item in related)


def test_html_page_with_arabic_and_english_abstracts(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "shamra_show.html").read_bytes()
    result = KIND.parse_bytes(content, url=URL, source_id="shamra")
    main, first, second = result.items
    assert main.title == "The Modern Mathematics of Deep Learning"
    assert main.lang == "ar"
    assert main.text.startswith("يعرض البحث مجالاً رياضياً ناشئاً")
    extra = dict(main.extra)
    assert extra["abstract_label"] == "arabic"
    assert extra["abstract_en"].startswith("A survey of the mathematical analysis of deep learning")
    assert (first.title, first.authors, first.url) == (
        "Recent advances in deep learning theory",
        ("Fengxiang He",),
        "https://shamra-academia.com/show/3a43e2f5a1c2b7",
    )
    assert dict(first.extra)["year"] == "2020" and first.text.startswith("A review that sorts")
    assert (second.title, second.authors) == (
        "Deep Learning and the Information Bottleneck Principle",
        ("Naftali Tishby",),
    )


def test_windows_1256_page_decodes(fixtures_dir: Path) -> None:
    html = (fixtures_dir / "sources" / "shamra_show.html").read_text(encoding="utf-8")
    cp1256 = html.replace('<meta charset="utf-8">', '<meta charset="windows-1256">').encode("cp1256")
    result = KIND.parse_bytes(cp1256, url=URL)
    assert result.items[0].text.startswith("يعرض البحث مجالاً رياضياً ناشئاً")
    assert dict(result.items[0].extra)["uploaded_by"] == "Julius Berner"


def test_no_arabic_abstract_marker() -> None:
    page = (
        "The Modern Mathematics of Deep Learning\n"
        "نشر من قبل Julius Berner\n"
        "ﻻ يوجد ملخص باللغة العربية\n"
        "A survey of the mathematical analysis of deep learning and of the questions it tries to answer.\n"
    )
    (main,) = KIND.parse_bytes(page.encode(), url=URL).items
    assert dict(main.extra)["abstract_label"] == "no_arabic_abstract"
    assert main.text.startswith("A survey of the mathematical analysis") and main.lang == "en"


def test_changed_layout_warns() -> None:
    result = KIND.parse_bytes("<html><body><div>صفحة غير موجودة</div></body></html>".encode())
    assert result.items == ()
    assert "0 items parsed from a 200 response" in result.warnings


def test_a_related_paper_keeps_shamras_arabic_summary() -> None:
    # the demo's page (package data, written in the site's shape): the first related paper has
    # an Arabic summary, the others an English abstract
    import dltheory_digest.demo

    page = Path(dltheory_digest.demo.__file__).parent / "snapshot" / "shamra" / "show" / "3a4f6c1d92e0b7.html"
    items = KIND.parse_bytes(page.read_bytes(), url="https://shamra-academia.com/show/3a4f6c1d92e0b7").items
    related = {item.title: item for item in items if item.kind is ItemKind.MENTION}
    survey = related["Recent advances in deep learning theory"]
    assert survey.lang == "ar" and survey.text.startswith("مسح لنتائج نظرية التعلّم العميق")
    gaussian = related["Deep Neural Networks as Gaussian Processes"]
    assert gaussian.lang == "en" and gaussian.text.startswith("Infinitely wide random deep networks")


def test_arabic_indic_digits_and_a_page_without_abstract(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "shamra_arabic_digits.html").read_bytes()
    main, first, second = KIND.parse_bytes(content, source_id="shamra").items
    assert main.title == "Deep Learning and the Information Bottleneck Principle"
    assert (main.text, main.authors, dict(main.extra)["uploaded_by"]) == ("", (), "Naftali Tishby")
    assert dict(main.extra)["year"] == "2015"
    # "٩٦ - Fengxiang He ٢٠٢٠" is the related paper's header, not an Arabic summary
    assert (first.title, first.authors) == ("Recent advances in deep learning theory", ("Fengxiang He",))
    assert first.text.startswith("A review written for this test")
    assert (first.lang, dict(first.extra)["year"], dict(first.extra)["views"]) == ("en", "2020", "96")
    # saved without its address: related links still point at the site
    assert first.url == "https://shamra-academia.com/show/3a43e2f5a1c2b7"
    assert (second.authors, dict(second.extra)["year"]) == (("Ravid Shwartz-Ziv",), "2017")


def test_the_page_is_named_by_its_canonical_address_whatever_the_attribute_order(fixtures_dir: Path) -> None:
    # served from a cache: <link href=.. rel=canonical> (href first, as some templates write it)
    html = (fixtures_dir / "sources" / "shamra_show.html").read_text(encoding="utf-8")
    head = f'<meta charset="utf-8"><link href={URL}?lang=ar&amp;ref=1 rel=canonical>'
    cached = html.replace('<meta charset="utf-8">', head, 1)
    assert head in cached
    main, *_ = KIND.parse_bytes(cached.encode(), url="http://127.0.0.1:8000/cache/3a43f71cb08f65").items
    assert main.url == f"{URL}?lang=ar&ref=1"


# A related paper that cannot be read must not lose the page (review r1, finding 2)


def test_a_related_paper_that_cannot_be_read_is_left_out_with_a_warning(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = (fixtures_dir / "sources" / "shamra_show.html").read_bytes()
    real_mention = shamra._mention

    def mention(page: RawPage, number: int, entry: Any) -> Item:
        if number == 1:  # whatever one related paper trips over
            raise RuntimeError("simulated failure")
        return real_mention(page, number, entry)

    monkeypatch.setattr(shamra, "_mention", mention)
    result = KIND.parse_bytes(content, url=URL, source_id="shamra")
    assert [item.title for item in result.items] == [
        "The Modern Mathematics of Deep Learning",
        "Deep Learning and the Information Bottleneck Principle",
    ]
    assert result.warnings == (
        "related paper 1 Recent advances in deep learning theory skipped: could not be read "
        "(RuntimeError: simulated failure)",
    )


def test_related_papers_that_all_fail_keep_the_paper_itself(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = (fixtures_dir / "sources" / "shamra_show.html").read_bytes()
    monkeypatch.setattr(shamra, "_mention", lambda *args: 1 / 0)
    result = KIND.parse_bytes(content, url=URL, source_id="shamra")
    (main,) = result.items
    assert main.title == "The Modern Mathematics of Deep Learning"
    (warning,) = result.warnings
    assert warning.startswith("related papers skipped: none of the page's 2 entries could be read")
    assert "ZeroDivisionError" in warning
