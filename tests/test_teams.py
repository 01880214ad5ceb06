"""Teams (issue 19, item 1): supervisors keep them; a conversation's team shows in the list and the
details, filters the list, fills the My teams tab and splits the report."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.models import AssignMode, AuditLog, Role, Team, utcnow
from tests import factories


def test_supervisor_creates_edits_and_deletes_a_team(client, login_as, db):
    supervisor = login_as(Role.supervisor)
    ana, bruno = factories.agent(name="Ana"), factories.agent(name="Bruno")
    db.session.commit()

    page = client.get("/teams/new").get_data(as_text=True)
    assert "Ana" in page and "Round-robin" in page
    response = client.post(
        "/teams/new", data={"name": " Financeiro ", "members": [ana.id, bruno.id], "auto_assign": "round_robin"}
    )
    assert response.status_code == 302
    team = db.session.scalars(select(Team)).one()
    assert team.name == "Financeiro" and team.auto_assign == AssignMode.round_robin
    assert [a.name for a in team.members] == ["Ana", "Bruno"]

    refused = client.post("/teams/new", data={"name": "financeiro", "auto_assign": "off"})
    assert refused.status_code == 200 and "Another team is already called Financeiro." in refused.get_data(as_text=True)

    client.post(f"/teams/{team.id}/edit", data={"name": "Financeiro", "members": [ana.id], "auto_assign": "fewest_open"})
    db.session.refresh(team)
    assert [a.name for a in team.members] == ["Ana"] and team.auto_assign == AssignMode.fewest_open
    listing = client.get("/teams").get_data(as_text=True)
    assert "Financeiro" in listing and "Fewest open" in listing

    conversation = factories.conversation(team_id=team.id, assigned_to=ana.id)
    db.session.commit()
    client.post(f"/teams/{team.id}/delete")
    db.session.refresh(conversation)
    assert db.session.scalars(select(Team)).first() is None
    assert conversation.team_id is None and conversation.assigned_to == ana.id
    actions = [a for (a,) in db.session.execute(select(AuditLog.action).where(AuditLog.actor_id == supervisor.id))]
    assert {"team.created", "team.updated", "team.deleted"} <= set(actions)


def test_capacities_are_saved_together_and_every_error_is_shown(client, login_as, db):
    supervisor = login_as(Role.supervisor)
    ana, bruno = factories.agent(name="Ana"), factories.agent(name="Bruno")
    db.session.commit()
    form = {f"capacity-{supervisor.id}": "10", f"capacity-{ana.id}": "3", f"capacity-{bruno.id}": "5"}
    client.post("/teams/capacity", data=form)
    db.session.refresh(ana)
    assert ana.max_open_conversations == 3

    bad = {**form, f"capacity-{ana.id}": "x", f"capacity-{bruno.id}": "5000"}
    page = client.post("/teams/capacity", data=bad, follow_redirects=True).get_data(as_text=True)
    assert "Ana: give a whole number." in page and "Bruno: A capacity from 0 to 1000." in page
    db.session.refresh(bruno)
    assert bruno.max_open_conversations == 5


def test_agents_cannot_manage_teams(client, login_as, db):
    login_as(Role.agent)
    assert client.get("/teams").status_code == 403
    assert client.post("/teams/new", data={"name": "X"}).status_code == 403


def test_team_shows_in_the_list_and_details_filters_and_the_my_teams_tab(client, login_as, db):
    agent = login_as(Role.agent)
    sales = Team(name="Vendas", members=[agent])
    finance = Team(name="Financeiro")
    db.session.add_all([sales, finance])
    db.session.flush()
    in_sales = factories.conversation(factories.contact(name="Cliente Vendas"), team_id=sales.id)
    factories.conversation(factories.contact(name="Cliente Financeiro"), team_id=finance.id)
    factories.conversation(factories.contact(name="Cliente Sem Time"))
    db.session.commit()

    page = client.get("/inbox").get_data(as_text=True)
    assert 'class="badge team">Vendas<' in page and "My teams" in page
    only_sales = client.get(f"/inbox?team={sales.id}").get_data(as_text=True)
    assert "Cliente Vendas" in only_sales and "Cliente Financeiro" not in only_sales
    no_team = client.get("/inbox?team=none").get_data(as_text=True)
    assert "Cliente Sem Time" in no_team and "Cliente Vendas" not in no_team
    mine = client.get("/inbox?assignee=team").get_data(as_text=True)
    assert "Cliente Vendas" in mine and "Cliente Financeiro" not in mine

    details = client.get(f"/conversations/{in_sales.id}").get_data(as_text=True)
    assert 'id="current-team">Vendas<' in details
    client.post(f"/conversations/{in_sales.id}/team", data={"team": str(finance.id)})
    db.session.refresh(in_sales)
    assert in_sales.team_id == finance.id
    assert client.post(f"/conversations/{in_sales.id}/team", data={"team": "999999"}).status_code == 400


def test_report_splits_figures_per_team_and_filters_by_team(client, login_as, db):
    login_as(Role.supervisor)
    team = Team(name="Suporte")
    db.session.add(team)
    db.session.flush()
    factories.conversation(team_id=team.id, started_at=utcnow())
    factories.conversation(started_at=utcnow())
    db.session.commit()
    today = date.today().isoformat()

    page = client.get(f"/reports?start={today}&end={today}").get_data(as_text=True)
    assert "Per team" in page and f'data-team="{team.id}"' in page and 'data-team="none"' in page
    csv = client.get(f"/reports/export.csv?start={today}&end={today}&team_id={team.id}").get_data(as_text=True)
    assert f"team,Suporte (#{team.id}),opened,1" in csv
