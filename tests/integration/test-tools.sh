#!/bin/bash
# What an operator meets first, besides the packages:
#   tools/emulator-env.sh  starts the emulator in the background, prints the
#                          exports; the agent issues with them; a second call
#                          prints the same; --stop stops it;
#   tools/demo.sh          DEMO_KEEP=1 keeps the work directory and says where;
#                          without it, it is removed (and it says so);
#   shell completion       bash: commands, options, option values and the
#                          certificate names of the configuration given with
#                          -c; every command and option of --help is in the
#                          bash and zsh files; the zsh file parses and loads.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"
[ -x "${PYTHON3:-/usr/bin/python3}" ] || { echo "SKIP: no $PYTHON3 for the emulator"; exit 77; }

# --- tools/emulator-env.sh ---------------------------------------------------
export ACM_AGENT_EMU_DIR=$TMP/emu
stop_env_emu() { sh "$ABS_TOP_SRCDIR/tools/emulator-env.sh" --stop >/dev/null 2>&1; }
on_exit stop_env_emu
expect_rc 0 "emulator-env.sh starts the emulator" -- sh "$ABS_TOP_SRCDIR/tools/emulator-env.sh"
cp "$TMP/out" "$TMP/env.1"
expect_grep "^export AWS_ACCESS_KEY_ID=" "prints the key"
expect_grep "^export AWS_ENDPOINT_URL=https://127\.0\.0\.1:[0-9]+$" "prints the endpoint"
expect_grep "^export AWS_CA_BUNDLE=" "prints the CA bundle"
expect_grep "^# Stop it:  sh .*/tools/emulator-env.sh --stop$" "says how to stop it"
pid=$(cat "$TMP/emu/pid")
kill -0 "$pid" 2>/dev/null && ok "the emulator keeps running after the script exits" || not_ok "the emulator is gone"
(
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_CA_BUNDLE AWS_REGION
	eval "$(cat "$TMP/env.1")"
	"$ACM_AGENT" -c "$TMP/emu/acm-agent.yaml" --once
) >"$TMP/out" 2>&1
expect_grep "^2 certificates: 2 issued" "with the printed exports, --once issues the configuration it wrote"
expect_rc 0 "a second call while it runs" -- sh "$ABS_TOP_SRCDIR/tools/emulator-env.sh"
cmp -s "$TMP/out" "$TMP/env.1" && ok "prints the same (the same emulator)" || not_ok "a second call printed something else"
expect_rc 0 "--stop" -- sh "$ABS_TOP_SRCDIR/tools/emulator-env.sh" --stop
expect_grep "stopped the emulator \(pid $pid\)" "says it stopped it"
kill -0 "$pid" 2>/dev/null && not_ok "the emulator still runs" || ok "the emulator is stopped"
[ ! -e "$TMP/emu" ] && ok "its directory is removed" || not_ok "$TMP/emu is left"
PYTHON3=$TMP/no-python expect_rc 1 "without python3 it fails" -- sh "$ABS_TOP_SRCDIR/tools/emulator-env.sh"
expect_grep "emulator-env: $TMP/no-python not found \(sh tools/install-deps.sh installs it\)" "and says what to install"

# --- tools/demo.sh -------------------------------------------------------------
# (make demo runs it with the shell configure found, bash: emu.sh needs it)
DEMO_KEEP=1 expect_rc 0 "make demo DEMO_KEEP=1" -- bash "$ABS_TOP_SRCDIR/tools/demo.sh"
kept=$(sed -n 's/^== kept the work directory: //p' "$TMP/out")
[ -n "$kept" ] && [ -f "$kept/ssl/www/cert.pem" ] && [ -f "$kept/acm-agent.yaml" ] &&
	ok "DEMO_KEEP=1 keeps the work directory and names it ($kept)" || not_ok "no kept work directory: '$kept'"
expect_grep "go on by hand: eval .*tools/emulator-env.sh" "and says how to go on"
[ -n "$kept" ] && case $kept in /tmp/acm-agent-demo.*) rm -rf "$kept" ;; esac
expect_rc 0 "make demo" -- bash "$ABS_TOP_SRCDIR/tools/demo.sh"
gone=$(sed -n 's/^== removed the work directory \([^ ]*\) (keep it: make demo DEMO_KEEP=1)$/\1/p' "$TMP/out")
[ -n "$gone" ] && [ ! -e "$gone" ] && ok "without DEMO_KEEP the work directory is removed, and it says how to keep it" ||
	not_ok "work directory after make demo: '$gone'"

# --- shell completion ----------------------------------------------------------
BASHC=$ABS_TOP_SRCDIR/contrib/completion/bash/acm-agent
ZSHC=$ABS_TOP_SRCDIR/contrib/completion/zsh/_acm-agent
cat >"$TMP/c.yaml" <<'EOC'
certificates:
  - name: web-1
    issuer: {type: pca, ca_arn: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111", validity: 7d}
    dns_names: [web.example.com]
  - name: api.internal
    issuer: {type: pca, ca_arn: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111", validity: 7d}
    dns_names: [api.example.com]
EOC
# complete WORD...: the candidates bash offers for the last word.
complete_words() {
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_acm_agent; printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' "$BASHC" "$@"
}
want() { # DESCRIPTION EXPECTED -- WORDS...
	desc=$1; exp=$2; shift 3
	got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$exp" ] && ok "bash: $desc" || not_ok "bash: $desc: got '$got', want '$exp'"
}
want "commands" "check dns renew revoke status" -- "$ACM_AGENT" ""
want "global options" "--dry-run" -- "$ACM_AGENT" --dr
want "log levels" "debug error info notice warning" -- "$ACM_AGENT" --log-level ""
want "check options" "--online" -- "$ACM_AGENT" check --on
want "certificate names of -c CONFIG" "api.internal web-1" -- "$ACM_AGENT" -c "$TMP/c.yaml" renew ""
want "certificate names of --config=CONFIG" "web-1" -- "$ACM_AGENT" --config="$TMP/c.yaml" revoke w
want "one name only" "" -- "$ACM_AGENT" -c "$TMP/c.yaml" renew web-1 ""
want "revocation reasons" "key-compromise" -- "$ACM_AGENT" -c "$TMP/c.yaml" revoke web-1 --reason key
want "renew options" "--force" -- "$ACM_AGENT" renew web-1 --fo
want "dns: certificate names" "api.internal web-1" -- "$ACM_AGENT" -c "$TMP/c.yaml" dns ""
want "dns options" "--json" -- "$ACM_AGENT" dns web-1 --js
want "no names from a missing configuration" "" -- "$ACM_AGENT" -c /nonexistent renew ""
echo "bogus: 1" >"$TMP/broken.yaml"
want "no names from a broken configuration" "" -- "$ACM_AGENT" -c "$TMP/broken.yaml" renew ""
# Everything --help offers is completed (bash and zsh files).
"$ACM_AGENT" --help >"$TMP/help"
opts=$(grep -oE -- '--[a-z][a-z-]+' "$TMP/help" | LC_ALL=C sort -u)
cmds=$(sed -n '/^Commands:/,/^$/p' "$TMP/help" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$opts" ] && [ -n "$cmds" ] && ok "--help lists options and commands" || not_ok "cannot read --help"
for w in $opts $cmds; do
	grep -qE -- "(^|[^a-z-])$w([^a-z-]|$)" "$BASHC" && ok "bash completes $w" || not_ok "bash completion lacks $w (from --help)"
	grep -qE -- "(^|[^a-z-])$w([^a-z-]|$)" "$ZSHC" && ok "zsh completes $w" || not_ok "zsh completion lacks $w (from --help)"
done
if command -v zsh >/dev/null 2>&1; then
	expect_rc 0 "zsh: the completion parses" -- zsh -n "$ZSHC"
	# zwant DESCRIPTION EXPECTED LINE: what TAB offers after LINE in zsh
	zwant() {
		rm -f "$TMP/zcands"
		got=$(PATH=$(dirname "$ACM_AGENT"):$PATH timeout 60 zsh -f "$ABS_TOP_SRCDIR/tests/integration/zsh-complete.zsh" \
			"$(dirname "$ZSHC")" "$3" "$TMP/zcands" | tr '\n' ' ' | sed 's/ $//')
		[ "$got" = "$2" ] && ok "zsh: $1" || not_ok "zsh: $1: got '$got', want '$2'"
	}
	zwant "commands" "check dns renew revoke status" "acm-agent "
	zwant "check options" "--as --drop-in --json --online" "acm-agent check --"
	zwant "log levels" "debug error info notice warning" "acm-agent --log-level "
	zwant "certificate names of -c CONFIG" "api.internal web-1" "acm-agent -c $TMP/c.yaml renew "
	zwant "no names from a broken configuration (options only)" "--reason" "acm-agent -c $TMP/broken.yaml revoke "
	zwant "revocation reasons" "key-compromise" "acm-agent revoke web-1 --reason=key"
else
	echo "# zsh is not installed (sh tools/install-deps.sh --tests): only the word lists of the zsh completion are checked"
fi
finish
