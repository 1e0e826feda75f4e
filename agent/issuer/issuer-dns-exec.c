/* SPDX-License-Identifier: Apache-2.0 */
/* The exec DNS provider: one command run per record and action
 * (hooks/dns/README.md), one after the other, on the loop. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/util.h"
#include "deploy/deploy-hook.h"
#include "issuer/issuer-dns-internal.h"

typedef struct exec_job {
        dns_job base;
        sd_event *event;
        char **command;
        dns_records records;
        dns_action action;
        uint64_t ttl, timeout_usec;
        char *cert_name;
        size_t next;              /* the record whose command runs (or runs next) */
        hook_process *proc;
        sd_event_source *defer;   /* reports the end from the loop */
        int error;                /* the first failure */
        char *message;
        dns_callback cb;
        void *userdata;
} exec_job;

int dns_exec_build(char *const *command, const dns_record *rec, dns_action action, uint64_t ttl,
                   const char *cert_name, char ***ret_argv, char ***ret_env) {
        _cleanup_(strv_freep) char **argv = NULL, **env = NULL;
        const char *act = dns_action_to_string(action);
        char ttl_s[24];
        size_t n;

        if (!command || isempty(command[0]) || !rec || !act || !ret_argv || !ret_env)
                return -EINVAL;
        snprintf(ttl_s, sizeof ttl_s, "%" PRIu64, ttl);
        n = strv_length(command);
        argv = calloc(n + 6, sizeof(char *));
        env = calloc(7, sizeof(char *));
        if (!argv || !env)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(argv[i] = strdup(command[i])))
                        return -ENOMEM;
        const char *tail[] = { act, rec->name, "CNAME", rec->value, ttl_s };
        for (size_t i = 0; i < ELEMENTSOF(tail); i++)
                if (!(argv[n + i] = strdup(tail[i])))
                        return -ENOMEM;
        if (!(env[0] = strprintf("ACM_AGENT_DNS_ACTION=%s", act)) ||
            !(env[1] = strprintf("ACM_AGENT_DNS_NAME=%s", rec->name)) ||
            !(env[2] = strdup("ACM_AGENT_DNS_TYPE=CNAME")) ||
            !(env[3] = strprintf("ACM_AGENT_DNS_VALUE=%s", rec->value)) ||
            !(env[4] = strprintf("ACM_AGENT_DNS_TTL=%s", ttl_s)) ||
            (cert_name && !(env[5] = strprintf("ACM_AGENT_CERT_NAME=%s", cert_name))))
                return -ENOMEM;
        *ret_argv = TAKE_PTR(argv);
        *ret_env = TAKE_PTR(env);
        return 0;
}

static void exec_job_free(exec_job *j) {
        if (!j)
                return;
        hook_process_unref(j->proc);
        sd_event_source_disable_unref(j->defer);
        sd_event_unref(j->event);
        strv_free(j->command);
        dns_records_done(&j->records);
        free(j->cert_name);
        free(j->message);
        free(j);
}

static void exec_cancel(dns_job *base) {
        exec_job_free((exec_job *) base);
}

static int on_defer(sd_event_source *s _unused_, void *userdata) {
        exec_job *j = userdata;
        dns_result res = {
                .error = j->error,
                .kind = j->error ? "dns-exec" : NULL,
                .message = j->error ? (j->message ? j->message : "out of memory") : NULL,
        };
        j->cb(&res, j->userdata);
        exec_job_free(j);
        return 0;
}

/* Ends the job from the loop (never from inside dns_exec_run()). */
static void finish(exec_job *j) {
        j->proc = hook_process_unref(j->proc);
        if (sd_event_add_defer(j->event, &j->defer, on_defer, j) < 0) {
                /* Cannot happen but for ENOMEM; a job that never ends would
                 * leave the certificate waiting forever. */
                on_defer(NULL, j);
        }
}

static void fail(exec_job *j, int error, const char *what) {
        if (j->error)
                return;
        const dns_record *rec = &j->records.items[j->next];
        j->error = error;
        j->message = strprintf("DNS command %s failed to %s %s CNAME %s: %s (see its output in the log, tagged "
                               "with the certificate name)",
                               j->command[0], dns_action_to_string(j->action), rec->name, rec->value, what);
}

static int run_next(exec_job *j);

static void on_exit_cb(hook_process *p _unused_, const hook_result *r, void *userdata) {
        exec_job *j = userdata;
        char buf[128];

        j->proc = hook_process_unref(j->proc);
        if (r->outcome != HOOK_EXITED || r->status != 0)
                fail(j, r->outcome == HOOK_TIMED_OUT ? -ETIMEDOUT : -EIO, hook_result_describe(r, buf, sizeof buf));
        j->next++;
        if ((j->error && j->action == DNS_ACTION_CREATE) || j->next >= j->records.n) {
                finish(j);
                return;
        }
        int k = run_next(j);
        if (k < 0) {
                fail(j, k, strerror(-k));
                finish(j);
        }
}

static int run_next(exec_job *j) {
        _cleanup_(strv_freep) char **argv = NULL, **env = NULL;
        int r = dns_exec_build(j->command, &j->records.items[j->next], j->action, j->ttl, j->cert_name, &argv, &env);
        if (r < 0)
                return r;
        log_debug("dns: %s %s for %s", dns_action_to_string(j->action), j->records.items[j->next].name, j->command[0]);
        return hook_run(j->event, argv, env, j->timeout_usec, j->cert_name, on_exit_cb, j, &j->proc);
}

int dns_exec_run(sd_event *e, char *const *command, const dns_records *records, dns_action action, uint64_t ttl,
                 uint64_t timeout_usec, const char *cert_name, dns_callback cb, void *userdata, dns_job **ret) {
        exec_job *j;
        int r;

        if (!e || !command || isempty(command[0]) || !records || !cb || !dns_action_to_string(action))
                return -EINVAL;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (exec_job) {
                .base.cancel = exec_cancel,
                .event = sd_event_ref(e),
                .action = action,
                .ttl = ttl,
                .timeout_usec = timeout_usec,
                .cb = cb,
                .userdata = userdata,
        };
        if (!(j->command = strv_copy(command)) || (cert_name && !(j->cert_name = strdup(cert_name))) ||
            (r = dns_records_copy(records, &j->records)) < 0) {
                exec_job_free(j);
                return -ENOMEM;
        }
        if (j->records.n == 0)
                r = sd_event_add_defer(e, &j->defer, on_defer, j);
        else
                r = run_next(j);
        if (r < 0) {
                exec_job_free(j);
                return r;
        }
        if (ret)
                *ret = &j->base;
        return 0;
}
