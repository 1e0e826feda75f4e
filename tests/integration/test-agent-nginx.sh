#!/bin/bash
# Issue 6 with the real agent: nginx on 127.0.0.1 serves 20 certificates that
# `acm-agent --once` issued from the emulated Private CA (SNI picks one).
#  - renew c00 --force: s_client sees the new serial, the master pid is the same;
#  - 20 certificates renewed in one pass: exactly one `nginx -t` (counted by a
#    wrapper used as reloaders.nginx.test_command) and exactly one reload
#    (the agent's native SIGHUP, counted in nginx's own error log);
#  - a broken nginx configuration at renewal time: rollback (files point to the
#    previous version), nginx keeps serving the old serial, the failure hook
#    ran with exactly the documented environment, status shows the reason.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
command -v nginx >/dev/null || { echo "skip: no nginx"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: nginx with user root needs root"; exit 77; }

emu_start --tls || exit 1
on_exit emu_stop
fetch_root || { not_ok "fetch the emulator's root CA certificate"; finish; }

N=20
PORT=$(free_port)
mkdir -p "$TMP/nginx-tmp"
: >"$TMP/extra.conf"
: >"$TMP/servers.conf"
cat >"$TMP/nginx.conf" <<EOC
daemon on;
user root;
pid $TMP/nginx.pid;
error_log $TMP/error.log notice;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx-tmp/body;
	proxy_temp_path $TMP/nginx-tmp/proxy;
	fastcgi_temp_path $TMP/nginx-tmp/fastcgi;
	uwsgi_temp_path $TMP/nginx-tmp/uwsgi;
	scgi_temp_path $TMP/nginx-tmp/scgi;
	include $TMP/extra.conf;
	include $TMP/servers.conf;
}
EOC
cat >"$TMP/nginx-test" <<EOC
#!/bin/sh
echo test >> $TMP/tests.log
exec nginx -t -q -c $TMP/nginx.conf -e $TMP/error.log
EOC
# The failure hook records exactly the environment it was executed with.
cat >"$TMP/failure-hook" <<'EOC'
#!/bin/sh
tr '\0' '\n' < /proc/$$/environ > "$(dirname "$0")/hook-env.$ACM_AGENT_CERT_NAME"
EOC
chmod +x "$TMP/nginx-test" "$TMP/failure-hook"

# nginx starts without TLS servers; the agent's first pass deploys the
# certificates, tests the full configuration and reloads it in.
nginx -c "$TMP/nginx.conf" -e "$TMP/error.log" || { echo "nginx does not start"; cat "$TMP/error.log"; exit 1; }
stop_nginx() {
	[ -s "$TMP/nginx.pid" ] || return 0
	pid=$(cat "$TMP/nginx.pid"); kill "$pid" 2>/dev/null
	i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
on_exit stop_nginx
wait_for 10 test -s "$TMP/nginx.pid"
master=$(cat "$TMP/nginx.pid")

{
	for i in $(seq -f %02g 0 $((N - 1))); do
		pca_cert "c$i" "    reload: [nginx]
    hooks: {failure: \"$TMP/failure-hook\"}"
		cat >>"$TMP/servers.conf" <<EOC
server {
	listen 127.0.0.1:$PORT ssl;
	server_name c$i.example.com;
	ssl_certificate $TMP/certs/out/c$i/fullchain.pem;
	ssl_certificate_key $TMP/certs/out/c$i/key.pem;
	return 200 "c$i\n";
}
EOC
	done
} | agent_conf "$TMP/certs" "reloaders:
  nginx: {test_command: [\"$TMP/nginx-test\"], pid_file: \"$TMP/nginx.pid\"}"

served() { served_serial "$PORT" "$1.example.com"; }          # NAME: the serial nginx serves for NAME
wait_served() { wait_served_serial "$PORT" "$1.example.com" "$2"; }  # NAME SERIAL
count_tests() { grep -c . "$TMP/tests.log" 2>/dev/null || echo 0; }
count_reloads() { grep -c 'signal 1 (SIGHUP) received' "$TMP/error.log" 2>/dev/null || echo 0; }
O=$TMP/certs/out

expect_agent 0 "first pass issues $N certificates (exit 0)" --once
[ "$(count_tests)" = 1 ] && ok "first pass: one config test" || not_ok "first pass: $(count_tests) config tests"
wait_for 30 test "$(count_reloads)" -ge 1
[ "$(count_reloads)" = 1 ] && ok "first pass: one SIGHUP" || not_ok "first pass: $(count_reloads) SIGHUPs"
s0=$(serial_of "$O/c00/cert.pem")
wait_served c00 "$s0" && ok "nginx serves c00 ($s0)" || not_ok "nginx serves c00 (serves '$(served c00)', want '$s0')"
s19=$(serial_of "$O/c19/cert.pem")
wait_served c19 "$s19" && ok "nginx serves c19 ($s19)" || not_ok "nginx serves c19 (serves '$(served c19)', want '$s19')"

# Forced renewal of one certificate.
t0=$(count_tests) r0=$(count_reloads)
expect_agent 0 "renew c00 --force (exit 0)" renew c00 --force
s0b=$(serial_of "$O/c00/cert.pem")
[ "$s0b" != "$s0" ] && wait_served c00 "$s0b" && ok "nginx serves the new serial $s0b" || not_ok "nginx serves new serial (serves '$(served c00)', files '$s0b', old '$s0')"
[ "$(cat "$TMP/nginx.pid")" = "$master" ] && kill -0 "$master" && ok "master pid $master unchanged" || not_ok "master pid changed"
[ "$(count_tests)" = $((t0 + 1)) ] && [ "$(count_reloads)" = $((r0 + 1)) ] && ok "one test, one reload for the renewal" ||
	not_ok "renewal: tests $(($(count_tests) - t0)), reloads $(($(count_reloads) - r0))"

# All 20 due in one pass: the state's force_renewal flag (state.h), which is
# what a due / forced renewal leaves for the next pass.
for i in $(seq -f %02g 0 $((N - 1))); do
	$PY - "$TMP/certs/state/certs/c$i/state.json" <<'PY'
import json, os, sys
p = sys.argv[1]; d = json.load(open(p)); d["force_renewal"] = True
open(p + ".tmp", "w").write(json.dumps(d)); os.rename(p + ".tmp", p)
PY
done
t0=$(count_tests) r0=$(count_reloads)
declare -A before
for i in $(seq -f %02g 0 $((N - 1))); do before[$i]=$(serial_of "$O/c$i/cert.pem"); done
expect_agent 0 "$N due certificates renewed in one pass (exit 0)" --once
changed=0; for i in $(seq -f %02g 0 $((N - 1))); do
	[ "$(serial_of "$O/c$i/cert.pem")" != "${before[$i]}" ] && verify_deployed "$O/c$i" && changed=$((changed + 1))
done
[ $changed = $N ] && ok "all $N renewed and consistent" || not_ok "$changed of $N renewed"
[ "$(count_tests)" = $((t0 + 1)) ] && ok "exactly one config test for $N certificates" || not_ok "config tests: $(($(count_tests) - t0))"
wait_for 30 test "$(count_reloads)" -ge $((r0 + 1))
sleep 1 # a second SIGHUP would have been sent by now: the agent has exited
[ "$(count_reloads)" = $((r0 + 1)) ] && ok "exactly one reload (SIGHUP) for $N certificates" || not_ok "reloads: $(($(count_reloads) - r0))"
s7=$(serial_of "$O/c07/cert.pem")
wait_served c07 "$s7" && ok "nginx serves the renewed c07 ($s7)" || not_ok "nginx serves renewed c07 (serves '$(served c07)', want '$s7')"
[ "$(cat "$TMP/nginx.pid")" = "$master" ] && kill -0 "$master" && ok "master pid still $master" || not_ok "master pid changed"

# Broken configuration at renewal time.
old=$(serial_of "$O/c00/cert.pem"); oldver=$(readlink "$O/c00/current")
echo "this_is_not_a_directive;" >"$TMP/extra.conf"
r0=$(count_reloads)
expect_agent 1 "renewal with a broken nginx config fails (exit 1)" renew c00 --force
grep -E 'error' "$TMP/err" | grep -q 'c00' && grep -qiE 'nginx' "$TMP/err" && ok "the error names nginx and the certificate" || { not_ok "error names nginx"; show_err; }
[ "$(readlink "$O/c00/current")" = "$oldver" ] && [ "$(serial_of "$O/c00/cert.pem")" = "$old" ] && verify_deployed "$O/c00" &&
	ok "files point to the previous version ($oldver)" || not_ok "rollback: current -> $(readlink "$O/c00/current"), was $oldver"
sleep 1
[ "$(count_reloads)" = "$r0" ] && ok "no reload after the failed test" || not_ok "reloaded after failed test"
[ "$(served c00)" = "$old" ] && ok "nginx keeps serving the old certificate ($old)" || not_ok "nginx serves '$(served c00)', want $old"
kill -0 "$master" && ok "nginx still running" || not_ok "nginx died"
E=$TMP/hook-env.c00
if [ -f "$E" ]; then
	ok "failure hook ran"
	expect_grep "^ACM_AGENT_EVENT=failed$" "hook env: event" "$E"
	expect_grep "^ACM_AGENT_CERT_NAME=c00$" "hook env: certificate name" "$E"
	expect_grep "^ACM_AGENT_ERROR=.*nginx" "hook env: error names nginx" "$E"
	expect_grep "^ACM_AGENT_FULLCHAIN=$O/c00/fullchain.pem$" "hook env: stable fullchain path" "$E"
	expect_grep "^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$" "hook env: fixed PATH" "$E"
	if grep -q '^ACM_AGENT_SERIAL=' "$E"; then
		[ "$(sed -n 's/^ACM_AGENT_SERIAL=//p' "$E" | tr a-f A-F | sed 's/://g; s/^0*//')" = "$old" ] &&
			ok "hook env: serial is the one still in place" || not_ok "hook env: serial $(grep SERIAL "$E"), want $old"
	fi
	extra=$(grep -vE '^(PATH|ACM_AGENT_(EVENT|CERT_NAME|OUTPUT_DIR|CERT|CHAIN|FULLCHAIN|KEY|HAPROXY_BUNDLE|SERIAL|NOT_AFTER|ARN|ISSUER|ERROR|VALIDATION))=' "$E")
	[ -z "$extra" ] && ok "hook env: nothing else" || not_ok "hook env has more: $(echo "$extra" | cut -c1-60 | tr '\n' ' ')"
else
	not_ok "failure hook ran (no $E)"
fi
agent status --json
P status-json "$TMP/out" c00 last_error error | grep -qi nginx && ok "status shows the reason" || { not_ok "status shows the reason"; show_err; }

# Configuration repaired: the next pass honours the backoff (no attempt),
# `renew c00` retries at once and succeeds (the forced renewal stayed wanted).
: >"$TMP/extra.conf"
expect_agent 1 "the next pass after the failure honours the backoff (exit 1)" --once
grep -q "c00: failed.*next attempt at" "$TMP/out" && ok "it says when the next attempt is" || { not_ok "next attempt not shown"; show_err; }
expect_agent 0 "after the config is repaired renew c00 retries at once (exit 0)" renew c00
s=$(serial_of "$O/c00/cert.pem")
[ "$s" != "$old" ] && wait_served c00 "$s" && ok "nginx serves the retried renewal ($s)" || not_ok "retried renewal served (files '$s', serves '$(served c00)')"
finish
