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
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from dltheory_digest.errors import ConfigError

SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


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

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        seen: set[str] = set()
        for spec in self.sources:
            if spec.id in seen:
                raise ValueError(f"duplicate source id {spec.id!r}")
            seen.add(spec.id)
        return self


def _describe(path: Path, raw_sources: list[Any], err: dict[str, Any]) -> str:
    loc = list(err.get("loc", ()))
    where = f"{path.name}"
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        idx = loc[1]
        entry = raw_sources[idx] if idx < len(raw_sources) else {}
        sid = entry.get("id") if isinstance(entry, dict) else None
        where += f": source {sid!r}" if sid else f": source #{idx + 1}"
        field = ".".join(str(p) for p in loc[2:]) or "(entry)"
        return f"{where}: field {field!r}: {err['msg']}"
    field = ".".join(str(p) for p in loc) or "(file)"
    return f"{where}: field {field!r}: {err['msg']}"


def load_sources(path: Path | str) -> tuple[SourceSpec, ...]:
    """Read and validate `sources.yaml`, including each kind's options."""
    from dltheory_digest.sources import REGISTRY  # the registry knows each kind's options

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found", path=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}", path=str(path)) from None
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
    for spec in parsed.sources:
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
                f"{path.name}: source {spec.id!r}: field {field!r}: {first['msg']}",
                path=str(path),
                source_id=spec.id,
                field=field,
            ) from None
        except ValueError as exc:
            raise ConfigError(
                f"{path.name}: source {spec.id!r}: {exc}", path=str(path), source_id=spec.id
            ) from None
        specs.append(spec)
    return tuple(specs)


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
        if not re.match(r"^[^@\s]+@[^@\s]+$", value):
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
    schedule_cron: str = "0 7 * * 1"
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = None
    max_concurrency: int = 4

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
        import os

        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = os.environ.get(SETTINGS_FILE_ENV)
        if settings_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=settings_file))
        elif Path("dltheory.yaml").is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file="dltheory.yaml"))
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


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; a bad value raises `ConfigError` naming the file and field."""
    import os

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        origin = os.environ.get(SETTINGS_FILE_ENV) or (
            "dltheory.yaml" if Path("dltheory.yaml").is_file() else "environment"
        )
        raise ConfigError(f"{origin}: field {field!r}: {first['msg']}", path=origin, field=field) from None
