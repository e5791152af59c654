#!/usr/bin/env bash
# The soak run: an all-in-one Herald (bench/herald.sh) under streams that keep leaving, resuming
# and being replaced while events are published at a steady rate, for DURATION seconds after a
# warm-up. Fails (exit 1) when the server's heap after a full GC, its RSS, its open files or its
# event-loop lag grew by more than 10 % from the start to the end, or when any event was lost,
# duplicated or replaced by a reset. Writes OUT/soak.json and prints the start and end readings.
#
#   bench/soak.sh                      30 minutes: N=2000 streams, TOPICS=100, RATE=200 events/s
#   DURATION=120 WARMUP=30 bench/soak.sh   a short one
#
# Retention is set low (RETAIN=100 events per topic) so that the warm-up fills it: history that
# is still filling up would grow the heap and count as a leak. The heap is fixed and pre-touched
# (-Xms = -Xmx, AlwaysPreTouch) so that RSS measures what the JVM adds outside it.
# Build first: mvn -B -q install -DskipTests. Herald stops by itself after the run's length + 10 min.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}; TOPICS=${TOPICS:-100}; RATE=${RATE:-200}; DURATION=${DURATION:-1800}; WARMUP=${WARMUP:-90}
CHURN=${CHURN:-$((N / 100))}; RETAIN=${RETAIN:-100}; SOURCE_IPS=${SOURCE_IPS:-4}
OUT=${OUT:-bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)}
JAR=bench/target/herald-bench.jar
[ -f "$JAR" ] && [ -f standalone/target/herald.jar ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 2; }
mkdir -p "$OUT"
RUN=$(mktemp -d /tmp/herald-soak.XXXXXX)
trap 'bench/herald.sh stop "$RUN/herald" 2>/dev/null || true' EXIT
export HERALD_REPLAY_MAX_EVENTS_PER_TOPIC=$RETAIN
export HERALD_MAX_SECONDS=$((DURATION + WARMUP + 600))
export HERALD_JAVA_OPTS=${HERALD_JAVA_OPTS:--Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseParallelGC -Xmn64m -XX:NativeMemoryTracking=summary}
bench/herald.sh standalone "$RUN/herald" 18080 > "$RUN/herald.info"
java -Xms512m -Xmx2g -jar "$JAR" --target herald --scenario soak --source-ips "$SOURCE_IPS" \
  --sse-url http://127.0.0.1:18080 --publish-url http://127.0.0.1:18081 \
  --server-pid "$(paste -sd, "$RUN/herald/pids")" --connections "$N" --topics "$TOPICS" --rate "$RATE" \
  --churn "$CHURN" --warmup-seconds "$WARMUP" --duration "$DURATION" --label "herald soak" --group soak \
  --out "$OUT/soak.json"
