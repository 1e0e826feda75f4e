/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Runs a credential_process command on the sd-event loop: no shell, the
 * agent's environment inherited (as the AWS CLI does), stdin from
 * /dev/null, stdout collected up to a bound, the first stderr line kept for
 * the error message, a timeout after which the process group is killed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"

typedef struct aws_proc aws_proc;

typedef struct aws_proc_result {
        int exec_errno;          /* != 0: the program could not be started (ENOENT, EACCES…) */
        bool timed_out;          /* killed by us at the timeout */
        bool too_large;          /* stdout exceeded the bound: killed by us */
        bool exited;             /* exited normally: exit_status is valid */
        int exit_status;
        int signal;              /* killed by this signal (when !exited) */
        const char *out;         /* stdout, NUL-terminated (never NULL) */
        size_t out_len;
        const char *err_line;    /* first non-empty stderr line, blanks trimmed, ≤ 512 bytes ("" if
                                  * none); the helper's bytes as written (a NUL becomes a space):
                                  * escape it (aws_escape()) before it reaches a message */
} aws_proc_result;

/* Called once from the loop when the process is reaped; the result is
 * valid during the call only. p may be freed from the callback. */
typedef void (*aws_proc_callback)(aws_proc *p, const aws_proc_result *res, void *userdata);

/*
 * Starts argv (argv[0] with a '/' is a path, else searched in $PATH) with
 * the process environment. timeout_usec 0 means none; max_out bounds
 * stdout. SIGCHLD is blocked in the calling thread when it is not already
 * (sd-event needs that to watch children). Returns 0 and sets *ret,
 * -EINVAL, -ENOMEM, or -errno from pipe/fork/sd-event.
 */
int aws_proc_run(sd_event *e, char *const argv[], uint64_t timeout_usec, size_t max_out, aws_proc_callback cb,
                 void *userdata, aws_proc **ret);

/* Frees p; a running child is killed (SIGKILL to its process group) and
 * reaped, and the callback is not called. Accepts NULL; returns NULL. */
aws_proc *aws_proc_free(aws_proc *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(aws_proc *, aws_proc_free);
