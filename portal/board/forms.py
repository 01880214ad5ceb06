from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired

from portal.labels import STATUS_LABELS


class MoveForm(FlaskForm):
    status = SelectField(
        _l("Move to"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()], validators=[DataRequired()]
    )
