"""The design system's contracts: every icon a page names is in the vendored sprite, the dark
palette covers every colour the light one sets, and times read as "5 minutes ago" with the full
date on hover."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.models import Role, utcnow
from portal.navigation import NAV_ITEMS
from tests import factories

PORTAL = Path(__file__).resolve().parent.parent / "portal"
STYLESHEET = (PORTAL / "static" / "app.css").read_text()
SPRITE = (PORTAL / "static" / "icons" / "sprite.svg").read_text()
COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|rgba?\(|hsla?\()")


def icons_named_in_templates() -> set[str]:
    names = set()
    for template in (PORTAL / "templates").rglob("*.html"):
        names |= set(re.findall(r"""\bicon\(\s*['"]([\w-]+)['"]""", template.read_text()))
    return names | {item.icon for item in NAV_ITEMS}


def custom_properties(block: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", block)}


def light_and_dark_palettes() -> tuple[dict[str, str], dict[str, str]]:
    light = re.search(r"^:root\s*\{(.*?)^\}", STYLESHEET, re.S | re.M).group(1)
    dark = re.search(r"@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{(.*?)\}", STYLESHEET, re.S).group(1)
    return custom_properties(light), custom_properties(dark)


def test_every_icon_the_templates_name_is_in_the_sprite():
    in_sprite = set(re.findall(r'<symbol id="([\w-]+)"', SPRITE))
    named = icons_named_in_templates()
    assert named, "no template names an icon: the pattern above went stale"
    assert named - in_sprite == set(), "add them to ICONS in scripts/build_icons.py and run it"


def test_the_sprite_ships_with_its_licence():
    assert "ISC" in (PORTAL / "static" / "icons" / "LICENSE").read_text()


def test_the_dark_palette_sets_every_colour_token_the_light_one_does():
    light, dark = light_and_dark_palettes()
    colours = {name for name, value in light.items() if COLOUR.match(value)}
    assert len(colours) > 20
    assert colours - dark.keys() == set()
    assert all(COLOUR.match(dark[name]) for name in colours)


def test_area_rules_take_colours_from_tokens_only():
    """Below the palettes (and in the workspace's own inbox.css) a fixed colour would stay light
    in dark mode (the QR code is the one deliberate exception: cameras want dark on white)."""
    areas = STYLESHEET.split("/* ---- base and type ---- */", 1)[1] + (PORTAL / "static" / "inbox.css").read_text()
    fixed = re.findall(r"[^\n]*(?:#[0-9a-fA-F]{3,8}\b|rgba?\()[^\n]*", areas)
    assert [line for line in fixed if not line.startswith(".qr-code")] == []


def test_pages_draw_nav_icons_from_the_sprite_hidden_from_screen_readers(client, login_as, db):
    login_as(Role.admin)
    html = client.get("/board").get_data(as_text=True)
    assert '<svg class="icon icon-kanban" aria-hidden="true" focusable="false"><use href="/static/icons/sprite.svg#kanban">' in html


@pytest.mark.parametrize(
    ("locale", "relative", "full_date"),
    [("pt_BR", "há 2 horas", r"\d\d/\d\d/\d{4} \d\d:\d\d"), ("en", "2 hours ago", r"\d\d?/\d\d?/\d\d, \d\d?:\d\d\u202f[AP]M")],
)
def test_times_read_relative_with_the_full_date_on_hover(client, login_as, db, locale, relative, full_date):
    since = utcnow() - timedelta(hours=2, minutes=1)
    contact = factories.contact(created_at=since)
    db.session.commit()
    login_as(Role.supervisor, locale=locale)
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    shown = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', html)
    assert shown, "the customer-since date is not a <time> element"
    assert datetime.fromisoformat(shown.group(1)) == since.replace(microsecond=0, tzinfo=UTC)
    assert re.fullmatch(full_date, shown.group(2))
    assert shown.group(3) == relative


# A hand-written <time>, the bare |ago filter, an inline <svg> or a character drawn as an icon.
HAND_MADE = re.compile(r"<time\b|\|\s*ago\b|<svg\b|aria-hidden=\"true\">[^\x00-\x7f]</span>")


@pytest.mark.parametrize("area", ["inbox", "board"])
def test_inbox_and_board_show_times_through_when_and_icons_through_the_sprite(area):
    found = {
        f"{template.name}: {match.group(0)}"
        for template in (PORTAL / "templates" / area).glob("*.html")
        for match in HAND_MADE.finditer(template.read_text())
    }
    assert found == set(), "use |when for times and icon(name) for icons"
