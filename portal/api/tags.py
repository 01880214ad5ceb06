"""/api/v1/tags. Any agent may create a tag: agents already create tags in the inbox by typing a
new one on a conversation, so the API grants nothing the UI does not."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portal.access import role_required
from portal.api import bp
from portal.api.errors import ApiError, FieldErrors, validation_error
from portal.api.params import json_object, paginate, tag_name_problem
from portal.api.serializers import tag_json
from portal.extensions import db
from portal.models import Role, Tag
from portal.services import conversations


@bp.route("/tags", methods=["GET"])
@role_required(Role.agent)
def list_tags():
    return paginate(FieldErrors(), select(Tag), Tag.id).as_json(tag_json)


@bp.route("/tags", methods=["POST"])
@role_required(Role.agent)
def create_tag():
    name = json_object().get("name")
    problem = tag_name_problem(name)
    if problem:
        raise validation_error({"name": [problem]})
    normalized = conversations.normalize_tag_name(name)
    if db.session.scalar(select(Tag).where(Tag.name == normalized)) is not None:
        raise ApiError(409, "duplicate_tag", _('The tag "%(name)s" already exists.', name=normalized))
    tag = conversations.get_or_create_tag(normalized)
    db.session.commit()
    return tag_json(tag), 201
