# Two commands do everything on a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The second test pass runs when this PostgreSQL server answers; each run creates and drops its own
# database there (tests/conftest.py), so the `test` database itself is only used to connect.
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install browser-deps run migrate seed lint test test-sqlite test-postgres check bench-engine bench-cpu bench-http bench-memory bench-registry bench-batch bench-stalls mutation clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(BIN)/.installed

# The browser tests (tests/browser) drive Debian's Chromium, need CJK fonts for Chinese screenshots and
# inject axe-core, pinned in package-lock.json. Playwright's own browser downloads are never used.
browser-deps: node_modules/axe-core/axe.min.js
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || (apt-get update && apt-get install -y fonts-noto-cjk)

node_modules/axe-core/axe.min.js: package.json package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y npm)
	npm ci --no-audit --no-fund
	touch $@

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m app seed

# --no-proxy-headers: uvicorn would trust X-Forwarded-For from loopback; the app trusts only the peers
# in APP_TRUSTED_PROXIES (README, Hardening). --no-access-log: it writes query strings (credit codes).
# --timeout-graceful-shutdown 3: SIGTERM to exit fits a container's 10 s stop grace.
run: seed
	$(BIN)/uvicorn app.main:create_app --factory --host 127.0.0.1 --port $(PORT) --no-access-log --no-proxy-headers \
		--timeout-graceful-shutdown 3

check: install
	$(BIN)/python -m app rules check

# Ruff with the rules pinned in pyproject.toml, then mypy on what [tool.mypy] names (app, bench, tools,
# seeds/tools). `make test` runs this first, so a finding fails CI.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# pytest exits 5 when it collects no tests; that is not a failure of the code.
test-sqlite: install browser-deps
	$(BIN)/python -m pytest || [ $$? -eq 5 ]

test-postgres: install
	@if $(BIN)/python -c 'import sys, psycopg; from sqlalchemy.engine import make_url; u = make_url(sys.argv[1]); psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database, connect_timeout=3).close()' '$(TEST_POSTGRES_URL)' 2>/dev/null; then \
		echo "== again on PostgreSQL ($(TEST_POSTGRES_URL))"; \
		TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' $(BIN)/python -m pytest || [ $$? -eq 5 ]; \
	else \
		echo "== PostgreSQL not reachable at $(TEST_POSTGRES_URL): second pass skipped"; \
	fi

test: lint test-sqlite test-postgres

# Mutation testing of the engine and its SQL twin (README, Tests): mutmut copies the tree into mutants/
# and runs the engine, rules and registry tests, on SQLite, against each mutant of app/engine and
# app/registry/sql.py. Verdicts stay in mutants/: a rerun tests the mutants of changed functions and
# the survivors again (tools/mutation_report.py); `rm -rf mutants` for a full run. Not in `make test`.
MUTATION_JOBS ?= 2
mutation: install
	env -u TEST_DATABASE_URL $(BIN)/python tools/mutation_report.py --run --jobs $(MUTATION_JOBS)

bench-engine: install
	$(BIN)/python bench/engine.py

# CPU per match request in-process against the bare floor; BENCH_ARGS=--instructions counts instructions
# under callgrind (Debian's valgrind), which a busy machine does not disturb (bench/cpu.py).
bench-cpu: install
	command -v valgrind >/dev/null || (apt-get update && apt-get install -y valgrind)
	$(BIN)/python bench/cpu.py $(BENCH_ARGS)

# HTTP benchmark (bench/http.py): uvicorn with 2 workers against a bare FastAPI floor, wrk from Debian's
# package as the load generator; SQLite, and PostgreSQL on TEST_POSTGRES_URL's server when it answers.
# The peer, OpenFisca's web API, in an environment of its own (its dependencies are not ours).
OPENFISCA_VENV := bench/.venv-openfisca
$(OPENFISCA_VENV)/bin/openfisca:
	$(PYTHON) -m venv $(OPENFISCA_VENV)
	$(OPENFISCA_VENV)/bin/pip install --quiet 'openfisca-core[web-api]==46.0.1' 'openfisca-country-template==8.2.0'

bench-http: install $(OPENFISCA_VENV)/bin/openfisca
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/http.py --postgres-url '$(TEST_POSTGRES_URL)' $(BENCH_ARGS)

# The stall timeline (bench/stalls.py): a probe's answers under wrk's load, laid over the decision log's
# commits and the SQLite checkpointer's checkpoints (the service logs them at DEBUG).
bench-stalls: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/stalls.py --postgres-url '$(TEST_POSTGRES_URL)' $(BENCH_ARGS)

# Peak RSS of one worker: the catalogue, and 10,000 synthetic rules, against bare Python + FastAPI.
bench-memory: install
	$(BIN)/python bench/memory.py $(BENCH_ARGS)

# A million companies on SQLite and on PostgreSQL (a database it creates and drops on TEST_POSTGRES_URL's
# server); about ten minutes. BENCH_ARGS="--companies 100000" for a quick run.
bench-registry: install
	$(BIN)/python bench/registry.py --postgres-url '$(TEST_POSTGRES_URL)' $(BENCH_ARGS)

# POST /v1/match/batch with 1,000 profiles against the same sent one by one (bench/batch.py).
bench-batch: install
	$(BIN)/python bench/batch.py --postgres-url '$(TEST_POSTGRES_URL)' $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache mutants
