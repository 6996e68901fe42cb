from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.config import Settings, load_settings, load_sources
from dltheory_digest.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    return info.value


def test_shipped_sources_file_is_valid() -> None:
    specs = load_sources(ROOT / "sources.yaml")
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids))
    listing = next(s for s in specs if s.kind == "arxiv_rss")
    assert {"cs.LG", "stat.ML", "cs.NE", "math.OC", "cond-mat.dis-nn"} <= set(listing.options["categories"])
    feeds = {s.id: s.url for s in specs if s.kind == "feed"}
    assert feeds["offconvex"] == "https://www.offconvex.org/feed.xml"
    assert {"windows-on-theory", "francis-bach", "lesswrong", "distill"} <= set(feeds)


def test_unknown_kind_names_file_source_and_field(tmp_path: Path) -> None:
    err = error_of(
        write(tmp_path, "sources:\n  - id: blog\n    kind: fed\n    url: https://example.org/feed\n")
    )
    assert str(err).startswith("sources.yaml: source 'blog': field 'kind': unknown kind 'fed'")
    assert "feed" in str(err)  # the known kinds are listed
    assert (err.source_id, err.field) == ("blog", "kind")


def test_bad_url_names_the_field(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "sources:\n  - id: blog\n    kind: feed\n    url: ftp://example.org/x\n"))
    assert str(err).startswith("sources.yaml: source 'blog': field 'url':")
    assert "not an http(s) URL" in str(err)


def test_missing_required_field(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "sources:\n  - id: blog\n    url: https://example.org/feed\n"))
    assert str(err) == "sources.yaml: source 'blog': field 'kind': Field required"


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    err = error_of(
        write(tmp_path, "sources:\n  - id: blog\n    kind: feed\n    url: https://e.org/f\n    enabeld: no\n")
    )
    assert str(err).startswith("sources.yaml: source 'blog': field 'enabeld': Extra inputs are not permitted")


def test_source_without_id_is_named_by_position(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "sources:\n  - kind: feed\n    url: https://e.org/f\n"))
    assert str(err) == "sources.yaml: source #1: field 'id': Field required"


def test_bad_politeness_value(tmp_path: Path) -> None:
    text = "sources:\n  - id: blog\n    kind: feed\n    url: https://e.org/f\n    politeness: {min_interval: -1}\n"
    err = error_of(write(tmp_path, text))
    assert str(err).startswith("sources.yaml: source 'blog': field 'politeness.min_interval':")


def test_bad_kind_option_is_named(tmp_path: Path) -> None:
    text = "sources:\n  - id: listing\n    kind: arxiv_rss\n    options: {categoriez: [cs.LG]}\n"
    err = error_of(write(tmp_path, text))
    assert str(err).startswith("sources.yaml: source 'listing': field 'options.categoriez':")


def test_duplicate_ids(tmp_path: Path) -> None:
    text = "sources:\n  - {id: a, kind: feed, url: 'https://e.org/1'}\n  - {id: a, kind: feed, url: 'https://e.org/2'}\n"
    err = error_of(write(tmp_path, text))
    assert "duplicate source id 'a'" in str(err)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid YAML" in str(error_of(write(tmp_path, "sources: [\n")))
    assert "file not found" in str(error_of(tmp_path / "nope.yaml"))
    assert str(error_of(write(tmp_path, "- just a list\n"))).startswith("sources.yaml: field 'sources'")


def test_settings_from_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "dltheory.yaml"
    settings_file.write_text(
        "timezone: Europe/Berlin\nreaders:\n  - {email: ada@example.org, language: zh}\n", encoding="utf-8"
    )
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("DLTHEORY_SMTP_PASSWORD", "s3cret")
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin"
    assert settings.readers[0].language == "zh"
    assert settings.smtp_password is not None and "s3cret" not in repr(settings)
    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Asia/Shanghai")  # the environment wins over the file
    assert load_settings().timezone == "Asia/Shanghai"


def test_bad_setting_names_origin_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("environment: field 'timezone':")
    assert "unknown time zone 'Mars/Olympus'" in str(info.value)


def test_default_store_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.resolved_store_url == f"sqlite:///{(tmp_path / 'd' / 'dltheory.sqlite').as_posix()}"
