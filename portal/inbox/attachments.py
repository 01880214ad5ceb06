"""The composer's attachments and voice notes (portal/static/attachments.js): one POST with the
file (or, for a quick reply that carries one, `quick_reply_id`), the reply box's text as its
caption and, for a recording, `voice` (docs/architecture.md, "Attachments")."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import csrf, db
from portal.inbox import bp
from portal.inbox.forms import ReplyForm
from portal.inbox.views import _after_send, _composer_context, _messages_context, _visible_conversation
from portal.models import Message, Role
from portal.services import attachments, quick_replies
from portal.services.outbound import OutboundError
from portal.web import UploadTooLarge, check_csrf, row_id, uploaded_file, wants_fragment


def _refused(conversation, reason: str, status: int, caption: str = ""):
    """The composer again with the reason (the reply box keeps its text), with a status that says
    what happened; attachments.js swaps it in."""
    db.session.rollback()
    form = ReplyForm(formdata=None, body=caption)
    if not wants_fragment():
        return render_template("errors/error.html", code=status, message=reason), status
    context = _composer_context(conversation, reply_form=form, error=reason) | _messages_context(conversation)
    return render_template("inbox/_composer_update.html", **context, messages_oob=True), status


@bp.route("/conversations/<int:conversation_id>/attachments", methods=["POST"])
@role_required(Role.agent)
@csrf.exempt
def send_attachment(conversation_id: int):
    # CSRFProtect would read the body under the app-wide 1 MiB limit before this view raises it
    # for the file: the token is checked here, from the header HTMX sends or the form's field.
    conversation = _visible_conversation(conversation_id)
    largest = attachments.largest_upload(conversation)
    header_token = request.headers.get("X-CSRFToken")
    try:
        if header_token is not None:
            check_csrf(header_token)
        upload = uploaded_file(largest)
        if header_token is None:
            check_csrf(request.form.get("csrf_token"))
    except UploadTooLarge:
        return _refused(
            conversation, _("The file is too large: WhatsApp takes at most %(size)s.", size=attachments.human_size(largest)), 413
        )
    caption = request.form.get("body", "")
    # A quick reply's file, picked in the composer (portal/static/quick_replies.js), when no file was.
    quick_reply_id = row_id(request.form.get("quick_reply_id")) if upload is None else None
    quick_reply = quick_replies.usable(current_user, quick_reply_id)
    if quick_reply_id is not None and quick_reply is None:
        return _refused(conversation, _("That quick reply no longer exists: choose another."), 422, caption)
    if upload is None and quick_reply is None:
        return _refused(conversation, _("Choose a file to send."), 422, caption)
    reply_to = None
    if (reply_to_id := row_id(request.form.get("reply_to"))) is not None:
        reply_to = db.session.get(Message, reply_to_id)
        if reply_to is not None and reply_to.conversation_id != conversation.id:
            reply_to = None
    try:
        if quick_reply is not None:
            message = quick_replies.send_attachment(conversation, quick_reply, caption, by=current_user, reply_to=reply_to)[-1]
        else:
            message = attachments.send_attachment(
                conversation,
                upload.stream,
                upload.filename,
                upload.mimetype,
                caption,
                by=current_user,
                voice=request.form.get("voice") == "1",
                reply_to=reply_to,
            )
    except attachments.AttachmentError as error:
        return _refused(conversation, str(error), error.status, caption)
    except OutboundError as error:
        return _refused(conversation, str(error), 422, caption)
    stored = message.media_url
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        attachments.discard(stored)
        raise
    return _after_send(conversation)


@bp.app_template_global()
def attachment_rules(conversation) -> dict:
    """What attachments.js checks before an upload: each kind's MIME types and largest size, and
    the MIME type of each extension the channel takes (for files the browser gives no type)."""
    kinds = attachments.kinds_for(conversation)
    return {
        "kinds": [
            {
                "name": kind.name,
                "label": attachments.kind_label(kind.name),
                "types": sorted(kind.mime_types),
                "max": kind.max_bytes,
                "maxText": attachments.human_size(kind.max_bytes),
            }
            for kind in kinds
        ],
        "aliases": attachments.ALIASES,
        "extensions": attachments.extensions_of(kinds),
    }

