# Sourced by the client checks in this folder (go-client-suite.sh, python-clients.sh): install Debian
# packages when missing, check the build, start a fresh Warren on a free loopback port with a scratch data
# dir, and stop it again on exit. The caller sets NAME (its log prefix) and KEEP_VAR (the env variable that
# keeps the scratch dir) before sourcing, then calls `need_debian_packages CHECK PKG...` and `start_warren`.
#   After start_warren: ROOT, SCRATCH, WARREN_PID, PORT, AMQP_URL.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# need_debian_packages 'shell test that passes when present' pkg...
need_debian_packages() {
  local check="$1"; shift
  eval "$check" >/dev/null 2>&1 && return 0
  echo "$NAME: installing $*" >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y "$@" >&2 \
    || { $sudo apt-get update >&2 && $sudo apt-get install -y "$@" >&2; } \
    || { echo "$NAME: cannot install the Debian packages" >&2; exit 2; }
}

start_warren() {
  if [ "${WARREN_BUILD:-0}" = "1" ]; then
    # Type errors elsewhere in the tree do not stop tsc from emitting; a missing entry point does stop us.
    (cd "$ROOT" && node_modules/.bin/tsc -p tsconfig.json) >&2 || true
  fi
  if [ ! -f "$ROOT/dist/src/cli/main.js" ]; then
    echo "$NAME: $ROOT/dist is not built (run make build, or WARREN_BUILD=1)" >&2
    exit 2
  fi
  SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/warren-$NAME.XXXXXX")"
  WARREN_PID=""
  trap stop_warren EXIT
  trap 'exit 130' INT TERM
  # Port 0: the startup line names the port Warren got.
  node "$ROOT/bin/warren" --host 127.0.0.1 --port 0 --data-dir "$SCRATCH/data" --log-level info \
    >"$SCRATCH/warren.log" 2>&1 &
  WARREN_PID=$!
  PORT=""
  for _ in $(seq 1 200); do
    PORT="$(sed -nE 's|.*listening on amqp://127\.0\.0\.1:([0-9]+).*|\1|p' "$SCRATCH/warren.log" | head -1)"
    [ -n "$PORT" ] && break
    kill -0 "$WARREN_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$PORT" ]; then
    echo "$NAME: Warren did not start:" >&2
    cat "$SCRATCH/warren.log" >&2
    exit 2
  fi
  AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/"
  echo "$NAME: Warren (pid $WARREN_PID) on 127.0.0.1:$PORT" >&2
}

stop_warren() {
  if [ -n "${WARREN_PID:-}" ] && kill -0 "$WARREN_PID" 2>/dev/null; then
    kill "$WARREN_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$WARREN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$WARREN_PID" 2>/dev/null
  fi
  if [ "${!KEEP_VAR:-0}" = "1" ]; then echo "$NAME: kept $SCRATCH" >&2; else rm -rf "$SCRATCH"; fi
}
