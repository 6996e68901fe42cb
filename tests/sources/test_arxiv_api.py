"""`arxiv_api` on every recorded API response in ../shared/fixtures/arxiv_api (both Atom dialects)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ConfigError, ParseError
from dltheory_digest.models import ItemKind, ParseResult, RawPage
from dltheory_digest.sources import REGISTRY, arxiv_api
from dltheory_digest.sources.arxiv_api import KIND, ArxivApiOptions, id_list_url, parse_feed, parse_iso
from dltheory_digest.sources.base import PlanContext
from dltheory_digest.weeks import Week

pytestmark = pytest.mark.shared


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def load(shared_dir: Path, name: str) -> tuple[bytes, str]:
    """Body bytes and request URL of a recording (.json wraps the body as latin-1 text)."""
    path = shared_dir / "fixtures" / "arxiv_api" / name
    raw = path.read_bytes()
    if name.endswith(".json"):
        wrapper = json.loads(raw)
        return wrapper["body"].encode("latin-1"), wrapper["url"]
    return raw, ""


def parse_recording(shared_dir: Path, name: str, **options: object) -> ParseResult:
    body, url = load(shared_dir, name)
    return KIND.parse(RawPage("api-test", url, 200, body), ArxivApiOptions.model_validate(options))


def versions(result: ParseResult) -> list[tuple[str | None, int | None]]:
    return [(item.arxiv_id, item.version) for item in result.items]


NEW_FORMAT = [
    "lukasschwab_id_0000.0000_s0_m100_8b51d9633a68",
    "lukasschwab_id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af",
    "lukasschwab_id_1605.08386_s0_m100_199195aa31ad",
    "lukasschwab_id_2104.12255v1_s0_m100_6ae69987ffe1",
    "lukasschwab_id_abc_s0_m100_b79c8dcf6bc3",
    "lukasschwab_id_astro-ph_0601001_s0_m100_3150dca9dc76",
    "lukasschwab_q_testing_s0_m100_cfe7536492ca",
    "lukasschwab_q_testing_s0_m10_bc5a6c384fe9",
]


def test_every_recording_is_covered(shared_dir: Path) -> None:
    recorded = {
        p.name for p in (shared_dir / "fixtures" / "arxiv_api").iterdir() if not p.name.endswith(".txt")
    }
    covered = {f"{stem}.{ext}" for stem in NEW_FORMAT for ext in ("xml", "json")} | {
        "lukasschwab_2016_au_del_maestro.xml",
        "lukasschwab_2016_au_del_maestro_AND_ti_checkerboard.xml",
        "lukasschwab_2016_id_list_1111.2011v2.xml",
        "zoia_id_1601.00001_2020.xml",
    }
    assert recorded == covered


@pytest.mark.parametrize("stem", NEW_FORMAT)
def test_json_wrapper_and_xml_give_the_same_items(shared_dir: Path, stem: str) -> None:
    from_json = parse_feed(load(shared_dir, f"{stem}.json")[0], "s")
    from_xml = parse_feed(load(shared_dir, f"{stem}.xml")[0], "s")
    assert from_json.items == from_xml.items
    assert (from_json.error, from_json.total_results) == (from_xml.error, from_xml.total_results)


# --- 2016-style (old) Atom -----------------------------------------------------------------


def test_old_format_id_list_with_version(shared_dir: Path) -> None:
    result = parse_recording(shared_dir, "lukasschwab_2016_id_list_1111.2011v2.xml")
    assert result.error is None and result.total_results == 1 and result.next_urls == ()
    (item,) = result.items
    assert item.kind is ItemKind.PAPER
    assert (item.arxiv_id, item.version) == ("1111.2011", 2)
    # the title wraps over two lines in the feed
    assert (
        item.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert item.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert item.published == utc("2011-11-08T18:48:36Z")  # v1
    assert item.updated == utc("2012-04-02T12:38:54Z")  # this version
    assert item.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert item.primary_category == "cond-mat.str-el"
    assert item.doi == "10.1103/physrevb.85.115117"
    assert item.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert item.comment == "8 pages, 3 figures. Published version"
    assert item.url == "https://arxiv.org/abs/1111.2011"
    assert item.lang == "en"
    assert item.text.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert "\n" not in item.text and "  " not in item.text


def test_old_format_author_search_mixes_old_and_new_ids(shared_dir: Path) -> None:
    result = parse_recording(shared_dir, "lukasschwab_2016_au_del_maestro.xml")
    assert result.total_results == 31
    assert versions(result) == [
        ("1201.4869", 1),
        ("cond-mat/0412498", 1),
        ("cond-mat/0603029", 1),
        ("1005.5383", 1),
        ("1303.6954", 2),
        ("1312.6177", 1),
        ("1412.6529", 2),
        ("cond-mat/0607501", 2),
        ("cond-mat/0702661", 2),
        ("0807.2873", 1),
    ]
    local = result.items[4]
    assert local.title == "Local Superfluidity at the Nanoscale"
    assert local.authors == ("B. Kulchytskyy", "G. Gervais", "A. Del Maestro")
    assert (local.published, local.updated) == (utc("2013-03-27T20:00:04Z"), utc("2013-09-03T01:06:36Z"))
    assert local.categories == ("cond-mat.mes-hall", "cond-mat.stat-mech")
    assert local.doi == "10.1103/physrevb.88.064512"
    assert local.journal_ref == "Physical Review B 88, 064512 (2013)"
    assert result.items[3].journal_ref == "Physical Review B 82, 060515(R) (2010)"
    assert result.items[3].primary_category == "cond-mat.stat-mech"
    assert sum(len(item.authors) for item in result.items) == 24
    # no query in the page URL: nothing to page from
    assert result.next_urls == ()


def test_old_format_boolean_query(shared_dir: Path) -> None:
    result = parse_recording(shared_dir, "lukasschwab_2016_au_del_maestro_AND_ti_checkerboard.xml")
    (item,) = result.items
    assert (item.arxiv_id, item.version) == ("cond-mat/0603029", 1)
    assert (
        item.title
        == "From stripe to checkerboard order on the square lattice in the presence of quenched disorder"
    )
    assert item.authors == ("Adrian Del Maestro", "Bernd Rosenow", "Subir Sachdev")
    assert item.published == item.updated == utc("2006-03-02T02:22:45Z")
    assert item.categories == ("cond-mat.str-el", "cond-mat.supr-con")
    assert item.doi == "10.1103/physrevb.74.024520"
    assert item.comment == "10 pages, 11 figures; added reference"


def test_old_format_zoia_recording(shared_dir: Path) -> None:
    result = parse_recording(shared_dir, "zoia_id_1601.00001_2020.xml")
    (item,) = result.items
    assert (item.arxiv_id, item.version) == ("1601.00001", 1)
    assert (
        item.title == "Inelastic effects in molecular transport junctions: The probe technique at high bias"
    )
    assert item.authors == ("Michael Kilgour", "Dvira Segal")
    assert item.published == utc("2015-12-26T21:19:45Z")
    assert item.categories == ("cond-mat.mes-hall",)
    assert item.doi == "10.1063/1.4944470"
    assert item.journal_ref == "J. Chem. Phys. 144, 124107 (2016)"
    assert item.comment is None
    # TeX escapes in the abstract stay as written
    assert 'Landauer-B\\"uttiker' in item.text


# --- 2026 Atom ------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["xml", "json"])
def test_new_format_id_list_of_two_with_one_unknown(shared_dir: Path, ext: str) -> None:
    result = parse_recording(shared_dir, f"lukasschwab_id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.{ext}")
    assert result.error is None and result.total_results == 1
    (item,) = result.items  # 0808.05394 does not exist: arXiv just leaves it out
    assert (item.arxiv_id, item.version) == ("1707.08567", 1)
    assert item.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    assert len(item.authors) == 34
    assert item.authors[0] == "Kees A. Schouhamer Immink"
    assert item.authors[-2:] == ("Dirk Wübben", "Hirosuke Yamamoto")  # UTF-8 survives the latin-1 wrapper
    assert item.published == item.updated == utc("2017-07-27T08:18:33Z")
    assert (item.categories, item.primary_category) == (("cs.IT",), "cs.IT")
    assert item.comment == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    assert item.doi is None and item.journal_ref is None
    assert result.next_urls == ()  # an id_list call is never paged


@pytest.mark.parametrize("ext", ["xml", "json"])
def test_new_format_single_id(shared_dir: Path, ext: str) -> None:
    result = parse_recording(shared_dir, f"lukasschwab_id_1605.08386_s0_m100_199195aa31ad.{ext}")
    (item,) = result.items
    assert (item.arxiv_id, item.version) == ("1605.08386", 1)
    assert item.title == "Heat-bath random walks with Markov bases"
    assert item.authors == ("Caprice Stanley", "Tobias Windisch")
    assert item.published == item.updated == utc("2016-05-26T17:59:46Z")
    assert item.categories == ("math.CO", "math.ST")
    assert item.primary_category == "math.CO"
    assert item.comment == "20 pages, 3 figures"


@pytest.mark.parametrize("ext", ["xml", "json"])
def test_new_format_title_that_is_falsy(shared_dir: Path, ext: str) -> None:
    result = parse_recording(shared_dir, f"lukasschwab_id_2104.12255v1_s0_m100_6ae69987ffe1.{ext}")
    (item,) = result.items
    assert (item.arxiv_id, item.version, item.title) == ("2104.12255", 1, "0")
    assert item.authors == ("Quan Thoi Minh Nguyen",)
    assert item.categories == ("cs.CR",)
    assert item.published == utc("2021-04-20T16:07:14Z")


@pytest.mark.parametrize("ext", ["xml", "json"])
def test_new_format_old_style_id(shared_dir: Path, ext: str) -> None:
    result = parse_recording(shared_dir, f"lukasschwab_id_astro-ph_0601001_s0_m100_3150dca9dc76.{ext}")
    (item,) = result.items
    assert (item.arxiv_id, item.version) == ("astro-ph/0601001", 1)
    assert item.url == "https://arxiv.org/abs/astro-ph/0601001"
    assert item.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III")
    assert item.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert item.journal_ref == "ActaAstron.56:1-50,2006"
    assert (item.categories, item.primary_category) == (("astro-ph",), "astro-ph")
    assert item.published == utc("2006-01-02T14:57:58Z")
    assert "Gould & Morgan (2003)" in item.text  # entities decoded


@pytest.mark.parametrize("ext", ["xml", "json"])
def test_error_feed_is_an_error_not_an_item(shared_dir: Path, ext: str) -> None:
    result = parse_recording(shared_dir, f"lukasschwab_id_abc_s0_m100_b79c8dcf6bc3.{ext}")
    assert result.items == ()
    assert result.error == "arXiv API error: incorrect id format for abc"
    assert result.next_urls == ()


@pytest.mark.parametrize("ext", ["xml", "json"])
def test_empty_result_is_empty_not_an_error(shared_dir: Path, ext: str) -> None:
    result = parse_recording(shared_dir, f"lukasschwab_id_0000.0000_s0_m100_8b51d9633a68.{ext}")
    assert result.items == () and result.error is None
    assert result.total_results == 0
    assert result.warnings == ("the arXiv API returned no results for this query",)


def test_search_page_of_100(shared_dir: Path) -> None:
    result = parse_recording(shared_dir, "lukasschwab_q_testing_s0_m100_cfe7536492ca.json", max_results=1000)
    assert result.total_results == 214881
    assert len(result.items) == 100
    assert len({item.arxiv_id for item in result.items}) == 100
    assert versions(result)[:3] == [("2202.12139", 1), ("2405.13786", 1), ("2005.14124", 2)]
    assert ("2409.05654", 9) in versions(result)
    assert versions(result)[-1] == ("gr-qc/0103067", 1)
    assert sum(1 for item in result.items if "/" in (item.arxiv_id or "")) == 3  # cs/, hep-ph/, gr-qc/
    first = result.items[0]
    assert (
        first.title
        == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.categories == ("cs.SE", "cs.LG")
    assert first.doi == "10.1109/icstw55395.2022.00035"
    assert result.items[1].authors[0] == "Aurora Ramírez"
    last = result.items[-1]
    assert last.title == (
        "Principles of Equivalence: Their Role in Gravitation Physics and Experiments that Test Them"
    )
    assert last.authors == ("Mark P. Haugan", "C. Lämmerzahl")
    assert last.doi == "10.1007/3-540-40988-2_10"
    assert last.journal_ref == "Lect.Notes Phys.562:195-212,2001"
    e_values = next(item for item in result.items if item.arxiv_id == "2409.05654")
    assert e_values.title == "Continuous Testing: Unifying Tests and E-values"
    assert (e_values.published, e_values.updated) == (
        utc("2024-09-09T14:21:19Z"),
        utc("2025-05-08T20:52:40Z"),
    )
    assert all(item.published and item.updated and item.published <= item.updated for item in result.items)
    # next page: same query, start moved by the page size
    (next_url,) = result.next_urls
    query = parse_qs(urlsplit(next_url).query, keep_blank_values=True)
    assert query["search_query"] == ["testing"]
    assert (query["start"], query["max_results"]) == (["100"], ["100"])
    assert (query["sortBy"], query["sortOrder"]) == (["relevance"], ["descending"])


def test_first_ten_agree_across_page_sizes(shared_dir: Path) -> None:
    small = parse_recording(shared_dir, "lukasschwab_q_testing_s0_m10_bc5a6c384fe9.xml")
    large = parse_recording(shared_dir, "lukasschwab_q_testing_s0_m100_cfe7536492ca.xml")
    assert small.items == large.items[:10]


@pytest.mark.parametrize(
    ("max_results", "expected"),
    [(200, ("10", "10")), (15, ("10", "5")), (10, None)],
)
def test_paging_stops_at_max_results(
    shared_dir: Path, max_results: int, expected: tuple[str, str] | None
) -> None:
    result = parse_recording(
        shared_dir, "lukasschwab_q_testing_s0_m10_bc5a6c384fe9.json", max_results=max_results
    )
    if expected is None:
        assert result.next_urls == ()
        return
    (next_url,) = result.next_urls
    query = parse_qs(urlsplit(next_url).query)
    assert (query["start"][0], query["max_results"][0]) == expected


def test_paging_stops_at_total_results(shared_dir: Path) -> None:
    body, _ = load(shared_dir, "lukasschwab_2016_au_del_maestro.xml")  # 31 results in all
    page = RawPage(
        "s",
        "https://export.arxiv.org/api/query?search_query=au:del_maestro&start=20&max_results=10",
        200,
        body,
    )
    result = KIND.parse(page, ArxivApiOptions(max_results=1000))
    (next_url,) = result.next_urls
    assert parse_qs(urlsplit(next_url).query)["max_results"] == ["1"]
    page = RawPage(
        "s",
        "https://export.arxiv.org/api/query?search_query=au:del_maestro&start=30&max_results=10",
        200,
        body,
    )
    assert KIND.parse(page, ArxivApiOptions(max_results=1000)).next_urls == ()


def test_empty_page_inside_the_results_stops_with_a_warning(shared_dir: Path) -> None:
    body, _ = load(shared_dir, "lukasschwab_id_0000.0000_s0_m100_8b51d9633a68.xml")
    body = body.replace(b"<opensearch:totalResults>0<", b"<opensearch:totalResults>500<")
    page = RawPage(
        "s", "https://export.arxiv.org/api/query?search_query=all:kernel&start=100&max_results=100", 200, body
    )
    result = KIND.parse(page, ArxivApiOptions(max_results=1000))
    assert result.next_urls == ()
    assert any("empty page at start=100" in warning for warning in result.warnings)


def test_plan_builds_the_first_page_url() -> None:
    spec = SourceSpec(
        id="ntk",
        kind="arxiv_api",
        query='abs:"neural tangent kernel" AND cat:cs.LG',
        options={"max_results": 50, "page_size": 100},
    )
    (url,) = KIND.plan(spec, KIND.options_for(spec), PlanContext())
    assert url.startswith("https://export.arxiv.org/api/query?")
    query = parse_qs(urlsplit(url).query)
    assert query["search_query"] == ['abs:"neural tangent kernel" AND cat:cs.LG']
    assert (query["start"], query["max_results"]) == (["0"], ["50"])
    assert (query["sortBy"], query["sortOrder"]) == (["submittedDate"], ["descending"])
    assert REGISTRY["arxiv_api"] is KIND and KIND.arxiv


def test_plan_without_a_query_is_a_config_error() -> None:
    spec = SourceSpec(id="nothing", kind="arxiv_api")
    with pytest.raises(ConfigError, match=r"'nothing'.*query"):
        KIND.plan(spec, KIND.options_for(spec), PlanContext())


def test_id_list_url_dedupes_and_sizes_the_call() -> None:
    url = id_list_url(["1806.07572", "math/0309136", "1806.07572"], base="http://127.0.0.1:9/api/query")
    assert url.startswith("http://127.0.0.1:9/api/query?")
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert query["id_list"] == ["1806.07572,math/0309136"]
    assert query["max_results"] == ["2"]


def test_not_xml_is_a_parse_error_naming_the_source() -> None:
    with pytest.raises(ParseError, match=r"\[my-api\].*not a readable"):
        parse_feed(b"<html><body>Service unavailable", "my-api")
    with pytest.raises(ParseError, match="not an Atom feed"):
        parse_feed(b"<rss version='2.0'><channel/></rss>", "my-api")


def test_plan_can_restrict_the_query_to_the_week_window() -> None:
    spec = SourceSpec(
        id="theory",
        kind="arxiv_api",
        query="cat:cs.LG OR cat:stat.ML",
        options={"within_window": True, "max_results": 2000, "page_size": 500},
    )
    berlin = dt.timezone(dt.timedelta(hours=1))
    ctx = PlanContext(
        window_start=dt.datetime(2026, 11, 16, 0, 0, tzinfo=berlin),
        window_end=dt.datetime(2026, 11, 23, 0, 0, tzinfo=berlin),
    )
    (url,) = KIND.plan(spec, KIND.options_for(spec), ctx)
    query = parse_qs(urlsplit(url).query)
    # arXiv wants GMT minutes
    assert query["search_query"] == [
        "(cat:cs.LG OR cat:stat.ML) AND submittedDate:[202611152300 TO 202611222259]"
    ]
    assert query["max_results"] == ["500"]
    since = PlanContext(since=dt.date(2026, 1, 5), window_end=dt.datetime(2026, 1, 12, tzinfo=dt.UTC))
    (url,) = KIND.plan(spec, KIND.options_for(spec), since)
    assert parse_qs(urlsplit(url).query)["search_query"] == [
        "(cat:cs.LG OR cat:stat.ML) AND submittedDate:[202601050000 TO 202601112359]"
    ]
    # the week's revisions: filtered on the latest version's date
    revisions = spec.model_copy(update={"options": {**spec.options, "window_by": "lastUpdatedDate"}})
    (url,) = KIND.plan(revisions, KIND.options_for(revisions), ctx)
    assert parse_qs(urlsplit(url).query)["search_query"] == [
        "(cat:cs.LG OR cat:stat.ML) AND lastUpdatedDate:[202611152300 TO 202611222259]"
    ]


def test_consecutive_weeks_ask_for_ranges_that_do_not_overlap() -> None:
    """arXiv's `[a TO b]` includes b: a paper submitted at Monday 00:00 belongs to the week that
    Monday starts, and the week before must not ask for it too."""
    from dltheory_digest.sources.arxiv_api import dated_between

    zone = ZoneInfo("Asia/Shanghai")
    earlier, later = Week.parse("2026-W47"), Week.parse("2026-W48")
    ranges = []
    for week in (earlier, later):
        start, end = week.window(zone)
        span = dated_between(PlanContext(window_start=start, window_end=end))
        assert span is not None
        low, high = span.removeprefix("submittedDate:[").removesuffix("]").split(" TO ")
        ranges.append((low, high))
    # Monday 2026-11-23 00:00 in Shanghai is 16:00 GMT on the Sunday before
    assert ranges[0] == ("202611151600", "202611221559")
    assert ranges[1][0] == "202611221600"
    assert ranges[0][1] < ranges[1][0]


def test_entry_dates_with_an_offset_or_none_are_given_in_utc() -> None:
    from dltheory_digest.sources.arxiv_api import parse_iso

    assert parse_iso("2006-01-02T09:57:58-05:00") == dt.datetime(2006, 1, 2, 14, 57, 58, tzinfo=dt.UTC)
    shifted = parse_iso("2006-01-02T09:57:58-05:00")
    assert shifted is not None and shifted.tzinfo is dt.UTC
    assert parse_iso("2006-01-02T14:57:58") == dt.datetime(2006, 1, 2, 14, 57, 58, tzinfo=dt.UTC)
    assert parse_iso("not a date") is None


# One misdated or unreadable entry must not lose the page (review r1, finding 2)

MISDATED = "arxiv_api_misdated_entries.xml"


def parse_fixture(fixtures_dir: Path, name: str) -> ParseResult:
    content = (fixtures_dir / "sources" / name).read_bytes()
    return KIND.parse(RawPage("api-test", "", 200, content), ArxivApiOptions())


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-14:00",  # no UTC moment: past the calendar's end
        "0001-01-01T00:00:00+14:00",  # ... before its start
        "0000-01-01T00:00:00Z",  # year 0
        "2024-02-31T10:00:00Z",
        "2024-01-01T10:00:00+99:99",
        "-2024-01-01T00:00:00Z",
        "",
        None,
    ],
)
def test_parse_iso_has_no_date_for_an_impossible_one(text: str | None) -> None:
    assert parse_iso(text) is None


def test_parse_iso_converts_an_offset() -> None:
    assert parse_iso(" 2021-02-26T13:56:54-05:00 ") == utc("2021-02-26T18:56:54Z")
    assert parse_iso("9999-12-31T10:00:00Z") == utc("9999-12-31T10:00:00Z")


def test_misdated_entries_keep_their_papers_undated(fixtures_dir: Path) -> None:
    result = parse_fixture(fixtures_dir, MISDATED)
    dates = {item.arxiv_id: (item.published, item.updated) for item in result.items}
    assert dates == {
        "2106.10165": (None, utc("2021-08-24T17:58:27Z")),
        "1806.07572": (None, None),
        "1611.03530": (None, None),
        "2103.00065": (utc("2021-02-26T18:56:54Z"), utc("2022-11-08T03:40:43Z")),
    }
    assert result.warnings == ()
    assert result.items[0].authors == ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")


def test_an_entry_that_cannot_be_read_is_left_out_with_a_warning(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_abs_url = arxiv_api.abs_url

    def abs_url(arxiv_id: str, version: int | None = None) -> str:
        if arxiv_id == "1806.07572":  # whatever one entry trips over
            raise RuntimeError("simulated failure")
        return real_abs_url(arxiv_id, version)

    monkeypatch.setattr(arxiv_api, "abs_url", abs_url)
    result = parse_fixture(fixtures_dir, MISDATED)
    assert [item.arxiv_id for item in result.items] == ["2106.10165", "1611.03530", "2103.00065"]
    assert result.warnings == (
        "entry 2 'http://arxiv.org/abs/1806.07572v4' skipped: could not be read "
        "(RuntimeError: simulated failure)",
    )


def test_a_page_whose_every_entry_fails_is_a_parse_error(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def abs_url(arxiv_id: str, version: int | None = None) -> str:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(arxiv_api, "abs_url", abs_url)
    with pytest.raises(ParseError, match="none of the page's 4 entries could be read"):
        parse_fixture(fixtures_dir, MISDATED)


@pytest.mark.parametrize(
    "entry",
    [
        "{id: arxiv-x, kind: arxiv_api, name: arXiv x, lang: en, options: {within_window: true}}",
        "{id: arxiv-x, kind: arxiv_api}",
    ],
)
def test_a_source_with_no_query_and_no_url_is_refused_at_load(tmp_path: Path, entry: str) -> None:
    from dltheory_digest.config import load_sources

    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert str(info.value).startswith("sources.yaml: source 'arxiv-x': field 'query': arxiv_api needs")
    assert (info.value.path, info.value.source_id, info.value.field) == (str(path), "arxiv-x", "query")
    # a query, a search_query option or a url each make a source that can be planned
    for enough in (
        "query: 'cat:cs.LG'",
        "options: {search_query: 'cat:cs.LG'}",
        "url: 'http://127.0.0.1:9/api'",
    ):
        path.write_text(f"sources:\n  - {{id: arxiv-x, kind: arxiv_api, {enough}}}\n", encoding="utf-8")
        assert load_sources(path)[0].id == "arxiv-x"
