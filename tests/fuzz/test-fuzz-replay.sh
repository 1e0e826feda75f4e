#!/bin/sh
# Replays every fuzz corpus (seeds and the crashes found so far) through the
# plain replay programs: a fuzz finding, once fixed, stays fixed. The
# harnesses of other areas come from tests/fuzz/aws/harnesses.txt.
set -u
src=${ABS_TOP_SRCDIR:?}/tests/fuzz
bin=${ABS_TOP_BUILDDIR:?}/tests/fuzz
pass=0
fail=0
run() { # NAME CORPUS-DIR
	if [ ! -x "$bin/replay-$1" ]; then
		echo "FAIL $1: $bin/replay-$1 was not built"
		fail=$((fail + 1))
		return
	fi
	if [ ! -d "$2" ]; then
		echo "FAIL $1: no corpus directory $2"
		fail=$((fail + 1))
		return
	fi
	if out=$("$bin/replay-$1" "$2" 2>&1); then
		echo "ok   $1: $out"
		pass=$((pass + 1))
	else
		printf 'FAIL %s:\n%s\n' "$1" "$out" | tail -n 40
		fail=$((fail + 1))
	fi
}
for name in conf aws-creds-file pem-cert pem-key pkcs8; do
	run "$name" "$src/$name"
done
if [ -f "$src/aws/harnesses.txt" ]; then
	while read -r name file rest; do
		case "$name" in '' | '#'*) continue ;; esac
		run "$name" "$src/aws/$name"
	done < "$src/aws/harnesses.txt"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
