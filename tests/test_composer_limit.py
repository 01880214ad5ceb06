"""The reply's length as the composer's counter shows it is the length the server checks: a line
break the browser sends as CRLF counts once, and a text over the channel's limit is refused whole,
never cut, with the text kept in the box."""

from portal.models import Direction, Message
from tests import factories


def _reply(client, conversation, body):
    return client.post(f"/conversations/{conversation.id}/reply", data={"body": body}, headers={"HX-Request": "true"})


def test_a_4096_character_reply_with_line_breaks_sent_as_crlf_is_accepted_and_sent_with_lf(client, db, login_as):
    login_as("agent")
    conversation = factories.conversation()
    db.session.commit()
    text = ("a" * 99 + "\n") * 40 + "b" * 96  # 4096 characters, as the counter counts them
    _reply(client, conversation, text.replace("\n", "\r\n"))
    message = db.session.query(Message).filter_by(direction=Direction.outbound).one()
    assert message.body == text


def test_a_4100_character_reply_is_refused_whole_and_kept_in_the_box(client, db, login_as):
    login_as("agent")
    conversation = factories.conversation()
    db.session.commit()
    text = "a" * 4100
    page = _reply(client, conversation, text).get_data(as_text=True)
    assert "A message holds at most 4096 characters." in page
    assert text in page  # the composer comes back with the whole text, for the agent to shorten
    assert db.session.query(Message).filter_by(direction=Direction.outbound).count() == 0
