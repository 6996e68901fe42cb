"""The user-editable glossary: DL-theory terms in Chinese and Arabic and their English.

Terms are substituted before translation (longest first), so a key term comes out the
same every time whatever the model makes of its context; a text that is only glossary
terms needs no model at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from dltheory_digest.config import read_yaml_bytes
from dltheory_digest.errors import ConfigError
from dltheory_digest.language.normalize import normalize_text, opencc_converter, to_simplified

DEFAULT_GLOSSARY = Path(__file__).resolve().parent.parent / "glossary.yaml"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# The English a term is often glossed with right after it, "双下降（double descent）" (ASCII
# only, so no term inside a Chinese gloss is passed over); the brackets may be full-width in
# text that was not normalized.
_GLOSS = r"(?P<gloss>\s*[(（]\s*(?P<inside>[\x20-\x27\x2a-\x7e]{1,200}?)\s*[)）])?"


@dataclass(frozen=True)
class Glossary:
    """`terms[lang]` pairs (term in `lang`, English), longest term first; `aliases[lang]`
    other spellings of those terms, found like them but never written (Taiwan's 資訊瓶頸
    for 信息瓶颈)."""

    terms: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    version: str = "empty"  # hash of the content: part of what a cached translation depends on
    aliases: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.terms))

    def english_for(self, term: str, lang: str) -> str | None:
        wanted = _prepare_term(term, lang)
        return next((en for source, en in self._found(lang) if source == wanted), None)

    def _found(self, lang: str) -> tuple[tuple[str, str], ...]:
        """The terms and aliases of `lang`, longest first."""
        aliases = self.aliases.get(lang, ())
        return _longest_first([*self.terms.get(lang, ()), *aliases]) if aliases else self.terms.get(lang, ())

    def targets(self, from_code: str, to_code: str) -> tuple[str, ...]:
        """The glossary's renderings in `to_code` for a from→to translation (English for X→en)."""
        if to_code == "en":
            return tuple(dict.fromkeys(en for _, en in self.terms.get(from_code, ())))
        if from_code == "en":
            return tuple(dict.fromkeys(src for src, _ in self.terms.get(to_code, ())))
        return ()

    def to_english(self, text: str, lang: str, *, clitics_in_english: bool = False) -> str:
        """Replace `lang` terms in `text` (already normalized) by their English.

        An Arabic prefix on a term (و، ف، ب، ك، ل) stays in front of the English as its own
        letter ("ب neural networks"), or, with `clitics_in_english` (text for a model, which
        knows no lone letter), becomes its English word ("with neural networks")."""
        if lang == "ar":
            return _arabic_to_english(text, self._found(lang), clitics_in_english)
        return self._substitute(text, list(self._found(lang)), cjk=lang in ("zh", "ja"))

    def from_english(self, text: str, lang: str) -> str:
        """Replace English terms by their `lang` equivalents (en→zh, en→ar), case-insensitively."""
        pairs = sorted(((en, src) for src, en in self.terms.get(lang, ())), key=lambda p: -len(p[0]))
        out = text
        for english, source in pairs:
            out = re.sub(rf"(?<![\w-]){re.escape(english)}(?![\w-])", source, out, flags=re.IGNORECASE)
        return out

    @staticmethod
    def _substitute(text: str, pairs: list[tuple[str, str]], *, cjk: bool) -> str:
        if not pairs:
            return text
        pattern = re.compile(f"(?P<term>{'|'.join(re.escape(src) for src, _ in pairs)}){_GLOSS}")
        lookup = dict(pairs)

        def english(match: re.Match[str]) -> str:
            replacement = lookup[match.group("term")]
            kept = "" if _glossed_with(match, replacement) else (match.group("gloss") or "")
            end = match.end() if not kept else match.end("term")
            if not cjk:
                return replacement + kept
            # Inside Chinese the English needs spaces around it to stay a separate phrase.
            before = text[match.start() - 1] if match.start() else " "
            after = text[end] if end < len(text) else " "
            left = " " if _CJK.match(before) else ""
            right = " " if _CJK.match(after) else ""
            return f"{left}{replacement}{right}{kept}"

        return pattern.sub(english, text)


def _glossed_with(match: re.Match[str], english: str) -> bool:
    """Whether the term matched is followed by its own English in brackets: written once."""
    inside = match.group("gloss") and match.group("inside")
    return bool(inside) and _folded(inside) == _folded(english)


def _folded(english: str) -> str:
    return re.sub(r"[\s\-‐‑–]+", "", english).casefold()


# Arabic writes conjunctions (و "and", ف "so") and prepositions (ب "with", ك "as", ل "for")
# as prefixes of the next word, and ل + the article ال as لل. A glossary term is found with
# them, and in its indefinite form (الشبكة العصبية: شبكة عصبية). The prefix stays in front
# of the term's English as its own letter (what keyword matching strips), or becomes its
# English word for a model, to which a lone letter is no Arabic word ("ب neural networks").
_AR_PROCLITICS = "(?P<clitics>[وف]?[بكل]?)"
_AR_CLITIC_ENGLISH = {"و": "and", "ف": "so", "ب": "with", "ك": "as", "ل": "for"}


def _arabic_forms(term: str) -> list[tuple[str, str]]:
    """(written form, the prefix letters it carries) of a glossary term."""
    forms = [(term, "")]
    words = term.split()
    if words[0].startswith("ال"):
        forms.append(("لل" + term[2:], "ل"))
    if all(w.startswith("ال") and len(w) > 4 for w in words):
        forms.append((" ".join(w[2:] for w in words), ""))
    return forms


@cache
def _arabic_matcher(terms: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    lookup: dict[str, tuple[str, str]] = {}
    for source, english in terms:
        for form, carried in _arabic_forms(source):
            lookup.setdefault(form, (english, carried))
    alternatives = "|".join(re.escape(f) for f in sorted(lookup, key=lambda f: (-len(f), f)))
    return re.compile(rf"(?<!\w){_AR_PROCLITICS}(?P<term>{alternatives})(?!\w){_GLOSS}"), lookup


def _arabic_to_english(text: str, terms: tuple[tuple[str, str], ...], clitics_in_english: bool) -> str:
    if not terms:
        return text
    pattern, lookup = _arabic_matcher(terms)

    def english(match: re.Match[str]) -> str:
        replacement, carried = lookup[match.group("term")]
        kept = "" if _glossed_with(match, replacement) else (match.group("gloss") or "")
        clitics = match.group("clitics") + carried
        if not clitics_in_english:
            return (f"{clitics} {replacement}" if clitics else replacement) + kept
        return " ".join([*(_AR_CLITIC_ENGLISH[letter] for letter in clitics), replacement]) + kept

    return pattern.sub(english, text)


def _prepare_term(term: str, lang: str) -> str:
    term = normalize_text(term, lang, keep_maths=True)
    return to_simplified(term) if lang == "zh" else term


def _taiwan_form(term: str) -> str:
    """A Simplified term as Taiwan words it, back in Simplified characters: text is only
    converted character by character (`to_simplified`), so 資訊瓶頸 arrives as 资讯瓶颈, not
    信息瓶颈. (Converting whole texts with tw2sp instead mistranslates: 批次正規化 → 批量范式.)"""
    return to_simplified(str(opencc_converter("s2twp").convert(term)))


def _longest_first(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs, key=lambda kv: (-len(kv[0]), kv[0])))


def load_glossary(path: Path | None = None) -> Glossary:
    """Read the glossary YAML (`{lang: {term: english}}`); default: the one shipped in the package."""
    path = path or DEFAULT_GLOSSARY
    raw, raw_bytes = read_yaml_bytes(path)
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: expected a mapping of language -> {{term: English}}", path=str(path))
    terms: dict[str, tuple[tuple[str, str], ...]] = {}
    aliases: dict[str, tuple[tuple[str, str], ...]] = {}
    for lang, entries in raw.items():
        if not isinstance(entries, dict):
            raise ConfigError(
                f"{path.name}: field {lang!r}: expected a mapping of term -> English",
                path=str(path),
                field=str(lang),
            )
        pairs: dict[str, str] = {}
        for term, english in entries.items():
            if (
                not isinstance(term, str)
                or not isinstance(english, str)
                or not term.strip()
                or not english.strip()
            ):
                raise ConfigError(
                    f"{path.name}: field '{lang}.{term}': term and English must be non-empty text",
                    path=str(path),
                    field=f"{lang}.{term}",
                )
            pairs[_prepare_term(term.strip(), str(lang))] = english.strip()
        terms[str(lang)] = _longest_first(pairs.items())
        if lang == "zh":
            taiwan = {_taiwan_form(term): english for term, english in pairs.items()}
            aliases["zh"] = _longest_first((t, en) for t, en in taiwan.items() if t not in pairs)
    version = hashlib.sha256(raw_bytes).hexdigest()[:12]
    return Glossary(terms=terms, version=version, aliases=aliases)
