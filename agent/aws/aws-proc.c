/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/aws-proc.h"
#include "basic/spawn.h"
#include "basic/util.h"

#define ERR_KEEP 512


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
                        if (p->err_len == 0 && (ch == ' ' || ch == '\t' || ch == '\r'))
                                continue;
                        /* As written (the caller escapes it for messages),
                         * except NUL, which would cut the string. */
                        if (p->err_len < ERR_KEEP)
                                p->err[p->err_len++] = ch == 0 ? ' ' : ch;
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
        /* The line end: CRLF and trailing blanks. */
        while (p->err_len > 0 && (p->err[p->err_len - 1] == '\r' || p->err[p->err_len - 1] == ' ' ||
                                  p->err[p->err_len - 1] == '\t'))
                p->err_len--;
        p->err[p->err_len] = 0;
        res.err_line = p->err;
        res.out = p->out ? p->out : "";
        res.out_len = p->out_len;
        p->pid = 0;
        p->cb(p, &res, p->userdata);
        return 0;
}

int aws_proc_run(sd_event *e, char *const argv[], uint64_t timeout_usec, size_t max_out, aws_proc_callback cb,
                 void *userdata, aws_proc **ret) {
        _cleanup_(aws_proc_freep) aws_proc *p = NULL;
        const char *path = getenv("PATH");
        sigset_t ss;
        pid_t pid;
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
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        if (pthread_sigmask(SIG_BLOCK, &ss, NULL) != 0)
                return -EIO;

        /* As the AWS CLI does: the agent's environment and its PATH. */
        r = spawn_child(argv, NULL, isempty(path) ? "/usr/local/bin:/usr/bin:/bin" : path, &pid, &p->out_fd,
                        &p->err_fd, &p->exec_fd);
        if (r < 0)
                return r;
        p->pid = pid;

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
}
