#!/bin/sh
# Real nginx on 127.0.0.1 serving certificates through OUTDIR/current:
# 20 certificates in one pass -> one config test, one SIGHUP, new serial
# served, master pid unchanged; broken config -> rollback, old cert served.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
DRIVER=$ABS_TOP_BUILDDIR/tests/integration/reload-driver
command -v nginx >/dev/null || { echo "skip: no nginx"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: nginx with user root needs root"; exit 77; }

OUT=$TMP/out-dir
mkdir -p "$OUT" "$TMP/nginx-tmp"
mkver() { # VERSION SERIAL
	mkdir -p "$OUT/$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
		-set_serial "$2" -keyout "$OUT/$1/key.pem" -out "$OUT/$1/fullchain.pem" 2>/dev/null
}
mkver v1 4097; mkver v2 4098; mkver v3 4099
ln -s v1 "$OUT/current"
ln -s current/fullchain.pem "$OUT/fullchain.pem"
ln -s current/key.pem "$OUT/key.pem"

PORT=$(free_port)
: >"$TMP/extra.conf"
cat >"$TMP/nginx.conf" <<EOC
daemon on;
user root;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx-tmp/body;
	proxy_temp_path $TMP/nginx-tmp/proxy;
	fastcgi_temp_path $TMP/nginx-tmp/fastcgi;
	uwsgi_temp_path $TMP/nginx-tmp/uwsgi;
	scgi_temp_path $TMP/nginx-tmp/scgi;
	include $TMP/extra.conf;
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate $OUT/fullchain.pem;
		ssl_certificate_key $OUT/key.pem;
		return 200 "ok\n";
	}
}
EOC
# The config test the agent runs, through a wrapper that counts calls.
cat >"$TMP/nginx-test" <<EOC
#!/bin/sh
echo test >> $TMP/tests.log
exec nginx -t -q -c $TMP/nginx.conf -e $TMP/error.log
EOC
chmod +x "$TMP/nginx-test"
# Failure hook: records its argv-less environment.
cat >"$TMP/failure-hook" <<EOC
#!/bin/sh
env | sort > $TMP/hook-env.\$ACM_AGENT_CERT_NAME
EOC
chmod +x "$TMP/failure-hook"

stop_nginx() { [ -s "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null; sleep 0.5; }
nginx -c "$TMP/nginx.conf" -e "$TMP/error.log" || { echo "nginx does not start"; cat "$TMP/error.log"; exit 1; }
on_exit stop_nginx

serial() { served_serial "$PORT" localhost; }
wait_serial() { wait_served_serial "$PORT" localhost "$1"; }
wait_serial 1001 && ok "nginx serves v1 (serial 1001)" || not_ok "nginx serves v1 (got $(serial))"
master=$(cat "$TMP/nginx.pid")

# Deploy v2 for 20 certificates, one pass.
ln -sfn v2 "$OUT/current"
expect_rc 0 "reload pass for 20 certificates succeeds" -- "$DRIVER" "$TMP/nginx.pid" "$OUT" v1 20 -- "$TMP/nginx-test"
expect_grep "cert cert19 ok" "all 20 certificates reported ok"
[ "$(grep -c . "$TMP/tests.log")" = 1 ] && ok "exactly one config test" || not_ok "config tests: $(cat "$TMP/tests.log" | wc -l)"
[ "$(grep -c 'SIGHUP to master' "$TMP/out")" = 1 ] && ok "exactly one reload (SIGHUP)" || not_ok "reloads: $(grep -c 'SIGHUP' "$TMP/out")"
wait_serial 1002 && ok "new serial 1002 served" || not_ok "new serial served (got $(serial))"
[ "$(cat "$TMP/nginx.pid")" = "$master" ] && kill -0 "$master" && ok "master pid $master unchanged" || not_ok "master pid changed"

# Broken configuration at renewal time: v3 deployed, test fails -> rollback to v2.
ln -sfn v3 "$OUT/current"
echo "this_is_not_a_directive;" >"$TMP/extra.conf"
expect_rc 1 "reload pass with a broken config fails" -- "$DRIVER" --failure-hook "$TMP/failure-hook" "$TMP/nginx.pid" "$OUT" v2 3 -- "$TMP/nginx-test"
expect_grep "cert cert0 failed rolled_back=1 reason=reload nginx: configuration test exit status 1" "failure reported with reason and rollback"
[ "$(readlink "$OUT/current")" = v2 ] && ok "files point to the previous version" || not_ok "current -> $(readlink "$OUT/current")"
if grep -q 'SIGHUP to master' "$TMP/out"; then not_ok "no reload after a failed test"; else ok "no reload after a failed test"; fi
sleep 1
[ "$(serial)" = 1002 ] && ok "nginx keeps serving the old certificate" || not_ok "served serial $(serial)"
kill -0 "$master" && ok "nginx still running" || not_ok "nginx died"
expect_grep "cert cert2 failure hook: succeeded" "failure hook ran for each failed certificate"
E=$TMP/hook-env.cert1
expect_grep "^ACM_AGENT_EVENT=failed$" "hook env: event" "$E"
expect_grep "^ACM_AGENT_CERT_NAME=cert1$" "hook env: certificate name" "$E"
expect_grep "^ACM_AGENT_FULLCHAIN=$OUT/fullchain.pem$" "hook env: fullchain path" "$E"
expect_grep "^ACM_AGENT_ERROR=reload nginx: configuration test exit status 1$" "hook env: error" "$E"
expect_grep "^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$" "hook env: fixed PATH" "$E"
if grep -qE '^(ACM_AGENT=|ABS_TOP_SRCDIR=|HOME=)' "$E"; then not_ok "hook env is clean"; else ok "hook env is clean"; fi

# nginx stopped: nothing to reload. The configuration test still runs (the
# next start must not fail on the new files), the pass succeeds and says so
# in one line, whatever the pid file looks like: gone (nginx removes it),
# empty, or naming the dead master.
: >"$TMP/extra.conf"
ln -sfn v3 "$OUT/current"
nginx -s stop -c "$TMP/nginx.conf" -e "$TMP/error.log"
i=0; while kill -0 "$master" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$master" 2>/dev/null && not_ok "nginx did not stop" || ok "nginx stopped"
not_running() { # DESCRIPTION WHY-REGEX
	: >"$TMP/tests.log"
	expect_rc 0 "stopped nginx, $1: the pass succeeds" -- "$DRIVER" "$TMP/nginx.pid" "$OUT" v2 3 -- "$TMP/nginx-test"
	expect_grep "^note nginx: nginx is not running \($2\): configuration test passed, nothing to reload$" \
		"stopped nginx, $1: one line says why nothing was reloaded"
	[ "$(grep -c '^note ' "$TMP/out")" = 1 ] && ok "stopped nginx, $1: said once for 3 certificates" ||
		not_ok "stopped nginx, $1: $(grep -c '^note ' "$TMP/out") note lines"
	expect_grep "^cert cert2 ok$" "stopped nginx, $1: every certificate ok"
	[ "$(grep -c . "$TMP/tests.log")" = 1 ] && ok "stopped nginx, $1: one configuration test" ||
		not_ok "stopped nginx, $1: $(grep -c . "$TMP/tests.log") configuration tests"
	[ "$(readlink "$OUT/current")" = v3 ] && ok "stopped nginx, $1: no rollback" ||
		not_ok "stopped nginx, $1: current -> $(readlink "$OUT/current")"
}
[ ! -e "$TMP/nginx.pid" ] && ok "nginx removed its pid file" || not_ok "nginx left $TMP/nginx.pid"
# `nginx -t` (the configuration test) creates an empty pid file when there
# is none: the state the reported "cannot read pid file: Invalid argument"
# came from.
not_running "no pid file" "pid file $TMP/nginx.pid is empty"
[ -e "$TMP/nginx.pid" ] && [ ! -s "$TMP/nginx.pid" ] && ok "nginx -t left an empty pid file" ||
	not_ok "nginx -t did not leave an empty pid file"
: >"$TMP/nginx.pid"
not_running "empty pid file" "pid file $TMP/nginx.pid is empty"
echo "$master" >"$TMP/nginx.pid"
not_running "stale pid file" "pid $master from $TMP/nginx.pid is not running"
# A pid file that is not a pid is no proof of anything: a failure that names it.
echo garbage >"$TMP/nginx.pid"
expect_rc 1 "a pid file without a pid fails the pass" -- "$DRIVER" "$TMP/nginx.pid" "$OUT" v2 1 -- "$TMP/nginx-test"
expect_grep "reason=reload nginx: pid file $TMP/nginx.pid holds \"garbage\", not a process id \(set reloaders.nginx.pid_file, or reload_command\)" \
	"the failure names the file and the setting"
ln -sfn v3 "$OUT/current"
# Stopped, with a configuration that would not start: fail and roll back.
rm -f "$TMP/nginx.pid"
echo "this_is_not_a_directive;" >"$TMP/extra.conf"
expect_rc 1 "stopped nginx with a broken configuration fails the pass" -- "$DRIVER" "$TMP/nginx.pid" "$OUT" v2 1 -- "$TMP/nginx-test"
expect_grep "cert cert0 failed rolled_back=1 reason=reload nginx: configuration test exit status 1" "rolled back"
: >"$TMP/extra.conf"
# Started again, nginx serves what the stopped passes left in place.
ln -sfn v3 "$OUT/current"
nginx -c "$TMP/nginx.conf" -e "$TMP/error.log" || not_ok "nginx does not start again"
wait_serial 1003 && ok "restarted nginx serves serial 1003" || not_ok "restarted nginx serves $(serial)"
finish
