/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * daemon-notify: the service's half of systemd's notify protocol
 * (Type=notify): READY=1, STATUS=, RELOADING=1 (+ MONOTONIC_USEC=),
 * STOPPING=1, EXTEND_TIMEOUT_USEC= and the watchdog.
 *
 * $NOTIFY_SOCKET is looked at once, by daemon_notify_new(). Without it every
 * call returns 0 at once and nothing is added to the loop (no timer, no
 * wake-up). With it, and when sd_watchdog_enabled() says the watchdog is
 * meant for this process (WATCHDOG_USEC, WATCHDOG_PID), a monotonic sd-event
 * timer sends WATCHDOG=1 every WATCHDOG_USEC / 2 (and one at creation:
 * systemd counts from exec, start-up included): the ping comes from the
 * loop, so a loop stuck in a handler stops pinging and systemd restarts it.
 *
 * Messages go through sd_notify(); the environment is left as it is.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"

typedef struct daemon_notify daemon_notify;

/*
 * Creates the notifier on loop e (a reference on e is taken). Adds the
 * watchdog timer when the watchdog is enabled for this process and
 * $NOTIFY_SOCKET is set. Returns 0 and sets *ret; -ENOMEM; -errno from
 * sd-event or from a malformed WATCHDOG_USEC/WATCHDOG_PID (sd_watchdog_enabled).
 */
int daemon_notify_new(sd_event *e, daemon_notify **ret);

/* Frees (the watchdog timer goes with it). Accepts NULL; returns NULL. */
daemon_notify *daemon_notify_free(daemon_notify *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(daemon_notify *, daemon_notify_free);

/* True when $NOTIFY_SOCKET was set at creation (messages are sent). */
bool daemon_notify_enabled(const daemon_notify *n);

/* The watchdog ping interval in µs (WATCHDOG_USEC / 2) while the ping timer
 * exists, else 0. */
uint64_t daemon_notify_watchdog_interval(const daemon_notify *n);

/* Number of WATCHDOG=1 messages sent so far (for tests and status). */
uint64_t daemon_notify_watchdog_pings(const daemon_notify *n);

/*
 * The messages. status (may be NULL: no STATUS= field) is sent as one line:
 * control characters become spaces, and it is cut at 255 bytes on a UTF-8
 * character boundary. Each returns 1 when sent, 0 when notifications are off
 * ($NOTIFY_SOCKET unset), -errno when sending failed (the caller logs; the
 * service goes on).
 *
 *   ready:          READY=1 [STATUS=]   (start-up done, and after a reload)
 *   status:         STATUS=
 *   reloading:      RELOADING=1 MONOTONIC_USEC=<now> [STATUS=]; follow with
 *                   daemon_notify_ready() when the reload is done (or failed:
 *                   the old configuration still runs)
 *   stopping:       STOPPING=1 [STATUS=]
 *   extend_timeout: EXTEND_TIMEOUT_USEC=usec (start-up, reload or stop takes
 *                   longer: systemd waits usec more from now)
 */
int daemon_notify_ready(daemon_notify *n, const char *status);
int daemon_notify_status(daemon_notify *n, const char *status);
int daemon_notify_reloading(daemon_notify *n, const char *status);
int daemon_notify_stopping(daemon_notify *n, const char *status);
int daemon_notify_extend_timeout(daemon_notify *n, uint64_t usec);

/* The facts behind the STATUS= line. */
typedef struct daemon_status {
        size_t n_certs;        /* configured certificates */
        size_t n_renewing;     /* in flight (key, request, validation, issue, deploy) */
        size_t n_waiting;      /* waiting on DNS, validation or an operator */
        size_t n_failing;      /* last attempt failed, backing off */
        const char *next_name; /* certificate of the next wake-up, NULL: none */
        uint64_t next_usec;    /* its wall-clock time (µs since the epoch) */
        uint64_t now_usec;     /* wall-clock now (µs since the epoch) */
} daemon_status;

/*
 * Formats the STATUS= line into buf (len >= 1; always NUL-terminated, cut
 * when too small) and returns buf. Pure. Counts that are zero are left out
 * (except the total); the wait is the largest whole unit (d when at least
 * 2 days, else h when at least 2 hours, m at least 2 minutes, else s),
 * "now" when due in less than a second or overdue:
 *   "12 certificates, 1 renewing, 2 failing, next: web in 23d"
 *   "1 certificate, next: api now"     "no certificates"
 * Characters of next_name outside printable ASCII become '?'.
 */
char *daemon_status_format(const daemon_status *s, char *buf, size_t len);
