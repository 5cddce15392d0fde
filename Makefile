# Warren's commands. `make run` and `make test` work on a fresh clone: each installs what it needs first.
SHELL := /bin/bash
BIN := node_modules/.bin
STAMP := node_modules/.installed-stamp

.PHONY: install codegen codegen-check build test test-clients run bench clean

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)

# The generator is compiled on its own so it never depends on the code it writes.
dist/codegen/main.js: $(STAMP) $(wildcard codegen/*.ts) codegen/tsconfig.json
	$(BIN)/tsc -p codegen/tsconfig.json

codegen: dist/codegen/main.js
	node dist/codegen/main.js

codegen-check: dist/codegen/main.js
	node dist/codegen/main.js --check

build: $(STAMP)
	$(BIN)/tsc -p tsconfig.json

test: codegen-check build
	$(BIN)/mocha

# Other clients against a fresh Warren (optional; installs Go and the clients from Debian's packages):
# the Go client's own integration suite, unchanged, and a pika / py-amqp script.
test-clients: build
	test/clients/go-client-suite.sh
	test/clients/python-clients.sh

run: codegen build
	mkdir -p data
	node bin/warren --host 0.0.0.0 --port 5672 --data-dir ./data

# All scenarios (a few minutes), or one: `make bench SCENARIO=tp-16b-auto` (`node dist/bench/main.js --list`).
bench: build
	node dist/bench/main.js $(SCENARIO)

clean:
	rm -rf dist data
