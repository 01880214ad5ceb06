"""Language and time zone per request, and the template filters that show dates and phones."""

from __future__ import annotations

from datetime import UTC, date, datetime

import phonenumbers
import wtforms
from flask import Flask, current_app, has_request_context, request
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_time,
    format_timedelta,
    get_locale,
    to_user_timezone,
)
from flask_login import current_user
from flask_wtf.i18n import translations as wtforms_translations
from markupsafe import Markup

from portal import labels
from portal.labels import label, message_type_label
from portal.services import settings


class TranslatedForm(wtforms.Form):
    """For forms nested in a FlaskForm (FormField, FieldList): a plain wtforms.Form shows WTForms'
    own messages ("Number must be between 1 and 129600.") in English, a FlaskForm translates them."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations


def select_locale() -> str:
    """The agent's own choice, then the installation's DEFAULT_LOCALE setting, then the browser's
    Accept-Language, then pt_BR."""
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    if current_app.config.get("DEFAULT_LOCALE") or not has_request_context():
        # Worker jobs and CLI commands have no browser to ask: the installation's language.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    # The same zone business hours and reports use: TIME_ZONE until a supervisor changes it.
    return settings.time_zone()


def _as_utc(value: datetime) -> datetime:
    # Stored datetimes are naive UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def datetime_filter(value: datetime | None, fmt: str = "short") -> str:
    return format_datetime(_as_utc(value), fmt) if value else ""


def ago_filter(value: datetime | None) -> str:
    if not value:
        return ""
    return format_timedelta(_as_utc(value) - datetime.now(UTC), add_direction=True, threshold=0.9)


def when_filter(value: datetime | None, style: str = "ago") -> Markup:
    """How every page shows a moment: "3 minutes ago" (or "in 2 hours"), the full date and time
    on hover, and the machine-readable instant (in the same zone) for scripts. style="clock"
    shows the time of day instead ("14:05"), for a thread's bubbles under their day separator."""
    if not value:
        return Markup("")
    moment = _as_utc(value)
    text = format_time(moment, "short") if style == "clock" else ago_filter(moment)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        to_user_timezone(moment).isoformat(timespec="seconds"), datetime_filter(moment), text
    )


def date_filter(value: date | None, fmt: str = "short") -> str:
    return format_date(value, fmt) if value else ""


def number_filter(value: float | None) -> str:
    """1.234 in pt_BR, 1,234 in English; a dash for no value."""
    return "—" if value is None else format_decimal(value)


def percent_filter(share: float | None) -> str:
    """A share from 0 to 1 with at most one decimal: 87,5% in pt_BR, 87.5% in English."""
    return "—" if share is None else format_percent(share, "#,##0.#%")


def phone_filter(e164: str | None) -> str:
    """National format for the installation's country, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.country_code_for_region(current_app.config["DEFAULT_COUNTRY"])
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def register(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["ago"] = ago_filter
    app.jinja_env.filters["when"] = when_filter
    app.jinja_env.filters["phone"] = phone_filter
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["message_type"] = message_type_label
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["number"] = number_filter
    app.jinja_env.filters["percent"] = percent_filter
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["audit_sentence"] = labels.audit_sentence
    app.jinja_env.globals["audit_details"] = labels.audit_details
    app.jinja_env.filters["job_label"] = labels.job_label
    app.jinja_env.filters["queue_label"] = labels.queue_label
    app.jinja_env.filters["worker_state"] = labels.worker_state_label
    app.jinja_env.filters["webhook_provider"] = labels.webhook_provider_label
    app.jinja_env.filters["webhook_event_type"] = labels.webhook_event_type_label
