"""Settings from the environment, checked once at start."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRODUCTION_SECRETS = (
    "SECRET_KEY",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
)


WEBHOOKS_BIND = "webhooks"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is one line meant for the operator."""


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept under instance/ so development sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def load(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the configuration dict from the environment, then apply `overrides` (tests)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    env = os.environ.get("ATENDE_ENV", "development")
    production = env == "production"
    cfg: dict = {
        "ATENDE_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'atende.db'}",
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "WHATSAPP_APP_SECRET": os.environ.get("WHATSAPP_APP_SECRET"),
        "WHATSAPP_VERIFY_TOKEN": os.environ.get("WHATSAPP_VERIFY_TOKEN"),
        "WHATSAPP_ACCESS_TOKEN": os.environ.get("WHATSAPP_ACCESS_TOKEN"),
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID"),
        "WHATSAPP_API_BASE": os.environ.get("WHATSAPP_API_BASE", "http://127.0.0.1:5001"),
        "WHATSAPP_API_VERSION": os.environ.get("WHATSAPP_API_VERSION", "v21.0"),
        "WHATSAPP_SEND_READ_RECEIPTS": _env_bool("WHATSAPP_SEND_READ_RECEIPTS", True),
        "CRM_WEBHOOK_URL": os.environ.get("CRM_WEBHOOK_URL"),
        "CRM_WEBHOOK_SECRET": os.environ.get("CRM_WEBHOOK_SECRET"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "TIME_ZONE": os.environ.get("TIME_ZONE", "America/Sao_Paulo"),
        "DEFAULT_COUNTRY": os.environ.get("DEFAULT_COUNTRY", "BR"),
        # Set: everyone who has not picked a language gets it. Unset: the browser's language decides.
        "DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE") or None,
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE") or "pt_BR",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("pt_BR", "en"),
        "MEDIA_ROOT": str(instance_path / "media"),
        # Webhook bodies reach ~3 MB at Meta's worst, but the issue caps ours at 1 MiB;
        # views that take uploads raise their own limit.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # A connection the database dropped (restart, failover) is replaced before use.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Webhooks wait this long for a restarting database before answering 503; under
        # gunicorn's 30-second worker timeout.
        "WEBHOOK_DATABASE_WAIT_SECONDS": float(os.environ.get("WEBHOOK_DATABASE_WAIT_SECONDS", 15)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
    }
    if overrides:
        cfg.update(overrides)
    if production:
        missing = [name for name in PRODUCTION_SECRETS if not cfg.get(name)]
        if missing:
            raise ConfigError(f"Atende will not start in production without: {', '.join(missing)}")
    else:
        cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or _dev_secret_key(instance_path)
        cfg["WHATSAPP_APP_SECRET"] = cfg["WHATSAPP_APP_SECRET"] or "dev-app-secret"
        cfg["WHATSAPP_VERIFY_TOKEN"] = cfg["WHATSAPP_VERIFY_TOKEN"] or "dev-verify-token"
        cfg["WHATSAPP_ACCESS_TOKEN"] = cfg["WHATSAPP_ACCESS_TOKEN"] or "dev-access-token"
        cfg["WHATSAPP_PHONE_NUMBER_ID"] = cfg["WHATSAPP_PHONE_NUMBER_ID"] or "100000000000001"
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgres://"):
        cfg["SQLALCHEMY_DATABASE_URI"] = cfg["SQLALCHEMY_DATABASE_URI"].replace("postgres://", "postgresql://", 1)
    # The webhook endpoints store through a pool of their own without pre-ping: their one INSERT
    # is retried on a dropped connection anyway (portal.services.webhook_events.store), and the
    # ping's round trip is a third of the ingest path's database time (docs/benchmarks.md 1a).
    cfg.setdefault("SQLALCHEMY_BINDS", {})
    cfg["SQLALCHEMY_BINDS"].setdefault(
        WEBHOOKS_BIND, {"url": cfg["SQLALCHEMY_DATABASE_URI"], "pool_pre_ping": False}
    )
    return cfg
