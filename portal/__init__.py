"""Atende: create_app() wires configuration, extensions, blueprints, CLI and logging."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as config_module
from portal import pii
from portal.extensions import babel, csrf, db, login_manager, migrate
from portal.ops import logs

BLUEPRINTS = (
    "portal.auth:bp",
    "portal.main:bp",
    "portal.sla:bp",
    "portal.incidents:bp",
    "portal.reports:bp",
    "portal.media:bp",
    "portal.message_templates:bp",
    "portal.quick_replies:bp",
    "portal.rules:bp",
    "portal.teams:bp",
    "portal.board:bp",
    "portal.api:bp",
    "portal.tokens:bp",
    "portal.contacts:bp",
    "portal.inbox:bp",
    "portal.outreach:bp",
    "portal.campaigns:bp",
    "portal.admin:bp",
    "portal.profile:bp",
    "portal.crm:bp",
    "portal.live:bp",
)


def instance_path() -> Path:
    """The folder for the development database, secret key, media and embedded Redis:
    ATENDE_INSTANCE_PATH, else instance/ in the checkout (the test suite points it elsewhere)."""
    return Path(os.environ.get("ATENDE_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path().resolve()))
    app.config.update(config_module.load(Path(app.instance_path), config))

    _configure_logging(app)
    logs.register(app)  # first request hook: every later log line of a request carries its id
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    from portal import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.register(app)

    import portal.models  # noqa: F401  (tables must be known to Alembic and create_all)
    from portal import access, channels, security, subscribers, web
    from portal.channels.email.adapter import EmailChannel
    from portal.channels.whatsapp.adapter import WhatsAppChannel
    from portal.ops import metrics

    web.register(app)  # first: the channels' blueprints need its `<int:...>` converter
    channels.register(app, WhatsAppChannel())
    channels.register(app, EmailChannel())
    subscribers.register()
    access.register(app)
    security.register(app)
    metrics.register(app)
    for dotted in BLUEPRINTS:
        module_name, attr = dotted.split(":")
        module = __import__(module_name, fromlist=[attr])
        app.register_blueprint(getattr(module, attr))

    from portal.cli import register_commands

    register_commands(app)
    return app


def _configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", logging.INFO))
    pii.install("werkzeug", "rq.worker", "gunicorn.error", "gunicorn.access", app.logger.name)
