import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from portal.access import role_required
from portal.models import ConversationStatus, Role
from portal.reports import bp
from portal.reports.chart import day_chart
from portal.reports.forms import ReportFilterForm
from portal.services import reports, settings, sla
from portal.services.spreadsheet import safe_cell
from portal.web import render_page


@bp.app_template_filter("duration")
def _duration_filter(seconds: int | None) -> str:
    return "—" if seconds is None else sla.format_duration(seconds)


def _filter_form() -> ReportFilterForm:
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.time_zone())).date()
    return ReportFilterForm(request.args or None, today=today)


@bp.route("")
@role_required(Role.supervisor)
def index():
    form = _filter_form()
    report = reports.build(form.to_filter()) if form.validate() else None
    return render_page(
        "reports/_report.html",
        "reports/index.html",
        form=form,
        report=report,
        chart=day_chart(report.per_day) if report else None,
        closed_states=ConversationStatus.closed_states(),
    )


@bp.route("/export.csv")
@role_required(Role.supervisor)
def export_csv():
    form = _filter_form()
    if not form.validate():
        return render_template("reports/index.html", form=form, report=None, chart=None), 200
    filters = form.to_filter()
    buffer = io.StringIO()
    rows = reports.csv_rows(reports.build(filters))
    csv.writer(buffer).writerows([safe_cell(cell) for cell in row] for row in rows)
    filename = f"atende-report-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
