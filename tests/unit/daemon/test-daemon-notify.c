/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "daemon/daemon-notify.h"

/* ---- the STATUS= formatter ---- */

#define NOW (UINT64_C(1800000000) * USEC_PER_SEC)
#define DAY (UINT64_C(86400) * USEC_PER_SEC)

static void test_status_format(void **s _unused_) {
        char buf[256];
        daemon_status st = {.n_certs = 12,
                            .n_renewing = 1,
                            .next_name = "web",
                            .next_usec = NOW + 23 * DAY + 5 * 3600 * USEC_PER_SEC,
                            .now_usec = NOW};

        assert_string_equal(daemon_status_format(&st, buf, sizeof buf),
                            "12 certificates, 1 renewing, next: web in 23d");
        st = (daemon_status){.n_certs = 1, .next_name = "api", .next_usec = NOW - 5, .now_usec = NOW};
        assert_string_equal(daemon_status_format(&st, buf, sizeof buf), "1 certificate, next: api now");
        st.next_usec = NOW + USEC_PER_SEC / 2;
        assert_string_equal(daemon_status_format(&st, buf, sizeof buf), "1 certificate, next: api now");
        st = (daemon_status){};
        assert_string_equal(daemon_status_format(&st, buf, sizeof buf), "no certificates");
        st = (daemon_status){.n_certs = 3, .n_renewing = 2, .n_waiting = 1, .n_failing = 4};
        assert_string_equal(daemon_status_format(&st, buf, sizeof buf),
                            "3 certificates, 2 renewing, 1 waiting, 4 failing");
}

static void test_status_units(void **s _unused_) {
        static const struct {
                uint64_t in;
                const char *out;
        } cases[] = {
                {2 * DAY, "in 2d"},
                {2 * DAY - 1, "in 47h"},
                {36 * 3600 * USEC_PER_SEC, "in 36h"},
                {2 * 3600 * USEC_PER_SEC, "in 2h"},
                {119 * 60 * USEC_PER_SEC, "in 119m"},
                {2 * 60 * USEC_PER_SEC, "in 2m"},
                {119 * USEC_PER_SEC, "in 119s"},
                {1 * USEC_PER_SEC, "in 1s"},
        };
        char buf[128], want[128];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                daemon_status st = {
                        .n_certs = 2, .next_name = "x", .next_usec = NOW + cases[i].in, .now_usec = NOW};
                snprintf(want, sizeof want, "2 certificates, next: x %s", cases[i].out);
                assert_string_equal(daemon_status_format(&st, buf, sizeof buf), want);
        }
}

static void test_status_hostile_and_short(void **s _unused_) {
        char buf[256], tiny[8];
        daemon_status st = {
                .n_certs = 2, .next_name = "a\nb\x1b", .next_usec = NOW + 3 * DAY, .now_usec = NOW};

        assert_string_equal(daemon_status_format(&st, buf, sizeof buf), "2 certificates, next: a?b? in 3d");
        /* Cut, NUL-terminated, never overrun. */
        memset(tiny, 'Z', sizeof tiny);
        assert_string_equal(daemon_status_format(&st, tiny, sizeof tiny), "2 certi");
}

/* ---- the protocol, against a real datagram socket ---- */

typedef struct peer {
        char dir[64];
        char path[128];
        int fd;
} peer;

static void peer_open(peer *p) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        snprintf(p->dir, sizeof p->dir, "/tmp/notify-test.XXXXXX");
        assert_non_null(mkdtemp(p->dir));
        snprintf(p->path, sizeof p->path, "%s/notify", p->dir);
        p->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(p->fd >= 0);
        strcpy(sa.sun_path, p->path);
        assert_int_equal(bind(p->fd, (struct sockaddr *) &sa, sizeof sa), 0);
        setenv("NOTIFY_SOCKET", p->path, 1);
}

static void peer_close(peer *p) {
        close(p->fd);
        unlink(p->path);
        rmdir(p->dir);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
}

/* The next datagram, or "" when none is queued. */
static const char *peer_recv(peer *p, char *buf, size_t len) {
        ssize_t k = recv(p->fd, buf, len - 1, MSG_DONTWAIT);

        if (k < 0) {
                assert_int_equal(errno, EAGAIN);
                k = 0;
        }
        buf[k] = '\0';
        return buf;
}

static void test_disabled_is_noop(void **s _unused_) {
        sd_event *e = NULL;
        daemon_notify *n = NULL;
        char pid[32];

        unsetenv("NOTIFY_SOCKET");
        /* A watchdog for us, but no socket: no timer either. */
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        setenv("WATCHDOG_USEC", "100000", 1);
        setenv("WATCHDOG_PID", pid, 1);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(daemon_notify_new(e, &n), 0);
        assert_false(daemon_notify_enabled(n));
        assert_int_equal(daemon_notify_watchdog_interval(n), 0);
        assert_int_equal(daemon_notify_ready(n, "x"), 0);
        assert_int_equal(daemon_notify_status(n, "x"), 0);
        assert_int_equal(daemon_notify_reloading(n, NULL), 0);
        assert_int_equal(daemon_notify_stopping(n, NULL), 0);
        assert_int_equal(daemon_notify_extend_timeout(n, 1), 0);
        /* Nothing to dispatch: no source was added. */
        assert_int_equal(sd_event_run(e, 0), 0);
        daemon_notify_free(n);
        sd_event_unref(e);
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void test_messages(void **s _unused_) {
        sd_event *e = NULL;
        daemon_notify *n = NULL;
        char buf[1024], want[512], lng[400];
        uint64_t before, after, mono;
        peer p;

        peer_open(&p);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(daemon_notify_new(e, &n), 0);
        assert_true(daemon_notify_enabled(n));
        assert_int_equal(daemon_notify_watchdog_interval(n), 0);

        assert_int_equal(daemon_notify_ready(n, "2 certificates"), 1);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), "READY=1\nSTATUS=2 certificates");
        assert_int_equal(daemon_notify_ready(n, NULL), 1);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), "READY=1");
        /* One line: a newline in a status cannot inject a field. */
        assert_int_equal(daemon_notify_status(n, "a\nREADY=1\tb"), 1);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), "STATUS=a READY=1 b");

        before = mono_usec();
        assert_int_equal(daemon_notify_reloading(n, "reloading"), 1);
        after = mono_usec();
        peer_recv(&p, buf, sizeof buf);
        assert_true(strneq(buf, "RELOADING=1\nMONOTONIC_USEC=", 27));
        assert_int_equal(sscanf(buf + 27, "%" SCNu64, &mono), 1);
        assert_true(mono >= before && mono <= after);
        assert_non_null(strstr(buf, "\nSTATUS=reloading"));

        assert_int_equal(daemon_notify_stopping(n, "stopping"), 1);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), "STOPPING=1\nSTATUS=stopping");
        assert_int_equal(daemon_notify_extend_timeout(n, 5 * USEC_PER_SEC), 1);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), "EXTEND_TIMEOUT_USEC=5000000");

        /* Long: cut at 255 bytes, not inside the 3-byte "€" that straddles it. */
        memset(lng, 'x', 253);
        strcpy(lng + 253, "\xe2\x82\xac tail");
        assert_int_equal(daemon_notify_status(n, lng), 1);
        snprintf(want, sizeof want, "STATUS=%.253s", lng);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), want);
        /* Whole when it fits. */
        lng[255] = '\0';
        memset(lng, 'y', 252);
        strcpy(lng + 252, "\xe2\x82\xac");
        assert_int_equal(daemon_notify_status(n, lng), 1);
        snprintf(want, sizeof want, "STATUS=%s", lng);
        assert_string_equal(peer_recv(&p, buf, sizeof buf), want);

        /* Nothing else was sent (no watchdog asked for). */
        assert_string_equal(peer_recv(&p, buf, sizeof buf), "");
        daemon_notify_free(n);
        sd_event_unref(e);
        peer_close(&p);
}

/* The receiving side watched by the same loop: counts pings, notes times. */
typedef struct pings {
        peer *p;
        unsigned n, want;
        uint64_t at[16];
} pings;

static int on_ping(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        pings *pg = userdata;
        char buf[256];

        while (*peer_recv(pg->p, buf, sizeof buf)) {
                assert_string_equal(buf, "WATCHDOG=1");
                if (pg->n < ELEMENTSOF(pg->at))
                        pg->at[pg->n] = mono_usec();
                pg->n++;
        }
        if (pg->n >= pg->want)
                sd_event_exit(sd_event_source_get_event(src), 0);
        return 0;
}

static int on_failsafe(sd_event_source *src, uint64_t usec, void *userdata) {
        fail_msg("no watchdog ping within the failsafe time");
        return 0;
}

static void setup_watchdog(peer *p, sd_event **e, daemon_notify **n, pings *pg, const char *usec) {
        char pid[32];
        uint64_t now;

        peer_open(p);
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        setenv("WATCHDOG_USEC", usec, 1);
        setenv("WATCHDOG_PID", pid, 1);
        assert_int_equal(sd_event_new(e), 0);
        assert_int_equal(daemon_notify_new(*e, n), 0);
        *pg = (pings){.p = p};
        assert_int_equal(sd_event_add_io(*e, NULL, p->fd, EPOLLIN, on_ping, pg), 0);
        assert_true(sd_event_now(*e, CLOCK_MONOTONIC, &now) >= 0);
        assert_int_equal(
                sd_event_add_time(*e, NULL, CLOCK_MONOTONIC, now + 20 * USEC_PER_SEC, 0, on_failsafe, NULL),
                0);
}

static void test_watchdog_pings(void **s _unused_) {
        sd_event *e = NULL;
        daemon_notify *n = NULL;
        pings pg;
        peer p;

        setup_watchdog(&p, &e, &n, &pg, "200000");
        assert_int_equal(daemon_notify_watchdog_interval(n), 100000);
        /* One at once: start-up counts against systemd's watchdog. */
        assert_int_equal(daemon_notify_watchdog_pings(n), 1);
        pg.want = 4;
        assert_int_equal(sd_event_loop(e), 0);
        assert_int_equal(pg.n, 4);
        assert_int_equal(daemon_notify_watchdog_pings(n), 4);
        /* A timer never fires early: at least half of WATCHDOG_USEC apart. */
        for (unsigned i = 1; i < 4; i++)
                assert_true(pg.at[i] - pg.at[i - 1] >= 100000 - 2000 /* receive-side jitter */);
        daemon_notify_free(n);
        sd_event_unref(e);
        peer_close(&p);
}

static void test_watchdog_other_pid(void **s _unused_) {
        sd_event *e = NULL;
        daemon_notify *n = NULL;
        peer p;

        peer_open(&p);
        setenv("WATCHDOG_USEC", "200000", 1);
        setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(daemon_notify_new(e, &n), 0);
        assert_true(daemon_notify_enabled(n));
        assert_int_equal(daemon_notify_watchdog_interval(n), 0);
        daemon_notify_free(n);
        sd_event_unref(e);
        peer_close(&p);
}

/* A handler that blocks the loop for three ping intervals. */
typedef struct stuck {
        peer *p;
        daemon_notify *n;
        uint64_t pings_before;
        bool done;
} stuck;

static int on_stuck(sd_event_source *src, uint64_t usec, void *userdata) {
        stuck *st = userdata;
        uint64_t end = mono_usec() + 3 * daemon_notify_watchdog_interval(st->n);
        char buf[64];

        st->pings_before = daemon_notify_watchdog_pings(st->n);
        peer_recv(st->p, buf, sizeof buf); /* drop a ping that is already queued */
        while (mono_usec() < end)
                usleep(10000);
        /* The loop was stuck: nothing was sent meanwhile. */
        assert_string_equal(peer_recv(st->p, buf, sizeof buf), "");
        assert_int_equal(daemon_notify_watchdog_pings(st->n), st->pings_before);
        st->done = true;
        return 0;
}

static void test_watchdog_stuck_loop_stops_pinging(void **s _unused_) {
        sd_event *e = NULL;
        daemon_notify *n = NULL;
        pings pg;
        stuck st;
        uint64_t now;
        peer p;

        /* Ping every 200 ms: a stall of the test machine that long would
         * be needed to see a second, legitimate ping. */
        setup_watchdog(&p, &e, &n, &pg, "400000");
        st = (stuck){.p = &p, .n = n};
        assert_true(sd_event_now(e, CLOCK_MONOTONIC, &now) >= 0);
        assert_int_equal(sd_event_add_time(e, NULL, CLOCK_MONOTONIC, now + 10000, 0, on_stuck, &st), 0);
        /* Run until the handler has blocked and one ping came after it. */
        pg.want = UINT32_MAX;
        while (!st.done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        pg.n = 0;
        pg.want = 1;
        assert_int_equal(sd_event_loop(e), 0);
        /* One ping when the loop runs again, not a burst of the missed ones. */
        assert_int_equal(pg.n, 1);
        assert_int_equal(daemon_notify_watchdog_pings(n), st.pings_before + 1);
        daemon_notify_free(n);
        sd_event_unref(e);
        peer_close(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_format),
                cmocka_unit_test(test_status_units),
                cmocka_unit_test(test_status_hostile_and_short),
                cmocka_unit_test(test_disabled_is_noop),
                cmocka_unit_test(test_messages),
                cmocka_unit_test(test_watchdog_pings),
                cmocka_unit_test(test_watchdog_other_pid),
                cmocka_unit_test(test_watchdog_stuck_loop_stops_pinging),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
