#!/usr/bin/env bash
# Compression side by side: the same broadcast with and without gzip SSE, for small (200 B) and
# larger (4 KB) events of text-like JSON (--payload-kind text), against one Herald started with
# gateway.sseCompression=accepted (clients without --gzip do not ask, so they get identity).
# Reports loopback bytes per delivery (streams and publishes, HTTP framing and TCP included),
# server CPU per delivery and heap per stream, in OUT/compression-*.json.
#
#   bench/compression.sh            N=2000 streams, RATE=20 events/s, DURATION=20 s
# Build first: mvn -B -q install -DskipTests.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}; RATE=${RATE:-20}; DURATION=${DURATION:-20}; SOURCE_IPS=${SOURCE_IPS:-4}
OUT=${OUT:-bench/results/compression-$(date -u +%Y%m%dT%H%M%SZ)}
JAR=bench/target/herald-bench.jar
[ -f "$JAR" ] && [ -f standalone/target/herald.jar ] || { echo "build first: mvn -B -q install -DskipTests" >&2; exit 2; }
mkdir -p "$OUT"
RUN=$(mktemp -d /tmp/herald-compression.XXXXXX)
trap 'bench/herald.sh stop "$RUN/herald" 2>/dev/null || true' EXIT
for payload in 200 4096; do
  for gzip in false true; do
    HERALD_GATEWAY_SSE_COMPRESSION=accepted bench/herald.sh standalone "$RUN/herald" 18080 > "$RUN/herald.info"
    java -Xms1g -Xmx4g -jar "$JAR" --target herald --scenario broadcast --connections "$N" --rate "$RATE" \
      --duration "$DURATION" --warmup-seconds 10 --source-ips "$SOURCE_IPS" --payload-bytes "$payload" --payload-kind text \
      --gzip "$gzip" --sse-url http://127.0.0.1:18080 --publish-url http://127.0.0.1:18081 \
      --server-pid "$(paste -sd, "$RUN/herald/pids")" --label "herald gzip=$gzip ${payload} B" --group "compression-$payload" \
      --out "$OUT/compression-$payload-gzip-$gzip.json" || true
    bench/herald.sh stop "$RUN/herald"
  done
done
for f in "$OUT"/compression-*.json; do
  python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d.get("memory", {})
print(f'{d["label"]:28} bytes/delivery {d["wire"]["bytesPerDelivery"]:>8}  server µs/delivery {d["cpu"]["serverMicrosPerDelivery"]:>6}'
      f'  heap B/stream {m.get("heapPerConnectionBytes")}  p99 ms {d["latencyMs"]["p99"]}  lost {d["events"]["lost"]}')
PY
done
