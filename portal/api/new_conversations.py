"""POST /api/v1/conversations: write first to a contact from one of the token agent's inboxes,
with an approved template, or free text where the channel allows it now
(portal.services.outreach; docs/architecture.md, "Proactive messaging")."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.api import bp
from portal.api.errors import ApiError, FieldErrors
from portal.api.params import MAX_ID, json_object
from portal.api.serializers import conversation_json, message_json
from portal.extensions import db
from portal.models import Inbox, MessageTemplate, Role
from portal.services import outreach, templates


def _id(errors: FieldErrors, name: str, value) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        errors.add(name, _("Must be an id."))
        return None
    return value


def _text(errors: FieldErrors, name: str, value, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        errors.add(name, _("Must be a string of at most %(max)d characters.", max=limit))
        return None
    return value


class StartRequest:
    """The body, type-checked before anything is looked up."""

    def __init__(self, body: dict) -> None:
        errors = FieldErrors()
        self.inbox_id = _id(errors, "inbox_id", body.get("inbox_id"))
        if "inbox_id" not in body:
            errors.add("inbox_id", _("Required."))
        self.contact_id = _id(errors, "contact_id", body.get("contact_id"))
        contact = body.get("contact")
        self.phone = self.name = None
        if contact is not None:
            if not isinstance(contact, dict):
                errors.add("contact", _("Must be an object with phone and name."))
            else:
                self.phone = _text(errors, "contact.phone", contact.get("phone"), 40)
                self.name = _text(errors, "contact.name", contact.get("name"), 200)
        if (self.contact_id is None) == (self.phone is None) and "contact_id" not in errors.errors:
            errors.add("contact_id", _("Give either contact_id or contact.phone."))
        self.template_id = _id(errors, "template_id", body.get("template_id"))
        params = body.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) and len(p) <= 1000 for p in params):
            errors.add("params", _("Must be a list of strings."))
            params = []
        self.params = params
        # A synced template's header ({"text"} or {"link", "filename"?}) and button values.
        header = body.get("header") or {}
        if not isinstance(header, dict):
            errors.add("header", _("Must be an object with text, or link and filename."))
            header = {}
        self.header_text = _text(errors, "header.text", header.get("text"), 1000) or ""
        self.header_link = _text(errors, "header.link", header.get("link"), 2000) or ""
        self.header_filename = _text(errors, "header.filename", header.get("filename"), 255) or ""
        buttons = body.get("buttons", [])
        if not isinstance(buttons, list) or not all(isinstance(b, str) and len(b) <= 1000 for b in buttons):
            errors.add("buttons", _("Must be a list of strings."))
            buttons = []
        self.buttons = buttons
        self.body = _text(errors, "body", body.get("body"), 65536)
        if (self.template_id is None) == (self.body is None) and "template_id" not in errors.errors:
            errors.add("body", _("Give either template_id (with params) or body."))
        errors.raise_if_any()


@bp.route("/conversations", methods=["POST"])
@role_required(Role.agent)
def start_conversation():
    started = StartRequest(json_object())
    template = None
    if started.template_id is not None:
        template = db.session.get(MessageTemplate, started.template_id)
        if template is None:
            raise ApiError(422, "validation_error", _("Some fields are not valid."),
                           {"template_id": [_("No template with id %(id)s.", id=started.template_id)]})
    agent = current_user._get_current_object()
    try:
        contact = outreach.contact_for(contact_id=started.contact_id, phone=started.phone, name=started.name, by=agent)
        message = outreach.start(
            contact,
            db.session.get(Inbox, started.inbox_id),
            by=agent,
            body=started.body,
            template=template,
            params=templates.clean_parameters(
                started.params,
                started.header_text,
                started.header_link,
                started.header_filename,
                started.buttons,
                template=template,
            )
            if template is not None
            else None,
        )
    except outreach.OutreachError as error:
        fields = {("contact_id" if k == "contact" else "inbox_id" if k == "inbox" else "body"): [v]
                  for k, v in error.errors.items()}
        raise ApiError(422, "cannot_send", str(error), fields) from None
    db.session.commit()
    conversation = message.conversation
    response = {"conversation": conversation_json(conversation), "message": message_json(message)}
    location = url_for("api.get_conversation", conversation_id=conversation.id)
    return response, 201, {"Location": location}
