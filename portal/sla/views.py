from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.models import Role, utcnow
from portal.services import settings, sla
from portal.services.business_time import is_open
from portal.sla import bp
from portal.sla.forms import PRIORITIES, WEEKDAYS, SlaSettingsForm


@bp.route("", methods=["GET", "POST"])
@role_required(Role.supervisor)
def index():
    hours, tz = settings.business_hours(), settings.time_zone()
    form = SlaSettingsForm(
        data=SlaSettingsForm.initial(
            settings.sla_targets(),
            hours,
            tz,
            settings.holidays(),
            settings.out_of_hours_cooldown_hours(),
            settings.sla_warning_percent(),
        )
    )
    if form.validate_on_submit():
        sla.save_settings(form.chosen_targets(), form.chosen_hours(), form.time_zone.data, by=current_user)
        settings.put("holidays", form.holidays.form.chosen().to_json(), by=current_user)
        cooldown = form.out_of_hours_cooldown.data or settings.DEFAULT_OUT_OF_HOURS_COOLDOWN_HOURS
        settings.put("out_of_hours_cooldown_hours", cooldown, by=current_user)
        warning = form.warning_percent.data or settings.DEFAULT_SLA_WARNING_PERCENT
        settings.put("sla_warning_percent", warning, by=current_user)
        db.session.commit()
        flash(_("SLA settings saved."), "success")
        return redirect(url_for("sla.index"))
    return render_template(
        "sla/index.html",
        form=form,
        priorities=PRIORITIES,
        weekdays=WEEKDAYS,
        hours=hours,
        open_now=is_open(utcnow(), hours, tz),
    )
