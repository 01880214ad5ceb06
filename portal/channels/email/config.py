"""An e-mail inbox's settings: IMAP to read (host, port, TLS, user, password, folder) and SMTP to
send (host, port, STARTTLS or TLS, credentials, From name and address), plus a signature.

Everything but the passwords sits in `Inbox.settings["email"]`; the two passwords are one JSON
object encrypted with portal.crypto in `Inbox.access_token_encrypted`, like a WhatsApp access
token, and never shown again (an empty password field keeps the stored one). Callers commit;
every change is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import crypto
from portal.extensions import db
from portal.models import Agent, Channel, Inbox
from portal.services import audit
from portal.services.inboxes import InboxError

SECURITY = ("tls", "starttls", "none")
DEFAULT_PORTS = {"imap": {"tls": 993, "starttls": 143, "none": 143}, "smtp": {"tls": 465, "starttls": 587, "none": 25}}


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str  # one of SECURITY
    user: str
    password: str


@dataclass(frozen=True)
class EmailSettings:
    imap: Server
    folder: str
    smtp: Server
    from_name: str
    from_address: str
    signature: str


def load(inbox: Inbox) -> EmailSettings:
    stored = dict((inbox.settings or {}).get("email") or {})
    secrets = json.loads(crypto.decrypt(inbox.access_token_encrypted)) if inbox.access_token_encrypted else {}
    return _settings(stored, secrets)


def _settings(stored: dict[str, Any], secrets: dict[str, str]) -> EmailSettings:
    def server(kind: str) -> Server:
        return Server(
            host=stored.get(f"{kind}_host") or "",
            port=int(stored.get(f"{kind}_port") or 0),
            security=stored.get(f"{kind}_security") or "tls",
            user=stored.get(f"{kind}_user") or "",
            password=secrets.get(f"{kind}_password") or "",
        )

    return EmailSettings(
        imap=server("imap"),
        folder=stored.get("folder") or "INBOX",
        smtp=server("smtp"),
        from_name=stored.get("from_name") or "",
        from_address=stored.get("from_address") or "",
        signature=stored.get("signature") or "",
    )


def form_values(inbox: Inbox | None) -> dict[str, Any]:
    """What the form shows: every setting except the passwords."""
    if inbox is None:
        return {}
    return dict((inbox.settings or {}).get("email") or {})


def _clean_server(kind: str, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    host = (values.get(f"{kind}_host") or "").strip()
    security = values.get(f"{kind}_security") or "tls"
    if security not in SECURITY:
        errors[f"{kind}_security"] = _("Choose TLS, STARTTLS or none.")
        security = "tls"
    port_text = str(values.get(f"{kind}_port") or "").strip()
    port = DEFAULT_PORTS[kind][security] if not port_text else (int(port_text) if port_text.isdigit() else 0)
    if not 0 < port < 65536:
        errors[f"{kind}_port"] = _("A port is a number from 1 to 65535.")
    if not host or len(host) > 255 or any(c.isspace() for c in host):
        errors[f"{kind}_host"] = _("Give the server's host name, such as %(example)s.", example=f"{kind}.example.com")
    user = (values.get(f"{kind}_user") or "").strip()[:254]
    if kind == "imap" and not user:
        errors["imap_user"] = _("Give the mailbox's user name (often the address).")
    return {f"{kind}_host": host, f"{kind}_port": port, f"{kind}_security": security, f"{kind}_user": user}


def _clean(values: dict[str, Any], *, name: str, current: Inbox | None) -> tuple[str, dict[str, Any]]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the inbox a name.")
    elif len(name) > 100:
        errors["name"] = _("Use at most %(num)d characters.", num=100)
    else:
        taken = db.session.scalar(select(Inbox).where(func.lower(Inbox.name) == name.lower()))
        if taken is not None and taken is not current:
            errors["name"] = _("Another inbox already has this name.")
    stored = {**_clean_server("imap", values, errors), **_clean_server("smtp", values, errors)}
    stored["folder"] = (values.get("folder") or "").strip()[:200] or "INBOX"
    stored["from_name"] = (values.get("from_name") or "").strip()[:100]
    stored["signature"] = (values.get("signature") or "").replace("\r\n", "\n").strip()[:2000]
    try:
        stored["from_address"] = validate_email(
            (values.get("from_address") or "").strip(), check_deliverability=False
        ).normalized
    except EmailNotValidError:
        errors["from_address"] = _("Not a valid e-mail address.")
    if errors:
        field, message = next(iter(errors.items()))
        raise InboxError(message, field)
    return name, stored


def _secrets(inbox: Inbox | None, values: dict[str, Any]) -> dict[str, str]:
    old = json.loads(crypto.decrypt(inbox.access_token_encrypted)) if inbox and inbox.access_token_encrypted else {}
    new = dict(old)
    for kind in ("imap", "smtp"):
        typed = values.get(f"{kind}_password") or ""
        if typed:
            new[f"{kind}_password"] = typed
    return new


def create_inbox(values: dict[str, Any], *, name: str, by: Agent | None) -> Inbox:
    name, stored = _clean(values, name=name, current=None)
    secrets = _secrets(None, values)
    if not secrets.get("imap_password"):
        raise InboxError(_("Give the mailbox's password (or app password)."), "imap_password")
    inbox = Inbox(
        channel=Channel.email,
        name=name,
        enabled=True,
        settings={"email": stored},
        access_token_encrypted=crypto.encrypt(json.dumps(secrets)),
    )
    db.session.add(inbox)
    db.session.flush()
    audit.record("inbox.created", actor=by, target=inbox, name=name, address=stored["from_address"])
    return inbox


def update_inbox(inbox: Inbox, values: dict[str, Any], *, name: str, by: Agent | None) -> bool:
    """Apply the changes; empty password fields keep the stored ones. False when nothing changed."""
    name, stored = _clean(values, name=name, current=inbox)
    old = form_values(inbox)
    changed = sorted(k for k, v in stored.items() if old.get(k) != v)
    if inbox.name != name:
        inbox.name = name
        changed.append("name")
    if any(k in changed for k in stored):
        inbox.settings = {**(inbox.settings or {}), "email": stored}
    secrets = _secrets(inbox, values)
    old_secrets = json.loads(crypto.decrypt(inbox.access_token_encrypted)) if inbox.access_token_encrypted else {}
    if secrets != old_secrets:
        inbox.access_token_encrypted = crypto.encrypt(json.dumps(secrets))
        changed += [k for k in secrets if secrets[k] != old_secrets.get(k)]
    if not changed:
        return False
    audit.record("inbox.updated", actor=by, target=inbox, changed=changed)
    return True


def candidate(values: dict[str, Any], inbox: Inbox | None) -> EmailSettings:
    """The settings as typed in the form (stored passwords where the fields are empty), for the
    test buttons, which try them before anything is saved."""
    errors: dict[str, str] = {}
    stored = {**_clean_server("imap", values, errors), **_clean_server("smtp", values, errors)}
    stored["folder"] = (values.get("folder") or "").strip() or "INBOX"
    stored["from_address"] = (values.get("from_address") or "").strip()
    return _settings(stored, _secrets(inbox, values))

