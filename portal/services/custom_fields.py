"""Custom fields: what admins add to contacts and conversations (docs/architecture.md, "Custom fields").

A definition (models.CustomFieldDefinition) names a field of one entity (`contact` or
`conversation`) by a stable `key`, with a label, a type and whether it is required. Values live in
the record's `custom_fields` JSON object, key -> the normalized value as a string:

  text     as typed (trimmed, at most 500 characters)      number  "1234.5" (a comma is a decimal mark)
  date     "2026-12-31" (ISO; 31/12/2026 is read too)      options one of the definition's options
  yes_no   "true" / "false" (sim, não, yes, no...)         url     http(s) with a host
  cpf      11 digits, check digits verified                 cnpj    14 characters, check digits verified

CPF and CNPJ are checked by python-stdnum (maintained upstream, follows the Receita Federal's
rules), stored without punctuation and shown formatted.

Every writer goes through `clean_values` (pages, the API, the CSV import), so one set of rules
holds everywhere. `required` binds people saving a record (a form, an API call, a CSV row), not
the channels that create contacts from an inbound message. A definition change that would leave a
stored value invalid (another type, an option still in use) is refused by `update_definition`
with the count of records in the way; the key never changes, since templates and integrations
name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf
from stdnum.exceptions import ValidationError as StdnumError

from portal.extensions import db
from portal.models import Agent, Contact, Conversation, CustomFieldDefinition
from portal.services import audit, events
from portal.services.spreadsheet import safe_cell


class Entity(StrEnum):
    contact = "contact"
    conversation = "conversation"


class FieldType(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    options = "options"
    yes_no = "yes_no"
    url = "url"
    cpf = "cpf"
    cnpj = "cnpj"


ENTITY_LABELS = {Entity.contact: _l("Contacts"), Entity.conversation: _l("Conversations")}
TYPE_LABELS = {
    FieldType.text: _l("Text"),
    FieldType.number: _l("Number"),
    FieldType.date: _l("Date"),
    FieldType.options: _l("List of options"),
    FieldType.yes_no: _l("Yes/no"),
    FieldType.url: _l("URL"),
    FieldType.cpf: _l("CPF"),
    FieldType.cnpj: _l("CNPJ"),
}
MODELS = {Entity.contact: Contact, Entity.conversation: Conversation}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Names the built-in variables and columns already use ({{contact.name}}, the CSV's columns).
RESERVED_KEYS = frozenset({"id", "name", "first_name", "phone", "email", "city", "created_at", "updated_at"})
MAX_TEXT = 500
MAX_OPTIONS = 50
MAX_OPTION_LENGTH = 100
YES = frozenset({"true", "yes", "sim", "s", "y", "1", "on", "verdadeiro"})
NO = frozenset({"false", "no", "não", "nao", "n", "0", "off", "falso"})


class CustomFieldError(ValueError):
    """Field name (a definition's key, or a definition form's field) -> readable message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# -- definitions -------------------------------------------------------------------------------------


def definitions(entity: Entity | str) -> list[CustomFieldDefinition]:
    stmt = select(CustomFieldDefinition).where(CustomFieldDefinition.entity == str(entity))
    return list(db.session.scalars(stmt.order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)))


def definition(entity: Entity | str, key: str) -> CustomFieldDefinition | None:
    return next((d for d in definitions(entity) if d.key == key), None)


def _clean_options(field_type: str, raw: list[str] | str | None) -> list[str] | None:
    if field_type != FieldType.options:
        return None
    items = raw.splitlines() if isinstance(raw, str) else list(raw or [])
    options: list[str] = []
    for item in items:
        item = (item or "").strip()
        if item and item not in options:
            options.append(item)
    if not options:
        raise CustomFieldError({"options": _("A list of options needs at least one option, one per line.")})
    if len(options) > MAX_OPTIONS or any(len(o) > MAX_OPTION_LENGTH for o in options):
        raise CustomFieldError(
            {
                "options": _(
                    "At most %(count)d options of %(length)d characters each.",
                    count=MAX_OPTIONS,
                    length=MAX_OPTION_LENGTH,
                )
            }
        )
    return options


def _clean_label(label: str | None) -> str:
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise CustomFieldError({"label": _("A label of 1 to 100 characters is required.")})
    return label


def _clean_type(field_type: str | None) -> FieldType:
    try:
        return FieldType(field_type or "")
    except ValueError:
        raise CustomFieldError({"field_type": _("Choose one of the types offered.")}) from None


def create_definition(
    *,
    entity: str,
    key: str,
    label: str,
    field_type: str,
    options: list[str] | str | None = None,
    required: bool = False,
    by: Agent,
) -> CustomFieldDefinition:
    try:
        entity = Entity(entity)
    except ValueError:
        raise CustomFieldError({"entity": _("Choose contacts or conversations.")}) from None
    key = (key or "").strip().lower()
    errors: dict[str, str] = {}
    if not KEY.fullmatch(key):
        errors["key"] = _("A key is 1 to 40 lowercase letters, digits or _, starting with a letter.")
    elif key in RESERVED_KEYS:
        errors["key"] = _("The key %(key)s is taken by a built-in field.", key=key)
    elif definition(entity, key) is not None:
        errors["key"] = _("Another field already has the key %(key)s.", key=key)
    values: dict[str, Any] = {}
    for name, check in (
        ("label", lambda: _clean_label(label)),
        ("field_type", lambda: _clean_type(field_type)),
    ):
        try:
            values[name] = check()
        except CustomFieldError as exc:
            errors.update(exc.errors)
    if "field_type" in values:
        try:
            values["options"] = _clean_options(values["field_type"], options)
        except CustomFieldError as exc:
            errors.update(exc.errors)
    if errors:
        raise CustomFieldError(errors)
    position = db.session.scalar(
        select(func.coalesce(func.max(CustomFieldDefinition.position), 0)).where(
            CustomFieldDefinition.entity == entity
        )
    )
    row = CustomFieldDefinition(
        entity=entity.value,
        key=key,
        label=values["label"],
        field_type=values["field_type"].value,
        options=values["options"],
        required=bool(required),
        position=position + 1,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "custom_field.created", actor=by, target=row, key=key, entity=entity.value, kind=row.field_type
    )
    return row


def _stored(defn: CustomFieldDefinition) -> ColumnElement:
    """The stored value of this field, as SQL text (NULL where the record has none)."""
    return MODELS[Entity(defn.entity)].custom_fields[defn.key].as_string()


def count_in_use(defn: CustomFieldDefinition, value: str | None = None) -> int:
    """How many records hold a value for this field (or this exact value)."""
    stored = _stored(defn)
    condition = stored.is_not(None) if value is None else stored == value
    return (
        db.session.scalar(select(func.count()).select_from(MODELS[Entity(defn.entity)]).where(condition)) or 0
    )


def _in_use_message(defn: CustomFieldDefinition, count: int) -> str:
    if defn.entity == Entity.contact:
        return ngettext("%(num)d contact has a value", "%(num)d contacts have a value", count)
    return ngettext("%(num)d conversation has a value", "%(num)d conversations have a value", count)


def update_definition(
    defn: CustomFieldDefinition,
    *,
    label: str,
    field_type: str,
    options: list[str] | str | None = None,
    required: bool = False,
    by: Agent,
) -> list[str]:
    """Change label, type, options or required; refuses a change that stored values would not pass.
    Returns the changed attribute names."""
    new_label = _clean_label(label)
    new_type = _clean_type(field_type)
    new_options = _clean_options(new_type, options)
    if new_type != defn.field_type:
        count = count_in_use(defn)
        if count:
            raise CustomFieldError(
                {
                    "field_type": _(
                        "The type cannot change: %(in_use)s for this field. Clear those values first, or add a new "
                        "field of the new type.",
                        in_use=_in_use_message(defn, count),
                    )
                }
            )
    elif new_type == FieldType.options:
        blocked = [(o, count_in_use(defn, o)) for o in defn.options or [] if o not in new_options]
        blocked = [(o, n) for o, n in blocked if n]
        if blocked:
            raise CustomFieldError(
                {
                    "options": _(
                        "These options are in use and cannot be removed: %(options)s. Change those records first.",
                        options=", ".join(f"{o} ({_in_use_message(defn, n)})" for o, n in blocked),
                    )
                }
            )
    changed = {
        name: value
        for name, value in (
            ("label", new_label),
            ("field_type", new_type.value),
            ("options", new_options),
            ("required", bool(required)),
        )
        if getattr(defn, name) != value
    }
    for name, value in changed.items():
        setattr(defn, name, value)
    if changed:
        db.session.flush()
        audit.record("custom_field.updated", actor=by, target=defn, key=defn.key, fields=sorted(changed))
    return sorted(changed)


def delete_definition(defn: CustomFieldDefinition, *, by: Agent) -> None:
    """Only a field no record holds a value for: deleting must not silently drop data."""
    count = count_in_use(defn)
    if count:
        raise CustomFieldError(
            {
                "delete": _(
                    "The field cannot be deleted: %(in_use)s for it. Clear those values first.",
                    in_use=_in_use_message(defn, count),
                )
            }
        )
    audit.record("custom_field.deleted", actor=by, target=defn, key=defn.key, entity=defn.entity)
    db.session.delete(defn)
    db.session.flush()


# -- values --------------------------------------------------------------------------------------------


def _number(raw: str) -> str:
    text = raw.replace(" ", "").replace("\u00a0", "")
    if "," in text:
        # 1.234,56: the comma is the decimal mark (pt-BR), dots group thousands.
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise ValueError
    result = format(number.normalize(), "f")
    return "0" if result in ("-0", "0") else result


def _date(raw: str) -> str:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day).isoformat()
    return date.fromisoformat(raw).isoformat()


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(raw) > MAX_TEXT
        or any(c.isspace() for c in raw)
    ):
        raise ValueError
    return raw


def clean_value(defn: CustomFieldDefinition, raw: object) -> str | None:
    """The normalized value, None for empty; ValueError with a readable message when it is not valid."""
    field_type = FieldType(defn.field_type)
    if isinstance(raw, bool):
        if field_type != FieldType.yes_no:
            raise FieldValueError(_INVALID[field_type]())
        return "true" if raw else "false"
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    try:
        if field_type == FieldType.text:
            if len(text) > MAX_TEXT:
                return _raise(_("At most %(max)d characters.", max=MAX_TEXT))
            return text
        if field_type == FieldType.number:
            return _number(text)
        if field_type == FieldType.date:
            return _date(text)
        if field_type == FieldType.options:
            match = next((o for o in defn.options or [] if o.casefold() == text.casefold()), None)
            if match is None:
                return _raise(_("Choose one of: %(options)s.", options=", ".join(defn.options or [])))
            return match
        if field_type == FieldType.yes_no:
            if text.casefold() in YES:
                return "true"
            if text.casefold() in NO:
                return "false"
            return _raise(_("Answer yes or no."))
        if field_type == FieldType.url:
            return _url(text)
        if field_type == FieldType.cpf:
            return _document(stdnum_cpf, text, _("Not a valid CPF: check the digits."))
        if field_type == FieldType.cnpj:
            return _document(stdnum_cnpj, text, _("Not a valid CNPJ: check the digits."))
    except FieldValueError:
        raise
    except (ValueError, OverflowError):
        pass
    raise FieldValueError(_INVALID[field_type]())


class FieldValueError(ValueError):
    """A value a field does not take; str() is the readable reason."""


def _raise(message: str):
    raise FieldValueError(message)


def _document(module, text: str, message: str) -> str:
    try:
        compact = module.validate(text)
    except StdnumError:
        raise FieldValueError(message) from None
    # 111.111.111-11 and the like pass the check-digit sums but are never issued (python-stdnum
    # accepts them; the Receita Federal's own forms refuse them).
    if len(set(compact)) == 1:
        raise FieldValueError(message)
    return compact


_INVALID = {
    FieldType.text: lambda: _("Not a valid text."),
    FieldType.number: lambda: _("Not a number (use digits, with a comma or a point for decimals)."),
    FieldType.date: lambda: _("Not a date (use dd/mm/yyyy)."),
    FieldType.options: lambda: _("Choose one of the options."),
    FieldType.yes_no: lambda: _("Answer yes or no."),
    FieldType.url: lambda: _("Not a web address (it starts with http:// or https://)."),
    FieldType.cpf: lambda: _("Not a valid CPF: check the digits."),
    FieldType.cnpj: lambda: _("Not a valid CNPJ: check the digits."),
}


def clean_values(
    entity: Entity | str,
    raw: dict[str, object],
    *,
    current: dict[str, str] | None = None,
    partial: bool = False,
) -> dict[str, str]:
    """The record's new custom_fields: `current` with the given raw values cleaned over it.

    Unknown keys are errors. A required field must end up with a value; with `partial` (an API
    PATCH, a CSV row that lacks the column) only the given keys are checked, and a required one
    may not be emptied. Every problem at once in CustomFieldError, keyed by the field's key."""
    known = {d.key: d for d in definitions(entity)}
    result = {k: v for k, v in (current or {}).items() if k in known}
    errors: dict[str, str] = {}
    for key in raw:
        if key not in known:
            errors[key] = _("No custom field has the key %(key)s.", key=key)
    for key, defn in known.items():
        if key not in raw:
            if defn.required and not partial and not result.get(key):
                errors[key] = _("%(label)s is required.", label=defn.label)
            continue
        try:
            value = clean_value(defn, raw[key])
        except FieldValueError as exc:
            errors[key] = str(exc)
            continue
        if value is None:
            if defn.required:
                errors[key] = _("%(label)s is required.", label=defn.label)
            result.pop(key, None)
        else:
            result[key] = value
    if errors:
        raise CustomFieldError(errors)
    return result


def set_values(record: Contact | Conversation, values: dict[str, str]) -> list[str]:
    """Store already cleaned values; returns the keys that changed."""
    current = record.custom_fields or {}
    changed = sorted(k for k in set(current) | set(values) if current.get(k) != values.get(k))
    if changed:
        record.custom_fields = dict(values) or None  # a new object: JSON columns track assignment
    return changed


def update_conversation(conversation: Conversation, raw: dict[str, object], *, by: Agent) -> list[str]:
    """An agent's edit of a conversation's custom fields (the details panel, the API)."""
    values = clean_values(Entity.conversation, raw, current=conversation.custom_fields, partial=True)
    changed = set_values(conversation, values)
    if changed:
        db.session.flush()
        audit.record("conversation.custom_fields_changed", actor=by, target=conversation, fields=changed)
        events.emit("conversation.updated", conversation=conversation)
    return changed


# -- display ---------------------------------------------------------------------------------------------


def display(defn: CustomFieldDefinition, value: str | None) -> str:
    """The value as people read it, in the current language."""
    if value in (None, ""):
        return ""
    field_type = defn.field_type
    try:
        if field_type == FieldType.cpf:
            return stdnum_cpf.format(value)
        if field_type == FieldType.cnpj:
            return stdnum_cnpj.format(value)
        if field_type == FieldType.yes_no:
            return _("Yes") if value == "true" else _("No")
        if field_type == FieldType.date:
            return format_date(date.fromisoformat(value), "short")
        if field_type == FieldType.number:
            return format_decimal(Decimal(value), format="#,##0.##########")
    except (ValueError, InvalidOperation):
        pass
    return value


def input_value(defn: CustomFieldDefinition, value: str | None) -> str:
    """What a form's input shows: ISO for a date input, formatted documents, the stored value else."""
    if value in (None, ""):
        return ""
    if defn.field_type in (FieldType.cpf, FieldType.cnpj):
        return display(defn, value)
    return value


def csv_value(defn: CustomFieldDefinition, value: str | None, delimiter: str) -> str:
    """A value for the contacts' CSV, read back unchanged by the import (text that a spreadsheet would
    run as a formula is quoted, as every export's cells; a number never needs it)."""
    if value in (None, ""):
        return ""
    if defn.field_type in (FieldType.cpf, FieldType.cnpj):
        return display(defn, value)
    if defn.field_type == FieldType.number:
        return value.replace(".", ",") if delimiter == ";" else value
    return safe_cell(value)


@dataclass(frozen=True)
class Shown:
    definition: CustomFieldDefinition
    value: str | None
    text: str


def shown(record: Contact | Conversation, entity: Entity | str) -> list[Shown]:
    values = record.custom_fields or {}
    return [Shown(d, values.get(d.key), display(d, values.get(d.key))) for d in definitions(entity)]


def display_values(record: Contact | Conversation, entity: Entity | str) -> dict[str, str]:
    """key -> formatted value, for template variables."""
    values = record.custom_fields or {}
    return {d.key: display(d, values.get(d.key)) for d in definitions(entity)}


# -- search ------------------------------------------------------------------------------------------------


def search_conditions(query: str) -> list[ColumnElement]:
    """Contacts whose text-like custom fields contain the query (CPF and CNPJ by their digits)."""
    conditions = []
    digits = re.sub(r"\D", "", query)
    for defn in definitions(Entity.contact):
        if defn.field_type in (FieldType.text, FieldType.url, FieldType.options):
            conditions.append(_stored(defn).icontains(query, autoescape=True))
        elif defn.field_type in (FieldType.cpf, FieldType.cnpj) and len(digits) >= 3:
            conditions.append(_stored(defn).contains(digits, autoescape=True))
    return conditions


def filter_condition(defn: CustomFieldDefinition, raw: str) -> ColumnElement | None:
    """The list's filter on one field: a part of a text, else the value as the field stores it."""
    raw = (raw or "").strip()
    if not raw:
        return None
    stored = _stored(defn)
    if defn.field_type in (FieldType.text, FieldType.url):
        return stored.icontains(raw, autoescape=True)
    if defn.field_type in (FieldType.cpf, FieldType.cnpj):
        return stored.contains(re.sub(r"[^0-9A-Za-z]", "", raw).upper(), autoescape=True)
    try:
        value = clean_value(defn, raw)
    except FieldValueError:
        return stored == raw  # matches nothing a valid value could be, and says so by an empty list
    return stored == value
