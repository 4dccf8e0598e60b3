"""`python -m app seed` and `python -m app clients …` against the test database."""

from __future__ import annotations

import re

import pytest
import yaml

from app import cli_service
from app.settings import get_settings
from tests.conftest import ROOT
from tests.helpers import assert_problem


@pytest.fixture
def cli_env(monkeypatch, database_url, client):  # type: ignore[no-untyped-def]
    """Run the commands with the test database (and clean up through the client fixture)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_seed_is_idempotent_by_credit_code(cli_env, capsys, tmp_path) -> None:
    source = ROOT / "seeds" / "companies.yaml"
    count = len(yaml.safe_load(source.read_text(encoding="utf-8"))["companies"])
    assert cli_service.main(["seed", "--file", str(source)]) == 0
    assert f"{count} created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert cli_service.main(["seed", "--file", str(source)]) == 0
    assert f"0 created, 0 updated, {count} unchanged" in capsys.readouterr().out

    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["companies"][0]["name"] = "改名后的公司（演示）"
    changed = tmp_path / "companies.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert cli_service.main(["seed", "--file", str(changed)]) == 0
    assert f"0 created, 1 updated, {count - 1} unchanged" in capsys.readouterr().out


def test_seed_reports_an_invalid_company_and_loads_the_rest(cli_env, capsys, tmp_path) -> None:
    path = tmp_path / "companies.yaml"
    path.write_text("companies:\n  - key: bad\n    region_code: '999999'\n"
                    "  - key: good\n    credit_code: 91440300MA5NAAWM2R\n    region_code: '440305'\n",
                    encoding="utf-8")
    assert cli_service.main(["seed", "--file", str(path)]) == 1
    captured = capsys.readouterr()
    assert "1 created" in captured.out
    assert "bad: region_code" in captured.err


def test_clients_create_and_revoke(cli_env, capsys, client) -> None:
    assert cli_service.main(["clients", "create", "Partner", "--scopes", "companies:read"]) == 0
    out = capsys.readouterr().out
    key = re.search(r"key: (\S+)", out).group(1)  # type: ignore[union-attr]
    client_id = re.search(r"client (\S+) ", out).group(1)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/companies", headers=headers).status_code == 200
    assert cli_service.main(["clients", "list"]) == 0
    listing = capsys.readouterr().out
    assert client_id in listing and key not in listing
    assert cli_service.main(["clients", "revoke", client_id]) == 0
    assert_problem(client.get("/v1/companies", headers=headers), 401)
    assert cli_service.main(["clients", "revoke", "no-such-id"]) == 1
