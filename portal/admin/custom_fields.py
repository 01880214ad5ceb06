"""Admin > Custom fields: the fields admins add to contacts and conversations
(portal.services.custom_fields; docs/architecture.md, "Custom fields")."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.admin import bp
from portal.admin.forms import ConfirmForm, CustomFieldForm
from portal.extensions import db
from portal.models import CustomFieldDefinition, Role
from portal.services import custom_fields


def _form(defn: CustomFieldDefinition | None = None) -> CustomFieldForm:
    data = None
    if defn is not None:
        data = {
            "entity": defn.entity,
            "key": defn.key,
            "label": defn.label,
            "field_type": defn.field_type,
            "options": "\n".join(defn.options or []),
            "required": defn.required,
        }
    form = CustomFieldForm(data=data)
    form.entity.choices = [(e.value, str(label)) for e, label in custom_fields.ENTITY_LABELS.items()]
    form.field_type.choices = [(t.value, str(label)) for t, label in custom_fields.TYPE_LABELS.items()]
    if defn is not None:
        form.entity.render_kw = form.key.render_kw = {"disabled": True}
        form.entity.validators = form.key.validators = []
    return form


def _show_errors(form: CustomFieldForm, error: custom_fields.CustomFieldError) -> None:
    for name, message in error.errors.items():
        getattr(form, name, form.label).errors.append(message)


def _definition_or_404(field_id: int) -> CustomFieldDefinition:
    return db.session.get(CustomFieldDefinition, field_id) or abort(404)


@bp.route("/custom-fields", methods=["GET", "POST"])
@role_required(Role.admin)
def custom_field_list():
    form = _form()
    if form.validate_on_submit():
        try:
            defn = custom_fields.create_definition(
                entity=form.entity.data,
                key=form.key.data,
                label=form.label.data,
                field_type=form.field_type.data,
                options=form.options.data,
                required=form.required.data,
                by=current_user,
            )
        except custom_fields.CustomFieldError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Field %(label)s added.", label=defn.label), "success")
            return redirect(url_for("admin.custom_field_list"))
    groups = [
        (entity, label, custom_fields.definitions(entity))
        for entity, label in custom_fields.ENTITY_LABELS.items()
    ]
    return render_template(
        "admin/custom_fields.html", form=form, groups=groups, type_labels=custom_fields.TYPE_LABELS
    )


@bp.route("/custom-fields/<int:field_id>", methods=["GET", "POST"])
@role_required(Role.admin)
def custom_field_edit(field_id: int):
    defn = _definition_or_404(field_id)
    form = _form(defn)
    if form.validate_on_submit():
        try:
            changed = custom_fields.update_definition(
                defn,
                label=form.label.data,
                field_type=form.field_type.data,
                options=form.options.data,
                required=form.required.data,
                by=current_user,
            )
        except custom_fields.CustomFieldError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("Field %(label)s saved.", label=defn.label) if changed else _("Nothing changed."), "success"
            )
            return redirect(url_for("admin.custom_field_list"))
    return render_template(
        "admin/custom_field_edit.html",
        form=form,
        defn=defn,
        in_use=custom_fields.count_in_use(defn),
        delete_form=ConfirmForm(),
    )


@bp.route("/custom-fields/<int:field_id>/delete", methods=["GET", "POST"])
@role_required(Role.admin)
def custom_field_delete(field_id: int):
    """GET asks first (what will happen); POST deletes, refused while a record holds a value."""
    defn = _definition_or_404(field_id)
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            custom_fields.delete_definition(defn, by=current_user)
        except custom_fields.CustomFieldError as exc:
            db.session.rollback()
            error = exc.errors["delete"]
        else:
            db.session.commit()
            flash(_("Field %(label)s deleted.", label=defn.label), "success")
            return redirect(url_for("admin.custom_field_list"))
    return render_template(
        "admin/custom_field_delete.html",
        form=form,
        defn=defn,
        in_use=custom_fields.count_in_use(defn),
        error=error,
        variable="{{" + f"{defn.entity}.{defn.key}" + "}}",
    )
