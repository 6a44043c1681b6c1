# Rapport — see README.md. `make demo` runs the demo practice; `make test` runs every test on
# SQLite and then on PostgreSQL, browser tests included.
SHELL := /bin/bash
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
TEST_PG_URL ?= postgres://rapport:rapport-test-only@127.0.0.1:5432/rapport
PYTEST_ARGS ?= -n 2
# uv from PATH, or a private copy under var/ (Debian's own Python refuses a global pip install).
UV := $(or $(shell command -v uv 2>/dev/null),var/tools/bin/uv)
BENCH_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv demo demo-code test test-sqlite test-postgres check fmt bench services clean

venv: .venv/.synced

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python3.11 --quiet
	@touch $@

var/tools/bin/uv:
	python3 -m venv var/tools
	var/tools/bin/pip install --quiet "uv>=0.9,<1"

var:
	@mkdir -p var

# Links in the demo's emails point at this server; video links at a fictional video server.
DEMO_ENV = RAPPORT_ENV=development SITE_URL=http://$(HOST):$(PORT) RAPPORT_VIDEO_BASE_URL=$${RAPPORT_VIDEO_BASE_URL:-https://video.harbourlight.example}

demo: venv var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py demo_seed
	@echo ""
	@echo "Rapport demo: open http://$(HOST):$(PORT)/ (sign in at http://$(HOST):$(PORT)/accounts/login/). Ctrl-C stops it."
	@echo "Book as a visitor at http://$(HOST):$(PORT)/book/ ; every email the demo sends is printed here."
	@trap 'kill 0' EXIT INT TERM; \
	  $(DEMO_ENV) $(PY) manage.py run_huey --workers 1 & \
	  $(DEMO_ENV) $(PY) manage.py runserver --noreload $(HOST):$(PORT)

demo-code: venv
	@RAPPORT_ENV=development $(PY) manage.py demo_totp $(EMAIL)

services:
	@bash scripts/system-deps.sh
	@bash scripts/test-services.sh

test: venv var services test-sqlite test-postgres

test-sqlite: venv var
	RAPPORT_ENV=test DATABASE_URL= $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: venv var
	RAPPORT_ENV=test DATABASE_URL=$(TEST_PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

check: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	RAPPORT_ENV=test $(PY) -m mypy rapport config
	.venv/bin/lint-imports
	RAPPORT_ENV=test $(PY) manage.py makemigrations --check --dry-run
	bash scripts/check-deploy.sh

fmt: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: venv var
	RAPPORT_ENV=test $(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf var/*.sqlite3* var/cache var/static
