"""Quick replies: shortcuts unique per agent's namespace, variables known or refused, filled per
conversation, pages for supervisors (shared) and each agent (personal), CSV all or nothing."""

import io

from portal.models import AuditLog, QuickReply
from portal.services import quick_replies
from portal.services.quick_replies import QuickReplyError
from tests import factories


def _shared(db, shortcut, body="Olá!"):
    reply = QuickReply(shortcut=shortcut, body=body)
    db.session.add(reply)
    db.session.commit()
    return reply


def test_a_shortcut_that_already_exists_is_refused_with_a_clear_error_and_nothing_saved(client, db, login_as):
    _shared(db, "boleto")
    login_as("supervisor")
    response = client.post("/quick-replies/new", data={"shortcut": "/Boleto", "body": "Outro texto"})
    assert response.status_code == 200
    assert "The shared shortcut /boleto already exists." in response.get_data(as_text=True)
    assert db.session.query(QuickReply).count() == 1


def test_a_body_with_an_unknown_variable_is_refused_naming_it_and_the_known_ones(client, db, login_as):
    login_as("agent")
    response = client.post(
        "/profile/quick-replies/new", data={"shortcut": "oi", "body": "Oi {{contact.apelido}}, {{agent.name}} aqui"}
    )
    page = response.get_data(as_text=True)
    assert "Unknown variable: {{contact.apelido}}. Use one of:" in page
    assert "{{contact.first_name}}" in page
    assert db.session.query(QuickReply).count() == 0


def test_a_personal_shortcut_may_not_repeat_a_shared_one_nor_the_reverse(db):
    agent = factories.agent()
    supervisor = factories.agent(role="supervisor")
    _shared(db, "pix")
    try:
        quick_replies.create("pix", "Minha chave", owner=agent, by=agent)
    except QuickReplyError as error:
        assert "/pix is already a shared quick reply" in str(error)
    else:
        raise AssertionError("a personal /pix was saved beside the shared one")
    quick_replies.create("prazo", "Em 3 dias", owner=agent, by=agent)
    db.session.commit()
    try:
        quick_replies.create("prazo", "Em 5 dias", owner=None, by=supervisor)
    except QuickReplyError as error:
        assert "personal shortcut of 1 agent" in str(error)
    else:
        raise AssertionError("a shared /prazo was saved over an agent's personal one")
    # Another agent may keep a personal /prazo of their own.
    other = factories.agent()
    quick_replies.create("prazo", "Em 4 dias", owner=other, by=other)


def test_fill_uses_the_conversation_contact_and_the_inserting_agent(db):
    agent = factories.agent(name="Gabriela Souza")
    conversation = factories.conversation(factories.contact(name="Fernanda Lima"))
    body = "{{contact.first_name}}/{{ contact.name }}/{{agent.first_name}}/{{agent.name}}"
    assert quick_replies.fill(body, conversation, agent) == "Fernanda/Fernanda Lima/Gabriela/Gabriela Souza"


def test_picker_lists_shared_and_own_replies_filled_and_hides_others(client, db, login_as):
    agent = login_as("agent")
    other = factories.agent()
    conversation = factories.conversation(factories.contact(name="Fernanda Lima"))
    _shared(db, "oi", "Oi {{contact.first_name}}")
    db.session.add_all([QuickReply(shortcut="meu", body="meu", owner_id=agent.id),
                        QuickReply(shortcut="dele", body="dele", owner_id=other.id)])
    db.session.commit()
    replies = client.get(f"/conversations/{conversation.id}/quick-replies").get_json()
    assert [(r["shortcut"], r["body"]) for r in replies] == [("meu", "meu"), ("oi", "Oi Fernanda")]


def test_picker_refuses_a_conversation_the_agent_may_not_see(client, db, login_as):
    login_as("agent")
    conversation = factories.conversation(factories.contact(), assigned_to=factories.agent().id)
    db.session.commit()
    assert client.get(f"/conversations/{conversation.id}/quick-replies").status_code == 403


def test_agent_cannot_open_shared_pages_nor_others_personal_replies(client, db, login_as):
    login_as("agent")
    other = factories.agent()
    theirs = QuickReply(shortcut="x", body="x", owner_id=other.id)
    db.session.add(theirs)
    db.session.commit()
    assert client.get("/quick-replies").status_code == 403
    assert client.get(f"/profile/quick-replies/{theirs.id}/edit").status_code == 404
    assert client.post(f"/profile/quick-replies/{theirs.id}/delete").status_code == 404
    assert db.session.get(QuickReply, theirs.id) is not None


def test_delete_asks_first_then_deletes_and_audits(client, db, login_as):
    login_as("supervisor")
    reply = _shared(db, "tchau", "Até mais!")
    page = client.get(f"/quick-replies/{reply.id}/delete").get_data(as_text=True)
    assert "Delete the quick reply /tchau?" in page and "for every agent" in page
    assert db.session.get(QuickReply, reply.id) is not None
    client.post(f"/quick-replies/{reply.id}/delete")
    assert db.session.query(QuickReply).count() == 0
    assert db.session.query(AuditLog).filter_by(action="quick_reply.deleted").count() == 1


def test_search_finds_by_shortcut_or_text(client, db, login_as):
    login_as("supervisor")
    _shared(db, "boleto", "Segue o boleto")
    _shared(db, "pix", "Chave aleatória")
    page = client.get("/quick-replies?q=ALEAT").get_data(as_text=True)
    assert "/pix" in page and "/boleto" not in page


def _upload(client, url, text):
    return client.post(url, data={"file": (io.BytesIO(text.encode()), "replies.csv")}, content_type="multipart/form-data")


def test_csv_with_a_bad_row_shows_every_problem_and_imports_nothing(client, db, login_as):
    login_as("supervisor")
    _shared(db, "boleto")
    csv_text = (
        "atalho;texto\n"
        "novo;Olá {{contact.first_name}}\n"
        "boleto;Já existe\n"
        "novo;Repetido no arquivo\n"
        "x y;Com espaço\n"
        "ruim;Oi {{cliente}}\n"
    )
    page = _upload(client, "/quick-replies/import", csv_text).get_data(as_text=True)
    assert "4 rows have problems" in page
    assert "The shared shortcut /boleto already exists." in page
    assert "/novo appears more than once in the file." in page
    assert "Unknown variable: {{cliente}}" in page
    assert 'id="import-confirm"' not in page
    # A forged confirm of the same file is checked again and writes nothing.
    client.post("/quick-replies/import/confirm", data={"csv_text": csv_text})
    assert db.session.query(QuickReply).count() == 1


def test_csv_that_is_not_a_quick_reply_file_gets_a_clear_error(client, db, login_as):
    login_as("supervisor")
    page = _upload(client, "/quick-replies/import", "nome,telefone\nAna,119\n").get_data(as_text=True)
    assert "The file needs a shortcut column (atalho/shortcut) and a text column (texto/body)." in page


def test_csv_import_preview_then_confirm_then_export_round_trip(client, db, login_as):
    agent = login_as("agent")
    csv_text = 'shortcut,body\nola,"Olá {{contact.first_name}},\nem que posso ajudar?"\n/Tchau,Até logo\n'
    page = _upload(client, "/profile/quick-replies/import", csv_text).get_data(as_text=True)
    assert "2 quick replies ready to import." in page
    assert db.session.query(QuickReply).count() == 0
    client.post("/profile/quick-replies/import/confirm", data={"csv_text": csv_text})
    rows = db.session.query(QuickReply).order_by(QuickReply.shortcut).all()
    assert [(r.shortcut, r.owner_id) for r in rows] == [("ola", agent.id), ("tchau", agent.id)]
    assert rows[0].body == "Olá {{contact.first_name}},\nem que posso ajudar?"
    exported = client.get("/profile/quick-replies/export.csv", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert exported.startswith("\ufeffshortcut,body")
    assert "tchau,Até logo" in exported


def test_a_clashing_shortcut_and_a_bad_body_are_both_shown_at_once(client, db, login_as):
    _shared(db, "boleto")
    login_as("supervisor")
    page = client.post("/quick-replies/new", data={"shortcut": "boleto", "body": "Oi {{cliente}}"}).get_data(as_text=True)
    assert "The shared shortcut /boleto already exists." in page
    assert "Unknown variable: {{cliente}}." in page


def test_api_lists_shared_and_own_quick_replies_unfilled(client, db):
    from tests.api_support import bearer, token_for

    agent = factories.agent()
    other = factories.agent()
    _shared(db, "oi", "Oi {{contact.first_name}}")
    db.session.add_all([QuickReply(shortcut="meu", body="meu", owner_id=agent.id),
                        QuickReply(shortcut="dele", body="dele", owner_id=other.id)])
    db.session.commit()
    response = client.get("/api/v1/quick-replies", headers=bearer(token_for(agent)))
    assert response.status_code == 200
    items = [(r["shortcut"], r["body"], r["shared"]) for r in response.get_json()["data"]]
    assert items == [("oi", "Oi {{contact.first_name}}", True), ("meu", "meu", False)]
