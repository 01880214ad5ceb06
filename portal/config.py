"""Settings from the environment, checked once at start."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from portal import crypto

PRODUCTION_SECRETS = (
    "SECRET_KEY",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "ENCRYPTION_KEY",
)


ENVIRONMENTS = ("development", "production")

# The development values published in the README: anyone can read them, so production refuses them.
DEVELOPMENT_DEFAULTS = {
    "WHATSAPP_APP_SECRET": "dev-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "dev-verify-token",
    "WHATSAPP_ACCESS_TOKEN": "dev-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
}
# Signing and HMAC keys: a shorter or guessable one lets anyone forge sessions or webhooks.
SIGNING_SECRETS = ("SECRET_KEY", "WHATSAPP_APP_SECRET")
MIN_SECRET_LENGTH = 32
# Fewer distinct characters than this ("aaaa...", "12341234...") is a typed filler, not a secret.
MIN_DISTINCT_CHARACTERS = 10
PLACEHOLDER_WORDS = ("changeme", "changeit", "changethis", "replaceme", "placeholder", "example", "default",
                     "secret", "password")

WEBHOOKS_BIND = "webhooks"


class ConfigError(RuntimeError):
    """Settings are missing or wrong; one line per problem, meant for the operator."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(f"atende: {problem}" for problem in problems))


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


def _secret_problem(name: str, value: str) -> str | None:
    """Why `value` cannot guard a production install, or None when it can."""
    if any(c.isspace() for c in value):
        return f"{name} contains whitespace; paste the value without spaces or line breaks"
    if value == DEVELOPMENT_DEFAULTS.get(name):
        return f"{name} is the development default published in the README; set a value of your own"
    squeezed = "".join(c for c in value.lower() if c.isalnum())
    if any(word in squeezed for word in PLACEHOLDER_WORDS):
        return f"{name} looks like a placeholder; set a random value"
    if name in SIGNING_SECRETS:
        if len(value) < MIN_SECRET_LENGTH:
            return (
                f"{name} has {len(value)} characters, at least {MIN_SECRET_LENGTH} are needed"
                " (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        if len(set(value)) < MIN_DISTINCT_CHARACTERS:
            return f"{name} repeats a few characters; set a random value"
    return None


def _production_problems(cfg: dict) -> list[str]:
    problems = []
    for name in PRODUCTION_SECRETS:
        value = cfg.get(name)
        problem = _secret_problem(name, value) if value else f"{name} is not set"
        if not problem and name == "ENCRYPTION_KEY":
            problem = crypto.check_key(value)
        if problem:
            problems.append(problem)
    return problems


def _environment() -> str:
    env = os.environ.get("ATENDE_ENV", "development").strip()
    if env not in ENVIRONMENTS:
        raise ConfigError(
            [f"ATENDE_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}; refusing to guess which was meant"]
        )
    return env


def _env_count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit():
        raise ConfigError([f"{name}={raw!r} must be a whole number (0 or more)"])
    return int(raw)


def load(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the configuration dict from the environment, then apply `overrides` (tests)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    env = _environment()
    production = env == "production"
    cfg: dict = {
        "ATENDE_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "ENCRYPTION_KEY": os.environ.get("ENCRYPTION_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'atende.db'}",
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").strip().lower() or "text",
        "WHATSAPP_APP_SECRET": os.environ.get("WHATSAPP_APP_SECRET"),
        "WHATSAPP_VERIFY_TOKEN": os.environ.get("WHATSAPP_VERIFY_TOKEN"),
        "WHATSAPP_ACCESS_TOKEN": os.environ.get("WHATSAPP_ACCESS_TOKEN"),
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID"),
        # With the two above, they describe the first inbox (portal.services.inboxes.bootstrap_from_config).
        "WHATSAPP_BUSINESS_ACCOUNT_ID": os.environ.get("WHATSAPP_BUSINESS_ACCOUNT_ID"),
        "WHATSAPP_DISPLAY_PHONE": os.environ.get("WHATSAPP_DISPLAY_PHONE"),
        "WHATSAPP_API_BASE": os.environ.get("WHATSAPP_API_BASE", "http://127.0.0.1:5001"),
        "WHATSAPP_API_VERSION": os.environ.get("WHATSAPP_API_VERSION", "v21.0"),
        "WHATSAPP_SEND_READ_RECEIPTS": _env_bool("WHATSAPP_SEND_READ_RECEIPTS", True),
        "CRM_WEBHOOK_URL": os.environ.get("CRM_WEBHOOK_URL"),
        "CRM_WEBHOOK_SECRET": os.environ.get("CRM_WEBHOOK_SECRET"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # Where browsers open the live-update stream (portal/live/stream.py): /events behind a
        # reverse proxy that routes it to the stream process; scripts/run gives the stream's own port.
        "EVENTS_URL": os.environ.get("EVENTS_URL", "/events"),
        "TIME_ZONE": os.environ.get("TIME_ZONE", "America/Sao_Paulo"),
        "DEFAULT_COUNTRY": os.environ.get("DEFAULT_COUNTRY", "BR"),
        # Set: everyone who has not picked a language gets it. Unset: the browser's language decides.
        "DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE") or None,
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE") or "pt_BR",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("pt_BR", "en"),
        # Inbound media and outbound attachments; every web process and worker must see the same folder.
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or str(instance_path / "media"),
        # Webhook bodies reach ~3 MB at Meta's worst, but the issue caps ours at 1 MiB;
        # views that take uploads raise their own limit.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # A connection the database dropped (restart, failover) is replaced before use.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Webhooks wait this long for a restarting database before answering 503; under
        # gunicorn's 30-second worker timeout.
        "WEBHOOK_DATABASE_WAIT_SECONDS": float(os.environ.get("WEBHOOK_DATABASE_WAIT_SECONDS", 15)),
        # The most of one fetched mail kept (docs/architecture.md, "E-mail"); a larger one is cut.
        "EMAIL_MAX_BYTES": _env_count("EMAIL_MAX_BYTES", 20 * 1024 * 1024),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto: the client address
        # (which sign-in throttling counts) is read that many hops back. 0: no proxy, headers ignored,
        # since a client could otherwise pick its own address.
        "TRUSTED_PROXIES": _env_count("TRUSTED_PROXIES", 0),
        # Messages a second an inbox sends when nothing says otherwise (docs/architecture.md,
        # "Proactive messaging"); 80 is Meta's default throughput tier.
        "SEND_RATE_PER_SECOND": _env_count("SEND_RATE_PER_SECOND", 80) or 80,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }
    if overrides:
        cfg.update(overrides)
    if production:
        problems = _production_problems(cfg)
        if problems:
            raise ConfigError(problems)
    else:
        cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or _dev_secret_key(instance_path)
        for name, default in DEVELOPMENT_DEFAULTS.items():
            cfg[name] = cfg[name] or default
        cfg["ENCRYPTION_KEY"] = cfg["ENCRYPTION_KEY"] or crypto.derived_key(cfg["SECRET_KEY"])
        key_problem = crypto.check_key(cfg["ENCRYPTION_KEY"])
        if key_problem:
            raise ConfigError([key_problem])
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
