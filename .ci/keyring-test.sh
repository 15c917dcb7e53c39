#!/usr/bin/env bash
# Runs keystore's TestSecretService against a real Secret Service:
# gnome-keyring, unlocked with a throwaway password, on a private session
# bus from dbus-run-session. Fails (non-zero) if the test fails or is skipped.
#
# Needs the Debian packages gnome-keyring and dbus (for dbus-run-session and
# dbus-send), and Go. The keyring lives in a temporary directory, so the
# user's own keyrings are never touched.
set -euo pipefail

die() {
	echo "keyring-test: $*" >&2
	exit 1
}

if [[ "${1:-}" != --inside-session ]]; then
	# Outside: check tools, make a private home for the keyring, and re-run
	# this script inside a fresh session bus.
	for tool in dbus-run-session dbus-send gnome-keyring-daemon go; do
		command -v "$tool" >/dev/null ||
			die "$tool not found: apt-get install -y gnome-keyring dbus (and Go for go)"
	done
	cd "$(dirname "${BASH_SOURCE[0]}")/.."
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	mkdir -m 700 "$tmp/data" "$tmp/run"
	# gnome-keyring keeps keyrings in $XDG_DATA_HOME/keyrings and its
	# control socket in $XDG_RUNTIME_DIR/keyring.
	XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" \
		dbus-run-session -- bash "${BASH_SOURCE[0]}" --inside-session "$tmp"
	exit
fi

# Inside the session bus.
tmp="$2"

# Start the secrets component, creating and unlocking a login keyring with
# the password given on stdin; it prints variables (GNOME_KEYRING_CONTROL=…)
# for its clients.
while IFS= read -r line; do
	[[ "$line" == *=* ]] && export "${line?}"
done < <(printf %s detour-ci | gnome-keyring-daemon --unlock --components=secrets)

# Wait until it owns org.freedesktop.secrets: a call before that would make
# the bus start a second, locked gnome-keyring by D-Bus activation.
bus() {
	dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets"
}
for ((i = 0; i < 100; i++)); do
	[[ "$(bus NameHasOwner)" == *true* ]] && break
	sleep 0.1
done
[[ "$(bus NameHasOwner)" == *true* ]] || die "gnome-keyring-daemon did not claim org.freedesktop.secrets within 10s"

# Stop exactly the daemon we started when the test is done.
keyring_pid="$(bus GetConnectionUnixProcessID | awk '{print $NF}')"
trap 'kill "$keyring_pid" 2>/dev/null || true' EXIT

log="$tmp/go-test.log"
status=0
DETOUR_TEST_SECRET_SERVICE=1 go test -count=1 -timeout 2m -run 'SecretService' -v ./keystore/ 2>&1 |
	tee "$log" || status=$?

((status == 0)) || die "TestSecretService failed (go test exit $status)"
grep -q -- '--- SKIP: TestSecretService' "$log" && die "TestSecretService was skipped"
grep -qE -- '^--- PASS: TestSecretService \(' "$log" || die "TestSecretService did not run"
echo "keyring-test: TestSecretService passed against gnome-keyring"
