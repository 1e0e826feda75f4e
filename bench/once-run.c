/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a command RUNS times and prints one line per run: its exit status,
 * its wall time in microseconds and its peak RSS in KiB (ru_maxrss), the
 * format bench/once-lib.sh reads. Used instead of `date +%s%N` and
 * /usr/bin/time around each run, which spawn two more processes and add
 * their own start-up to a pass of a few tens of milliseconds.
 *
 *   bench/once-run RUNS OUT ERR -- COMMAND [ARG...]
 *
 * The wall time is CLOCK_MONOTONIC from just before posix_spawn() to the
 * return of wait4(): the whole process, exec to exit, plus the spawn and
 * the reaping. stdout goes to OUT, stderr to ERR (both truncated per
 * run). The peak RSS is the child's ru_maxrss from wait4(); posix_spawn
 * shares this small program's memory until the exec, so that counts as
 * at least this program's own RSS (about 1 MiB), never the agent's less.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv) {
        char *end = NULL;
        long runs;

        if (argc < 6 || strcmp(argv[4], "--") != 0) {
                fprintf(stderr, "usage: %s RUNS OUT ERR -- COMMAND [ARG...]\n", argv[0]);
                return 2;
        }
        errno = 0;
        runs = strtol(argv[1], &end, 10);
        if (errno || !end || *end || runs < 1 || runs > 100000) {
                fprintf(stderr, "%s: RUNS must be a number from 1 to 100000\n", argv[0]);
                return 2;
        }
        for (long i = 0; i < runs; i++) {
                posix_spawn_file_actions_t fa;
                struct rusage ru;
                long long t0, t1;
                int status, r;
                pid_t pid;

                if (posix_spawn_file_actions_init(&fa) != 0 ||
                    posix_spawn_file_actions_addopen(&fa, 1, argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0 ||
                    posix_spawn_file_actions_addopen(&fa, 2, argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0) {
                        fprintf(stderr, "%s: out of memory\n", argv[0]);
                        return 1;
                }
                t0 = now_usec();
                r = posix_spawn(&pid, argv[5], &fa, NULL, argv + 5, environ);
                if (r != 0) {
                        fprintf(stderr, "%s: cannot run %s: %s\n", argv[0], argv[5], strerror(r));
                        return 1;
                }
                while (wait4(pid, &status, 0, &ru) < 0)
                        if (errno != EINTR) {
                                fprintf(stderr, "%s: wait4: %s\n", argv[0], strerror(errno));
                                return 1;
                        }
                t1 = now_usec();
                posix_spawn_file_actions_destroy(&fa);
                printf("%d %lld %ld\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), t1 - t0,
                       ru.ru_maxrss);
                fflush(stdout);
        }
        return 0;
}
