/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/testpoint.h"

static const char *fail_spec = NULL;

static void fail_spec_load(void) {
        fail_spec = getenv("ACM_AGENT_TEST_FAIL_AT");
        if (fail_spec && !fail_spec[0])
                fail_spec = NULL;
}

static bool spec_matches(const char *spec, const char *point, const char *name) {
        const char *colon;
        size_t plen;

        if (!spec || !point)
                return false;
        colon = strchr(spec, ':');
        plen = colon ? (size_t) (colon - spec) : strlen(spec);
        if (strlen(point) != plen || !strneq(spec, point, plen))
                return false;
        if (colon && (!name || !streq(colon + 1, name)))
                return false;
        return true;
}

static const char *kill_spec = NULL;
static const char *trace_path = NULL;
static uint64_t kill_after = 0;
static atomic_uint_fast64_t hits = 0;

static void hit_spec_load(void) {
        const char *s = getenv("ACM_AGENT_TEST_KILL_AFTER");
        char *end = NULL;

        kill_spec = getenv("ACM_AGENT_TEST_KILL_AT");
        if (kill_spec && !kill_spec[0])
                kill_spec = NULL;
        trace_path = getenv("ACM_AGENT_TEST_TRACE");
        if (trace_path && !trace_path[0])
                trace_path = NULL;
        if (s && s[0]) {
                errno = 0;
                unsigned long long v = strtoull(s, &end, 10);
                if (errno == 0 && end && !*end)
                        kill_after = v;
        }
}

void testpoint_hit(const char *point, const char *name) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        (void) pthread_once(&once, hit_spec_load);
        if (trace_path) {
                /* one line per point, appended with O_APPEND: the test learns
                 * the sequence an undisturbed run goes through */
                int fd = open(trace_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        char line[256];
                        int n = snprintf(line, sizeof(line), "%s %s\n", point, name ? name : "-");
                        if (n > 0)
                                (void) !write(fd, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
                        close(fd);
                }
        }
        if (kill_after > 0 && atomic_fetch_add(&hits, 1) + 1 == kill_after)
                (void) raise(SIGKILL);
        if (spec_matches(kill_spec, point, name))
                (void) raise(SIGKILL);
}

bool testpoint_fail(const char *point, const char *name) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        static atomic_bool fired = false;

        (void) pthread_once(&once, fail_spec_load);
        if (!spec_matches(fail_spec, point, name))
                return false;
        return !atomic_exchange(&fired, true);
}
