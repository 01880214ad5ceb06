from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.access import role_required
from portal.extensions import db
from portal.models import Agent, AssignMode, Role, Team
from portal.services import teams
from portal.sla.forms import WEEKDAYS
from portal.teams import bp
from portal.teams.forms import ASSIGN_MODE_LABELS, TeamForm, TeamHoursForm


def _active_agents() -> list[Agent]:
    return list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)))


def _form(team: Team | None) -> TeamForm:
    form = TeamForm(obj=team) if team is not None and request.method == "GET" else TeamForm()
    form.members.choices = [(a.id, a.name) for a in _active_agents()]
    if team is not None and request.method == "GET":
        form.members.data = [a.id for a in team.members]
        form.auto_assign.data = AssignMode(team.auto_assign).value
    return form


def _save(form: TeamForm, team: Team | None) -> Team | None:
    chosen = set(form.members.data or [])
    members = [a for a in _active_agents() if a.id in chosen]
    try:
        return teams.save_team(
            team, name=form.name.data, members=members, auto_assign=AssignMode(form.auto_assign.data), by=current_user
        )
    except teams.TeamError as error:
        getattr(form, error.field or "name").errors.append(str(error))
        return None


@bp.route("")
@role_required(Role.supervisor)
def index():
    return render_template(
        "teams/index.html", summaries=teams.summaries(), agents=_active_agents(), mode_labels=ASSIGN_MODE_LABELS
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
