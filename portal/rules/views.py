from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.models import AutoRule, MessageTemplate, Role
from portal.rules import bp
from portal.rules.forms import RuleForm
from portal.services import rules, templates


def _rule_or_404(rule_id: int) -> AutoRule:
    return db.session.get(AutoRule, rule_id) or abort(404)


def _save(form: RuleForm, rule: AutoRule | None) -> AutoRule | None:
    """Create or update from a validated form; None (with the error beside its field) when refused."""
    try:
        trigger = form.to_trigger()
        template = db.session.get(MessageTemplate, form.template_id.data)
        if rule is None:
            return rules.create_rule(trigger, template, form.enabled.data, by=current_user)
        rules.update_rule(rule, trigger, template, form.enabled.data, by=current_user)
        return rule
    except rules.RuleError as error:
        getattr(form, error.field or "trigger").errors.append(str(error))
        return None


@bp.context_processor
def _rule_helpers():
    return {"catalogue": rules.CATALOGUE}


@bp.route("")
@role_required(Role.supervisor)
def index():
    return render_template("rules/index.html", summaries=rules.list_rules())


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.supervisor)
def create():
    form = RuleForm(templates=templates.list_templates())
    if form.validate_on_submit() and _save(form, None) is not None:
        db.session.commit()
        flash(_("Auto-rule created."), "success")
        return redirect(url_for("rules.index"))
    return render_template("rules/form.html", form=form, rule=None)


@bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
@role_required(Role.supervisor)
def edit(rule_id: int):
    rule = _rule_or_404(rule_id)
    form = RuleForm(templates=templates.list_templates(), rule=rule)
    if form.validate_on_submit() and _save(form, rule) is not None:
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
