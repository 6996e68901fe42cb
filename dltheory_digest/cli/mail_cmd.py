"""Delivery commands: `send` a stored week's digest, `preview` the email's HTML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.checks import (
    check_addresses,
    check_week,
    fail_config,
    fail_store,
    fail_store_query,
    fail_usage,
    load_checked_settings,
    open_checked_store,
)
from dltheory_digest.cli.files import writing
from dltheory_digest.errors import ConfigError, DigestError, StoreError
from dltheory_digest.weeks import Week

if TYPE_CHECKING:
    from dltheory_digest.config import Settings
    from dltheory_digest.mail import DeliveryResult
    from dltheory_digest.models import Digest
    from dltheory_digest.store import Store

WeekOption = Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W47")]


def _check_week(week: str) -> str:
    """The week in its canonical spelling (`2026w47` -> `2026-W47`), as the store keys it."""

    return str(check_week(week))


def load_week(settings: Settings, store: Store | None, week: str) -> Digest | str | None:
    """The stored digest of `week`: the full Digest (filters and translation then work per reader),
    else its Markdown (from the store, else outputs/<week>.md), else None."""
    from dltheory_digest import digest as digest_stage

    if store is not None:
        from dltheory_digest.store import get_digest

        stored = get_digest(store, week)
        if stored is not None:
            return digest_stage.digest_from_json(stored.data) if stored.data else stored.markdown
    from dltheory_digest.store.files import DEMO_MARKER

    markdown_file = settings.output_dir / f"{week}.md"
    if markdown_file.is_file():
        markdown = markdown_file.read_text(encoding="utf-8")
        # the demo's file opens with its marker, which has no place in a mail
        return markdown.removeprefix(f"{DEMO_MARKER}\n")
    return None


def no_digest_error(settings: Settings, week: str) -> str:
    """Where `load_week` looked, by full path, and how to point it at a digest written elsewhere."""
    looked_in = settings.output_dir.resolve() / f"{week}.md"
    return (
        f"[bold red]error:[/] no digest for {week} in the store or at {escape(str(looked_in))}; "
        "a digest written elsewhere (`demo --output-dir DIR`) is found by setting output_dir "
        "to that directory (DLTHEORY_OUTPUT_DIR=DIR, or output_dir in the settings file); "
        f"or run `dltheory-digest run --week {week}` first"
    )


def make_translator(settings: Settings, store: Store) -> Any:
    """The run's Translator (`pipeline.default_translator`: the store's cache, the operator's
    `glossary_file`), or None when the language stage cannot load: editions then fall back to
    English and say so. A glossary file the run would refuse is refused here too (exit 2)."""
    try:
        from dltheory_digest.pipeline import default_translator

        return default_translator(settings, store)
    except ConfigError as exc:
        raise fail_config(exc) from None
    except (ImportError, DigestError, OSError):
        return None


def print_results(results: list[DeliveryResult]) -> None:
    from dltheory_digest.mail import papers_text

    table = Table(title="deliveries")
    for column in ("reader", "status", "edition", "papers", "attempts", "message-id", "detail"):
        table.add_column(column)
    colour = {
        "sent": "green", "failed": "red", "skipped": "yellow", "dry-run": "cyan", "held": "red",
        "unconfirmed": "magenta",
    }  # fmt: skip
    for r in results:
        # plain text: a server's reply or an address may hold "[...]", which rich would take as markup
        table.add_row(
            escape(r.reader),
            f"[{colour.get(r.status, 'white')}]{escape(r.status_text)}[/]",
            escape(r.language),
            papers_text(r.status, r.papers),
            str(r.attempts),
            escape(r.message_id),
            escape(r.detail),
        )
    console.print(table)


# one string per paragraph: the help screen wraps it to the terminal
SEND_HELP = (
    "Mail a stored week's digest to the readers, each once (the delivery ledger remembers).\n\n"
    "Readers who already have the week are skipped (--resend sends again, with a new Message-ID), "
    "and so are readers whose last message may have arrived unconfirmed (--resend sends it again "
    "with the same Message-ID) and readers another run is mailing at that moment. When only the week's Markdown is "
    "available (an outputs/<week>.md file without the store's digest), readers "
    "with filters or a zh/ar edition are held back: nothing is sent to them and the command exits 1; "
    "`run --week` rebuilds the digest, or --force sends them the Markdown as it is. The file `demo` "
    "writes is never mailed to the readers as the week's digest (--to ADDR mails it to another "
    "address, with [demo] before its subject).\n\n"
    "While the week is under way its configured readers are held back too (exit 1): mailed now, "
    "they would get part of the week and then be skipped. --dry-run applies the same rules."
)


@app.command(help=SEND_HELP)
def send(
    week: WeekOption,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="send only to this address (repeatable, or a comma-separated list); default: every configured reader",
        ),
    ] = None,
    resend: Annotated[
        bool, typer.Option("--resend", help="send again to readers who already have it")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="build each edition and show who `send` would mail, send nothing"),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="when only the week's Markdown is kept, send it unfiltered and in English also to "
            "readers with filters or a zh/ar edition (otherwise they are held back)",
        ),
    ] = False,
) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        _send(week, to, resend=resend, dry_run=dry_run, force=force)
    except SQLAlchemyError as exc:  # outside the mailing (which stops and says so itself)
        raise fail_store_query(exc) from None


def _send(week: str, to: list[str] | None, *, resend: bool, dry_run: bool, force: bool) -> None:
    from dltheory_digest import mail, pipeline

    week = _check_week(week)
    recipients = check_addresses(to, "--to")
    settings = load_checked_settings()
    readers = mail.readers_for(settings, recipients)
    if not readers:
        err_console.print(
            "[bold red]error:[/] no readers: configure `readers` in the settings or pass --to ADDR"
        )
        raise typer.Exit(code=2)
    parsed_week = Week.parse(week)
    if not parsed_week.has_started(settings.zone):
        err_console.print(f"[bold red]error:[/] no digest for {week}: the week has not started yet")
        raise typer.Exit(code=1)
    # as in `run`: mailed now, a reader would get part of the week and then be skipped; a dry run
    # applies the same rule, so it shows what `send` would do
    reason = pipeline.readers_held_back(settings, parsed_week) or _stored_digest_problem(
        settings, parsed_week
    )
    recipients, kept_back = pipeline.split_recipients(settings, recipients, reason)
    languages = {r.email.lower(): r.language for r in settings.readers}
    held_back = [
        mail.DeliveryResult(
            reader=a,
            week=week,
            status="held",
            message_id="",
            language=languages.get(a.lower(), "en"),
            note=reason,
        )
        for a in kept_back
    ]
    if kept_back:
        err_console.print(
            f"error: {'send would not mail' if dry_run else 'not sent to'} {', '.join(kept_back)}: {reason}"
            + ("" if recipients else " (--to ADDR mails an address that is not a reader now)"),
            markup=False,
        )
    if not recipients:
        if dry_run:
            print_results(held_back)
        raise typer.Exit(code=1)
    readers = mail.readers_for(settings, recipients)
    try:
        smtp = mail.SmtpSettings.from_settings(settings)
    except ConfigError as exc:
        if not dry_run:
            raise fail_config(exc) from None
        smtp = mail.SmtpSettings(
            host="localhost", port=25, mail_from=settings.mail_from or "dltheory-digest@localhost"
        )
    store = open_checked_store(settings)
    try:
        stored = load_week(settings, store, week)
        if stored is None:
            err_console.print(no_digest_error(settings, week))
            raise typer.Exit(code=1)
        if isinstance(stored, str):
            from dltheory_digest.store.files import written_by_demo

            results = mail.deliver_markdown(
                store,
                week=week,
                markdown=stored,
                readers=readers,
                smtp=smtp,
                resend=resend,
                dry_run=dry_run,
                force=force,
                zone=settings.zone,
                source_names=_source_names(settings),
                # only an address that is not a reader gets it (`_stored_digest_problem`)
                demo=written_by_demo(settings.output_dir / f"{week}.md"),
            )
        else:
            results = mail.deliver(
                store,
                week=week,
                digest=stored,
                readers=readers,
                smtp=smtp,
                resend=resend,
                dry_run=dry_run,
                # as the run's: its glossary also matches readers' keywords in zh/ar titles
                translator=make_translator(settings, store),
                zone=settings.zone,
            )
    finally:
        store.close()
    print_results(held_back + results)
    held = [r.reader for r in results if r.status == "held"]
    if held:
        err_console.print(
            f"[bold red]error:[/] only the Markdown of {week} is kept, so {escape(', '.join(held))} "
            f"(filters or a zh/ar edition) got nothing: run `dltheory-digest run --week {week}` to "
            "rebuild the digest, or pass --force to send them the unfiltered English digest"
        )
    stopped = next((r for r in results if r.store_down), None)
    if stopped is not None:  # the table says who was mailed before the store failed
        raise fail_store(StoreError(f"the store: {stopped.store_down}"), code=1)
    down = next((r for r in results if r.server_down == mail.NOT_TRIED), None)
    if down is not None:
        err_console.print(
            f"[bold red]error:[/] the SMTP server failed ({escape(down.error or '')}); the remaining "
            "readers were recorded as failed without being tried"
        )
    if kept_back or any(not r.ok for r in results):
        raise typer.Exit(code=1)


def _stored_digest_problem(settings: Settings, week: Week) -> str | None:
    """Why the week's stored digest must not go to the readers: a dry run's (the sent-ledger has
    none of it, so the next week would show its papers as new again), or one made while the week
    was under way (the readers would get part of the week, then be skipped for the whole)."""
    from dltheory_digest.store import get_digest
    from dltheory_digest.store.files import written_by_demo

    store = open_checked_store(settings)
    try:
        stored = get_digest(store, str(week))
    finally:
        store.close()
    # `run` mails the readers itself once it has recorded what they get: no `send` after it
    run = (
        f"run `dltheory-digest run --week {week}`, which rebuilds the week, records it and mails the readers"
    )
    if stored is None:
        if written_by_demo(settings.output_dir / f"{week}.md"):
            # mailed as the week's digest, it would also make the real one skip them
            return (
                f"the digest of {week} in {settings.output_dir} is the demo's, built from the bundled "
                f"snapshot: run `dltheory-digest run --week {week}` for the real one"
            )
        return None
    if not stored.published:
        return f"the stored digest of {week} is a dry run's, recorded nowhere: {run}"
    if stored.created_at < week.window(settings.zone)[1]:
        return f"the stored digest of {week} was made while the week was under way: {run}"
    return None


def _source_names(settings: Settings) -> dict[str, str]:
    """Source id -> name from sources.yaml, for a week kept only as Markdown (its file names
    sources by id); none when the file cannot be read (the ids are shown then)."""
    from dltheory_digest.config import load_sources

    try:
        return {spec.id: spec.display_name for spec in load_sources(settings.sources_file)}
    except (ConfigError, OSError):
        return {}


@app.command()
def preview(
    week: WeekOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")],
    reader: Annotated[
        str | None, typer.Option("--reader", help="show this configured reader's edition (filters, language)")
    ] = None,
) -> None:
    """Write the email's HTML for a stored week, to open in a browser."""
    from dltheory_digest import digest as digest_stage
    from dltheory_digest import mail

    week = _check_week(week)
    settings = load_checked_settings()
    chosen = None
    if reader:
        chosen = next((r for r in settings.readers if r.email.lower() == reader.lower()), None)
        if chosen is None:
            configured = ", ".join(r.email for r in settings.readers) or "none configured"

            raise fail_usage(f"--reader: no reader {reader} in the settings (readers: {configured})")
    store = open_checked_store(settings)
    fallback: str | None = None
    try:
        stored = load_week(settings, store, week)
        if stored is None:
            err_console.print(no_digest_error(settings, week))
            raise typer.Exit(code=1)
        if isinstance(stored, str):
            if chosen is not None and mail.needs_stored_digest(chosen):
                # as `send` does: this reader's filters or language need the stored digest
                err_console.print(
                    f"[bold red]error:[/] only the Markdown of {week} is kept, and {escape(chosen.email)}'s "
                    f"edition needs the stored digest: run `dltheory-digest run --week {week}` first"
                )
                raise typer.Exit(code=1)
            # what `send` mails of it: the reader's copy, sources by their names
            html = digest_stage.render_html(
                digest_stage.reader_copy(stored, _source_names(settings)), title=week
            )
        else:
            shown = mail.preview(stored, chosen, translator=make_translator(settings, store))
            html, fallback = shown.html, shown.reason
    finally:
        store.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    with writing(output) as handle:
        handle.write(html)
    console.print(f"preview: [bold]{escape(str(output))}[/]")
    if fallback:
        # as `send` logs it: why this zh/ar reader's edition is in English, and how to fix it
        console.print(f"note: {escape(fallback)}")
