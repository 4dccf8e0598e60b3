"""Recording rule versions: new texts are added, stored ones are never rewritten."""

from __future__ import annotations

from sqlalchemy import select

from app.db.models import RuleVersion
from app.policies.service import record_rule_versions


def test_recording_the_same_rule_set_again_adds_and_changes_nothing(app, client) -> None:
    ruleset = app.state.rules.current
    with app.state.session_factory() as session:
        before = {(r.rule_id, r.version): (r.content, r.first_seen_at) for r in session.scalars(select(RuleVersion))}
        assert record_rule_versions(session, ruleset) == 0
        session.commit()
        after = {(r.rule_id, r.version): (r.content, r.first_seen_at) for r in session.scalars(select(RuleVersion))}
    assert after == before
    assert {(rule.id, rule.version) for rule in ruleset.rules.values()} <= after.keys()
    stored = after[("js-sumao-loan", ruleset.rules["js-sumao-loan"].version)][0]
    assert stored == ruleset.rules["js-sumao-loan"].source_text
