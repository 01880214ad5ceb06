"""Campaign pages: the list, the form (audience, template mapping, rate, time), the draft's
preview with its per-row errors and exclusions, and the campaign's live page with its controls."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from portal.access import role_required
from portal.campaigns import bp
from portal.extensions import csrf, db
from portal.models import Campaign, CampaignStatus, Inbox, MessageTemplate, Role, Tag
from portal.services import (
    campaigns,
    contact_admin,
    inboxes,
    scheduled_messages,
    send_rate,
    settings,
    templates,
)
from portal.web import page_arg, render_page, row_id

PER_PAGE = 50
# Audience spreadsheets may be as big as the contact import's.
CSV_MAX_BYTES = 5 * 1024 * 1024

ACTIONS = {
    "pause": campaigns.pause,
    "resume": campaigns.resume,
    "cancel": campaigns.cancel,
}


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


@bp.route("")
@role_required(Role.supervisor)
def index():
    rows = db.session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(200)).all()
    return render_template("campaigns/index.html", campaigns=rows, progress=campaigns.progress)


def _form_context(values: dict, errors: dict[str, str] | None = None) -> dict:
    inbox = db.session.get(Inbox, row_id(values.get("inbox_id"))) if values.get("inbox_id") else None
    offered = templates.sendable_templates(inbox) if inbox is not None else []
    template = next((t for t in offered if t.id == row_id(values.get("template_id"))), None)
    return {
        "values": values,
        "errors": errors or {},
        "inboxes": inboxes.all_inboxes(),
        "inbox": inbox,
        "offered": offered,
        "template": template,
        "placeholders": templates.placeholder_count(template.body) if template else 0,
        "header": templates.header_parameter(template) if template else None,
        "buttons": templates.parameter_buttons(template) if template else [],
        "header_kind_label": templates.header_kind_label,
        "fields": campaigns.param_choices(),
        "tags": db.session.scalars(select(Tag.name).order_by(Tag.name)).all(),
        "cities": contact_admin.cities(),
        "default_rate": send_rate.default_rate(),
        "max_rate": send_rate.MAX_RATE,
        "time_zone": settings.time_zone(),
        "form": FlaskForm(),
    }


@bp.route("/new", methods=["GET"])
@role_required(Role.supervisor)
def new():
    values = request.args.to_dict()
    values.setdefault("rate", str(send_rate.default_rate()))
    return render_template("campaigns/new.html", **_form_context(values))


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _mapping(key: str) -> str:
    """A parameter's choice on the form: a contact field, or "text:" and the text typed beside it."""
    chosen = request.form.get(key, "")
    return campaigns.TEXT_PREFIX + request.form.get(f"{key}_text", "") if chosen == "text" else chosen


@bp.route("/new", methods=["POST"])
@role_required(Role.supervisor)
@csrf.exempt
def create():
    # As the contact import: CSRFProtect would read the upload under the app-wide limit first; the
    # form's own token is checked below.
    request.max_content_length = CSV_MAX_BYTES
    values = request.form.to_dict()
    if not FlaskForm().validate_on_submit():
        abort(400)
    errors: dict[str, str] = {}
    param_fields = []
    for number in range(1, 21):
        if f"param_{number}" not in request.form:
            break
        param_fields.append(_mapping(f"param_{number}"))
    button_fields = [_mapping(f"button_{n}") for n in range(1, 11) if f"button_{n}" in request.form]
    send_at = None
    if request.form.get("when") == "later":
        try:
            send_at = scheduled_messages.parse_local(request.form.get("send_at", "")[:40])
        except scheduled_messages.ScheduleError as error:
            errors["send_at"] = str(error)
    try:
        upload = request.files.get("csv")
        if upload is not None and upload.filename:
            audience = campaigns.audience_from_csv(upload.read(), by=current_user)
        else:
            audience = campaigns.Audience(
                tags=[t for t in request.form.getlist("tags") if t.strip()][:20],
                city=request.form.get("city", "").strip()[:120],
                inbox_id=row_id(request.form.get("audience_inbox_id")),
            )
        if errors:
            raise campaigns.CampaignError(errors)
        campaign = campaigns.create_draft(
            name=request.form.get("name", ""),
            inbox=db.session.get(Inbox, row_id(request.form.get("inbox_id"))) if row_id(request.form.get("inbox_id")) else None,
            template=db.session.get(MessageTemplate, row_id(request.form.get("template_id")))
            if row_id(request.form.get("template_id")) else None,
            param_fields=param_fields,
            header_field=_mapping("header_param"),
            header_link=request.form.get("header_link", "")[:2000],
            header_filename=request.form.get("header_filename", "")[:255],
            button_fields=button_fields,
            audience=audience,
            rate=_int(request.form.get("rate")),
            send_at=send_at,
            by=current_user,
        )
    except campaigns.CampaignError as error:
        db.session.rollback()
        return render_template("campaigns/new.html", **_form_context(values, {**errors, **error.errors})), 422
    db.session.commit()
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


def _detail_context(campaign: Campaign) -> dict:
    page = db.paginate(campaigns.recipients_page(campaign), page=page_arg(), per_page=PER_PAGE, error_out=False)
    return {
        "campaign": campaign,
        "progress": campaigns.progress(campaign),
        "page": page,
        "preview": campaigns.preview(campaign) if campaign.status == CampaignStatus.draft else [],
        "state_of": campaigns.recipient_state,
        "reason_of": campaigns.exclusion_reason,
        "form": FlaskForm(),
        "live": campaign.status in (CampaignStatus.running, CampaignStatus.scheduled, CampaignStatus.paused),
    }


@bp.route("/<int:campaign_id>")
@role_required(Role.supervisor)
def detail(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    return render_page("campaigns/_progress.html", "campaigns/detail.html", **_detail_context(campaign))


@bp.route("/<int:campaign_id>/confirm", methods=["POST"])
@role_required(Role.supervisor)
def confirm(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        campaigns.confirm(campaign, by=current_user)
    except campaigns.CampaignError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Campaign confirmed."), "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/control", methods=["POST"])
@role_required(Role.supervisor)
def control(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    action = request.form.get("action", "")
    if not FlaskForm().validate_on_submit() or action not in ACTIONS:
        abort(400)
    try:
        ACTIONS[action](campaign, by=current_user)
    except campaigns.CampaignError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/recipients.csv")
@role_required(Role.supervisor)
def export(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    delimiter = ";" if str(get_locale() or "").startswith("pt") else ","
    response = Response(campaigns.export_csv(campaign, delimiter=delimiter), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=campaign-{campaign.id}.csv"
    return response
