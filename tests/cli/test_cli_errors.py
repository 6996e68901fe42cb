"""Bad input is refused in one line, exit status 2, before a flow (or a Prefect server) starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from dltheory_digest.cli import app, orchestrate_cmd, run_cmd
from dltheory_digest.weeks import Week
from tests.test_mail import Mailbox

runner = CliRunner()
DEAD_FEED = "  - {id: dead, kind: feed, url: 'http://127.0.0.1:9/feed.xml', politeness: {timeout: 2}}\n"
DISABLED_FEED = "  - {id: dead, kind: feed, url: 'http://127.0.0.1:9/feed.xml', enabled: false}\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a valid sources.yaml and no settings file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sources.yaml").write_text("sources:\n" + DEAD_FEED, encoding="utf-8")
    monkeypatch.delenv("DLTHEORY_SOURCES_FILE", raising=False)
    return tmp_path


@pytest.fixture
def flow_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for the Prefect flow: records what the command would have run it with."""
    calls: list[dict[str, Any]] = []

    def record(**params: Any) -> dict[str, Any]:
        calls.append(params)
        return {"week": params.get("week"), "papers": 0, "reports": [], "failed_sources": [], "path": "-"}

    monkeypatch.setattr(run_cmd, "run_flow", record)
    monkeypatch.setattr(orchestrate_cmd, "run_flow", record)
    return calls


def refused(result: Result, message: str) -> None:
    """Exit 2, no traceback, and stderr is exactly one line starting with `message`."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message), lines[0]


def settings_file(workdir: Path, text: str) -> Path:
    path = workdir / "dltheory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["sources", "check"],
        ["models", "list"],
        ["run", "--dry-run"],
        ["refresh"],
        ["demo"],
        ["preview", "--week", "2026-W46", "-o", "p.html"],
    ],
)
def test_malformed_settings_file(workdir: Path, flow_calls: list[dict[str, Any]], command: list[str]) -> None:
    settings_file(workdir, "timezone: [UTC\n")
    refused(runner.invoke(app, command), "configuration error: dltheory.yaml: not valid YAML (line 1)")
    assert flow_calls == []


def test_settings_file_that_is_not_a_mapping(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = workdir / "listed.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(listed))
    refused(
        runner.invoke(app, ["sources", "check"]),
        "configuration error: listed.yaml: expected a mapping of settings",
    )


def test_missing_named_settings_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(workdir / "nosuch.yaml"))
    refused(
        runner.invoke(app, ["sources", "check"]),
        f"configuration error: {workdir / 'nosuch.yaml'}: settings file not found",
    )


@pytest.mark.parametrize("command", [["run", "--dry-run"], ["send", "--week", "2026-W46"], ["demo"]])
def test_unknown_reader_direction(
    workdir: Path, flow_calls: list[dict[str, Any]], command: list[str]
) -> None:
    settings_file(workdir, "readers:\n  - {email: ada@example.org, include_directions: [ntk]}\n")
    refused(
        runner.invoke(app, command),
        "configuration error: dltheory.yaml: reader 'ada@example.org': field 'include_directions': "
        "unknown direction id(s) 'ntk' (known: ",
    )
    assert flow_calls == []


@pytest.mark.parametrize("command", ["run", "refresh"])
def test_since_must_be_a_date(workdir: Path, flow_calls: list[dict[str, Any]], command: str) -> None:
    refused(
        runner.invoke(app, [command, "--dry-run", "--since", "notadate"]),
        "error: --since: not a date (YYYY-MM-DD)",
    )
    assert flow_calls == []


def test_unknown_source_id_is_refused_before_the_flow(
    workdir: Path, flow_calls: list[dict[str, Any]]
) -> None:
    refused(
        runner.invoke(app, ["run", "--dry-run", "--sources", "dead,nosuch"]),
        "configuration error: unknown source id(s): nosuch (known: dead)",
    )
    assert flow_calls == []


def test_brackets_in_a_message_are_printed_as_they_are(
    workdir: Path, flow_calls: list[dict[str, Any]]
) -> None:
    refused(
        runner.invoke(app, ["run", "--dry-run", "--sources", "[bold]"]),
        "configuration error: unknown source id(s): [bold] (known: dead)",
    )


def test_future_week_is_refused_and_the_current_one_is_partial(
    workdir: Path, flow_calls: list[dict[str, Any]]
) -> None:
    refused(
        runner.invoke(app, ["run", "--week", "2099-W01", "--dry-run"]),
        "error: --week: 2099-W01 has not started yet (it begins 2098-12-29 UTC)",
    )
    assert flow_calls == []
    current = Week.containing(dt.datetime.now(dt.UTC))
    result = runner.invoke(app, ["run", "--week", str(current).lower(), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"warning: {current} is not over yet" in result.stderr
    assert flow_calls[-1]["week"] == str(current)  # spelled as the store keys it


def test_past_week_in_lower_case_runs_without_warning(
    workdir: Path, flow_calls: list[dict[str, Any]]
) -> None:
    result = runner.invoke(app, ["refresh", "--week", "2026w40", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and flow_calls[-1]["week"] == "2026-W40"


@pytest.mark.parametrize(
    "command", [["sources", "check"], ["run", "--dry-run"], ["run"], ["refresh", "--dry-run"]]
)
@pytest.mark.parametrize("listing", ["sources: []\n", "sources:\n" + DISABLED_FEED])
def test_no_enabled_sources_is_refused(
    workdir: Path, flow_calls: list[dict[str, Any]], command: list[str], listing: str
) -> None:
    """An empty run would write "No papers this week." over the week's digest (and mail it)."""
    (workdir / "sources.yaml").write_text(listing, encoding="utf-8")
    refused(runner.invoke(app, command), "configuration error: no enabled sources in sources.yaml")
    assert flow_calls == []


def test_a_disabled_source_still_runs_when_named(workdir: Path, flow_calls: list[dict[str, Any]]) -> None:
    # sources.yaml documents it: `enabled: false` skips an entry unless --sources names it
    (workdir / "sources.yaml").write_text("sources:\n" + DISABLED_FEED, encoding="utf-8")
    result = runner.invoke(app, ["run", "--dry-run", "--sources", "dead"])
    assert result.exit_code == 0, result.output
    assert flow_calls[-1]["sources"] == ["dead"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["run", "--week", "2026-W46", "--since", "2026-11-16", "--dry-run"],
            "2026-11-16 is after the end of 2026-W46",
        ),
        (
            ["refresh", "--week", "2026-W46", "--since", "2026-12-25", "--dry-run"],
            "2026-12-25 is after the end of 2026-W46",
        ),
        (
            ["refresh", "--deployment", "--week", "2026-W46", "--since", "2027-01-01"],
            "2027-01-01 is after the end of 2026-W46",
        ),
    ],
)
def test_since_after_the_target_week_is_refused(
    workdir: Path, flow_calls: list[dict[str, Any]], command: list[str], message: str
) -> None:
    refused(runner.invoke(app, command), f"error: --since: {message}")
    assert flow_calls == []


def test_since_after_the_last_complete_week_is_refused(
    workdir: Path, flow_calls: list[dict[str, Any]]
) -> None:
    from dltheory_digest.weeks import last_complete_week

    target = last_complete_week(ZoneInfo("UTC"))  # no --week: the week the run digests
    day_after = target.monday + dt.timedelta(days=7)
    refused(
        runner.invoke(app, ["run", "--since", day_after.isoformat(), "--dry-run"]),
        f"error: --since: {day_after} is after the end of {target}",
    )
    sunday = target.monday + dt.timedelta(days=6)  # the week's last day is still in it
    assert runner.invoke(app, ["run", "--since", sunday.isoformat(), "--dry-run"]).exit_code == 0
    assert flow_calls[-1]["since"] == sunday.isoformat()


@pytest.mark.parametrize(
    ("variable", "value", "command", "message"),
    [
        (
            "READERS",
            "not json",
            ["send", "--week", "2026-W46"],
            "environment variable DLTHEORY_READERS: not valid JSON",
        ),
        (
            "SCHEDULE_CRON",
            "0 7 * *",
            ["serve"],
            "environment variable DLTHEORY_SCHEDULE_CRON: not a cron expression",
        ),
        (
            "STORE_URL",
            "mysql://x/y",
            ["run", "--dry-run"],
            "environment variable DLTHEORY_STORE_URL: unsupported database mysql://",
        ),
        (
            "OUTPUT_DIR",
            "{file}",
            ["run", "--dry-run"],
            "environment variable DLTHEORY_OUTPUT_DIR: {file} is a file, not a directory",
        ),
        (
            "DATA_DIR",
            "{file}",
            ["sources", "check"],
            "environment variable DLTHEORY_DATA_DIR: {file} is a file, not a directory",
        ),
    ],
)
def test_bad_environment_value_is_one_line(
    workdir: Path,
    flow_calls: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    command: list[str],
    message: str,
) -> None:
    a_file = workdir / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    monkeypatch.setenv(f"DLTHEORY_{variable}", value.format(file=a_file))
    refused(runner.invoke(app, command), "configuration error: " + message.format(file=a_file))
    assert flow_calls == []


def test_demo_writes_to_the_output_dir_setting(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dltheory_digest.store.files import write_digest

    def run_flow(**params: Any) -> dict[str, Any]:  # writes the digest where the flow is told to
        path = write_digest(Path(params["settings_overrides"]["output_dir"]), params["week"], "# demo\n")
        return {"week": params["week"], "papers": 0, "reports": [], "failed_sources": [], "path": str(path)}

    monkeypatch.setattr(run_cmd, "run_flow", run_flow)
    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", str(workdir / "configured"))
    assert runner.invoke(app, ["demo"]).exit_code == 0
    assert (workdir / "configured" / "2026-W47.md").is_file()
    assert runner.invoke(app, ["demo", "--output-dir", str(workdir / "given")]).exit_code == 0
    assert (workdir / "given" / "2026-W47.md").is_file()


def test_demo_into_a_file_is_refused_before_the_fetch(
    workdir: Path, flow_calls: list[dict[str, Any]]
) -> None:
    a_file = workdir / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    refused(
        runner.invoke(app, ["demo", "--output-dir", str(a_file)]),
        f"error: --output-dir: {a_file} is a file, not a directory",
    )
    assert flow_calls == []


def test_deploy_without_a_server(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    import flows.deployments

    tried: list[str] = []

    def deploy_to_pool(settings: Any, pool: str) -> list[str]:
        tried.append(pool)
        return []

    monkeypatch.setattr(flows.deployments, "deploy_to_pool", deploy_to_pool)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = runner.invoke(app, ["deploy", "--pool", "nopool"])
    refused(result, "error: deploy needs a Prefect server: set PREFECT_API_URL")
    assert tried == []


def test_a_deploy_failure_is_printed_as_it_is(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    import flows.deployments

    def deploy_to_pool(settings: Any, pool: str) -> list[str]:
        raise RuntimeError(f"work pool [b]{pool}[/b] not found")

    monkeypatch.setattr(flows.deployments, "deploy_to_pool", deploy_to_pool)
    monkeypatch.setattr(flows.deployments, "taken_over", lambda pool: [])
    # nothing listens there: the stand-ins above fail before any request
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = runner.invoke(app, ["deploy", "--pool", "[i]gpu"], terminal_width=400)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == "deploy failed: work pool [b][i]gpu[/b] not found"


def test_mail_without_smtp_is_refused_before_the_flow(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DLTHEORY_SMTP_HOST", raising=False)
    settings_file(workdir, "readers:\n  - {email: ada@example.org}\n")
    refused(runner.invoke(app, ["run", "--week", "2026-W40"]), "configuration error: smtp_host is not set")
    refused(runner.invoke(app, ["demo", "--email-to", "lin@example.org"]), "configuration error: smtp_host")
    assert flow_calls == []
    # a dry run mails nobody, and the demo without --email-to mails nobody: no SMTP needed
    assert runner.invoke(app, ["run", "--week", "2026-W40", "--dry-run"]).exit_code == 0
    assert runner.invoke(app, ["demo", "--output-dir", str(workdir / "demo")]).exit_code == 0
    demo = flow_calls[-1]
    assert demo["email_to"] is None and demo["settings_overrides"]["readers"] == ()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["send", "--week", "2026-W46", "--to", "not-an-email"],
            "error: --to: not an email address: 'not-an-email'",
        ),
        (["demo", "--email-to", "bogus"], "error: --email-to: not an email address: 'bogus'"),
    ],
)
def test_bad_address(
    workdir: Path, flow_calls: list[dict[str, Any]], command: list[str], message: str
) -> None:
    refused(runner.invoke(app, command), message)
    assert flow_calls == []


def test_preview_of_an_unknown_reader(workdir: Path) -> None:
    settings_file(workdir, "readers:\n  - {email: ada@example.org}\n")
    result = runner.invoke(
        app, ["preview", "--week", "2026-W46", "--reader", "zz@example.org", "-o", "p.html"]
    )
    refused(result, "error: --reader: no reader zz@example.org in the settings (readers: ada@example.org)")
    assert not (workdir / "p.html").exists()


def test_models_install_from_a_missing_file(workdir: Path) -> None:
    result = runner.invoke(app, ["models", "install", "--from-file", str(workdir / "nope.argosmodel")])
    refused(result, f"error: --from-file: {workdir / 'nope.argosmodel'}: file not found")


def test_refresh_deployment_without_a_server(workdir: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = runner.invoke(app, ["refresh", "--deployment", "--week", "2026-W46"])
    refused(
        result,
        "error: deployment weekly-digest/manual not found: start it with `dltheory-digest serve` "
        "and point PREFECT_API_URL at that server (PREFECT_API_URL is not set)",
    )


@pytest.mark.prefect
def test_refresh_deployment_that_is_not_served(prefect_harness: None, workdir: Path) -> None:
    result = runner.invoke(app, ["refresh", "--deployment", "--week", "2026-W46"])
    refused(result, "error: deployment weekly-digest/manual not found: start it with `dltheory-digest serve`")
    assert "(asked http://" in result.stderr


@pytest.mark.parametrize("command", [["run"], ["refresh"], ["send"], ["demo"], ["sources", "check"]])
def test_help_shows_no_value_after_a_flag(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=120)
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "--help" in result.output


@pytest.mark.prefect
def test_demo_mails_only_email_to_never_the_configured_readers(
    prefect_harness: None, smtp: Mailbox, workdir: Path
) -> None:
    settings_file(workdir, "readers:\n  - {email: ada@example.org}\n  - {email: kim@example.org}\n")
    result = runner.invoke(
        app, ["demo", "--output-dir", str(workdir / "out"), "--email-to", "lin@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(r for rec in smtp.received for r in rec.recipients) == ["lin@example.org"]


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--dry-run"],
        ["refresh", "--dry-run"],
        ["sources", "check"],
        ["serve"],
        ["send", "--week", "2026-W47", "--dry-run", "--to", "ada@example.org"],
        ["preview", "--week", "2026-W47", "-o", "week.html"],
    ],
)
def test_a_store_that_is_not_sqlite_is_one_line_before_anything_runs(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    notes = workdir / "my notes.sqlite"
    notes.write_text("not a database\n" * 100, encoding="utf-8")
    monkeypatch.setenv("DLTHEORY_STORE_URL", f"sqlite:///{notes}")
    refused(
        runner.invoke(app, command),
        f"store error: the store {notes}: not a SQLite database (store_url or data_dir names another file?)",
    )
    assert flow_calls == []


def test_a_store_of_a_newer_version_is_refused_before_the_run(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from dltheory_digest.store import open_store

    url = f"sqlite:///{workdir / 'store.sqlite'}"
    store = open_store(url)
    with store.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_later'"))
    store.close()
    monkeypatch.setenv("DLTHEORY_STORE_URL", url)
    refused(runner.invoke(app, ["run", "--dry-run"]), "store error: the store ")
    assert "written by a newer dltheory-digest" in runner.invoke(app, ["run", "--dry-run"]).stderr
    assert flow_calls == []


def _store_error() -> Exception:
    from dltheory_digest.errors import StoreError

    return StoreError("the store x.sqlite: locked by another process for over 30 s (another run?)")


def _database_error() -> Exception:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    return OperationalError("INSERT INTO week_items ...", {}, sqlite3.OperationalError("database is locked"))


@pytest.mark.parametrize(
    ("error", "message"),
    [
        # the store's own error, and a driver's error from a write in the middle of the run
        (
            _store_error,
            "store error: the store x.sqlite: locked by another process for over 30 s (another run?)",
        ),
        (_database_error, "store error: the store: locked by another process for over 30 s (another run?)"),
    ],
)
def test_a_store_error_during_the_run_is_one_line_and_exit_1(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, error: Any, message: str
) -> None:
    import sys
    import types

    def failing(**params: Any) -> dict[str, Any]:
        raise error()

    # a stand-in flow module: importing the real one inside the runner upsets Prefect's logging
    flow_module = types.ModuleType("flows.weekly_digest")
    flow_module.weekly_digest = failing  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flows.weekly_digest", flow_module)
    result = runner.invoke(app, ["run", "--dry-run"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == message


def test_a_misspelled_variable_is_a_warning_and_the_run_goes_on(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLTHEORY_SMTP_HOTS", "mail.example.org")
    result = runner.invoke(app, ["run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "warning: environment variable DLTHEORY_SMTP_HOTS is not a setting (did you mean "
        "DLTHEORY_SMTP_HOST?): it is ignored"
    )
    assert len(flow_calls) == 1


@pytest.mark.parametrize("command", ["run", "refresh"])
@pytest.mark.parametrize("value", ["", ",", " , "])
def test_sources_given_but_empty_is_refused(
    workdir: Path, flow_calls: list[dict[str, Any]], command: str, value: str
) -> None:
    refused(
        runner.invoke(app, [command, "--dry-run", "--sources", value]),
        "error: --sources: no source id given (leave the option out to read every enabled source)",
    )
    assert flow_calls == []


@pytest.mark.parametrize("command", [["run", "--dry-run"], ["refresh", "--dry-run"]])
def test_an_output_dir_that_cannot_be_written_is_refused_before_the_fetch(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # /proc takes no new directories, also for root (a chmod'ed directory would not stop root)
    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", "/proc/dltheory-digest-test/outputs")
    refused(
        runner.invoke(app, command),
        "error: output_dir: cannot write the digest into /proc/dltheory-digest-test/outputs: ",
    )
    assert flow_calls == []


@pytest.mark.parametrize("setting", ["DLTHEORY_TAXONOMY_FILE", "DLTHEORY_GLOSSARY_FILE"])
def test_a_bad_taxonomy_or_glossary_is_refused_before_the_fetch(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    bad = workdir / "mine.yaml"
    bad.write_bytes("directions:\n  - id: généralisation\n".encode("latin-1"))  # not UTF-8
    monkeypatch.setenv(setting, str(bad))
    result = runner.invoke(app, ["run", "--dry-run"])
    field = setting.removeprefix("DLTHEORY_").lower()
    refused(result, f"configuration error: {field} {bad}: ")
    assert flow_calls == []
    monkeypatch.setenv(setting, str(workdir / "missing.yaml"))
    refused(runner.invoke(app, ["run", "--dry-run"]), "configuration error:")
    assert flow_calls == []


class RefusesTheSender(Mailbox):
    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        return "553 5.7.1 sender address not allowed here"


def test_a_server_that_refuses_the_mail_settings_stops_the_run_before_the_fetch(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.controller import Controller

    from tests.test_mail import free_port

    settings_file(workdir, "readers:\n  - {email: ada@example.org}\n")
    port = free_port()
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DLTHEORY_SMTP_PORT", str(port))
    controller = Controller(RefusesTheSender(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = runner.invoke(app, ["run", "--week", "2026-W40"])
    finally:
        controller.stop()
    refused(result, "configuration error: the SMTP server refuses the mail settings: ")
    assert "553" in result.stderr and "mail_from" in result.stderr
    assert flow_calls == []


def test_a_server_down_before_the_fetch_is_a_warning_and_the_run_goes_on(
    workdir: Path, flow_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_mail import free_port

    settings_file(workdir, "readers:\n  - {email: ada@example.org}\n")
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DLTHEORY_SMTP_PORT", str(free_port()))  # nothing listens there
    result = runner.invoke(app, ["run", "--week", "2026-W40"])
    assert result.exit_code == 0, result.output
    assert "warning: the SMTP server cannot be used now" in " ".join(result.stderr.split())
    assert len(flow_calls) == 1


def test_unconfirmed_and_left_to_another_run_are_not_success(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from dltheory_digest.cli.app import err_console

    result = {
        "failed_sources": [],
        "deliveries": [
            {"reader": "ada@example.org", "status": "sent"},
            {"reader": "lin@example.org", "status": "unconfirmed"},
            {"reader": "kai@example.org", "status": "skipped", "skip_reason": "held"},
            {"reader": "bo@example.org", "status": "skipped", "skip_reason": "already-sent"},
        ],
    }
    with err_console.capture() as captured, pytest.raises(typer.Exit) as stopped:
        run_cmd.exit_on_failures(result)
    assert stopped.value.exit_code == 1
    said = captured.get()
    assert "mail unconfirmed for 1 reader(s): lin@example.org" in said
    assert "mail left to another run for 1 reader(s): kai@example.org" in said
    assert "bo@example.org" not in said and "ada@example.org" not in said
    run_cmd.exit_on_failures({**result, "deliveries": result["deliveries"][::3]})  # sent, already sent


@pytest.mark.parametrize(
    ("command", "given", "message"),
    [
        (
            ["classify", "-"],
            "id,name\n1,x\n",
            "error: standard input: missing column(s) title (have: id, name)",
        ),
        (["dedup", "-"], "id,titel\n1,x\n", "error: standard input: missing column(s) title"),
        (
            ["lang", "detect", "--column", "text"],
            "txt\nhello\n",
            "error: standard input: missing column(s) text",
        ),
        (
            ["classify", "-"],
            b"id,title\n1,\xe9\n",
            "error: standard input: not UTF-8 text (line 2, byte 0xe9)",
        ),
    ],
)
def test_file_commands_name_standard_input_as_such(
    workdir: Path, command: list[str], given: str | bytes, message: str
) -> None:
    # "-: missing column" read as if a file named "-" were meant
    refused(runner.invoke(app, command, input=given, terminal_width=400), message)
