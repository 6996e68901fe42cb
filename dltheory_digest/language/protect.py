"""What a translation model must not touch: formulas, identifiers, links and kept runs.

Before the model, each such span is replaced by a numbered placeholder ("[3]"); after it,
the placeholders are replaced by the spans exactly as written. Small NMT models copy a
bracketed number (they read it as a citation) but rewrite LaTeX, ids and URLs. Used in
every direction (zh→en, ar→en, en→zh, en→ar), before the glossary, so a glossary term
inside `$\\text{...}$` stays as written too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_PROTECTED = re.compile(
    r"\$\$.{1,2000}?\$\$"  # display maths
    r"|\\\[.{1,2000}?\\\]"
    r"|\\\(.{1,1000}?\\\)"  # inline maths
    r"|\$(?=\S)(?:[^$\\\n]|\\.){1,300}?(?<=\S)\$(?!\d)"  # $x$, not "$5 and $10"
    r"|`[^`\n]{1,200}`"  # inline code
    r"|(?:https?://|www\.)[^\s<>\"'）】」》，。、；！？\u3000]+(?<![.,;:!?)\]])"  # URLs
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|\b10\.\d{4,9}/[!#-&(-;=?-~]+(?<![.,;:!?)\]])"  # DOIs (printable ASCII, not a full stop)
    r"|\barXiv\s*:\s*[\w.\-/]+\d(?:v\d+)?"  # arXiv:2106.10165v2, arXiv:math/0309136
    r"|(?<![\w./-])\d{4}\.\d{4,5}(?:v\d+)?(?![\w.-]*\d)"  # a bare new-style arXiv id
    r"|(?<![\w./-])[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?\b",  # hep-th/9711200
    re.DOTALL | re.IGNORECASE,
)
# A placeholder as a model may give it back: re-spaced, or in full-width or CJK brackets.
_PLACEHOLDER = re.compile(r"[\[【［〔]\s*(\d{1,4})\s*[\]】］〕]")


@dataclass(frozen=True)
class Protected:
    """`text` with placeholders, and what each placeholder number stands for."""

    text: str
    spans: tuple[tuple[int, str], ...] = ()

    def restore(self, output: str) -> str:
        """`output` with each placeholder replaced by its span as written; spans the model
        dropped are appended in brackets, so a formula or link is never lost."""
        if not self.spans:
            return output
        lookup = dict(self.spans)
        seen: set[int] = set()

        def original(match: re.Match[str]) -> str:
            number = int(match.group(1))
            if number not in lookup:
                return match.group(0)
            seen.add(number)
            return lookup[number]

        restored = _PLACEHOLDER.sub(original, output)
        missing = [span for number, span in self.spans if number not in seen]
        return f"{restored} ({' '.join(missing)})" if missing else restored


def protect(text: str, keep: Sequence[tuple[int, int]] = ()) -> Protected:
    """Replace formulas, ids, URLs, e-mail addresses and the `keep` ranges (start, end) of
    `text` by placeholders numbered after any bracketed number already in it (a citation [1]
    stays a citation)."""
    # the longest of the ranges starting at one place wins; a range inside it goes with it
    found = {(m.start(), m.end()) for m in _PROTECTED.finditer(text)} | set(keep)
    ranges = sorted(found, key=lambda r: (r[0], -r[1]))
    if not ranges:
        return Protected(text)
    number = 1 + max((int(m.group(1)) for m in _PLACEHOLDER.finditer(text)), default=0)
    pieces: list[str] = []
    spans: list[tuple[int, str]] = []
    position = 0
    for start, end in ranges:
        if start < position or start == end:
            continue  # inside a span already replaced
        span = text[start:end]
        lead = span[: len(span) - len(span.lstrip())]
        trail = span[len(span.rstrip()) :]
        pieces.append(text[position:start] + lead)
        pieces.append(f"[{number}]")
        pieces.append(trail)
        spans.append((number, span.strip()))
        number += 1
        position = end
    pieces.append(text[position:])
    return Protected("".join(pieces), tuple(spans))
