/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays a harness's seed corpus without libFuzzer, so `make check` runs
 * every seed (and every crash input kept as a regression seed) through the
 * harness and its invariants with the ordinary build. Linked with one
 * fuzz-*.c; FUZZ_NAME names its corpus directory tests/fuzz/aws/FUZZ_NAME/.
 * Exit 0 when every input passed (a failed invariant aborts), 1 when the
 * corpus cannot be read or is empty.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char **argv) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/tests/fuzz/aws/%s", ABS_TOP_SRCDIR, FUZZ_NAME);
        DIR *d = opendir(dir);
        if (!d) {
                fprintf(stderr, "cannot open %s\n", dir);
                return 1;
        }
        char **names = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 32;
                        char **x = realloc(names, allocated * sizeof *names);
                        if (!x)
                                return 1;
                        names = x;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        return 1;
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp);
        for (size_t i = 0; i < n; i++) {
                char path[2048], *buf = NULL;
                size_t len = 0;
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                if (read_full_file(path, 1024 * 1024, &buf, &len) < 0) {
                        fprintf(stderr, "cannot read %s\n", path);
                        return 1;
                }
                printf("%s (%zu bytes)\n", names[i], len);
                /* libFuzzer hands over exactly len bytes: so do we. */
                uint8_t *copy = malloc(len ? len : 1);
                if (!copy)
                        return 1;
                memcpy(copy, buf, len);
                LLVMFuzzerTestOneInput(copy, len);
                free(copy);
                free(buf);
                free(names[i]);
        }
        free(names);
        printf("%zu inputs\n", n);
        return n > 0 ? 0 : 1;
}
