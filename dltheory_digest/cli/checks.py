"""The checks every command makes before anything starts: options, settings and sources are
refused with one line on stderr and exit status 2, before a fetch or a Prefect server."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from dltheory_digest.cli.app import err_console
from dltheory_digest.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest.config import Settings, SourceSpec
    from dltheory_digest.store import Store, Upgrade
    from dltheory_digest.weeks import Week


def quiet_prefect_defaults() -> None:
    """Prefect's temporary server: generous start-up time, no telemetry (this machine may be offline)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def fail_config(exc: ConfigError) -> typer.Exit:
    # escaped: messages quote user text such as `[cs.LG]`, which Rich would take for markup
    err_console.print(f"[bold red]configuration error:[/] {escape(str(exc))}", highlight=False)
    return typer.Exit(code=2)


def fail_usage(message: str) -> typer.Exit:
    """One line on stderr, exit status 2: bad input, refused before anything starts."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code=2)


def split_ids(text: str | None) -> list[str] | None:
    return [s.strip() for s in text.split(",") if s.strip()] or None if text else None


def check_source_ids(text: str | None) -> list[str] | None:
    """`--sources`: the ids given, or None when the option is left out. Given but empty (an unset
    shell variable, a stray comma) is refused: it would read, and mail, every source."""
    ids = split_ids(text)
    if text is not None and ids is None:
        raise fail_usage("--sources: no source id given (leave the option out to read every enabled source)")
    return ids


def check_config(
    overrides: dict[str, Any], sources: list[str] | None = None, *, need_sources: bool = True
) -> tuple[Settings, list[SourceSpec]]:
    """Validate the settings, sources.yaml and the `--sources` ids before anything is fetched or
    any Prefect server starts (exit 2 on error). With nothing to fetch a command that fetches is
    refused: its run would write (and mail) an empty digest over the week's; others are warned."""
    from dltheory_digest import pipeline
    from dltheory_digest.config import load_sources

    settings = load_checked_settings(overrides)
    try:
        specs = list(load_sources(settings.sources_file))
        selected = pipeline.select_sources(specs, sources)
        if need_sources:
            pipeline.require_sources(selected, settings.sources_file)
    except ConfigError as exc:
        raise fail_config(exc) from None
    if not selected:
        err_console.print(
            f"[yellow]warning:[/] {escape(str(settings.sources_file))}: no enabled sources, nothing to fetch",
            highlight=False,
        )
    return settings, selected


def load_checked_settings(overrides: Mapping[str, Any] | None = None, *, warn: bool = True) -> Settings:
    """The settings, as every command loads them: first a warning for each misspelt `DLTHEORY_*`
    variable (its setting is left at the default, which may be why the settings then fail; `warn`
    False when the command warns another way), then a bad settings file or value is one line
    and exit 2."""
    from dltheory_digest.config import load_settings

    if warn:
        warn_misspelled_variables()
    try:
        return load_settings(**(overrides or {}))
    except ConfigError as exc:
        raise fail_config(exc) from None


def fail_store(exc: StoreError, code: int = 2) -> typer.Exit:
    """One line naming the store and what is wrong with it (exit 2 before anything started)."""
    err_console.print(f"[bold red]store error:[/] {escape(str(exc))}", highlight=False)
    return typer.Exit(code=code)


def fail_store_query(exc: SQLAlchemyError) -> typer.Exit:
    """A query that failed once the command was under way (the database server gone, a lock
    timeout, a value its column refuses): one `store error:` line and exit 1, not a traceback."""
    from dltheory_digest.store.db import store_problem

    return fail_store(StoreError(f"the store: {store_problem(exc)}"), code=1)


def open_checked_store(settings: Settings) -> Store:
    """Open (create, upgrade) the store: a file that is not SQLite, damaged, read-only or of a
    newer version is one line and exit 2, not a traceback. Upgrading an existing store is one
    line on stderr (an older dltheory-digest refuses it afterwards), naming the copy kept."""
    from dltheory_digest.store import open_store

    try:
        return open_store(settings.resolved_store_url, on_upgrade=say_upgraded)
    except StoreError as exc:
        raise fail_store(exc) from None


def say_upgraded(upgrade: Upgrade) -> None:
    err_console.print(upgrade.message(), markup=False, highlight=False)


def check_store(settings: Settings, week: Week | None = None) -> None:
    """`open_checked_store` before a run, so its error comes before a Prefect server starts.
    With the run's `week`: a sent week whose digest `store prune` removed is refused now, one
    line and exit 2 (`pipeline.pruned_week`), not at the build after the whole fetch."""
    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest import pipeline

    store = open_checked_store(settings)
    try:
        refused = pipeline.pruned_week(store, week) if week is not None else None
    except SQLAlchemyError as exc:
        raise fail_store_query(exc) from None
    finally:
        store.close()
    if refused:
        raise fail_usage(f"--week: {refused}")


def check_run_files(settings: Settings) -> None:
    """What a run reads or writes after its fetch, checked before it: the operator's taxonomy
    and glossary files (a bad one is a configuration error naming the file and the field) and
    an `output_dir` the digest can be written into. Found after the fetch, either cost the
    whole fetch and ended in a traceback."""
    from dltheory_digest.pipeline import check_stage_files

    try:
        check_stage_files(settings)  # the flow's own check, for runs of the served deployments
    except ConfigError as exc:
        raise fail_config(exc) from None
    check_output_dir(settings.output_dir, "output_dir")
    try:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        # the digest is written through a temporary file beside it: try one
        with tempfile.NamedTemporaryFile(dir=settings.output_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise fail_usage(
            f"output_dir: cannot write the digest into {settings.output_dir}: {reason}"
        ) from None


def warn_misspelled_variables() -> None:
    """A mistyped `DLTHEORY_*` variable is ignored, its setting left at the default: say so."""
    from dltheory_digest.config import misspelled_environment_variables

    for variable, meant in misspelled_environment_variables():
        err_console.print(
            f"[yellow]warning:[/] environment variable {escape(variable)} is not a setting (did you "
            f"mean {meant}?): it is ignored",
            highlight=False,
        )


def check_week(text: str, zone: ZoneInfo | None = None, *, now: dt.datetime | None = None) -> Week:
    """Parse `--week`; with a zone, refuse a week that has not started and warn that the current
    week is partial (a manual refresh of it is still useful). The rule is the flow's
    (`pipeline.parse_week`)."""
    from dltheory_digest import pipeline

    try:
        week = pipeline.parse_week(text, zone, now=now)
    except ConfigError as exc:
        raise fail_usage(f"--week: {exc}") from None
    if zone is not None and not week.is_complete(zone, now):
        err_console.print(
            f"[yellow]warning:[/] {week} is not over yet: its digest covers only the days so far",
            highlight=False,
        )
    return week


def check_since(text: str | None, week: Week | None = None, zone: ZoneInfo | None = None) -> dt.date | None:
    """Parse `--since`; with a zone, refuse a date after the end of the target week (`week`, or the
    last complete one). The rule is the flow's (`pipeline.parse_since`)."""
    from dltheory_digest import pipeline

    try:
        return pipeline.parse_since(text, week, zone)
    except ConfigError as exc:
        raise fail_usage(f"--since: {exc}") from None


def check_output_dir(path: Path, option: str) -> Path:
    """A directory to write into: refused now when a file is in the way, not after the fetch."""
    from dltheory_digest.config import file_in_the_way

    blocker = file_in_the_way(path)
    if blocker is not None:
        raise fail_usage(f"{option}: {blocker} is a file, not a directory")
    return path


def check_addresses(addresses: list[str] | None, option: str) -> list[str]:
    """Each address must look like one (`pipeline.check_addresses`, the flow's rule too); the
    option is repeatable and also takes a comma-separated list (`--to a@x,b@y`)."""
    from dltheory_digest import pipeline

    split = [part.strip() for value in addresses or () for part in value.split(",") if part.strip()]
    try:
        return pipeline.check_addresses(split)
    except ConfigError as exc:
        raise fail_usage(f"{option}: {exc}") from None


def check_smtp(settings: Settings) -> None:
    """Mail will be sent: the SMTP settings must be complete now, not after a whole week's fetch.
    A Prefect Secret block is only read when the mail goes out (it needs the Prefect API)."""
    from dltheory_digest import mail

    if settings.smtp_block:
        return
    try:
        smtp = mail.SmtpSettings.from_settings(settings)
    except ConfigError as exc:
        raise fail_config(exc) from None
    try:
        # connect, log in and offer the sender now: a refusal (TLS required, a wrong login,
        # the sender refused) would otherwise be found after the whole fetch, reader by reader
        mail.check_server(smtp)
    except ConfigError as exc:  # an `smtp_ca_file` without PEM certificates
        raise fail_config(exc) from None
    except mail.ServerUnavailable as exc:
        if not exc.transient:
            raise fail_config(
                ConfigError(f"the SMTP server refuses the mail settings: {exc.reason}")
            ) from None
        # down now may be up by the time the digest is made: the run goes on, mail retries then
        err_console.print(
            f"[yellow]warning:[/] the SMTP server cannot be used now ({escape(exc.reason)}); "
            "the run goes on and tries again when it mails",
            highlight=False,
        )
