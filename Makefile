# `make run`: set up and start the service on SQLite with demo data.
# `make test`: set up, lint (ruff) and check the import contracts (lint-imports), then run the whole suite
#              on SQLite and on PostgreSQL.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
FLASK := $(VENV)/bin/flask --app wsgi
PYTHON ?= python3
REGISTRY_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/registry_test
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 5000
# printed logins, QR codes and verify links use HOST and PORT unless REGISTRY_BASE_URL is set (registry/config.py)
export HOST PORT

.PHONY: run test lint lint-imports test-sqlite test-postgres bench system-deps system-deps-test system-deps-bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(PY)
	$(PIP) install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

system-deps:
	@bash scripts/system-deps.sh

system-deps-test:
	@bash scripts/system-deps.sh --test

system-deps-bench:
	@bash scripts/system-deps.sh --bench

run: $(VENV)/.installed system-deps
	$(FLASK) db upgrade
	$(FLASK) registry seed-demo
	@echo "Starting on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev system-deps-test
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory lint-imports
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

lint: $(VENV)/.installed-dev
	@echo "== ruff (pyproject.toml [tool.ruff]) =="
	$(VENV)/bin/ruff check .

lint-imports: $(VENV)/.installed-dev
	@echo "== import contracts (setup.cfg [importlinter]) =="
	$(VENV)/bin/lint-imports

test-sqlite:
	@echo "== pytest on SQLite =="
	REGISTRY_TEST_DATABASE_URL= $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-postgres:
	@if $(PY) scripts/ensure_pg_db.py "$(REGISTRY_TEST_POSTGRES_URL)"; then \
		echo "== pytest on PostgreSQL =="; \
		REGISTRY_TEST_DATABASE_URL="$(REGISTRY_TEST_POSTGRES_URL)" $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL run skipped: no server at $(REGISTRY_TEST_POSTGRES_URL) (required under CI)" >&2; exit 1; \
	else \
		echo "== PostgreSQL run SKIPPED: no server at $(REGISTRY_TEST_POSTGRES_URL) =="; \
	fi

bench: $(VENV)/.installed-dev system-deps-bench
	$(PY) -m bench

clean:
	rm -rf $(VENV) instance/registry.db
