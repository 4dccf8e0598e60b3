"""GB 32100-2015 unified social credit code check (domain.md §6)."""

from __future__ import annotations

import dataclasses

import pytest

from app.engine.credit_code import (
    ALPHABET,
    WEIGHTS,
    check_credit_code,
    credit_check_character,
    organisation_check_character,
)

# domain.md §6.3: codes that pass both the mod-31 and the GB 11714 check.
VALID = [
    "914403001922038216",
    "91440300708461136T",
    "91330100716105852F",
    "91110000802100433B",
    "91440101MA5CJQ4N59",
]


def test_weights_are_powers_of_three_mod_31():
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)


def test_worked_example_reads_its_parts():
    result = check_credit_code("914403001922038216")
    assert result.valid and result.reason is None
    assert result.expected_check == "6"
    assert (result.registration_authority, result.category, result.region_code) == ("9", "1", "440300")
    assert result.organisation_code == "192203821"
    assert result.organisation_code_valid


def test_worked_example_sum():
    # domain.md §6.3: weighted sum 831, 831 mod 31 = 25, 31 - 25 = 6.
    values = [ALPHABET.index(c) for c in "91440300192203821"]
    assert sum(v * w for v, w in zip(values, WEIGHTS, strict=True)) == 831
    assert credit_check_character("91440300192203821") == "6"


@pytest.mark.parametrize("code", VALID)
def test_valid_codes(code):
    result = check_credit_code(code)
    assert result.valid, result.reason
    assert result.organisation_code_valid
    assert credit_check_character(code[:17]) == code[17]


def test_known_bad_check_character_names_expected_and_given():
    result = check_credit_code("91350203M0001QAY9B")
    assert result.valid is False  # a JSON boolean to the caller, never null
    assert result.expected_check == "9"
    assert result.reason == "wrong check character: expected '9', given 'B'"
    # Parts are still read so a caller can flag the code and carry on.
    assert (result.registration_authority, result.category, result.region_code, result.organisation_code) == (
        "9", "1", "350203", "M0001QAY9")


@pytest.mark.parametrize("code,length", [("", 0), ("91440300192203821", 17), ("9144030019220382161", 19)])
def test_wrong_length(code, length):
    result = check_credit_code(code)
    assert result.reason == f"must be 18 characters, got {length}"
    assert result.region_code is None and result.expected_check is None
    assert (result.registration_authority, result.category, result.organisation_code) == (None, None, None)
    assert result.code == code.strip()
    assert result.valid is False and result.organisation_code_valid is False  # JSON booleans, never null


def test_lower_case_is_upper_cased_first():
    result = check_credit_code("91440300708461136t")
    assert result.valid
    assert result.code == "91440300708461136T"
    assert check_credit_code("91440101ma5cjq4n59").valid


def test_whitespace_and_full_width_are_normalised():
    assert check_credit_code("  914403001922038216\n").valid
    assert check_credit_code("９１４４０３００１９２２０３８２１６").valid


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_rejected_with_their_position(letter):
    code = "91440101" + letter + "A5CJQ4N59"
    result = check_credit_code(code)
    assert not result.valid
    assert result.reason == f"character {letter!r} at position 9 is not allowed (the letters I, O, S, V and Z are never used)"


def test_forbidden_letter_as_check_character():
    result = check_credit_code("91440300708461136S")
    assert not result.valid and result.expected_check == "T"
    assert result.reason == "check character 'S' at position 18 is outside the code alphabet; expected 'T'"
    outside = check_credit_code("91440300708461136-")
    assert outside.reason == "check character '-' at position 18 is outside the code alphabet; expected 'T'"


def test_character_outside_alphabet():
    result = check_credit_code("914403001922-38216")
    assert not result.valid
    assert result.reason == "character '-' at position 13 is outside the code alphabet 0-9 A-Z"


@pytest.mark.parametrize("position", range(3, 9))
def test_region_part_must_be_digits(position):
    chars = list("914403001922038216")
    chars[position - 1] = "A"
    result = check_credit_code("".join(chars))
    assert result.valid is False
    assert result.reason == (f"character 'A' at position {position} must be a digit "
                             "(positions 3-8 are the registering authority's region code)")


def test_single_character_change_is_caught():
    for position in range(17):
        chars = list("914403001922038216")
        original = chars[position]
        chars[position] = "1" if original != "1" else "2"
        assert not check_credit_code("".join(chars)).valid, position


def test_generated_codes_round_trip():
    for first17 in ("92320583MA1XXXXX0", "91330112MA27YB6P1", "52440300MJL1234560"[:17]):
        code = first17 + credit_check_character(first17)
        assert check_credit_code(code).valid


def test_credit_check_character_refuses_bad_input():
    with pytest.raises(ValueError, match=r"^need exactly 17 characters, got 4$"):
        credit_check_character("9144")
    with pytest.raises(ValueError, match=r"^character 'I' at position 9 is not in the code alphabet$"):
        credit_check_character("91440300I92203821")


def test_organisation_code_check():
    assert organisation_check_character("19220382") == "1"
    assert organisation_check_character("1922038") is None
    # 11 - (weighted sum mod 11), written X for 10 and 0 for 11 (GB 11714):
    assert organisation_check_character("10000018") == "X"  # 1*3 + 1*4 + 8*2 = 23, 23 mod 11 = 1
    assert organisation_check_character("10000004") == "0"  # 1*3 + 4*2 = 11, 11 mod 11 = 0
    # A bad organisation-code check does not make the credit code invalid (information only).
    first17 = "91440300192203820"
    code = first17 + credit_check_character(first17)
    result = check_credit_code(code)
    assert result.valid and not result.organisation_code_valid


def test_result_is_frozen():
    result = check_credit_code("914403001922038216")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.valid = False  # type: ignore[misc]
