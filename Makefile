# Detour's build. `make run` runs the gateway, `make test` runs every test;
# both install what they need on a fresh Debian/Ubuntu machine.

GO      ?= go
BIN     := bin/detour
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Debian packages the tests need, keyed by a command each provides.
TEST_DEPS := dbus-run-session:dbus gnome-keyring-daemon:gnome-keyring

.PHONY: all build run serve test unit keyring-test lint bench deps clean

all: build

## build: compile the detour binary to bin/detour
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

## run: build and run Detour (headless `detour serve` until the desktop window lands)
run: serve

## serve: build and run `detour serve` on 127.0.0.1:4000
serve: build
	./$(BIN) serve

## test: every test: lint, unit and integration tests under -race, the real keychain test
test: deps lint unit keyring-test

unit:
	$(GO) test -race -count=1 ./...

## keyring-test: the keystore against a real Secret Service (gnome-keyring on a private D-Bus)
keyring-test: deps
	bash .ci/keyring-test.sh

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## bench: benchmarks, including the latency the proxy adds (added-p50-µs, added-p99-µs)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5000x -count 1 ./...

## deps: install the Debian packages the tests need, when missing
deps:
	@missing=""; for dep in $(TEST_DEPS); do \
		command -v "$${dep%%:*}" >/dev/null 2>&1 || missing="$$missing $${dep##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf bin
