"""Admin > Inboxes: connect, edit, disable and staff the WhatsApp numbers (portal.services.inboxes);
an e-mail inbox's page is its channel's (portal.channels.email.views)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.access import role_required
from portal.admin import bp
from portal.admin.forms import InboxEnabledForm, InboxForm, csat_form_for
from portal.extensions import db
from portal.models import Agent, Channel, Inbox, Role
from portal.services import csat, inboxes


def _inbox_or_404(inbox_id: int) -> Inbox:
    return db.session.get(Inbox, inbox_id) or abort(404)


def _form(inbox: Inbox | None) -> InboxForm:
    form = InboxForm(obj=inbox)
    agents = list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)))
    form.members.choices = [(a.id, f"{a.name} ({a.email})") for a in agents]
    if not form.is_submitted():
        form.members.data = [a.id for a in inbox.agents] if inbox else [a.id for a in agents if a.role == Role.agent]
    return form


def _members(form: InboxForm) -> list[Agent]:
    ids = set(form.members.data or [])
    return list(db.session.scalars(select(Agent).where(Agent.id.in_(ids)))) if ids else []


def offer_inboxes(form, agent: Agent | None) -> None:
    """The agent form's inbox checkboxes: every inbox, ticked where the agent is a member (a new
    agent: every inbox)."""
    every = inboxes.all_inboxes()
    form.inboxes.choices = [(i.id, i.name) for i in every]
    if not form.is_submitted():
        form.inboxes.data = [i.id for i in (agent.inboxes if agent else every)]


def chosen_inboxes(form) -> list[Inbox]:
    ids = set(form.inboxes.data or [])
    return list(db.session.scalars(select(Inbox).where(Inbox.id.in_(ids)))) if ids else []


@bp.route("/inboxes")
@role_required(Role.admin)
def inbox_list():
    return render_template("admin/inboxes.html", inboxes=inboxes.all_inboxes())


@bp.route("/inboxes/new", methods=["GET", "POST"])
@role_required(Role.admin)
def inbox_new():
    form = _form(None)
    if form.validate_on_submit() and (inbox := _save(form, None)) is not None:
        flash(_("The inbox %(name)s was created.", name=inbox.name), "success")
        return redirect(url_for("admin.inbox_list"))
    return render_template("admin/inbox_form.html", form=form, inbox=None)


@bp.route("/inboxes/<int:inbox_id>", methods=["GET", "POST"])
@role_required(Role.admin)
def inbox_edit(inbox_id: int):
    inbox = _inbox_or_404(inbox_id)
    if inbox.channel == Channel.email:
        return redirect(url_for("email.inbox_edit", inbox_id=inbox.id))
    form = _form(inbox)
    if form.validate_on_submit() and _save(form, inbox) is not None:
        flash(_("The inbox %(name)s was saved.", name=inbox.name), "success")
        return redirect(url_for("admin.inbox_list"))
    return render_template(
        "admin/inbox_form.html", form=form, inbox=inbox, enabled_form=InboxEnabledForm(), csat_form=csat_form_for(inbox)
    )


def _save(form, inbox: Inbox | None) -> Inbox | None:
    """Create (inbox None) or update the inbox from the form and commit; None, with the reason on
    its field, when the service refuses."""
    fields = {
        "name": form.name.data,
        "phone_number_id": form.phone_number_id.data,
        "waba_id": form.waba_id.data,
        "display_phone": form.display_phone.data,
        "access_token": form.access_token.data,
    }
    try:
        if inbox is None:
            inbox = inboxes.create_whatsapp_inbox(**fields, by=current_user)
        else:
            inboxes.update_whatsapp_inbox(inbox, **fields, by=current_user)
        inboxes.set_members(inbox, _members(form), by=current_user)
    except inboxes.InboxError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors.append(str(exc))
        return None
    db.session.commit()
    return inbox


@bp.route("/inboxes/<int:inbox_id>/enabled", methods=["POST"])
@role_required(Role.admin)
def inbox_set_enabled(inbox_id: int):
    """Enable, or disable once the admin ticked that every send from the inbox will be refused."""
    inbox = _inbox_or_404(inbox_id)
    form = InboxEnabledForm()
    if not form.validate_on_submit():
        abort(400)
    enabled = not inbox.enabled
    if not enabled and not form.confirm.data:
        flash(_("Tick the box to confirm that the inbox should refuse every send."), "error")
        return redirect(url_for("admin.inbox_edit", inbox_id=inbox.id))
    inboxes.set_enabled(inbox, enabled, by=current_user)
    db.session.commit()
    if enabled:
        flash(_("The inbox %(name)s is enabled: replies leave from it again.", name=inbox.name), "success")
    else:
        flash(_("The inbox %(name)s is disabled: it refuses every send until it is enabled again.", name=inbox.name), "success")
    return redirect(url_for("admin.inbox_list"))


@bp.route("/inboxes/<int:inbox_id>/csat", methods=["POST"])
@role_required(Role.admin)
def inbox_csat(inbox_id: int):
    """The inbox's satisfaction survey settings (portal.services.csat)."""
    inbox = _inbox_or_404(inbox_id)
    form = csat_form_for(inbox, request.form)
    edit_url = url_for("email.inbox_edit" if inbox.channel == Channel.email else "admin.inbox_edit", inbox_id=inbox.id)
    if form.validate_on_submit():
        config = csat.CsatConfig(
            enabled=form.enabled.data,
            scale=form.scale.data,
            template_id=form.template_id.data or None,
            expiry_days=form.expiry_days.data,
        )
        try:
            csat.save_config(inbox, config, by=current_user)
        except csat.CsatError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The satisfaction survey of %(name)s was saved.", name=inbox.name), "success")
            return redirect(edit_url + "#csat")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(edit_url + "#csat")
