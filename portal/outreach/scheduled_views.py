"""Scheduled messages on a conversation: schedule (free text or a template) and cancel, from the
conversation's details pane (portal.services.scheduled_messages)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.access import role_required
from portal.extensions import db
from portal.models import Conversation, MessageTemplate, Role, ScheduledMessage
from portal.outreach import bp
from portal.services import conversations, scheduled_messages, settings, templates
from portal.web import row_id


@bp.app_context_processor
def _scheduled_helpers():
    return {
        "scheduled_for": scheduled_messages.pending_for,
        "schedulable_templates": lambda conversation: [
            t for t in templates.sendable_templates(conversation.inbox) if not templates.needs_extra_parameters(t)
        ],
        "installation_time_zone": settings.time_zone,
        # In Python: a template's "{{1}}" inside a Jinja string confuses the markup checks.
        "param_label": lambda number: _("Value for {{%(number)d}}", number=number),
        "param_text_label": lambda number: _("Text for {{%(number)d}}", number=number),
    }


@bp.app_template_filter("placeholder_count")
def _placeholder_count(body: str) -> int:
    return templates.placeholder_count(body)


def _visible(conversation_id: int) -> Conversation:
    conversation = db.get_or_404(Conversation, conversation_id)
    refused = conversations.refusal_status(current_user, conversation)
    if refused:
        abort(refused)
    return conversation


def _back(conversation: Conversation):
    return redirect(url_for("inbox.thread", conversation_id=conversation.id) + "#scheduled-messages")


@bp.route("/conversations/<int:conversation_id>/scheduled", methods=["POST"])
@role_required(Role.agent)
def schedule(conversation_id: int):
    conversation = _visible(conversation_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    template_id = row_id(request.form.get("template_id"))
    template = db.session.get(MessageTemplate, template_id) if template_id is not None else None
    try:
        row = scheduled_messages.schedule(
            conversation,
            by=current_user,
            send_at=scheduled_messages.parse_local(request.form.get("send_at", "")[:40]),
            body=None if template else request.form.get("body", ""),
            template=template,
            params=request.form.getlist("params"),
        )
    except scheduled_messages.ScheduleError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(conversation)
    db.session.commit()
    flash(_("Scheduled for %(when)s.", when=format_datetime(row.send_at, "short")), "success")
    return _back(conversation)


@bp.route("/conversations/<int:conversation_id>/scheduled/<int:scheduled_id>/cancel", methods=["POST"])
@role_required(Role.agent)
def cancel_scheduled(conversation_id: int, scheduled_id: int):
    conversation = _visible(conversation_id)
    row = db.session.get(ScheduledMessage, scheduled_id)
    if row is None or row.conversation_id != conversation.id:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        scheduled_messages.cancel(row, by=current_user)
    except scheduled_messages.ScheduleError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Scheduled message cancelled."), "success")
    return _back(conversation)
