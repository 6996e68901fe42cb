"""`dltheory-digest parse KIND FILE`: offline parsing of saved responses, one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dltheory_digest.cli import app

runner = CliRunner()


def run_parse(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = runner.invoke(app, ["parse", *args])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.output


def test_seed_000_every_arxiv_id(shared_dir: Path) -> None:
    (seed,) = (shared_dir / "seeds").glob("000_*.txt")
    code, lines, _ = run_parse("notes_page", str(seed))
    assert code == 0
    ids = {line["arxiv_id"] for line in lines if line["arxiv_id"]}
    assert len(ids) == 11 and "2106.10165" in ids and "2402.15332" in ids
    record = next(line for line in lines if line["arxiv_id"] == "2106.10165")
    assert record == {
        "kind": "mention",
        "title": "The Principles of Deep Learning Theory",
        "url": "https://arxiv.org/abs/2106.10165",
        "arxiv_id": "2106.10165",
        "version": None,
        "doi": None,
        "authors": [],
        "lang": "en",
        "text": "",
        "extra": {"evidence": "arxiv_text"},
    }
    assert {line["kind"] for line in lines} == {"mention", "other"}


def test_seed_003_main_paper_and_related(shared_dir: Path) -> None:
    (seed,) = (shared_dir / "seeds").glob("003_*.txt")
    code, lines, _ = run_parse("arxiv_mirror", str(seed))
    assert code == 0
    main = lines[0]
    assert (main["kind"], main["arxiv_id"], main["version"]) == ("paper", "2408.13767", 2)
    assert main["authors"] == ["Nadav Cohen", "Noam Razin"]
    related = lines[1:]
    assert len(related) == 11 and all(line["kind"] == "mention" for line in related)
    assert related[-1]["title"] == "A Chain Graph Interpretation of Real-World Neural Networks"


def test_post_line_is_followed_by_its_cited_mentions(fixtures_dir: Path) -> None:
    page = fixtures_dir / "sources" / "zhihu_article_reading_list.html"
    code, lines, _ = run_parse("zhihu", str(page), "--url", "https://zhuanlan.zhihu.com/p/100000001")
    assert code == 0
    # the course the list links comes after the post's papers, as its own item
    assert [line["kind"] for line in lines] == ["post", "mention", "mention", "mention", "mention", "other"]
    assert lines[0]["title"] == "深度学习理论阅读清单"  # printed as UTF-8, not \\u escapes
    assert [line["arxiv_id"] for line in lines[1:5]] == ["2012.10931", "2106.10165", None, "1806.07572"]
    assert lines[5]["extra"] == {"category": "course"}


def test_url_option_resolves_relative_links(tmp_path: Path) -> None:
    page = tmp_path / "mirror.html"
    page.write_text(
        "<html><body><ul><li>URL: <a href='/abs/2106.10165v3'>link</a></li>"
        "<li>Title: The Principles of Deep Learning Theory</li></ul></body></html>",
        encoding="utf-8",
    )
    code, lines, _ = run_parse("arxiv_mirror", str(page), "--url", "https://arxiv.org/list/cs.LG")
    assert code == 0
    assert (lines[0]["arxiv_id"], lines[0]["version"]) == ("2106.10165", 3)


def test_unknown_kind_exits_2(tmp_path: Path) -> None:
    page = tmp_path / "x.html"
    page.write_text("<html></html>", encoding="utf-8")
    result = runner.invoke(app, ["parse", "no_such_kind", str(page)])
    assert result.exit_code == 2
    assert "unknown kind 'no_such_kind'" in result.output
    assert "notes_page" in result.output


def test_empty_page_prints_the_layout_warning(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body><div id='app'></div></body></html>", encoding="utf-8")
    result = runner.invoke(app, ["parse", "papers_cool", str(page)])
    assert result.exit_code == 0
    assert result.stdout.strip() == ""
    assert "0 items parsed from a 200 response" in result.output


def test_undecodable_file_exits_1(tmp_path: Path) -> None:
    page = tmp_path / "blob.bin"
    page.write_bytes(bytes(range(256)) * 40)
    result = runner.invoke(app, ["parse", "notes_page", str(page)])
    assert result.exit_code == 1
    assert "cannot parse" in result.output


def test_parse_reads_stdin_for_a_dash() -> None:
    page = (
        b"<html><body><ul><li>URL: <a href='https://arxiv.org/abs/1806.07572'>link</a></li>"
        b"<li>Title: Neural Tangent Kernel</li></ul></body></html>"
    )
    result = runner.invoke(app, ["parse", "arxiv_mirror", "-"], input=page)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["arxiv_id"] == "1806.07572"


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["parse", "feed", str(tmp_path / "none.xml")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_a_feed_given_to_the_zhihu_reader_is_refused(shared_dir: Path) -> None:
    feed = shared_dir / "fixtures" / "blog_offconvex" / "offconvex_feed_2017-07.xml"
    result = runner.invoke(app, ["parse", "zhihu", str(feed)])
    assert result.exit_code == 1
    assert result.stdout.strip() == ""  # no mentions made of the feed's markup
    assert "an RSS/Atom feed, not a Zhihu page (use kind 'feed')" in result.output
    as_feed = runner.invoke(app, ["parse", "feed", str(feed)])
    assert as_feed.exit_code == 0 and as_feed.stdout.strip()


def test_a_parse_error_is_one_line_without_an_empty_source_id(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["parse", "feed", str(empty)])
    assert result.exit_code == 1
    assert f"error: cannot parse {empty}: not an RSS/Atom feed" in result.output
    assert "[]" not in result.output and ":  " not in result.output


def test_a_url_that_is_not_absolute_exits_2(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    result = runner.invoke(app, ["parse", "notes_page", str(page), "--url", "notaurl"])
    assert result.exit_code == 2
    assert "--url: 'notaurl' is not an absolute http(s) URL" in result.output


RSS_HEAD = (
    '<?xml version="1.0"?><rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>cs.LG updates on arXiv.org</title>'
)


def test_markup_in_page_text_and_paths_is_printed_as_it_is(tmp_path: Path) -> None:
    feed = tmp_path / "listing.xml"
    # items without a guid are skipped with a warning that quotes their titles
    feed.write_text(
        RSS_HEAD
        + "<item><title>[/b] A paper</title><link>https://example.org/x</link></item>"
        + "<item><title>[b]Bold claim</title><link>https://example.org/y</link></item>"
        + "</channel></rss>",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["parse", "arxiv_rss", str(feed)])
    assert result.exit_code == 0, result.output
    assert "'[/b] A paper'" in result.output and "'[b]Bold claim'" in result.output

    missing = runner.invoke(app, ["parse", "notes_page", str(tmp_path / "no[/x]such.txt")])
    assert missing.exit_code == 2
    assert "no[/x]such.txt: file not found" in missing.output


def test_arxiv_facts_are_in_the_json(tmp_path: Path) -> None:
    feed = tmp_path / "listing.xml"
    feed.write_text(
        RSS_HEAD
        + "<item><title>Neural Tangent Kernel: Convergence and Generalization in Neural Networks</title>"
        + "<link>https://arxiv.org/abs/1806.07572</link>"
        + "<description>arXiv:1806.07572v4 Announce Type: replace \nAbstract: Kernel limit.</description>"
        + '<guid isPermaLink="false">oai:arXiv.org:1806.07572v4</guid>'
        + "<category>cs.LG</category><category>math.PR</category><category>stat.ML</category>"
        + "<arxiv:announce_type>replace</arxiv:announce_type>"
        + "<arxiv:journal_reference>NeurIPS 2018</arxiv:journal_reference>"
        + "<dc:creator>Arthur Jacot, Franck Gabriel, Cl\u00e9ment Hongler</dc:creator>"
        + "</item></channel></rss>",
        encoding="utf-8",
    )
    code, lines, output = run_parse("arxiv_rss", str(feed))
    assert code == 0, output
    (paper,) = lines
    assert (paper["arxiv_id"], paper["version"]) == ("1806.07572", 4)
    assert paper["announce_type"] == "replace"  # a revision, not a new paper
    assert paper["categories"] == ["cs.LG", "math.PR", "stat.ML"]
    assert paper["primary_category"] == "cs.LG"
    assert paper["journal_ref"] == "NeurIPS 2018"


def test_an_error_answer_exits_1_with_its_message(tmp_path: Path) -> None:
    # arXiv's answer to id_list=abc (an Atom feed of one "Error" entry), and an OAI-PMH error
    arxiv = tmp_path / "arxiv_error.xml"
    arxiv.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
        ' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        "<title>arXiv Query: id_list=abc</title><id>http://arxiv.org/api/x</id>"
        "<opensearch:totalResults>1</opensearch:totalResults>"
        "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_abc</id><title>Error</title>"
        "<summary>incorrect id format for abc</summary><author><name>arXiv api core</name></author></entry>"
        "</feed>",
        encoding="utf-8",
    )
    code, lines, output = run_parse("arxiv_api", str(arxiv))
    assert (code, lines) == (1, [])
    assert "error reported by the page: arXiv API error: incorrect id format for abc" in output
    oai = tmp_path / "oai_error.xml"
    oai.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2026-11-22T00:00:00Z</responseDate>"
        '<request verb="ListRecords">http://export.arxiv.org/oai2</request>'
        '<error code="badArgument">Illegal set</error></OAI-PMH>',
        encoding="utf-8",
    )
    code, lines, output = run_parse("arxiv_oai", str(oai))
    assert (code, lines) == (1, [])
    assert "error reported by the page: OAI-PMH error badArgument" in output
