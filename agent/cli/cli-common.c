/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "store/store-readahead.h"
#include "basic/log.h"

static int conf_load_logged(const cli_options *o, const conf_load_options *lo, conf **ret) {
        conf_errors errs = {};
        conf *c = NULL;
        int r;

        r = conf_load_with(o->config_path, lo, &c, &errs, NULL);
        if (r < 0) {
                if (errs.n > 0)
                        conf_errors_print(&errs, stderr);
                else
                        log_error("%s: cannot load the configuration: %s", o->config_path, strerror(-r));
                conf_errors_done(&errs);
                return r;
        }
        conf_errors_done(&errs);
        /* What check prints as warnings, every other command logs: an
         * operator who runs only --once or the timer sees them too. */
        for (size_t i = 0; i < c->warnings.n; i++)
                log_warning("%s:%u:%u: warning: %s", c->warnings.items[i].loc.file, c->warnings.items[i].loc.line,
                            c->warnings.items[i].loc.column, c->warnings.items[i].message);
        *ret = c;
        return 0;
}

void cli_conf_free(conf *c) {
        conf_free(c);
}

int cli_conf_load(const cli_options *o, conf **ret) {
        return conf_load_logged(o, NULL, ret);
}

static void start_readahead(const char *dir, void *userdata) {
        store_readahead **ra = userdata;
        *ra = store_readahead_start(dir);
}

int cli_conf_load_reading_states(const cli_options *o, conf **ret, store_readahead **ret_ra) {
        const conf_load_options lo = { .on_state_dir = start_readahead, .userdata = ret_ra };
        int r;

        *ret_ra = NULL;
        r = conf_load_logged(o, &lo, ret);
        if (r < 0)
                *ret_ra = store_readahead_free(*ret_ra);
        return r;
}
