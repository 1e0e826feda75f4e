/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/strmap.h"

/* Many keys (several growths), every one found with its own value, a
 * duplicate refused with the value already there, absent keys not found. */
static void test_put_get(void **state) {
        (void) state;
        enum { N = 5000 };
        static char keys[N][16], probe[16];
        strmap *m = strmap_new();
        void *old = NULL;

        assert_non_null(m);
        assert_null(strmap_get(m, "nothing"));
        for (int i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "c%04d", i);
                assert_int_equal(strmap_put(m, keys[i], &keys[i], NULL), 0);
        }
        assert_int_equal(strmap_size(m), N);
        for (int i = 0; i < N; i++) {
                /* a copy of the key: found by content, not by address */
                snprintf(probe, sizeof(probe), "c%04d", i);
                assert_ptr_equal(strmap_get(m, probe), &keys[i]);
        }
        assert_int_equal(strmap_put(m, "c0042", keys, &old), -EEXIST);
        assert_ptr_equal(old, &keys[42]);
        assert_ptr_equal(strmap_get(m, "c0042"), &keys[42]);
        assert_int_equal(strmap_size(m), N);
        assert_null(strmap_get(m, "c5000"));
        assert_null(strmap_get(m, ""));
        assert_int_equal(strmap_put(m, "x", NULL, NULL), -EINVAL);
        assert_int_equal(strmap_put(m, "", keys, NULL), 0);
        assert_ptr_equal(strmap_get(m, ""), keys);
        strmap_free(m);
        strmap_free(NULL);
        assert_null(strmap_get(NULL, "x"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_put_get),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
