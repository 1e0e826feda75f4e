/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared AWS config and credentials files: the input up to a line
 * "#--- credentials" is ~/.aws/config, the rest ~/.aws/credentials. Every
 * profile the text names (up to 16) is resolved.
 */
#include <ctype.h>
#include <string.h>

#include "aws/aws-creds-file.h"
#include "fuzz.h"

#define CREDS_MARKER "\n#--- credentials\n"

/* Profile names from "[profile NAME]" / "[NAME]" lines, plus "default". */
static size_t profiles(const char *text, char names[][64], size_t n, size_t max) {
        for (const char *p = text; p && *p && n < max; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                const char *s = p, *e;
                size_t l;

                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s != '[')
                        continue;
                s++;
                if (strncmp(s, "profile ", 8) == 0)
                        s += 8;
                e = strchr(s, ']');
                if (!e || memchr(s, '\n', (size_t) (e - s)))
                        continue;
                l = (size_t) (e - s);
                if (l >= 64)
                        continue;
                memcpy(names[n], s, l);
                names[n][l] = 0;
                n++;
        }
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *config = NULL, *credentials = NULL;
        char names[16][64];
        creds_files *f = NULL;
        size_t n;

        if (fuzz_split(data, size, CREDS_MARKER, &config, &credentials) < 0)
                return 0;
        if (creds_files_parse(config, credentials, &f) >= 0) {
                FUZZ_CHECK(f);
                strcpy(names[0], "default");
                n = profiles(config, names, 1, 16);
                n = profiles(credentials, names, n, 16);
                for (size_t i = 0; i < n; i++) {
                        creds_chain ch;
                        char *msg = NULL;

                        (void) creds_files_has_profile(f, names[i]);
                        (void) creds_files_get(f, names[i], "region");
                        (void) creds_files_get(f, names[i], "role_arn");
                        if (creds_files_resolve(f, names[i], &ch, &msg) >= 0) {
                                FUZZ_CHECK(!msg);
                                creds_chain_done(&ch);
                        }
                        free(msg);
                }
                creds_files_free(f);
        }
        free(config);
        free(credentials);
        return 0;
}
