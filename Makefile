# Two commands to get going: `make demo` and `make test`. Both install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= $(CURDIR)/.demo/dispatch.db

.PHONY: install demo test test-shifted lint typecheck contracts unit bench clean

install: $(STAMP)

# Reinstall only when the project's metadata changes; the package itself is installed editable.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dispatch needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Builds the demo store, then opens the console on it (q quits).
demo: install
	$(BIN)/dispatch demo --db $(DEMO_DB) --replace
	$(BIN)/dispatch --db $(DEMO_DB)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q

test: lint typecheck contracts unit

# The suite again with the system clock shifted for the whole process tree (Debian's faketime): it starts
# a few minutes before the first daylight-saving change a year or more ahead, so no test may need today's
# date. `.ci/run` runs it after `make test`; locally: apt-get install faketime.
test-shifted: install
	@command -v faketime >/dev/null || { echo "test-shifted needs Debian's faketime (apt-get install faketime)"; exit 2; }
	faketime "$$($(BIN)/python .ci/shifted_moment.py)" $(BIN)/pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/candidates_bench.py
	$(BIN)/python bench/vrptw_bench.py
	$(BIN)/python bench/field_bench.py
	$(BIN)/python bench/concurrency_bench.py
	$(BIN)/python bench/billing_bench.py
	$(BIN)/python bench/tui_bench.py
	$(BIN)/python bench/booking_bench.py
	$(BIN)/python bench/lookup_bench.py
	$(BIN)/python bench/notify_bench.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache .mypy_cache .hypothesis .import_linter_cache
