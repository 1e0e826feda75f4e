/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

void testpoint_hit(const char *point, const char *name) {
        static bool loaded = false;
        static const char *spec = NULL;

        if (!loaded) {
                spec = getenv("ACM_AGENT_TEST_KILL_AT");
                if (spec && !spec[0])
                        spec = NULL;
                loaded = true;
        }
        if (spec_matches(spec, point, name))
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
