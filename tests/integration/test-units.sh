#!/bin/sh
# The systemd units and the journal catalog:
#  - systemd-analyze verify on the units as built (and it does catch a
#    broken one);
#  - systemd-analyze security --offline=true: fails above an exposure of 2.5;
#  - the catalog: journalctl --update-catalog takes it, --list-catalog lists
#    every MESSAGE_ID of agent/basic/log-messages.h and nothing else, and
#    each entry only substitutes fields its message documents;
#  - with ACM_AGENT_BOOT_TEST=1: a real systemd (Debian 12, booted with
#    systemd-nspawn) runs acm-agent.service's sandbox around
#    test-notify-probe (Type=notify, made of daemon-notify), which checks
#    what it can and cannot write and that nginx -t, haproxy -c, systemctl
#    reload nginx, signalling nginx's master, haproxy's runtime socket work
#    from inside; then reload, the watchdog killing a stuck loop, stop, and
#    acm-agent-once.service. ACM_AGENT_BOOT_AGENT=/path/to/acm-agent also
#    runs the real daemon under the real unit (start: READY=1, reload, stop).
#    The Debian tree is built once (debootstrap, about 2 min with a fast
#    mirror) and cached in ACM_AGENT_BOOT_CACHE (default
#    /var/cache/acm-agent-tests/bookworm-units); a run then takes about 30 s.
#    Needs root, systemd-nspawn and debootstrap (or the cached tree).
# Skips (77) without systemd-analyze.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || { echo "# systemd-analyze missing"; exit 77; }
PY=${PYTHON3:-/usr/bin/python3}
MAX_EXPOSURE=2.5
U=$TMP/units
mkdir -p "$U"

# The units as make builds them (mk/dist.mk), with the binary of this build
# so that verify finds an executable.
for u in acm-agent.service acm-agent-once.service; do
	sed -e "s|@bindir@|$ABS_TOP_BUILDDIR|g" -e 's|@sysconfdir@|/etc|g' "$ABS_TOP_SRCDIR/units/$u.in" >"$U/$u"
done
cp "$ABS_TOP_SRCDIR/units/acm-agent-once.timer" "$U/"

# --- verify ---------------------------------------------------------------
# --man=no: the pages are checked below against the source tree instead of
# whatever this machine has installed.
expect_rc 0 "systemd-analyze verify: the units load" -- \
	systemd-analyze verify --man=no "$U/acm-agent.service" "$U/acm-agent-once.service" "$U/acm-agent-once.timer"
if [ -s "$TMP/out" ]; then not_ok "systemd-analyze verify says nothing"; sed 's/^/# /' "$TMP/out"; else ok "systemd-analyze verify says nothing"; fi
sed -e 's/^ProtectSystem=strict/ProtectSytem=strict/' "$U/acm-agent.service" >"$TMP/broken.service"
systemd-analyze verify --man=no "$TMP/broken.service" >"$TMP/out" 2>&1
expect_grep "Unknown key.*'ProtectSytem'" "verify catches a misspelt setting (the check can fail)"
for u in acm-agent.service acm-agent-once.service; do
	for page in $(sed -n 's/^Documentation=//p' "$U/$u"); do
		case $page in
		man:*) f=$(echo "$page" | sed -e 's/^man://' -e 's/(\(.*\))$/.\1/')
			if [ -f "$ABS_TOP_SRCDIR/man/$f" ]; then ok "$u: $page is in man/"
			else echo "# warning: $u: Documentation=$page, but man/$f is not in the source tree"; fi ;;
		esac
	done
done

# --- security --------------------------------------------------------------
for u in acm-agent.service acm-agent-once.service; do
	systemd-analyze security --offline=true "$U/$u" >"$TMP/sec" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$TMP/sec")
	if [ -n "$score" ] && awk "BEGIN { exit !($score <= $MAX_EXPOSURE) }"; then
		ok "$u: exposure $score <= $MAX_EXPOSURE"
	else
		not_ok "$u: exposure ${score:-unknown} > $MAX_EXPOSURE"
		grep -E '^✗|Overall' "$TMP/sec" | sed 's/^/# /'
	fi
done
# The threshold check can fail: without the sandbox the figure is far above.
grep -vE '^(Protect|Private|NoNew|Capability|Restrict|SystemCall|Lock|Memory|Keyring|ProcSubset|UMask)' \
	"$U/acm-agent.service" >"$TMP/bare.service"
systemd-analyze security --offline=true "$TMP/bare.service" >"$TMP/sec" 2>&1
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$TMP/sec")
if [ -n "$score" ] && awk "BEGIN { exit !($score > $MAX_EXPOSURE) }"; then ok "unhardened copy: exposure $score > $MAX_EXPOSURE"
else not_ok "unhardened copy: exposure ${score:-unknown}"; fi

# --- journal catalog ----------------------------------------------------------
if command -v journalctl >/dev/null 2>&1; then
	R=$TMP/catroot
	mkdir -p "$R/usr/lib/systemd/catalog" "$R/var/lib/systemd/catalog"
	cp "$ABS_TOP_SRCDIR/units/acm-agent.catalog" "$R/usr/lib/systemd/catalog/"
	expect_rc 0 "journalctl --update-catalog takes the catalog" -- journalctl --root="$R" --update-catalog
	if [ -s "$TMP/out" ]; then not_ok "--update-catalog says nothing"; sed 's/^/# /' "$TMP/out"; else ok "--update-catalog says nothing"; fi
	journalctl --root="$R" --list-catalog >"$TMP/list" 2>&1
	"$PY" - "$ABS_TOP_SRCDIR/agent/basic/log-messages.h" "$ABS_TOP_SRCDIR/units/acm-agent.catalog" "$TMP/list" <<'EOF' >"$TMP/cat" 2>&1
import re, sys
header, catalog, listed = (open(p).read() for p in sys.argv[1:4])
# Each message: the comment above its _STR define names its fields.
doc = {}
for m in re.finditer(r'/\*((?:(?!\*/).)*)\*/\s*#define (LOG_MESSAGE_\w+)_STR "([0-9a-f]{32})"', header, re.S):
    fields = set(re.findall(r'\b([A-Z][A-Z0-9_]{2,})\b', m.group(1)))
    doc[m.group(3)] = (m.group(2), fields)
listed_ids = set(re.findall(r'^([0-9a-f]{32}) ', listed, re.M))
bad = 0
def check(cond, what):
    global bad
    print(("ok" if cond else "not ok") + " " + what)
    bad += not cond
check(len(doc) == 8, "log-messages.h defines 8 MESSAGE_IDs (%d)" % len(doc))
for mid, (name, _) in sorted(doc.items()):
    check(mid in listed_ids, "--list-catalog lists %s %s" % (name, mid))
check(listed_ids <= set(doc), "no catalog entry without a define: %s" % sorted(listed_ids - set(doc)))
for e in re.split(r'^-- ', catalog, flags=re.M)[1:]:
    mid = e.split(None, 1)[0]
    used = set(re.findall(r'@([A-Z_]+)@', e))
    known = doc.get(mid, ("?", set()))[1] | {"CERT_NAME"}
    check(used <= known, "%s substitutes documented fields only %s" % (doc.get(mid, ("?",))[0], sorted(used - known)))
sys.exit(1 if bad else 0)
EOF
	rc=$?
	while read -r line; do case $line in "ok "*) ok "catalog: ${line#ok }";; *) not_ok "catalog: ${line#not ok }";; esac; done <"$TMP/cat"
	[ $rc -eq 0 ] || not_ok "catalog check exited $rc"
else
	echo "# journalctl missing: catalog not checked"
fi

# --- boot a real systemd --------------------------------------------------------
boot_test() {
	CACHE=${ACM_AGENT_BOOT_CACHE:-/var/cache/acm-agent-tests/bookworm-units}
	PROBE=$ABS_TOP_BUILDDIR/tests/unit/daemon/test-notify-probe
	for t in systemd-nspawn flock timeout; do
		command -v $t >/dev/null 2>&1 || { echo "# boot test: $t missing"; return; }
	done
	[ "$(id -u)" = 0 ] || { echo "# boot test: needs root"; return; }
	[ -x "$PROBE" ] || { not_ok "boot test: $PROBE not built (make check builds it)"; return; }
	mkdir -p "$(dirname "$CACHE")"
	# The tree, once (a lock: two runs do not debootstrap at the same time).
	(
		flock 9
		if [ ! -f "$CACHE/.acm-agent-tree" ]; then
			command -v debootstrap >/dev/null 2>&1 || { echo "# boot test: debootstrap missing"; exit 2; }
			rm -rf "$CACHE.tmp"
			echo "# boot test: building the Debian 12 tree in $CACHE (once)"
			debootstrap --variant=minbase \
				--include=systemd,systemd-sysv,dbus,libcurl4,libyaml-0-2,libjansson4,libexpat1,libssl3 \
				bookworm "$CACHE.tmp" "${ACM_AGENT_BOOT_MIRROR:-http://deb.debian.org/debian}" \
				>"$CACHE.log" 2>&1 || exit 1
			# No service may start inside the chroot while installing.
			printf '#!/bin/sh\nexit 101\n' >"$CACHE.tmp/usr/sbin/policy-rc.d"
			chmod 755 "$CACHE.tmp/usr/sbin/policy-rc.d"
			chroot "$CACHE.tmp" env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y --no-install-recommends nginx-light haproxy procps >>"$CACHE.log" 2>&1 || exit 1
			rm -f "$CACHE.tmp/usr/sbin/policy-rc.d"
			chroot "$CACHE.tmp" apt-get clean >/dev/null 2>&1
			touch "$CACHE.tmp/.acm-agent-tree"
			mv "$CACHE.tmp" "$CACHE"
		fi
	) 9>"$CACHE.lock"
	case $? in 0) ;; 2) return ;; *) not_ok "boot test: building the tree failed (see $CACHE.log)"; return ;; esac

	# ACM_AGENT_BOOT_DIR keeps what was put in the container (and its results) for a look.
	B=${ACM_AGENT_BOOT_DIR:-$TMP/boot}
	mkdir -p "$B/bin" "$B/units" "$B/results"
	cp "$PROBE" "$B/bin/"
	[ -n "${ACM_AGENT_BOOT_AGENT:-}" ] && cp "$ACM_AGENT_BOOT_AGENT" "$B/bin/acm-agent"
	# acm-agent.service exactly as built, the probe in place of the agent.
	P=/opt/acm-test/bin/test-notify-probe
	PROBE_ARGS="--write /var/lib/acm-agent --write /etc/ssl/acm-agent --write /tmp --write /var/tmp"
	PROBE_ARGS="$PROBE_ARGS --deny /etc/acm-agent --deny /etc --deny /usr/lib --deny /var/lib --deny /root --deny /home --deny /opt"
	PROBE_ARGS="$PROBE_ARGS --unix /run/haproxy/admin.sock"
	sed -e "s|@bindir@/acm-agent|$P $PROBE_ARGS --exec /opt/acm-test/reload-path.sh|" \
		-e 's|@sysconfdir@|/etc|g' "$ABS_TOP_SRCDIR/units/acm-agent.service.in" >"$B/units/acm-agent.service"
	sed -e "s|@bindir@/acm-agent --once|$P --once $PROBE_ARGS --exec /opt/acm-test/reload-path.sh|" \
		-e 's|@sysconfdir@|/etc|g' "$ABS_TOP_SRCDIR/units/acm-agent-once.service.in" >"$B/units/acm-agent-once.service"
	if [ -n "${ACM_AGENT_BOOT_AGENT:-}" ]; then
		sed -e 's|@bindir@/acm-agent|/opt/acm-test/bin/acm-agent|' -e 's|@sysconfdir@|/etc|g' \
			"$ABS_TOP_SRCDIR/units/acm-agent.service.in" >"$B/units/acm-agent-real.service"
	fi
	# The test only shortens the watchdog and the restart delay.
	printf '[Service]\nWatchdogSec=2s\nRestartSec=1s\nLimitCORE=0\n' >"$B/units/watchdog.conf"
	# What the reload path does, run by the probe inside the sandbox.
	cat >"$B/reload-path.sh" <<'EOF'
#!/bin/sh
fail=0
t() { if "$@" >/tmp/reload-path.out 2>&1; then echo "reload-path ok - $*"; else echo "reload-path not ok - $*"; sed 's/^/#   /' /tmp/reload-path.out; fail=1; fi; }
t nginx -t
t haproxy -c -f /etc/haproxy/haproxy.cfg
t haproxy -c -f /opt/acm-test/haproxy-regex.cfg
t systemctl reload nginx
t sh -c 'kill -0 "$(cat /run/nginx.pid)"'
t sh -c 'kill -HUP "$(cat /run/nginx.pid)"'
t sh -c 'cat /proc/"$(cat /run/nginx.pid)"/cgroup'
t sh -c 'f=/etc/ssl/acm-agent/probe.key; umask 077; : >$f && chown root:www-data $f && chmod 0640 $f && rm $f'
t sh -c 'f=/etc/ssl/acm-agent/probe.pem; : >$f && chown www-data:www-data $f && chmod 0644 $f && rm $f'
t bash -c 'exec 3<>/dev/tcp/127.0.0.1/80'
t bash -c 'exec 3<>/dev/tcp/::1/80'
exit $fail
EOF
	cat >"$B/haproxy-regex.cfg" <<'EOF'
global
    log /dev/log local0
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:8443
    http-request deny if { path_reg ^/(admin|private)/.*\.(php|cgi)$ }
    default_backend b
backend b
    server s 127.0.0.1:8080
EOF
	# The runner: runs after boot, writes /results/log, powers off.
	cat >"$B/runner.sh" <<'EOF'
#!/bin/bash
exec >/results/log 2>&1
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
no() { n=$((n + 1)); echo "not ok $n - $*"; }
is() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else no "$1 (got '$2', want '$3')"; return 1; fi; }
prop() { systemctl show -P "$2" "$1"; }
# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND, bounded.
wait_for() { d=$1; s=$2; shift 2; i=0; while [ $i -lt $((s * 10)) ]; do "$@" && { ok "$d"; return 0; }; sleep 0.1; i=$((i + 1)); done; no "$d (not within ${s}s)"; return 1; }
journal_has() { journalctl -b -u "$1" -o cat --no-pager | grep -qE -- "$2"; }
for s in nginx haproxy; do is "$s runs in the container" "$(systemctl is-active $s)" active; done

# The daemon's unit around the probe.
systemctl start acm-agent.service
is "acm-agent.service: started (Type=notify: READY=1)" "$(prop acm-agent ActiveState)/$(prop acm-agent SubState)" active/running
st=$(prop acm-agent StatusText)
case $st in "probe: "*" ok, 0 failed") ok "STATUS= reaches systemd, every check passed ($st)";; *) no "STATUS= reaches systemd, every check passed ($st)";; esac
journalctl -b -u acm-agent -o cat --no-pager | grep -E '^(not )?ok - |^reload-path|^#' | sed 's/^/#   /'
pid=$(prop acm-agent MainPID)
is "NoNewPrivileges in effect" "$(grep NoNewPrivs /proc/$pid/status | awk '{print $2}')" 1
is "capability bounding set" "$(grep CapBnd /proc/$pid/status | awk '{print $2}')" 000000000000042b
is "seccomp filter in effect" "$(grep '^Seccomp:' /proc/$pid/status | awk '{print $2}')" 2
for d in /var/lib/acm-agent /etc/acm-agent /etc/ssl/acm-agent; do [ -d $d ] && ok "$d exists" || no "$d exists"; done
is "state directory mode" "$(stat -c %a /var/lib/acm-agent)" 700

# systemctl reload: SIGHUP, RELOADING=1 ... READY=1.
systemctl reload acm-agent.service
wait_for "reload ran the checks again" 20 journal_has acm-agent '^ok - reload: can write /var/lib/acm-agent'
wait_for "and all of them pass after the reload" 20 journal_has acm-agent '^reload-path ok - bash -c exec 3<>/dev/tcp/::1/80'
# READY=1 ends the "reload" state that RELOADING=1 started.
wait_for "running again after the reload (READY=1)" 20 sh -c '[ "$(systemctl show -P SubState acm-agent)" = running ]'

# The watchdog: a stuck loop (SIGUSR1 blocks it for 3 intervals) is killed
# and restarted (Restart=on-failure).
mkdir -p /run/systemd/system/acm-agent.service.d
cp /opt/acm-test/units/watchdog.conf /run/systemd/system/acm-agent.service.d/
systemctl daemon-reload
systemctl restart acm-agent.service
if is "watchdog armed (WatchdogUSec)" "$(prop acm-agent WatchdogUSec)" 2s; then
	before=$(prop acm-agent NRestarts)
	systemctl kill -s USR1 --kill-who=main acm-agent.service
	wait_for "the stuck loop is restarted by the watchdog" 30 sh -c "[ \$(systemctl show -P NRestarts acm-agent) -gt $before ]"
	journalctl -b -u acm-agent -o cat --no-pager | grep -iE 'watchdog' | head -3 | sed 's/^/#   /'
	wait_for "running again after the restart" 20 sh -c '[ "$(systemctl show -P SubState acm-agent)" = running ]'
fi
rm -rf /run/systemd/system/acm-agent.service.d
systemctl daemon-reload

# Stop: STOPPING=1, exit 0.
systemctl stop acm-agent.service
is "stopped cleanly" "$(prop acm-agent Result)/$(prop acm-agent ExecMainStatus)" success/0

# The timer's one-shot unit.
systemctl start acm-agent-once.service
is "acm-agent-once.service: the pass passes its checks" "$(prop acm-agent-once Result)/$(prop acm-agent-once ExecMainStatus)" success/0
journalctl -b -u acm-agent-once -o cat --no-pager | grep -E '^not ok' | sed 's/^/#   /'

# The real agent, when given.
if [ -x /opt/acm-test/bin/acm-agent ]; then
	mkdir -p /etc/acm-agent
	[ -f /etc/acm-agent/acm-agent.yaml ] || printf 'certificates: []\n' >/etc/acm-agent/acm-agent.yaml
	cp /opt/acm-test/units/acm-agent-real.service /run/systemd/system/
	systemctl daemon-reload
	timeout 120 systemctl start acm-agent-real.service
	is "real agent: started (READY=1)" "$(prop acm-agent-real ActiveState)/$(prop acm-agent-real SubState)" active/running
	echo "#   STATUS: $(prop acm-agent-real StatusText)"
	systemctl reload acm-agent-real.service
	wait_for "real agent: reloaded" 30 sh -c '[ "$(systemctl show -P SubState acm-agent-real)" = running ]'
	systemctl stop acm-agent-real.service
	is "real agent: stopped cleanly" "$(prop acm-agent-real Result)" success
	journalctl -b -u acm-agent-real -o short-monotonic --no-pager | tail -20 | sed 's/^/#   /'
fi
echo "1..$n"
systemctl poweroff --no-block
EOF
	cat >"$B/units/acm-units-test.service" <<'EOF'
[Unit]
Description=acm-agent units test runner
After=multi-user.target nginx.service haproxy.service
[Service]
Type=simple
ExecStart=/bin/bash /opt/acm-test/runner.sh
EOF
	chmod 755 "$B/runner.sh" "$B/reload-path.sh"
	start=$(date +%s)
	timeout 600 systemd-nspawn --quiet --register=no --keep-unit --private-network --volatile=overlay \
		-D "$CACHE" --bind-ro="$B:/opt/acm-test" --bind="$B/results:/results" \
		--bind-ro="$B/units/acm-agent.service:/etc/systemd/system/acm-agent.service" \
		--bind-ro="$B/units/acm-agent-once.service:/etc/systemd/system/acm-agent-once.service" \
		--bind-ro="$B/units/acm-units-test.service:/etc/systemd/system/acm-units-test.service" \
		-b systemd.wants=acm-units-test.service >"$TMP/console" 2>&1
	rc=$?
	echo "# boot test: container ran $(( $(date +%s) - start )) s (nspawn exit $rc)"
	if [ ! -s "$B/results/log" ] || ! grep -q '^1\.\.' "$B/results/log"; then
		not_ok "boot test: the runner did not finish"
		tail -30 "$TMP/console" | sed 's/^/# console: /'
		[ -f "$B/results/log" ] && sed 's/^/# log: /' "$B/results/log"
		return
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "boot: ${line#ok [0-9]* - }" ;;
		"not ok "*) not_ok "boot: ${line#not ok [0-9]* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$B/results/log"
}
if [ "${ACM_AGENT_BOOT_TEST:-0}" = 1 ]; then
	boot_test
else
	echo "# boot test skipped (ACM_AGENT_BOOT_TEST=1 runs it)"
fi
finish
