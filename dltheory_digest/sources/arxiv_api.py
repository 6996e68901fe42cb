"""Placeholder for the `arxiv_api` kind: being written (see its issue)."""

from __future__ import annotations

from pydantic import BaseModel

from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    raise NotImplementedError("arxiv_api: not written yet")


KIND = SourceKind(name="arxiv_api", parse=parse)
