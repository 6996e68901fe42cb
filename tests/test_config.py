from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.config import Reader, Settings, load_settings, load_sources
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


def test_shipped_examples_are_placeholders_of_every_page_kind() -> None:
    specs = load_sources(ROOT / "sources.yaml")
    examples = {s.id: s for s in specs if not s.enabled and s.kind not in ("arxiv_api", "arxivdaily")}
    assert {s.kind for s in examples.values()} == {"zhihu", "shamra", "notes_page", "arxiv_mirror"}
    # a user who only flips `enabled` must not get someone else's unrelated page (a front-end
    # column, the page of an arXiv-dataset paper): each URL says it is to be filled in
    for spec in examples.values():
        assert spec.url is not None and ("<" in spec.url or ".example.org/" in spec.url), spec.id
    assert examples["notes-tiddlywiki"].options["tiddlers"]


def test_unknown_kind_names_file_source_and_field(tmp_path: Path) -> None:
    err = error_of(
        write(tmp_path, "sources:\n  - id: blog\n    kind: fed\n    url: https://example.org/feed\n")
    )
    assert str(err).startswith("sources.yaml: source 'blog': field 'kind': unknown kind 'fed'")
    assert "feed" in str(err)  # the known kinds are listed
    assert (err.source_id, err.field) == ("blog", "kind")


def test_a_source_id_longer_than_the_stores_column_names_file_source_and_field(tmp_path: Path) -> None:
    from sqlalchemy import String

    from dltheory_digest.config import SOURCE_ID_LENGTH
    from dltheory_digest.store.schema import fetches, items, week_reports

    # the limit is the store's: PostgreSQL would refuse the first row of a longer id
    for table in (fetches, items, week_reports):
        assert (
            isinstance(table.c.source_id.type, String) and table.c.source_id.type.length == SOURCE_ID_LENGTH
        )
    entry = "sources:\n  - id: {}\n    kind: feed\n    url: https://example.org/feed\n"
    longest = "blog-" + "x" * (SOURCE_ID_LENGTH - 5)
    assert [s.id for s in load_sources(write(tmp_path, entry.format(longest)))] == [longest]
    err = error_of(write(tmp_path, entry.format(longest + "x")))
    assert str(err).startswith(
        f"sources.yaml: source '{longest}x': field 'id': at most 128 characters, got 129"
    )
    assert (err.source_id, err.field) == (longest + "x", "id")


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
    assert str(err).startswith("sources.yaml: source 'blog': field 'enabeld': unknown field (known: ")
    assert "enabled" in str(err) and "politeness" in str(err) and "Extra inputs" not in str(err)


def test_source_without_id_is_named_by_position(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "sources:\n  - kind: feed\n    url: https://e.org/f\n"))
    assert str(err) == "sources.yaml: source #1: field 'id': Field required"


@pytest.mark.parametrize(("field", "value"), [("min_interval", "-1"), ("max_bytes", "0"), ("timeout", "0")])
def test_bad_politeness_value(tmp_path: Path, field: str, value: str) -> None:
    # a zero size cap would refuse every response: the source would fail every run, unexplained
    text = f"sources:\n  - id: blog\n    kind: feed\n    url: https://e.org/f\n    politeness: {{{field}: {value}}}\n"
    err = error_of(write(tmp_path, text))
    assert str(err).startswith(f"sources.yaml: source 'blog': field 'politeness.{field}':")


@pytest.mark.parametrize(
    ("field", "value"), [("timeout", ".inf"), ("timeout", ".nan"), ("min_interval", ".inf")]
)
def test_a_politeness_time_that_is_not_finite_is_refused_at_load(
    tmp_path: Path, field: str, value: str
) -> None:
    # YAML reads `.inf` as a float that `gt=0` lets through: every request would wait forever
    text = f"sources:\n  - id: blog\n    kind: feed\n    url: https://e.org/f\n    politeness: {{{field}: {value}}}\n"
    err = error_of(write(tmp_path, text))
    assert str(err).startswith(f"sources.yaml: source 'blog': field 'politeness.{field}':")
    assert "finite number" in str(err)


def test_bad_kind_option_is_named(tmp_path: Path) -> None:
    text = "sources:\n  - id: listing\n    kind: arxiv_rss\n    options: {categoriez: [cs.LG]}\n"
    err = error_of(write(tmp_path, text))
    assert str(err).startswith("sources.yaml: source 'listing': field 'options.categoriez':")


def test_duplicate_ids(tmp_path: Path) -> None:
    text = "sources:\n  - {id: a, kind: feed, url: 'https://e.org/1'}\n  - {id: a, kind: feed, url: 'https://e.org/2'}\n"
    err = error_of(write(tmp_path, text))
    assert str(err) == "sources.yaml: source 'a': field 'id': duplicate id"
    assert (err.source_id, err.field) == ("a", "id")


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
    assert str(info.value).startswith("environment variable DLTHEORY_TIMEZONE: unknown time zone")
    assert "unknown time zone 'Mars/Olympus'" in str(info.value)


def test_default_store_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.resolved_store_url == f"sqlite:///{(tmp_path / 'd' / 'dltheory.sqlite').as_posix()}"


# --- the settings file ------------------------------------------------------------------------


def settings_error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    return str(info.value)


def test_malformed_settings_file_is_one_line_with_its_line_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text("timezone: [UTC\n", encoding="utf-8")
    message = settings_error()
    assert message.startswith("dltheory.yaml: not valid YAML (line 1): ")
    assert "\n" not in message


def test_settings_file_must_be_a_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = tmp_path / "listed.yaml"
    listed.write_text("- timezone\n- UTC\n", encoding="utf-8")
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(listed))
    assert settings_error() == "listed.yaml: expected a mapping of settings (name: value), got a list"
    listed.write_text("", encoding="utf-8")  # an empty file is no settings at all
    assert load_settings().timezone == "UTC"


def test_a_named_settings_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().timezone == "UTC"  # no dltheory.yaml here: the defaults
    missing = tmp_path / "nosuch.yaml"
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(missing))
    message = settings_error()
    assert message.startswith(f"{missing}: settings file not found")
    assert "DLTHEORY_SETTINGS_FILE" in message


def test_setting_messages_have_no_pydantic_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    assert settings_error() == "dltheory.yaml: field 'timezone': unknown time zone 'Mars/Olympus'"
    err = error_of(write(tmp_path, "sources:\n  - id: Blog\n    kind: feed\n"))
    assert "Value error" not in str(err) and str(err).startswith(
        "sources.yaml: source 'Blog': field 'id': use"
    )


def test_a_bad_reader_is_named_by_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(
        "readers:\n  - {email: ada@example.org, language: fr}\n", encoding="utf-8"
    )
    assert settings_error().startswith("dltheory.yaml: reader 'ada@example.org': field 'language':")


def test_a_reader_follows_authors_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(
        "readers:\n"
        "  - email: ada@example.org\n"
        "    authors: [Sanjeev Arora, 'Chizat, Lénaïc', J.-C. Mourrat, Rodrigo Ferreira da Silva]\n",
        encoding="utf-8",
    )
    (reader,) = load_settings().readers
    assert reader.authors == ("Sanjeev Arora", "Chizat, Lénaïc", "J.-C. Mourrat", "Rodrigo Ferreira da Silva")
    assert Reader(email="b@example.org").authors == ()
    monkeypatch.setenv("DLTHEORY_READERS", '[{"email": "k@example.org", "authors": ["Song Mei"]}]')
    assert [r.authors for r in load_settings().readers] == [("Song Mei",)]


@pytest.mark.parametrize(
    ("authors", "problem"),
    [
        ("Sanjeev Arora", "expected a list, e.g. [Sanjeev Arora]"),  # a name, not a list of names
        ("['Arora, Sanjeev, Hu, Wei']", "one name per entry: 'Arora, Sanjeev, Hu, Wei' looks like several"),
        ("['Arora und Hu']", "one name per entry: 'Arora und Hu' looks like several"),
        ("['Arora & Hu']", "one name per entry: 'Arora & Hu' looks like several"),
        ("['王伟、李娜']", "one name per entry: '王伟、李娜' looks like several"),
        ("['Arora and Hu']", "one name per entry: 'Arora and Hu' looks like several"),
        ("['Arora, S.; Hu, W.']", "one name per entry: 'Arora, S.; Hu, W.' looks like several"),
        ("['et al.']", "not a person's name: 'et al.'"),
        ("['']", "not a person's name: ''"),
        ("['https://arxiv.org/a/arora_s_1']", "not a person's name: 'https://arxiv.org/a/arora_s_1'"),
        ("['arora@cs.princeton.edu']", "not a person's name: 'arora@cs.princeton.edu'"),
    ],
)
def test_a_bad_followed_author_names_the_file_the_reader_and_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, authors: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(
        f"readers:\n  - {{email: ada@example.org, authors: {authors}}}\n", encoding="utf-8"
    )
    assert settings_error().startswith(f"dltheory.yaml: reader 'ada@example.org': field 'authors': {problem}")


def test_names_in_the_orders_bibliographies_write_them_are_one_person_each() -> None:
    names = ("Arora, Sanjeev", "Ferreira da Silva, Rodrigo", "van der Vaart, A. W.", "Ben Arous, Gérard")
    assert Reader(email="a@example.org", authors=names).authors == names


def test_two_family_names_before_the_comma_are_one_person() -> None:
    # Spanish and Portuguese family names come in two parts, as do many given names
    names = (
        "García Márquez, Gabriel José",
        "Ferreira da Silva, Rodrigo",
        "Lopez Paz, David",
        "Le Cun, Yann",
        "Smith, J., Jr.",  # a suffix after a second comma
    )
    assert Reader(email="a@example.org", authors=names).authors == names


def test_one_comma_between_two_full_names_is_read_as_one_name() -> None:
    """Family Family, Given Given and Given Family, Given Family cannot be told apart from
    the words alone ("García Márquez, Gabriel José" / "Sanjeev Arora, Wei Hu"): the entry is
    accepted as "Family, Given" and matching decides; it follows no "Sanjeev Arora"."""
    from dltheory_digest.identity.normalize import person_name

    assert Reader(email="a@example.org", authors=("Sanjeev Arora, Wei Hu",)).authors == (
        "Sanjeev Arora, Wei Hu",
    )
    read = person_name("Sanjeev Arora, Wei Hu")
    assert read is not None and read.family == "arora" and read.given[0] == "wei"


def test_reader_directions_must_be_in_the_taxonomy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dltheory_digest.directions import load_taxonomy

    monkeypatch.chdir(tmp_path)
    settings_file = tmp_path / "dltheory.yaml"
    settings_file.write_text(
        "readers:\n"
        "  - {email: ada@example.org, include_directions: [implicit_bias, other]}\n"
        "  - {email: lin@example.org, exclude_directions: [surveys, implicit-bias]}\n",
        encoding="utf-8",
    )
    message = settings_error()
    assert message.startswith(
        "dltheory.yaml: reader 'lin@example.org': field 'exclude_directions': "
        "unknown direction id(s) 'implicit-bias' (known: "
    )
    for known in (*load_taxonomy().ids, "other"):
        assert known in message
    settings_file.write_text(
        "readers:\n  - {email: ada@example.org, include_directions: [implicit_bias, other]}\n",
        encoding="utf-8",
    )
    assert load_settings().readers[0].include_directions == ("implicit_bias", "other")


def test_reader_directions_follow_the_configured_taxonomy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fixtures_dir: Path
) -> None:
    monkeypatch.setenv("DLTHEORY_TAXONOMY_FILE", str(fixtures_dir / "mail" / "taxonomy.yaml"))
    monkeypatch.setenv("DLTHEORY_READERS", '[{"email": "k@example.org", "include_directions": ["kernels"]}]')
    assert load_settings().readers[0].include_directions == ("kernels",)
    monkeypatch.delenv("DLTHEORY_TAXONOMY_FILE")  # the shipped taxonomy has no "kernels"
    assert settings_error().startswith(
        "environment variable DLTHEORY_READERS: reader 'k@example.org': field 'include_directions': "
        "unknown direction id(s) 'kernels'"
    )


def test_smtp_block_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text("smtp_block: digest-smtp\n", encoding="utf-8")
    assert load_settings().smtp_block == "digest-smtp"
    monkeypatch.setenv("DLTHEORY_SMTP_BLOCK", "from-env")
    assert load_settings().smtp_block == "from-env"


# --- sources.yaml -----------------------------------------------------------------------------


def test_malformed_sources_file_is_one_line(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "sources:\n  - {id: a, kind: feed\n"))
    assert str(err).startswith("sources.yaml: not valid YAML (line 2): ")
    assert "\n" not in str(err)


def test_source_language_is_an_iso_code_or_mixed(tmp_path: Path) -> None:
    def spec(lang: str) -> str:
        return f"sources:\n  - {{id: blog, kind: feed, url: 'https://e.org/f', lang: {lang}}}\n"

    err = error_of(write(tmp_path, spec("klingon")))
    assert str(err) == (
        "sources.yaml: source 'blog': field 'lang': "
        "expected an ISO 639-1 code (en, zh, ar ...) or 'mixed', got 'klingon'"
    )
    assert [s.lang for s in load_sources(write(tmp_path, spec("zh")))] == ["zh"]
    assert [s.lang for s in load_sources(write(tmp_path, spec("mixed")))] == ["mixed"]


def test_arxiv_categories_must_exist(tmp_path: Path) -> None:
    def listing(categories: str) -> Path:
        return write(
            tmp_path,
            f"sources:\n  - {{id: listing, kind: arxiv_rss, options: {{categories: {categories}}}}}\n",
        )

    err = error_of(listing("[cs.LG, cs.XX]"))
    assert str(err).startswith(
        "sources.yaml: source 'listing': field 'options.categories': not an arXiv category: 'cs.XX'"
    )
    assert (err.source_id, err.field) == ("listing", "options.categories")
    assert "cs.LG" in str(error_of(listing("[cs.lg]")))  # the hint names the real spelling
    good = "[cs.LG, stat.ML, math.OC, cond-mat.dis-nn, physics.data-an, hep-th, math]"
    assert load_sources(listing(good))[0].options["categories"][3] == "cond-mat.dis-nn"


def test_check_arxiv_category() -> None:
    from dltheory_digest.config import check_arxiv_category

    for real in ("cs.LG", "stat.ML", "math.OC", "cond-mat.dis-nn", "physics.data-an", "quant-ph", "cs"):
        assert check_arxiv_category(real) == real
    for made_up in ("cs.XX", "klingon.LG", "hep-th.XX", "cs.", ""):
        with pytest.raises(ValueError, match="not an arXiv category"):
            check_arxiv_category(made_up)


def test_empty_sources_list_is_valid(tmp_path: Path) -> None:
    assert load_sources(write(tmp_path, "sources: []\n")) == ()


# --- library wording, and values refused at load -------------------------------------------------


def test_messages_use_configuration_words_not_pydantic_ones(tmp_path: Path) -> None:
    err = error_of(
        write(tmp_path, "sources:\n  - {id: listing, kind: arxiv_rss, options: {categories: cs.LG}}\n")
    )
    assert (
        str(err)
        == "sources.yaml: source 'listing': field 'options.categories': expected a list, e.g. [cs.LG]"
    )
    err = error_of(
        write(tmp_path, "sources:\n  - {id: listing, kind: arxiv_rss, options: {categoriez: [cs.LG]}}\n")
    )
    assert "unknown field (known: " in str(err) and "categories" in str(err)
    err = error_of(write(tmp_path, "sources:\n  - just-a-string\n"))
    assert str(err) == "sources.yaml: source #1: expected a mapping like {id: …, kind: …, url: …}"


def test_reader_messages_use_configuration_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings_file = tmp_path / "dltheory.yaml"
    settings_file.write_text("readers:\n  - {email: ada@example.org, keywords: ntk}\n", encoding="utf-8")
    assert (
        settings_error()
        == "dltheory.yaml: reader 'ada@example.org': field 'keywords': expected a list, e.g. [ntk]"
    )
    settings_file.write_text("readers:\n  - ada@example.org\n", encoding="utf-8")
    assert settings_error() == "dltheory.yaml: reader #1: expected a mapping like {email: …}"
    settings_file.write_text("readers:\n  - {email: ada@example.org, langauge: zh}\n", encoding="utf-8")
    message = settings_error()
    assert message.startswith(
        "dltheory.yaml: reader 'ada@example.org': field 'langauge': unknown field (known: "
    )
    assert "language" in message and "min_relevance" in message
    settings_file.write_text("smtp_hots: mail.example.org\n", encoding="utf-8")
    message = settings_error()
    assert (
        message.startswith("dltheory.yaml: field 'smtp_hots': unknown field (known: ")
        and "smtp_host" in message
    )


def test_environment_value_that_is_not_json_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLTHEORY_READERS", "not json")
    message = settings_error()
    assert message.startswith("environment variable DLTHEORY_READERS: not valid JSON")
    assert "\n" not in message
    monkeypatch.setenv("DLTHEORY_READERS", '[{"email": "k@example.org", "min_relevance": 2}]')
    assert (
        settings_error()
        == "environment variable DLTHEORY_READERS: reader 'k@example.org': field 'min_relevance': "
        "must be at most 1.0, got 2"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "SCHEDULE_CRON",
            "0 7 * *",
            "not a cron expression Prefect accepts: '0 7 * *'",
        ),
        ("SCHEDULE_CRON", "H 7 * * 1", "not a cron expression Prefect accepts"),
        ("STORE_URL", "mysql://x/y", "unsupported database mysql://"),
        ("STORE_URL", "postgresql://u@h/db", "write postgresql+psycopg://"),
        ("STORE_URL", "not a url", "not a database URL"),
        ("RELEVANCE_THRESHOLD", "1.5", "must be at most 1.0, got 1.5"),
        ("RELEVANCE_THRESHOLD", "-0.1", "must be at least 0.0"),
        (
            "LIST_UNSUBSCRIBE",
            "http://e.org/u",
            "expected a mailto: or https: address",
        ),
        ("MAIL_FROM", "nobody", "not an email address: 'nobody'"),
        ("SMTP_PORT", "70000", "must be at most 65535"),
        ("SMTP_PORT", "0", "must be at least 1"),
        ("CROSSREF_API_BASE", "api.crossref.org/works", "'api.crossref.org/works' is not an http(s) URL"),
    ],
)
def test_bad_values_are_refused_at_load(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"DLTHEORY_{variable}", value)
    assert settings_error().startswith(f"environment variable DLTHEORY_{variable}: {message}")


@pytest.mark.parametrize(
    "written",
    [
        '"mailto:leave@example.org\\r\\nBcc: x@example.org"',
        "mailto:leave@example.org?subject=un subscribe",
        "<https://example.org/u ?a=1>, <mailto:leave@example.org>",
    ],
)
def test_an_unsubscribe_header_that_could_not_be_sent_is_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    # else every message of the run fails at send time, after the week's fetch
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(f"list_unsubscribe: {written}\n", encoding="utf-8")
    assert settings_error().startswith(
        "dltheory.yaml: field 'list_unsubscribe': a space or line break cannot go inside an address "
        "(write a space as %20)"
    )


def test_unsubscribe_addresses_written_over_lines_are_one_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a YAML `>` block ends in a line break, and a long list may break after its commas: the
    # release before this check mailed these, so they must still load
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(
        "list_unsubscribe: >\n  <mailto:leave@example.org>,\n  <https://example.org/leave?who={email}>\n",
        encoding="utf-8",
    )
    assert load_settings().list_unsubscribe == (
        "<mailto:leave@example.org>, <https://example.org/leave?who={email}>"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SCHEDULE_CRON", "30 6 * * 1-5"),
        ("STORE_URL", "sqlite:///x/dltheory.sqlite"),
        ("STORE_URL", "postgresql+psycopg://digest:secret@127.0.0.1:5432/dltheory"),
        ("RELEVANCE_THRESHOLD", "1.0"),
        ("LIST_UNSUBSCRIBE", "<mailto:leave@example.org>, <https://example.org/leave>"),
        (
            "LIST_UNSUBSCRIBE",
            "mailto:leave@example.org?subject=stop%20{email}, https://example.org/u?who={email}",
        ),
        ("MAIL_FROM", "DL Theory <digest@example.org>"),
        ("MAIL_FROM", "digest@example.org"),
        ("SMTP_PORT", "587"),
        ("CROSSREF_API_BASE", "http://127.0.0.1:8080/works"),
    ],
)
def test_good_values_load(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(f"DLTHEORY_{variable}", value)
    assert str(getattr(load_settings(), variable.lower())) == value


@pytest.mark.parametrize("field", ["output_dir", "data_dir"])
def test_a_directory_setting_that_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    variable = f"DLTHEORY_{field.upper()}"
    monkeypatch.setenv(variable, str(a_file))
    assert settings_error() == f"environment variable {variable}: {a_file} is a file, not a directory"
    monkeypatch.setenv(f"DLTHEORY_{field.upper()}", str(a_file / "below"))  # under a file: the same
    assert settings_error() == f"environment variable {variable}: {a_file} is a file, not a directory"
    monkeypatch.setenv(f"DLTHEORY_{field.upper()}", str(tmp_path / "not-yet" / "made"))
    assert getattr(load_settings(), field) == tmp_path / "not-yet" / "made"


# --- where a bad value came from, in the operator's words -------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DLTHEORY_SMTP_PORT", "abc", "expected a whole number, got 'abc'"),
        ("dltheory_smtp_port", "abc", "expected a whole number, got 'abc'"),  # read in any case
        ("DLTHEORY_RELEVANCE_THRESHOLD", "high", "expected a number, got 'high'"),
        ("DLTHEORY_TASK_RUNNER", "process", "expected 'thread' or 'dask', got 'process'"),
        ("DLTHEORY_MAX_CONCURRENCY", "0", "must be at least 1, got 0"),
        ("DLTHEORY_TIMEZONE", "Berlin", "unknown time zone 'Berlin' (did you mean Europe/Berlin?)"),
    ],
)
def test_a_bad_environment_variable_is_named_as_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text("smtp_host: mail.example.org\n", encoding="utf-8")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == f"environment variable {variable}: {message}"
    assert info.value.path == "environment"


def test_a_bad_value_in_the_file_names_file_and_field_when_the_environment_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text("smtp_port: abc\n", encoding="utf-8")
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "mail.example.org")  # another variable: not blamed
    assert settings_error() == "dltheory.yaml: field 'smtp_port': expected a whole number, got 'abc'"
    monkeypatch.setenv("DLTHEORY_SMTP_PORT", "587")  # the environment wins over the file
    assert load_settings().smtp_port == 587


def test_wrong_types_are_named_in_plain_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feed = "sources:\n  - id: blog\n    kind: feed\n    url: https://e.org/f\n"
    assert str(error_of(write(tmp_path, feed + "    enabled: maybe\n"))) == (
        "sources.yaml: source 'blog': field 'enabled': expected true or false, got 'maybe'"
    )
    assert str(error_of(write(tmp_path, feed + "    options: {max_entries: lots}\n"))) == (
        "sources.yaml: source 'blog': field 'options.max_entries': expected a whole number, got 'lots'"
    )
    assert str(error_of(write(tmp_path, "sources:\n  - id: blog\n    kind: feed\n    url: 42\n"))) == (
        "sources.yaml: source 'blog': field 'url': expected text, got 42"
    )
    monkeypatch.chdir(tmp_path)
    settings_file = tmp_path / "dltheory.yaml"
    settings_file.write_text("readers:\n  - {email: ada@example.org, language: fr}\n", encoding="utf-8")
    assert settings_error() == (
        "dltheory.yaml: reader 'ada@example.org': field 'language': expected 'en', 'zh' or 'ar', got 'fr'"
    )
    settings_file.write_text("smtp_password: [hunter2]\n", encoding="utf-8")
    message = settings_error()
    assert message == "dltheory.yaml: field 'smtp_password': expected text, got (hidden)"


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "sources:\n  - id: blog\n    kind: feed\n    url: https://e.org/a\n    url: https://e.org/b\n"
    err = error_of(write(tmp_path, text))
    assert str(err) == "sources.yaml: not valid YAML (line 5): 'url' is given twice (first on line 4)"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(
        "smtp_host: a.org\ntimezone: UTC\nsmtp_host: b.org\n", encoding="utf-8"
    )
    assert (
        settings_error()
        == "dltheory.yaml: not valid YAML (line 3): 'smtp_host' is given twice (first on line 1)"
    )
    # the same key in two entries is no repetition
    two = "sources:\n  - {id: a, kind: feed, url: 'https://e.org/a'}\n  - {id: b, kind: feed, url: 'https://e.org/b'}\n"
    assert [s.id for s in load_sources(write(tmp_path, two))] == ["a", "b"]


def test_merge_keys_are_no_repetition_and_a_key_twice_on_one_line_is(tmp_path: Path) -> None:
    shared = (
        "sources:\n"
        "  - id: a\n    kind: feed\n    url: https://e.org/a\n    politeness: &polite {min_interval: 5.0}\n"
        "  - id: b\n    kind: feed\n    url: https://e.org/b\n    politeness:\n      <<: *polite\n"
        "      min_interval: 2.0\n"
        "  - id: c\n    kind: feed\n    url: https://e.org/c\n    politeness:\n      <<: *polite\n"
    )
    specs = load_sources(write(tmp_path, shared))
    assert [(s.id, s.politeness.min_interval) for s in specs] == [("a", 5.0), ("b", 2.0), ("c", 5.0)]
    one_line = "sources:\n  - {id: a, kind: feed, url: 'https://e.org/a', url: 'https://e.org/b'}\n"
    assert str(error_of(write(tmp_path, one_line))) == (
        "sources.yaml: not valid YAML (line 2): 'url' is given twice (first on line 2)"
    )


def test_an_empty_sources_file_says_so(tmp_path: Path) -> None:
    for text in ("", "# every source removed\n"):
        assert str(error_of(write(tmp_path, text))) == (
            "sources.yaml: the file is empty: expected 'sources:' and a list of sources"
        )


def test_a_reader_listed_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(
        "readers:\n  - {email: ada@example.org}\n  - {email: Ada@Example.org, language: zh}\n",
        encoding="utf-8",
    )
    assert settings_error() == (
        "dltheory.yaml: field 'readers': 'Ada@Example.org' is listed twice: give each reader one entry"
    )


def test_a_missing_taxonomy_file_is_named_as_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLTHEORY_TAXONOMY_FILE", str(tmp_path / "mine.yaml"))
    monkeypatch.setenv("DLTHEORY_READERS", '[{"email": "k@example.org", "include_directions": ["x"]}]')
    assert settings_error() == (
        f"environment variable DLTHEORY_TAXONOMY_FILE: {tmp_path / 'mine.yaml'}: file not found"
    )


def test_a_missing_sources_file_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert str(error_of(Path("sources.yaml"))) == (
        f"sources.yaml: file not found (in {tmp_path}: run from the directory that holds it, "
        "or set sources_file)"
    )
    assert str(error_of(tmp_path / "elsewhere.yaml")) == f"{tmp_path / 'elsewhere.yaml'}: file not found"


def test_a_misspelled_variable_is_found_and_others_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from dltheory_digest.config import misspelled_environment_variables

    monkeypatch.setenv("DLTHEORY_SMTP_HOTS", "mail.example.org")
    monkeypatch.setenv("dltheory_reader", '[{"email": "ada@example.org"}]')
    monkeypatch.setenv("DLTHEORY_HOME", "/srv/digest")  # near no setting: perhaps another tool's
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "mail.example.org")  # a setting: fine
    assert misspelled_environment_variables() == [
        ("DLTHEORY_SMTP_HOTS", "DLTHEORY_SMTP_HOST"),
        ("dltheory_reader", "DLTHEORY_READERS"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (  # a key indented one space short: the line of the mistake, not of the list it broke
            "sources:\n  - id: a\n    kind: feed\n   url: https://e.org/f\n",
            "(line 4): the indentation does not line up with the lines above, in the list that starts on line 2",
        ),
        (
            "sources:\n  - id: a\n    kind: feed\n    name: Notes: week 47\n",
            "(line 4): unexpected ':' (indented too far, or a value with ': ' in it needs quotes)",
        ),
        (  # an unclosed quote runs to the end of the file: where it opened is what to fix
            "sources:\n  - id: a\n    name: 'Bach\n    kind: feed\n  - id: b\n",
            "(line 3): the quoted text opened here is never closed",
        ),
        (
            "sources:\n\t- id: a\n",
            "(line 2): a tab or a character YAML does not allow here (indent with spaces)",
        ),
        (  # YAML reads it as a date, then cannot make one: no bare ValueError traceback
            "sources:\n  - id: a\n    kind: arxiv_api\n    options:\n      since: 2024-02-31\n",
            "(line 5): '2024-02-31' is not a real date (day is out of range for month)",
        ),
    ],
)
def test_yaml_mistakes_point_at_their_line(tmp_path: Path, text: str, message: str) -> None:
    assert str(error_of(write(tmp_path, text))) == f"sources.yaml: not valid YAML {message}"


@pytest.mark.parametrize(
    "address", ["ada@example.org", "a.b+digest@mail.example.co.uk", "ops@localhost", "ops@[127.0.0.1]"]
)
def test_reader_addresses_that_are_accepted(address: str) -> None:
    assert Settings(readers=({"email": address},)).readers[0].email == address  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "hint"),
    [
        ("ada@example.org,", ""),  # a comma left over from a list
        ("ada@example..org", ""),
        ("ada@example.org.", ""),
        ("<ada@example.org>", " (write the address alone: a name goes in 'name')"),
        ("Ada Lovelace <ada@example.org>", " (write the address alone: a name goes in 'name')"),
    ],
)
def test_reader_addresses_that_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, address: str, hint: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(f"readers:\n  - email: '{address}'\n", encoding="utf-8")
    assert settings_error() == (
        f"dltheory.yaml: reader {address!r}: field 'email': not an email address: {address!r}{hint}"
    )


def test_empty_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings_file = tmp_path / "dltheory.yaml"
    settings_file.write_text("readers:\n  # - email: ada@example.org   (paused)\n", encoding="utf-8")
    assert load_settings().readers == ()
    settings_file.write_text("timezone:\n", encoding="utf-8")
    assert (
        settings_error() == "dltheory.yaml: field 'timezone': expected text, got nothing (the value is empty)"
    )
    err = error_of(write(tmp_path, "sources:\n  - id: blog\n    kind:\n    url: https://e.org/f\n"))
    assert (
        str(err)
        == "sources.yaml: source 'blog': field 'kind': expected text, got nothing (the value is empty)"
    )


def test_relative_paths_in_a_settings_file_are_read_from_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a cron job runs from $HOME; the file it names keeps its paths beside it
    config_dir = tmp_path / "etc" / "dltheory"
    config_dir.mkdir(parents=True)
    (config_dir / "dltheory.yaml").write_text(
        "sources_file: my-sources.yaml\ndata_dir: state\noutput_dir: ../digests\n"
        f"glossary_file: {tmp_path / 'abs' / 'glossary.yaml'}\n",
        encoding="utf-8",
    )
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(config_dir / "dltheory.yaml"))
    for name in ("DLTHEORY_DATA_DIR", "DLTHEORY_OUTPUT_DIR", "DLTHEORY_SOURCES_FILE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.sources_file == config_dir / "my-sources.yaml"
    assert settings.data_dir == config_dir / "state"
    assert settings.output_dir == config_dir / "../digests"
    assert settings.glossary_file == tmp_path / "abs" / "glossary.yaml"
    # the environment is read from the working directory, as a shell would
    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", "here")
    assert load_settings().output_dir == Path("here")


def test_a_relative_sqlite_store_in_a_settings_file_is_read_from_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a cron job starting in $HOME must open the same store, not make a second, empty one
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    settings_file = config_dir / "dltheory.yaml"
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(settings_file))
    monkeypatch.delenv("DLTHEORY_STORE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings_file.write_text("store_url: sqlite:///state/digest.sqlite\n", encoding="utf-8")
    assert load_settings().resolved_store_url == f"sqlite:///{config_dir / 'state' / 'digest.sqlite'}"
    for kept in (
        f"sqlite:///{tmp_path / 'abs.sqlite'}",
        "sqlite:///:memory:",
        "postgresql+psycopg://digest:secret@127.0.0.1:5432/dltheory",
    ):
        settings_file.write_text(f"store_url: '{kept}'\n", encoding="utf-8")
        assert load_settings().resolved_store_url == kept
    # the environment is read from the working directory, as a shell would
    monkeypatch.setenv("DLTHEORY_STORE_URL", "sqlite:///here.sqlite")
    assert load_settings().resolved_store_url == "sqlite:///here.sqlite"


def test_a_home_relative_path_in_a_settings_file_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "dltheory.yaml").write_text("data_dir: ~/dltheory-state\n", encoding="utf-8")
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(tmp_path / "dltheory.yaml"))
    monkeypatch.delenv("DLTHEORY_DATA_DIR", raising=False)
    assert load_settings().data_dir == tmp_path / "dltheory-state"


def test_crossref_is_asked_by_default_and_an_empty_base_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().crossref_api_base == "https://api.crossref.org/works"
    (tmp_path / "dltheory.yaml").write_text('crossref_api_base: ""\n', encoding="utf-8")
    assert load_settings().crossref_api_base == ""


def test_oai_dc_with_categories_is_refused_since_its_records_carry_none(tmp_path: Path) -> None:
    entry = "sources:\n  - {{id: oai, kind: arxiv_oai, options: {{metadata_prefix: {prefix}, categories: [cs.LG]}}}}\n"
    err = error_of(write(tmp_path, entry.format(prefix="oai_dc")))
    assert str(err).startswith(
        "sources.yaml: source 'oai': field 'options.categories': oai_dc records carry no arXiv categories"
    )
    assert (err.source_id, err.field) == ("oai", "options.categories")
    assert "metadata_prefix arXiv or arXivRaw" in str(err)
    # the formats that carry categories filter by them; oai_dc alone (no filter) is fine
    for prefix in ("arXiv", "arXivRaw"):
        (loaded,) = load_sources(write(tmp_path, entry.format(prefix=prefix)))
        assert loaded.options["categories"] == ["cs.LG"]
    alone = "sources:\n  - {id: oai, kind: arxiv_oai, options: {metadata_prefix: oai_dc, set: cs}}\n"
    assert load_sources(write(tmp_path, alone))[0].options["metadata_prefix"] == "oai_dc"


@pytest.mark.parametrize(
    ("written", "meant"),
    [("Europe/Berln", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("Berlin", "Europe/Berlin")],
)
def test_an_unknown_time_zone_suggests_the_one_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, meant: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dltheory.yaml").write_text(f"timezone: {written}\n", encoding="utf-8")
    assert settings_error() == (
        f"dltheory.yaml: field 'timezone': unknown time zone {written!r} (did you mean {meant}?)"
    )


def test_a_space_in_a_source_url_is_sent_as_the_browser_sends_it(tmp_path: Path) -> None:
    # a file named "reading list.html" was fetched before this check existed (httpx sends %20):
    # refusing it would stop an operator's working configuration at the upgrade
    [spec] = load_sources(
        write(
            tmp_path, "sources:\n  - {id: blog, kind: feed, url: 'http://127.0.0.1:8765/reading list.xml'}\n"
        )
    )
    assert spec.url == "http://127.0.0.1:8765/reading%20list.xml"
    [spec] = load_sources(
        write(tmp_path, "sources:\n  - {id: blog, kind: feed, urls: ['http://e.org/a b?q=c d']}\n")
    )
    assert spec.urls == ("http://e.org/a%20b?q=c%20d",)
    # spaces around it are no part of it; a tab or line break inside is no URL
    [spec] = load_sources(
        write(tmp_path, "sources:\n  - {id: blog, kind: feed, url: 'http://e.org/feed.xml  '}\n")
    )
    assert spec.url == "http://e.org/feed.xml"
    err = error_of(write(tmp_path, 'sources:\n  - {id: blog, kind: feed, url: "http://e.org/a\\tb"}\n'))
    assert "not an http(s) URL" in str(err)
    # a space in the site's name is no URL at all
    err = error_of(write(tmp_path, "sources:\n  - {id: blog, kind: feed, url: 'http://e xample.org/feed'}\n"))
    assert (err.source_id, err.field) == ("blog", "url") and "not an http(s) URL" in str(err)


def test_a_missing_sources_file_named_in_the_settings_file_says_to_correct_it_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLTHEORY_SOURCES_FILE", raising=False)
    (tmp_path / "dltheory.yaml").write_text("sources_file: my-sources.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(load_settings().sources_file)
    assert str(info.value) == (
        f"my-sources.yaml: file not found (in {tmp_path}: sources_file in dltheory.yaml is read from "
        "that file's directory: correct it there)"
    )
