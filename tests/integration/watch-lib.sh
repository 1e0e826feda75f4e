# Sourced by the crash tests (after lib.sh and agent-lib.sh); not a test.
#
# watch_start DIR...: watch-stable.py reads the served files of every DIR in
# the background until stop_watch (also at exit), which sets WATCH_RC; its
# findings go to $TMP/watch.report. It reads every few milliseconds while an
# agent runs: agent() (this one replaces agent-lib.sh's) makes
# $TMP/watch.active exist from before the agent starts until it has exited
# (only the agents change the files it reads).
watch_start() {
	"$PY" "$ABS_TOP_SRCDIR/tests/integration/watch-stable.py" --active "$TMP/watch.active" \
		"$TMP/watch.stop" "$TMP/watch.report" "$@" &
	WATCH_PID=$!
	on_exit stop_watch
}

# watch_selftest: the reader must see a mix when there is one (a reader
# that cannot proves nothing). It reads a directory whose served key is
# rewritten in place, without a new version, until the reader gives up on
# its own (after more than 50 violations; at most ~12 s, so that a slow
# start under load cannot make it miss them all), and must exit 1 with a
# MIX violation. Returns 0 when it did.
watch_selftest() {
	_d=$TMP/watch-selftest _v=$TMP/watch-selftest/out/.versions/v1
	mkdir -p "$_v" || return 1
	for _k in a b; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$_d/$_k.key" 2>/dev/null &&
			openssl req -x509 -new -key "$_d/$_k.key" -subj "/CN=$_k" -days 1 -out "$_d/$_k.pem" 2>/dev/null || return 1
	done
	cp "$_d/a.pem" "$_v/cert.pem" && cp "$_d/a.key" "$_v/key.pem" && cat "$_d/a.pem" "$_d/b.pem" >"$_v/fullchain.pem" &&
		ln -s .versions/v1 "$_d/out/current" || return 1
	for _f in cert key fullchain; do ln -s "current/$_f.pem" "$_d/out/$_f.pem" || return 1; done
	"$PY" "$ABS_TOP_SRCDIR/tests/integration/watch-stable.py" "$_d/stop" "$_d/report" "$_d/out" &
	_p=$!
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ $_i -lt 300 ]; do
		cp "$_d/b.key" "$_v/key.pem"; sleep 0.02; cp "$_d/a.key" "$_v/key.pem"; sleep 0.02
		_i=$((_i + 1))
	done
	touch "$_d/stop"
	wait "$_p"
	_rc=$?
	sed 's/^/# watch self-test: /' "$_d/report" | head -n 2
	[ "$_rc" = 1 ] && grep -q '^reads=[1-9]' "$_d/report" && grep -q 'MIX: key.pem does not match cert.pem' "$_d/report"
}

# shellcheck disable=SC2034 # WATCH_RC is read by the test that sourced this
stop_watch() { [ -n "${WATCH_PID:-}" ] || return 0; touch "$TMP/watch.stop"; wait "$WATCH_PID"; WATCH_RC=$?; WATCH_PID=; }

# AGENT_MARK (a suffix of that file) and AGENT_LOG (where its out and err
# go: ${AGENT_LOG}out, ${AGENT_LOG}err; default $TMP/) let agents run at once.
agent() {
	: >"$TMP/watch.active${AGENT_MARK:-}"
	"$ACM_AGENT" -c "$CONF" "$@" >"${AGENT_LOG:-$TMP/}out" 2>"${AGENT_LOG:-$TMP/}err"
	rc=$?
	rm -f "$TMP/watch.active${AGENT_MARK:-}"
	return $rc
}
