# Fragment owned by the proof area; see Makefile.am.
# `make bench`: figures, not pass/fail, not part of `make check`.
# BENCH_N (default 1000) certificates, BENCH_RUNS (default 21) idle passes.
BENCH_N = 1000
BENCH_RUNS = 21
# bench-once: the 1000-certificate --once issuance and the all-valid pass;
# bench-acm-watch: the ACM watch's DescribeCertificate calls over whole
# lifetimes, simulated with the daemon's schedule (a second, no AWS);
# bench-daemon: the service idle with 1000 valid certificates (CPU, wake-ups,
# system calls, RSS, AWS calls) and certmonger measured the same way.
bench: bench-once bench-daemon bench-acm-watch bench-sched
bench-once: all
	$(AM_TESTS_ENVIRONMENT) BENCH_N=$(BENCH_N) BENCH_RUNS=$(BENCH_RUNS) \
		$(SHELL) $(srcdir)/bench/pca-once.sh
bench-daemon: all
	$(AM_TESTS_ENVIRONMENT) BENCH_N=$(BENCH_N) $(SHELL) $(srcdir)/bench/daemon-idle.sh
	-$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/bench/certmonger-idle.sh
.PHONY: bench bench-once bench-daemon
EXTRA_DIST += bench/pca-once.sh bench/once-lib.sh

# `make bench-acm`: the ACM issuer, BENCH_N DNS-validated certificates in one --once.
bench-acm: all
	$(AM_TESTS_ENVIRONMENT) BENCH_N=$(BENCH_N) BENCH_RUNS=$(BENCH_RUNS) \
		$(SHELL) $(srcdir)/bench/acm-once.sh
.PHONY: bench-acm
EXTRA_DIST += bench/acm-once.sh

# the all-valid runs of bench-once and bench-acm (bench/once-lib.sh)
noinst_PROGRAMS += bench/once-run
bench_once_run_SOURCES = bench/once-run.c

noinst_PROGRAMS += bench/keygen
bench_keygen_SOURCES = bench/keygen.c
bench_keygen_LDADD = $(AGENT_LIBS)

# `make bench-acm-watch`: DescribeCertificate calls per certificate and for a
# fleet, from issuer_acm_next_describe() itself (BENCH_FLEET hosts, 10000).
BENCH_FLEET = 10000
bench-acm-watch: bench/acm-watch
	$(AM_TESTS_ENVIRONMENT) BENCH_FLEET=$(BENCH_FLEET) $(SHELL) $(srcdir)/bench/acm-watch.sh
.PHONY: bench-acm-watch
EXTRA_DIST += bench/acm-watch.sh

noinst_PROGRAMS += bench/acm-watch
bench_acm_watch_SOURCES = bench/acm-watch.c
bench_acm_watch_LDADD = $(AGENT_LIBS)

# `make bench-sched`: how the schedule spreads BENCH_N renewals over the
# jitter window, and the backoff delays (engine-sched.h's functions).
bench-sched: bench/sched-spread
	./bench/sched-spread $(BENCH_N)
.PHONY: bench-sched

noinst_PROGRAMS += bench/sched-spread
bench_sched_spread_SOURCES = bench/sched-spread.c
bench_sched_spread_LDADD = $(AGENT_LIBS)
