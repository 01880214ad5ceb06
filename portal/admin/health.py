"""The admin health page: queues, webhooks, sends, streams and requests at a glance."""

from flask import render_template

from portal.access import role_required
from portal.admin import bp
from portal.models import Role
from portal.ops import health as health_readings


@bp.route("/health")
@role_required(Role.admin)
def health():
    overall, requests = health_readings.readings()
    return render_template("admin/health.html", overall=overall, requests=requests)
