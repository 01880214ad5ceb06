"""/api/v1/conversations and their messages, scoped like the inbox: agents see conversations
assigned to them or unassigned, supervisors and admins see all (docs/architecture.md, "Roles and scopes")."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.access import role_required
from portal.api import bp
from portal.api.contacts import custom_fields_of
from portal.api.errors import ApiError, FieldErrors, validation_error
from portal.api.params import (
    MAX_ID,
    get_or_404,
    json_object,
    one_of,
    paginate,
    query_enum,
    query_int,
    tag_name_problem,
)
from portal.api.serializers import conversation_json, message_json
from portal.extensions import db
from portal.models import Agent, Conversation, ConversationStatus, Message, Priority, Role, Tag
from portal.services import conversations, custom_fields, notes, outbound


def _visible_conversation(conversation_id: int) -> Conversation:
    conversation = get_or_404(Conversation, conversation_id)
    refused = conversations.refusal_status(current_user, conversation)
    if refused == 404:
        raise ApiError(404, "not_found", _("Nothing with id %(id)s here.", id=conversation_id))
    if refused:
        raise ApiError(403, "forbidden", _("This conversation is assigned to another agent."))
    return conversation


def _assignee_filter(errors: FieldErrors, raw: str | None):
    if raw is None:
        return None
    if raw == "me":
        return Conversation.assigned_to == current_user.id
    if raw == "unassigned":
        return Conversation.assigned_to.is_(None)
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return Conversation.assigned_to == int(raw)
    errors.add("assignee", _('Must be "me", "unassigned" or an agent id.'))
    return None


@bp.route("/conversations", methods=["GET"])
@role_required(Role.agent)
def list_conversations():
    errors = FieldErrors()
    stmt = conversations.visible_to(current_user)
    status = query_enum(errors, "status", ConversationStatus)
    if status is not None:
        stmt = stmt.where(Conversation.status == status)
    priority = query_enum(errors, "priority", Priority)
    if priority is not None:
        stmt = stmt.where(Conversation.priority == priority)
    tag = request.args.get("tag")
    if tag is not None:
        stmt = stmt.where(Conversation.tags.any(Tag.name == conversations.normalize_tag_name(tag)))
    assignee = _assignee_filter(errors, request.args.get("assignee"))
    if assignee is not None:
        stmt = stmt.where(assignee)
    contact_id = query_int(errors, "contact_id", maximum=MAX_ID)
    if contact_id is not None:
        stmt = stmt.where(Conversation.contact_id == contact_id)
    return paginate(errors, stmt, Conversation.id).as_json(conversation_json)


@bp.route("/conversations/<int:conversation_id>", methods=["GET"])
@role_required(Role.agent)
def get_conversation(conversation_id: int):
    return conversation_json(_visible_conversation(conversation_id))


class ConversationChanges:
    """A PATCH body, type-checked before anything changes."""

    def __init__(self, body: dict) -> None:
        errors = FieldErrors()
        self.status = self.priority = self.assignee = self.tags = None
        self.custom_fields = custom_fields_of(body)
        self.assigns = "assigned_to" in body
        for name, enum_cls in (("status", ConversationStatus), ("priority", Priority)):
            if name in body:
                try:
                    setattr(self, name, enum_cls(body[name]))
                except ValueError:
                    errors.add(name, one_of(enum_cls))
        if self.assigns:
            self.assignee = self._agent(errors, body["assigned_to"])
        if "tags" in body:
            tags = body["tags"]
            problems = [tag_name_problem(t) for t in tags] if isinstance(tags, list) else [_("Must be a list.")]
            if any(problems):
                errors.add("tags", next(p for p in problems if p))
            else:
                self.tags = tags
        errors.raise_if_any()

    @staticmethod
    def _agent(errors: FieldErrors, value) -> Agent | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
            errors.add("assigned_to", _("Must be an agent id or null."))
            return None
        agent = db.session.get(Agent, value)
        if agent is None:
            errors.add("assigned_to", _("No agent with id %(id)s.", id=value))
        return agent

    def apply(self, conversation: Conversation, by: Agent) -> None:
        # First: a refused value changes nothing else.
        if self.custom_fields is not None:
            try:
                custom_fields.update_conversation(conversation, self.custom_fields, by=by)
            except custom_fields.CustomFieldError as exc:
                raise validation_error({f"custom_fields.{k}": [v] for k, v in exc.errors.items()}) from None
        if self.assigns:
            try:
                conversations.assign(conversation, self.assignee, by=by)
            except conversations.ConversationError as exc:
                # Moving a colleague's conversation is out of an agent's scope; anything else is bad input.
                status = 403 if isinstance(exc, conversations.NotYoursToMove) else 422
                raise ApiError(status, "validation_error" if status == 422 else "forbidden", str(exc)) from None
        if self.status is not None:
            try:
                conversations.change_status(conversation, self.status, by=by)
            except conversations.ConversationError as exc:
                raise ApiError(409, "conflict", str(exc)) from None
        if self.priority is not None:
            conversations.set_priority(conversation, self.priority, by=by)
        if self.tags is not None:
            conversations.set_tags(conversation, self.tags, by=by)


@bp.route("/conversations/<int:conversation_id>", methods=["PATCH"])
@role_required(Role.agent)
def update_conversation(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    changes = ConversationChanges(json_object())
    changes.apply(conversation, current_user._get_current_object())
    db.session.commit()
    return conversation_json(conversation)


@bp.route("/conversations/<int:conversation_id>/messages", methods=["GET"])
@role_required(Role.agent)
def list_messages(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    errors = FieldErrors()
    stmt = select(Message).where(Message.conversation_id == conversation.id)
    return paginate(errors, stmt, Message.sent_at, Message.id).as_json(message_json)


@bp.route("/conversations/<int:conversation_id>/messages", methods=["POST"])
@role_required(Role.agent)
def send_message(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    body = json_object().get("body")
    if not isinstance(body, str):
        raise validation_error({"body": [_("Must be a string.")]})
    try:
        message = outbound.queue_reply(conversation, body, by=current_user._get_current_object())
    except outbound.OutboundError as exc:
        raise ApiError(422, "cannot_send", str(exc)) from None
    db.session.commit()
    return message_json(message), 202


@bp.route("/conversations/<int:conversation_id>/notes", methods=["POST"])
@role_required(Role.agent)
def add_note(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    body = json_object().get("body")
    if not isinstance(body, str):
        raise validation_error({"body": [_("Must be a string.")]})
    try:
        message = notes.add_note(conversation, body, by=current_user._get_current_object())
    except notes.NoteError as exc:
        raise validation_error({"body": [str(exc)]}) from None
    db.session.commit()
    return message_json(message), 201
