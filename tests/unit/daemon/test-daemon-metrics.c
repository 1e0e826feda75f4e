/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "daemon/daemon-metrics.h"
#include "store/store-state.h"

static bool promtool_missing;

static const daemon_metrics_cert certs[] = {
        {.name = "web",
         .issuer = "pca",
         .state = "valid",
         .serial = "0A1B2C",
         .not_after = 1800000000,
         .next_renewal = 1790000000,
         .last_success = 1780000000},
        {.name = "api",
         .issuer = "acm",
         .state = "backoff",
         .serial = "FF01",
         .not_after = 1700000000,
         .next_renewal = 1699990000,
         .last_success = 1690000000,
         .consecutive_failures = 3,
         .acm_renewal_status = "PENDING_VALIDATION",
         .in_danger = true},
        {.name = "new", .issuer = "import", .state = "request"}, /* never issued */
};

static const daemon_metrics_aws aws[] = {
        {.service = "acm-pca", .operation = "IssueCertificate", .calls = 7, .errors = 2, .throttles = 1},
        {.service = "acm", .operation = "DescribeCertificate", .calls = 120},
};

static daemon_metrics sample(void) {
        return (daemon_metrics){.certs = certs,
                                .n_certs = ELEMENTSOF(certs),
                                .aws = aws,
                                .n_aws = ELEMENTSOF(aws),
                                .version = "9.9.9",
                                .now = 1785000000};
}

static char *format(const daemon_metrics *m) {
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(daemon_metrics_format(m, &text, &len), 0);
        assert_int_equal(strlen(text), len);
        return text;
}

static bool has_line(const char *text, const char *line) {
        size_t l = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && p[l] == '\n')
                        return true;
        return false;
}

static unsigned count_prefix(const char *text, const char *prefix) {
        unsigned n = 0;
        size_t l = strlen(prefix);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                n += strneq(p, prefix, l);
        return n;
}

static void test_content(void **s _unused_) {
        daemon_metrics m = sample();
        _cleanup_(freep) char *t = format(&m);
        static const char *const want[] = {
                "acm_agent_build_info{version=\"9.9.9\"} 1",
                "acm_agent_metrics_write_timestamp_seconds 1785000000",
                "acm_agent_certificates 3",
                "acm_agent_certificate_info{name=\"web\",issuer=\"pca\",serial=\"0A1B2C\"} 1",
                "acm_agent_certificate_info{name=\"new\",issuer=\"import\",serial=\"\"} 1",
                "acm_agent_certificate_state{name=\"web\",state=\"valid\"} 1",
                "acm_agent_certificate_state{name=\"web\",state=\"backoff\"} 0",
                "acm_agent_certificate_state{name=\"api\",state=\"backoff\"} 1",
                "acm_agent_certificate_state{name=\"new\",state=\"request\"} 1",
                "acm_agent_certificate_not_after_timestamp_seconds{name=\"web\"} 1800000000",
                "acm_agent_certificate_next_renewal_timestamp_seconds{name=\"api\"} 1699990000",
                "acm_agent_certificate_last_success_timestamp_seconds{name=\"web\"} 1780000000",
                "acm_agent_certificate_consecutive_failures{name=\"api\"} 3",
                "acm_agent_certificate_consecutive_failures{name=\"new\"} 0",
                "acm_agent_certificate_in_danger{name=\"api\"} 1",
                "acm_agent_certificate_in_danger{name=\"web\"} 0",
                "acm_agent_certificate_acm_renewal_status{name=\"api\",status=\"PENDING_VALIDATION\"} 1",
                "acm_agent_certificate_acm_renewal_status{name=\"api\",status=\"SUCCESS\"} 0",
                "acm_agent_aws_requests_total{service=\"acm-pca\",operation=\"IssueCertificate\"} 7",
                "acm_agent_aws_request_errors_total{service=\"acm-pca\",operation=\"IssueCertificate\"} 2",
                "acm_agent_aws_throttles_total{service=\"acm\",operation=\"DescribeCertificate\"} 0",
                "# TYPE acm_agent_aws_requests_total counter",
                "# TYPE acm_agent_certificate_state gauge",
        };

        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!has_line(t, want[i]))
                        fail_msg("missing line: %s\n%s", want[i], t);
        /* One series per phase of the store's machine (_PHASE_MAX) per certificate. */
        assert_int_equal(count_prefix(t, "acm_agent_certificate_state{name=\"web\""), _PHASE_MAX);
        /* Unknown times have no series rather than a 0. */
        assert_null(strstr(t, "_timestamp_seconds{name=\"new\"}"));
        /* ACM status only for the certificate that has one, four values. */
        assert_int_equal(count_prefix(t, "acm_agent_certificate_acm_renewal_status{"), 4);
        /* Every family once, with HELP and TYPE, its samples together. */
        assert_int_equal(count_prefix(t, "# HELP "), 14);
        assert_int_equal(count_prefix(t, "# TYPE "), 14);
        assert_true(strlen(t) > 0 && t[strlen(t) - 1] == '\n');
}

static void test_states_given_and_unknown(void **s _unused_) {
        static const char *const states[] = {"valid", "renewing", "failed", NULL};
        static const daemon_metrics_cert c[] = {
                {.name = "a", .issuer = "pca", .state = "renewing"},
                {.name = "b", .issuer = "pca", .state = "mystery"},
        };
        daemon_metrics m = {.certs = c, .n_certs = 2, .states = states, .now = 1};
        _cleanup_(freep) char *t = format(&m);

        assert_int_equal(count_prefix(t, "acm_agent_certificate_state{name=\"a\""), 3);
        assert_true(has_line(t, "acm_agent_certificate_state{name=\"a\",state=\"renewing\"} 1"));
        /* A state the list lacks is shown, not lost. */
        assert_int_equal(count_prefix(t, "acm_agent_certificate_state{name=\"b\""), 4);
        assert_true(has_line(t, "acm_agent_certificate_state{name=\"b\",state=\"mystery\"} 1"));
        assert_true(has_line(t, "acm_agent_build_info{version=\"" PACKAGE_VERSION "\"} 1"));
}

static void test_escaping(void **s _unused_) {
        static const daemon_metrics_cert c[] = {
                {.name = "we\"ird\\na\nme", .issuer = "pca", .state = "valid"},
        };
        daemon_metrics m = {.certs = c, .n_certs = 1, .now = 1};
        _cleanup_(freep) char *t = format(&m);

        assert_true(has_line(t, "acm_agent_certificate_in_danger{name=\"we\\\"ird\\\\na\\nme\"} 0"));
}

static void test_invalid(void **s _unused_) {
        static const daemon_metrics_cert c[] = {{.name = "x", .state = "valid"}};
        static const daemon_metrics_aws a[] = {{.service = "acm"}};
        daemon_metrics m = {.certs = c, .n_certs = 1};
        char *t = (char *) 0x1;
        size_t len = 42;

        assert_int_equal(daemon_metrics_format(&m, &t, &len), -EINVAL);
        assert_ptr_equal(t, (char *) 0x1); /* outputs untouched on failure */
        assert_int_equal(len, 42);
        m = (daemon_metrics){.aws = a, .n_aws = 1};
        assert_int_equal(daemon_metrics_format(&m, &t, &len), -EINVAL);
}

typedef struct tmp {
        char dir[64];
        char path[128];
} tmp;

static void tmp_new(tmp *d) {
        snprintf(d->dir, sizeof d->dir, "/tmp/metrics-test.XXXXXX");
        assert_non_null(mkdtemp(d->dir));
        snprintf(d->path, sizeof d->path, "%s/acm_agent.prom", d->dir);
}

static void tmp_done(tmp *d) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
        assert_int_equal(system(cmd), 0);
}

static void test_write_atomic(void **s _unused_) {
        daemon_metrics m = sample();
        _cleanup_(freep) char *want = format(&m);
        _cleanup_(freep) char *got = NULL;
        struct stat st;
        unsigned entries = 0;
        struct dirent *de;
        mode_t old = umask(0077); /* the mode is not the umask's */
        DIR *d;
        tmp t;

        tmp_new(&t);
        {
                /* An older file is replaced. */
                FILE *f = fopen(t.path, "we");
                assert_non_null(f);
                fputs("old content\n", f);
                fclose(f);
        }
        assert_int_equal(daemon_metrics_write(t.path, &m), 0);
        umask(old);
        assert_int_equal(read_full_file(t.path, 1 << 20, &got, NULL), 0);
        assert_string_equal(got, want);
        assert_int_equal(stat(t.path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        /* No temporary left beside it. */
        d = opendir(t.dir);
        assert_non_null(d);
        while ((de = readdir(d)))
                entries += de->d_name[0] != '.';
        closedir(d);
        assert_int_equal(entries, 1);
        /* A directory that does not exist: an error, nothing written. */
        assert_int_equal(daemon_metrics_write("/nonexistent-dir-for-metrics/x.prom", &m), -ENOENT);
        tmp_done(&t);
}

static void test_promtool(void **s _unused_) {
        daemon_metrics m = sample();
        char cmd[256];
        tmp t;

        if (system("command -v promtool >/dev/null 2>&1") != 0) {
                promtool_missing = true;
                skip();
        }
        tmp_new(&t);
        assert_int_equal(daemon_metrics_write(t.path, &m), 0);
        /* promtool lints names, units, HELP/TYPE and the format itself. */
        snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", t.path);
        assert_int_equal(system(cmd), 0);
        /* And it does fail on a broken file (the check can fail). */
        FILE *f = fopen(t.path, "ae");
        assert_non_null(f);
        fputs("acm_agent_broken_counter{name=\"x\" 1\n", f);
        fclose(f);
        assert_int_not_equal(system(cmd), 0);
        tmp_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_content),      cmocka_unit_test(test_states_given_and_unknown),
                cmocka_unit_test(test_escaping),     cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_write_atomic), cmocka_unit_test(test_promtool),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);

        /* The format check could not run: say so to automake (SKIP). */
        if (r == 0 && promtool_missing) {
                printf("# promtool is missing: the format was not checked\n");
                return 77;
        }
        return r;
}
