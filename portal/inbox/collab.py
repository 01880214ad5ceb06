"""Working together on a conversation: internal notes with @mentions, the Mentions list, transfers
with a note, and snoozes (docs/architecture.md, "Notes, transfers and snoozes")."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.inbox import bp, views
from portal.models import Agent, Conversation, Role
from portal.services import conversations, notes, settings, snooze, thread_lines, transcripts
from portal.services.conversations import ConversationError
from portal.web import row_id, wants_fragment


@bp.app_template_global()
def unseen_mentions() -> int:
    """The count beside "Mentions" in the navigation."""
    return notes.unseen_count(current_user) if current_user.is_authenticated else 0


@bp.context_processor
def _collab_helpers():
    return {
        "mentionable": notes.mentionable,
        "describe_internal": thread_lines.describe,
    }


@bp.route("/conversations/<int:conversation_id>/notes", methods=["POST"])
@role_required(Role.agent)
def add_note(conversation_id: int):
    conversation = views._visible_conversation(conversation_id)
    body = request.form.get("note", "")
    error = None
    try:
        notes.add_note(conversation, body, by=current_user._get_current_object())
    except ConversationError as exc:
        db.session.rollback()
        error = str(exc)
    else:
        db.session.commit()
        body = ""
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    return render_template(
        "inbox/_note_update.html", **views._messages_context(conversation), messages_oob=True,
        note_shown=True, note_body=body, note_error=error,
    )


def _change_and_show(conversation: Conversation, change: Callable[[], object]):
    """Run a transfer or a snooze (a refusal rolls back and is shown), commit, and answer the
    conversation's panes again, or, when the agent may no longer see it (handed to a colleague),
    the inbox."""
    error = None
    try:
        change()
    except ConversationError as exc:
        db.session.rollback()
        error = str(exc)
    else:
        db.session.commit()
    if not conversations.can_see(current_user, conversation):
        if wants_fragment():
            response = make_response("", 204)
            response.headers["HX-Redirect"] = url_for("inbox.index")
            return response
        return redirect(url_for("inbox.index"))
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    context = (
        views._messages_context(conversation)
        | views._details_context(conversation)
        | views._composer_context(conversation)
    )
    return render_template("inbox/_conversation_pane.html", list_args={}, actions_error=error, **context)


@bp.route("/conversations/<int:conversation_id>/transfer", methods=["POST"])
@role_required(Role.agent)
def transfer(conversation_id: int):
    conversation = views._visible_conversation(conversation_id)
    to_id = row_id(request.form.get("to"))
    to = db.session.get(Agent, to_id) if to_id is not None else None

    def hand_over():
        if to is None:
            raise ConversationError(_("Choose who receives the conversation."))
        notes.transfer(conversation, to, request.form.get("note"), by=current_user._get_current_object())

    return _change_and_show(conversation, hand_over)


@bp.route("/conversations/<int:conversation_id>/snooze", methods=["POST"])
@role_required(Role.agent)
def snooze_conversation(conversation_id: int):
    conversation = views._visible_conversation(conversation_id)

    def put_away():
        until = snooze.until_for(request.form.get("until", ""), request.form.get("at", ""), settings.time_zone())
        snooze.snooze(conversation, until, by=current_user._get_current_object())

    return _change_and_show(conversation, put_away)


@bp.route("/conversations/<int:conversation_id>/unsnooze", methods=["POST"])
@role_required(Role.agent)
def unsnooze_conversation(conversation_id: int):
    conversation = views._visible_conversation(conversation_id)
    return _change_and_show(conversation, lambda: snooze.unsnooze(conversation, by=current_user._get_current_object()))


@bp.route("/mentions")
@role_required(Role.agent)
def mentions():
    """The notes that mention the agent, newest first; opening the list marks them seen."""
    agent = current_user._get_current_object()
    rows = notes.mentions_of(agent)
    unseen = {m.id for m in rows if m.seen_at is None}
    notes.mark_seen(agent)
    db.session.commit()
    return render_template("inbox/mentions.html", mentions=rows, unseen=unseen)


@bp.route("/conversations/<int:conversation_id>/transcript.csv")
@role_required(Role.agent)
def transcript(conversation_id: int):
    """The thread as CSV, notes and activity lines included (and named as such)."""
    conversation = views._visible_conversation(conversation_id)
    text = transcripts.csv_text(conversation, by=current_user._get_current_object())
    db.session.commit()
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="atende-conversation-{conversation.id}.csv"'},
    )
