#!/bin/bash
# Issue 6 with the real agent and a real haproxy on 127.0.0.1:
#  - with reloaders.haproxy.runtime_socket: `renew NAME --force` puts the new
#    certificate in over the runtime API: the new serial is served, the
#    haproxy pid is unchanged and the reload command never ran;
#  - without the socket: exactly one reload (reload_command), new serial served.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
. "$ABS_TOP_SRCDIR/tests/emulator/emu.sh"
. "$ABS_TOP_SRCDIR/tests/integration/agent-lib.sh"
command -v haproxy >/dev/null || { echo "skip: no haproxy"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

emu_start --tls || exit 1
on_exit emu_stop
fetch_root || { not_ok "fetch the emulator's root CA certificate"; finish; }

PORT=$(free_port)
O=$TMP/certs/out/h1
RELOAD_LOG=$TMP/reloads.log
cat >"$TMP/haproxy.cfg" <<EOC
global
	stats socket $TMP/admin.sock level admin
defaults
	mode http
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$PORT ssl crt $O/haproxy.pem
	http-request return status 200 content-type text/plain string ok
EOC
cat >"$TMP/haproxy-reload" <<EOC
#!/bin/sh
echo reload >> $RELOAD_LOG
exec haproxy -D -f $TMP/haproxy.cfg -p $TMP/haproxy.pid -sf \$(cat $TMP/haproxy.pid)
EOC
chmod +x "$TMP/haproxy-reload"

OUT_EXTRA_FILES=", haproxy_bundle"
conf_with() { # RELOADERS_YAML
	{ pca_cert h1 "    reload: [haproxy]"; } | agent_conf "$TMP/certs" "$1"
}
# Bootstrap: the certificate must exist before haproxy can start.
{ pca_cert h1; } | agent_conf "$TMP/certs"
expect_agent 0 "first issuance (exit 0)" --once
[ -s "$O/haproxy.pem" ] && ok "haproxy.pem deployed" || not_ok "haproxy.pem deployed"
haproxy -D -f "$TMP/haproxy.cfg" -p "$TMP/haproxy.pid" || { echo "haproxy does not start"; exit 1; }
stop_haproxy() {
	[ -s "$TMP/haproxy.pid" ] || return 0
	for p in $(cat "$TMP/haproxy.pid"); do kill "$p" 2>/dev/null; done
	for p in $(cat "$TMP/haproxy.pid"); do
		i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	done
}
on_exit stop_haproxy
wait_for 10 test -s "$TMP/haproxy.pid"
pid=$(cat "$TMP/haproxy.pid")

served() { served_serial "$PORT" localhost; }
wait_served() { wait_served_serial "$PORT" localhost "$1"; }
s1=$(serial_of "$O/cert.pem")
wait_served "$s1" && ok "haproxy serves $s1" || not_ok "haproxy serves $s1 (got '$(served)')"

# With the runtime socket.
conf_with "reloaders:
  haproxy: {config: \"$TMP/haproxy.cfg\", runtime_socket: \"$TMP/admin.sock\", reload_command: [\"$TMP/haproxy-reload\"], pid_file: \"$TMP/haproxy.pid\"}"
expect_agent 0 "runtime API: renew h1 --force (exit 0)" renew h1 --force
s2=$(serial_of "$O/cert.pem")
[ "$s2" != "$s1" ] && verify_deployed "$O" && ok "renewed certificate deployed ($s2)" || not_ok "renewed (old $s1, now $s2)"
wait_served "$s2" && ok "haproxy serves the new serial without a reload" || not_ok "new serial served (got '$(served)')"
[ ! -e "$RELOAD_LOG" ] && ok "no reload happened" || not_ok "a reload happened ($(wc -l <"$RELOAD_LOG"))"
[ "$(cat "$TMP/haproxy.pid")" = "$pid" ] && kill -0 "$pid" && ok "haproxy pid $pid unchanged" || not_ok "haproxy pid changed"

# Without the socket: a reload.
conf_with "reloaders:
  haproxy: {config: \"$TMP/haproxy.cfg\", reload_command: [\"$TMP/haproxy-reload\"], pid_file: \"$TMP/haproxy.pid\"}"
expect_agent 0 "no socket: renew h1 --force (exit 0)" renew h1 --force
s3=$(serial_of "$O/cert.pem")
[ "$s3" != "$s2" ] && verify_deployed "$O" && ok "renewed certificate deployed ($s3)" || not_ok "renewed (old $s2, now $s3)"
[ "$(grep -c reload "$RELOAD_LOG" 2>/dev/null)" = 1 ] && ok "exactly one reload" || not_ok "reloads: $(cat "$RELOAD_LOG" 2>/dev/null | wc -l)"
wait_served "$s3" && ok "haproxy serves the new serial after the reload" || not_ok "serial after reload (got '$(served)')"
finish
