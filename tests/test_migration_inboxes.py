"""The inboxes migration on a database that holds the previous schema's data (run on SQLite and
PostgreSQL): the environment's number becomes the first inbox, every conversation, agent and
template lands in it, and nothing is lost."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from portal import create_app, crypto
from portal.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
INBOXES_REVISION = "eecfb1b85013"
NOW = "2026-11-30 12:00:00"


@contextmanager
def scratch_database(database_url: str, tmp_path: Path):
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"atende_upgrade_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fill_previous_schema() -> None:
    """Today's data, written as the previous head's schema has it: two agents, two contacts, three
    conversations (one closed), messages and a template."""
    statements = [
        "INSERT INTO agents (id, name, email, role, active, session_version, created_at, updated_at) VALUES"
        f" (1, 'Ana', 'ana@example.com', 'agent', true, 1, '{NOW}', '{NOW}'),"
        f" (2, 'Sofia', 'sofia@example.com', 'supervisor', true, 1, '{NOW}', '{NOW}')",
        "INSERT INTO contacts (id, name, phone, created_at, updated_at) VALUES"
        f" (1, 'Maria', '+5521998765432', '{NOW}', '{NOW}'), (2, 'João', '+5511987654321', '{NOW}', '{NOW}')",
        "INSERT INTO conversations (id, contact_id, channel, status, priority, assigned_to, last_message_at,"
        " created_at, updated_at) VALUES"
        f" (1, 1, 'whatsapp', 'new', 'normal', 1, '{NOW}', '{NOW}', '{NOW}'),"
        f" (2, 1, 'whatsapp', 'closed', 'high', NULL, '{NOW}', '{NOW}', '{NOW}'),"
        f" (3, 2, 'whatsapp', 'active', 'normal', NULL, '{NOW}', '{NOW}', '{NOW}')",
        "INSERT INTO messages (id, conversation_id, direction, body, sent_at, status, is_automatic, message_type,"
        " send_attempts, external_id) VALUES"
        f" (1, 1, 'inbound', 'Olá', '{NOW}', 'delivered', false, 'text', 0, 'wamid.1'),"
        f" (2, 1, 'outbound', 'Oi, Maria', '{NOW}', 'read', false, 'text', 1, 'wamid.2'),"
        f" (3, 3, 'inbound', 'Bom dia', '{NOW}', 'delivered', false, 'text', 0, 'wamid.3')",
        "INSERT INTO message_templates (id, template_key, body, language, created_at, updated_at) VALUES"
        f" (1, 'boas_vindas', 'Olá {{{{1}}}}', 'pt_BR', '{NOW}', '{NOW}')",
    ]
    for statement in statements:
        _db.session.execute(text(statement))
    _db.session.commit()


def _rows(sql: str) -> list[tuple]:
    return [tuple(row) for row in _db.session.execute(text(sql))]


def test_upgrading_todays_data_puts_everything_in_the_first_inbox(database_url, redis_url, tmp_path):
    previous = ScriptDirectory(str(ROOT / "migrations")).get_revision(INBOXES_REVISION).down_revision
    with scratch_database(database_url, tmp_path) as url:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": redis_url,
                "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
                "WHATSAPP_ACCESS_TOKEN": "EAAG-the-installs-token",
                "WHATSAPP_BUSINESS_ACCOUNT_ID": "102290129340398",
            }
        )
        with app.app_context():
            try:
                upgrade(revision=previous)
                _fill_previous_schema()
                before = _rows("SELECT id, contact_id, status, assigned_to FROM conversations ORDER BY id")
                messages_before = _rows("SELECT id, conversation_id, body, external_id FROM messages ORDER BY id")
                _db.session.commit()  # an open read would hold the locks the upgrade's ALTERs wait for

                upgrade()

                [(inbox_id, name, number, waba, token, enabled)] = _rows(
                    "SELECT id, name, phone_number_id, waba_id, access_token_encrypted, enabled FROM inboxes"
                )
                assert (name, number, waba, bool(enabled)) == ("WhatsApp", "106540352242922", "102290129340398", True)
                assert "EAAG" not in token and crypto.decrypt(token) == "EAAG-the-installs-token"
                assert _rows("SELECT id, contact_id, status, assigned_to FROM conversations ORDER BY id") == before
                assert _rows("SELECT DISTINCT inbox_id FROM conversations") == [(inbox_id,)]
                assert _rows("SELECT id, conversation_id, body, external_id FROM messages ORDER BY id") == messages_before
                assert _rows("SELECT agent_id, inbox_id FROM agent_inboxes ORDER BY agent_id") == [(1, inbox_id), (2, inbox_id)]
                assert _rows("SELECT waba_id FROM message_templates") == [("102290129340398",)]
                # One open conversation per contact and inbox still holds.
                with pytest.raises(IntegrityError):
                    _db.session.execute(
                        text(
                            "INSERT INTO conversations (contact_id, inbox_id, channel, status, priority,"
                            " last_message_at, created_at, updated_at)"
                            f" VALUES (2, {inbox_id}, 'whatsapp', 'new', 'normal', '{NOW}', '{NOW}', '{NOW}')"
                        )
                    )
                    _db.session.flush()
                _db.session.rollback()
            finally:
                _db.session.remove()
                _db.engine.dispose()

