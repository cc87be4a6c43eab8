#!/usr/bin/env bash
# The heavy WASM chunks (see app/src/ui/islands.rs) beside the small one that
# `cargo leptos build` makes (pkg/pairwise.{js,wasm}).
#   .ci/chunks.sh --release  after `cargo leptos build --release`: builds each chunk the way
#                            cargo-leptos builds its own (the `hydrate` crate for wasm32 with
#                            one more feature, wasm-bindgen, wasm-opt -Oz)
#   .ci/chunks.sh            after the debug `cargo leptos build`, which the Makefile asks
#                            for with every chunk's islands: copies that one module under
#                            each chunk's name, so the test loop compiles the app for the
#                            browser once instead of four times
set -euo pipefail
cd "$(dirname "$0")/.."

release=false
[ "${1:-}" = "--release" ] && release=true
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/pairwise/target}
# cargo-leptos keeps its browser build apart from the server's; using the same directory
# (and, in debug, the same flags) shares every dependency it compiled.
FRONT=$TARGET/front
SITE=${LEPTOS_SITE_ROOT:-target/site}
PKG=$SITE/pkg
mkdir -p "$PKG"

if ! $release; then
  for chunk in exercise room author forum; do
    cp "$PKG/pairwise.js" "$PKG/$chunk.js"
    cp "$PKG/pairwise.wasm" "$PKG/$chunk.wasm"
  done
  exit 0
fi
profile=wasm-release
export RUSTFLAGS=""

for chunk in exercise room author forum; do
  CARGO_TARGET_DIR=$FRONT cargo build --package hydrate --lib --target wasm32-unknown-unknown \
    --no-default-features --features "hydrate,chunk-$chunk" --profile "$profile"
  wasm="$FRONT/wasm32-unknown-unknown/$profile/hydrate.wasm"
  wasm-bindgen --target web --no-typescript --out-dir "$PKG" --out-name "$chunk" "$wasm"
  mv "$PKG/${chunk}_bg.wasm" "$PKG/$chunk.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types "$PKG/$chunk.wasm" -o "$PKG/$chunk.wasm"
  printf 'chunk %-9s %8d bytes\n' "$chunk" "$(stat -c %s "$PKG/$chunk.wasm")"
done
