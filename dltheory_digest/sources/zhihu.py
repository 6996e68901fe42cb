"""Placeholder for the `zhihu` kind: being written (see its issue)."""

from __future__ import annotations

from pydantic import BaseModel

from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    raise NotImplementedError("zhihu: not written yet")


KIND = SourceKind(name="zhihu", parse=parse)
