"""Running the weekly job: `run` (live), `demo` (embedded snapshot), `sources check`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.errors import ConfigError

sources_app = typer.Typer(help="Inspect the configured sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


def quiet_prefect_defaults() -> None:
    """Prefect's temporary server: generous start-up time, no telemetry (this machine may be offline)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def fail_config(exc: ConfigError) -> typer.Exit:
    err_console.print(f"[bold red]configuration error:[/] {exc}")
    return typer.Exit(code=2)


def _check_config(overrides: dict[str, Any]) -> None:
    """Validate settings and sources.yaml before anything is fetched (exit 2 on error)."""
    from dltheory_digest.config import load_settings, load_sources

    try:
        settings = load_settings(**overrides)
        load_sources(settings.sources_file)
    except ConfigError as exc:
        raise fail_config(exc) from None


def print_summary(result: dict[str, Any]) -> None:
    table = Table(title=f"dltheory-digest {result['week']}: {result['papers']} papers")
    for column in ("source", "kind", "fetched", "parsed", "new", "cache", "status"):
        table.add_column(
            column, justify="right" if column in ("fetched", "parsed", "new", "cache") else "left"
        )
    for r in result["reports"]:
        if r["error"]:
            status = f"[red]error: {r['error']}[/]"
        elif r["warnings"]:
            status = f"[yellow]{len(r['warnings'])} warning(s): {r['warnings'][0]}[/]"
        else:
            status = "[green]ok[/]"
        table.add_row(
            r["source"],
            r["kind"],
            str(r["fetched"]),
            str(r["parsed"]),
            str(r["new"]),
            str(r["cache_hits"]),
            status,
        )
    console.print(table)
    hits, new = result.get("translation_cache_hits", 0), result.get("translations_new", 0)
    console.print(f"translations: {new} new, {hits} from the cache")
    for d in result.get("deliveries") or []:
        console.print(
            f"mail to {d['reader']}: {d['status']}" + (f" ({d['error']})" if d.get("error") else "")
        )
    console.print(f"digest: [bold]{result['path']}[/]")


def run_flow(**params: Any) -> dict[str, Any]:
    quiet_prefect_defaults()
    from flows.weekly_digest import weekly_digest

    try:
        result: dict[str, Any] = weekly_digest(**params)
    except ConfigError as exc:
        raise fail_config(exc) from None
    return result


@app.command()
def run(
    week: Annotated[
        str | None, typer.Option(help="ISO week like 2026-W47 (default: the last complete week)")
    ] = None,
    sources: Annotated[
        str | None, typer.Option(help="comma-separated source ids (default: all enabled)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="backfill from this date (YYYY-MM-DD)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="write the digest but mail nobody")] = False,
    resend: Annotated[bool, typer.Option("--resend", help="mail readers who already got this week")] = False,
) -> None:
    """The live weekly job: fetch every source, build the week's digest, write it and mail it."""
    _check_config({})
    if week:
        _validate_week(week)
    result = run_flow(
        week=week,
        sources=[s.strip() for s in sources.split(",") if s.strip()] if sources else None,
        since=since,
        dry_run=dry_run,
        resend=resend,
    )
    print_summary(result)
    if result["failed_sources"]:
        err_console.print(
            f"[bold red]{len(result['failed_sources'])} source(s) failed:[/] {', '.join(result['failed_sources'])}"
        )
        raise typer.Exit(code=1)


def _validate_week(week: str) -> None:
    from dltheory_digest.weeks import Week

    try:
        Week.parse(week)
    except ValueError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option(help="where the digest is written")] = Path("outputs"),
    email_to: Annotated[
        list[str] | None, typer.Option("--email-to", help="mail the digest to this address (repeatable)")
    ] = None,
) -> None:
    """Run the real flow on a bundled snapshot of the sources, served on 127.0.0.1 (no network needed)."""
    from dltheory_digest.demo import DEMO_WEEK, SnapshotServer, demo_settings_overrides, write_demo_sources

    with tempfile.TemporaryDirectory(prefix="dltheory-demo-") as tmp, SnapshotServer() as server:
        work = Path(tmp)
        sources_file = write_demo_sources(server.base_url, work / "sources.yaml")
        overrides = demo_settings_overrides(server.base_url, work / "data", output_dir.resolve())
        overrides["sources_file"] = str(sources_file)
        _check_config(overrides)
        console.print(f"serving the demo snapshot at {server.base_url}")
        result = run_flow(week=DEMO_WEEK, settings_overrides=overrides, email_to=list(email_to or []) or None)
    print_summary(result)
    failed_mail = [d for d in result.get("deliveries") or [] if d["status"] == "failed"]
    if result["failed_sources"] or failed_mail:
        raise typer.Exit(code=1)


@sources_app.command("check")
def sources_check(
    source: Annotated[str | None, typer.Option("--source", help="check only this source id")] = None,
) -> None:
    """Fetch each enabled source once and print a health table."""
    import datetime as dt

    from dltheory_digest import pipeline
    from dltheory_digest.config import load_settings, load_sources
    from dltheory_digest.fetch import PoliteClient
    from dltheory_digest.sources import PlanContext
    from dltheory_digest.store import last_successes, open_store, record_fetches
    from dltheory_digest.weeks import last_complete_week

    try:
        settings = load_settings()
        specs = pipeline.select_sources(load_sources(settings.sources_file), [source] if source else None)
    except ConfigError as exc:
        raise fail_config(exc) from None
    store = open_store(settings.resolved_store_url)
    start, end = last_complete_week(settings.zone).window(settings.zone)
    reports = []
    with PoliteClient(contact=settings.contact, cache_path=settings.resolved_http_cache) as client:
        for spec in specs:
            collected = pipeline.collect_source(spec, client, PlanContext(window_start=start, window_end=end))
            record_fetches(store, client.drain_records())
            reports.append(collected.report)
    successes = last_successes(store)
    table = Table(title="source health")
    for column in ("source", "kind", "status", "items", "latency", "cache", "last success"):
        table.add_column(column)
    for spec, report in zip(specs, reports, strict=True):
        if report.error:
            status = f"[red]{report.error}[/]"
        elif report.warnings:
            status = f"[yellow]{report.warnings[0]}[/]"
        else:
            status = "[green]ok[/]"
        when = successes.get(spec.id)
        table.add_row(
            spec.id,
            spec.kind,
            status,
            str(report.parsed),
            f"{report.elapsed_ms / 1000:.1f} s",
            f"{report.cache_hits}/{report.fetched}",
            when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "never",
        )
    console.print(table)
    if any(r.error for r in reports):
        raise typer.Exit(code=1)
