"""The real server process refuses to start on a broken rule set, and says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import ROOT


def test_uvicorn_exits_with_the_rule_set_report_when_a_rule_file_is_broken(tmp_path, database_url) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "js-broken.yaml").write_text("id: js-broken\nmystery_key: 1\n", encoding="utf-8")
    env = {**os.environ, "APP_RULES_DIR": str(rules), "DATABASE_URL": database_url}
    env.pop("APP_DATABASE_URL", None)
    process = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert process.returncode != 0
    assert "Refusing to start" in process.stderr
    assert "js-broken.yaml:2: mystery_key" in process.stderr
