"""`python -m app rules check|explain`: validate the rule files and run their examples; explain the
decisions for one profile in the terminal's language."""

from __future__ import annotations

import argparse
import locale
import os
import sys
from datetime import date
from pathlib import Path

import yaml
from pydantic import ValidationError

from .engine import Profile, RuleSetError, build_ruleset, evaluate, load_ruleset, next_questions
from .engine.examples import coverage_problems, run_examples
from .engine.formatting import format_fact

_SYMBOL = {"met": "✓", "not_met": "✗", "unknown": "?"}


def terminal_language() -> str:
    """zh when the terminal's locale is Chinese (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), else en."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(variable)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    code = locale.getlocale()[0] or ""
    return "zh" if code.lower().startswith("zh") else "en"


def check(rules_dir: Path, only: list[Path]) -> int:
    try:
        ruleset = load_ruleset(rules_dir)
    except RuleSetError as exc:
        if only:  # report only the named files' problems
            wanted = {path.name for path in only}
            errors = [e for e in exc.errors if Path(e.path).name in wanted]
            print(RuleSetError(errors) if errors else f"the named files load; other files have problems:\n{exc}")
            if errors:
                return 1
            try:  # the named files are fine: check their examples against a set of just them
                ruleset = build_ruleset({p.name: (rules_dir / p.name).read_text(encoding="utf-8") for p in only},
                                        sources={s.name: s.read_text(encoding="utf-8")
                                                 for s in (rules_dir / "sources").glob("*.txt")},
                                        display_dir=str(rules_dir))
            except RuleSetError as inner:
                print(inner)
                return 1
        else:
            print(exc)
            return 1
    rules = [rule for rule in ruleset.rules.values() if not only or rule.file_name in {p.name for p in only}]
    failures = examples = 0
    for rule in rules:
        outcomes = run_examples(ruleset, rule)
        problems = [f"example {o.index + 1} ({o.example.name.en}): {p}" for o in outcomes for p in o.problems]
        problems += coverage_problems(rule)
        examples += len(outcomes)
        mark = "ok " if not problems else "FAIL"
        print(f"{mark} {rule.id:32} {len(outcomes):3} examples  version {rule.version}")
        for problem in problems:
            print(f"       {rules_dir}/{rule.file_name}: {problem}")
        failures += bool(problems)
    print(f"\n{len(rules)} rules, {examples} examples, {failures} rule(s) failing; rule set version {ruleset.version}")
    return 1 if failures else 0


def explain(rules_dir: Path, profile_path: Path, as_of: date, lang: str) -> int:
    try:
        ruleset = load_ruleset(rules_dir)
    except RuleSetError as exc:
        print(exc)
        return 1
    data = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "profile" in data:
        data = data["profile"]
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{profile_path}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
        return 2
    evaluation = evaluate(ruleset, profile, as_of=as_of)
    heading = {"zh": "规则集版本 {v}，评估日期 {d}", "en": "Rule set {v}, as of {d}"}[lang]
    print(heading.format(v=ruleset.version, d=as_of.isoformat()))
    tables = ruleset.tables
    derived = ", ".join(f"{tables.label('fields', name, lang)} {format_fact(ruleset.facts[name], value, lang, tables)}"
                        for name, value in evaluation.derived_facts.items() if value is not None)
    print(("派生事实：" if lang == "zh" else "Derived: ") + (derived or "-"))
    for result in evaluation.results:
        if not result.in_region:
            continue
        title = result.rule.definition.title.zh if lang == "zh" else result.rule.definition.title.en
        print(f"\n[{result.status}] {result.policy_id}  {title}")
        for criterion in result.criteria:
            print(f"  {_SYMBOL[criterion.status]} {criterion.id}: {criterion.explanation[lang]}")
            for gap in criterion.gaps:
                print(f"      → {gap['text'][lang]}")
        if result.missing_fields:
            print(("  缺少：" if lang == "zh" else "  missing: ") + ", ".join(result.missing_fields))
    outside = sum(1 for result in evaluation.results if not result.in_region)
    print(("\n另有 {n} 项政策不适用于注册地。" if lang == "zh" else "\n{n} more measures do not cover this region.").format(n=outside))
    questions = next_questions(evaluation, limit=5)
    if questions:
        print("\n" + ("建议先补充：" if lang == "zh" else "Most useful to answer next: ")
              + ", ".join(f"{q.field} ({q.bears_on})" for q in questions))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app rules", description=__doc__)
    parser.add_argument("--rules-dir", type=Path, default=Path("rules"))
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="validate every rule file and run every example")
    check_parser.add_argument("files", nargs="*", type=Path, help="only these rule files")
    explain_parser = commands.add_parser("explain", help="explain each decision for one profile")
    explain_parser.add_argument("--profile", type=Path, required=True, help="a YAML or JSON profile file")
    explain_parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD; today if absent")
    explain_parser.add_argument("--lang", choices=("zh", "en"), default=None, help="default: the terminal's")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.rules_dir, args.files)
    return explain(args.rules_dir, args.profile, args.as_of or date.today(), args.lang or terminal_language())


if __name__ == "__main__":
    sys.exit(main())
