# PersonalPod. The two commands: `make run` starts everything, `make test` runs every check.
# Both install what they need first (virtualenv, Python packages, DynamoDB Local).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The newest Python 3.11+ on the machine.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
# Lint needs settings, not a database server: these defaults only satisfy the settings.
LINT_ENV := DJANGO_SETTINGS_MODULE=personalpod.settings.test DATABASE_POOL=0 \
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/personalpod}

.PHONY: help run test lint lint-only format deps deps-dev constraints clean bench-search bench-mirror screenshots

help:
	@echo "make run     start PersonalPod on http://127.0.0.1:8000 (web, worker, beat, DynamoDB Local)"
	@echo "make test    lint and run every test against real PostgreSQL, Redis and DynamoDB Local"
	@echo "make lint    ruff, mypy and the migrations check"
	@echo "make format  format the code with ruff"
	@echo "make bench-search  the search benchmark (results in docs/benchmarks/search.md)"
	@echo "make bench-mirror  the sync mirror and cache benchmark (results in docs/benchmarks/mirror.md)"
	@echo "make screenshots   full-page pictures of the main pages, desktop and phone (docs/screenshots/)"
	@echo "make clean   remove .venv, node_modules and .data (all local data!)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "PersonalPod needs Python 3.11 or newer" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "could not create $(VENV): install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

# constraints.txt pins every transitive package too (regenerate: make constraints).
$(VENV)/.runtime: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(VENV)/.runtime node_modules/.installed

deps-dev: $(VENV)/.dev node_modules/.installed

run: deps
	@scripts/run.sh

test: deps-dev
	@scripts/test.sh

lint: deps-dev lint-only

lint-only:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_ENV) $(BIN)/mypy
	$(LINT_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

format: deps-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-search: deps-dev
	@scripts/bench.sh

bench-mirror: deps-dev
	@scripts/bench-mirror.sh

screenshots: deps-dev
	@SKIP_LINT=1 scripts/test.sh entries/tests/browser/screenshots.py -q -p no:cacheprovider

constraints: deps-dev
	$(BIN)/pip freeze --exclude-editable | sort > constraints.txt

clean:
	rm -rf $(VENV) node_modules .data .mypy_cache .ruff_cache .pytest_cache
