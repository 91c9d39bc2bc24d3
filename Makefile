# The two commands of the README: `make run` and `make test`. Both bootstrap .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres test-postgres-only coverage mutation check format

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python deploy/local/run.py

# SQLite always; PostgreSQL too when CI=true or TEST_POSTGRES=1 (server from TEST_POSTGRES_URL,
# default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres).
test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	@if [ "$(CI)" = "true" ] || [ "$(TEST_POSTGRES)" = "1" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-sqlite: $(STAMP)
	TEST_DATABASE=sqlite $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: $(STAMP)
	TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# Only the tests marked postgres_only (races on row locks, advisory locks), on PostgreSQL.
test-postgres-only: $(STAMP)
	TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider -m postgres_only $(PYTEST_ARGS)

# The suite under coverage on SQLite and on PostgreSQL, combined ([tool.coverage] in pyproject.toml).
# Each database's data lands in var/coverage/<database>/; each total is printed, then the combined report.
coverage: $(STAMP)
	rm -rf var/coverage && mkdir -p var/coverage/sqlite var/coverage/postgresql
	status=0; \
	for db in sqlite postgresql; do \
		TEST_DATABASE=$$db $(BIN)/coverage run --data-file=var/coverage/$$db/.coverage \
			-m pytest -p no:cacheprovider -q $(PYTEST_ARGS) || status=1; \
		$(BIN)/coverage combine -q --data-file=var/coverage/$$db/.coverage var/coverage/$$db; \
		echo "coverage total on $$db: $$($(BIN)/coverage report --data-file=var/coverage/$$db/.coverage --format=total)%"; \
	done; \
	$(BIN)/coverage combine -q --keep --data-file=var/coverage/.coverage \
		var/coverage/sqlite/.coverage var/coverage/postgresql/.coverage && \
	$(BIN)/coverage report --skip-covered && \
	echo "coverage total combined: $$($(BIN)/coverage report --format=total)%" && exit $$status

# Mutation testing of the rule modules, each against its own tests (tests/mutation/run.py).
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation.run $(MODULES)

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
