"""Configuration: `sources.yaml` and the settings, each validated once at load.

A bad file raises one `ConfigError` whose message names the file, the source id and
the field, e.g. ``sources.yaml: source 'offconvex': field 'url': ...``; the CLI turns it
into exit status 2 before anything is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
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
)

from dltheory_digest.errors import ConfigError

SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")
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


def pydantic_message(error: Any) -> str:
    """A pydantic error's message without its "Value error, " / "Assertion failed, " prefix."""
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def yaml_problem(path: Path | str, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: the file, the line and the parser's complaint."""
    name = Path(path).name
    # the context mark is where the broken construct opened (an unclosed bracket or quote); the
    # problem mark is often just the end of the file
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{name}: not valid YAML{where}: {' '.join(str(problem).split())}"


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing or unreadable file or bad syntax raises a one-line `ConfigError`."""
    try:
        return yaml.safe_load(path.read_bytes())
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

    min_interval: float = Field(1.0, ge=0.0, description="seconds between requests to one host")
    max_bytes: int = Field(20_000_000, gt=0, description="response size cap")
    timeout: float = Field(30.0, gt=0.0)


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
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @field_validator("urls")
    @classmethod
    def _urls_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return value

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
        field = ".".join(str(p) for p in loc[2:]) or "(entry)"
        return f"{where}: field {field!r}: {pydantic_message(err)}"
    field = ".".join(str(p) for p in loc) or "(file)"
    return f"{where}: field {field!r}: {pydantic_message(err)}"


def load_sources(path: Path | str) -> tuple[SourceSpec, ...]:
    """Read and validate `sources.yaml`, including each kind's options."""
    from dltheory_digest.sources import REGISTRY  # the registry knows each kind's options

    path = Path(path)
    raw = read_yaml(path)
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
                f"{path.name}: source {spec.id!r}: field {field!r}: {pydantic_message(first)}",
                path=str(path),
                source_id=spec.id,
                field=field,
            ) from None
        except ValueError as exc:
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: {exc}", path=str(path), source_id=spec.id
            ) from None
        _check_categories(path, spec)
        specs.append(spec)
    return tuple(specs)


def _check_categories(path: Path, spec: SourceSpec) -> None:
    """arXiv kinds' `categories` must be real arXiv categories: a made-up one is an empty listing
    that arXiv answers slowly (and the kind retries)."""
    categories = spec.options.get("categories") if spec.kind.startswith("arxiv") else None
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
    min_relevance: float | None = None
    language: Literal["en", "zh", "ar"] = "en"

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str) -> str:
        if not EMAIL_SHAPE.match(value):
            raise ValueError(f"not an email address: {value!r}")
        return value


SETTINGS_FILE_ENV = "DLTHEORY_SETTINGS_FILE"


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
    relevance_threshold: float = 0.30
    arxiv_api_base: str = "https://export.arxiv.org/api/query"  # metadata look-ups (id_list, title search)
    argos_packages_dir: Path | None = None
    readers: tuple[Reader, ...] = ()
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    mail_from: str | None = None
    list_unsubscribe: str | None = None  # mailto: or https: address for the List-Unsubscribe header
    smtp_block: str | None = None  # a Prefect Secret block holding the SMTP settings (overlays smtp_*)
    schedule_cron: str = "0 7 * * 1"
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = None
    max_concurrency: int = Field(4, ge=1)  # tasks the thread runner runs at once (sources fetched together)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
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
            sources.append(InitSettingsSource(settings_cls, init_kwargs=read_settings_file(settings_file)))
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


def settings_file_path() -> Path | None:
    """The settings file in use: `DLTHEORY_SETTINGS_FILE` (which must exist), else `dltheory.yaml`
    in the working directory when there is one, else None."""
    import os

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


def _origin_of(field: str) -> str:
    """Where a bad value came from: the environment when its variable is set, else the settings file."""
    import os

    top = field.split(".", 1)[0]
    if f"DLTHEORY_{top.upper()}" in os.environ or f"dltheory_{top}" in os.environ:
        return "environment"
    settings_file = settings_file_path()
    return settings_file.name if settings_file is not None else "environment"


def _describe_setting(error: Any, settings_data: dict[str, Any]) -> tuple[str, str]:
    """(where, field) for a settings validation error; a reader is named by its address."""
    loc = list(error.get("loc", ()))
    if len(loc) >= 2 and loc[0] == "readers" and isinstance(loc[1], int):
        readers = settings_data.get("readers")
        entry = readers[loc[1]] if isinstance(readers, list) and loc[1] < len(readers) else None
        email = entry.get("email") if isinstance(entry, dict) else None
        who = f"reader {email!r}" if email else f"reader #{loc[1] + 1}"
        return f"{_origin_of('readers')}: {who}", ".".join(str(p) for p in loc[2:]) or "(entry)"
    field = ".".join(str(p) for p in loc) or "(file)"
    return _origin_of(field), field


def check_reader_directions(settings: Settings) -> None:
    """Every `include_directions` / `exclude_directions` id must be a direction of the taxonomy:
    a typo would otherwise give that reader an empty digest every week."""
    if not any(r.include_directions or r.exclude_directions for r in settings.readers):
        return
    from dltheory_digest.directions import OTHER, load_taxonomy

    known = set(load_taxonomy(settings.taxonomy_file).ids) | {OTHER}
    origin = _origin_of("readers")
    for reader in settings.readers:
        for field in ("include_directions", "exclude_directions"):
            unknown = [d for d in getattr(reader, field) if d not in known]
            if unknown:
                raise ConfigError(
                    f"{origin}: reader {reader.email!r}: field {field!r}: unknown direction id(s) "
                    f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})",
                    path=origin,
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
        where, field = _describe_setting(first, data)
        raise ConfigError(
            f"{where}: field {field!r}: {pydantic_message(first)}", path=where, field=field
        ) from None
    check_reader_directions(settings)
    return settings
