/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays inputs through a fuzz harness without libFuzzer: each argument is a
 * file or a directory (every regular file in it, sorted). A crash, a
 * sanitizer report or a broken invariant (abort) fails the run. Prints
 * "replay: N inputs" and exits 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_INPUT_MAX (4u * 1024u * 1024u)

static int run_file(const char *path) {
        struct stat st;
        uint8_t *buf;
        size_t n = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t) st.st_size > REPLAY_INPUT_MAX) {
                fprintf(stderr, "replay: %s: cannot read a regular file under 4 MiB\n", path);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        buf = malloc((size_t) st.st_size + 1);
        if (!buf) {
                close(fd);
                return -1;
        }
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        close(fd);
        /* a copy of exactly n bytes, so ASan sees any read past the input */
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) {
                free(buf);
                return -1;
        }
        memcpy(exact, buf, n);
        free(buf);
        (void) LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        return 0;
}

static int cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int failed = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed |= run_file(argv[i]) < 0;
                        count++;
                        continue;
                }
                struct dirent **list = NULL;
                int n = scandir(argv[i], &list, NULL, NULL);
                if (n < 0) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                char **names = calloc((size_t) n + 1, sizeof(char *));
                if (!names)
                        return 1;
                int m = 0;
                for (int k = 0; k < n; k++) {
                        if (list[k]->d_name[0] != '.')
                                names[m++] = strdup(list[k]->d_name);
                        free(list[k]);
                }
                free(list);
                qsort(names, (size_t) m, sizeof(char *), cmp);
                for (int k = 0; k < m; k++) {
                        size_t l = strlen(argv[i]) + strlen(names[k]) + 2;
                        char *p = malloc(l);
                        if (!p)
                                return 1;
                        snprintf(p, l, "%s/%s", argv[i], names[k]);
                        failed |= run_file(p) < 0;
                        count++;
                        free(p);
                        free(names[k]);
                }
                free(names);
        }
        printf("replay: %u inputs\n", count);
        return failed ? 1 : 0;
}
