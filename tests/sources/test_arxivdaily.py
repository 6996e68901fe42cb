"""arxivdaily thread pages and the JSON:API thread listing (hand-written in the site's shapes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dltheory_digest.errors import ParseError
from dltheory_digest.models import ItemKind
from dltheory_digest.sources import REGISTRY, arxivdaily

KIND = REGISTRY["arxivdaily"]


def test_thread_entries(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "arxivdaily_thread.html").read_bytes()
    result = KIND.parse_bytes(
        content, url="https://www.arxivdaily.com/thread/43210", source_id="arxivdaily-lg"
    )
    assert not result.warnings
    first, second = result.items
    assert first.kind is ItemKind.PAPER
    assert (first.title, first.original_title) == (
        "The Principles of Deep Learning Theory",
        "深度学习理论原理",
    )
    assert first.authors == ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")
    assert (first.arxiv_id, first.version, first.comment) == ("2106.10165", None, "451 pages")
    assert first.text == "本书用有效理论的方法分析有限宽度的深度网络，给出训练后输出分布的逐层递推描述。"
    assert first.lang == "zh"
    assert first.published == dt.datetime(2021, 6, 21, tzinfo=dt.UTC)  # from "机器学习2021_6_21"
    assert (second.arxiv_id, second.version) == ("1806.07572", 4)  # from the PDF link
    assert second.title == "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    assert second.original_title == "神经正切核：神经网络的收敛与泛化"
    assert second.authors == ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")
    assert second.text.startswith("在无限宽极限下")


def test_api_listing_gives_thread_urls_and_embedded_entries(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "arxivdaily_threads.json").read_bytes()
    result = KIND.parse_bytes(content, url="https://www.arxivdaily.com/api/threads?page%5Bnumber%5D=1")
    assert result.next_urls == (
        "https://www.arxivdaily.com/thread/43210",
        "https://www.arxivdaily.com/thread/43209",
        "https://www.arxivdaily.com/api/threads?filter%5BcategoryId%5D=6&page%5Bnumber%5D=2&page%5Blimit%5D=10",
    )
    (item,) = result.items
    assert (item.arxiv_id, item.original_title) == ("2106.10165", "深度学习理论原理")
    assert item.published == dt.datetime(2021, 6, 21, tzinfo=dt.UTC)


def test_listing_without_embedded_posts_is_not_a_broken_layout() -> None:
    content = b'{"data": [{"type": "threads", "id": "43210", "attributes": {}}], "meta": {"threadCount": 1}}'
    result = KIND.parse_bytes(content)
    assert result.items == () and result.warnings == ()
    assert result.next_urls == ("https://www.arxivdaily.com/thread/43210",)


def test_changed_layout_warns() -> None:
    result = KIND.parse_bytes("<html><body><article><p>今日无更新</p></article></body></html>".encode())
    assert result.items == ()
    assert "0 items parsed from a 200 response" in result.warnings


def test_entries_with_chinese_name_lists_no_link_or_only_a_chinese_title(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "arxivdaily_odd_entries.html").read_bytes()
    result = KIND.parse_bytes(content, source_id="arxivdaily-lg")
    du, zhang, book = result.items
    assert (du.arxiv_id, du.version) == ("1810.02054", 2)
    assert du.authors == ("杜少雷", "Xiyu Zhai", "Barnabás Póczos", "Aarti Singh")
    # no link: an id in the comment ("see also arXiv:1706.03762") is another paper, not this one
    assert zhang.title == "Understanding deep learning requires rethinking generalization"
    assert (zhang.arxiv_id, zhang.url) == (None, None)
    assert len(zhang.authors) == 5
    # only the Chinese title: kept, with its id
    assert (book.title, book.original_title, book.arxiv_id) == ("深度学习理论原理", None, "2106.10165")
    assert book.published == dt.datetime(2018, 10, 5, tzinfo=dt.UTC)


def test_an_entry_on_one_line_takes_no_id_from_its_comment() -> None:
    page = (
        "<html><body><article class='thread-content'><div class='thread-body'>"
        "<p>【1】 Deep Double Descent: Where Bigger Models and More Data Hurt 作者：Preetum Nakkiran, "
        "Gal Kaplun 备注：extends arXiv:1706.03762</p>"
        "<p>【2】 Neural Tangent Kernel arXiv:1806.07572 作者：Arthur Jacot</p>"
        "</div></article></body></html>"
    )
    descent, ntk = KIND.parse_bytes(page.encode()).items
    assert descent.title.startswith("Deep Double Descent") and descent.arxiv_id is None
    assert descent.authors == ("Preetum Nakkiran", "Gal Kaplun")
    assert ntk.arxiv_id == "1806.07572"  # an id on the title line is the entry's own


def test_the_thread_day_is_the_day_beijing_readers_see() -> None:
    # the date in the title is a calendar day in Beijing: kept as that day, not moved to 16:00
    # UTC of the day before (which would put Monday's thread in the previous week)
    page = (
        "<html><head><title>机器学习2026_11_23 - arXiv每日学术速递</title></head><body><article>"
        "<p>【1】 Neural Tangent Kernel 作者：Arthur Jacot 链接：https://arxiv.org/abs/1806.07572</p>"
        "</article></body></html>"
    )
    (entry,) = KIND.parse_bytes(page.encode()).items
    assert entry.arxiv_id == "1806.07572"
    assert entry.published == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


# Members of the wrong JSON type and entries that cannot be read (review r1, finding 2)


def test_a_listing_with_members_of_the_wrong_type_keeps_what_it_can(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "arxivdaily_threads_wrong_types.json").read_bytes()
    result = KIND.parse_bytes(
        content, url="https://www.arxivdaily.com/api/threads", source_id="arxivdaily-lg"
    )
    dates = {item.arxiv_id: item.published for item in result.items}
    assert dates == {
        "2106.10165": dt.datetime(2021, 6, 21, tzinfo=dt.UTC),
        "1806.07572": None,  # its thread is dated 2021_2_31
    }
    assert result.next_urls[:3] == tuple(
        f"https://www.arxivdaily.com/thread/{n}" for n in (43210, 43209, 43208)
    )
    assert result.total_results is None  # "twelve" is no count
    assert result.warnings == ()


def test_an_entry_that_cannot_be_read_is_left_out_with_a_warning(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_abs_url = arxivdaily.abs_url

    def abs_url(arxiv_id: str, version: int | None = None) -> str:
        if arxiv_id == "2106.10165":
            raise RuntimeError("simulated failure")
        return real_abs_url(arxiv_id, version)

    monkeypatch.setattr(arxivdaily, "abs_url", abs_url)
    content = (fixtures_dir / "sources" / "arxivdaily_thread.html").read_bytes()
    result = KIND.parse_bytes(
        content, url="https://www.arxivdaily.com/thread/43210", source_id="arxivdaily-lg"
    )
    assert [item.arxiv_id for item in result.items] == ["1806.07572"]
    (warning,) = result.warnings
    assert warning.startswith("entry 【1】 The Principles of Deep Learning Theory")
    assert warning.endswith("skipped: could not be read (RuntimeError: simulated failure)")

    # a listing: the post whose every entry fails is named, the other post is kept
    listing = (fixtures_dir / "sources" / "arxivdaily_threads_wrong_types.json").read_bytes()
    result = KIND.parse_bytes(
        listing, url="https://www.arxivdaily.com/api/threads", source_id="arxivdaily-lg"
    )
    assert [item.arxiv_id for item in result.items] == ["1806.07572"]
    (warning,) = result.warnings
    assert warning.startswith(
        "post 98765 skipped: could not be read (ParseError: [arxivdaily-lg] the page's only entry could not"
    )

    monkeypatch.setattr(arxivdaily, "abs_url", lambda *args: 1 / 0)
    with pytest.raises(ParseError, match="none of the page's 2 entries could be read"):
        KIND.parse_bytes(content, url="https://www.arxivdaily.com/thread/43210", source_id="arxivdaily-lg")
