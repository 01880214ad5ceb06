#!/usr/bin/env python3
"""Build portal/static/emoji.json, the composer's emoji picker data, from Python's own Unicode
database (unicodedata; Unicode Data Files licence, no CDN and no third-party package).

The groups are the ranges agents use in customer service: faces, hands, hearts and symbols, and
the objects of orders and deliveries. Each emoji carries its lower-case Unicode name, which the
picker's search matches. Run it again after changing the ranges: python3 scripts/build_emoji_data.py
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

GROUPS = {
    "faces": [(0x1F600, 0x1F64F), (0x1F910, 0x1F92F), (0x1F970, 0x1F976), (0x1F978, 0x1F97A)],
    "hands": [(0x1F44A, 0x1F450), (0x1F4AA, 0x1F4AA), (0x1F918, 0x1F91F), (0x270A, 0x270B)],
    "hearts": [(0x2764, 0x2764), (0x1F493, 0x1F49F), (0x1F5A4, 0x1F5A4), (0x1F90D, 0x1F90E)],
    "symbols": [(0x2705, 0x2705), (0x274C, 0x274C), (0x2753, 0x2755), (0x2757, 0x2757), (0x2728, 0x2728),
                (0x2B50, 0x2B50), (0x1F525, 0x1F525), (0x1F4AF, 0x1F4AF), (0x1F4A1, 0x1F4A1), (0x23F0, 0x23F0),
                (0x23F3, 0x23F3), (0x1F6A8, 0x1F6A8)],
    "objects": [(0x1F381, 0x1F381), (0x1F389, 0x1F38A), (0x1F4DE, 0x1F4DE), (0x1F4F1, 0x1F4F1), (0x1F4E6, 0x1F4E6),
                (0x1F69A, 0x1F69A), (0x1F4B0, 0x1F4B0), (0x1F4B3, 0x1F4B3), (0x1F6D2, 0x1F6D2), (0x1F4C5, 0x1F4C5),
                (0x1F4CD, 0x1F4CD), (0x1F3E0, 0x1F3E0), (0x1F4E7, 0x1F4E7), (0x1F4C4, 0x1F4C4), (0x1F4B8, 0x1F4B8)],
}
OUT = Path(__file__).resolve().parent.parent / "portal" / "static" / "emoji.json"


def build() -> dict[str, list[list[str]]]:
    groups = {}
    for group, ranges in GROUPS.items():
        entries = []
        for first, last in ranges:
            for code in range(first, last + 1):
                name = unicodedata.name(chr(code), "")
                if name:
                    entries.append([chr(code), name.lower()])
        groups[group] = entries
    return groups


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
