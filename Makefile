# The two commands of the README: `make run` and `make test`. Both bootstrap .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres test-postgres-only coverage mutation check format \
	check-web test-web web-build web-budgets e2e k8s-tools nginx-tools observability-tools \
	bench wrk-tools

# The web console (web/): Node.js 20.19+ when present, required when CI=true; the browser suite runs on
# Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium; Playwright never downloads a browser).
NODE := $(shell command -v node 2>/dev/null)
CHROMIUM_PATH ?= /usr/bin/chromium
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES = $(shell find web/src web/public web/nurse -type f 2>/dev/null) web/index.html web/package-lock.json \
	$(wildcard web/vite.config.* web/tsconfig*.json)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python deploy/local/run.py

# The web console's tests first (on a quiet machine: the browser suite runs a whole stack), then the
# Python suite: SQLite always; PostgreSQL too when CI=true or TEST_POSTGRES=1 (server from
# TEST_POSTGRES_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres). The two databases'
# runs share nothing (each creates its own databases and takes free ports), so they run side by side, one
# per core; each one's output is printed whole when it ends.
test: $(STAMP)
	$(MAKE) --no-print-directory test-web
	@if [ "$(CI)" = "true" ] || [ "$(TEST_POSTGRES)" = "1" ]; then \
		$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres; \
	else $(MAKE) --no-print-directory test-sqlite; fi

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
	$(MAKE) --no-print-directory check-web

# npm ci once per package-lock.json (deploy/local/run.py reads the same stamp).
$(WEB_STAMP): web/package-lock.json
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

# The console build, redone when its sources are newer (as deploy/local/run.py decides). With CI=true the
# bundles only (`npm run bundle`): .ci/run's `make check` has type-checked the same sources (check-web's
# `npm run typecheck` runs the build's `vue-tsc --noEmit` and the e2e project's) — the build's second
# vue-tsc cost ~24 s of CPU, ~25-60 s of CI's wall time.
WEB_BUILD_SCRIPT := $(if $(filter true,$(CI)),bundle,build)
web/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run $(WEB_BUILD_SCRIPT)
	@touch $@

web-build: web/dist/index.html

# Gzipped size budgets of the build (web/scripts/check-budgets.mjs reads Vite's manifest).
web-budgets: web/dist/index.html
	cd web && node scripts/check-budgets.mjs

# The browser suite (web/e2e) against the real stack, started by deploy/local/run.py on ports 18500-18504.
e2e: $(STAMP) web/dist/index.html
	cd web && CHROMIUM_PATH=$(CHROMIUM_PATH) npm run e2e

ifneq ($(NODE),)
check-web: $(WEB_STAMP)
	cd web && npm run lint && npm run typecheck && npm run check:api

test-web: $(STAMP) $(WEB_STAMP)
	cd web && npm test
	$(MAKE) --no-print-directory web-budgets
	@if [ -x "$(CHROMIUM_PATH)" ]; then $(MAKE) --no-print-directory e2e; \
	elif [ "$(CI)" = "true" ]; then echo "CI needs chromium at $(CHROMIUM_PATH) for the browser suite" >&2; exit 1; \
	else echo "no chromium at $(CHROMIUM_PATH): the browser suite (web/e2e) is skipped"; fi
else ifeq ($(CI),true)
check-web test-web:
	@echo "CI needs Node.js 20.19+ for the web console (node not found)" >&2; exit 1
else
check-web test-web:
	@echo "node not found: the web console's checks and tests are skipped (install Node.js 20.19+)"
endif

# The kustomize that tests/deploy/test_k8s_manifests.py builds deploy/k8s with: Debian's kubernetes-client
# (kubectl 1.20, kustomize v2.0.3), unpacked under var/tools — not installed, so it never clashes with a
# kubectl already on the machine. Needs apt's package lists (apt-get update); .ci/run calls it.
KUBECTL_KUSTOMIZE := var/tools/kubernetes-client/usr/bin/kubectl

$(KUBECTL_KUSTOMIZE):
	rm -rf var/tools/kubernetes-client var/tools/deb && mkdir -p var/tools/deb
	cd var/tools/deb && apt-get download kubernetes-client
	dpkg-deb -x var/tools/deb/kubernetes-client_*.deb var/tools/kubernetes-client
	rm -rf var/tools/deb
	$@ version --client

k8s-tools: $(KUBECTL_KUSTOMIZE)

# The nginx that tests/deploy/test_dockerfile.py runs the console image's config with (Debian's nginx and
# nginx-common, for mime.types), unpacked under var/tools like kubectl: not installed, no daemon started.
NGINX := var/tools/nginx/usr/sbin/nginx

$(NGINX):
	rm -rf var/tools/nginx var/tools/nginx-deb && mkdir -p var/tools/nginx-deb
	cd var/tools/nginx-deb && apt-get download nginx nginx-common
	for deb in var/tools/nginx-deb/*.deb; do dpkg-deb -x $$deb var/tools/nginx; done
	rm -rf var/tools/nginx-deb
	$@ -v

nginx-tools: $(NGINX)

# promtool, which tests/common/test_metrics.py checks and unit-tests deploy/observability's Prometheus rules
# with: Debian's prometheus package unpacked under var/tools like kubectl (no daemon installed or started).
PROMTOOL := var/tools/prometheus/usr/bin/promtool

$(PROMTOOL):
	rm -rf var/tools/prometheus var/tools/prometheus-deb && mkdir -p var/tools/prometheus-deb
	cd var/tools/prometheus-deb && apt-get download prometheus
	dpkg-deb -x var/tools/prometheus-deb/prometheus_*.deb var/tools/prometheus
	rm -rf var/tools/prometheus-deb
	$@ --version

observability-tools: $(PROMTOOL)

# The load driver of the benchmarks (bench/load.py): Debian's wrk and its LuaJIT, unpacked under var/tools
# like nginx (not installed); bench/load.py puts the unpacked library on wrk's LD_LIBRARY_PATH.
WRK := var/tools/wrk/usr/bin/wrk

$(WRK):
	rm -rf var/tools/wrk var/tools/wrk-deb && mkdir -p var/tools/wrk-deb
	cd var/tools/wrk-deb && apt-get download wrk libluajit2-5.1-2
	for deb in var/tools/wrk-deb/*.deb; do dpkg-deb -x $$deb var/tools/wrk; done
	rm -rf var/tools/wrk-deb
	LD_LIBRARY_PATH=$$(echo var/tools/wrk/usr/lib/*-linux-gnu) $@ -v || true

wrk-tools: $(WRK)

# docs/PERFORMANCE.md (issue 16): the benchmark harness on SQLite at scale S and on PostgreSQL at S → M → L
# (growth measured at each, every measure at L; 5 s per load measurement) with wrk and nginx, unpacked
# first (an asyncio client as load driver caps the bare endpoint's ceiling at a few hundred requests/s;
# `python -m bench` alone falls back to it and to no nginx row). BENCH_ARGS adds options, e.g.
# BENCH_ARGS="--scale S" for the demo only.
bench: $(STAMP) $(WRK) $(NGINX)
	$(BIN)/python -m bench --scale L --database sqlite,postgresql --duration 5 --out docs/PERFORMANCE.md $(BENCH_ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
