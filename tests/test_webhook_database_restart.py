"""A webhook that arrives while PostgreSQL restarts waits for it and is answered 200 once its row
is committed; one that would wait too long is answered 503 with Retry-After and nothing is
stored, so Meta's redelivery is the only copy (docs/architecture.md, "Durability", rule 1).

On PostgreSQL the restart is played by refusing new connections to the test database and
cutting the open ones, which is what clients see of a restart; the shared server itself keeps
running. On SQLite another connection holds the write lock instead."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rq import Queue
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal.models import WebhookEvent
from portal.queue import WEBHOOKS, redis_connection


class DatabaseDown:
    """Makes the test database unable to take a write, then able again.

    PostgreSQL: new connections refused and open ones cut, which is what clients see of a
    restart. SQLite has no server to restart; another connection holding the write lock is what
    makes it refuse a write (after its five-second busy timeout)."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self._sqlite: sqlite3.Connection | None = None
        self._admin = (
            create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            if self.url.get_backend_name() == "postgresql"
            else None
        )

    def stop(self) -> None:
        if self._admin is None:
            self._sqlite = sqlite3.connect(self.url.database, isolation_level=None, check_same_thread=False)
            self._sqlite.execute("BEGIN EXCLUSIVE")
            return
        name = self.url.database
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )

    def start(self) -> None:
        if self._admin is None:
            if self._sqlite is not None:
                self._sqlite.execute("ROLLBACK")
                self._sqlite.close()
                self._sqlite = None
            return
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.start()
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture
def database(database_url) -> Iterator[DatabaseDown]:
    down = DatabaseDown(database_url)
    yield down
    down.close()


@contextmanager
def _database_down(database: DatabaseDown, seconds: float | None) -> Iterator[None]:
    """The database down now, and back after `seconds` (None: when the block ends)."""
    database.stop()
    timer = threading.Timer(seconds, database.start) if seconds is not None else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        else:
            database.start()


def _stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def test_a_webhook_during_a_restart_waits_for_the_database_and_is_stored(
    app, db, database, post_whatsapp, whatsapp_payload
):
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200  # the pools hold live connections
    db.session.remove()
    with _database_down(database, seconds=1.0):
        response = post_whatsapp(whatsapp_payload("image"))
    assert response.status_code == 200, response.get_json()
    assert _stored(db) == 2
    assert len(Queue(WEBHOOKS, connection=redis_connection()).jobs) == 2


def test_a_webhook_the_database_cannot_take_in_time_is_answered_503_and_nothing_is_stored(
    app, db, database, post_whatsapp, whatsapp_payload, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_DATABASE_WAIT_SECONDS", 0.5)
    db.session.remove()
    with _database_down(database, seconds=None):
        response = post_whatsapp(whatsapp_payload("text"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert _stored(db) == 0
    assert Queue(WEBHOOKS, connection=redis_connection()).jobs == []

    assert post_whatsapp(whatsapp_payload("text")).status_code == 200  # Meta's redelivery
    assert _stored(db) == 1
