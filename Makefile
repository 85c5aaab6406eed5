# Edvent: the entry points. `make dev` runs the platform, `make test` runs every test.
# Each target installs what is missing first (uv, Python packages, nginx, the Kafka
# and S3Proxy jars), so both work on a fresh machine.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else the one pip installs (the `uv` wheel runs as `python3 -m uv`).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: help install dev down test test-deps test-fast soak fuzz lint format bench docs er-diagram clean helm web web-test mailpit jaeger

# Helm for the chart tests, built once from the Go module proxy into .cache/ (like the
# Kafka jars); Go's own caches live there too so a clean checkout builds it only once.
HELM_VERSION := v3.22.0
HELM := $(CURDIR)/.cache/helm/$(HELM_VERSION)/helm

help:
	@echo "make dev     start the whole platform (Ctrl-C stops it); prints the gateway URL"
	@echo "make down    stop a platform started by make dev in another shell"
	@echo "make test    run every test against real PostgreSQL, Kafka, S3 and nginx"
	@echo "make test-fast  the unit tests only (no PostgreSQL, Kafka, S3 or browser; seconds)"
	@echo "make soak    the long drills (two replicas of everything, one of each killed under load)"
	@echo "make fuzz    fuzz every service's OpenAPI longer than make test does (schemathesis)"
	@echo "make lint    ruff, mypy, deptry, the OpenAPI lint and the ER diagram check"
	@echo "make bench   run the benchmarks and write bench/RESULTS.md"
	@echo "make er-diagram  regenerate docs/er-diagram.md from the migrated schemas"
	@echo "make docs    regenerate the event JSON Schemas and the AsyncAPI document"
	@echo "make helm    build the pinned helm into .cache/helm (make test does it when missing)"
	@echo "make web     build the web client into web/dist (make dev and make test do it)"
	@echo "make web-test  the web client's unit tests (make test runs them)"
	@echo "make mailpit build the pinned Mailpit (local mail sink) into .cache/mailpit (make dev and make test do it)"
	@echo "make jaeger  build the pinned Jaeger (trace viewer) into .cache/jaeger (make dev and make test do it)"

install: .cache/installed-uv .cache/installed-nginx
	@$(UV) sync --frozen --quiet
	@$(UV) run --frozen edvent-stack install

.cache/installed-uv:
	@mkdir -p .cache
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	@touch $@

# nginx, wrk (the gateway load benchmark) and chromium come from the system's packages; without
# root we can only say how. /usr/sbin is not on every user's PATH.
define system_package
	@mkdir -p .cache
	@if ! command -v $(1) >/dev/null 2>&1 && [ ! -x /usr/sbin/$(1) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing $(1) with apt-get"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
		else \
			echo "$(1) is missing: install it (Debian/Ubuntu: sudo apt-get install $(1)), then rerun"; \
			exit 1; \
		fi; \
	fi
	@touch $@
endef

.cache/installed-nginx:
	$(call system_package,nginx)

.cache/installed-wrk:
	$(call system_package,wrk)

# Chromium for the browser tests and the web benchmark: Playwright drives it by path
# and never downloads a browser.
# After nginx: `make test` makes its parts side by side, and two apt-get runs at once
# would fight over dpkg's lock.
.cache/installed-chromium: | .cache/installed-nginx
	$(call system_package,chromium)

# The web client (web/): `npm ci` when the lockfile changes (npm's cache in .cache/npm),
# a build into web/dist when any source changes; the gateway serves web/dist at /.
WEB_SOURCES := $(shell find web/src web/public web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.cache/web-npm-ci: web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Node.js 20.19+ with npm is missing: install it (https://nodejs.org/), then rerun"; exit 1; }
	@mkdir -p .cache
	@echo "installing the web client's packages (npm ci)"
	@cd web && npm ci --cache $(CURDIR)/.cache/npm --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: .cache/web-npm-ci $(WEB_SOURCES)
	@echo "building the web client"
	@cd web && npm run --silent build -- --logLevel warn

web: web/dist/index.html

# The client's own unit tests (web/tests, Node's test runner; no browser needed).
web-test: .cache/web-npm-ci
	@cd web && npm test --silent

helm: $(HELM)

# vegeta, the open-loop load tool the gateway benchmark holds its fixed rate with (wrk
# can only pace a closed loop); built like helm, once.
VEGETA_VERSION := v12.12.0
VEGETA := $(CURDIR)/.cache/vegeta/$(VEGETA_VERSION)/vegeta

$(VEGETA):
	@command -v go >/dev/null 2>&1 || { echo "Go is missing: the gateway benchmark needs it to build vegeta (https://go.dev/dl/), then rerun"; exit 1; }
	@echo "building vegeta $(VEGETA_VERSION) with go install (once)"
	@mkdir -p $(dir $(VEGETA))
	@GOPATH=$(CURDIR)/.cache/go GOCACHE=$(CURDIR)/.cache/go/build GOFLAGS="-modcacherw -buildvcs=false" \
		GOBIN=$(dir $(VEGETA)) go install github.com/tsenart/vegeta/v12@$(VEGETA_VERSION)

$(HELM):
	@command -v go >/dev/null 2>&1 || { echo "Go is missing: the chart tests need it to build helm (https://go.dev/dl/), then rerun"; exit 1; }
	@echo "building helm $(HELM_VERSION) with go install (once; a few minutes)"
	@mkdir -p $(dir $(HELM))
	@GOPATH=$(CURDIR)/.cache/go GOCACHE=$(CURDIR)/.cache/go/build GOFLAGS="-modcacherw -buildvcs=false" \
		GOBIN=$(dir $(HELM)) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# Mailpit, the local mail sink (SMTP in, web UI and HTTP API out), built like helm, once.
MAILPIT_VERSION := v1.33.1
MAILPIT := $(CURDIR)/.cache/mailpit/$(MAILPIT_VERSION)/mailpit

$(MAILPIT):
	@command -v go >/dev/null 2>&1 || { echo "Go is missing: make dev and make test need it to build Mailpit (https://go.dev/dl/), then rerun"; exit 1; }
	@echo "building mailpit $(MAILPIT_VERSION) with go install (once; a few minutes)"
	@mkdir -p $(dir $(MAILPIT))
	@GOPATH=$(CURDIR)/.cache/go GOCACHE=$(CURDIR)/.cache/go/build GOFLAGS="-modcacherw -buildvcs=false" \
		GOBIN=$(dir $(MAILPIT)) go install github.com/axllent/mailpit@$(MAILPIT_VERSION)

mailpit: $(MAILPIT)

# Jaeger v2, the local trace viewer, built like helm, once. `go install …@version`
# refuses it (its go.mod has replace directives), so tools/jaeger is a module of our own
# that pins it as a tool (`go get -tool`); `go build` there takes a few minutes.
JAEGER_VERSION := v1.75.0
JAEGER := $(CURDIR)/.cache/jaeger/$(JAEGER_VERSION)/jaeger
# `EDVENT_TRACING=off make dev` starts the platform without Jaeger, and never builds it.
TRACE_VIEWER := $(if $(filter off,$(EDVENT_TRACING)),,$(JAEGER))

$(JAEGER):
	@command -v go >/dev/null 2>&1 || { echo "Go is missing: make dev and make test need it to build Jaeger (https://go.dev/dl/), or set EDVENT_TRACING=off"; exit 1; }
	@echo "building jaeger $(JAEGER_VERSION) with go build in tools/jaeger (once; a few minutes)"
	@mkdir -p $(dir $(JAEGER))
	@cd tools/jaeger && GOPATH=$(CURDIR)/.cache/go GOCACHE=$(CURDIR)/.cache/go/build GOFLAGS="-modcacherw -buildvcs=false" \
		go build -trimpath -o $(JAEGER).tmp github.com/jaegertracing/jaeger/cmd/jaeger && mv $(JAEGER).tmp $(JAEGER)

jaeger: $(JAEGER)

dev: install web $(MAILPIT) $(TRACE_VIEWER)
	@$(UV) run --frozen edvent-stack up

down:
	@$(UV) run --frozen edvent-stack down

# What `make test` needs, made side by side (-j3): Jaeger's build is minutes of compiling
# (the e2e trace test reads its query API), the rest mostly downloads.
test-deps: install web web-test .cache/installed-chromium $(HELM) $(MAILPIT) $(TRACE_VIEWER)

test:
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-deps
	@EDVENT_HELM=$(HELM) $(UV) run --frozen pytest $(PYTEST_ARGS)

# Unit tests only: pure logic, no infrastructure started.
test-fast: .cache/installed-uv
	@$(UV) sync --frozen --quiet
	@$(UV) run --frozen pytest -q libs/*/tests/unit services/*/tests/unit $(PYTEST_ARGS)

# The drills too long for `make test` (tests marked soak, each on a platform of its own:
# tests-e2e/test_replicas.py starts one at EDVENT_REPLICAS=2, about 3 to 6 minutes).
soak: install web $(MAILPIT)
	@$(UV) run --frozen pytest -m soak -s tests-e2e $(PYTEST_ARGS)

# The schemathesis tests of `make test`, with more examples (EDVENT_FUZZ_EXAMPLES).
fuzz: install web $(MAILPIT) $(TRACE_VIEWER)
	@EDVENT_FUZZ_EXAMPLES=$${EDVENT_FUZZ_EXAMPLES:-100} $(UV) run --frozen pytest -s \
		tests-e2e/test_openapi_fuzz.py $(PYTEST_ARGS)

# Redocly's CLI for the OpenAPI lint, pinned by tools/openapi-lint/package-lock.json.
.cache/openapi-lint-npm-ci: tools/openapi-lint/package.json tools/openapi-lint/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Node.js with npm is missing: install it (https://nodejs.org/), then rerun"; exit 1; }
	@mkdir -p .cache
	@cd tools/openapi-lint && npm ci --cache $(CURDIR)/.cache/npm --no-audit --no-fund --loglevel=error
	@touch $@

lint: install .cache/openapi-lint-npm-ci
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy libs/events/src libs/platform/src deploy/local/src \
		services/identity/src services/content/src services/assessment/src services/ai-notes/src \
		services/learning-records/src \
		bench tools/er_diagram.py tools/helm_values_schema.py
	@$(UV) run --frozen python web/scripts/dump_openapi.py tools/openapi-lint/out
	@cd tools/openapi-lint && set -o pipefail && for service in identity content assessment ai-notes; do \
		npx --no-install redocly lint --config redocly.yaml --format=summary out/$$service.json 2>&1 \
			| grep -v -e '^ *[║╔╚]' -e '^$$' || exit 1; \
	done
	@# Every member declares what it imports and imports what it declares.
	@for member in libs/events libs/platform deploy/local services/*/; do \
		(cd $$member && $(UV) run --frozen deptry . --no-ansi) || exit 1; \
	done
	@# docs/er-diagram.md against the schemas the migrations make (starts a PostgreSQL).
	@$(UV) run --frozen pytest -q -p no:cacheprovider tools/tests/test_er_diagram.py

format: install
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

bench: install web .cache/installed-wrk .cache/installed-chromium $(VEGETA) $(MAILPIT) $(JAEGER)
	@$(UV) run --frozen python -m bench

er-diagram: install
	@EDVENT_WRITE_ER_DIAGRAM=1 $(UV) run --frozen pytest -q tools/tests/test_er_diagram.py

docs: install
	@$(UV) run --frozen python -m edvent_events.docs

clean:
	rm -rf .cache .venv web/node_modules web/dist
