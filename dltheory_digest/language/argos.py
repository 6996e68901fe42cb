"""Argos Translate packages: where they live, what is installed, installing them.

Reading what is installed only reads each package's `metadata.json`, so `models list`
and `Translator.available()` never import argostranslate (which pulls stanza, torch and
spacy: seconds). Importing it is done by `import_argos`, after pointing its settings
(packages dir, XDG data/config/cache) into our data dir: its settings module creates
folders at import time.

The Argos index is fetched with httpx and a timeout, never through
`argostranslate.package.get_available_packages()`, which recurses forever without a
local index when offline.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dltheory_digest.config import Politeness
from dltheory_digest.errors import DigestError, FetchError

if TYPE_CHECKING:
    from dltheory_digest.fetch import PoliteClient

ARGOS_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
INDEX_SOURCE = "argos-index"  # source ids of these fetches in the fetch records
MODELS_SOURCE = "argos-models"
MAX_MODEL_BYTES = 2_000_000_000  # the largest Argos packages are a few hundred MB
INDEX_URL_KEY = "_index_url"  # an index entry's note of the index it came from (`fetch_index`)
# What an archive may unpack to (its entries' declared sizes, which CPython's zipfile never writes
# beyond): Argos packages are CTranslate2 weights and tokenizer models, dense data that unpacks
# to about 1.5 times the archive (the tests' tiny packages 1.4), and the largest to under 1 GB.
# 50 times the archive refuses a zip bomb (deflate reaches 1000:1) with room to spare for any
# real package; 4 GB bounds what an archive the 2 GB download cap lets in may fill the disk with.
MAX_UNPACKED_BYTES = 4_000_000_000
MAX_UNPACK_RATIO = 50
STAGING_PREFIX = ".installing-"  # a package being extracted, beside the packages
# A staging folder older than this was left by an install that was killed (extracting takes
# seconds): the next install removes it. A younger one may be another install at work.
STALE_STAGING_SECONDS = 3600.0
_LOCK = threading.Lock()


class ModelInstallError(DigestError):
    """A translation package could not be found, downloaded or installed."""


@dataclass(frozen=True)
class PackageInfo:
    """An installed package, from its metadata.json."""

    from_code: str
    to_code: str
    version: str
    path: Path
    argos_version: str = ""
    problem: str | None = None  # why it cannot load, when files show it: "model.bin missing"

    @property
    def model(self) -> str:
        return f"argos {self.from_code}→{self.to_code}"

    @property
    def name(self) -> str:
        """What items record in `translated_by`: "argos zh→en 1.9"."""
        return f"{self.model} {self.version}"


def default_packages_dir() -> Path:
    """`argos_packages_dir` from the settings, else `<data_dir>/argos-packages`."""
    from dltheory_digest.config import load_settings

    settings = load_settings()
    return Path(settings.argos_packages_dir or settings.data_dir / "argos-packages").resolve()


def installed_packages(packages_dir: Path) -> list[PackageInfo]:
    """Translate packages under `packages_dir` (one folder each), newest version first."""
    found: list[PackageInfo] = []
    if not packages_dir.is_dir():
        return found
    for folder in sorted(packages_dir.iterdir()):
        if folder.name.startswith("."):
            continue  # an install under way (STAGING_PREFIX) or one killed midway
        meta_path = folder / "metadata.json"
        if not meta_path.is_file():
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (
            meta.get("type", "translate") != "translate"
            or not meta.get("from_code")
            or not meta.get("to_code")
        ):
            continue
        found.append(
            PackageInfo(
                from_code=str(meta["from_code"]),
                to_code=str(meta["to_code"]),
                version=str(meta.get("package_version", "")),
                path=folder,
                argos_version=str(meta.get("argos_version", "")),
                problem=package_problem(folder),
            )
        )
    found.sort(key=lambda p: _version_key(p.version), reverse=True)
    return found


def package_problem(folder: Path) -> str | None:
    """What makes an installed package unloadable, judged from its files alone (no torch):
    an interrupted install or a deleted file. A corrupt model.bin is caught only on loading."""
    model = folder / "model" / "model.bin"
    if not model.is_file():
        return "model.bin missing"
    if model.stat().st_size == 0:
        return "model.bin empty"
    if not (folder / "sentencepiece.model").is_file() and not (folder / "bpe.model").is_file():
        return "tokenizer missing (sentencepiece.model or bpe.model)"
    return None


def find_package(packages_dir: Path, from_code: str, to_code: str) -> PackageInfo | None:
    return next(
        (p for p in installed_packages(packages_dir) if (p.from_code, p.to_code) == (from_code, to_code)),
        None,
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)) or (0,)


@contextmanager
def _argos_env(packages_dir: Path) -> Iterator[None]:
    home = packages_dir.parent / "argos-home"
    wanted = {
        "ARGOS_PACKAGES_DIR": str(packages_dir),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def import_argos(packages_dir: Path) -> ModuleType:
    """Import argostranslate (once per process) with its folders inside our data dir."""
    with _LOCK:
        packages_dir.mkdir(parents=True, exist_ok=True)
        with _argos_env(packages_dir):
            import argostranslate.package
            import argostranslate.translate
        # argostranslate logs every sentence split and batch at INFO: dozens of lines per run
        logging.getLogger("argostranslate").setLevel(logging.WARNING)
        logging.getLogger("argostranslate.utils").setLevel(logging.WARNING)
        package: ModuleType = argostranslate.package
        return package


def _check_archive(path: Path) -> dict[str, Any]:
    """The archive's metadata.json (its folder under "_folder"), once the archive is known to
    unpack into one package folder of its own, of a bounded size: refused before extracting."""
    if not zipfile.is_zipfile(path):
        raise ModelInstallError(f"{path}: not an .argosmodel (not a zip archive)")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        # zipfile drops ".." and a leading "/" when extracting: "../metadata.json" would land
        # in the packages dir itself, beside the packages, and "/x" likewise
        climbing = next((n for n in names if n.startswith("/") or ".." in n.split("/")), None)
        if climbing is not None:
            raise ModelInstallError(
                f"{path}: refused, the entry {climbing!r} points outside its package folder"
            )
        tops = {n.split("/", 1)[0] for n in names if n.strip("/")}
        if len(tops) != 1:
            raise ModelInstallError(
                f"{path}: an .argosmodel holds exactly one top-level folder, found {sorted(tops)}"
            )
        top = tops.pop()
        if top.startswith("."):  # ".", or a hidden folder `installed_packages` would not see
            raise ModelInstallError(f"{path}: refused, the package folder is named {top!r}")
        unpacked = sum(info.file_size for info in infos)
        cap = min(MAX_UNPACKED_BYTES, MAX_UNPACK_RATIO * path.stat().st_size)
        if unpacked > cap:
            raise ModelInstallError(
                f"{path}: refused, it would unpack to {unpacked:,} bytes, more than {cap:,} "
                f"({MAX_UNPACK_RATIO} times the archive, {MAX_UNPACKED_BYTES:,} at most): not a translation package"
            )
        try:
            meta = json.loads(zf.read(f"{top}/metadata.json"))
        except KeyError:
            raise ModelInstallError(f"{path}: no {top}/metadata.json") from None
        if f"{top}/model/model.bin" not in names:
            raise ModelInstallError(f"{path}: no CTranslate2 model ({top}/model/model.bin)")
    if not isinstance(meta, dict):
        raise ModelInstallError(f"{path}: metadata.json is not an object")
    meta["_folder"] = top
    return meta


def _package_pair(folder: Path) -> tuple[str, str] | None:
    """The from/to codes of the package installed in `folder`, None when it holds none."""
    return next(
        ((p.from_code, p.to_code) for p in installed_packages(folder.parent) if p.path == folder), None
    )


def _remove_stale_staging(packages_dir: Path) -> None:
    """Remove the staging folders of installs killed midway (each may hold a whole package)."""
    if not packages_dir.is_dir():
        return
    cutoff = time.time() - STALE_STAGING_SECONDS
    for leftover in packages_dir.glob(f"{STAGING_PREFIX}*"):
        with suppress(OSError):  # removed by another install meanwhile, or not ours to remove
            if leftover.is_dir() and not leftover.is_symlink() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover)


def install_from_file(path: Path, packages_dir: Path) -> PackageInfo:
    """Install a local `.argosmodel` into `packages_dir` (offline) with argostranslate's installer.

    A package already in the archive's folder is replaced whole when it translates the same
    pair (an update), and left alone, the install refused, otherwise: extracted over it, the
    files of both would mix. The archive is extracted beside the packages first, then moved
    into place, so an install that fails midway leaves the old package as it was."""
    meta = _check_archive(path)
    folder = packages_dir / meta["_folder"]
    pair = (str(meta.get("from_code")), str(meta.get("to_code")))
    if folder.exists() and (held := _package_pair(folder)) != pair:
        if held is None:  # a package copied in part, or files of the operator's own
            raise ModelInstallError(
                f"{path}: its folder {folder} holds files but no translate package (no readable "
                "metadata.json): refused, so they are not overwritten; remove or rename that "
                "folder, then install again"
            )
        raise ModelInstallError(
            f"{path}: its folder {folder} already holds the {held[0]}→{held[1]} package, not "
            f"{pair[0]}→{pair[1]}: refused (remove that folder to install this archive)"
        )
    _remove_stale_staging(packages_dir)
    package_module = import_argos(packages_dir)
    settings = package_module.settings
    with tempfile.TemporaryDirectory(dir=packages_dir, prefix=STAGING_PREFIX) as staging:
        with _LOCK:
            # install_from_path extracts into settings.package_data_dir: point it at the staging dir.
            previous = settings.package_data_dir
            settings.package_data_dir = Path(staging)
            try:
                package_module.install_from_path(path)
            finally:
                settings.package_data_dir = previous
        # the old package is moved aside (removed with the staging dir) only once the new one
        # is whole, and moved back if the new one cannot take its place
        aside = Path(staging) / f"{STAGING_PREFIX}replaced"
        if folder.exists():
            folder.rename(aside)
        try:
            (Path(staging) / meta["_folder"]).rename(folder)
        except OSError as exc:
            if aside.exists():
                aside.rename(folder)
            kept = "the installed package was kept as it was" if folder.exists() else "nothing was installed"
            raise ModelInstallError(
                f"{path}: could not move the package into {folder} ({exc.strerror or exc}): {kept}"
            ) from exc
    info = next((p for p in installed_packages(packages_dir) if p.path == folder), None)
    if info is None:
        raise ModelInstallError(f"{path}: installed, but {folder} holds no translate package")
    return info


def fetch_index(
    client: PoliteClient, url: str = ARGOS_INDEX_URL, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The Argos package index (a JSON list) through the polite client; a clear error when offline."""
    try:
        page = client.get(
            url, source_id=INDEX_SOURCE, politeness=Politeness(timeout=timeout), revalidate=False
        )
        index = json.loads(page.content)
    except FetchError as exc:
        # the fetch error may end by asking "is this machine online?" already
        asked = "" if str(exc).endswith("?") else ". Offline?"
        raise ModelInstallError(
            f"cannot reach the Argos package index ({url}): {exc}{asked} Download the .argosmodel "
            "elsewhere and run `dltheory-digest models install --from-file PATH.argosmodel`."
        ) from None
    except ValueError:
        raise ModelInstallError(f"the Argos package index at {url} is not JSON") from None
    if not isinstance(index, list):
        raise ModelInstallError(f"the Argos package index at {url} is not a list of packages")
    # each entry remembers its index: its links are judged by it (`download`)
    return [{**entry, INDEX_URL_KEY: url} for entry in index if isinstance(entry, dict)]


def pairs_for(lang: str) -> list[tuple[str, str]]:
    """`models install zh` means zh→en for reading and en→zh for the zh edition."""
    return [(lang, "en"), ("en", lang)] if lang != "en" else []


def choose(index: list[dict[str, Any]], from_code: str, to_code: str) -> dict[str, Any] | None:
    candidates = [
        e
        for e in index
        if e.get("from_code") == from_code
        and e.get("to_code") == to_code
        and e.get("type", "translate") == "translate"
    ]
    candidates.sort(key=lambda e: _version_key(str(e.get("package_version", ""))), reverse=True)
    return candidates[0] if candidates else None


def download(
    client: PoliteClient,
    entry: dict[str, Any],
    dest_dir: Path,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Stream the package's first working link into `dest_dir`; `progress(done, total)`.

    The links are fetched with the index as their origin: an index on a public host cannot
    send the download to this machine's or network's internal services."""
    links = [str(link) for link in entry.get("links", []) if link]
    if not links:
        raise ModelInstallError(
            f"the index lists no download link for {entry.get('from_code')}→{entry.get('to_code')}"
        )
    target = dest_dir / f"translate-{entry.get('from_code')}_{entry.get('to_code')}.argosmodel"
    index_url = entry.get(INDEX_URL_KEY)
    origin = str(index_url) if index_url else None
    politeness = Politeness(timeout=timeout, max_bytes=MAX_MODEL_BYTES)
    errors: list[str] = []
    for link in links:
        try:
            return client.download(
                link,
                target,
                source_id=MODELS_SOURCE,
                politeness=politeness,
                progress=progress,
                origin=origin,
            )
        except (FetchError, OSError) as exc:
            errors.append(f"{link}: {exc}")
    raise ModelInstallError("download failed: " + "; ".join(errors))
