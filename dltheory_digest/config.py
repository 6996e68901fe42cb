"""Configuration: `sources.yaml` and the settings, each validated once at load.

A bad file raises one `ConfigError` whose message names the file, the source id and
the field, e.g. ``sources.yaml: source 'offconvex': field 'url': ...``; the CLI turns it
into exit status 2 before anything is fetched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from dltheory_digest.errors import ConfigError

SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# the store's source_id columns (store/schema.py) hold this many characters
SOURCE_ID_LENGTH = 128
# an absolute http(s) URL: a scheme and a host
HTTP_URL = re.compile(r"^https?://[^\s/?#]+(?=$|[/?#])", re.IGNORECASE)  # the site: no space in it
# addr@host: no spaces, no second @, none of the characters that separate or wrap addresses
# (a stray comma, <...>); the host's labels are not empty, or it is an address literal [1.2.3.4]
_LOCAL_PART = r'[^@\s<>(),;:"\[\]\\]+'
_HOST_LABEL = r'[^@\s<>(),;:"\[\]\\.]+'
EMAIL_SHAPE = re.compile(rf"^{_LOCAL_PART}@(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[^\]\s]+\])$")
# ISO 639-1 (two lower-case letters), or "mixed" for a source that posts in several languages
SOURCE_LANG = re.compile(r"^(?:[a-z]{2}|mixed)$")

# arXiv's category taxonomy (https://arxiv.org/category_taxonomy): archive -> subject classes.
# An archive with no subject classes is a category by itself (hep-th, quant-ph ...).
_ARXIV_SUBJECTS = {
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "cs": (
        "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI "
        "OH OS PF PL RO SC SD SE SI SY"
    ),
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "gr-qc": "",
    "hep-ex": "",
    "hep-lat": "",
    "hep-ph": "",
    "hep-th": "",
    "math": (
        "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT SG SP ST"
    ),
    "math-ph": "",
    "nlin": "AO CD CG PS SI",
    "nucl-ex": "",
    "nucl-th": "",
    "physics": (
        "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph flu-dyn "
        "gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph"
    ),
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "quant-ph": "",
    "stat": "AP CO ME ML OT TH",
}
ARXIV_CATEGORIES: dict[str, frozenset[str]] = {
    a: frozenset(subjects.split()) for a, subjects in _ARXIV_SUBJECTS.items()
}


def check_arxiv_category(text: str) -> str:
    """`text` if it names an arXiv category (`cs.LG`, `cond-mat.dis-nn`) or a whole archive (`cs`);
    otherwise `ValueError` saying what would be right."""
    import difflib

    archive, dot, subject = text.partition(".")
    subjects = ARXIV_CATEGORIES.get(archive)
    if subjects is not None and (subject in subjects if dot else True):
        return text
    spelled = {f"{a}.{s}".lower(): f"{a}.{s}" for a, subs in ARXIV_CATEGORIES.items() for s in subs}
    if text.lower() in spelled:
        hint = f"did you mean {spelled[text.lower()]}?"
    elif subjects:
        hint = f"the {archive} categories are {', '.join(f'{archive}.{s}' for s in sorted(subjects))}"
    elif subjects is not None:
        hint = f"{archive} has no subject classes: write just {archive!r}"
    else:
        close = difflib.get_close_matches(archive, ARXIV_CATEGORIES, n=3)
        hint = f"did you mean {' or '.join(close)}?" if close else "e.g. cs.LG, stat.ML, math.OC"
    raise ValueError(f"not an arXiv category: {text!r} ({hint})")


def _check_source_url(url: str) -> str:
    """A source's url: http(s), its site without spaces. A space further on (a file named
    "reading list.html") is sent as %20, as a browser does: written so here, the URL the run
    records and reports is the one it fetched."""
    url = url.strip()
    if not HTTP_URL.match(url) or any(ch.isspace() and ch != " " for ch in url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url.replace(" ", "%20")


def _missing_sources_hint() -> str:
    """What to do about a relative sources_file not found: when the settings file names it, the
    name there is read from that file's directory (running elsewhere changes nothing)."""
    settings_file = settings_file_path()
    if environment_variable("sources_file") is None and settings_file is not None:
        try:
            named = "sources_file" in read_settings_file(settings_file)
        except ConfigError:
            named = False
        if named:
            return f"sources_file in {settings_file} is read from that file's directory: correct it there"
    return "run from the directory that holds it, or set sources_file"


def close_time_zone(name: str) -> str | None:
    """The IANA zone `name` was probably meant to be: the same in other case (europe/berlin), a
    near spelling (Europe/Berln), or a zone's city alone (Berlin); None when none is close."""
    import difflib
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    key = name.strip().replace(" ", "_").lower()
    by_case = {zone.lower(): zone for zone in zones}
    if key in by_case:
        return by_case[key]
    close = difflib.get_close_matches(name, zones, n=1, cutoff=0.8)
    if close:
        return close[0]
    cities = [zone for zone in zones if "/" in zone and zone.rsplit("/", 1)[1].lower() == key]
    return cities[0] if len(cities) == 1 else None


def pydantic_message(error: Any, model: type[BaseModel] | None = None) -> str:
    """A pydantic error's message in the words of a configuration file: no "Value error, " prefix,
    and no library wording ("Extra inputs are not permitted", "Input should be a valid tuple").
    `model` is the model validated, so an unknown field's message can list the known ones."""
    kind = error.get("type")
    if kind == "extra_forbidden":
        known = _known_fields(model, tuple(error.get("loc", ())))
        return "unknown field" + (f" (known: {', '.join(known)})" if known else "")
    if kind in ("tuple_type", "list_type", "set_type", "frozen_set_type"):
        value = error.get("input")
        example = value if isinstance(value, str | int | float) and str(value).strip() else "a, b"
        return f"expected a list, e.g. [{example}]"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a mapping (name: value)"
    if kind in _EXPECTED_TYPE:
        return f"expected {_EXPECTED_TYPE[kind]}, got {_shown_input(error)}"
    if kind == "literal_error" and "ctx" in error:
        return f"expected {error['ctx']['expected']}, got {_shown_input(error)}"
    bounds = {"greater_than_equal": ("ge", "at least"), "less_than_equal": ("le", "at most")}
    bounds |= {"greater_than": ("gt", "more than"), "less_than": ("lt", "less than")}
    if kind in bounds and "ctx" in error:
        key, words = bounds[kind]
        return f"must be {words} {error['ctx'][key]}, got {error.get('input')}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


# pydantic's error types for a value of the wrong type, in a configuration file's words
_EXPECTED_TYPE = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "path_type": "a path",
}


def _shown_input(error: Any) -> str:
    """The bad value as the operator wrote it; never a password's."""
    if any("password" in str(part) for part in error.get("loc", ())):
        return "(hidden)"
    value = error.get("input")
    return "nothing (the value is empty)" if value is None else repr(value)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (`Reader` for `tuple[Reader, ...]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _known_fields(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The field names of the (nested) model that `loc` ends in, following `loc` from `model`."""
    current = model
    for part in loc[:-1]:
        if current is None:
            return []
        if isinstance(part, int):  # an index into a list of models: still the same model
            continue
        field = current.model_fields.get(str(part))
        current = _model_in(field.annotation) if field is not None else None
    return sorted(current.model_fields) if current is not None else []


# PyYAML's words for the usual slips, and what they mean to someone editing the file
_YAML_PROBLEMS = (
    ("expected <block end>", "the indentation does not line up with the lines above"),
    (
        "mapping values are not allowed here",
        "unexpected ':' (indented too far, or a value with ': ' in it needs quotes)",
    ),
    ("cannot start any token", "a tab or a character YAML does not allow here (indent with spaces)"),
)
_YAML_CONSTRUCTS = {
    "block collection": "the list",
    "block mapping": "the mapping",
    "flow mapping": "the {…} mapping",
    "flow sequence": "the […] list",
    "quoted scalar": "the quoted text",
}


def yaml_problem(path: Path | str, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: the file, the line of the mistake and what it is, and
    where the construct it broke opened when that is elsewhere (an unclosed bracket or quote)."""
    name = Path(path).name
    problem = " ".join(str(getattr(exc, "problem", None) or str(exc).splitlines()[0]).split())
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    context = str(getattr(exc, "context", None) or "")
    construct = next((words for key, words in _YAML_CONSTRUCTS.items() if context.endswith(key)), None)
    if context_mark is not None and (
        problem_mark is None or "stream end" in problem or "end of stream" in problem
    ):
        # the file ended inside something left open: where it opened is the place to look
        what = f"{construct} opened here is never closed" if construct else problem
        return f"{name}: not valid YAML (line {context_mark.line + 1}): {what}"
    explained = next((words for key, words in _YAML_PROBLEMS if key in problem), problem)
    where = f" (line {problem_mark.line + 1})" if problem_mark is not None else ""
    if (
        construct
        and context_mark is not None
        and problem_mark is not None
        and context_mark.line != problem_mark.line
    ):
        explained += f", in {construct} that starts on line {context_mark.line + 1}"
    return f"{name}: not valid YAML{where}: {explained}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key given twice in one mapping is an error: YAML would keep
    the last one silently, so a second `url:` or `enabled:` would quietly win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                # `<<: *defaults` is no key of its own (the base loader merges it, and a key
                # written beside it rightly overrides the merged one)
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                line = first_line.get(key)
            except TypeError:  # an unhashable key: the base loader says so
                break
            if line is not None:  # also on one line: `{url: a, url: b}`
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice (first on line {line + 1})", key_node.start_mark
                )
            first_line[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        # `since: 2024-02-31` looks like a date to YAML, whose constructor then raises a bare
        # ValueError: make it a YAML error, so the message names the file and the line
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
            ) from None


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing or unreadable file or bad syntax raises a one-line `ConfigError`."""
    return read_yaml_bytes(path)[0]


def read_yaml_bytes(path: Path) -> tuple[Any, bytes]:
    """`read_yaml`, with the bytes it parsed (to fingerprint exactly what was read)."""
    try:
        data = path.read_bytes()
        return yaml.load(data, Loader=_UniqueKeyLoader), data
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found", path=str(path)) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a file", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}", path=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(path, exc), path=str(path)) from None


class Politeness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # allow_inf_nan: YAML's `.inf` would pass `gt` and stall every request to the host for good
    min_interval: float = Field(
        1.0, ge=0.0, allow_inf_nan=False, description="seconds between requests to one host"
    )
    max_bytes: int = Field(20_000_000, gt=0, description="response size cap")
    timeout: float = Field(30.0, gt=0.0, allow_inf_nan=False)


class SourceSpec(BaseModel):
    """One entry of `sources.yaml`; `options` is validated by the kind's own model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: str
    name: str | None = None
    url: str | None = None
    urls: tuple[str, ...] = ()
    query: str | None = None
    lang: str = "en"
    enabled: bool = True
    politeness: Politeness = Politeness()
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not SOURCE_ID.match(value):
            raise ValueError("use lower-case letters, digits, '-', '_' or '.'")
        if len(value) > SOURCE_ID_LENGTH:
            # every table keyed by source has a column this long; PostgreSQL refuses a longer id
            raise ValueError(f"at most {SOURCE_ID_LENGTH} characters, got {len(value)}")
        return value

    @field_validator("lang")
    @classmethod
    def _lang_shape(cls, value: str) -> str:
        if not SOURCE_LANG.match(value):
            raise ValueError(f"expected an ISO 639-1 code (en, zh, ar ...) or 'mixed', got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        return None if value is None else _check_source_url(value)

    @field_validator("urls")
    @classmethod
    def _urls_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_source_url(url) for url in value)

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def all_urls(self) -> tuple[str, ...]:
        return ((self.url,) if self.url else ()) + self.urls


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[SourceSpec, ...]


def _describe(path: Path, raw_sources: list[Any], err: dict[str, Any]) -> str:
    loc = list(err.get("loc", ()))
    where = f"{path.name}"
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        idx = loc[1]
        entry = raw_sources[idx] if idx < len(raw_sources) else {}
        sid = entry.get("id") if isinstance(entry, dict) else None
        where += f": source {sid!r}" if sid else f": source #{idx + 1}"
        if len(loc) == 2:  # the entry itself is not a mapping
            return f"{where}: expected a mapping like {{id: …, kind: …, url: …}}"
        field = ".".join(str(p) for p in loc[2:])
        return f"{where}: field {field!r}: {pydantic_message(err, SourcesFile)}"
    field = ".".join(str(p) for p in loc) or "(file)"
    return f"{where}: field {field!r}: {pydantic_message(err, SourcesFile)}"


def load_sources(path: Path | str) -> tuple[SourceSpec, ...]:
    """Read and validate `sources.yaml`, including each kind's options."""
    from dltheory_digest.sources import REGISTRY  # the registry knows each kind's options

    path = Path(path)
    try:
        raw = read_yaml(path)
    except ConfigError as exc:
        if not str(exc).endswith("file not found") or path.is_absolute():
            raise
        # a relative name is looked up from where the command runs (cron starts in $HOME)
        raise ConfigError(f"{exc} (in {Path.cwd()}: {_missing_sources_hint()})", path=str(path)) from None
    if raw is None:
        raise ConfigError(
            f"{path.name}: the file is empty: expected 'sources:' and a list of sources",
            path=str(path),
            field="sources",
        )
    if not isinstance(raw, dict) or "sources" not in raw:
        raise ConfigError(
            f"{path.name}: field 'sources': expected a mapping with a 'sources' list",
            path=str(path),
            field="sources",
        )
    raw_sources = raw.get("sources") or []
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{path.name}: field 'sources': expected a list", path=str(path), field="sources")
    try:
        parsed = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc", ())
        sid = None
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(raw_sources):
            entry = raw_sources[loc[1]]
            sid = entry.get("id") if isinstance(entry, dict) else None
        raise ConfigError(
            _describe(path, raw_sources, dict(first)),
            path=str(path),
            source_id=sid,
            field=".".join(str(p) for p in loc[2:]) or None,
        ) from None
    specs = []
    seen: set[str] = set()
    for spec in parsed.sources:
        if spec.id in seen:
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: field 'id': duplicate id",
                path=str(path),
                source_id=spec.id,
                field="id",
            )
        seen.add(spec.id)
        kind = REGISTRY.get(spec.kind)
        if kind is None:
            known = ", ".join(sorted(REGISTRY))
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: field 'kind': unknown kind {spec.kind!r} (known: {known})",
                path=str(path),
                source_id=spec.id,
                field="kind",
            )
        try:
            kind.validate_spec(spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = "options." + ".".join(str(p) for p in first.get("loc", ()))
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: field {field!r}: {pydantic_message(first, kind.options)}",
                path=str(path),
                source_id=spec.id,
                field=field,
            ) from None
        except ValueError as exc:
            # the kinds' messages start "field 'x': …": the error names that field too
            named = re.match(r"field '([^']+)'", str(exc))
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: {exc}",
                path=str(path),
                source_id=spec.id,
                field=named.group(1) if named else None,
            ) from None
        if kind.arxiv:
            _check_categories(path, spec)
        specs.append(spec)
    return tuple(specs)


def _check_categories(path: Path, spec: SourceSpec) -> None:
    """arXiv kinds' `categories` must be real arXiv categories: a made-up one is an empty listing
    that arXiv answers slowly (and the kind retries)."""
    categories = spec.options.get("categories")
    if not isinstance(categories, list | tuple):
        return
    for category in categories:
        try:
            check_arxiv_category(str(category))
        except ValueError as exc:
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: field 'options.categories': {exc}",
                path=str(path),
                source_id=spec.id,
                field="options.categories",
            ) from None


class Reader(BaseModel):
    """One person the digest is mailed to, with their own filters and edition language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    name: str | None = None
    include_directions: tuple[str, ...] = ()
    exclude_directions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    negative_keywords: tuple[str, ...] = ()
    # people whose papers the reader always gets, marked, whatever the filters above say
    # (digest.build.filter_for_reader says why); one name per entry, as a bibliography writes it
    authors: tuple[str, ...] = ()
    min_relevance: float | None = Field(None, ge=0.0, le=1.0)
    language: Literal["en", "zh", "ar"] = "en"

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str) -> str:
        if not EMAIL_SHAPE.match(value):
            hint = " (write the address alone: a name goes in 'name')" if "<" in value else ""
            raise ValueError(f"not an email address: {value!r}{hint}")
        return value

    @field_validator("authors")
    @classmethod
    def _one_person_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from dltheory_digest.identity.normalize import person_name

        for name in value:
            if person_name(name) is None or re.search(r"[@/]", name):  # an address, a profile URL
                raise ValueError(f"not a person's name: {name!r} (write it as papers print it)")
            # "Arora, S., Hu, W." or "Arora and Hu" in one entry would follow nobody. One comma
            # is how bibliographies write one name ("García Márquez, Gabriel José"), and two
            # names ("Sanjeev Arora, Wei Hu") look the same: such an entry is taken as one name
            # and matching decides (an edition whose filters match nothing names its authors)
            # "Smith, J., Jr.": a suffix after a second comma is still the one name
            unsuffixed = re.sub(r",\s*(?:[JS]r\.?|II|III|IV)\s*$", "", name)
            several = unsuffixed.count(",") > 1 or bool(re.search(r"[;&、，]|\b(?:and|und)\b", name))
            if several:
                raise ValueError(f"one name per entry: {name!r} looks like several (write a list)")
        return value


def file_in_the_way(directory: Path) -> Path | None:
    """The file at `directory` or at its nearest existing ancestor, if that is not a directory:
    every write under `directory` would fail there (FileExistsError, NotADirectoryError)."""
    for path in (directory, *directory.parents):
        try:
            if path.exists():
                return None if path.is_dir() else path
        except OSError:  # unreadable: let the write say why
            return None
    return None


SETTINGS_FILE_ENV = "DLTHEORY_SETTINGS_FILE"
DEFAULT_CRON = "0 7 * * 1"  # Mondays 07:00 in the configured zone
STORE_URL_EXAMPLES = "sqlite:///PATH/dltheory.sqlite or postgresql+psycopg://USER@HOST/DB"


class Settings(BaseSettings):
    """Run-wide settings from `DLTHEORY_*` environment variables and/or a YAML settings file.

    Precedence: explicit arguments > environment > settings file > defaults.
    """

    model_config = SettingsConfigDict(env_prefix="DLTHEORY_", extra="forbid", frozen=True)

    sources_file: Path = Path("sources.yaml")
    data_dir: Path = Path(".dltheory")
    store_url: str | None = None  # default: sqlite:///<data_dir>/dltheory.sqlite
    output_dir: Path = Path("outputs")
    timezone: str = "UTC"
    http_cache: Path | None = None  # default: <data_dir>/http-cache.sqlite
    contact: str = "https://github.com/dltheory-digest/dltheory-digest"
    taxonomy_file: Path | None = None  # default: the taxonomy shipped in the package
    glossary_file: Path | None = None  # default: the glossary shipped in the package
    relevance_threshold: float = Field(0.30, ge=0.0, le=1.0)
    arxiv_api_base: str = "https://export.arxiv.org/api/query"  # metadata look-ups (id_list, title search)
    # title, authors and venue of a journal DOI arXiv does not know; "" looks nothing up there
    crossref_api_base: str = "https://api.crossref.org/works"
    argos_packages_dir: Path | None = None
    readers: tuple[Reader, ...] = ()
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_ca_file: Path | None = None  # a PEM CA to trust besides the system's (a private relay)
    mail_from: str | None = None
    list_unsubscribe: str | None = None  # mailto: or https: address for the List-Unsubscribe header
    smtp_block: str | None = None  # a Prefect Secret block holding the SMTP settings (overlays smtp_*)
    schedule_cron: str = DEFAULT_CRON
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = None
    max_concurrency: int = Field(4, ge=1)  # tasks the thread runner runs at once (sources fetched together)

    @field_validator("readers", mode="before")
    @classmethod
    def _no_readers(cls, value: Any) -> Any:
        # `readers:` with every entry commented out (mail paused) is no readers, not an error
        return () if value is None else value

    @field_validator("readers")
    @classmethod
    def _each_reader_once(cls, value: tuple[Reader, ...]) -> tuple[Reader, ...]:
        # a second entry for an address would be mailed twice, or its filters silently ignored
        seen: set[str] = set()
        for reader in value:
            if reader.email.lower() in seen:
                raise ValueError(f"{reader.email!r} is listed twice: give each reader one entry")
            seen.add(reader.email.lower())
        return value

    @field_validator("crossref_api_base")
    @classmethod
    def _http_base(cls, value: str) -> str:
        value = value.strip()
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f'{value!r} is not an http(s) URL (or "" to look nothing up on Crossref)')
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = close_time_zone(value)
            raise ValueError(
                f"unknown time zone {value!r}" + (f" (did you mean {close}?)" if close else "")
            ) from None
        return value

    @field_validator("data_dir", "output_dir")
    @classmethod
    def _not_a_file(cls, value: Path) -> Path:
        blocker = file_in_the_way(value)
        if blocker is not None:
            raise ValueError(f"{blocker} is a file, not a directory")
        return value

    @field_validator("store_url")
    @classmethod
    def _supported_store(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            scheme = make_url(value).drivername
        except ArgumentError:
            raise ValueError(f"not a database URL (use {STORE_URL_EXAMPLES})") from None
        if scheme in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
            return value
        if scheme.startswith("postgresql"):  # plain postgresql:// means psycopg2, which is not installed
            raise ValueError(f"write postgresql+psycopg:// (the psycopg 3 driver), not {scheme}://")
        raise ValueError(f"unsupported database {scheme}://: use {STORE_URL_EXAMPLES}")

    @field_validator("mail_from")
    @classmethod
    def _sender_shape(cls, value: str | None) -> str | None:
        from email.utils import parseaddr

        if value is None:
            return value
        address = parseaddr(value)[1] if "<" in value else value.strip()
        if not EMAIL_SHAPE.match(address):
            raise ValueError(f"not an email address: {value!r} (write addr@host or Name <addr@host>)")
        return value

    @field_validator("list_unsubscribe")
    @classmethod
    def _unsubscribe_shape(cls, value: str | None) -> str | None:
        """The addresses, one line: a line break or space between them (a YAML `>` block, a
        list written over lines) is dropped; one inside an address is refused here, not by the
        mail header at send time, after a week's fetch."""
        if value is None:
            return None
        parts = [p.strip() for p in value.split(",")]
        for part in (p.strip("<>") for p in parts):
            if part and not part.lower().startswith(("mailto:", "https:")):
                raise ValueError(f"expected a mailto: or https: address, got {part!r}")
            if any(ch.isspace() for ch in part):
                raise ValueError(
                    f"a space or line break cannot go inside an address (write a space as %20), got {part!r}"
                )
        return ", ".join(p for p in parts if p) or None

    @field_validator("schedule_cron")
    @classmethod
    def _cron_shape(cls, value: str) -> str:
        if value == DEFAULT_CRON:  # Prefect's parser costs a second to import: only for a changed one
            return value
        # the parser Prefect checks a deployment's cron with, so `serve` cannot refuse what passed here
        try:
            from prefect._internal.schemas.validators import validate_cron_string
        except ImportError:  # a private module of Prefect's: if it moves, `serve` still checks
            return value

        try:
            validate_cron_string(value)
        except ValueError:
            raise ValueError(
                f"not a cron expression Prefect accepts: {value!r} (five fields: minute hour "
                f"day-of-month month day-of-week, e.g. {DEFAULT_CRON!r})"
            ) from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = settings_file_path()
        if settings_file is not None:
            values = _anchored(read_settings_file(settings_file), settings_file.parent)
            sources.append(InitSettingsSource(settings_cls, init_kwargs=values))
        return tuple(sources)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_dir / 'dltheory.sqlite').as_posix()}"

    @property
    def resolved_http_cache(self) -> Path:
        return self.http_cache or self.data_dir / "http-cache.sqlite"


DEFAULT_SETTINGS_FILE = Path("dltheory.yaml")
# settings that name a file or directory: a relative one in the settings file is read from the
# file's directory (a cron job starts in $HOME, far from a file named by DLTHEORY_SETTINGS_FILE)
PATH_SETTINGS = (
    "sources_file",
    "data_dir",
    "output_dir",
    "http_cache",
    "taxonomy_file",
    "glossary_file",
    "argos_packages_dir",
    "smtp_ca_file",
)


def _anchored(values: dict[str, Any], base: Path) -> dict[str, Any]:
    """The settings file's values with its relative paths made relative to `base`, its directory:
    the path settings, and the file of a SQLite `store_url` (`sqlite:///state/digest.sqlite`),
    which would otherwise be a second, empty store wherever cron starts."""
    anchored = dict(values)
    for name in PATH_SETTINGS:
        value = values.get(name)
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            anchored[name] = str(path if path.is_absolute() else base / path)
    store_url = values.get("store_url")
    if isinstance(store_url, str) and store_url:
        anchored["store_url"] = _anchored_sqlite_url(store_url, base)
    return anchored


def _anchored_sqlite_url(url: str, base: Path) -> str:
    """A SQLite URL whose file is relative (or under ~) made absolute from `base`; any other URL
    (PostgreSQL, in memory, not a URL: the validator says so) as it is."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:"):  # a URI filename (`?uri=true`): left to SQLite
        return url
    path = Path(database).expanduser()
    if path.is_absolute() and database == str(path):
        return url
    absolute = path if path.is_absolute() else base / path
    return parsed.set(database=str(absolute)).render_as_string(hide_password=False)


def settings_file_path() -> Path | None:
    """The settings file in use: `DLTHEORY_SETTINGS_FILE` (which must exist), else `dltheory.yaml`
    in the working directory when there is one, else None."""

    named = os.environ.get(SETTINGS_FILE_ENV)
    if named:
        return Path(named)
    return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None


def read_settings_file(path: Path) -> dict[str, Any]:
    """The settings file's mapping (empty for an empty file); anything else is a `ConfigError`."""
    try:
        raw = read_yaml(path)
    except ConfigError as exc:
        if str(exc).endswith("file not found"):
            raise ConfigError(
                f"{path}: settings file not found (named by {SETTINGS_FILE_ENV})", path=str(path)
            ) from None
        raise
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path.name}: expected a mapping of settings (name: value), got a {type(raw).__name__}",
            path=str(path),
        )
    return raw


ENV_PREFIX = "DLTHEORY_"


def environment_variable(field: str) -> str | None:
    """The environment variable that sets the top-level setting `field`, spelled as it is set
    (pydantic-settings reads `DLTHEORY_*` in any case), or None when none is set."""
    wanted = f"{ENV_PREFIX}{field.split('.', 1)[0]}".upper()
    return next((name for name in os.environ if name.upper() == wanted), None)


def misspelled_environment_variables() -> list[tuple[str, str]]:
    """(variable, the one meant) for each `DLTHEORY_*` variable that names no setting but is
    close to one (`DLTHEORY_SMTP_HOTS`): the environment ignores it, so the setting is silently
    left at its default. Variables far from every setting may belong to other tools: not listed."""
    import difflib

    known = [*Settings.model_fields, SETTINGS_FILE_ENV.removeprefix(ENV_PREFIX).lower()]
    found = []
    for name in sorted(os.environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        field = name[len(ENV_PREFIX) :].lower()
        if field in known:
            continue
        close = difflib.get_close_matches(field, known, n=1, cutoff=0.8)
        if close:
            found.append((name, f"{ENV_PREFIX}{close[0].upper()}"))
    return found


def _origin_of(field: str, overrides: Mapping[str, Any] | None = None) -> str:
    """Where a setting's value came from, in the order they win: an explicit argument, the
    environment variable (named), the settings file, else the default."""
    top = field.split(".", 1)[0]
    if overrides and top in overrides:
        return "settings"
    variable = environment_variable(top)
    if variable is not None:
        return f"environment variable {variable}"
    settings_file = settings_file_path()
    return settings_file.name if settings_file is not None else "settings"


def _describe_setting(
    error: Any, settings_data: dict[str, Any], overrides: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """The one-line message and the field for a settings validation error: the environment
    variable, or the file and the field; a reader is named by its address."""
    loc = list(error.get("loc", ()))
    origin = _origin_of(str(loc[0]) if loc else "", overrides)
    from_environment = origin.startswith("environment variable")
    if len(loc) >= 2 and loc[0] == "readers" and isinstance(loc[1], int):
        readers = settings_data.get("readers")
        if from_environment:
            readers = _json_or_none(os.environ.get(origin.rsplit(" ", 1)[1], ""))
        entry = readers[loc[1]] if isinstance(readers, list) and loc[1] < len(readers) else None
        email = entry.get("email") if isinstance(entry, dict) else None
        where = f"{origin}: reader {email!r}" if email else f"{origin}: reader #{loc[1] + 1}"
        if len(loc) == 2:  # the entry itself is not a mapping
            return f"{where}: expected a mapping like {{email: …}}", "readers"
        field = ".".join(str(p) for p in loc[2:])
        return f"{where}: field {field!r}: {pydantic_message(error, Settings)}", f"readers.{field}"
    field = ".".join(str(p) for p in loc) or "(file)"
    if from_environment and len(loc) == 1:  # the variable names the field
        return f"{origin}: {pydantic_message(error, Settings)}", field
    return f"{origin}: field {field!r}: {pydantic_message(error, Settings)}", field


def _json_or_none(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return None


def _env_parse_error(exc: SettingsError) -> ConfigError:
    """pydantic-settings' "error parsing value for field ..." as one line naming the variable."""
    match = re.search(r'field "([^"]+)"', str(exc))
    if match is None:
        return ConfigError(f"environment: {exc}", path="environment")
    field = match[1]
    variable = environment_variable(field) or f"{ENV_PREFIX}{field.upper()}"
    cause = exc.__cause__
    detail = f"not valid JSON ({cause})" if cause is not None else "cannot be parsed"
    example = ' e.g. [{"email": "ada@example.org"}]' if field == "readers" else ""
    return ConfigError(
        f"environment variable {variable}: {detail}{(';' + example) if example else ''}",
        path="environment",
        field=field,
    )


def check_reader_directions(settings: Settings) -> None:
    """Every `include_directions` / `exclude_directions` id must be a direction of the taxonomy:
    a typo would otherwise give that reader an empty digest every week."""
    if not any(r.include_directions or r.exclude_directions for r in settings.readers):
        return
    from dltheory_digest.directions import OTHER, load_taxonomy

    try:
        known = set(load_taxonomy(settings.taxonomy_file).ids) | {OTHER}
    except ConfigError as exc:
        if not str(exc).endswith("file not found"):
            raise
        origin = _origin_of("taxonomy_file")
        where = origin if origin.startswith("environment") else f"{origin}: field 'taxonomy_file'"
        raise ConfigError(f"{where}: {exc}", path=exc.path, field="taxonomy_file") from None
    origin = _origin_of("readers")
    for reader in settings.readers:
        for field in ("include_directions", "exclude_directions"):
            unknown = [d for d in getattr(reader, field) if d not in known]
            if unknown:
                raise ConfigError(
                    f"{origin}: reader {reader.email!r}: field {field!r}: unknown direction id(s) "
                    f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})",
                    path="environment" if origin.startswith("environment") else origin,
                    field=f"readers.{field}",
                )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; a bad file or value raises `ConfigError` naming the file, reader and field."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        settings_file = settings_file_path()
        data = {**read_settings_file(settings_file)} if settings_file is not None else {}
        data.update(overrides)
        message, field = _describe_setting(first, data, overrides)
        origin = message.split(":", 1)[0]
        path = "environment" if origin.startswith("environment") else origin
        raise ConfigError(message, path=path, field=field) from None
    except SettingsError as exc:  # an environment variable that is not the JSON its field needs
        raise _env_parse_error(exc) from None
    check_reader_directions(settings)
    return settings
