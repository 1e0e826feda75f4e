/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "log.h"

/* The configuration loader lives in conf*.c, which lands separately from
 * the engine; until it is linked in, every command says so and exits 2
 * instead of failing to link. */
#pragma weak conf_load
#pragma weak conf_errors_print
#pragma weak conf_errors_done
#pragma weak conf_free

int cli_conf_load(const cli_options *o, conf **ret) {
        conf_errors errs = {};
        conf *c = NULL;
        int r;

        if (!conf_load) {
                log_error("%s: the configuration loader is not part of this build; nothing was done.",
                          o->config_path);
                return -EOPNOTSUPP;
        }
        r = conf_load(o->config_path, &c, &errs);
        if (r < 0) {
                if (errs.n > 0)
                        conf_errors_print(&errs, stderr);
                else
                        log_error("%s: cannot load the configuration: %s", o->config_path, strerror(-r));
                conf_errors_done(&errs);
                return r;
        }
        conf_errors_done(&errs);
        *ret = c;
        return 0;
}

void cli_conf_free(conf *c) {
        if (c && conf_free)
                conf_free(c);
}
