"""Request-wide behaviour: error pages (HTML or JSON), HTMX caching headers, template globals."""

from __future__ import annotations

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from wtforms import ValidationError

from portal.access import is_webhook, wants_json
from portal.icons import icon
from portal.navigation import visible_items
from portal.services.webhook_events import DatabaseUnavailable

# Ids are bigints: a larger number would make the database raise instead of finding nothing.
MAX_ID = 2**63 - 1
# Far beyond any list's last page, and small enough that page * page size stays a valid offset.
MAX_PAGE = 10**9


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number no row can have is a 404 at routing, not a database error.
    (NotFound, not the converter's `max`: beyond `max` Werkzeug answers 405 to methods other than GET.)"""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


def row_id(raw: str | None) -> int | None:
    """The id a request value names, or None when it is not a number any row can have."""
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def int_arg(name: str) -> int | None:
    """A query parameter naming a row (an id), or None when absent or not a possible id."""
    return row_id(request.args.get(name))


def page_arg() -> int:
    """The `page` query parameter: 1 when absent or not a number; 404 past any possible page."""
    raw = request.args.get("page", "")
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        return 1
    if int(raw) > MAX_PAGE:
        abort(404)
    return int(raw)


# Room for the multipart framing and the small fields (caption, csrf_token...) beside a file.
UPLOAD_FORM_OVERHEAD = 64 * 1024


class UploadTooLarge(Exception):
    """The request body is over the upload's limit: refused before it is read."""


def uploaded_file(largest_file: int, field: str = "file") -> FileStorage | None:
    """The request's file under `field` once the body is known to fit `largest_file`: a declared
    Content-Length over it is refused before a byte is read, and a body without one stops being
    read at the limit. Werkzeug spools a file part to a temporary file, not to memory, past 500 KB."""
    request.max_content_length = largest_file + UPLOAD_FORM_OVERHEAD
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise UploadTooLarge()
    try:
        return request.files.get(field)
    except RequestEntityTooLarge:
        raise UploadTooLarge() from None


def check_csrf(token: str | None) -> None:
    """The CSRF check of a view exempt from CSRFProtect because it takes a file: CSRFProtect would
    read the body under the app-wide 1 MiB limit before the view raises it (`uploaded_file`)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(token)
    except ValidationError as error:
        raise CSRFError(error.args[0]) from None


def filter_args(form) -> dict[str, str]:
    """A list's filters as query parameters for links to the same list (pages, CSV export): only
    the form's own fields. Request arguments never go into url_for as they came: `_external`,
    `_scheme` or a path argument's name would change where the link points."""
    return {f.name: f.raw_data[0] for f in form if f.raw_data and f.raw_data[0] and f.name != "csrf_token"}


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """An HTMX request that swaps part of a page. A history restore (Back after HTMX's history
    cache missed, or a reload of a pushed URL) is an HTMX request that wants the whole page."""
    return is_htmx() and request.headers.get("HX-History-Restore-Request") != "true"


def render_page(fragment: str, page: str, /, **context) -> str:
    """The one rendering path for HTMX: the fragment for a swap, else the page that includes it."""
    return render_template(fragment if wants_fragment() else page, **context)


def _error_response(error: HTTPException):
    messages = {
        400: _("The request could not be understood."),
        401: _("Authentication required."),
        403: _("You do not have permission to open this page."),
        404: _("Page not found."),
        405: _("Method not allowed."),
        413: _("The request body is too large."),
        429: _("Too many attempts. Wait a moment and try again."),
    }
    code = error.code or 500
    message = messages.get(code, error.description)
    if wants_json():
        return jsonify(error={"code": error.name.lower().replace(" ", "_"), "message": message}), code
    return render_template("errors/error.html", code=code, message=message), code


def _database_unavailable(error: DatabaseUnavailable):
    """A webhook the database could not take in time: the sender keeps it and delivers it again."""
    response = jsonify(error={"code": "database_unavailable", "message": "Not stored; send it again later."})
    response.headers["Retry-After"] = "30"
    return response, 503


def _refuse_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL, so a query or form value with one is a 400, not a 500.
    Multipart uploads are left to their views, which set their own size limits before parsing;
    the API answers its own 422 naming the offending field (portal.api.params)."""
    if request.blueprint == "api":
        return
    values = list(request.args.values())
    if request.mimetype == "application/x-www-form-urlencoded":
        values += request.form.values()
    if any("\x00" in value for value in values):
        abort(400)


class _SessionInterface(SecureCookieSessionInterface):
    """Webhook callers (Meta, the CRM) sign their bodies and carry no cookie, so their requests get
    an empty session that is never opened, read or saved: the ingest endpoint is the busiest path
    (docs/benchmarks.md 1a)."""

    def open_session(self, app: Flask, request):
        if is_webhook(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _add_headers(response):
    response.headers.add("Vary", "HX-Request")
    return response


def sla_clocks(conversations) -> dict:
    """The SLA timers of the conversations a list or board shows, by id (portal.services.sla.clocks)."""
    from portal.services import sla

    return sla.clocks(list(conversations))


def csat_survey(conversation):
    """The conversation's satisfaction survey for its details panel (portal.services.csat)."""
    from portal.services import csat

    return csat.for_conversation(conversation)


def csat_score_label(response) -> str | None:
    from portal.services import csat

    return csat.score_label(response)


def register(app: Flask) -> None:
    """Before any blueprint, so that every route's `<int:...>` uses IdConverter."""
    app.url_map.converters["int"] = IdConverter
    app.session_interface = _SessionInterface()
    app.register_error_handler(HTTPException, _error_response)
    app.register_error_handler(500, _error_response)
    app.register_error_handler(DatabaseUnavailable, _database_unavailable)
    app.before_request(_refuse_nul_characters)
    app.after_request(_add_headers)
    app.jinja_env.globals["nav_items"] = visible_items
    app.jinja_env.globals["filter_args"] = filter_args
    app.jinja_env.globals["icon"] = icon
    app.jinja_env.globals["sla_clocks"] = sla_clocks
    app.jinja_env.globals["csat_survey"] = csat_survey
    app.jinja_env.globals["csat_score_label"] = csat_score_label
