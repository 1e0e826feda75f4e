# Source me.  emu_start [--tls] starts the AWS emulator in a temporary state
# directory and exports EMU_URL, EMU_CONTROL_URL, EMU_CA_BUNDLE, EMU_PID,
# EMU_DIR, EMU_MODELS_DIR (the 2026 models, usable as AWS_DATA_PATH),
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_DEFAULT_REGION,
# AWS_ENDPOINT_URL; emu_stop stops it; emu_ctl METHOD PATH [JSON] calls the
# control API and prints its JSON answer.
# emu_cli_start starts a CLI server (cli-server.py: the real AWS CLI's entry
# point in one process); emu_aws ARGS... then behaves like /usr/bin/aws ARGS...
# (environment, working directory, stdout, stderr, exit status) without the
# one-second start of a new CLI process; emu_cli_stop ends it.  With
# EMU_CLI_INPROC=0, emu_aws runs /usr/bin/aws itself.
_emu_here=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
emu_start() {
	EMU_DIR=$(mktemp -d /tmp/acm-emu.XXXXXX) || return 1
	"${PYTHON3:-/usr/bin/python3}" "$_emu_here/emulator.py" --state-dir "$EMU_DIR" \
		--ready-file "$EMU_DIR/ready.json" "$@" >"$EMU_DIR/log" 2>&1 &
	EMU_PID=$!
	local i=0
	while [ ! -s "$EMU_DIR/ready.json" ]; do
		if ! kill -0 "$EMU_PID" 2>/dev/null || [ $i -ge 600 ]; then
			echo "emu_start: emulator did not start:" >&2; cat "$EMU_DIR/log" >&2; return 1
		fi
		sleep 0.05; i=$((i + 1))
	done
	eval "$("${PYTHON3:-/usr/bin/python3}" - "$EMU_DIR/ready.json" <<'PY'
import json, shlex, sys
r = json.load(open(sys.argv[1]))
for k, v in (("EMU_URL", r["url"]), ("EMU_CONTROL_URL", r["control_url"]), ("EMU_CA_BUNDLE", r["ca_bundle"] or ""),
             ("EMU_ECS_CREDENTIALS_URL", r["ecs_credentials_url"]), ("AWS_ACCESS_KEY_ID", r["access_key_id"]),
             ("AWS_SECRET_ACCESS_KEY", r["secret_access_key"]), ("AWS_REGION", r["region"]),
             ("AWS_DEFAULT_REGION", r["region"]), ("AWS_ENDPOINT_URL", r["url"]), ("EMU_MODELS_DIR", r["models_dir"])):
    print("export %s=%s" % (k, shlex.quote(v)))
PY
)"
	export EMU_PID EMU_DIR
	unset AWS_SESSION_TOKEN AWS_PROFILE
}
emu_stop() {
	[ -n "${EMU_PID:-}" ] || return 0
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
	rm -rf "$EMU_DIR"
	EMU_PID=
}
emu_ctl() {
	curl -sS -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$EMU_CONTROL_URL$2"
}
emu_cli_start() {
	[ "${EMU_CLI_INPROC:-1}" = 0 ] && return 0
	EMU_CLI_DIR=$(mktemp -d /tmp/acm-cli.XXXXXX) || return 1
	"${PYTHON3:-/usr/bin/python3}" "$_emu_here/cli-server.py" "$EMU_CLI_DIR" 2>"$EMU_CLI_DIR/log" &
	EMU_CLI_PID=$!
	local i=0
	while [ ! -p "$EMU_CLI_DIR/resp" ]; do
		if ! kill -0 "$EMU_CLI_PID" 2>/dev/null || [ $i -ge 600 ]; then
			echo "emu_cli_start: the CLI server did not start:" >&2; cat "$EMU_CLI_DIR/log" >&2; return 1
		fi
		sleep 0.05; i=$((i + 1))
	done
}
emu_aws() {
	# No server (EMU_CLI_INPROC=0, or emu_cli_start not called): a process.
	if [ "${EMU_CLI_INPROC:-1}" = 0 ] || [ -z "${EMU_CLI_DIR:-}" ]; then /usr/bin/aws "$@"; return; fi
	local d=$EMU_CLI_DIR rc
	env -0 >"$d/env" && printf '%s\0' "$@" >"$d/args" && pwd >"$d/cwd" || return 255
	if ! kill -0 "$EMU_CLI_PID" 2>/dev/null; then   # else opening the FIFO would block
		echo "emu_aws: the CLI server (pid $EMU_CLI_PID) is gone:" >&2; cat "$d/log" >&2; return 255
	fi
	echo run >"$d/req"
	if ! read -r -t 300 rc <"$d/resp"; then
		echo "emu_aws: no answer from the CLI server (pid $EMU_CLI_PID):" >&2; cat "$d/log" >&2; return 255
	fi
	cat "$d/stdout"; cat "$d/stderr" >&2
	return "$rc"
}
emu_cli_stop() {
	[ -n "${EMU_CLI_PID:-}" ] || return 0
	echo quit >"$EMU_CLI_DIR/req"
	wait "$EMU_CLI_PID" 2>/dev/null
	rm -rf "$EMU_CLI_DIR"
	EMU_CLI_PID= EMU_CLI_DIR=
}
