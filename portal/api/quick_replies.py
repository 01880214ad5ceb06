"""/api/v1/quick-replies: the replies the token's agent may insert (shared and their own), with
their variables unfilled; the portal fills them per conversation (portal.services.quick_replies)."""

from __future__ import annotations

from flask_login import current_user

from portal.access import role_required
from portal.api import bp
from portal.api.errors import FieldErrors
from portal.api.params import paginate
from portal.api.serializers import quick_reply_json
from portal.models import QuickReply, Role
from portal.services import quick_replies


@bp.route("/quick-replies", methods=["GET"])
@role_required(Role.agent)
def list_quick_replies():
    return paginate(FieldErrors(), quick_replies.usable_stmt(current_user), QuickReply.id).as_json(quick_reply_json)
