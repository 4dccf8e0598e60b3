"""Generate and check the demo 统一社会信用代码 (USCC) in seeds/companies.yaml.

Every code is a pure function of the company's key, entity type, region and founding date, drawn
from ``random.Random(f"{SEED}/{key}/{attempt}")``: re-running gives the same codes, and adding a
company never changes another's code. Both check characters come from the app
(``app.engine.credit_code``), so a generated code passes exactly the check the API applies.

Shape of a generated code (GB 32100-2015):

* positions 1-2: ``91`` enterprise, ``92`` individual business (个体工商户), both registered with 市场监管;
* positions 3-8: the registering authority's GB/T 2260 code (``registration_area``): ``440300`` for
  every Shenzhen firm (Shenzhen's market regulator registers city-wide), ``330185`` (the retired code
  of 临安市) for Lin'an firms registered before the city became 临安区 ``330112`` in 2017, otherwise
  the company's own county-level ``region_code``;
* positions 9-17: a GB 11714 organisation code, 8 characters plus its check character. Firms
  registered since the USCC reform (2015-10-01), and all individual businesses, get the post-reform
  shape ``MA`` + a province-flavoured character + 5 random characters; older firms keep an
  8-digit numeric code, as converted registrations do;
* position 18: the GB 32100 mod-31 check character.

Usage (from the repository root, with an interpreter that has the app's dependencies)::

    .venv/bin/python seeds/tools/make_credit_codes.py            # check: exit 1 if a code is wrong or stale
    .venv/bin/python seeds/tools/make_credit_codes.py --write    # rewrite every credit_code line in place

The YAML file is read as text (one ``- key:`` block per company, fields indented four spaces), so
that comments and layout survive ``--write``.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: the app is importable from the repository root

from app.engine.credit_code import ALPHABET, credit_check_character, organisation_check_character

SEED = "huiqi-demo-seeds-v1"
DEFAULT_PATH = ROOT / "seeds" / "companies.yaml"

USCC_REFORM = date(2015, 10, 1)  # 统一社会信用代码 issued to new registrations from this date
LINAN_DISTRICT_SINCE = date(2017, 9, 1)  # 临安市 330185 → 临安区 330112 (approved 2017)

# Third character of post-reform "MA" codes, by province; imitates the look of real codes only.
MA_PROVINCE_CHAR = {"11": "0", "14": "0", "31": "1", "32": "1", "33": "2", "36": "3", "44": "5"}


def registration_area(region_code: str, founded_on: date | None) -> str:
    """GB/T 2260 code of the authority that issued the code (positions 3-8)."""
    if region_code.startswith("4403"):
        return "440300"
    if region_code == "330112" and founded_on is not None and founded_on < LINAN_DISTRICT_SINCE:
        return "330185"
    return region_code


def make_org_code(rng: random.Random, *, post_reform: bool, province: str) -> str:
    while True:
        if post_reform:
            body = "MA" + MA_PROVINCE_CHAR.get(province, "0")
            body += "".join(rng.choice(ALPHABET) for _ in range(5))
        else:
            body = str(rng.randint(5, 7)) + "".join(rng.choice("0123456789") for _ in range(7))
        check = organisation_check_character(body)
        # The check is always 0-9 or X, all in the GB 32100 alphabet; keep the guard anyway.
        if check is not None and check in ALPHABET:
            return body + check


@dataclass
class Company:
    key: str
    region_code: str
    entity_type: str
    founded_on: date | None
    credit_code: str | None
    code_line: int | None  # index of the credit_code line in the file


def make_code(company: Company, attempt: int = 0) -> str:
    rng = random.Random(f"{SEED}/{company.key}/{attempt}")
    individual = company.entity_type == "individual_business"
    post_reform = individual or company.founded_on is None or company.founded_on >= USCC_REFORM
    head = ("92" if individual else "91") + registration_area(company.region_code, company.founded_on)
    org = make_org_code(rng, post_reform=post_reform, province=company.region_code[:2])
    return head + org + credit_check_character(head + org)


_KEY = re.compile(r"^  - key:\s*([A-Za-z0-9-]+)\s*$")
_FIELD = re.compile(r"^    ([a-z_]+):\s*(.*?)\s*$")


def parse(lines: list[str]) -> list[Company]:
    companies: list[Company] = []
    for i, line in enumerate(lines):
        if m := _KEY.match(line):
            companies.append(Company(m.group(1), "", "enterprise", None, None, None))
        elif companies and (m := _FIELD.match(line)):
            name, raw = m.group(1), m.group(2).strip("\"'")
            c = companies[-1]
            if name == "region_code":
                c.region_code = raw
            elif name == "entity_type":
                c.entity_type = raw
            elif name == "founded_on":
                c.founded_on = date.fromisoformat(raw)
            elif name == "credit_code":
                c.credit_code, c.code_line = raw, i
    return companies


def expected_codes(companies: list[Company]) -> dict[str, str]:
    """Key → the code the generator assigns, unique across the file."""
    seen: set[str] = set()
    result: dict[str, str] = {}
    for company in companies:
        attempt = 0
        while (code := make_code(company, attempt)) in seen:
            attempt += 1
        seen.add(code)
        result[company.key] = code
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--write", action="store_true", help="rewrite the credit_code lines in place")
    args = parser.parse_args(argv)

    text = args.path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    companies = parse(lines)
    expected = expected_codes(companies)
    problems = 0
    for company in companies:
        code = expected[company.key]
        if company.code_line is None:
            print(f"{company.key}: no credit_code line", file=sys.stderr)
            problems += 1
        elif args.write:
            lines[company.code_line] = f'    credit_code: "{code}"\n'
        elif company.credit_code != code:
            print(f"{company.key}: has {company.credit_code}, generator gives {code}", file=sys.stderr)
            problems += 1
    if args.write:
        args.path.write_text("".join(lines), encoding="utf-8")
        print(f"wrote {len(companies)} credit codes to {args.path}")
    elif not problems:
        print(f"{len(companies)} credit codes valid and up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
