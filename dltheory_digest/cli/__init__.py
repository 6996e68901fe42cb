"""Command-line interface: `dltheory-digest`. Commands call the same functions as the flows.

Each module below registers its commands on `app`; modules are grouped by pipeline stage.
"""

from __future__ import annotations

from dltheory_digest.cli import (  # noqa: F401  (imported for their commands)
    classify_cmd,
    dedup_cmd,
    lang_cmd,
    mail_cmd,
    orchestrate_cmd,
    parse_cmd,
    resolve_cmd,
    run_cmd,
    store_cmd,
)
from dltheory_digest.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
