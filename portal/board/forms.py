from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired

from portal.models import ConversationStatus


class MoveForm(FlaskForm):
    status = SelectField(
        _l("Move to"), choices=[(s.value, s.value) for s in ConversationStatus], validators=[DataRequired()]
    )
