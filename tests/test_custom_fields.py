"""Custom fields of contacts and conversations: definitions, values by type (CPF and CNPJ by their
check digits), the pages, the API, the CSV round trip, quick replies and campaigns."""

import pytest

from portal.models import AuditLog, Contact, CrmDelivery, CustomFieldDefinition, Role
from portal.services import campaigns, contact_admin, contact_csv, custom_fields, quick_replies
from portal.services.campaigns import Audience
from portal.services.custom_fields import CustomFieldError, FieldValueError
from tests import factories
from tests.api_support import api_as
from tests.test_campaigns import _draft, _tagged_contacts, _template

VALID_CPF = "529.982.247-25"
VALID_CNPJ = "11.222.333/0001-81"


def _define(entity="contact", key="cpf", field_type="cpf", **more):
    admin = more.pop("by", None) or factories.agent(Role.admin)
    return custom_fields.create_definition(
        entity=entity, key=key, label=more.pop("label", key.upper()), field_type=field_type, by=admin, **more
    )


@pytest.mark.parametrize(
    ("field_type", "raw", "stored"),
    [
        ("cpf", VALID_CPF, "52998224725"),
        ("cpf", "52998224725", "52998224725"),
        ("cpf", " 529 982 247 25 ", "52998224725"),
        ("cnpj", VALID_CNPJ, "11222333000181"),
        ("cnpj", "11222333000181", "11222333000181"),
        ("number", "1.234,50", "1234.5"),
        ("number", "-7", "-7"),
        ("date", "31/12/2026", "2026-12-31"),
        ("date", "2026-12-31", "2026-12-31"),
        ("yes_no", "Sim", "true"),
        ("yes_no", "não", "false"),
        ("url", "https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("text", "  Plano ouro ", "Plano ouro"),
    ],
)
def test_values_are_stored_normalized(db, field_type, raw, stored):
    defn = _define(key="f", field_type=field_type)
    assert custom_fields.clean_value(defn, raw) == stored


@pytest.mark.parametrize(
    ("field_type", "raw", "reason"),
    [
        ("cpf", "529.982.247-26", "Not a valid CPF"),  # last check digit wrong
        ("cpf", "529.982.247-35", "Not a valid CPF"),  # first check digit wrong
        ("cpf", "111.111.111-11", "Not a valid CPF"),  # passes the sums, refused by the rules
        ("cpf", "5299822472", "Not a valid CPF"),  # one digit short
        ("cnpj", "11.222.333/0001-82", "Not a valid CNPJ"),
        ("cnpj", "11.222.333/0001-91", "Not a valid CNPJ"),
        ("number", "doze", "Not a number"),
        ("date", "31/02/2026", "Not a date"),
        ("yes_no", "talvez", "Answer yes or no"),
        ("url", "javascript:alert(1)", "Not a web address"),
        ("url", "example.com", "Not a web address"),
    ],
)
def test_invalid_values_are_refused_with_the_reason(db, field_type, raw, reason):
    defn = _define(key="f", field_type=field_type)
    with pytest.raises(FieldValueError, match=reason):
        custom_fields.clean_value(defn, raw)


def test_documents_are_shown_formatted(db):
    cpf, cnpj = _define(key="cpf"), _define(key="cnpj", field_type="cnpj")
    assert custom_fields.display(cpf, "52998224725") == VALID_CPF
    assert custom_fields.display(cnpj, "11222333000181") == VALID_CNPJ


def test_a_required_field_and_an_unknown_key(db):
    _define(key="cpf", required=True)
    with pytest.raises(CustomFieldError) as refused:
        custom_fields.clean_values("contact", {"plano": "x"})
    assert set(refused.value.errors) == {"plano", "cpf"}
    # A partial change need not name the required field, but may not empty it.
    assert custom_fields.clean_values("contact", {}, current={"cpf": "52998224725"}, partial=True) == {
        "cpf": "52998224725"
    }
    with pytest.raises(CustomFieldError, match="CPF is required"):
        custom_fields.clean_values("contact", {"cpf": ""}, current={"cpf": "52998224725"}, partial=True)


def test_keys_are_checked_and_unique(db):
    _define(key="cpf")
    for key, words in (("cpf", "already has the key"), ("phone", "built-in"), ("Não ok", "lowercase")):
        with pytest.raises(CustomFieldError, match=words):
            _define(key=key)
    # The same key on the other entity is another field.
    _define(entity="conversation", key="cpf")


def test_a_type_change_or_an_option_in_use_is_refused_with_the_count(db):
    admin = factories.agent(Role.admin)
    plan = _define(key="plano", field_type="options", options="Ouro\nPrata\nBronze", by=admin)
    contact = factories.contact()
    contact_admin.update(contact, by=admin, custom={"plano": "ouro"})
    assert contact.custom_fields == {"plano": "Ouro"}
    with pytest.raises(CustomFieldError, match="1 contact has a value") as refused:
        custom_fields.update_definition(plan, label="Plano", field_type="text", by=admin)
    assert "type cannot change" in refused.value.errors["field_type"]
    with pytest.raises(
        CustomFieldError, match=r"in use and cannot be removed: Ouro \(1 contact has a value\)"
    ):
        custom_fields.update_definition(
            plan, label="Plano", field_type="options", options="Prata\nBronze", by=admin
        )
    with pytest.raises(CustomFieldError, match="cannot be deleted"):
        custom_fields.delete_definition(plan, by=admin)
    # An option nobody uses may go; the label and required may change.
    changed = custom_fields.update_definition(
        plan, label="Plano contratado", field_type="options", options="Ouro\nPrata", required=True, by=admin
    )
    assert changed == ["label", "options", "required"] and plan.options == ["Ouro", "Prata"]
    # Now required: the value cannot be emptied. Once nobody holds a value, the type may change.
    with pytest.raises(contact_admin.ContactValidationError, match="required"):
        contact_admin.update(contact, by=admin, custom={"plano": None})
    plan.required = False
    contact_admin.update(contact, by=admin, custom={"plano": None})
    assert custom_fields.update_definition(plan, label="Plano", field_type="text", by=admin) == [
        "field_type",
        "label",
        "options",
    ]


def test_the_admin_page_defines_a_field_and_shows_the_refusal(client, db, login_as):
    admin = login_as(Role.admin)
    response = client.post(
        "/admin/custom-fields",
        data={
            "entity": "contact",
            "key": "plano",
            "label": "Plano",
            "field_type": "options",
            "options": "Ouro\nPrata",
            "required": "y",
        },
    )
    assert response.status_code == 302
    defn = db.session.query(CustomFieldDefinition).one()
    assert (defn.key, defn.options, defn.required) == ("plano", ["Ouro", "Prata"], True)
    contact = factories.contact()
    contact.custom_fields = {"plano": "Prata"}
    db.session.commit()
    page = client.post(
        f"/admin/custom-fields/{defn.id}", data={"label": "Plano", "field_type": "options", "options": "Ouro"}
    )
    assert page.status_code == 200
    assert "in use and cannot be removed: Prata (1 contact has a value)" in page.get_data(as_text=True)
    db.session.expire_all()
    assert defn.options == ["Ouro", "Prata"]
    # Deleting asks first, and is refused while a value is stored.
    assert "cannot be deleted" in client.get(f"/admin/custom-fields/{defn.id}/delete").get_data(as_text=True)
    assert client.post(f"/admin/custom-fields/{defn.id}/delete").status_code == 200
    assert db.session.get(CustomFieldDefinition, defn.id) is not None
    assert db.session.query(AuditLog).filter_by(action="custom_field.created", actor_id=admin.id).count() == 1


def test_the_contact_page_edits_shows_and_filters_by_custom_fields(client, db, login_as):
    login_as(Role.agent)
    _define(key="cpf", required=True)
    _define(key="vip", field_type="yes_no", label="VIP")
    contact, other = factories.contact(name="Ana"), factories.contact(name="Bruno")
    db.session.commit()
    refused = client.post(
        f"/contacts/{contact.id}/edit",
        data={"name": "Ana", "phone": contact.phone, "cf_cpf": "529.982.247-26", "cf_vip": "true"},
    )
    assert refused.status_code == 200 and "Not a valid CPF" in refused.get_data(as_text=True)
    saved = client.post(
        f"/contacts/{contact.id}/edit",
        data={"name": "Ana", "phone": contact.phone, "cf_cpf": "52998224725", "cf_vip": "true"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert contact.custom_fields == {"cpf": "52998224725", "vip": "true"}
    assert VALID_CPF in client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    listed = client.get("/contacts?cf_vip=true").get_data(as_text=True)
    assert "Ana" in listed and "Bruno" not in listed
    searched = client.get("/contacts?q=529.982").get_data(as_text=True)
    assert "Ana" in searched and "Bruno" not in searched
    assert other.custom_fields is None


def test_the_details_panel_saves_contact_and_conversation_fields(client, db, login_as):
    agent = login_as(Role.agent)
    _define(key="cnpj", field_type="cnpj")
    _define(entity="conversation", key="pedido", field_type="number", label="Pedido")
    conversation = factories.conversation(assigned_to=agent.id)
    db.session.commit()
    url = f"/conversations/{conversation.id}/fields"
    refused = client.post(
        url,
        data={"cf_contact.cnpj": "11.222.333/0001-82", "cf_conversation.pedido": "12"},
        headers={"HX-Request": "true"},
    )
    assert "Not a valid CNPJ" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert conversation.custom_fields is None  # both or neither
    page = client.post(
        url,
        data={"cf_contact.cnpj": VALID_CNPJ, "cf_conversation.pedido": "12"},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 200 and VALID_CNPJ in page.get_data(as_text=True)
    db.session.expire_all()
    assert conversation.contact.custom_fields == {"cnpj": "11222333000181"}
    assert conversation.custom_fields == {"pedido": "12"}
    assert 'name="cf_contact.cnpj"' in client.get(f"/conversations/{conversation.id}").get_data(as_text=True)


def test_a_conversation_the_agent_may_not_see_keeps_its_fields(client, db, login_as):
    login_as(Role.agent)
    _define(entity="conversation", key="pedido", field_type="number")
    conversation = factories.conversation(assigned_to=factories.agent().id)
    db.session.commit()
    assert (
        client.post(
            f"/conversations/{conversation.id}/fields", data={"cf_conversation.pedido": "1"}
        ).status_code
        == 403
    )


def test_a_quick_reply_fills_a_custom_field(db):
    agent = factories.agent()
    _define(key="cpf")
    conversation = factories.conversation(
        factories.contact(name="Fernanda Lima", custom_fields={"cpf": "52998224725"})
    )
    assert quick_replies.body_errors("Seu CPF: {{contact.cpf}}") == []
    assert "Unknown variable: {{contact.rg}}" in quick_replies.body_errors("{{contact.rg}}")[0]
    assert quick_replies.fill("{{contact.first_name}}, CPF {{contact.cpf}}", conversation, agent) == (
        f"Fernanda, CPF {VALID_CPF}"
    )


def test_a_campaign_maps_a_parameter_to_a_custom_field(db):
    supervisor = factories.agent(Role.supervisor)
    _define(key="plano", field_type="options", options=["Ouro", "Prata"], label="Plano")
    with_plan, without = _tagged_contacts(2)
    with_plan.custom_fields = {"plano": "Ouro"}
    campaign = _draft(
        Audience(tags=["vip"]),
        by=supervisor,
        template=_template("Olá {{1}}, plano {{2}}"),
        fields=("contact.first_name", "contact.plano"),
    )
    preview = {r.contact_id: (r, text) for r, text in campaigns.preview(campaign)}
    assert preview[with_plan.id][1].endswith("plano Ouro")
    recipient, text = preview[without.id]
    assert text is None and campaigns.exclusion_reason(recipient) == "No plano on file"
    with pytest.raises(campaigns.CampaignError):
        _draft(Audience(tags=["vip"]), by=supervisor, fields=("contact.first_name", "contact.unknown"))


def test_the_api_reads_and_writes_custom_fields(client, db):
    _define(key="cpf", required=True)
    _define(entity="conversation", key="pedido", field_type="number")
    agent, api = api_as(client)
    missing = api.post("/api/v1/contacts", json={"name": "Ana", "phone": "11987654321"})
    assert missing.status_code == 422 and "custom_fields.cpf" in missing.get_json()["error"]["fields"]
    bad = api.post(
        "/api/v1/contacts", json={"name": "Ana", "phone": "11987654321", "custom_fields": {"cpf": "123"}}
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["custom_fields.cpf"] == [
        "Not a valid CPF: check the digits."
    ]
    created = api.post(
        "/api/v1/contacts", json={"name": "Ana", "phone": "11987654321", "custom_fields": {"cpf": VALID_CPF}}
    )
    assert created.status_code == 201 and created.get_json()["custom_fields"] == {"cpf": "52998224725"}
    contact_id = created.get_json()["id"]
    assert api.get(f"/api/v1/contacts/{contact_id}").get_json()["custom_fields"] == {"cpf": "52998224725"}
    cleared = api.patch(f"/api/v1/contacts/{contact_id}", json={"custom_fields": {"cpf": None}})
    assert cleared.status_code == 422
    conversation = factories.conversation(db.session.get(Contact, contact_id), assigned_to=agent.id)
    patched = api.patch(f"/api/v1/conversations/{conversation.id}", json={"custom_fields": {"pedido": 42}})
    assert patched.status_code == 200 and patched.get_json()["custom_fields"] == {"pedido": "42"}
    wrong = api.patch(
        f"/api/v1/conversations/{conversation.id}",
        json={"custom_fields": {"pedido": "x"}, "priority": "high"},
    )
    assert wrong.status_code == 422 and "custom_fields.pedido" in wrong.get_json()["error"]["fields"]
    assert api.get(f"/api/v1/conversations/{conversation.id}").get_json()["priority"] == "normal"


def test_csv_export_then_import_keeps_the_custom_fields(db):
    supervisor = factories.agent(Role.supervisor)
    _define(key="cpf")
    _define(key="limite", field_type="number")
    _define(key="desde", field_type="date")
    factories.contact(
        name="Ana",
        phone="+5511987650001",
        custom_fields={"cpf": "52998224725", "limite": "1234.5", "desde": "2026-01-31"},
    )
    for delimiter in (";", ","):
        exported = "".join(contact_csv.export_filtered("", "", by=supervisor, delimiter=delimiter))
        assert exported.splitlines()[0].endswith(f"created_at{delimiter}cpf{delimiter}limite{delimiter}desde")
        assert VALID_CPF in exported
        db.session.query(Contact).delete()
        preview = contact_csv.parse(exported.encode())
        assert [r.errors for r in preview.rows] == [{}]
        [contact] = contact_csv.import_valid(preview, by=supervisor)
        assert contact.custom_fields == {"cpf": "52998224725", "limite": "1234.5", "desde": "2026-01-31"}


def test_a_csv_row_with_a_bad_custom_value_is_an_error_of_that_row(db):
    _define(key="cpf", label="CPF do cliente")
    preview = contact_csv.parse(
        b"nome;telefone;CPF do cliente\nAna;11987650001;529.982.247-26\nBia;11987650002;\n"
    )
    assert [r.errors for r in preview.rows] == [
        {"custom_fields.cpf": "Not a valid CPF: check the digits."},
        {},
    ]


def test_crm_events_carry_custom_fields(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_URL", "http://crm.invalid/hook")
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", "s")
    admin = factories.agent(Role.admin)
    _define(key="cpf", by=admin)
    _define(entity="conversation", key="pedido", field_type="number", by=admin)
    contact = contact_admin.create(name="Ana", phone="11987650001", custom={"cpf": VALID_CPF}, by=admin)
    conversation = factories.conversation(contact)
    custom_fields.update_conversation(conversation, {"pedido": "7"}, by=admin)
    payloads = {d.event_type: d.payload_json["data"] for d in db.session.query(CrmDelivery)}
    assert payloads["contact.created"]["contact"]["custom_fields"] == {"cpf": "52998224725"}
    assert payloads["conversation.updated"]["conversation"]["custom_fields"] == {"pedido": "7"}
