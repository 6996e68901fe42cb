"""Placeholder for the `notes_page` kind: being written (see its issue)."""

from __future__ import annotations

from pydantic import BaseModel

from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    raise NotImplementedError("notes_page: not written yet")


KIND = SourceKind(name="notes_page", parse=parse)
