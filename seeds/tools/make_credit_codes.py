"""Generate and check the demo 统一社会信用代码 (USCC) in seeds/companies.yaml.

Stdlib only. Every code is a pure function of the company's key, entity type, region and founding
date, drawn from ``random.Random(f"{SEED}/{key}/{attempt}")``: re-running gives the same codes,
and adding a company never changes another's code.

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

Usage (from the repository root)::

    python seeds/tools/make_credit_codes.py            # check: exit 1 if a code is wrong or stale
    python seeds/tools/make_credit_codes.py --write    # rewrite every credit_code line in place

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

SEED = "huiqi-demo-seeds-v1"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "companies.yaml"

# GB 32100-2015: 31 characters (no I, O, S, V, Z); a character's value is its index.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31 for positions 1..17
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# GB 11714-1997: weights over the 8 body characters; 0-9 are 0-9, A-Z are 10-35.
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

USCC_REFORM = date(2015, 10, 1)  # 统一社会信用代码 issued to new registrations from this date
LINAN_DISTRICT_SINCE = date(2017, 9, 1)  # 临安市 330185 → 临安区 330112 (approved 2017)

# Third character of post-reform "MA" codes, by province; imitates the look of real codes only.
MA_PROVINCE_CHAR = {"11": "0", "14": "0", "31": "1", "32": "1", "33": "2", "36": "3", "44": "5"}


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_char_value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    raise ValueError(f"not a GB 11714 character: {c!r}")


def org_check_char(body8: str) -> str:
    total = sum(org_char_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def is_valid_org_code(code9: str) -> bool:
    return (
        len(code9) == 9
        and all(c.isdigit() or "A" <= c <= "Z" for c in code9[:8])
        and org_check_char(code9[:8]) == code9[8]
    )


def is_valid_uscc(code: str) -> bool:
    """Format, GB 32100 check character and GB 11714 organisation-code check."""
    return (
        bool(USCC_PATTERN.match(code))
        and uscc_check_char(code[:17]) == code[17]
        and is_valid_org_code(code[8:17])
    )


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
            body += "".join(rng.choice(USCC_ALPHABET) for _ in range(5))
        else:
            body = str(rng.randint(5, 7)) + "".join(rng.choice("0123456789") for _ in range(7))
        check = org_check_char(body)
        # The check is always 0-9 or X, all in the GB 32100 alphabet; keep the guard anyway.
        if check in USCC_ALPHABET:
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
    return head + org + uscc_check_char(head + org)


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
