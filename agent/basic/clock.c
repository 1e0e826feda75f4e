/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/clock.h"
#include "basic/util.h"

static int64_t offset_sec;
static pthread_once_t offset_once = PTHREAD_ONCE_INIT;
static bool offset_forced;

static void offset_init(void) {
        const char *e = getenv("ACM_AGENT_CLOCK_OFFSET");
        int64_t v;

        if (offset_forced || !e)
                return;
        if (parse_int64(e, &v) >= 0)
                offset_sec = v;
}

uint64_t clock_now_usec(void) {
        struct timespec ts;

        (void) pthread_once(&offset_once, offset_init);
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC +
               (uint64_t) (offset_sec * (int64_t) USEC_PER_SEC);
}

time_t clock_now(void) {
        return (time_t) (clock_now_usec() / USEC_PER_SEC);
}

void clock_set_offset(int64_t seconds) {
        (void) pthread_once(&offset_once, offset_init);
        offset_forced = true;
        offset_sec = seconds;
}

char *clock_format_rfc3339(time_t t, char buf[static 21]) {
        struct tm tm;

        if (t == 0 || !gmtime_r(&t, &tm) || strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                buf[0] = 0;
        return buf;
}

int clock_parse_rfc3339(const char *s, time_t *ret) {
        struct tm tm = {};
        const char *p;
        time_t t;

        if (!s)
                return -EINVAL;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (streq(p, "Z") || streq(p, "+00:00") || streq(p, "z"))
                ;
        else
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = t;
        return 0;
}
