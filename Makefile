# Stemmer: `make run` and `make test` are the whole set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: install system-deps run dev test test-fast test-pg lint audit i18n translations check-migrations clean

# System packages from Debian: headless Chromium for the browser tests; Pango and fonts for
# the report's PDF (WeasyPrint); poppler-utils (pdftoppm, pdftotext) to look at PDFs;
# nginx-light for tests/deploy/test_nginx.py (deploy/nginx/stemmer.conf in front of the app;
# the package's own service is not needed and may stay stopped). Needs root or sudo;
# installs only the packages that are missing, so it is safe to run again.
SYSTEM_PACKAGES := chromium fonts-dejavu-core fonts-liberation fonts-noto-color-emoji \
	libpango-1.0-0 libpangoft2-1.0-0 poppler-utils nginx-light
system-deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "Not Debian: install $(SYSTEM_PACKAGES) (or your system's equivalents) yourself."; \
	  exit 0; \
	fi; \
	missing=$$(for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile -d translations >/dev/null

install: system-deps $(STAMP) $(NODE_STAMP) translations

# The web server (gunicorn) and a task-queue worker, both from the Procfile (honcho); Ctrl-C
# stops both.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	PATH="$(CURDIR)/$(BIN):$$PATH" STEMMER_WEB_PORT=$(PORT) $(BIN)/honcho start --port $(PORT)

# Flask's debug server alone: background tasks run at once in it (no worker).
dev: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	STEMMER_QUEUE_IMMEDIATE=1 $(BIN)/flask run --debug --port $(PORT)

# Timed and server-starting tests (marked slow) run after the others, alone on the machine.
test: install
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not browser and not slow" $(PYTEST_ARGS)

# mypy checks app, surveys and nlp ([tool.mypy] in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app surveys tests
	$(BIN)/mypy

# pip-audit over the installed packages; skipped with a message where no vulnerability data
# can be reached (AUDIT_REQUIRED=1 makes that an error).
audit: install
	scripts/audit

i18n: install
	$(BIN)/flask translate extract
	$(BIN)/flask translate compile

# The migrations must produce exactly the models' schema (on a scratch SQLite database).
check-migrations: install
	@tmp=$$(mktemp -d); \
	DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/flask db upgrade >/dev/null && \
	DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/flask db check; \
	status=$$?; rm -rf $$tmp; exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# The whole suite again against a throwaway PostgreSQL server on loopback; tests/nlp is left
# out (the theme engine has no database, so it would run the same tests twice).
PG_ONLY := --ignore=tests/nlp
test-pg: install
	@dir=$$(mktemp -d /tmp/stemmer-pg.XXXXXX); chmod 755 $$dir; \
	url=$$(scripts/pg-test-server start $$dir/data) || exit 1; \
	STEMMER_TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest -n 2 -m "not slow" $(PG_ONLY) $(PYTEST_ARGS) && \
	STEMMER_TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest -m slow $(PG_ONLY) $(PYTEST_ARGS); \
	status=$$?; scripts/pg-test-server stop $$dir/data; rm -rf $$dir; exit $$status
