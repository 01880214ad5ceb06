"""Refuse to serve against a database whose schema is not the code's (docs: README, "Upgrading").

Web (gunicorn.conf.py) and workers (worker.py) compare the database's Alembic revision with the
migrations' head before they start; `flask --app wsgi db upgrade` and `init` do not, since they
are what brings the database up to date.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from portal.config import ConfigError
from portal.extensions import db, migrate


class SchemaMismatch(ConfigError):
    """The database's schema revision is not the code's head revision."""


def schema_mismatch(app: Flask) -> str | None:
    """One line saying what to do when the database is older or newer than the code, else None."""
    with app.app_context():
        script = ScriptDirectory.from_config(migrate.get_config())
        with db.engine.connect() as conn, _quiet_alembic():
            current = set(MigrationContext.configure(conn).get_current_heads())
        db.engine.dispose()  # gunicorn forks after this check: no connection may be shared
    code_heads = set(script.get_heads())
    if current == code_heads:
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        return (
            f"this database is newer than the code (schema {', '.join(sorted(current))}, "
            f"code {', '.join(sorted(code_heads))}): run the newer release, or restore a backup taken before the upgrade."
        )
    found = ", ".join(sorted(current)) or "none"
    return (
        f"the database schema is older than the code (schema {found}, code "
        f"{', '.join(sorted(code_heads))}): back it up, then run `flask --app wsgi db upgrade`."
    )


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic logs its dialect at INFO on every configure; the refusal should be the only line."""
    logger = logging.getLogger("alembic.runtime.migration")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def refuse_mismatched_schema(app: Flask) -> None:
    problem = schema_mismatch(app)
    if problem:
        raise SchemaMismatch([problem])
