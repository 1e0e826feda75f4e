/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "testpoint.h"

void testpoint_hit(const char *point, const char *name) {
        static bool loaded = false;
        static const char *spec = NULL;
        const char *colon;
        size_t plen;

        if (!loaded) {
                spec = getenv("ACM_AGENT_TEST_KILL_AT");
                if (spec && !spec[0])
                        spec = NULL;
                loaded = true;
        }
        if (!spec || !point)
                return;
        colon = strchr(spec, ':');
        plen = colon ? (size_t) (colon - spec) : strlen(spec);
        if (strlen(point) != plen || !strneq(spec, point, plen))
                return;
        if (colon && (!name || !streq(colon + 1, name)))
                return;
        (void) raise(SIGKILL);
}
