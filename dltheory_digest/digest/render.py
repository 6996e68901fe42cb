"""Rendering a digest to Markdown (templates/digest.md.j2), in English or a translated edition."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import TypeVar
from urllib.parse import quote

import jinja2

from dltheory_digest.digest.build import (
    FOLLOWED_BADGE,
    _fallback_classification,
    all_entries,
    also_directions,
    followed_in,
    followed_post_authors,
    post_targets,
)
from dltheory_digest.digest.text import (
    MATH_SPAN,
    caps_title_cased,
    display_title,
    excerpt,
    md_link,
    md_text,
    safe_url,
    shorten_authors,
    slugify,
    summarize,
    table_cell,
    tex_prose,
)
from dltheory_digest.ids import parse_arxiv_id
from dltheory_digest.models import (
    Digest,
    DigestPaper,
    DirectionSection,
    Item,
    JournalVersion,
    Note,
    NoteKind,
    Paper,
    Place,
    ReaderFilters,
    Resource,
    Sighting,
    SourceReport,
    UpdateReason,
    VersionChange,
)
from dltheory_digest.weeks import announced_at, as_utc, local_day


@cache
def labels_for(language: str) -> dict[str, str]:
    """The hand-written labels of an edition language (templates/labels.yaml), English for unknown ones."""
    import yaml

    text = resources.files("dltheory_digest").joinpath("templates/labels.yaml").read_text(encoding="utf-8")
    labels: dict[str, dict[str, str]] = yaml.safe_load(text)
    return {**labels["en"], **labels.get(language, {})}


@cache
def _hand_written_directions() -> dict[str, dict[str, str]]:
    import yaml

    path = resources.files("dltheory_digest").joinpath("templates/direction_names.yaml")
    names: dict[str, dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return names


def hand_written_direction(direction_id: str, name: str, language: str) -> str | None:
    """The hand-written zh/ar name of a shipped direction (templates/direction_names.yaml);
    None for a direction the user added or renamed, which is machine-translated instead."""
    known = _hand_written_directions().get(direction_id)
    if not known or known.get("en") != name:
        return None
    return known.get(language)


# Between the sources of "Seen in": source names hold "·" and "," ("Notes · Theory of deep learning").
SEEN_IN_SEPARATOR = " | "


@dataclass(frozen=True)
class Edition:
    """How a digest is presented: its language and, for zh/ar, the machine translations.

    `translations` maps an English text of the digest (summary, title, direction name, the
    one-line reason of a digest stored before reasons had parts) to its translation; `model`
    says which model made them; `note` says why an edition asked for in zh/ar is in English
    instead. An edition with neither (a week with nothing to translate) is written in its
    language with the hand-written labels alone.
    """

    language: str = "en"
    translations: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    note: str | None = None

    @property
    def localized(self) -> bool:
        """Whether the edition is in its language rather than fallen back to English."""
        return self.language != "en" and (bool(self.translations) or self.note is None)

    @property
    def labels(self) -> dict[str, str]:
        return labels_for(self.language if self.localized else "en")

    def tr(self, text: str | None) -> str | None:
        if not text:
            return text
        return self.translations.get(text)

    def reads(self, lang: str | None) -> bool:
        """Whether the reader reads `lang` natively: a zh reader gets Chinese text as written,
        never its translation to English (and back)."""
        return bool(lang) and lang == self.language and lang != "en"

    def direction_name(self, direction_id: str, name: str) -> str:
        """A direction's name in the edition: hand-written for the shipped taxonomy, else translated."""
        if self.localized:
            written = hand_written_direction(direction_id, name, self.language)
            if written:
                return written
        return self.tr(name) or name

    @property
    def rtl(self) -> bool:
        """Whether the edition reads right to left (the Arabic one, not fallen back to English)."""
        return self.language == "ar" and self.localized

    def foreign(self, text: str) -> str:
        """Isolate a run written the other way than the edition (FSI…PDI: its direction is that
        of its first letter): an Arabic title or remark quoted in an English or Chinese line, a
        Latin or Chinese one in an Arabic line. Else its final period, a bracket after it or
        the text next to it is drawn on the wrong side. Text that starts in the edition's
        direction (an English title holding an Arabic word) is returned as it is."""
        for ch in text:
            kind = unicodedata.bidirectional(ch)
            if kind in ("L", "R", "AL"):
                return f"\u2068{text}\u2069" if (kind == "L") == self.rtl else text
        return text

    def ltr(self, text: str) -> str:
        """Isolate a left-to-right run (week, dates, times) in a right-to-left edition, so
        "2026-W47" is not shown as "W47-2026"; other editions get the text as it is."""
        return f"\u2066{text}\u2069" if self.language == "ar" and self.localized else text

    def isolated(self, text: str) -> str:
        """Isolate a name in either script (a source's "Zhihu (zh)" or an Arabic one) in a
        right-to-left edition, taking its direction from its first letter, so a trailing
        bracket stays where it belongs; other editions get the text as it is."""
        return f"\u2068{text}\u2069" if self.language == "ar" and self.localized else text


ENGLISH = Edition()


def describe_filters(
    filters: ReaderFilters, directions: Sequence[tuple[str, str]] = (), edition: Edition = ENGLISH
) -> str:
    """A reader's filters in a few words of the edition's language: directions by name and
    keywords, each quoted (direction names hold commas), and the minimum relevance."""
    labels = edition.labels
    names = dict(directions)

    def quoted(words: Iterable[str]) -> str:
        return labels["filter_list_separator"].join(labels["filter_quote"].format(w) for w in words)

    def directions_named(ids: Sequence[str]) -> str:
        return quoted(edition.direction_name(d, names.get(d, d)) for d in ids)

    parts = [
        labels[key].format(value)
        for key, value in (
            (
                "filter_directions",
                filters.include_directions and directions_named(filters.include_directions),
            ),
            (
                "filter_not_directions",
                filters.exclude_directions and directions_named(filters.exclude_directions),
            ),
            ("filter_keywords", filters.keywords and quoted(filters.keywords)),
            ("filter_not_keywords", filters.negative_keywords and quoted(filters.negative_keywords)),
            ("filter_min_relevance", None if filters.min_relevance is None else f"{filters.min_relevance:g}"),
            ("filter_authors", filters.authors and quoted(filters.authors)),
        )
        if value
    ]
    return labels["filter_separator"].join(parts)


# The run's notes are for the operator ("untranslated: no ar→en model (run `dltheory-digest
# models install ar`)"): a reader cannot act on them. A reader's edition says what a note means
# for what they read, in a hand-written line of their language, from the note's kind and facts
# (never its wording); notes of no consequence to a reader (the kinds not listed here) stay in
# the operator's file.
def reader_notes(notes: Iterable[Note], edition: Edition = ENGLISH) -> list[str]:
    """What the run's notes mean for a reader of `edition`, in the reader's language (the
    hand-written labels, no model needed): texts shown untranslated (unless in a language the
    reader reads), papers arXiv or Crossref could not be asked about, weeks without a digest. The
    operator's wording and commands are left out; notes a reader has no use for are dropped."""
    labels = labels_for(edition.language)
    out: list[str] = []
    for note in notes:
        if note.kind in (NoteKind.UNTRANSLATED, NoteKind.DISCARDED):
            if not (note.lang and edition.reads(note.lang)):
                out.append(labels["note_untranslated"])
        elif note.kind is NoteKind.ARXIV_LOOKUP:
            out.append(labels["note_lookup_failed"])
        elif note.kind is NoteKind.CROSSREF_LOOKUP:
            # journal papers then show as their citations' link text: the reader is told why
            out.append(labels["note_crossref_failed"])
        elif note.kind is NoteKind.MISSED_WEEKS and note.weeks:
            # isolated in Arabic, also in an edition that fell back to English
            isolate = "\u2066{}\u2069" if edition.language == "ar" else "{}"
            weeks = labels["filter_list_separator"].join(isolate.format(w) for w in note.weeks)
            out.append(_counted(labels, "note_missed_weeks", len(note.weeks)).format(weeks=weeks))
    return list(dict.fromkeys(out))


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _sources_lines(
    labels: Mapping[str, str],
    sources: Iterable[tuple[str, bool]],
    isolate: Callable[[str], str] = lambda name: name,
) -> str:
    """What a reader is told of the sources ((escaped name, read) pairs): which were read, which
    could not be; the counts, kinds and errors of the operator's table mean nothing to them, and
    a wide table runs off a phone's screen. Sources sharing a name (the shipped arXiv listing and
    searches are all "arXiv") are one name: read when all of them were, "arXiv (partly)" among
    those that could not be read when only some were, never on both lines. `isolate` keeps a
    name apart from the "(partly)" after it (an Arabic edition's `Edition.isolated`)."""
    status: dict[str, list[bool]] = {}
    for name, ok in sources:
        status.setdefault(name, []).append(ok)
    read = [name for name, oks in status.items() if all(oks)]
    failed = [
        name if not any(oks) else isolate(name) + _aside(labels, labels["sources_partly"])
        for name, oks in status.items()
        if not all(oks)
    ]
    lines = []
    if read:
        lines.append(f"{labels['sources_read']} ({len(read)}): {SEEN_IN_SEPARATOR.join(read)}")
    if failed:
        lines.append(f"**{labels['sources_failed']} ({len(failed)}):** {SEEN_IN_SEPARATOR.join(failed)}")
    return _HARD_BREAK.join(lines)


def reader_copy(markdown: str, names: Mapping[str, str] | None = None) -> str:
    """The operator's Markdown file (outputs/, English) made fit to mail as it is, for a week
    whose digest was kept only as Markdown: its notes as `reader_notes` words them, and the
    source report as `render_markdown(for_reader=True)` gives it. The file names its sources by
    id: `names` (source id -> name, as `SourceSpec.display_name` gives them from sources.yaml)
    names them as a stored digest's mail does; an id it does not hold stays an id."""
    names = names or {}
    labels = labels_for("en")
    failed = f"**{labels['failed']}:**"
    lines = markdown.split("\n")
    notes_at = max((i for i, line in enumerate(lines) if line == f"**{labels['notes']}:**"), default=None)
    out: list[str] = []
    in_report = False
    sources: list[tuple[str, bool]] = []  # (name, read) of each row
    status_at = 2  # the status column: second now, last in files written before 2026-11-22
    for index, line in enumerate(lines):
        if line.startswith("## "):
            in_report = line == f"## {labels['report']}"
        if in_report and line.startswith("|"):
            cells = _UNESCAPED_PIPE.split(line)
            if line.startswith("| ") and len(cells) > 3 and cells[1].strip() == labels["source"]:
                named = [c.strip() for c in cells]
                status_at = named.index(labels["error"]) if labels["error"] in named else 2
            elif line.startswith("| ") and len(cells) > status_at:
                source = cells[1].strip()  # escaped Markdown, as a name from sources.yaml is made
                name = md_text(names.get(re.sub(r"\\(.)", r"\1", source), "")) or source
                sources.append((name, not cells[status_at].startswith(f" {failed}")))
            continue
        if in_report and sources:
            out.append(_sources_lines(labels, sources))
            sources = []
        if notes_at is not None and index > notes_at and line.startswith("- "):
            continue
        out.append(line)
        if index == notes_at:
            written = [line[2:] for line in lines[index + 1 :] if line.startswith("- ")]
            # the notes were escaped, commands as code spans: read back as the words they were
            plain = [re.sub(r"\\(.)", r"\1", n).replace("`", "") for n in written]
            out += ["", *(f"- {md_text(n)}" for n in reader_notes(map(Note.from_legacy, plain)))]
    text = "\n".join(out)
    if notes_at is not None and f"**{labels['notes']}:**\n\n-" not in text:
        text = text.replace(f"\n**{labels['notes']}:**\n", "\n")  # none left for the reader
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


_LRM, _RLM = "\u200e", "\u200f"
_ISOLATE_CONTROLS = "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI


def bidi_marks(text: str, *, rtl: bool | None = None) -> str:
    """The digest with each isolate (LRI/RLI/FSI … PDI, which the HTML part turns into `dir`
    spans) replaced by marks (LRM, RLM: known to every client since Unicode 1.1), for the
    text/plain part, where a client that predates isolates (mutt, many terminals) draws them
    as boxes or "<2068>". The Markdown file keeps its isolates.

    Marks alone let neighbouring runs merge ("⁦2016-11⁩ · ⁦arXiv:…⁩" in an Arabic line would
    swap the two), so each run gets its own direction's mark inside and its paragraph's (or
    enclosing run's) mark outside: a client that does bidi shows the line as the isolates.
    Each line is a paragraph; its direction is `rtl` when given (the edition's: a line whose
    first letter reads the other way then starts with the edition's mark), else its first
    letter outside the runs, as such a client finds it."""
    if rtl is None and not any(c in text for c in _ISOLATE_CONTROLS):
        return text
    return "\n".join(_marked_line(line, rtl) for line in text.split("\n"))


def _first_strong(text: str) -> str | None:
    """LRM or RLM after the first letter of `text` outside isolates (the UBA's rule P2)."""
    depth = 0
    for ch in text:
        if ch in "\u2066\u2067\u2068":
            depth += 1
        elif ch == "\u2069":
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = unicodedata.bidirectional(ch)
            if kind in ("L", "R", "AL"):
                return _LRM if kind == "L" else _RLM
    return None


def _marked_line(line: str, rtl: bool | None) -> str:
    first = _first_strong(line)
    paragraph = (first or _LRM) if rtl is None else _RLM if rtl else _LRM
    lead = paragraph if rtl is not None and line.strip() and first not in (None, paragraph) else ""
    if not any(c in line for c in _ISOLATE_CONTROLS):
        return lead + line
    out: list[str] = [lead]
    opened: list[tuple[str, str]] = []  # (own mark, outer mark) of each run still open
    for index, ch in enumerate(line):
        if ch in "\u2066\u2067\u2068":
            if ch == "\u2068":  # first strong: the run's first letter (up to its PDI) says
                run = line[index + 1 :].split("\u2069", 1)[0]
                kind = next((k for k in map(unicodedata.bidirectional, run) if k in ("L", "R", "AL")), None)
                own = "" if kind is None else _LRM if kind == "L" else _RLM
            else:
                own = _LRM if ch == "\u2066" else _RLM
            outer = next((mark for mark, _ in reversed(opened) if mark), paragraph)
            opened.append((own, outer))
            out.append(outer + own)
        elif ch == "\u2069":
            own, outer = opened.pop() if opened else ("", "")
            out.append(own + outer)
        else:
            out.append(ch)
    return "".join(out)


def plural_category(count: int, rule: str) -> str:
    """CLDR's plural category of a whole number in a language ("one", "two", "few", "many",
    "other"; "zero" in Arabic): English tells one from other, Chinese has one form, Arabic six
    (1 ورقة, 2 ورقتان, 3-10 أوراق, 11-99 ورقة, 100 ورقة)."""
    if rule == "ar":
        tail = count % 100
        if count in (0, 1, 2):
            return ("zero", "one", "two")[count]
        return "few" if 3 <= tail <= 10 else "many" if 11 <= tail <= 99 else "other"
    if rule == "en":
        return "one" if count == 1 else "other"
    return "other"


def _counted(labels: Mapping[str, str], key: str, count: int) -> str:
    """The label for `count` things in the labels' language: `<key>_<category>` for the count's
    plural category ("1 paper" is `papers_one`), `<key>` itself for any category not written."""
    category = plural_category(count, labels.get("plural_rule", "en"))
    return labels.get(f"{key}_{category}", labels[key])


def _tally(labels: Mapping[str, str], key: str, count: int) -> str:
    """ "**7** papers" for the header's counts; an Arabic dual says its number itself
    ("ورقتان" is two papers), so it stands alone rather than after "2"."""
    if plural_category(count, labels.get("plural_rule", "en")) == "two" and f"{key}_two" in labels:
        return f"**{labels[f'{key}_two']}**"
    return f"**{count}** {_counted(labels, key, count)}"


def discussed_only(entry: DigestPaper) -> bool:
    """Whether a paper of "Updated and newly discussed" is back only because a new post or page
    discusses it (no new version, no journal version): "newly discussed", not "updated"."""
    reason = entry.update_reason
    if reason is None:
        return False
    if reason.legacy_text is not None:  # a digest stored before reasons had parts
        return reason.legacy_text.startswith("newly discussed")
    return reason.version_change is None and reason.journal is None and bool(reason.discussed_on)


def _back_counts(digest: Digest) -> tuple[int, int]:
    """(updated, newly discussed) among the papers back this week: the header and subject say
    each for what it is (two papers a new post cites are not "2 updated")."""
    discussed = sum(1 for entry in digest.updated if discussed_only(entry))
    back = dict(digest.counts).get("updated", len(digest.updated))
    return max(back - discussed, 0), min(discussed, back)


def subject_for(digest: Digest, edition: Edition = ENGLISH, *, demo: bool = False) -> str:
    """The mail's subject: the week and its new papers, then what else it brings (updated and
    newly discussed papers, talks and courses), so a week without new papers does not read as
    empty. A `demo` (the bundled snapshot) is labelled first, so it never passes for the real
    week's digest."""
    counts = dict(digest.counts)
    papers = counts.get("papers", 0)
    subject = _counted(edition.labels, "subject", papers).format(week=edition.ltr(digest.week), papers=papers)
    revised, discussed = _back_counts(digest)
    for count, label in (
        (revised, "subject_updated"),
        (discussed, "subject_discussed"),
        (counts.get("resources", 0), "subject_talks"),
    ):
        if count:
            subject += _counted(edition.labels, label, count).format(n=count)
    return f"{edition.labels['demo_subject']} {subject}" if demo else subject


def _version_words(change: VersionChange, edition: Edition) -> str:
    labels = edition.labels
    key = "reason_withdrawn" if change.withdrawn else "reason_updated"
    words = md_text(labels[key]).format(
        new=edition.ltr(f"v{change.new}"), old=edition.ltr(f"v{change.old}"), week=edition.ltr(change.week)
    )
    if change.old_title:
        words += md_text(labels["reason_retitled"]).format(title=md_text(change.old_title))
    return words


def _journal_words(journal: JournalVersion, edition: Edition) -> str:
    labels = edition.labels
    venue = f"{md_text(journal.venue)}{labels['reason_venue_end']}" if journal.venue else ""
    return md_text(labels["reason_journal"]).format(
        venue=venue, doi=edition.ltr(md_text(f"doi:{journal.doi}"))
    )


def _discussed_words(places: Sequence[Place], edition: Edition, links: Mapping[str, str]) -> str:
    labels = edition.labels
    names = []
    for place in places:
        # each name as the source calls itself: joined by the edition's separators, never split
        # (in English a name holding those separators is quoted, as `UpdateReason.english` does)
        name = place.english()
        if not edition.localized and ("," in place.name or " and " in place.name):
            name = f'"{name}"'
        url = links.get(place.name)
        names.append(edition.isolated(md_link(name, url) if url else md_text(name)))
    joined = labels["filter_list_separator"].join(names[:-1])
    joined = f"{joined}{labels['reason_and']}{names[-1]}" if joined else names[-1]
    return md_text(labels["reason_discussed"]).format(places=joined)


def reason_line(reason: UpdateReason, edition: Edition, links: Mapping[str, str] | None = None) -> str:
    """Why a paper is under "Updated and newly discussed", in the edition's words (Markdown):
    each part worded by the edition's hand-written labels, so versions, weeks, DOIs, an old
    title and source names never go through a translation model. The English edition says
    `reason.english()`. `links` (a place's name -> the post there that discusses the paper)
    links each place the paper is newly discussed on to what was said there."""
    if reason.legacy_text is not None:  # a digest stored before reasons had parts
        text = reason.legacy_text
        return md_text(text if not edition.localized else edition.tr(text) or text)
    out = []
    if reason.version_change:
        change = reason.version_change
        out.append(md_text(change.english()) if not edition.localized else _version_words(change, edition))
    if reason.journal:
        journal = reason.journal
        out.append(md_text(journal.english()) if not edition.localized else _journal_words(journal, edition))
    if reason.discussed_on:
        out.append(_discussed_words(reason.discussed_on, edition, links or {}))
    # the hand-written separator as it is: md_text would strip the space of the Arabic "؛ "
    return edition.labels["filter_separator"].join(out)


def translatable_texts(digest: Digest, language: str | None = None) -> list[str]:
    """The English texts a zh/ar edition translates: titles, summaries, direction names, reasons
    (with `language`, not the direction names written by hand for it), and what a source in
    another language says about a paper or talk (with `language`, not what a source in that
    language says: the reader reads it as written)."""
    texts: list[str] = []
    entries = [p for s in digest.sections for p in s.papers]
    entries += [
        *digest.updated,
        *digest.emerging,
        *digest.below_threshold,
        *digest.unconfirmed,
        *digest.backlog,
    ]
    names = dict(digest.directions)
    directions = [(s.direction_id, s.name) for s in digest.sections]
    directions += [(d, names.get(d, d)) for entry in entries for d in also_directions(entry)]
    texts += [name for d, name in directions if not (language and hand_written_direction(d, name, language))]
    for entry in entries:
        texts += [entry.english_title or entry.paper.title, entry.summary]
        if entry.update_reason and entry.update_reason.legacy_text:
            # the labels word every part of a reason; only a stored digest's one line needs a model
            texts.append(entry.update_reason.legacy_text)
    for section in digest.sections:
        # only a direction's full blocks show what the sources say (`_Renderer.commentary`): its
        # first sentences (`excerpt`) in English, when a model made one (else there is no English
        # to translate)
        texts += [
            excerpt(s.commentary)
            for entry in section.papers
            for s in entry.sightings
            if s.commentary.strip()
            and s.commentary_original
            and _foreign(s.commentary_lang)
            and not (language and s.commentary_lang == language)
        ]
    for resource in (*digest.resources, *digest.resource_backlog):
        # a title or remark no model put into English is shown as written: an en→zh or en→ar
        # model given Chinese or Arabic makes nonsense of it
        untranslated_title = resource.original_title is None and resource.original_lang
        if not untranslated_title and not (language and resource.original_lang == language):
            texts.append(resource.title)
        # what the page says, as the line shows it (its first sentences)
        texts += [
            excerpt(s.commentary)
            for s in resource.sightings
            if s.commentary
            and (s.commentary_original or not _foreign(s.commentary_lang))
            and not (language and s.commentary_lang == language)
        ]
    return [t for t in dict.fromkeys(texts) if t and t.strip()]


def _fmt_dt(value: dt.datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(timezone))
    return value.strftime("%Y-%m-%d %H:%M")


def _fmt_date(value: dt.datetime | dt.date | None, timezone: str | None = None) -> str:
    """The day `value` falls on in `timezone` (the digest's, as its window is written): a Zhihu
    post at 07:30 Beijing time (23:30 UTC the day before) is dated the Beijing day in an
    Asia/Shanghai digest; a day given without a time stays that day (`weeks.local_day`).
    Without `timezone`, the day as `value` holds it (UTC from the store)."""
    from zoneinfo import ZoneInfo

    if value is None:
        return ""
    if timezone and isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = local_day(value, ZoneInfo(timezone))
    return value.strftime("%Y-%m-%d")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dltheory_digest", "templates"),
        autoescape=False,  # Markdown, not HTML: every scraped value goes through `md`/`link`
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        md=md_text,
        link=md_link,
        url=safe_url,
        slug=slugify,
    )
    return env


def _report_cell(text: str | None, limit: int = 120, source_id: str | None = None) -> str:
    text = " ".join((text or "").split())
    if source_id:
        # errors name their source ("[dead-blog] ConnectError ..."): the row already does
        text = re.sub(rf"^\[{re.escape(source_id)}\]\s*", "", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return table_cell(md_text(text))


_HARD_BREAK = "  \n"  # two trailing spaces: a line break on GitHub, in Prefect and in markdown-it


def _badge(badge: str, labels: Mapping[str, str]) -> str:
    if badge == "new":
        return labels["badge_new"]
    if badge == "cross-listed":
        return labels["badge_cross"]
    if badge == "discussed":
        return labels["badge_discussed"]
    if badge == "withdrawn":
        return labels["badge_withdrawn"]
    match = re.fullmatch(r"updated v(\d+)", badge)
    if match:
        return labels["badge_updated"].format(version=match.group(1))
    return badge


_Listed = TypeVar("_Listed", DigestPaper, Resource)


def _revised(entry: DigestPaper) -> bool:
    return any(b.startswith("updated") for b in entry.badges)


_NEW_STYLE_ID = re.compile(r"(\d{2})(\d{2})\.\d{4,5}")
_OLD_STYLE_ID = re.compile(r"[a-z\-]+(?:\.[A-Za-z\-]+)?/(\d{2})(\d{2})\d{3}")


def _id_month(arxiv_id: str | None) -> str:
    """ "2016-11": the month an arXiv id was first submitted in ("1611.03530", "math/0309136"
    is 2003-09); "" for anything else."""
    match = _NEW_STYLE_ID.fullmatch(arxiv_id or "") or _OLD_STYLE_ID.fullmatch(arxiv_id or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return ""
    year = int(match.group(1))
    # old-style ids run from 1991 to 2007; new-style ones from 2007 (0704.0001)
    return f"{1900 + year if year >= 91 else 2000 + year}-{match.group(2)}"


def _newest_version(entry: DigestPaper) -> int:
    """The newest version the digest knows of (0: none): a revision's badge may know a later one."""
    revised = (re.fullmatch(r"updated v(\d+)", b) for b in entry.badges)
    return max([entry.paper.version or 0, *(int(m.group(1)) for m in revised if m)])


# The parts of an arXiv comment that only count the paper's pages, figures and tables ("32
# pages, 5 figures"): the rest ("accepted at COLT 2026", "v2: fixes the proof of Lemma 3") is
# what a reader scans the comment for.
_COMMENT_PART = re.compile(r"[^;,.]+(?:\.(?!\s|$)[^;,.]*)*[;,.]?")
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_WHAT = r"(?:pages?|pp|figures?|figs?|tables?|plots?|references|appendi(?:x|ces))\b\.?"
_PART_OF_PAPER = r"(?:main\s+(?:text|paper|body)|appendi(?:x|ces)|references|supplement(?:ary(?:\s+material)?)?|bibliography)"
# a count with what it may say of itself: "9+30 pages", "+ 20 pages appendix", "including appendix", "in total"
_COUNT = (
    rf"{_NUMBER}(?:\s*\+\s*\d+)?\s*(?:\(?[a-z-]+\)?\s*)?{_WHAT}"
    rf"(?:\s*(?:\+|plus)\s*(?:{_NUMBER}\s*(?:[a-z-]+\s+)?{_WHAT})?"
    rf"|\s+(?:of\s+|including\s+|incl\.\s*|excluding\s+|excl\.\s*|with(?:out)?\s+)?(?:the\s+)?"
    rf"(?:{_PART_OF_PAPER}|in\s+total|total)\b)*"
)
_COUNT_NOTE = rf"\(\s*(?:\+\s*)?(?:{_COUNT}|main\s+(?:text|paper|body)|(?:incl|excl)[.\w]*\s[^()]*)\s*\)"  # "(main text)"
_COUNTS = rf"{_COUNT}(?:\s*{_COUNT_NOTE})?(?:\s*(?:,|and|with)\s*{_COUNT}(?:\s*{_COUNT_NOTE})?)*"
# A part that is nothing but counts ("32 pages", "main paper: 9 pages", "40 pages total"),
# not one that goes on ("2 figures added in Section 5"); and a count in brackets after words.
_PAGE_COUNT = re.compile(
    rf"\s*(?:(?:{_PART_OF_PAPER}|total(?:\s+of)?|comments?)\s*:?\s*)?{_COUNTS}\s*[;,.]?\s*", re.IGNORECASE
)
_BRACKETED_COUNT = re.compile(rf"\s*\(\s*{_COUNTS}\s*\)", re.IGNORECASE)
COMMENT_MAX_CHARS = 80


def short_comment(comment: str | None, journal_ref: str | None = None) -> str:
    """An arXiv comment cut to what a reader scans it for (plain text): without its page,
    figure and table counts, nor the journal reference the line shows already, and at most
    COMMENT_MAX_CHARS, cut at a word and never inside a formula; "" when nothing is left."""
    text = " ".join((comment or "").split())
    parts = [_BRACKETED_COUNT.sub("", p).strip() for p in _COMMENT_PART.findall(text)]
    kept = [p for p in parts if p.strip(" ;,.") and not _PAGE_COUNT.fullmatch(p)]
    text = " ".join(kept).strip().rstrip(";,.")
    if journal_ref and " ".join(journal_ref.split()).casefold() in text.casefold():
        return ""  # "Published in Ann. Statist. 50(4)" says the journal reference again
    if len(text) <= COMMENT_MAX_CHARS:
        return text
    cut = text[: COMMENT_MAX_CHARS - 1]
    if cut.count("$") % 2:  # inside a formula: before it
        cut = cut[: cut.rindex("$")]
    elif " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ;,.:(") + "…"


def unresolved(paper: Paper) -> bool:
    """Whether a paper known by its arXiv id alone has no record from arXiv: no authors and no
    abstract (the id is not announced yet, or the API could not be asked); its title is then
    whatever text linked to it."""
    return bool(paper.arxiv_id) and not paper.authors and not paper.abstract.strip()


def untitled_doi(paper: Paper) -> bool:
    """Whether a paper is known by its DOI alone, without a title: Crossref did not describe it
    (not asked, or down) and the link citing it gave no title ("PNAS version" is no title)."""
    return bool(paper.doi) and not paper.arxiv_id and not paper.title.strip()


def _doi_url(doi: str) -> str:
    # a DOI may hold "#", "?" or "%": quoted, or the link would stop short of it
    return f"https://doi.org/{quote(doi, safe='/:;()._-')}"


def _doi_unavailable(doi: str, labels: Mapping[str, str]) -> str:
    """ "doi:10.1073/pnas.1 (details unavailable)": what an untitled DOI is named by (plain text)."""
    return f"doi:{doi}" + _aside(labels, labels["details_unavailable"])


def _as_arxiv_wrote(paper: Paper, text: str) -> str:
    """The paper's title or summary (or their translation) as shown: for a paper arXiv described,
    its TeX outside formulas as Unicode ("Erd\\H{o}s--R\\'enyi" -> "Erdős–Rényi", `tex_prose`);
    a page's own text (a mention, a journal paper) as written, where "--" may be meant."""
    return tex_prose(text) if paper.arxiv_id and not unresolved(paper) else text


def _details(*parts: str) -> str:
    """ " — A. Author · cs.LG · relevance 0.19" after a one-line entry: the parts it has, never
    an empty slot between separators; "" for none."""
    kept = [part for part in parts if part and part.strip()]
    return f" — {' · '.join(kept)}" if kept else ""


class _Renderer:
    """The pieces of one rendering that are easier to compose in Python than in Jinja."""

    def __init__(
        self,
        digest: Digest,
        edition: Edition,
        shortened: Shortened | None = None,
        *,
        for_reader: bool = False,
    ) -> None:
        self.digest = digest
        self.edition = edition
        self.shortened = shortened
        self.for_reader = for_reader
        self.labels = edition.labels
        self.direction_names = dict(digest.directions)
        self.names = dict(digest.source_names)
        self.names |= {s.source_id: s.source_name for e in all_entries(digest) for s in e.sightings}
        for post in digest.posts:
            self.names.setdefault(post.source_id, post.source_id)
        for resource in (*digest.resources, *digest.resource_backlog):
            for sighting in resource.sightings:
                self.names.setdefault(sighting.source_id, sighting.source_name)
        self.post_sections = _post_sections(digest.sections)

    def tr(self, text: str | None) -> str | None:
        return self.edition.tr(text)

    def badge(self, badge: str) -> str:
        if badge.startswith(FOLLOWED_BADGE):  # an author this reader follows: the name as written
            name = badge.removeprefix(FOLLOWED_BADGE).replace("`", "'")
            return self.labels["badge_followed"].format(name=self.edition.foreign(name))
        return _badge(badge, self.labels)

    def title(self, text: str | None, url: str | None = None, *, original: bool = False) -> str:
        """A title linked (when `url`), escaped and cut at TITLE_MAX_CHARS. An Arabic one (a
        post's, a page's) is isolated in a left-to-right edition; an `original` one (as its
        source wrote it, next to the English) in the Arabic edition too."""
        label = display_title(text)
        if original or not self.edition.rtl:
            label = self.edition.foreign(label)
        return md_link(label, url) if url else md_text(label)

    def named(self, name: str) -> str:
        """A source's name (unescaped), isolated when Arabic in a left-to-right edition, so the
        "(ar)" or "|" after it stays after it."""
        return name if self.edition.rtl else self.edition.foreign(name)

    def quoted(self, text: str) -> str:
        """What a source wrote (escaped), isolated when it runs the other way than the edition."""
        return self.edition.foreign(md_text(text))

    def source_name(self, source_id: str) -> str:
        return self.names.get(source_id, source_id)

    def paper_ids(self, entry: DigestPaper, *, pdf: bool = True) -> str:
        """ "arXiv:2401.01234v2 · [PDF](https://arxiv.org/pdf/2401.01234)", what researchers scan
        for and click (the title links the abstract); "[doi:…](https://doi.org/…)" for a paper
        with a DOI and no arXiv id; "" for neither. Without `pdf`, the id alone (a shortened email)."""
        paper = entry.paper
        if paper.arxiv_id and unresolved(paper):  # the title is the id already
            return md_link("PDF", f"https://arxiv.org/pdf/{paper.arxiv_id}") if pdf else ""
        if untitled_doi(paper):  # the title is the DOI already
            return ""
        if paper.arxiv_id:
            version = _newest_version(entry)
            arxiv = self.edition.ltr(md_text(f"arXiv:{paper.arxiv_id}" + (f"v{version}" if version else "")))
            if not pdf:
                return arxiv
            return f"{arxiv} · {md_link('PDF', f'https://arxiv.org/pdf/{paper.arxiv_id}')}"
        if paper.doi:
            return self.edition.ltr(md_link(f"doi:{paper.doi}", _doi_url(paper.doi)))
        return ""

    def dates(self, entry: DigestPaper) -> str:
        """When the paper appeared: its first version's date, and for a revision also the
        revision's, "2016-11-10 (v3: 2026-11-20)", so an old paper revised this week does not
        read as a new one. An arXiv listing of a replacement gives no first date: the month its
        id says ("1611.03530" was first submitted in 2016-11) stands for it."""
        paper = entry.paper
        # arXiv's days, not the digest's: the UTC day of a submission (what its abstract page
        # says) and the day of a listing (00:00 US Eastern, so that day in UTC too); in the
        # reader's zone both would disagree with the page the paper links to
        first = _fmt_date(paper.published)
        latest = _fmt_date(paper.updated)
        # an old paper back because a post discusses it is dated as a revised one: by its first
        # version, not by the latest one's day ("2016-11 (v3: 2026-11-20)", never "2026-11-20")
        if not (_revised(entry) or _newest_version(entry) > 1) or not latest or latest == first:
            return self.edition.ltr(first or latest) if first or latest else ""
        first = first or _id_month(paper.arxiv_id)
        version = _newest_version(entry)
        revision = self.edition.ltr(latest)
        if version:
            revision = self.labels["version_date"].format(
                version=self.edition.ltr(f"v{version}"), date=revision
            )
        if not first:
            return revision
        return self.labels["revised_date"].format(first=self.edition.ltr(first), revision=revision)

    def line_dates(self, entry: DigestPaper) -> str:
        """ " · 2016-11-10 (v3: 2026-11-20)" in the one-line forms, as the full blocks date every
        paper (a new one by its first version); "" for a paper without a date."""
        dates = self.dates(entry)
        return f" · {dates}" if dates else ""

    def reason(self, entry: DigestPaper) -> str:
        """Why a paper is back (`reason_line`), each place it is newly discussed on linked to the
        post there that discusses it, when the digest has that post's link."""
        if entry.update_reason is None:
            return ""
        links: dict[str, str] = {}
        for post in entry.discussed_in:
            if post.url:
                links.setdefault(self.source_name(post.source_id), post.url)
        post_urls = {post.url for post in entry.discussed_in if post.url}
        for sighting in entry.sightings:
            # the place as the ledger named it: the sighting's name for the same post
            if sighting.url and sighting.url in post_urls:
                links.setdefault(sighting.source_name, sighting.url)
        line = reason_line(entry.update_reason, self.edition, links)
        comment = self.comment(entry.paper) if entry.update_reason.version_change else ""
        # a new version's comment often says what changed ("v2: fixed the proof of Lemma 3")
        return f"{line} · {comment}" if comment else line

    def reader_sources(self) -> str:
        return _sources_lines(
            self.labels,
            ((md_text(self.named(self.source_name(r.source_id))), r.ok) for r in self.digest.reports),
            self.edition.isolated,
        )

    @cached_property
    def arxiv_sources(self) -> frozenset[str]:
        """The ids of arXiv's own sources among those read: by kind, as `build_digest` finds them
        (a user may name any source "arXiv")."""
        from dltheory_digest.sources import arxiv_source_ids  # the kinds import parsers: only when asked

        return arxiv_source_ids((r.source_id, r.kind) for r in self.digest.reports)

    def beyond_arxiv(self, sighting: Sighting) -> bool:
        """Whether a sighting is not one of arXiv's own listings or searches (a listing's
        announcement type says so of a source no longer read, too)."""
        return sighting.announce_type is None and sighting.source_id not in self.arxiv_sources

    def singled_out(self, entry: DigestPaper) -> bool:
        """Whether something beyond arXiv's listings brought the paper up: a post, a Chinese or
        Arabic source, a reading list, or an author this reader follows."""
        return bool(entry.discussed_in or followed_in(entry)) or any(map(self.beyond_arxiv, entry.sightings))

    def seen_in(self, entry: DigestPaper) -> str:
        """ "Seen in: arXiv | [offconvex](…)"; "" for a paper only arXiv's own sources listed:
        the title links arXiv already and a listing is not linked, so the line would say nothing."""
        if not any(map(self.beyond_arxiv, entry.sightings)):
            return ""
        return f"{self.labels['seen_in']}: {self.sightings(entry)}"

    def authors(self, authors: Sequence[str]) -> str:
        """The first authors, escaped, "et al." in the edition's language. A name's TeX accents
        ("B\\"uhlmann") are letters whatever the source: no name holds them as written."""
        names = [tex_prose(name) for name in authors]
        return md_text(shorten_authors(names, et_al=self.labels["et_al"]))

    def direction_name(self, direction_id: str) -> str:
        name = self.direction_names.get(direction_id, direction_id)
        return md_text(self.edition.direction_name(direction_id, name))

    def sightings(self, entry: DigestPaper) -> str:
        parts = []
        for sighting in entry.sightings:
            lang = _foreign(sighting.lang)
            label = md_link(self.named(sighting.source_name), sighting.url)
            parts.append(f"{label} ({md_text(lang)})" if lang else label)
        return SEEN_IN_SEPARATOR.join(parts)

    def commentary_lines(self, entry: DigestPaper) -> list[str]:
        """What Chinese or Arabic sources say about the paper: its first sentences in English,
        then as written (or only as written, marked, when no model translated it)."""
        lines = []
        for sighting in entry.sightings:
            line = self.commentary(sighting)
            if line:
                lines.append(line)
        return lines

    def commentary(self, sighting: Sighting) -> str:
        """What a Chinese or Arabic source says about a paper, after its name and language: in
        the reader's own language as written; else its first sentences in the edition's language
        (the English, translated in a zh/ar edition when the model did), the original after it.
        Text no model put into English is shown as written, unmarked: its "(zh)" says what it
        is, and the notes say once that some texts could not be translated."""
        lang = _foreign(sighting.commentary_lang)
        if not lang or not sighting.commentary.strip():
            return ""
        head = f"*{md_text(self.named(sighting.source_name))} ({md_text(lang)}):*"
        if self.edition.reads(lang):
            # the reader's own language: as written, no round trip through English
            written = sighting.commentary_original or sighting.commentary
            return f"{head} {self.quoted(excerpt(written))}"
        english = excerpt(sighting.commentary)
        if not sighting.commentary_original:  # no model put it into English
            return f"{head} {self.quoted(english)}"
        original = excerpt(sighting.commentary_original)
        shown = self.tr(english) or english
        return f"{head} {self.quoted(shown)} · *{self.labels['original']}:* {self.quoted(original)}"

    def edition_title(self, entry: DigestPaper) -> str | None:
        """The title in the edition's language, when it differs from the English one: as a
        source in that language wrote it, else its translation."""
        if unresolved(entry.paper):  # no title to translate: what cited it is no title
            return None
        english = entry.english_title or entry.paper.title
        native = entry.original_title if entry.original_lang == self.edition.language else None
        translated = native or self.tr(english)
        return _as_arxiv_wrote(entry.paper, translated) if translated and translated != english else None

    def paper_title(self, entry: DigestPaper) -> str:
        """The paper's English title linked to its abstract. A paper arXiv did not describe (an
        id it does not know yet, or an outage) is named by its id, said to lack its details,
        with the words that cited it: a post's link text ("Power et al.") is not a title. A paper
        known by a DOI alone that Crossref did not describe is named by its DOI, said so too."""
        paper = entry.paper
        if untitled_doi(paper) and paper.doi:  # Crossref did not describe it: its bare link is no name
            return md_link(_doi_unavailable(paper.doi, self.labels), _doi_url(paper.doi))
        if not unresolved(paper):
            return self.title(_as_arxiv_wrote(paper, entry.english_title or paper.title), paper.abs_url)
        said = self.labels["details_unavailable"]
        cited = " ".join((entry.english_title or paper.title or "").split())
        if cited and parse_arxiv_id(cited) is None:
            said += self.labels["filter_separator"] + self.labels["cited_as"].format(
                self.labels["filter_quote"].format(display_title(cited))
            )
        return md_link(f"arXiv:{paper.arxiv_id}" + _aside(self.labels, said), paper.abs_url)

    def line_title(self, entry: DigestPaper) -> str:
        """ " · *translated title*" after the English title of a one-line entry (Updated, the
        appendix, a shortened email) in a zh/ar edition; "" otherwise."""
        translated = self.edition_title(entry)
        return f" · *{self.title(translated)}*" if translated else ""

    def paper_lines(self, entry: DigestPaper) -> str:
        labels = self.labels
        paper = entry.paper
        lines = []
        native = entry.original_title if entry.original_lang == self.edition.language else None
        translated = self.edition_title(entry)
        if translated:
            lines.append(f"**{labels['translated_title']}:** {self.title(translated)}")
        if entry.original_title and entry.original_title != native:
            lang = f" ({md_text(entry.original_lang)})" if entry.original_lang else ""
            lines.append(
                f"*{labels['original_title']}{lang}:* {self.title(entry.original_title, original=True)}"
            )
        meta = [
            self.authors(paper.authors),
            self.dates(entry),
            md_text(paper.primary_category),
            # the journal reference (arXiv's, or a journal paper's venue and year from Crossref)
            # and what the authors' comment says beyond page counts ("accepted at COLT 2026")
            self.quoted(paper.journal_ref) if paper.journal_ref else "",
            self.comment(paper),
            self.paper_ids(entry),
        ]
        meta += [f"`{self.badge(b)}`" for b in entry.badges]
        also = [self.direction_name(d) for d in also_directions(entry)]
        if also:
            # direction names hold commas ("Overparameterization, NTK and infinite width")
            meta.append(f"{labels['also']}: {labels['filter_separator'].join(also)}")
        if any(meta):
            lines.append(" · ".join(m for m in meta if m))
        summary = self.summary(entry)
        if summary:
            lines.append(md_text(summary))
        seen_in = self.seen_in(entry)
        if seen_in:
            lines.append(seen_in)
        lines.extend(self.commentary_lines(entry))
        return _HARD_BREAK.join(lines)

    def comment(self, paper: Paper) -> str:
        """The paper's arXiv comment, short (`short_comment`), in italics; "" for none."""
        said = short_comment(paper.comment, paper.journal_ref)
        return f"*{self.quoted(said)}*" if said else ""

    def summary(self, entry: DigestPaper) -> str:
        """The summary in the edition: translated; for a paper with no abstract whose summary is
        what a source in the reader's own language wrote, that text as written."""
        if not entry.paper.abstract.strip():
            own = next(
                (
                    s.commentary_original
                    for s in entry.sightings
                    if s.commentary_original and self.edition.reads(s.commentary_lang)
                ),
                "",
            )
            if own:
                return summarize(own)
            return self.tr(entry.summary) or entry.summary  # what a page said, as it said it
        return _as_arxiv_wrote(entry.paper, self.tr(entry.summary) or entry.summary)

    def post_line(self, post: Item) -> str:
        """The post's English title linked (its translation when it has one), the original after
        it; in the post's own language, the original alone."""
        # a crosspost (LessWrong and the Alignment Forum) is one post: every site it is on named
        sites = [post.source_id, *(value for name, value in post.extra if name == "also_in")]
        details = [
            " · ".join(md_text(self.named(self.source_name(site))) for site in sites),
            _fmt_date(post.published, self.digest.timezone),
        ]
        if post.lang and post.lang not in ("en", "mixed"):
            details.append(md_text(post.lang))
        english = (post.title_en or "").strip()
        if self.edition.reads(post.lang):
            english = ""
        title = self.title(english or post.title, post.url)
        if english and english != post.title.strip():
            title += f" · *{self.title(post.title, original=True)}*"
        details += [f"`{self.badge(FOLLOWED_BADGE + name)}`" for name in followed_post_authors(post)]
        return f"{title} — {' · '.join(d for d in details if d)}"

    def full_posts(self) -> list[Item]:
        """The posts "Blog posts, articles and discussions" lists in full: those no direction
        lists with its papers (`section_posts` shows the others, once)."""
        return [post for post in self.digest.posts if not self.post_sections.get(post.url or post.key)]

    def posts_with_papers(self) -> str:
        """One line for the posts a direction already lists with its papers: how many, and the
        directions (linked) they are under; "" for none. Each post is shown once in full."""
        homes: dict[str, DirectionSection] = {}
        listed = 0
        for post in self.digest.posts:
            sections = self.post_sections.get(post.url or post.key)
            if sections:
                listed += 1
                homes.setdefault(sections[0].direction_id, sections[0])
        if not listed:
            return ""
        where = [
            f"[{md_text(self.edition.direction_name(s.direction_id, s.name))}]"
            f"(#{slugify(_section_heading(s, self.edition))})"
            for s in self.digest.sections
            if s.direction_id in homes
        ]
        return md_text(_counted(self.labels, "posts_with_papers", listed)).format(
            count=listed, sections=self.labels["filter_separator"].join(where)
        )

    def listed_post(self, post: Item, targets: Sequence[tuple[str, str | None, bool]], *, links: bool) -> str:
        """A post's line in "Blog posts, articles and discussions" (one `full_posts` gives): in
        full, with the papers it links to (unless `links` is off: a shortened email), one this
        edition does not hold marked so (a filtered edition leaves papers out)."""
        line = self.post_line(post)
        if links and targets:
            named = [
                self.title(name, url)
                + ("" if held else _aside(self.labels, self.labels["not_in_edition"], italic=True))
                for name, url, held in targets
            ]
            line += f" — {self.labels['links_to']}: {self.labels['filter_separator'].join(named)}"
        return line

    def section_posts(self, section: DirectionSection) -> list[str]:
        """The lines of a section's "Discussed in posts and articles": each post once in the
        whole digest, in the section holding most of the papers it cites (a reading list citing
        papers of five directions is not repeated five times), saying which other sections it
        also discusses papers of."""
        lines = []
        for post in section.posts:
            sections = self.post_sections.get(post.url or post.key, [])
            if sections[:1] != [section]:
                continue
            line = self.post_line(post)
            # links to the sections' headings (as the contents make them)
            others = [
                f"[{md_text(self.edition.direction_name(s.direction_id, s.name))}]"
                f"(#{slugify(_section_heading(s, self.edition))})"
                for s in sections[1:]
            ]
            if others:
                separator = self.labels["filter_separator"]
                line += " — " + md_text(self.labels["post_also_sections"]).format(separator.join(others))
            lines.append(line)
        return lines

    def updated_parts(self) -> list[tuple[str, Sequence[DigestPaper]]]:
        """ "Updated and newly discussed" as the lines a rendering shows: the papers with a new
        (or journal) version first, then those back only because a post discusses them, each
        part under its own bold line when the week has both; one unnamed part otherwise."""
        shown = self.shown(sorted(self.digest.updated, key=discussed_only))
        parts: list[tuple[str, Sequence[DigestPaper]]] = [
            (self.labels["updated_part"], [p for p in shown if not discussed_only(p)]),
            (self.labels["discussed_part"], [p for p in shown if discussed_only(p)]),
        ]
        parts = [(name, papers) for name, papers in parts if papers]
        return parts if len(parts) > 1 else [("", shown)]

    def shown(self, papers: Sequence[_Listed]) -> Sequence[_Listed]:
        """The papers (or talks and courses) of a list that a shortened rendering keeps: its first
        (a direction's: `direction_cut`)."""
        limit = self.shortened.limit if self.shortened else None
        return papers if limit is None else papers[:limit]

    def more_line(self, papers: Sequence[DigestPaper] | Sequence[Resource]) -> str:
        """What a shortened list says about the papers (or talks and courses) it left out; ""
        when it left none."""
        limit = self.shortened.limit if self.shortened else None
        left_out = 0 if limit is None else max(len(papers) - limit, 0)
        if not left_out or self.shortened is None:
            return ""
        file = self.edition.ltr(self.shortened.full_file)
        # Chinese counts papers and talks with different measure words (篇, 个)
        key = "more_resources_in" if isinstance(papers[0], Resource) else "more_in"
        return md_text(self.labels[key].format(count=left_out, file=file))

    def direction_cut(self, papers: Sequence[DigestPaper]) -> tuple[Sequence[DigestPaper], bool]:
        """The papers of a direction a shortened rendering keeps, in the section's order, and
        whether some were kept ahead of more relevant ones. Those something beyond arXiv's
        listings brought up (`singled_out`: a post listed under the direction points at them)
        are kept first, the most relevant of them if they are more than the limit; the rest
        are filled by relevance, whatever the badge (the section lists new papers first)."""
        limit = self.shortened.limit if self.shortened else None
        if limit is None or len(papers) <= limit:
            return papers, False

        def relevance(index: int) -> tuple[float, int]:
            return (-round(papers[index].classification.relevance, 4), index)

        ranked = sorted(range(len(papers)), key=relevance)
        singled = {i for i in ranked if self.singled_out(papers[i])}
        kept = sorted(sorted(ranked, key=lambda i: i not in singled)[:limit])
        return [papers[i] for i in kept], kept != sorted(ranked[:limit])

    def direction_more_line(self, papers: Sequence[DigestPaper]) -> str:
        """What a shortened direction says about the papers it left out, and how those shown
        were chosen (the most relevant; first those something beyond arXiv brought up, when
        that kept a less relevant one); "" when it left none."""
        shown, singled = self.direction_cut(papers)
        if self.shortened is None or len(shown) == len(papers):
            return ""
        key = "more_singled_out_in" if singled else "more_relevant_in"
        file = self.edition.ltr(self.shortened.full_file)
        return md_text(self.labels[key].format(count=len(papers) - len(shown), file=file))

    def group_words(self, members: Sequence[DigestPaper]) -> str:
        """' (shared words: "grokking", "modular")' after an Emerging group's name, bracketed
        the edition's way; "" when they share none."""
        words = shared_words(members)
        if not words:
            return ""
        quoted = (self.labels["filter_quote"].format(w) for w in words)
        said = md_text(
            self.labels["emerging_words"].format(self.labels["filter_list_separator"].join(quoted))
        )
        return _aside(self.labels, said)

    def emerging_in(self, section: DirectionSection) -> str:
        """Under Other: how many unconfident papers an Emerging group lists instead (each paper is
        listed once), linked to Emerging; "" for any other section, or when no group took one."""
        if section.direction_id != _fallback_classification(self.digest.directions).primary:
            return ""
        # a digest stored before Emerging took only the body's papers listed its groups' papers
        # under Other too, or below the threshold: those are not Other's
        digest = self.digest
        elsewhere = {p.paper.key for s in digest.sections for p in s.papers} | {
            p.paper.key for p in (*digest.below_threshold, *digest.updated, *digest.backlog)
        }
        count = sum(1 for p in digest.emerging if p.paper.key not in elsewhere)
        if not count:
            return ""
        heading = f"{self.labels['emerging']} ({len(self.digest.emerging)})"
        link = f"[{md_text(self.labels['emerging'])}](#{slugify(heading)})"
        return md_text(_counted(self.labels, "emerging_in_other", count)).format(count=count, emerging=link)

    def resource_line(self, resource: Resource, *, remarks: bool = True) -> str:
        """A talk or course: its kind, its English title linked (the edition's title and the
        page's own after it), what each page says about it, and where it was listed. Without
        `remarks` (a shortened email, a list's backlog) the pages' remarks are left out."""
        labels = self.labels
        kind = labels.get(f"resource_{resource.category}", resource.category)
        parts = [f"**{md_text(kind)}:** {self.title(resource.title, resource.url)}"]
        native = resource.original_title if resource.original_lang == self.edition.language else None
        translated = native or self.tr(resource.title)
        if translated and translated != resource.title:
            parts[0] += f" · *{self.title(translated)}*"
        if resource.original_title and resource.original_title != translated:
            lang = f" ({md_text(resource.original_lang)})" if resource.original_lang else ""
            parts[0] += (
                f" · *{labels['original_title']}{lang}:* {self.title(resource.original_title, original=True)}"
            )
        if remarks:
            said = [(s, self.remark(s)) for s in resource.sightings]
            said = [(s, text) for s, text in said if text]
            for sighting, text in said:
                # several pages: each remark says whose it is
                who = f"*{md_text(self.named(sighting.source_name))}:* " if len(said) > 1 else ""
                parts.append(who + text)
        pages = []
        for sighting in resource.sightings:
            page_lang = _foreign(sighting.lang)
            label = md_link(self.named(sighting.source_name), sighting.url)
            pages.append(f"{label} ({md_text(page_lang)})" if page_lang else label)
        parts.append(f"{labels['listed_on']}: {SEEN_IN_SEPARATOR.join(pages)}")
        return " — ".join(parts)

    def remark(self, sighting: Sighting) -> str:
        """What a page says about a talk or course, in the edition: in the reader's own language
        as written; else in English (translated into the edition when it has a translation),
        with the original after a translated remark; as written when no model translated it (the
        notes say so once, and the page's "(zh)" what language it is)."""
        if not sighting.commentary.strip():
            return ""
        labels = self.labels
        lang = _foreign(sighting.commentary_lang)
        if self.edition.reads(lang):
            return self.quoted(excerpt(sighting.commentary_original or sighting.commentary))
        english = excerpt(sighting.commentary)
        if lang and not sighting.commentary_original:  # no model put it into English
            return self.quoted(english)
        text = self.quoted(self.tr(english) or english)
        if sighting.commentary_original:
            original = excerpt(sighting.commentary_original)
            return f"{text} · *{labels['original']}:* {self.quoted(original)}"
        return text

    def unconfirmed_line(self, entry: DigestPaper) -> str:
        """A title-only mention: the title as the page wrote it (in title case where it was all
        capitals), what it says, where it was seen."""
        parts = [f"**{self.title(caps_title_cased(entry.paper.title), original=True)}**"]
        summary = self.summary(entry)
        if summary:
            parts.append(self.quoted(summary))
        seen_in = self.seen_in(entry)
        if seen_in:
            parts.append(seen_in)
        return " — ".join(parts)

    def window(self) -> str:
        digest = self.digest
        start = _fmt_dt(digest.window_start, digest.timezone)
        end = _fmt_dt(digest.window_end, digest.timezone)
        return self.edition.ltr(f"{start} – {end} ({md_text(digest.timezone)})")

    def until(self) -> str:
        """ "2026-11-25 14:00 (Europe/Berlin)": the moment a partial digest covers up to."""
        digest = self.digest
        if digest.covers_until is None:
            return ""
        return self.edition.ltr(f"{_fmt_dt(digest.covers_until, digest.timezone)} ({digest.timezone})")

    def announced(self, day: dt.date) -> bool:
        """Whether the arXiv listing dated `day` was out by the moment the digest covers up to
        (always, for a whole week): arXiv announces at 20:00 US Eastern the evening before."""
        until = self.digest.covers_until
        if until is None:
            return True
        return as_utc(until) >= announced_at(day)

    def header_lines(self) -> str:
        labels = self.labels
        digest = self.digest
        counts = dict(digest.counts)
        window = f"**{labels['window']}:** {self.window()}"
        papers, directions = counts.get("papers", 0), counts.get("directions", 0)
        papers_text = _tally(labels, "papers", papers)
        if counts.get("below_threshold"):
            # the appendix is counted apart: say how many, so no other count seems to disagree
            # its own spacing: " (+3 …)" in English, "（另有 3 …）" after Chinese with none
            papers_text += labels["below_count"].format(count=counts["below_threshold"])
        tally = [papers_text, _tally(labels, "directions", directions)]
        revised, discussed = _back_counts(digest)
        for number, key in (
            (revised, "updated_count"),
            (discussed, "discussed_count"),
            (counts.get("posts", 0), "posts_count"),
            (counts.get("unconfirmed", 0), "unconfirmed_count"),
            (counts.get("backlog", 0), "backlog_count"),
            (counts.get("resources", 0), "resources_count"),
            (counts.get("resource_backlog", 0), "resource_backlog_count"),
        ):
            if number:
                tally.append(_tally(labels, key, number))
        lines = [window, " · ".join(tally)]
        if digest.covers_until is not None:
            # a week under way: its counts and "no papers" are only so far
            lines.insert(
                0, f"**{labels['partial']}:** {md_text(labels['partial_text'].format(until=self.until()))}"
            )
        if digest.announcement_days:
            weekdays = labels["weekdays"].split()  # not %a: that follows the locale

            def days(dates: Sequence[dt.date]) -> str:
                return labels["filter_list_separator"].join(
                    self.edition.ltr(f"{d:%Y-%m-%d}") + _aside(labels, weekdays[d.weekday()]) for d in dates
                )

            past = [d for d in digest.announcement_days if self.announced(d)]
            to_come = [d for d in digest.announcement_days if not self.announced(d)]
            if not to_come:
                lines.append(f"{labels['announcement_days']}: {days(past)}")
            elif not past:
                heading = labels["announcement_days"] + _aside(labels, labels["days_to_come"])
                lines.append(f"{heading}: {days(to_come)}")
            else:
                lines.append(
                    f"{labels['announcement_days']}: {days(past)}"
                    f"{labels['filter_separator']}{labels['days_to_come']}: {days(to_come)}"
                )
        if digest.generated_for:
            lines.append(f"{labels['edition_for']}: {md_text(digest.generated_for)}")
            left_out = self.left_out()
            if left_out:
                lines.append(left_out)
        if self.edition.model:
            lines.append(f"{labels['translated_by']} {md_text(self.edition.model)}")
        if self.edition.note:
            lines.append(md_text(self.edition.note, commands=True))
        if self.shortened:
            note = labels["shortened"].format(file=self.edition.ltr(self.shortened.full_file))
            lines.append(f"*{md_text(note)}*")
        return _HARD_BREAK.join(lines)

    def left_out(self) -> str:
        """A reader's edition: what their filters left out of the week's papers and posts
        (`filter_for_reader` counts them), "Your filters left out 27 of this week's 33 papers and
        6 of its 10 posts"; "" when they left nothing out."""
        labels = self.labels
        counts = dict(self.digest.counts)
        papers, posts = counts.get("left_out_papers", 0), counts.get("left_out_posts", 0)
        parts = []
        if papers:
            total = counts.get("week_papers", 0)
            parts.append(_counted(labels, "left_out_papers", total).format(left=papers, total=total))
        if posts:
            total = counts.get("week_posts", 0)
            key = "left_out_more_posts" if parts else "left_out_posts"
            parts.append(_counted(labels, key, total).format(left=posts, total=total))
        return md_text(labels["left_out"].format(parts=labels["left_out_and"].join(parts))) if parts else ""

    def footer_lines(self) -> str:
        labels = self.labels
        digest = self.digest
        lines = [f"{labels['window']}: {self.window()} · {self.edition.ltr(md_text(digest.week))}"]
        models = [f"{name} {version}".strip() for name, version in digest.models]
        if self.edition.model:
            models.append(self.edition.model)
        if models:
            lines.append(f"{labels['models']}: {' · '.join(md_text(m) for m in dict.fromkeys(models))}")
        text = _HARD_BREAK.join(lines)
        if self.for_reader:
            notes = [md_text(n) for n in reader_notes(digest.notes, self.edition)]
        else:
            notes = [md_text(n.text, commands=True) for n in digest.notes]
        if notes:
            text += f"\n\n**{labels['notes']}:**\n\n" + "\n".join(f"- {n}" for n in dict.fromkeys(notes))
        return text

    def none_line(self) -> str:
        """What an edition without papers says: none this week, or none that the filters let through."""
        week_papers = dict(self.digest.counts).get("week_papers", 0)
        filters = self.digest.unmatched_filters
        if week_papers and filters is not None:
            described = describe_filters(filters, self.digest.directions, self.edition)
            return md_text(self.labels["none_matched"].format(total=week_papers, filters=described))
        reports = self.digest.reports
        if reports and all(r.error for r in reports):  # "no papers this week" would be false
            return md_text(self.labels["none_failed"])
        return md_text(self.labels["none_partial" if self.digest.covers_until else "none"])


@dataclass(frozen=True)
class Shortened:
    """A shorter rendering for mail clients, pointing at the full digest (`full_file`).

    `appendix=False` replaces the lists of papers below the relevance threshold and of a
    list's backlog (papers, and talks and courses) with their counts; `one_line=True` also
    gives each paper one line (title, authors, badges) and each talk or course one line
    without the pages' remarks; `limit`
    keeps only the first papers (new, then most relevant) of each direction, of "Updated", of each
    Emerging group and of the unconfirmed mentions, and the first talks and courses, with a
    line that counts the rest."""

    full_file: str
    appendix: bool = False
    one_line: bool = False
    limit: int | None = None


# More unconfirmed mentions than this are listed collapsed (in <details>, as the backlog).
UNCONFIRMED_OPEN_MAX = 10


def render_markdown(
    digest: Digest,
    edition: Edition = ENGLISH,
    *,
    shortened: Shortened | None = None,
    for_reader: bool = False,
    demo: bool = False,
) -> str:
    """The digest as Markdown: deterministic, GitHub-, Prefect- and email-friendly.

    The default is the operator's file (outputs/): every run note as written, commands and
    source report table with its errors included. `for_reader` is what a reader is sent: the
    notes as `reader_notes` words them in the reader's language, and the sources as which were
    read and which could not be, without the counts and errors (exceptions, paths) that only
    the operator can act on."""
    template = environment().get_template("digest.md.j2")
    renderer = _Renderer(digest, edition, shortened, for_reader=for_reader)
    contents = [
        (
            edition.direction_name(section.direction_id, section.name),
            slugify(_section_heading(section, edition)),
            len(section.papers),
        )
        for section in digest.sections
    ]
    groups: dict[int, list[DigestPaper]] = {}
    for entry in digest.emerging:
        groups.setdefault(entry.group or 0, []).append(entry)
    text = template.render(
        d=digest,
        L=renderer.labels,
        contents=contents,
        heading=lambda section: _section_heading(section, edition),
        emerging_groups=[(members, renderer.group_words(members)) for _, members in sorted(groups.items())],
        post_targets={
            post.url or post.key: _post_paper_titles(post, digest, edition) for post in digest.posts
        },
        report_cell=_report_cell,
        for_reader=for_reader,
        reader_sources=renderer.reader_sources,
        report_count=_report_count,
        report_new=lambda report: _report_new(report, renderer.labels, edition),
        emerging_in=renderer.emerging_in,
        report_parsed=lambda report: _report_parsed(report, renderer.labels),
        unconfirmed_line=renderer.unconfirmed_line,
        unconfirmed_open_max=UNCONFIRMED_OPEN_MAX,
        resource_line=renderer.resource_line,
        seen_in_line=renderer.seen_in,
        tr=renderer.tr,
        badge=renderer.badge,
        source_name=renderer.source_name,
        paper_lines=renderer.paper_lines,
        paper_title=renderer.paper_title,
        details=_details,
        authors=renderer.authors,
        paper_ids=renderer.paper_ids,
        title=renderer.title,
        none_line=renderer.none_line(),
        post_line=renderer.post_line,
        listed_post=renderer.listed_post,
        full_posts=renderer.full_posts(),
        posts_with_papers=renderer.posts_with_papers(),
        section_posts=renderer.section_posts,
        line_title=renderer.line_title,
        line_dates=renderer.line_dates,
        reason=renderer.reason,
        shown=renderer.shown,
        direction_cut=renderer.direction_cut,
        direction_more_line=renderer.direction_more_line,
        updated_parts=renderer.updated_parts(),
        more_line=renderer.more_line,
        short=shortened,
        short_file=edition.ltr(shortened.full_file) if shortened else "",
        week=edition.ltr(digest.week),
        # a `demo` (the bundled snapshot) says so before anything else
        header_lines=(f"**{md_text(renderer.labels['demo_note'])}**\n\n" if demo else "")
        + renderer.header_lines(),
        footer_lines=renderer.footer_lines(),
    )
    # optional parts of the template can leave runs of blank lines: keep one
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip("\n") + "\n"


def _aside(labels: Mapping[str, str], text: str, *, italic: bool = False) -> str:
    """ " (Mon)" after a word in English and Arabic, "（周一）" in Chinese (full-width brackets,
    no space), as the labels' `aside` says; `italic` puts the emphasis inside the space."""
    form = labels["aside"]
    bracketed = form.lstrip().format(text)
    space = form[: len(form) - len(form.lstrip())]
    return f"{space}*{bracketed}*" if italic else space + bracketed


def _foreign(lang: str | None) -> str | None:
    return lang if lang and lang not in ("en", "mixed") else None


def _report_count(report: SourceReport, value: int) -> str:
    """A count of the source report; "—" for a source that failed before receiving anything."""
    return "—" if report.error and not report.fetched else str(value)


def new_cell(
    new: int,
    later: int,
    later_weeks: Sequence[str],
    labels: Mapping[str, str] | None = None,
    isolate: Callable[[str], str] = lambda week: week,
) -> str:
    """Sightings new to the week, and those that went to a later week ("1 · 1 for 2026-W48"):
    a run that found something and put it elsewhere says so, rather than look as if it lost it.
    The console's cell and the digest's report: in English as `pipeline.later_text` words it, in
    a zh/ar edition's report by its labels (`isolate` keeps a week left to right)."""
    if not later:
        return str(new)
    if labels is None or "later_for" not in labels:  # English: the labels leave it to the run's words
        from dltheory_digest.pipeline import later_text  # the run's module: only when asked

        return f"{new} · {later_text(later, later_weeks)}"
    weeks = [isolate(week) for week in later_weeks] or [labels["later_week"]]
    joined = labels["filter_list_separator"].join(weeks[:-1])
    named = f"{joined}{labels['reason_and']}{weeks[-1]}" if joined else weeks[-1]
    return f"{new} · {labels['later_for'].format(count=later, weeks=named)}"


def _report_new(report: SourceReport, labels: Mapping[str, str], edition: Edition) -> str:
    """The report's New cell: also what went to a later week (`new_cell`), as the console says it."""
    new = _report_count(report, report.new)
    if new == "—":
        return new
    return md_text(new_cell(report.new, report.later, report.later_weeks, labels, edition.ltr))


def _report_parsed(report: SourceReport, labels: Mapping[str, str]) -> str:
    """The items parsed, and the papers its posts cite ("1 + 6 cited"): a reading list that
    brought six papers does not read as one that brought nothing."""
    parsed = _report_count(report, report.parsed)
    if not report.cited or parsed == "—":
        return parsed
    return labels["parsed_cited"].format(parsed=parsed, cited=report.cited)


# Words that say nothing about what a group of deep-learning papers shares.
_COMMON_WORDS = frozenset(
    """about above across after against also among analysis approach based being below between
    both different does each from further have here into less like many method methods model
    models more most much network networks neural other over paper propose proposed provide
    results show shows some such than that their them then there these they this those through
    under using very well were what when where which while with within without work would
    deep learning learn learned framework problem problems study new novel task tasks data""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
# formulas and TeX commands, whose names ("mathcal", "widetilde") are no words a group shares
_NOT_WORDS = re.compile(rf"{MATH_SPAN.pattern}|\\[A-Za-z]+", re.DOTALL)


def _word_key(word: str) -> str:
    """A word with a plain plural "s" dropped, so "kernels" and "kernel" count together."""
    word = word.lower().strip("-")
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "is", "us")):
        return word[:-1]
    return word


def shared_words(entries: Sequence[DigestPaper], limit: int = 3) -> list[str]:
    """The words most of a group's papers use in their titles and summaries (what an Emerging
    group is about), most shared first; none for a group whose papers share no word."""
    counts: dict[str, int] = {}
    first_seen: dict[str, int] = {}  # ties keep reading order: "gradient", "descent"
    # the word as the papers write it: the key of "dynamics" is "dynamic", of "physics" "physic"
    written: dict[str, str] = {}
    for entry in entries:
        text = _NOT_WORDS.sub(" ", f"{entry.english_title or entry.paper.title} {entry.summary}")
        words = [w.lower().strip("-") for w in _WORD.findall(text) if w.lower() not in _COMMON_WORDS]
        for word in words:
            key = _word_key(word)
            if len(word) < len(written.get(key, word + " ")):  # "kernel" rather than "kernels"
                written[key] = word
        keys = {_word_key(w) for w in words}
        for key in sorted(keys - _COMMON_WORDS, key=text.lower().find):
            counts[key] = counts.get(key, 0) + 1
            first_seen.setdefault(key, len(first_seen))
    needed = max(2, (len(entries) + 1) // 2)
    ranked = sorted((k for k, n in counts.items() if n >= needed), key=lambda k: (-counts[k], first_seen[k]))
    return [written[k] for k in ranked[:limit]]


def _section_heading(section: DirectionSection, edition: Edition) -> str:
    name = edition.direction_name(section.direction_id, section.name)
    return f"{name} ({len(section.papers)})"


def _post_sections(sections: Sequence[DirectionSection]) -> dict[str, list[DirectionSection]]:
    """For each post a section lists: the sections listing it, the one holding most of the
    papers it cites first (the post's main subject; the earlier section on a tie)."""
    cited: dict[str, list[tuple[int, int, DirectionSection]]] = {}
    for order, section in enumerate(sections):
        for post in section.posts:
            key = post.url or post.key
            papers = sum(1 for p in section.papers if any((d.url or d.key) == key for d in p.discussed_in))
            cited.setdefault(key, []).append((-papers, order, section))
    return {key: [s for _, _, s in sorted(found, key=lambda f: f[:2])] for key, found in cited.items()}


def _post_paper_titles(post: Item, digest: Digest, edition: Edition) -> list[tuple[str, str | None, bool]]:
    """The digest papers a post links to (title, abstract URL, True), then any other cited
    papers (False: not in this digest or edition, e.g. left out by the reader's filters)."""
    targets = post_targets(post)
    found: dict[str, tuple[str, str | None, bool]] = {}
    entries = [p for s in digest.sections for p in s.papers] + [
        *digest.updated,
        *digest.emerging,  # a grouped paper is listed in its group alone
        *digest.below_threshold,
        *digest.backlog,
    ]
    labels = edition.labels
    shown: set[str] = set()  # the keys of the papers found, so a citation of one is not listed again
    for entry in entries:
        keys = {entry.paper.key} | ({f"arxiv:{entry.paper.arxiv_id}"} if entry.paper.arxiv_id else set())
        keys |= {f"doi:{entry.paper.doi}"} if entry.paper.doi else set()
        if keys & targets:
            # a paper arXiv did not describe is named by its id: its title is the post's link text;
            # an untitled DOI by the DOI
            paper = entry.paper
            named = f"arXiv:{paper.arxiv_id}" if unresolved(paper) else None
            if untitled_doi(paper) and paper.doi:
                named = _doi_unavailable(paper.doi, labels)
            found.setdefault(
                entry.paper.key,
                (
                    named or _as_arxiv_wrote(entry.paper, entry.english_title or entry.paper.title),
                    entry.paper.abs_url,
                    True,
                ),
            )
            shown |= keys
    for cited in post.cited:
        if cited.doi and not cited.arxiv_id and f"doi:{cited.doi}" in shown:
            continue  # a journal paper the digest lists under its own title
        key = f"arxiv:{cited.arxiv_id}" if cited.arxiv_id else cited.url or cited.title
        url = f"https://arxiv.org/abs/{cited.arxiv_id}" if cited.arxiv_id else cited.url
        title = cited.title if edition.reads(cited.lang) else cited.english_title
        if cited.doi and not cited.arxiv_id and not title.strip():
            title = _doi_unavailable(cited.doi, labels)  # not its bare link
        # a title-only mention may be one of "Unconfirmed mentions": only a paper is marked
        found.setdefault(key, (title, url, not (cited.arxiv_id or cited.doi)))
    return [found[k] for k in sorted(found)]
