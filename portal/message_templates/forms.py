from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.services import templates


class TemplateForm(FlaskForm):
    template_key = StringField(
        _l("Key"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("The template's name in WhatsApp Manager, e.g. order_update."),
    )
    language = StringField(
        _l("Language"),
        validators=[DataRequired(), Length(max=10)],
        default="pt_BR",
        description=_l("The language code approved for it: pt_BR, en_US, es..."),
    )
    body = TextAreaField(
        _l("Body"),
        validators=[DataRequired(), Length(max=1024)],
        description=_l("Parameters are {{1}}, {{2}}... numbered from 1 without gaps."),
    )
    sample_values = StringField(
        _l("Sample values for the preview"),
        validators=[Length(max=500)],
        description=_l("Separated by |, e.g. Ana|#1234. Not saved."),
    )

    def validate_body(self, field):
        errors = templates.body_errors(field.data or "")
        if errors:
            raise ValidationError(" ".join(errors))

    def sample_params(self) -> list[str]:
        return [value.strip() for value in (self.sample_values.data or "").split("|")]
