"""Placeholder for the `feed` kind: being written (see its issue)."""

from __future__ import annotations

from pydantic import BaseModel

from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    raise NotImplementedError("feed: not written yet")


KIND = SourceKind(name="feed", parse=parse)
