#!/bin/sh
# Try acm-agent by hand against the bundled AWS emulator (tests/emulator/).
#
#   eval "$(sh tools/emulator-env.sh)"     start it in the background and set
#                                          the AWS_* variables in this shell
#   sh tools/emulator-env.sh               the same, printing the lines
#   sh tools/emulator-env.sh --stop        stop it and remove its directory
#
# The emulator listens on 127.0.0.1 over HTTPS with its own test CA and keeps
# running after this script exits; its state, log and a ready-to-use
# configuration (the demo's two Private CA certificates) are in
# $ACM_AGENT_EMU_DIR (default /tmp/acm-agent-emulator-$USER). Running it again
# while the emulator is up prints the same lines. Needs /usr/bin/python3 with
# python3-botocore and python3-cryptography (sh tools/install-deps.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
dir=${ACM_AGENT_EMU_DIR:-/tmp/acm-agent-emulator-$(id -un)}
py=${PYTHON3:-/usr/bin/python3}

running() { [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null && [ -s "$dir/ready.json" ]; }

case ${1:-} in
--stop)
	if [ -s "$dir/pid" ]; then
		pid=$(cat "$dir/pid")
		kill "$pid" 2>/dev/null || true
		i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		if kill -0 "$pid" 2>/dev/null; then
			echo "emulator-env: emulator pid $pid does not stop; kill it by hand" >&2
			exit 1
		fi
		echo "emulator-env: stopped the emulator (pid $pid)" >&2
	else
		echo "emulator-env: no emulator running from $dir" >&2
	fi
	rm -rf "$dir"
	exit 0
	;;
"") ;;
*) echo "usage: sh tools/emulator-env.sh [--stop]" >&2; exit 2 ;;
esac

if ! running; then
	[ -x "$py" ] || { echo "emulator-env: $py not found (sh tools/install-deps.sh installs it)" >&2; exit 1; }
	if [ -e "$dir" ]; then
		# Left over from an emulator that died: start afresh.
		rm -rf "$dir"
	fi
	mkdir -m 0700 "$dir"
	# Its own session, so it outlives this script and the terminal's ^C.
	setsid "$py" "$top/tests/emulator/emulator.py" --state-dir "$dir/state" --ready-file "$dir/ready.json" --tls \
		</dev/null >"$dir/log" 2>&1 &
	echo $! >"$dir/pid"
	i=0
	while [ ! -s "$dir/ready.json" ]; do
		if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null || [ $i -ge 600 ]; then
			echo "emulator-env: the emulator did not start; its log ($dir/log):" >&2
			sed 's/^/    /' "$dir/log" >&2
			kill "$(cat "$dir/pid")" 2>/dev/null || true
			rm -rf "$dir"
			exit 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	mkdir -p "$dir/work"
	sed "s|@DEMO_DIR@|$dir/work|g" "$top/conf/demo/acm-agent.yaml" >"$dir/acm-agent.yaml"
fi

agent=acm-agent
[ -x "$top/acm-agent" ] && agent=$top/acm-agent
"$py" - "$dir" "$agent" "$here/emulator-env.sh" <<'PY'
import json, shlex, sys
d, agent, me = sys.argv[1:4]
r = json.load(open(d + "/ready.json"))
q = shlex.quote
print("# acm-agent: the AWS emulator (pid %d) at %s" % (r["pid"], r["url"]))
for k, v in (("AWS_ACCESS_KEY_ID", r["access_key_id"]), ("AWS_SECRET_ACCESS_KEY", r["secret_access_key"]),
             ("AWS_REGION", r["region"]), ("AWS_DEFAULT_REGION", r["region"]),
             ("AWS_ENDPOINT_URL", r["url"]), ("AWS_CA_BUNDLE", r["ca_bundle"]),
             ("AWS_EC2_METADATA_DISABLED", "true"), ("ACM_AGENT_EMU_CONTROL_URL", r["control_url"])):
    print("export %s=%s" % (k, q(v)))
print("unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN")
print("# Private CAs (issuer.ca_arn):")
for arn, ca in sorted(r["cas"].items()):
    print("#   %s  %s" % (arn, " ".join(str(v) for v in ca.values() if isinstance(v, str))))
print("# Try (a configuration with two certificates, files under %s/work):" % d)
print("#   %s -c %s check --online" % (agent, q(d + "/acm-agent.yaml")))
print("#   %s -c %s --once" % (agent, q(d + "/acm-agent.yaml")))
print("#   %s -c %s status" % (agent, q(d + "/acm-agent.yaml")))
print("# Emulator log: %s/log; control API: tests/emulator/README.md" % d)
print("# Stop it:  sh %s --stop" % q(me))
PY
