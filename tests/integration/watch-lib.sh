# Sourced by the crash tests (after lib.sh and agent-lib.sh); not a test.
#
# watch_start DIR...: watch-stable.py reads the served files of every DIR in
# the background until stop_watch (also at exit), which sets WATCH_RC; its
# findings go to $TMP/watch.report. Its loop is tight while an agent runs:
# agent() (this one replaces agent-lib.sh's) makes $TMP/watch.active exist
# from before the agent starts until it has exited (only the agents change
# the files it reads).
watch_start() {
	"$PY" "$ABS_TOP_SRCDIR/tests/integration/watch-stable.py" --active "$TMP/watch.active" \
		"$TMP/watch.stop" "$TMP/watch.report" "$@" &
	WATCH_PID=$!
	on_exit stop_watch
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
