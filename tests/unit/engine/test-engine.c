/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine pieces that need no AWS: the IssueCertificate request built from the
 * configuration (every Validity form, ApiPassthrough, TemplateArn), the
 * signing algorithm choice, and whole passes where nothing needs AWS (all
 * valid, dry run, a lock held by another process, a corrupt state file).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/clock.h"
#include "crypto/crypto.h"
#include "deploy/deploy.h"
#include "engine/engine.h"
#include "engine/engine-issuer.h"
#include "basic/macro.h"
#include "store/store-state.h"
#include "basic/util.h"

#define CA "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/22222222-2222-4222-8222-222222222222"

static char *dns[] = { (char *) "www.example.com", NULL };

static conf_cert make_cert(const char *name, char *dir) {
        conf_cert c = {
                .name = (char *) name,
                .issuer_type = CONF_ISSUER_PCA,
                .dns_names = dns,
                .key = { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256 },
                .output = { .dir = dir, .owner = (uid_t) -1, .group = (gid_t) -1, .mode = 0644, .key_mode = 0600,
                            .files = CONF_OUT_CERT | CONF_OUT_CHAIN | CONF_OUT_FULLCHAIN | CONF_OUT_KEY,
                            .keep_versions = 2 },
                .schedule = { .renew_fraction = 0.33, .jitter = 0, .retry_min = 300, .retry_max = 21600 },
        };
        c.issuer.pca.ca_arn = (char *) CA;
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DAYS, 30 };
        return c;
}

static void test_request_forms(void **s _unused_) {
        char dir[] = "/nonexistent";
        conf_cert c = make_cert("web", dir);
        json_t *req = NULL;
        const char *csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        time_t now = 1800000000;  /* 2027-01-15T08:00:00Z */

        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(req, "CertificateAuthorityArn")), CA);
        assert_string_equal(json_string_value(json_object_get(req, "SigningAlgorithm")), "SHA256WITHECDSA");
        assert_string_equal(json_string_value(json_object_get(req, "IdempotencyToken")), "tok");
        /* Csr is the PEM, base64 (a blob in the JSON protocol) */
        const char *b64 = json_string_value(json_object_get(req, "Csr"));
        unsigned char dec[256];
        int n = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) strlen(b64));
        assert_true(n >= (int) strlen(csr));
        assert_memory_equal(dec, csr, strlen(csr));
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "DAYS");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 30);
        assert_null(json_object_get(req, "TemplateArn"));
        assert_null(json_object_get(req, "ValidityNotBefore"));
        assert_null(json_object_get(req, "ApiPassthrough"));
        json_decref(req);

        /* DURATION: whole days → DAYS, else END_DATE = now + duration */
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DURATION, 2 * 86400 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "DAYS");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 2);
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DURATION, 36 * 3600 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "END_DATE");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 20270116200000LL);
        json_decref(req);

        /* ABSOLUTE / END_DATE / MONTHS / YEARS pass through; not-before; template; passthrough as-is */
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_END_DATE, 20271231235959LL };
        c.issuer.pca.validity_not_before = (conf_validity) { CONF_VALIDITY_ABSOLUTE, 1799990000 };
        c.issuer.pca.template_arn = (char *) "arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1";
        c.issuer.pca.api_passthrough = json_pack("{s:{s:[{s:s}]}}", "Subject", "CustomAttributes", "ObjectIdentifier",
                                                 "1.2.3.4");
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA384WITHECDSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "END_DATE");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "Validity"), "Value")), 20271231235959LL);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "ValidityNotBefore"), "Type")), "ABSOLUTE");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "ValidityNotBefore"), "Value")), 1799990000);
        assert_string_equal(json_string_value(json_object_get(req, "TemplateArn")), c.issuer.pca.template_arn);
        assert_true(json_equal(json_object_get(req, "ApiPassthrough"), c.issuer.pca.api_passthrough));
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_MONTHS, 6 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHRSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "MONTHS");
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_YEARS, 1 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHRSA", "tok", now, &req), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(req, "Validity"), "Type")), "YEARS");
        json_decref(req);
        c.issuer.pca.validity = (conf_validity) { CONF_VALIDITY_DURATION, 0 };
        assert_int_equal(issuer_pca_build_request(&c, csr, "SHA256WITHRSA", "tok", now, &req), -EINVAL);
        json_decref(c.issuer.pca.api_passthrough);
}

/* ApiPassthrough's Subject.CommonName and SubjectAlternativeNames replace
 * what the CSR asked for (template > API > CSR), so verification expects
 * them; without them the configured names stay expected. */
static void test_expect_passthrough(void **s _unused_) {
        conf_cert c = make_cert("web", (char *) "/nonexistent");
        pca_expect e;

        assert_int_equal(issuer_pca_expect(&c, &e), 0);
        assert_ptr_equal(e.want.dns_names, c.dns_names);
        assert_null(e.want.subject.common_name);
        issuer_pca_expect_done(&e);

        c.issuer.pca.api_passthrough = json_loads(
                "{\"Subject\":{\"CommonName\":\"api.example.com\",\"Organization\":\"X\"},"
                "\"Extensions\":{\"SubjectAlternativeNames\":[{\"DnsName\":\"api.example.com\"},"
                "{\"IpAddress\":\"192.0.2.1\"},{\"Rfc822Name\":\"a@example.com\"},"
                "{\"UniformResourceIdentifier\":\"spiffe://x/y\"},{\"DnsName\":\"b.example.com\"}]}}", 0, NULL);
        assert_non_null(c.issuer.pca.api_passthrough);
        assert_int_equal(issuer_pca_expect(&c, &e), 0);
        assert_string_equal(e.want.subject.common_name, "api.example.com");
        assert_string_equal(e.want.dns_names[0], "api.example.com");
        assert_string_equal(e.want.dns_names[1], "b.example.com");
        assert_null(e.want.dns_names[2]);
        assert_string_equal(e.want.ip_addresses[0], "192.0.2.1");
        assert_null(e.want.ip_addresses[1]);
        assert_string_equal(e.want.email_addresses[0], "a@example.com");
        assert_string_equal(e.want.uris[0], "spiffe://x/y");
        /* the configured certificate is untouched */
        assert_string_equal(c.dns_names[0], "www.example.com");
        issuer_pca_expect_done(&e);
        json_decref(c.issuer.pca.api_passthrough);
}

static void test_signing_algorithm(void **s _unused_) {
        assert_string_equal(issuer_pca_signing_algorithm("RSA_2048", NULL), "SHA256WITHRSA");
        assert_string_equal(issuer_pca_signing_algorithm("RSA_4096", NULL), "SHA256WITHRSA");
        assert_string_equal(issuer_pca_signing_algorithm("EC_prime256v1", NULL), "SHA256WITHECDSA");
        assert_string_equal(issuer_pca_signing_algorithm("EC_secp384r1", NULL), "SHA256WITHECDSA");
        assert_string_equal(issuer_pca_signing_algorithm("EC_secp384r1", "SHA512WITHECDSA"), "SHA512WITHECDSA");
        assert_string_equal(issuer_pca_signing_algorithm("RSA_2048", "SHA384WITHRSA"), "SHA384WITHRSA");
        assert_null(issuer_pca_signing_algorithm("RSA_2048", "SHA256WITHECDSA"));
        assert_null(issuer_pca_signing_algorithm("EC_prime256v1", "SHA256WITHRSA"));
        assert_null(issuer_pca_signing_algorithm("EC_prime256v1", "RSA"));
        assert_null(issuer_pca_signing_algorithm("FOO", NULL));
}

/* ---- whole passes that need no AWS ---- */

static char root[64];

static int setup_root(void **s _unused_) {
        strcpy(root, "/tmp/test-engine-XXXXXX");
        assert_non_null(mkdtemp(root));
        return 0;
}

static int teardown_root(void **s _unused_) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

typedef struct fixture {
        char state_dir[128];
        char dir[2][128];
        conf_cert certs[2];
        conf_cert *list[3];
        conf c;
} fixture;

static void fixture_init(fixture *f) {
        snprintf(f->state_dir, sizeof(f->state_dir), "%s/state", root);
        for (int i = 0; i < 2; i++) {
                snprintf(f->dir[i], sizeof(f->dir[i]), "%s/out%d", root, i);
                f->certs[i] = make_cert(i == 0 ? "a" : "b", f->dir[i]);
                f->list[i] = &f->certs[i];
        }
        f->list[2] = NULL;
        f->c = (conf) { .state_dir = f->state_dir, .certs = f->list, .n_certs = 2 };
}

/* A deployed, valid certificate: a current version and a state saying so. */
static void make_valid(fixture *f, int i, time_t not_after) {
        deploy_file file = { CONF_OUT_CERT, "x\n", 2, false };
        deploy_result dr;
        char err[256];
        _cleanup_(state_freep) cert_state *st = state_new();

        assert_int_equal(state_dir_prepare(f->state_dir), 0);
        assert_int_equal(deploy_install(&f->certs[i].output, f->certs[i].name, &file, 1, "AB", &dr, err, sizeof(err)), 0);
        st->phase = STATE_VALID;
        st->serial = strdup("ABCDEF01");
        st->not_before = clock_now() - 86400;
        st->not_after = not_after;
        st->current_version = strdup(dr.version);
        assert_int_equal(state_save(f->state_dir, f->certs[i].name, st), 0);
}

static void test_pass_all_valid(void **s _unused_) {
        fixture f;
        _cleanup_(engine_freep) engine *e = NULL;
        fixture_init(&f);
        make_valid(&f, 0, clock_now() + 30 * 86400);
        make_valid(&f, 1, clock_now() + 30 * 86400);

        assert_int_equal(engine_new(&f.c, NULL, &e), 0);
        assert_int_equal(engine_run_once(e), 0);
        assert_int_equal(engine_n_results(e), 2);
        for (size_t i = 0; i < 2; i++) {
                const engine_result *r = engine_result_get(e, i);
                assert_int_equal(r->action, ENGINE_ACTION_NONE);
                assert_false(r->changed);
                assert_string_equal(r->serial, "ABCDEF01");
                assert_null(r->error);
                assert_true(r->renew_at > clock_now());
        }
        assert_int_equal(engine_exit_code(e), 0);
        /* no AWS client was created: no call, not even credentials */
        json_t *stats = engine_aws_stats_json(e);
        assert_int_equal(json_object_size(json_object_get(stats, "calls")), 0);
        json_decref(stats);
}

static void test_pass_dry_run(void **s _unused_) {
        fixture f;
        _cleanup_(engine_freep) engine *e = NULL;
        engine_options o = { .dry_run = true };
        struct stat sb;
        fixture_init(&f);
        make_valid(&f, 0, clock_now() + 30 * 86400);
        /* b: due (expires in a day of a 31-day lifetime) */
        make_valid(&f, 1, clock_now() + 3600);

        assert_int_equal(engine_new(&f.c, &o, &e), 0);
        assert_int_equal(engine_run_once(e), 0);
        assert_non_null(strstr(engine_result_get(e, 0)->plan, "nothing to do"));
        assert_non_null(strstr(engine_result_get(e, 1)->plan, "renew: serial ABCDEF01 is due since"));
        assert_int_equal(engine_result_get(e, 1)->action, ENGINE_ACTION_NONE);
        /* nothing was locked or written */
        char p[256];
        snprintf(p, sizeof(p), "%s/certs/b.lock", f.state_dir);
        assert_int_equal(stat(p, &sb), -1);
        e = engine_free(e);

        /* the only filter, and an unknown name */
        o.only = "nope";
        assert_int_equal(engine_new(&f.c, &o, &e), -ENOENT);
        o.only = "a";
        assert_int_equal(engine_new(&f.c, &o, &e), 0);
        assert_int_equal(engine_run_once(e), 0);
        assert_int_equal(engine_n_results(e), 1);
        assert_string_equal(engine_result_get(e, 0)->name, "a");
}

static void test_pass_locked_and_corrupt(void **s _unused_) {
        fixture f;
        _cleanup_(engine_freep) engine *e = NULL;
        int pfd[2], fd;
        char p[256], c;
        pid_t pid;
        fixture_init(&f);
        make_valid(&f, 0, clock_now() + 60);  /* due: needs the lock */
        make_valid(&f, 1, clock_now() + 30 * 86400);
        snprintf(p, sizeof(p), "%s/certs/b.json", f.state_dir);
        assert_int_equal(write_file_atomic(p, "{broken", 7, 0600, (uid_t) -1, (gid_t) -1), 0);

        assert_int_equal(pipe(pfd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pfd[0]);
                if (state_lock(f.state_dir, "a", false, &fd) < 0)
                        _exit(1);
                (void) !write(pfd[1], "x", 1);
                pause();
                _exit(0);
        }
        close(pfd[1]);
        assert_int_equal(read(pfd[0], &c, 1), 1);

        assert_int_equal(engine_new(&f.c, NULL, &e), 0);
        assert_int_equal(engine_run_once(e), 0);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_LOCKED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "locked by another acm-agent"));
        assert_int_equal(engine_result_get(e, 1)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 1)->error, "b.json"));
        assert_int_equal(engine_exit_code(e), 1);  /* failed wins over locked */
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(pfd[0]);
}

/* The worker pool cannot be created (no descriptor for its eventfd): the
 * real cause comes back, not a NULL pool that callers report as EINVAL. */
static void test_workers_error(void **s _unused_) {
        fixture f;
        _cleanup_(engine_freep) engine *e = NULL;
        struct rlimit old, lim;
        worker_pool *pool = (worker_pool *) &f;  /* must stay untouched on failure */
        int fd, r;

        fixture_init(&f);
        assert_int_equal(engine_new(&f.c, NULL, &e), 0);
        machine m = { .engine = e, .cert = &f.certs[0], .state_dir = f.state_dir };

        fd = dup(0);  /* the lowest free descriptor */
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        lim = old;
        lim.rlim_cur = (rlim_t) fd;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
        r = machine_workers(&m, &pool);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
        assert_int_equal(r, -EMFILE);
        assert_ptr_equal(pool, (worker_pool *) &f);

        /* with descriptors available again the pool is created (and kept) */
        assert_int_equal(machine_workers(&m, &pool), 0);
        assert_non_null(pool);
        worker_pool *again = NULL;
        assert_int_equal(machine_workers(&m, &again), 0);
        assert_ptr_equal(again, pool);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_forms),
                cmocka_unit_test(test_signing_algorithm),
                cmocka_unit_test(test_expect_passthrough),
                cmocka_unit_test_setup_teardown(test_pass_all_valid, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_pass_dry_run, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_pass_locked_and_corrupt, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_workers_error, setup_root, teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
