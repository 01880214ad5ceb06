"""The small requests of a live tab: presence beats and the unread count for the title."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.live import bp
from portal.models import Conversation, Role
from portal.services import assignment, conversations, inbox_queries, live


@bp.route("/conversations/<int:conversation_id>/presence", methods=["POST"])
@role_required(Role.agent)
def presence(conversation_id: int):
    """A tab showing this thread beats every few seconds ("viewing", "typing" while the reply box
    changes, "left" when it goes); the others viewing it hear the beat over their stream."""
    conversation = db.get_or_404(Conversation, conversation_id)
    state = request.form.get("state", "")
    refused = conversations.refusal_status(current_user, conversation)
    # Leaving a conversation one just handed to a colleague is still told, so their "also here"
    # clears at once; it says nothing about the conversation.
    if refused and not (refused == 403 and state == "left"):
        abort(refused)  # 404 outside the agent's inboxes: not even its existence is told
    if state not in live.PRESENCE_STATES:
        abort(400)
    live.publish_presence(current_user, conversation, state)
    return "", 204


@bp.route("/inbox/title-count")
@role_required(Role.agent)
def title_count():
    # Polled by every open tab, also while the stream is down: a sign of life for auto-assignment.
    assignment.note_online_and_assign([current_user.id])
    return jsonify(conversations=inbox_queries.unread_conversation_count(current_user))
