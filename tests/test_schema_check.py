"""Web, stream server and workers refuse a database whose schema is older or newer than the code;
`flask db upgrade` still runs against it (portal/ops/schema.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db, migrate
from portal.ops.schema import schema_mismatch

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_app(tmp_path, redis_url):
    """An app on an empty SQLite database of its own."""
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}", "REDIS_URL": redis_url}
    )


def _set_revision(app, revision: str) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})
        db.session.commit()
        db.engine.dispose()


def test_a_migrated_database_passes(fresh_app):
    with fresh_app.app_context():
        upgrade()
    assert schema_mismatch(fresh_app) is None


def test_an_unmigrated_database_is_older_and_names_the_upgrade_command(fresh_app):
    problem = schema_mismatch(fresh_app)
    assert "older than the code" in problem
    assert "flask --app wsgi db upgrade" in problem
    assert "\n" not in problem


def test_a_database_one_migration_behind_is_older(fresh_app):
    with fresh_app.app_context():
        upgrade()
        script = ScriptDirectory.from_config(migrate.get_config())
    head = script.get_revision(script.get_current_head())
    _set_revision(fresh_app, head.down_revision)
    assert "older than the code" in schema_mismatch(fresh_app)


def test_a_database_from_a_newer_release_is_newer(fresh_app):
    with fresh_app.app_context():
        upgrade()
    _set_revision(fresh_app, "f0f0f0f0f0f0")
    problem = schema_mismatch(fresh_app)
    assert "this database is newer than the code" in problem
    assert "db upgrade" not in problem


def _run(args: list[str], database: Path, redis_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": redis_url, "ATENDE_ENV": "development"}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_worker_and_web_refuse_an_older_database_then_upgrade_runs(tmp_path, redis_url):
    database = tmp_path / "old.db"
    worker = _run([sys.executable, "worker.py", "--burst"], database, redis_url)
    assert worker.returncode != 0
    assert "flask --app wsgi db upgrade" in worker.stderr.strip().splitlines()[-1]
    web = _run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "wsgi:app"],
        database,
        redis_url,
    )
    assert web.returncode != 0
    assert "flask --app wsgi db upgrade" in web.stderr
    upgraded = _run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], database, redis_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert _run([sys.executable, "worker.py", "--burst"], database, redis_url).returncode == 0


def test_worker_refuses_a_newer_database(tmp_path, redis_url):
    database = tmp_path / "new.db"
    assert _run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], database, redis_url).returncode == 0
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'")
    worker = _run([sys.executable, "worker.py", "--burst"], database, redis_url)
    assert worker.returncode != 0
    assert "this database is newer than the code" in worker.stderr
