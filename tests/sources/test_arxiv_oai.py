"""`arxiv_oai` on OAI-PMH responses written in arXiv's formats (tests/fixtures/arxiv_oai)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ParseError
from dltheory_digest.models import ItemKind, ParseResult, RawPage
from dltheory_digest.sources import REGISTRY, arxiv_oai
from dltheory_digest.sources.arxiv_oai import KIND, OAI_BASE, ArxivOaiOptions
from dltheory_digest.sources.base import PlanContext
from dltheory_digest.weeks import Week

FIRST_URL = "https://arxiv.org/oai?verb=ListRecords&metadataPrefix=arXiv&set=cs&from=2026-11-16"


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def parse(fixtures_dir: Path, name: str, url: str = FIRST_URL, **options: object) -> ParseResult:
    content = (fixtures_dir / "arxiv_oai" / name).read_bytes()
    return KIND.parse(RawPage("arxiv-oai", url, 200, content), ArxivOaiOptions.model_validate(options))


def test_first_page_items_deleted_record_and_resumption(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir, "listrecords_arxiv_page1.xml")
    assert result.error is None
    ntk, rethinking = result.items
    assert ntk.kind is ItemKind.PAPER
    assert (ntk.arxiv_id, ntk.version) == ("1806.07572", None)  # the arXiv format has no versions
    assert ntk.title == "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    assert ntk.authors == ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")
    assert ntk.categories == ("cs.LG", "cs.NE", "math.PR", "stat.ML")
    assert ntk.primary_category == "cs.LG"
    assert ntk.published == day("2018-06-20")
    assert ntk.url == "https://arxiv.org/abs/1806.07572"
    assert ntk.extra == (("license", "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"),)
    assert rethinking.title == "Understanding deep learning requires rethinking generalization"
    assert rethinking.authors == (
        "Chiyuan Zhang",
        "Samy Bengio",
        "Moritz Hardt",
        "Benjamin Recht",
        "Oriol Vinyals",
    )
    assert result.warnings == ("1 deleted record(s) skipped",)
    assert result.total_results == 5
    (next_url,) = result.next_urls
    # a resumed request carries the verb and the token only
    assert next_url.startswith("https://arxiv.org/oai?")
    assert parse_qs(urlsplit(next_url).query) == {
        "verb": ["ListRecords"],
        "resumptionToken": ["6934187|1001"],
    }
    assert dict(result.cursor) == {"from": "2026-11-23"}


def test_last_page_has_an_empty_token_and_old_style_ids(fixtures_dir: Path) -> None:
    result = parse(
        fixtures_dir, "listrecords_arxiv_page2.xml", url=f"{OAI_BASE}?verb=ListRecords&resumptionToken=x"
    )
    assert [item.arxiv_id for item in result.items] == ["1902.06720", "1912.02292", "hep-th/9711200"]
    assert result.next_urls == ()
    wide, double, maldacena = result.items
    assert wide.title == "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent"
    assert wide.authors[2] == "Samuel S. Schoenholz" and len(wide.authors) == 7
    assert wide.categories == ("stat.ML", "cs.LG")
    assert double.title == "Deep Double Descent: Where Bigger Models and More Data Hurt"
    assert double.authors[-1] == "Ilya Sutskever"
    assert maldacena.authors == ("Juan M. Maldacena",)
    assert maldacena.doi == "10.1023/a:1026654312961"
    assert maldacena.journal_ref == "Adv.Theor.Math.Phys.2:231-252,1998"
    assert maldacena.published == day("1997-11-27")


def test_category_filter(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir, "listrecords_arxiv_page2.xml", categories=["cs.NE", "hep-th"])
    assert [item.arxiv_id for item in result.items] == ["1912.02292", "hep-th/9711200"]


def test_arxiv_raw_gives_versions(fixtures_dir: Path) -> None:
    (item,) = parse(fixtures_dir, "listrecords_arxivraw.xml").items
    assert (item.arxiv_id, item.version) == ("1806.07572", 2)
    assert item.authors == ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")
    assert item.published == day("2018-06-20")
    assert item.updated == day("2018-12-03")


def test_dublin_core(fixtures_dir: Path) -> None:
    (item,) = parse(fixtures_dir, "listrecords_oai_dc.xml").items
    assert item.arxiv_id == "1611.03530"
    assert item.authors == ("Chiyuan Zhang", "Samy Bengio", "Moritz Hardt", "Benjamin Recht", "Oriol Vinyals")
    assert item.comment == "fixture comment"
    assert item.text == "Fixture text: networks fit random labels."
    assert (item.published, item.updated) == (day("2016-11-10"), day("2017-02-26"))


def test_no_records_is_empty_not_an_error(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir, "error_norecordsmatch.xml")
    assert result.items == () and result.error is None
    assert result.warnings == ("no records changed in this set since the `from` date",)
    assert dict(result.cursor) == {"from": "2026-11-23"}


def test_bad_resumption_token_is_an_error(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir, "error_badresumptiontoken.xml")
    assert result.items == () and result.next_urls == ()
    assert result.error == (
        "OAI-PMH error badResumptionToken: The value of the resumptionToken argument is invalid or expired."
    )


def test_not_oai_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"\[arxiv-oai\] not an OAI-PMH response"):
        KIND.parse(
            RawPage("arxiv-oai", FIRST_URL, 200, b"<feed xmlns='http://www.w3.org/2005/Atom'/>"),
            ArxivOaiOptions(),
        )


@pytest.mark.parametrize(
    ("ctx", "expected_from"),
    [
        (PlanContext(since=dt.date(2026, 1, 5), cursor={"from": "2026-11-23"}), "2026-01-05"),
        (PlanContext(cursor={"from": "2026-11-23"}), "2026-11-23"),
        (PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC"))), "2026-11-16"),
        # the week starts on Sunday 16:00 UTC there: the harvest starts on that UTC day
        (PlanContext(*Week.parse("2026-W47").window(ZoneInfo("Asia/Shanghai"))), "2026-11-15"),
        (PlanContext(*Week.parse("2026-W47").window(ZoneInfo("America/Los_Angeles"))), "2026-11-16"),
        (PlanContext(), None),
    ],
)
def test_plan_takes_from_since_then_cursor_then_window(ctx: PlanContext, expected_from: str | None) -> None:
    spec = SourceSpec(id="arxiv-oai", kind="arxiv_oai", options={"set": "cs"})
    (url,) = KIND.plan(spec, KIND.options_for(spec), ctx)
    assert url.startswith(OAI_BASE + "?")
    query = parse_qs(urlsplit(url).query)
    assert (
        query["verb"] == ["ListRecords"] and query["metadataPrefix"] == ["arXiv"] and query["set"] == ["cs"]
    )
    assert query.get("from") == ([expected_from] if expected_from else None)


def test_plan_honours_a_configured_endpoint() -> None:
    spec = SourceSpec(
        id="oai", kind="arxiv_oai", url="http://127.0.0.1:8123/oai", options={"metadata_prefix": "oai_dc"}
    )
    (url,) = KIND.plan(spec, KIND.options_for(spec), PlanContext())
    assert url == "http://127.0.0.1:8123/oai?verb=ListRecords&metadataPrefix=oai_dc"
    assert REGISTRY["arxiv_oai"] is KIND and KIND.arxiv


def test_incremental_harvest_follows_resumption_tokens_over_http(fixtures_dir: Path) -> None:
    """plan -> fetch -> parse -> next_urls, as the collector runs it, against a local OAI-PMH server."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from dltheory_digest.config import Politeness
    from dltheory_digest.fetch import PoliteClient

    pages = {
        ("2026-11-16", None): "listrecords_arxiv_page1.xml",
        (None, "6934187|1001"): "listrecords_arxiv_page2.xml",
    }
    seen: list[dict[str, list[str]]] = []

    class Oai(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            seen.append(query)
            key = (query.get("from", [None])[0], query.get("resumptionToken", [None])[0])
            name = pages.get(key, "error_badresumptiontoken.xml")
            body = (fixtures_dir / "arxiv_oai" / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Oai)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    spec = SourceSpec(
        id="arxiv-oai",
        kind="arxiv_oai",
        url=f"http://127.0.0.1:{server.server_address[1]}/oai",
        options={"set": "cs"},
    )
    options = KIND.options_for(spec)
    harvested: list[str] = []
    cursor: dict[str, str] = {}
    try:
        with PoliteClient(respect_robots=False, max_retries=0) as client:
            queue = list(KIND.plan(spec, options, PlanContext(cursor={"from": "2026-11-16"})))
            while queue:
                page = client.get(queue.pop(0), source_id=spec.id, politeness=Politeness(min_interval=0.0))
                result = KIND.parse(page, options)
                assert result.error is None
                harvested += [item.arxiv_id or "" for item in result.items]
                cursor.update(result.cursor)
                queue += result.next_urls
    finally:
        server.shutdown()
        server.server_close()
    assert harvested == ["1806.07572", "1611.03530", "1902.06720", "1912.02292", "hep-th/9711200"]
    assert [q.get("resumptionToken") for q in seen] == [None, ["6934187|1001"]]
    assert seen[0]["set"] == ["cs"] and seen[0]["from"] == ["2026-11-16"]
    assert cursor == {"from": "2026-11-23"}  # the next run starts from this harvest's server date


def test_datestamps_with_an_offset_are_given_in_utc() -> None:
    from dltheory_digest.sources.arxiv_oai import _date

    assert _date("2024-03-01T10:00:00+08:00") == dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)
    moment = _date("2024-03-01T10:00:00+08:00")
    assert moment is not None and moment.tzinfo is dt.UTC
    assert _date("2024-03-01") == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


# --- `until`: a harvest keeps to its week, and the cursor loses nothing ----------------------


@pytest.mark.parametrize(
    ("ctx", "expected"),
    [
        (PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC"))), ("2026-11-16", "2026-11-22")),
        # ahead of UTC the week is Sunday 16:00 UTC to Sunday 16:00 UTC
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("Asia/Shanghai"))),
            ("2026-11-15", "2026-11-22"),
        ),
        # behind UTC it ends on Monday 08:00 UTC: that Monday is the week's last UTC day
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("America/Los_Angeles"))),
            ("2026-11-16", "2026-11-23"),
        ),
        # a backfill reaches back, never past the week
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), since=dt.date(2026, 11, 2)),
            ("2026-11-02", "2026-11-22"),
        ),
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), cursor={"from": "2026-11-19"}),
            ("2026-11-19", "2026-11-22"),
        ),
        # a cursor past the week (a rerun of an earlier week): the week's own days, not from > until
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), cursor={"from": "2026-11-29"}),
            ("2026-11-16", "2026-11-22"),
        ),
        (PlanContext(cursor={"from": "2026-11-23"}), ("2026-11-23", None)),  # no window: open-ended
    ],
)
def test_plan_bounds_the_harvest_by_the_weeks_last_utc_day(
    ctx: PlanContext, expected: tuple[str, str | None]
) -> None:
    spec = SourceSpec(id="arxiv-oai", kind="arxiv_oai", options={"set": "cs"})
    (url,) = KIND.plan(spec, KIND.options_for(spec), ctx)
    query = parse_qs(urlsplit(url).query)
    assert (query["from"][0], query.get("until", [None])[0]) == expected


def test_a_harvest_cut_by_until_leaves_its_until_as_the_cursor(fixtures_dir: Path) -> None:
    # the server answered on 2026-11-23: the next harvest starts on the 22nd, not the 23rd
    cut = parse(fixtures_dir, "listrecords_arxiv_page1.xml", url=FIRST_URL + "&until=2026-11-22")
    assert dict(cut.cursor) == {"from": "2026-11-22"}
    # a harvest while its week is under way starts the next one on the server's day
    early = parse(fixtures_dir, "listrecords_arxiv_page1.xml", url=FIRST_URL + "&until=2026-11-29")
    assert dict(early.cursor) == {"from": "2026-11-23"}
    # a resumed page leaves the first page's cursor as it is
    resumed = parse(
        fixtures_dir, "listrecords_arxiv_page2.xml", url=f"{OAI_BASE}?verb=ListRecords&resumptionToken=x"
    )
    assert resumed.cursor == ()


def _oai_records(fixtures_dir: Path, datestamps: dict[str, str]) -> list[tuple[str, bytes]]:
    """The records of the two arXiv-format pages, redated (header datestamp) as `datestamps` says."""
    from lxml import etree

    oai = "{http://www.openarchives.org/OAI/2.0/}"
    records: list[tuple[str, bytes]] = []
    for name in ("listrecords_arxiv_page1.xml", "listrecords_arxiv_page2.xml"):
        root = etree.fromstring((fixtures_dir / "arxiv_oai" / name).read_bytes())
        for record in root.iter(oai + "record"):
            identifier = record.findtext(f"{oai}header/{oai}identifier") or ""
            arxiv_id = identifier.removeprefix("oai:arXiv.org:")
            if arxiv_id in datestamps:
                stamp = record.find(f"{oai}header/{oai}datestamp")
                assert stamp is not None
                stamp.text = datestamps[arxiv_id]
                records.append((datestamps[arxiv_id], etree.tostring(record)))
    return records


def test_consecutive_weekly_harvests_run_late_lose_nothing_and_take_nothing_early(
    fixtures_dir: Path,
) -> None:
    """Week 47 is harvested on Wednesday of week 48, then week 48: a local OAI-PMH server that
    honours from/until (inclusive days) answers with the fixtures' records, redated."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from dltheory_digest.fetch import PoliteClient
    from dltheory_digest.pipeline import collect_source

    datestamps = {
        "1806.07572": "2026-11-17",
        "1611.03530": "2026-11-20",
        "1902.06720": "2026-11-22",  # Sunday, the last day of week 47
        "1912.02292": "2026-11-23",  # week 48
        "hep-th/9711200": "2026-11-24",
    }
    records = _oai_records(fixtures_dir, datestamps)
    asked: list[dict[str, list[str]]] = []

    class Oai(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            asked.append(query)
            start, until = query.get("from", [""])[0], query.get("until", ["9999-12-31"])[0]
            if start > until:
                inner = '<error code="badArgument">from is after until</error>'
            else:
                chosen = b"".join(r for stamp, r in records if start <= stamp <= until).decode()
                inner = f"<ListRecords>{chosen}</ListRecords>" if chosen else '<error code="noRecordsMatch"/>'
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
                "<responseDate>2026-11-25T09:00:00Z</responseDate>"
                f'<request verb="ListRecords">https://arxiv.org/oai</request>{inner}</OAI-PMH>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Oai)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    spec = SourceSpec(
        id="arxiv-oai",
        kind="arxiv_oai",
        url=f"http://127.0.0.1:{server.server_address[1]}/oai",
        options={"set": "cs"},
        politeness={"min_interval": 0.0},
    )
    utc = ZoneInfo("UTC")

    def harvest(week: str, cursor: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        ctx = PlanContext(*Week.parse(week).window(utc), cursor=cursor)
        got = collect_source(spec, client, ctx)
        assert got.report.error is None, got.report.error
        return [item.arxiv_id or "" for item in got.items], dict(got.cursor)

    try:
        with PoliteClient(respect_robots=False, max_retries=0) as client:
            w47, cursor = harvest("2026-W47", {})
            w48, after = harvest("2026-W48", cursor)
            again, _ = harvest("2026-W47", after)  # a rerun of week 47 after week 48's run
    finally:
        server.shutdown()
        server.server_close()
    assert w47 == ["1806.07572", "1611.03530", "1902.06720"]  # nothing of week 48
    assert cursor == {"from": "2026-11-22"}
    # week 48 reads its own records (and week 47's last day again): nothing lost
    assert w48 == ["1902.06720", "1912.02292", "hep-th/9711200"]
    assert after == {"from": "2026-11-25"}  # week 48 is not over: its next harvest starts there
    assert again == w47
    assert [(q["from"], q["until"]) for q in asked] == [
        (["2026-11-16"], ["2026-11-22"]),
        (["2026-11-22"], ["2026-11-29"]),
        (["2026-11-16"], ["2026-11-22"]),
    ]


def test_no_records_in_a_bounded_harvest_says_both_dates(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir, "error_norecordsmatch.xml", url=FIRST_URL + "&until=2026-11-22")
    assert result.warnings == ("no records changed in this set between the `from` and `until` dates",)
    assert dict(result.cursor) == {"from": "2026-11-22"}


def test_categories_with_dublin_core_are_refused_not_an_empty_harvest(fixtures_dir: Path) -> None:
    from pydantic import ValidationError

    # a Dublin Core record names its subjects in words only: a category filter would drop it
    (item,) = parse(fixtures_dir, "listrecords_oai_dc.xml").items
    assert item.categories == ()
    with pytest.raises(ValidationError, match="oai_dc records carry no arXiv categories"):
        ArxivOaiOptions.model_validate({"metadata_prefix": "oai_dc", "categories": ["cs.LG"]})
    # the order the options are written in does not matter
    with pytest.raises(ValidationError, match="oai_dc records carry no arXiv categories"):
        ArxivOaiOptions.model_validate({"categories": ["cs.LG"], "metadata_prefix": "oai_dc"})
    kept = parse(fixtures_dir, "listrecords_arxiv_page1.xml", categories=["cs.LG"]).items
    assert kept and all("cs.LG" in i.categories for i in kept)


@pytest.mark.parametrize(
    ("ctx", "expected_from", "skipped"),
    [
        # a cursor from August (the source failed or was off for months): 4 weeks before the
        # week's first UTC day, the reach of a run's catch-up on missed weeks
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), cursor={"from": "2026-08-01"}),
            "2026-10-19",
            (dt.date(2026, 8, 1), dt.date(2026, 10, 18)),
        ),
        # ahead of UTC the week's first UTC day is the Sunday: the reach counts from there
        (
            PlanContext(
                *Week.parse("2026-W47").window(ZoneInfo("Asia/Shanghai")), cursor={"from": "2026-08-01"}
            ),
            "2026-10-18",
            (dt.date(2026, 8, 1), dt.date(2026, 10, 17)),
        ),
        # exactly 4 weeks back is within reach
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), cursor={"from": "2026-10-19"}),
            "2026-10-19",
            None,
        ),
        # --since is the operator's (or the catch-up's) own choice: harvested as asked
        (
            PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), since=dt.date(2026, 8, 1)),
            "2026-08-01",
            None,
        ),
        (PlanContext(cursor={"from": "2026-08-01"}), "2026-08-01", None),  # no window, no week to reach
    ],
)
def test_a_cursor_reaches_back_no_further_than_the_catch_up_weeks(
    ctx: PlanContext, expected_from: str, skipped: tuple[dt.date, dt.date] | None
) -> None:
    from dltheory_digest.sources.arxiv_oai import harvest_dates, skipped_backlog

    assert harvest_dates(ctx)[0] == expected_from
    assert skipped_backlog(ctx) == skipped
    spec = SourceSpec(id="arxiv-oai", kind="arxiv_oai", options={"set": "cs"})
    warnings = KIND.plan_warnings(spec, KIND.options_for(spec), ctx)
    if skipped is None:
        assert warnings == ()
    else:
        first, last = skipped
        assert warnings == (
            f"records from {first} to {last} not harvested: older than the 4-week catch-up; "
            f"run with --since {first} to fetch them",
        )


# One misdated or unreadable record must not lose the page (review r1, finding 2)

MISDATED = "arxiv_oai_misdated_records.xml"


def parse_misdated(fixtures_dir: Path) -> ParseResult:
    content = (fixtures_dir / "sources" / MISDATED).read_bytes()
    return KIND.parse(RawPage("arxiv-oai", FIRST_URL, 200, content), ArxivOaiOptions())


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0000-01-01", "2018-02-31", "2024-13-45", ""],
)
def test_an_impossible_oai_date_is_no_date(text: str) -> None:
    assert arxiv_oai._date(text) is None


def test_oai_dates_in_every_form() -> None:
    assert arxiv_oai._date("2018-06-20") == day("2018-06-20")
    assert arxiv_oai._date("2018-06-20T09:46:30+02:00") == dt.datetime(2018, 6, 20, 7, 46, 30, tzinfo=dt.UTC)
    assert arxiv_oai._date("Wed, 20 Jun 2018 09:46:30 GMT") == dt.datetime(
        2018, 6, 20, 9, 46, 30, tzinfo=dt.UTC
    )


def test_misdated_records_keep_their_papers_undated(fixtures_dir: Path) -> None:
    result = parse_misdated(fixtures_dir)
    dates = {item.arxiv_id: (item.published, item.updated) for item in result.items}
    assert dates == {
        "2106.10165": (None, None),
        "1806.07572": (None, None),
        "2103.00065": (day("2021-02-26"), day("2022-11-08")),
    }
    assert result.warnings == ()
    assert result.cursor == (("from", "2026-11-23"),)  # the server's date: the next harvest starts there


def test_a_record_that_cannot_be_read_is_left_out_with_a_warning(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_abs_url = arxiv_oai.abs_url

    def abs_url(arxiv_id: str, version: int | None = None) -> str:
        if arxiv_id == "1806.07572":
            raise RuntimeError("simulated failure")
        return real_abs_url(arxiv_id, version)

    monkeypatch.setattr(arxiv_oai, "abs_url", abs_url)
    result = parse_misdated(fixtures_dir)
    assert [item.arxiv_id for item in result.items] == ["2106.10165", "2103.00065"]
    assert result.warnings == (
        "record oai:arXiv.org:1806.07572 skipped: could not be read (RuntimeError: simulated failure)",
    )

    monkeypatch.setattr(arxiv_oai, "abs_url", lambda *args: 1 / 0)
    with pytest.raises(ParseError, match=r"none of the page's 3 entries could be read.*ZeroDivisionError"):
        parse_misdated(fixtures_dir)
