"""The engine reads the enabled rules once per unit of work: a rule changed by another process is
seen by the next unit of work, and a rule changed in this one is seen at once."""

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from portal.models import AutoRule, MessageTemplate
from portal.services import rules
from portal.services.rules import TriggerKind


def _keyword_rule(db, enabled: bool) -> AutoRule:
    rule = AutoRule(
        trigger_key="message.keyword:preço",
        template=MessageTemplate(template_key="price_list", body="Segue a tabela."),
        enabled=enabled,
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def _enable_elsewhere(db, rule_id: int) -> None:
    """Another process (the portal, as a supervisor enables the rule) commits the change."""
    with Session(db.engine) as other:
        other.execute(update(AutoRule).where(AutoRule.id == rule_id).values(enabled=True))
        other.commit()


def _keyword_rule_ids() -> list[int]:
    return [rule.id for rule, _trigger in rules.enabled_rules(TriggerKind.message_keyword)]


def test_a_rule_enabled_by_another_process_is_seen_after_a_commit(db):
    rule = _keyword_rule(db, enabled=False)
    assert _keyword_rule_ids() == []
    _enable_elsewhere(db, rule.id)
    db.session.commit()
    assert _keyword_rule_ids() == [rule.id]


def test_a_rule_enabled_by_another_process_is_seen_after_a_rollback(db):
    rule = _keyword_rule(db, enabled=False)
    assert _keyword_rule_ids() == []
    _enable_elsewhere(db, rule.id)
    db.session.rollback()
    assert _keyword_rule_ids() == [rule.id]


def test_a_rule_enabled_in_the_same_unit_of_work_is_seen_at_once(db):
    rule = _keyword_rule(db, enabled=False)
    assert _keyword_rule_ids() == []
    rule.enabled = True
    db.session.flush()
    assert _keyword_rule_ids() == [rule.id]


def test_one_unit_of_work_reads_the_rules_once_for_every_kind(db):
    keyword_id = _keyword_rule(db, enabled=True).id
    statements = []

    def count(conn, cursor, statement, *_args):
        if "auto_rules" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert _keyword_rule_ids() == [keyword_id]
        assert rules.enabled_rules(TriggerKind.outside_business_hours) == []
        assert rules.enabled_rules(TriggerKind.conversation_opened) == []
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
