"""Opt-out (LGPD) pages for supervisors: the word lists and who opted out (/opt-out), and bringing a
contact back with a reason (portal.services.opt_out)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from portal.access import role_required
from portal.extensions import db
from portal.models import Contact, Role
from portal.outreach import bp
from portal.services import opt_out
from portal.web import page_arg

PER_PAGE = 50


@bp.route("/opt-out", methods=["GET", "POST"])
@role_required(Role.supervisor)
def opt_out_words():
    form = FlaskForm()
    error = None
    opt_out_raw = ", ".join(opt_out.opt_out_words())
    opt_in_raw = ", ".join(opt_out.opt_in_words())
    if request.method == "POST":
        opt_out_raw = request.form.get("opt_out_words", "")[:2000]
        opt_in_raw = request.form.get("opt_in_words", "")[:2000]
        if not form.validate_on_submit():
            abort(400)
        try:
            opt_out.set_words(opt_out.parse_words(opt_out_raw), opt_out.parse_words(opt_in_raw), by=current_user)
        except opt_out.OptOutError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(_("Opt-out words saved."), "success")
            return redirect(url_for("outreach.opt_out_words"))
    page = db.paginate(
        select(Contact).where(Contact.opted_out_at.is_not(None)).order_by(Contact.opted_out_at.desc(), Contact.id),
        page=page_arg(),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "outreach/opt_out.html", form=form, error=error, opt_out_raw=opt_out_raw, opt_in_raw=opt_in_raw, page=page
    ), (422 if error else 200)


@bp.route("/contacts/<int:contact_id>/opt-in", methods=["POST"])
@role_required(Role.supervisor)
def opt_in(contact_id: int):
    contact = db.session.get(Contact, contact_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        opt_out.opt_in(contact, by=current_user, reason=request.form.get("reason", ""))
    except opt_out.OptOutError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("%(name)s may receive campaigns again.", name=contact.name), "success")
    return redirect(url_for("contacts.detail", contact_id=contact.id))
