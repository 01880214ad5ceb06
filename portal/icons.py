"""`icon(name)` in every template: one symbol of the vendored Lucide sprite (portal/static/icons/,
rebuilt by scripts/build_icons.py). A template global rather than an imported macro so that
base.html, pages and HTMX fragments all call it the same way without an import line.

Icons are decoration beside a visible word, so they are hidden from screen readers; pass `label`
for an icon that stands alone and must be read out."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup


def icon(name: str, label: str | None = None) -> Markup:
    sprite = url_for("static", filename="icons/sprite.svg")
    spoken = Markup(' role="img" aria-label="{}"').format(label) if label else Markup(' aria-hidden="true"')
    return Markup('<svg class="icon icon-{name}"{spoken} focusable="false"><use href="{sprite}#{name}"></use></svg>').format(
        name=name, spoken=spoken, sprite=sprite
    )
