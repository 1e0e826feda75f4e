/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdint.h>
#include <time.h>

/*
 * The one clock of the agent. Every module asks here for wall-clock time so
 * tests can steer it: the environment variable ACM_AGENT_CLOCK_OFFSET (signed
 * seconds, read once at first use) shifts the agent's notion of "now", and
 * clock_set_offset() does the same from unit tests. Monotonic time for timers
 * comes from sd-event and is not affected.
 */

/* Wall-clock time now, in microseconds since the epoch, offset applied. */
uint64_t clock_now_usec(void);

/* Wall-clock time now in seconds since the epoch, offset applied. */
time_t clock_now(void);

/* Sets the offset (seconds) added to the real clock; for tests. */
void clock_set_offset(int64_t seconds);

/*
 * Formats t as RFC 3339 UTC ("2026-11-23T00:00:00Z") into buf (at least 21
 * bytes). Returns buf. t == 0 gives the empty string.
 */
char *clock_format_rfc3339(time_t t, char buf[static 21]);

/*
 * Parses RFC 3339 / ISO 8601 UTC ("2026-11-23T00:00:00Z", optional fractional
 * seconds, "Z" or "+00:00") in the C locale with timegm. Returns 0 and sets
 * *ret, or -EINVAL.
 */
int clock_parse_rfc3339(const char *s, time_t *ret);
