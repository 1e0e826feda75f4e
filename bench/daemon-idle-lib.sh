# Shared by bench/daemon-idle.sh and bench/certmonger-idle.sh: what an idle
# service costs, measured the same way for both. Source it; then
#   idle_measure PID SECONDS DIR
# prints the figures of two windows of SECONDS each on the process and all
# its threads:
#   (a) untraced: CPU time (utime+stime), voluntary and involuntary context
#       switches (a blocked thread woken up is one voluntary switch: the
#       closest count of wake-ups without tracing), RSS;
#   (b) under `strace -c -f -p PID`: every system call by name (ptrace
#       itself adds switches, hence the separate first window);
# and the peak RSS (VmHWM: the largest since the process started, set-up
# included) and RSS at the end.

# Sum of a /proc/PID/task/*/status field over every thread.
idle_task_sum() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk -v f="$2:" '$1 == f { s += $2 } END { print s + 0 }'
}

# utime + stime of the process (all threads), in clock ticks.
idle_cpu_ticks() {
	# Fields after the command (which may contain spaces) in /proc/PID/stat.
	sed 's/^.*) //' /proc/"$1"/stat | awk '{ print $12 + $13 }'
}

idle_status() {
	awk -v f="$2:" '$1 == f { print $2 " " $3 }' /proc/"$1"/status
}

idle_measure() {
	_pid=$1 _secs=$2 _dir=$3
	_hz=$(getconf CLK_TCK)
	[ -d /proc/"$_pid" ] || { echo "idle_measure: no process $_pid"; return 1; }
	echo "process: $_pid $(tr '\0' ' ' </proc/"$_pid"/cmdline | cut -c1-120)"
	echo "threads: $(ls /proc/"$_pid"/task | wc -l)"
	_v0=$(idle_task_sum "$_pid" voluntary_ctxt_switches)
	_n0=$(idle_task_sum "$_pid" nonvoluntary_ctxt_switches)
	_c0=$(idle_cpu_ticks "$_pid")
	sleep "$_secs"
	[ -d /proc/"$_pid" ] || { echo "idle_measure: $_pid exited during the window"; return 1; }
	_v1=$(idle_task_sum "$_pid" voluntary_ctxt_switches)
	_n1=$(idle_task_sum "$_pid" nonvoluntary_ctxt_switches)
	_c1=$(idle_cpu_ticks "$_pid")
	echo "(a) ${_secs} s untraced: CPU $(awk -v t=$((_c1 - _c0)) -v hz="$_hz" 'BEGIN { printf "%.2f s", t / hz }')," \
		"voluntary switches (wake-ups) $((_v1 - _v0)), involuntary $((_n1 - _n0))"
	if command -v strace >/dev/null 2>&1; then
		timeout -s INT "$_secs" strace -c -f -qq -p "$_pid" -o "$_dir/strace.txt" 2>"$_dir/strace.err"
		if [ -s "$_dir/strace.txt" ]; then
			# "100.00 S U CALLS [ERRORS] total"
			_total=$(awk '$NF == "total" { print NF == 6 ? $(NF - 2) : $(NF - 1) }' "$_dir/strace.txt")
			echo "(b) ${_secs} s under strace -c -f: ${_total:-0} system calls"
			sed 's/^/    /' "$_dir/strace.txt"
		else
			echo "(b) strace -c -f -p: no system call in ${_secs} s$( [ -s "$_dir/strace.err" ] && echo " ($(head -n1 "$_dir/strace.err"))")"
		fi
	else
		echo "(b) strace missing: system calls not counted"
	fi
	echo "peak RSS (VmHWM): $(idle_status "$_pid" VmHWM); RSS now (VmRSS): $(idle_status "$_pid" VmRSS)"
}
