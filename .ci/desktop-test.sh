#!/usr/bin/env bash
# The desktop app under Xvfb: window up and painted (screenshot not blank),
# gateway answering on its TCP port, single instance, clean exit on Quit
# and on SIGTERM.
#
#   .ci/desktop-test.sh [BINARY]    default: build it into build/bin/detour
#
# Needs Xvfb, xdotool, xwininfo, ImageMagick (import, convert), curl and
# dbus-run-session; the Wails build needs libgtk-3-dev and
# libwebkit2gtk-4.1-dev (make desktop-deps). Screenshots and logs go to
# build/bin/test-output/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

fail() { echo "desktop-test: FAIL: $*" >&2; exit 1; }
say() { echo "desktop-test: $*"; }
now_ms() { date +%s%3N; }

for cmd in Xvfb xdotool xwininfo import convert curl dbus-run-session timeout; do
	command -v "$cmd" >/dev/null || fail "$cmd is not installed (make deps installs it)"
done

out=$root/build/bin/test-output
mkdir -p "$out"
rm -f "$out"/*.png "$out"/*.log

bin=${1:-}
if [[ -z $bin ]]; then
	bin=build/bin/detour
	say "building the desktop app"
	start=$(now_ms)
	version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
	go tool wails build -tags webkit2_41 -s -skipbindings -m -trimpath -nocolour -ldflags "-X main.version=$version" \
		-o detour >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; fail "the Wails build failed"; }
	say "built $bin in $(($(now_ms) - start)) ms"
fi
[[ -x $bin ]] || fail "no executable at $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d)
pids=()
cleanup() {
	local status=$? p alive
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 50); do # up to 5 s to end cleanly, then KILL
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if ((status != 0)); then
		for log in "$tmp"/*.log; do
			[[ -e $log ]] || continue
			echo "--- $(basename "$log") (last 40 lines)" >&2
			tail -n 40 "$log" >&2
		done
	fi
	cp "$tmp"/*.log "$out"/ 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free display, chosen by Xvfb itself.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/display ]] && break; sleep 0.1; done
[[ -s $tmp/display ]] || fail "Xvfb did not start"
display=:$(<"$tmp/display")
say "Xvfb on $display"

# Detour listens on a port the kernel picks (--addr 127.0.0.1:0); start
# reads it from the log line that says where Detour serves.
base=

# A private home: config, cache, autostart and the instance lock all in $tmp.
mkdir -p "$tmp/home" "$tmp/run" && chmod 700 "$tmp/run"
cat >"$tmp/config.yaml" <<YAML
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock_response: "Hello from the desktop test", mock_latency_ms: 5}
YAML
# The private environment, with no D-Bus session bus. env execs the
# command, so a background job's $! is the command's pid. LANG=C.UTF-8, as
# in most containers: WebKitGTK then reports navigator.language "C", which
# the dashboard must survive.
private_env=(env -i PATH="$PATH" HOME="$tmp/home" USER="${USER:-test}" DISPLAY="$display" LANG=C.UTF-8
	XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache"
	XDG_DATA_HOME="$tmp/home/.local/share")
in_env() { "${private_env[@]}" "$@"; }

# start LOG WRAPPER... ARGS: start Detour, set $pid, wait for /health.
start() {
	local log=$1
	shift
	local t0
	t0=$(now_ms)
	"${private_env[@]}" "$@" --config "$tmp/config.yaml" --addr 127.0.0.1:0 >"$tmp/$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	base=
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || fail "Detour exited during startup (see $log)"
		[[ -n $base ]] || base=$(sed -n 's|.*msg="Detour is serving" url=\(http://127\.0\.0\.1:[0-9]*\)/v1.*|\1|p;T;q' "$tmp/$log")
		[[ -n $base ]] && curl -sf "$base/health" >/dev/null && break
		sleep 0.1
	done
	[[ -n $base ]] || fail "Detour never said where it listens (see $log)"
	curl -sf "$base/health" >/dev/null || fail "no /health answer within 30 s"
	say "/health answered $(($(now_ms) - t0)) ms after launch"
}

# visible_window: the id of Detour's visible top-level window, if any.
visible_window() { in_env xdotool search --onlyvisible --name '^Detour$' 2>/dev/null | head -n 1; }

# wait_exit SECONDS: wait for $pid to end; fail unless it exits 0.
wait_exit() {
	local deadline=$((SECONDS + $1)) status
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || fail "Detour still running $1 s after being told to quit"
		sleep 0.1
	done
	status=0
	wait "$pid" || status=$?
	((status == 0)) || fail "Detour exited with status $status"
}

# second_launch ARGS: a second instance must exit 0 at once, leaving the first.
second_launch() {
	local status=0 t0
	t0=$(now_ms)
	in_env timeout 10 "$bin" "$@" >"$tmp/second.log" 2>&1 || status=$?
	((status == 0)) || fail "second launch exited with status $status: $(cat "$tmp/second.log")"
	grep -q "already running" "$tmp/second.log" || fail "second launch did not defer to the first: $(cat "$tmp/second.log")"
	say "second launch $* exited 0 in $(($(now_ms) - t0)) ms"
	kill -0 "$pid" 2>/dev/null || fail "the first instance died after the second launch"
	curl -sf "$base/health" >/dev/null || fail "the gateway stopped answering after the second launch"
}

chat() {
	local body
	body=$(curl -sS -w '\n%{http_code}' "$base/v1/chat/completions" -H 'Content-Type: application/json' \
		-d '{"model":"demo","messages":[{"role":"user","content":"hi"}]}') || fail "chat completion request failed"
	[[ ${body##*$'\n'} == 200 ]] || fail "chat completion answered ${body##*$'\n'}: ${body%$'\n'*}"
	[[ $body == *"Hello from the desktop test"* ]] || fail "chat completion lacks the mock's answer: $body"
	say "chat completion: 200 with the mock's answer"
}

# --- Run 1: no D-Bus at all; window shown; quit through the dashboard API.
say "run 1: window, no D-Bus session bus, quit via POST /api/v1/app/quit"
start detour-1.log "$bin"
win=
for _ in $(seq 200); do win=$(visible_window) && [[ -n $win ]] && break; sleep 0.1; done
[[ -n $win ]] || fail "no visible window named Detour"
in_env xwininfo -id "$win" | grep -q 'Map State: IsViewable' || fail "window $win is not mapped"
read -r wx wy ww wh < <(in_env xwininfo -id "$win" |
	awk '/Absolute upper-left X:/{x=$4} /Absolute upper-left Y:/{y=$4} /Width:/{w=$2} /Height:/{h=$2} END{print x, y, w, h}')
say "window $win is mapped, ${ww}x${wh} at $wx,$wy"

# page_colours PNG: distinct colours in the window below its menu bar (the
# web page): 1 while the page is blank, hundreds once it has painted.
page_colours() { convert "$1" -crop "${ww}x$((wh * 4 / 5))+$wx+$((wy + wh / 5))" +repage -format %k info:; }

# painted PNG: the page paints a moment after the window maps, so poll
# screenshots into PNG until the page is not blank; fail after 30 s.
painted() {
	local colours=0
	for _ in $(seq 60); do
		in_env import -window root "$1"
		colours=$(page_colours "$1")
		((colours > 50)) && break
		sleep 0.5
	done
	((colours > 50)) || fail "the page in screenshot $1 looks blank ($colours colours)"
	# Painted may still mean loading placeholders; the data comes a moment
	# later, through the in-process API, so the saved screenshot is taken a
	# second on (the check stays "not blank": placeholders have colours too).
	sleep 1
	in_env import -window root "$1"
	colours=$(page_colours "$1")
	((colours > 50)) || fail "the page in screenshot $1 went blank ($colours colours)"
	say "screenshot: $1 (page: $colours colours)"
}
painted "$out/desktop.png"

# The page writes through the in-process API (Wails' asset server, not
# TCP): open Settings from the nav, change the listen address, press
# Enter; the config file holds it.
in_env xdotool mousemove $((wx + 50)) $((wy + 244)) click 1 # the nav's Settings link
sleep 1
in_env xdotool key Tab ctrl+a
in_env xdotool type --delay 10 127.0.0.1:4999
in_env xdotool key Return
for _ in $(seq 50); do grep -q 'listen: 127.0.0.1:4999' "$tmp/config.yaml" && break; sleep 0.1; done
grep -q 'listen: 127.0.0.1:4999' "$tmp/config.yaml" ||
	fail "a settings save in the window did not reach the config file: $(cat "$tmp/config.yaml")"
in_env import -window root "$out/desktop-settings.png"
say "the window's page saved a setting through the in-process API ($out/desktop-settings.png)"

chat
second_launch --config /nonexistent/ignored.yaml
grep -q 'launched again' "$tmp/detour-1.log" || fail "the first instance did not log the second launch"

# Detour → Close window (Ctrl+W) hides the window; the gateway keeps serving.
in_env xdotool windowfocus --sync "$win" key ctrl+w
for _ in $(seq 50); do [[ -z $(visible_window) ]] && break; sleep 0.1; done
[[ -z $(visible_window) ]] || fail "Ctrl+W did not hide the window"
kill -0 "$pid" 2>/dev/null || fail "Detour exited when its window was closed"
chat
say "Ctrl+W hid the window; the gateway still serves"

status=$(curl -sS -o "$tmp/quit.out" -w '%{http_code}' -X POST "$base/api/v1/app/quit" -H 'Content-Type: application/json' -d '{}') ||
	fail "POST /api/v1/app/quit failed"
[[ $status == 2?? ]] || fail "POST /api/v1/app/quit answered $status: $(cat "$tmp/quit.out")"
t0=$(now_ms)
wait_exit 60
say "quit via the API: exit 0 after $(($(now_ms) - t0)) ms"
[[ -z $(visible_window) ]] || fail "a Detour window is still visible after quitting"

# --- Run 2: D-Bus session bus; starts hidden; a second launch shows it; SIGTERM.
say "run 2: --hidden under dbus-run-session, shown by a second launch, SIGTERM"
# dbus-run-session runs its child as its own child: exec through sh to learn Detour's pid.
start detour-2.log dbus-run-session -- sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/detour.pid" "$bin" --hidden
wrapper=$pid
pid=$(<"$tmp/detour.pid")
pids+=("$pid")
sleep 1
[[ -z $(visible_window) ]] || fail "--hidden showed a window"
say "--hidden: no visible window"
chat
second_launch
win=
for _ in $(seq 100); do win=$(visible_window) && [[ -n $win ]] && break; sleep 0.1; done
[[ -n $win ]] || fail "the second launch did not bring the hidden window up"
say "the second launch showed the hidden window ($win)"
painted "$out/desktop-shown.png"
kill -TERM "$pid"
t0=$(now_ms)
pid=$wrapper # dbus-run-session exits with Detour's status
wait_exit 60
say "SIGTERM: exit 0 after $(($(now_ms) - t0)) ms"
grep -q 'Detour has quit' "$tmp/detour-2.log" || fail "no clean-quit line in the log"

# --- Run 3: --hidden, and SIGTERM as soon as the gateway answers: a quit
# that comes while the window never showed still ends the app cleanly.
say "run 3: --hidden, SIGTERM at once"
start detour-3.log "$bin" --hidden
kill -TERM "$pid"
t0=$(now_ms)
wait_exit 60
say "SIGTERM while hidden: exit 0 after $(($(now_ms) - t0)) ms"
grep -q 'Detour has quit' "$tmp/detour-3.log" || fail "no clean-quit line in the log"

say "PASS"
