"""What the resolver keeps in the store: `sources forget-doi`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from dltheory_digest.cli.app import console, err_console
from dltheory_digest.cli.checks import fail_usage, load_checked_settings, open_checked_store
from dltheory_digest.cli.run_cmd import sources_app


@sources_app.command("forget-doi")
def forget_doi(
    dois: Annotated[
        list[str],
        typer.Argument(
            help="DOIs as written anywhere: 10.1007/s10107-006-0706-8, https://doi.org/..., doi:...",
            show_default=False,
        ),
    ],
) -> None:
    """Forget the stored Crossref records of these DOIs: the next build asks Crossref again.

    For a record that is wrong, or tied to the wrong arXiv paper; a week already sent keeps its digest.
    """
    from dltheory_digest.ids import normalize_doi
    from dltheory_digest.store.records import forget_doi_records, load_doi_records

    wanted: dict[str, str] = {}  # normalized -> as given (the first spelling of each)
    for given in dois:
        doi = normalize_doi(given)
        if doi is None:
            raise fail_usage(f"not a DOI: {given!r}")
        wanted.setdefault(doi, given)
    settings = load_checked_settings()
    store = open_checked_store(settings)
    try:
        records = load_doi_records(store, wanted)
        forgotten = forget_doi_records(store, wanted)
    finally:
        store.close()
    for doi in forgotten:
        record = records.get(doi)
        title = f": {record.paper.title[:80]!r}" if record is not None else ""
        tied = f" (tied to arXiv {record.arxiv_id})" if record is not None and record.arxiv_id else ""
        console.print(f"forgot {escape(doi)}{escape(title)}{escape(tied)}", highlight=False)
    if forgotten and not settings.crossref_api_base:
        err_console.print(
            "[yellow]warning:[/] crossref_api_base is off: weeks citing "
            f"{'it' if len(forgotten) == 1 else 'them'} will show the citation's link text",
            highlight=False,
        )
    unknown = [doi for doi in wanted if doi not in forgotten]
    if unknown:
        shown = ", ".join(doi if doi == wanted[doi] else f"{doi} (given as {wanted[doi]})" for doi in unknown)
        err_console.print(
            f"[bold red]error:[/] no stored Crossref record of {escape(shown)}", highlight=False
        )
        raise typer.Exit(code=1)
