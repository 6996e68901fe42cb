"""`blocks`: the lines-with-links reading every HTML/Markdown source kind shares."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dltheory_digest.models import RawPage
from dltheory_digest.sources.blocks import (
    BEIJING,
    canonical_url,
    finish,
    followable_href,
    html_blocks,
    is_generic_anchor,
    parse_date,
    plain_blocks,
    plain_text,
    soup_of,
    split_names,
    text_blocks,
    unwrap_redirect,
)


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


def test_a_line_without_text_is_kept_only_for_the_links_asked_for() -> None:
    page = (
        "<ul><li><a href='https://github.com/a/b'><img src='logo.png'></a>"
        " <a href='https://arxiv.org/abs/1712.09913'><img src='badge.svg' alt='arXiv'></a></li>"
        "<li><a href='https://twitter.com/a'><img src='avatar.png'></a></li>"
        "<li><a href='/arxiv/1806.07572'></a></li><li>Words</li></ul>"
    )
    # by default a line of no words is no line
    assert [block.text for block in html_blocks(page, "https://site.example.org/")] == ["Words"]
    blocks = html_blocks(page, "https://site.example.org/", keep_bare=lambda href: "arxiv" in href)
    # the bare line keeps only its wanted links; a relative link is the site's own, never wanted
    assert [(block.text, [link.href for link in block.links]) for block in blocks] == [
        ("", ["https://arxiv.org/abs/1712.09913"]),
        ("Words", []),
    ]
    (link,) = blocks[0].links
    assert (link.text, link.start, link.end) == ("", 0, 0)
    markdown = (
        "[![arXiv](https://img.shields.io/badge/arXiv-1712.09913.svg)](https://arxiv.org/abs/1712.09913)\n"
    )
    assert [block.links[0].href for block in text_blocks(markdown, keep_bare=lambda href: True)] == [
        "https://arxiv.org/abs/1712.09913"
    ]


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


SHOW = "https://shamra-academia.com/show/3a43f71cb08f65"


@pytest.mark.parametrize(
    "head",
    [
        f'<link rel="canonical" href="{SHOW}">',
        f'<link href="{SHOW}" rel="canonical">',  # href before rel
        f"<link rel=canonical href={SHOW}>",  # unquoted attributes
        f"<LINK REL='Canonical' HREF='{SHOW}'>",
        f'<link rel="alternate canonical" href=" {SHOW} ">',  # rel is a list of words
        f'<meta content="{SHOW}" property="og:url">',
        f'<meta name="og:url" content="{SHOW}">',
        f'<link rel="stylesheet" href="/s.css"><meta property="og:url" content="{SHOW}">',
    ],
)
def test_canonical_url_whatever_the_markup(head: str) -> None:
    page = f"<html><head>{head}</head><body><p>x</p></body></html>"
    assert canonical_url(page, "http://127.0.0.1:8000/cache/1") == SHOW
    assert canonical_url(page.encode(), "") == SHOW
    assert canonical_url(soup_of(page)) == SHOW


def test_canonical_url_unescapes_entities_and_prefers_the_link() -> None:
    page = (
        '<head><meta property="og:url" content="https://example.org/og">'
        '<link rel="canonical" href="https://example.org/p?id=1&amp;lang=ar"></head>'
    )
    assert canonical_url(page) == "https://example.org/p?id=1&lang=ar"


def test_canonical_url_falls_back_to_where_the_page_was_fetched() -> None:
    fallback = "https://mirror.example/show/1"
    assert canonical_url("<p>no head at all</p>", fallback) == fallback
    assert canonical_url('<link rel="canonical" href="">', fallback) == fallback
    assert canonical_url('<link rel="canonical" href="javascript:void(0)">', fallback) == fallback
    assert canonical_url("plain text naming https://example.org/", fallback) == fallback
    # a relative canonical names a page of the site it was fetched from
    assert canonical_url('<link rel="canonical" href="/show/2">', fallback) == "https://mirror.example/show/2"
    assert canonical_url('<link rel="canonical" href="/show/2">') == ""


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026/11/22 23:10:00", dt.datetime(2026, 11, 22, 23, 10, tzinfo=dt.UTC)),  # the time is kept
        ("22 November 2026", dt.datetime(2026, 11, 22, tzinfo=dt.UTC)),
        ("Nov 22, 2026", dt.datetime(2026, 11, 22, tzinfo=dt.UTC)),
        ("2026-11-22T23:10:00Z", dt.datetime(2026, 11, 22, 23, 10, tzinfo=dt.UTC)),
        ("Sun, 22 Nov 2026 18:10:00 EST", dt.datetime(2026, 11, 22, 23, 10, tzinfo=dt.UTC)),
        ("1763000000.5", dt.datetime(2025, 11, 13, 2, 13, 20, 500000, tzinfo=dt.UTC)),
        ("1763000000500", dt.datetime(2025, 11, 13, 2, 13, 20, 500000, tzinfo=dt.UTC)),  # milliseconds
        (1763000000, dt.datetime(2025, 11, 13, 2, 13, 20, tzinfo=dt.UTC)),
        ("20210621", dt.datetime(2021, 6, 21, tzinfo=dt.UTC)),  # a compact date, not a timestamp
        ("２０２１年６月２１日 14:30", dt.datetime(2021, 6, 21, 14, 30, tzinfo=dt.UTC)),
        ("发布于 2014-09-24", dt.datetime(2014, 9, 24, tzinfo=dt.UTC)),
        ("Submitted 2021/06/18 17:59, revised later", dt.datetime(2021, 6, 18, 17, 59, tzinfo=dt.UTC)),
        ("Submitted 2021/06/18 17:59 +08:00 (CST)", dt.datetime(2021, 6, 18, 9, 59, tzinfo=dt.UTC)),
    ],
)
def test_date_forms_pages_write(written: str | int, expected: dt.datetime) -> None:
    assert parse_date(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "hello",
        "3 days ago",
        "Monday",
        "2021",
        "2021-06",
        "November 2026",
        "1.5",
        "10:30",
        "2026-02-30",
        "0",
        0,
    ],
)
def test_what_is_not_a_whole_date_is_none(written: str | int) -> None:
    # no day invented from today's date, no 1970 from a year read as a timestamp
    assert parse_date(written) is None


def test_a_time_without_offset_is_read_in_the_zone_the_page_was_written_in() -> None:
    # 23:10 Beijing time on Monday is 15:10 UTC: the same week, and not 8 hours later
    assert parse_date("2026/11/23 07:30:00", BEIJING) == dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
    assert parse_date("2026-11-23 07:30", ZoneInfo("Asia/Shanghai")) == dt.datetime(
        2026, 11, 22, 23, 30, tzinfo=dt.UTC
    )
    assert parse_date("2026年11月23日 07:30", BEIJING) == dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
    # a stated offset or a timestamp is absolute whatever the zone
    assert parse_date("2026-11-23T07:30:00+00:00", BEIJING) == dt.datetime(2026, 11, 23, 7, 30, tzinfo=dt.UTC)
    assert parse_date("2026-11-23 07:30 UTC", BEIJING) == dt.datetime(2026, 11, 23, 7, 30, tzinfo=dt.UTC)
    assert parse_date(1763000000, BEIJING) == dt.datetime(2025, 11, 13, 2, 13, 20, tzinfo=dt.UTC)
    # a bare date is the calendar day the site shows, not an instant to shift
    assert parse_date("2026-11-23", BEIJING) == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    assert parse_date("2026年11月23日", BEIJING) == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "written",
    [
        "Mon, 23 Nov 2026 07:30:00 CST",  # RFC 2822: email.utils alone would read US Central
        "Mon Nov 23 07:30:00 CST 2026",  # Java's Date.toString, as Chinese servers print it
        "2026-11-23 07:30:00 CST",
        "23 Nov 2026 07:30 cst",
    ],
)
def test_cst_on_a_beijing_page_is_china_standard_time(written: str) -> None:
    # 07:30 in Beijing is 23:30 UTC the day before, whichever way the page writes it
    assert parse_date(written, BEIJING) == dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)


def test_a_zone_name_means_what_the_source_zone_says() -> None:
    # CST in an English feed (UTC by default) is US Central, as RFC 2822 has it
    assert parse_date("Mon, 23 Nov 2026 07:30:00 CST") == dt.datetime(2026, 11, 23, 13, 30, tzinfo=dt.UTC)
    assert parse_date("Mon, 23 Nov 2026 07:30:00 EST") == dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)
    # a US page's own names follow its daylight saving time
    chicago = ZoneInfo("America/Chicago")
    assert parse_date("Mon, 23 Nov 2026 07:30:00 CST", chicago) == dt.datetime(
        2026, 11, 23, 13, 30, tzinfo=dt.UTC
    )
    assert parse_date("Tue Jun 23 07:30:00 CDT 2026", chicago) == dt.datetime(
        2026, 6, 23, 12, 30, tzinfo=dt.UTC
    )
    # a stated offset still wins over the name beside it
    assert parse_date("Mon, 23 Nov 2026 07:30:00 +0000 (CST)", BEIJING) == dt.datetime(
        2026, 11, 23, 7, 30, tzinfo=dt.UTC
    )


@pytest.mark.parametrize(
    ("line", "url"),
    [
        ("Kernel: https://en.wikipedia.org/wiki/Kernel_(statistics) for the smoother",
         "https://en.wikipedia.org/wiki/Kernel_(statistics)"),
        ("(see https://arxiv.org/abs/2106.10165)", "https://arxiv.org/abs/2106.10165"),
        ("NTK (https://en.wikipedia.org/wiki/Neural_tangent_kernel).", "https://en.wikipedia.org/wiki/Neural_tangent_kernel"),
        ("Maps: https://en.wikipedia.org/wiki/Lipschitz_continuity_(mathematics)_(disambiguation),",
         "https://en.wikipedia.org/wiki/Lipschitz_continuity_(mathematics)_(disambiguation)"),
    ],
)  # fmt: skip
def test_a_bare_url_keeps_the_brackets_it_opens(line: str, url: str) -> None:
    (block,) = plain_blocks(line)
    assert [link.href for link in block.links] == [url]


@pytest.mark.parametrize(
    ("text", "generic"),
    [("pdf", True), ("[arXiv]", True), ("here", True), ("论文链接", True), ("paper link:", True),
     ("Deep Double Descent", False), ("The paper of the year", False)],
)  # fmt: skip
def test_generic_link_texts(text: str, generic: bool) -> None:
    assert is_generic_anchor(text) is generic


def test_finish_passes_the_cursor_through() -> None:
    page = RawPage("notes", "https://example.org/", 200, b"")
    result = finish(page, (), cursor=(("latest", "2026-11-20"),))
    assert result.cursor == (("latest", "2026-11-20"),)
    assert result.warnings == ("0 items parsed from a 200 response",)


@pytest.mark.parametrize(
    "written",
    [
        "0001-01-01T00:00:00+14:00",  # before the first representable instant in UTC
        "9999-12-31T23:59:59-14:00",  # after the last
        "Fri, 31 Dec 9999 23:59:59 -1400",
        "发布于 0001-01-01 00:00 +14:00",
        "0000-01-01T00:00:00Z",
    ],
)
def test_a_date_beyond_what_python_represents_is_none(written: str) -> None:
    assert parse_date(written) is None


BAD_HREF = "http://[oops/"  # an unbalanced IPv6 bracket: urlsplit raises on it


def test_an_unparsable_link_keeps_its_text_and_the_other_links() -> None:
    page = (
        "<ul><li><a href='https://arxiv.org/abs/1806.07572'>Neural Tangent Kernel</a></li>"
        f"<li><a href='{BAD_HREF}'>a mirror</a> of the same</li>"
        f"<li><a href='https://link.zhihu.com/?target=http%3A//%5Boops/'>wrapped</a> mirror</li>"
        "<li>written out: http://[::1/x and https://arxiv.org/abs/1711.00165</li></ul>"
    )
    for base in ("", "https://notes.example.org/p"):
        blocks = html_blocks(page, base)
        assert [block.text for block in blocks][:3] == [
            "Neural Tangent Kernel",
            "a mirror of the same",
            "wrapped mirror",
        ]
        assert [[link.href for link in block.links] for block in blocks] == [
            ["https://arxiv.org/abs/1806.07572"],
            [],
            [],
            ["https://arxiv.org/abs/1711.00165"],
        ]


def test_followable_href_joins_unwraps_or_gives_none() -> None:
    assert followable_href("/abs/1806.07572", "https://arxiv.org/list") == "https://arxiv.org/abs/1806.07572"
    assert followable_href("//arxiv.org/abs/1806.07572") == "https://arxiv.org/abs/1806.07572"
    wrapped = "https://link.zhihu.com/?target=https%3A//arxiv.org/abs/1806.07572"
    assert followable_href(wrapped) == "https://arxiv.org/abs/1806.07572"
    assert followable_href(BAD_HREF) is None
    assert followable_href(BAD_HREF, "https://notes.example.org/p") is None
    assert followable_href("https://link.zhihu.com/?target=http%3A//%5Boops/") is None
    assert unwrap_redirect(BAD_HREF) == BAD_HREF  # total: no wrapper to remove


def test_an_unparsable_canonical_link_falls_back() -> None:
    page = f'<head><link rel="canonical" href="{BAD_HREF}"></head>'
    assert canonical_url(page, "https://shamra-academia.com/show/3a4f6c1d92e0b7") == (
        "https://shamra-academia.com/show/3a4f6c1d92e0b7"
    )


def test_wordpress_formula_images_keep_their_tex() -> None:
    page = (
        '<p>with <img src="https://s0.wp.com/latex.php?latex=%7Bn+%5Cll+d%7D&amp;bg=ffffff&amp;fg=333333&amp;s=0" '
        'alt="{n &#92;ll d}" class="latex" /> samples, risk '
        '<img src="https://s0.wp.com/latex.php?latex=%5Csigma%5E2&amp;bg=ffffff" class="latex" /> and '
        '<img src="https://i0.wp.com/example.org/plot.png" alt="a plot" class="size-large" /></p>'
    )
    (block,) = html_blocks(page)
    assert block.text == "with ${n \\ll d}$ samples, risk $\\sigma^2$ and"


def test_substack_latex_blocks_are_a_line_of_their_tex() -> None:
    page = (
        "<p>a power law</p>"
        '<div class="latex-rendered" data-attrs="{&quot;persistentExpression&quot;:&quot;L(N) = (N_c/N)^{\\\\alpha_N}&quot;,'
        '&quot;id&quot;:&quot;X1&quot;}" data-component-name="LatexBlockToDOM"></div>'
        "<p>that fits.</p>"
        # an image's data-attrs, and data-attrs that are no JSON object, give nothing
        '<img src="https://substackcdn.com/x.png" data-attrs="{&quot;src&quot;:&quot;x.png&quot;}" alt="x">'
        '<div data-attrs="[&quot;persistentExpression&quot;]"></div><div data-attrs="{persistentExpression"></div>'
    )
    assert [block.text for block in html_blocks(page)] == [
        "a power law",
        "$L(N) = (N_c/N)^{\\alpha_N}$",
        "that fits.",
    ]
