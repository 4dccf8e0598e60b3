"""Assertions and conversions the API tests share."""

from __future__ import annotations

import asyncio
import locale
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from hypothesis import settings

T = TypeVar("T")


def jsonable(profile: dict[str, Any]) -> dict[str, Any]:
    """A seed profile as JSON (YAML gives dates)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in profile.items()}


def sent(answer: Any, *scope: str) -> dict[str, Any]:
    """An engine answer (an Evaluation, for `scope`) or one rule's result, as the service sends it."""
    return orjson.loads(answer.to_json(*scope)[0])


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion on an event loop of its own, in a thread of its own: the main
    thread may already run one (Playwright's synchronous API, once the browser tests have run there)."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(asyncio.run(coroutine))
        except BaseException as exc:  # noqa: BLE001  (raised again in the caller's thread)
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def assert_problem(response: Any, status: int, type_: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 answer with this status (and type); return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "instance"} <= body.keys()
    if type_ is not None:
        assert body["type"] == type_
    assert "Traceback" not in response.text
    return body


# Drafts of 苏贸贷 (rules/js-sumao-loan.yaml) that change who qualifies: only micro firms (stricter), or
# large firms too (looser). Each is an (old, new) replacement of the rule's SME size classes.
SUMAO_STRICTER = ("    value: [micro, small, medium]\n", "    value: [micro]\n")
SUMAO_LOOSER = ("    value: [micro, small, medium]\n", "    value: [micro, small, medium, large]\n")


def examples(count: int) -> int:
    """A property test's number of examples: `count`, or a tenth of it (at least 3) under Hypothesis's
    `mutation` profile (tests/conftest.py), where `make mutation` runs the test once per mutant."""
    if settings.get_current_profile_name() != "mutation":
        return count
    return max(count // 10, min(count, 3))


def alias_bomb(levels: int = 9) -> str:
    """Each level is nine aliases of the one before: 9**levels strings once expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


# What every rule file needs, for a Shenzhen test rule named RULE_ID; the test adds its benefit,
# parameters and criteria.
RULE_HEADER = """\
id: RULE_ID
title: {zh: 测试, en: RULE_ID}
region: ["440300"]
issuer: {zh: 测试, en: test}
document: {title: {zh: 测试, en: test}}
kind: claim
for_whom: {zh: 测试, en: test, citation: {basis: source, title: test}}
how_to_apply: {zh: 测试, en: test}
provenance: [{paragraph: 42, quote: 扩大“苏贸贷”惠企数量和放贷规模。}]
"""

# One criterion on company age (`OP` to replace) against an assumed bound of 3 years.
AGE_RULE = RULE_HEADER.replace("RULE_ID", "age-rule") + """\
benefit: {kind: service, summary: {zh: 测试, en: test}}
parameters:
  years: {value: 3, unit: years, basis: assumption, label: {zh: 年, en: years}, citation: {zh: 测试, en: test}}
criteria:
  - id: age
    when: company_age_years OP years
    explain: {met: {zh: 是, en: "yes"}, not_met: {zh: 否, en: "no"}, unknown: {zh: 未知, en: unknown}}
"""


@contextmanager
def ascii_locale() -> Iterator[None]:
    """The process's locale set to C, whose encoding is ASCII (as on a machine without a UTF-8 locale,
    or with GBK's): files read without naming their encoding read otherwise, or not at all."""
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
