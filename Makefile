# Playlister — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The scaled mode's services on this machine (started by .ci/run when they are down).
SCALED_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/playlister
# Database 1: the fault tests flush it, which must never touch anything else.
SCALED_REDIS_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?=
# Where `make run` serves (`make run PORT=8765`, `make run HOST=0.0.0.0`).
HOST ?= 127.0.0.1
PORT ?= 8000

# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint test-embedded test-scaled check-services browser-deps format clean help bench

help:
	@echo "make run    set up and serve the app at http://127.0.0.1:8000 with a job cluster"
	@echo "            (make run HOST=0.0.0.0 PORT=8765 to serve elsewhere)"
	@echo "make test   set up, lint, and run the test suite on both modes"
	@echo "make lint   ruff check, ruff format --check, mypy"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null || { \
	  echo "Playlister needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install one (or let pyenv read .python-version) or run: make PYTHON=python3.13 ..."; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py ensure_admin --host $(HOST) --port $(PORT)
	$(PY) manage.py devserver --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint test-embedded test-scaled

# Benchmarks against their anchors, both modes (not part of `make test`); writes
# bench/results/latest.md.
bench: $(STAMP)
	$(PY) -m bench.run

browser-deps:
	@test -x $(CHROMIUM) || { \
	  echo "installing Chromium for the browser tests (apt-get install chromium)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test-embedded: $(STAMP) browser-deps
	@echo "== embedded mode: SQLite + Django-Q2 ORM broker =="
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest $(PYTEST_ARGS)

test-scaled: $(STAMP) check-services browser-deps
	@echo "== scaled mode: PostgreSQL + Redis broker =="
	DATABASE_URL=$(SCALED_DATABASE_URL) REDIS_URL=$(SCALED_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

check-services: $(STAMP)
	@DATABASE_URL=$(SCALED_DATABASE_URL) REDIS_URL=$(SCALED_REDIS_URL) $(PY) scripts/check_services.py

clean:
	rm -rf $(VENV) var/test .mypy_cache .ruff_cache .pytest_cache
