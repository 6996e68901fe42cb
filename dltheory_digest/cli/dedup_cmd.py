"""Commands of this stage (being written)."""

from __future__ import annotations

from dltheory_digest.cli.app import app  # noqa: F401
