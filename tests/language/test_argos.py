"""Installing Argos packages: what an index may send the download to, what an archive may unpack to."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from dltheory_digest.fetch import LocalLimiter, PoliteClient
from dltheory_digest.language import argos
from dltheory_digest.language.argos import ModelInstallError, install_from_file, installed_packages


def _client(seen: list[str], index: list[dict[str, Any]]) -> PoliteClient:
    """A client whose server answers the index at any address and records the host of every request."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.path == "/index.json":
            return httpx.Response(200, json=index)
        if request.url.path.endswith(".argosmodel"):
            return httpx.Response(200, content=b"PK")
        return httpx.Response(404)

    return PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=LocalLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )


@pytest.mark.parametrize(
    "link", ["http://127.0.0.1:9/latest/meta-data/", "http://169.254.169.254/m.argosmodel"]
)
def test_an_index_on_a_public_host_cannot_send_the_download_to_an_internal_address(
    tmp_path: Path, link: str
) -> None:
    index = [{"from_code": "zh", "to_code": "en", "package_version": "1.9", "links": [link]}]
    seen: list[str] = []
    with _client(seen, index) as client:
        entry = argos.choose(argos.fetch_index(client, "http://93.184.216.34/index.json"), "zh", "en")
        assert entry is not None
        with pytest.raises(
            ModelInstallError, match=r"linked from http://93\.184\.216\.34/index\.json to .*refused"
        ):
            argos.download(client, entry, tmp_path / "dl")
    assert set(seen) == {"93.184.216.34"}  # its robots.txt and the index: no request to the link
    assert not list((tmp_path / "dl").glob("*"))


def test_an_index_on_this_machine_may_link_to_this_machine(tmp_path: Path) -> None:
    """The tests' and a mirror's own index on 127.0.0.1: the operator chose that address."""
    index = [{"from_code": "zh", "to_code": "en", "links": ["http://127.0.0.1:9/zh_en.argosmodel"]}]
    seen: list[str] = []
    with _client(seen, index) as client:
        entry = argos.choose(argos.fetch_index(client, "http://127.0.0.1:8/index.json"), "zh", "en")
        assert entry is not None
        path = argos.download(client, entry, tmp_path / "dl")
    assert path.read_bytes() == b"PK"


def _archive(
    path: Path,
    files: dict[str, bytes],
    *,
    meta: dict[str, str] | None = None,
    top: str = "translate-zh_en-1_9",
) -> Path:
    """An .argosmodel: `files` as given, or a minimal loadable package in folder `top`."""
    if not files:
        metadata = {
            "type": "translate",
            "from_code": "zh",
            "to_code": "en",
            "package_version": "1.9",
            **(meta or {}),
        }
        files = {
            f"{top}/metadata.json": json.dumps(metadata).encode(),
            f"{top}/model/model.bin": b"weights",
            f"{top}/sentencepiece.model": b"tokens",
        }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return path


def test_an_archive_unpacking_to_far_more_than_its_size_is_refused_before_extracting(tmp_path: Path) -> None:
    top = "translate-zh_en-1_9"
    bomb = _archive(
        tmp_path / "bomb.argosmodel",
        {f"{top}/metadata.json": b"{}", f"{top}/model/model.bin": bytes(8_000_000)},
    )
    assert bomb.stat().st_size < 100_000  # 8 MB of zeros: about 1000 to 1
    with pytest.raises(ModelInstallError, match=r"unpack to 8,000,002 bytes, more than"):
        install_from_file(bomb, tmp_path / "pk")
    assert not (tmp_path / "pk" / top).exists()


def test_an_archive_beyond_the_absolute_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ratio alone would let a 2 GB download unpack to 100 GB."""
    archive = _archive(tmp_path / "big.argosmodel", {}, top="t")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("t/model/extra.bin", os.urandom(4000))  # incompressible: ratio about 1
    monkeypatch.setattr(argos, "MAX_UNPACKED_BYTES", 3000)
    with pytest.raises(ModelInstallError, match=r"more than 3,000"):
        install_from_file(archive, tmp_path / "pk")


@pytest.mark.parametrize(
    ("names", "said"),
    [
        (["../metadata.json", "../model/model.bin"], "'../metadata.json' points outside"),
        (["pkg/../../escaped.txt", "pkg/metadata.json"], "'pkg/../../escaped.txt' points outside"),
        (["/etc/metadata.json"], "'/etc/metadata.json' points outside"),
        (["./metadata.json", "./model/model.bin"], "folder is named '.'"),
        ([".hidden/metadata.json", ".hidden/model/model.bin"], "folder is named '.hidden'"),
    ],
)
def test_an_archive_whose_folder_is_not_a_folder_of_its_own_is_refused_before_extracting(
    tmp_path: Path, names: list[str], said: str
) -> None:
    """CPython's extractall drops ".." and "/": such entries would land in the packages dir itself."""
    archive = _archive(tmp_path / "bad.argosmodel", dict.fromkeys(names, b"{}"))
    packages = tmp_path / "pk"
    with pytest.raises(ModelInstallError, match=said):
        install_from_file(archive, packages)
    assert not packages.exists() or not list(packages.rglob("*.json"))


def test_an_archive_never_merges_into_the_folder_of_another_languages_package(tmp_path: Path) -> None:
    packages = tmp_path / "pk"
    install_from_file(_archive(tmp_path / "zh.argosmodel", {}), packages)
    impostor = _archive(tmp_path / "ar.argosmodel", {}, meta={"from_code": "ar"})  # same folder name
    with pytest.raises(ModelInstallError, match=r"already holds the zh→en package, not ar→en: refused"):
        install_from_file(impostor, packages)
    [kept] = installed_packages(packages)
    assert (kept.from_code, kept.to_code, kept.version) == ("zh", "en", "1.9")


def test_a_package_of_the_same_pair_is_replaced_whole(tmp_path: Path) -> None:
    packages = tmp_path / "pk"
    install_from_file(_archive(tmp_path / "old.argosmodel", {}), packages)
    folder = packages / "translate-zh_en-1_9"
    (folder / "stanza").mkdir()
    (folder / "stanza" / "old-only.pt").write_bytes(b"old")
    info = install_from_file(
        _archive(tmp_path / "new.argosmodel", {}, meta={"package_version": "1.9.1"}), packages
    )
    assert (info.path, info.version) == (folder, "1.9.1")
    assert not (folder / "stanza").exists()  # nothing of the old package mixed in
    assert [p.name for p in packages.iterdir()] == [folder.name]  # the staging dir is gone


def test_a_package_whose_move_into_place_fails_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old package is moved aside before the new one is moved in: it is moved back."""
    packages = tmp_path / "pk"
    install_from_file(_archive(tmp_path / "old.argosmodel", {}), packages)
    folder = packages / "translate-zh_en-1_9"
    rename = Path.rename

    def failing_into_place(self: Path, target: Any) -> Path:
        if Path(target) == folder and self.name == folder.name:  # the new package, from staging
            raise OSError(28, "No space left on device")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_into_place)
    new = _archive(tmp_path / "new.argosmodel", {}, meta={"package_version": "1.9.1"})
    with pytest.raises(
        ModelInstallError,
        match=r"could not move .*\(No space left on device\): the installed package was kept as it was",
    ):
        install_from_file(new, packages)
    [kept] = installed_packages(packages)
    assert (kept.path, kept.version, kept.problem) == (folder, "1.9", None)
    assert [p.name for p in packages.iterdir()] == [folder.name]  # nothing left beside it


def test_what_an_install_killed_midway_left_is_removed_by_the_next_after_an_hour(tmp_path: Path) -> None:
    """A staging folder younger than that may be another install at work."""
    import time

    packages = tmp_path / "pk"
    killed, running = packages / f"{argos.STAGING_PREFIX}killed", packages / f"{argos.STAGING_PREFIX}running"
    for staging in (killed, running):
        (staging / "translate-ar_en-1_0" / "model").mkdir(parents=True)
        (staging / "translate-ar_en-1_0" / "model" / "model.bin").write_bytes(b"weights")
    two_hours_ago = time.time() - 7200
    os.utime(killed, (two_hours_ago, two_hours_ago))
    install_from_file(_archive(tmp_path / "zh.argosmodel", {}), packages)
    assert sorted(p.name for p in packages.iterdir()) == [running.name, "translate-zh_en-1_9"]


def test_a_folder_in_the_way_that_holds_no_package_is_left_alone_and_said_so(tmp_path: Path) -> None:
    packages = tmp_path / "pk"
    broken = packages / "translate-zh_en-1_9"
    (broken / "model").mkdir(parents=True)
    (broken / "notes.txt").write_text("mine")
    with pytest.raises(ModelInstallError) as caught:
        install_from_file(_archive(tmp_path / "zh.argosmodel", {}), packages)
    said = str(caught.value)
    assert f"its folder {broken} holds files but no translate package (no readable metadata.json)" in said
    assert "remove or rename that folder, then install again" in said and "--force" not in said
    assert (broken / "notes.txt").read_text() == "mine"
