from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, ValidationError

from portal.models import AssignMode, Team
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
