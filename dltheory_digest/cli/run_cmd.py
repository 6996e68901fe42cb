"""Running the weekly job: `run` (live), `demo` (embedded snapshot), `sources check`."""

from __future__ import annotations

import functools
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.checks import (
    check_addresses,
    check_config,
    check_output_dir,
    check_run_files,
    check_since,
    check_smtp,
    check_source_ids,
    check_store,
    check_week,
    fail_config,
    fail_store,
    fail_store_query,
    load_checked_settings,
    open_checked_store,
    quiet_prefect_defaults,
)
from dltheory_digest.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from dltheory_digest.config import Settings
    from dltheory_digest.pipeline import RunResult
    from dltheory_digest.weeks import Week

sources_app = typer.Typer(help="Inspect the configured sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


def print_summary(result: RunResult, *, partial: str | None = None) -> None:
    """The run's table and lines; `partial`: the line saying the week is under way (`partial_line`)."""
    from dltheory_digest.digest.render import new_cell  # the digest's report says it the same way

    papers, below = result["papers"], result.get("below_threshold", 0)
    title = f"dltheory-digest {result['week']}: {papers} paper{'' if papers == 1 else 's'}"
    if below:
        title += f" (+{below} below the relevance threshold)"
    if result.get("kept_earlier_digest"):
        title = f"dltheory-digest {result['week']}: every source failed"
    table = Table(title=title)
    for column in ("source", "kind", "fetched", "parsed", "new", "cache", "status"):
        table.add_column(
            column,
            justify="right" if column in ("fetched", "parsed", "new", "cache") else "left",
            no_wrap=column == "source",  # ids are what --sources takes: never cut them short
        )
    for r in result["reports"]:
        status = status_cell(r["source"], r["error"], r["warnings"])
        table.add_row(
            r["source"],
            r["kind"],
            str(r["fetched"]),
            parsed_cell(r["parsed"], r.get("cited", 0)),
            new_cell(r["new"], r.get("later", 0), r.get("later_weeks") or ()),
            str(r["cache_hits"]),
            status,
        )
    console.print(table)
    if looks_offline(result["reports"]):
        console.print(OFFLINE_SUMMARY, markup=False)
    if result.get("carried"):
        console.print(result["carried"], markup=False)
    console.print(translations_line(result), markup=False)
    # what the digest's notes tell the operator (a missing model and the command installing it)
    for note in result.get("notes") or []:
        console.print(f"note: {note}", markup=False)
    from dltheory_digest.mail import status_text

    for d in result.get("deliveries") or []:
        console.print(
            f"mail to {d['reader']}: {status_text(d['status'], d.get('fallback'))}"
            # why it failed, else why it was skipped ("already sent …, use --resend")
            + (f" ({d.get('error') or d.get('note')})" if d.get("error") or d.get("note") else ""),
            markup=False,
        )
    if result.get("dry_run"):
        console.print(DRY_RUN_SUMMARY, markup=False)
    if result.get("readers_held_back"):
        console.print(f"readers not mailed: {result['readers_held_back']}", markup=False)
    if partial:
        console.print(partial, markup=False)
    if result.get("kept_earlier_digest"):
        console.print(
            Text.assemble(
                "every source failed: the digest written before is kept, unchanged: ",
                (str(result["path"]), "bold"),
            )
        )
    else:
        console.print(Text.assemble("digest: ", (str(result["path"]), "bold")))


def parsed_cell(parsed: int, cited: int) -> str:
    """Items parsed, and the papers their posts cite: "1 + 6 cited" for a reading list of six
    papers in one post, which "1" alone would show as a page that brought next to nothing."""
    return f"{parsed} + {cited} cited" if cited else str(parsed)


def translations_line(result: RunResult) -> str:
    """`translations: 12 new (3 discarded as unusable), 40 from the cache`: usable translations
    only, and how many outputs were thrown away, so a broken model does not look busy."""

    def counted(usable: int, discarded: int, what: str) -> str:
        return f"{usable} {what}" + (f" ({discarded} discarded as unusable)" if discarded else "")

    new = counted(result.get("translations_new", 0), result.get("translations_new_discarded", 0), "new")
    hits = counted(
        result.get("translation_cache_hits", 0),
        result.get("translation_cache_hits_discarded", 0),
        "from the cache",
    )
    return f"translations: {new}, {hits}"


OFFLINE_SUMMARY = (
    "no source could be reached: this machine looks offline (no host name resolved, or no network); "
    "check its connection and run again"
)


def looks_offline(reports: Sequence[Mapping[str, Any]]) -> bool:
    """Every source failed because no host could be resolved or no network reached (each
    report's `offline`, as `pipeline.report_summary` gives it; absent in older results)."""
    return bool(reports) and all(r.get("offline") and r.get("error") for r in reports)


def exit_on_failures(result: RunResult) -> None:
    """Exit 1 when a source or a mail failed, naming them, so cron and monitoring notice: a
    message that may not have arrived (`unconfirmed`) and a reader left to another run that
    holds them are not a success either."""
    deliveries = result.get("deliveries") or []
    from dltheory_digest.pipeline import mail_problems as problems_of

    # the same readers the flow's final state counts (Failed when any)
    mail_problems = problems_of(deliveries)
    if result["failed_sources"]:
        err_console.print(
            f"{len(result['failed_sources'])} source(s) failed: {', '.join(result['failed_sources'])}",
            markup=False,
        )
    for what, readers in mail_problems.items():
        if readers:
            err_console.print(f"{what} {len(readers)} reader(s): {', '.join(readers)}", markup=False)
    store_down = next((d["store_down"] for d in deliveries if d.get("store_down")), None)
    if store_down:  # the mailing stopped there: the readers after it were not tried
        fail_store(StoreError(f"the store: {store_down}"))  # its line; exit 1 below
    if result["failed_sources"] or any(mail_problems.values()):
        raise typer.Exit(code=1)


def status_cell(source_id: str, error: str | None, warnings: Sequence[str]) -> Text:
    """A source's status for a console table. Plain `Text`, never markup: the messages carry
    what servers sent, and a "[/red]" in a feed must not break (or restyle) the table."""
    if error:
        return Text(f"error: {_without_id(source_id, error)}", style="red")
    if warnings:
        more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
        return Text(f"warning: {_without_id(source_id, warnings[0])}{more}", style="yellow")
    return Text("ok", style="green")


def _without_id(source_id: str, message: str) -> str:
    # the row names the source already
    return message.removeprefix(f"[{source_id}] ")


RUN_STOPPED = "the run stopped{held}; run it again to finish the week"


def stop_temporary_servers() -> None:
    """Stop the temporary Prefect servers this process started (each would outlive an os._exit)."""
    try:
        from prefect.server.api.server import SubprocessASGIServer

        from flows.local_server import LocalServer

        # the command's own server (`flows.local_server`) keeps its instances apart
        for server in [*SubprocessASGIServer._instances.values(), *LocalServer._instances.values()]:
            server.stop()
    except Exception:  # a server already gone, or Prefect's internals moved
        pass


def stop_now(
    signum: int,
    frame: Any = None,
    *,
    exit: Callable[[int], Any] = os._exit,
    stop_servers: Callable[[], None] = stop_temporary_servers,
    stopped: str = RUN_STOPPED,
) -> None:
    """Ctrl-C reaches Prefect's temporary server too (one process group), and the flow would
    then wait on a dead API for ever: stop at once instead. The week locks this process holds
    are released (the week is not blocked for hours) and the temporary server is stopped."""
    from dltheory_digest.store.deliveries import settle_held_deliveries
    from dltheory_digest.store.locks import release_held_locks

    # before the exit, which no `finally` of the mail code outlives: a reader whose message was
    # being handed over is recorded `unconfirmed`, never left for the next run to mail again
    why = (
        "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"the run was stopped ({_signal_name(signum)})"
    )
    settled = settle_held_deliveries(why)
    released = release_held_locks()
    stop_servers()
    held = (
        f"; released the lock of {', '.join(n.removeprefix('week-') for n in released)}" if released else ""
    )
    err_console.print(f"interrupted: {stopped.format(held=held)}", highlight=False)
    for row in settled:
        err_console.print(f"mail to {row.reader}: {row.status} ({row.error})", markup=False)
    exit(128 + signum)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextmanager
def stopping_on_signals(stopped: str = RUN_STOPPED, **stop: Any) -> Iterator[None]:
    """`stop_now` on SIGINT and SIGTERM while the body runs (only in the main thread); `stop`
    passes `exit` and `stop_servers` on to it (tests)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    on_signal = functools.partial(stop_now, stopped=stopped, **stop)
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_flow(**params: Any) -> RunResult:
    quiet_prefect_defaults()
    from sqlalchemy.exc import SQLAlchemyError

    from flows.local_server import local_server
    from flows.weekly_digest import weekly_digest

    try:
        # without PREFECT_API_URL: a server that ends with this command, even a killed one
        with stopping_on_signals(), local_server():
            state = weekly_digest(**params, return_state=True)
            # a run whose mail did not go through ends Failed with its result as data (the summary
            # and `exit_on_failures` say what failed); any other failure carries its exception
            result = state.result(raise_on_failure=False)
            if isinstance(result, BaseException):
                raise result
            if not isinstance(result, dict):
                state.result()  # raises what ended the run
                raise RuntimeError(f"the run ended {state.name} without a result")
    except ConfigError as exc:
        raise fail_config(exc) from None
    except StoreError as exc:  # checked before the run; this is one that went wrong during it
        raise fail_store(exc, code=1) from None
    except SQLAlchemyError as exc:  # a write in the middle of the run (locked, disk full)
        raise fail_store_query(exc) from None
    return result


@app.command()
def run(
    week: Annotated[
        str | None, typer.Option(help="ISO week like 2026-W47 (default: the last complete week)")
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option(
            help="comma-separated source ids (default: all enabled); leaving one out mails no reader"
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(help="backfill from this date (YYYY-MM-DD)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="write the digest but mail nobody")] = False,
    resend: Annotated[bool, typer.Option("--resend", help="mail readers who already got this week")] = False,
) -> None:
    """The live weekly job: fetch every source, build the week's digest, write it and mail it."""
    wanted = check_source_ids(sources)
    settings, _ = check_config({}, wanted)
    target = check_week(week, settings.zone) if week else None
    check_since(since, target, settings.zone)
    if not dry_run and settings.readers:
        check_smtp(settings)
    check_store(settings, target or run_week(settings))
    check_run_files(settings)
    result = run_flow(
        week=str(target) if target else None, sources=wanted, since=since, dry_run=dry_run, resend=resend
    )
    print_summary(result, partial=partial_line(settings, result))
    exit_on_failures(result)


def run_week(settings: Settings) -> Week:
    """The week a run without `--week` builds (the flow's rule): the last complete one."""
    from dltheory_digest.weeks import last_complete_week

    return last_complete_week(settings.zone)


def partial_line(settings: Settings, result: RunResult) -> str | None:
    """The console's word that the digest covers a week still under way, and up to when (what
    its file opens with), readers or none; None for a finished week or a run that wrote none."""
    from zoneinfo import ZoneInfo

    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest.digest import digest_from_json
    from dltheory_digest.store import open_store, records
    from dltheory_digest.weeks import Week

    week = Week.parse(result["week"]) if result.get("week") else None
    if week is None or week.is_complete(settings.zone) or "path" not in result:
        return None
    try:
        store = open_store(settings.resolved_store_url)
        try:
            stored = records.get_digest(store, str(week))
        finally:
            store.close()
    except (StoreError, SQLAlchemyError):
        return None  # the run is done and its file says it is partial: no error for this line
    digest = digest_from_json(stored.data) if stored is not None and stored.data else None
    if digest is None or digest.covers_until is None:
        return None
    # in the digest's own zone, as its file says it
    until = digest.covers_until.astimezone(ZoneInfo(digest.timezone))
    return f"partial: {week} is still under way; this digest covers up to {until:%Y-%m-%d %H:%M} ({digest.timezone})"


DRY_RUN_SUMMARY = "dry run: no reader was mailed, and the sent-ledger is as it was"


@app.command()
def demo(
    output_dir: Annotated[
        Path | None, typer.Option(help="where the digest is written (default: the output_dir setting)")
    ] = None,
    email_to: Annotated[
        list[str] | None,
        typer.Option(
            "--email-to", help="mail the digest to this address (repeatable, or a comma-separated list)"
        ),
    ] = None,
) -> None:
    """Run the real flow on a bundled snapshot of the sources, served on 127.0.0.1 (no network needed)."""
    from dltheory_digest.cli.checks import fail_usage
    from dltheory_digest.demo import (
        DEMO_WEEK,
        SnapshotServer,
        demo_settings_overrides,
        demo_target,
        write_demo_sources,
    )

    recipients = check_addresses(email_to, "--email-to")
    # the demo overrides some settings, but a broken settings file is worth knowing about now;
    # a misspelt variable is named once, by `check_config` below
    configured = load_checked_settings(warn=False)
    output_dir = check_output_dir(output_dir or configured.output_dir, "--output-dir").resolve()
    try:  # refused now rather than after the run when there is nowhere the demo may write
        demo_target(output_dir, DEMO_WEEK)
    except FileExistsError as exc:
        raise fail_usage(f"--output-dir: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="dltheory-demo-") as tmp, SnapshotServer() as server:
        work = Path(tmp)
        sources_file = write_demo_sources(server.base_url, work / "sources.yaml")
        # the flow writes <week>.md into a folder of the demo's own; `place_demo_digest` then
        # copies it out, marked, without replacing a real digest of the same week
        overrides = demo_settings_overrides(server.base_url, work / "data", work / "outputs")
        overrides["sources_file"] = str(sources_file)
        # the demo mails only --email-to, never the readers configured for the real digest
        overrides["readers"] = ()
        settings, _ = check_config(overrides)
        if recipients:
            check_smtp(settings)
            for line in demo_mail_lines(configured, recipients):
                console.print(line, markup=False)
        console.print(f"serving the demo snapshot at {server.base_url}")
        result = run_flow(
            week=DEMO_WEEK, settings_overrides=overrides, email_to=recipients or None, demo=True
        )
        result = place_demo_digest(result, output_dir)
    print_summary(result)
    exit_on_failures(result)


def demo_mail_lines(configured: Settings, recipients: Sequence[str]) -> list[str]:
    """What the demo mails to whom: the whole digest, in English, marked as the demo. A
    configured reader named with --email-to is told apart: their filters and language make
    their weekly edition, not the demo's, which is for trying the mail out."""
    from dltheory_digest.mail import has_filters, language_name

    lines = [
        f"the demo mails the whole digest, in English and marked as the demo, to {', '.join(recipients)}"
    ]
    readers = {r.email.lower(): r for r in configured.readers}
    for address in recipients:
        reader = readers.get(address.lower())
        if reader is None:
            continue
        own = [f"{language_name(reader.language)} edition"] if reader.language != "en" else []
        own += ["filters"] if has_filters(reader) else []
        if own:
            lines.append(
                f"{address} is a configured reader: the demo leaves out their {' and '.join(own)}, "
                "which their weekly digest applies"
            )
    return lines


def place_demo_digest(result: RunResult, output_dir: Path) -> RunResult:
    """`result` with the demo's digest copied from the run's folder into `output_dir`: as
    <week>.md, or as <week>.demo.md beside a real digest of the week (said on the console)."""
    from dltheory_digest.demo import write_demo_digest

    written = Path(str(result.get("path") or ""))
    if not written.is_file():  # nothing was written (the run kept an earlier digest)
        return result
    try:
        target = write_demo_digest(output_dir, str(result["week"]), written.read_text(encoding="utf-8"))
    except OSError as exc:
        err_console.print(
            Text.assemble(("error:", "bold red"), f" the demo's digest: {exc}"), highlight=False
        )
        raise typer.Exit(code=1) from None
    if target.left_alone is not None:
        console.print(
            Text.assemble(
                (str(target.left_alone), "bold"),
                " was not written by the demo: it is left as it is, and the demo's digest is written beside it",
            )
        )
    return {**result, "path": str(target.path)}


@sources_app.command("check")
def sources_check(
    source: Annotated[str | None, typer.Option("--source", help="check only this source id")] = None,
) -> None:
    """Fetch each enabled source once and print a health table."""
    from dltheory_digest import pipeline
    from dltheory_digest.fetch import PoliteClient
    from dltheory_digest.mail import local_time
    from dltheory_digest.sources import PlanContext
    from dltheory_digest.store import last_successes, record_fetches
    from dltheory_digest.weeks import last_complete_week

    settings, specs = check_config({}, [source] if source else None)
    store = open_checked_store(settings)
    start, end = last_complete_week(settings.zone).window(settings.zone)
    reports = []
    with PoliteClient(contact=settings.contact, cache_path=settings.resolved_http_cache) as client:
        for spec in specs:
            context = PlanContext(window_start=start, window_end=end, arxiv_api_base=settings.arxiv_api_base)
            collected = pipeline.collect_source(spec, client, context)
            record_fetches(store, client.drain_records())
            reports.append(collected.report)
    successes = last_successes(store)
    table = Table(title="source health")
    for column in ("source", "kind", "status", "items", "latency", "cache", "last success"):
        table.add_column(column, no_wrap=column == "source")

    for spec, report in zip(specs, reports, strict=True):
        status = status_cell(spec.id, report.error, report.warnings)
        when = successes.get(spec.id)
        table.add_row(
            spec.id,
            spec.kind,
            status,
            parsed_cell(report.parsed, report.cited),
            f"{report.elapsed_ms / 1000:.1f} s",
            f"{report.cache_hits}/{report.fetched}",
            local_time(when, settings.zone) if when else "never",
        )
    console.print(table)
    failed = [spec.id for spec, report in zip(specs, reports, strict=True) if report.error]
    if looks_offline([pipeline.report_summary(r) for r in reports]):
        err_console.print(OFFLINE_SUMMARY, markup=False)
    if failed:
        err_console.print(f"{len(failed)} source(s) failed: {', '.join(failed)}", markup=False)
        raise typer.Exit(code=1)
