from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.labels import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS
from portal.models import Agent, AutoRule, Inbox, MessageTemplate, Team
from portal.services import rule_steps
from portal.services.rules import CATALOGUE, RuleError, Trigger, make_trigger, parse_trigger_key
from portal.web import row_id

CONTACT_FIELD_LABELS = {"name": _l("Name"), "email": _l("E-mail"), "city": _l("City"), "phone": _l("Phone")}
ONCE, EVERY_TIME = "once", "every"


def _any(label=None):
    return [("", label or _l("Any"))]


class RuleForm(FlaskForm):
    """One rule: its trigger, the conditions that must also hold, and what it does. Every field is
    checked and every error shown at once (portal.rules.views._save)."""

    trigger = SelectField(_l("When"), choices=[(spec.kind.value, spec.label) for spec in CATALOGUE.values()])
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
    score = SelectField(
        _l("Score at most"),
        choices=[("", "—")] + [(str(n), str(n)) for n in range(1, 5)],
        default="",
        description=_l("On 1 to 5; a survey with three faces scores 1, 3 or 5."),
    )
    # Conditions
    if_inbox = SelectField(_l("Inbox is"), default="")
    if_team = SelectField(_l("Team is"), default="")
    if_tag = StringField(_l("Has the tag"), validators=[Optional(), Length(max=60)])
    if_priority = SelectField(
        _l("Priority is"), choices=_any() + [(p.value, label) for p, label in PRIORITY_LABELS.items()], default=""
    )
    if_channel = SelectField(
        _l("Channel is"), choices=_any() + [(c.value, label) for c, label in CHANNEL_LABELS.items()], default=""
    )
    if_contact_field = SelectField(
        _l("Contact field"), choices=_any() + list(CONTACT_FIELD_LABELS.items()), default=""
    )
    if_contact_value = StringField(
        _l("equals"), validators=[Optional(), Length(max=200)], description=_l("Empty: the field is filled in.")
    )
    if_business_hours = SelectField(
        _l("Business hours"),
        choices=[
            ("", _l("Any time")),
            (rule_steps.INSIDE, _l("Inside business hours")),
            (rule_steps.OUTSIDE, _l("Outside business hours")),
        ],
        default="",
    )
    # Actions
    template_id = SelectField(
        _l("Send template"),
        coerce=int,
        description=_l("Only templates the rule can fill: at most {{1}}, the contact's first name."),
    )
    text = TextAreaField(
        _l("Send text"),
        validators=[Optional(), Length(max=4096)],
        description=_l("Sent only inside WhatsApp's 24-hour window."),
        render_kw={"rows": 2},
    )
    set_team = SelectField(_l("Move to team"), default="")
    set_agent = SelectField(_l("Assign to"), default="")
    add_tag = StringField(_l("Add tag"), validators=[Optional(), Length(max=60)])
    set_priority = SelectField(
        _l("Set priority"), choices=_any(_l("Keep")) + [(p.value, label) for p, label in PRIORITY_LABELS.items()], default=""
    )
    set_status = SelectField(
        _l("Set status"), choices=_any(_l("Keep")) + [(s.value, label) for s, label in STATUS_LABELS.items()], default=""
    )
    # How often
    repeat = SelectField(
        _l("Runs"),
        choices=[(ONCE, _l("Once per conversation")), (EVERY_TIME, _l("Every time, with a cool-down"))],
        default=ONCE,
    )
    cooldown_minutes = StringField(_l("Cool-down (minutes)"), validators=[Optional(), Length(max=6)])
    allow_second_reply = BooleanField(
        _l("Allow a second automatic reply to a customer message another rule already answered")
    )
    enabled = BooleanField(_l("Enabled"), default=True)

    def __init__(
        self,
        *args,
        templates: list[MessageTemplate],
        inboxes: list[Inbox],
        teams: list[Team],
        agents: list[Agent],
        rule: AutoRule | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.template_id.choices = [(0, "—")] + [(t.id, f"{t.template_key} ({t.language})") for t in templates]
        self.if_inbox.choices = _any() + [(str(i.id), i.name) for i in inboxes]
        self.if_team.choices = _any() + [(str(t.id), t.name) for t in teams]
        self.set_team.choices = _any(_l("Keep")) + [(str(t.id), t.name) for t in teams]
        self.set_agent.choices = _any(_l("Keep")) + [(str(a.id), a.name) for a in agents]
        if rule is not None and not self.is_submitted():
            self.fill(rule)

    def fill(self, rule: AutoRule) -> None:
        self.template_id.data, self.enabled.data = rule.template_id or 0, rule.enabled
        try:
            self.fill_trigger(parse_trigger_key(rule.trigger_key))
        except RuleError:
            self.trigger.data = None
        c, a = rule.conditions or {}, rule.actions or {}
        self.if_inbox.data = str(c.get("inbox_id", ""))
        self.if_team.data = str(c.get("team_id", ""))
        self.if_tag.data = c.get("tag", "")
        self.if_priority.data = c.get("priority", "")
        self.if_channel.data = c.get("channel", "")
        self.if_contact_field.data = c.get("contact_field", "")
        self.if_contact_value.data = c.get("contact_value", "")
        self.if_business_hours.data = c.get("business_hours", "")
        self.text.data = a.get("text", "")
        self.set_team.data = str(a.get("team_id", ""))
        self.set_agent.data = str(a.get("agent_id", ""))
        self.add_tag.data = a.get("tag", "")
        self.set_priority.data = a.get("priority", "")
        self.set_status.data = a.get("status", "")
        self.repeat.data = ONCE if rule.cooldown_minutes is None else EVERY_TIME
        self.cooldown_minutes.data = "" if rule.cooldown_minutes is None else str(rule.cooldown_minutes)
        self.allow_second_reply.data = rule.allow_second_reply

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

    def chosen_conditions(self) -> dict:
        found = {
            "inbox_id": row_id(self.if_inbox.data),
            "team_id": row_id(self.if_team.data),
            "tag": " ".join((self.if_tag.data or "").lower().split()) or None,
            "priority": self.if_priority.data or None,
            "channel": self.if_channel.data or None,
            "business_hours": self.if_business_hours.data or None,
        }
        if self.if_contact_field.data:
            found["contact_field"] = self.if_contact_field.data
            found["contact_value"] = (self.if_contact_value.data or "").strip()
        return {k: v for k, v in found.items() if v is not None}

    def chosen_actions(self) -> dict:
        found = {
            "team_id": row_id(self.set_team.data),
            "agent_id": row_id(self.set_agent.data),
            "tag": " ".join((self.add_tag.data or "").lower().split()) or None,
            "priority": self.set_priority.data or None,
            "status": self.set_status.data or None,
            "text": (self.text.data or "").strip() or None,
        }
        return {k: v for k, v in found.items() if v is not None}

    def chosen_cooldown(self) -> int | None:
        """None: once per conversation. RuleError when "every time" lacks a sane cool-down."""
        if self.repeat.data != EVERY_TIME:
            return None
        raw = (self.cooldown_minutes.data or "").strip()
        if not raw.isascii() or not raw.isdigit() or int(raw) > 7 * 24 * 60:
            raise RuleError(_l("Give the cool-down as whole minutes, from 0 to 10080."), "cooldown_minutes")
        return int(raw)
