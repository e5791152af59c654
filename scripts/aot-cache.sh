#!/usr/bin/env bash
# Trains a Java 25 AOT cache (JEP 483/514/515: classes loaded and linked, method profiles) for a
# Herald fat jar, so that every later start with -XX:AOTCache=OUT_FILE skips most class loading
# and starts its JIT with the profiles of a warm process (BENCHMARKS.md, "Cold start").
#
#   scripts/aot-cache.sh JAR OUT_FILE
#
# It starts `java $JAVA_OPTS -XX:AOTCacheOutput=OUT_FILE -jar JAR` on loopback, waits for the
# admin port's /ready 200 (Herald's own warm-up runs before that: it is the training workload),
# then sends AOT_PUBLISHES publishes over HTTP to AOT_STREAMS SSE streams with curl and checks
# they arrive, sends SIGTERM and waits for the JVM to write the cache at exit (the JVM forks a
# second JVM for that: tens of MB, a few seconds). It fails, and kills the JVM, if any step fails
# or does not end in time.
#
# What must match between this run and the runs that use the cache (else the JVM prints a warning
# and starts without it; see docs/operations.md, "AOT cache"):
#   - the same Java build (the exact 25.x release and vendor build) and the same OS/architecture;
#   - the same JAR path, byte for byte the same file (its size and mtime are checked): train at the
#     path it runs from, and never rebuild or touch the jar after training;
#   - JVM options that change the object layout or the class path: -XX:+UseCompactObjectHeaders,
#     -cp/-jar, --add-modules/--add-opens etc. Pass the production flags in JAVA_OPTS.
#   Heap size and GC may differ (the cache then loses its archived heap objects only).
#
# Environment:
#   JAVA            the java binary (default: /usr/lib/jvm/temurin-25-jdk-amd64/bin/java, else
#                   java on PATH); it must be Java 25 or later
#   JAVA_OPTS       the flags the jar will run with (default: none)
#   HERALD_GATEWAY_PORT, HERALD_NOTIFIER_PORT, HERALD_ADMIN_PORT, HERALD_CLUSTER_PORT  loopback
#                   ports (default: free ones); HERALD_CLUSTER_NAME (default herald-aot-training-PID)
#   HERALD_*        any other configuration, e.g. HERALD_ADMIN_WARM_UP_MILLIS (default 15000: the
#                   training workload; 0 leaves only the traffic below)
#   AOT_ARGS        arguments to the jar (default: none), e.g. --cluster for a role jar: a clustered
#                   role alone forms a cluster of one and warms up in a private cluster of its own
#                   (docs/operations.md, "Warm-up"), so the gateway's jar trains with AOT_PUBLISHES=0
#   AOT_PUBLISHES   publishes after /ready (default 400, 0: none; a jar without the notifier role
#                   has no publish API: 0); AOT_STREAMS SSE streams (default 4)
#   AOT_PUBLISHER_KEY  the publisher key (default the packaged dev-publisher-key)
#   AOT_READY_SECONDS (default 180), AOT_EXIT_SECONDS (default 180): bounds of the two waits
#   AOT_LOG         the training JVM's output (default: a temporary file, printed on failure)
set -euo pipefail

usage() { echo "usage: scripts/aot-cache.sh JAR OUT_FILE" >&2; exit 2; }
[ $# -eq 2 ] || usage
JAR=$1 OUT=$2
[ -f "$JAR" ] || { echo "aot-cache: $JAR is not a file" >&2; exit 2; }
command -v curl >/dev/null || { echo "aot-cache: curl is required" >&2; exit 2; }

# java_major BIN: the feature release of a java binary (17, 25, ...), empty if it does not run.
java_major() {
  "$1" -version 2>&1 | sed -n '1s/.*version "\([0-9][0-9]*\).*/\1/p'
}
java=${JAVA:-}
if [ -z "$java" ]; then
  if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  elif command -v java >/dev/null; then java=$(command -v java)
  else echo "aot-cache: no java found: set JAVA to a Java 25 (or later) java binary" >&2; exit 2
  fi
fi
major=$(java_major "$java" || true)
if [ -z "$major" ] || [ "$major" -lt 25 ]; then
  echo "aot-cache: $java is Java ${major:-?}; the AOT cache (-XX:AOTCacheOutput) needs Java 25 or later: set JAVA" >&2
  exit 2
fi

# free_port: a loopback port nothing listens on (and not one already taken by this script), below
# the kernel's ephemeral range: a port in that range can be taken as the local end of some other
# process's outgoing connection between this check and the JVM's bind (seen on a busy test machine).
taken=" "
ephemeral_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "${ephemeral_low:-0}" -gt 21000 ] 2>/dev/null || ephemeral_low=60000
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % (ephemeral_low - 20000) ))
    case "$taken" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then taken="$taken$p "; echo "$p"; return 0; fi
  done
  echo "aot-cache: no free port found" >&2; return 1
}
export HERALD_GATEWAY_HOST=127.0.0.1 HERALD_NOTIFIER_HOST=127.0.0.1 HERALD_ADMIN_HOST=127.0.0.1
# The ports the caller did not set are this script's to pick, and to pick again (pick_ports).
own_ports=
for v in HERALD_GATEWAY_PORT HERALD_NOTIFIER_PORT HERALD_ADMIN_PORT HERALD_CLUSTER_PORT; do
  [ -n "${!v:-}" ] || own_ports="$own_ports $v"
done
own_members=; [ -n "${HERALD_CLUSTER_MEMBERS:-}" ] || own_members=1
pick_ports() {
  local v
  for v in $own_ports; do export "$v=$(free_port)"; done
  # With --cluster: a cluster of its own (name, port, members), so that the training node never
  # joins, or is joined by, another cluster on this machine or network.
  [ -z "$own_members" ] || export HERALD_CLUSTER_MEMBERS=127.0.0.1:$HERALD_CLUSTER_PORT
}
pick_ports
export HERALD_CLUSTER_NAME=${HERALD_CLUSTER_NAME:-herald-aot-training-$$}
PUBLISHES=${AOT_PUBLISHES:-400} STREAMS=${AOT_STREAMS:-4} KEY=${AOT_PUBLISHER_KEY:-dev-publisher-key}
READY_SECONDS=${AOT_READY_SECONDS:-180} EXIT_SECONDS=${AOT_EXIT_SECONDS:-180}

work=$(mktemp -d)
LOG=${AOT_LOG:-$work/train.log}
pid=
sse_pids=()
cleanup() {
  local rc=$?
  for s in "${sse_pids[@]}"; do kill "$s" 2>/dev/null || true; done
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    # the cache writer (a child JVM) may be running too
    pkill -KILL -P "$pid" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ]; then
    echo "aot-cache: failed; the training JVM's output${AOT_LOG:+ ($AOT_LOG)}, last 60 lines:" >&2
    tail -n 60 "$LOG" >&2 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

rm -f "$OUT"
# 1. /ready 200: the process serves and its warm-up (the training workload) has ended. A port of
# ours that something else took meanwhile ("already in use") gets the JVM started again on new
# ports, at most twice.
for attempt in 1 2 3; do
  echo "aot-cache: training $JAR on $("$java" -version 2>&1 | head -1) with JAVA_OPTS=${JAVA_OPTS:-} (gateway $HERALD_GATEWAY_PORT, notifier $HERALD_NOTIFIER_PORT, admin $HERALD_ADMIN_PORT)"
  # shellcheck disable=SC2086 # JAVA_OPTS and AOT_ARGS are lists
  "$java" ${JAVA_OPTS:-} -XX:AOTCacheOutput="$OUT" -jar "$JAR" ${AOT_ARGS:-} < /dev/null > "$LOG" 2>&1 &
  pid=$!
  deadline=$(( SECONDS + READY_SECONDS ))
  until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$HERALD_ADMIN_PORT/ready"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      pid=
      if [ "$attempt" -lt 3 ] && [ -n "$own_ports" ] && grep -q 'already in use' "$LOG"; then
        echo "aot-cache: $(grep -o '[a-z.]*port: port [0-9]* on [0-9.]* is already in use' "$LOG" | head -1); again on other ports"
        pick_ports
        continue 2
      fi
      echo "aot-cache: the JVM exited before it was ready" >&2; exit 1
    fi
    [ $SECONDS -lt $deadline ] || { echo "aot-cache: not ready within $READY_SECONDS s" >&2; exit 1; }
    sleep 0.2
  done
  break
done
echo "aot-cache: ready; $(grep -o 'warm-up ended after [0-9]* ms: [0-9]* HTTP publishes' "$LOG" || echo 'no warm-up')"

# 2. Traffic the warm-up's shape does not cover: STREAMS SSE streams, PUBLISHES HTTP publishes over
# one kept-alive connection (one curl, a request per `next`).
if [ "$PUBLISHES" -gt 0 ]; then
  for i in $(seq 1 "$STREAMS"); do
    curl -sN --max-time 120 "http://127.0.0.1:$HERALD_GATEWAY_PORT/events?topic=aot-train-$i" > "$work/sse-$i" 2>/dev/null &
    sse_pids+=($!)
  done
  deadline=$(( SECONDS + 20 ))
  for i in $(seq 1 "$STREAMS"); do
    until grep -q '^retry:' "$work/sse-$i" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || { echo "aot-cache: SSE stream $i did not open" >&2; exit 1; }
      sleep 0.1
    done
  done
  payload=$(printf 'x%.0s' $(seq 1 200))
  for n in $(seq 1 "$PUBLISHES"); do
    [ "$n" -gt 1 ] && echo next
    echo "url = \"http://127.0.0.1:$HERALD_NOTIFIER_PORT/publish\""
    echo "header = \"Authorization: Bearer $KEY\""
    echo "header = \"Content-Type: application/json\""
    echo "data = \"{\\\"topic\\\":\\\"aot-train-$(( n % STREAMS + 1 ))\\\",\\\"data\\\":{\\\"n\\\":$n,\\\"text\\\":\\\"$payload\\\"}}\""
    echo "output = \"/dev/null\""
    echo "write-out = \"%{http_code}\\\\n\""
  done > "$work/publish.curl"
  curl -s --max-time 120 -K "$work/publish.curl" > "$work/publish.codes"
  ok=$(grep -c '^200$' "$work/publish.codes" || true)
  [ "$ok" -eq "$PUBLISHES" ] || { echo "aot-cache: $ok of $PUBLISHES publishes answered 200 ($(sort "$work/publish.codes" | uniq -c | tr '\n' ' '))" >&2; exit 1; }
  deadline=$(( SECONDS + 20 ))
  while [ "$(cat "$work"/sse-* | grep -c '^data:' || true)" -lt "$PUBLISHES" ]; do
    [ $SECONDS -lt $deadline ] || { echo "aot-cache: $(cat "$work"/sse-* | grep -c '^data:' || true) of $PUBLISHES events reached the SSE streams" >&2; exit 1; }
    sleep 0.2
  done
  for s in "${sse_pids[@]}"; do kill "$s" 2>/dev/null || true; done
  sse_pids=()
  echo "aot-cache: $PUBLISHES publishes delivered to $STREAMS SSE streams"
fi

# 3. SIGTERM: the JVM drains, exits, and writes the cache on its way out.
kill -TERM "$pid"
deadline=$(( SECONDS + EXIT_SECONDS ))
while kill -0 "$pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "aot-cache: the JVM did not exit within $EXIT_SECONDS s of SIGTERM" >&2; exit 1; }
  sleep 0.2
done
rc=0; wait "$pid" || rc=$?
pid=
# 143 (SIGTERM) is how a JVM ends on SIGTERM; the cache is written either way.
[ $rc -eq 0 ] || [ $rc -eq 143 ] || { echo "aot-cache: the JVM exited with status $rc" >&2; exit 1; }
[ -s "$OUT" ] || { echo "aot-cache: $OUT was not written" >&2; exit 1; }
echo "aot-cache: wrote $OUT ($(( $(stat -c %s "$OUT") / 1048576 )) MB)"
