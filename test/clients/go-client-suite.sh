#!/usr/bin/env bash
# Run the official Go client's own integration suite (rabbitmq/amqp091-go, Debian's
# golang-github-rabbitmq-amqp091-go-dev, test files included), unchanged, against a fresh Warren.
# Optional check, not part of `make test`. Offline: Go builds in GOPATH mode from /usr/share/gocode,
# with no module proxy; the only network it may use is apt for the two Debian packages, if missing.
#
#   test/clients/go-client-suite.sh            # after a build (make build); exit 0 only if the suite passes
#
# Env knobs:
#   GO_SUITE_RUN=REGEX     only the tests matching REGEX (go test -run)
#   GO_SUITE_TIMEOUT=10m   go test -timeout
#   GO_SUITE_KEEP=1        keep the scratch dir (suite copy, Warren log, go test output) for inspection
#   WARREN_BUILD=1         run `tsc -p tsconfig.json` first (otherwise dist/ must already be built)
NAME=go-client-suite KEEP_VAR=GO_SUITE_KEEP
# shellcheck source=test/clients/warren-for-clients.sh
. "$(dirname "$0")/warren-for-clients.sh"
GO_SRC=/usr/share/gocode/src/github.com/rabbitmq/amqp091-go
PKG=github.com/rabbitmq/amqp091-go

need_debian_packages "command -v go && [ -f $GO_SRC/integration_test.go ]" golang-go golang-github-rabbitmq-amqp091-go-dev
start_warren

# The suite, unchanged, in a GOPATH of its own (go.uber.org/goleak comes from /usr/share/gocode).
mkdir -p "$SCRATCH/gopath/src/github.com/rabbitmq"
cp -r "$GO_SRC" "$SCRATCH/gopath/src/github.com/rabbitmq/"
chmod -R u+w "$SCRATCH/gopath"

echo "go-client-suite: amqp091-go $(dpkg-query -W -f='${Version}' golang-github-rabbitmq-amqp091-go-dev 2>/dev/null)" >&2

RUN_ARGS=()
[ -n "${GO_SUITE_RUN:-}" ] && RUN_ARGS=(-run "$GO_SUITE_RUN")
(
  cd "$SCRATCH/gopath/src/$PKG" || exit 2
  export GO111MODULE=off GOPATH="$SCRATCH/gopath:/usr/share/gocode" GOFLAGS="" GOPROXY=off \
    GOCACHE="${GOCACHE:-$SCRATCH/gocache}" AMQP_URL="$AMQP_URL"
  go test -tags integration -count=1 -v -timeout "${GO_SUITE_TIMEOUT:-10m}" "${RUN_ARGS[@]}" .
) >"$SCRATCH/go-test.out" 2>&1
RC=$?

# A summary: counts, failing tests, and goleak's verdict (it fails a run whose tests all passed
# when connections are left open, e.g. by tests skipped because the server is not "RabbitMQ").
PASSED=$(grep -cE '^\s*--- PASS' "$SCRATCH/go-test.out")
FAILED=$(grep -cE '^\s*--- FAIL' "$SCRATCH/go-test.out")
echo "go-client-suite: $PASSED passed, $FAILED failed (go test exit $RC)"
grep -E '^\s*--- FAIL' "$SCRATCH/go-test.out"
if grep -q '^goleak: ' "$SCRATCH/go-test.out"; then
  echo "go-client-suite: goleak found goroutines left running after the tests (connections not closed):"
  grep -A2 '^goleak: ' "$SCRATCH/go-test.out" | head -3
fi
if [ "$RC" -ne 0 ]; then
  echo "---- go test output (failures and their logs) ----"
  grep -vE '^\s*(--- PASS|=== (RUN|PAUSE|CONT))|concurrent close w' "$SCRATCH/go-test.out" | head -200
fi
exit "$RC"
