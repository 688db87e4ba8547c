# magnum-rs: `make` (or `make help`) lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CARGO ?= cargo
# make run DATA_DIR=/tmp/magnum CONFIG=my.toml ARGS=...
DATA_DIR ?=
CONFIG ?=
ARGS ?=

# CI builds from a cold target/: incremental compilation only costs time there.
ifneq ($(CI),)
export CARGO_INCREMENTAL := 0
FAIL_FAST := --no-fail-fast
endif

# Env files the dependency scripts write: scripts/test-deps.sh (database, NATS, client)
# scripts/keystone.sh (Keystone) and scripts/docker.sh (Docker engine), when present.
TEST_ENV_FILES := .deps/test-env .deps/keystone-env .deps/docker-env

.PHONY: help run build fmt lint validate-deploy test-deps test test-unit bench clean-deps

help: ## Show this help
	@echo "magnum-rs: make <target>"
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

run: ## Everything in one process (SQLite under ./data, in-process bus, no-auth) on http://127.0.0.1:9511
	$(CARGO) run --release -p magnum -- $(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(if $(CONFIG),--config $(CONFIG)) $(ARGS)

build: ## Build every crate (debug)
	$(CARGO) build --workspace --all-targets

fmt: ## Format the code
	$(CARGO) fmt --all

lint: ## rustfmt check, clippy -D warnings, domain purity and structural tenant scoping
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@bash scripts/lint-domain.sh
	@bash scripts/lint-tenancy.sh

validate-deploy: ## Validate deploy/k8s against the Kubernetes schemas (kubernetes-validate, pinned)
	@bash scripts/validate-deploy.sh

test-deps: ## Install/start Postgres, NATS+JetStream, Keystone, a Docker engine, python-magnumclient 1.1.0, 2.17.0, 4.11.0 and 5.0.0; write .deps/*-env
	@bash scripts/test-deps.sh
	@bash scripts/keystone.sh start
	@bash scripts/docker.sh start

test: ## test-deps, then lint, then every test (nextest when installed) against real Postgres, NATS, Keystone and Docker; fails if a test left a Docker object
	@$(MAKE) test-deps
	@$(MAKE) lint
	@$(MAKE) validate-deploy
	@set -a; for f in $(TEST_ENV_FILES); do if [ -f "$$f" ]; then . "./$$f"; fi; done; set +a; \
	bash scripts/docker.sh objects > .deps/docker-objects-before; \
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
		echo "+ $(CARGO) test --workspace --doc $(FAIL_FAST)"; \
		$(CARGO) test --workspace --doc $(FAIL_FAST); \
		echo "+ $(CARGO) nextest run --workspace $(FAIL_FAST)"; \
		$(CARGO) nextest run --workspace $(FAIL_FAST); \
	else \
		echo "+ $(CARGO) test --workspace $(FAIL_FAST)"; \
		$(CARGO) test --workspace $(FAIL_FAST); \
	fi; \
	bash scripts/docker.sh leftovers .deps/docker-objects-before

test-unit: ## Unit tests only: no Postgres, NATS or client needed
	$(CARGO) test --workspace --lib

bench: test-deps ## Load through the gateway (req/s, p50/p99, RSS), bays/s with 1 and 2 workers, containers/s (not part of test)
	@bash scripts/bench.sh
	@bash scripts/bench-lifecycle.sh

clean-deps: ## Remove .deps/ (virtualenvs, oha, env files; stops our Keystone and Neutron first); leaves Postgres, NATS and MariaDB alone
	@if [ -d .deps/keystone ]; then bash scripts/keystone.sh stop; fi
	@if [ -d .deps/neutron ]; then bash scripts/neutron.sh stop; fi
	rm -rf .deps
