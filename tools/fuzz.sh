#!/bin/sh
# Builds the libFuzzer harnesses (tests/fuzz/, and those listed in
# tests/fuzz/aws/harnesses.txt) with clang, ASan, UBSan and libFuzzer in a
# build of its own, then runs each for FUZZ_SECONDS seconds.
#
#   tools/fuzz.sh [--build-only] [--seconds N] [NAME...]
#
# The build lives in build-fuzz/ of the source tree (FUZZ_BUILD_DIR to move
# it). When the source tree is itself configured (an in-tree ./configure),
# automake refuses a second build from it: the build then works on a copy of
# the tracked and untracked-but-not-ignored files (git ls-files) in
# build-fuzz/src, refreshed on every run with their times kept, so rebuilds
# are incremental.
#
# New inputs found go to build-fuzz/corpus/NAME (the seeds in tests/fuzz/NAME
# are read, never written). A crash, leak, timeout or out-of-memory stops
# with its input in build-fuzz/artifacts/: fix the bug, then copy the input
# into tests/fuzz/NAME/ (tests/fuzz/aws/NAME/) so `make check` replays it.
# Exit: 0 clean, 1 a finding or a build failure, 77 clang or libFuzzer missing.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_BUILD_DIR:-$srcdir/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
build_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build-only) build_only=1 ;;
	--seconds) seconds=$2; shift ;;
	--seconds=*) seconds=${1#--seconds=} ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 1 ;;
	*) break ;;
	esac
	shift
done
case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: --seconds wants a number, not '$seconds'" >&2; exit 1 ;; esac

CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC not found: install the Debian packages clang and libclang-rt-14-dev (sh tools/install-deps.sh --ci), or set FUZZ_CC" >&2
	exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void) d; (void) n; return 0; }\n' > "$probe/p.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC cannot link -fsanitize=fuzzer,address,undefined: install libclang-rt-14-dev (sh tools/install-deps.sh --ci)" >&2
	exit 77
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Where to configure: the source tree itself when it is not configured (a
# VPATH build in $out), else a copy of it.
if [ -f "$srcdir/config.status" ]; then
	if ! command -v git >/dev/null 2>&1; then
		echo "fuzz.sh: $srcdir is configured in-tree: copying its tracked files needs git (sh tools/install-deps.sh --ci)" >&2
		exit 1
	fi
	if ! git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		echo "fuzz.sh: $srcdir is configured in-tree and is not a git checkout: run 'make distclean' there first" >&2
		exit 1
	fi
	tree=$out/src
	build=$tree
	mkdir -p "$tree"
	(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | (cd "$tree" && tar -xpf -)
else
	tree=$srcdir
	build=$out
fi
if [ ! -x "$tree/configure" ] || [ "$tree/configure.ac" -nt "$tree/configure" ]; then
	(cd "$tree" && autoreconf -fi)
fi
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link"
if [ ! -f "$build/config.status" ] || ! grep -q -- "-fsanitize=fuzzer-no-link" "$build/config.status"; then
	(cd "$build" && "$tree/configure" -q CC="$CC" CFLAGS="$flags" --enable-sanitizers)
fi
make -C "$build" -j"$(nproc 2>/dev/null || echo 2)" -s fuzz-build

harnesses="conf aws-creds-file pem-cert pem-key pkcs8"
extra=""
if [ -f "$tree/tests/fuzz/aws/harnesses.txt" ]; then
	extra=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$tree/tests/fuzz/aws/harnesses.txt" | awk '{ print $1 }')
fi
[ $# -gt 0 ] && harnesses="$*" && extra=""
[ "$build_only" = 1 ] && { echo "fuzz.sh: built $(echo $harnesses $extra | wc -w) harnesses in $build/tests/fuzz"; exit 0; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$out/artifacts"
status=0
for name in $harnesses $extra; do
	seeds=$tree/tests/fuzz/$name
	case " $extra " in *" $name "*) seeds=$tree/tests/fuzz/aws/$name ;; esac
	[ -d "$seeds" ] || seeds=$(mktemp -d)
	corpus=$out/corpus/$name
	mkdir -p "$corpus"
	start=$(date +%s)
	log=$out/artifacts/$name.log
	echo "fuzz.sh: $name for ${seconds}s (log $log)"
	if "$build/tests/fuzz/fuzz-$name" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" "$corpus" "$seeds" > "$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		echo "fuzz.sh: $name clean: ${runs:-?} runs in $(($(date +%s) - start))s, $cov, corpus $(ls "$corpus" | wc -l) inputs"
	else
		status=1
		echo "fuzz.sh: $name FOUND A PROBLEM after $(($(date +%s) - start))s:"
		grep -E 'ERROR|SUMMARY|invariant|Test unit written|^    #[0-9]+ ' "$log" | head -n 30
		echo "fuzz.sh: fix it, then copy the input above into $seeds/ so make check replays it"
	fi
done
exit $status
