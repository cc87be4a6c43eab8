# The browser code editor: CodeMirror 6 (exact versions pinned in app/package.json) bundled by
# esbuild into minified ES modules that the WASM front end loads lazily with
# `import('/editor/codemirror.js')`: the editor itself, plus chunks it imports only when
# needed (each language's grammar, the shared editor's Yjs code), named by esbuild with a hash
# of their content. The output is generated and gitignored (/public/editor/); cargo-leptos
# copies public/ into the site, so build this before `cargo leptos build`, e.g.
#   include app/editor/editor.mk
#   build: $(EDITOR_BUNDLE)
# Runs from the repository root; the Makefile puts app/node_modules/.bin on PATH.

EDITOR_BUNDLE := public/editor/codemirror.js
EDITOR_SOURCES := $(wildcard app/editor/src/*.js app/editor/src/lang/*.js)

# node_modules as the lock file says: npm ci rewrites this hidden lock file, so a changed
# app/package-lock.json (e.g. a CodeMirror bump) reinstalls before the bundle is rebuilt.
app/node_modules/.package-lock.json: app/package-lock.json
	cd app && npm ci --no-audit --no-fund

# Chunks of an earlier build are removed first (here and in the copy cargo-leptos made), so
# the site holds only what this build's modules import.
$(EDITOR_BUNDLE): $(EDITOR_SOURCES) app/node_modules/.package-lock.json
	rm -rf public/editor $(or $(LEPTOS_SITE_ROOT),target/site)/editor
	cd app && npx --no-install esbuild codemirror=editor/src/index.js --bundle --splitting \
	  --format=esm --minify --target=es2020 --legal-comments=none --log-level=warning \
	  --outdir=../public/editor --chunk-names=chunks/[name]-[hash]
	@if grep -rqE '(from|import)\s*\(?"@' public/editor; then \
	  echo "public/editor still has bare imports"; rm -rf public/editor; exit 1; fi

.PHONY: editor
## make editor: build the code editor and its chunks only.
editor: $(EDITOR_BUNDLE)
