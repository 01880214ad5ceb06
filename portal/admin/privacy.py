"""Admin > Retention: how long each inbox keeps message text and media (portal.services.privacy).
A new policy is shown as a dry run (what it would clear now) before it is saved."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.admin import bp
from portal.admin.forms import ConfirmForm
from portal.extensions import db
from portal.models import Inbox, Role
from portal.services import inboxes, privacy


@bp.route("/retention")
@role_required(Role.admin)
def retention():
    rows = [(inbox, privacy.retention_months(inbox)) for inbox in inboxes.all_inboxes()]
    return render_template("admin/retention.html", rows=rows, form=ConfirmForm())


@bp.route("/retention/<int:inbox_id>", methods=["POST"])
@role_required(Role.admin)
def retention_set(inbox_id: int):
    inbox = db.get_or_404(Inbox, inbox_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("admin.retention"))
    raw = request.form.get("months", "")
    try:
        months = privacy.clean_months(raw)
    except privacy.PrivacyError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.retention"))
    if months is not None and request.form.get("confirmed") != "yes":
        return render_template(
            "admin/retention_confirm.html",
            inbox=inbox,
            months=months,
            count=privacy.retention_plan(inbox, months),
            form=form,
        )
    privacy.set_retention(inbox, months, by=current_user)
    db.session.commit()
    if months is None:
        flash(_("%(inbox)s keeps messages with no time limit.", inbox=inbox.name), "success")
    else:
        flash(
            _(
                "%(inbox)s now keeps message text and media for %(months)d months.",
                inbox=inbox.name,
                months=months,
            ),
            "success",
        )
    return redirect(url_for("admin.retention"))
