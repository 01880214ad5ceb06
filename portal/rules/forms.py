from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.labels import STATUS_LABELS
from portal.models import AutoRule, MessageTemplate
from portal.services.rules import CATALOGUE, RuleError, Trigger, make_trigger, parse_trigger_key


class RuleForm(FlaskForm):
    trigger = SelectField(
        _l("When"),
        choices=[(spec.kind.value, spec.label) for spec in CATALOGUE.values()],
        validators=[DataRequired()],
    )
    keyword = StringField(
        _l("Keyword"),
        validators=[Optional(), Length(max=60)],
        description=_l("A word or short phrase; capitals and accents do not matter, whole words only."),
    )
    status = SelectField(
        _l("Status"), choices=[("", "—")] + [(s.value, label) for s, label in STATUS_LABELS.items()], default=""
    )
    minutes = StringField(
        _l("Minutes without a reply"),
        validators=[Optional(), Length(max=6)],
        description=_l("Counted from the customer's last message; automatic messages are not a reply."),
    )
    template_id = SelectField(
        _l("Send template"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose the template the rule sends."))],
        description=_l("Rules fill {{1}} with the contact's first name."),
    )
    enabled = BooleanField(_l("Enabled"), default=True)

    def __init__(self, *args, templates: list[MessageTemplate], rule: AutoRule | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.template_id.choices = [(0, "—")] + [
            (t.id, f"{t.template_key} ({t.language})") for t in templates
        ]
        if rule is not None and not self.is_submitted():
            self.template_id.data, self.enabled.data = rule.template_id, rule.enabled
            try:
                self.fill_trigger(parse_trigger_key(rule.trigger_key))
            except RuleError:
                self.trigger.data = None

    def fill_trigger(self, trigger: Trigger) -> None:
        self.trigger.data = trigger.kind.value
        if trigger.spec.parameter is not None:
            getattr(self, trigger.spec.parameter.value).data = trigger.parameter

    def to_trigger(self) -> Trigger:
        """The trigger with the parameter its kind uses; RuleError names the field that is wrong."""
        spec = CATALOGUE.get(self.trigger.data)
        parameter = None
        if spec is not None and spec.parameter is not None:
            parameter = getattr(self, spec.parameter.value).data
        return make_trigger(self.trigger.data, parameter)
