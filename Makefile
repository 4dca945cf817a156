# Two entry points (see README): `make run` and `make test`. Both set everything up first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
VA      := va==0.0.1.dev134

.PHONY: run test setup setup-dev assets browser lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps $(VA)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP) assets

# 3Dmol.js comes from the npm registry (pinned in assets/package-lock.json) and is served by
# Streamlit's static file server from static/vendor/, so the 3D view works with no internet.
assets: static/vendor/3Dmol-min.js

static/vendor/3Dmol-min.js: assets/package.json assets/package-lock.json
	cd assets && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp assets/node_modules/3dmol/build/3Dmol-min.js $@

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: install Debian's chromium package (sudo apt-get install chromium)"; fi; }

run: setup
	$(BIN)/streamlit run serve.py

test: setup browser
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/bench_score.py
