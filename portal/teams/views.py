from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.access import role_required
from portal.extensions import db
from portal.models import Agent, AssignMode, Inbox, Role, Team
from portal.services import inboxes, teams, triage
from portal.sla.forms import WEEKDAYS
from portal.teams import bp
from portal.teams.forms import ASSIGN_MODE_LABELS, TeamForm, TeamHoursForm, TriageForm


def _active_agents() -> list[Agent]:
    return list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)))


def _form(team: Team | None) -> TeamForm:
    form = TeamForm(obj=team) if team is not None and request.method == "GET" else TeamForm()
    form.members.choices = [(a.id, a.name) for a in _active_agents()]
    if team is not None and request.method == "GET":
        form.members.data = [a.id for a in team.members]
        form.auto_assign.data = AssignMode(team.auto_assign).value
        form.keywords.data = ", ".join(team.keywords or [])
    return form


def _save(form: TeamForm, team: Team | None) -> Team | None:
    chosen = set(form.members.data or [])
    members = [a for a in _active_agents() if a.id in chosen]
    try:
        return teams.save_team(
            team,
            name=form.name.data,
            members=members,
            auto_assign=AssignMode(form.auto_assign.data),
            keywords=triage.clean_keywords(form.keywords.data),
            by=current_user,
        )
    except teams.TeamError as error:
        getattr(form, error.field or "name").errors.append(str(error))
        return None


@bp.route("")
@role_required(Role.supervisor)
def index():
    return render_template(
        "teams/index.html",
        summaries=teams.summaries(),
        agents=_active_agents(),
        mode_labels=ASSIGN_MODE_LABELS,
        inboxes=[(inbox, triage.config_for(inbox)) for inbox in inboxes.all_inboxes()],
        team_names={t.id: t.name for t in teams.list_teams()},
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.supervisor)
def create():
    form = _form(None)
    if form.validate_on_submit() and _save(form, None) is not None:
        db.session.commit()
        flash(_("Team created."), "success")
        return redirect(url_for("teams.index"))
    return render_template("teams/form.html", form=form, team=None)


@bp.route("/<int:team_id>/edit", methods=["GET", "POST"])
@role_required(Role.supervisor)
def edit(team_id: int):
    team = db.session.get(Team, team_id) or abort(404)
    form = _form(team)
    if form.validate_on_submit() and _save(form, team) is not None:
        db.session.commit()
        flash(_("Team saved."), "success")
        return redirect(url_for("teams.index"))
    return render_template("teams/form.html", form=form, team=team)


@bp.route("/<int:team_id>/hours", methods=["GET", "POST"])
@role_required(Role.supervisor)
def hours(team_id: int):
    """The team's own business hours and holidays for its SLA clocks and out-of-hours replies."""
    team = db.session.get(Team, team_id) or abort(404)
    form = TeamHoursForm(data=TeamHoursForm.initial(team))
    if form.validate_on_submit():
        teams.save_hours(team, *form.chosen(), by=current_user)
        db.session.commit()
        flash(_("Business hours of %(name)s saved.", name=team.name), "success")
        return redirect(url_for("teams.index"))
    return render_template("teams/hours.html", form=form, team=team, weekdays=WEEKDAYS)


@bp.route("/triage/<int:inbox_id>", methods=["GET", "POST"])
@role_required(Role.supervisor)
def triage_menu(inbox_id: int):
    """The inbox's triage menu: which teams a new conversation may choose (portal.services.triage)."""
    inbox = db.session.get(Inbox, inbox_id) or abort(404)
    config = triage.config_for(inbox)
    form = TriageForm()
    if request.method == "GET" and config is not None:
        form.enabled.data, form.team_ids.data = True, list(config.team_ids)
        form.default_team_id.data, form.timeout_minutes.data = config.default_team_id, config.timeout_minutes
        form.text.data = config.text
    choices = [(t.id, t.name) for t in teams.list_teams()]
    form.team_ids.choices = choices
    form.default_team_id.choices = [(0, _("Choose a team")), *choices]
    if form.validate_on_submit():
        chosen = None
        if form.enabled.data:
            order = [i for i, _name in choices if i in set(form.team_ids.data or [])]
            chosen = triage.TriageConfig(
                tuple(order),
                form.default_team_id.data,
                form.timeout_minutes.data or triage.DEFAULT_TIMEOUT_MINUTES,
                (form.text.data or "").strip(),
            )
        try:
            triage.save_config(inbox, chosen, by=current_user)
        except triage.TriageError as error:
            getattr(form, error.field or "team_ids").errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Triage menu of %(name)s saved.", name=inbox.name), "success")
            return redirect(url_for("teams.index") + "#triage")
    return render_template("teams/triage.html", form=form, inbox=inbox)


@bp.route("/<int:team_id>/delete", methods=["POST"])
@role_required(Role.supervisor)
def delete(team_id: int):
    teams.delete_team(db.session.get(Team, team_id) or abort(404), by=current_user)
    db.session.commit()
    flash(_("Team deleted. Its conversations keep their assignees."), "success")
    return redirect(url_for("teams.index"))


@bp.route("/capacity", methods=["POST"])
@role_required(Role.supervisor)
def capacity():
    """Every active agent's capacity in one form (`capacity-<agent id>` fields); all errors at once."""
    errors = []
    for agent in _active_agents():
        raw = request.form.get(f"capacity-{agent.id}", "").strip()
        if not raw.isascii() or not raw.isdigit():
            errors.append(_("%(name)s: give a whole number.", name=agent.name))
            continue
        try:
            teams.set_capacity(agent, int(raw), by=current_user)
        except teams.TeamError as error:
            errors.append(f"{agent.name}: {error}")
    if errors:
        db.session.rollback()
        for error in errors:
            flash(error, "error")
    else:
        db.session.commit()
        flash(_("Capacities saved."), "success")
    return redirect(url_for("teams.index") + "#capacity")
