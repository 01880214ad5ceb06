from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.board import bp
from portal.board.forms import MoveForm
from portal.extensions import db
from portal.labels import label
from portal.models import ConversationStatus, Role
from portal.services import board, conversations, inboxes
from portal.web import int_arg, page_arg, render_page, wants_fragment


@bp.context_processor
def _board_helpers():
    return {"statuses": list(ConversationStatus)}


def _inbox_id() -> int | None:
    """The board's inbox filter (?inbox=ID), kept by the move forms."""
    return int_arg("inbox")


def _render_board(error: str | None = None, moved_id: int | None = None):
    return render_page(
        "board/_board.html",
        "board/index.html",
        columns=board.columns(current_user, _inbox_id()),
        inboxes=inboxes.all_inboxes(),
        inbox_id=_inbox_id(),
        error=error,
        moved_id=moved_id,
    )


@bp.route("")
@role_required(Role.supervisor)
def index():
    return _render_board()


@bp.route("/<status>")
@role_required(Role.supervisor)
def column(status: str):
    try:
        status = ConversationStatus(status)
    except ValueError:
        abort(404)
    page = page_arg()
    return render_template(
        "board/column.html",
        column=board.column_page(current_user, status, page, _inbox_id()),
        inbox_id=_inbox_id(),
        page=page,
        page_size=board.COLUMN_PAGE_SIZE,
    )


@bp.route("/cards/<int:conversation_id>/status", methods=["POST"])
@role_required(Role.supervisor)
def move(conversation_id: int):
    """Move a card: the card's own status form, or a drop on another column (app.js submits that form)."""
    conversation = board.visible_conversation(current_user, conversation_id) or abort(404)
    form = MoveForm()
    error = None
    if not form.validate_on_submit():
        error = _("Choose a status to move the card to.")
    else:
        try:
            if conversations.change_status(
                conversation, ConversationStatus(form.status.data), by=current_user
            ):
                db.session.commit()
        except conversations.ConversationError as refusal:
            db.session.rollback()
            error = str(refusal)
    if wants_fragment():
        # Errors come back 200 so HTMX swaps them in beside the board.
        return _render_board(error=error, moved_id=conversation_id)
    flash(
        error or _("Conversation #%(id)d moved to %(status)s.", id=conversation_id, status=label(ConversationStatus(form.status.data))),
        "error" if error else "success",
    )
    return redirect(url_for("board.index"))
