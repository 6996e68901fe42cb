"""Render the email preview of a sample digest (Chinese and Arabic content) and screenshot it
in headless Chromium, to look at what readers will see.

    .venv/bin/python scripts/screenshot_preview.py --lang en -o /tmp/preview.png
    .venv/bin/python scripts/screenshot_preview.py --lang ar -o /tmp/preview-ar.png

`--lang zh|ar` renders that edition with a stand-in translator that marks each translated
text (no argos model is needed); the labels, direction and layout are the real ones.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(
    html_file: Path, png: Path, *, width: int = 1000, height: int = 1600, timeout: float = 120
) -> None:
    """Headless Chromium, no network services, a throw-away profile."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="dltheory-chromium-") as profile:
        command = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
            f"--window-size={width},{height}", html_file.resolve().as_uri(),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot to {png}")


def sample_html(lang: str) -> str:
    sys.path.insert(0, str(ROOT))
    from dltheory_digest.config import Reader
    from dltheory_digest.mail import preview_html
    from tests.digest.test_build import (  # the tests' sample week (real ids and titles)
        EchoTranslator,
        sample_digest,
    )

    digest = sample_digest()
    reader = Reader(email="reader@example.org", language=lang)
    return preview_html(digest, reader, translator=EchoTranslator() if lang != "en" else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("en", "zh", "ar"), default="en")
    parser.add_argument("-o", "--output", type=Path, default=Path("/tmp/preview.png"))
    parser.add_argument("--html", type=Path, help="also keep the HTML here")
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args()
    html = sample_html(args.lang)
    html_file = args.html or args.output.with_suffix(".html")
    html_file.write_text(html, encoding="utf-8")
    screenshot(html_file, args.output, height=args.height)
    print(f"{html_file} -> {args.output}")


if __name__ == "__main__":
    main()
