"""`dltheory-digest store info | prune`: how large the store is, and dropping what old weeks no
longer need (`store.retention`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.checks import (
    fail_store,
    fail_store_query,
    fail_usage,
    load_checked_settings,
    open_checked_store,
)
from dltheory_digest.errors import StoreError

store_app = typer.Typer(help="The store: its size, and pruning old weeks.", no_args_is_help=True)
app.add_typer(store_app, name="store")


def _size(count: int | None) -> str:
    if count is None:
        return "-"
    if count < 1000:
        return f"{count} B"
    value = count / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.2f} GB"


INFO_HELP = (
    "Rows and size of each table, the weeks the store covers, the upgrade copies beside it and "
    "the HTTP cache: what to look at before `store prune`."
)
PRUNE_HELP = (
    "Drop what weeks older than --keep-weeks no longer need. Papers sent in any week stay known: "
    "none comes back as new."
)


@store_app.command("info", help=INFO_HELP)
def info() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest.store.retention import store_info

    settings = load_checked_settings()
    store = open_checked_store(settings)
    try:
        found = store_info(store)
    except SQLAlchemyError as exc:  # e.g. a table another session holds locked past lock_timeout
        raise fail_store_query(exc) from None
    finally:
        store.close()
    console.print(f"store: {found.url}", markup=False)
    table = Table()
    table.add_column("table", no_wrap=True)
    table.add_column("rows", justify="right")
    table.add_column("size", justify="right")
    for t in sorted(found.tables, key=lambda t: -(t.bytes or 0)):
        table.add_row(t.name, str(t.rows), _size(t.bytes))
    console.print(table)
    weeks = f"{found.oldest_week} to {found.newest_week}" if found.oldest_week else "none yet"
    console.print(f"weeks: {weeks}", markup=False)
    if found.file_bytes is not None:
        console.print(
            f"file: {_size(found.file_bytes)} ({_size(found.free_bytes)} free inside it: "
            "`store prune --vacuum` gives free space back to the disk)",
            markup=False,
        )
    for path, size in found.backups:
        console.print(f"copy kept by an upgrade: {path} ({_size(size)})", markup=False)
    cache = settings.resolved_http_cache
    if cache.is_file():
        console.print(f"HTTP cache: {cache} ({_size(cache.stat().st_size)})", markup=False)


@store_app.command("prune", help=PRUNE_HELP)
def prune(
    keep_weeks: Annotated[
        int,
        typer.Option(
            "--keep-weeks",
            help="Weeks kept whole, before the current one (at least 8). Older weeks keep their "
            "digest's Markdown, the sent-ledger and the papers sent; their raw sightings and "
            "digest JSON go.",
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="Then give the freed space back to the disk (SQLite VACUUM: needs as much free "
            "disk as the store, and waits for a run in progress).",
        ),
    ] = False,
) -> None:
    from dltheory_digest.store import retention

    if keep_weeks < retention.MIN_KEEP_WEEKS:
        raise fail_usage(
            f"--keep-weeks {keep_weeks}: keep at least {retention.MIN_KEEP_WEEKS} weeks (a run reads "
            "back the weeks before it, and a rerun of a recent week needs its digest)"
        )
    settings = load_checked_settings()
    store = open_checked_store(settings)
    try:
        # weeks as the runs count them: by the date in the configured zone, not UTC's
        today = dt.datetime.now(settings.zone).date()
        report = retention.prune(store, keep_weeks=keep_weeks, today=today, dry_run=dry_run)
        vacuumed = vacuum and not dry_run and retention.vacuum(store)
    except StoreError as exc:
        raise fail_store(exc, code=1) from None
    finally:
        store.close()
    verb = "would remove" if dry_run else "removed"
    parts = [f"{count} {name}" for name, count in report.removed.items() if count]
    console.print(
        f"weeks before {report.first_kept_week}: {verb} " + (", ".join(parts) or "no rows"), markup=False
    )
    if report.digests_emptied:
        console.print(
            f"{report.digests_emptied} digest(s) {'would lose' if dry_run else 'lost'} their JSON "
            "(their Markdown is kept)",
            markup=False,
        )
    if report.digests_packed:
        console.print(
            f"{report.digests_packed} digest(s) stored plain by an older release "
            f"{'would be' if dry_run else 'were'} compressed",
            markup=False,
        )
    if vacuumed:
        console.print("the freed space was given back to the disk (VACUUM)", markup=False)
    elif vacuum and not dry_run:
        err_console.print(
            f"[yellow]note:[/] {escape(store.url)}: not SQLite; PostgreSQL's autovacuum reuses the space",
            highlight=False,
        )
    elif not dry_run and any(report.removed.values()):
        console.print(
            "the file keeps its size until `store prune --vacuum` (freed pages are reused first)",
            markup=False,
        )
