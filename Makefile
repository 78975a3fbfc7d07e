# The few commands people type. `make run` and `make test` set everything up on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := static/vendor

.PHONY: run test lint bench bench-stats bench-live bench-reports demo postman clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Pulseboard needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx-2.0.11.min.js
	cp node_modules/htmx-ext-sse/dist/sse.min.js $(VENDOR)/htmx-ext-sse-2.2.4.min.js
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m webapp.dev.run

test: $(STAMP)
	$(BIN)/python -m pytest

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

postman: $(STAMP)
	$(BIN)/python -m webapp.dev.postman

lint: $(STAMP)
	$(BIN)/ruff check webapp worker tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
