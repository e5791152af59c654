#!/usr/bin/env bash
# Starts Herald for the benchmark, on loopback, with the per-address limits raised (every load
# client comes from 127.0.0.0/8, so the defaults meant for the internet would refuse them) and
# the publish rate limit off. Stops by itself after HERALD_MAX_SECONDS (default 3600).
#
#   bench/herald.sh standalone DIR [PORT_BASE]          all in one JVM: gateway PORT_BASE, notifier +1, admin +20
#   bench/herald.sh standalone-cluster DIR [PORT_BASE]  the same JVM started with --cluster (a cluster of one, which
#                                                       the load tool's --publish-via eventbus joins)
#   bench/herald.sh cluster DIR [PORT_BASE]             replay, notifier and two gateways (PORT_BASE and +2), clustered
#   bench/herald.sh pair DIR [PORT_BASE]                two all-in-one JVMs clustered (herald.jar --cluster each):
#                                                       gateways PORT_BASE and +2, notifiers +1 and +3, admin +20 and +21;
#                                                       set a shared store (HERALD_REPLAY_STORE=redis): each node has a replay role
#   bench/herald.sh gateway DIR [PORT_BASE]             one more gateway into the running cluster of DIR (PORT_BASE+4,
#                                                       admin +15): a fresh gateway joining a warm cluster
#   bench/herald.sh stop DIR
#
# Every mode enables the notifier's TCP event-bus bridge on PORT_BASE+5 (--publish-via bridge).
# The clustered modes use Hazelcast ports from PORT_BASE+30 (HERALD_CLUSTER_PORT), members
# 127.0.0.1:PORT_BASE+30, cluster name herald-bench (HERALD_CLUSTER_NAME): their own cluster,
# apart from any other on the machine.
# Prints "pids=<java pids, comma separated> gateways=<urls> publish=<url> bridge=<host:port>", and
# for the clustered modes "cluster=<name> members=<host:port>".
# JVM flags: HERALD_JAVA_OPTS (default below); build first: mvn -B -q install -DskipTests
# HERALD_AOT_DIR: each JVM also gets -XX:AOTCache=HERALD_AOT_DIR/<jar name>.aot where that file
# exists (Java 25: put its bin first on PATH; train with scripts/aot-cache.sh on the jar as built).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
DIR=${2:-}
BASE=${3:-18080}
# The gateway flags docs/operations.md recommends (Parallel GC, a small fixed young generation:
# see BENCHMARKS.md for G1 against them), plus NMT for the memory figures.
JAVA_OPTS=${HERALD_JAVA_OPTS:--Xms512m -Xmx512m -XX:+UseParallelGC -Xmn64m -XX:NativeMemoryTracking=summary}
MAX=${HERALD_MAX_SECONDS:-3600}

export HERALD_GATEWAY_HOST=127.0.0.1 HERALD_NOTIFIER_HOST=127.0.0.1
export HERALD_GATEWAY_MAX_CONNECTIONS=${HERALD_GATEWAY_MAX_CONNECTIONS:-100000}
export HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP=100000
export HERALD_GATEWAY_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE=10000000
export HERALD_NOTIFIER_PUBLISH_RATE_PER_KEY=0
export HERALD_CLUSTER_NAME=${HERALD_CLUSTER_NAME:-herald-bench}
export HERALD_NOTIFIER_TCP_BRIDGE_ENABLED=true HERALD_NOTIFIER_TCP_BRIDGE_PORT=$((BASE + 5))
export HERALD_CLUSTER_PORT=${HERALD_CLUSTER_PORT:-$((BASE + 30))}
export HERALD_CLUSTER_MEMBERS=${HERALD_CLUSTER_MEMBERS:-127.0.0.1:$HERALD_CLUSTER_PORT}
BRIDGE=127.0.0.1:$((BASE + 5))
CLUSTER_LINE="cluster=$HERALD_CLUSTER_NAME members=$HERALD_CLUSTER_MEMBERS"

# start NAME JAR ENV... : a JVM under `timeout`, its java pid appended to DIR/pids
start() {
  local name=$1 jar=$2
  shift 2
  local aot=
  if [ -n "${HERALD_AOT_DIR:-}" ] && [ -f "$HERALD_AOT_DIR/$(basename "$jar" .jar).aot" ]; then
    aot="-XX:AOTCache=$HERALD_AOT_DIR/$(basename "$jar" .jar).aot"
  fi
  env "$@" nohup timeout "$MAX" java $JAVA_OPTS $aot -Xlog:gc:file="$DIR/$name-gc.log" -jar "$jar" ${CLUSTER:+--cluster} > "$DIR/$name.log" 2>&1 &
  local t=$!
  local pid=
  for _ in $(seq 1 50); do pid=$(pgrep -P $t java || true); [ -n "$pid" ] && break; sleep 0.1; done
  echo "$pid" >> "$DIR/pids"
  echo "$t" >> "$DIR/timeouts"
}

ready() {  # admin port
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/ready" && return 0
    sleep 0.1
  done
  echo "herald on admin port $1 not ready; logs in $DIR" >&2
  return 1
}

case "$mode" in
  standalone|standalone-cluster)
    mkdir -p "$DIR"; : > "$DIR/pids"; : > "$DIR/timeouts"
    [ -f standalone/target/herald.jar ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 2; }
    [ "$mode" = standalone-cluster ] && CLUSTER=1
    start herald standalone/target/herald.jar HERALD_GATEWAY_PORT=$BASE HERALD_NOTIFIER_PORT=$((BASE + 1)) HERALD_ADMIN_PORT=$((BASE + 20))
    ready $((BASE + 20))
    echo "pids=$(paste -sd, "$DIR/pids") gateways=http://127.0.0.1:$BASE publish=http://127.0.0.1:$((BASE + 1)) bridge=$BRIDGE${CLUSTER:+ $CLUSTER_LINE}"
    ;;
  cluster)
    mkdir -p "$DIR"; : > "$DIR/pids"; : > "$DIR/timeouts"
    CLUSTER=1
    start replay replay-verticle/target/herald-replay.jar HERALD_ADMIN_PORT=$((BASE + 11))
    start notifier notifier-verticle/target/herald-notifier.jar HERALD_ADMIN_PORT=$((BASE + 12)) HERALD_NOTIFIER_PORT=$((BASE + 1))
    start gateway1 gateway-verticle/target/herald-gateway.jar HERALD_ADMIN_PORT=$((BASE + 13)) HERALD_GATEWAY_PORT=$BASE
    start gateway2 gateway-verticle/target/herald-gateway.jar HERALD_ADMIN_PORT=$((BASE + 14)) HERALD_GATEWAY_PORT=$((BASE + 2))
    for p in 11 12 13 14; do ready $((BASE + p)); done
    echo "pids=$(paste -sd, "$DIR/pids") gateways=http://127.0.0.1:$BASE,http://127.0.0.1:$((BASE + 2)) publish=http://127.0.0.1:$((BASE + 1)) gatewaypids=$(sed -n 3,4p "$DIR/pids" | paste -sd,) bridge=$BRIDGE $CLUSTER_LINE"
    ;;
  pair)
    mkdir -p "$DIR"; : > "$DIR/pids"; : > "$DIR/timeouts"
    CLUSTER=1
    start node1 standalone/target/herald.jar HERALD_ADMIN_PORT=$((BASE + 20)) HERALD_GATEWAY_PORT=$BASE HERALD_NOTIFIER_PORT=$((BASE + 1))
    start node2 standalone/target/herald.jar HERALD_ADMIN_PORT=$((BASE + 21)) HERALD_GATEWAY_PORT=$((BASE + 2)) HERALD_NOTIFIER_PORT=$((BASE + 3)) \
      HERALD_NOTIFIER_TCP_BRIDGE_PORT=$((BASE + 6))
    for p in 20 21; do ready $((BASE + p)); done
    echo "pids=$(paste -sd, "$DIR/pids") gateways=http://127.0.0.1:$BASE,http://127.0.0.1:$((BASE + 2)) publish=http://127.0.0.1:$((BASE + 1)) gatewaypids=$(paste -sd, "$DIR/pids") bridge=$BRIDGE $CLUSTER_LINE"
    ;;
  gateway)
    [ -f "$DIR/pids" ] || { echo "no cluster in $DIR: bench/herald.sh cluster $DIR $BASE first" >&2; exit 2; }
    CLUSTER=1
    start gateway3 gateway-verticle/target/herald-gateway.jar HERALD_ADMIN_PORT=$((BASE + 15)) HERALD_GATEWAY_PORT=$((BASE + 4))
    ready $((BASE + 15))
    echo "pids=$(tail -1 "$DIR/pids") gateways=http://127.0.0.1:$((BASE + 4)) publish=http://127.0.0.1:$((BASE + 1)) bridge=$BRIDGE $CLUSTER_LINE"
    ;;
  stop)
    [ -f "$DIR/pids" ] || exit 0
    for p in $(cat "$DIR/pids"); do kill -TERM "$p" 2>/dev/null || true; done
    for p in $(cat "$DIR/pids"); do
      for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    done
    ;;
  *)
    echo "usage: $0 standalone|standalone-cluster|cluster|pair|gateway|stop DIR [PORT_BASE]" >&2
    exit 2
    ;;
esac
