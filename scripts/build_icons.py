#!/usr/bin/env python3
"""Build portal/static/icons/sprite.svg from Lucide's static icons (ISC licence).

The portal uses a few dozen icons; this script takes just those from the lucide-static npm
package and writes them as <symbol id="NAME"> elements of one sprite, which the `icon(name)`
template helper (portal/icons.py) references with <use>. No CDN: the sprite is served from
/static like the rest. Add a name to ICONS and run

    scripts/build_icons.py                 # npm pack lucide-static@VERSION into a temporary folder
    scripts/build_icons.py path/to/package # or use an unpacked package

tests/test_design.py fails when a template names an icon the sprite lacks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "1.62.0"
ICONS = (
    "arrow-left", "ban", "bell", "chart-column", "check", "check-check", "chevron-down",
    "circle-alert", "circle-check-big", "clock", "copy", "download", "external-link", "eye",
    "file-text", "filter", "history", "inbox", "kanban", "key-round", "list-checks", "lock",
    "log-out", "menu", "message-circle", "mic", "paperclip", "pencil", "plug", "plus", "refresh-cw", "rotate-ccw",
    "save", "search", "send", "settings", "shield-check", "square", "timer", "trash-2", "triangle-alert",
    "undo-2", "upload", "user", "user-plus", "users", "workflow", "x",
)
OUT = Path(__file__).resolve().parent.parent / "portal" / "static" / "icons"


def unpack(into: Path) -> Path:
    subprocess.run(["npm", "pack", f"lucide-static@{VERSION}"], cwd=into, check=True, capture_output=True)
    with tarfile.open(next(into.glob("lucide-static-*.tgz"))) as tar:
        tar.extractall(into, filter="data")
    return into / "package"


def symbol(package: Path, name: str) -> str:
    svg = (package / "icons" / f"{name}.svg").read_text()
    view_box = re.search(r'viewBox="([^"]+)"', svg).group(1)
    inner = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S).group(1)
    shapes = " ".join(line.strip() for line in inner.strip().splitlines())
    return f'<symbol id="{name}" viewBox="{view_box}">{shapes}</symbol>'


def build(package: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    symbols = "\n".join(symbol(package, name) for name in sorted(ICONS))
    (OUT / "sprite.svg").write_text(
        f"<!-- Lucide {VERSION} (ISC, see LICENSE beside this file); built by scripts/build_icons.py -->\n"
        f'<svg xmlns="http://www.w3.org/2000/svg">\n{symbols}\n</svg>\n'
    )
    shutil.copyfile(package / "LICENSE", OUT / "LICENSE")


def main() -> None:
    if len(sys.argv) > 1:
        build(Path(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        build(unpack(Path(tmp)))


if __name__ == "__main__":
    main()
