from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.message_templates import bp
from portal.message_templates.forms import TemplateForm
from portal.models import MessageTemplate, Role
from portal.services import templates


def _template_or_404(template_id: int) -> MessageTemplate:
    return db.session.get(MessageTemplate, template_id) or abort(404)


def _apply_error(form: TemplateForm, error: templates.TemplateError) -> None:
    getattr(form, error.field or "body").errors.append(str(error))


@bp.context_processor
def _template_helpers():
    return {
        "placeholder_count": templates.placeholder_count,
        "render_segments": templates.render_segments,
        "header_format": templates.header_format,
        "header_kind_label": templates.header_kind_label,
        "parameter_buttons": templates.parameter_buttons,
    }


@bp.route("")
@role_required(Role.supervisor)
def index():
    return render_template("message_templates/index.html", templates=templates.list_templates())


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.supervisor)
def create():
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = templates.create_template(
                form.template_key.data, form.language.data, form.body.data, by=current_user
            )
        except templates.TemplateError as error:
            _apply_error(form, error)
        else:
            db.session.commit()
            flash(_("Template %(key)s created.", key=template.template_key), "success")
            return redirect(url_for("templates.index"))
    return render_template("message_templates/form.html", form=form, template=None)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@role_required(Role.supervisor)
def edit(template_id: int):
    template = _template_or_404(template_id)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            templates.update_template(
                template, form.template_key.data, form.language.data, form.body.data, by=current_user
            )
        except templates.TemplateError as error:
            _apply_error(form, error)
        else:
            db.session.commit()
            flash(_("Template %(key)s saved.", key=template.template_key), "success")
            return redirect(url_for("templates.index"))
    return render_template(
        "message_templates/form.html",
        form=form,
        template=template,
        delete_refusal=templates.delete_refusal(template),
    )


@bp.route("/sync", methods=["POST"])
@role_required(Role.supervisor)
def sync():
    """Read every business account's templates from WhatsApp now (the daily job does the same)."""
    results = templates.sync(by=current_user)
    db.session.commit()
    if not results:
        flash(_("No inbox has a WhatsApp business account to sync templates from."), "error")
    for waba_id, result in results.items():
        if isinstance(result, str):
            flash(_("Templates of account %(waba)s were not synced: %(reason)s", waba=waba_id, reason=result), "error")
        else:
            flash(
                _(
                    "Templates of account %(waba)s synced: %(created)d new, %(updated)d changed, %(removed)d no longer listed.",
                    waba=waba_id,
                    created=result.created,
                    updated=result.updated,
                    removed=result.removed,
                ),
                "success",
            )
    return redirect(url_for("templates.index"))


@bp.route("/preview", methods=["POST"])
@role_required(Role.supervisor)
def preview():
    """The body as a customer would read it, refreshed while the supervisor types (HTMX)."""
    form = TemplateForm()
    form.validate()
    return render_template("message_templates/_preview.html", form=form)


@bp.route("/<int:template_id>/delete", methods=["POST"])
@role_required(Role.supervisor)
def delete(template_id: int):
    template = _template_or_404(template_id)
    try:
        templates.delete_template(template, by=current_user)
    except templates.TemplateError as error:
        flash(
            _("Template %(key)s was not deleted: %(reason)s", key=template.template_key, reason=error),
            "error",
        )
        return redirect(url_for("templates.edit", template_id=template.id))
    db.session.commit()
    flash(_("Template deleted."), "success")
    return redirect(url_for("templates.index"))
