import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from portal import labels
from portal.access import role_required
from portal.admin import bp, queries
from portal.admin.forms import (
    AgentForm,
    AuditFilterForm,
    NewAgentForm,
    ResetPasswordForm,
    ResetTwoFactorForm,
    RuntimeSettingsForm,
    TestMessageForm,
    TwoFactorPolicyForm,
    WebhookEventFilterForm,
)
from portal.admin.inboxes import chosen_inboxes, offer_inboxes
from portal.channels.whatsapp import test_send
from portal.extensions import db
from portal.models import Agent, Inbox, Role, WebhookEvent, WebhookStatus
from portal.pii import mask_text
from portal.services import admin_settings, agent_admin, api_tokens, audit, dead_letters, settings, two_factor
from portal.services import inboxes as inbox_service
from portal.services import webhook_events as webhook_event_service
from portal.services.agents import AgentError
from portal.web import page_arg, render_page, row_id, wants_fragment


def _agent_or_404(agent_id: int) -> Agent:
    return db.session.get(Agent, agent_id) or abort(404)


def _event_or_404(event_id: int) -> WebhookEvent:
    return db.session.get(WebhookEvent, event_id) or abort(404)


@bp.app_template_filter("webhook_error")
def _webhook_error(text: str | None) -> str:
    return webhook_event_service.readable_error(text)


def _page() -> int:
    return page_arg()


@bp.route("")
@role_required(Role.admin)
def index():
    failed_jobs = sum(q.failed for q in dead_letters.queue_counts())
    failed_events = db.session.query(WebhookEvent).filter_by(status=WebhookStatus.failed).count()
    return render_template("admin/index.html", failed_jobs=failed_jobs, failed_events=failed_events)


# --- agents -------------------------------------------------------------------------------------


@bp.route("/agents")
@role_required(Role.admin)
def agents():
    policy_form = TwoFactorPolicyForm(data={"required": two_factor.required_setting()})
    return render_template("admin/agents.html", agents=queries.agents(), policy_form=policy_form)


def _show_link(agent: Agent, token: str, heading: str):
    link = url_for("profile.set_password", token=token, _external=True)
    return render_template("admin/set_password_link.html", agent=agent, link=link, heading=heading)


@bp.route("/agents/new", methods=["GET", "POST"])
@role_required(Role.admin)
def agent_new():
    form = NewAgentForm()
    offer_inboxes(form, None)
    if form.validate_on_submit():
        try:
            agent, token = agent_admin.create(
                name=form.name.data,
                email=form.email.data,
                role=form.role.data,
                temporary_password=form.temporary_password.data or None,
                by=current_user,
            )
            inbox_service.set_agent_inboxes(agent, chosen_inboxes(form), by=current_user)
        except AgentError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            if token:
                return _show_link(agent, token, _("Agent created"))
            flash(_("%(name)s can now sign in with the temporary password.", name=agent.name), "success")
            return redirect(url_for("admin.agents"))
    return render_template("admin/agent_form.html", form=form, agent=None)


@bp.route("/agents/<int:agent_id>", methods=["GET", "POST"])
@role_required(Role.admin)
def agent_edit(agent_id: int):
    agent = _agent_or_404(agent_id)
    form = AgentForm(obj=agent)
    offer_inboxes(form, agent)
    if form.validate_on_submit():
        try:
            agent_admin.update(
                agent, name=form.name.data, email=form.email.data, role=form.role.data, by=current_user
            )
            inbox_service.set_agent_inboxes(agent, chosen_inboxes(form), by=current_user)
        except AgentError as exc:
            db.session.rollback()
            field = form.role if isinstance(exc, agent_admin.LastAdminError) else form.email
            field.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(name)s was saved.", name=agent.name), "success")
            return redirect(url_for("admin.agents"))
    return _agent_page(agent, form, ResetPasswordForm())


def _agent_page(
    agent: Agent, form: AgentForm, reset_form: ResetPasswordForm, two_factor_form: ResetTwoFactorForm | None = None
):
    return render_template(
        "admin/agent_form.html",
        form=form,
        agent=agent,
        reset_form=reset_form,
        two_factor_form=two_factor_form or ResetTwoFactorForm(formdata=None),
        tokens=api_tokens.list_for(agent),
    )


@bp.route("/agents/<int:agent_id>/deactivate", methods=["POST"])
@role_required(Role.admin)
def agent_deactivate(agent_id: int):
    agent = _agent_or_404(agent_id)
    try:
        agent_admin.deactivate(agent, by=current_user)
    except AgentError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("%(name)s was deactivated and is signed out.", name=agent.name), "success")
    return redirect(url_for("admin.agents"))


@bp.route("/agents/<int:agent_id>/reactivate", methods=["POST"])
@role_required(Role.admin)
def agent_reactivate(agent_id: int):
    agent = _agent_or_404(agent_id)
    agent_admin.reactivate(agent, by=current_user)
    db.session.commit()
    flash(_("%(name)s was reactivated.", name=agent.name), "success")
    return redirect(url_for("admin.agents"))


@bp.route("/agents/<int:agent_id>/reset-password", methods=["POST"])
@role_required(Role.admin)
def agent_reset_password(agent_id: int):
    agent = _agent_or_404(agent_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _agent_page(agent, AgentForm(obj=agent), form)
    token = agent_admin.reset_password(
        agent, temporary_password=form.temporary_password.data or None, by=current_user
    )
    db.session.commit()
    if token:
        return _show_link(agent, token, _("Password reset"))
    flash(
        _("%(name)s was signed out and can sign in with the temporary password.", name=agent.name), "success"
    )
    return redirect(url_for("admin.agents"))


@bp.route("/agents/two-factor-policy", methods=["POST"])
@role_required(Role.admin)
def agent_two_factor_policy():
    form = TwoFactorPolicyForm()
    if form.validate_on_submit():
        two_factor.set_required(form.required.data, by=current_user._get_current_object())
        db.session.commit()
        if form.required.data:
            flash(_("Admins and supervisors without two-factor sign-in will set it up at their next page."), "success")
        else:
            flash(_("Two-factor sign-in is now optional for everyone."), "success")
    return redirect(url_for("admin.agents"))


@bp.route("/agents/<int:agent_id>/two-factor/reset", methods=["POST"])
@role_required(Role.admin)
def agent_two_factor_reset(agent_id: int):
    agent = _agent_or_404(agent_id)
    form = ResetTwoFactorForm()
    if not form.validate_on_submit():
        return _agent_page(agent, AgentForm(obj=agent), ResetPasswordForm(), two_factor_form=form)
    try:
        two_factor.reset(agent, by=current_user._get_current_object())
    except two_factor.TwoFactorError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Two-factor sign-in of %(name)s was reset.", name=agent.name), "success")
    return redirect(url_for("admin.agent_edit", agent_id=agent.id))


# Ids are bigints: a larger number is a 404 rather than a database error.
@bp.route(
    "/agents/<int:agent_id>/tokens/<int(max=9223372036854775807):token_id>/revoke", methods=["POST"]
)
@role_required(Role.admin)
def agent_token_revoke(agent_id: int, token_id: int):
    agent = _agent_or_404(agent_id)
    token = api_tokens.get_for(agent, token_id) or abort(404)
    if api_tokens.revoke(token, by=current_user._get_current_object()):
        db.session.commit()
        flash(_("Token %(name)s revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("admin.agent_edit", agent_id=agent.id, _anchor="tokens-heading"))


# --- dead letters -------------------------------------------------------------------------------


@bp.route("/dead-letters")
@role_required(Role.admin)
def dead_letters_index():
    return render_template(
        "admin/dead_letters.html",
        counts=dead_letters.queue_counts(),
        workers=dead_letters.workers(),
        jobs=dead_letters.failed_jobs(),
    )


@bp.route("/dead-letters/requeue", methods=["POST"])
@role_required(Role.admin)
def dead_letters_requeue():
    if request.form.get("all"):
        done = dead_letters.requeue_all(by=current_user)
    else:
        done = dead_letters.requeue(request.form.getlist("job_id"), by=current_user)
    db.session.commit()
    flash(ngettext("%(num)d job put back on its queue.", "%(num)d jobs put back on their queues.", done), "success")
    return redirect(url_for("admin.dead_letters_index"))


@bp.route("/dead-letters/discard", methods=["POST"])
@role_required(Role.admin)
def dead_letters_discard():
    """Asks first: without `confirmed` the selected jobs are listed with what discarding does."""
    job_ids = request.form.getlist("job_id")
    if request.form.get("confirmed") != "yes":
        selected = [job for job in dead_letters.failed_jobs() if job.id in job_ids]
        if not selected:
            flash(_("Select the failed jobs to discard first."), "warning")
            return redirect(url_for("admin.dead_letters_index"))
        return render_template("admin/dead_letters_discard.html", jobs=selected)
    done = dead_letters.discard(job_ids, by=current_user)
    db.session.commit()
    flash(ngettext("%(num)d job discarded.", "%(num)d jobs discarded.", done), "success")
    return redirect(url_for("admin.dead_letters_index"))


# --- webhook events -----------------------------------------------------------------------------


@bp.route("/webhook-events")
@role_required(Role.admin)
def webhook_events():
    form = WebhookEventFilterForm(formdata=request.args)
    providers, event_types = queries.webhook_event_choices()
    form.provider.choices = [("", _("Any"))] + [(p, labels.webhook_provider_label(p)) for p in providers]
    form.event_type.choices = [("", _("Any"))] + [(t, labels.webhook_event_type_label(t)) for t in event_types]
    form.validate()
    events = queries.webhook_events(
        provider=form.provider.data or None,
        event_type=form.event_type.data or None,
        status=WebhookStatus(form.status.data) if form.status.data and not form.status.errors else None,
        dates=queries.DateRange(form.date_from.data, form.date_to.data),
        page=_page(),
    )
    return render_page("admin/_webhook_events_table.html", "admin/webhook_events.html", form=form, events=events)


def _pretty_payload(event: WebhookEvent, revealed: bool) -> str:
    text = json.dumps(event.payload_json, indent=2, ensure_ascii=False, sort_keys=True)
    return text if revealed else mask_text(text)


@bp.route("/webhook-events/<int:event_id>")
@role_required(Role.admin)
def webhook_event(event_id: int):
    event = _event_or_404(event_id)
    return render_template(
        "admin/webhook_event.html",
        event=event,
        payload=_pretty_payload(event, revealed=False),
        revealed=False,
    )


@bp.route("/webhook-events/<int:event_id>/reveal", methods=["POST"])
@role_required(Role.admin)
def webhook_event_reveal(event_id: int):
    event = _event_or_404(event_id)
    audit.record("webhook_event.revealed", actor=current_user, target=event)
    db.session.commit()
    payload = _pretty_payload(event, revealed=True)
    return render_page(
        "admin/_webhook_payload.html", "admin/webhook_event.html", event=event, payload=payload, revealed=True
    )


@bp.route("/webhook-events/replay", methods=["POST"])
@role_required(Role.admin)
def webhook_events_replay():
    ids = [i for i in map(row_id, request.form.getlist("event_id")) if i is not None]
    events = db.session.scalars(select(WebhookEvent).where(WebhookEvent.id.in_(ids))).all()
    for event in events:
        webhook_event_service.replay(event, by=current_user)
    db.session.commit()
    flash(ngettext("%(num)d event queued for processing again.", "%(num)d events queued for processing again.", len(events)), "success")
    if len(events) == 1 and request.referrer and f"/webhook-events/{events[0].id}" in request.referrer:
        return redirect(url_for("admin.webhook_event", event_id=events[0].id))
    return redirect(url_for("admin.webhook_events"))


# --- audit log ----------------------------------------------------------------------------------


@bp.route("/audit")
@role_required(Role.admin)
def audit_log():
    form = AuditFilterForm(formdata=request.args)
    actors, actions, targets = queries.audit_choices()
    form.actor.choices = [("", _("Anyone"))] + [(str(a.id), a.name) for a in actors]
    form.action.choices = [("", _("Any"))] + [(a, labels.audit_action_label(a)) for a in actions]
    form.target_type.choices = [("", _("Any"))] + [(t, labels.audit_target_label(t, None)) for t in targets]
    form.validate()
    entries = queries.audit_entries(
        actor_id=row_id(form.actor.data),
        action=form.action.data or None,
        target_type=form.target_type.data or None,
        target_id=(form.target_id.data or "").strip() or None,
        dates=queries.DateRange(form.date_from.data, form.date_to.data),
        page=_page(),
    )
    return render_page("admin/_audit_table.html", "admin/audit.html", form=form, entries=entries)


# --- settings -----------------------------------------------------------------------------------


def _render_settings(runtime_form=None, test_form=None, test_outcome=None):
    return render_template(
        "admin/settings.html",
        config_entries=admin_settings.effective_configuration(),
        channel_panels=admin_settings.channel_panels(),
        runtime_form=runtime_form or RuntimeSettingsForm(send_read_receipts=settings.send_read_receipts()),
        test_form=test_form or _test_form(),
        test_outcome=test_outcome,
    )


@bp.route("/settings")
@role_required(Role.admin)
def settings_page():
    return _render_settings()


@bp.route("/settings/runtime", methods=["POST"])
@role_required(Role.admin)
def settings_runtime():
    form = RuntimeSettingsForm()
    if form.validate_on_submit():
        admin_settings.set_read_receipts(form.send_read_receipts.data, by=current_user)
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.settings_page"))
    return _render_settings(runtime_form=form)


def _test_form() -> TestMessageForm:
    form = TestMessageForm()
    form.inbox.choices = [(i.id, i.name) for i in inbox_service.all_inboxes() if i.enabled]
    return form


@bp.route("/settings/test-message", methods=["POST"])
@role_required(Role.admin)
def settings_test_message():
    form = _test_form()
    outcome = None
    if form.validate_on_submit():
        inbox = db.session.get(Inbox, form.inbox.data)
        outcome = test_send.send_test_message(form.phone.data, form.text.data, inbox=inbox, by=current_user)
        db.session.commit()
    if wants_fragment():
        return render_template("admin/_test_message.html", test_form=form, test_outcome=outcome)
    return _render_settings(test_form=form, test_outcome=outcome)
