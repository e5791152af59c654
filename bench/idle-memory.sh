#!/usr/bin/env bash
# Memory of idle SSE connections on the all-in-one hub: RSS and JVM heap (after a full GC)
# before and after N connections. Loopback only; stops by itself.
# usage: bench/idle-memory.sh [N] [TOPICS]     (build first: mvn -B -q package -DskipTests)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
TOPICS=${2:-1}
PORT=18180
JAR=standalone/target/herald.jar
[ -f "$JAR" ] || { echo "build first: mvn -B -q package -DskipTests" >&2; exit 2; }

# Every stream comes from 127.0.0.1: lift the per-address limits as bench/herald.sh does.
HERALD_GATEWAY_MAX_CONNECTIONS=100000 HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP=100000 \
  HERALD_GATEWAY_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE=10000000 \
  HERALD_GATEWAY_PORT=$PORT HERALD_NOTIFIER_PORT=18181 HERALD_GATEWAY_HOST=127.0.0.1 HERALD_NOTIFIER_HOST=127.0.0.1 \
  java ${HERALD_JAVA_OPTS:--Xms256m -Xmx256m} -jar "$JAR" > /tmp/herald-idle.log 2>&1 &
PID=$!
CLIENT=
trap 'kill $PID 2>/dev/null; [ -n "$CLIENT" ] && kill $CLIENT 2>/dev/null; true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done

rss() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
# Heap in use after a full GC: G1's "garbage-first heap", Parallel's PSYoungGen + ParOldGen, Serial's generations.
heap() {
  jcmd $PID GC.run >/dev/null; sleep 1
  jcmd $PID GC.heap_info | awk '/total [0-9]+K, used/ && !/Metaspace|class space/ {
    for (i=1;i<=NF;i++) if ($i=="used") {v=$(i+1); gsub(/[^0-9]/,"",v); sum+=v} } END {print sum}'
}

# Warm up the code paths with a few connections, then take the baseline.
node bench/idle-connections.js $PORT 50 "$TOPICS" > /tmp/herald-idle-warm.txt & W=$!
sleep 3; kill $W; sleep 2
# The full GC of the heap reading touches pages of its own: take it before the baseline RSS,
# and after the final RSS, so that the RSS delta is what the connections cost.
HEAP0=$(heap); RSS0=$(rss)

node bench/idle-connections.js $PORT "$N" "$TOPICS" > /tmp/herald-idle-client.txt & CLIENT=$!
for _ in $(seq 1 300); do grep -q OPEN /tmp/herald-idle-client.txt && break; sleep 0.2; done
sleep 2
RSS1=$(rss); HEAP1=$(heap)
cat /tmp/herald-idle-client.txt
echo "connections: $N over $TOPICS topic(s)"
echo "RSS:  ${RSS0} KiB -> ${RSS1} KiB: $(( (RSS1 - RSS0) * 1024 / N )) bytes per connection"
echo "heap after GC: ${HEAP0} KiB -> ${HEAP1} KiB: $(( (HEAP1 - HEAP0) * 1024 / N )) bytes per connection"
