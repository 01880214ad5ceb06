"""`flask db upgrade` on an empty database gives exactly the models (run on SQLite and PostgreSQL)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.extensions import db as _db

SEED_TABLES = {
    "contacts", "conversations", "messages", "tags", "conversation_tags", "agents",
    "message_templates", "auto_rules", "sla_metrics", "incidents", "webhook_events",
}


def test_upgraded_schema_matches_the_models(db):
    with _db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, _db.metadata)
    assert diff == []


def test_every_seed_table_and_recommended_index_exists(db):
    inspector = inspect(_db.engine)
    assert SEED_TABLES <= set(inspector.get_table_names())
    indexed = {
        (table, tuple(ix["column_names"]))
        for table in ("messages", "conversations", "contacts")
        for ix in inspector.get_indexes(table)
    }
    for expected in [("messages", ("conversation_id",)), ("messages", ("sent_at",)),
                     ("conversations", ("status",)), ("conversations", ("priority",))]:
        assert expected in indexed
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("contacts")}
    unique_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("contacts") if ix["unique"]}
    assert ("phone",) in uniques | unique_indexes


def test_seed_enum_values_are_kept(db):
    from portal.models import (
        Channel,
        ConversationStatus,
        MessageStatus,
        Priority,
        Role,
        Severity,
        WebhookStatus,
    )

    assert {"whatsapp", "email"} <= set(Channel)
    assert {"new", "triage", "proposal", "waiting", "active", "lost", "closed"} <= set(ConversationStatus)
    assert {"low", "normal", "high", "urgent"} <= set(Priority)
    assert {"queued", "sent", "delivered", "failed"} <= set(MessageStatus)
    assert {"agent", "supervisor", "admin"} <= set(Role)
    assert {"low", "medium", "high", "critical"} <= set(Severity)
    assert {"pending", "processed", "failed"} <= set(WebhookStatus)
