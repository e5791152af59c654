#!/usr/bin/env bash
# Runs the benchmark scenarios against Herald and nginx+Nchan in the same run, one server at a
# time on this machine's loopback, and writes JSON results plus report.html (self-contained).
#
#   bench/run.sh [SCENARIO...]     scenarios: broadcast targeted storm saturation cluster (default: all)
#
# Sizes (environment): N=10000 (broadcast streams) RATE=10 (events/s) DURATION=20 (s)
#   TARGETED_N=10000 TARGETED_RATE=1000   STORM_N=10000 STORM_TOPICS=1000 MISSED=5 STORM_CONCURRENCY=STORM_N (reconnects in flight)
#   STORM_ROUNDS=2 (the first round meets a cold JIT; the last is reported)   WARMUP=10 (s of publishing before a broadcast is measured)
#   SAT_N=1000 SAT_START=50 SAT_FACTOR=2 SAT_STEPS=8 SAT_P99_MS=100   SOURCE_IPS=8
#   OUT=bench/results/<UTC time>   NCHAN=auto|off
# Build first: mvn -B -q install -DskipTests. Every process started here stops at the end
# (and by itself after an hour whatever happens).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}; RATE=${RATE:-10}; DURATION=${DURATION:-20}
TARGETED_N=${TARGETED_N:-10000}; TARGETED_RATE=${TARGETED_RATE:-1000}
STORM_N=${STORM_N:-10000}; STORM_TOPICS=${STORM_TOPICS:-1000}; MISSED=${MISSED:-5}
SAT_N=${SAT_N:-1000}; SAT_START=${SAT_START:-50}; SAT_FACTOR=${SAT_FACTOR:-2}; SAT_STEPS=${SAT_STEPS:-8}; SAT_P99_MS=${SAT_P99_MS:-100}
SOURCE_IPS=${SOURCE_IPS:-8}
OUT=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
JAR=bench/target/herald-bench.jar
SCENARIOS=${*:-broadcast targeted storm saturation cluster}
[ -f "$JAR" ] && [ -f standalone/target/herald.jar ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 2; }
mkdir -p "$OUT"
RUN=$(mktemp -d /tmp/herald-bench.XXXXXX)
HAVE_NCHAN=0
if [ "${NCHAN:-auto}" = off ]; then echo "NCHAN=off: Herald only"
elif bench/nchan.sh available; then HAVE_NCHAN=1
else echo "nginx+nchan not installed: Herald only (apt-get install -y nginx-light libnginx-mod-nchan)"; fi

cleanup() {
  bench/herald.sh stop "$RUN/herald" 2>/dev/null || true
  bench/herald.sh stop "$RUN/cluster" 2>/dev/null || true
  bench/nchan.sh stop "$RUN/nchan" 2>/dev/null || true
}
trap cleanup EXIT

load() { java -Xms1g -Xmx4g -jar "$JAR" --source-ips "$SOURCE_IPS" "$@" || true; }

# both SCENARIO ARGS...: the scenario against Herald (fresh JVM) then Nchan (fresh nginx)
both() {
  local name=$1; shift
  bench/herald.sh standalone "$RUN/herald" 18080 > "$RUN/herald.info"
  load --target herald --sse-url http://127.0.0.1:18080 --publish-url http://127.0.0.1:18081 \
    --server-pid "$(paste -sd, "$RUN/herald/pids")" --label "herald" --group "$name" --out "$OUT/$name-herald.json" "$@"
  bench/herald.sh stop "$RUN/herald"
  if [ $HAVE_NCHAN = 1 ]; then
    local pid
    pid=$(bench/nchan.sh start "$RUN/nchan" 18190)
    load --target nchan --sse-url http://127.0.0.1:18190 --server-pid "$pid" --label "nchan" --group "$name" \
      --out "$OUT/$name-nchan.json" "$@"
    bench/nchan.sh stop "$RUN/nchan"
  fi
}

for s in $SCENARIOS; do
  echo "== $s"
  case $s in
    broadcast) both "broadcast-${N}x${RATE}" --scenario broadcast --connections "$N" --rate "$RATE" --duration "$DURATION" --warmup-seconds "${WARMUP:-10}" ;;
    targeted) both "targeted-${TARGETED_N}" --scenario targeted --connections "$TARGETED_N" --rate "$TARGETED_RATE" --duration "$DURATION" ;;
    storm) both "storm-${STORM_N}-c${STORM_CONCURRENCY:-$STORM_N}" --scenario storm --connections "$STORM_N" --topics "$STORM_TOPICS" --missed "$MISSED" \
      --storm-concurrency "${STORM_CONCURRENCY:-$STORM_N}" --storm-rounds "${STORM_ROUNDS:-2}" ;;
    saturation) both "saturation-${SAT_N}" --scenario saturation --connections "$SAT_N" --start-rate "$SAT_START" \
      --rate-factor "$SAT_FACTOR" --max-steps "$SAT_STEPS" --p99-limit-ms "$SAT_P99_MS" ;;
    cluster)
      info=$(bench/herald.sh cluster "$RUN/cluster" 18080)
      gw=$(echo "$info" | sed 's/.*gateways=\([^ ]*\).*/\1/')
      gpids=$(echo "$info" | sed 's/.*gatewaypids=\([^ ]*\).*/\1/')
      load --target herald --scenario broadcast --sse-url "$gw" --publish-url http://127.0.0.1:18081 \
        --server-pid "$gpids" --label "herald 2 gateways (gateway JVMs measured)" --group "broadcast-${N}x${RATE}" \
        --connections "$N" --rate "$RATE" --duration "$DURATION" --out "$OUT/broadcast-${N}x${RATE}-herald-cluster.json"
      bench/herald.sh stop "$RUN/cluster"
      ;;
    *) echo "unknown scenario $s" >&2 ;;
  esac
done
java -cp "$JAR" io.herald.bench.Report "$OUT/report.html" "$OUT"/*.json
echo "results in $OUT"
