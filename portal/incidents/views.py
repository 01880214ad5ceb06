from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import labels
from portal.access import role_required
from portal.extensions import db
from portal.incidents import bp
from portal.incidents.forms import HandlingForm, IncidentFilterForm, IncidentForm, NotesForm
from portal.models import Agent, Conversation, Incident, IncidentStatus, Role, Severity
from portal.services import incidents
from portal.web import filter_args, int_arg, render_page


def conversation_url(conversation_id: int) -> str:
    return url_for("inbox.thread", conversation_id=conversation_id)


@bp.context_processor
def _incident_helpers():
    return {"conversation_url": conversation_url, "kind_labels": labels.KIND_LABELS}


def _owner_choices() -> list[tuple[str, str]]:
    return [(str(agent.id), agent.name) for agent in incidents.owners()]


@bp.route("")
@role_required(Role.supervisor)
def index():
    form = IncidentFilterForm(request.args)
    form.owner.choices = form.owner.choices[:1] + _owner_choices()
    rows, next_before = [], None
    if form.validate():
        rows, next_before = incidents.page(form.to_filter(), before_id=int_arg("before"))
    filters = filter_args(form)
    return render_page(
        "incidents/_list.html",
        "incidents/index.html",
        form=form,
        incidents=rows,
        older_url=url_for("incidents.index", before=next_before, **filters) if next_before else None,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.supervisor)
def create():
    form = IncidentForm(conversation_id=int_arg("conversation_id"))
    if form.validate_on_submit():
        conversation = db.session.get(Conversation, form.conversation_id.data)
        incident = incidents.create_manual(
            conversation, Severity(form.severity.data), form.notes.data, by=current_user
        )
        db.session.commit()
        flash(_("Incident #%(id)d opened.", id=incident.id), "success")
        return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/new.html", form=form)


@bp.route("/<int:incident_id>", methods=["GET", "POST"])
@role_required(Role.supervisor)
def detail(incident_id: int):
    incident = db.session.get(Incident, incident_id) or abort(404)
    form = NotesForm(obj=incident)
    if form.validate_on_submit():
        if incidents.update_notes(incident, form.notes.data, by=current_user):
            db.session.commit()
            flash(_("Notes saved."), "success")
        return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/detail.html", incident=incident, form=form, handling=_handling_form(incident))


def _handling_form(incident: Incident, formdata=None) -> HandlingForm:
    form = HandlingForm(
        formdata=formdata, owner=str(incident.owner_id or ""), status=incident.status.value
    )
    form.owner.choices = form.owner.choices[:1] + _owner_choices()
    return form


@bp.route("/<int:incident_id>/handling", methods=["POST"])
@role_required(Role.supervisor)
def handling(incident_id: int):
    incident = db.session.get(Incident, incident_id) or abort(404)
    form = _handling_form(incident, formdata=request.form)
    if form.validate():
        owner = db.session.get(Agent, int(form.owner.data)) if form.owner.data else None
        try:
            changed = incidents.update_handling(
                incident, owner=owner, status=IncidentStatus(form.status.data), by=current_user
            )
        except incidents.IncidentError as exc:
            form.owner.errors.append(str(exc))
        else:
            if changed:
                db.session.commit()
                flash(_("Incident #%(id)d saved.", id=incident.id), "success")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/detail.html", incident=incident, form=NotesForm(obj=incident), handling=form)
