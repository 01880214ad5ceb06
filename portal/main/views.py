from flask import redirect, url_for
from sqlalchemy import select

from portal.access import public, role_required
from portal.extensions import db
from portal.main import bp
from portal.models import Role


@bp.route("/")
@role_required(Role.agent)
def home():
    return redirect(url_for("inbox.index"))


@bp.route("/healthz")
@public
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
