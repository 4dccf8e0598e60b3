"""Values as a reader sees them: amounts as Chinese reads them, ages that do not round a day away."""

from __future__ import annotations

import pytest

from app.engine.formatting import format_number


@pytest.mark.parametrize(("yuan", "zh", "en"), [
    (8_000_000_000, "80亿元", "8,000,000,000 yuan"),
    (200_000_000, "2亿元", "200,000,000 yuan"),
    (250_000_000, "2.5亿元", "250,000,000 yuan"),
    (12_500_000, "1,250万元", "12,500,000 yuan"),
    (30_000, "3万元", "30,000 yuan"),
    (800, "800元", "800 yuan"),
    (123_456_789, "12,345.6789万元", "123,456,789 yuan"),  # exact to the yuan
])
def test_money_reads_as_chinese_writes_it(yuan: float, zh: str, en: str) -> None:
    assert format_number(yuan, "yuan", "zh") == zh
    assert format_number(yuan, "yuan", "en") == en


@pytest.mark.parametrize(("years", "zh", "en"), [
    (10.0, "10年", "10 years"),
    (1.0, "1年", "1 year"),
    (10 + 1 / 365, "10年零1天", "10 years and 1 day"),
    (10.26, "10年3个月", "10 years 3 months"),
])
def test_an_age_past_its_anniversary_does_not_read_as_the_anniversary(years: float, zh: str, en: str) -> None:
    assert format_number(years, "years", "zh") == zh
    assert format_number(years, "years", "en") == en
