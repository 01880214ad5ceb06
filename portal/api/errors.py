"""The API's one error shape: {"error": {"code": "...", "message": "...", "fields": {...}}}.

`fields` appears only on validation errors and maps a field (or query parameter) to its messages.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal.extensions import db


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


class FieldErrors:
    """Collects every problem of a request so the client sees them all at once (422)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_error(self.errors)


def validation_error(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(422, "validation_error", _("Some fields are not valid."), fields)


def error_response(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None):
    # A refused request changes nothing, even if a service had already applied part of it.
    db.session.rollback()
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status


def _api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.fields)


def _http_error(error: HTTPException):
    code = error.code or 500
    return error_response(code, (error.name or "error").lower().replace(" ", "_"), error.description or "")


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(HTTPException, _http_error)
