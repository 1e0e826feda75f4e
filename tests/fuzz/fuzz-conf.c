/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML configuration, through conf_load() as the agent reads it: the
 * input up to a line "#--- certs.d/10-fuzz.yaml" is the main file, the rest
 * (when the line is there) a drop-in in certs.d/ beside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "basic/util.h"
#include "conf/conf.h"
#include "fuzz.h"

#define DROPIN_MARKER "\n#--- certs.d/10-fuzz.yaml\n"

static char dir[64], main_path[128], dropin_path[160];
static FILE *devnull;

static void setup(void) {
        char certs[128];

        if (dir[0])
                return;
        snprintf(dir, sizeof dir, "/tmp/acm-fuzz-conf-XXXXXX");
        FUZZ_CHECK(mkdtemp(dir));
        snprintf(main_path, sizeof main_path, "%s/acm-agent.yaml", dir);
        snprintf(certs, sizeof certs, "%s/certs.d", dir);
        snprintf(dropin_path, sizeof dropin_path, "%s/10-fuzz.yaml", certs);
        FUZZ_CHECK(mkdir(certs, 0700) == 0);
        devnull = fopen("/dev/null", "we");
        FUZZ_CHECK(devnull);
}

static void put(const char *path, const char *text) {
        if (!text) {
                (void) unlink(path);
                return;
        }
        FUZZ_CHECK(write_file_atomic(path, text, strlen(text), 0600, (uid_t) -1, (gid_t) -1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *main_text = NULL, *dropin = NULL;
        conf_errors errs;
        conf *c = NULL;
        int r;

        setup();
        if (fuzz_split(data, size, DROPIN_MARKER, &main_text, &dropin) < 0)
                return 0;
        put(main_path, main_text);
        put(dropin_path, dropin);
        r = conf_load(main_path, &c, &errs);
        if (r >= 0) {
                json_t *j;

                FUZZ_CHECK(c);
                j = conf_to_json(c);
                if (j) {
                        char *s = json_dumps(j, 0);
                        free(s);
                        json_decref(j);
                }
                conf_free(c);
        } else {
                FUZZ_CHECK(!c);
                conf_errors_print(&errs, devnull);
        }
        conf_errors_done(&errs);
        free(main_text);
        free(dropin);
        return 0;
}
