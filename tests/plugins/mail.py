"""E-mail test fixtures: a real Dovecot IMAP server and a real aiosmtpd SMTP server
(portal.channels.email.localmail), started once for the test session. Dovecot is installed
with apt-get when missing and the tests run as root, as scripts/test does for Chromium.

- `mail_servers`: the running pair (`append(user, raw)`, `mailbox(user)`, `refusals`...).
- `email_inbox`: an e-mail inbox of the database reading the `support` mailbox and sending
  through the SMTP server, with both mailboxes emptied first.
- `fetch_and_process()`: run the fetch job, then the webhooks worker; returns the new events.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from sqlalchemy import select

from portal.channels.email import config, fetch
from portal.channels.email.localmail import PASSWORD, LocalMail, dovecot_missing
from portal.extensions import db as _db
from portal.models import Agent, Role, WebhookEvent


def _install_dovecot() -> None:
    if dovecot_missing() and os.getuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd",
            shell=True, check=True, stdout=subprocess.DEVNULL,
        )


@pytest.fixture(scope="session")
def mail_servers():
    _install_dovecot()
    servers = LocalMail().start()
    yield servers
    servers.stop()


@pytest.fixture
def email_inbox(db, mail_servers):
    for user in mail_servers.users:
        mail_servers.clear(user)
    mail_servers.delivered.clear()
    mail_servers.refusals.clear()
    inbox = config.create_inbox(
        {
            "imap_host": "127.0.0.1", "imap_port": mail_servers.imap_port, "imap_security": "none",
            "imap_user": "support", "imap_password": PASSWORD, "folder": "INBOX",
            "smtp_host": "127.0.0.1", "smtp_port": mail_servers.smtp_port, "smtp_security": "none",
            "from_name": "Loja Atende", "from_address": mail_servers.address("support"),
            "signature": "Equipe Loja Atende",
        },
        name="E-mail",
        by=None,
    )
    inbox.agents = list(_db.session.scalars(select(Agent).where(Agent.role == Role.agent)))
    _db.session.commit()
    return inbox


@pytest.fixture
def fetch_and_process(db, email_inbox, run_jobs):
    def run() -> list[WebhookEvent]:
        before = set(_db.session.scalars(select(WebhookEvent.id)))
        fetch.fetch_inbox(email_inbox)
        run_jobs("webhooks", "outbound")
        _db.session.expire_all()
        return [e for e in _db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)) if e.id not in before]

    return run
