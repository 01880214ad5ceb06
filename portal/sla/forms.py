import re
from datetime import date, datetime, time
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from portal.i18n import TranslatedForm
from portal.models import Priority, SlaTarget
from portal.services.settings import (
    BR_STATES,
    DEFAULT_OUT_OF_HOURS_COOLDOWN_HOURS,
    DEFAULT_SLA_WARNING_PERCENT,
    BusinessHours,
    Holidays,
)
from portal.services.sla import Target

MAX_TARGET_MINUTES = 60 * 24 * 90
PRIORITIES = (Priority.urgent, Priority.high, Priority.normal, Priority.low)
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


class TargetForm(TranslatedForm):
    first_response_min = IntegerField(
        _l("First response (minutes)"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_TARGET_MINUTES)],
    )
    resolution_min = IntegerField(
        _l("Resolution (minutes, optional)"),
        validators=[Optional(), NumberRange(min=1, max=MAX_TARGET_MINUTES)],
    )

    def validate_resolution_min(self, field):
        first = self.first_response_min.data
        if field.data is not None and first is not None and field.data < first:
            raise ValidationError(
                _l("The resolution target cannot be shorter than the first response target.")
            )


class DayForm(TranslatedForm):
    opens = TimeField(_l("Opens"), validators=[Optional()])
    closes = TimeField(_l("Closes"), validators=[Optional()])

    # Optional() skips a field's own checks when it is empty, so each time checks its partner.
    def validate_opens(self, field):
        if self.closes.data is None:
            raise ValidationError(_l("Give both times, or leave both empty for a closed day."))

    def validate_closes(self, field):
        if self.opens.data is None:
            raise ValidationError(_l("Give both times, or leave both empty for a closed day."))
        if field.data <= self.opens.data:
            raise ValidationError(_l("Closing time must be after opening time."))

    @property
    def hours(self) -> tuple[time, time] | None:
        return (self.opens.data, self.closes.data) if self.opens.data and self.closes.data else None


def parse_dates(text: str) -> tuple[set[date], list[str]]:
    """Dates one per line (or separated by commas), as 2026-12-24 or 24/12/2026; and the entries
    that are not dates, all of them, so the form names every one at once."""
    found, bad = set(), []
    for entry in (e.strip() for e in re.split(r"[\n,;]+", text or "")):
        if not entry:
            continue
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                found.add(datetime.strptime(entry, pattern).date())
                break
            except ValueError:
                continue
        else:
            bad.append(entry)
    return found, bad


class HolidaysForm(TranslatedForm):
    national = BooleanField(_l("Brazil's national holidays are closed"), default=True)
    state = SelectField(
        _l("State holidays too"), choices=[("", _l("None"))] + [(s, s) for s in BR_STATES], default=""
    )
    custom = TextAreaField(
        _l("Other closed dates"),
        description=_l("One per line, as 24/12/2026 or 2026-12-24: a city's anniversary, a company day off."),
        render_kw={"rows": 3},
    )

    def validate_custom(self, field):
        _found, bad = parse_dates(field.data)
        if bad:
            raise ValidationError(_l("Not dates: %(entries)s.", entries=", ".join(bad)))

    def chosen(self) -> Holidays:
        return Holidays(
            national=bool(self.national.data),
            state=self.state.data or None,
            custom=frozenset(parse_dates(self.custom.data)[0]),
        )

    @staticmethod
    def initial(found: Holidays) -> dict:
        return {
            "national": found.national,
            "state": found.state or "",
            "custom": "\n".join(d.strftime("%d/%m/%Y") for d in sorted(found.custom)),
        }


class SlaSettingsForm(FlaskForm):
    targets = FieldList(FormField(TargetForm), min_entries=len(PRIORITIES), max_entries=len(PRIORITIES))
    business_hours_on = BooleanField(_l("Count only business hours"))
    days = FieldList(FormField(DayForm), min_entries=7, max_entries=7)
    time_zone = SelectField(_l("Time zone"), choices=sorted(available_timezones()))
    holidays = FormField(HolidaysForm)
    out_of_hours_cooldown = IntegerField(
        _l("Out-of-hours reply at most once every (hours)"),
        validators=[Optional(), NumberRange(min=1, max=24 * 7)],
        default=DEFAULT_OUT_OF_HOURS_COOLDOWN_HOURS,
        description=_l("Per contact, whichever conversation they write in."),
    )

    warning_percent = IntegerField(
        _l("Warn at this percentage of a target"),
        validators=[Optional(), NumberRange(min=1, max=99, message=_l("From 1 to 99."))],
        default=DEFAULT_SLA_WARNING_PERCENT,
        description=_l(
            "The assignee (or the team, while nobody has it) and the supervisors are warned once per "
            "conversation and target, and the conversation shows a badge."
        ),
    )

    def validate_business_hours_on(self, field):
        if field.data and not any(day.form.hours for day in self.days):
            raise ValidationError(_l("Open at least one weekday, or turn business hours off."))

    @classmethod
    def initial(
        cls,
        targets: dict[Priority, SlaTarget],
        hours: BusinessHours | None,
        tz: str,
        found: Holidays,
        cooldown: int,
        warning_percent: int = DEFAULT_SLA_WARNING_PERCENT,
    ) -> dict:
        opening = hours.days if hours else {}
        return {
            "holidays": HolidaysForm.initial(found),
            "out_of_hours_cooldown": cooldown,
            "warning_percent": warning_percent,
            "targets": [
                {
                    "first_response_min": targets[p].first_response_sec // 60,
                    "resolution_min": targets[p].resolution_sec // 60 if targets[p].resolution_sec else None,
                }
                for p in PRIORITIES
            ],
            "business_hours_on": hours is not None,
            "days": [
                {"opens": opening[d][0], "closes": opening[d][1]} if d in opening else {} for d in range(7)
            ],
            "time_zone": tz,
        }

    def chosen_targets(self) -> dict[Priority, Target]:
        return {
            priority: Target(
                entry.form.first_response_min.data * 60,
                entry.form.resolution_min.data * 60 if entry.form.resolution_min.data else None,
            )
            for priority, entry in zip(PRIORITIES, self.targets, strict=True)
        }

    def chosen_hours(self) -> BusinessHours | None:
        if not self.business_hours_on.data:
            return None
        return BusinessHours({d: day.form.hours for d, day in enumerate(self.days) if day.form.hours})
