/* SPDX-License-Identifier: Apache-2.0 */
/* harden_process() changes the whole process: a test program of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "basic/util.h"

static void test_harden(void **state) {
        _cleanup_(freep) char *status = NULL;
        struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

        /* start from the opposite of what harden_process() must leave */
        umask(022);
        (void) setrlimit(RLIMIT_CORE, &rl);
        assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
        assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);

        assert_int_equal(harden_process(), 0);

        assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
        assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
        assert_int_equal(rl.rlim_cur, 0);
        assert_int_equal(rl.rlim_max, 0);
        assert_int_equal(read_full_file("/proc/self/status", 1024 * 1024, &status, NULL), 0);
        assert_non_null(strstr(status, "\nUmask:\t0077\n"));
        /* the hard limit is 0 too: nothing can raise it again without privilege */
        if (geteuid() != 0) {
                rl.rlim_cur = rl.rlim_max = 1;
                assert_int_equal(setrlimit(RLIMIT_CORE, &rl), -1);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_harden),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
