"""`dltheory-digest send` and `preview` against a real SMTP server and a real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dltheory_digest import digest as dg
from dltheory_digest.cli import app
from dltheory_digest.config import load_settings
from dltheory_digest.store import deliveries as ledger
from dltheory_digest.store import open_store, save_digest
from tests.digest.test_build import assert_inert, sample_digest
from tests.test_mail import Mailbox, text_of

WEEK = "2026-W47"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


@pytest.fixture(autouse=True)
def week_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample week (2026-W47) as a finished one, whatever today is: `send` holds a week
    still under way back from the readers (tested in test_an_unfinished_week_is_not_sent)."""
    import datetime as dt

    from dltheory_digest import weeks
    from dltheory_digest.store import records

    after = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    monkeypatch.setattr(weeks, "_now", lambda now=None: now or after)
    monkeypatch.setattr(records, "now_utc", lambda: after)  # digests stored after the week


@pytest.fixture
def smtp_env(smtp: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Mailbox:
    # the project's own sources.yaml (in the working directory) is not this test's
    monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    readers = [
        {"email": "ada@example.org"},
        {"email": "kernel@example.org", "include_directions": ["kernels"]},
    ]
    monkeypatch.setenv("DLTHEORY_READERS", json.dumps(readers))
    # the sample digest files papers under "kernels", a direction of this taxonomy
    monkeypatch.setenv("DLTHEORY_TAXONOMY_FILE", str(FIXTURES / "mail" / "taxonomy.yaml"))
    return smtp


def stored_week() -> Path:
    """The week as the pipeline keeps it: the digest (Markdown and JSON) in the store, the file in outputs/."""
    from dltheory_digest.store import save_digest

    settings = load_settings()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    digest = sample_digest()
    markdown = dg.render_markdown(digest)
    path = settings.output_dir / f"{WEEK}.md"
    path.write_text(markdown, encoding="utf-8")
    store = open_store(settings.resolved_store_url)
    try:
        save_digest(
            store,
            week=WEEK,
            markdown=markdown,
            path=str(path),
            paper_keys=[],
            reports=[],
            data=dg.digest_to_json(digest),
        )
    finally:
        store.close()
    return path


def ledger_of_week() -> list[tuple[str, str]]:
    store = open_store(load_settings().resolved_store_url)
    try:
        return [(d.reader, d.status) for d in ledger.deliveries_of(store, WEEK)]
    finally:
        store.close()


def test_send_each_reader_once_then_resend(smtp_env: Mailbox) -> None:
    stored_week()
    first = runner.invoke(app, ["send", "--week", WEEK])
    assert first.exit_code == 0, first.output
    assert sorted(r for rec in smtp_env.received for r in rec.recipients) == [
        "ada@example.org",
        "kernel@example.org",
    ]
    kernel = text_of(smtp_env.to("kernel@example.org")[0])
    assert "Neural Tangent Kernel" in kernel and "Gradient Descent Provably" not in kernel
    assert "sent" in first.output
    assert ledger_of_week() == [("ada@example.org", "sent"), ("kernel@example.org", "sent")]

    rerun = runner.invoke(app, ["send", "--week", WEEK])
    assert rerun.exit_code == 0 and len(smtp_env.received) == 2
    assert "skipped" in rerun.output

    resend = runner.invoke(app, ["send", "--week", WEEK, "--resend", "--to", "ada@example.org"])
    assert resend.exit_code == 0, resend.output
    assert len(smtp_env.received) == 3 and smtp_env.received[2].recipients == ["ada@example.org"]


def test_dry_run_sends_nothing(smtp_env: Mailbox) -> None:
    stored_week()
    result = runner.invoke(app, ["send", "--week", WEEK, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry-run" in result.output
    assert smtp_env.received == [] and ledger_of_week() == []


def test_send_to_an_address_that_is_not_configured(smtp_env: Mailbox) -> None:
    stored_week()
    result = runner.invoke(app, ["send", "--week", WEEK, "--to", "guest@example.org"])
    assert result.exit_code == 0, result.output
    [message] = smtp_env.to("guest@example.org")
    assert message["Subject"] == "DL theory digest 2026-W47: 4 papers, 1 updated"


def test_to_takes_a_comma_separated_list_as_well_as_repeats(smtp_env: Mailbox) -> None:
    stored_week()
    result = runner.invoke(
        app, ["send", "--week", WEEK, "--to", "guest@example.org, kim@example.org", "--to", "lin@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert all(smtp_env.to(a) for a in ("guest@example.org", "kim@example.org", "lin@example.org"))


def test_send_markdown_kept_in_the_store(smtp_env: Mailbox) -> None:
    settings = load_settings()
    store = open_store(settings.resolved_store_url)
    markdown = dg.render_markdown(sample_digest())
    try:
        save_digest(store, week=WEEK, markdown=markdown, path=None, paper_keys=[], reports=[])
    finally:
        store.close()
    result = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert result.exit_code == 0, result.output
    # the operator's run notes and source errors stay out of the reader's copy
    assert text_of(smtp_env.to("ada@example.org")[0]) == dg.render_plain_text(dg.reader_copy(markdown))
    assert "models install" in markdown and "models install" not in text_of(smtp_env.to("ada@example.org")[0])


def test_a_markdown_only_week_names_its_sources_as_sources_yaml_does_in_send_and_preview(
    smtp_env: Mailbox, tmp_path: Path
) -> None:
    settings = load_settings()
    store = open_store(settings.resolved_store_url)
    try:
        markdown = dg.render_markdown(sample_digest())
        save_digest(store, week=WEEK, markdown=markdown, path=None, paper_keys=[], reports=[])
    finally:
        store.close()
    Path(settings.sources_file).write_text(
        "sources:\n  - {id: arxiv-cs-lg, name: arXiv cs.LG listing, kind: arxiv_rss, url: https://rss.arxiv.org/rss/cs.LG}\n",
        encoding="utf-8",
    )
    sent = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert sent.exit_code == 0, sent.output
    text = text_of(smtp_env.to("ada@example.org")[0])
    # a source sources.yaml names is named so; one it does not hold keeps its id
    assert "arXiv cs.LG listing" in text and "arxiv-cs-lg" not in text and "shamra" in text
    out = tmp_path / "p.html"
    shown = runner.invoke(app, ["preview", "--week", WEEK, "-o", str(out)])
    assert shown.exit_code == 0, shown.output
    html = out.read_text(encoding="utf-8")
    # preview shows what send mails: the reader's copy, not the operator's file
    assert "arXiv cs.LG listing" in html and "models install" not in html


def test_a_refused_reader_fails_the_command_but_not_the_others(smtp_env: Mailbox) -> None:
    stored_week()
    smtp_env.refuse.add("kernel@example.org")
    result = runner.invoke(app, ["send", "--week", WEEK])
    assert result.exit_code == 1
    assert "failed" in result.output
    assert [r.recipients for r in smtp_env.received] == [["ada@example.org"]]
    assert ledger_of_week() == [("ada@example.org", "sent"), ("kernel@example.org", "failed")]
    store = open_store(load_settings().resolved_store_url)
    try:
        row = ledger.get_delivery(store, WEEK, "kernel@example.org")
    finally:
        store.close()
    assert row is not None and row.error == "recipient refused: 550 5.1.1 no such mailbox here"


def test_the_table_shows_a_servers_text_as_it_is() -> None:
    from dltheory_digest.cli.app import console
    from dltheory_digest.cli.mail_cmd import print_results
    from dltheory_digest.mail import DeliveryResult

    # rich would take "[b]" for markup and drop it
    result = DeliveryResult(reader="a@x.org", week=WEEK, status="failed", message_id="<m>", error="[b] no")
    with console.capture() as captured:
        print_results([result])
    assert "[b] no" in captured.get()


def test_markdown_only_week_holds_back_readers_who_need_the_digest(smtp_env: Mailbox) -> None:
    """After `demo` (or with only outputs/<week>.md) filters and translations cannot be made."""
    settings = load_settings()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    markdown = dg.render_markdown(sample_digest())
    (settings.output_dir / f"{WEEK}.md").write_text(markdown, encoding="utf-8")
    held = runner.invoke(app, ["send", "--week", WEEK])
    assert held.exit_code == 1
    assert [r.recipients for r in smtp_env.received] == [["ada@example.org"]]
    output = " ".join(held.output.split())
    assert "held" in output and "kernel@example.org" in output and "--force" in output
    assert ledger_of_week() == [("ada@example.org", "sent")]

    forced = runner.invoke(app, ["send", "--week", WEEK, "--force"])
    assert forced.exit_code == 0, forced.output
    # unfiltered
    assert text_of(smtp_env.to("kernel@example.org")[0]) == dg.render_plain_text(dg.reader_copy(markdown))
    assert len(smtp_env.to("ada@example.org")) == 1  # ada already had it
    assert ledger_of_week() == [("ada@example.org", "sent"), ("kernel@example.org", "sent")]
    assert "--force" in runner.invoke(app, ["send", "--help"]).output


def test_missing_week_and_bad_input(smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = runner.invoke(app, ["send", "--week", "2026-W10"])
    assert missing.exit_code == 1 and "no digest for 2026-W10" in missing.output
    assert "run `dltheory-digest run --week 2026-W10` first" in missing.output
    future = runner.invoke(app, ["send", "--week", "2999-W01"])
    assert future.exit_code == 1 and "the week has not started yet" in future.output
    bad_week = runner.invoke(app, ["send", "--week", "2026-47"])
    assert bad_week.exit_code == 2
    stored_week()
    monkeypatch.delenv("DLTHEORY_SMTP_HOST")
    no_host = runner.invoke(app, ["send", "--week", WEEK])
    assert no_host.exit_code == 2 and "DLTHEORY_SMTP_HOST" in no_host.output
    assert smtp_env.received == []


def test_preview_writes_the_email_html(smtp_env: Mailbox, tmp_path: Path) -> None:
    stored_week()
    out = tmp_path / "preview" / "week.html"
    result = runner.invoke(app, ["preview", "--week", WEEK, "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "神经正切核：收敛与泛化" in html
    assert_inert(html)
    personal = tmp_path / "kernel.html"
    result = runner.invoke(
        app, ["preview", "--week", WEEK, "-o", str(personal), "--reader", "kernel@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert "Gradient Descent Provably" not in personal.read_text(encoding="utf-8")
    assert smtp_env.received == []


def test_an_unfinished_week_is_not_sent_to_the_readers(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from dltheory_digest import weeks

    stored_week()
    during = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)  # Sunday of 2026-W47
    monkeypatch.setattr(weeks, "_now", lambda now=None: now or during)
    held = runner.invoke(app, ["send", "--week", WEEK])
    assert held.exit_code == 1 and f"{WEEK} is not over" in held.output
    assert smtp_env.received == []
    asked = runner.invoke(app, ["send", "--week", WEEK, "--to", "lin@example.org"])
    assert asked.exit_code == 0, asked.output
    assert [r for m in smtp_env.received for r in m.recipients] == ["lin@example.org"]
    # a configured reader named with --to still waits: mailed now, the week's record would skip them
    named = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert named.exit_code == 1 and "not sent to ada@example.org" in named.output
    assert len(smtp_env.received) == 1 and ledger_of_week() == [("lin@example.org", "sent")]


def test_preview_of_a_markdown_only_week_refuses_an_edition_it_cannot_make(
    smtp_env: Mailbox, tmp_path: Path
) -> None:
    settings = load_settings()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    (settings.output_dir / f"{WEEK}.md").write_text(dg.render_markdown(sample_digest()), encoding="utf-8")
    filtered = runner.invoke(
        app, ["preview", "--week", WEEK, "--reader", "kernel@example.org", "-o", str(tmp_path / "k.html")]
    )
    assert filtered.exit_code == 1 and "needs the stored digest" in filtered.output
    assert not (tmp_path / "k.html").exists()
    plain = runner.invoke(
        app, ["preview", "--week", WEEK, "--reader", "ada@example.org", "-o", str(tmp_path / "a.html")]
    )
    assert plain.exit_code == 0, plain.output
    # a directory given as the output file: one line, no traceback
    into_dir = runner.invoke(app, ["preview", "--week", WEEK, "-o", str(tmp_path)])
    assert into_dir.exit_code == 2 and "cannot write" in into_dir.output


def test_a_dry_run_of_an_unfinished_week_holds_back_the_readers_as_send_does(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from dltheory_digest import weeks

    settings = load_settings()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    (settings.output_dir / f"{WEEK}.md").write_text(dg.render_markdown(sample_digest()), encoding="utf-8")
    during = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)  # Sunday of 2026-W47
    monkeypatch.setattr(weeks, "_now", lambda now=None: now or during)

    dry = runner.invoke(app, ["send", "--week", WEEK, "--dry-run", "--force"])
    real = runner.invoke(app, ["send", "--week", WEEK, "--force"])
    assert dry.exit_code == real.exit_code == 1
    for result in (dry, real):
        assert f"ada@example.org, kernel@example.org: {WEEK} is not over" in result.output
    table = " ".join(dry.output.split())
    assert "held" in table and "dry-run" not in table and "sent unfiltered" not in table
    assert "send would not mail ada@example.org" in dry.output

    # a configured reader and another address: the reader waits, the other is (would be) mailed
    mixed = ["send", "--week", WEEK, "--to", "lin@example.org", "--to", "ada@example.org"]
    dry_mixed = runner.invoke(app, [*mixed, "--dry-run"])
    assert dry_mixed.exit_code == 1 and "send would not mail ada@example.org" in dry_mixed.output
    rows = {
        line.split("│")[1].strip(): line
        for line in dry_mixed.output.splitlines()
        if line.startswith("│") and "@" in line
    }
    assert "dry-run" in rows["lin@example.org"] and "held" in rows["ada@example.org"]
    assert smtp_env.received == [] and ledger_of_week() == []
    real_mixed = runner.invoke(app, mixed)
    assert real_mixed.exit_code == 1 and "not sent to ada@example.org" in real_mixed.output
    assert [r for m in smtp_env.received for r in m.recipients] == ["lin@example.org"]


def test_a_missing_digest_names_the_directory_searched_and_the_setting(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "demo-out"  # as `demo --output-dir` leaves it: only the Markdown file
    elsewhere.mkdir()
    (elsewhere / f"{WEEK}.md").write_text(dg.render_markdown(sample_digest()), encoding="utf-8")
    searched = load_settings().output_dir.resolve() / f"{WEEK}.md"
    for command in (["send", "--week", WEEK], ["preview", "--week", WEEK, "-o", str(tmp_path / "p.html")]):
        missing = runner.invoke(app, command)
        assert missing.exit_code == 1
        assert f"no digest for {WEEK} in the store or at {searched}" in missing.output
        assert "DLTHEORY_OUTPUT_DIR" in missing.output and "output_dir" in missing.output
        # both say how to make the week
        assert f"or run `dltheory-digest run --week {WEEK}` first" in " ".join(missing.output.split())

    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", str(elsewhere))  # the hint, followed
    found = runner.invoke(app, ["send", "--week", WEEK, "--force"])
    assert found.exit_code == 0, found.output
    assert sorted(r for m in smtp_env.received for r in m.recipients) == [
        "ada@example.org",
        "kernel@example.org",
    ]


def test_the_markdown_fallback_skips_a_reader_who_has_the_week_and_resends_with_a_new_id(
    smtp_env: Mailbox,
) -> None:
    """Delivered from the stored digest, then only the Markdown file left: the ledger still rules."""
    path = stored_week()
    first = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert first.exit_code == 0, first.output
    settings = load_settings()
    store = open_store(settings.resolved_store_url)
    try:
        with store.begin() as conn:  # keep only outputs/<week>.md, as after `demo`
            from dltheory_digest.store.schema import digests

            conn.execute(digests.delete())
    finally:
        store.close()
    assert path.is_file()

    again = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert again.exit_code == 0, again.output
    assert "skipped" in again.output and len(smtp_env.received) == 1
    resent = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org", "--resend"])
    assert resent.exit_code == 0, resent.output
    ids = [m["Message-ID"] for m in smtp_env.to("ada@example.org")]
    assert len(ids) == 2 and ids[0] != ids[1] and ids[1].endswith(".1@example.org>")


def test_a_dry_run_or_partial_digest_is_not_sent_to_the_readers(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from dltheory_digest.store import records

    # a digest made on Sunday of its week (a refresh while it was under way), sent on Tuesday
    monkeypatch.setattr(records, "now_utc", lambda: dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    stored_week()
    partial = runner.invoke(app, ["send", "--week", WEEK])
    assert partial.exit_code == 1 and smtp_env.received == []
    assert f"was made while the week was under way: run `dltheory-digest run --week {WEEK}`" in partial.output
    # a dry run's digest (on a store with no other), mailed, would be recorded nowhere
    monkeypatch.setattr(records, "now_utc", lambda: dt.datetime(2026, 11, 24, tzinfo=dt.UTC))
    store = open_store(load_settings().resolved_store_url)
    with store.begin() as conn:
        conn.exec_driver_sql("DELETE FROM digests")
    save_digest(store, week=WEEK, markdown="# dry\n", path=None, paper_keys=[], reports=[], published=False)
    store.close()
    dry = runner.invoke(app, ["send", "--week", WEEK])
    assert dry.exit_code == 1 and "is a dry run's, recorded nowhere" in dry.output
    # `run` mails the readers itself: no "and send again" after it
    said = " ".join(dry.output.split())
    assert "records it and mails the readers" in said and "send again" not in said
    assert smtp_env.received == []
    # an address that is not a reader may still be shown it
    assert runner.invoke(app, ["send", "--week", WEEK, "--to", "lin@example.org"]).exit_code == 0


def test_the_demos_digest_is_not_mailed_to_the_readers_as_the_week(smtp_env: Mailbox) -> None:
    """After `demo`, outputs/<week>.md is the bundled snapshot's digest: mailed to a reader as the
    week, it would also make the real digest of that week skip them. Another address may have it,
    without the demo's marker line."""
    from dltheory_digest.store.files import DEMO_MARKER

    settings = load_settings()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    markdown = dg.render_markdown(sample_digest())
    (settings.output_dir / f"{WEEK}.md").write_text(f"{DEMO_MARKER}\n{markdown}", encoding="utf-8")

    held = runner.invoke(app, ["send", "--week", WEEK])
    assert held.exit_code == 1 and smtp_env.received == [] and ledger_of_week() == []
    assert "is the demo's" in " ".join(held.output.split())
    tried = runner.invoke(app, ["send", "--week", WEEK, "--to", "lin@example.org"])
    assert tried.exit_code == 0, tried.output
    [mail] = smtp_env.to("lin@example.org")
    assert "dltheory-digest demo" not in text_of(mail) and "Neural Tangent Kernel" in text_of(mail)
    # labelled as `demo --email-to` labels it, so it never passes for the week's digest
    assert mail["Subject"].startswith("[demo] ")


def test_send_and_preview_say_which_variable_was_misspelt(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stored_week()
    monkeypatch.delenv("DLTHEORY_SMTP_HOST")
    monkeypatch.setenv("DLTHEORY_SMTP_HOTS", "127.0.0.1")
    warning = (
        "warning: environment variable DLTHEORY_SMTP_HOTS is not a setting (did you mean "
        "DLTHEORY_SMTP_HOST?): it is ignored"
    )
    sent = runner.invoke(app, ["send", "--week", WEEK, "--to", "x@example.org"])
    assert sent.exit_code == 2 and smtp_env.received == []
    said = " ".join(sent.stderr.split())
    # the typo is named before the error it causes
    assert said.startswith(warning) and "smtp_host is not set" in said
    previewed = runner.invoke(app, ["preview", "--week", WEEK, "--output", str(tmp_path / "p.html")])
    assert previewed.exit_code == 0, previewed.output
    assert " ".join(previewed.stderr.split()) == warning


def test_a_command_that_upgrades_an_older_store_says_so_and_keeps_a_copy(tmp_path: Path) -> None:
    """`preview` only reads, yet opening the store upgrades it (an older release then refuses
    it): the upgrade is one line on stderr, and the file as it was is kept beside it."""
    from sqlalchemy import text

    from dltheory_digest.store import head_revision

    settings = load_settings()
    store_file = Path(settings.resolved_store_url.removeprefix("sqlite:///"))
    open_store(settings.resolved_store_url, migrate_to="0003").close()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    (settings.output_dir / f"{WEEK}.md").write_text(dg.render_markdown(sample_digest()), encoding="utf-8")
    out = tmp_path / "p.html"
    result = runner.invoke(app, ["preview", "--week", WEEK, "-o", str(out)])
    assert result.exit_code == 0, result.output
    backup = store_file.with_name(f"{store_file.name}.0003.bak")
    said = " ".join(result.stderr.split())
    assert said == f"store upgraded 0003 → {head_revision()}; the previous file is kept at {backup}"
    old = open_store(f"sqlite:///{backup}", migrate_to=None)
    try:
        with old.begin() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    finally:
        old.close()
    # the next command finds it upgraded: not a word
    again = runner.invoke(app, ["preview", "--week", WEEK, "-o", str(out)])
    assert again.exit_code == 0 and again.stderr == ""


def _wide_console(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The command's console, wide enough that no table cell wraps; `export_text()` reads it."""
    from rich.console import Console

    from dltheory_digest.cli import mail_cmd

    wide = Console(width=400, record=True)
    monkeypatch.setattr(mail_cmd, "console", wide)
    return wide


def test_send_shows_no_paper_count_for_skipped_readers_and_times_in_the_configured_zone(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Pacific/Kiritimati")
    stored_week()
    first = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert first.exit_code == 0, first.output
    wide = _wide_console(monkeypatch)
    rerun = runner.invoke(app, ["send", "--week", WEEK, "--to", "ada@example.org"])
    assert rerun.exit_code == 0, rerun.output
    row = next(line for line in wide.export_text().splitlines() if "ada@example.org" in line)
    cells = [c.strip() for c in row.split("│")]
    assert cells[2:5] == ["skipped", "en", "—"], row
    assert "Pacific/Kiritimati (UTC+14:00) (use --resend to send again)" in row and " UTC " not in row


def test_send_says_a_zh_reader_got_english(smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from dltheory_digest.cli import mail_cmd

    class RunsAway:
        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
            return ["梯度" * 500 for _ in texts]

    monkeypatch.setenv("DLTHEORY_READERS", json.dumps([{"email": "lin@example.org", "language": "zh"}]))
    monkeypatch.setattr(mail_cmd, "make_translator", lambda settings, store=None: RunsAway())
    stored_week()
    wide = _wide_console(monkeypatch)
    result = runner.invoke(app, ["send", "--week", WEEK])
    assert result.exit_code == 0, result.output
    assert len(smtp_env.received) == 1
    row = next(line for line in wide.export_text().splitlines() if "lin@example.org" in line)
    assert [c.strip() for c in row.split("│")][2:4] == [
        "sent, in English: the zh translation was unusable",
        "en",
    ]


def test_preview_says_why_a_zh_readers_edition_is_english(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dltheory_digest.cli import mail_cmd

    class RunsAway:
        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
            return ["梯度" * 500 for _ in texts]

    monkeypatch.setenv("DLTHEORY_READERS", json.dumps([{"email": "lin@example.org", "language": "zh"}]))
    monkeypatch.setattr(mail_cmd, "make_translator", lambda settings, store=None: RunsAway())
    stored_week()
    out = tmp_path / "lin.html"
    result = runner.invoke(app, ["preview", "--week", WEEK, "--reader", "lin@example.org", "-o", str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    # the operator's line `send` logs, with the model's failure named
    assert "note: Chinese edition requested;" in said and "unusable" in said and "in English" in said
    assert "Gradient Descent Provably" in out.read_text(encoding="utf-8")
    # an English reader's preview has nothing to explain
    plain = runner.invoke(app, ["preview", "--week", WEEK, "-o", str(tmp_path / "all.html")])
    assert plain.exit_code == 0 and "note:" not in plain.output


def test_preview_names_its_file_as_it_is(
    smtp_env: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored_week()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["preview", "--week", WEEK, "-o", "[b]out/week.html"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "[b]out" / "week.html").is_file()
    assert "preview: [b]out/week.html" in result.stdout


def _refused_connection() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("SELECT", {}, Exception("connection failed: Connection refused"))


def test_a_store_failing_in_the_middle_of_send_ends_with_one_line_and_the_table(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store goes away after the first reader was mailed: the rest are neither tried nor
    recorded, the table still says who got the week, and the command ends with one line."""
    readers = [{"email": f"{name}@example.org"} for name in ("ada", "bo", "cy")]
    monkeypatch.setenv("DLTHEORY_READERS", json.dumps(readers))
    stored_week()
    real_get = ledger.get_delivery

    def down_from_bo(store: Any, week: str, reader: str) -> Any:
        if reader != "ada@example.org":
            raise _refused_connection()
        return real_get(store, week, reader)

    monkeypatch.setattr(ledger, "get_delivery", down_from_bo)
    wide = _wide_console(monkeypatch)
    result = runner.invoke(app, ["send", "--week", WEEK])
    monkeypatch.setattr(ledger, "get_delivery", real_get)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == ["store error: the store: connection failed: Connection refused"]
    assert [r for rec in smtp_env.received for r in rec.recipients] == ["ada@example.org"]
    rows = {line.split("│")[1].strip(): line for line in wide.export_text().splitlines() if "@" in line}
    assert [c.strip() for c in rows["ada@example.org"].split("│")][2] == "sent"
    for name in ("bo", "cy"):
        cells = [c.strip() for c in rows[f"{name}@example.org"].split("│")]
        assert cells[2] == "failed" and "not mailed: the store could not be read or written" in cells[7]
    assert ledger_of_week() == [("ada@example.org", "sent")]  # nothing recorded for bo or cy


def test_a_store_failing_outside_the_mailing_is_one_line_too(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query `send` makes before any reader (the stored digest), e.g. on a lock timeout."""
    from dltheory_digest import store as store_package

    stored_week()

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise _refused_connection()

    monkeypatch.setattr(store_package, "get_digest", refused)
    result = runner.invoke(app, ["send", "--week", WEEK])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == ["store error: the store: connection failed: Connection refused"]
    assert smtp_env.received == []


def test_send_translates_and_filters_with_the_operators_glossary_as_the_run_does(
    smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The operator's `glossary_file` (which also matches a reader's English keyword in a
    Chinese title) reaches `send`'s translator, as it reaches the run's; no model is needed."""
    from dltheory_digest import mail
    from dltheory_digest.language import load_glossary

    term = "模型坍塌测试词"
    assert load_glossary().english_for(term, "zh") is None  # not in the shipped glossary
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text(f"zh:\n  {term}: model collapse\n", encoding="utf-8")
    monkeypatch.setenv("DLTHEORY_GLOSSARY_FILE", str(glossary))
    stored_week()
    given: list[Any] = []
    real_deliver = mail.deliver

    def deliver(*args: Any, **kwargs: Any) -> Any:
        given.append(kwargs["translator"])
        return real_deliver(*args, **kwargs)

    monkeypatch.setattr(mail, "deliver", deliver)
    result = runner.invoke(app, ["send", "--week", WEEK, "--dry-run"])  # English readers only
    assert result.exit_code == 0, result.output
    [translator] = given
    assert translator is not None and translator.glossary.english_for(term, "zh") == "model collapse"
