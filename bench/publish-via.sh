#!/usr/bin/env bash
# Targeted publishing over HTTP, the TCP event-bus bridge and the clustered event bus, side by
# side against one warm hub (issue 15): the load tool's targeted scenario (N streams on N topics,
# RATE events/s in total, PAYLOAD-byte events) with --publish-via http, bridge and eventbus, in
# turn, ROUNDS times, so that each path's figure has an HTTP figure of the same round beside it.
#
#   bench/publish-via.sh OUT_DIR
#
# The hub is bench/herald.sh standalone-cluster (the all-in-one jar with --cluster, its TCP bridge
# on: the event-bus path needs a cluster to join, and the three paths then meet the same server);
# MODE=standalone starts it without --cluster and skips the event bus. Before the rounds, every
# path is published over for WARMUP seconds (not reported) so that none is measured cold.
# Results: OUT_DIR/<round>-<via>.json and one line per run on stdout, with the ratio to HTTP.
#
# Environment: N (1000), RATE (500), PAYLOAD (200), DURATION (10), WARMUP (10), ROUNDS (2),
# MODE (standalone-cluster), VIAS ("http bridge eventbus"); HERALD_JAVA_OPTS (see bench/herald.sh);
# LOAD_JAVA (java 17).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/publish-via.sh OUT_DIR}
N=${N:-1000} RATE=${RATE:-500} PAYLOAD=${PAYLOAD:-200} DURATION=${DURATION:-10} WARMUP=${WARMUP:-10} ROUNDS=${ROUNDS:-2}
MODE=${MODE:-standalone-cluster}
VIAS=${VIAS:-http bridge eventbus}
[ "$MODE" = standalone-cluster ] || VIAS=${VIAS/eventbus/}
LOAD_JAVA=${LOAD_JAVA:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
BASE=18480
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -f bench/target/herald-bench.jar ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 2; }
trap 'bench/herald.sh stop "$OUT/server" || true' EXIT

line=$(HERALD_MAX_SECONDS=1200 bench/herald.sh "$MODE" "$OUT/server" $BASE)
echo "$line" > "$OUT/server.info"
pid=$(sed -n 's/.*pids=\([0-9]*\).*/\1/p' <<<"$line")
args=(--target herald --sse-url http://127.0.0.1:$BASE --publish-url http://127.0.0.1:$((BASE + 1)) --server-pid "$pid"
  --bridge-url "$(sed -n 's/.*bridge=\([^ ]*\).*/\1/p' <<<"$line")" --scenario targeted --connections "$N"
  --rate "$RATE" --payload-bytes "$PAYLOAD" --warmup false)
if [ "$MODE" = standalone-cluster ]; then
  args+=(--cluster-name "$(sed -n 's/.*cluster=\([^ ]*\).*/\1/p' <<<"$line")"
    --cluster-members "$(sed -n 's/.*members=\([^ ]*\).*/\1/p' <<<"$line")" --cluster-port $((BASE + 40)))
fi
echo "herald $MODE ($(java -version 2>&1 | head -1)), pid $pid; load $(cut -d' ' -f1-3 /proc/loadavg)"

run() {  # NAME VIA SECONDS
  "$LOAD_JAVA" -jar bench/target/herald-bench.jar "${args[@]}" --publish-via "$2" --duration "$3" --warmup-seconds 2 \
    --topic-prefix "via-$1-$2" --label "herald targeted via $2 ($1)" --group "via-$1" --out "$OUT/$1-$2.json" \
    > "$OUT/$1-$2.log" 2>&1 || true
}

for via in $VIAS; do run warmup "$via" "$WARMUP"; done
for r in $(seq 1 "$ROUNDS"); do
  for via in $VIAS; do
    run "round$r" "$via" "$DURATION"
    jq -r --arg via "$via" --slurpfile http "$OUT/round$r-http.json" '"round '"$r"' \($via): server CPU \(.cpu.serverMicrosPerEvent) µs/event (x\(((.cpu.serverMicrosPerEvent / $http[0].cpu.serverMicrosPerEvent) * 100 | round) / 100) of HTTP), p50 \(.latencyMs.p50) ms, p99 \(.latencyMs.p99) ms (x\(((.latencyMs.p99 / $http[0].latencyMs.p99) * 100 | round) / 100)), published \(.events.published), failed \(.events.publishFailed), lost \(.events.lost), client \(.cpu.clientCoresBusy) cores, other processes \(.cpu.otherProcessesCoresBusy) cores"' "$OUT/round$r-$via.json" || echo "round $r $via: no result (see $OUT/round$r-$via.log)"
  done
done
