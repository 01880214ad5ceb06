"""Extensions created once and bound to the app in create_app()."""

import select

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@event.listens_for(Pool, "checkout")
def _discard_closed_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """What pool_pre_ping does, without its SELECT 1 round trip on every checkout (the webhook
    endpoint paid it on every request, docs/benchmarks.md 1a). An idle PostgreSQL connection has
    nothing to read unless the server closed it (a restart or pg_terminate_backend sends a FATAL
    notice, then closes), so a readable socket means it is gone: the pool discards it and connects
    afresh. SQLite connections are files, with nothing to check."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return
    if dbapi_connection.closed:
        raise exc.DisconnectionError("connection closed")
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed the connection")
