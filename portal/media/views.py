from __future__ import annotations

import re

from flask import abort, send_file
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.media import bp
from portal.models import Message, Role
from portal.services import conversations, media_files

# type/subtype and nothing else: what WhatsApp reported is stored as it came.
_MIME_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")


def _header_safe_mime_type(mime_type: str | None) -> str:
    base = (mime_type or "").split(";")[0].strip()
    return base if _MIME_TYPE.fullmatch(base) else "application/octet-stream"


def _header_safe_filename(name: str) -> str:
    """The stored filename without control characters (CR/LF would end the header)."""
    return "".join(ch for ch in name if ch.isprintable()).strip() or "file"


@bp.route("/<int:message_id>")
@role_required(Role.agent)
def file(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    refused = conversations.refusal_status(current_user, message.conversation)
    if refused:
        abort(refused)
    path = media_files.stored_path(message)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=_header_safe_mime_type(message.media_mime_type),
        as_attachment=not media_files.shown_inline(message.media_mime_type),
        download_name=_header_safe_filename(message.media_filename or path.name),
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
