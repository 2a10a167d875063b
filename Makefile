# Imprimatur: `make run` starts everything, `make test` runs every test.
#
# Python 3.11 is wanted; `python3` is used when no `python3.11` is on the PATH.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# A local .env (see .env.example) configures make's steps and the processes honcho starts alike.
ifneq (,$(wildcard .env))
include .env
export $(shell sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env)
endif

PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
export PORT SITE_URL

# collectstatic hashes and compresses ~15 MB of assets (minutes on a busy machine): run it only
# when the installed packages or our static sources changed. The stamp lives in STATIC_ROOT, so
# another STATIC_ROOT (or a wiped one) collects again.
STATIC_DIR := $(or $(STATIC_ROOT),$(or $(IMPRIMATUR_VAR_DIR),var)/static)
STATIC_STAMP := $(STATIC_DIR)/.collected
STATIC_SOURCES := $(shell find articles governance reviewers static -path '*/static/*' -type f 2>/dev/null)

.PHONY: run test install system-deps runtime-deps lint migrate demo static clean diagram

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --progress-bar off --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the suite needs: Chromium for the Playwright tests (never a downloaded
# browser) and Graphviz for the state diagram. Installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

# What the running site needs (Pango, for the PDF dossier): installed when missing and possible,
# else a warning and the site starts anyway.
runtime-deps:
	@bash scripts/system-deps.sh --runtime

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

$(STATIC_STAMP): $(STAMP) $(STATIC_SOURCES)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@mkdir -p $(STATIC_DIR) && touch $@

static: $(STATIC_STAMP)

# Web (gunicorn, on $PORT), a Celery worker and beat, under honcho. `exec` makes honcho the
# process make waits on: make passes SIGTERM to it, the terminal's Ctrl-C reaches it, and
# honcho stops every process group it started.
run: install runtime-deps $(STATIC_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	exec $(VENV)/bin/honcho start -f Procfile

# Tests serve static files through the finders (tests/conftest.py), so no collectstatic here.
test: install system-deps
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# docs/state-diagram.{dot,png}, drawn from Article.state by django-fsm-2's graph_transitions.
diagram: install system-deps
	$(PY) manage.py render_state_diagram

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache
