"""`blocks`: the lines-with-links reading every HTML/Markdown source kind shares."""

from __future__ import annotations

import datetime as dt

import pytest

from dltheory_digest.sources.blocks import html_blocks, parse_date, plain_text, split_names, text_blocks


def test_a_page_nested_deeper_than_the_recursion_limit_is_read() -> None:
    # a broken page: thousands of unclosed wrappers, which lxml nests inside each other
    depth = 5000
    page = "<div>" * depth + '<a href="https://arxiv.org/abs/1611.03530">paper</a> note' + "</div>" * depth
    blocks = html_blocks(page)
    assert [block.text for block in blocks] == ["paper note"]
    assert [link.href for link in blocks[0].links] == ["https://arxiv.org/abs/1611.03530"]
    assert (blocks[0].links[0].start, blocks[0].links[0].end) == (0, 5)


def test_a_table_row_is_one_line_and_its_column_labels_are_no_line() -> None:
    markdown = (
        "| Paper | Link | Note |\n|---|---|---|\n"
        "| Visualizing the Loss Landscape of Neural Nets | [arXiv](https://arxiv.org/abs/1712.09913) | filters |\n"
    )
    (row,) = text_blocks(markdown)
    assert row.text == "Visualizing the Loss Landscape of Neural Nets | arXiv | filters"
    (link,) = row.links
    assert row.text[link.start : link.end] == "arXiv"
    assert link.href == "https://arxiv.org/abs/1712.09913"


def test_a_header_row_of_th_cells_outside_thead_is_skipped_too() -> None:
    page = "<table><tr><th>Paper</th><th>Year</th></tr><tr><td>Deep Double Descent</td><td>2019</td></tr></table>"
    assert [block.text for block in html_blocks(page)] == ["Deep Double Descent | 2019"]


def test_inline_formula_images_keep_their_tex() -> None:
    page = (
        '<p>a rate of <img src="https://www.zhihu.com/equation?tex=O%281%2F%5Csqrt%7Bn%7D%29" '
        'alt="O(1/\\sqrt{n})" eeimg="1"/> in width '
        '<img src="https://www.zhihu.com/equation?tex=m%3D%5COmega%28n%5E6%29" eeimg="1"/>, '
        'and a photo <img src="https://pic1.zhimg.com/photo.jpg" alt="photo"/></p>'
    )
    (block,) = html_blocks(page)
    assert block.text == "a rate of $O(1/\\sqrt{n})$ in width $m=\\Omega(n^6)$, and a photo"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-03-01T10:00:00+08:00", dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)),
        ("Mon, 27 Apr 2026 00:00:00 -0400", dt.datetime(2026, 4, 27, 4, 0, tzinfo=dt.UTC)),
        ("2021-06-18 17:59:55 UTC", dt.datetime(2021, 6, 18, 17, 59, 55, tzinfo=dt.UTC)),
        ("2021年6月21日", dt.datetime(2021, 6, 21, tzinfo=dt.UTC)),
    ],
)
def test_dates_come_out_in_utc(written: str, expected: dt.datetime) -> None:
    parsed = parse_date(written)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("NTK &amp; 宽网络的 <b>收敛</b>  理论", "NTK & 宽网络的 收敛 理论"),
        ("Deep Double Descent &#8211; revisited", "Deep Double Descent – revisited"),
        ("Sample complexity when n < d and d > k", "Sample complexity when n < d and d > k"),
        ("  The Principles of\n Deep Learning Theory ", "The Principles of Deep Learning Theory"),
    ],
)
def test_plain_text_removes_markup_only_where_there_is_markup(written: str, expected: str) -> None:
    assert plain_text(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Daniel A. Roberts, Sho Yaida and Boris Hanin", ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")),
        ("Daniel A. Roberts,Sho Yaida, and Boris Hanin", ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")),
        ("杜少雷，Xiyu Zhai、Aarti Singh", ("杜少雷", "Xiyu Zhai", "Aarti Singh")),
        ("Alexander Andersen; Sandra Anderson", ("Alexander Andersen", "Sandra Anderson")),
        ("", ()),
    ],
)
def test_author_lines_split_into_names(written: str, expected: tuple[str, ...]) -> None:
    assert split_names(written) == expected


@pytest.mark.timeout(60)
def test_a_long_run_of_spaces_in_an_author_line_is_split_at_once() -> None:
    # a padded cell: the separators' optional spaces overlapped, cubic in the run (minutes)
    written = "Lénaïc Chizat" + " \n\t" * 20_000 + ",   Francis Bach" + "\u00a0" * 20_000
    assert split_names(written) == ("Lénaïc Chizat", "Francis Bach")
