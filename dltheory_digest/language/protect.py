"""What a translation model must not touch: formulas, identifiers, links and kept runs.

Before the model, each such span is replaced by a numbered placeholder ("[3]"); after it,
the placeholders are replaced by the spans exactly as written. Small NMT models copy a
bracketed number (they read it as a citation) but rewrite LaTeX, ids and URLs. Used in
every direction (zh→en, ar→en, en→zh, en→ar), before the glossary, so a glossary term
inside `$\\text{...}$` stays as written too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Ids, e-mail addresses and DOIs are ASCII, and their edges are spelled with ASCII classes, never
# \w, \b or \d: those match Chinese and Arabic letters, which are written right against a link or
# an id ("链接https://…的证明", "本文2106.10165v2给出了界"). A URL runs over ASCII and accented Latin
# letters only, so it ends where Chinese, Arabic or full-width punctuation starts.
_NOT_BEFORE_ID = r"(?<![A-Za-z0-9_./-])"
URL_CHAR = r"[!#-&(-;=?-~\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"  # ASCII but space "'<>; accented Latin
_PROTECTED = re.compile(
    r"\$\$.{1,2000}?\$\$"  # display maths
    r"|\\\[.{1,2000}?\\\]"
    r"|\\\(.{1,1000}?\\\)"  # inline maths
    r"|\$(?=\S)(?:[^$\\\n]|\\.){1,300}?(?<=\S)\$(?![0-9])"  # $x$, not "$5 and $10"
    r"|`[^`\n]{1,200}`"  # inline code
    rf"|(?:https?://|www\.){URL_CHAR}+(?<![.,;:!?)\]])"  # URLs
    r"|(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # e-mail addresses
    r"|(?<![A-Za-z0-9_])10\.[0-9]{4,9}/[!#-&(-;=?-~]+(?<![.,;:!?)\]])"  # DOIs (not a full stop)
    # arXiv:2106.10165v2, arXiv：math/0309136, arXiv:cond-mat.dis-nn/0101001
    r"|(?<![A-Za-z0-9_])arXiv\s*[:：]\s*"
    r"(?:[0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[a-z]+(?:-[a-z]+)*)?/[0-9]{7})(?:v[0-9]+)?(?![0-9])"
    rf"|{_NOT_BEFORE_ID}[0-9]{{4}}\.[0-9]{{4,5}}(?:v[0-9]+)?(?![A-Za-z0-9_.-]*[0-9])"  # bare new-style id
    rf"|{_NOT_BEFORE_ID}[a-z]+(?:-[a-z]+)?(?:\.[a-z]{{2}})?/[0-9]{{7}}(?:v[0-9]+)?(?![A-Za-z0-9_])",  # hep-th/9711200
    re.DOTALL | re.IGNORECASE,
)
# A placeholder as a model may give it back: re-spaced, or in full-width or CJK brackets
# (int() reads full-width digits too).
_PLACEHOLDER = re.compile(r"[\[【［〔]\s*(\d+)\s*[\]】］〕]")


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
    `text` by placeholders numbered from 1, skipping the bracketed numbers already in it (a
    citation [2] stays a citation; a year [2023] does not push placeholders to [2024])."""
    # the longest of the ranges starting at one place wins; a range inside it goes with it
    found = {(m.start(), m.end()) for m in _PROTECTED.finditer(text)} | set(keep)
    ranges = sorted(found, key=lambda r: (r[0], -r[1]))
    if not ranges:
        return Protected(text)
    taken = {int(m.group(1)) for m in _PLACEHOLDER.finditer(text)}
    free_numbers = (n for n in itertools.count(1) if n not in taken)
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
        number = next(free_numbers)
        pieces.append(f"[{number}]")
        pieces.append(trail)
        spans.append((number, span.strip()))
        position = end
    pieces.append(text[position:])
    return Protected("".join(pieces), tuple(spans))
