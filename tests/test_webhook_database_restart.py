"""A webhook that arrives while PostgreSQL restarts waits for it and is answered 200 once its row
is committed; one that would wait too long is answered 503 with Retry-After and nothing is
stored, so Meta's redelivery is the only copy (DESIGN: durability rule 1).

The restart is played by refusing new connections to the test database and cutting the open
ones, which is what clients see of a restart; the shared server itself keeps running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rq import Queue
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal.models import WebhookEvent
from portal.queue import WEBHOOKS, redis_connection


@pytest.fixture
def postgres(database_url):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("refusing connections needs a PostgreSQL server (TEST_DATABASE_URL)")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    yield admin, url.database
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true'))
    admin.dispose()


@contextmanager
def _database_down(postgres, seconds: float | None) -> Iterator[None]:
    """Refuse connections and cut the open ones; let them in again after `seconds` (None: on exit)."""
    admin, name = postgres

    def allow() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
    timer = threading.Timer(seconds, allow) if seconds is not None else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        else:
            allow()


def _stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def test_a_webhook_during_a_restart_waits_for_the_database_and_is_stored(
    app, db, postgres, post_whatsapp, whatsapp_payload
):
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200  # the pools hold live connections
    db.session.remove()
    with _database_down(postgres, seconds=1.0):
        response = post_whatsapp(whatsapp_payload("image"))
    assert response.status_code == 200, response.get_json()
    assert _stored(db) == 2
    assert len(Queue(WEBHOOKS, connection=redis_connection()).jobs) == 2


def test_a_webhook_the_database_cannot_take_in_time_is_answered_503_and_nothing_is_stored(
    app, db, postgres, post_whatsapp, whatsapp_payload, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_DATABASE_WAIT_SECONDS", 0.5)
    db.session.remove()
    with _database_down(postgres, seconds=None):
        response = post_whatsapp(whatsapp_payload("text"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert _stored(db) == 0
    assert Queue(WEBHOOKS, connection=redis_connection()).jobs == []

    assert post_whatsapp(whatsapp_payload("text")).status_code == 200  # Meta's redelivery
    assert _stored(db) == 1
