# Seatscore. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEED ?= 1
DB ?= data/seatscore.duckdb
STAMP := $(VENV)/.installed
PY ?= 3.11
WHEELHOUSE ?= wheelhouse

.PHONY: help install demo-data build reports test test-fast docs lint format lab clean wheelhouse install-offline upgrade-offline

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Seatscore with pinned dependencies

demo-data: $(STAMP) ## Write the simulated ledgers for every contract to data/demo/ (SEED=1)
	$(BIN)/seatscore demo-data --seed $(SEED)

build: demo-data ## Load contracts and demo ledgers into data/seatscore.duckdb
	$(BIN)/seatscore build --db $(DB)

reports: build ## Build everything and render every contract-month report into reports/
	$(BIN)/seatscore render --db $(DB) --comparison $(if $(BENCHMARKS),--benchmarks $(BENCHMARKS))
	$(BIN)/seatscore render --db $(DB) --month all

test: $(STAMP) ## Run every test, in parallel (pytest-xdist; the rendered reports stay on one worker)
	$(BIN)/python -m pytest -n auto --dist loadgroup

test-fast: $(STAMP) ## The tests that need no notebook, browser or demo database (under a minute)
	$(BIN)/python -m pytest -m "not slow and not notebook and not browser"

docs: $(STAMP) ## Build the documentation site into site/ (offline; warnings are errors)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict --quiet

lint: $(STAMP) ## Lint, check formatting, and check the layers (import-linter: pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lab: build ## Open the notebooks in JupyterLab
	$(BIN)/seatscore lab

wheelhouse: $(STAMP) ## Write dist/wheelhouse and dist/seatscore-<version>-offline.tar.gz for an intranet (PY=3.11)
	$(BIN)/python scripts/offline.py wheelhouse --python $(PY)

install-offline: ## Create .venv from WHEELHOUSE=DIR alone, with no network (docs/how-to/install-intranet.md)
	$(PYTHON) scripts/offline.py install $(WHEELHOUSE)

upgrade-offline: ## Upgrade this folder to ARCHIVE=FILE, keeping data, params and reports
	$(PYTHON) scripts/offline.py upgrade $(ARCHIVE)

clean: ## Remove built data, reports and the virtual environment
	rm -rf $(VENV) dist site data/demo data/quarantine $(DB) $(DB).wal reports/*/ reports/index.html
