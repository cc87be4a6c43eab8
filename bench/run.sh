#!/usr/bin/env bash
# Pairwise benchmarks. Run with `make bench` (it makes the release build first), or directly
# after `make release`. Prints every figure; loads only 127.0.0.1. Fails when the server logged
# a panic during the run.
#
# What it measures (wrk -t2 -c64, 15 s each after a 3 s warm-up, wrk on the same two cores as
# the server, so figures are for the pair):
#   - the home page signed out (as a first visit gets it, kept by the page cache, and rendered
#     for a request with a cookie), and one signed-in server function (`current_user`);
#   - the catalog with 1,000 published courses (seeded through the API): a mix of 60 different
#     searches, filters, sorts and pages (so no one cached page can answer), and the catalog
#     without a query (newest first);
#   - a lesson page;
#   - bytes a phone downloads per page (bench/bytes.mjs) and Lighthouse mobile on six pages
#     (bench/lighthouse.mjs, npm lighthouse with Debian's Chromium);
#   - grading, browser Run, chat fan-out, call set-up, matching, bookings, pair programming,
#     recommendations and the dashboard over 10,000 learners' history (see bench/README.md);
#   - the forum: a thread page with 500 answers and a search mix over 100,501 posts.
# `BENCH_ONLY` picks sections (see `want` below) when only some figures changed.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/pairwise/target}
BIN=$TARGET/release/pairwise
SITE=target/site
PORT=${BENCH_PORT:-3200}
BASE=http://127.0.0.1:$PORT
DURATION=${BENCH_DURATION:-15s}

.ci/tools.sh apt wrk brotli
[ -x "$BIN" ] || { echo "no release binary at $BIN: run 'make release' first"; exit 1; }
[ -d end2end/node_modules/playwright-core ] || (cd end2end && npm ci --no-audit --no-fund)
[ -d bench/node_modules/lighthouse ] || (cd bench && npm ci --no-audit --no-fund)

DATA=$(mktemp -d)
LOG=$(mktemp --suffix .log)
COOKIES=$(mktemp)
LUA=$(mktemp --suffix .lua)
MIX=$(mktemp --suffix .lua)
trap 'kill $SERVER $SINK 2>/dev/null && wait $SERVER 2>/dev/null; rm -rf "$DATA" "$COOKIES" "$LUA" "$MIX"' EXIT
# A mailbox for the sign-ups that must confirm their address (bench/bookings.mjs).
node end2end/mail-sink.mjs $((PORT + 5)) $((PORT + 6)) &
SINK=$!
export PAIRWISE_MAILBOX=http://127.0.0.1:$((PORT + 6))
# 127.0.0.1 is trusted as a proxy so that bench/attacks.mjs can play 50 addresses at once.
PAIRWISE_ADDR=127.0.0.1:$PORT PAIRWISE_DATA_DIR=$DATA PAIRWISE_DEMO=true PAIRWISE_SITE_ROOT=$SITE \
  PAIRWISE_SMTP_URL=smtp://127.0.0.1:$((PORT + 5)) PAIRWISE_MAIL_POLL=1s \
  PAIRWISE_TRUSTED_PROXIES=127.0.0.1/32 PAIRWISE_LOG=warn PAIRWISE_WRITE_RATE=100000000 PAIRWISE_WRITE_BURST=100000000 PAIRWISE_READ_RATE=100000000 PAIRWISE_READ_BURST=100000000 "$BIN" serve >"$LOG" 2>&1 &
SERVER=$!
for _ in $(seq 1 200); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.1; done

curl -fs -c "$COOKIES" -o /dev/null -H "Origin: $BASE" -H 'Accept: application/json' \
  --data-urlencode 'email=learner@pairwise.test' --data-urlencode 'password=pairwise-learner-demo' \
  "$BASE/api/sign_in"
SESSION=$(awk '$6 == "pw_session" { print $7 }' "$COOKIES")
[ -n "$SESSION" ] || { echo "could not sign in the demo learner"; exit 1; }

cat >"$LUA" <<LUAEOF
wrk.method = "POST"
wrk.headers["Origin"] = "$BASE"
wrk.headers["Accept"] = "application/json"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "pw_session=$SESSION"
LUAEOF

# BENCH_ONLY="pages history" runs only those sections (pages, ship, exercises, rooms,
# mentoring, pairing, history: the dashboard, the forum and room replay); all by default.
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

# Prints "requests/s p50 p99" from wrk --latency output.
figures() {
  awk '/Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /Non-2xx/ { bad = $NF }
       END { printf "%s req/s, p50 %s, p99 %s%s\n", rps, p50, p99, (bad ? ", non-2xx " bad : "") }'
}

run() { # name, extra wrk args...
  local name=$1; shift
  wrk -t2 -c64 -d3s "$@" >/dev/null 2>&1 || true
  printf '%-38s %s\n' "$name" "$(wrk -t2 -c64 -d"$DURATION" --latency "$@" | figures)"
}

echo "Pairwise benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, 64 connections, $DURATION"
if want pages; then
run "home page (GET /)" "$BASE/"
# Any cookie skips the page kept for first visits (server/src/page_cache.rs): the renderer's cost.
run "home page rendered (a cookie, no cache)" -H "Cookie: bench=1" "$BASE/"
run "server fn (POST /api/current_user)" -s "$LUA" "$BASE/api/current_user"

# 1,000 published courses, created and published through the API as the demo admin.
ADMIN_COOKIES=$(mktemp)
curl -fs -c "$ADMIN_COOKIES" -o /dev/null -H "Origin: $BASE" -H 'Accept: application/json' \
  --data-urlencode 'email=admin@pairwise.test' --data-urlencode 'password=pairwise-admin-demo' \
  "$BASE/api/sign_in"
topics=(async rust javascript git testing web databases security python go)
levels=(beginner intermediate advanced)
seed_start=$(date +%s)
for i in $(seq 1 1000); do
  t1=${topics[$((i % 10))]}; t2=${topics[$(((i / 10) % 10))]}; lvl=${levels[$((i % 3))]}
  curl -fs -b "$ADMIN_COOKIES" -o /dev/null -H "Origin: $BASE" -H 'Accept: application/json' \
    --data-urlencode "slug=bench-$i" --data-urlencode "title=${t1^} and ${t2} in practice, part $i" \
    --data-urlencode "summary=Hands-on ${t1} for ${t2} projects: exercises, reviews and a final project." \
    --data-urlencode "level=$lvl" --data-urlencode "language=en" --data-urlencode "tags=$t1, $t2" \
    "$BASE/api/create_course"
  curl -fs -b "$ADMIN_COOKIES" -o /dev/null -H "Origin: $BASE" -H 'Accept: application/json' \
    --data-urlencode "slug=bench-$i" --data-urlencode "published=true" "$BASE/api/publish_course"
done
printf '%-34s %s s\n' "seeding 1,000 courses (2,000 calls)" $(($(date +%s) - seed_start))
rm -f "$ADMIN_COOKIES"
# The catalog as visitors use it: 60 different requests (words, filters, sorts, pages), one
# picked at random per request, so no single cached page could answer them all.
{
  echo 'local paths = {'
  words=(async rust "async+rust" javascript git testing "web+security" databases python "go+testing" "rust+in+practice" "hands-on" reviews "final+project" "git+practice")
  filters=("" "&level=beginner" "&level=advanced" "&tag=rust" "&tag=web&level=intermediate" "&sort=newest" "&sort=enrolled" "&page=2")
  n=0
  for w in "${words[@]}"; do
    for f in "${filters[@]:0:4}"; do
      echo "  \"/courses?q=$w$f\","; n=$((n + 1))
    done
  done
  echo '}'
  echo 'request = function() return wrk.format("GET", paths[math.random(#paths)]) end'
} >"$MIX"
printf '%-38s %s\n' "catalog request mix" "$(grep -c '^  "' "$MIX") different searches"
run "catalog search mix (1,000 courses)" -s "$MIX" "$BASE/"
run "catalog, no query (GET /courses)" "$BASE/courses"
run "catalog, no query, rendered (a cookie)" -H "Cookie: bench=1" "$BASE/courses"
LESSON=$(curl -fs "$BASE/courses/javascript-foundations" | grep -o '/lessons/[0-9a-f]*' | head -n1)
[ -n "$LESSON" ] || { echo "no lesson link on the demo course page"; exit 1; }
run "lesson page (GET $LESSON)" "$BASE$LESSON"

fi
if want ship; then
# What ships: each WASM chunk and its JS as sent (brotli, precompressed by the build).
for chunk in pairwise exercise room author forum; do
  wasm=$SITE/pkg/$chunk.wasm js=$SITE/pkg/$chunk.js
  [ -f "$wasm" ] || continue
  printf '%-38s wasm raw %d KB, brotli %d KB; js brotli %d KB\n' "WASM chunk $chunk (release)" \
    $(($(stat -c %s "$wasm") / 1024)) $(($(stat -c %s "$wasm.br") / 1024)) $(($(stat -c %s "$js.br") / 1024))
done
# The code editor: its entry and the chunks esbuild split off (shared code, one per grammar,
# the shared editor's Yjs code); a page fetches the entry's static imports plus what it uses.
for js in "$SITE"/editor/codemirror.js "$SITE"/editor/chunks/*.js; do
  [ -f "$js" ] || continue
  printf '%-38s brotli %d KB\n' "editor module ${js#"$SITE"/editor/}" $(($(brotli -c -q 11 "$js" | wc -c) / 1024))
done
node bench/bytes.mjs "$BASE"
node bench/lighthouse.mjs "$BASE"

fi
if want exercises; then
# Exercises: server grading of a 20-test exercise, then browser Run timings (Chromium).
node bench/grading.mjs "$BASE"
node bench/grading.mjs "$BASE" python
# Honest users while others attack: grading under an endless-loop flood, sign-in under brute force.
node bench/attacks.mjs "$BASE"
command -v chromium >/dev/null && node bench/run-timing.mjs "$BASE"
command -v chromium >/dev/null && node bench/run-timing.mjs "$BASE" python

fi
if want rooms; then
# Live rooms: chat fan-out over 1,000 room sockets (with the server's memory), then join →
# first remote video frame in Chromium with a fake camera.
node bench/chat-fanout.mjs "$BASE" "$SERVER" 1000
node bench/chat-fanout.mjs "$BASE" "$SERVER" 100
command -v chromium >/dev/null && node bench/call-setup.mjs "$BASE" 20

fi
if want mentoring; then
# Mentoring: ranking one request against 10,000 mentors (in-process, the pure function), then
# bookings per second under contention through the server.
env -u RUSTFLAGS CARGO_TARGET_DIR=$TARGET cargo run --quiet --release -p app --example rank_mentors
node bench/bookings.mjs "$BASE"

fi
if want pairing; then
# Pair programming: keystroke → rendered in the other browser through the server (Chromium,
# two contexts), then the server's apply path against bare yrs and memory per open document
# (in-process, a seeded editing trace).
command -v chromium >/dev/null && node bench/pair-latency.mjs "$BASE" 300
env -u RUSTFLAGS CARGO_TARGET_DIR=$TARGET cargo run --quiet --release -p app --features ssr --example pair_apply

fi
if want history; then
# Progress: recommendations evaluated offline (precision@5/recall@5 against popularity) and a
# full recomputation for 10,000 learners × 500 courses (in-process), then the dashboard page
# at 64 connections on a second server whose database holds 10,000 learners' history
# (`pairwise seed-history`, seeded while that server is stopped).
env -u RUSTFLAGS CARGO_TARGET_DIR=$TARGET cargo run --quiet --release -p app --example recommend_eval
HISTORY=$(mktemp -d)
SEEDPORT=$((PORT + 1))
PAIRWISE_DATA_DIR=$HISTORY PAIRWISE_LOG=warn "$BIN" seed-history --learners 10000 --courses 500
# The largest room allowed: a full shared-code log (20,000 keystrokes) and 500 older ones
# folded into its base; bench/replay.mjs times its replay below.
ROOM=$(PAIRWISE_DATA_DIR=$HISTORY PAIRWISE_LOG=warn "$BIN" seed-room --steps 20500 | sed -n 1p)
# And the heaviest: 200 pastes of 200 KB (each replacing the whole text), the log folded to
# its 16 MiB byte cap.
PASTES=$(PAIRWISE_DATA_DIR=$HISTORY PAIRWISE_LOG=warn "$BIN" seed-room --steps 200 --paste-bytes 200000 | sed -n 1p)
# The forum: 10,000 questions of 9 answers and one of 500 (100,501 posts).
BIG=$(PAIRWISE_DATA_DIR=$HISTORY PAIRWISE_LOG=warn "$BIN" seed-forum --threads 10000 --replies 9 --big 500 | sed -n 1p)
PAIRWISE_ADDR=127.0.0.1:$SEEDPORT PAIRWISE_DATA_DIR=$HISTORY PAIRWISE_SITE_ROOT=$SITE \
  PAIRWISE_LOG=warn PAIRWISE_WRITE_RATE=100000000 PAIRWISE_WRITE_BURST=100000000 PAIRWISE_READ_RATE=100000000 PAIRWISE_READ_BURST=100000000 "$BIN" serve >>"$LOG" 2>&1 &
HISTORY_SERVER=$!
for _ in $(seq 1 1800); do curl -fs "http://127.0.0.1:$SEEDPORT/readyz" >/dev/null && break; sleep 0.1; done
node bench/dashboard.mjs "http://127.0.0.1:$SEEDPORT" 15 64
run "forum thread with 500 answers" "http://127.0.0.1:$SEEDPORT/forum/threads/$BIG"
# Forum search over the 100,501 posts: 50 different searches (words, filters, pages).
{
  echo 'local paths = {'
  for w in async borrow+checker "lifetime+closure" database "mutex+thread" "git+rebase" promise "sort+array" 数据库 "panic+error"; do
    for f in "" "&solved=yes" "&solved=no" "&tag=trait" "&page=1"; do
      echo "  \"/forum/search?q=$w$f\","
    done
  done
  echo '}'
  echo 'request = function() return wrk.format("GET", paths[math.random(#paths)]) end'
} >"$MIX"
run "forum search mix (100,501 posts)" -s "$MIX" "http://127.0.0.1:$SEEDPORT/"
node bench/replay.mjs "http://127.0.0.1:$SEEDPORT" "$ROOM" "the largest room"
node bench/replay.mjs "http://127.0.0.1:$SEEDPORT" "$PASTES" "the heaviest room (200 KB pastes)"
kill $HISTORY_SERVER && wait $HISTORY_SERVER 2>/dev/null || true
rm -rf "$HISTORY"

fi
# A panic anywhere during the run fails the benchmark (it would be a 500 for somebody).
if grep -n 'panicked' "$LOG"; then
  echo "the server panicked during the benchmark (log above: $LOG)"
  exit 1
fi
echo "no panic in the server log"
