/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/spawn.h"
#include "basic/util.h"


/* Every path to try for argv0, computed before fork: the child only calls
 * async-signal-safe functions. */
static char **build_candidates(const char *argv0, const char *search_path) {
        _cleanup_(strv_freep) char **l = calloc(SPAWN_PATH_MAX_ENTRIES + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return NULL;
        if (strchr(argv0, '/')) {
                if (!(l[0] = strdup(argv0)))
                        return NULL;
                return TAKE_PTR(l);
        }
        for (const char *d = search_path ? search_path : ""; *d && n < SPAWN_PATH_MAX_ENTRIES;) {
                size_t k = strcspn(d, ":");
                if (!(l[n++] = k == 0 ? strprintf("./%s", argv0) : strprintf("%.*s/%s", (int) k, d, argv0)))
                        return NULL;
                d += k;
                if (*d == ':')
                        d++;
        }
        return TAKE_PTR(l);
}

_Noreturn static void child_exec(char *const argv[], char **candidates, char *const envp[], int out_fd, int err_fd,
                                 int exec_fd) {
        sigset_t ss;
        int e = ENOENT, nullfd;

        /* Not the agent's signal mask or dispositions. */
        for (int sig = 1; sig < NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                /* glibc refuses its reserved signals (32, 33), which a parent
                 * may have ignored: reset those with the raw system call. */
                if (signal(sig, SIG_DFL) == SIG_ERR) {
                        struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } ksa = {};
                        (void) syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
                }
        }
        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        (void) setpgid(0, 0);
        /* The agent runs with umask 077 (harden_process); hooks and reload
         * commands get the conventional one, whatever the agent's is. */
        (void) umask(022);

        nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
                e = errno;
                goto fail;
        }
        /* The exec-status pipe moves to fd 3 (close-on-exec); everything else goes. */
        if (exec_fd != 3) {
                if (dup3(exec_fd, 3, O_CLOEXEC) < 0) {
                        e = errno;
                        goto fail;
                }
                exec_fd = 3;
        }
        (void) close_range(4, ~0U, 0);

        for (char **c = candidates; *c; c++) {
                execve(*c, argv, envp);
                if (errno != ENOENT && errno != ENOTDIR)
                        e = errno;
        }
fail:
        (void) !write(exec_fd, &e, sizeof e);
        _exit(127);
}

int spawn_child(char *const argv[], char *const envp[], const char *search_path, pid_t *ret_pid, int *ret_out,
                int *ret_err, int *ret_exec) {
        _cleanup_(strv_freep) char **candidates = NULL;
        int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 };
        pid_t pid;
        int r;

        if (!argv || isempty(argv[0]) || !ret_pid || !ret_out || !ret_err || !ret_exec)
                return -EINVAL;
        candidates = build_candidates(argv[0], search_path);
        if (!candidates)
                return -ENOMEM;
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                child_exec(argv, candidates, envp ? envp : environ, out[1], err[1], ex[1]);

        safe_close(out[1]);
        safe_close(err[1]);
        safe_close(ex[1]);
        *ret_pid = pid;
        *ret_out = out[0];
        *ret_err = err[0];
        *ret_exec = ex[0];
        return 0;

fail:
        safe_close(out[0]);
        safe_close(out[1]);
        safe_close(err[0]);
        safe_close(err[1]);
        safe_close(ex[0]);
        safe_close(ex[1]);
        return r;
}
