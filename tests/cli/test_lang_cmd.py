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


DETECT_LINES = "神经正切核 (Neural Tangent Kernel) 的经典论文\nA note on two-layer networks\r\n\nНейронные сети и глубокое обучение"


def test_lang_detect_reads_a_file_or_a_dash_as_it_reads_standard_input(tmp_path: Path) -> None:
    import json

    from_stdin = runner.invoke(app, ["lang", "detect"], input=DETECT_LINES)
    assert from_stdin.exit_code == 0, from_stdin.output
    assert len(from_stdin.stdout.splitlines()) == 4  # one JSON line per line, the empty one too
    dash = runner.invoke(app, ["lang", "detect", "-"], input=DETECT_LINES)
    assert dash.stdout == from_stdin.stdout
    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"\xef\xbb\xbf" + DETECT_LINES.encode("utf-8"))  # a byte-order mark is no text
    from_file = runner.invoke(app, ["lang", "detect", str(lines)])
    assert from_file.exit_code == 0, from_file.output
    assert from_file.stdout == from_stdin.stdout
    assert [json.loads(line)["lang"] for line in from_file.stdout.splitlines()] == ["zh", "en", "und", "ru"]


def test_lang_detect_column_reads_one_csv_column_one_line_per_row(tmp_path: Path) -> None:
    import json

    table = tmp_path / "langid.csv"
    # a grader's eval file as it is: BOM, capitalised header, a quoted comma and newline in a cell
    table.write_text(
        '\ufeffText,Lang,Source\r\n"神经正切核, 的经典论文",zh,a\r\n"A note on\ntwo-layer networks",en,b\r\n'
        "Нейронные сети и глубокое обучение,ru,c\r\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["lang", "detect", str(table), "--column", "text"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["lang"] for line in result.stdout.splitlines()] == ["zh", "en", "ru"]
    piped = runner.invoke(
        app, ["lang", "detect", "--column", "TEXT"], input=table.read_text(encoding="utf-8")
    )
    assert piped.stdout == result.stdout  # without FILE: standard input, read as CSV


def test_lang_detect_file_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    missing = runner.invoke(app, ["lang", "detect", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and missing.stdout == ""
    assert f"error: {tmp_path / 'nope.txt'}: file not found" in missing.stderr
    table = tmp_path / "t.csv"
    table.write_text("text,lang\nhello,en\n", encoding="utf-8")
    no_column = runner.invoke(app, ["lang", "detect", str(table), "--column", "sentence"])
    assert no_column.exit_code == 2
    assert f"error: {table}: missing column(s) sentence (have: text, lang)" in no_column.stderr
