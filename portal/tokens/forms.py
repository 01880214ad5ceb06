from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.services.api_tokens import NAME_MAX_LENGTH


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)],
        description=_l("Say where it is used, e.g. \"CRM sync\", so you know what breaks if you revoke it."),
    )
