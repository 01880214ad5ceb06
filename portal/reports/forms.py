from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, ValidationError

from portal.extensions import db
from portal.labels import PRIORITY_LABELS
from portal.models import Agent, Inbox, Priority, Tag, Team
from portal.services.reports import MAX_RANGE_DAYS, ReportFilter, default_range


class ReportFilterForm(FlaskForm):
    """Read from the query string, so a report is a URL to share and the CSV link repeats it."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To"), validators=[DataRequired()])
    agent_id = SelectField(_l("Agent"), default="")
    tag_id = SelectField(_l("Tag"), default="")
    inbox_id = SelectField(_l("Inbox"), default="")
    team_id = SelectField(_l("Team"), default="")
    priority = SelectField(
        _l("Priority"), choices=[("", _l("Any"))] + [(p.value, label) for p, label in PRIORITY_LABELS.items()], default=""
    )

    def __init__(self, formdata, today: date):
        start, end = default_range(today)
        super().__init__(formdata, start=start, end=end)
        self.agent_id.choices = [("", _l("Any"))] + [
            (str(agent_id), name)
            for agent_id, name in db.session.execute(select(Agent.id, Agent.name).order_by(Agent.name))
        ]
        self.inbox_id.choices = [("", _l("Any"))] + [
            (str(inbox_id), name)
            for inbox_id, name in db.session.execute(select(Inbox.id, Inbox.name).order_by(Inbox.name))
        ]
        self.team_id.choices = [("", _l("Any"))] + [
            (str(team_id), name) for team_id, name in db.session.execute(select(Team.id, Team.name).order_by(Team.name))
        ]
        self.tag_id.choices = [("", _l("Any"))] + [
            (str(tag_id), name)
            for tag_id, name in db.session.execute(select(Tag.id, Tag.name).order_by(Tag.name))
        ]

    def validate_end(self, field):
        if field.data and self.start.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end date is before the start date."))
            if (field.data - self.start.data).days + 1 > MAX_RANGE_DAYS:
                raise ValidationError(_l("Choose at most %(days)d days.", days=MAX_RANGE_DAYS))

    def to_filter(self) -> ReportFilter:
        return ReportFilter(
            start=self.start.data,
            end=self.end.data,
            agent_id=int(self.agent_id.data) if self.agent_id.data else None,
            tag_id=int(self.tag_id.data) if self.tag_id.data else None,
            priority=Priority(self.priority.data) if self.priority.data else None,
            inbox_id=int(self.inbox_id.data) if self.inbox_id.data else None,
            team_id=int(self.team_id.data) if self.team_id.data else None,
        )
