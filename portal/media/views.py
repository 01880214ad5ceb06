from __future__ import annotations

from flask import abort, send_file
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.media import bp
from portal.models import Message, Role
from portal.services import conversations, media_files


@bp.route("/<int:message_id>")
@role_required(Role.agent)
def file(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    if not conversations.can_see(current_user, message.conversation):
        abort(403)
    path = media_files.stored_path(message)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=message.media_mime_type or "application/octet-stream",
        as_attachment=not media_files.shown_inline(message.media_mime_type),
        download_name=message.media_filename or path.name,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
