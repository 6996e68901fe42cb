"""The typer application that every command module registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="dltheory-digest",
    help="A weekly digest of deep-learning theory from arXiv, blogs and Chinese and Arabic aggregators.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
err_console = Console(stderr=True)
