# Developing the template. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv test lint

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check hooks tests "template/src/{{package_name}}"
	$(BIN)/ruff format --check hooks tests "template/src/{{package_name}}"
