# Two commands: `make run` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The one port setting: the Procfile's web process listens on it and the settings derive
# SITE_URL (http://127.0.0.1:$KRAVIA_PORT) from it unless SITE_URL is set. From the
# environment, the command line (`make run KRAVIA_PORT=8001`) or `.env`; default 8000.
KRAVIA_PORT ?= $(or $(shell sed -n 's/^KRAVIA_PORT=//p' .env 2>/dev/null | tail -n 1),8000)
export KRAVIA_PORT

.PHONY: run check-system test install migrate seed test-reliability audit lint format bench bench-quick clean

# The system's part (Python 3.11+ with venv, Pango for the PDF letters), before installing
# anything: a one-line fix per platform instead of a failure at the first letter.
check-system:
	@$(PYTHON) bin/check-system

$(BIN)/python: | check-system
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: check-system seed
	@echo ""
	@echo "  Kundeweb:            http://127.0.0.1:$(KRAVIA_PORT)/"
	@echo "  Saksbehandling:      http://127.0.0.1:$(KRAVIA_PORT)/admin/"
	@echo "  PowerOffice sandbox: http://127.0.0.1:$(KRAVIA_PORT)/pogo/"
	@echo "  Ctrl-C stops web, worker and beat together."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

# The tests run in a random order (pytest-randomly; the header prints the seed): replay one with
# PYTEST_ARGS="--randomly-seed=N", or run in file order with PYTEST_ARGS="-p no:randomly".
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=kravia_web.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=kravia_web.settings.test $(BIN)/python manage.py check
	$(BIN)/python -m pytest -p randomly --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

# Faults, crashes, outages, concurrency and the security crawls (docs/reliability.md). Also part
# of `make test`; this runs only them. Real-process tests need PostgreSQL and Redis (CI has both).
test-reliability: install
	$(BIN)/python -m pytest -m reliability $(PYTEST_ARGS)

# pip-audit against PyPI's vulnerability data; says SKIPPED (not passed) when offline.
audit: install
	bash .ci/audit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks (docs/performance.md): full scale, and the 1 % smoke run CI does.
bench: install
	$(BIN)/python -m bench --scale 1 $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m bench --scale 0.01 --runs 1 --clients 5 --duration 2 --rebuild $(BENCH_ARGS)

clean:
	rm -rf var/celery var/mail .pytest_cache .ruff_cache htmlcov .coverage
