# The few commands people type. `make run` and `make test` set everything up on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := static/vendor

.PHONY: run test test-fast lint docs bench bench-stats bench-live bench-reports demo screenshots postman clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Pulseboard needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python webapp/vendor.py  # htmx into static/vendor/, named by package.json's versions
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m webapp.dev.run

test: $(STAMP)
	$(BIN)/python -m pytest

# the unit tests alone: no servers, well under a minute, for day-to-day work
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit

bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: sudo apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

bench-stats: $(STAMP)
	$(BIN)/python -m bench.stats $(BENCH_ARGS)

bench-live: $(STAMP)
	$(BIN)/python -m bench.live $(BENCH_ARGS)

bench-reports: $(STAMP)
	$(BIN)/python -m bench.reports $(BENCH_ARGS)

demo: $(STAMP)
	$(BIN)/python -m webapp.dev.demo $(DEMO_ARGS)

# docs/images/: the dashboard and each report of a demo project in Chromium (desktop, 375 px,
# dark), from servers of its own that it stops again
screenshots: $(STAMP)
	$(BIN)/python -m webapp.dev.screenshots

postman: $(STAMP)
	$(BIN)/python -m webapp.dev.postman

# the generated docs: docs/configuration.md and .env.example (from webapp/config.py), the
# Postman collection (from the OpenAPI document); the suite fails while either is stale
docs: $(STAMP)
	$(BIN)/python webapp/config.py --write
	$(BIN)/python -m webapp.dev.postman

lint: $(STAMP)
	$(BIN)/ruff check webapp worker tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
