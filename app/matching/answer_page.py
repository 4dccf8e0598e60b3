"""The answer page's layout: what the firm can act on now, what it already has, the few questions that
would settle the most, then the rest (outside the firm's region last), with the derived facts worth
showing. Built from the answer as decided, so a stored decision reads as it did."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from app.engine import Profile, RuleSet
from app.engine.formatting import format_fact
from app.matching.form import Entered, form_context
from app.templating import lang_links

QUESTIONS_ASKED = 3
DERIVED_SHOWN = ("size_class", "above_designated_size", "company_age_years", "export_share", "rd_intensity")


def answer_context(ruleset: RuleSet, lang: str, *, entered: Entered, profile: Profile, answer: dict[str, Any],
                   decision_id: Any, query: list[tuple[str, str]], stored: bool) -> dict[str, Any]:
    """What form/answer.html needs: the form (its questions are answered in place), the groups, the
    questions and the links to share, re-check, edit and download the answer."""
    # A region given only to the province or city is asked one level down first, in place: it is the
    # question that decides whether the region-limited measures apply at all.
    ranked = sorted(answer["questions"], key=lambda q: q["field"] != "region_code")
    questions = [{**q, "bears_on": sum(q["field"] in r["missing_fields"] for r in answer["results"])}
                 for q in ranked[:QUESTIONS_ASKED]]
    asked = {q["field"] for q in questions}
    return {
        **form_context(entered, ruleset, lang),
        "decision_id": decision_id,
        "stored": stored,
        "profile": profile,
        "answer": answer,
        "groups": arrange(answer, ruleset),
        "derived": derived_facts(answer, ruleset, lang),
        "questions": questions,
        "hidden": [(k, v) for k, v in query if k not in asked],
        "share_url": f"/answer/{decision_id}",
        "recheck_url": "/answer?" + urlencode(query),
        "edit_url": "/?" + urlencode(query),
        "lang_links": lang_links(f"/answer/{decision_id}", []) if stored else lang_links("/answer", query),
        "csv_url": f"/answer/{decision_id}.csv?lang={lang}",
        "region_name": ruleset.tables.region_name(profile.region_code, lang),
    }


def arrange(answer: dict[str, Any], ruleset: RuleSet) -> dict[str, list[dict[str, Any]]]:
    """Results grouped: eligible, what the firm already has, needs_info, ineligible in the company's
    region, and outside it."""
    groups: dict[str, list[dict[str, Any]]] = {"eligible": [], "already": [], "needs_info": [], "ineligible": [],
                                               "outside": []}
    for result in answer["results"]:
        rule = ruleset.rules.get(result["policy_id"])
        outside = result["criteria"][:1] and result["criteria"][0]["id"] == "region" \
            and result["criteria"][0]["status"] == "not_met"
        group = "outside" if outside else "already" if result.get("already") else result["status"]
        groups[group].append({"result": result, "rule": rule.definition if rule else None})
    return groups


def derived_facts(answer: dict[str, Any], ruleset: RuleSet, lang: str) -> list[tuple[str, str]]:
    """The derived facts worth showing (size class, 规上, age, ratios), labelled and formatted."""
    derived = dict(answer["derived"])
    if derived.get("size_class") is None and derived.get("size_class_possible"):
        derived["size_class"] = frozenset(derived["size_class_possible"])  # "micro or small"
    return [(ruleset.tables.label("fields", name, lang), format_fact(ruleset.facts[name], derived[name], lang,
                                                                      ruleset.tables))
            for name in DERIVED_SHOWN if derived.get(name) is not None and name in ruleset.facts]
