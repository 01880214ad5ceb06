"""/api/v1/contacts: search, create, read, update, delete (delete needs a supervisor)."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.api import bp
from portal.api.errors import ApiError, FieldErrors, validation_error
from portal.api.params import get_or_404, json_object, paginate
from portal.api.serializers import contact_json
from portal.extensions import db
from portal.models import Contact, Role
from portal.phones import InvalidPhone, normalize
from portal.services import audit, contact_admin, contact_removal

REQUIRED_ON_CREATE = ("name", "phone")
NULLABLE = ("email", "city")


def _contact_fields(body: dict, *, creating: bool) -> dict[str, str | None]:
    """The editable fields present in `body`, type-checked; unknown keys are ignored."""
    errors = FieldErrors()
    fields: dict[str, str | None] = {}
    for name in contact_admin.EDITABLE_FIELDS:
        if name not in body:
            if creating and name in REQUIRED_ON_CREATE:
                errors.add(name, _("This field is required."))
            continue
        value = body[name]
        if isinstance(value, str) or (value is None and name in NULLABLE):
            fields[name] = value
        else:
            errors.add(name, _("Must be a string.") if name not in NULLABLE else _("Must be a string or null."))
    errors.raise_if_any()
    return fields


def custom_fields_of(body: dict) -> dict | None:
    """The body's `custom_fields` object (key -> string, number, boolean or null), or None when absent."""
    if "custom_fields" not in body:
        return None
    value = body["custom_fields"]
    if not isinstance(value, dict) or not all(
        v is None or isinstance(v, str | int | float | bool) for v in value.values()
    ):
        errors = FieldErrors()
        errors.add("custom_fields", _("Must be an object of field keys to strings, numbers, booleans or null."))
        errors.raise_if_any()
    return value


def _refuse_duplicate_phone(raw_phone: str | None, *, exclude_id: int | None = None) -> None:
    """409 when another contact holds the number (with or without the Brazilian ninth digit)."""
    if raw_phone is None:
        return
    try:
        e164 = normalize(raw_phone)
    except InvalidPhone:
        return  # reported as a field error by the service
    other = contact_admin.find_duplicate(e164, exclude_id=exclude_id)
    if other is not None:
        raise ApiError(409, "duplicate_phone", _("Contact %(id)s already has this phone number.", id=other.id))


def _validation_error(exc: contact_admin.ContactValidationError) -> ApiError:
    return validation_error({name: [message] for name, message in exc.errors.items()})


@bp.route("/contacts", methods=["GET"])
@role_required(Role.agent)
def list_contacts():
    """Every page is audited, like the CSV export: a listing is a bulk copy of customer data."""
    errors = FieldErrors()
    query = request.args.get("q", "")
    page = paginate(errors, contact_admin.filtered(query), Contact.id)
    audit.record(
        "contacts.listed",
        actor=current_user._get_current_object(),
        target=("contacts", None),
        count=len(page.items),
        q=query,
        cursor=request.args.get("cursor"),
    )
    db.session.commit()
    return page.as_json(contact_json)


@bp.route("/contacts", methods=["POST"])
@role_required(Role.agent)
def create_contact():
    body = json_object()
    fields = _contact_fields(body, creating=True)
    custom = custom_fields_of(body)
    _refuse_duplicate_phone(fields["phone"])
    try:
        contact = contact_admin.create(**fields, custom=custom or {}, by=current_user._get_current_object())
    except contact_admin.ContactValidationError as exc:
        raise _validation_error(exc) from None
    db.session.commit()
    return contact_json(contact), 201, {"Location": url_for("api.get_contact", contact_id=contact.id)}


@bp.route("/contacts/<int:contact_id>", methods=["GET"])
@role_required(Role.agent)
def get_contact(contact_id: int):
    return contact_json(get_or_404(Contact, contact_id))


@bp.route("/contacts/<int:contact_id>", methods=["PATCH"])
@role_required(Role.agent)
def update_contact(contact_id: int):
    contact = get_or_404(Contact, contact_id)
    body = json_object()
    fields = _contact_fields(body, creating=False)
    custom = custom_fields_of(body)
    _refuse_duplicate_phone(fields.get("phone"), exclude_id=contact.id)
    try:
        contact_admin.update(contact, by=current_user._get_current_object(), custom=custom, **fields)
    except contact_admin.ContactValidationError as exc:
        raise _validation_error(exc) from None
    except contact_admin.PhoneChangeRefused as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    db.session.commit()
    return contact_json(contact)


@bp.route("/contacts/<int:contact_id>", methods=["DELETE"])
@role_required(Role.supervisor)
def delete_contact(contact_id: int):
    contact = get_or_404(Contact, contact_id)
    try:
        contact_removal.remove(contact, by=current_user._get_current_object())
    except contact_removal.ContactInUse as exc:
        raise ApiError(409, "contact_in_use", str(exc)) from None
    db.session.commit()
    return "", 204
