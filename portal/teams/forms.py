from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.models import AssignMode, Team
from portal.services import triage
from portal.services.settings import BusinessHours, Holidays
from portal.services.teams import own_hours
from portal.sla.forms import DayForm, HolidaysForm

ASSIGN_MODE_LABELS = {
    AssignMode.off: _l("Off: agents take conversations themselves"),
    AssignMode.round_robin: _l("Round-robin: each online member in turn"),
    AssignMode.fewest_open: _l("Fewest open: the online member with the fewest open conversations"),
}


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the team a name.")), Length(max=100)])
    members = CheckboxList(_l("Members"), coerce=int)
    auto_assign = SelectField(
        _l("Auto-assignment"),
        choices=[(mode.value, label) for mode, label in ASSIGN_MODE_LABELS.items()],
        default=AssignMode.off.value,
        description=_l(
            "Among members who are online and below their capacity; when nobody is, conversations "
            "wait in arrival order and go out as soon as someone frees up or comes online."
        ),
    )
    keywords = StringField(
        _l("Keywords for the triage menu"),
        validators=[Length(max=1000)],
        description=_l(
            "Separated by commas. A customer who writes one of them (or the team's name) instead of "
            "choosing from an inbox's menu is sent to this team."
        ),
    )


class TriageForm(FlaskForm):
    enabled = BooleanField(_l("Ask new conversations of this inbox to choose a team"))
    team_ids = CheckboxList(_l("Teams in the menu"), coerce=int)
    # Checked by portal.services.triage.save_config, and only when the menu is on.
    default_team_id = SelectField(
        _l("Default team"),
        coerce=int,
        validate_choice=False,
        description=_l("Where the conversation goes when the customer does not answer in time or answers twice with no team."),
    )
    timeout_minutes = IntegerField(
        _l("Minutes to answer"),
        default=triage.DEFAULT_TIMEOUT_MINUTES,
        validators=[
            Optional(),
            NumberRange(min=1, max=triage.MAX_TIMEOUT_MINUTES, message=_l("From 1 to %(max)s minutes.")),
        ],
    )
    text = TextAreaField(
        _l("Question"),
        validators=[Length(max=triage.MAX_TEXT)],
        description=_l("Leave empty for the standard question. Up to three teams show as buttons, more as a list."),
    )


class TeamHoursForm(FlaskForm):
    own_hours = BooleanField(_l("This team keeps its own business hours and holidays"))
    days = FieldList(FormField(DayForm), min_entries=7, max_entries=7)
    holidays = FormField(HolidaysForm)

    def validate_own_hours(self, field):
        if field.data and not any(day.form.hours for day in self.days):
            raise ValidationError(_l("Open at least one weekday, or use the installation's hours."))

    @classmethod
    def initial(cls, team: Team) -> dict:
        hours = own_hours(team)
        opening = hours.days if hours else {}
        return {
            "own_hours": hours is not None,
            "days": [{"opens": opening[d][0], "closes": opening[d][1]} if d in opening else {} for d in range(7)],
            "holidays": HolidaysForm.initial(hours.holidays if hours and hours.holidays else Holidays()),
        }

    def chosen(self) -> tuple[BusinessHours | None, Holidays | None]:
        if not self.own_hours.data:
            return None, None
        hours = BusinessHours({d: day.form.hours for d, day in enumerate(self.days) if day.form.hours})
        return hours, self.holidays.form.chosen()
