# Detour's build. `make run` runs Detour, `make test` runs every test;
# both install what they need on a fresh Debian/Ubuntu machine.

GO      ?= go
NPM     ?= npm
BIN     := bin/detour
DESKTOP := build/bin/detour
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Debian packages, each keyed by a file or command that shows it is there.
# The desktop window (Wails on WebKitGTK 4.1):
DESKTOP_DEPS := /usr/include/gtk-3.0/gtk/gtk.h:libgtk-3-dev \
	/usr/include/webkitgtk-4.1/webkit2/webkit2.h:libwebkit2gtk-4.1-dev pkg-config:pkg-config
# The tests: the real keychain, the browser, the window under Xvfb, and
# promtool (Debian's prometheus package), which checks a real scrape of
# /metrics in `make unit` (TestMetricsAfterScriptedSequence; under CI=true
# a missing promtool fails it).
TEST_DEPS := dbus-run-session:dbus gnome-keyring-daemon:gnome-keyring chromium:chromium \
	Xvfb:xvfb import:imagemagick xdotool:xdotool xwininfo:x11-utils curl:curl promtool:prometheus $(DESKTOP_DEPS)

.PHONY: all build desktop frontend run serve install test lint unit frontend-test e2e sdk-test sdk-deps keyring-test desktop-test bench fuzz \
	deps desktop-deps node-deps clean

all: build

## build: the headless-capable binary bin/detour (no window; detour serve, the dashboard at /ui/)
build: frontend
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

## desktop: the desktop app build/bin/detour (Wails window + gateway)
desktop: frontend desktop-deps
	$(GO) tool wails build -tags webkit2_41 -s -skipbindings -m -trimpath -ldflags '$(LDFLAGS)' -o detour

## frontend: build the dashboard into frontend/dist (embedded by go build)
frontend: node-deps
	cd frontend && $(NPM) run build

## run: build and open the desktop app; with no display it runs headless and prints the dashboard URL
run: desktop
	./$(DESKTOP)

PREFIX ?= $(HOME)/.local

## install: the desktop app, its desktop entry and icon under PREFIX (default ~/.local), for the app menu
install: desktop
	install -Dm755 $(DESKTOP) $(DESTDIR)$(PREFIX)/bin/detour
	install -Dm644 build/linux/detour.desktop $(DESTDIR)$(PREFIX)/share/applications/detour.desktop
	install -Dm644 build/appicon.png $(DESTDIR)$(PREFIX)/share/pixmaps/detour.png

## serve: build and run `detour serve` (headless) on 127.0.0.1:4000
serve: build
	./$(BIN) serve

## test: every test: lint, frontend units, Go units under -race, the page in Chromium, the real keychain, the window under Xvfb
test: deps lint frontend-test unit e2e sdk-test keyring-test desktop-test

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## frontend-test: type-check, unit-test (vitest) and build the dashboard
frontend-test: node-deps
	cd frontend && $(NPM) test && $(NPM) run build

unit:
	$(GO) test -race -count=1 ./...

## e2e: the dashboard of a real `detour serve` in Chromium (Playwright), screenshots in frontend/test-results
e2e: frontend
	DETOUR_E2E=1 $(GO) test -count=1 -run TestDashboardInBrowser .

## sdk-test: the official clients (@anthropic-ai/sdk, openai, the AI SDK, Claude Code) against a running Detour
sdk-test: sdk-deps
	DETOUR_SDK=1 $(GO) test -count=1 -run TestOfficialClients ./sdktest/

# The SDK tests' npm packages, as locked in sdktest/package-lock.json.
sdk-deps:
	@command -v $(NPM) >/dev/null || { echo "Node.js 20.19+ with npm is required (https://nodejs.org)" >&2; exit 1; }
	@if [ ! -d sdktest/node_modules ] || [ sdktest/package-lock.json -nt sdktest/node_modules/.package-lock.json ]; then \
		cd sdktest && $(NPM) ci --no-audit --no-fund; fi

## keyring-test: the keystore against a real Secret Service (gnome-keyring on a private D-Bus)
keyring-test: deps
	bash .ci/keyring-test.sh

## desktop-test: the Wails build under Xvfb: window up, screenshot not blank, gateway answers, clean quit
desktop-test: desktop
	bash .ci/desktop-test.sh $(DESKTOP)

## bench: benchmarks, including the latency the proxy adds (added-p50-µs, added-p99-µs) and what an attack on the door costs (BenchmarkAttack: peak RSS, connections left open)
bench:
	$(GO) test -run '^$$' -bench . -skip Attack -benchtime 5000x -count 1 ./...
	$(GO) test -run '^$$' -bench Attack -benchtime 3x -count 1 .

FUZZTIME ?= 30s
# An input that finds new code is minimized before fuzzing goes on, by
# default for up to 60 s, which would hold up a short run's worker for most
# of it. A crasher is minimized within the same bound; the failing input is
# saved under the package's testdata/fuzz either way.
FUZZMINIMIZETIME ?= 5s

## fuzz: each fuzz target for FUZZTIME (default 30s)
# `go test -fuzz` takes one target per run, so the targets are listed
# (`go test -list` prints a package's names, then its "ok" line) and run one
# at a time. Their seed corpora already run as tests in `make unit`.
fuzz:
	@targets="$$($(GO) test -list '^Fuzz' ./...)" || { echo "$$targets"; exit 1; }; \
	echo "$$targets" | awk '/^Fuzz/ { names[n++] = $$1; next } /^ok/ { for (i = 0; i < n; i++) print $$2, names[i]; n = 0 }' | \
	while read -r pkg name; do \
		echo "== $$name ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg" || exit 1; \
	done

# apt-install the packages of $(1) whose file or command is missing.
define apt_install
	@missing=""; for dep in $(1); do \
		what="$${dep%%:*}"; \
		case "$$what" in /*) [ -e "$$what" ] ;; *) command -v "$$what" >/dev/null 2>&1 ;; esac || missing="$$missing $${dep##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
		case " $$missing " in *" prometheus "*) \
			echo "prometheus was installed for promtool only: its server is disabled"; \
			command -v systemctl >/dev/null 2>&1 && $$sudo systemctl disable --now prometheus >/dev/null 2>&1 || true;; \
		esac; \
	fi
endef

## deps: install the Debian packages the tests need, when missing
deps:
	$(call apt_install,$(TEST_DEPS))

desktop-deps:
	$(call apt_install,$(DESKTOP_DEPS))

## node-deps: the dashboard's npm packages, as locked in frontend/package-lock.json
node-deps:
	@command -v $(NPM) >/dev/null || { echo "Node.js 20.19+ with npm is required (https://nodejs.org)" >&2; exit 1; }
	@if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then \
		cd frontend && $(NPM) ci --no-audit --no-fund; fi

clean:
	rm -rf bin build/bin frontend/dist/assets frontend/dist/index.html frontend/test-results
