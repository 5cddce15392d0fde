#!/usr/bin/env bash
# Warren and RabbitMQ 3.10 side by side with the shared, broker-neutral harness (../shared/bench/bench.js),
# in one session: every scenario runs against a fresh Warren and a fresh RabbitMQ, alternating which goes
# first, REPS times; bench/side-by-side-report.js turns the JSON lines into docs/benchmarks.md's tables.
# Not part of `make bench` (it needs rabbitmq-server and ../shared/bench/node_modules).
#
#   bench/side-by-side.sh OUT.jsonl [REPS] [SCENARIO...]
#   node dist/bench/side-by-side-report.js OUT.jsonl
#
# Env: WARREN_ROOT (default: this checkout; point it at a frozen copy to measure a fixed tree),
#      HARNESS (default ../shared/bench), RMQ_PORT (5673), RMQ_DIR (/tmp/rmq-bench),
#      QUIET_PCT (12) / QUIET_MAX (300): before each measurement wait (at most QUIET_MAX s) until other
#      processes use less than QUIET_PCT % of the machine's CPU: the box is shared, and a test suite
#      running beside us takes a whole core. The report drops runs that were disturbed anyway.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WARREN_ROOT="${WARREN_ROOT:-$(cd "$HERE/.." && pwd)}"
HARNESS="${HARNESS:-$(cd "$WARREN_ROOT/.." && pwd)/shared/bench}"
[ -d "$HARNESS" ] || HARNESS="$(cd "$HERE/../.." && pwd)/shared/bench"
OUT="${1:?usage: side-by-side.sh OUT.jsonl [REPS] [SCENARIO...]}"
REPS="${2:-3}"
shift $(( $# >= 2 ? 2 : 1 ))
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(tp-16b-auto tp-1k-manual tp-4x4 fanout-10 latency churn manyqueues persistent persistent-pubonly memory startup)
RMQ_PORT="${RMQ_PORT:-5673}"
RMQ_DIR="${RMQ_DIR:-/tmp/rmq-bench}"
WPORT=5690
TMP="$(mktemp -d /tmp/sbs.XXXXXX)"
WPID=""

harness_args() {
  case "$1" in
    tp-16b-auto)  echo "throughput --size 16 --count 300000 --publishers 1 --consumers 1 --ack auto" ;;
    tp-1k-manual) echo "throughput --size 1024 --count 200000 --publishers 1 --consumers 1 --ack manual --prefetch 100" ;;
    tp-4x4)       echo "throughput --size 16 --count 400000 --publishers 4 --consumers 4 --ack auto" ;;
    fanout-10)    echo "fanout --queues 10 --size 16 --count 50000 --ack manual --prefetch 100" ;;
    latency)      echo "latency --rate 1000 --duration 10 --size 16 --ack manual --prefetch 100" ;;
    churn)        echo "churn --count 2000" ;;
    manyqueues)   echo "manyqueues --queues 10000" ;;
    persistent)   echo "confirm --size 1024 --window 256 --count 60000 --consumers 1 --ack manual --prefetch 100" ;;
    # No consumer: every message must reach the disk before its confirm (nothing is acked early).
    persistent-pubonly) echo "confirm --size 1024 --window 256 --count 60000 --consumers 0" ;;
    *) return 1 ;;
  esac
}

cpu_busy_total() { # prints "busy total" jiffies from /proc/stat (all cores)
  local _c u n s i w q sq st _rest
  read -r _c u n s i w q sq st _rest < /proc/stat
  echo "$((u + n + s + q + sq)) $((u + n + s + i + w + q + sq))"
}
wait_quiet() {
  local deadline=$((SECONDS + ${QUIET_MAX:-300})) b1 t1 b2 t2
  while :; do
    read -r b1 t1 <<< "$(cpu_busy_total)"; sleep 1; read -r b2 t2 <<< "$(cpu_busy_total)"
    if [ $(( (b2 - b1) * 100 )) -lt $(( ${QUIET_PCT:-12} * (t2 - t1) )) ]; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then echo "[side-by-side] box still busy; measuring anyway" >&2; return 0; fi
  done
}

start_warren() { # $1 = store, $2.. = extra flags
  rm -rf "$TMP/wdata"
  node "$WARREN_ROOT/bin/warren" --host 127.0.0.1 --port "$WPORT" --store "$1" --data-dir "$TMP/wdata" \
    --log-level warn "${@:2}" >> "$TMP/warren.log" 2>&1 &
  WPID=$!
  node "$HARNESS/bench.js" wait-amqp --url "amqp://guest:guest@127.0.0.1:$WPORT" --timeout 30 --pid "$WPID" > /dev/null
}
stop_warren() {
  [ -n "$WPID" ] && node "$HARNESS/bench.js" stop --pid "$WPID" > /dev/null || true
  WPID=""
}
start_rmq() { "$HARNESS/start-rabbitmq.sh" "$RMQ_PORT" "$RMQ_DIR" > /dev/null; }
stop_rmq() { "$HARNESS/stop-rabbitmq.sh" "$RMQ_DIR" > /dev/null || true; }
cleanup() { stop_warren; stop_rmq; "$HARNESS/stop-rabbitmq.sh" "$TMP/rmq-startup" > /dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT

run_warren() { # $1 = id, $2 = label, $3 = store, $4.. = extra broker flags
  local id=$1 label=$2 store=$3
  start_warren "$store" "${@:4}"
  wait_quiet
  if [ "$id" = memory ]; then
    node "$WARREN_ROOT/dist/bench/main.js" memory --url "amqp://guest:guest@127.0.0.1:$WPORT" --broker-pid "$WPID" \
      --label "$label" --json "$OUT" > /dev/null
  else
    # shellcheck disable=SC2046
    node "$HARNESS/bench.js" $(harness_args "$id") --url "amqp://guest:guest@127.0.0.1:$WPORT" --broker-pid "$WPID" \
      --id "$id" --label "$label" >> "$OUT"
  fi
  stop_warren
}
run_rmq() { # $1 = id
  local id=$1
  start_rmq
  local pid; pid=$(cat "$RMQ_DIR/server.pid")
  wait_quiet
  if [ "$id" = memory ]; then
    node "$WARREN_ROOT/dist/bench/main.js" memory --url "amqp://guest:guest@127.0.0.1:$RMQ_PORT" --broker-pid "$pid" \
      --label rabbitmq --json "$OUT" > /dev/null
  else
    # shellcheck disable=SC2046
    node "$HARNESS/bench.js" $(harness_args "$id") --url "amqp://guest:guest@127.0.0.1:$RMQ_PORT" --broker-pid "$pid" \
      --id "$id" --label rabbitmq >> "$OUT"
  fi
  stop_rmq
}

run_startup() {
  local sp=5694
  wait_quiet
  node "$HARNESS/bench.js" startup --id startup --label "warren cli" --settle 5 --url "amqp://guest:guest@127.0.0.1:$sp" \
    --cmd "node $WARREN_ROOT/bin/warren --host 127.0.0.1 --port $sp --data-dir $TMP/su-cli --log-level warn" >> "$OUT"
  rm -rf "$TMP/su-cli"
  wait_quiet
  node "$HARNESS/bench.js" startup --id startup --label "warren embedded" --settle 5 --url "amqp://guest:guest@127.0.0.1:$sp" \
    --cmd "node $WARREN_ROOT/dist/bench/broker-child.js --port $sp --store level --data-dir $TMP/su-emb" >> "$OUT"
  rm -rf "$TMP/su-emb"
  wait_quiet
  node "$HARNESS/bench.js" startup --id startup --label rabbitmq --settle 5 --timeout 120 --url "amqp://guest:guest@127.0.0.1:5674" \
    --cmd "$HARNESS/start-rabbitmq.sh 5674 $TMP/rmq-startup --foreground" >> "$OUT"
  "$HARNESS/stop-rabbitmq.sh" "$TMP/rmq-startup" > /dev/null 2>&1 || true
}

for rep in $(seq 1 "$REPS"); do
  for s in "${SCENARIOS[@]}"; do
    echo "[side-by-side] rep $rep/$REPS: $s" >&2
    if [ "$s" = startup ]; then run_startup; continue; fi
    store=memory
    fsync=0
    case "$s" in persistent*) store=level; fsync=1 ;; esac
    # Alternate who goes first, so neither always runs on a box warmed (or heated) by the other.
    if [ $((rep % 2)) = 1 ]; then
      run_warren "$s" warren "$store"
      [ $fsync = 1 ] && run_warren "$s" "warren fsync" level --fsync
      run_rmq "$s"
    else
      run_rmq "$s"
      run_warren "$s" warren "$store"
      [ $fsync = 1 ] && run_warren "$s" "warren fsync" level --fsync
    fi
  done
done
echo "[side-by-side] results in $OUT" >&2
