"""Per-segment language detection.

A line is cut into runs of one script (Han+Kana, Hangul, Arabic, Cyrillic, Latin, ...);
non-Latin scripts mostly name their language outright, and only Latin (and Arabic or
Cyrillic, between their few languages) needs a statistical guess. langdetect is weak on
short text, so for Latin it runs on a restricted set of languages with a prior towards
English (this is an English-centred digest) and a function-word vote decides first when
the evidence is clear.

A line is "mixed" when a language other than its dominant one holds a run of four or
more words (an English paper title inside Chinese commentary), or holds at least a third
of the line's words. Acronyms and CamelCase names (CNN, ReLU, ImageNet) are terms, not
words: they neither count nor break a run. When a non-Latin language is present in more
than a token amount it is the dominant (matrix) language, since the English in such
lines is quoted titles and terms.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltheory_digest.language.normalize import normalize_text, opencc_converter
from dltheory_digest.language.protect import URL_CHAR
from dltheory_digest.models import Detection, Segment

UNDETERMINED = "und"
MIXED = "mixed"
MIN_RUN_WORDS = 4  # a foreign run this long makes a line mixed (issue 4)
MIN_SHARE = 1 / 3  # ... and so does a foreign share this large
MIN_SHARE_WORDS = 3
MATRIX_WEIGHT = 2.0  # word-equivalents a non-Latin language needs to dominate a line
HAN_CHARS_PER_WORD = 1.5  # average length of a Chinese word, to weigh Han text against words

# Scripts that name their language without any statistics.
_SCRIPT_LANG = {
    "HANGUL": "ko",
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "DEVANAGARI": "hi",
    "BENGALI": "bn",
    "TAMIL": "ta",
    "TELUGU": "te",
    "GUJARATI": "gu",
    "GURMUKHI": "pa",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
}
_OPENING = set("([{“‘«《「『【〈")  # and an ASCII quote where it opens (`_opens`)
_CLOSING = set(")]}”’»》」』】〉〕")

# Languages langdetect may choose per script; the first is the default when unsure.
_LATIN_LANGS = ("en", "fr", "de", "es", "it", "pt", "nl", "pl", "cs", "tr", "vi", "id", "sv", "da",
                "no", "fi", "ro", "hu")  # fmt: skip
_ARABIC_LANGS = ("ar", "fa", "ur")
_CYRILLIC_LANGS = ("ru", "uk", "bg", "mk")
_CONFIDENT = 0.9
# Persian/Urdu letters that Arabic lacks; Ukrainian, Belarusian and Serbian/Macedonian letters
# that Russian lacks, and Bulgarian's heavy ъ. Without them the script's main language stands.
_NEIGHBOUR_LETTERS = frozenset("پچژگکیٹڈڑںےہھ" + "іїєґўђјљњћџѓќѕъ")
# Letters that name one neighbour by themselves, for text too short or too unusual for
# langdetect to be sure of ("یادگیری عمیق" is Persian however short): Urdu's retroflexes,
# its small yeh, noon ghunna and heh forms; the Persian letters (Urdu has them too, so Urdu
# is tried first); Ukrainian's і ї є ґ; Macedonian's ѓ ќ ѕ.
_LETTER_LANGS = (("ur", frozenset("ٹڈڑںےہۂۃ")), ("fa", frozenset("پچژگکی")), ("uk", frozenset("іїєґ")),
                 ("mk", frozenset("ѓќѕ")))  # fmt: skip
_LETTER_SHARE = 0.25  # of the words: a name or two spelt with such a letter is not the language

# Function words that occur in one language far more than in the others; a tie means nothing.
_FUNCTION_WORD_LISTS = {
    "en": (
        "and are as at based be between beyond by can does for from has have how into is it its not of on "
        "or our over than that the their there these they this through to toward towards under using via "
        "was we were what when where which while why with without"
    ),
    "fr": (
        "au aux avec ce ces cette comme dans de des donc du elles est et ils la le les leur leurs ne nous "
        "ou par pas pour que qui se sont sur très une été être"
    ),
    "de": (
        "als auch auf aus bei das dem den der die diese dieser dieses durch ein eine einem einer eines "
        "für im ist kann können mit nach nicht oder sich sind und von werden wie wir wird wurde zu zum "
        "zur über"
    ),
    "es": (
        "al como con de del el entre es esta este la las lo los muy más para por que se sobre son su sus "
        "una y"
    ),
    "it": (
        "anche che come con degli dei della delle di e gli il la le lo nel nella non per più questa questo "
        "sono una è"
    ),
    "pt": (
        "ao com como da das de do dos e em mais na no não o os para pela pelo por que se são também um uma é"
    ),
    "nl": ("bij dat de die door een en het is met naar niet ook op te van voor worden wordt zijn"),
}
_FUNCTION_WORDS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORD_LISTS.items()}
_FW_OWNERS: dict[str, tuple[str, ...]] = {}
for _owner, _vocabulary in _FUNCTION_WORDS.items():
    for _w in _vocabulary:
        _FW_OWNERS[_w] = (*_FW_OWNERS.get(_w, ()), _owner)

_LATIN_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# Han and kana letters: not the katakana middle dot (・, U+30FB) or double hyphen (U+30A0), which
# are punctuation Chinese writes too (冯・诺依曼), nor the sound marks of a kaomoji (゚).
_CJK_CHAR = re.compile(
    r"[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u9fff\uf900-\ufaff々〆]"
)
# Kana letters, the evidence of Japanese: the iteration marks (ゝ, ヽ) are left out, as kaomoji
# use them (ヽ(✿゚▽゚)ノ), and the prolonged sound mark counts only after a katakana letter.
_KANA = re.compile(
    r"[\u3041-\u3096\u309f\u30a1-\u30fa\u30ff\u31f0-\u31ff]|(?<=[\u30a1-\u30fa\u31f0-\u31ff])ー"
)
_HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_LANGUAGE = re.compile(
    # links and ids end where Chinese or Arabic starts ("链接https://…的证明"): ASCII classes,
    # as in protect.py, since \w, \b and \S take those letters in
    rf"(?:https?://|www\.){URL_CHAR}+"  # URLs
    # e-mail addresses; a match starts only where a word does, or a long token without "@"
    # would be rescanned from every one of its characters (quadratic on a 1 MB line)
    r"|(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]++@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"
    r"|(?<![A-Za-z0-9_])(?:arXiv|doi):\s*[!#-&(-;=?-~]+"  # arXiv:2106.10165, doi:10.1/x
    r"|(?<![A-Za-z0-9_])10\.[0-9]{4,9}/[!#-&(-;=?-~]+"  # bare DOIs
    r"|\$[^$\n]{1,200}\$"  # inline LaTeX
    r"|`[^`\n]{1,200}`"  # inline code
    r"|&(?:[a-z]{2,8}|#\d{1,7}|#x[0-9a-f]{1,6});"  # HTML entities left escaped (&amp;, &#8212;)
    r"|\b(?:e\.g|i\.e|et al|etc|vs|cf|viz)\."  # Latin abbreviations: no language of their own
    # ... nor the phrases English borrows ("Kernel ridge regression à la Bach" read as Italian);
    # "à la" only before a name or "carte"/"mode": "à la frontière" is French
    r"|(?<![\w'’-])(?:vis-à-vis|déjà vu|a priori|a posteriori|per se|ad hoc|in silico|in vivo|in vitro"
    r"|raison d['’]être|à la(?=\s+(?-i:[A-Z])|\s+(?:carte|mode)\b))(?![\w'’-])"
    # author-year citations, (Chizat & Bach, 2018; Jacot et al., 2018): names, not English words;
    # "and" only as a word of its own, else "(AandBandC..." splits every way (exponential)
    r"|(?-i:\((?:[A-Z][\w'’-]+(?:(?:\s*[,&]\s*|\s+and\s+)[A-Z][\w'’-]+)*(?:\s+et\s+al\.?)?,?\s+(?:19|20)\d\d[a-z]?;?\s*)+\))",
    re.IGNORECASE,
)
_LATIN_CLAUSE = re.compile(r"(?<=[.!?;:|])\s+|\s*[()\[\]“”«»\"|]\s*")


@functools.lru_cache(maxsize=4096)
def letter_script(ch: str) -> str | None:
    """The script of a letter, or None for digits, punctuation, spaces and marks."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else None
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    head = name.split(" ", 1)[0]
    if head in ("CJK", "IDEOGRAPHIC"):
        return "HAN"
    if head in ("HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"):
        return "KANA"
    if head == "GREEK":
        return None  # Greek letters in these texts are mathematics (α-stable, β-VAE)
    if head in ("LATIN", "HANGUL", "ARABIC", "CYRILLIC") or head in _SCRIPT_LANG:
        return head
    return None


def _group(script: str) -> str:
    return "CJK" if script in ("HAN", "KANA") else script


@dataclass
class _Run:
    start: int
    end: int
    group: str
    lang: str = UNDETERMINED
    words: float = 0.0  # counted words (terms excluded) or Han word-equivalents
    weight: float = 0.0  # words plus half a word per term, for dominance


def _masked(text: str) -> set[int]:
    """Positions of URLs, e-mail addresses, identifiers and inline maths: no language."""
    return {i for match in _NOT_LANGUAGE.finditer(text) for i in range(match.start(), match.end())}


def _runs(text: str) -> list[_Run]:
    """Maximal runs of one script group; neutral characters join the run they sit in,
    and between two groups they go to the left one, except from an opening bracket or
    quote on, which belongs to what it opens, and from CJK punctuation after another script
    on, which belongs to the CJK text (the "。" after an English title is not the title's)."""
    runs: list[_Run] = []
    current: _Run | None = None
    pending_start: int | None = None
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    for i, ch in enumerate(text):
        script = letter_script(ch)
        if script is None:
            if pending_start is None:
                pending_start = i
            continue
        group = _group(script)
        if current is not None and group == current.group:
            current.end = i + 1
            pending_start = None
            continue
        start = 0
        if current is not None:
            neutral_start = i if pending_start is None else pending_start
            start = current.end = _boundary(text, neutral_start, i, (current.group, group), quotes)
        current = _Run(start, i + 1, group)
        runs.append(current)
        pending_start = None
    if current is not None:
        current.end = len(text)
        # CJK punctuation closing a line after an English title ("…for neural networks。") is
        # the CJK text's: a run of its own, without letters, in the language of the CJK before it
        if pending_start is not None and current.group != "CJK" and any(r.group == "CJK" for r in runs):
            cut = next((j for j in range(pending_start, len(text)) if _is_cjk_punctuation(text[j])), None)
            if cut is not None:
                current.end = cut
                runs.append(_Run(cut, len(text), "CJK"))
    return runs


def _boundary(text: str, start: int, end: int, groups: tuple[str, str], quotes: list[int]) -> int:
    """Where the neutral characters text[start:end] between two script groups (left, right)
    are cut: before an opening bracket or quote; before CJK text that follows another script,
    before CJK punctuation, or before a comma, colon or semicolon glued to the CJK letter (what NFKC
    makes of a full-width one); else all go to the left."""
    opener = next((j for j in range(start, end) if _opens(text, j, quotes)), None)
    if opener is not None:
        return opener
    left, right = groups
    if right == "CJK" and left != "CJK":
        for j in range(start, end):
            # "?" and "!" close what they follow (an English title), as at the line's end
            if _is_cjk_punctuation(text[j]) or (text[j] in ",;:" and j + 1 == end):
                return j
    return end


def _opens(text: str, i: int, quotes: list[int]) -> bool:
    """Whether text[i] opens a bracket or quote. An ASCII quote closes as often as it opens:
    a double one opens after an even number of them (推荐"Attention Is All You Need"这篇), a
    single one before a letter and not after a Latin letter or digit (model's, Need')."""
    if text[i] == '"':
        return bisect.bisect_left(quotes, i) % 2 == 0
    if text[i] == "'":
        after_word = i > 0 and (text[i - 1].isdigit() or letter_script(text[i - 1]) == "LATIN")
        return not after_word and i + 1 < len(text) and text[i + 1].isalpha()
    return text[i] in _OPENING


def _is_cjk_punctuation(ch: str) -> bool:
    """CJK punctuation (。、) and full-width forms, but not a closing bracket or quote, which
    stays with what it closes (the 》 of 《Deep Learning》)."""
    return ("\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef") and ch not in _CLOSING


def _is_term(token: str) -> bool:
    """Acronyms and CamelCase names: CNN, CNNs, ReLU, ImageNet, LeCun, GPT."""
    return sum(1 for c in token if c.isupper()) >= 2


def _latin_counts(text: str) -> tuple[int, int, list[str]]:
    tokens = _LATIN_WORD.findall(text)
    terms = [t for t in tokens if _is_term(t)]
    if len(terms) == len(tokens) and len(tokens) >= MIN_RUN_WORDS:
        return len(tokens), 0, tokens  # a title in capitals is words, not terms
    return len(_words(tokens)), len(terms), tokens


@functools.cache
def _factory(langs: tuple[str, ...]) -> Any:
    """A langdetect factory that knows only `langs`: fewer ways to be wrong on short text."""
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    DetectorFactory.seed = 0  # the module-level langdetect.detect() is deterministic too
    factory = DetectorFactory()
    factory.seed = 0
    profiles = sorted(p for p in Path(PROFILES_DIRECTORY).iterdir() if language_code(p.name) in langs)
    factory.load_json_profile([p.read_text(encoding="utf-8") for p in profiles])
    return factory


def language_code(langdetect_code: str) -> str:
    """The product's code for a langdetect (or BCP 47 style) code: zh-cn / zh-tw -> zh."""
    return langdetect_code.split("-", 1)[0]


def _langdetect(text: str, langs: tuple[str, ...]) -> tuple[str, float]:
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory(tuple(sorted(langs))).create()
    prior = {lang: (0.5 if lang == langs[0] else 0.5 / (len(langs) - 1)) for lang in langs}
    detector.set_prior_map(prior)
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return langs[0], 0.0
    return language_code(best.lang), float(best.prob)


def _function_word_vote(tokens: list[str]) -> tuple[str | None, float, float]:
    scores: dict[str, float] = {}
    for token in tokens:
        owners = _FW_OWNERS.get(token.lower())
        if owners:
            for owner in owners:
                scores[owner] = scores.get(owner, 0.0) + 1.0 / len(owners)
    if not scores:
        return None, 0.0, 0.0
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return ranked[0][0], ranked[0][1], second


def _words(tokens: list[str]) -> list[str]:
    """Tokens that are words: not terms (CNN, ReLU) and not stray letters of "e.g." or "R1"."""
    return [t for t in tokens if (len(t) > 1 or t in ("a", "A", "I")) and not _is_term(t)]


def _accented_words(words: list[str]) -> list[str]:
    """Lower-case words with letters beyond ASCII (réseaux, über): evidence of a language
    other than English, where a capitalised one (Poincaré) is most often a name."""
    return [w for w in words if w[0].islower() and not w.isascii()]


def _has_joining_function_word(text: str, lang: str, langs: tuple[str, ...]) -> bool:
    """Whether a lower-case function word of `lang` (shared ones and single letters too: "de",
    "y") comes before a lower-case word, as in "Réseaux de neurones"; a particle before a name
    ("de Finetti", "von Neumann", "Ramón y Cajal") does not count. A single letter is too easily
    a stray one ("Kernel ridge regression e overparametrization"): it counts only when the words
    on each side of it read as `lang` on their own (`langs` as for langdetect)."""
    tokens = list(_LATIN_WORD.finditer(text))
    for token, following in itertools.pairwise(tokens):
        word = token.group()
        if not (word.islower() and following.group()[0].islower() and lang in _FW_OWNERS.get(word, ())):
            continue
        if len(word) > 1 or all(
            _reads_as(side, lang, langs) for side in (text[: token.start()], text[token.end() :])
        ):
            return True
    return False


def _reads_as(text: str, lang: str, langs: tuple[str, ...]) -> bool:
    found, prob = _langdetect(text, langs)
    return found == lang and prob >= _CONFIDENT


def _has_function_word(words: list[str], lang: str) -> bool:
    return any(lang in _FW_OWNERS.get(word.lower(), ()) for word in words)


def _latin_lang(text: str, default: str = "en") -> str:
    """Language of Latin-script text; `default` wins whenever the evidence is thin."""
    words = _words(_LATIN_WORD.findall(text))
    vote, best, second = _function_word_vote(words)
    if vote is not None and best >= 2 and best >= 2 * second:
        return vote
    if len(words) >= 2:
        order = (default, *(lang for lang in _LATIN_LANGS if lang != default))
        lang, prob = _langdetect(text, order)
        if lang == default:
            return default
        # langdetect is sure of itself on short titles too ("Implicit Regularization": ro);
        # a short text needs function words or accented words of its own to leave the default.
        # A capitalised accented word is a name English titles borrow (Fréchet, Schrödinger,
        # Erdős), and one lower-case loanword (naïve, café) is no language either.
        own_words = vote == lang and best > second  # "la" is French, Spanish and Italian: no vote
        evidence = (
            len(words) >= 6
            or own_words
            or len(_accented_words(words)) >= 2
            # "Réseaux de neurones profonds", "Aprendizaje profundo y generalización"
            or (
                len(words) >= 3
                and _has_joining_function_word(text, lang, order)
                and not _has_function_word(words, default)
            )
        )
        if prob >= _CONFIDENT and evidence and not (vote == default and best >= 1):
            return lang
    return default


def _other_lang(text: str, langs: tuple[str, ...], words: int) -> str:
    """Arabic-script or Cyrillic text: the script's main language unless letters that
    only its neighbours use are present; then langdetect when it is sure, else the
    neighbour those letters name when enough words carry them."""
    if not any(ch in _NEIGHBOUR_LETTERS for ch in text):
        return langs[0]
    if words >= 3:
        lang, prob = _langdetect(text, langs)
        if prob >= _CONFIDENT:
            return lang
    tokens = _LATIN_WORD.findall(text)
    for lang, letters in _LETTER_LANGS:
        if lang in langs:
            marked = sum(1 for token in tokens if any(ch in letters for ch in token))
            if tokens and marked / len(tokens) >= _LETTER_SHARE:
                return lang
    return langs[0]


def _latin_pieces(text: str, start: int) -> Iterator[tuple[int, int]]:
    """Clauses of a long Latin run: a French sentence may quote an English title."""
    pos = 0
    for match in _LATIN_CLAUSE.finditer(text):
        if match.start() > pos:
            yield start + pos, start + match.start()
        pos = match.end()
    if pos < len(text):
        yield start + pos, start + len(text)


_SHARED_WITH_CHINESE = frozenset("芸浜")  # Shinjitai forms that also occur in Chinese words and names


@functools.lru_cache(maxsize=8192)
def _kanji_forms(ch: str) -> tuple[str, str, str, str]:
    """A Han character through OpenCC: to Simplified, to Traditional, Japanese (Shinjitai)
    to Traditional, and Traditional to Japanese."""
    to_s, to_t, jp_to_t, t_to_jp = (
        str(opencc_converter(c).convert(ch)) for c in ("t2s", "s2t", "jp2t", "t2jp")
    )
    return to_s, to_t, jp_to_t, t_to_jp


@functools.lru_cache(maxsize=8192)
def _simplified_only(ch: str) -> bool:
    """A Simplified form that no Traditional standard writes: 学 (學), but not 台, which
    Taiwan and Hong Kong write for 臺 (台積電 is Chinese)."""
    return all(str(opencc_converter(c).convert(ch)) != ch for c in ("s2t", "s2tw", "s2hk"))


def _japanese_only(ch: str) -> bool:
    """A Shinjitai form that neither Chinese script writes (広 for 廣/广, 図 for 圖/图); a
    form whose Traditional counterpart is only a rare variant (研 for 硏) is no evidence."""
    to_s, to_t, jp_to_t, _ = _kanji_forms(ch)
    if jp_to_t == ch or to_s != ch or to_t != ch or len(jp_to_t) != 1:
        return False
    simplified = _kanji_forms(jp_to_t)[0]
    return simplified not in (jp_to_t, ch) and ch not in _SHARED_WITH_CHINESE


@functools.cache
def _shinjitai() -> frozenset[str]:
    """The forms OpenCC gives Japanese for Traditional ones (内 for 內, 学 for 學)."""
    han = "".join(chr(code) for code in range(0x4E00, 0xA000))
    japanese = str(opencc_converter("t2jp").convert(han))
    return frozenset(j for t, j in zip(han, japanese, strict=True) if t != j)


def _chinese_only(ch: str) -> bool:
    """A Chinese simplification that Japanese never writes (们, 这, 习, 杰); 学 and 内 are
    Japanese too."""
    _, to_t, jp_to_t, _ = _kanji_forms(ch)
    return to_t != ch and jp_to_t == ch and ch not in _shinjitai()


def _kanji_are_japanese(han: str) -> bool:
    """Han text without kana ("機械学習", "画像認識") is Japanese when every character is one
    Japanese writes, and it either holds a Japanese-only form or mixes Traditional-only and
    Simplified-only forms as Shinjitai does (機 with 学): Chinese is written in one script
    or the other."""
    traditional_only = simplified_only = japanese_only = False
    for ch in han:
        to_s, _, _, t_to_jp = _kanji_forms(ch)
        if t_to_jp != ch or _chinese_only(ch):
            return False  # a form Japanese replaced (學) or a Chinese simplification (机, 们)
        traditional_only = traditional_only or to_s != ch
        simplified_only = simplified_only or _simplified_only(ch)
        japanese_only = japanese_only or _japanese_only(ch)
    return japanese_only or (traditional_only and simplified_only)


# Chinese or Japanese is decided per clause, not per run: a CJK run is cut after sentence
# punctuation and closing brackets and before opening ones, so a Japanese title quoted in
# Chinese commentary (《深層学習の原理》) is a clause of its own.
_CJK_CLAUSE = re.compile(r"(?<=[。．！？；：，、!?;:,\n》」』〉】])|(?=[《「『〈【])")


def _clauses(text: str, run: _Run) -> list[tuple[int, int]]:
    """A CJK run's clauses. Punctuation between two cuts goes with the clause after it (the
    "，" after 《深層学習の原理》 is the Chinese sentence's), a closing bracket with the one before."""
    chunk = text[run.start : run.end]
    cuts = sorted({0, *(m.start() for m in _CJK_CLAUSE.finditer(chunk)), len(chunk)})
    clauses: list[list[int]] = []
    carried: int | None = None  # the start of punctuation waiting for the next clause
    for start, end in itertools.pairwise(cuts):
        if _CJK_CHAR.search(chunk, start, end):
            clauses.append([start if carried is None else carried, end])
            carried = None
        elif clauses and chunk[start] in _CLOSING:
            clauses[-1][1] = end
        elif carried is None:
            carried = start
    if carried is not None:
        if clauses:
            clauses[-1][1] = len(chunk)
        else:
            clauses.append([carried, len(chunk)])
    return [(run.start + start, run.start + end) for start, end in clauses]


def _clause_lang(clause: str, kanji_count: bool) -> str | None:
    """zh or ja when a CJK clause shows which, else None. Kana letters are Japanese unless as
    many Chinese-only forms come with them (深度学习の奇妙冒险 is Chinese with の for 的); a
    Chinese-only form is Chinese, and so is a Traditional form without kana; kanji are Japanese
    by their forms (`_kanji_are_japanese`, left out next to Hangul: `kanji_count` false)."""
    kana = len(_KANA.findall(clause))
    han = _HAN_CHAR.findall(clause)
    chinese = sum(1 for ch in han if _chinese_only(ch))
    if kana >= 2 and kana > chinese:
        return "ja"
    if chinese:
        return "zh"
    if not kana and any(_kanji_forms(ch)[3] != ch for ch in han):
        return "zh"  # a Traditional form Japanese replaced (寫, 學), and no kana
    if kanji_count and han and _kanji_are_japanese("".join(han)):
        return "ja"
    return None


def _cjk_langs(text: str, clauses: list[tuple[int, int]], hint: str | None, kanji_count: bool) -> list[str]:
    """zh or ja for each CJK clause of a line. A clause that shows neither (a name, "我の理解",
    a closing bracket) goes with the nearest one that does, the one before it first; when none
    does, the line decides: its kana (汎化の理論, 確率的勾配降下法の収束解析), else the source's
    declared zh or ja (kanji alone tell them apart only by their forms), else Chinese."""
    langs = [_clause_lang(text[a:b], kanji_count) for a, b in clauses]
    if not any(langs):
        kana = len(_KANA.findall(text))
        cjk = len(_CJK_CHAR.findall(text))
        if kana >= 2 or (cjk and kana / cjk >= 0.05):
            return ["ja"] * len(clauses)
        return [hint if hint in ("zh", "ja") else "zh"] * len(clauses)
    before: list[str | None] = []
    for lang in langs:
        before.append(lang or (before[-1] if before else None))
    after: list[str | None] = []
    for lang in reversed(langs):
        after.append(lang or (after[-1] if after else None))
    after.reverse()
    return [b or a or "zh" for b, a in zip(before, after, strict=True)]


def _label(text: str, runs: list[_Run], hint: str | None = None) -> list[_Run]:
    hangul = sum(r.end - r.start for r in runs if r.group == "HANGUL")
    clauses_of = {run.start: _clauses(text, run) for run in runs if run.group == "CJK"}
    clauses = [clause for run_clauses in clauses_of.values() for clause in run_clauses]
    clause_lang = dict(zip(clauses, _cjk_langs(text, clauses, hint, kanji_count=not hangul), strict=True))
    # One language per script and line: a Latin term must not split a Ukrainian sentence
    # into a "Russian" half too short to show its letters and a Ukrainian one.
    # The declared language is a default for Arabic script only: no source declares a Cyrillic
    # one, and Russian's own letters (ы, э) would first have to outweigh a declared Ukrainian.
    script_lang: dict[str, str] = {}
    for group, script_langs in (("ARABIC", _ARABIC_LANGS), ("CYRILLIC", _CYRILLIC_LANGS)):
        if chunks := [text[r.start : r.end] for r in runs if r.group == group]:
            joined = " ".join(chunks)
            analysed, langs = _declared_arabic(joined, hint) if group == "ARABIC" else (joined, script_langs)
            script_lang[group] = _other_lang(analysed, langs, len(_LATIN_WORD.findall(joined)))
    labelled: list[_Run] = []
    for run in runs:
        chunk = text[run.start : run.end]
        if run.group == "CJK":
            korean = hangul > len(_CJK_CHAR.findall(chunk))  # hanja in Korean text
            for start, end in clauses_of[run.start]:
                lang = clause_lang[(start, end)]
                lang = "ko" if korean and lang == "zh" else lang
                words = len(_CJK_CHAR.findall(text, start, end)) / HAN_CHARS_PER_WORD
                if labelled and labelled[-1].group == "CJK" and labelled[-1].lang == lang:
                    labelled[-1].end = end  # clauses in one language are one run, as before
                    labelled[-1].words += words
                    labelled[-1].weight += words
                else:
                    labelled.append(_Run(start, end, "CJK", lang, words, words))
            continue
        if run.group == "LATIN":
            labelled.extend(_label_latin(text, run))
            continue
        if run.group == "HANGUL":
            run.lang = "ko"
            run.words = run.weight = float(_hangul_words(text, run))
        else:
            words = len(_LATIN_WORD.findall(chunk))
            run.lang = script_lang.get(run.group) or _SCRIPT_LANG.get(run.group, UNDETERMINED)
            run.words = run.weight = float(words)
        labelled.append(run)
    return labelled


def _declared_first(langs: tuple[str, ...], hint: str | None) -> tuple[str, ...]:
    """The script's languages with the source's declared one first: the default when unsure."""
    return (hint, *(lang for lang in langs if lang != hint)) if hint in langs else langs


# Arabic typed on a Persian keyboard writes ی and ک for ي and ك: no evidence of Persian in
# a source declared Arabic ("نموذج لغوی کبیر"), where گ or پ still is ("یادگیری عمیق"), and
# an Urdu letter is evidence of Urdu. Persian and Urdu never write ي, ك or ة.
_PERSIAN_KEYBOARD = str.maketrans("یک", "يك")
_ARABIC_ONLY_LETTERS = frozenset("يكة")


def _declared_arabic(text: str, hint: str | None) -> tuple[str, tuple[str, ...]]:
    """Arabic-script text to analyse, and the languages to try (the default first), for a
    source that declares `hint`. Declared Arabic: the Persian keyboard's ی and ک read as ي and
    ك when they are the only letters Arabic lacks and no zero-width non-joiner, which Persian
    spelling uses (شبکه‌های), says Persian. Declared Persian or Urdu: the default unless
    letters they never write say Arabic."""
    if hint == "ar":
        if "\u200c" in text or any(ch in _NEIGHBOUR_LETTERS and ch not in "یک" for ch in text):
            return text, _ARABIC_LANGS
        return text.translate(_PERSIAN_KEYBOARD), _ARABIC_LANGS
    if any(ch in _ARABIC_ONLY_LETTERS for ch in text):
        return text, _ARABIC_LANGS
    return text, _declared_first(_ARABIC_LANGS, hint)


def _hangul_words(text: str, run: _Run) -> int:
    """Hangul words; a particle glued to a Latin word (PMLR에, learning을) is not one."""
    chunks = [c for c in text[run.start : run.end].split() if any(letter_script(ch) == "HANGUL" for ch in c)]
    glued = run.start > 0 and not text[run.start - 1].isspace() and text[run.start] != " "
    return max(0, len(chunks) - (1 if glued and chunks else 0))


def _label_latin(text: str, run: _Run) -> list[_Run]:
    chunk = text[run.start : run.end]
    words, terms, _ = _latin_counts(chunk)
    run.lang = _latin_lang(chunk)
    if words < 2 * MIN_RUN_WORDS:
        run.words, run.weight = float(words), words + terms / 2
        return [run]
    # Long runs: clauses in another language than the whole (a title quoted in French).
    pieces: list[_Run] = []
    for start, end in _latin_pieces(chunk, run.start):
        piece_words, piece_terms, _ = _latin_counts(text[start:end])
        lang = run.lang
        if piece_words >= MIN_RUN_WORDS:
            lang = _latin_lang(text[start:end], default=run.lang)
        piece = _Run(start, end, "LATIN", lang, float(piece_words), piece_words + piece_terms / 2)
        if pieces and pieces[-1].lang == lang:
            prev = pieces[-1]
            prev.end, prev.words, prev.weight = end, prev.words + piece.words, prev.weight + piece.weight
        else:
            pieces.append(piece)
    if not pieces:
        return [run]
    pieces[0].start, pieces[-1].end = run.start, run.end
    for left, right in itertools.pairwise(pieces):
        left.end = right.start  # the separators between clauses stay with the left clause
    return pieces


def _dominant(runs: list[_Run]) -> str:
    weights: dict[str, float] = {}
    non_latin: dict[str, float] = {}
    for run in runs:
        weights[run.lang] = weights.get(run.lang, 0.0) + run.weight
        if run.group != "LATIN":
            non_latin[run.lang] = non_latin.get(run.lang, 0.0) + run.weight
    heaviest_non_latin = max(non_latin.items(), key=lambda kv: kv[1], default=(UNDETERMINED, 0.0))
    if heaviest_non_latin[1] >= MATRIX_WEIGHT:
        return heaviest_non_latin[0]
    return max(weights.items(), key=lambda kv: kv[1])[0]


def _mixed_by(runs: list[_Run], dominant: str) -> str | None:
    """Why the line is mixed: "run" (a long foreign run), "share" (many foreign words), or None."""
    foreign = [r for r in runs if r.lang != dominant]
    if any(r.words >= MIN_RUN_WORDS for r in foreign):
        return "run"
    foreign_words = sum(r.words for r in foreign)
    total = sum(r.words for r in runs)
    if foreign_words >= MIN_SHARE_WORDS and total > 0 and foreign_words / total >= MIN_SHARE:
        return "share"
    return None


def _absorbable(run: _Run, dominant: str, by_share: bool) -> bool:
    """Whether a Latin run is a term or short name inside the line's non-Latin matrix.

    Not when the line is written in a Latin-script language: there the Latin runs are the
    sentence ("Deep learning 理论" is English with a Chinese word, not Chinese). Not a phrase
    of two or more words when only the share of such words made the line mixed: absorbed,
    they would leave a "mixed" line with one language.
    """
    if run.group != "LATIN" or run.words >= MIN_RUN_WORDS or run.lang == dominant:
        return False
    return not (by_share and run.words >= 2)


def _segments(text: str, runs: list[_Run], dominant: str, by_share: bool) -> tuple[Segment, ...]:
    """Runs as segments: short Latin runs inside non-Latin text (terms, short names) stay
    inside the surrounding segment, so a translator sees whole clauses."""
    kept: list[_Run] = []
    for i, run in enumerate(runs):
        if _absorbable(run, dominant, by_share):
            neighbours = [
                r for r in (runs[i - 1] if i else None, runs[i + 1] if i + 1 < len(runs) else None) if r
            ]
            host = next((r for r in neighbours if r.group != "LATIN"), None)
            if host is not None:
                if host is (runs[i - 1] if i else None):
                    host.end = run.end
                else:
                    host.start = run.start
                continue
        kept.append(run)
    merged: list[_Run] = []
    for run in kept:
        if merged and merged[-1].lang == run.lang:
            merged[-1].end = run.end
        else:
            merged.append(_Run(run.start, run.end, run.group, run.lang))
    if merged:
        merged[0].start = 0
        merged[-1].end = len(text)
        for left, right in itertools.pairwise(merged):
            left.end = right.start
    return tuple(Segment(text[r.start : r.end], r.lang) for r in merged)


def detect(text: str, *, keep_marks: bool = False, hint: str | None = None) -> Detection:
    """Dominant language of `text` (ISO 639-1), or "mixed", with its language segments.

    The segments' texts are the normalized text cut into pieces; joined they give it back.
    Arabic diacritics are dropped from them (translation and matching want the bare letters)
    unless `keep_marks` (`lang detect` shows the text as written); the languages are the same.
    `hint` is the language the source declares: the default for Arabic-script and kanji-only
    text where the evidence is thin (Arabic typed with Persian ی and ک, kanji-only Japanese);
    letters or kana of another language still decide. Latin script keeps its English default:
    an English title without function words from a French source would read as French.
    """
    return _detect(text, keep_marks, hint)


@functools.lru_cache(maxsize=8192)  # pure and deterministic; titles recur across sources and weeks
def _detect(text: str, keep_marks: bool = False, hint: str | None = None) -> Detection:
    normalized = normalize_text(text, keep_marks=keep_marks, keep_maths=True)
    # URLs, identifiers and maths are blanked for the analysis; offsets stay the same.
    masked = _masked(normalized)
    analysed = (
        "".join(" " if i in masked else ch for i, ch in enumerate(normalized)) if masked else normalized
    )
    runs = _label(analysed, _runs(analysed), hint)
    if not runs:
        # Greek letters count as mathematics above; a line of Greek words is Greek.
        greek = sum(1 for ch in analysed if ch.isalpha() and unicodedata.name(ch, "").startswith("GREEK"))
        if greek >= 3:
            return Detection("el", (Segment(normalized, "el"),))
        # no language, but the text is still there (a bare URL or formula is a segment too)
        return Detection(UNDETERMINED, (Segment(normalized, UNDETERMINED),) if normalized else ())
    dominant = _dominant(runs)
    mixed_by = _mixed_by(runs, dominant)
    segments = _segments(normalized, runs, dominant, by_share=mixed_by == "share")
    return Detection(MIXED if mixed_by else dominant, segments)


def dominant_language(detection: Detection) -> str:
    """The language carrying most of a detection's text (for "mixed": the non-English one)."""
    if detection.lang != MIXED:
        return detection.lang
    sizes: dict[str, int] = {}
    for segment in detection.segments:
        sizes[segment.lang] = sizes.get(segment.lang, 0) + len(segment.text)
    non_english = {k: v for k, v in sizes.items() if k != "en"}
    pool = non_english or sizes
    return max(pool.items(), key=lambda kv: kv[1])[0] if pool else UNDETERMINED
