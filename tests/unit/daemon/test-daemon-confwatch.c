/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real inotify in a temporary directory. Every case does its file
 * operations first (inotify queues their events synchronously), then runs
 * the loop until the debounced callback came, then drains whatever else is
 * ready and checks that exactly the expected number of callbacks happened
 * and none is pending. No sleep decides anything.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "daemon/daemon-confwatch.h"

#define DEBOUNCE (50 * USEC_PER_MSEC)

typedef struct fx {
        char root[64];
        char main_path[128], certs[128], extra[128], glob[160];
        sd_event *e;
        daemon_confwatch *w;
        unsigned calls;
        int last_error;
        /* file watcher */
        daemon_filewatch *fw;
        char *seen[16];
        unsigned n_seen;
} fx;

static void writef(const char *path, const char *content) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static char *P(fx *f, const char *rel) {
        static char buf[4][256];
        static unsigned i;
        char *b = buf[i++ % 4];
        snprintf(b, 256, "%s/%s", f->root, rel);
        return b;
}

static void on_change(daemon_confwatch *w, int error, void *userdata) {
        fx *f = userdata;
        f->calls++;
        f->last_error = error;
}

static uint64_t mono(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* Runs the loop until *count reaches want (failsafe: 10 s), then dispatches
 * everything that is ready without waiting. */
static void run_until(fx *f, unsigned *count, unsigned want) {
        uint64_t deadline = mono() + 10 * USEC_PER_SEC;

        while (*count < want && mono() < deadline)
                assert_true(sd_event_run(f->e, 100 * USEC_PER_MSEC) >= 0);
        while (sd_event_run(f->e, 0) > 0)
                ;
}

/* Nothing pending and nothing ready: events queued so far were all judged. */
static void drain(fx *f) {
        while (sd_event_run(f->e, 0) > 0)
                ;
}

static daemon_confwatch_spec spec_of(fx *f, const char *const *globs) {
        return (daemon_confwatch_spec){
                .main_path = f->main_path, .certs_dir = f->certs, .include_globs = globs};
}

static int setup(void **state) {
        fx *f = calloc(1, sizeof *f);
        const char *globs[2] = {NULL, NULL};

        assert_non_null(f);
        snprintf(f->root, sizeof f->root, "/tmp/confwatch-test.XXXXXX");
        assert_non_null(mkdtemp(f->root));
        snprintf(f->main_path, sizeof f->main_path, "%s/acm-agent.yaml", f->root);
        snprintf(f->certs, sizeof f->certs, "%s/certs.d", f->root);
        snprintf(f->extra, sizeof f->extra, "%s/extra", f->root);
        snprintf(f->glob, sizeof f->glob, "%s/extra/*.conf", f->root);
        globs[0] = f->glob;
        writef(f->main_path, "certificates: []\n");
        assert_int_equal(mkdir(f->certs, 0755), 0);
        writef(P(f, "certs.d/web.yaml"), "certificates: []\n");
        assert_int_equal(sd_event_new(&f->e), 0);
        daemon_confwatch_spec sp = spec_of(f, globs);
        assert_int_equal(daemon_confwatch_new(f->e, &sp, DEBOUNCE, on_change, f, &f->w), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        fx *f = *state;
        char cmd[256];

        daemon_confwatch_free(f->w);
        daemon_filewatch_free(f->fw);
        for (unsigned i = 0; i < f->n_seen; i++)
                free(f->seen[i]);
        sd_event_unref(f->e);
        /* .old: test_main_dir_replaced's, also when it failed half-way */
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.old'", f->root, f->root);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void expect_calls(fx *f, unsigned want) {
        run_until(f, &f->calls, want);
        assert_int_equal(f->calls, want);
        assert_false(daemon_confwatch_pending(f->w));
        assert_int_equal(f->last_error, 0);
}

static void test_nothing_at_start(void **state) {
        fx *f = *state;

        /* main dir, certs.d, and the nearest ancestor of extra/ (the root) */
        assert_int_equal(daemon_confwatch_n_dirs(f->w), 2);
        drain(f);
        assert_int_equal(f->calls, 0);
        assert_false(daemon_confwatch_pending(f->w));
}

static void test_rename_over(void **state) {
        fx *f = *state;

        /* The editor / config-management dance: temp file, then rename. */
        writef(P(f, "certs.d/.web.yaml.tmp1234"), "certificates: [] # new\n");
        assert_int_equal(rename(P(f, "certs.d/.web.yaml.tmp1234"), P(f, "certs.d/web.yaml")), 0);
        expect_calls(f, 1);
        /* The main file the same way (sed -i). */
        writef(P(f, "sedAbc123"), "certificates: []\n");
        assert_int_equal(rename(P(f, "sedAbc123"), f->main_path), 0);
        expect_calls(f, 2);
}

static void test_vim_backup_dance(void **state) {
        fx *f = *state;

        /* vim with backupcopy=no: probe file, swap file, backup by rename,
         * new file written, backup removed. One burst, one callback. */
        writef(P(f, "certs.d/4913"), "");
        assert_int_equal(unlink(P(f, "certs.d/4913")), 0);
        writef(P(f, "certs.d/.web.yaml.swp"), "swap");
        assert_int_equal(rename(P(f, "certs.d/web.yaml"), P(f, "certs.d/web.yaml~")), 0);
        writef(P(f, "certs.d/web.yaml"), "certificates: [] # vim\n");
        assert_int_equal(unlink(P(f, "certs.d/web.yaml~")), 0);
        assert_int_equal(unlink(P(f, "certs.d/.web.yaml.swp")), 0);
        expect_calls(f, 1);
}

static void test_created_empty_then_written(void **state) {
        fx *f = *state;
        int fd;

        fd = open(P(f, "certs.d/api.yaml"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        writef(P(f, "certs.d/api.yaml"), "certificates: []\n");
        expect_calls(f, 1);
}

static void test_in_place_write(void **state) {
        fx *f = *state;

        writef(f->main_path, "certificates: [] # edited\n");
        expect_calls(f, 1);
}

static void test_new_and_removed_dropin(void **state) {
        fx *f = *state;

        writef(P(f, "certs.d/new.yaml"), "certificates: []\n");
        expect_calls(f, 1);
        assert_int_equal(unlink(P(f, "certs.d/new.yaml")), 0);
        expect_calls(f, 2);
        assert_int_equal(unlink(P(f, "certs.d/web.yaml")), 0);
        expect_calls(f, 3);
}

static void test_irrelevant_names_ignored(void **state) {
        fx *f = *state;

        writef(P(f, "certs.d/.web.yaml.swp"), "x");
        writef(P(f, "certs.d/web.yaml~"), "x");
        writef(P(f, "certs.d/.#web.yaml"), "x");
        writef(P(f, "certs.d/#web.yaml#"), "x");
        writef(P(f, "certs.d/notes.txt"), "x");
        writef(P(f, "certs.d/.hidden.yaml"), "x"); /* glob(3) never matches a leading dot */
        writef(P(f, "other.yaml"), "x");           /* beside the main file, not a drop-in */
        writef(P(f, "acm-agent.yaml.bak"), "x");
        assert_int_equal(mkdir(P(f, "unrelated"), 0755), 0);
        writef(P(f, "unrelated/x.yaml"), "x");
        drain(f);
        assert_int_equal(f->calls, 0);
        assert_false(daemon_confwatch_pending(f->w));
}

static void test_editor_names_ignored_under_catch_all_glob(void **state) {
        fx *f = *state;
        char g[200];
        const char *globs[] = {g, NULL};
        daemon_confwatch_spec sp = spec_of(f, globs);

        /* include: ["conf.d/ *"] (any name): only the ignore list keeps
         * editor files out. */
        assert_int_equal(mkdir(P(f, "conf.d"), 0755), 0);
        snprintf(g, sizeof g, "%s/conf.d/*", f->root);
        assert_int_equal(daemon_confwatch_rearm(f->w, &sp), 1);
        expect_calls(f, 1);
        writef(P(f, "conf.d/.a.yaml.swp"), "x");
        writef(P(f, "conf.d/a.yaml.swx"), "x");
        writef(P(f, "conf.d/a.yaml~"), "x");
        writef(P(f, "conf.d/.#a.yaml"), "x");
        writef(P(f, "conf.d/#a.yaml#"), "x");
        assert_int_equal(unlink(P(f, "conf.d/a.yaml~")), 0);
        drain(f);
        assert_int_equal(f->calls, 1);
        assert_false(daemon_confwatch_pending(f->w));
        writef(P(f, "conf.d/a"), "certificates: []\n");
        expect_calls(f, 2);
}

static void test_burst_is_one_callback(void **state) {
        fx *f = *state;

        for (int i = 0; i < 20; i++) {
                char name[64];
                snprintf(name, sizeof name, "certs.d/c%02d.yaml", i);
                writef(P(f, name), "certificates: []\n");
        }
        writef(f->main_path, "certificates: [] # too\n");
        expect_calls(f, 1);
}

static void test_include_glob_and_new_directory(void **state) {
        fx *f = *state;
        const char *globs[] = {f->glob, NULL};
        daemon_confwatch_spec sp = spec_of(f, globs);
        unsigned before = daemon_confwatch_n_dirs(f->w);

        /* extra/ does not exist: its creation is seen on the root's watch,
         * and the watcher moves to extra/ by itself. */
        assert_int_equal(mkdir(f->extra, 0755), 0);
        writef(P(f, "extra/a.conf"), "certificates: []\n");
        expect_calls(f, 1);
        assert_int_equal(daemon_confwatch_n_dirs(f->w), before + 1);
        /* The daemon re-arms with the same spec after its reload: nothing new. */
        assert_int_equal(daemon_confwatch_rearm(f->w, &sp), 0);
        writef(P(f, "extra/b.conf"), "certificates: []\n");
        expect_calls(f, 2);
        writef(P(f, "extra/b.txt"), "no");
        drain(f);
        assert_int_equal(f->calls, 2);
        assert_false(daemon_confwatch_pending(f->w));
}

static void test_rearm_new_include_set(void **state) {
        fx *f = *state;
        char g2[200];
        const char *globs[] = {f->glob, g2, NULL};
        daemon_confwatch_spec sp = spec_of(f, globs);

        assert_int_equal(mkdir(P(f, "more"), 0755), 0);
        snprintf(g2, sizeof g2, "%s/more/*.yaml", f->root);
        drain(f);
        assert_int_equal(f->calls, 0); /* more/ matched nothing before */
        /* The reload read the new main file naming more/: re-arm watches it
         * and schedules one more callback (a file written there before the
         * watch existed would be missed otherwise). */
        assert_int_equal(daemon_confwatch_rearm(f->w, &sp), 1);
        assert_true(daemon_confwatch_pending(f->w));
        expect_calls(f, 1);
        writef(P(f, "more/m.yaml"), "certificates: []\n");
        expect_calls(f, 2);
        /* Dropped again: more/ changes no longer matter. */
        globs[1] = NULL;
        assert_int_equal(daemon_confwatch_rearm(f->w, &sp), 0);
        writef(P(f, "more/n.yaml"), "certificates: []\n");
        drain(f);
        assert_int_equal(f->calls, 2);
        assert_false(daemon_confwatch_pending(f->w));
}

static void test_directory_deleted_and_recreated(void **state) {
        fx *f = *state;
        char cmd[200];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->certs);
        assert_int_equal(system(cmd), 0);
        expect_calls(f, 1);
        assert_int_equal(mkdir(f->certs, 0755), 0);
        expect_calls(f, 2);
        /* The new directory is watched: a drop-in in it is seen. */
        writef(P(f, "certs.d/back.yaml"), "certificates: []\n");
        expect_calls(f, 3);
        /* Deleted and recreated within one debounce, with a file: one call. */
        assert_int_equal(system(cmd), 0);
        assert_int_equal(mkdir(f->certs, 0755), 0);
        writef(P(f, "certs.d/again.yaml"), "certificates: []\n");
        expect_calls(f, 4);
        writef(P(f, "certs.d/again.yaml"), "certificates: [] # 2\n");
        expect_calls(f, 5);
}

static void test_main_dir_replaced(void **state) {
        fx *f = *state;
        char cmd[512];

        /* The whole configuration directory moved away and a new one put in
         * place (config management doing a directory swap). */
        snprintf(cmd, sizeof cmd,
                 "mv '%s' '%s.old' && mkdir -p '%s/certs.d' && cp '%s.old/acm-agent.yaml' '%s/'", f->root,
                 f->root, f->root, f->root, f->root);
        assert_int_equal(system(cmd), 0);
        expect_calls(f, 1);
        writef(P(f, "certs.d/x.yaml"), "certificates: []\n");
        expect_calls(f, 2);
        writef(f->main_path, "certificates: [] # new dir\n");
        expect_calls(f, 3);
        snprintf(cmd, sizeof cmd, "rm -rf '%s.old'", f->root);
        assert_int_equal(system(cmd), 0);
}

static void test_symlinked_file_followed(void **state) {
        fx *f = *state;
        const char *globs[] = {f->glob, NULL};
        char target[200];
        const char *files[] = {f->main_path, NULL};
        daemon_confwatch_spec sp = spec_of(f, globs);

        /* The main file is a symlink into another directory (config
         * management's checkout): edits there matter. */
        assert_int_equal(mkdir(P(f, "checkout"), 0755), 0);
        snprintf(target, sizeof target, "%s/checkout/main.yaml", f->root);
        writef(target, "certificates: []\n");
        assert_int_equal(unlink(f->main_path), 0);
        assert_int_equal(symlink("checkout/main.yaml", f->main_path), 0);
        expect_calls(f, 1);
        sp.files = files;
        assert_int_equal(daemon_confwatch_rearm(f->w, &sp), 1); /* checkout/ is new */
        expect_calls(f, 2);
        writef(target, "certificates: [] # changed in the checkout\n");
        expect_calls(f, 3);
}

static void test_overflow_reloads_everything(void **state) {
        fx *f = *state;
        unsigned long max = 16384;
        FILE *q = fopen("/proc/sys/fs/inotify/max_queued_events", "re");

        if (q) {
                assert_int_equal(fscanf(q, "%lu", &max), 1);
                fclose(q);
        }
        if (max > 200000)
                skip();
        /* Irrelevant events only, more than the queue holds: without the
         * overflow they would give no callback. Two files in turn: inotify
         * merges an event identical to the one queued last. */
        writef(P(f, "certs.d/noise1.txt"), "");
        writef(P(f, "certs.d/noise2.txt"), "");
        drain(f);
        assert_int_equal(f->calls, 0);
        for (unsigned long i = 0; i <= max; i++)
                assert_int_equal(chmod(P(f, (i & 1) ? "certs.d/noise1.txt" : "certs.d/noise2.txt"), 0644),
                                 0);
        expect_calls(f, 1);
        /* Still watching afterwards. */
        writef(P(f, "certs.d/after.yaml"), "certificates: []\n");
        expect_calls(f, 2);
}

static void test_debounce_capped(void **state) {
        fx *f = *state;
        const uint64_t debounce = 200 * USEC_PER_MSEC;
        const char *globs[] = {f->glob, NULL};
        daemon_confwatch_spec sp = spec_of(f, globs);

        /* A file rewritten every ~10 ms, never quiet for a debounce: the
         * callback still comes, 10 x debounce after the first event. A
         * machine that stalls for half a debounce between two writes proves
         * nothing (the debounce may fire legitimately): try again. A longer
         * debounce than the other cases keeps a loaded machine in the race. */
        f->w = daemon_confwatch_free(f->w);
        assert_int_equal(daemon_confwatch_new(f->e, &sp, debounce, on_change, f, &f->w), 0);
        for (int attempt = 0; attempt < 3; attempt++) {
                uint64_t first = mono(), prev = first, max_gap = 0, now;
                unsigned before = f->calls;

                while (f->calls == before && mono() - first < 20 * USEC_PER_SEC) {
                        writef(P(f, "certs.d/busy.yaml"), "certificates: []\n");
                        now = mono();
                        if (now - prev > max_gap)
                                max_gap = now - prev;
                        prev = now;
                        drain(f);
                        if (f->calls == before)
                                assert_true(sd_event_run(f->e, 10 * USEC_PER_MSEC) >= 0);
                }
                now = mono();
                assert_int_equal(f->calls, before + 1);
                if (max_gap >= debounce / 2)
                        continue;
                assert_true(now - first >= 10 * debounce);
                return;
        }
        skip(); /* the machine never kept up: inconclusive, not a failure */
}

static void test_bad_spec(void **state) {
        fx *f = *state;
        daemon_confwatch *w = NULL;
        daemon_confwatch_spec sp = {.main_path = "relative.yaml"};

        assert_int_equal(daemon_confwatch_new(f->e, &sp, 0, on_change, f, &w), -EINVAL);
        assert_null(w);
        sp = (daemon_confwatch_spec){.main_path = f->main_path, .certs_dir = "certs.d"};
        assert_int_equal(daemon_confwatch_new(f->e, &sp, 0, on_change, f, &w), -EINVAL);
        assert_int_equal(daemon_confwatch_rearm(f->w, &sp), -EINVAL);
        /* The old spec still works. */
        writef(P(f, "certs.d/still.yaml"), "certificates: []\n");
        expect_calls(f, 1);
}

static void test_ignored_names(void **state _unused_) {
        assert_true(daemon_confwatch_ignored_name(".web.yaml.swp"));
        assert_true(daemon_confwatch_ignored_name(".web.yaml.swo"));
        assert_true(daemon_confwatch_ignored_name("web.yaml.swx"));
        assert_true(daemon_confwatch_ignored_name("web.yaml~"));
        assert_true(daemon_confwatch_ignored_name(".#web.yaml"));
        assert_true(daemon_confwatch_ignored_name("#web.yaml#"));
        assert_false(daemon_confwatch_ignored_name("web.yaml"));
        assert_false(daemon_confwatch_ignored_name("swap.yaml"));
        assert_false(daemon_confwatch_ignored_name("#"));
}

/* ---- the file watcher (import issuer) ---- */

static void on_file(daemon_filewatch *w, const char *path, int error, void *userdata) {
        fx *f = userdata;
        assert_int_equal(error, 0);
        assert_true(f->n_seen < ELEMENTSOF(f->seen));
        f->seen[f->n_seen++] = strdup(path);
}

static void expect_seen(fx *f, unsigned want, const char *last) {
        run_until(f, &f->n_seen, want);
        assert_int_equal(f->n_seen, want);
        assert_false(daemon_filewatch_pending(f->fw));
        if (last)
                assert_string_equal(f->seen[want - 1], last);
}

/* A certbot-like layout: live/x/NAME.pem -> ../../archive/x/NAMEn.pem. */
static void certbot_layout(fx *f) {
        assert_int_equal(mkdir(P(f, "le"), 0755), 0);
        assert_int_equal(mkdir(P(f, "le/live"), 0755), 0);
        assert_int_equal(mkdir(P(f, "le/live/x"), 0755), 0);
        assert_int_equal(mkdir(P(f, "le/archive"), 0755), 0);
        assert_int_equal(mkdir(P(f, "le/archive/x"), 0755), 0);
        writef(P(f, "le/archive/x/cert1.pem"), "cert1");
        writef(P(f, "le/archive/x/privkey1.pem"), "key1");
        assert_int_equal(symlink("../../archive/x/cert1.pem", P(f, "le/live/x/cert.pem")), 0);
        assert_int_equal(symlink("../../archive/x/privkey1.pem", P(f, "le/live/x/privkey.pem")), 0);
        assert_int_equal(daemon_filewatch_new(f->e, DEBOUNCE, on_file, f, &f->fw), 0);
        assert_int_equal(daemon_filewatch_add(f->fw, P(f, "le/live/x/cert.pem")), 0);
        assert_int_equal(daemon_filewatch_add(f->fw, P(f, "le/live/x/privkey.pem")), 0);
        assert_int_equal(daemon_filewatch_add(f->fw, P(f, "le/live/x/cert.pem")), 0); /* once */
        drain(f);
        assert_int_equal(f->n_seen, 0);
}

/* certbot's way: write the new archive file, then replace the symlink. */
static void repoint(fx *f, const char *link, const char *target) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s.new", link);
        assert_int_equal(symlink(target, tmp), 0);
        assert_int_equal(rename(tmp, link), 0);
}

static void test_filewatch_certbot_renewal(void **state) {
        fx *f = *state;
        char cert[256];

        certbot_layout(f);
        snprintf(cert, sizeof cert, "%s", P(f, "le/live/x/cert.pem"));
        writef(P(f, "le/archive/x/cert2.pem"), "cert2"); /* not followed yet: no call */
        repoint(f, cert, "../../archive/x/cert2.pem");
        expect_seen(f, 1, cert);
        /* The chain was resolved again: the new target is watched ... */
        writef(P(f, "le/archive/x/cert2.pem"), "cert2 rewritten");
        expect_seen(f, 2, cert);
        /* ... and the old one no longer matters. */
        writef(P(f, "le/archive/x/cert1.pem"), "cert1 rewritten");
        drain(f);
        assert_int_equal(f->n_seen, 2);
        assert_false(daemon_filewatch_pending(f->fw));
}

static void test_filewatch_both_in_one_burst(void **state) {
        fx *f = *state;

        certbot_layout(f);
        writef(P(f, "le/archive/x/cert2.pem"), "cert2");
        writef(P(f, "le/archive/x/privkey2.pem"), "key2");
        repoint(f, P(f, "le/live/x/cert.pem"), "../../archive/x/cert2.pem");
        repoint(f, P(f, "le/live/x/privkey.pem"), "../../archive/x/privkey2.pem");
        run_until(f, &f->n_seen, 2);
        assert_int_equal(f->n_seen, 2);
        /* In the order they were added, once each. */
        assert_string_equal(f->seen[0], P(f, "le/live/x/cert.pem"));
        assert_string_equal(f->seen[1], P(f, "le/live/x/privkey.pem"));
        assert_false(daemon_filewatch_pending(f->fw));
}

static void test_filewatch_live_dir_recreated(void **state) {
        fx *f = *state;
        char cmd[256];

        certbot_layout(f);
        /* certbot delete + certonly again: live/x goes and comes back. */
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", P(f, "le/live/x"));
        assert_int_equal(system(cmd), 0);
        expect_seen(f, 2, P(f, "le/live/x/privkey.pem"));
        /* Watched through live/ now: x coming back concerns both paths. */
        assert_int_equal(mkdir(P(f, "le/live/x"), 0755), 0);
        assert_int_equal(symlink("../../archive/x/cert1.pem", P(f, "le/live/x/cert.pem")), 0);
        expect_seen(f, 4, P(f, "le/live/x/privkey.pem"));
        assert_string_equal(f->seen[2], P(f, "le/live/x/cert.pem"));
        /* And the chain through the new live/x is followed again. */
        writef(P(f, "le/archive/x/cert1.pem"), "cert1 rewritten");
        expect_seen(f, 5, P(f, "le/live/x/cert.pem"));
}

static void test_filewatch_remove(void **state) {
        fx *f = *state;

        certbot_layout(f);
        assert_int_equal(daemon_filewatch_remove(f->fw, P(f, "le/live/x/privkey.pem")), 0);
        assert_int_equal(daemon_filewatch_remove(f->fw, P(f, "le/live/x/privkey.pem")), -ENOENT);
        writef(P(f, "le/archive/x/privkey1.pem"), "key1 rewritten");
        drain(f);
        assert_int_equal(f->n_seen, 0);
        assert_int_equal(daemon_filewatch_add(f->fw, "relative/path"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ignored_names),
                cmocka_unit_test_setup_teardown(test_nothing_at_start, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rename_over, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vim_backup_dance, setup, teardown),
                cmocka_unit_test_setup_teardown(test_created_empty_then_written, setup, teardown),
                cmocka_unit_test_setup_teardown(test_in_place_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_and_removed_dropin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_irrelevant_names_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_editor_names_ignored_under_catch_all_glob, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_burst_is_one_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_include_glob_and_new_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rearm_new_include_set, setup, teardown),
                cmocka_unit_test_setup_teardown(test_directory_deleted_and_recreated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_main_dir_replaced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinked_file_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overflow_reloads_everything, setup, teardown),
                cmocka_unit_test_setup_teardown(test_debounce_capped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_spec, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filewatch_certbot_renewal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filewatch_both_in_one_burst, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filewatch_live_dir_recreated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filewatch_remove, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
