"""Matching: evaluate a profile, log the decision, and replay a logged decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from app.clients.service import Caller
from app.db.models import Decision
from app.db.session import RawJSON
from app.engine import (
    Profile,
    RuleSet,
    RuleSetError,
    build_ruleset,
    evaluate,
    next_questions,
)
from app.engine.questions import question_text
from app.engine.ruleset import LANGUAGES, in_language
from app.errors import DecisionNotFoundError, ReplayUnavailableError
from app.policies import service as policies_service

# Database errors that mean "not reachable now" (down, restarting, timed out, no free connection).
DATABASE_UNAVAILABLE = (OperationalError, PoolTimeoutError)

# Parts of one policy's result that make up the decision (the rule version is compared separately).
_DECIDING = ("status", "criteria", "missing_fields")


@dataclass(frozen=True)
class Matched:
    """A decided match: the answer serialised once (the bytes sent and stored) and its decision row,
    for the decision log (app/matching/decision_log.py). The answer may be given once the row is stored."""

    decision_id: uuid.UUID
    answer_json: bytes
    row: dict[str, Any]

    def body(self, **before: str) -> bytes:
        """The response: {"decision_id": …, the `before` members, then the answer's own members (its
        bytes are not serialised twice)."""
        head = orjson.dumps({"decision_id": str(self.decision_id), **before})
        return head[:-1] + b"," + self.answer_json[1:]

    def answer(self) -> dict[str, Any]:
        return orjson.loads(self.answer_json)


def match(ruleset: RuleSet, profile: Profile, *, as_of: date, scope: str = "all", lang: str = "both",
          client_id: uuid.UUID | None = None, company_id: uuid.UUID | None = None) -> Matched:
    """Decide, for every entry point (the API, the form, a stored company, a batch line): the answer
    (contract shape plus `questions`) and its decision row."""
    evaluation = evaluate(ruleset, profile, as_of=as_of, languages=LANGUAGES if lang == "both" else (lang,))
    questions = [
        {"field": q.field, "settles": q.settles, **question_text(q.field, evaluation.facts, ruleset.tables)}
        for q in next_questions(evaluation)
    ]
    members: dict[str, Any] = {"questions": questions if lang == "both" else in_language(questions, lang)}
    if scope != "all" or lang != "both":  # what a replay needs to answer the same way
        members |= {"scope": scope, "lang": lang}
    # Stored without what each rule version says the same way to everyone (two thirds of the bytes):
    # `logged_answer` puts it back from the rule's stored text.
    answer_json, answer_without_texts = evaluation.to_json(scope, members)
    results = evaluation.results_in(scope)
    decision_id = uuid.uuid4()
    row = {
        "id": decision_id, "created_at": datetime.now(UTC), "as_of": as_of, "ruleset_version": ruleset.version,
        "rule_versions": {result.rule.id: result.rule.version for result in results},
        "outcomes": {result.rule.id: result.status for result in results},
        "profile": RawJSON(profile.model_dump_json(exclude_none=True)),
        "results": answer_without_texts, "company_id": company_id, "client_id": client_id,
    }
    return Matched(decision_id, answer_json, row)


def decide(ruleset: RuleSet, profile: Profile, *, as_of: date, scope: str = "all", lang: str = "both",
           ) -> tuple[dict[str, Any], dict[str, str]]:
    """Evaluate; return the answer (contract shape plus `questions`) and the rule versions used."""
    matched = match(ruleset, profile, as_of=as_of, scope=scope, lang=lang)
    return matched.answer(), matched.row["rule_versions"]


def logged_answer(session: Session, row: Decision, *, current: RuleSet) -> dict[str, Any]:
    """A logged decision's answer as it was sent: the stored results with each rule version's texts
    (title, actionable fields) put back, from the rule set being served when it is that version, else
    from the rule's stored text. A version whose text is not stored (never, as serving records every
    version first) leaves its results without those texts."""
    answer: dict[str, Any] = row.results
    wanted = {result["policy_id"]: result["rule_version"] for result in answer["results"]
              if "title" not in result}  # decisions logged before texts were kept apart carry them
    rules = {pid: current.rules[pid] for pid, version in wanted.items()
             if pid in current.rules and current.rules[pid].version == version}
    older = {pid: version for pid, version in wanted.items() if pid not in rules}
    if older:
        files, _ = policies_service.rule_texts(session, older)
        if files:
            rules |= build_ruleset(files).rules
    lang = answer.get("lang", "both")
    languages = LANGUAGES if lang == "both" else (lang,)
    results = []
    for result in answer["results"]:
        rule = rules.get(result["policy_id"]) if "title" not in result else None
        if rule is None:
            results.append(result)
            continue
        title, actionable = rule.result_texts_in(languages)
        results.append({**result, "title": title, **actionable})
    return {**answer, "results": results}


def get_decision(session: Session, decision_id: str | uuid.UUID, *, caller: Caller | None) -> Decision:
    """Return a logged decision the caller may see, or raise DecisionNotFoundError.

    Anonymous decisions are readable by whoever holds their id (an unguessable UUID); a decision made
    by a client, or on a stored company, only by that client or a key with `decisions:read`. The others
    get the same 404 as for an unknown id, so ids of other clients' decisions cannot be probed.
    """
    try:
        uid = decision_id if isinstance(decision_id, uuid.UUID) else uuid.UUID(str(decision_id))
    except ValueError:
        uid = None
    row = session.get(Decision, uid) if uid else None
    if row is None or not _may_read(row, caller):
        raise DecisionNotFoundError(f"No decision {decision_id}.", decision_id=str(decision_id))
    return row


def _may_read(row: Decision, caller: Caller | None) -> bool:
    if caller is not None and "decisions:read" in caller.scopes:
        return True
    if row.client_id is None and row.company_id is None:
        return True
    return caller is not None and row.client_id == caller.id


def replay(session: Session, row: Decision, *, current: RuleSet) -> dict[str, Any]:
    """Re-evaluate a logged decision with exactly the rule texts it used, and with today's rule set."""
    texts, missing = policies_service.rule_texts(session, row.rule_versions)
    if missing:
        raise ReplayUnavailableError(
            f"The texts of rule versions used by decision {row.id} are not stored: {', '.join(missing)}.",
            missing_rules=missing,
        )
    try:
        profile = Profile.model_validate(row.profile)
        replayed_set = build_ruleset(texts)
    except (ValidationError, RuleSetError) as exc:
        # The standards tables (regions, industries) changed so that the old inputs no longer load.
        raise ReplayUnavailableError(f"Decision {row.id} cannot be replayed: {exc}") from None
    stored: dict[str, Any] = row.results
    options = {"scope": stored.get("scope", "all"), "lang": stored.get("lang", "both")}
    replayed, _ = decide(replayed_set, profile, as_of=row.as_of, **options)
    replay_diffs = differences(stored["results"], replayed["results"], with_versions=True)
    reproduced = not replay_diffs and stored.get("derived") == replayed.get("derived")
    now, now_versions = decide(current, profile, as_of=row.as_of, **options)
    now_diffs = differences(stored["results"], now["results"], with_versions=False)
    changed_rules = sorted(
        pid for pid in set(row.rule_versions) | set(now_versions)
        if row.rule_versions.get(pid) != now_versions.get(pid)
    )
    return {
        "decision_id": row.id, "as_of": row.as_of, "reproduced": reproduced,
        "replay": {"reproduced": reproduced, "differences": replay_diffs},
        "current": {"ruleset_version": current.version, "decides_differently": bool(now_diffs),
                    "changed_rules": changed_rules, "differences": now_diffs},
    }


def differences(
    before: list[dict[str, Any]], after: list[dict[str, Any]], *, with_versions: bool
) -> list[dict[str, Any]]:
    """Per policy, what changed between two lists of results."""
    old = {r["policy_id"]: r for r in before}
    new = {r["policy_id"]: r for r in after}
    found = []
    for pid in sorted(set(old) | set(new)):
        a, b = old.get(pid), new.get(pid)
        if a is None or b is None:
            changed = ["added"] if a is None else ["removed"]
        else:
            keys = _DECIDING + (("rule_version",) if with_versions else ())
            changed = [k for k in keys if a.get(k) != b.get(k)]
        if changed:
            found.append({"policy_id": pid, "stored": _pair(a), "now": _pair(b), "changed": changed})
    return found


def _pair(result: dict[str, Any] | None) -> dict[str, str] | None:
    return None if result is None else {"status": result["status"], "rule_version": result["rule_version"]}
