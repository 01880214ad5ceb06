"""POST /api/v1/conversations/<id>/attachments: an image, audio, video or document as
multipart/form-data, checked and sent like the composer's (docs/architecture.md, "Attachments")."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.api import bp
from portal.api.conversations import _visible_conversation
from portal.api.errors import ApiError, validation_error
from portal.api.serializers import message_json
from portal.extensions import db
from portal.models import Role
from portal.services import attachments
from portal.web import UploadTooLarge, uploaded_file


@bp.route("/conversations/<int:conversation_id>/attachments", methods=["POST"])
@role_required(Role.agent)
def send_attachment(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    largest = attachments.largest_upload(conversation)
    try:
        upload = uploaded_file(largest)
    except UploadTooLarge:
        raise ApiError(
            413, "too_large", _("The file is too large: WhatsApp takes at most %(size)s.", size=attachments.human_size(largest))
        ) from None
    if upload is None:
        raise validation_error({"file": [_("Choose a file to send.")]})
    voice = request.form.get("voice", "false")
    if voice not in ("true", "false"):
        raise validation_error({"voice": [_("Must be true or false.")]})
    try:
        message = attachments.send_attachment(
            conversation,
            upload.stream,
            upload.filename,
            upload.mimetype,
            request.form.get("caption", ""),
            by=current_user._get_current_object(),
            voice=voice == "true",
        )
    except attachments.AttachmentError as error:
        raise ApiError(error.status, "too_large" if error.status == 413 else "cannot_send", str(error)) from None
    stored = message.media_url
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        attachments.discard(stored)
        raise
    return message_json(message), 202
