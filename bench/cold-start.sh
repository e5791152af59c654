#!/usr/bin/env bash
# The cold-start scenario (issue 15): start a fresh server, then measure targeted publishing from
# the moment it is ready (Herald: the first /ready 200, which bench/herald.sh waits for, polling
# every 100 ms), then keep the same load on and measure a warm window.
#
#   bench/cold-start.sh herald|herald-gateway|nchan OUT_DIR
#
# herald-gateway: a fresh gateway joining a warm cluster. It starts the cluster of
# bench/herald.sh (replay, notifier, two gateways), runs PREWARM seconds of the same load through
# the first gateway (it warms the notifier and replay nodes), then starts a third gateway JVM and
# measures from its first /ready: the streams on the new gateway, published through the
# notifier, the CPU of the new gateway's process only.
#
# Three load-tool runs, one after the other, against the same server process:
#   cold   the first COLD seconds of publishing, right after ready (1,000 streams connect first)
#   soak   SOAK more seconds of the same load (not a figure: it warms)
#   warm   WARM seconds: the warm figure
# Each run is the load tool's targeted scenario (N streams on N topics, RATE events/s in total,
# PAYLOAD-byte events, one publish request per event, keep-alive) without its server warm-up.
# Each is a fresh load-tool JVM, which first warms its own code for CLIENT_WARMUP seconds (5)
# against an echo hub inside it (--client-warmup-seconds; the server sees none of it): without
# that, the tool's own JIT made the first second's p99 of every window 29 to 82 ms, Nchan's and
# a warm Herald's alike.
# Results: OUT_DIR/{cold,soak,warm}.json and one summary line per window on stdout.
#
# Environment: N (1000), RATE (500), PAYLOAD (200), COLD (10), SOAK (30), WARM (10), CLIENT_WARMUP (5, 0: none);
# VIA (http): how the events are published, http, bridge (the notifier's TCP event-bus bridge) or
# eventbus (the load tool joins the hub's cluster: the hub then starts as bench/herald.sh
# standalone-cluster); CLUSTERED=1 starts the clustered hub for http and bridge too, so that the
# three paths meet the same server;
# SERVER_JAVA: the java binary the server runs on (default: java on PATH); HERALD_JAVA_OPTS
# (see bench/herald.sh); FRESH_JAVA_OPTS: herald-gateway only, the flags of the fresh gateway
# (default HERALD_JAVA_OPTS), e.g. its AOT cache: "... -XX:AOTCache=gateway.aot"; any HERALD_* variable, e.g. HERALD_ADMIN_WARM_UP_MILLIS=0 for a server
# without its warm-up. The load tool always runs on LOAD_JAVA (default java 17) so that only
# the server changes between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: bench/cold-start.sh herald|herald-gateway|nchan OUT_DIR}
OUT=${2:?usage: bench/cold-start.sh herald|herald-gateway|nchan OUT_DIR}
PREWARM=${PREWARM:-30}
N=${N:-1000} RATE=${RATE:-500} PAYLOAD=${PAYLOAD:-200} COLD=${COLD:-10} SOAK=${SOAK:-30} WARM=${WARM:-10} VIA=${VIA:-http}
CLIENT_WARMUP=${CLIENT_WARMUP:-5}
[ "$target" != nchan ] || [ "$VIA" = http ] || { echo "VIA=$VIA: Nchan is published over HTTP only" >&2; exit 2; }
[ "$target" != herald-gateway ] || [ "$VIA" = http ] || { echo "VIA=$VIA: herald-gateway publishes over HTTP" >&2; exit 2; }
LOAD_JAVA=${LOAD_JAVA:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -f bench/target/herald-bench.jar ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 2; }

COLD_LOAD=
cleanup() {
  [ -z "$COLD_LOAD" ] || kill "$COLD_LOAD" 2>/dev/null || true
  if [ "$target" = nchan ]; then bench/nchan.sh stop "$OUT/server" || true; else bench/herald.sh stop "$OUT/server" || true; fi
}
trap cleanup EXIT

# load WINDOW SECONDS PIDS: one load-tool run (PIDS "@FILE": it waits for the pid in FILE).
load() {
  "$LOAD_JAVA" -jar bench/target/herald-bench.jar "${args[@]}" --server-pid "$3" --scenario targeted --connections "$N" --rate "$RATE" \
    --payload-bytes "$PAYLOAD" --duration "$2" --warmup false --warmup-seconds 0 --client-warmup-seconds "$CLIENT_WARMUP" --topic-prefix "cold-$1" \
    --label "$target $1$([ "$VIA" = http ] || echo " via $VIA")" --out "$OUT/$1.json" > "$OUT/$1.log" 2>&1 || true
}
# The cold window's load tool starts first and warms itself up (CLIENT_WARMUP) while the server
# starts; once the server is ready its pid goes to OUT/cold.pid and the tool connects at once.
start_cold() {
  rm -f "$OUT/cold.pid"
  load cold "$COLD" "@$OUT/cold.pid" &
  COLD_LOAD=$!
}
server_ready() {  # PID: the cold window's load tool may start
  echo "$1" > "$OUT/cold.pid.tmp" && mv "$OUT/cold.pid.tmp" "$OUT/cold.pid"
}

if [ "$target" = herald ]; then
  if [ -n "${SERVER_JAVA:-}" ]; then export PATH="$(dirname "$SERVER_JAVA"):$PATH"; fi
  mode=standalone
  if [ "$VIA" = eventbus ] || [ -n "${CLUSTERED:-}" ]; then mode=standalone-cluster; fi
  # bench/herald.sh's ports and cluster for PORT_BASE 18380 (it prints them too).
  args=(--target herald --sse-url http://127.0.0.1:18380 --publish-url http://127.0.0.1:18381
    --publish-via "$VIA" --bridge-url 127.0.0.1:18385)
  if [ "$mode" = standalone-cluster ]; then
    args+=(--cluster-name "${HERALD_CLUSTER_NAME:-herald-bench}" --cluster-members "${HERALD_CLUSTER_MEMBERS:-127.0.0.1:18410}" --cluster-port 18420)
  fi
  start_cold
  t0=$(date +%s%N)
  line=$(HERALD_MAX_SECONDS=600 bench/herald.sh $mode "$OUT/server" 18380)
  t1=$(date +%s%N)
  pid=$(sed -n 's/.*pids=\([0-9]*\).*/\1/p' <<<"$line")
  echo "herald $mode, publish via $VIA ($(java -version 2>&1 | head -1)) ready $(( (t1 - t0) / 1000000 )) ms after start; pid $pid"
elif [ "$target" = herald-gateway ]; then
  if [ -n "${SERVER_JAVA:-}" ]; then export PATH="$(dirname "$SERVER_JAVA"):$PATH"; fi
  HERALD_MAX_SECONDS=900 bench/herald.sh cluster "$OUT/server" 18380 > "$OUT/cluster.txt"
  echo "cluster ready ($(java -version 2>&1 | head -1)); $PREWARM s of the load through the first gateway"
  "$LOAD_JAVA" -jar bench/target/herald-bench.jar --target herald --sse-url http://127.0.0.1:18380 --publish-url http://127.0.0.1:18381 \
    --scenario targeted --connections "$N" --rate "$RATE" --payload-bytes "$PAYLOAD" --duration "$PREWARM" --warmup false \
    --warmup-seconds 0 --topic-prefix prewarm --out "$OUT/prewarm.json" > "$OUT/prewarm.log" 2>&1 || true
  args=(--target herald --sse-url http://127.0.0.1:18384 --publish-url http://127.0.0.1:18381)
  start_cold
  t0=$(date +%s%N)
  line=$(env HERALD_MAX_SECONDS=900 ${FRESH_JAVA_OPTS:+"HERALD_JAVA_OPTS=$FRESH_JAVA_OPTS"} bench/herald.sh gateway "$OUT/server" 18380)
  t1=$(date +%s%N)
  pid=$(sed -n 's/.*pids=\([0-9]*\).*/\1/p' <<<"$line")
  echo "fresh gateway ready $(( (t1 - t0) / 1000000 )) ms after start; pid $pid"
else
  args=(--target nchan --sse-url http://127.0.0.1:18390)
  start_cold
  t0=$(date +%s%N)
  pid=$(NCHAN_MAX_SECONDS=600 bench/nchan.sh start "$OUT/server" 18390)
  t1=$(date +%s%N)
  echo "nchan ready $(( (t1 - t0) / 1000000 )) ms after start; master pid $pid"
fi

# CPU seconds of the server's threads by kind (JIT compilers, GC, event loops, other), from /proc,
# then the JIT's own count from jstat (the JVM's total compile time and compilations): the
# /proc figure loses the CPU of compiler threads that have exited (the JVM starts and stops them
# as its queue grows and shrinks), so it can read lower after a window than before it.
threads() {
  [ "$target" != nchan ] || return 0
  for t in /proc/"$pid"/task/*; do
    awk '{ sub(/^[0-9]+ \(/, ""); n = $0; sub(/\).*/, "", n); split($0, f, ") "); split(f[2], v, " "); print n "\t" (v[12] + v[13]) }' "$t/stat" 2>/dev/null || true
  done | awk -F'\t' -v hz="$(getconf CLK_TCK)" '{ k = ($1 ~ /Compiler/) ? "jit" : ($1 ~ /GC|G1|VM Thread/) ? "gc" : ($1 ~ /eventloo/) ? "eventloops" : "other"; s[k] += $2 }
    END { for (k in s) printf "%s=%.2f ", k, s[k] / hz }'
  { jstat -compiler "$pid" 2>/dev/null || true; } | awk 'NR == 2 { printf "compile-time=%ss compilations=%s", $4, $1 }'
  echo
}

for window in cold soak warm; do
  before=$(threads || true)
  case $window in
    cold) server_ready "$pid"; wait "$COLD_LOAD" || true; COLD_LOAD= ;;
    soak) load soak "$SOAK" "$pid" ;;
    warm) load warm "$WARM" "$pid" ;;
  esac
  if [ "$target" != nchan ]; then echo "$window server thread CPU s: before: $before after: $(threads || true)"; fi
  jq -r --arg w "$window" '"\($w) (\(.params.publishVia)): p50 \(.latencyMs.p50) ms, p99 \(.latencyMs.p99) ms, max \(.latencyMs.max) ms, server CPU \(.cpu.serverMicrosPerDelivery) µs/event, lost \(.events.lost), rss/stream \(.memory.rssPerConnectionBytes // "?") B, other processes \(.cpu.otherProcessesCoresBusy) cores"' "$OUT/$window.json"
done
