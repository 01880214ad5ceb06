"""CSV import (upload, preview with per-row errors, confirm in one transaction) and export."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from portal.extensions import db
from portal.models import AuditLog, Contact, Role
from portal.services import contact_csv
from tests import factories
from tests.conftest import TEST_PASSWORD

FIXTURES = Path(__file__).parent / "fixtures"
PTBR_EXPORT = FIXTURES / "contatos_excel_ptbr.csv"
# Above the app-wide 1 MiB request limit; the empty rows are skipped, so the preview stays small.
TWO_MIB_CSV = b"name,phone\nAna,11987654321\n" + b",,,,,,,,,\n" * (2 * 1024 * 1024 // 10)


def upload(client, data: bytes, filename: str = "contatos.csv"):
    return client.post(
        "/contacts/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def token_from(html: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)


def contacts(db) -> dict[str, Contact]:
    return {c.phone: c for c in db.session.query(Contact)}


def test_a_ptbr_excel_export_is_parsed_with_per_row_errors(db):
    factories.contact(name="Já Existe", phone="+5531998765432")
    preview = contact_csv.parse(PTBR_EXPORT.read_bytes())
    assert preview.delimiter == ";"
    by_line = {row.line: row for row in preview.rows}
    assert by_line[2].valid and by_line[2].name == "João Conceição" and by_line[2].city == "São Paulo"
    assert by_line[2].normalized_phone == "+5511987654321"
    assert by_line[3].valid and by_line[3].normalized_phone == "+5521987654321"  # ninth digit added
    assert set(by_line[4].errors) == {"name"}
    assert set(by_line[5].errors) == {"phone"}
    assert "line 2" in by_line[6].errors["phone"]  # same number as line 2
    assert set(by_line[7].errors) == {"phone", "email"}  # on file already, and a bad e-mail
    assert len(preview.valid_rows) == 2


def test_english_headers_and_commas_without_bom(db):
    preview = contact_csv.parse((FIXTURES / "contacts_english.csv").read_bytes())
    assert preview.delimiter == ","
    assert [r.normalized_phone for r in preview.valid_rows] == ["+16502530000", "+5511977770001"]


def test_a_windows_1252_file_keeps_its_accents(db):
    data = "nome;celular\nConceição;11 98765-4321\n".encode("cp1252")
    [row] = contact_csv.parse(data).rows
    assert row.name == "Conceição" and row.valid


def test_ninth_digit_twins_in_one_file_are_duplicates(db):
    data = b"name,phone\nA,+55 11 98765-4321\nB,+55 11 8765-4321\n"
    rows = contact_csv.parse(data).rows
    assert rows[0].valid and "phone" in rows[1].errors


def confirm(client, html: str, run_jobs, **data):
    """Confirm the previewed upload and let a real RQ worker run the import job; the progress page."""
    response = client.post("/contacts/import/confirm", data={"token": token_from(html), **data})
    assert response.status_code == 302 and "/contacts/import/" in response.headers["Location"]
    db.session.commit()  # the worker writes through its own connection: SQLite allows one writer
    run_jobs("default")
    db.session.expire_all()
    return client.get(response.headers["Location"])


def test_supervisor_previews_then_confirms_and_only_valid_rows_are_imported(client, login_as, db, run_jobs):
    supervisor = login_as(Role.supervisor)
    response = upload(client, PTBR_EXPORT.read_bytes())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "João Conceição" in html and "A name is required." in html and "Not a valid phone number." in html
    assert db.session.query(Contact).count() == 0  # a preview writes nothing

    page = confirm(client, html, run_jobs, filename="c.csv").get_data(as_text=True)
    assert "2 contacts imported. 4 rows skipped." in page
    stored = contacts(db)
    assert set(stored) == {"+5511987654321", "+5521987654321"}
    assert stored["+5511987654321"].email == "joao@exemplo.com.br"
    entry = db.session.query(AuditLog).filter_by(action="contacts.imported").one()
    assert entry.actor_id == supervisor.id and entry.details["created"] == 2 and entry.details["skipped"] == 4


def test_confirm_is_all_or_nothing(client, login_as, db, monkeypatch, run_jobs):
    login_as(Role.supervisor)
    html = upload(client, PTBR_EXPORT.read_bytes()).get_data(as_text=True)
    real_create = contact_csv.create
    calls = []

    def create_then_fail(**fields):
        calls.append(fields)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_create(**fields)

    monkeypatch.setattr(contact_csv, "create", create_then_fail)
    page = confirm(client, html, run_jobs).get_data(as_text=True)
    assert "nothing was imported" in page and 'data-state="failed"' in page
    assert len(calls) == 2 and db.session.query(Contact).count() == 0


def test_confirm_rechecks_rows_against_contacts_created_since_the_preview(client, login_as, db, run_jobs):
    login_as(Role.supervisor)
    html = upload(client, PTBR_EXPORT.read_bytes()).get_data(as_text=True)
    factories.contact(name="Chegou antes", phone="+5511987654321")
    db.session.commit()
    confirm(client, html, run_jobs)
    assert contacts(db)["+5511987654321"].name == "Chegou antes"
    assert db.session.query(Contact).count() == 2


def test_a_token_is_used_once_and_only_by_its_uploader(client, login_as, db, run_jobs):
    login_as(Role.supervisor)
    html = upload(client, PTBR_EXPORT.read_bytes()).get_data(as_text=True)
    token = token_from(html)
    someone_else = factories.agent(role=Role.supervisor)
    assert contact_csv.unstash(token, someone_else) is None
    assert contact_csv.unstash("../../secret_key", someone_else) is None
    confirm(client, html, run_jobs)
    response = client.post("/contacts/import/confirm", data={"token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/contacts/import")
    assert db.session.query(Contact).count() == 2


def test_confirming_enqueues_a_job_whose_progress_page_polls_until_done(client, login_as, db, run_jobs):
    login_as(Role.supervisor)
    html = upload(client, PTBR_EXPORT.read_bytes()).get_data(as_text=True)
    progress_url = client.post("/contacts/import/confirm", data={"token": token_from(html)}).headers["Location"]
    waiting = client.get(progress_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Waiting for a worker" in waiting and 'hx-trigger="every 1s"' in waiting and "<html" not in waiting
    assert db.session.query(Contact).count() == 0  # nothing is written in the request
    run_jobs("default")
    db.session.rollback()  # end the test's read transaction: the job wrote in another connection
    done = client.get(progress_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "2 contacts imported." in done and "hx-trigger" not in done
    assert db.session.query(Contact).count() == 2


def test_an_import_progress_page_is_its_uploaders_only(client, login_as, db, app):
    login_as(Role.supervisor)
    html = upload(client, PTBR_EXPORT.read_bytes()).get_data(as_text=True)
    progress_url = client.post("/contacts/import/confirm", data={"token": token_from(html)}).headers["Location"]
    other = app.test_client()
    colleague = factories.agent(role=Role.supervisor, password=TEST_PASSWORD)
    db.session.commit()
    other.post("/login", data={"email": colleague.email, "password": TEST_PASSWORD})
    assert other.get(progress_url).status_code == 404
    assert client.get("/contacts/import/not-an-import").status_code == 404


def test_a_file_without_a_phone_column_is_refused_beside_the_field(client, login_as, db):
    login_as(Role.supervisor)
    response = upload(client, b"nome;cidade\nAna;Recife\n")
    assert response.status_code == 200
    assert "phone column" in response.get_data(as_text=True)


def test_a_malformed_csv_is_refused_beside_the_field(client, login_as, db):
    login_as(Role.supervisor)
    response = upload(client, b"name,phone,city\nAna,11987654321," + b"x" * 200_000 + b"\n")
    assert response.status_code == 200
    assert 'id="file-errors"' in response.get_data(as_text=True)


def test_uploads_up_to_5_mib_are_accepted_and_larger_refused(client, login_as, db):
    login_as(Role.supervisor)
    accepted = upload(client, TWO_MIB_CSV)
    assert accepted.status_code == 200 and "import-summary" in accepted.get_data(as_text=True)
    assert upload(client, TWO_MIB_CSV * 3).status_code == 413


def test_agents_cannot_import_or_export(client, login_as, db):
    login_as(Role.agent)
    assert upload(client, PTBR_EXPORT.read_bytes()).status_code == 403
    assert client.get("/contacts/export.csv").status_code == 403


def test_export_of_a_filtered_list_has_a_bom_and_imports_back(client, login_as, db):
    login_as(Role.supervisor, locale="pt_BR")
    factories.contact(name="Ana Recife", phone="+5581999990001", city="Recife", email="ana@example.com")
    factories.contact(name="=HYPERLINK(1)", phone="+5581999990002", city="Recife")
    factories.contact(name="Bia Natal", phone="+5584999990003", city="Natal")
    db.session.commit()
    response = client.get("/contacts/export.csv?city=Recife")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert sorted(r["name"] for r in rows) == ["'=HYPERLINK(1)", "Ana Recife"]
    preview = contact_csv.parse(data)
    assert {r.normalized_phone for r in preview.rows} == {"+5581999990001", "+5581999990002"}
    entry = db.session.query(AuditLog).filter_by(action="contacts.exported").one()
    assert entry.details["count"] == 2 and entry.details["city"] == "Recife"


def test_a_large_upload_still_needs_its_csrf_token(client, login_as, db, app):
    login_as(Role.supervisor)
    data = TWO_MIB_CSV
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/contacts/import").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        with_token = client.post(
            "/contacts/import",
            data={"file": (io.BytesIO(data), "big.csv"), "csrf_token": token},
            content_type="multipart/form-data",
        )
        without_token = upload(client, data)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert with_token.status_code == 200 and "import-summary" in with_token.get_data(as_text=True)
    assert without_token.status_code == 200 and "import-summary" not in without_token.get_data(as_text=True)
