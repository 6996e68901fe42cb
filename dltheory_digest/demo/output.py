"""Where the demo's digest goes: beside, never over, a real digest of the same week.

The demo's week (`DEMO_WEEK`) is a real ISO week and its default folder is the real job's
output_dir, so `<week>.md` may be that week's real digest. The demo replaces only a file it
wrote itself (`written_by_demo`); otherwise it writes `<week>.demo.md` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dltheory_digest.store.files import DEMO_MARKER, digest_file, write_text_atomic, written_by_demo

DEMO_SUFFIX = ".demo.md"


@dataclass(frozen=True)
class DemoTarget:
    path: Path  # where the demo writes its digest
    left_alone: Path | None = None  # the week's real digest, when one is there


def demo_target(output_dir: Path, week: str) -> DemoTarget:
    """`<week>.md` when it is absent or the demo's; else `<week>.demo.md` beside the real one.
    FileExistsError when that name too holds a file the demo did not write."""
    usual = digest_file(output_dir, week)
    if not usual.exists() or written_by_demo(usual):
        return DemoTarget(usual)
    beside = digest_file(output_dir, week, DEMO_SUFFIX)
    if beside.exists() and not written_by_demo(beside):
        raise FileExistsError(
            f"{usual.name} and {beside.name} in {output_dir} were not written by the demo, "
            "which replaces neither"
        )
    return DemoTarget(beside, left_alone=usual)


def with_demo_note(markdown: str) -> str:
    """The digest with the line the demo's mail carries under its title, so a reader of the
    file sees at once that its papers and dates are a sample."""
    from dltheory_digest.digest.render import labels_for
    from dltheory_digest.digest.text import md_text

    title, blank, rest = markdown.partition("\n\n")
    note = f"**{md_text(labels_for('en')['demo_note'])}**"
    return f"{title}\n\n{note}\n\n{rest}" if blank else f"{note}\n\n{markdown}"


def write_demo_digest(output_dir: Path, week: str, markdown: str) -> DemoTarget:
    """Write the demo's digest, marked as the demo's, where `demo_target` says (decided at the
    moment of writing: the real job may have written the week's digest during the demo)."""
    target = demo_target(output_dir, week)
    write_text_atomic(target.path, f"{DEMO_MARKER}\n{with_demo_note(markdown)}")
    return target
