"""`models` commands: what a user sees when the Argos index cannot be reached."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app

runner = CliRunner()


def test_models_install_offline_says_error_and_names_the_unreachable_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # port 9 (discard) on the loopback: nothing listens, so the connection is refused
    index = "http://127.0.0.1:9/index.json"
    result = runner.invoke(
        app,
        ["models", "install", "zh", "--index-url", index, "--packages-dir", str(tmp_path / "pk")],
        terminal_width=400,
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.stderr.strip()
    assert line.startswith(f"error: cannot reach the Argos package index ({index}): [argos-index] "), line
    assert "[argos-index] connection refused by 127.0.0.1:9." in line
    assert "robots" not in line and "  " not in line
    assert not (tmp_path / "pk").exists() or not any((tmp_path / "pk").iterdir())


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("ZH", "'ZH': expected a language code such as zh or ar"),
        ("en", "'en': name the language to translate"),
    ],
)
def test_models_install_checks_the_language_before_asking_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    index = "http://127.0.0.1:9/index.json"  # never asked: it would be a network error
    result = runner.invoke(
        app, ["models", "install", lang, "--index-url", index, "--packages-dir", str(tmp_path / "pk")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message in result.stderr and "cannot reach" not in result.stderr


def test_a_models_folder_that_is_a_file_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pk").write_text("not a folder\n", encoding="utf-8")
    for command in (["models", "list"], ["models", "install", "zh"]):
        result = runner.invoke(app, [*command, "--packages-dir", str(tmp_path / "pk")])
        assert result.exit_code == 2, result.output
        assert f"{tmp_path / 'pk'} is a file, not a directory" in result.stderr


def test_models_list_prints_folder_names_and_versions_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    empty = runner.invoke(app, ["models", "list", "--packages-dir", "[b]none"], terminal_width=400)
    assert empty.exit_code == 0, empty.output
    assert "No translation models in [b]none." in empty.stdout

    package = tmp_path / "[b]pk" / "translate-zh_en-[i]1_9"
    package.mkdir(parents=True)
    (package / "metadata.json").write_text(
        '{"type": "translate", "from_code": "zh", "to_code": "en", "package_version": "1.9[/b]"}',
        encoding="utf-8",
    )
    listed = runner.invoke(app, ["models", "list", "--packages-dir", "[b]pk"], terminal_width=400)
    assert listed.exit_code == 0, listed.output
    assert "Translation models in [b]pk" in listed.stdout
    assert "translate-zh_en-[i]1_9" in listed.stdout and "1.9[/b]" in listed.stdout


def test_models_install_exits_1_when_the_index_has_none_of_the_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server
    import threading

    class EmptyIndex(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"[]" if self.path == "/index.json" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    monkeypatch.setenv("COLUMNS", "400")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyIndex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        index = f"http://127.0.0.1:{server.server_address[1]}/index.json"
        result = runner.invoke(
            app, ["models", "install", "zh", "--index-url", index, "--packages-dir", str(tmp_path / "pk")]
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert f"error: not in the Argos index at {index}: zh→en, en→zh; nothing installed" in said


def test_models_install_help_names_the_languages_the_digest_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    said = " ".join(runner.invoke(app, ["models", "install", "--help"]).output.split())
    assert "zh and ar are the ones the digest translates" in said
