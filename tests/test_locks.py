"""The two locks agree: the production image (requirements-prod.lock) gets exactly the versions the
test suite ran with (requirements.lock, which adds the test tools)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\]+)", re.MULTILINE)


def pins(name: str) -> dict[str, str]:
    return {package.lower(): version for package, version in PIN.findall((ROOT / name).read_text())}


def test_production_pins_are_the_tested_pins() -> None:
    production, tested = pins("requirements-prod.lock"), pins("requirements.lock")
    assert production and {p: v for p, v in production.items() if tested.get(p) != v} == {}


def test_production_lock_has_no_test_tools() -> None:
    assert not {"pytest", "playwright", "hypothesis", "schemathesis"} & set(pins("requirements-prod.lock"))
