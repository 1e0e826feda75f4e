/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints every key path the configuration loader accepts, one per line
 * (conf_key_paths()), for tests/unit/conf/test-reference.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "basic/util.h"

int main(void) {
        char **l = NULL;
        int r = conf_key_paths(&l);

        if (r < 0) {
                fprintf(stderr, "test-key-paths-dump: %s\n", strerror(-r));
                return 1;
        }
        for (char **k = l; *k; k++)
                printf("%s\n", *k);
        strv_free(l);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
