# Concierge: `make run` starts the assistant, `make test` checks everything.
# Both create what is missing first (virtual environments, browser, trained model).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
APP_VENV := .venv
RASA_VENV := .venv-rasa
APP_BIN := $(APP_VENV)/bin
RASA_BIN := $(RASA_VENV)/bin
DATA_DIR ?= $(or $(CONCIERGE_DATA_DIR),.data)
MODEL := $(DATA_DIR)/models/concierge.tar.gz
RASA_INPUTS := config.yml domain.yml $(shell find data -type f -name '*.yml' 2>/dev/null) \
               $(wildcard nlu_components/*.py)
PIP_FLAGS := --disable-pip-version-check --no-input -q
# The NLU reads all-MiniLM-L6-v2 from the Rasa environment; nothing may be downloaded.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

.PHONY: FORCE help install run test lint migrate typecheck validate train conversations nlu-eval pytest kb-eval \
        browser bench lock-app lock-rasa clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install: $(APP_VENV)/.installed $(RASA_VENV)/.installed ## Create both virtual environments from the locks

$(RASA_VENV)/.installed: requirements/rasa.lock
	@echo "==> Rasa environment ($(RASA_VENV)), about 3-5 minutes the first time"
	$(PYTHON) -m venv $(RASA_VENV)
	$(RASA_BIN)/pip install $(PIP_FLAGS) --no-deps --ignore-requires-python --prefer-binary \
		-r requirements/rasa.lock
	touch $@

$(APP_VENV)/.installed: requirements/app.lock requirements/constraints.txt pyproject.toml
	@echo "==> App environment ($(APP_VENV)), about 2 minutes the first time"
	$(PYTHON) -m venv $(APP_VENV)
	$(APP_BIN)/pip install $(PIP_FLAGS) -c requirements/constraints.txt torch==2.13.0
	$(APP_BIN)/pip install $(PIP_FLAGS) --no-deps -r requirements/app.lock
	$(APP_BIN)/pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	touch $@

train: $(MODEL) ## Train the Rasa model when config, domain or data changed

# The company's words in the NLU data (product names, category synonyms, currency) are
# generated from the catalog; a changed catalog regenerates them (and retrains if they differ).
CONTENT_DIR ?= $(or $(CONCIERGE_CONTENT_DIR),knowledge/demo)
CATALOG := $(or $(CONCIERGE_CATALOG_PATH),$(CONTENT_DIR)/catalog.json)
NLU_GENERATED := data/nlu/catalog.generated.yml

# FORCE: always compare with the catalog named now (another content folder may hold an
# older file); the generator rewrites the file only when its text changes, so an unchanged
# catalog retrains nothing.
$(NLU_GENERATED): FORCE | $(APP_VENV)/.installed
	$(APP_BIN)/python -m knowledge.training_data --catalog $(CATALOG) --out $@

$(MODEL): $(RASA_VENV)/.installed $(RASA_INPUTS) $(NLU_GENERATED)
	@echo "==> Training the Rasa model"
	$(RASA_BIN)/rasa train --config config.yml --domain domain.yml --data data \
		--out $(DATA_DIR)/models --fixed-model-name concierge --quiet

run: install console widget train migrate ## Start Rasa, the action server and the gateway on http://localhost:8000
	$(APP_BIN)/concierge run --model $(MODEL)

# --- The console's scripts: Chart.js from the npm registry, bundled with esbuild into
# bot/static/console/ (served by the gateway; nothing is loaded from a CDN). Incremental:
# `npm ci` when the lock changed, the bundle when a source changed.
CONSOLE_DIR := frontend/console
CONSOLE_BUNDLE := bot/static/console/analytics.js
.PHONY: console

console: $(CONSOLE_BUNDLE) ## Bundle the console's scripts (analytics charts) when their sources changed

$(CONSOLE_DIR)/node_modules/.package-lock.json: $(CONSOLE_DIR)/package.json $(CONSOLE_DIR)/package-lock.json
	cd $(CONSOLE_DIR) && npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_BUNDLE): $(CONSOLE_DIR)/node_modules/.package-lock.json $(wildcard $(CONSOLE_DIR)/src/*.js)
	cd $(CONSOLE_DIR) && npm run build

# --- The chat widget (frontend/widget): its loader bot/static/widget.js, the versioned bundle
# bot/static/widget/concierge.<hash>.js and bot/static/widget.css, built with esbuild (all
# committed, so the gateway runs without node). Incremental like the console's.
WIDGET_DIR := frontend/widget
WIDGET_MODULES := $(WIDGET_DIR)/node_modules/.package-lock.json
WIDGET_LOADER := bot/static/widget.js
.PHONY: widget widget-lint widget-test

widget: $(WIDGET_LOADER) ## Build the chat widget's loader and bundle when their sources changed

$(WIDGET_MODULES): $(WIDGET_DIR)/package.json $(WIDGET_DIR)/package-lock.json
	cd $(WIDGET_DIR) && npm ci --no-audit --no-fund
	touch $@

$(WIDGET_LOADER): $(WIDGET_MODULES) $(wildcard $(WIDGET_DIR)/src/*) $(WIDGET_DIR)/scripts/build.mjs
	cd $(WIDGET_DIR) && npm run --silent build

widget-lint: $(WIDGET_MODULES) ## ESLint on the widget's sources
	cd $(WIDGET_DIR) && npm run --silent lint

widget-test: $(WIDGET_MODULES) ## The widget's unit tests (node's test runner)
	cd $(WIDGET_DIR) && npm test --silent

browser: ## Install Debian's chromium for the browser tests when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
		echo "==> Installing chromium (Debian package)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(APP_VENV)/.installed widget-lint ## ruff, mypy and the import layers (lint-imports)
	$(APP_BIN)/ruff check .
	$(APP_BIN)/ruff format --check .
	$(APP_BIN)/mypy
	$(APP_BIN)/lint-imports --no-cache
	kubectl kustomize deploy/k8s > /dev/null  # the Kubernetes manifests render (docs/production.md)

migrate: $(APP_VENV)/.installed ## Create or upgrade the application database (Alembic)
	$(APP_BIN)/concierge db upgrade

validate: $(RASA_VENV)/.installed $(NLU_GENERATED) ## rasa data validate (with the catalog's generated NLU data)
	$(RASA_BIN)/rasa data validate --config config.yml --domain domain.yml --data data --fail-on-warnings

conversations: $(MODEL) ## Rasa conversation tests (tests/conversations)
	$(RASA_BIN)/rasa test core --model $(MODEL) --stories tests/conversations \
		--fail-on-prediction-errors --out $(DATA_DIR)/results/core

nlu-eval: $(MODEL) ## Intent and entity scores on the held-out NLU file
	$(RASA_BIN)/rasa test nlu --model $(MODEL) --nlu tests/nlu/test_nlu.yml \
		--out $(DATA_DIR)/results/nlu
	$(APP_BIN)/python -m benchmarks.nlu_report $(DATA_DIR)/results/nlu

pytest: install train browser console widget ## pytest: unit, integration, end-to-end
	CONCIERGE_MODEL=$(abspath $(MODEL)) $(APP_BIN)/pytest -q

test: install browser lint widget-test migrate validate train conversations pytest kb-eval ## Everything CI checks

# The knowledge base's regression cases (eval_cases.yml of the content folder, demo data by
# default) against a fresh index of that folder; fails when a case no longer retrieves its answer.
kb-eval: install ## concierge kb eval: replay the answered questions on a fresh index
	rm -rf $(DATA_DIR)/kb-eval
	CONCIERGE_DATA_DIR=$(DATA_DIR)/kb-eval $(APP_BIN)/concierge kb ingest
	CONCIERGE_DATA_DIR=$(DATA_DIR)/kb-eval $(APP_BIN)/concierge kb eval

bench: install train ## Chat latency benchmark (see docs/benchmarks.md)
	$(APP_BIN)/python -m benchmarks.chat_latency --model $(MODEL)

# --- Load benchmark (benchmarks/load.py): locust installed on top of the app environment
# from requirements/bench.lock (only what it adds to app.lock); never part of `make test`.
# LOAD_ARGS, e.g. "--modes embedded,production --users 32 --seconds 120".
.PHONY: bench-load
BENCH_INSTALLED := $(APP_VENV)/.bench-installed
LOAD_ARGS ?= --modes embedded

$(BENCH_INSTALLED): requirements/bench.lock $(APP_VENV)/.installed
	$(APP_BIN)/pip install $(PIP_FLAGS) --no-deps -r requirements/bench.lock
	touch $@

bench-load: install train $(BENCH_INSTALLED) ## Load benchmark with locust (LOAD_ARGS; docs/benchmarks.md)
	$(APP_BIN)/python -m benchmarks.load --model $(MODEL) $(LOAD_ARGS)

lock-app: ## Re-resolve requirements/app.in into requirements/app.lock
	rm -rf /tmp/concierge-lock-app && $(PYTHON) -m venv /tmp/concierge-lock-app
	/tmp/concierge-lock-app/bin/pip install $(PIP_FLAGS) torch==2.13.0
	/tmp/concierge-lock-app/bin/pip install $(PIP_FLAGS) -c requirements/constraints.txt -r requirements/app.in
	{ echo "# Lock of the app environment (.venv): pip freeze of 'make lock-app'."; \
	  /tmp/concierge-lock-app/bin/pip freeze; } > requirements/app.lock

lock-rasa: ## Re-resolve requirements/rasa.in into requirements/rasa.lock
	rm -rf /tmp/concierge-lock-rasa && $(PYTHON) -m venv /tmp/concierge-lock-rasa
	/tmp/concierge-lock-rasa/bin/pip install $(PIP_FLAGS) --no-deps --ignore-requires-python rasa==3.6.21
	/tmp/concierge-lock-rasa/bin/pip install $(PIP_FLAGS) --ignore-requires-python --prefer-binary \
		--only-binary matplotlib,numpy,scipy,scikit-learn,tensorflow,tensorflow-text -r requirements/rasa.in
	{ echo "# Lock of the Rasa environment (.venv-rasa): pip freeze of 'make lock-rasa'."; \
	  /tmp/concierge-lock-rasa/bin/pip freeze; } > requirements/rasa.lock

FORCE:

clean: ## Remove the data directory (models, databases, index)
	rm -rf $(DATA_DIR)
