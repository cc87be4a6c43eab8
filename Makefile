# Pairwise — the two commands a developer needs: `make run` and `make test`.
# Everything else here is what those two need on a fresh machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# Tool versions are pinned in .ci/tools.sh, which installs what is missing (`make doctor` lists them).

# A target directory outside the clone: a fresh clone on a reused machine builds warm.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/pairwise/target
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(CURDIR)/app/node_modules/.bin:$(PATH)
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
# Integration tests run the app on the test's own thread (2 MiB by default); unoptimised,
# SurrealDB's query evaluation under a demo import and its submissions needs more, like the
# server's runtime workers (WORKER_STACK_BYTES in server/src/main.rs).
export RUST_MIN_STACK := 8388608
export LEPTOS_JS_MINIFY := false
export LEPTOS_HASH_FILES := false

SERVER_BIN := $(CARGO_TARGET_DIR)/debug/pairwise
# cargo-leptos builds only the `pairwise` binary; the grader process it starts is built beside
# it with the same features (so the two share every compiled dependency).
GRADER_BUILD = cargo build -p server --bin pairwise-grader --no-default-features --features ssr

include app/editor/editor.mk

# Pyodide (pinned in app/package.json) for the browser's Run of Python exercises: the five
# files a page loads on its first Python Run, copied into public/ (gitignored) so the site
# serves them from our own origin, hashed and cached for good like every static file.
PYODIDE_FILES := pyodide.js pyodide.asm.js pyodide.asm.wasm python_stdlib.zip pyodide-lock.json
PYODIDE := public/pyodide/pyodide.asm.wasm
$(PYODIDE): app/node_modules/.package-lock.json
	rm -rf public/pyodide $(or $(LEPTOS_SITE_ROOT),target/site)/pyodide
	mkdir -p public/pyodide
	cd app/node_modules/pyodide && cp $(PYODIDE_FILES) ../../../public/pyodide/

.PHONY: run test tools test-tools doctor fixture build release check fmt clippy wasm-deps deny unit e2e bench clean

## make run: install what is missing, build, and serve at http://127.0.0.1:3000 with demo data.
run: tools build
	PAIRWISE_DEMO=$${PAIRWISE_DEMO:-true} PAIRWISE_SITE_ROOT=$(LEPTOS_SITE_ROOT) $(SERVER_BIN) serve

## make test: everything CI runs — formatting, both clippy builds, unit, integration and browser tests.
test: tools test-tools check build unit e2e
	@echo "make test: all checks passed"

tools:
	@.ci/tools.sh build

test-tools:
	@.ci/tools.sh test

## make doctor: every tool the two commands use, its version, and whether it is the pinned one.
doctor:
	@.ci/tools.sh doctor

# cargo-leptos adds `--cfg erase_components` to RUSTFLAGS itself: passing ours too would double
# the flag and rebuild everything. The debug browser build holds every chunk's islands, once
# (.ci/chunks.sh copies it under each chunk's name); `make release` builds each chunk apart.
ALL_ISLANDS := --lib-features hydrate --lib-features chunk-exercise --lib-features chunk-room --lib-features chunk-author --lib-features chunk-forum
build: $(EDITOR_BUNDLE) $(PYODIDE)
	env -u RUSTFLAGS cargo leptos build $(ALL_ISLANDS)
	.ci/chunks.sh
	$(GRADER_BUILD)

## make release: the optimised build (about 50 minutes on a fresh clone), used by the benchmarks.
release: tools $(EDITOR_BUNDLE) $(PYODIDE)
	env -u RUSTFLAGS cargo leptos build --release
	env -u RUSTFLAGS .ci/chunks.sh --release
	node .ci/precompress.mjs $(LEPTOS_SITE_ROOT)
	env -u RUSTFLAGS $(GRADER_BUILD) --release

check: fmt clippy wasm-deps deny

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy $(NATIVE) --all-targets -- -D warnings
	cargo clippy -p app -p hydrate --no-default-features --features hydrate,chunk-exercise,chunk-room,chunk-author --target wasm32-unknown-unknown -- -D warnings

# The browser bundle must never pull in the database or the async runtime.
wasm-deps:
	@for dep in surrealdb tokio; do \
	  if cargo tree -p hydrate --target wasm32-unknown-unknown -e normal -i $$dep 2>/dev/null | grep -q .; then \
	    echo "the WASM build depends on $$dep:"; cargo tree -p hydrate --target wasm32-unknown-unknown -e normal -i $$dep; exit 1; fi; \
	done; echo "WASM build depends on neither surrealdb nor tokio"

# Licenses, banned duplicates and sources of every dependency (deny.toml says why each
# exception is there). Advisories need GitHub's advisory database, which this network cannot
# reach: see deny.toml.
deny:
	cargo deny --log-level error check licenses bans sources

# Native crates only: the WASM entry crate would switch on `app/hydrate` in the native build.
NATIVE := -p app -p server -p pairwise-tests

# The tests that run a second time on a real SurrealDB server over `ws://` (the protocol a
# cluster uses), beside the multi-server tests (tests/api/scaleout.rs), which start their own.
# Left out: the 200-client chat load test, whose clients then share the two cores with a
# debug-build database server and fall behind their own sockets (closed as slow readers, by
# design); the other chat tests here still run on the database server. The multi-server tests
# start their own database server in the first pass.
ON_SURREAL := (test(/^accounts::/) | test(/^courses::/) | test(/booking/) | test(/^rooms::.*chat/) | test(/^pairing::/)) & !test(/200_clients/) & !test(/^scaleout::/)
# The SurrealDB server those tests start (tests/surreal: crates.io's surrealdb-server has no
# binary of its own), without debug info: built once, then cached like the rest.
SURREAL_BUILD := cargo build -p pairwise-surreal --profile surreal-test

unit:
	$(SURREAL_BUILD)
	cargo nextest run $(NATIVE) --no-fail-fast
	.ci/on-surreal.sh cargo nextest run -p pairwise-tests --no-fail-fast -E '$(ON_SURREAL)'

e2e:
	cd end2end && PAIRWISE_BIN=$(SERVER_BIN) PAIRWISE_SITE_ROOT=$(CURDIR)/$(LEPTOS_SITE_ROOT) npx playwright test

## make fixture: after adding a migration, write the upgrade test's backup of a database at the
## newest schema (tests/fixtures/schema-NNNN.surql) and commit it beside the older ones.
fixture: tools build
	cargo nextest run -p pairwise-tests --run-ignored only -E 'test(write_upgrade_fixture)'

## make bench: release build, then load figures (see bench/README.md).
bench: release
	bench/run.sh

clean:
	rm -rf target data end2end/test-results end2end/playwright-report
