"""The language stage over items: detect, translate non-English segments, keep the originals."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from dltheory_digest.errors import TranslationUnavailable
from dltheory_digest.language.detect import UNDETERMINED, detect
from dltheory_digest.language.translate import TranslationStats, Translator
from dltheory_digest.models import Item, Note, NoteKind, Segment

_FIELDS = ("title", "text")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]])")


@dataclass(frozen=True)
class LanguageResult:
    items: tuple[Item, ...]
    notes: tuple[Note, ...] = ()  # "untranslated: no zh→en model (...)", once per pair
    # usable translations (distinct texts) from the cache and from a model; the outputs a check
    # discarded as unusable (the original kept) are counted apart, by where they came from
    cache_hits: int = 0
    new_translations: int = 0
    hits_discarded: int = 0
    new_discarded: int = 0
    models: tuple[tuple[str, str], ...] = ()  # ("argos zh→en", "1.9") for each model used


def _needs_translation(segment: Segment) -> bool:
    return segment.lang not in ("en", UNDETERMINED) and bool(segment.text.strip())


@dataclass(frozen=True)
class _Line(Segment):
    """A line in one foreign language around English runs, translated whole: the model sees
    the sentence, with the English runs (`kept`, ranges of `text`) as placeholders, instead
    of the fragments between them ("论文" and "的解读" around a title, a lone "的")."""

    kept: tuple[tuple[int, int], ...] = ()


def _whole_line(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """One `_Line` for segments in a single language to translate and English (or no
    language) besides; the segments as they are otherwise (two foreign languages, or one)."""
    foreign = {s.lang for s in segments if _needs_translation(s)}
    if len(foreign) != 1 or len(segments) < 2:
        return segments
    kept: list[tuple[int, int]] = []
    position = 0
    for segment in segments:
        end = position + len(segment.text)
        if not _needs_translation(segment) and segment.text.strip():
            kept.append((position, end))
        position = end
    return (_Line("".join(s.text for s in segments), foreign.pop(), tuple(kept)),)


def _kept_ranges(segment: Segment) -> tuple[tuple[int, int], ...]:
    return segment.kept if isinstance(segment, _Line) else ()


def _join(parts: Sequence[str]) -> str:
    text = " ".join(p.strip() for p in parts if p.strip())
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text)


def localize_items(
    items: Sequence[Item], translator: Translator | None, *, declared: Mapping[str, str] | None = None
) -> LanguageResult:
    """Set each item's `lang` (when the source did not), `title_en`, `text_en` and `translated_by`.

    `declared`: source id -> the language `sources.yaml` gives the source, which settles
    Arabic-script and kanji-only text whose own evidence is thin (`detect`'s hint). Not the
    item's `lang`: parsers set that from the script alone ("ar" for any Arabic letter).

    Only non-English segments are translated (all of them, across items and the mentions
    posts cite, in one batch per language pair); English segments, such as a paper title
    inside Chinese commentary, are kept as they are. Original `title` and `text` are never
    changed.
    """
    before = dataclasses.replace(translator.stats) if translator else TranslationStats()
    flat = _flatten(items)
    plans: dict[tuple[int, str], tuple[Segment, ...]] = {}  # (flat index, field) -> segments
    # source language -> texts to translate, each with the ranges the model must keep as written
    wanted: dict[str, dict[str, tuple[tuple[int, int], ...]]] = {}
    for index, item in enumerate(flat):
        for name in _FIELDS:
            value: str = getattr(item, name)
            if not value or not value.strip() or value.isascii():
                # ASCII text holds no Chinese or Arabic: nothing to translate (most of arXiv)
                continue
            hint = (declared or {}).get(item.source_id)
            segments = _whole_line(detect(value, hint=hint).segments)
            plans[(index, name)] = segments
            for segment in segments:
                if _needs_translation(segment):
                    wanted.setdefault(segment.lang, {})[segment.text] = _kept_ranges(segment)

    translated: dict[tuple[str, str], str] = {}
    model_of: dict[str, str] = {}
    notes: list[Note] = []
    models: list[tuple[str, str]] = []
    discarded: list[Note] = []
    for lang, texts in wanted.items():
        if translator is None:
            notes.append(Note(NoteKind.UNTRANSLATED, str(TranslationUnavailable(lang, "en")), lang=lang))
            continue
        results = translator.translate_many(list(texts), lang, "en", keep=list(texts.values()))
        # no model, or one that is broken or failed to load or run: the texts came back as
        # written, each with that note; it is one note for the language, not a runaway discard
        unavailable = translator.unavailable_note(lang, "en")
        if unavailable is not None:
            notes.append(Note(NoteKind.UNTRANSLATED, unavailable, lang=lang))
            continue
        for result in results:
            if result.note:
                # a runaway the translator discarded: the field keeps only its original
                discarded.append(Note(NoteKind.DISCARDED, result.note, lang=lang))
                continue
            translated[(lang, result.original)] = result.english
        info = translator.package(lang, "en")
        kept = any(not result.note for result in results)
        if info is not None and kept:  # a model whose every output was discarded gave nothing shown
            model_of[lang] = info.name
            models.append((info.model, info.version))

    if discarded:
        more = f" (and {len(discarded) - 1} more)" if len(discarded) > 1 else ""
        # one note for them all: in the language they share, none when several (all readers told)
        langs = {note.lang for note in discarded}
        shared = langs.pop() if len(langs) == 1 else None
        notes.append(Note(NoteKind.DISCARDED, discarded[0].text + more, lang=shared))
    localized = [_localized(item, index, plans, translated, model_of) for index, item in enumerate(flat)]
    now = _since(before, translator.stats) if translator else TranslationStats()
    return LanguageResult(
        items=_rebuild(items, iter(localized)),
        notes=tuple(dict.fromkeys(notes)),
        cache_hits=now.hits - now.hits_discarded,
        new_translations=now.new - now.new_discarded,
        hits_discarded=now.hits_discarded,
        new_discarded=now.new_discarded,
        models=tuple(dict.fromkeys(models)),
    )


def _since(before: TranslationStats, after: TranslationStats) -> TranslationStats:
    """What one call added to a translator's running counts."""
    return TranslationStats(
        **{f.name: getattr(after, f.name) - getattr(before, f.name) for f in dataclasses.fields(after)}
    )


def _flatten(items: Sequence[Item]) -> list[Item]:
    """Items in depth-first order, each followed by the mentions it cites."""
    out: list[Item] = []
    for item in items:
        out.append(item)
        out.extend(_flatten(item.cited))
    return out


def _rebuild(items: Sequence[Item], localized: Iterator[Item]) -> tuple[Item, ...]:
    """The inverse of `_flatten`: localized items with their localized citations."""
    out: list[Item] = []
    for item in items:
        head = next(localized)
        if item.cited:
            head = dataclasses.replace(head, cited=_rebuild(item.cited, localized))
        out.append(head)
    return tuple(out)


def _localized(
    item: Item,
    index: int,
    plans: dict[tuple[int, str], tuple[Segment, ...]],
    translated: dict[tuple[str, str], str],
    model_of: dict[str, str],
) -> Item:
    changes: dict[str, object] = {"lang": item.lang or detect(_combined(item)).lang}
    used: list[str] = []
    for name in _FIELDS:
        segments = plans.get((index, name), ())
        foreign = [s for s in segments if _needs_translation(s)]
        done = [s for s in foreign if (s.lang, s.text) in translated]
        # English already, nothing translated, or an output discarded: keep the original only.
        # A piece in a language without a model (a Japanese book title in Chinese commentary)
        # stays as written inside the translated rest, which it no longer holds back.
        missing = [s for s in foreign if (s.lang, s.text) not in translated]
        if not done or any(s.lang in model_of for s in missing):
            continue
        parts = [
            translated.get((s.lang, s.text), s.text) if _needs_translation(s) else s.text for s in segments
        ]
        changes[f"{name}_en"] = _join(parts)
        used.extend(model_of[s.lang] for s in done)
    if used:
        changes["translated_by"] = ", ".join(dict.fromkeys(used))
    return dataclasses.replace(item, **changes)  # type: ignore[arg-type]


def _combined(item: Item) -> str:
    return f"{item.title}\n{item.text}".strip()
