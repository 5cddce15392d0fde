#!/usr/bin/env bash
# The latency scenario of bench/side-by-side.sh (shared harness, 1,000 msg/s for 10 s, manual ack) against
# Warren and RabbitMQ 3.10, alternating, with `perf sched record` on all CPUs during each run: what the
# harness measured, plus how long each broker's threads were runnable but not running (woken or preempted)
# (bench/sched-summary.ts). Needs rabbitmq-server and perf (Debian: linux-perf); not part of `make bench`.
#
#   bench/latency-sched.sh OUT.jsonl [REPS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
HARNESS="${HARNESS:-$(cd "$ROOT/.." && pwd)/shared/bench}"
OUT="${1:?usage: latency-sched.sh OUT.jsonl [REPS]}"
REPS="${2:-3}"
RMQ_PORT="${RMQ_PORT:-5673}"
WPORT=5690
TMP="$(mktemp -d /tmp/latsched.XXXXXX)"
WPID=""
cleanup() {
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null || true
  "$HARNESS/stop-rabbitmq.sh" "$TMP/rmq" > /dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

measure() { # $1 = label, $2 = broker pid, $3 = url
  perf sched record -a -o "$TMP/sched.data" > /dev/null 2>&1 &
  local perf=$!
  sleep 0.5
  node "$HARNESS/bench.js" latency --rate 1000 --duration 10 --size 16 --ack manual --prefetch 100 \
    --url "$3" --broker-pid "$2" --id latency --label "$1" > "$TMP/harness.json" &
  local harness=$!
  wait "$harness"
  kill -INT "$perf"; wait "$perf" || true
  cat "$TMP/harness.json" >> "$OUT"
  perf sched timehist --state -i "$TMP/sched.data" > "$TMP/timehist.txt" 2> /dev/null
  node "$ROOT/dist/bench/sched-summary.js" "$TMP/timehist.txt" --broker-pid "$2" --harness-pid "$harness" --label "$1" >> "$OUT"
  rm -f "$TMP/sched.data" "$TMP/timehist.txt"
}

warren() {
  rm -rf "$TMP/wdata"
  node "$ROOT/bin/warren" --host 127.0.0.1 --port "$WPORT" --store memory --data-dir "$TMP/wdata" --log-level warn &
  WPID=$!
  node "$HARNESS/bench.js" wait-amqp --url "amqp://guest:guest@127.0.0.1:$WPORT" --timeout 30 --pid "$WPID" > /dev/null
  measure warren "$WPID" "amqp://guest:guest@127.0.0.1:$WPORT"
  kill "$WPID"; wait "$WPID" 2> /dev/null || true
  WPID=""
}

rabbitmq() {
  "$HARNESS/start-rabbitmq.sh" "$RMQ_PORT" "$TMP/rmq" > /dev/null
  measure rabbitmq "$(cat "$TMP/rmq/beam.pid")" "amqp://guest:guest@127.0.0.1:$RMQ_PORT"
  "$HARNESS/stop-rabbitmq.sh" "$TMP/rmq" > /dev/null
}

for rep in $(seq 1 "$REPS"); do
  echo "[latency-sched] rep $rep/$REPS" >&2
  if [ $((rep % 2)) = 1 ]; then warren; rabbitmq; else rabbitmq; warren; fi
done
