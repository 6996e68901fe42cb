"""Placeholder for the `papers_cool` kind: being written (see its issue)."""

from __future__ import annotations

from pydantic import BaseModel

from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    raise NotImplementedError("papers_cool: not written yet")


KIND = SourceKind(name="papers_cool", parse=parse)
