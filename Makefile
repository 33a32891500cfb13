# The two commands of the README:
#   make demo   install, start the emulator, deploy everything to it, print the outputs, stop it
#   make test   install, then run every check (lint, pytest, molecule)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh

lint: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/lint.sh

clean:
	rm -rf build outputs .emulator .pytest_cache .ruff_cache
