# The browser code editor: CodeMirror 6 (exact versions pinned in app/package.json) bundled by
# esbuild into one self-contained, minified ES module that the WASM front end loads lazily with
# `import('/editor/codemirror.js')`. The output is generated and gitignored (/public/editor/);
# cargo-leptos copies public/ into the site, so build this before `cargo leptos build`, e.g.
#   include app/editor/editor.mk
#   build: $(EDITOR_BUNDLE)
# Runs from the repository root; the Makefile puts app/node_modules/.bin on PATH.

EDITOR_BUNDLE := public/editor/codemirror.js
EDITOR_SOURCES := $(wildcard app/editor/src/*.js)

# node_modules as the lock file says: npm ci rewrites this hidden lock file, so a changed
# app/package-lock.json (e.g. a CodeMirror bump) reinstalls before the bundle is rebuilt.
app/node_modules/.package-lock.json: app/package-lock.json
	cd app && npm ci --no-audit --no-fund

$(EDITOR_BUNDLE): $(EDITOR_SOURCES) app/node_modules/.package-lock.json
	cd app && npx --no-install esbuild editor/src/index.js --bundle --format=esm --minify \
	  --target=es2020 --legal-comments=none --log-level=warning --outfile=../$(EDITOR_BUNDLE)
	@if grep -qE '(from|import)\s*\(?"@' $(EDITOR_BUNDLE); then \
	  echo "$(EDITOR_BUNDLE) still has bare imports"; rm -f $(EDITOR_BUNDLE); exit 1; fi

.PHONY: editor
## make editor: build the code editor bundle only.
editor: $(EDITOR_BUNDLE)
