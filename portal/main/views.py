from flask import current_app, redirect, render_template, url_for
from sqlalchemy import func, select

from portal.access import public, role_required
from portal.extensions import db
from portal.main import bp
from portal.models import Conversation, ConversationStatus, Role


@bp.route("/")
@role_required(Role.agent)
def home():
    if "inbox.index" in current_app.view_functions:
        return redirect(url_for("inbox.index"))
    counts = dict(
        db.session.execute(select(Conversation.status, func.count()).group_by(Conversation.status)).all()
    )
    return render_template("main/home.html", counts=counts, statuses=list(ConversationStatus))


@bp.route("/healthz")
@public
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
