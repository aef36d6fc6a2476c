# Bay Telehealth. `make run` and `make test` do everything on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-browser install migrate seed lint typecheck check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# NHS.UK frontend's CSS, JS and assets for the pages; pages still work (unstyled) without npm.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: pages will be served without NHS.UK styles"; fi

install: $(VENV)/.installed node_modules/.installed

migrate: install
	$(BIN)/telehealth migrate

seed: migrate
	$(BIN)/telehealth seed-demo

# The web app and the outbox worker together; Ctrl-C stops both.
run: seed
	@$(BIN)/telehealth worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/telehealth serve --host $(HOST) --port $(PORT)

# The whole suite. With TEST_DATABASE_URL (a PostgreSQL server URL) every database test runs
# on PostgreSQL as well as SQLite; .ci/run always sets it.
test: install
	$(BIN)/python -m pytest -q

# Only the pages in headless Chromium (/usr/bin/chromium); screenshots land in var/screenshots/.
test-browser: install
	$(BIN)/python -m pytest -q tests/browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

# make bench BASELINE=<git ref>: that tree's slot search and booking side by side.
bench: install
	$(BIN)/python bench/run.py $(if $(BASELINE),--baseline $(BASELINE))

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
