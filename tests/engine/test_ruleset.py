"""Loading rule files: a bad file is rejected with its path, line and reason; a good one compiles,
is versioned by its content and indexed by region."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from textwrap import dedent

import pytest

from app.engine import RuleSetError, build_ruleset, compile_rule, load_ruleset
from app.engine.ruleset import in_language, quote_problem, typography_problems
from app.engine.tables import load_tables
from tests.helpers import ascii_locale

SOURCE = (Path(__file__).parents[2] / "rules" / "sources" / "source-article.txt").read_text(encoding="utf-8")
SOURCES = {"source-article.txt": SOURCE}

GOOD = dedent("""\
    id: demo-rule
    title: {zh: 示例, en: Demo}
    region: ["320000"]
    issuer: {zh: 江苏省, en: Jiangsu}
    document: {title: {zh: 11条措施, en: 11 measures}}
    kind: claim
    for_whom: {zh: 测试, en: test, citation: {basis: source, title: test}}
    how_to_apply: {zh: 测试, en: test}
    provenance:
      - paragraph: 42
        quote: 扩大“苏贸贷”惠企数量和放贷规模。
    benefit:
      kind: loan
      summary: {zh: 贷款, en: loans}
    parameters:
      min_export_share:
        value: 0.1
        unit: ratio
        basis: assumption
        label: {zh: 出口占比下限, en: minimum export share}
        citation: {zh: 假设, en: assumption}
    criteria:
      - id: exporter
        when: export_share >= min_export_share
        explain:
          met: {zh: "出口占比{export_share}", en: "export share {export_share}"}
          not_met: {zh: "出口占比{export_share}低于{min_export_share}", en: "export share {export_share} below {min_export_share}"}
          unknown: {zh: "缺少{missing}", en: "missing {missing}"}
    """)


def compile_text(text: str, name: str = "demo-rule.yaml"):
    return compile_rule(text, name, sources=SOURCES, display_path=f"rules/{name}")


def errors_of(text: str, name: str = "demo-rule.yaml") -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        compile_text(text, name)
    return [str(error) for error in caught.value.errors]


def test_a_good_file_compiles_with_a_content_version() -> None:
    rule = compile_text(GOOD)
    assert rule.id == "demo-rule" and len(rule.version) == 16
    assert compile_text(GOOD + "\n").version != rule.version


def test_explanations_are_compiled_with_the_parameters_written_in() -> None:
    rule = compile_text(GOOD)
    not_met = rule.criteria[0].explain["not_met"]
    assert not_met["zh"].names == ("export_share",)
    assert not_met["zh"].render({"export_share": "5%"}) == "出口占比5%低于10%"
    assert not_met["en"].render({"export_share": "5%"}) == "export share 5% below 10%"
    assert rule.scope_names == {"zh": "江苏省", "en": "Jiangsu"}


PARAMETER_KINDS = GOOD.replace("parameters:\n", """parameters:
  min_revenue: {value: 20000000, unit: yuan, basis: assumption, label: {zh: 收入, en: revenue}, citation: {zh: 测试, en: test}}
  min_staff: {value: 300, unit: persons, basis: assumption, label: {zh: 人数, en: staff}, citation: {zh: 测试, en: test}}
  max_age: {value: 3, unit: years, basis: assumption, label: {zh: 年限, en: age}, citation: {zh: 测试, en: test}}
  sme: {value: [micro, small], unit: list, basis: standard, label: {zh: 中小, en: SMEs}, citation: {zh: 测试, en: test}}
  nothing: {value: [], unit: list, basis: standard, label: {zh: 无, en: none}, citation: {zh: 测试, en: test}}
""", 1).replace('met: {zh: "出口占比{export_share}", en: "export share {export_share}"}',
                'met: {zh: "{min_revenue}，{min_staff}，{max_age}，{sme}，{nothing}", '
                'en: "{min_revenue} | {min_staff} | {max_age} | {sme} | {nothing}"}')


def test_a_parameter_is_written_into_an_explanation_in_its_unit_and_the_readers_language() -> None:
    met = compile_text(PARAMETER_KINDS).criteria[0].explain["met"]
    assert met["zh"].render({}) == "2,000万元，300人，3年，微型企业、小型企业，无"
    assert met["en"].render({}) == "20,000,000 yuan | 300 people | 3 years | Micro, Small | none"


def test_a_brace_that_is_no_placeholder_is_kept_as_written() -> None:
    rule = compile_text(GOOD.replace('en: "export share {export_share}"}',
                                     'en: "export share {export_share} (see {\\"note\\")"}', 1))
    met = rule.criteria[0].explain["met"]["en"]
    assert met.render({"export_share": "12%"}) == 'export share 12% (see {"note")'
    closing = compile_text(GOOD.replace('en: "export share {export_share}"}', 'en: "export share {export_share} (a}b})"}', 1))
    assert closing.criteria[0].explain["met"]["en"].render({"export_share": "12%"}) == "export share 12% (a}b})"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  - id: exporter\n", "  - id: exporter\n    wen: x\n"), "rules/demo-rule.yaml:24: criteria.0.wen: Extra inputs are not permitted"),
        (("export_share >= min_export_share", "export_shar >= min_export_share"), "rules/demo-rule.yaml:24: criterion 'exporter': unknown fact or parameter 'export_shar'"),
        (("export_share >= min_export_share", "export_share >= 0.1"), "rules/demo-rule.yaml:24: criterion 'exporter': bare number 0.1"),
        (("export_share >= min_export_share", "employees >= min_export_share"), "type mismatch: employees is in persons, min_export_share is in ratio"),
        (('region: ["320000"]', 'region: ["329999"]'), "rules/demo-rule.yaml:3: 329999 is not a GB/T 2260 region code"),
        (("kind: loan", "kind: gift"), "rules/demo-rule.yaml:13: benefit.kind: Input should be"),
        (("value: 0.1", "value: 10"), "a ratio is between 0 and 1"),
        (("paragraph: 42", "paragraph: 41"), "rules/demo-rule.yaml:11: quote begins in paragraph 42 of source-article.txt, not 41"),
        (("惠企数量", "惠民数量"), "quote is not verbatim in source-article.txt"),
        (("id: demo-rule", "id: other-rule"), "rules/demo-rule.yaml:1: id 'other-rule' does not match the file name"),
        (('"出口占比{export_share}"', '"出口占比{export_sahre}"'), "{export_sahre} in the met text (zh) names no fact or parameter"),
        (("title: {zh: 示例, en: Demo}", "title: {zh: 示例, en: Demo}\ntitle: {zh: 重复, en: dup}"), "rules/demo-rule.yaml:3: invalid YAML: duplicate key 'title' (first at line 2)"),
        (("  kind: loan", "  kind: loan\n   bad: indent"), "invalid YAML"),
        (('"出口占比{export_share}"', '"出口占比 {export_share}"'), "a space beside Chinese text"),
        (("title: {zh: 示例, en: Demo}", "title: {zh: '示例\"贷款\"', en: Demo}"), "ASCII quotes in Chinese text"),
        (("title: {zh: 示例, en: Demo}", "title: {zh: 示例, en: Demo（loan）}"), "full-width '（' in English text"),
    ],
)
def test_a_bad_file_is_rejected_with_file_line_and_reason(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    messages = errors_of(GOOD.replace(old, new, 1))
    assert any(expected in message for message in messages), messages



SECOND_EXPORTER = """\
  - id: exporter
    when: export_share >= min_export_share
    explain: {met: {zh: 是, en: "yes"}, not_met: {zh: 否, en: "no"}, unknown: {zh: 未知, en: unknown}}
"""
AGE_IN_HALF_YEARS = (GOOD.replace("export_share >= min_export_share", "company_age_years >= min_age")
                     .replace("  min_export_share:\n    value: 0.1\n    unit: ratio", "  min_age:\n    value: 2.5\n    unit: years")
                     .replace("{export_share}", "{company_age_years}").replace("{min_export_share}", "{min_age}"))


ID_LAST = ("  - explain: {met: {zh: 是, en: \"yes\"}, not_met: {zh: 否, en: \"no\"}, unknown: {zh: 未知, en: unknown}}\n"
           "    when: export_share >= min_export_share\n    id: exporter\n")
TWO_BROKEN = (GOOD.replace("export_share >= min_export_share", "export_shar >= min_export_share")
              + SECOND_EXPORTER.replace("id: exporter", "id: second").replace("export_share >=", "employees >="))


@pytest.mark.parametrize(("text", "messages"), [
    (GOOD + SECOND_EXPORTER, ["rules/demo-rule.yaml:29: criterion id 'exporter' is used twice"]),
    (GOOD + ID_LAST, ["rules/demo-rule.yaml:31: criterion id 'exporter' is used twice"]),  # at the id's own line
    (GOOD.replace("id: demo-rule\ntitle: {zh: 示例, en: Demo}\n", "title: {zh: 示例, en: Demo}\nid: other-rule\n"),
     ["rules/demo-rule.yaml:2: id 'other-rule' does not match the file name 'demo-rule.yaml'"]),
    (TWO_BROKEN, ["rules/demo-rule.yaml:24: criterion 'exporter': unknown fact or parameter 'export_shar'",
                  ("rules/demo-rule.yaml:30: criterion 'second': type mismatch: employees is in persons, "
                  "min_export_share is in ratio")]),  # every broken criterion, not the first alone
    ("- just a list\n", ["rules/demo-rule.yaml:1: a rule file is a mapping (id:, title:, criteria:, ...)"]),
    (GOOD.replace('"出口占比{export_share}"', '"出口占比{export_sahre}"'),
     ["rules/demo-rule.yaml:26: criterion 'exporter': {export_sahre} in the met text (zh) names no fact or parameter"]),
    (AGE_IN_HALF_YEARS, [("rules/demo-rule.yaml:24: criterion 'exporter': min_age (2.5) is compared with "
                         "company_age_years: give a whole number of years")]),
])
def test_a_rule_author_reads_each_problem_at_its_line(text: str, messages: list[str]) -> None:
    assert errors_of(text) == messages

def test_the_id_is_the_whole_file_name_but_its_extension() -> None:
    assert errors_of(GOOD, "demo-rule.v2.yaml") == [
        "rules/demo-rule.v2.yaml:1: id 'demo-rule' does not match the file name 'demo-rule.v2.yaml'"]


def test_an_unused_parameter_is_reported() -> None:
    text = GOOD.replace("parameters:\n", "parameters:\n  spare:\n    value: 1\n    unit: count\n    basis: assumption\n    label: {zh: 多余, en: spare}\n    citation: {zh: 无, en: none}\n", 1)
    assert errors_of(text) == ["rules/demo-rule.yaml:16: parameter 'spare' is not used by any criterion or explanation"]


def test_what_every_result_of_a_rule_carries_in_one_language_or_both() -> None:
    rule = compile_text(GOOD)
    title, actionable = rule.result_texts_in(("en",))
    assert title == {"en": "Demo"}
    assert actionable == {
        "kind": "claim", "benefit": {"kind": "loan", "summary": {"en": "loans"}, "amount": None, "amount_stated": False},
        "how_to_apply": {"en": "test", "department": None, "url": None},
        "validity": {"from": None, "to": None, "stated": False},
        "document": {"title": {"en": "11 measures"}, "number": None, "issued_on": None, "url": None}}
    assert rule.result_texts_in(("zh",))[0] == {"zh": "示例"}
    assert rule.result_texts_in(("zh",))[1]["how_to_apply"] == {"zh": "测试", "department": None, "url": None}
    dated = compile_text(GOOD.replace("document: {title: {zh: 11条措施, en: 11 measures}}",
                                      "document: {title: {zh: 11条措施, en: 11 measures}, issued_on: 2024-03-01}\n"
                                      "validity: {from: 2024-04-01, to: 2026-12-31}")).result_texts_in(("en",))[1]
    assert (dated["validity"], dated["document"]["issued_on"]) == (
        {"from": "2024-04-01", "to": "2026-12-31", "stated": False}, "2024-03-01")
    both = rule.result_texts_in(("zh", "en"))
    assert both == ({"zh": "示例", "en": "Demo"}, {**actionable, "benefit": {**actionable["benefit"],
                    "summary": {"zh": "贷款", "en": "loans"}}, "how_to_apply": {"zh": "测试", "en": "test",
                    "department": None, "url": None}, "document": {**actionable["document"],
                    "title": {"zh": "11条措施", "en": "11 measures"}}})
    assert rule.result_texts_in(("en",)) == (title, actionable)  # asked again: the same


def test_a_text_in_one_language_keeps_that_language_wherever_it_is_nested() -> None:
    both = {"title": {"zh": "甲", "en": "A"}, "items": [{"zh": "乙", "en": "B", "url": "u"}, "plain"],
            "zh_only": {"zh": "丙"}, "count": 1}
    assert in_language(both, "en") == {"title": {"en": "A"}, "items": [{"en": "B", "url": "u"}, "plain"],
                                       "zh_only": {"zh": "丙"}, "count": 1}
    assert in_language(both, "zh") == {"title": {"zh": "甲"}, "items": [{"zh": "乙", "url": "u"}, "plain"],
                                       "zh_only": {"zh": "丙"}, "count": 1}


def test_yes_and_no_are_strings_not_booleans() -> None:
    # YAML 1.1 would read `NO` as false; our loader keeps it a string, so the title stays "NO".
    rule = compile_text(GOOD.replace("title: {zh: 示例, en: Demo}", "title: {zh: 示例, en: NO}"))
    assert rule.definition.title.en == "NO"


def test_every_problem_of_every_file_is_reported_at_once() -> None:
    broken_one = GOOD.replace("export_share >= min_export_share", "export_shar >= min_export_share")
    broken_two = GOOD.replace("id: demo-rule", "id: demo-two").replace("kind: loan", "kind: gift")
    with pytest.raises(RuleSetError) as caught:
        build_ruleset({"demo-rule.yaml": broken_one, "demo-two.yaml": broken_two}, sources=SOURCES)
    assert str(caught.value) == (
        "2 problem(s) in the rule set:\n"
        "  rules/demo-rule.yaml:24: criterion 'exporter': unknown fact or parameter 'export_shar'\n"
        "  rules/demo-two.yaml:13: benefit.kind: Input should be 'loan', 'fund', 'subsidy', 'voucher', 'status', "
        "'space' or 'service'")
    first = caught.value.errors[0]
    assert (first.path, first.line, first.reason) == (
        "rules/demo-rule.yaml", 24, "criterion 'exporter': unknown fact or parameter 'export_shar'")


def test_a_region_code_may_be_written_as_a_bare_number() -> None:
    rule = compile_text(GOOD.replace('region: ["320000"]', "region: [320000, \"440300\"]"))
    assert list(rule.definition.region) == ["320000", "440300"]
    assert rule.scope_names == {"zh": "江苏省、广东省深圳市", "en": "Jiangsu, Shenzhen, Guangdong"}


def test_a_rule_set_is_checked_against_the_tables_it_is_built_with() -> None:
    tables = load_tables()
    revised = dataclasses.replace(tables, regions={code: region for code, region in tables.regions.items()
                                                   if code != "320000"}, version="revised")
    with pytest.raises(RuleSetError) as caught:
        build_ruleset({"demo-rule.yaml": GOOD}, sources=SOURCES, tables=revised)
    assert [str(error) for error in caught.value.errors] == [
        "rules/demo-rule.yaml:3: 320000 is not a GB/T 2260 region code"]
    same_rules = build_ruleset({"demo-rule.yaml": GOOD}, sources=SOURCES)
    other_tables = build_ruleset({"demo-rule.yaml": GOOD}, sources=SOURCES,
                                 tables=dataclasses.replace(tables, version="revised"))
    assert other_tables.version != same_rules.version and other_tables.tables.version == "revised"


def test_a_folder_without_rule_files_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(tmp_path)
    assert str(caught.value) == f"1 problem(s) in the rule set:\n  {tmp_path}: no rule files (*.yaml) found"


def test_the_rule_set_version_changes_with_any_file() -> None:
    one = build_ruleset({"demo-rule.yaml": GOOD}, sources=SOURCES)
    two = build_ruleset({"demo-rule.yaml": GOOD.replace("value: 0.1", "value: 0.2")}, sources=SOURCES)
    assert one.version != two.version
    assert build_ruleset({"demo-rule.yaml": GOOD}, sources=SOURCES).version == one.version
    # 16 hex digits, like a rule's: what a client pins (APP_EXPECTED_RULESET_VERSION, Huiqi-Ruleset-Version)
    assert re.fullmatch("[0-9a-f]{16}", one.version) and re.fullmatch("[0-9a-f]{16}", one.rules["demo-rule"].version)


def test_candidates_are_the_rules_covering_the_region_or_inside_it() -> None:
    ruleset = build_ruleset({"demo-rule.yaml": GOOD}, sources=SOURCES)  # region: Jiangsu
    assert [(rule.id, inside) for rule, inside in ruleset.candidates("320583")] == [("demo-rule", True)]
    assert ruleset.candidates("440305") == ()
    kunshan = build_ruleset({"demo-rule.yaml": GOOD.replace('region: ["320000"]', 'region: ["320583"]')},
                            sources=SOURCES)
    # A company known only to be in Jiangsu, or in Suzhou, may be in Kunshan: unknown, not outside.
    assert [(rule.id, inside) for rule, inside in kunshan.candidates("320000")] == [("demo-rule", None)]
    assert [(rule.id, inside) for rule, inside in kunshan.candidates("320500")] == [("demo-rule", None)]
    assert kunshan.candidates("320100") == ()


def test_a_quote_may_run_across_a_page_break_split() -> None:
    quote = "重点支持产品内销和外销兼具的制造业企业、出口型中小微企业、为中小微企业服务的专业内外贸企业、电商平台等市场主体。"
    assert quote_problem(quote, 41, SOURCE, "source-article.txt") is None



SMALL_SOURCE = "第一段。\n\n  第二段甲乙。\n第三段丙丁，甲乙。\n"


@pytest.mark.parametrize(("quote", "paragraph", "problem"), [
    ("第二段甲乙。", 2, None),
    ("第一段。第二段", 1, None),  # runs on across a page-break split
    ("甲乙。", 3, None),  # found in 2 and 3: either is right
    ("第二段甲乙。", 1, "quote begins in paragraph 2 of s.txt, not 1"),
    ("甲乙。", 1, "quote begins in paragraph 2, 3 of s.txt, not 1"),
    ("第三段丙戊", 3, "quote is not verbatim in s.txt: it matches up to '第三段丙' and then differs at '戊'"),
    ("第一段。第二段甲乙。第三段丙丁，乙甲乙甲乙甲乙甲乙甲乙甲乙", 1,  # twelve characters either side
     "quote is not verbatim in s.txt: it matches up to '第二段甲乙。第三段丙丁，' and then differs at '乙甲乙甲乙甲乙甲乙甲乙甲'"),
    ("第戊己庚", 1, "quote is not verbatim in s.txt: it matches up to '第' and then differs at '戊己庚'"),  # one character
    ("戊己庚辛", 1, "quote is not verbatim in s.txt: it matches up to '' and then differs at '戊己庚辛'"),  # none
])
def test_a_quote_problem_says_where_the_quote_is_or_where_it_differs(quote: str, paragraph: int, problem: str | None) -> None:
    assert quote_problem(quote, paragraph, SMALL_SOURCE, "s.txt") == problem


@pytest.mark.parametrize(("source", "found_in"), [
    ("甲乙丙。\n甲乙丙丁。\n甲乙丙戊。\n", [1, 2, 3]),  # in every paragraph
    ("前文甲\n甲甲甲后文\n", [1, 2]),  # begins one character later, across the split, too
])
def test_a_quote_found_several_times_may_cite_any_paragraph_it_begins_in(source: str, found_in: list[int]) -> None:
    quote = "甲甲甲" if "前文" in source else "甲乙丙"
    for paragraph in found_in:
        assert quote_problem(quote, paragraph, source, "s.txt") is None, paragraph
    where = ", ".join(map(str, found_in))
    assert quote_problem(quote, 4, source, "s.txt") == f"quote begins in paragraph {where} of s.txt, not 4"


def test_a_quote_from_a_missing_source_names_the_folder() -> None:
    assert quote_problem("甲", 1, None, "s.txt") == "source 's.txt' is not in rules/sources/"


def test_an_age_is_compared_with_whole_years_only() -> None:
    """Ages are compared by date on both paths; half a year has no date to compare with."""
    text = GOOD.replace("export_share >= min_export_share", "company_age_years <= max_age").replace(
        "parameters:\n", "parameters:\n  max_age: {value: 2.5, unit: years, basis: assumption, label: {zh: 年, en: years},"
                         " citation: {zh: 测试, en: test}}\n", 1)
    assert any("give a whole number of years" in message for message in errors_of(text))
    for nested in ("any(company_age_years <= max_age, above_quota)", "not company_age_years > max_age"):
        assert errors_of(text.replace("company_age_years <= max_age", nested)) == [
            ("rules/demo-rule.yaml:25: criterion 'exporter': max_age (2.5) is compared with company_age_years: "
            "give a whole number of years")], nested  # found inside any() and not too
    assert compile_text(text.replace("value: 2.5", "value: 3")).id == "demo-rule"


def test_typography_problems_point_at_the_text_and_show_the_stray_space_in_context() -> None:
    data = {"title": {"zh": "一二三四五六七八 九十一二三四五六", "en": "Demo（loan）"},
            "criteria": [{"explain": {"met": {"zh": '说"是"', "en": "fine"}}}],
            "provenance": [{"quote": "原文 照录"}], "examples": [{"name": {"zh": "例 子"}}]}  # verbatim, data
    assert typography_problems(data) == [
        (("title", "zh"), "title.zh: a space beside Chinese text ('三四五六七八 九十一二三四五')"),  # six before, 14 in all
        (("title", "en"), "title.en: full-width '（' in English text"),
        (("criteria", 0, "explain", "met", "zh"), "criteria.0.explain.met.zh: ASCII quotes in Chinese text: use “” or ‘’"),
    ]
    assert typography_problems({"zh": "开头 就有空格"}) == [(("zh",), "zh: a space beside Chinese text ('开头 就有空格')")]


def test_a_rules_folder_is_loaded_with_its_sources_and_its_quotes_checked(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "source-article.txt").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "demo-rule.yaml").write_text(GOOD, encoding="utf-8")
    assert list(load_ruleset(tmp_path).rules) == ["demo-rule"]
    with ascii_locale():  # rule files and sources are UTF-8 whatever the machine's locale
        assert load_ruleset(tmp_path).rules["demo-rule"].definition.title.zh == "示例"
    (tmp_path / "demo-rule.yaml").write_text(GOOD.replace("惠企数量", "惠民数量"), encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(tmp_path)
    assert caught.value.errors[0].path == f"{tmp_path}/demo-rule.yaml"
    assert "quote is not verbatim in source-article.txt" in caught.value.errors[0].reason
    with pytest.raises(RuleSetError):
        build_ruleset({"demo-rule.yaml": GOOD.replace("惠企数量", "惠民数量")}, sources=SOURCES)
