#!/usr/bin/env bash
# Run the Python client check (test/clients/python_clients.py: pika and py-amqp, as RabbitMQ users use
# them) against a fresh Warren on a free port with a scratch data dir. Optional check, not part of
# `make test`. Offline: the only network it may use is apt for the two Debian packages, if missing.
#
#   test/clients/python-clients.sh            # after a build (make build); exit 0 only if every test passes
#
# The last test stops Warren with SIGTERM and expects 320 CONNECTION_FORCED on a pika and a py-amqp
# connection. The same script runs unchanged against RabbitMQ 3.10 (the reference):
#   AMQP_URL=amqp://guest:guest@127.0.0.1:5673/ AMQP_SHUTDOWN_CMD='/work/shared/bench/stop-rabbitmq.sh DIR' \
#     /usr/bin/python3 test/clients/python_clients.py
#
# Env knobs:
#   PY_CLIENTS_ARGS="-v -k P05"   arguments for python_clients.py (-v verbose, -k substring filter, repeatable)
#   PY_CLIENTS_KEEP=1             keep the scratch dir (Warren log, data dir) for inspection
#   WARREN_BUILD=1                run `tsc -p tsconfig.json` first (otherwise dist/ must already be built)
NAME=python-clients KEEP_VAR=PY_CLIENTS_KEEP
# shellcheck source=test/clients/warren-for-clients.sh
. "$(dirname "$0")/warren-for-clients.sh"

# Debian's python3-pika / python3-amqp live in /usr/lib/python3/dist-packages: use Debian's interpreter,
# not whatever python3 comes first on PATH (pyenv and friends do not see them).
PY=/usr/bin/python3
need_debian_packages "[ -x $PY ] && $PY -c 'import pika, amqp'" python3 python3-pika python3-amqp
start_warren

# shellcheck disable=SC2086 # PY_CLIENTS_ARGS is a list of words on purpose
AMQP_URL="$AMQP_URL" AMQP_SHUTDOWN_CMD="kill -TERM $WARREN_PID" \
  "$PY" "$ROOT/test/clients/python_clients.py" ${PY_CLIENTS_ARGS:-}
STATUS=$?

if [ "$STATUS" -ne 0 ]; then
  echo "python-clients: FAILED (exit $STATUS); Warren's log, last 40 lines:" >&2
  tail -40 "$SCRATCH/warren.log" >&2
fi
exit "$STATUS"
