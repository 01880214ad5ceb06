"""Values read once per unit of work: the settings, business hours per team, the enabled rules
(docs/architecture.md, "Caches"; docs/benchmarks.md, "1b with auto-rules").

An inbound message asks for the same few settings rows and the same team's hours many times over
(opt-out words, time zone, business hours and holidays once per rule condition...); read from the
database each time, they were most of the statements rules added per message. A `UnitValue` keeps
its value in `session.info` until the outermost transaction ends (commit or rollback), so the next
unit of work sees what other processes changed. A flush in this session that adds, deletes or
changes a row of a model a value is read from (optionally only some of its columns) drops the
value, and the rest of the unit of work reads it afresh each time: a savepoint rolled back
afterwards cannot leave a value the database no longer holds. A service that changes such rows
without flushing calls `forget` first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from portal.extensions import db

T = TypeVar("T")

_VALUES_KEY = "unit_cache.values"
_BYPASSED_KEY = "unit_cache.bypassed"
# key -> {model class: column names whose change drops the value (None: any change)}
_WATCHED: dict[str, dict[type, tuple[str, ...] | None]] = {}


class UnitValue(Generic[T]):
    """`load()`, once per unit of work; `watch` names the models (and columns) it is read from.
    Declared once, at import, so a change is noticed before the value is first read."""

    def __init__(self, key: str, load: Callable[[], T], watch: dict[type, Iterable[str] | None]):
        self.key, self.load = key, load
        _WATCHED[key] = {model: None if columns is None else tuple(columns) for model, columns in watch.items()}

    def get(self) -> T:
        info = db.session.info
        if self.key in info.get(_BYPASSED_KEY, ()):
            return self.load()
        values = info.setdefault(_VALUES_KEY, {})
        if self.key not in values:
            values[self.key] = self.load()
        return values[self.key]


def forget(model: type) -> None:
    """Rows of `model` are changing in this unit of work: every value read from them is read
    afresh from now on."""
    for key, watched in _WATCHED.items():
        if model in watched:
            _bypass(db.session, key)


def _bypass(session: Session, key: str) -> None:
    session.info.get(_VALUES_KEY, {}).pop(key, None)
    session.info.setdefault(_BYPASSED_KEY, set()).add(key)


def _changes(obj: Any, columns: tuple[str, ...] | None, session: Session) -> bool:
    if columns is None or obj in session.new or obj in session.deleted:
        return True
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in columns)


@sa_event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, _flush_context) -> None:
    flushed = (*session.new, *session.dirty, *session.deleted)
    if not flushed:
        return
    bypassed = session.info.get(_BYPASSED_KEY, set())
    for key, watched in _WATCHED.items():
        if key not in bypassed and any(
            isinstance(obj, model) and _changes(obj, columns, session)
            for obj in flushed
            for model, columns in watched.items()
        ):
            _bypass(session, key)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_after_the_unit_of_work(session: Session, transaction) -> None:
    # The outermost transaction only: a savepoint's end is not the end of the unit of work.
    if transaction.parent is None:
        session.info.pop(_VALUES_KEY, None)
        session.info.pop(_BYPASSED_KEY, None)
