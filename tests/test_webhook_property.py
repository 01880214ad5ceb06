"""Property: whatever signed JSON arrives, the endpoint never answers 500, and every stored event
ends processed, or failed with a reason, once the worker has run."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.models import WebhookEvent, WebhookStatus

MESSAGE_TYPES = [
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "unsupported", "system", "revoke",
]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
any_json = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
wa_ids = st.sampled_from(["5521998765432", "552198765432", "5511987654321", "12", ""]) | any_json
wamids = st.text(min_size=1, max_size=200).map("wamid.".__add__) | any_json
timestamps = st.integers(min_value=-(2**40), max_value=2**40).map(str) | any_json


@st.composite
def messages(draw):
    message_type = draw(st.sampled_from(MESSAGE_TYPES) | any_json)
    message = {"from": draw(wa_ids), "id": draw(wamids), "timestamp": draw(timestamps), "type": message_type}
    if isinstance(message_type, str):
        message[message_type] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "body": st.text(max_size=50),
                    "id": st.text(max_size=20),
                    "mime_type": st.text(max_size=20),
                    "caption": st.text(max_size=20),
                    "emoji": st.text(max_size=2),
                    "type": st.sampled_from(["button_reply", "list_reply"]),
                    "button_reply": any_json,
                },
            )
            | any_json
        )
    if draw(st.booleans()):
        message["context"] = draw(st.fixed_dictionaries({"id": wamids}) | any_json)
    if draw(st.booleans()):
        message["errors"] = draw(st.lists(st.fixed_dictionaries({"code": any_json, "title": any_json}), max_size=2))
    return message


statuses = st.fixed_dictionaries(
    {
        "id": wamids,
        "status": st.sampled_from(["sent", "delivered", "read", "played", "failed", "deleted"]) | any_json,
        "timestamp": timestamps,
    },
    optional={"errors": st.lists(st.fixed_dictionaries({"code": any_json, "title": any_json}), max_size=2)},
)
values = st.fixed_dictionaries(
    {},
    optional={
        "contacts": st.lists(st.fixed_dictionaries({"wa_id": wa_ids, "profile": any_json}), max_size=2),
        "messages": st.lists(messages(), max_size=3),
        "statuses": st.lists(statuses, max_size=3),
        "errors": st.lists(any_json, max_size=2),
    },
)
changes = st.fixed_dictionaries({"field": st.sampled_from(["messages", "account_update"]) | any_json, "value": values | any_json})
whatsapp_shaped = st.fixed_dictionaries(
    {"object": st.just("whatsapp_business_account"), "entry": st.lists(st.fixed_dictionaries({"changes": st.lists(changes, max_size=3)}), max_size=2)}
)


def _check(db, post_whatsapp, run_jobs, payload):
    response = post_whatsapp(payload)
    assert response.status_code in (200, 400), response.status_code
    run_jobs("webhooks")
    db.session.expire_all()
    for event in db.session.scalars(select(WebhookEvent)):
        assert event.status in (WebhookStatus.processed, WebhookStatus.failed)
        if event.status == WebhookStatus.failed:
            assert event.error


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(payload=whatsapp_shaped)
def test_whatsapp_shaped_notifications_end_processed_or_failed_with_a_reason(db, post_whatsapp, run_jobs, payload):
    _check(db, post_whatsapp, run_jobs, payload)


@FAST
@given(payload=any_json)
def test_any_signed_json_is_never_a_server_error(db, post_whatsapp, run_jobs, payload):
    _check(db, post_whatsapp, run_jobs, payload)
