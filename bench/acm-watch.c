/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeCertificate calls of the ACM watch, from the daemon's own schedule:
 * bench/acm-watch [FLEET_N]
 *
 * Nothing is timed and nothing talks to AWS: each describe is placed where
 * the daemon places it, issuer_acm_next_describe() from libacmagent.a with
 * the daemon's two rules around it (the description happens at the time
 * asked, checked_at = that time; a time not after now is now + 60 s, as
 * watched() does), over the whole life of a certificate, and counted.
 *   (1) one certificate: a public one (395 days, ACM's window 60 days) and
 *       a private one (30 days, a third), daemon.acm_poll_interval 6 h (the
 *       default): calls far from expiry and inside the window, per 30 days;
 *       the same for 10,000 host hashes (min/mean/max); a renewal pending
 *       for a day (every 30 min).
 *   (2) a fleet of FLEET_N (10,000) hosts against the account's
 *       DescribeCertificate quota (10/s), per-second histogram: all inside
 *       the window (steady), all pending, far from expiry, and the moment
 *       they enter the window with one not_after for all (one certificate
 *       tracked with arn: by every host) or issued at RequestCertificate's
 *       5/s.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuer/issuer-acm.h"

#define DAY 86400
#define MONTH (30 * DAY)
#define QUOTA 10 /* DescribeCertificate, requests per second per account */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

/* xorshift64*: a fixed sequence, so two runs print the same figures */
static uint64_t rng(void) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

/* a host's hash as the daemon computes it: machine_host_id() is 16 hex digits */
static uint64_t host_hash(size_t i, const char *name) {
        char id[17];

        snprintf(id, sizeof(id), "%016" PRIx64,
                 issuer_acm_hash("bench-host", NULL) ^ (uint64_t) i * 0x9e37U);
        return issuer_acm_hash(id, name);
}

typedef struct sim {
        time_t not_before, not_after;
        uint64_t hash;
        time_t pending_from, pending_to; /* RenewalSummary pending in [from, to) */
} sim;

/* the daemon's next description after one at t (on_watch_detail, watched()) */
static time_t next_after(const sim *s, time_t t) {
        acm_watch_input in = {
                .last = t,
                .not_before = s->not_before,
                .not_after = s->not_after,
                .poll_interval = 0, /* the default, 6 h */
                .hash = s->hash,
                .renewal_pending = t >= s->pending_from && t < s->pending_to,
        };
        time_t n = issuer_acm_next_describe(&in);

        return n <= t ? t + 60 : n;
}

/* Describes in [from, to) of a certificate delivered at s->not_before
 * (deliver() sets checked_at then); each call also goes to hist (one
 * counter per second from hist_from, hist_len of them) when given. */
static unsigned count(const sim *s, time_t first, time_t from, time_t to, unsigned *hist, time_t hist_from,
                      size_t hist_len) {
        unsigned n = 0;

        for (time_t t = first; t < to; t = next_after(s, t)) {
                if (t < from)
                        continue;
                n++;
                if (hist && t >= hist_from && (size_t) (t - hist_from) < hist_len)
                        hist[t - hist_from]++;
        }
        return n;
}

/* the first description after a delivery at t0 */
static time_t first_after(const sim *s, time_t t0) {
        return next_after(s, t0);
}

static void one(const char *what, time_t life) {
        const time_t nb = 1800000000, na = nb + life, w = issuer_acm_window_start(nb, na);
        sim s = {.not_before = nb, .not_after = na, .hash = host_hash(0, "web")};
        unsigned far, in, pend, fmin = ~0U, fmax = 0, imin = ~0U, imax = 0, pmin = ~0U, pmax = 0;
        double fsum = 0, isum = 0, psum = 0;
        const size_t hosts = 10000;

        far = count(&s, first_after(&s, nb), nb, w, NULL, 0, 0);
        in = count(&s, first_after(&s, nb), w, na, NULL, 0, 0);
        s.pending_from = w + DAY;
        s.pending_to = w + 2 * DAY;
        pend = count(&s, first_after(&s, nb), s.pending_from, s.pending_to, NULL, 0, 0);
        for (size_t i = 0; i < hosts; i++) {
                sim h = {.not_before = nb, .not_after = na, .hash = host_hash(i, "web")};
                unsigned f = count(&h, first_after(&h, nb), nb, w, NULL, 0, 0);
                unsigned k = count(&h, first_after(&h, nb), w, na, NULL, 0, 0), p;

                h.pending_from = w + DAY;
                h.pending_to = w + 2 * DAY;
                p = count(&h, first_after(&h, nb), h.pending_from, h.pending_to, NULL, 0, 0);
                fmin = f < fmin ? f : fmin, fmax = f > fmax ? f : fmax, fsum += f;
                imin = k < imin ? k : imin, imax = k > imax ? k : imax, isum += k;
                pmin = p < pmin ? p : pmin, pmax = p > pmax ? p : pmax, psum += p;
        }
        double fm = (double) (w - nb) / MONTH, im = (double) (na - w) / MONTH;
        printf("%s: lifetime %ld d, window from day %ld (%ld d before expiry)\n", what, (long) (life / DAY),
               (long) ((w - nb) / DAY), (long) ((na - w) / DAY));
        printf("  far from expiry   %5u calls in %3ld d = %6.1f per 30 d   (%zu hosts: %.1f / %.1f / %.1f "
               "min/mean/max per 30 d)\n",
               far, (long) ((w - nb) / DAY), far / fm, hosts, fmin / fm, fsum / hosts / fm, fmax / fm);
        printf("  inside the window %5u calls in %3ld d = %6.1f per 30 d   (%zu hosts: %.1f / %.1f / "
               "%.1f)\n",
               in, (long) ((na - w) / DAY), in / im, hosts, imin / im, isum / hosts / im, imax / im);
        printf("  renewal pending   %5u calls in   1 d = %6.1f per 30 d   (%zu hosts: %u / %.1f / %u per "
               "day)\n",
               pend, pend * 30.0, hosts, pmin, psum / hosts, pmax);
        printf("  whole life, never renewed: %u calls; renewed at day %ld after a day pending: %u calls\n",
               far + in, (long) ((w + 2 * DAY - nb) / DAY),
               count(&s, first_after(&s, nb), nb, w + 2 * DAY, NULL, 0, 0));
}

typedef struct peak {
        unsigned max1, over, total;
        double max60, mean;
} peak;

static peak histogram(const unsigned *hist, size_t len) {
        peak p = {};
        unsigned run = 0;

        for (size_t i = 0; i < len; i++) {
                p.total += hist[i];
                p.max1 = hist[i] > p.max1 ? hist[i] : p.max1;
                p.over += hist[i] > QUOTA;
                run += hist[i];
                if (i >= 60)
                        run -= hist[i - 60];
                if (i >= 59 && run / 60.0 > p.max60)
                        p.max60 = run / 60.0;
        }
        p.mean = (double) p.total / (double) len;
        return p;
}

static void print_peak(const char *what, peak p, size_t len) {
        printf("  %-58s mean %6.2f/s  peak %4u in 1 s, %6.2f/s over 60 s; %5u of %zu s above %d/s%s\n", what,
               p.mean, p.max1, p.max60, p.over, len, QUOTA, p.max60 > QUOTA ? "  << OVER QUOTA" : "");
}

/*
 * A fleet of n hosts over [from, from + len): the describes of host i (its
 * own hash), whose certificate ends at na_of[i], whose last description
 * before from was at a random moment of its cadence (a fleet that has run
 * for a while), pending over [pfrom, pto).
 */
static peak fleet(size_t n, const time_t *na_of, time_t life, time_t from, size_t len, time_t pfrom,
                  time_t pto, unsigned *hist) {
        memset(hist, 0, len * sizeof(*hist));
        for (size_t i = 0; i < n; i++) {
                sim s = {.not_before = na_of[i] - life,
                         .not_after = na_of[i],
                         .hash = host_hash(i, "web"),
                         .pending_from = pfrom,
                         .pending_to = pto};
                /* one cadence before from, at a random phase */
                time_t probe = from - 7 * 3600, step = next_after(&s, probe) - probe;
                time_t last = probe - (time_t) (rng() % (uint64_t) step);
                count(&s, next_after(&s, last), from, from + (time_t) len, hist, from, len);
        }
        return histogram(hist, len);
}

static void fleets(size_t n) {
        const time_t life = 395 * DAY, na = 1800000000 + life, w = na - 60 * DAY;
        const size_t len = 2 * DAY;
        time_t *na_of = calloc(n, sizeof(*na_of));
        unsigned *hist = calloc(len, sizeof(*hist));

        if (!na_of || !hist)
                exit(1);
        printf("fleet: %zu hosts, each watching a public 395-d certificate, one account: "
               "DescribeCertificate quota %d/s;\n"
               "       per-second counts over 2 simulated days (entering: the day before and the day "
               "after), "
               "each host's phase random (a fleet that has run a while)\n",
               n, QUOTA);
        for (size_t i = 0; i < n; i++)
                na_of[i] = na + (time_t) (rng() % (uint64_t) (300 * DAY)); /* issued over 300 days */
        print_peak("far from expiry (not_after spread over 300 d)",
                   fleet(n, na_of, life, w - 100 * DAY, len, 0, 0, hist), len);
        for (size_t i = 0; i < n; i++)
                na_of[i] = na;
        print_peak("all inside the window (steady, hourly)",
                   fleet(n, na_of, life, w + 10 * DAY, len, 0, 0, hist), len);
        print_peak("all with a renewal pending (every 30 min)",
                   fleet(n, na_of, life, w + 10 * DAY, len, w, w + 20 * DAY, hist), len);
        print_peak("entering the window, one not_after (arn: on every host)",
                   fleet(n, na_of, life, w - DAY, len, 0, 0, hist), len);
        for (size_t i = 0; i < n; i++)
                na_of[i] = na + (time_t) (i / 5); /* RequestCertificate 5/s */
        print_peak("entering the window, issued at RequestCertificate's 5/s",
                   fleet(n, na_of, life, w - DAY, len, 0, 0, hist), len);
        free(na_of);
        free(hist);
}

int main(int argc, char **argv) {
        long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;

        if (n < 1 || n > 1000000)
                n = 10000;
        printf("DescribeCertificate calls of the ACM watch: issuer_acm_next_describe() from libacmagent.a,\n"
               "daemon.acm_poll_interval 6 h (default); each call placed where the daemon places it\n"
               "(checked_at = the call, the next one from the schedule), counted over simulated time\n\n");
        one("public", 395 * DAY);
        one("private", 30 * DAY);
        printf("\n");
        fleets((size_t) n);
        if (n != 2500) {
                printf("\n");
                fleets(2500); /* ACM's default quota of certificates held by an account */
        }
        return 0;
}
