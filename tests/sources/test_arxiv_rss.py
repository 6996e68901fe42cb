"""`arxiv_rss` on the recorded rss.arxiv.org listings, and on variants of them that exercise
what those three-item recordings do not show (revisions, old-style ids, DOIs, empty days)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ConfigError, ParseError
from dltheory_digest.models import AnnounceType, ItemKind, ParseResult, RawPage
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.arxiv_rss import EMPTY_LISTING, KIND, ArxivRssOptions, split_creator
from dltheory_digest.sources.base import PlanContext

EASTERN_MIDNIGHT = dt.datetime(2026, 4, 27, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))


def recording(shared_dir: Path, name: str) -> bytes:
    return (shared_dir / "fixtures" / "arxiv_rss" / name).read_bytes()


def parse(content: bytes, **options: object) -> ParseResult:
    page = RawPage("arxiv-cs-lg", "https://rss.arxiv.org/rss/cs.LG", 200, content)
    return KIND.parse(page, ArxivRssOptions.model_validate(options))


@pytest.mark.shared
def test_every_recording_is_covered(shared_dir: Path) -> None:
    names = {p.name for p in (shared_dir / "fixtures" / "arxiv_rss").glob("*.xml")}
    assert names == {"jmamath-repo_arxiv_cs_ai.xml", "jmamath-repo_arxiv_cs_lg.xml"}


@pytest.mark.shared
def test_cs_lg_listing(shared_dir: Path) -> None:
    result = parse(recording(shared_dir, "jmamath-repo_arxiv_cs_lg.xml"))
    assert result.error is None and result.warnings == ()
    assert [(i.arxiv_id, i.version) for i in result.items] == [
        ("2604.21952", 1),
        ("2604.21953", 1),
        ("2604.21956", 1),
    ]
    first, second, third = result.items
    assert first.kind is ItemKind.PAPER
    assert first.title == (
        "Focus Session: Hardware and Software Techniques for Accelerating Multimodal Foundation Models"
    )
    assert first.authors == (
        "Muhammad Shafique",
        "Abdul Basit",
        "Muhammad Abdullah Hanif",
        "Alberto Marchisio",
        "Rachmad Vidya Wicaksana Putra",
        "Minghao Shao",
    )
    assert first.categories == ("cs.LG", "cs.AI", "cs.AR", "cs.NE", "cs.RO")
    assert first.primary_category == "cs.LG"
    assert first.announce_type is AnnounceType.NEW
    assert first.published == first.updated == EASTERN_MIDNIGHT
    assert first.url == "https://arxiv.org/abs/2604.21952"
    assert first.lang == "en"
    assert first.doi is None and first.journal_ref is None
    # the "arXiv:... Announce Type: new Abstract:" head is not part of the abstract
    assert first.text.startswith("This work presents a multi-layered methodology")
    assert "Announce Type" not in first.text
    assert "visual resolution & stride" in first.text  # &amp; decoded
    assert first.extra == (("license", "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"),)
    assert (
        second.title
        == "Performance Anomaly Detection in Athletics: A Benchmarking System with Visual Analytics"
    )
    assert second.authors == ("Blessed Madukoma", "Prasenjit Mitra")
    assert second.categories == ("cs.LG", "cs.CY")
    assert (
        third.title
        == "Conditional anomaly detection using soft harmonic functions: An application to clinical alerting"
    )
    assert third.authors == (
        "Michal Valko",
        "Hamed Valizadegan",
        "Branislav Kveton",
        "Gregory F. Cooper",
        "Milos Hauskrecht",
    )
    assert third.categories == ("cs.LG",)
    assert third.extra == (("license", "http://creativecommons.org/licenses/by/4.0/"),)
    assert dict(result.cursor) == {
        "pubDate": "Mon, 27 Apr 2026 00:00:00 -0400",
        "lastBuildDate": "Mon, 27 Apr 2026 04:00:01 +0000",
    }


@pytest.mark.shared
def test_cs_ai_listing(shared_dir: Path) -> None:
    result = parse(recording(shared_dir, "jmamath-repo_arxiv_cs_ai.xml"))
    assert [(i.arxiv_id, i.version, i.announce_type) for i in result.items] == [
        ("2604.21935", 1, AnnounceType.NEW),
        ("2604.21936", 1, AnnounceType.NEW),
        ("2604.21937", 1, AnnounceType.NEW),
    ]
    math, artifact, molclaw = result.items
    assert math.title == "Math Takes Two: A test for emergent mathematical reasoning in communication"
    assert math.authors == ("Michael Cooper", "Samuel Cooper")
    assert math.categories == ("cs.AI", "cs.LG")
    assert artifact.title == (
        "An Artifact-based Agent Framework for Adaptive and Reproducible Medical Image Processing"
    )
    assert len(artifact.authors) == 18
    assert (artifact.authors[0], artifact.authors[-1]) == ("Lianrui Zuo", "Bennett A. Landman")
    assert artifact.categories == ("cs.AI", "cs.CV", "cs.MA")
    assert molclaw.title.startswith("MolClaw: An Autonomous Agent with Hierarchical Skills")
    assert len(molclaw.authors) == 17
    assert molclaw.authors[-1] == "Zhengwei Xie"
    assert all(item.published == EASTERN_MIDNIGHT for item in result.items)


def _variant(shared_dir: Path) -> bytes:
    """The cs.LG recording with its items turned into the other shapes a listing carries."""
    content = recording(shared_dir, "jmamath-repo_arxiv_cs_lg.xml").decode()
    # item 1: a replacement (v3) with a DOI and journal reference
    content = content.replace(
        "oai:arXiv.org:2604.21952v1</guid>",
        "oai:arXiv.org:2604.21952v3</guid>",
        1,
    ).replace(
        "arXiv:2604.21952v1 Announce Type: new",
        "arXiv:2604.21952v3 Announce Type: replace",
    )
    content = content.replace(
        "<arxiv:announce_type>new</arxiv:announce_type>",
        "<arxiv:announce_type>replace</arxiv:announce_type>\n      <arxiv:DOI>10.1000/EXAMPLE.42</arxiv:DOI>"
        "\n      <arxiv:journal_reference>J. Example 1 (2026) 1-2</arxiv:journal_reference>",
        1,
    )
    # item 2: a cross-listing replacement of an old-style id, authors joined with "and"
    content = content.replace("oai:arXiv.org:2604.21953v1", "oai:arXiv.org:math/0309136v2")
    content = content.replace(
        "<link>https://arxiv.org/abs/2604.21953</link>", "<link>https://arxiv.org/abs/math/0309136</link>"
    )
    content = content.replace(
        "<arxiv:announce_type>new</arxiv:announce_type>",
        "<arxiv:announce_type>replace-cross</arxiv:announce_type>",
        1,
    )
    content = content.replace(
        "<dc:creator>Blessed Madukoma, Prasenjit Mitra</dc:creator>",
        "<dc:creator>Blessed Madukoma, John Doe, Jr. and Prasenjit Mitra</dc:creator>",
    )
    # item 3: a cross-listing
    content = content.replace(
        "<arxiv:announce_type>new</arxiv:announce_type>",
        "<arxiv:announce_type>cross</arxiv:announce_type>",
        1,
    )
    return content.encode()


@pytest.mark.shared
def test_revisions_cross_lists_old_ids_and_journal_facts(shared_dir: Path) -> None:
    result = parse(_variant(shared_dir))
    replaced, old_style, crossed = result.items
    assert (replaced.arxiv_id, replaced.version, replaced.announce_type) == (
        "2604.21952",
        3,
        AnnounceType.REPLACE,
    )
    assert replaced.announce_type is not None and replaced.announce_type.is_revision
    assert replaced.published is None and replaced.updated == EASTERN_MIDNIGHT  # not the v1 date
    assert replaced.doi == "10.1000/example.42"
    assert replaced.journal_ref == "J. Example 1 (2026) 1-2"
    assert (old_style.arxiv_id, old_style.version) == ("math/0309136", 2)
    assert old_style.announce_type is AnnounceType.REPLACE_CROSS
    assert old_style.url == "https://arxiv.org/abs/math/0309136"
    assert old_style.authors == ("Blessed Madukoma", "John Doe, Jr.", "Prasenjit Mitra")
    assert crossed.announce_type is AnnounceType.CROSS and not crossed.announce_type.is_revision
    assert crossed.published == EASTERN_MIDNIGHT


@pytest.mark.shared
def test_revisions_can_be_left_out(shared_dir: Path) -> None:
    result = parse(_variant(shared_dir), include_revisions=False)
    assert [item.arxiv_id for item in result.items] == ["2604.21956"]
    assert "2 revision(s) skipped (include_revisions is off)" in result.warnings


@pytest.mark.shared
def test_announce_type_read_from_description_when_the_element_is_missing(shared_dir: Path) -> None:
    content = recording(shared_dir, "jmamath-repo_arxiv_cs_lg.xml").replace(
        b"<arxiv:announce_type>new</arxiv:announce_type>", b""
    )
    assert {item.announce_type for item in parse(content).items} == {AnnounceType.NEW}


@pytest.mark.shared
def test_weekend_listing_is_empty_without_error(shared_dir: Path) -> None:
    content = recording(shared_dir, "jmamath-repo_arxiv_cs_lg.xml").decode()
    empty = content[: content.index("<item>")] + "</channel>\n</rss>"
    result = parse(empty.encode())
    assert result.items == () and result.error is None
    assert result.warnings == (EMPTY_LISTING,)


def test_atom_twin_of_the_listing() -> None:
    atom = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns="http://www.w3.org/2005/Atom">
  <id>http://rss.arxiv.org/atom/cs.LG</id>
  <title>cs.LG updates on arXiv.org</title>
  <updated>2026-04-27T04:00:01.000000+00:00</updated>
  <entry>
    <id>oai:arXiv.org:1806.07572v4</id>
    <title>Neural Tangent Kernel: Convergence and Generalization in Neural Networks</title>
    <updated>2026-04-27T04:00:01.000000+00:00</updated>
    <link href="https://arxiv.org/abs/1806.07572" rel="alternate" type="text/html"/>
    <summary>arXiv:1806.07572v4 Announce Type: replace
Abstract: Fixture abstract.</summary>
    <category term="cs.LG"/>
    <category term="stat.ML"/>
    <published>2026-04-27T00:00:00-04:00</published>
    <arxiv:announce_type>replace</arxiv:announce_type>
    <dc:creator>Arthur Jacot, Franck Gabriel, Cl\xc3\xa9ment Hongler</dc:creator>
  </entry>
</feed>"""
    (item,) = parse(atom).items
    assert (item.arxiv_id, item.version, item.announce_type) == ("1806.07572", 4, AnnounceType.REPLACE)
    assert item.authors == ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")
    assert item.text == "Fixture abstract."
    assert item.categories == ("cs.LG", "stat.ML")
    assert item.updated == EASTERN_MIDNIGHT


def test_split_creator() -> None:
    assert split_creator("A. One, B. Two and C. Three") == ("A. One", "B. Two", "C. Three")
    assert split_creator("A. One and B. Two") == ("A. One", "B. Two")
    assert split_creator("  Sole   Author ") == ("Sole Author",)
    assert split_creator("") == ()


def test_broken_or_foreign_documents_are_parse_errors() -> None:
    with pytest.raises(ParseError, match=r"\[arxiv-cs-lg\].*not a readable"):
        parse(b"<html><head><title>503</title></head><body>Service unavailable")
    with pytest.raises(ParseError, match="not an RSS or Atom listing"):
        parse(b"<html><body>moved</body></html>")


def test_plan_joins_categories_and_honours_an_explicit_url() -> None:
    spec = SourceSpec(
        id="arxiv", kind="arxiv_rss", options={"categories": ["cs.LG", "stat.ML", "cond-mat.dis-nn"]}
    )
    assert KIND.plan(spec, KIND.options_for(spec), PlanContext()) == (
        "https://rss.arxiv.org/rss/cs.LG+stat.ML+cond-mat.dis-nn",
    )
    spec = SourceSpec(id="arxiv", kind="arxiv_rss", url="http://127.0.0.1:8000/rss/cs.LG")
    assert KIND.plan(spec, KIND.options_for(spec), PlanContext()) == ("http://127.0.0.1:8000/rss/cs.LG",)
    assert REGISTRY["arxiv_rss"] is KIND and KIND.arxiv


def test_options_are_validated_at_load(tmp_path: Path) -> None:
    from dltheory_digest.config import load_sources

    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - id: arxiv\n    kind: arxiv_rss\n")
    with pytest.raises(ConfigError, match=r"source 'arxiv'.*options.categories"):
        load_sources(path)
    path.write_text("sources:\n  - id: arxiv\n    kind: arxiv_rss\n    options: {categories: ['cs LG']}\n")
    with pytest.raises(ConfigError, match=r"source 'arxiv'.*not an arXiv category"):
        load_sources(path)
    path.write_text(
        "sources:\n  - id: arxiv\n    kind: arxiv_rss\n    options: {categories: [cs.LG, math.OC]}\n"
    )
    (spec,) = load_sources(path)
    assert KIND.options_for(spec) == ArxivRssOptions(categories=("cs.LG", "math.OC"))


def test_items_without_guid_repeated_or_withdrawn(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "arxiv_rss_odd_items.xml").read_bytes()
    result = parse(content)
    # the guid-less item names itself in its link; the item naming no paper at all is reported
    assert [(item.arxiv_id, item.version) for item in result.items] == [
        ("2001.08361", 1),
        ("hep-th/9711200", 3),  # listed twice, one item
        ("2611.01003", 2),
    ]
    assert result.warnings == ("item without an oai:arXiv.org id skipped: 'Some Title That Names No Paper'",)
    scaling, maldacena, withdrawn = result.items
    assert scaling.announce_type is AnnounceType.NEW
    # New York midnight, given in UTC
    assert scaling.published == dt.datetime(2026, 4, 27, 4, 0, tzinfo=dt.UTC)
    assert scaling.published is not None and scaling.published.utcoffset() == dt.timedelta(0)
    assert maldacena.published is None and maldacena.updated == scaling.published
    assert dict(withdrawn.extra).get("withdrawn") == "true"
    assert "withdrawn" not in dict(scaling.extra)


def _one_item_listing(guid: str, link: str) -> bytes:
    return f"""<rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0"><channel>
<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<item><title>Deep Double Descent: Where Bigger Models and More Data Hurt</title><link>{link}</link>
<description>Announce Type: new
Abstract: Written for this test.</description><guid isPermaLink="false">{guid}</guid>
<pubDate>Mon, 27 Apr 2026 00:00:00 -0400</pubDate><arxiv:announce_type>new</arxiv:announce_type></item>
</channel></rss>""".encode()


@pytest.mark.parametrize(
    ("guid", "link", "expected"),
    [
        # a guid that names no valid id gives way to the link
        ("oai:arXiv.org:not-an-id", "https://arxiv.org/abs/1912.02292v1", ("1912.02292", 1)),
        ("oai:arXiv.org:1912.022921v1", "https://arxiv.org/abs/1912.02292v1", ("1912.02292", 1)),
        # a version mark without its number: the id without a version
        ("oai:arXiv.org:1912.02292v", "https://arxiv.org/abs/1912.02292", ("1912.02292", None)),
        ("oai:arXiv.org:1912.02292v2", "https://arxiv.org/abs/1912.02292v2", ("1912.02292", 2)),
    ],
)
def test_the_guid_id_is_checked(guid: str, link: str, expected: tuple[str, int | None]) -> None:
    (item,) = parse(_one_item_listing(guid, link)).items
    assert (item.arxiv_id, item.version) == expected


def test_an_item_whose_guid_and_link_name_no_paper_is_skipped() -> None:
    result = parse(_one_item_listing("oai:arXiv.org:not-an-id", "https://example.org/post"))
    assert result.items == ()
    assert result.warnings[0] == "item without an oai:arXiv.org id skipped: 'oai:arXiv.org:not-an-id'"
