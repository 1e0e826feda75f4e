/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * hook: run an external program on the agent's sd-event loop.
 *
 * The child gets a clean environment (only what the caller passes, plus a
 * fixed PATH), stdin from /dev/null, stdout/stderr on pipes that the loop
 * reads line by line (each line logged with the certificate name; lines are
 * cut at HOOK_LINE_MAX, output is streamed and never accumulated), every
 * other fd closed, default signal mask and dispositions. At the timeout the
 * child gets SIGTERM, then SIGKILL after HOOK_KILL_GRACE_USEC.
 */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/conf.h"

#define HOOK_LINE_MAX 4096
#define HOOK_KILL_GRACE_USEC (5 * UINT64_C(1000000))
#define HOOK_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct hook_process hook_process;

typedef enum hook_outcome {
        HOOK_EXITED,       /* status = exit code (0 = ok) */
        HOOK_SIGNALED,     /* status = signal number (not sent by us) */
        HOOK_TIMED_OUT,    /* killed by us at the timeout; status = signal used */
        HOOK_EXEC_FAILED,  /* status = errno of execve (e.g. ENOENT, EACCES) */
} hook_outcome;

typedef struct hook_result {
        hook_outcome outcome;
        int status;
        uint64_t runtime_usec;
} hook_result;

/* Called once, on the loop, when the child is reaped. `p` is still valid
 * during the call; the caller unrefs it (from the callback or later). */
typedef void (*hook_callback)(hook_process *p, const hook_result *r, void *userdata);

/*
 * Start argv[0] (absolute path, or searched in HOOK_PATH) with arguments
 * argv and environment env (NULL-terminated "NAME=value" strings; PATH is
 * added unless env sets it). timeout_usec 0 = no timeout. cert_name tags the
 * log lines (may be NULL). On success *ret holds a reference that the caller
 * releases with hook_process_unref(); dropping it before completion kills
 * the child (SIGKILL) and the callback is not called.
 * Errors: -EINVAL (empty argv), -ENOMEM, -errno from pipe/fork/sd-event.
 * An execve failure is not an error here: it is reported through cb.
 */
int hook_run(sd_event *e, char *const argv[], char *const env[], uint64_t timeout_usec,
             const char *cert_name, hook_callback cb, void *userdata, hook_process **ret);

/* Process id of the child (for tests and logging). */
pid_t hook_process_pid(const hook_process *p);

/* Release; kills a still-running child. Accepts NULL, returns NULL. */
hook_process *hook_process_unref(hook_process *p);

/* A short human-readable description of r ("exit status 3", "timed out
 * after 60s, killed", "exec failed: No such file or directory"), written to
 * buf (always NUL-terminated). Returns buf. */
const char *hook_result_describe(const hook_result *r, char *buf, size_t size);

/*
 * Hook events and their environment (documented in hooks/README.md).
 */
typedef enum hook_event {
        HOOK_EVENT_DEPLOYED,
        HOOK_EVENT_FAILED,
        HOOK_EVENT_PENDING_VALIDATION,
        _HOOK_EVENT_MAX,
} hook_event;

/* "deployed", "failed", "pending_validation"; NULL when out of range. */
const char *hook_event_to_string(hook_event ev);

/* What a hook is told about a certificate; any field may be NULL (then the
 * variable is not set). */
typedef struct hook_cert_info {
        const char *serial;        /* hex */
        const char *not_after;     /* RFC 3339, UTC */
        const char *arn;           /* ACM / PCA certificate ARN */
        const char *issuer;        /* "pca", "acm", "import" */
        const char *error;         /* failed: the reason */
        const char *validation;    /* pending_validation: "NAME CNAME VALUE" lines */
} hook_cert_info;

/*
 * Build the hook environment for cert (ACM_AGENT_EVENT, ACM_AGENT_CERT_NAME,
 * ACM_AGENT_OUTPUT_DIR, ACM_AGENT_CERT, ACM_AGENT_CHAIN,
 * ACM_AGENT_FULLCHAIN, ACM_AGENT_KEY, ACM_AGENT_HAPROXY_BUNDLE,
 * ACM_AGENT_SERIAL, ACM_AGENT_NOT_AFTER, ACM_AGENT_ARN, ACM_AGENT_ISSUER,
 * ACM_AGENT_ERROR, ACM_AGENT_VALIDATION). *ret is a NULL-terminated strv the
 * caller frees with strv_free(). Errors: -EINVAL, -ENOMEM.
 */
int hook_env_build(hook_event ev, const conf_cert *cert, const hook_cert_info *info, char ***ret);

/*
 * Run the hook configured for ev on cert (cert->hooks.deploy / failure /
 * pending_validation, timeout cert->hooks.timeout seconds). Returns 0 and
 * *ret = NULL when no hook is configured for ev. A failing deploy hook is
 * reported, never rolled back. Errors as hook_run().
 */
int hook_run_event(sd_event *e, hook_event ev, const conf_cert *cert, const hook_cert_info *info,
                   hook_callback cb, void *userdata, hook_process **ret);
