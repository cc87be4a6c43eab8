#!/usr/bin/env bash
# Every tool the two commands (`make run`, `make test`) and the benchmarks use: pinned
# versions, how each is installed when missing, and `doctor`, which reports them all.
#
#   .ci/tools.sh build      what `make run` needs (Rust target and components, cargo-leptos,
#                           wasm-bindgen, the npm build tools)
#   .ci/tools.sh test       what `make test` needs on top (cargo-nextest, cargo-deny,
#                           Chromium at a version Playwright can drive, the Playwright packages)
#   .ci/tools.sh apt PKG... Debian packages: as root, else through sudo, else stop and print the
#                           exact command to run
#   .ci/tools.sh doctor     each tool, its version, and whether it is the pinned one
#
# Cargo tools go to $CARGO_HOME/bin (default ~/.cargo/bin), built in a target directory of their
# own so `make clean` never costs a reinstall.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10 # 0.3.11 with --locked needs rustc 1.96
NEXTEST_VERSION=0.9.143
DENY_VERSION=0.20.2
# cargo-leptos runs whatever wasm-bindgen CLI is on PATH and never checks it: the CLI must be
# the version Cargo.toml pins for the crate.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
# Playwright drives Chromium over the DevTools protocol of the build it bundles; Debian's
# Chromium trails it by a few releases (156 against 1.65.1's 159 works here). A browser more
# than this many majors older misses protocol parts the tests use, so it is refused up front.
CHROMIUM_MAX_LAG=4

CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
TOOLS_TARGET=${PAIRWISE_TOOLS_TARGET:-$HOME/.cache/pairwise/tools}
export PATH="$CARGO_HOME/bin:$PWD/app/node_modules/.bin:$PATH"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf '%s\n' "$*" >&2; }

# cargo_install CRATE VERSION "COMMAND" MINUTES [cargo install flags...]
# Installs CRATE@VERSION unless `COMMAND --version` already reports VERSION.
cargo_install() {
  local crate=$1 version=$2 command=$3 minutes=$4; shift 4
  # shellcheck disable=SC2086 # COMMAND may be two words (`cargo leptos`)
  if $command --version 2>/dev/null | grep -qF "$version"; then return; fi
  say "installing $crate $version (about $minutes minutes, once per machine)"
  # Our RUSTFLAGS (`--cfg erase_components`) are for the app; a tool built with them would
  # rebuild for nothing. Unoptimised LTO keeps the installs short on two cores.
  RUSTFLAGS= CARGO_TARGET_DIR=$TOOLS_TARGET CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install "$crate" --version "$version" "$@"
}

apt_install() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return
  local cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  say "installing Debian packages: ${missing[*]} (under a minute)"
  if [ "$(id -u)" -eq 0 ]; then
    bash -c "$cmd"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n bash -c "$cmd"
  else
    say ""
    say "Pairwise needs the Debian packages ${missing[*]}, and this user can neither install"
    say "them (not root) nor use sudo without a password. Ask an administrator to run:"
    say ""
    say "    sudo bash -c '$cmd'"
    say ""
    say "then run the make command again."
    exit 1
  fi
}

npm_ci() { # DIR MARKER: npm ci in DIR unless MARKER exists
  [ -e "$1/$2" ] && [ "$1/$2" -nt "$1/package-lock.json" ] && return
  say "installing the npm packages of $1 (pinned by $1/package-lock.json, under a minute)"
  (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
}

build_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  cargo_install cargo-leptos "$CARGO_LEPTOS_VERSION" "cargo leptos" 20 --locked --features no_downloads
  # Without --locked: its lock file names a dependency version the registry no longer has.
  cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen 4
  npm_ci app node_modules/.package-lock.json
  # The server grades Python exercises with Debian's CPython (PAIRWISE_PYTHON, /usr/bin/python3).
  apt_install python3
}

# Major version of the Chromium Playwright bundles, and of the one we will drive.
playwright_chromium_major() {
  node -e 'const b=require("./end2end/node_modules/playwright-core/browsers.json").browsers.find(b=>b.name==="chromium");console.log(b.browserVersion.split(".")[0])'
}
chromium_major() { "$CHROMIUM" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9.]+' | head -n1 | cut -d. -f1; }

check_chromium() {
  local want have
  want=$(playwright_chromium_major)
  have=$(chromium_major || true)
  if [ -z "$have" ]; then
    say "no Chromium at $CHROMIUM (set CHROMIUM=/path/to/chromium to use another one)"; exit 1
  fi
  if [ "$have" -lt $((want - CHROMIUM_MAX_LAG)) ]; then
    say "Chromium $have at $CHROMIUM is too old for the pinned Playwright, which drives Chromium $want"
    say "(at most $CHROMIUM_MAX_LAG majors older works). Update it: apt-get update && apt-get install --only-upgrade chromium"
    say "or point CHROMIUM at a newer build."
    exit 1
  fi
}

test_tools() {
  cargo_install cargo-nextest "$NEXTEST_VERSION" "cargo nextest" 9 --locked
  cargo_install cargo-deny "$DENY_VERSION" "cargo deny" 3 --locked
  [ "$CHROMIUM" = /usr/bin/chromium ] && apt_install chromium
  # The reverse proxy the integration tests put in front of the server (tests/api/proxy.rs).
  apt_install nginx
  npm_ci end2end node_modules/.package-lock.json
  check_chromium
}

# doctor: one line per tool — what is there, what is pinned, and whether they agree.
row() { printf '%-22s %-24s %-14s %s\n' "$1" "$2" "$3" "$4"; }
version_of() { "$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1 || true; }
verdict() { # HAVE WANT
  if [ -z "$1" ]; then echo "missing: make installs it"; elif [ -z "$2" ] || [ "$1" = "$2" ]; then echo ok; else echo "not the pinned one: make reinstalls it"; fi
}
npm_version() { node -e "try{console.log(require('./$1/node_modules/$2/package.json').version)}catch{}" 2>/dev/null; }
npm_pin() { node -e "const p=require('./$1/package.json');console.log((p.devDependencies||{})['$2']||(p.dependencies||{})['$2']||'')"; }

doctor() {
  row tool found pinned status
  local v
  v=$(version_of rustc --version); row rustc "${v:-missing}" "$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)+" "$([ -n "$v" ] && echo ok || echo 'missing: install rustup')"
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then v=installed; else v=; fi
  row wasm32-target "${v:-missing}" "" "$(verdict "$v" "")"
  v=$(version_of cargo clippy --version); row clippy "${v:-missing}" "" "$(verdict "$v" "")"
  v=$(version_of rustfmt --version); row rustfmt "${v:-missing}" "" "$(verdict "$v" "")"
  v=$(version_of cargo leptos --version); row cargo-leptos "${v:-missing}" "$CARGO_LEPTOS_VERSION" "$(verdict "$v" "$CARGO_LEPTOS_VERSION")"
  v=$(version_of wasm-bindgen --version); row wasm-bindgen "${v:-missing}" "$WASM_BINDGEN_VERSION" "$(verdict "$v" "$WASM_BINDGEN_VERSION")"
  v=$(version_of cargo nextest --version); row cargo-nextest "${v:-missing}" "$NEXTEST_VERSION" "$(verdict "$v" "$NEXTEST_VERSION")"
  v=$(version_of cargo deny --version); row cargo-deny "${v:-missing}" "$DENY_VERSION" "$(verdict "$v" "$DENY_VERSION")"
  v=$(version_of node --version); row node "${v:-missing}" "" "$([ -n "$v" ] && echo ok || echo 'missing: install Node.js')"
  v=$(version_of npm --version); row npm "${v:-missing}" "" "$([ -n "$v" ] && echo ok || echo 'missing: install npm')"
  local pkg
  for pkg in binaryen esbuild; do
    v=$(npm_version app "$pkg"); row "$pkg (npm)" "${v:-missing}" "$(npm_pin app "$pkg")" "$(verdict "$v" "$(npm_pin app "$pkg")")"
  done
  for pkg in playwright-core axe-core; do
    v=$(npm_version end2end "$pkg"); row "$pkg (npm)" "${v:-missing}" "$(npm_pin end2end "$pkg")" "$(verdict "$v" "$(npm_pin end2end "$pkg")")"
  done
  local have want
  have=$(chromium_major || true)
  if [ -e end2end/node_modules/playwright-core/browsers.json ]; then want=$(playwright_chromium_major); else want=; fi
  if [ -z "$have" ]; then
    row chromium missing "${want:+>= $((want - CHROMIUM_MAX_LAG))}" "missing: make test installs it (Debian package)"
  elif [ -n "$want" ] && [ "$have" -lt $((want - CHROMIUM_MAX_LAG)) ]; then
    row chromium "$have" ">= $((want - CHROMIUM_MAX_LAG))" "too old for Playwright (drives $want): update it"
  else
    row chromium "$have" "${want:+>= $((want - CHROMIUM_MAX_LAG))}" ok
  fi
  v=$(/usr/sbin/nginx -v 2>&1 | grep -oE "[0-9]+\.[0-9.]+" | head -n1 || true)
  row nginx "${v:-missing}" any "$([ -n "$v" ] && echo ok || echo 'missing: make test installs it (Debian package)')"
  # Debian's wasm-opt (binaryen 108) silently breaks release builds; the npm one must win.
  v=$(command -v wasm-opt || true)
  case "$v" in
    "$PWD"/app/node_modules/.bin/wasm-opt) row "wasm-opt path" "app/node_modules/.bin" "npm binaryen" ok ;;
    "") row "wasm-opt path" missing "npm binaryen" "missing: make installs it" ;;
    *) row "wasm-opt path" "$v" "npm binaryen" "WRONG: Debian's wasm-opt breaks release builds" ;;
  esac
  printf '\ntarget directory: %s (%s free)\n' "${CARGO_TARGET_DIR:-$HOME/.cache/pairwise/target}" \
    "$(df -h --output=avail "${HOME}" | tail -n1 | tr -d ' ')"
  printf 'cargo tools in:   %s/bin\n' "$CARGO_HOME"
}

case "${1:-}" in
  build) build_tools ;;
  test) test_tools ;;
  apt) shift; apt_install "$@" ;;
  check-chromium) check_chromium ;;
  doctor) doctor ;;
  *) say "usage: $0 build|test|apt PKG...|check-chromium|doctor"; exit 2 ;;
esac
