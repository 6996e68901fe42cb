"""decode_page: charset from header, then the document, then detection; supersets; mojibake repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.errors import ParseError
from dltheory_digest.models import RawPage
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.decode import (
    MAX_NESTING,
    UndecodableContent,
    bom_encoding,
    charset_warning,
    declared_charset,
    decode_body,
    decode_page,
    is_latin_mojibake,
    nesting_exceeds,
    normalize_charset,
    page_text,
)

# 镕 and 喆 are in GBK/GB18030 but not in GB2312: a page labelled gb2312 that uses them
# only decodes right when the label is widened.
CHINESE = "深度学习理论的最新进展：朱镕基、陶喆与神经正切核。" * 3
TRADITIONAL = "深度學習理論的最新進展，包括神經正切核與雙下降現象的討論。" * 4
ARABIC = (
    "الرياضيات الحديثة للتعلم العميق: يدرس هذا البحث قدرة الشبكات العصبية على التعميم "
    "ودور العمق في البنى العميقة وغياب لعنة الأبعاد ونجاح التحسين رغم عدم التحدب. "
) * 3


def html(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_header_charset_gb2312_is_read_as_gb18030() -> None:
    content = html(CHINESE).encode("gb18030")
    assert "镕" in decode_page(content, "text/html; charset=GB2312")
    assert CHINESE in decode_page(content, "text/html; charset=gbk")


def test_meta_charset_when_no_header() -> None:
    content = html(CHINESE, '<meta charset="gb2312">').encode("gb18030")
    assert CHINESE in decode_page(content)


def test_meta_http_equiv_big5() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=big5">'
    content = html(TRADITIONAL, head).encode("big5")
    assert TRADITIONAL in decode_page(content, "text/html")


def test_xml_declaration_windows_1256() -> None:
    content = f'<?xml version="1.0" encoding="windows-1256"?><feed><title>{ARABIC}</title></feed>'.encode(
        "cp1256"
    )
    assert ARABIC in decode_page(content, "application/xml")


@pytest.mark.parametrize(("text", "codec"), [(ARABIC, "cp1256"), (TRADITIONAL, "big5"), (CHINESE, "gb18030")])
def test_undeclared_charset_is_detected(text: str, codec: str) -> None:
    assert text in decode_page(html(text).encode(codec))


def test_wrong_header_falls_back_to_the_document_and_detection() -> None:
    content = html(CHINESE, '<meta charset="gbk">').encode("gb18030")
    # the header lies (utf-8): the bytes are not UTF-8, so the meta declaration wins
    assert CHINESE in decode_page(content, "text/html; charset=utf-8")


def test_mojibake_is_repaired() -> None:
    original = "Théorie de l’apprentissage profond — « deep learning »"
    garbled = original.encode("utf-8").decode("cp1252")  # what a double-encoding site serves
    assert garbled != original
    assert decode_page(garbled.encode("utf-8"), "text/html; charset=utf-8") == original


def test_bom_and_empty() -> None:
    assert decode_page(b"\xef\xbb\xbfhello") == "hello"
    assert decode_page(b"") == ""


def test_binary_is_undecodable_and_page_text_names_the_source() -> None:
    binary = bytes(range(256)) * 40
    with pytest.raises(UndecodableContent):
        decode_page(binary)
    page = RawPage(source_id="zh-blog", url="https://example.org/x", status=200, content=binary)
    with pytest.raises(ParseError) as excinfo:
        page_text(page)
    assert excinfo.value.source_id == "zh-blog"


def test_labels_map_to_supersets() -> None:
    assert normalize_charset("GB2312") == "gb18030"
    assert normalize_charset("x-gbk") == "gb18030"
    assert normalize_charset("Big5") == "big5hkscs"
    assert normalize_charset("ISO-8859-1") == "cp1252"
    assert normalize_charset("windows-1256") == "cp1256"
    assert normalize_charset("no-such-charset") is None
    assert declared_charset(b'<html><meta charset="utf-8">') == "utf-8"


# --- a Latin header charset on a Chinese or Arabic page -------------------------------------


def fixture_bytes(fixtures_dir: Path, name: str) -> bytes:
    content = (fixtures_dir / "sources" / name).read_bytes()
    content.decode("cp1252")  # the header's charset decodes it without error: only the text is wrong
    return content


@pytest.mark.parametrize(
    ("name", "header", "encoding", "expected"),
    [
        ("zhihu_article_gbk.html", "iso-8859-1", "gb18030", "深度学习理论论文清单"),
        ("notes_arabic_cp1256.html", "ISO-8859-1", "cp1256", "قائمة قراءة في نظرية التعلم العميق"),
        ("notes_arabic_cp1256.html", "windows-1252", "cp1256", "الانحدار التدرجي عند حافة الاستقرار"),
    ],
)
def test_latin_header_on_chinese_or_arabic_bytes_is_overruled_with_a_warning(
    fixtures_dir: Path, name: str, header: str, encoding: str, expected: str
) -> None:
    content = fixture_bytes(fixtures_dir, name)
    assert is_latin_mojibake(content.decode("cp1252"))
    decoded = decode_body(content, f"text/html; charset={header}")
    assert expected in decoded.text
    assert decoded.encoding == encoding
    assert decoded.warning == f"charset header said {header}; decoded as {encoding}"


def test_the_warning_reaches_the_parse_result(fixtures_dir: Path) -> None:
    content = fixture_bytes(fixtures_dir, "notes_arabic_cp1256.html")
    result = REGISTRY["notes_page"].parse_bytes(
        content,
        url="https://notes.example.org/ar",
        source_id="ar-notes",
        content_type="text/html; charset=latin-1",
    )
    assert "charset header said latin-1; decoded as cp1256" in result.warnings
    ddd = next(item for item in result.items if item.arxiv_id == "1912.02292")
    assert ddd.text == "الانحدار المزدوج في الشبكات العميقة"
    zhihu = REGISTRY["zhihu"].parse_bytes(
        fixture_bytes(fixtures_dir, "zhihu_article_gbk.html"),
        url="https://zhuanlan.zhihu.com/p/100000002",
        source_id="zh",
        content_type="text/html; charset=iso-8859-1",
    )
    assert "charset header said iso-8859-1; decoded as gb18030" in zhihu.warnings
    assert any("深度学习理论论文清单" in (item.title + item.text) for item in zhihu.items)


def test_a_real_latin_page_keeps_its_header_charset(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "notes_french_cp1252.html").read_bytes()
    decoded = decode_body(content, "text/html; charset=iso-8859-1")
    assert "Lectures conseillées — théorie" in decoded.text and "« double descente »" in decoded.text
    assert (decoded.encoding, decoded.warning) == ("cp1252", None)
    assert not is_latin_mojibake(decoded.text)
    page = RawPage("fr", "https://notes.example.org/fr", 200, content, "text/html; charset=iso-8859-1")
    assert charset_warning(page) is None


def test_the_pages_own_meta_charset_wins_over_a_latin_header() -> None:
    content = html(CHINESE, '<meta charset="gbk">').encode("gb18030")
    decoded = decode_body(content, "text/html; charset=iso-8859-1")
    assert CHINESE in decoded.text and decoded.encoding == "gb18030"


def test_utf8_chinese_served_as_latin1_is_read_as_utf8() -> None:
    decoded = decode_body(html(CHINESE).encode("utf-8"), "text/html; charset=ISO-8859-1")
    assert CHINESE in decoded.text
    assert decoded.warning == "charset header said ISO-8859-1; decoded as utf-8"


def test_a_lying_utf8_header_is_reported_and_no_header_is_not() -> None:
    content = html(CHINESE).encode("gb18030")
    lying = RawPage("zh", "https://example.org/p", 200, content, "text/html; charset=utf-8")
    assert CHINESE in page_text(lying)
    assert charset_warning(lying) == "charset header said utf-8; decoded as gb18030"
    undeclared = RawPage("zh", "https://example.org/p", 200, content, "text/html")
    assert CHINESE in page_text(undeclared) and charset_warning(undeclared) is None
    truthful = RawPage("zh", "https://example.org/p", 200, content, "text/html; charset=gbk")
    assert charset_warning(truthful) is None


@pytest.mark.parametrize(
    ("lang", "body", "codec", "expected"),
    [
        ("zh", "阅读清单 - 知乎", "gb18030", "gb18030"),
        ("zh-TW", "閱讀清單", "big5", "big5hkscs"),
        # long enough to tell: Big5 text on a page that only says "zh"
        ("zh", TRADITIONAL, "big5", "big5hkscs"),
        ("ar", "قائمة قراءة", "cp1256", "cp1256"),
    ],
)
def test_short_page_whose_meta_charset_lies_is_read_in_its_languages_charset(
    lang: str, body: str, codec: str, expected: str
) -> None:
    # meta says UTF-8, the bytes are a legacy charset, and there is too little text for detection
    page = f'<html lang="{lang}"><head><meta charset="utf-8"><title>{body}</title></head><body></body></html>'
    decoded = decode_body(page.encode(codec))
    assert decoded.encoding == expected
    assert f"<title>{body}</title>" in decoded.text


def test_bom_encoding_names_the_codec_of_the_mark() -> None:
    assert bom_encoding("<rss/>".encode("utf-16")) == "utf-16"
    assert bom_encoding(b"\xef\xbb\xbf<rss/>") == "utf-8-sig"
    assert bom_encoding("<rss/>".encode("utf-32")) == "utf-32"
    assert bom_encoding(b"<rss/>") is None


def nested(tag: str, depth: int) -> str:
    return f"<{tag}>" * depth + "x" + f"</{tag}>" * depth


@pytest.mark.parametrize("tag", ["div", "span", "font", "blockquote"])
def test_nesting_beyond_the_limit_is_seen_without_a_tree(tag: str) -> None:
    assert nesting_exceeds(nested(tag, 101), 100)
    assert not nesting_exceeds(nested(tag, 100), 100)
    # unclosed wrappers nest too, as the parser builds them
    assert nesting_exceeds(f"<{tag}>x" * 101, 100)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>para" * 500,  # each <p> ends the last
        "<ul>" + "<li>item" * 500 + "</ul>",
        "<a href='https://arxiv.org/abs/1806.07572'>x" * 500,  # an <a> inside an <a> ends it
        "<div>" + "<br><img src=x><hr/><input>" * 500 + "</div>",  # void elements hold nothing
        "<div/>" * 500,
        "<div><span>unclosed</div>" * 500,  # a closing tag closes what was opened inside
        "<!--" + "<div>" * 500 + "-->",
        "<script>var s = '" + "<div>" * 500 + "';</script>",
        "<style>" + "<div>" * 500,  # an unclosed <style>: the rest is its text
        "<p" * 500,  # no tag ends
        "<div" * 500 + "<a" + "a" * 100_000,  # ... nor the last one (read in one pass, not per split)
    ],
)
def test_what_a_parser_does_not_nest_is_not_counted(markup: str) -> None:
    assert not nesting_exceeds(markup, 100)


def test_as_xml_every_element_counts() -> None:
    items = "<item>" * 101 + "</item>" * 101
    assert not nesting_exceeds("<p>" * 101, 100)
    assert nesting_exceeds("<p>" * 101, 100, html=False)
    assert nesting_exceeds(items, 100, html=False)
    assert not nesting_exceeds("<![CDATA[" + items + "]]>", 100, html=False)


def test_page_text_refuses_a_page_nested_too_deep_naming_the_source() -> None:
    deep = ("<html><body>" + nested("div", MAX_NESTING + 1) + "</body></html>").encode()
    page = RawPage(source_id="theory-notes", url="https://notes.example.org/p", status=200, content=deep)
    with pytest.raises(
        ParseError, match=r"\[theory-notes\] markup nested more than 4,096 levels deep"
    ) as caught:
        page_text(page)
    assert caught.value.url == "https://notes.example.org/p"
    # <html> and <body> are two of the levels
    shallower = ("<html><body>" + nested("div", MAX_NESTING - 2) + "</body></html>").encode()
    assert page_text(RawPage("theory-notes", "", 200, shallower)).count("<div>") == MAX_NESTING - 2


@pytest.mark.shared
def test_no_real_page_comes_near_the_nesting_limit(shared_dir: Path, fixtures_dir: Path) -> None:
    # the deepest real page measured nests 56 levels; the limit leaves a wide margin
    pages = [
        path
        for folder in (shared_dir, fixtures_dir)
        for path in folder.rglob("*")
        if path.suffix in {".html", ".htm", ".xml", ".md", ".txt", ".json"} and path.is_file()
    ]
    assert len(pages) > 50
    for path in pages:
        text = path.read_bytes().decode("utf-8", "replace")
        assert not nesting_exceeds(text, 100), path
        assert not nesting_exceeds(text, 100, html=False) or path.suffix != ".xml", path


@pytest.mark.parametrize(
    "markup",
    [
        "<table>" + "<tr><td><font size=2>paper</td></tr>" * 5000 + "</table>",  # an end tag closes inside
        "<table><tr>" + "<td><b>paper" * 5000 + "</table>",  # a new cell ends the inline tags left open
        "".join("<p><span>line</p>" for _ in range(5000)),
        "<p>" + "<i>line<p>" * 5000,  # a new <p> ends an <i> left open
        "<ul>" + "<li><b>item</li>" * 5000 + "</ul>",
        "<dl>" + "<dt><em>term</dt><dd><span>text</dd>" * 5000 + "</dl>",
        "<select>" + "<option><span>x</option>" * 5000 + "</select>",
    ],
)
def test_inline_tags_left_open_in_cells_paragraphs_and_items_do_not_pile_up(markup: str) -> None:
    # sloppy but common: lxml reads each of these no more than 6 levels deep
    assert not nesting_exceeds(markup, 100)


@pytest.mark.parametrize(
    "unit",
    [
        "<span><div>x</span>",  # </span> cannot end the <div> opened in it: both stay open
        "<p><div>x</p>",  # the <div> ended the <p>; </p> then ends nothing
        "<p>a<div>b</div><span>c</p>",
        "<li><div>x</li>",
        "<td><div>x",  # a new cell does not end a <div>
        "<p><span>x",  # nor does a new <p> end a <span>
        "<li><b>x",
        "<ul><li>x",
        "<td><table><tr>",
    ],
)
def test_what_lxml_keeps_open_still_counts(unit: str) -> None:
    # lxml nests each of these one level or more per repetition (it stops building at 256)
    assert nesting_exceeds("<html><body>" + unit * 101, 100)
    assert not nesting_exceeds("<html><body>" + unit * 20, 100)
