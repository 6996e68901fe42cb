"""`dltheory-digest lang ...` (detection, translation) and `dltheory-digest models ...` (Argos packages)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.checks import fail_usage, load_checked_settings
from dltheory_digest.cli.files import STDIO, read_csv, read_lines
from dltheory_digest.errors import ConfigError, DigestError
from dltheory_digest.language.argos import ARGOS_INDEX_URL

lang_app = typer.Typer(help="Language detection and offline translation.", no_args_is_help=True)
models_app = typer.Typer(help="Offline translation models (Argos Translate packages).", no_args_is_help=True)
app.add_typer(lang_app, name="lang")
app.add_typer(models_app, name="models")

PackagesDir = Annotated[
    Path | None,
    typer.Option("--packages-dir", help="Where Argos packages live (default: <data_dir>/argos-packages)."),
]


def _packages_dir(packages_dir: Path | None, *, settings_checked: bool = False) -> Path:
    """`--packages-dir`, else the settings' (a bad settings file is exit 2, not a traceback).
    `settings_checked`: the command has already loaded them with `load_checked_settings`."""
    from dltheory_digest.language.argos import default_packages_dir

    if packages_dir is None:
        if not settings_checked:
            load_checked_settings()  # a misspelt variable named, a bad settings file exit 2, first
        packages_dir = default_packages_dir()
    if packages_dir.exists() and not packages_dir.is_dir():
        raise fail_usage(f"translation models folder {packages_dir} is a file, not a directory")
    return packages_dir


@lang_app.command("detect")
def detect_cmd(
    file: Annotated[
        Path,
        typer.Argument(help="Text file, one text per line, or with --column a CSV ('-': standard input)."),
    ] = Path(STDIO),
    column: Annotated[
        str | None,
        typer.Option(
            "--column", help="Read FILE as a CSV with a header and detect this column, one row each."
        ),
    ] = None,
) -> None:
    """Print one JSON object per line (or CSV row) read: {"lang", "segments": [{"text", "lang"}]}."""
    from dltheory_digest.language import detect

    # a CSV is read whole (a quoted cell may span lines); lines are answered as they come
    texts = read_lines(file) if column is None else _column(file, column)
    for text in texts:
        detection = detect(text, keep_marks=True)
        record = {
            "lang": detection.lang,
            "segments": [{"text": s.text, "lang": s.lang} for s in detection.segments],
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _column(file: Path, column: str) -> list[str]:
    name = column.strip().lower()  # read_csv's column names are lower-case
    return [row[name] for row in read_csv(file, required=(name,)).rows]


@lang_app.command("translate")
def translate_cmd(
    from_code: Annotated[str, typer.Option("--from", help="Source language (zh, ar, en).")],
    to_code: Annotated[str, typer.Option("--to", help="Target language.")] = "en",
    packages_dir: PackagesDir = None,
    glossary: Annotated[Path | None, typer.Option(help="Glossary YAML (default: the shipped one).")] = None,
) -> None:
    """Translate lines from standard input (one JSON object per line: original, translated, model, note)."""
    from dltheory_digest.language import Translator, load_glossary

    try:
        translator = Translator(glossary=load_glossary(glossary), packages_dir=packages_dir)
    except ConfigError as exc:
        err_console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    lines = [raw.rstrip("\r\n") for raw in sys.stdin]
    for result in translator.translate_many(lines, from_code, to_code):
        record = {"original": result.original, "translated": result.english, "model": result.model}
        if result.note:
            record["note"] = result.note
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


@models_app.command("list")
def list_cmd(packages_dir: PackagesDir = None) -> None:
    """Show the installed translation packages."""
    from rich.table import Table

    from dltheory_digest.language.argos import installed_packages

    where = _packages_dir(packages_dir)
    packages = installed_packages(where)
    if not packages:
        console.print(
            f"No translation models in {where}. Run `dltheory-digest models install zh ar`.", markup=False
        )
        return
    # escaped: the folder's path and what the packages' files say are not Rich markup
    table = Table(title=escape(f"Translation models in {where}"))
    for column in ("pair", "version", "folder"):
        table.add_column(column)
    for info in sorted(packages, key=lambda p: (p.from_code, p.to_code)):
        # a package whose files show it cannot load (no model.bin): translation skips it
        version = f"{info.version} (broken: {info.problem})" if info.problem else info.version
        table.add_row(escape(f"{info.from_code}→{info.to_code}"), escape(version), escape(info.path.name))
    console.print(table)


LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")  # ISO 639-1 (or -3) codes, as the Argos index names them


@models_app.command("install")
def install_cmd(
    langs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Languages to install, both directions with English: zh and ar are the ones the "
            "digest translates (Chinese and Arabic sources, zh/ar editions)."
        ),
    ] = None,
    from_file: Annotated[
        list[Path] | None, typer.Option("--from-file", help="Install a downloaded .argosmodel (offline).")
    ] = None,
    packages_dir: PackagesDir = None,
    index_url: Annotated[
        str | None, typer.Option(help=f"Argos package index URL (default: {ARGOS_INDEX_URL}).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the index and downloads.")] = 20.0,
) -> None:
    """Install Argos packages from the Argos index (with a progress bar) or from files."""
    from dltheory_digest.language import argos

    if not langs and not from_file:
        err_console.print("Name languages (`models install zh ar`) or give `--from-file PATH.argosmodel`.")
        raise typer.Exit(2)
    for lang in langs or ():
        # checked before the index is asked: offline, a typo would only show as a network error
        if not LANGUAGE_CODE.fullmatch(lang):
            raise fail_usage(f"{lang!r}: expected a language code such as zh or ar")
        if lang == "en":
            raise fail_usage(
                "'en': name the language to translate from and to (zh, ar); English is the other side"
            )
    for path in from_file or ():
        if not path.is_file():
            raise fail_usage(
                f"--from-file: {path}: {'is a directory' if path.is_dir() else 'file not found'}"
            )
    # the index is asked with the settings' contact: checked once, before the folder is chosen
    settings = load_checked_settings() if langs else None
    where = _packages_dir(packages_dir, settings_checked=settings is not None)
    try:
        for path in from_file or ():
            info = argos.install_from_file(path, where)
            console.print(
                f"installed {info.from_code}→{info.to_code} {info.version} from {path.name}", markup=False
            )
        if langs and settings is not None:
            _install_from_index(langs, where, index_url or argos.ARGOS_INDEX_URL, timeout, settings.contact)
    except DigestError as exc:
        # escaped: a "[source-id]" inside the message would otherwise vanish as Rich markup
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


def _install_from_index(langs: list[str], where: Path, index_url: str, timeout: float, contact: str) -> None:
    import tempfile

    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn

    from dltheory_digest.fetch import PoliteClient
    from dltheory_digest.language import argos

    # the one polite client: User-Agent, robots.txt, retries; few retries, so offline fails fast
    with PoliteClient(contact=contact, max_retries=1) as client:
        index = argos.fetch_index(client, index_url, timeout=timeout)
        wanted = [pair for lang in langs for pair in argos.pairs_for(lang)]
        missing = [f"{a}→{b}" for a, b in wanted if argos.choose(index, a, b) is None]
        if len(missing) == len(wanted):
            # a provisioning script must not take "nothing installed" for success
            raise DigestError(
                f"not in the Argos index at {index_url}: {', '.join(missing)}; nothing installed "
                "(`--from-file PATH.argosmodel` installs a package downloaded elsewhere)"
            )
        if missing:  # the other direction is still of use: a warning, not a failure
            err_console.print(
                f"[yellow]not in the Argos index: {', '.join(missing)} (not installed)[/yellow]"
            )
        with (
            tempfile.TemporaryDirectory() as tmp,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=console,
            ) as progress,
        ):
            for from_code, to_code in wanted:
                entry = argos.choose(index, from_code, to_code)
                if entry is None:
                    continue
                task = progress.add_task(
                    escape(f"{from_code}→{to_code} {entry.get('package_version', '')}"), total=None
                )

                def report(done: int, total: int | None, task_id: TaskID = task) -> None:
                    progress.update(task_id, completed=done, total=total)

                path = argos.download(client, entry, Path(tmp), report, timeout=max(timeout, 60.0))
                info = argos.install_from_file(path, where)
                progress.console.print(
                    f"installed {info.from_code}→{info.to_code} {info.version}", markup=False
                )
