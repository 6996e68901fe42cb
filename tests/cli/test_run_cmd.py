"""`demo`, `run` and `sources check` as a user runs them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app, run_cmd
from dltheory_digest.demo import DEMO_WEEK, SnapshotServer, write_demo_sources
from dltheory_digest.store import open_store
from dltheory_digest.store.files import DEMO_MARKER
from tests.test_mail import Mailbox

runner = CliRunner()


@pytest.mark.prefect
def test_demo_writes_and_mails_the_digest(prefect_harness: None, smtp: Mailbox, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    args = [
        "demo",
        "--output-dir",
        str(out),
        "--email-to",
        "ada@example.org",
        "--email-to",
        "lin@example.org",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    digest = out / f"{DEMO_WEEK}.md"
    assert digest.is_file() and str(digest) in result.output.replace("\n", "")
    # marked as the demo's (a later demo may replace it; a real run's digest it never replaces)
    assert digest.read_text(encoding="utf-8").startswith(f"{DEMO_MARKER}\n# ")
    # the Zhihu list names "Opening the Black Box ..." by title alone; arXiv's title search
    # found it, so the paper is listed, linked, and says where it was seen
    [block] = [
        b
        for b in digest.read_text(encoding="utf-8").split("\n### ")
        if b.startswith(
            "[Opening the Black Box of Deep Neural Networks via Information](https://arxiv.org/abs/1703.00810)"
        )
    ]
    assert "Seen in: [知乎 · 深度学习理论阅读清单](https://zhuanlan.zhihu.com/p/1973625480917305344)" in block
    assert sorted(r for rec in smtp.received for r in rec.recipients) == [
        "ada@example.org",
        "lin@example.org",
    ]
    message = smtp.to("ada@example.org")[0]
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_payload()  # type: ignore[misc]
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert "Neural Tangent Kernel" in plain.get_content() and "<html" in html.get_content().lower()
    # the snapshot's made-up week never passes for the real one
    assert str(message["Subject"]).startswith(f"[demo] DL theory digest {DEMO_WEEK}: ")
    assert "Demo: built from the bundled snapshot of the sources" in plain.get_content().split("\n", 3)[2]
    assert "mails the whole digest, in English and marked as the demo" in " ".join(result.output.split())


def test_bad_sources_file_exits_2_and_fetches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SnapshotServer() as server:
        sources = write_demo_sources(server.base_url, tmp_path / "sources.yaml")
        sources.write_text(
            sources.read_text(encoding="utf-8").replace("kind: feed", "kind: fed", 1), encoding="utf-8"
        )
        monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
        result = runner.invoke(app, ["run", "--week", DEMO_WEEK])
        assert result.exit_code == 2
        said = " ".join(result.output.split())
        assert "sources.yaml: source 'offconvex': field 'kind': unknown kind 'fed'" in said
        assert list(server.requests) == []


def test_bad_week_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--week", "2026-47"])
    assert result.exit_code == 2 and "ISO week" in " ".join(result.output.split())


def test_sources_check_prints_a_health_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SnapshotServer() as server:
        sources = write_demo_sources(server.base_url, tmp_path / "sources.yaml")
        monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
        result = runner.invoke(app, ["sources", "check", "--source", "offconvex"])
    assert result.exit_code == 0, result.output
    assert "offconvex" in result.output and "ok" in result.output
    assert "never" not in result.output  # the successful fetch is the last success


def test_sources_check_counts_the_papers_a_reading_list_cites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from dltheory_digest.cli import run_cmd

    console = Console(width=200, record=True)
    monkeypatch.setattr(run_cmd, "console", console)
    with SnapshotServer() as server:
        sources = write_demo_sources(server.base_url, tmp_path / "sources.yaml")
        monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
        result = runner.invoke(app, ["sources", "check", "--source", "zhihu-dl-theory-reading-list"])
    assert result.exit_code == 0, result.output
    # the reading list is one post citing six papers (and a course site it links to), not a page
    # that brought one or two items
    [row] = [line for line in console.export_text().splitlines() if "zhihu-dl-theory-reading-list" in line]
    assert "2 + 6 cited" in row


def test_the_run_summary_counts_cited_papers_beside_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    reports = [
        {**REPORT, "source": "zhihu-list", "parsed": 1, "cited": 6, "new": 1},
        {**REPORT, "source": "notes"},
        {**REPORT, "source": "older-result"},  # a summary written before the count: no "cited"
    ]
    del reports[2]["cited"]
    text = _summary_text(monkeypatch, 200, reports)
    [zhihu] = [line for line in text.splitlines() if "zhihu-list" in line]
    assert "1 + 6 cited" in zhihu
    assert "cited" not in "".join(line for line in text.splitlines() if "notes" in line)


def test_sources_check_reports_an_unreachable_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {id: dead, kind: feed, url: 'http://127.0.0.1:9/feed.xml', politeness: {timeout: 2}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
    result = runner.invoke(app, ["sources", "check"])
    assert result.exit_code == 1
    assert "dead" in result.output and "never" in result.output


def _summary_text(
    monkeypatch: pytest.MonkeyPatch, width: int, reports: list[dict[str, object]], **extra: object
) -> str:
    from rich.console import Console

    from dltheory_digest.cli import run_cmd

    console = Console(width=width, record=True)
    monkeypatch.setattr(run_cmd, "console", console)
    run_cmd.print_summary(
        {
            "week": "2026-W47",
            "path": "outputs/2026-W47.md",
            "papers": 1,
            "below_threshold": 3,
            "reports": reports,
            **extra,
        }
    )
    return console.export_text()


REPORT = {
    "kind": "feed",
    "fetched": 1,
    "parsed": 11,
    "cited": 0,
    "new": 11,
    "cache_hits": 0,
    "error": None,
    "warnings": [],
}


def test_the_run_summary_shows_whole_source_ids_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    reports = [
        {**REPORT, "source": "notes-theory-of-deep-learning"},
        {**REPORT, "source": "shamra-modern-mathematics-of-dl", "error": "HTTP 404 for the page"},
    ]
    text = _summary_text(monkeypatch, 80, reports)
    assert "2026-W47: 1 paper (+3 below the relevance threshold)" in text
    assert "notes-theory-of-deep-learning" in text and "shamra-modern-mathematics-of-dl" in text


def test_the_run_summary_shows_server_text_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    reports = [
        # Rich markup in what a server sent: no crash, no styling, and the row's id not repeated
        {**REPORT, "source": "api", "error": "[api] bad entry <id>[/red][bold]x</id>"},
        {**REPORT, "source": "blog", "warnings": ["feed is not well-formed", "entry without title"]},
    ]
    text = _summary_text(monkeypatch, 200, reports)
    assert "error: bad entry <id>[/red][bold]x</id>" in text
    assert "warning: feed is not well-formed (+1 more)" in text


def test_ctrl_c_stops_the_run_at_once_and_frees_its_week(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal

    from dltheory_digest.cli import run_cmd
    from dltheory_digest.store import open_store
    from dltheory_digest.store.locks import lock_holder, week_lock

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    codes: list[int] = []
    stopped: list[str] = []  # the test session's Prefect server must live on
    with week_lock(store, "2026-W47", "run-a"):
        run_cmd.stop_now(signal.SIGINT, exit=codes.append, stop_servers=lambda: stopped.append("servers"))
        assert lock_holder(store, "week-2026-W47") is None
    assert codes == [130] and stopped == ["servers"]
    assert "interrupted: the run stopped; released the lock of 2026-W47" in capsys.readouterr().err


def test_the_translations_line_counts_usable_translations_and_says_how_many_were_discarded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = {"translations_new": 12, "translations_new_discarded": 3, "translation_cache_hits": 40}
    text = _summary_text(monkeypatch, 200, [{**REPORT, "source": "zhihu"}], **counts)
    assert "translations: 12 new (3 discarded as unusable), 40 from the cache\n" in text
    counts["translation_cache_hits_discarded"] = 2
    text = _summary_text(monkeypatch, 200, [{**REPORT, "source": "zhihu"}], **counts)
    assert (
        "translations: 12 new (3 discarded as unusable), 40 from the cache (2 discarded as unusable)" in text
    )
    text = _summary_text(monkeypatch, 200, [{**REPORT, "source": "zhihu"}], translations_new=5)
    assert "translations: 5 new, 0 from the cache\n" in text and "discarded" not in text


def _offline_reports() -> list[dict[str, object]]:
    """The reports of an arXiv API source and a blog when no host name resolves, as the real
    pipeline and polite client make them."""
    import dataclasses

    import httpx

    from dltheory_digest.config import SourceSpec
    from dltheory_digest.fetch import LocalLimiter, PoliteClient
    from dltheory_digest.pipeline import collect_source
    from dltheory_digest.sources import PlanContext

    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    specs = [
        SourceSpec(id="arxiv-api", kind="arxiv_api", options={"search_query": "cat:cs.LG"}),
        SourceSpec(id="offconvex", kind="feed", url="https://www.offconvex.org/feed.xml"),
    ]
    reports = []
    # no real waits: neither the back-off nor arXiv's 3 s spacing between the two attempts
    limiter = LocalLimiter(sleep=lambda s: None)
    with PoliteClient(transport=httpx.MockTransport(no_dns), limiter=limiter, sleep=lambda s: None) as client:
        for spec in specs:
            report = collect_source(spec, client, PlanContext()).report
            reports.append({**REPORT, **dataclasses.asdict(report), "source": report.source_id, "new": 0})
    return reports


def test_a_run_where_no_host_resolves_says_once_that_the_machine_looks_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dltheory_digest.cli.run_cmd import OFFLINE_SUMMARY

    reports = _offline_reports()
    assert [r["error"] for r in reports] == [
        "[arxiv-api] could not reach export.arxiv.org (name not resolved, 2 attempts): is this machine online?",
        "[offconvex] could not reach www.offconvex.org (name not resolved): is this machine online?",
    ]
    text = _summary_text(monkeypatch, 400, reports)
    assert " ".join(text.split()).count(OFFLINE_SUMMARY) == 1
    assert "error: could not reach export.arxiv.org (name not resolved, 2 attempts)" in text


@pytest.mark.parametrize(
    "other",
    [
        {"error": None},  # one source answered: the network is there
        {"error": "[local] connection refused by 127.0.0.1:8080"},  # a server is down, not the network
    ],
)
def test_the_offline_line_needs_every_source_to_have_failed_to_resolve(
    monkeypatch: pytest.MonkeyPatch, other: dict[str, object]
) -> None:
    from dltheory_digest.cli.run_cmd import OFFLINE_SUMMARY

    reports = [*_offline_reports(), {**REPORT, "source": "local", **other}]
    assert OFFLINE_SUMMARY not in " ".join(_summary_text(monkeypatch, 400, reports).split())


def test_the_offline_line_reads_the_reports_field_not_the_wording_of_their_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dltheory_digest.cli.run_cmd import OFFLINE_SUMMARY
    from dltheory_digest.fetch import OFFLINE_HINT

    def summary(*reports: dict[str, object]) -> str:
        return " ".join(_summary_text(monkeypatch, 400, list(reports)).split())

    # errors worded in any way (a proxy's, a future message), each report saying it is offline
    said_otherwise = [
        {**REPORT, "source": "arxiv-api", "error": "[arxiv-api] DNS lookup failed", "offline": True},
        {**REPORT, "source": "blog", "error": "[blog] no network interface is up", "offline": True},
    ]
    assert summary(*said_otherwise).count(OFFLINE_SUMMARY) == 1
    # the hint in a message that a server sent is not this machine being offline
    echoed = {**REPORT, "source": "blog", "error": f"[blog] HTTP 502: upstream: {OFFLINE_HINT}"}
    assert OFFLINE_SUMMARY not in summary(echoed, {**echoed, "source": "notes"})
    # a result from before the field (a Prefect run's stored result) has no `offline`: no line
    assert OFFLINE_SUMMARY not in summary(
        *({k: v for k, v in r.items() if k != "offline"} for r in said_otherwise)
    )


def test_sources_check_says_once_that_the_machine_looks_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from dltheory_digest import fetch
    from dltheory_digest.cli.run_cmd import OFFLINE_SUMMARY

    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    class OfflineClient(fetch.PoliteClient):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(
                **kwargs,  # type: ignore[arg-type]
                transport=httpx.MockTransport(no_dns),
                limiter=fetch.LocalLimiter(sleep=lambda s: None),
                sleep=lambda s: None,
            )

    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {id: offconvex, kind: feed, url: 'https://www.offconvex.org/feed.xml'}\n"
        "  - {id: arxiv-api, kind: arxiv_api, options: {search_query: 'cat:cs.LG'}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
    monkeypatch.setattr(fetch, "PoliteClient", OfflineClient)
    checked = runner.invoke(app, ["sources", "check"])
    assert checked.exit_code == 1
    assert " ".join(checked.output.split()).count(OFFLINE_SUMMARY) == 1
    assert "2 source(s) failed: offconvex, arxiv-api" in checked.output


def test_the_run_summary_gives_the_digests_notes_to_the_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    note = "untranslated: no zh→en model (run `dltheory-digest models install zh`); 3 texts kept as written"
    text = _summary_text(monkeypatch, 200, [{**REPORT, "source": "zhihu-list"}], notes=[note])
    lines = text.splitlines()
    assert f"note: {note}" in lines
    # after the translation count, before the digest's path
    assert lines.index(f"note: {note}") < next(
        i for i, line in enumerate(lines) if line.startswith("digest: ")
    )


def test_the_summary_says_a_zh_reader_got_english(monkeypatch: pytest.MonkeyPatch) -> None:
    deliveries = [
        {"reader": "ada@example.org", "status": "sent", "error": None, "fallback": None},
        {
            "reader": "lin@example.org",
            "status": "sent",
            "error": None,
            "fallback": "the zh translation was unusable",
        },
        {"reader": "old@example.org", "status": "sent", "error": None},  # a result from before the field
    ]
    text = _summary_text(monkeypatch, 200, [], deliveries=deliveries)
    assert "mail to ada@example.org: sent\n" in text
    assert "mail to lin@example.org: sent, in English: the zh translation was unusable\n" in text
    assert "mail to old@example.org: sent\n" in text


def test_sources_check_shows_the_last_success_in_the_configured_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from rich.console import Console

    from dltheory_digest.cli import run_cmd
    from dltheory_digest.config import load_settings
    from dltheory_digest.models import FetchRecord
    from dltheory_digest.store import open_store, record_fetches

    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Pacific/Kiritimati")
    url = "http://127.0.0.1:9/feed.xml"
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - {{id: dead, kind: feed, url: '{url}', politeness: {{timeout: 2}}}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
    store = open_store(load_settings().resolved_store_url)
    # it answered last on Sunday 22 November 22:30 UTC: Monday morning in Kiritimati
    at = dt.datetime(2026, 11, 22, 22, 30, tzinfo=dt.UTC)
    record_fetches(store, [FetchRecord("dead", url, 200, 512, 40.0, False, fetched_at=at)])
    store.close()
    console = Console(width=400, record=True)
    monkeypatch.setattr(run_cmd, "console", console)
    result = runner.invoke(app, ["sources", "check"])
    assert result.exit_code == 1
    [row] = [line for line in console.export_text().splitlines() if "dead" in line]
    assert row.rstrip(" │").endswith("2026-11-23 12:30 Pacific/Kiritimati (UTC+14:00)"), row


def test_the_run_summary_says_what_went_to_a_later_week(monkeypatch: pytest.MonkeyPatch) -> None:
    reports = [
        {**REPORT, "source": "blog", "parsed": 3, "new": 1, "later": 1, "later_weeks": ["2026-W48"]},
        # none for a later week; like every REPORT row, a result from before the count
        {**REPORT, "source": "notes", "new": 2},
    ]
    carried = "readers have 2026-W47: kept as sent; 1 item it found belongs to 2026-W48"
    text = _summary_text(monkeypatch, 200, reports, carried=carried)
    [blog] = [line for line in text.splitlines() if "blog" in line]
    assert "1 · 1 for 2026-W48" in blog
    [notes] = [line for line in text.splitlines() if "notes" in line]
    assert " 2 " in notes and "for 20" not in notes
    assert carried in text
    # a run that carried nothing says nothing about it
    assert "carried" not in _summary_text(monkeypatch, 200, reports[1:])


def test_the_run_summary_says_why_a_reader_was_skipped_and_that_a_dry_run_mailed_no_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    skipped = {
        "reader": "ada@example.org",
        "status": "skipped",
        "error": None,
        "note": "already sent 2026-11-23 08:00 UTC (use --resend to send again)",
    }
    text = _summary_text(monkeypatch, 120, [{**REPORT, "source": "blog"}], deliveries=[skipped])
    assert "mail to ada@example.org: skipped (already sent 2026-11-23 08:00 UTC (use --resend" in text
    assert "dry run" not in text
    dry = _summary_text(monkeypatch, 120, [{**REPORT, "source": "blog"}], dry_run=True)
    assert "dry run: no reader was mailed, and the sent-ledger is as it was" in dry


@pytest.mark.prefect
def test_demo_mail_refused_for_one_address_prints_the_summary_and_exits_1(
    prefect_harness: None, smtp: Mailbox, tmp_path: Path
) -> None:
    """The flow ends Failed when mail does not go through; the command still prints what the
    run did, from the failed state's result, and exits 1 naming the reader."""
    smtp.refuse.add("lin@example.org")
    out = tmp_path / "digests"
    args = ["demo", "--output-dir", str(out), "--email-to", "ada@example.org,lin@example.org"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "mail to ada@example.org: sent" in text and "mail to lin@example.org: failed" in text
    assert "mail failed for 1 reader(s): lin@example.org" in text
    assert (out / f"{DEMO_WEEK}.md").is_file()
    assert [r for rec in smtp.received for r in rec.recipients] == ["ada@example.org"]


def test_ctrl_c_stops_the_commands_own_prefect_server_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.server.api.server import SubprocessASGIServer

    from flows.local_server import LocalServer

    stopped: list[str] = []

    class Server:
        def __init__(self, name: str) -> None:
            self.name = name

        def stop(self) -> None:
            stopped.append(self.name)

    from dltheory_digest.cli import run_cmd

    # stand-ins only (the session's test server must keep running); restored after the test
    monkeypatch.setattr(SubprocessASGIServer, "_instances", {-1: Server("prefect's")})
    monkeypatch.setitem(LocalServer._instances, -1, Server("the command's"))  # type: ignore[arg-type]
    run_cmd.stop_temporary_servers()
    assert stopped == ["prefect's", "the command's"]


# A child that mails one reader under `run`'s signal handling (`stopping_on_signals`, whose
# `stop_now` ends the process with os._exit: no `except`/`finally` of the mail code runs).
_MAILING_CHILD = """
import sys
from dltheory_digest import mail
from dltheory_digest.cli import run_cmd
from dltheory_digest.config import Reader
from dltheory_digest.store import open_store

store_url, port, week = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = open_store(store_url)
smtp = mail.SmtpSettings(host="127.0.0.1", port=port, mail_from="digest@example.org", timeout=60)
with run_cmd.stopping_on_signals(stop_servers=lambda: None):
    mail.deliver_markdown(
        store, week=week, markdown="# Digest\\n\\nOne paper.\\n", readers=[Reader(email="ada@example.org")],
        smtp=smtp, retries=0,
    )
"""


# SIGINT/SIGTERM: `stop_now` records the reader itself; SIGKILL (or a power cut): the next run
# finds the row its dead process left after the handover
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_run_stopped_while_its_message_awaits_the_servers_answer_does_not_mail_it_twice(
    tmp_path: Path, signum: str
) -> None:
    import asyncio
    import signal
    import subprocess
    import sys
    import threading
    from typing import Any

    from aiosmtpd.controller import Controller

    from dltheory_digest import mail
    from dltheory_digest.config import Reader
    from dltheory_digest.store import deliveries as ledger
    from dltheory_digest.store import open_store
    from tests.test_mail import free_port

    class HoldingMailbox(Mailbox):
        """Keeps the message, then holds its answer to DATA: the window an operator's Ctrl-C hits."""

        data_received = threading.Event()
        holding = True

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            answer = await super().handle_DATA(server, session, envelope)
            self.data_received.set()
            while self.holding:
                await asyncio.sleep(0.05)
            return answer

    box = HoldingMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    week = "2026-W47"
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _MAILING_CHILD, url, str(port), week],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            assert box.data_received.wait(120), child.stderr.read() if child.poll() is not None else ""  # type: ignore[union-attr]
            child.send_signal(getattr(signal, signum))
            _, err = child.communicate(timeout=60)
        finally:
            box.holding = False
            if child.poll() is None:
                child.kill()
                child.wait()
        assert len(box.to("ada@example.org")) == 1  # the server has the message
        store = open_store(url)
        try:
            row = ledger.get_delivery(store, week, "ada@example.org")
            assert row is not None
            if signum == "SIGKILL":
                assert child.returncode == -signal.SIGKILL
                assert row.status == "sending" and row.holder_gone() and row.unconfirmed
            else:
                assert child.returncode == 128 + getattr(signal, signum), err.decode()
                said = " ".join(err.decode().split())
                assert "interrupted: the run stopped" in said
                assert "mail to ada@example.org: unconfirmed (" in said
                assert row.status == "unconfirmed" and row.holder is None
                why = "interrupted (Ctrl-C)" if signum == "SIGINT" else "the run was stopped (SIGTERM)"
                assert (row.error or "").startswith(f"{why} while the server's answer")
            # the next send (its process gone) may not take the reader over and mail them again
            [again] = mail.deliver_markdown(
                store, week=week, markdown="# Digest\n\nOne paper.\n",
                readers=[Reader(email="ada@example.org")],
                smtp=mail.SmtpSettings(host="127.0.0.1", port=port, mail_from="digest@example.org"),
            )  # fmt: skip
            assert len(box.to("ada@example.org")) == 1
            assert (again.status, again.skip_reason) == ("skipped", "unconfirmed")
            assert "answer was never recorded" in (again.note or "")
            row = ledger.get_delivery(store, week, "ada@example.org")
            assert row is not None and row.status == "unconfirmed" and row.holder is None
            assert "--resend --to ada@example.org" in (row.error or "")
        finally:
            store.close()
    finally:
        controller.stop()


@contextmanager
def two_blogs(week: str, sources: Path) -> Iterator[str]:
    """Two blogs on 127.0.0.1 ("one", "two"), each with one post dated in `week`, written as the
    only sources of the `sources` file; yields their base URL."""
    import datetime as dt
    import threading
    from email.utils import format_datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from dltheory_digest.weeks import Week

    posted = format_datetime(dt.datetime.combine(Week.parse(week).monday, dt.time(10), dt.UTC))

    class Blogs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.strip("/").removesuffix(".xml")
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>{name}</title><link>https://{name}.example.org/</link>"
                f"<item><title>Notes on implicit bias, from {name}</title>"
                f"<link>https://{name}.example.org/2026/bias/</link><pubDate>{posted}</pubDate>"
                "<description>Gradient descent prefers flat minima.</description></item>"
                "</channel></rss>"
            ).encode()
            self.send_response(200 if name in ("one", "two") else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Blogs)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    sources.write_text(
        "sources:\n"
        + "".join(
            f"  - {{id: {name}, kind: feed, url: '{base}/{name}.xml', politeness: {{min_interval: 0}}}}\n"
            for name in ("one", "two")
        ),
        encoding="utf-8",
    )
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.prefect
def test_a_run_of_some_sources_writes_the_digest_but_mails_no_reader(
    prefect_harness: None, smtp: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoneinfo import ZoneInfo

    from dltheory_digest import pipeline
    from dltheory_digest.config import load_settings
    from dltheory_digest.store import open_store
    from dltheory_digest.store.deliveries import deliveries_of
    from dltheory_digest.weeks import last_complete_week

    week = last_complete_week(ZoneInfo("UTC"))
    sources = tmp_path / "sources.yaml"
    with two_blogs(str(week), sources):
        monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
        monkeypatch.setenv("DLTHEORY_TIMEZONE", "UTC")
        monkeypatch.setenv("DLTHEORY_CROSSREF_API_BASE", "")
        monkeypatch.setenv("DLTHEORY_READERS", '[{"email": "ada@example.org"}]')

        some = runner.invoke(app, ["run", "--sources", "one", "--week", str(week)])
        assert some.exit_code == 0, some.output
        said = " ".join(some.output.split())
        assert smtp.received == []
        assert "readers not mailed: this run read only some sources (not two)" in said
        assert f"dltheory-digest send --week {week}" in said
        assert (tmp_path / "outputs" / f"{week}.md").is_file()
        store = open_store(load_settings().resolved_store_url)
        try:
            assert deliveries_of(store, str(week)) == []
            assert not pipeline.readers_have_week(store, week)
        finally:
            store.close()

        every = runner.invoke(app, ["run", "--week", str(week)])
        assert every.exit_code == 0, every.output
        assert [r for m in smtp.received for r in m.recipients] == ["ada@example.org"]
        assert "readers not mailed" not in every.output


def test_a_run_whose_store_failed_while_mailing_ends_with_a_store_error_line() -> None:
    """The mailing stopped at a store failure: the readers are listed as failed, and the run
    says why in one `store error:` line, as `send` does."""
    import typer

    from dltheory_digest.cli import run_cmd
    from dltheory_digest.cli.app import err_console

    problem = "connection failed: Connection refused"
    result = {
        "failed_sources": [],
        "deliveries": [
            {"reader": "ada@example.org", "status": "sent"},
            {"reader": "bo@example.org", "status": "failed", "store_down": problem},
        ],
    }
    with err_console.capture() as captured, pytest.raises(typer.Exit) as stopped:
        run_cmd.exit_on_failures(result)
    assert stopped.value.exit_code == 1
    lines = captured.get().splitlines()
    assert lines == ["mail failed for 1 reader(s): bo@example.org", f"store error: the store: {problem}"]


def _pruned_sent_week(week: str) -> Path:
    """A store (the settings' own) in which `week` was mailed to a reader and `store prune`
    then removed its digest JSON, as the prune leaves it; returns the week's Markdown file."""
    from dltheory_digest.config import load_settings
    from dltheory_digest.store.deliveries import record_delivery
    from dltheory_digest.store.records import save_digest
    from dltheory_digest.weeks import Week

    settings = load_settings()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    path = settings.output_dir / f"{week}.md"
    path.write_text(f"# DL theory digest {week}\n", encoding="utf-8")
    store = open_store(settings.resolved_store_url)
    try:
        save_digest(
            store,
            week=week,
            markdown=path.read_text(encoding="utf-8"),
            path=str(path),
            paper_keys=[],
            reports=[],
            data=None,  # what `store prune` leaves of an old week's digest
            window_end=Week.parse(week).window(settings.zone)[1],
        )
        record_delivery(
            store, week=week, reader="ada@example.org", message_id="<m@x>", status="sent", attempts=1
        )
    finally:
        store.close()
    return path


@pytest.mark.parametrize("command", ["run", "refresh"])
@pytest.mark.parametrize("resend", [False, True])
def test_a_run_of_a_sent_week_whose_digest_was_pruned_is_refused_before_anything_is_fetched(
    command: str, resend: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build would refuse it after the whole fetch (`pipeline.sent_digest`): refused now, one
    line, exit 2, naming the file readers got; `--resend` too (it would mail a poorer rebuild)."""
    with SnapshotServer() as server:
        monkeypatch.setenv(
            "DLTHEORY_SOURCES_FILE", str(write_demo_sources(server.base_url, tmp_path / "s.yaml"))
        )
        path = _pruned_sent_week(DEMO_WEEK)
        result = runner.invoke(
            app, [command, "--week", DEMO_WEEK, "--dry-run", *(["--resend"] if resend else [])]
        )
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert said.startswith(
            f"error: --week: {DEMO_WEEK} was pruned from the store (store prune): its digest is {path}, as sent; "
            f"`dltheory-digest send --week {DEMO_WEEK} --resend` mails it again"
        ), said
        assert "Traceback" not in result.output and list(server.requests) == []


@pytest.mark.prefect
def test_the_flow_refuses_a_pruned_sent_week_before_its_fetch(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started without the CLI's checks (a deployment's run from the UI): the flow itself fails
    at once, named, and fetches nothing."""
    import typer

    from dltheory_digest.cli.app import err_console

    with SnapshotServer() as server:
        monkeypatch.setenv(
            "DLTHEORY_SOURCES_FILE", str(write_demo_sources(server.base_url, tmp_path / "s.yaml"))
        )
        _pruned_sent_week(DEMO_WEEK)
        with err_console.capture() as captured, pytest.raises(typer.Exit) as stopped:
            run_cmd.run_flow(week=DEMO_WEEK, sources=None, since=None, dry_run=True, resend=False)
        assert stopped.value.exit_code == 2
        said = " ".join(captured.get().split())
        assert f"weekly-digest parameter week: {DEMO_WEEK} was pruned from the store (store prune)" in said
        assert list(server.requests) == []


def test_the_summary_says_a_week_under_way_is_partial_with_or_without_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console says what the file opens with ("Partial: … covers up to …"), even when no
    reader is configured (`readers_held_back` then says nothing)."""
    import datetime as dt

    from rich.console import Console

    from dltheory_digest.config import load_settings
    from dltheory_digest.digest import digest_to_json
    from dltheory_digest.models import Digest
    from dltheory_digest.store.records import save_digest
    from dltheory_digest.weeks import Week

    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Asia/Shanghai")
    settings = load_settings()
    assert not settings.readers
    week = Week.containing(dt.datetime.now(settings.zone))
    start, end = week.window(settings.zone)
    until = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    digest = Digest(
        week=str(week), window_start=start, window_end=end, timezone="Asia/Shanghai", covers_until=until
    )
    store = open_store(settings.resolved_store_url)
    try:
        save_digest(
            store,
            week=str(week),
            markdown="",
            path=None,
            paper_keys=[],
            reports=[],
            data=digest_to_json(digest),
            published=False,
            window_end=end,
        )
    finally:
        store.close()
    result = {"week": str(week), "path": "x.md", "papers": 0, "reports": [], "dry_run": True}
    line = run_cmd.partial_line(settings, result)  # type: ignore[arg-type]
    local = until.astimezone(settings.zone)
    assert (
        line
        == f"partial: {week} is still under way; this digest covers up to {local:%Y-%m-%d %H:%M} (Asia/Shanghai)"
    )
    console = Console(width=200, record=True)
    monkeypatch.setattr(run_cmd, "console", console)
    run_cmd.print_summary(result, partial=line)  # type: ignore[arg-type]
    assert line in console.export_text()
    # a finished week says nothing of the kind
    assert run_cmd.partial_line(settings, {**result, "week": str(week.previous())}) is None  # type: ignore[arg-type]
