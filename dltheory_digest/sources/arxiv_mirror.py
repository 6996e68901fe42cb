"""Placeholder for the `arxiv_mirror` kind: being written (see its issue)."""

from __future__ import annotations

from pydantic import BaseModel

from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    raise NotImplementedError("arxiv_mirror: not written yet")


KIND = SourceKind(name="arxiv_mirror", parse=parse)
