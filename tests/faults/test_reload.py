"""A rule file broken on disk while the service runs: it keeps serving the rule set it loaded; a reload
(POST /v1/admin/reload, or SIGHUP) refuses the broken set naming file and line and keeps the old one;
a good reload swaps atomically (no request sees a mix, none fails) and records the new rule versions."""

from __future__ import annotations

import shutil
import signal
import time
from typing import Any

import httpx

from tests.conftest import ROOT
from tests.faults.conftest import SEEDS, Load, make_key, scalar, serve


def match(client: httpx.Client, n: int) -> tuple[int, str | None]:
    response = client.post("/v1/match", json={"profile": SEEDS[n % len(SEEDS)], "as_of": "2025-06-30"})
    return response.status_code, response.json()["ruleset"]["version"] if response.status_code == 200 else None


def test_broken_rules_on_disk_are_refused_and_a_good_reload_swaps(migrated_database, tmp_path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    target = min(rules.glob("*.yaml"))
    good_text = target.read_text(encoding="utf-8")
    admin = {"Authorization": f"Bearer {make_key(migrated_database, 'admin')}"}
    with serve(migrated_database, tmp_path, rules_dir=str(rules)) as server:
        original = httpx.get(f"{server.base}/readyz", timeout=30).json()["ruleset_version"]
        with Load(server.base, match, threads=3) as load:
            # Broken on disk: the running set keeps serving.
            target.write_text(good_text.replace("\n", "\nmystery_key: 1\n", 1), encoding="utf-8")
            time.sleep(0.5)
            refused = httpx.post(f"{server.base}/v1/admin/reload", headers=admin, timeout=60)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert problem["type"] == "/problems/ruleset-rejected"
            assert f"{target.name}:2" in problem["detail"], problem["detail"]
            assert any(p["file"].endswith(target.name) and p["line"] == 2 for p in problem["problems"])
            # SIGHUP refuses it the same way (logged), and the old set stays.
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 60  # the refusal of the POST is logged once, then SIGHUP's
            while server.output().count("reload refused") < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert server.output().count("reload refused") == 2, server.output()[-2000:]
            assert server.process.poll() is None
            assert httpx.get(f"{server.base}/readyz", timeout=30).json()["ruleset_version"] == original
            # A good change: reloaded while requests keep coming.
            versions_before = scalar(migrated_database, "SELECT count(*) FROM rule_version WHERE rule_id = :id",
                                     id=target.stem)
            target.write_text(good_text + "\n# reviewed again\n", encoding="utf-8")
            report = httpx.post(f"{server.base}/v1/admin/reload", headers=admin, timeout=60).json()
            assert report["changed"] and report["previous_version"] == original and report["new_rule_versions"] == 1
            time.sleep(0.5)
            # And once more by SIGHUP.
            target.write_text(good_text + "\n# and again\n", encoding="utf-8")
            server.process.send_signal(signal.SIGHUP)
            third = None
            deadline = time.monotonic() + 60
            while third in (None, original, report["ruleset_version"]) and time.monotonic() < deadline:
                third = httpx.get(f"{server.base}/readyz", timeout=30).json()["ruleset_version"]
                time.sleep(0.1)
            time.sleep(0.5)
    outcomes: list[Any] = load.outcomes
    assert outcomes and all(status == 200 for status, _ in outcomes)
    seen = [version for _, version in outcomes]
    assert seen[0] == original and {original, report["ruleset_version"], third} >= set(seen)
    assert third not in (None, original, report["ruleset_version"])
    assert scalar(migrated_database, "SELECT count(*) FROM rule_version WHERE rule_id = :id",
                  id=target.stem) == versions_before + 2
