/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark (figures, not pass/fail): how the daemon's schedule spreads
 * renewals and retries, computed with the engine's own functions
 * (engine/engine-sched.h: sched_hash, sched_renew_at, sched_retry_at), no
 * clock, no AWS.
 *
 *  1. Jitter: BENCH_N (1000) certificates with the default schedule
 *     (renew_fraction 0.33, jitter 12 h), all issued at the same second
 *     with the same lifetime (the worst case: one --once issued them all),
 *     once as BENCH_N certificates of one host (names c0000...) and once as
 *     one certificate on BENCH_N hosts (machine ids): a histogram of their
 *     renewal times over the jitter window, in 12 one-hour buckets, and the
 *     largest number due in one minute.
 *  2. Backoff: the delay after the n-th consecutive failure (defaults:
 *     retry_min 5 min, retry_max 6 h), min / median / max over 1000 draws,
 *     safe and in danger (capped at an hour).
 *
 *   bench/sched-spread [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-sched.h"

#define HOUR 3600
#define DAY 86400

static int cmp_time(const void *a, const void *b) {
        time_t x = *(const time_t *) a, y = *(const time_t *) b;
        return x < y ? -1 : x > y;
}

static void histogram(const char *what, const conf_schedule *s, time_t nb, time_t na, int n, bool hosts) {
        time_t *at = calloc((size_t) n, sizeof(time_t)), latest;
        int buckets[12] = { 0 }, peak = 0;
        char name[32], id[40];

        if (!at)
                exit(1);
        for (int i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "c%04d", i);
                snprintf(id, sizeof(id), "%032x", (unsigned) i * 2654435761u);
                at[i] = sched_renew_at(s, nb, na, hosts ? sched_hash(id, "web") : sched_hash("0123456789abcdef", name));
        }
        qsort(at, (size_t) n, sizeof(time_t), cmp_time);
        latest = sched_renew_at(s, nb, na, 0); /* jitter 0: the latest possible */
        for (int i = 0; i < n; i++) {
                long b = (long) ((latest - at[i]) / HOUR);
                if (b >= 0 && b < 12)
                        buckets[11 - b]++;
        }
        for (int i = 0, j = 0; i < n; i++) {
                while (at[i] - at[j] >= 60)
                        j++;
                if (i - j + 1 > peak)
                        peak = i - j + 1;
        }
        printf("%s: %d renewals between %.1f h and %.1f h before the unjittered time\n", what, n,
               (double) (latest - at[0]) / HOUR, (double) (latest - at[n - 1]) / HOUR);
        printf("  per hour of the 12 h window (earliest first):");
        for (int b = 0; b < 12; b++)
                printf(" %d", buckets[b]);
        printf("\n  most in one minute: %d (uniform: %.1f)\n", peak, (double) n / (12 * 60));
        free(at);
}

static void backoff(const conf_schedule *s, sched_danger d) {
        printf("  %-8s", d == SCHED_SAFE ? "safe" : "danger");
        for (unsigned n = 1; n <= 10; n++) {
                time_t v[1000];
                for (int k = 0; k < 1000; k++)
                        v[k] = sched_retry_at(s, n, 0, (uint64_t) k * 0x9e3779b97f4a7c15ULL, d);
                qsort(v, 1000, sizeof(time_t), cmp_time);
                printf(" %u:%ld/%ld/%ld", n, (long) v[0] / 60, (long) v[500] / 60, (long) v[999] / 60);
        }
        printf("\n");
}

int main(int argc, char **argv) {
        int n = argc > 1 ? atoi(argv[1]) : 1000;
        conf_schedule s = { .renew_fraction = 0.33, .jitter = 12 * HOUR, .retry_min = 300, .retry_max = 6 * HOUR };
        time_t nb = 1800000000, na = nb + 90 * DAY;

        if (n < 1 || n > 1000000)
                n = 1000;
        printf("method: engine/engine-sched.h's own functions, default schedule (renew_fraction 0.33, jitter 12 h,\n"
               "        retry_min 5 min, retry_max 6 h), %d certificates issued at the same second, 90-day lifetime\n",
               n);
        histogram("one host, N certificates", &s, nb, na, n, false);
        histogram("N hosts, one certificate", &s, nb, na, n, true);
        printf("backoff after the n-th consecutive failure, minutes min/median/max of 1000 draws:\n");
        backoff(&s, SCHED_SAFE);
        backoff(&s, SCHED_WARNING);
        return 0;
}
