# Everyday commands for working on the SCIM server.  CI runs `make test` and
# `make lint` through .ci/run.

PYTHON ?= python3
VENV ?= .venv
PYTEST_ARGS ?=

BIN := $(VENV)/bin
# The stamp is newer than pyproject.toml exactly when the virtual environment
# holds the dependencies it declares, so pip only runs again after a change.
STAMP := $(VENV)/.installed

.PHONY: venv install run test lint bench clean

venv install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[postgresql,dev]'
	touch $@

# `init` is safe to repeat: it only creates the database and the first admin
# on the first run.
run: $(STAMP)
	$(BIN)/scim-server init
	exec $(BIN)/scim-server serve

# pytest exits with 5 when it collected no tests.  The status is passed on
# unchanged, so make fails, and the cause is named because "Error 5" alone
# says little.
test: $(STAMP)
	$(BIN)/python .ci/with_postgres.py -- $(BIN)/pytest $(PYTEST_ARGS) || { status=$$?; \
		[ $$status -ne 5 ] || echo 'make test: pytest collected no tests' >&2; exit $$status; }

lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
