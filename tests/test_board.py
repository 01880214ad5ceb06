"""The pipeline board: conversations as cards in columns by status; moving a card changes its status."""

from datetime import timedelta

from portal.models import AuditLog, ConversationStatus, Priority, Role, utcnow
from portal.services import board
from tests import factories


def _column(page: str, status: str) -> str:
    return page.split(f'data-board-column="{status}"')[1].split("</section>")[0]


def test_board_shows_a_column_per_status_with_its_cards(client, db, login_as):
    login_as(Role.supervisor, locale="en")
    owner = factories.agent(name="Bruna Lima")
    factories.conversation(
        factories.contact(name="Ana Souza"),
        status=ConversationStatus.proposal,
        priority=Priority.urgent,
        assigned_to=owner.id,
    )
    factories.conversation(factories.contact(name="Caio Reis"), status=ConversationStatus.new)
    db.session.commit()

    page = client.get("/board").get_data(as_text=True)

    for status in ConversationStatus:
        assert f'data-board-column="{status}"' in page
    proposal = _column(page, "proposal")
    assert "Ana Souza" in proposal and "priority-urgent" in proposal and "Bruna Lima" in proposal
    assert "minutes ago" in proposal
    assert "Caio Reis" in _column(page, "new") and "Unassigned" in _column(page, "new")
    assert "Ana Souza" not in _column(page, "new")


def test_moving_a_card_without_javascript_changes_the_status(client, db, login_as):
    supervisor = login_as(Role.supervisor)
    conversation = factories.conversation(status=ConversationStatus.new)
    db.session.commit()

    response = client.post(f"/board/cards/{conversation.id}/status", data={"status": "waiting"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/board")
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.waiting
    audit = db.session.query(AuditLog).filter_by(action="conversation.status_changed").one()
    assert audit.actor_id == supervisor.id and audit.details == {"old": "new", "new": "waiting"}


def test_moving_a_card_with_htmx_answers_the_board_fragment(client, db, login_as):
    login_as(Role.supervisor)
    conversation = factories.conversation(
        factories.contact(name="Dora Melo"), status=ConversationStatus.triage
    )
    db.session.commit()

    response = client.post(
        f"/board/cards/{conversation.id}/status", data={"status": "closed"}, headers={"HX-Request": "true"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.startswith('<div id="board-wrap">')
    assert "Dora Melo" in _column(page, "closed") and "Dora Melo" not in _column(page, "triage")
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.closed and conversation.closed_at is not None


def test_a_refused_move_explains_why(client, db, login_as):
    login_as(Role.supervisor, locale="en")
    contact = factories.contact()
    closed = factories.conversation(contact, status=ConversationStatus.closed)
    factories.conversation(contact, status=ConversationStatus.active)
    db.session.commit()

    response = client.post(
        f"/board/cards/{closed.id}/status", data={"status": "active"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "already has an open conversation" in response.get_data(as_text=True)
    db.session.refresh(closed)
    assert closed.status == ConversationStatus.closed


def test_an_unknown_status_is_refused(client, db, login_as):
    login_as(Role.supervisor, locale="en")
    conversation = factories.conversation()
    db.session.commit()
    response = client.post(
        f"/board/cards/{conversation.id}/status", data={"status": "archived"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Choose a status" in response.get_data(as_text=True)
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.new


def test_closed_columns_are_capped_with_a_more_link(client, db, login_as):
    login_as(Role.supervisor, locale="en")
    now = utcnow()
    for n in range(board.CLOSED_COLUMN_CAP + 3):
        factories.conversation(
            factories.contact(name=f"Closed {n:02d}"),
            status=ConversationStatus.closed,
            last_message_at=now - timedelta(minutes=n),
        )
    db.session.commit()

    closed = _column(client.get("/board").get_data(as_text=True), "closed")
    assert closed.count("data-board-card") == board.CLOSED_COLUMN_CAP
    assert "Closed 00" in closed and "Closed 12" not in closed
    assert "3 more" in closed and "/board/closed" in closed

    full = client.get("/board/closed").get_data(as_text=True)
    assert full.count("data-board-card") == board.CLOSED_COLUMN_CAP + 3


def test_board_scope_follows_conversation_visibility(db):
    agent = factories.agent(role=Role.agent)
    other = factories.agent(role=Role.agent)
    mine = factories.conversation(assigned_to=agent.id)
    unassigned = factories.conversation()
    theirs = factories.conversation(assigned_to=other.id)
    db.session.commit()

    [new_column] = [c for c in board.columns(agent) if c.status == ConversationStatus.new]

    assert {c.id for c in new_column.cards} == {mine.id, unassigned.id} and new_column.total == 2
    assert board.visible_conversation(agent, theirs.id) is None


def test_agents_cannot_open_the_board(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    assert client.get("/board").status_code == 403
    assert client.post(f"/board/cards/{conversation.id}/status", data={"status": "closed"}).status_code == 403
