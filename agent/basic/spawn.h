/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * spawn: start a child process the one way the agent starts every program
 * (hooks, reload commands, credential_process): stdin from /dev/null,
 * stdout and stderr on pipes, its own process group, default signal
 * dispositions and an empty signal mask, umask 022 (never the agent's own
 * 077), no other file descriptor. The
 * caller watches the pipes and the child on its sd-event loop.
 */

#include <sys/types.h>

/* Bound on the PATH entries tried for a bare program name. */
#define SPAWN_PATH_MAX_ENTRIES 64

/*
 * Forks and executes argv. argv[0] containing '/' is executed as is;
 * otherwise every directory of search_path (':'-separated, an empty entry
 * meaning the current directory) is tried in order. envp is the
 * NULL-terminated environment (NULL: the agent's own environment).
 * On success sets *ret_pid and the read ends (O_CLOEXEC, blocking) of the
 * child's stdout (*ret_out), stderr (*ret_err) and exec-status pipe
 * (*ret_exec): EOF on *ret_exec means the program was executed; an int
 * read from it is the errno of the failed execve (ENOENT when no candidate
 * exists). The caller owns the three descriptors and must reap the child.
 * Returns 0, -EINVAL (empty argv), -ENOMEM, or -errno from pipe2/fork.
 */
int spawn_child(char *const argv[], char *const envp[], const char *search_path, pid_t *ret_pid, int *ret_out,
                int *ret_err, int *ret_exec);
