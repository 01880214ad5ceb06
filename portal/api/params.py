"""Reading API requests: the JSON body, typed query parameters, and keyset pagination.

Lists are ordered by a unique key and paged with an opaque cursor (the last row's key), so a
page never repeats or skips rows when others are added meanwhile, unlike an offset.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask import request
from flask_babel import gettext as _
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from portal.api.errors import ApiError, FieldErrors, validation_error
from portal.extensions import db
from portal.web import MAX_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
TAG_NAME_MAX_LENGTH = 60


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul(pairs) -> None:
    # PostgreSQL text cannot hold NUL characters: refuse them here rather than fail in the database.
    bad = [name for name, value in pairs if _has_nul([name, value])]
    if bad:
        raise validation_error({name.replace("\x00", ""): [_("Must not contain NUL characters.")] for name in bad})


def refuse_nul_in_query() -> None:
    """The API's before_request for query parameters (bodies are checked by json_object)."""
    _refuse_nul(request.args.items(multi=True))


def json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", _("Send a JSON object with Content-Type: application/json."))
    _refuse_nul(body.items())
    return body


def tag_name_problem(value: object) -> str | None:
    """Why `value` cannot name a tag, or None. Checked on the raw text, as the document states it."""
    if not isinstance(value, str) or not value.strip():
        return _("A tag needs a name.")
    if len(value) > TAG_NAME_MAX_LENGTH:
        return _("A tag name has at most %(max)d characters.", max=TAG_NAME_MAX_LENGTH)
    return None


def get_or_404(model: type, row_id: int):
    row = db.session.get(model, row_id) if row_id <= MAX_ID else None
    if row is None:
        raise ApiError(404, "not_found", _("Nothing with id %(id)s here.", id=row_id))
    return row


def one_of(enum_cls: type[StrEnum]) -> str:
    return _("Must be one of: %(values)s.", values=", ".join(m.value for m in enum_cls))


def query_enum(errors: FieldErrors, name: str, enum_cls: type[StrEnum]) -> StrEnum | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        errors.add(name, one_of(enum_cls))
        return None


def query_int(errors: FieldErrors, name: str, *, minimum: int = 1, maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        if maximum is None:
            errors.add(name, _("Must be a whole number of at least %(min)d.", min=minimum))
        else:
            errors.add(name, _("Must be a whole number from %(min)d to %(max)d.", min=minimum, max=maximum))
        return None
    return int(raw)


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None

    def as_json(self, serialize) -> dict[str, Any]:
        return {"data": [serialize(item) for item in self.items], "next_cursor": self.next_cursor}


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(raw: str, columns: tuple[InstrumentedAttribute, ...]) -> list[Any] | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(values, list) or len(values) != len(columns):
        return None
    decoded = []
    for value, column in zip(values, columns, strict=True):
        if column.type.python_type is datetime:
            if not isinstance(value, str):
                return None
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return None
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            return None
        decoded.append(value)
    return decoded


def paginate(errors: FieldErrors, stmt: Select, *order: InstrumentedAttribute) -> Page:
    """One page of `stmt` ordered by `order` (ascending; the last column must be unique),
    after the `cursor` query parameter, at most `limit` rows. Reports bad parameters to `errors`
    and raises them before querying."""
    limit = query_int(errors, "limit", maximum=MAX_LIMIT) or DEFAULT_LIMIT
    cursor = request.args.get("cursor")
    after = None
    if cursor is not None:
        after = _decode(cursor, order)
        if after is None:
            errors.add("cursor", _("Not a cursor from this list; use next_cursor from the previous page."))
    errors.raise_if_any()
    if after is not None:
        stmt = stmt.where(tuple_(*order) > tuple_(*after))
    rows = list(db.session.scalars(stmt.order_by(None).order_by(*order).limit(limit + 1)))
    next_cursor = _encode([getattr(rows[limit - 1], col.key) for col in order]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)
