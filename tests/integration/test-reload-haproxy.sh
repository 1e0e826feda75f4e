#!/bin/sh
# Real haproxy on 127.0.0.1: with the admin socket a renewed certificate is
# swapped in over the runtime API (same pid, no reload); without it the
# agent falls back to a reload and the new certificate is served.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
DRIVER=$ABS_TOP_BUILDDIR/tests/integration/reload-driver
command -v haproxy >/dev/null || { echo "skip: no haproxy"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

OUT=$TMP/out-dir
mkdir -p "$OUT"
mkver() { # VERSION SERIAL
	mkdir -p "$OUT/$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
		-set_serial "$2" -keyout "$OUT/$1/key.pem" -out "$OUT/$1/cert.pem" 2>/dev/null
	cat "$OUT/$1/cert.pem" "$OUT/$1/key.pem" >"$OUT/$1/haproxy.pem"
}
mkver v1 4097; mkver v2 4098; mkver v3 4099
ln -s v1 "$OUT/current"
ln -s current/haproxy.pem "$OUT/haproxy.pem"

PORT=$(free_port)
cat >"$TMP/haproxy.cfg" <<EOC
global
	stats socket $TMP/admin.sock level admin
defaults
	mode http
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$PORT ssl crt $OUT/haproxy.pem
	http-request return status 200 content-type text/plain string ok
EOC
stop_haproxy() { [ -s "$TMP/haproxy.pid" ] && kill $(cat "$TMP/haproxy.pid") 2>/dev/null; sleep 0.5; }
haproxy -D -f "$TMP/haproxy.cfg" -p "$TMP/haproxy.pid" || { echo "haproxy does not start"; exit 1; }
on_exit stop_haproxy

serial() { served_serial "$PORT" localhost; }
wait_serial() { wait_served_serial "$PORT" localhost "$1"; }
wait_serial 1001 && ok "haproxy serves v1 (serial 1001)" || not_ok "haproxy serves v1 (got $(serial))"
pid=$(cat "$TMP/haproxy.pid")
RELOAD="echo reload >> $TMP/reloads.log; haproxy -D -f $TMP/haproxy.cfg -p $TMP/haproxy.pid -sf \$(cat $TMP/haproxy.pid)"

# With the runtime socket: no reload at all.
ln -sfn v2 "$OUT/current"
expect_rc 0 "runtime API pass succeeds" -- "$DRIVER" --haproxy --socket "$TMP/admin.sock" --reload "$RELOAD" \
	"$TMP/haproxy.pid" "$OUT" v1 1 -- haproxy -c -q -f "$TMP/haproxy.cfg"
expect_grep "updated over .*no reload" "certificate swapped over the runtime API"
wait_serial 1002 && ok "new serial 1002 served" || not_ok "new serial served (got $(serial))"
[ ! -e "$TMP/reloads.log" ] && ok "no reload happened" || not_ok "a reload happened"
[ "$(cat "$TMP/haproxy.pid")" = "$pid" ] && kill -0 "$pid" && ok "haproxy pid $pid unchanged" || not_ok "haproxy pid changed"

# Without the socket: a reload.
ln -sfn v3 "$OUT/current"
expect_rc 0 "reload pass without socket succeeds" -- "$DRIVER" --haproxy --reload "$RELOAD" \
	"$TMP/haproxy.pid" "$OUT" v2 1 -- haproxy -c -q -f "$TMP/haproxy.cfg"
[ "$(grep -c reload "$TMP/reloads.log" 2>/dev/null)" = 1 ] && ok "exactly one reload" || not_ok "reloads: $(cat "$TMP/reloads.log" 2>/dev/null | wc -l)"
wait_serial 1003 && ok "new serial 1003 served after reload" || not_ok "serial after reload (got $(serial))"
stop_haproxy

# Master-worker mode (-W, as Debian runs it), no socket, no reload_command,
# no systemd: the agent sends SIGUSR2 to the master from the pid file; the
# master keeps its pid and its new worker serves the new certificate.
ln -sfn v1 "$OUT/current"
rm -f "$TMP/haproxy.pid"
haproxy -W -D -f "$TMP/haproxy.cfg" -p "$TMP/haproxy.pid" || { not_ok "haproxy -W does not start"; finish; }
wait_serial 1001 && ok "master-worker haproxy serves v1" || not_ok "master-worker serves v1 (got $(serial))"
master=$(cat "$TMP/haproxy.pid")
ln -sfn v2 "$OUT/current"
expect_rc 0 "reload pass by SIGUSR2 to the master succeeds" -- "$DRIVER" --haproxy \
	"$TMP/haproxy.pid" "$OUT" v1 1 -- haproxy -c -q -f "$TMP/haproxy.cfg"
wait_serial 1002 && ok "new serial 1002 served after SIGUSR2" || not_ok "serial after SIGUSR2 (got $(serial))"
[ "$(cat "$TMP/haproxy.pid")" = "$master" ] && kill -0 "$master" && ok "master pid $master unchanged" || not_ok "master pid changed"

# haproxy stopped: its pid file stays behind with the dead master's pid. The
# configuration test runs, nothing is reloaded, the pass succeeds and says so;
# with the runtime socket gone too.
ln -sfn v2 "$OUT/current"
kill "$master"
i=0; while kill -0 "$master" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$master" 2>/dev/null && not_ok "haproxy did not stop" || ok "haproxy stopped"
expect_rc 0 "stopped haproxy: the pass succeeds" -- "$DRIVER" --haproxy --socket "$TMP/admin.sock" \
	"$TMP/haproxy.pid" "$OUT" v3 2 -- haproxy -c -q -f "$TMP/haproxy.cfg"
expect_grep "^note haproxy: haproxy is not running \((pid $master from $TMP/haproxy.pid is not running|no pid file $TMP/haproxy.pid)\): configuration test passed, nothing to reload$" \
	"stopped haproxy: one line says why nothing was reloaded"
expect_grep "^cert cert1 ok$" "stopped haproxy: every certificate ok"
[ "$(readlink "$OUT/current")" = v2 ] && ok "stopped haproxy: no rollback" || not_ok "current -> $(readlink "$OUT/current")"
: >"$TMP/haproxy.pid"
expect_rc 0 "stopped haproxy, empty pid file: the pass succeeds" -- "$DRIVER" --haproxy \
	"$TMP/haproxy.pid" "$OUT" v3 1 -- haproxy -c -q -f "$TMP/haproxy.cfg"
expect_grep "^note haproxy: haproxy is not running \(pid file $TMP/haproxy.pid is empty\)" "stopped haproxy, empty pid file: said so"
# The pid file names a live process that is not haproxy (a reused pid): it
# gets no SIGUSR2 and the pass succeeds.
sleep 60 & other=$!
echo "$other" >"$TMP/haproxy.pid"
expect_rc 0 "pid file naming another program: the pass succeeds" -- "$DRIVER" --haproxy \
	"$TMP/haproxy.pid" "$OUT" v3 1 -- haproxy -c -q -f "$TMP/haproxy.cfg"
expect_grep "^note haproxy: haproxy is not running \(pid $other from $TMP/haproxy.pid is sleep, not haproxy\)" "names the other program"
kill -0 "$other" && ok "the other program got no signal" || not_ok "the other program was signalled"
kill "$other"; wait "$other" 2>/dev/null
# Broken configuration while stopped: fail and roll back.
echo "bogus_keyword" >>"$TMP/haproxy.cfg"
rm -f "$TMP/haproxy.pid"
expect_rc 1 "stopped haproxy with a broken configuration fails the pass" -- "$DRIVER" --haproxy \
	"$TMP/haproxy.pid" "$OUT" v3 1 -- haproxy -c -q -f "$TMP/haproxy.cfg"
expect_grep "cert cert0 failed rolled_back=1 reason=reload haproxy: configuration test exit status" "rolled back"
[ "$(readlink "$OUT/current")" = v3 ] && ok "files point to the previous version" || not_ok "current -> $(readlink "$OUT/current")"
finish
