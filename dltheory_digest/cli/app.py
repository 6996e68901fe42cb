"""The typer application that every command module registers on."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperOption

app = typer.Typer(
    name="dltheory-digest",
    help="A weekly digest of deep-learning theory from arXiv, blogs and Chinese and Arabic aggregators.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
# Piped into a log or CI, Rich would assume 80 columns and cut the tables' ids and statuses;
# a terminal keeps its own width (and COLUMNS still wins).
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)
# errors and warnings stay one line each however narrow the terminal (or a log file) is
err_console = Console(stderr=True, soft_wrap=True)

# typer 0.29 prints a type after every option, flags included (`--dry-run <bool>`), which reads
# as if the flag wanted a value; a flag shows none. The hook is typer's own (not public): if a
# later typer drops it, help keeps typer's default rather than the CLI failing to start.
_typed_display = getattr(TyperOption, "display_type_rich", None)


def _flags_take_no_value(self: TyperOption, ctx: Any) -> str | None:
    assert _typed_display is not None
    return None if self.is_flag else _typed_display(self, ctx)


if _typed_display is not None:
    TyperOption.display_type_rich = _flags_take_no_value  # type: ignore[method-assign]


def _print_version(value: bool) -> None:
    if value:
        from dltheory_digest import __version__

        console.print(f"dltheory-digest {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """A weekly digest of deep-learning theory from arXiv, blogs and Chinese and Arabic aggregators."""
