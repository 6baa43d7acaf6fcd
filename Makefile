# The two commands of the README: `make run` and `make test`. Both create the environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint fake-upstream demo bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Serve on the embedded defaults (SQLite file in .sluice/, in-process limiter) at 127.0.0.1:8080.
run: $(BIN)/.installed
	$(BIN)/sluice migrate
	$(BIN)/sluice serve

## Layer contracts, lint, then every test (integration tests need Postgres and Redis: see README).
## The deploy tests' helm, kubectl and promtool come first, into .cache/tools/bin (once).
test: $(BIN)/.installed
	bash deploy/ci/fetch-tools
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks deploy
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks deploy

## A local stand-in for OpenRouter on 127.0.0.1:9000 (the project's own fake upstream).
fake-upstream: $(BIN)/.installed
	$(BIN)/python -m tests.fakes.upstream --host 127.0.0.1 --port 9000

clean:
	rm -rf $(VENV) .sluice .pytest_cache .ruff_cache
