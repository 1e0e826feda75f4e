/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws-proc.h"
#include "util.h"

#define ERR_KEEP 512
#define PATH_CANDIDATES_MAX 64


struct aws_proc {
        sd_event *event;
        pid_t pid;
        sd_event_source *child, *out_src, *err_src, *timer;
        int out_fd, err_fd, exec_fd;
        char *out;
        size_t out_len, max_out;
        char err[ERR_KEEP + 1];
        size_t err_len;
        bool err_done;           /* the first line is complete */
        bool timed_out, too_large;
        aws_proc_callback cb;
        void *userdata;
};

static void kill_child(aws_proc *p) {
        if (p->pid > 0) {
                (void) kill(-p->pid, SIGKILL);
                (void) kill(p->pid, SIGKILL);
        }
}

aws_proc *aws_proc_free(aws_proc *p) {
        if (!p)
                return NULL;
        if (p->child) {
                /* Still running: kill and reap it here, it is ours. */
                p->child = sd_event_source_disable_unref(p->child);
                kill_child(p);
                (void) waitpid(p->pid, NULL, 0);
        }
        sd_event_source_disable_unref(p->out_src);
        sd_event_source_disable_unref(p->err_src);
        sd_event_source_disable_unref(p->timer);
        safe_close(p->out_fd);
        safe_close(p->err_fd);
        safe_close(p->exec_fd);
        if (p->out) {
                explicit_bzero(p->out, p->out_len);
                free(p->out);
        }
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

/* Reads what is available; returns false at EOF or on error. */
static bool drain_out(aws_proc *p) {
        char buf[4096];
        for (;;) {
                ssize_t n = read(p->out_fd, buf, sizeof buf);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;
                if (n == 0)
                        return false;
                if (p->out_len + (size_t) n > p->max_out) {
                        if (!p->too_large) {
                                p->too_large = true;
                                kill_child(p);
                        }
                        explicit_bzero(buf, sizeof buf);
                        continue;
                }
                char *x = realloc(p->out, p->out_len + (size_t) n + 1);
                if (!x) {
                        p->too_large = true;
                        kill_child(p);
                        return false;
                }
                p->out = x;
                memcpy(p->out + p->out_len, buf, (size_t) n);
                p->out_len += (size_t) n;
                p->out[p->out_len] = 0;
                explicit_bzero(buf, sizeof buf);
        }
}

static bool drain_err(aws_proc *p) {
        char buf[1024];
        for (;;) {
                ssize_t n = read(p->err_fd, buf, sizeof buf);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;
                if (n == 0)
                        return false;
                for (ssize_t i = 0; i < n && !p->err_done; i++) {
                        char ch = buf[i];
                        if (ch == '\n') {
                                if (p->err_len > 0)
                                        p->err_done = true;
                                continue;
                        }
                        if (ch == '\r' || (p->err_len == 0 && (ch == ' ' || ch == '\t')))
                                continue;
                        if (p->err_len < ERR_KEEP)
                                p->err[p->err_len++] = (unsigned char) ch < 0x20 ? ' ' : ch;
                }
        }
}

static int on_out(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        aws_proc *p = userdata;
        if (!drain_out(p))
                p->out_src = sd_event_source_disable_unref(p->out_src);
        return 0;
}

static int on_err(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        aws_proc *p = userdata;
        if (!drain_err(p))
                p->err_src = sd_event_source_disable_unref(p->err_src);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        aws_proc *p = userdata;
        p->timed_out = true;
        kill_child(p);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        aws_proc *p = userdata;
        aws_proc_result res = {};
        int e = 0;

        p->child = sd_event_source_disable_unref(p->child);
        /* The child is gone: whatever it wrote is in the pipes (unless a
         * grandchild keeps them open, which we do not wait for). */
        (void) drain_out(p);
        (void) drain_err(p);
        if (read(p->exec_fd, &e, sizeof e) == (ssize_t) sizeof e)
                res.exec_errno = e > 0 ? e : EIO;
        res.timed_out = p->timed_out;
        res.too_large = p->too_large;
        res.exited = si->si_code == CLD_EXITED;
        if (res.exited)
                res.exit_status = si->si_status;
        else
                res.signal = si->si_status;
        p->err[p->err_len] = 0;
        res.err_line = p->err;
        res.out = p->out ? p->out : "";
        res.out_len = p->out_len;
        p->pid = 0;
        p->cb(p, &res, p->userdata);
        return 0;
}

static char **build_candidates(const char *argv0) {
        _cleanup_(strv_freep) char **l = calloc(PATH_CANDIDATES_MAX + 1, sizeof(char *));
        if (!l)
                return NULL;
        if (strchr(argv0, '/')) {
                if (!(l[0] = strdup(argv0)))
                        return NULL;
                return TAKE_PTR(l);
        }
        const char *d = getenv("PATH");
        if (isempty(d))
                d = "/usr/local/bin:/usr/bin:/bin";
        size_t n = 0;
        while (*d && n < PATH_CANDIDATES_MAX) {
                size_t k = strcspn(d, ":");
                if (!(l[n++] = k == 0 ? strprintf("./%s", argv0) : strprintf("%.*s/%s", (int) k, d, argv0)))
                        return NULL;
                d += k;
                if (*d == ':')
                        d++;
        }
        return TAKE_PTR(l);
}

_Noreturn static void child_exec(char *const argv[], char **candidates, int out_fd, int err_fd, int exec_fd) {
        sigset_t ss;
        int e = ENOENT, nullfd;

        for (int sig = 1; sig < 32; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        (void) setpgid(0, 0);
        nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
                e = errno;
                goto fail;
        }
        if (exec_fd != 3) {
                if (dup3(exec_fd, 3, O_CLOEXEC) < 0) {
                        e = errno;
                        goto fail;
                }
                exec_fd = 3;
        }
        (void) close_range(4, ~0U, 0);
        for (char **c = candidates; *c; c++) {
                execve(*c, argv, environ);
                if (errno != ENOENT && errno != ENOTDIR)
                        e = errno;
        }
fail:
        (void) !write(exec_fd, &e, sizeof e);
        _exit(127);
}

int aws_proc_run(sd_event *e, char *const argv[], uint64_t timeout_usec, size_t max_out, aws_proc_callback cb,
                 void *userdata, aws_proc **ret) {
        _cleanup_(aws_proc_freep) aws_proc *p = NULL;
        _cleanup_(strv_freep) char **candidates = NULL;
        int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 };
        sigset_t ss;
        int r;

        if (!e || !argv || isempty(argv[0]) || !cb || !ret)
                return -EINVAL;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->out_fd = p->err_fd = p->exec_fd = -1;
        p->max_out = max_out;
        p->cb = cb;
        p->userdata = userdata;
        candidates = build_candidates(argv[0]);
        if (!candidates)
                return -ENOMEM;

        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        if (pthread_sigmask(SIG_BLOCK, &ss, NULL) != 0)
                return -EIO;

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                child_exec(argv, candidates, out[1], err[1], ex[1]);
        p->pid = pid;
        safe_close(out[1]);
        safe_close(err[1]);
        safe_close(ex[1]);
        p->out_fd = out[0];
        p->err_fd = err[0];
        p->exec_fd = ex[0];

        r = sd_event_add_child(e, &p->child, pid, WEXITED, on_child, p);
        if (r < 0) {
                kill_child(p);
                (void) waitpid(pid, NULL, 0);
                p->pid = 0;
                return r;
        }
        /* Reap after the output was read. */
        (void) sd_event_source_set_priority(p->child, SD_EVENT_PRIORITY_NORMAL + 10);
        if (fcntl(p->out_fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(p->err_fd, F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(p->exec_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        r = sd_event_add_io(e, &p->out_src, p->out_fd, EPOLLIN, on_out, p);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &p->err_src, p->err_fd, EPOLLIN, on_err, p);
        if (r < 0)
                return r;
        if (timeout_usec > 0) {
                r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
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
