/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-notify-probe: a tiny Type=notify service built on the daemon's own
 * building blocks (daemon-notify on sd-event, signals through sd-event),
 * for the notify harness test and for trying the units' hardening on a real
 * systemd (tests/integration/test-units.sh).
 *
 *   test-notify-probe [--write DIR]... [--deny DIR]... [--exec CMD]...
 *                     [--unix PATH]... [--result FILE] [--exit N] [--once]
 *
 * At start and at every SIGHUP it runs its checks: --write DIR must let it
 * create, write and remove a file in DIR; --deny DIR must refuse that;
 * --exec CMD (through /bin/sh -c, with the probe's sandbox) must exit 0;
 * --unix PATH: a stream socket there must take "show info\n" and answer
 * (haproxy's runtime API). With --once it exits after the first checks
 * (0 when all passed, else 1) without waiting for signals.
 * Each check prints "ok - ..." or "not ok - ..." on stdout and, with
 * --result, appends it to FILE. Then:
 *   start:   READY=1, STATUS=probe: N ok, M failed
 *   SIGHUP:  RELOADING=1 + MONOTONIC_USEC, the checks again, READY=1 + STATUS
 *   SIGUSR1: STATUS=hanging, then the loop blocks for 3 watchdog intervals
 *            (a stuck loop: no WATCHDOG=1 can be sent), then STATUS=resumed
 *   SIGUSR2: EXTEND_TIMEOUT_USEC=5000000
 *   SIGTERM, SIGINT: STOPPING=1, exit N (default: 0 when every check passed,
 *            else 1)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "daemon/daemon-notify.h"

static char **writes, **denies, **execs, **unixes;
static size_t n_writes, n_denies, n_execs, n_unixes;
static bool once;
static const char *result_path;
static int exit_override = -1;
static unsigned n_ok, n_failed;
static daemon_notify *notifier;

static void report(bool ok, const char *fmt, ...) _printf_(2, 3);
static void report(bool ok, const char *fmt, ...) {
        char line[1024];
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        (void) k;
        printf("%s - %s\n", ok ? "ok" : "not ok", line);
        fflush(stdout);
        if (result_path) {
                FILE *f = fopen(result_path, "ae");
                if (f) {
                        fprintf(f, "%s - %s\n", ok ? "ok" : "not ok", line);
                        fclose(f);
                }
        }
        if (ok)
                n_ok++;
        else
                n_failed++;
}

/* 0 when a file could be created, written and removed in dir, else -errno. */
static int try_write(const char *dir) {
        char path[4096];
        int fd;

        snprintf(path, sizeof path, "%s/.notify-probe-%d", dir, (int) getpid());
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, "x\n", 2) != 2) {
                int r = -errno;
                close(fd);
                unlink(path);
                return r;
        }
        close(fd);
        if (unlink(path) < 0)
                return -errno;
        return 0;
}

/* 0 when PATH took "show info" and answered something, else -errno. */
static int try_unix(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[256];
        ssize_t k;
        int fd, r = 0;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || write(fd, "show info\n", 10) != 10)
                r = -errno;
        else if ((k = read(fd, buf, sizeof buf)) <= 0)
                r = k < 0 ? -errno : -EPIPE;
        close(fd);
        return r;
}

static void run_checks(const char *when) {
        n_ok = n_failed = 0;
        for (size_t i = 0; i < n_writes; i++) {
                int r = try_write(writes[i]);
                report(r == 0, "%s: can write %s%s%s", when, writes[i], r ? ": " : "",
                       r ? strerror(-r) : "");
        }
        for (size_t i = 0; i < n_denies; i++) {
                struct stat st;
                int r;

                /* A directory that is not there proves nothing. */
                if (stat(denies[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
                        report(false, "%s: cannot write %s (no such directory to try)", when, denies[i]);
                        continue;
                }
                r = try_write(denies[i]);
                report(r < 0, "%s: cannot write %s (%s)", when, denies[i], r ? strerror(-r) : "it could");
        }
        for (size_t i = 0; i < n_unixes; i++) {
                int r = try_unix(unixes[i]);
                report(r == 0, "%s: talk to %s%s%s", when, unixes[i], r ? ": " : "", r ? strerror(-r) : "");
        }
        for (size_t i = 0; i < n_execs; i++) {
                pid_t pid = fork();
                int st = 0;

                if (pid == 0) {
                        sigset_t none;
                        sigemptyset(&none);
                        (void) sigprocmask(SIG_SETMASK, &none, NULL);
                        execl("/bin/sh", "sh", "-c", execs[i], (char *) NULL);
                        _exit(127);
                }
                if (pid < 0 || waitpid(pid, &st, 0) < 0)
                        report(false, "%s: run %s: %s", when, execs[i], strerror(errno));
                else
                        report(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: run %s (exit %d)", when, execs[i],
                               WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
}

static void status_line(char *buf, size_t len) {
        snprintf(buf, len, "probe: %u ok, %u failed", n_ok, n_failed);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        char status[128];

        switch (si->ssi_signo) {
        case SIGHUP:
                (void) daemon_notify_reloading(notifier, "reloading");
                run_checks("reload");
                status_line(status, sizeof status);
                (void) daemon_notify_ready(notifier, status);
                break;
        case SIGUSR1: {
                uint64_t interval = daemon_notify_watchdog_interval(notifier) ?: 100 * USEC_PER_MSEC;
                struct timespec end, now;

                (void) daemon_notify_status(notifier, "hanging");
                /* Block the loop: nothing else of it runs meanwhile. */
                clock_gettime(CLOCK_MONOTONIC, &end);
                end.tv_sec += (time_t) (3 * interval / USEC_PER_SEC);
                end.tv_nsec += (long) (3 * interval % USEC_PER_SEC * NSEC_PER_USEC);
                if (end.tv_nsec >= 1000000000L) {
                        end.tv_sec++;
                        end.tv_nsec -= 1000000000L;
                }
                do {
                        (void) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL);
                        clock_gettime(CLOCK_MONOTONIC, &now);
                } while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
                (void) daemon_notify_status(notifier, "resumed");
                break;
        }
        case SIGUSR2:
                (void) daemon_notify_extend_timeout(notifier, 5 * USEC_PER_SEC);
                break;
        default:
                (void) daemon_notify_stopping(notifier, "stopping");
                sd_event_exit(sd_event_source_get_event(s), exit_override >= 0 ? exit_override
                                                            : n_failed > 0     ? 1
                                                                               : 0);
        }
        return 0;
}

static int add_arg(char ***l, size_t *n, const char *v) {
        char **x = reallocarray(*l, *n + 1, sizeof(char *));
        if (!x)
                return -ENOMEM;
        *l = x;
        x[(*n)++] = (char *) v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"write", required_argument, NULL, 'w'}, {"deny", required_argument, NULL, 'd'},
                {"exec", required_argument, NULL, 'e'},  {"result", required_argument, NULL, 'r'},
                {"exit", required_argument, NULL, 'x'},  {"unix", required_argument, NULL, 'u'},
                {"once", no_argument, NULL, 'o'},        {},
        };
        static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
        sd_event *e = NULL;
        sigset_t mask;
        char status[128];
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'w':
                        r = add_arg(&writes, &n_writes, optarg);
                        break;
                case 'd':
                        r = add_arg(&denies, &n_denies, optarg);
                        break;
                case 'e':
                        r = add_arg(&execs, &n_execs, optarg);
                        break;
                case 'u':
                        r = add_arg(&unixes, &n_unixes, optarg);
                        break;
                case 'o':
                        once = true;
                        r = 0;
                        break;
                case 'r':
                        result_path = optarg;
                        r = 0;
                        break;
                case 'x': {
                        char *end;
                        long v;
                        errno = 0;
                        v = strtol(optarg, &end, 10);
                        if (errno || *end || end == optarg || v < 0 || v > 255) {
                                fprintf(stderr, "--exit: a number 0..255\n");
                                return 2;
                        }
                        exit_override = (int) v;
                        r = 0;
                        break;
                }
                default:
                        return 2;
                }
        (void) r;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || sd_event_default(&e) < 0)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (sd_event_add_signal(e, NULL, sigs[i], on_signal, NULL) < 0)
                        return 1;
        r = daemon_notify_new(e, &notifier);
        if (r < 0) {
                fprintf(stderr, "daemon_notify_new: %s\n", strerror(-r));
                return 1;
        }
        run_checks("start");
        if (once)
                return n_failed > 0 ? 1 : 0;
        status_line(status, sizeof status);
        r = daemon_notify_ready(notifier, status);
        if (r < 0)
                fprintf(stderr, "READY=1: %s\n", strerror(-r));
        r = sd_event_loop(e);
        daemon_notify_free(notifier);
        sd_event_unref(e);
        free(writes);
        free(denies);
        free(execs);
        free(unixes);
        return r < 0 ? 1 : r;
}
