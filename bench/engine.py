"""Engine benchmark: synthetic rule sets of 100, 1,000 and 10,000 rules against 10,000 profiles.

    .venv/bin/python bench/engine.py [--profiles N] [--sizes 100,1000,10000] [--profile-hotspots]

For each size it prints per-profile latency (p50, p99) of
  - `evaluate`: the engine as the service calls it (compiled rules, region index, derived facts once,
    explanations built only when read);
  - `evaluate + answer`: the same plus writing the contract answer with `scope=local` (the rules whose
    region holds or may hold the company: criteria, explanations, gaps, in both languages), the JSON
    a partner receives;
  - `naive`: a plain tree interpreter that walks every rule's tree for every profile, region included,
    and re-derives nothing but the facts once (the baseline measured in the same run);
and the ratio naive / evaluate. Rules and profiles come from a fixed seed, so runs are comparable.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine import Profile, build_ruleset, evaluate
from app.engine.expressions import (
    And,
    Compare,
    Fact,
    Intersects,
    IsTrue,
    Member,
    Not,
    Or,
    Param,
    Within,
)
from app.engine.facts import ACTIVITIES, CERTIFICATIONS, UNSETTLEABLE_FACTS, derive_facts, unsettleable
from app.engine.tables import Tables, load_tables

AS_OF = date(2025, 6, 30)
SEED = 20221

TEMPLATE = """\
id: {id}
title: {{zh: 合成规则{n}, en: Synthetic rule {n}}}
region: ["{region}"]
issuer: {{zh: 基准测试, en: benchmark}}
document: {{title: {{zh: 基准测试, en: benchmark}}}}
kind: claim
for_whom: {{zh: 合成, en: synthetic, citation: {{basis: source, title: synthetic}}}}
how_to_apply: {{zh: 合成, en: synthetic}}
provenance:
  - {{paragraph: 42, quote: 扩大“苏贸贷”惠企数量和放贷规模。}}
benefit: {{kind: {kind}, summary: {{zh: 合成, en: synthetic}}}}
parameters:
{parameters}
criteria:
{criteria}
"""

PARAMETER = """\
  {name}:
    value: {value}
    unit: {unit}
    basis: assumption
    label: {{zh: 参数, en: parameter}}
    citation: {{zh: 合成, en: synthetic}}"""

CRITERION = """\
  - id: c{index}
    when: '{when}'
    explain:
      met: {{zh: 满足, en: met}}
      not_met: {{zh: 不满足, en: not met}}
      unknown: {{zh: "缺少{{missing}}", en: "missing {{missing}}"}}"""


class Places(NamedTuple):
    """The region and industry codes synthetic rules and profiles are drawn from."""

    provinces: list[str]
    cities: list[str]
    counties: list[str]
    divisions: list[str]
    classes: list[str]


def synthetic_places(tables: Tables) -> Places:
    provinces = sorted(code for code, region in tables.regions.items() if region.parent is None)
    cities = sorted(code for code, region in tables.regions.items()
                    if region.parent in provinces and not code.endswith("0000"))
    counties = sorted(code for code, region in tables.regions.items() if region.parent in set(cities))
    divisions = sorted(code for code, industry in tables.industries.items() if industry.level == "division")
    classes = sorted(code for code, industry in tables.industries.items() if industry.level == "class")
    return Places(provinces, cities, counties, divisions, classes)


def rule_regions(count: int, rng: random.Random, places: Places) -> list[str]:
    """Each synthetic rule's region: a province for about 30% of them, a city for the rest."""
    return [rng.choice(places.provinces) if rng.random() < 0.3 else rng.choice(places.cities) for _ in range(count)]


def synthetic_rules(count: int, rng: random.Random, regions: list[str], divisions: list[str]) -> dict[str, str]:
    """Rules of 3–6 criteria each: industry, size, ratio, flag and tag conditions, a few % matching."""
    files = {}
    for n in range(count):
        params: list[str] = []
        criteria: list[str] = []

        # The closures below are called only within the iteration that defines them (B023 is moot).
        def param(value: Any, unit: str) -> str:
            name = f"p{len(params)}"  # noqa: B023
            params.append(PARAMETER.format(name=name, value=value, unit=unit))  # noqa: B023
            return name

        kinds = rng.sample(["industry", "size", "ratio", "flag", "tag", "money"], rng.randint(3, 5))
        for kind in kinds:
            if kind == "industry":
                when = "industry within [" + ", ".join(rng.sample(divisions, rng.randint(2, 6))) + "]"
            elif kind == "size":
                classes = rng.choice([["micro", "small"], ["micro", "small", "medium"], ["medium", "large"]])
                when = f"size_class in {param(classes, 'list')}"
            elif kind == "ratio":
                fact = rng.choice(["rd_intensity", "export_share", "rd_staff_share"])
                when = f"{fact} >= {param(round(rng.uniform(0.02, 0.3), 3), 'ratio')}"
            elif kind == "flag":
                when = rng.choice(["above_designated_size", "not above_designated_size",
                                   f'"{rng.choice(CERTIFICATIONS)}" in certifications'])
            elif kind == "tag":
                when = f"activities intersects {param(rng.sample(ACTIVITIES, rng.randint(2, 5)), 'list')}"
            else:
                when = f"annual_revenue >= {param(rng.choice([5e6, 2e7, 1e8]), 'yuan')}"
            criteria.append(CRITERION.format(index=len(criteria), when=when))
        rule_id = f"synthetic-{n:05d}"
        files[f"{rule_id}.yaml"] = TEMPLATE.format(
            id=rule_id, n=n, region=rng.choice(regions), kind=rng.choice(["loan", "fund", "subsidy"]),
            parameters="\n".join(params), criteria="\n".join(criteria),
        )
    return files


def synthetic_profiles(count: int, rng: random.Random, counties: list[str], classes: list[str]) -> list[Profile]:
    profiles = []
    for _ in range(count):
        revenue = rng.choice([2e6, 8e6, 3e7, 1.2e8, 6e8])
        employees = rng.randint(3, 1500)
        profile: dict[str, Any] = {
            "region_code": rng.choice(counties),
            "industry_code": rng.choice(classes),
            "employees": employees,
            "annual_revenue": revenue,
            "main_business_revenue": revenue * rng.uniform(0.7, 1.0),
            "rd_expense": revenue * rng.uniform(0, 0.12),
            "rd_staff": int(employees * rng.uniform(0, 0.4)),
            "export_revenue": revenue * rng.uniform(0, 0.6),
            "certifications": rng.sample(CERTIFICATIONS, rng.randint(0, 2)),
            "activities": rng.sample(ACTIVITIES, rng.randint(0, 4)),
        }
        for field in rng.sample(["rd_expense", "export_revenue", "activities", "certifications"], rng.randint(0, 2)):
            del profile[field]  # a few unknowns, as real forms have
        profiles.append(Profile.model_validate(profile))
    return profiles


# -------------------------------------------------------------------- the baseline: a plain interpreter


def naive_truth(node: Any, facts: dict[str, Any], params: dict[str, Any], tables: Tables) -> Any:
    """Walk the tree for every rule and every profile: what an engine without compilation does, with
    the same three-valued answers (Kleene logic; a region above the rule's may or may not hold it; a
    fact known only as a set of possible values holds a test when every one of them does)."""
    if isinstance(node, And):
        values = [naive_truth(item, facts, params, tables) for item in node.items]
        return False if False in values else None if None in values else True
    if isinstance(node, Or):
        values = [naive_truth(item, facts, params, tables) for item in node.items]
        return True if True in values else None if None in values else False
    if isinstance(node, Not):
        value = naive_truth(node.item, facts, params, tables)
        return None if value is None else not value
    if isinstance(node, IsTrue):
        return facts.get(node.fact.name)
    if isinstance(node, Within):
        value = facts.get(node.fact.name)
        if value is None:
            return None
        if node.fact.name == "region":
            return naive_any(tables.region_within(value, code) for code in node.codes)
        return any(value.startswith(code) for code in node.codes)
    partial = next((name for name in ("size_class",) if isinstance(facts.get(name), frozenset)), None)
    if partial is not None:  # each possible value in turn
        outcomes = {naive_leaf(node, {**facts, partial: possible}, params) for possible in facts[partial]}
        return outcomes.pop() if len(outcomes) == 1 else None
    return naive_leaf(node, facts, params)


def naive_any(values: Any) -> bool | None:
    found = set(values)
    return True if True in found else None if None in found else False


def naive_leaf(node: Any, facts: dict[str, Any], params: dict[str, Any]) -> Any:
    def operand(item: Any) -> Any:
        if isinstance(item, Fact):
            return facts.get(item.name)
        if isinstance(item, Param):
            return params[item.name].value
        return item.value

    if isinstance(node, Compare):
        left, right = operand(node.left), operand(node.right)
        if left is None or right is None:
            return None
        return {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right,
                "==": left == right, "!=": left != right}[node.op]
    if isinstance(node, Member):
        item, container = operand(node.item), operand(node.container)
        if item is None or container is None:
            return None
        return (item in container) != node.negated
    if isinstance(node, Intersects):
        left, right = operand(node.left), operand(node.right)
        return None if left is None else bool(set(left) & set(right))
    raise AssertionError(node)


def naive_criterion(node: Any, facts: dict[str, Any], params: dict[str, Any], tables: Tables) -> Any:
    """A criterion open only on 规上 status where the sector leaves it beyond any profile is not met."""
    value = naive_truth(node, facts, params, tables)
    if value is None and unsettleable(facts):
        either = [naive_truth(node, {**facts, **dict.fromkeys(UNSETTLEABLE_FACTS, truth)}, params, tables)
                  for truth in (True, False)]
        if None not in either:
            return False
    return value


def naive_evaluate(ruleset: Any, profile: Profile) -> dict[str, str]:
    facts = derive_facts(profile.values(), AS_OF, ruleset.tables)
    statuses = {}
    for rule in ruleset.rules.values():
        region = Within(Fact("region"), tuple(rule.definition.region))
        in_region = naive_truth(region, facts, rule.params, ruleset.tables)
        values = [in_region]
        if in_region is not False:
            values += [naive_criterion(criterion.node, facts, rule.params, ruleset.tables)
                       for criterion in rule.criteria]
        statuses[rule.id] = "ineligible" if False in values else "needs_info" if None in values else "eligible"
    return statuses


# ------------------------------------------------------------------------------------------ timing


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_each(function: Any, profiles: list[Profile]) -> list[float]:
    samples = []
    for profile in profiles:
        start = time.perf_counter()
        function(profile)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--naive-profiles", type=int, default=500, help="the baseline is slow: fewer profiles")
    parser.add_argument("--answer-profiles", type=int, default=2_000, help="profiles timed with the full answer")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--profile-hotspots", action="store_true", help="print where evaluate spends its time")
    args = parser.parse_args()

    places = synthetic_places(load_tables())
    profiles = synthetic_profiles(args.profiles, random.Random(SEED), places.counties, places.classes)
    sources = {"source-article.txt": (Path(__file__).parents[1] / "rules/sources/source-article.txt").read_text()}

    print(f"{len(profiles):,} profiles over {len(places.counties):,} counties; as of {AS_OF}; seed {SEED}")
    header = (f"{'rules':>7} {'in region':>9} {'eligible':>8} | {'evaluate p50':>12} {'p99':>8} | "
              f"{'+ answer p50':>12} {'p99':>8} | {'naive p50':>9} {'p99':>8} | {'naive/evaluate':>14}")
    print(header)
    print("-" * len(header))
    for size in (int(value) for value in args.sizes.split(",")):
        rule_rng = random.Random(SEED + size)
        files = synthetic_rules(size, rule_rng, rule_regions(size, rule_rng, places), places.divisions)
        ruleset = build_ruleset(files, sources=sources, display_dir="synthetic")

        # The closures below are timed within the iteration that defines them (B023 is moot).
        def decide(profile: Profile) -> Any:
            return evaluate(ruleset, profile, as_of=AS_OF)  # noqa: B023

        def answer(profile: Profile) -> Any:
            decision = evaluate(ruleset, profile, as_of=AS_OF)  # noqa: B023
            return decision.to_json("local")

        naive_sample = profiles[: args.naive_profiles]
        for profile in naive_sample[:50]:  # the two must agree before their speed means anything
            fast = {r.policy_id: r.status for r in decide(profile).results}
            assert fast == naive_evaluate(ruleset, profile), "compiled and naive evaluators disagree"
        decisions = [decide(profile) for profile in profiles[:2000]]
        in_region = statistics.mean(len(d.evaluated) for d in decisions)
        eligible = statistics.mean(sum(r.status == "eligible" for r in d.evaluated) for d in decisions)
        fast_p50, fast_p99 = percentiles(time_each(decide, profiles))
        answer_p50, answer_p99 = percentiles(time_each(answer, profiles[: args.answer_profiles]))
        naive_p50, naive_p99 = percentiles(time_each(lambda p: naive_evaluate(ruleset, p), naive_sample))  # noqa: B023
        print(f"{size:>7,} {in_region:>9.1f} {eligible:>8.2f} | {fast_p50:>10.3f}ms {fast_p99:>6.3f}ms | "
              f"{answer_p50:>10.3f}ms {answer_p99:>6.3f}ms | {naive_p50:>7.3f}ms {naive_p99:>6.3f}ms | "
              f"{naive_p50 / fast_p50:>13.1f}x")
        if args.profile_hotspots and size == max(int(v) for v in args.sizes.split(",")):
            profiler = cProfile.Profile()
            profiler.enable()
            for profile in profiles[:3000]:
                answer(profile)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    print("\nTarget: 10,000 rules, one profile, evaluate p50 under 1 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
