"""Offline translation with Argos Translate: batched, cached, glossary first.

One `translate_many` call splits every text into paragraphs and sentences with the
package's own sentence splitter, tokenizes them with its SentencePiece model and sends
all sentences to CTranslate2 in one `translate_batch` call, with the same decoding
settings argostranslate uses for one string. The cache is asked first; only misses reach
the model. argostranslate is imported on the first real translation, not before.
Formulas, ids, URLs and kept English runs reach the model as placeholders (`protect`) and
come back as written, in every direction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dltheory_digest.errors import TranslationUnavailable
from dltheory_digest.language.argos import PackageInfo, default_packages_dir, find_package, import_argos
from dltheory_digest.language.cache import CacheEntry, CacheKey, TranslationCache, text_hash
from dltheory_digest.language.detect import letter_script
from dltheory_digest.language.glossary import Glossary, load_glossary
from dltheory_digest.language.normalize import normalize_text, to_simplified
from dltheory_digest.language.protect import Protected, protect
from dltheory_digest.models import NOTE_DISCARDED, NOTE_UNTRANSLATED, Translated

if TYPE_CHECKING:  # the store imports the language stage's cache types
    from dltheory_digest.store import Store

logger = logging.getLogger(__name__)
_SPACES = re.compile(r"[ \t]+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
# CTranslate2's default output limit (argostranslate keeps it), raised for long inputs to
# this many output tokens per input token of the longest sentence in a batch.
DEFAULT_DECODING_LENGTH = 256
OUTPUT_TOKENS_PER_INPUT_TOKEN = 3
# A sentence longer than this (in tokens) is cut at its clauses ("，" in a Zhihu list of
# twenty items) before the model: models trained on sentences lose their way on paragraphs.
MAX_SENTENCE_TOKENS = 160
_CLAUSE_END = re.compile(r"(?<=[，；：、,;:])\s*")
# Ends an output that reached the output limit even so: cached with it, so the verdict
# (unusable: cut) is the same on every run.
CUT_MARK = "\u2063[cut]"
# Tokens per CTranslate2 batch. argostranslate's default (32) holds two or three sentences,
# which is what one string needs; a week's worth of titles needs batches this size to gain.
BATCH_TOKENS = 2048


@dataclass
class TranslationStats:
    hits: int = 0  # distinct texts answered by the cache
    new: int = 0  # distinct texts sent to a model
    # of those, the ones whose output was unusable (discarded: the original is kept)
    hits_discarded: int = 0
    new_discarded: int = 0


class _RegexSentencizer:
    """Used when a package bundles no splitter: MiniSBD would try to download one."""

    def split_sentences(self, text: str) -> list[str]:
        return [s for s in _SENTENCE_END.split(text) if s.strip()]


_STANZA_CODES = {"zt": "zh-hant", "pb": "pt"}  # argos codes stanza does not know


class _OfflineStanzaSentencizer:
    """argostranslate's Stanza splitter asks the network for a fresh resources.json at the
    first translation (stanza's default download method); this one uses what the package
    bundles and nothing else."""

    def __init__(self, package_path: Path, from_code: str) -> None:
        self.dir = str(package_path / "stanza")
        self.lang = _STANZA_CODES.get(from_code, from_code)
        self.pipeline: Any = None

    def split_sentences(self, text: str) -> list[str]:
        if self.pipeline is None:
            import stanza

            self.pipeline = stanza.Pipeline(
                lang=self.lang,
                dir=self.dir,
                processors="tokenize",
                use_gpu=False,
                logging_level="WARNING",
                download_method=None,
            )
        return [sentence.text for sentence in self.pipeline(text).sentences]


class ArgosEngine:
    """One installed package, loaded: sentence splitter, tokenizer and CTranslate2 model."""

    def __init__(self, info: PackageInfo, packages_dir: Path) -> None:
        import_argos(packages_dir)
        import ctranslate2
        from argostranslate import package as argos_package
        from argostranslate import settings as argos_settings
        from argostranslate import translate as argos_translate

        self.info = info
        self.settings = argos_settings
        self.pkg = argos_package.Package(info.path)
        self.translation = argos_translate.PackageTranslation(
            argos_translate.Language(info.from_code, self.pkg.from_name),
            argos_translate.Language(info.to_code, self.pkg.to_name),
            self.pkg,
        )
        sbd_path = self.pkg.packaged_sbd_path
        if sbd_path is None:
            self.translation.sentencizer = _RegexSentencizer()
        elif Path(sbd_path).name == "stanza":
            self.translation.sentencizer = _OfflineStanzaSentencizer(self.pkg.package_path, info.from_code)
        self.ct2 = ctranslate2.Translator(
            str(self.pkg.package_path / "model"),
            device=argos_settings.device,
            inter_threads=argos_settings.inter_threads,
            intra_threads=argos_settings.intra_threads,
            compute_type=argos_settings.compute_type,
        )
        self.translation.translator = self.ct2  # argostranslate's own path shares the model

    def translate_one(self, text: str) -> str:
        """argostranslate's own per-string path (the benchmark's baseline)."""
        return str(self.translation.translate(text))

    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        sentencizer = self.translation.sentencizer
        tokenizer = self.pkg.tokenizer
        layout: list[list[int]] = []  # per text: number of sentences of each paragraph
        tokenized: list[list[str]] = []
        for text in texts:
            counts: list[int] = []
            for paragraph in text.split("\n"):
                sentences = sentencizer.split_sentences(paragraph) if paragraph.strip() else []
                pieces = [p for s in sentences for p in _clauses(s, tokenizer.encode(s), tokenizer.encode)]
                counts.append(len(pieces))
                tokenized.extend(pieces)
            layout.append(counts)
        prefix = self.pkg.target_prefix
        # CTranslate2 stops at 256 output tokens and cuts inputs at 1,024 by default: a long
        # sentence would lose its tail without a word. The limit grows with the input (argos's
        # own 256 stays for ordinary sentences), and an output that still reaches it is marked.
        longest = max((len(t) for t in tokenized), default=0)
        limit = max(DEFAULT_DECODING_LENGTH, OUTPUT_TOKENS_PER_INPUT_TOKEN * longest + 32)
        results = (
            self.ct2.translate_batch(
                tokenized,
                target_prefix=[[prefix]] * len(tokenized) if prefix else None,
                replace_unknowns=True,
                max_batch_size=max(self.settings.batch_size, BATCH_TOKENS),
                batch_type="tokens",
                beam_size=max(1, self.settings.beam_size),
                num_hypotheses=1,
                length_penalty=0.2,
                max_decoding_length=limit,
                max_input_length=0,
            )
            if tokenized
            else []
        )
        outputs: list[str] = []
        position = 0
        for counts in layout:
            paragraphs: list[str] = []
            cut = False
            for count in counts:
                tokens: list[str] = []
                for result in results[position : position + count]:
                    hypothesis = result.hypotheses[0]
                    cut = cut or len(hypothesis) >= limit
                    tokens.extend(hypothesis)
                position += count
                value = tokenizer.decode(tokens) if tokens else ""
                if prefix and value.startswith(prefix):
                    value = value[len(prefix) :]
                paragraphs.append(value[1:] if value.startswith(" ") else value)
            output = "\n".join(paragraphs).lstrip("\n")
            outputs.append(output + CUT_MARK if cut else output)
        return outputs


class Translator:
    """Translates between the installed pairs; says clearly when a pair has no model."""

    def __init__(
        self,
        *,
        cache: TranslationCache | None = None,
        glossary: Glossary | None = None,
        packages_dir: Path | None = None,
        check_output: bool = True,
    ) -> None:
        """`check_output=False` hands back what the model wrote even when `unusable_reason`
        rejects it: for tests and benchmarks of the model path itself (a random-weight test
        model writes nothing else)."""
        self.cache = cache
        self.check_output = check_output
        self.glossary = glossary if glossary is not None else load_glossary()
        self.packages_dir = Path(packages_dir) if packages_dir is not None else default_packages_dir()
        self.stats = TranslationStats()
        self._engines: dict[tuple[str, str], ArgosEngine] = {}
        self._packages: dict[tuple[str, str], PackageInfo | None] = {}
        self._broken: dict[tuple[str, str], str] = {}  # pair -> note, for packages that fail

    # -- what is there ------------------------------------------------------------------
    def package(self, from_code: str, to_code: str) -> PackageInfo | None:
        pair = (from_code, to_code)
        if pair not in self._packages:
            info = find_package(self.packages_dir, from_code, to_code)
            self._packages[pair] = info
            if info is not None and info.problem:
                self._mark_broken(info, info.problem)
        return self._packages[pair]

    def unavailable_note(self, from_code: str, to_code: str) -> str | None:
        """Why this pair cannot be translated (no package, or a broken one), else None."""
        if from_code == to_code:
            return None
        if self.package(from_code, to_code) is None:
            return str(TranslationUnavailable(from_code, to_code))
        return self._broken.get((from_code, to_code))

    def available(self, from_code: str, to_code: str) -> bool:
        return self.unavailable_note(from_code, to_code) is None

    def model_name(self, from_code: str, to_code: str) -> str | None:
        info = self.package(from_code, to_code)
        return info.name if info else None

    def engine(self, from_code: str, to_code: str) -> ArgosEngine:
        pair = (from_code, to_code)
        if pair not in self._engines:
            info = self.package(from_code, to_code)
            note = self.unavailable_note(from_code, to_code)
            if info is None or note is not None:
                raise TranslationUnavailable(from_code, to_code, note)
            try:
                self._engines[pair] = ArgosEngine(info, self.packages_dir)
            except Exception as exc:  # ctranslate2/sentencepiece raise RuntimeError, OSError, ...
                raise self._mark_broken(info, f"failed to load: {type(exc).__name__}", exc) from exc
        return self._engines[pair]

    def _mark_broken(
        self, info: PackageInfo, reason: str, exc: BaseException | None = None
    ) -> TranslationUnavailable:
        """Treat a package that cannot load or translate like a missing one, with one warning
        (the digest's note stays short; the warning carries the library's message)."""
        lang = info.from_code if info.to_code == "en" else info.to_code
        error = TranslationUnavailable(
            info.from_code,
            info.to_code,
            f"{NOTE_UNTRANSLATED} {info.name} is broken ({reason}); "
            f"reinstall it with `dltheory-digest models install {lang}`",
        )
        pair = (info.from_code, info.to_code)
        if pair not in self._broken:
            self._broken[pair] = str(error)
            logger.warning(
                "translation package %s (%s) cannot be used: %s%s; %s texts stay untranslated",
                info.name,
                info.path,
                reason,
                f" ({_first_line(exc)})" if exc is not None else "",
                info.from_code,
            )
        return error

    # -- translating --------------------------------------------------------------------
    def prepare(self, text: str, from_code: str, to_code: str) -> str:
        """The exact text the model sees: normalized (formulas as written), Simplified for
        zh, formulas, ids and URLs as placeholders, glossary applied."""
        return self.protected(text, from_code, to_code).text

    def protected(
        self, text: str, from_code: str, to_code: str, keep: Sequence[tuple[int, int]] = ()
    ) -> Protected:
        """`prepare` with what its placeholders stand for. `keep` are ranges of `text` to
        pass through as written (English runs in a Chinese line), honoured when `text` is
        normalized already (as detection's segments are), since offsets move otherwise."""
        normalized = normalize_text(text, from_code, keep_maths=True)
        shielded = protect(normalized, keep if normalized == text else ())
        prepared = to_simplified(shielded.text) if from_code == "zh" else shielded.text
        if to_code == "en":
            prepared = self.glossary.to_english(prepared, from_code, clitics_in_english=True)
        elif from_code == "en":
            prepared = self.glossary.from_english(prepared, to_code)
        return Protected(_SPACES.sub(" ", prepared).strip(), shielded.spans)

    def translate_many(
        self,
        texts: Sequence[str],
        from_code: str,
        to_code: str,
        *,
        keep: Sequence[Sequence[tuple[int, int]]] | None = None,
    ) -> list[Translated]:
        """Translations of `texts`; `keep[i]` are ranges of `texts[i]` the model must not
        touch (see `protected`)."""
        texts = list(texts)
        if from_code == to_code:
            return [Translated(t, t, from_code) for t in texts]
        info = self.package(from_code, to_code)
        note = self.unavailable_note(from_code, to_code)
        if info is None or note is not None:
            return [self._glossary_only(t, from_code, to_code, note) for t in texts]
        shielded = [
            self.protected(t, from_code, to_code, keep[i] if keep else ()) for i, t in enumerate(texts)
        ]
        prepared = [s.text for s in shielded]
        keys = [CacheKey(text_hash(p), from_code, to_code, info.model, info.version) for p in prepared]
        done: dict[CacheKey, str] = {}
        for key, text in zip(keys, prepared, strict=True):
            if not _needs_model(text, from_code):
                done[key] = text  # empty, or nothing left in the source language (glossary only)
        asked = list(dict.fromkeys(k for k in keys if k not in done))
        cached: dict[CacheKey, str] = {}
        if self.cache is not None and asked:
            cached = self.cache.get_many(asked)
            self.stats.hits += len(cached)
            done.update(cached)
        misses = {k: p for k, p in zip(keys, prepared, strict=True) if k not in done}
        if misses:
            try:
                fresh = self._run_model(info, misses)
            except TranslationUnavailable as exc:
                return [Translated(t, t, from_code, None, str(exc)) for t in texts]
            done.update(fresh)
            self.stats.new += len(fresh)
            if self.cache is not None:
                self.cache.put_many([CacheEntry(k, misses[k], v) for k, v in fresh.items()])
        results = [
            self._checked(t, s, done[k], from_code, info.name)
            for t, s, k in zip(texts, shielded, keys, strict=True)
        ]
        # counted per distinct text, like hits and new, so "new" can say how many were usable
        discarded = {k for k, r in zip(keys, results, strict=True) if r.note}
        self.stats.hits_discarded += len(discarded & cached.keys())
        self.stats.new_discarded += len(discarded & misses.keys())
        return results

    def _glossary_only(self, text: str, from_code: str, to_code: str, note: str | None) -> Translated:
        """Without a model: a text the glossary translates whole ("泛化界") comes back in
        English, as it does with a model (which is then not asked); any other text as written,
        with the note saying why."""
        shielded = self.protected(text, from_code, to_code)
        if _needs_model(shielded.text, from_code) or not _needs_model(text, from_code):
            return Translated(text, text, from_code, None, note)
        return Translated(text, shielded.restore(shielded.text), from_code)

    def _run_model(self, info: PackageInfo, misses: dict[CacheKey, str]) -> dict[CacheKey, str]:
        """The model's outputs for `misses`; a package that fails to load or to translate
        raises TranslationUnavailable (and is not asked again in this run)."""
        engine = self.engine(info.from_code, info.to_code)
        try:
            outputs = engine.translate_batch(list(misses.values()))
            fresh = {k: _tidy(out) for k, out in zip(misses, outputs, strict=True)}
            self._keep_terms(engine, misses, fresh, info.from_code, info.to_code)
        except Exception as exc:
            raise self._mark_broken(info, f"failed to translate: {type(exc).__name__}", exc) from exc
        return fresh

    def _checked(self, text: str, prepared: Protected, output: str, from_code: str, model: str) -> Translated:
        """The model's output with its placeholders restored, or the text as written when the
        output is unusable (the cache keeps the raw output: the verdict is the same on every run)."""
        reason = unusable_reason(prepared.text, output) if self.check_output else None
        if reason is None:
            return Translated(text, prepared.restore(output.replace(CUT_MARK, "")), from_code, model)
        note = f"{NOTE_DISCARDED} the output of {model} was unusable ({reason}); kept the original"
        return Translated(text, text, from_code, model, note)

    def _keep_terms(
        self,
        engine: ArgosEngine,
        sources: dict[CacheKey, str],
        outputs: dict[CacheKey, str],
        from_code: str,
        to_code: str,
    ) -> None:
        """Where the model dropped or changed a glossary term it was given, translate the
        pieces between the terms instead and keep the terms verbatim: the term is certain,
        at the price of context around it."""
        targets = self.glossary.targets(from_code, to_code)
        if not targets:
            return
        redo: dict[CacheKey, list[str]] = {}
        for key, source in sources.items():
            required = [t for t in targets if t in source]
            if required and any(t.lower() not in outputs[key].lower() for t in required):
                pattern = "(" + "|".join(re.escape(t) for t in sorted(required, key=len, reverse=True)) + ")"
                redo[key] = [piece for piece in re.split(pattern, source) if piece.strip()]
        pieces = list(dict.fromkeys(p for parts in redo.values() for p in parts if p not in targets))
        pieces = [p for p in pieces if _needs_model(p, from_code)]
        translated = dict(zip(pieces, engine.translate_batch(pieces), strict=True)) if pieces else {}
        joiner = "" if to_code in ("zh", "ja") else " "
        for key, parts in redo.items():
            outputs[key] = _tidy(joiner.join(translated.get(p, p).strip() for p in parts))


# A machine translation this much longer than its source is a runaway, not a translation
# (English runs about 3-4 characters per Chinese one, more on terse titles; the margin keeps
# long but faithful translations, and the repetition check catches shorter loops; 40 spares
# short titles).
MAX_LENGTH_RATIO = 6
LENGTH_SLACK = 40
# The same word or phrase (up to this many words) written this many times in a row.
MAX_PHRASE_WORDS = 4
RUNAWAY_REPEATS = 4
# Words: a run of letters/digits, or one CJK character (Chinese is written without spaces).
_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\u3400-\u9fff\uf900-\ufaff]+")


def _longest_repeat(text: str) -> tuple[int, str]:
    """The most times a phrase of 1..MAX_PHRASE_WORDS words (with a letter) repeats back to back.

    Linear in the words: a start inside a measured run repeats its own rotation of the phrase no
    more often than the run's start, so the scan goes on from the run's end (a model that ran
    away writes thousands of words)."""
    words = [w.lower() for w in _WORD.findall(text)]
    best, phrase = 1, ""
    for size in range(1, MAX_PHRASE_WORDS + 1):
        start = 0
        while start + size <= len(words):
            end = start + size  # words[start:end] repeat the phrase at `start`
            while end < len(words) and words[end] == words[end - size]:
                end += 1
            count = (end - start) // size
            unit = words[start : start + size]
            # "1 1 1 1" in a matrix is no runaway
            if count > best and any(ch.isalpha() for word in unit for ch in word):
                best, phrase = count, " ".join(unit)
            start = max(start + 1, end - size + 1)
    return best, phrase


def unusable_reason(source: str, output: str) -> str | None:
    """Why a model's output is no translation of `source`, or None when it may be one.

    Unusable: empty for a non-empty source, longer than MAX_LENGTH_RATIO x the source plus
    LENGTH_SLACK characters, or the same word or phrase RUNAWAY_REPEATS+ times in a row
    (more often than the source itself repeats it). Small models loop like this on
    unfamiliar input; printed as a title, the loop fills a screen."""
    if source.strip() and not output.strip():
        return "empty"
    limit = MAX_LENGTH_RATIO * len(source) + LENGTH_SLACK
    if len(output) > limit:
        return f"{len(output)} characters for {len(source)}"
    repeats, phrase = _longest_repeat(output)
    if repeats >= RUNAWAY_REPEATS and repeats > _longest_repeat(source)[0]:
        return f"{phrase!r} {repeats} times in a row"
    if CUT_MARK in output:  # at the end, or inside when pieces were joined (`_keep_terms`)
        return "cut at the model's output limit"
    return None


def _clauses(sentence: str, tokens: list[str], encode: Any) -> list[list[str]]:
    """A sentence's tokens, or for a long one, the tokens of runs of its clauses that fit
    MAX_SENTENCE_TOKENS (a clause longer than that goes whole)."""
    if len(tokens) <= MAX_SENTENCE_TOKENS:
        return [tokens]
    pieces: list[list[str]] = []
    current = ""
    for clause in (c for c in _CLAUSE_END.split(sentence) if c):
        joined = current + clause
        if current and len(encode(joined)) > MAX_SENTENCE_TOKENS:
            pieces.append(encode(current))
            joined = clause
        current = joined
    if current:
        pieces.append(encode(current))
    return pieces


def _needs_model(text: str, from_code: str) -> bool:
    if from_code == "en":
        return any(letter_script(ch) == "LATIN" for ch in text)
    return any(letter_script(ch) not in (None, "LATIN") for ch in text)


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message, for a one-line warning."""
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def make_translator(store: Store | None = None, **kwargs: Any) -> Translator:
    """A Translator caching in `store` when given (`cache` in `kwargs` wins over it)."""
    cache = kwargs.pop("cache", None)
    if cache is None and store is not None:
        from dltheory_digest.store.translations import StoreTranslationCache

        cache = StoreTranslationCache(store)
    return Translator(cache=cache, **kwargs)
