/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "basic/log.h"
#include "daemon/daemon-notify.h"

#define STATUS_MAX 255

struct daemon_notify {
        sd_event *loop;
        bool enabled;
        uint64_t watchdog_interval; /* WATCHDOG_USEC / 2, 0 when off */
        uint64_t pings;
        sd_event_source *watchdog;
};

/* Copies status into out as one line of at most STATUS_MAX bytes, never
 * cutting a UTF-8 sequence. */
static void status_line(const char *status, char out[static STATUS_MAX + 1]) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) status; *p && n < STATUS_MAX; p++)
                out[n++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char) *p;
        if (status[n]) {
                /* Cut: drop a multi-byte sequence that does not fit whole. */
                size_t k = n;
                unsigned char lead;

                while (k > 0 && ((unsigned char) out[k - 1] & 0xc0) == 0x80)
                        k--;
                lead = k > 0 ? (unsigned char) out[k - 1] : 0;
                if (lead >= 0xc0) {
                        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
                        if (n - (k - 1) < need)
                                n = k - 1;
                }
        }
        out[n] = '\0';
}

static int send_msg(daemon_notify *n, const char *fixed, const char *status) {
        char line[STATUS_MAX + 1];
        char msg[STATUS_MAX + 128];
        int r;

        if (!n || !n->enabled)
                return 0;
        if (status) {
                status_line(status, line);
                snprintf(msg, sizeof msg, "%s%sSTATUS=%s", fixed ? fixed : "", fixed ? "\n" : "", line);
        } else
                snprintf(msg, sizeof msg, "%s", fixed ? fixed : "");
        r = sd_notify(0, msg);
        if (r < 0) {
                log_debug_errno(r, "sd_notify(%s) failed: %m", fixed ? fixed : "STATUS");
                return r;
        }
        /* 0: $NOTIFY_SOCKET went away since creation; nothing was sent. */
        return r > 0 ? 1 : 0;
}

static int schedule_ping(daemon_notify *n) {
        uint64_t now;
        int r;

        r = sd_event_now(n->loop, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        r = sd_event_source_set_time(n->watchdog, now + n->watchdog_interval);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(n->watchdog, SD_EVENT_ONESHOT);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        daemon_notify *n = userdata;
        int r;

        if (send_msg(n, "WATCHDOG=1", NULL) > 0)
                n->pings++;
        r = schedule_ping(n);
        if (r < 0)
                log_debug_errno(r, "cannot re-arm the watchdog timer: %m");
        return 0;
}

int daemon_notify_new(sd_event *e, daemon_notify **ret) {
        _cleanup_(daemon_notify_freep) daemon_notify *n = NULL;
        uint64_t wd = 0;
        int r;

        n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->loop = sd_event_ref(e);
        n->enabled = !isempty(getenv("NOTIFY_SOCKET"));
        if (n->enabled) {
                r = sd_watchdog_enabled(0, &wd);
                if (r < 0)
                        return r;
                if (r > 0 && wd >= 2) {
                        n->watchdog_interval = wd / 2;
                        /* Accuracy 5% of the interval: pings land between 50%
                         * and 52.5% of WATCHDOG_USEC, never later. */
                        r = sd_event_add_time(e, &n->watchdog, CLOCK_MONOTONIC, 0,
                                              n->watchdog_interval / 20 ?: 1, on_watchdog, n);
                        if (r < 0)
                                return r;
                        (void) sd_event_source_set_description(n->watchdog, "watchdog");
                        r = schedule_ping(n);
                        if (r < 0)
                                return r;
                        /* systemd's watchdog runs since exec: whatever the
                         * start-up took so far, start the count afresh. */
                        if (send_msg(n, "WATCHDOG=1", NULL) > 0)
                                n->pings++;
                }
        }
        *ret = TAKE_PTR(n);
        return 0;
}

daemon_notify *daemon_notify_free(daemon_notify *n) {
        if (!n)
                return NULL;
        sd_event_source_disable_unref(n->watchdog);
        sd_event_unref(n->loop);
        free(n);
        return NULL;
}

bool daemon_notify_enabled(const daemon_notify *n) {
        return n && n->enabled;
}

uint64_t daemon_notify_watchdog_interval(const daemon_notify *n) {
        return n && n->watchdog ? n->watchdog_interval : 0;
}

uint64_t daemon_notify_watchdog_pings(const daemon_notify *n) {
        return n ? n->pings : 0;
}

int daemon_notify_ready(daemon_notify *n, const char *status) {
        return send_msg(n, "READY=1", status);
}

int daemon_notify_status(daemon_notify *n, const char *status) {
        return send_msg(n, NULL, status ? status : "");
}

int daemon_notify_reloading(daemon_notify *n, const char *status) {
        char fixed[64];
        struct timespec ts;

        if (!n || !n->enabled)
                return 0;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return -errno;
        snprintf(fixed, sizeof fixed, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
                 (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC);
        return send_msg(n, fixed, status);
}

int daemon_notify_stopping(daemon_notify *n, const char *status) {
        return send_msg(n, "STOPPING=1", status);
}

int daemon_notify_extend_timeout(daemon_notify *n, uint64_t usec) {
        char fixed[64];

        snprintf(fixed, sizeof fixed, "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
        return send_msg(n, fixed, NULL);
}

/* Appends to buf (NUL-terminated, cut when full). */
_printf_(4, 5) static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...) {
        va_list ap;
        int k;

        if (*pos >= len - 1)
                return;
        va_start(ap, fmt);
        k = vsnprintf(buf + *pos, len - *pos, fmt, ap);
        va_end(ap);
        if (k < 0)
                return;
        *pos = (size_t) k >= len - *pos ? len - 1 : *pos + (size_t) k;
}

static void format_wait(uint64_t sec, char *buf, size_t len) {
        static const struct {
                uint64_t sec;
                char unit;
        } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}};

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (sec >= 2 * units[i].sec) {
                        snprintf(buf, len, "in %" PRIu64 "%c", sec / units[i].sec, units[i].unit);
                        return;
                }
        snprintf(buf, len, "in %" PRIu64 "s", sec);
}

char *daemon_status_format(const daemon_status *s, char *buf, size_t len) {
        size_t pos = 0;

        buf[0] = '\0';
        if (s->n_certs == 0)
                append(buf, len, &pos, "no certificates");
        else
                append(buf, len, &pos, "%zu certificate%s", s->n_certs, s->n_certs == 1 ? "" : "s");
        if (s->n_renewing)
                append(buf, len, &pos, ", %zu renewing", s->n_renewing);
        if (s->n_waiting)
                append(buf, len, &pos, ", %zu waiting", s->n_waiting);
        if (s->n_failing)
                append(buf, len, &pos, ", %zu failing", s->n_failing);
        if (s->next_name) {
                char name[65], wait[32];
                size_t k = 0;

                for (const char *p = s->next_name; *p && k < sizeof name - 1; p++)
                        name[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
                name[k] = '\0';
                if (s->next_usec < s->now_usec + USEC_PER_SEC)
                        snprintf(wait, sizeof wait, "now");
                else
                        format_wait((s->next_usec - s->now_usec) / USEC_PER_SEC, wait, sizeof wait);
                append(buf, len, &pos, ", next: %s %s", name, wait);
        }
        return buf;
}
