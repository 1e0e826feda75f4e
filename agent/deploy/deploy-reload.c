/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "deploy/deploy-hook.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "deploy/deploy-reload.h"
#include "basic/util.h"

#define PID_FILE_MAX 64
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

typedef struct pass_cert {
        const conf_cert *cert;
        char *previous_version;
        bool failed;
        bool rolled_back;
        char *reason;
} pass_cert;

typedef enum target_phase {
        PHASE_TEST,
        PHASE_RELOAD,
        PHASE_REAPPLY,
        PHASE_PROBE,               /* systemctl is-active UNIT: no live master behind pid_file */
} target_phase;

/* What `systemctl is-active UNIT` said about a built-in reloader's unit. */
typedef enum unit_probe {
        PROBE_NOT_ASKED,
        PROBE_ACTIVE,
        PROBE_INACTIVE,
} unit_probe;

typedef struct pass_target {
        const conf_reload *reload;
        size_t *certs;             /* indexes into pass->certs */
        size_t n_certs;
        bool failed;
        bool reload_attempted;
        bool runtime_refused;      /* haproxy runtime API said no: reload instead */
        unit_probe probe;
        char probe_result[64];     /* "exit status 3", for the not-running line */
} pass_target;

#define RUNTIME_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define RUNTIME_REPLY_MAX 4096
#define RUNTIME_PEM_MAX (1024 * 1024)

/* One haproxy runtime API exchange: connect, send one command, read the
 * reply until haproxy closes the connection. */
typedef struct runtime_io {
        int fd;
        sd_event_source *io, *timer;
        char *out;
        size_t out_len, out_off;
        char reply[RUNTIME_REPLY_MAX + 1];
        size_t reply_len;
        size_t cert;               /* index into the target's certs */
        bool committing;
        char *path;
} runtime_io;

struct reload_pass {
        sd_event *event;
        pass_cert *certs;
        size_t n_certs;
        pass_target *targets;
        size_t n_targets;
        bool running;
        reload_callbacks cb;
        /* progress */
        size_t current;            /* target index */
        target_phase phase;
        bool reapply_round;
        hook_process *proc;
        sd_event_source *defer;
        runtime_io *rt;
};

static runtime_io *runtime_io_free(runtime_io *io) {
        if (!io)
                return NULL;
        sd_event_source_disable_unref(io->io);
        sd_event_source_disable_unref(io->timer);
        safe_close(io->fd);
        if (io->out)
                memset(io->out, 0, io->out_len); /* holds a private key */
        free(io->out);
        free(io->path);
        free(io);
        return NULL;
}

reload_pass *reload_pass_new(sd_event *e) {
        reload_pass *p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->event = sd_event_ref(e);
        return p;
}

reload_pass *reload_pass_free(reload_pass *pass) {
        if (!pass)
                return NULL;
        hook_process_unref(pass->proc);
        runtime_io_free(pass->rt);
        sd_event_source_disable_unref(pass->defer);
        for (size_t i = 0; i < pass->n_certs; i++) {
                free(pass->certs[i].previous_version);
                free(pass->certs[i].reason);
        }
        free(pass->certs);
        for (size_t i = 0; i < pass->n_targets; i++)
                free(pass->targets[i].certs);
        free(pass->targets);
        sd_event_unref(pass->event);
        free(pass);
        return NULL;
}

static int target_add_cert(reload_pass *pass, const conf_reload *reload, size_t cert_index) {
        pass_target *t = NULL;
        for (size_t i = 0; i < pass->n_targets; i++)
                if (pass->targets[i].reload == reload) {
                        t = &pass->targets[i];
                        break;
                }
        if (!t) {
                pass_target *n = realloc(pass->targets, (pass->n_targets + 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                pass->targets = n;
                t = &pass->targets[pass->n_targets++];
                *t = (pass_target) { .reload = reload };
        }
        size_t *c = realloc(t->certs, (t->n_certs + 1) * sizeof *c);
        if (!c)
                return -ENOMEM;
        t->certs = c;
        t->certs[t->n_certs++] = cert_index;
        return 0;
}

int reload_pass_add(reload_pass *pass, const conf_cert *cert, const char *previous_version) {
        _cleanup_(freep) char *prev = NULL;
        int r;

        if (!pass || !cert)
                return -EINVAL;
        if (pass->running)
                return -EBUSY;
        for (size_t i = 0; i < pass->n_certs; i++)
                if (pass->certs[i].cert == cert)
                        return -EEXIST;
        if (previous_version && !(prev = strdup(previous_version)))
                return -ENOMEM;
        pass_cert *n = realloc(pass->certs, (pass->n_certs + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        pass->certs = n;
        size_t idx = pass->n_certs;
        pass->certs[idx] = (pass_cert) { .cert = cert, .previous_version = TAKE_PTR(prev) };
        pass->n_certs++;
        for (conf_reload **t = cert->reload; t && *t; t++) {
                r = target_add_cert(pass, *t, idx);
                if (r < 0)
                        return r; /* the cert stays, with a partial target list: pass unusable */
        }
        return 0;
}

unsigned reload_pass_n_targets(const reload_pass *pass) {
        return pass ? (unsigned) pass->n_targets : 0;
}

static void pass_step(reload_pass *pass);

static int on_defer(sd_event_source *s _unused_, void *userdata) {
        reload_pass *pass = userdata;
        pass->defer = sd_event_source_disable_unref(pass->defer);
        pass_step(pass);
        return 0;
}

/* Continue from the loop, never recursively from a callback. */
static void pass_schedule(reload_pass *pass) {
        if (sd_event_add_defer(pass->event, &pass->defer, on_defer, pass) < 0)
                log_internal(LOG_DEBUG, 0, NULL, "reload: cannot schedule the next step");
}

static void target_fail(reload_pass *pass, pass_target *t, const char *reason) {
        t->failed = true;
        log_internal(LOG_DEBUG, 0, NULL, "reload %s failed: %s", t->reload->id, reason);
        for (size_t i = 0; i < t->n_certs; i++) {
                pass_cert *c = &pass->certs[t->certs[i]];
                if (!c->failed) {
                        c->failed = true;
                        c->reason = strprintf("reload %s: %s", t->reload->id, reason);
                }
                if (c->previous_version && !c->rolled_back) {
                        int r = pass->cb.rollback(c->cert, c->previous_version, pass->cb.userdata);
                        if (r >= 0)
                                c->rolled_back = true;
                        else
                                log_internal(LOG_DEBUG, r, c->cert->name, "rollback to %s failed",
                                             c->previous_version);
                }
        }
}

static void on_proc_done(hook_process *proc _unused_, const hook_result *r, void *userdata) {
        reload_pass *pass = userdata;
        pass_target *t = &pass->targets[pass->current];
        char buf[256], reason[320];

        pass->proc = hook_process_unref(pass->proc);
        if (pass->phase == PHASE_PROBE) {
                /* back to the reload, which now knows whether the unit runs */
                t->probe = r->outcome == HOOK_EXITED && r->status == 0 ? PROBE_ACTIVE : PROBE_INACTIVE;
                hook_result_describe(r, t->probe_result, sizeof t->probe_result);
                pass->phase = pass->reapply_round ? PHASE_REAPPLY : PHASE_RELOAD;
                pass_schedule(pass);
                return;
        }
        if (!(r->outcome == HOOK_EXITED && r->status == 0) && !pass->reapply_round) {
                snprintf(reason, sizeof reason, "%s %s",
                         pass->phase == PHASE_TEST ? "configuration test" : "reload",
                         hook_result_describe(r, buf, sizeof buf));
                target_fail(pass, t, reason);
                pass->current++;
                pass->phase = PHASE_TEST;
        } else if (pass->phase == PHASE_TEST)
                pass->phase = PHASE_RELOAD;
        else {
                pass->current++;
                pass->phase = PHASE_TEST;
        }
        pass_schedule(pass);
}

static int run_argv(reload_pass *pass, char *const argv[], uint64_t timeout) {
        return hook_run(pass->event, argv, NULL, (timeout ?: 60) * USEC_PER_SEC, NULL, on_proc_done, pass,
                        &pass->proc);
}

/* Copies at most 32 bytes of s into buf with anything but printable ASCII
 * as '?': pid file contents come from outside. */
static const char *printable(const char *s, char *buf, size_t size) {
        size_t i = 0;
        for (; s[i] && i < 32 && i + 1 < size; i++)
                buf[i] = isprint((unsigned char) s[i]) && isascii((unsigned char) s[i]) ? s[i] : '?';
        if (size > 0)
                buf[i] = 0;
        return buf;
}

int reload_server_running(const char *pid_file, const char *server, pid_t *ret_pid, char *why, size_t size) {
        _cleanup_(freep) char *data = NULL, *comm = NULL;
        char path[64], shown[40];
        uint32_t v;
        size_t len;
        char *p, *end;
        int r;

        if (size > 0)
                why[0] = 0;
        if (!pid_file || !server)
                return -EINVAL;
        r = read_full_file(pid_file, PID_FILE_MAX, &data, &len);
        if (r == -ENOENT) {
                snprintf(why, size, "no pid file %s", pid_file);
                return 0;
        }
        if (r < 0) {
                snprintf(why, size, "cannot read pid file %s: %s", pid_file, strerror(-r));
                return r;
        }
        if (strlen(data) != len) {
                snprintf(why, size, "pid file %s holds a NUL byte, not a process id", pid_file);
                return -EINVAL;
        }
        for (p = data; isspace((unsigned char) *p); p++)
                ;
        for (end = p + strlen(p); end > p && isspace((unsigned char) end[-1]); end--)
                ;
        *end = 0;
        if (!*p) {
                snprintf(why, size, "pid file %s is empty", pid_file);
                return 0;
        }
        r = parse_uint32(p, &v);
        if (r >= 0 && (v <= 1 || v > INT32_MAX))
                r = -ERANGE;
        if (r < 0) {
                snprintf(why, size, "pid file %s holds \"%s\", not a process id", pid_file,
                         printable(p, shown, sizeof shown));
                return r;
        }
        if (kill((pid_t) v, 0) < 0 && errno == ESRCH) {
                snprintf(why, size, "pid %u from %s is not running", v, pid_file);
                return 0;
        }
        /* A stale pid file whose number now belongs to another program: that
         * program is not the server and must not get the server's signal. An
         * unreadable comm (hidepid) cannot tell, and counts as the server. */
        snprintf(path, sizeof path, "/proc/%u/comm", v);
        if (read_full_file(path, 64, &comm, NULL) >= 0) {
                comm[strcspn(comm, "\n")] = 0;
                if (strncmp(comm, server, strlen(server)) != 0) {
                        snprintf(why, size, "pid %u from %s is %s, not %s", v, pid_file,
                                 printable(comm, shown, sizeof shown), server);
                        return 0;
                }
        }
        *ret_pid = (pid_t) v;
        return 1;
}

int reload_cgroup_has_unit(const char *cgroup_path, const char *unit) {
        _cleanup_(freep) char *data = NULL, *want = NULL;
        int r;

        r = read_full_file(cgroup_path, 64 * 1024, &data, NULL);
        if (r < 0)
                return r;
        want = strprintf("/%s%s", unit, strchr(unit, '.') ? "" : ".service");
        if (!want)
                return -ENOMEM;
        /* lines "ID:CONTROLLERS:PATH"; the unit is one path component */
        for (char *line = data, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                for (const char *p = strstr(line, want); p; p = strstr(p + 1, want)) {
                        char after = p[strlen(want)];
                        if (after == 0 || after == '/')
                                return 1;
                }
        }
        return 0;
}

static void target_note(reload_pass *pass, const pass_target *t, const char *msg) {
        if (pass->cb.note)
                pass->cb.note(t->reload->id, msg, pass->cb.userdata);
        else
                log_internal(LOG_NOTICE, 0, NULL, "reload %s: %s", t->reload->id, msg);
}

/* Starts `systemctl VERB UNIT`. */
static int run_systemctl(reload_pass *pass, const conf_reload *rl, const char *verb, const char *opt) {
        char *argv[] = { (char *) "systemctl", (char *) verb, (char *) (opt ?: rl->unit), opt ? rl->unit : NULL, NULL };
        return run_argv(pass, argv, rl->timeout);
}

/* Starts the reload (or, in the re-apply round, reload again) of target t.
 * Returns 1 when a process was started, 0 when done synchronously (also:
 * the server is not running, nothing to reload), -errno with *reason set on
 * failure. */
static int target_reload(reload_pass *pass, pass_target *t, char *reason, size_t size) {
        const conf_reload *rl = t->reload;
        const char *server;
        char why[384], msg[512];
        pid_t pid = 0;
        bool systemd;
        int r;

        t->reload_attempted = true;
        if (rl->kind == CONF_RELOAD_COMMAND) {
                r = run_argv(pass, rl->command, rl->timeout);
                goto started;
        }
        if (rl->reload_command) {
                r = run_argv(pass, rl->reload_command, rl->timeout);
                goto started;
        }
        if (rl->kind == CONF_RELOAD_SYSTEMD) {
                if (!rl->unit) {
                        snprintf(reason, size, "no unit configured");
                        return -EINVAL;
                }
                r = run_systemctl(pass, rl, "reload-or-restart", NULL);
                goto started;
        }

        /* nginx, haproxy: find the master behind pid_file. */
        server = rl->kind == CONF_RELOAD_NGINX ? "nginx" : "haproxy";
        systemd = rl->unit && sd_booted() > 0;
        if (rl->pid_file) {
                r = reload_server_running(rl->pid_file, server, &pid, why, sizeof why);
                if (r < 0) {
                        snprintf(reason, size, "%s (set reloaders.%s.pid_file, or reload_command)", why, rl->id);
                        return r;
                }
        } else if (systemd) {
                r = 0;
                snprintf(why, sizeof why, "no pid_file");
        } else {
                snprintf(reason, size, "no reload method: systemd is not running and neither reloaders.%s.pid_file "
                         "nor reload_command is set", rl->id);
                return -ENOTSUP;
        }

        if (r > 0) {
                /* systemctl when the master runs in the unit; a master started
                 * by hand on a systemd host gets the signal (its unit, if any,
                 * is not what serves). An unreadable cgroup counts as the unit. */
                if (systemd) {
                        char path[64];
                        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
                        if (reload_cgroup_has_unit(path, rl->unit) != 0) {
                                r = run_systemctl(pass, rl, "reload", NULL);
                                goto started;
                        }
                }
                /* nginx reloads on SIGHUP to its master; haproxy in
                 * master-worker mode (-W, Debian's default) on SIGUSR2 to
                 * its master, which keeps its pid */
                int sig = rl->kind == CONF_RELOAD_NGINX ? SIGHUP : SIGUSR2;
                if (kill(pid, sig) < 0) {
                        r = -errno;
                        snprintf(reason, size, "cannot signal master pid %d from %s: %s", (int) pid, rl->pid_file,
                                 strerror(errno));
                        return r;
                }
                log_internal(LOG_DEBUG, 0, NULL, "reload %s: %s to master %d", rl->id,
                             sig == SIGHUP ? "SIGHUP" : "SIGUSR2", (int) pid);
                return 0;
        }

        /* No live master behind the pid file. Under systemd the unit may
         * still run the server (with a pid file elsewhere): ask it first. */
        if (systemd) {
                if (t->probe == PROBE_NOT_ASKED) {
                        pass->phase = PHASE_PROBE;
                        r = run_systemctl(pass, rl, "is-active", "--quiet");
                        if (r < 0) {
                                snprintf(reason, size, "cannot ask systemd whether %s is active: %s", rl->unit,
                                         strerror(-r));
                                return r;
                        }
                        return 1;
                }
                if (t->probe == PROBE_ACTIVE) {
                        r = run_systemctl(pass, rl, "reload", NULL);
                        goto started;
                }
                size_t l = strlen(why);
                snprintf(why + l, sizeof why - l, "; unit %s is not active: systemctl is-active %s", rl->unit,
                         t->probe_result);
        }
        if (pass->reapply_round) {
                log_internal(LOG_DEBUG, 0, NULL, "reload %s: not running (%s), nothing to re-apply", rl->id, why);
                return 0;
        }
        snprintf(msg, sizeof msg, "%s is not running (%s): %s, nothing to reload", server, why,
                 rl->test_command && rl->test_command[0] ? "configuration test passed" : "no configuration test");
        target_note(pass, t, msg);
        return 0;
started:
        if (r < 0) {
                snprintf(reason, size, "cannot start: %s", strerror(-r));
                return r;
        }
        return 1;
}

static void runtime_next(reload_pass *pass);

/* The exchange ended: ok = haproxy accepted (reply checked by caller). */
static void runtime_done(reload_pass *pass, bool ok, const char *why) {
        pass_target *t = &pass->targets[pass->current];
        runtime_io *io = pass->rt;

        if (ok && !io->committing) {
                io->committing = true;
                runtime_next(pass);
                return;
        }
        if (ok) {
                io->cert++;
                io->committing = false;
                if (io->cert < t->n_certs) {
                        runtime_next(pass);
                        return;
                }
                log_internal(LOG_DEBUG, 0, NULL, "reload %s: %zu certificate(s) updated over %s, no reload",
                             t->reload->id, t->n_certs, t->reload->runtime_socket);
                pass->rt = runtime_io_free(pass->rt);
                pass->current++;
                pass->phase = PHASE_TEST;
                pass_schedule(pass);
                return;
        }
        log_internal(LOG_DEBUG, 0, NULL, "reload %s: runtime update of %s refused (%s), falling back to a reload",
                     t->reload->id, io->path ?: "?", why);
        pass->rt = runtime_io_free(pass->rt);
        t->runtime_refused = true;
        pass_schedule(pass); /* same phase: pass_step now takes the reload path */
}

static int runtime_on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        runtime_done(userdata, false, "timed out");
        return 0;
}

static int runtime_on_io(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        reload_pass *pass = userdata;
        runtime_io *io = pass->rt;

        if (io->out_off < io->out_len) {
                ssize_t k = write(fd, io->out + io->out_off, io->out_len - io->out_off);
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (k < 0) {
                        runtime_done(pass, false, strerror(errno));
                        return 0;
                }
                io->out_off += (size_t) k;
                if (io->out_off == io->out_len)
                        (void) sd_event_source_set_io_events(io->io, EPOLLIN);
                return 0;
        }
        char buf[1024];
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k < 0) {
                runtime_done(pass, false, strerror(errno));
                return 0;
        }
        if (k > 0) {
                size_t n = MIN((size_t) k, RUNTIME_REPLY_MAX - io->reply_len);
                memcpy(io->reply + io->reply_len, buf, n);
                io->reply_len += n;
                return 0;
        }
        /* EOF: haproxy answered and closed. */
        io->reply[io->reply_len] = 0;
        bool ok = io->committing ? strstr(io->reply, "Success") != NULL
                                 : (strstr(io->reply, "Transaction created") || strstr(io->reply, "Transaction updated"));
        io->reply[strcspn(io->reply, "\n")] = 0;
        runtime_done(pass, ok, io->reply_len ? io->reply : "empty reply");
        return 0;
}

/* Starts the next command for the current certificate of the current target. */
static void runtime_next(reload_pass *pass) {
        pass_target *t = &pass->targets[pass->current];
        runtime_io *io = pass->rt;
        const pass_cert *c = &pass->certs[t->certs[io->cert]];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(freep) char *pem = NULL;
        size_t pem_len;
        int r;

        io->io = sd_event_source_disable_unref(io->io);
        io->timer = sd_event_source_disable_unref(io->timer);
        io->fd = safe_close(io->fd);
        if (io->out)
                memset(io->out, 0, io->out_len);
        io->out = mfree(io->out);
        io->out_len = io->out_off = io->reply_len = 0;

        free(io->path);
        io->path = path_join(c->cert->output.dir, "haproxy.pem");
        if (!io->path) {
                runtime_done(pass, false, "out of memory");
                return;
        }
        if (!io->committing) {
                r = read_full_file(io->path, RUNTIME_PEM_MAX, &pem, &pem_len);
                if (r < 0) {
                        runtime_done(pass, false, strerror(-r));
                        return;
                }
                /* Payload ends at an empty line. */
                io->out = strprintf("set ssl cert %s <<\n%s%s\n", io->path, pem,
                                    pem_len > 0 && pem[pem_len - 1] == '\n' ? "" : "\n");
                memset(pem, 0, pem_len);
        } else
                io->out = strprintf("commit ssl cert %s\n", io->path);
        if (!io->out) {
                runtime_done(pass, false, "out of memory");
                return;
        }
        io->out_len = strlen(io->out);

        if (strlen(t->reload->runtime_socket) >= sizeof sa.sun_path) {
                runtime_done(pass, false, "socket path too long");
                return;
        }
        strcpy(sa.sun_path, t->reload->runtime_socket);
        io->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (io->fd < 0 || (connect(io->fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)) {
                runtime_done(pass, false, strerror(errno));
                return;
        }
        if (sd_event_add_io(pass->event, &io->io, io->fd, EPOLLOUT, runtime_on_io, pass) < 0 ||
            sd_event_add_time_relative(pass->event, &io->timer, CLOCK_MONOTONIC, RUNTIME_TIMEOUT_USEC, 0,
                                       runtime_on_timer, pass) < 0)
                runtime_done(pass, false, "cannot watch the socket");
}

/* haproxy with a runtime socket: swap the certificates in place. */
static bool runtime_start(reload_pass *pass, pass_target *t) {
        if (t->reload->kind != CONF_RELOAD_HAPROXY || !t->reload->runtime_socket || t->runtime_refused ||
            t->n_certs == 0)
                return false;
        pass->rt = calloc(1, sizeof *pass->rt);
        if (!pass->rt)
                return false;
        pass->rt->fd = -1;
        runtime_next(pass);
        return true;
}

static bool target_needs_reapply(reload_pass *pass, pass_target *t) {
        if (t->failed)
                return t->reload_attempted;
        for (size_t i = 0; i < t->n_certs; i++)
                if (pass->certs[t->certs[i]].rolled_back)
                        return true;
        return false;
}

static void pass_finish(reload_pass *pass) {
        unsigned n_failed = 0;
        for (size_t i = 0; i < pass->n_certs; i++) {
                pass_cert *c = &pass->certs[i];
                if (c->failed)
                        n_failed++;
                if (pass->cb.cert_done)
                        pass->cb.cert_done(c->cert, c->failed ? -EIO : 0, c->failed ? c->reason : NULL,
                                           c->rolled_back, pass->cb.userdata);
        }
        if (pass->cb.pass_done)
                pass->cb.pass_done(pass, n_failed, pass->cb.userdata); /* may free pass */
}

static void pass_step(reload_pass *pass) {
        char reason[512];
        int r;

        for (;;) {
                if (pass->current >= pass->n_targets) {
                        if (pass->reapply_round) {
                                pass_finish(pass);
                                return;
                        }
                        /* Second round: targets that serve a rolled-back certificate
                         * (or whose failed reload may have taken effect) reload
                         * once more so they serve what is on disk. */
                        pass->reapply_round = true;
                        pass->current = 0;
                        continue;
                }
                pass_target *t = &pass->targets[pass->current];
                if (pass->reapply_round) {
                        if (!target_needs_reapply(pass, t)) {
                                pass->current++;
                                continue;
                        }
                        pass->phase = PHASE_REAPPLY;
                        if (runtime_start(pass, t))
                                return;
                        r = target_reload(pass, t, reason, sizeof reason);
                        if (r > 0)
                                return;
                        if (r < 0)
                                log_internal(LOG_DEBUG, r, NULL, "re-applying %s failed: %s", t->reload->id, reason);
                        pass->current++;
                        continue;
                }
                if (pass->phase == PHASE_TEST) {
                        char **test = t->reload->kind == CONF_RELOAD_NGINX || t->reload->kind == CONF_RELOAD_HAPROXY
                                              ? t->reload->test_command
                                              : NULL;
                        if (test && test[0]) {
                                r = run_argv(pass, test, t->reload->timeout);
                                if (r >= 0)
                                        return;
                                snprintf(reason, sizeof reason, "configuration test cannot start: %s",
                                         strerror(-r));
                                target_fail(pass, t, reason);
                                pass->current++;
                                continue;
                        }
                        pass->phase = PHASE_RELOAD;
                }
                if (runtime_start(pass, t))
                        return;
                r = target_reload(pass, t, reason, sizeof reason);
                if (r > 0)
                        return;
                if (r < 0)
                        target_fail(pass, t, reason);
                pass->current++;
                pass->phase = PHASE_TEST;
        }
}

int reload_pass_run(reload_pass *pass, const reload_callbacks *cb) {
        if (!pass || !cb || !cb->rollback)
                return -EINVAL;
        if (pass->running)
                return -EBUSY;
        pass->running = true;
        pass->cb = *cb;
        pass->current = 0;
        pass->phase = PHASE_TEST;
        pass_schedule(pass);
        if (!pass->defer) {
                pass->running = false;
                return -ENOMEM;
        }
        return 0;
}

