from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.access import role_required
from portal.extensions import db
from portal.models import Agent, AutoRule, MessageTemplate, Role
from portal.rules import bp
from portal.rules.forms import CONTACT_FIELD_LABELS, RuleForm
from portal.services import inboxes, rules, teams


def _rule_or_404(rule_id: int) -> AutoRule:
    return db.session.get(AutoRule, rule_id) or abort(404)


def _form(rule: AutoRule | None) -> RuleForm:
    offered = rules.fillable_templates()
    if rule is not None and rule.template is not None and rule.template not in offered:
        offered.append(rule.template)  # shown so the supervisor sees what it sends, and refused on save
    agents = db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name))
    return RuleForm(
        templates=offered, inboxes=inboxes.visible_inboxes(current_user), teams=teams.list_teams(),
        agents=list(agents), rule=rule,
    )


def _save(form: RuleForm, rule: AutoRule | None) -> AutoRule | None:
    """Create or update from the form; None (with every error beside its field) when refused."""
    errors: list[rules.RuleError] = []
    trigger = cooldown = None
    try:
        trigger = form.to_trigger()
    except rules.RuleError as error:
        errors.append(error)
    try:
        cooldown = form.chosen_cooldown()
    except rules.RuleError as error:
        errors.append(error)
    offered = {value for value, _label in form.template_id.choices}
    chosen = form.template_id.data if form.template_id.data in offered else None
    template = db.session.get(MessageTemplate, chosen) if chosen else None
    spec = rules.RuleSpec(
        trigger or rules.Trigger(rules.TriggerKind.conversation_opened),
        template,
        form.enabled.data,
        form.chosen_conditions(),
        form.chosen_actions(),
        cooldown,
        form.allow_second_reply.data,
    )
    errors += spec.problems()
    for error in errors:
        getattr(form, error.field or "trigger").errors.append(str(error))
    if form.errors:
        return None
    return rules.save_rule(rule, spec, by=current_user)


@bp.context_processor
def _rule_helpers():
    return {"catalogue": rules.CATALOGUE, "contact_field_labels": CONTACT_FIELD_LABELS}


@bp.route("")
@role_required(Role.supervisor)
def index():
    return render_template(
        "rules/index.html",
        summaries=rules.list_rules(),
        team_names={t.id: t.name for t in teams.list_teams()},
        agent_names=dict(db.session.execute(select(Agent.id, Agent.name)).tuples().all()),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.supervisor)
def create():
    form = _form(None)
    # Every field is checked, the form's own checks and the rule's, so all errors show at once.
    if form.is_submitted() and (form.validate() or True) and _save(form, None) is not None:
        db.session.commit()
        flash(_("Auto-rule created."), "success")
        return redirect(url_for("rules.index"))
    return render_template("rules/form.html", form=form, rule=None)


@bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
@role_required(Role.supervisor)
def edit(rule_id: int):
    rule = _rule_or_404(rule_id)
    form = _form(rule)
    if form.is_submitted() and (form.validate() or True) and _save(form, rule) is not None:
        db.session.commit()
        flash(_("Auto-rule saved."), "success")
        return redirect(url_for("rules.index"))
    return render_template("rules/form.html", form=form, rule=rule)


@bp.route("/<int:rule_id>/delete", methods=["POST"])
@role_required(Role.supervisor)
def delete(rule_id: int):
    rules.delete_rule(_rule_or_404(rule_id), by=current_user)
    db.session.commit()
    flash(_("Auto-rule deleted."), "success")
    return redirect(url_for("rules.index"))
