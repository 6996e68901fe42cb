"""The email preview rendered by headless Chromium (skipped when Chromium is not installed).

What the screenshot shows was looked at by hand (see scripts/screenshot_preview.py); this
test keeps the path working: the preview loads, renders, and produces a non-blank image.
"""

from __future__ import annotations

import importlib.util
import struct
import zlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "screenshot_preview", ROOT / "scripts" / "screenshot_preview.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_facts(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the pixel data) of a PNG, read with the stdlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_preview_renders_in_headless_chromium(lang: str, tmp_path: Path) -> None:
    script = _script()
    if script.chromium_binary() is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); CI may not have it")
    html_file = tmp_path / f"preview-{lang}.html"
    html_file.write_text(script.sample_html(lang), encoding="utf-8")
    png = tmp_path / f"preview-{lang}.png"
    script.screenshot(html_file, png, width=900, height=1200)
    width, height, distinct = _png_facts(png.read_bytes())
    assert (width, height) == (900, 1200)
    assert distinct > 32  # text, links and rules drawn, not a blank page
