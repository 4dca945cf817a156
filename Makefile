# Two entry points (see README): `make run` and `make test`. Both set everything up first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The package itself (editable) with its compiled kernel: rebuilt when the kernel's source or the
# build files change.
KERNEL  := $(VENV)/.kernel
VA      := va==0.0.1.dev134

.PHONY: run test setup setup-dev assets browser lint bench install-check

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps $(VA)
	touch $(STAMP)

$(KERNEL): qscore/engine/_kernel.c setup.py pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -c "from qscore.engine import compiled; raise SystemExit(not compiled.available())" \
	  || echo "warning: the compiled kernel did not build (no working C compiler?); see the pip output above"
	touch $(KERNEL)

setup: $(KERNEL) assets

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
	$(BIN)/python -m pytest -q --durations=15

# The sdist installed into clean virtual environments without OpenMP and without a C compiler.
install-check: $(KERNEL)
	$(BIN)/python .ci/check_install.py

lint: $(KERNEL)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(KERNEL)
	$(BIN)/python bench/bench_score.py
