# Pairwise — the two commands a developer needs: `make run` and `make test`.
# Everything else here is what those two need on a fresh machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

CARGO_LEPTOS_VERSION := 0.3.10
# Must equal the `wasm-bindgen` version pinned in Cargo.toml (cargo-leptos never checks).
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)

# A target directory outside the clone: a fresh clone on a reused machine builds warm.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/pairwise/target
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/app/node_modules/.bin:$(PATH)
# cargo-leptos builds debug code with exactly these variables; exporting them for plain
# cargo commands (tests, clippy) lets both share one set of artifacts instead of two.
export RUSTFLAGS := --cfg erase_components
export LEPTOS_OUTPUT_NAME := pairwise
export LEPTOS_SITE_ROOT := target/site
export LEPTOS_SITE_PKG_DIR := pkg
export LEPTOS_SITE_ADDR := 127.0.0.1:3000
export LEPTOS_RELOAD_PORT := 3001
export LEPTOS_LIB_DIR := app/hydrate
export LEPTOS_BIN_DIR := server
export LEPTOS_JS_MINIFY := false
export LEPTOS_HASH_FILES := false

SERVER_BIN := $(CARGO_TARGET_DIR)/debug/pairwise
# cargo-leptos builds only the `pairwise` binary; the grader process it starts is built beside
# it with the same features (so the two share every compiled dependency).
GRADER_BUILD = cargo build -p server --bin pairwise-grader --no-default-features --features ssr

include app/editor/editor.mk

.PHONY: run test tools test-tools build release check fmt clippy wasm-deps unit e2e bench clean

## make run: install what is missing, build, and serve at http://127.0.0.1:3000 with demo data.
run: tools build
	PAIRWISE_DEMO=$${PAIRWISE_DEMO:-true} PAIRWISE_SITE_ROOT=$(LEPTOS_SITE_ROOT) $(SERVER_BIN) serve

## make test: everything CI runs — formatting, both clippy builds, unit, integration and browser tests.
test: tools test-tools check build unit e2e
	@echo "make test: all checks passed"

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
	@if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then \
	  echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 10 minutes, once)"; \
	  CARGO_TARGET_DIR=$(HOME)/.cache/pairwise/tools CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 RUSTFLAGS= \
	    cargo install cargo-leptos --locked --version $(CARGO_LEPTOS_VERSION) --features no_downloads; fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)"; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 2 minutes, once)"; \
	  CARGO_TARGET_DIR=$(HOME)/.cache/pairwise/tools RUSTFLAGS= cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi
	@[ -x app/node_modules/.bin/wasm-opt ] || (cd app && npm ci --no-audit --no-fund)

test-tools:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	@[ -d end2end/node_modules/@playwright/test ] && [ -d end2end/node_modules/axe-core ] || (cd end2end && npm ci --no-audit --no-fund)

# cargo-leptos adds `--cfg erase_components` to RUSTFLAGS itself: passing ours too would double
# the flag and rebuild everything.
build: $(EDITOR_BUNDLE)
	env -u RUSTFLAGS cargo leptos build
	$(GRADER_BUILD)

## make release: the optimised build (about 22 minutes cold), used by the benchmarks.
release: tools $(EDITOR_BUNDLE)
	env -u RUSTFLAGS cargo leptos build --release
	env -u RUSTFLAGS $(GRADER_BUILD) --release

check: fmt clippy wasm-deps

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy $(NATIVE) --all-targets -- -D warnings
	cargo clippy -p app -p hydrate --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings

# The browser bundle must never pull in the database or the async runtime.
wasm-deps:
	@for dep in surrealdb tokio; do \
	  if cargo tree -p hydrate --target wasm32-unknown-unknown -e normal -i $$dep 2>/dev/null | grep -q .; then \
	    echo "the WASM build depends on $$dep:"; cargo tree -p hydrate --target wasm32-unknown-unknown -e normal -i $$dep; exit 1; fi; \
	done; echo "WASM build depends on neither surrealdb nor tokio"

# Native crates only: the WASM entry crate would switch on `app/hydrate` in the native build.
NATIVE := -p app -p server -p pairwise-tests

unit:
	cargo nextest run $(NATIVE) --no-fail-fast

e2e:
	cd end2end && PAIRWISE_BIN=$(SERVER_BIN) PAIRWISE_SITE_ROOT=$(CURDIR)/$(LEPTOS_SITE_ROOT) npx playwright test

## make bench: release build, then load figures (see bench/README.md).
bench: release
	bench/run.sh

clean:
	rm -rf target data end2end/test-results end2end/playwright-report
