#!/usr/bin/env bash
# Runs a command with a SurrealDB server of its own: `surreal start … memory` on a free port,
# its URL in PAIRWISE_TEST_DATABASE_URL (root/root), stopped when the command ends.
# `make unit` uses it to run a chosen set of integration tests on a database server.
set -euo pipefail
surreal="${PAIRWISE_SURREAL_BIN:-$CARGO_TARGET_DIR/surreal-test/surreal}"
py=/usr/bin/python3 # Debian's, which `make` installs for the Python grader
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
healthy() { "$py" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; }
"$surreal" start --bind "127.0.0.1:$port" --user root --pass root --no-banner --log warn memory &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  if healthy; then break; fi
  sleep 0.05
done
healthy || { echo "surreal did not start on $port" >&2; exit 1; }
PAIRWISE_TEST_DATABASE_URL="ws://127.0.0.1:$port" "$@"
