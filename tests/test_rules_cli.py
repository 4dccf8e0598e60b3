"""`python -m app rules check|explain` as an official uses them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import SUMAO_STRICTER

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **(env or {})}, timeout=120)


def test_check_passes_on_the_catalogue() -> None:
    result = run("rules", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "33 rules" in result.stdout and "0 rule(s) failing" in result.stdout


def test_check_names_file_and_line_of_a_broken_rule(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "js-sumao-loan.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("export_revenue > min_trade_value",
                                                            "export_revenue > 0.1"), encoding="utf-8")
    result = run("rules", "--rules-dir", str(rules), "check")
    assert result.returncode == 1
    assert f"{rules}/js-sumao-loan.yaml:" in result.stdout and "bare number 0.1" in result.stdout


def test_check_reports_a_failing_example(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "js-sumao-loan.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(*SUMAO_STRICTER, 1), encoding="utf-8")
    result = run("rules", "--rules-dir", str(rules), "check")
    assert result.returncode == 1
    assert "FAIL js-sumao-loan" in result.stdout and "expected eligible, got ineligible" in result.stdout


PROFILE = """\
region_code: "440305"
industry_code: C3911
entity_type: enterprise
founded_on: 2018-03-01
employees: 100
rd_staff: 5
annual_revenue: 30000000
rd_expense: 1500000
certifications: []
"""


def test_explain_speaks_the_terminal_language(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    chinese = run("rules", "explain", "--profile", str(profile), "--as-of", "2024-06-30", env={"LANG": "zh_CN.UTF-8"})
    english = run("rules", "explain", "--profile", str(profile), "--as-of", "2024-06-30", env={"LANG": "en_US.UTF-8"})
    assert chinese.returncode == english.returncode == 0
    assert "国家高新技术企业培育" in chinese.stdout and "[ineligible] sz-high-tech-cultivation" in chinese.stdout
    assert "需要研发人员占比≥10%；目前为5%（即研发人员数≥10人）" in chinese.stdout
    assert "National high-tech enterprise cultivation" in english.stdout
    assert "needs share of R&D staff ≥ 10%; has 5% (that is R&D staff ≥ 10 people)" in english.stdout


def test_explain_rejects_a_bad_profile_naming_the_field(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE + "credit_code: 91350203M0001QAY9B\n", encoding="utf-8")
    result = run("rules", "explain", "--profile", str(profile))
    assert result.returncode == 2 and "credit_code" in result.stdout
