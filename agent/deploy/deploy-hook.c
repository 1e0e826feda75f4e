/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deploy/deploy-hook.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/spawn.h"
#include "basic/util.h"

/* Size of one read from a hook's pipe; output is streamed through this
 * buffer and the current line, never accumulated. */
#define HOOK_READ_CHUNK 65536

typedef struct hook_stream {
        hook_process *p;
        int fd;
        sd_event_source *source;
        const char *name;          /* "stdout" / "stderr" */
        char line[HOOK_LINE_MAX + 1];
        size_t n;
        bool truncated;            /* current line was cut; skip until newline */
} hook_stream;

struct hook_process {
        sd_event *event;
        pid_t pid;
        char *tag;
        char *argv0;
        sd_event_source *child;
        sd_event_source *timer;
        hook_stream out, err;
        int exec_fd;               /* read end of the exec-errno pipe */
        uint64_t start_usec;
        uint64_t timeout_usec;
        bool timed_out;
        int kill_signal;
        hook_callback cb;
        void *userdata;
};

static uint64_t now_monotonic(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void stream_emit(hook_stream *s) {
        s->line[s->n] = 0;
        log_internal(LOG_INFO, 0, s->p->tag, "%s[%d] %s: %s%s", s->p->argv0, (int) s->p->pid, s->name,
                     s->line, s->truncated ? " [line truncated]" : "");
        s->n = 0;
}

static void stream_feed(hook_stream *s, const char *buf, size_t len) {
        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                if (c == '\n') {
                        if (s->truncated)
                                s->truncated = false, s->n = 0;
                        else
                                stream_emit(s);
                        continue;
                }
                if (s->truncated)
                        continue;
                if (s->n >= HOOK_LINE_MAX) {
                        s->truncated = true;
                        stream_emit(s);
                        s->truncated = true;
                        continue;
                }
                s->line[s->n++] = (c == 0 || (c < 32 && c != '\t')) ? '?' : c;
        }
}

static void stream_close(hook_stream *s) {
        if (s->n > 0 && !s->truncated)
                stream_emit(s);
        s->source = sd_event_source_disable_unref(s->source);
        s->fd = safe_close(s->fd);
}

/* Reads what is available; returns true when the stream reached EOF or an error. */
static bool stream_read(hook_stream *s) {
        char buf[HOOK_READ_CHUNK];
        for (unsigned i = 0; i < 16; i++) {
                ssize_t k = read(s->fd, buf, sizeof buf);
                if (k > 0) {
                        stream_feed(s, buf, (size_t) k);
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return false;
                return true;
        }
        return false;
}

static int on_stream(sd_event_source *src _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        hook_stream *s = userdata;
        if (stream_read(s))
                stream_close(s);
        return 0;
}

static int on_timer(sd_event_source *src _unused_, uint64_t usec _unused_, void *userdata) {
        hook_process *p = userdata;
        int sig = p->timed_out ? SIGKILL : SIGTERM;

        p->timed_out = true;
        p->kill_signal = sig;
        log_internal(LOG_DEBUG, 0, p->tag, "%s[%d] timed out, sending %s", p->argv0, (int) p->pid,
                     sig == SIGKILL ? "SIGKILL" : "SIGTERM");
        /* The child leads its own process group: take its children too. */
        (void) kill(-p->pid, sig);
        (void) kill(p->pid, sig);
        p->timer = sd_event_source_disable_unref(p->timer);
        if (sig == SIGTERM)
                (void) sd_event_add_time_relative(p->event, &p->timer, CLOCK_MONOTONIC, HOOK_KILL_GRACE_USEC, 0,
                                                  on_timer, p);
        return 0;
}

static int on_child(sd_event_source *src _unused_, const siginfo_t *si, void *userdata) {
        hook_process *p = userdata;
        hook_result r = { .runtime_usec = now_monotonic() - p->start_usec };
        int exec_errno = 0;

        /* Drain what the child left in the pipes; a grandchild holding them
         * open does not keep us waiting. */
        if (p->out.fd >= 0) {
                (void) stream_read(&p->out);
                stream_close(&p->out);
        }
        if (p->err.fd >= 0) {
                (void) stream_read(&p->err);
                stream_close(&p->err);
        }
        if (p->exec_fd >= 0) {
                if (read(p->exec_fd, &exec_errno, sizeof exec_errno) != (ssize_t) sizeof exec_errno)
                        exec_errno = 0;
                p->exec_fd = safe_close(p->exec_fd);
        }
        p->timer = sd_event_source_disable_unref(p->timer);
        p->child = sd_event_source_disable_unref(p->child);

        if (exec_errno > 0) {
                r.outcome = HOOK_EXEC_FAILED;
                r.status = exec_errno;
        } else if (p->timed_out) {
                r.outcome = HOOK_TIMED_OUT;
                r.status = p->kill_signal;
        } else if (si->si_code == CLD_EXITED) {
                r.outcome = HOOK_EXITED;
                r.status = si->si_status;
        } else {
                r.outcome = HOOK_SIGNALED;
                r.status = si->si_status;
        }
        p->pid = 0;
        if (p->cb)
                p->cb(p, &r, p->userdata); /* may free p: nothing after this */
        return 0;
}

hook_process *hook_process_unref(hook_process *p) {
        if (!p)
                return NULL;
        /* A child source that owns the process kills and reaps it on unref. */
        p->child = sd_event_source_disable_unref(p->child);
        p->timer = sd_event_source_disable_unref(p->timer);
        p->out.source = sd_event_source_disable_unref(p->out.source);
        p->err.source = sd_event_source_disable_unref(p->err.source);
        safe_close(p->out.fd);
        safe_close(p->err.fd);
        safe_close(p->exec_fd);
        sd_event_unref(p->event);
        free(p->tag);
        free(p->argv0);
        free(p);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(hook_process *, hook_process_unref);

pid_t hook_process_pid(const hook_process *p) {
        return p ? p->pid : 0;
}

static int stream_setup(hook_process *p, hook_stream *s, int fd, const char *name) {
        int r;
        s->p = p;
        s->fd = fd;
        s->name = name;
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        r = sd_event_add_io(p->event, &s->source, fd, EPOLLIN, on_stream, s);
        return r < 0 ? r : 0;
}

/* Everything the child needs is computed before fork: the agent has
 * threads, so the child may not allocate. */
static char **build_env(char *const env[]) {
        size_t n = env ? strv_length(env) : 0;
        bool have_path = false;
        char **l = calloc(n + 2, sizeof(char *));
        if (!l)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (strneq(env[i], "PATH=", 5))
                        have_path = true;
                l[i] = strdup(env[i]);
                if (!l[i])
                        goto fail;
        }
        if (!have_path && !(l[n] = strdup("PATH=" HOOK_PATH)))
                goto fail;
        return l;
fail:
        strv_free(l);
        return NULL;
}

int hook_run(sd_event *e, char *const argv[], char *const env[], uint64_t timeout_usec, const char *cert_name,
             hook_callback cb, void *userdata, hook_process **ret) {
        _cleanup_(hook_process_unrefp) hook_process *p = NULL;
        _cleanup_(strv_freep) char **envp = NULL;
        int out_fd = -1, err_fd = -1;
        pid_t pid;
        int r;

        if (!e || !argv || isempty(argv[0]) || !ret)
                return -EINVAL;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->out.fd = p->err.fd = p->exec_fd = -1;
        p->cb = cb;
        p->userdata = userdata;
        p->timeout_usec = timeout_usec;
        if ((cert_name && !(p->tag = strdup(cert_name))) || !(p->argv0 = strdup(argv[0])))
                return -ENOMEM;
        envp = build_env(env);
        if (!envp)
                return -ENOMEM;

        p->start_usec = now_monotonic();
        r = spawn_child(argv, envp, HOOK_PATH, &pid, &out_fd, &err_fd, &p->exec_fd);
        if (r < 0)
                return r;
        p->pid = pid;

        /* From here the child source owns the process: an error below kills it. */
        r = sd_event_add_child(e, &p->child, pid, WEXITED, on_child, p);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                p->pid = 0;
                safe_close(out_fd);
                safe_close(err_fd);
                return r;
        }
        (void) sd_event_source_set_child_process_own(p->child, 1);
        /* Reap only after output was read, so the last lines come first. */
        (void) sd_event_source_set_priority(p->child, SD_EVENT_PRIORITY_NORMAL + 10);

        r = stream_setup(p, &p->out, out_fd, "stdout");
        if (r < 0) {
                safe_close(err_fd);
                return r;
        }
        r = stream_setup(p, &p->err, err_fd, "stderr");
        if (r < 0)
                return r;
        if (timeout_usec > 0) {
                r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_timer, p);
                if (r < 0)
                        return r;
        }
        log_internal(LOG_DEBUG, 0, p->tag, "started %s[%d]", p->argv0, (int) pid);
        *ret = TAKE_PTR(p);
        return 0;
}

const char *hook_result_describe(const hook_result *r, char *buf, size_t size) {
        if (!buf || size == 0)
                return buf;
        switch (r->outcome) {
        case HOOK_EXITED:
                if (r->status == 0)
                        snprintf(buf, size, "succeeded");
                else
                        snprintf(buf, size, "exit status %d", r->status);
                break;
        case HOOK_SIGNALED:
                snprintf(buf, size, "killed by signal %s", sigabbrev_np(r->status) ?: "?");
                break;
        case HOOK_TIMED_OUT:
                snprintf(buf, size, "timed out after %.1fs, killed with SIG%s", (double) r->runtime_usec / 1e6,
                         sigabbrev_np(r->status) ?: "?");
                break;
        case HOOK_EXEC_FAILED:
                snprintf(buf, size, "exec failed: %s", strerror(r->status));
                break;
        default:
                snprintf(buf, size, "unknown outcome");
        }
        return buf;
}

static const char *const event_names[_HOOK_EVENT_MAX] = {
        [HOOK_EVENT_DEPLOYED] = "deployed",
        [HOOK_EVENT_FAILED] = "failed",
        [HOOK_EVENT_PENDING_VALIDATION] = "pending_validation",
};

const char *hook_event_to_string(hook_event ev) {
        if ((unsigned) ev >= _HOOK_EVENT_MAX)
                return NULL;
        return event_names[ev];
}

static int env_add(char **l, size_t *n, const char *name, const char *value) {
        if (!value)
                return 0;
        char *s = strprintf("%s=%s", name, value);
        if (!s)
                return -ENOMEM;
        l[(*n)++] = s;
        return 0;
}

static int env_add_path(char **l, size_t *n, const char *name, const char *dir, const char *file) {
        _cleanup_(freep) char *path = NULL;
        if (!dir)
                return 0;
        path = path_join(dir, file);
        if (!path)
                return -ENOMEM;
        return env_add(l, n, name, path);
}

int hook_env_build(hook_event ev, const conf_cert *cert, const hook_cert_info *info, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        const hook_cert_info empty = {};
        const char *dir;
        size_t n = 0;
        int r = 0;

        if (!cert || !ret || !hook_event_to_string(ev))
                return -EINVAL;
        if (!info)
                info = &empty;
        l = calloc(20, sizeof(char *));
        if (!l)
                return -ENOMEM;
        dir = cert->output.dir;
        if ((r = env_add(l, &n, "ACM_AGENT_EVENT", hook_event_to_string(ev))) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_CERT_NAME", cert->name)) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_OUTPUT_DIR", dir)) < 0 ||
            (r = env_add_path(l, &n, "ACM_AGENT_CERT", dir, "cert.pem")) < 0 ||
            (r = env_add_path(l, &n, "ACM_AGENT_CHAIN", dir, "chain.pem")) < 0 ||
            (r = env_add_path(l, &n, "ACM_AGENT_FULLCHAIN", dir, "fullchain.pem")) < 0 ||
            (r = env_add_path(l, &n, "ACM_AGENT_KEY", dir, "key.pem")) < 0 ||
            (r = env_add_path(l, &n, "ACM_AGENT_HAPROXY_BUNDLE", dir, "haproxy.pem")) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_SERIAL", info->serial)) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_NOT_AFTER", info->not_after)) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_ARN", info->arn)) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_ISSUER", info->issuer)) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_ERROR", info->error)) < 0 ||
            (r = env_add(l, &n, "ACM_AGENT_VALIDATION", info->validation)) < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int hook_run_event(sd_event *e, hook_event ev, const conf_cert *cert, const hook_cert_info *info,
                   hook_callback cb, void *userdata, hook_process **ret) {
        _cleanup_(strv_freep) char **env = NULL;
        char **argv;
        int r;

        if (!cert || !ret)
                return -EINVAL;
        switch (ev) {
        case HOOK_EVENT_DEPLOYED:
                argv = cert->hooks.deploy;
                break;
        case HOOK_EVENT_FAILED:
                argv = cert->hooks.failure;
                break;
        case HOOK_EVENT_PENDING_VALIDATION:
                argv = cert->hooks.pending_validation;
                break;
        default:
                return -EINVAL;
        }
        if (!argv || !argv[0]) {
                *ret = NULL;
                return 0;
        }
        r = hook_env_build(ev, cert, info, &env);
        if (r < 0)
                return r;
        return hook_run(e, argv, env, cert->hooks.timeout * USEC_PER_SEC, cert->name, cb, userdata, ret);
}
