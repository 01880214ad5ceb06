from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from portal.models import AssignMode

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
