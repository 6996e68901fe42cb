"""`dltheory-digest parse KIND FILE`: run one source kind's parser on a saved response, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dltheory_digest.cli.app import app, err_console
from dltheory_digest.cli.files import read_bytes
from dltheory_digest.config import HTTP_URL
from dltheory_digest.errors import ParseError
from dltheory_digest.models import Item, ItemKind


def item_record(item: Item) -> dict[str, Any]:
    """One item as the JSON line `parse` prints."""
    record: dict[str, Any] = {
        "kind": item.kind.value,
        "title": item.title,
        "url": item.url,
        "arxiv_id": item.arxiv_id,
        "version": item.version,
        "doi": item.doi,
        "authors": list(item.authors),
        "lang": item.lang,
        "text": item.text,
    }
    if item.original_title:
        record["original_title"] = item.original_title
    if item.published:
        record["published"] = item.published.isoformat()
    if item.updated:
        record["updated"] = item.updated.isoformat()
    # arXiv's facts, when the source gives them: `announce_type` tells a new paper from a revision
    if item.categories:
        record["categories"] = list(item.categories)
    if item.primary_category:
        record["primary_category"] = item.primary_category
    if item.announce_type:
        record["announce_type"] = item.announce_type.value
    if item.comment:
        record["comment"] = item.comment
    if item.journal_ref:
        record["journal_ref"] = item.journal_ref
    if item.links:
        record["links"] = list(item.links)
    if item.extra:
        record["extra"] = dict(item.extra)
    return record


def item_lines(items: tuple[Item, ...]) -> list[str]:
    """JSON lines for items; a post is followed by the mentions it cites."""
    lines = []
    for item in items:
        lines.append(json.dumps(item_record(item), ensure_ascii=False))
        if item.kind is ItemKind.POST:
            lines.extend(json.dumps(item_record(cited), ensure_ascii=False) for cited in item.cited)
    return lines


@app.command("parse")
def parse_command(
    kind: Annotated[str, typer.Argument(help="source kind, as in sources.yaml (e.g. notes_page, zhihu)")],
    file: Annotated[
        Path, typer.Argument(help="a saved response: HTML, XML, JSON or plain text ('-': standard input)")
    ],
    url: Annotated[
        str, typer.Option("--url", help="the URL the response came from (resolves relative links)")
    ] = "",
) -> None:
    """Parse a saved response without network; print one JSON object per item.

    Exits 1 when the response cannot be parsed or reports an error of its own, 2 on a usage error."""
    from dltheory_digest.sources import REGISTRY

    if url and not HTTP_URL.match(url):
        err_console.print(f"error: --url: {url!r} is not an absolute http(s) URL", markup=False)
        raise typer.Exit(2)
    source_kind = REGISTRY.get(kind)
    if source_kind is None:
        err_console.print(
            f"error: unknown kind {kind!r} (known: {', '.join(sorted(REGISTRY))})", markup=False
        )
        raise typer.Exit(2)
    content = read_bytes(file)
    try:
        result = source_kind.parse_bytes(content, url=url)
    except ParseError as exc:
        err_console.print(f"error: cannot parse {file}: {exc.detail}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    for line in item_lines(result.items):
        typer.echo(line)
    # markup off: warnings quote page text, where a "[/b]" is a title's, not Rich's
    for warning in result.warnings:
        err_console.print(f"warning: {warning}", markup=False)
    for next_url in result.next_urls:
        err_console.print(f"next: {next_url}", markup=False)
    if result.error:
        # the answer says the request failed (arXiv's error feed, an OAI-PMH error), for any
        # kind: a failure as an unreadable page is, not an empty result
        err_console.print(f"error reported by the page: {result.error}", markup=False)
        raise typer.Exit(1)
