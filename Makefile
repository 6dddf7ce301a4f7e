# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the suite needs (installed when missing and running as root): a forward
# proxy, and the headless Chromium that the web UI tests drive through Playwright.
DEBIAN_PACKAGES := tinyproxy-bin chromium

.PHONY: demo test lint typecheck pytest setup debian services clean bench bench-catchup bench-memory bench-soak

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "callarchive needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "missing Debian packages:$$missing (run as root or install them)"; exit 1; fi; \
	fi

demo: setup
	$(BIN)/python -m demo

lint: setup
	$(BIN)/ruff check src tests bench demo
	$(BIN)/ruff format --check src tests bench demo

typecheck: setup
	$(BIN)/mypy

# PostgreSQL for the archive's tests (127.0.0.1:5432): started when it does not answer and we
# are root; otherwise the tests say it is missing.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		if [ "$$(id -u)" = 0 ] && [ -d /etc/postgresql ]; then \
			pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && \
			pg_isready -q -h 127.0.0.1 -p 5432 -t 30; \
		else echo "PostgreSQL is not answering on 127.0.0.1:5432 (start it, or run as root)"; fi; }

# Options for pytest: none by default (one process). `make pytest PYTEST_FLAGS="-n 3 --dist
# worksteal"` runs the suite in three processes (pytest-xdist; an idle worker takes tests queued
# on a busy one). Not the default yet: on a loaded two-core machine the multi-process tests still
# fail in parallel (README).
PYTEST_FLAGS ?=

pytest: setup debian services
	$(BIN)/pytest $(PYTEST_FLAGS)

test: lint typecheck pytest

# Import benchmarks against the emulator under Genesys's conditions (bench/importer.py,
# BENCHMARKS.md): `make bench` imports BENCH_N conversations with each strategy, with and without
# On Completion Delete, and runs the tutorial baseline; BENCH_FLAGS adds options, e.g. --quick.
BENCH_N ?= 2000
BENCH_FLAGS ?=

bench: setup
	$(BIN)/python bench/importer.py throughput --n $(BENCH_N) $(BENCH_FLAGS)

bench-catchup: setup
	$(BIN)/python bench/importer.py catchup $(BENCH_FLAGS)

bench-memory: setup
	$(BIN)/python bench/importer.py memory $(BENCH_FLAGS)

# Weeks of live traffic in one long-lived node (bench/soak.py): lag and memory day after day.
SOAK_DAYS ?= 28

bench-soak: setup
	$(BIN)/python bench/soak.py --days $(SOAK_DAYS) $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
