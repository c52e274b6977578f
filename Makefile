# The two commands: `make run` (the whole app) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TIMELAPSER_DATA_DIR ?= $(CURDIR)/data
export BIND ?= 127.0.0.1:8000
# make run is the one-machine setup: a camera (or demo) on this machine is allowed there.
export TIMELAPSER_CAMERA_ALLOW_LOOPBACK ?= 1
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/timelapser

.PHONY: run run-full test lint venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The lean layout (Procfile.lean): three processes and the launcher, for a small host.
run: venv
	@$(BIN)/python -m timelapser.keygen
	$(BIN)/python manage.py bootstrap
	@echo "Starting web (http://$(BIND)), the capture worker with beat, and the render worker. Ctrl-C stops all."
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/python -P timelapser/launch.py Procfile.lean

# The production layout (Procfile) on this one host, as `make run` started it before the lean one.
run-full: venv
	@$(BIN)/python -m timelapser.keygen
	$(BIN)/python manage.py bootstrap
	@echo "Starting the Procfile's web, two capture workers, render worker and beat. Ctrl-C stops all."
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho start web worker worker2 renderer beat

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=lint $(BIN)/python manage.py makemigrations --check --dry-run

# SQLite always; PostgreSQL too when it answers (mandatory with CI=true).
test: lint
	$(BIN)/pytest
	@if $(BIN)/python -m tests.pg_available "$(TEST_DATABASE_URL)"; then \
		echo "== The same suite on PostgreSQL =="; \
		DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at TEST_DATABASE_URL and CI=true: failing."; exit 1; \
	else \
		echo "PostgreSQL not reachable: skipped the PostgreSQL run (set TEST_DATABASE_URL)."; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
