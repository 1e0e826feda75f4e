#!/bin/bash
# Benchmark (figures, not pass/fail): the DescribeCertificate calls of the
# ACM watch, simulated over whole certificate lifetimes with the daemon's
# own schedule (bench/acm-watch.c: issuer_acm_next_describe() from
# libacmagent.a); per certificate per 30 days far from expiry, inside ACM's
# renewal window and while a renewal is pending, and a fleet of BENCH_FLEET
# (10000) hosts against the account's 10/s DescribeCertificate quota. Runs
# in about a second; no AWS, no emulator.
# Run with `make bench-acm-watch` (or set ABS_TOP_BUILDDIR).
set -u
: "${ABS_TOP_BUILDDIR:?run through make bench-acm-watch}"
exec "$ABS_TOP_BUILDDIR/bench/acm-watch" "${BENCH_FLEET:-10000}"
