"""统一社会信用代码 (unified social credit code) check, GB 32100-2015.

An 18-character code: position 1 the registration authority (9 = 市场监管), position 2 the entity
category (91 = enterprise, 92 = 个体工商户), positions 3–8 the GB/T 2260 code of the registering
authority *at issue time* (it never changes, so it may be a retired code or a city-level one),
positions 9–17 the GB 11714 organisation code, position 18 a mod-31 check character.

Input handling: surrounding whitespace is stripped, full-width characters are folded to ASCII
(NFKC) and lower-case letters are upper-cased before checking, because owners copy codes out of
PDFs and chat messages; the normalised form is returned as `code`. A failing check is information
for the caller to flag, not proof that the company does not exist: real registrations exist whose
check character does not verify (domain.md §6.3).

Pure stdlib.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

# 31 characters: the digits and the capitals without I, O, S, V, Z. A character's value is its index.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FORBIDDEN_LETTERS = "IOSVZ"
# Weight of position i (1-based) is 3^(i-1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

# GB 11714 organisation code: 8 body characters from 0-9 A-Z (A = 10 … Z = 35), then a mod-11 check.
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_VALUE = {char: index for index, char in enumerate(ALPHABET)}


@dataclass(frozen=True, slots=True)
class CreditCodeCheck:
    """The outcome of checking one code. The parts are read whenever the code has 18 characters,
    even when it is invalid, so a caller can still show them."""

    code: str  # the normalised input
    valid: bool
    reason: str | None  # English, naming what is wrong; None when valid
    expected_check: str | None  # the check character positions 1–17 call for, when they are well formed
    registration_authority: str | None  # position 1
    category: str | None  # position 2
    region_code: str | None  # positions 3–8
    organisation_code_valid: bool  # positions 9–17 pass GB 11714 (information only)

    @property
    def organisation_code(self) -> str | None:
        return self.code[8:17] if len(self.code) == 18 else None


def normalise(code: str) -> str:
    """Strip, fold full-width characters to ASCII and upper-case."""
    return unicodedata.normalize("NFKC", code).strip().upper()


def credit_check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (for building valid test codes)."""
    if len(first17) != 17:
        raise ValueError(f"need exactly 17 characters, got {len(first17)}")
    for position, char in enumerate(first17, start=1):
        if char not in _VALUE:
            raise ValueError(f"character {char!r} at position {position} is not in the code alphabet")
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check_character(body: str) -> str | None:
    """The GB 11714 check character for an 8-character organisation-code body, or None if malformed."""
    if len(body) != 8 or any(char not in ORG_ALPHABET for char in body):
        return None
    total = sum(ORG_ALPHABET.index(char) * weight for char, weight in zip(body, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _alphabet_problem(code: str) -> str | None:
    for position, char in enumerate(code, start=1):
        if char in _VALUE:
            continue
        if char in FORBIDDEN_LETTERS:
            return (
                f"character {char!r} at position {position} is not allowed "
                f"(the letters I, O, S, V and Z are never used)"
            )
        return f"character {char!r} at position {position} is outside the code alphabet 0-9 A-Z"
    for position in range(3, 9):
        char = code[position - 1]
        if not char.isdigit():
            return (
                f"character {char!r} at position {position} must be a digit "
                f"(positions 3-8 are the registering authority's region code)"
            )
    return None


def check_credit_code(code: str) -> CreditCodeCheck:
    """Check a unified social credit code: length, alphabet, region digits and the check character."""
    normalised = normalise(code)
    if len(normalised) != 18:
        return CreditCodeCheck(
            code=normalised,
            valid=False,
            reason=f"must be 18 characters, got {len(normalised)}",
            expected_check=None,
            registration_authority=None,
            category=None,
            region_code=None,
            organisation_code_valid=False,
        )
    org_check = organisation_check_character(normalised[8:16])
    parts = CreditCodeCheck(
        code=normalised,
        valid=False,
        reason=None,
        expected_check=None,
        registration_authority=normalised[0],
        category=normalised[1],
        region_code=normalised[2:8],
        organisation_code_valid=org_check is not None and org_check == normalised[16],
    )
    problem = _alphabet_problem(normalised[:17])
    if problem is not None:
        return replace(parts, reason=problem)
    expected = credit_check_character(normalised[:17])
    given = normalised[17]
    if given != expected:
        if given in FORBIDDEN_LETTERS or given not in _VALUE:
            reason = (
                f"check character {given!r} at position 18 is outside the code alphabet; "
                f"expected {expected!r}"
            )
        else:
            reason = f"wrong check character: expected {expected!r}, given {given!r}"
        return replace(parts, reason=reason, expected_check=expected)
    return replace(parts, valid=True, expected_check=expected)
