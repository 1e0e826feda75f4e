/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reload-driver: run one reload pass for N certificates behind one nginx,
 * as the engine would after deploying them. Rollback re-points OUTDIR/current
 * to PREV_VERSION (what deploy_rollback does), until the engine lands.
 *
 * Usage: reload-driver [--haproxy] [--socket PATH] [--reload SHELL_CMD]
 *                      PID_FILE OUTDIR PREV_VERSION NCERTS -- TEST_ARGV...
 * --haproxy: the target is haproxy (runtime API over --socket, else
 * --reload); default nginx (SIGHUP to PID_FILE unless --reload).
 * --failure-hook PATH: run as each failed certificate's failure hook, as
 * the engine will (event "failed", ACM_AGENT_ERROR = the reason).
 * Prints one line per certificate ("cert NAME ok" / "cert NAME failed ...")
 * and one per note ("note TARGET: MESSAGE", e.g. the server is not running);
 * exit 0 when all succeeded, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deploy/deploy-hook.h"
#include "basic/log.h"
#include "deploy/deploy-reload.h"
#include "basic/util.h"

static int rollback(const conf_cert *cert, const char *previous_version, void *userdata _unused_) {
        _cleanup_(freep) char *link = path_join(cert->output.dir, "current");
        _cleanup_(freep) char *tmp = strprintf("%s/.current.tmp", cert->output.dir);
        if (!link || !tmp)
                return -ENOMEM;
        (void) unlink(tmp);
        if (symlink(previous_version, tmp) < 0 || rename(tmp, link) < 0)
                return -errno;
        return 0;
}

static sd_event *loop;
static unsigned hooks_running;

static void hook_done(hook_process *p, const hook_result *r, void *userdata) {
        const conf_cert *cert = userdata;
        char buf[256];
        printf("cert %s failure hook: %s\n", cert->name, hook_result_describe(r, buf, sizeof buf));
        hook_process_unref(p);
        if (--hooks_running == 0)
                sd_event_exit(loop, 0);
}

static void cert_done(const conf_cert *cert, int r, const char *reason, bool rolled_back, void *userdata _unused_) {
        hook_process *p = NULL;
        hook_cert_info info = { .error = reason };

        if (r >= 0) {
                printf("cert %s ok\n", cert->name);
                return;
        }
        printf("cert %s failed rolled_back=%d reason=%s\n", cert->name, rolled_back, reason);
        if (hook_run_event(loop, HOOK_EVENT_FAILED, cert, &info, hook_done, (void *) cert, &p) >= 0 && p)
                hooks_running++;
}

static void note(const char *target, const char *message, void *userdata _unused_) {
        printf("note %s: %s\n", target, message);
}

static void pass_done_exit(reload_pass *pass _unused_, unsigned n_failed, void *userdata) {
        *(unsigned *) userdata = n_failed;
        if (hooks_running == 0)
                sd_event_exit(loop, 0);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "haproxy", no_argument, NULL, 'H' },
                { "socket", required_argument, NULL, 's' },
                { "reload", required_argument, NULL, 'r' },
                { "failure-hook", required_argument, NULL, 'f' },
                {}
        };
        char *reload_argv[] = { (char *) "/bin/sh", (char *) "-c", NULL, NULL };
        bool haproxy = false;
        char *sock = NULL;
        char *failure_hook[] = { NULL, NULL };
        uint32_t n;
        unsigned n_failed = 0;
        sigset_t ss;
        int c;

        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'H':
                        haproxy = true;
                        break;
                case 's':
                        sock = optarg;
                        break;
                case 'r':
                        reload_argv[2] = optarg;
                        break;
                case 'f':
                        failure_hook[0] = optarg;
                        break;
                default:
                        return 2;
                }
        argc -= optind - 1;
        argv += optind - 1;
        if (argc < 7 || !streq(argv[5], "--") || parse_uint32(argv[4], &n) < 0 || n == 0 || n > 1000) {
                fprintf(stderr, "usage: reload-driver PID_FILE OUTDIR PREV_VERSION NCERTS -- TEST_ARGV...\n");
                return 2;
        }
        log_set_max_level(LOG_DEBUG);
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        conf_reload nginx = { .kind = haproxy ? CONF_RELOAD_HAPROXY : CONF_RELOAD_NGINX,
                              .id = (char *) (haproxy ? "haproxy" : "nginx"), .test_command = argv + 6,
                              .reload_command = reload_argv[2] ? reload_argv : NULL, .pid_file = argv[1],
                              .runtime_socket = sock, .timeout = 60 };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert *certs = calloc(n, sizeof *certs);
        if (!certs || sd_event_new(&loop) < 0)
                return 2;
        reload_pass *pass = reload_pass_new(loop);
        for (uint32_t i = 0; i < n; i++) {
                certs[i].name = strprintf("cert%u", i);
                certs[i].output.dir = argv[2];
                certs[i].reload = targets;
                certs[i].hooks.failure = failure_hook[0] ? failure_hook : NULL;
                certs[i].hooks.timeout = 30;
                if (!certs[i].name || reload_pass_add(pass, &certs[i], argv[3]) < 0)
                        return 2;
        }
        reload_callbacks cb = { .rollback = rollback, .cert_done = cert_done, .note = note,
                                .pass_done = pass_done_exit, .userdata = &n_failed };
        if (reload_pass_run(pass, &cb) < 0 || sd_event_loop(loop) < 0)
                return 2;
        reload_pass_free(pass);
        sd_event_unref(loop);
        for (uint32_t i = 0; i < n; i++)
                free(certs[i].name);
        free(certs);
        return n_failed == 0 ? 0 : 1;
}
