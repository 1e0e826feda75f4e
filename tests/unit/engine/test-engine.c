/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine driven by a fake issuer (no AWS): every transition — issue,
 * wait, watch, fail + backoff, cancel mid-job, deploy, reload, rollback,
 * revoke + replace, a configuration swapped while machines are in flight —
 * with the persisted state checked after each step. Real files, a real
 * reload command, a real keystore; certificates signed by a CA made here.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/clock.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "conf/conf.h"
#include "crypto/crypto.h"
#include "deploy/deploy.h"
#include "engine/engine-internal.h"
#include "engine/engine.h"
#include "store/store-keys.h"
#include "store/store.h"

#define DAY 86400

/* ---- a test CA ---- */

static EVP_PKEY *ca_key;
static X509 *ca_cert;
static char *ca_pem;

static char *x509_pem(X509 *x) {
        BIO *b = BIO_new(BIO_s_mem());
        char *data, *s;
        long n;

        assert_non_null(b);
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        n = BIO_get_mem_data(b, &data);
        s = strndup(data, (size_t) n);
        BIO_free(b);
        assert_non_null(s);
        return s;
}

static X509 *sign(EVP_PKEY *key, const char *cn, char **dns, time_t nb, time_t na, bool is_ca) {
        static long serial = 0x1000;
        X509 *x = X509_new();
        X509_NAME *n;
        X509V3_CTX ctx;

        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial + (long) (clock_now() % 100000) * 100);
        ASN1_TIME_set(X509_getm_notBefore(x), nb);
        ASN1_TIME_set(X509_getm_notAfter(x), na);
        X509_set_pubkey(x, key);
        n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0);
        X509_set_issuer_name(x, is_ca ? n : X509_get_subject_name(ca_cert));
        X509V3_set_ctx(&ctx, is_ca ? x : ca_cert, x, NULL, NULL, 0);
        if (is_ca) {
                X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
                X509_add_ext(x, e, -1);
                X509_EXTENSION_free(e);
        } else {
                char san[512] = "";
                for (char **d = dns; d && *d; d++)
                        snprintf(san + strlen(san), sizeof(san) - strlen(san), "%sDNS:%s", san[0] ? "," : "", *d);
                X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
                X509_add_ext(x, e, -1);
                X509_EXTENSION_free(e);
        }
        assert_true(X509_sign(x, is_ca ? key : ca_key, EVP_sha256()) > 0);
        return x;
}

/* ---- the fake issuer ---- */

typedef enum fake_do {
        DO_ISSUE,        /* key, (token persisted), certificate */
        DO_FAIL,
        DO_WAIT,         /* wait fake.wait_for seconds */
        DO_HANG,         /* persist a token, then nothing until cancelled */
        DO_BAD_CERT,     /* a certificate for other names: verification fails */
        DO_HOOK_WAIT,    /* the pending_validation hook, then a long wait */
        DO_HOLD,         /* persist a token, then nothing until cancelled (any number of machines) */
} fake_do;

typedef enum watch_do {
        WATCH_FINE,
        WATCH_RENEWED,
        WATCH_FAIL,
} watch_do;

static struct {
        fake_do next;            /* what issue does */
        fake_do after_wait;      /* DO_WAIT: what the next issue does */
        watch_do watch;
        time_t wait_for;
        time_t watch_every;      /* watch_at after issuance / next check */
        bool has_watch;
        int issues, resumes, replaces, watches, revokes, cancels;
        int forced_issues;       /* issues for which machine_operator_forced() said true */
        const conf *conf_seen;   /* machine_conf() at the last issue */
        bool cache_probe;        /* issue looks up and fills the engine's cache */
        int cache_hits, cache_frees;
        machine *hung;           /* DO_HANG: the machine whose request never answers */
        void *hung_run;
        int held;                /* DO_HOLD: requests that never answer (until fake_release_held()) */
        machine *held_m[64];
        int in_request, max_in_request;  /* issues started and not ended (cancelled) yet: now, at most */
        char seen_token_on_disk[64];
        char break_deploy[256];  /* an output dir whose .versions becomes a file before the deploy */
        bool revoke_fails;
} fake;

typedef struct fake_state {
        char *token;
} fake_state;

static int fake_state_load(json_t *o, void **ret, char **ret_error) {
        fake_state *s = calloc(1, sizeof(*s));
        const char *t = json_string_value(json_object_get(o, "token"));

        *ret_error = NULL;
        if (!s)
                return -ENOMEM;
        if (t && !(s->token = strdup(t))) {
                free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static int fake_state_save(const void *v, json_t **ret) {
        const fake_state *s = v;
        *ret = s->token ? json_pack("{s:s}", "token", s->token) : json_object();
        return *ret ? 0 : -ENOMEM;
}

static void fake_state_free(void *v) {
        fake_state *s = v;
        if (s)
                free(s->token);
        free(s);
}

static bool fake_state_in_flight(const void *v) {
        return ((const fake_state *) v)->token != NULL;
}

static void fake_state_reset(void *v) {
        fake_state *s = v;
        s->token = (free(s->token), NULL);
}

static int fake_expect(const conf_cert *cert, const void *state _unused_, cert_expect *ret) {
        *ret = (cert_expect) { .want = *cert };
        return 0;
}

typedef struct fake_run {
        machine *m;
        bool bad;
        bool held;
} fake_run;

static void on_key(machine *m, EVP_PKEY *key, void *userdata);

/* The hung request answers now. */
static void fake_release(void) {
        machine *m = TAKE_PTR(fake.hung);
        machine_key(m, on_key, TAKE_PTR(fake.hung_run));
}

/* The held requests answer now. */
static void fake_release_held(void) {
        while (fake.held > 0) {
                machine *m = fake.held_m[--fake.held];
                fake_run *run = machine_get_data(m);
                run->held = false;
                machine_key(m, on_key, run);
        }
}

static void fake_cancel(machine *m) {
        fake_run *r = machine_get_data(m);
        if (m == fake.hung)
                fake.hung = NULL;
        if (r) {
                fake.cancels++;
                fake.in_request--;
                if (r->held)
                        for (int i = 0; i < fake.held; i++)
                                if (fake.held_m[i] == m) {
                                        fake.held_m[i] = fake.held_m[--fake.held];
                                        break;
                                }
                free(r);
                machine_set_data(m, NULL);
        }
}

static void on_key(machine *m, EVP_PKEY *key, void *userdata) {
        fake_run *run = userdata;
        const conf_cert *c = machine_cert(m);
        char *other[] = { (char *) "evil.example.org", NULL };
        char **names = run->bad ? other : c->dns_names;
        X509 *x = sign(key, names[0], names, clock_now() - 60, clock_now() + 30 * DAY, false);
        _cleanup_(freep) char *pem = x509_pem(x);
        issued_cert ic = {
                .key = key,
                .cert_pem = pem,
                .chain_pem = ca_pem,
                .anchor_pem = ca_pem,
                .arn = "arn:fake",
                .key_is_pending = true,
                .watch_at = fake.has_watch ? clock_now() + fake.watch_every : 0,
        };

        X509_free(x);
        if (fake.break_deploy[0]) {
                /* the deploy of this certificate fails (.versions is no
                 * directory), after the preflight passed */
                char v[300], h[310];
                snprintf(v, sizeof(v), "%s/.versions", fake.break_deploy);
                snprintf(h, sizeof(h), "%s.hidden", v);
                assert_int_equal(rename(v, h), 0);
                assert_int_equal(write_file_atomic(v, "x", 1, 0600, (uid_t) -1, (gid_t) -1), 0);
        }
        machine_issued(m, &ic);
        EVP_PKEY_free(key);
}

static void after_token(machine *m, void *userdata) {
        fake_run *run = userdata;
        _cleanup_(cert_state_freep) cert_state *st = NULL;
        _cleanup_(freep) char *err = NULL;

        /* persisted before the side effect: the file holds the token now */
        assert_int_equal(store_load(machine_state_dir(m), machine_name(m), &st, &err), 0);
        snprintf(fake.seen_token_on_disk, sizeof(fake.seen_token_on_disk), "%s",
                 json_string_value(json_object_get(st->issuer, "token")) ?: "");
        assert_int_equal(st->phase, PHASE_REQUEST);
        if (fake.next == DO_HANG) {
                fake.hung = m;  /* an AWS request that does not answer (yet) */
                fake.hung_run = run;
                return;
        }
        if (fake.next == DO_HOLD) {
                assert_true(fake.held < (int) ELEMENTSOF(fake.held_m));
                run->held = true;
                fake.held_m[fake.held++] = m;
                return;
        }
        machine_key(m, on_key, run);
}

static void cache_value_free(void *v) {
        fake.cache_frees++;
        free(v);
}

/* Counts whether the entry is found, puts it when not. */
static void cache_probe(machine *m) {
        if (machine_cache_get(m, "probe"))
                fake.cache_hits++;
        else
                assert_int_equal(machine_cache_put(m, "probe", strdup("v"), cache_value_free, 0), 0);
}

static int fake_issue(machine *m, issue_reason reason) {
        fake_state *s = machine_issuer_state(m);
        fake_run *run;

        if (fake.cache_probe)
                cache_probe(m);
        fake.issues++;
        fake.forced_issues += machine_operator_forced(m);
        fake.conf_seen = machine_conf(m);
        if (reason == ISSUE_RESUME)
                fake.resumes++;
        if (reason == ISSUE_REPLACE)
                fake.replaces++;
        switch (fake.next) {
        case DO_FAIL:
                machine_fail(m, "test", "the fake CA refused (scripted)");
                return 0;
        case DO_WAIT:
                fake.next = fake.after_wait;
                machine_wait(m, clock_now() + fake.wait_for, "the fake CA is thinking");
                return 0;
        case DO_HOOK_WAIT:
                machine_hook_pending_validation(m, "arn:fake:pending", "_x.example.com. CNAME _y.example.net.\n");
                machine_wait(m, clock_now() + 3600, "the operator publishes the records");
                return 0;
        default:
                break;
        }
        run = calloc(1, sizeof(*run));
        if (!run)
                return -ENOMEM;
        run->m = m;
        run->bad = fake.next == DO_BAD_CERT;
        machine_set_data(m, run);
        if (++fake.in_request > fake.max_in_request)
                fake.max_in_request = fake.in_request;
        if (!s->token && !(s->token = strdup("tok-1")))
                return -ENOMEM;
        machine_persist(m, PHASE_REQUEST, after_token, run);
        return 0;
}

static int fake_watch(machine *m) {
        fake.watches++;
        switch (fake.watch) {
        case WATCH_RENEWED:
                machine_renewal_ready(m, "the fake CA renewed it");
                break;
        case WATCH_FAIL:
                machine_fail(m, "test", "the fake CA cannot be asked (scripted)");
                break;
        default:
                machine_watched(m, clock_now() + fake.watch_every);
        }
        return 0;
}

static int fake_revoke(machine *m, const char *reason) {
        fake.revokes++;
        assert_string_equal(reason, "KEY_COMPROMISE");
        /* the intent is on disk before the CA is asked */
        _cleanup_(cert_state_freep) cert_state *st = NULL;
        _cleanup_(freep) char *err = NULL;
        assert_int_equal(store_load(machine_state_dir(m), machine_name(m), &st, &err), 0);
        assert_string_equal(st->revoke_request, "KEY_COMPROMISE");
        if (fake.revoke_fails) {
                machine_fail(m, "test", "the fake CA cannot revoke (scripted)");
                return 0;
        }
        machine_revoked(m, false);
        return 0;
}

static issuer_ops fake_ops = {
        .name = "pca",
        .state_load = fake_state_load,
        .state_save = fake_state_save,
        .state_free = fake_state_free,
        .state_in_flight = fake_state_in_flight,
        .state_reset = fake_state_reset,
        .expect = fake_expect,
        .issue = fake_issue,
        .revoke = fake_revoke,
        .cancel = fake_cancel,
        .renews = true,
};

static const issuer_ops *lookup(conf_issuer_type t) {
        return t == CONF_ISSUER_PCA ? &fake_ops : NULL;
}

/* ---- fixtures ---- */

static char root[64], conf_path[128], state_dir[128], reload_log[128];
static const char *daemon_extra = "";   /* more daemon: keys for write_conf */

static int setup(void **s _unused_) {
        strcpy(root, "/tmp/test-engine-XXXXXX");
        assert_non_null(mkdtemp(root));
        snprintf(conf_path, sizeof(conf_path), "%s/acm-agent.yaml", root);
        snprintf(state_dir, sizeof(state_dir), "%s/state", root);
        snprintf(reload_log, sizeof(reload_log), "%s/reloads", root);
        memset(&fake, 0, sizeof(fake));
        daemon_extra = "";
        fake.watch_every = DAY;
        fake_ops.watch = NULL;
        fake_ops.watch_each_pass = false;
        clock_set_offset(0);
        return 0;
}

static int teardown(void **s _unused_) {
        char cmd[128];
        clock_set_offset(0);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

/* Writes the configuration: certificates named in names, each with the
 * extra YAML (already indented) and a reload command that appends its name
 * to reload_log, or that fails when reload_fails. */
static void write_conf(const char *const *names, const char *extra, bool reload_fails) {
        FILE *f = fopen(conf_path, "we");

        assert_non_null(f);
        fprintf(f, "state_dir: %s\noutput_root: %s/out\ndaemon: {reload_debounce: 0s%s}\ncertificates:\n", state_dir, root,
                daemon_extra);
        for (const char *const *n = names; *n; n++) {
                fprintf(f, "  - name: %s\n"
                           "    issuer: {type: pca, ca_arn: \"arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/"
                           "11111111-1111-4111-8111-111111111111\", validity: 30d}\n"
                           "    dns_names: [%s.example.com]\n"
                           "    jitter: 0s\n"
                           "    reload: [{command: [/bin/sh, -c, \"echo %s >> %s%s\"]}]\n%s",
                        *n, *n, *n, reload_log, reload_fails ? "; exit 1" : "", extra ? extra : "");
        }
        assert_int_equal(fclose(f), 0);
}

static conf *load_conf(void) {
        conf_errors errs = {};
        conf *c = NULL;
        int r = conf_load(conf_path, &c, &errs);

        if (r < 0)
                conf_errors_print(&errs, stderr);
        conf_errors_done(&errs);
        assert_int_equal(r, 0);
        return c;
}

static engine *once(const engine_options *extra) {
        engine_options o = extra ? *extra : (engine_options) {};
        engine *e = NULL;
        char err[256] = "";

        o.mode = ENGINE_ONCE;
        o.issuer_lookup = lookup;
        assert_int_equal(engine_new(NULL, load_conf(), &o, &e, err, sizeof(err)), 0);
        assert_int_equal(engine_run_once(e), 0);
        return e;
}

static cert_state *state_of(const char *name) {
        cert_state *st = NULL;
        _cleanup_(freep) char *err = NULL;

        assert_int_equal(store_load(state_dir, name, &st, &err), 0);
        return st;
}

static int reloads(void) {
        _cleanup_(freep) char *s = NULL;
        int n = 0;

        if (read_full_file(reload_log, 1 << 16, &s, NULL) < 0)
                return 0;
        for (char *p = s; *p; p++)
                n += *p == '\n';
        return n;
}

static char *served_serial(const char *name) {
        char p[256];
        _cleanup_(freep) char *pem = NULL;
        crypto_cert_info *info = NULL;
        char *serial;

        snprintf(p, sizeof(p), "%s/out/%s/cert.pem", root, name);
        if (read_full_file(p, 1 << 16, &pem, NULL) < 0)
                return NULL;
        assert_int_equal(crypto_cert_info_get(pem, strlen(pem), &info), 0);
        serial = strdup(info->serial_hex);
        crypto_cert_info_free(info);
        return serial;
}

/* The deployed key is the keystore's served key and matches cert.pem. */
static void assert_key_consistent(const char *name) {
        char p[256];
        _cleanup_(freep) char *pem = NULL, *kp = NULL;
        EVP_PKEY *served = NULL, *deployed = NULL;
        X509 *x;
        BIO *b;

        snprintf(p, sizeof(p), "%s/out/%s/cert.pem", root, name);
        assert_int_equal(read_full_file(p, 1 << 16, &pem, NULL), 0);
        b = BIO_new_mem_buf(pem, -1);
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(x);
        snprintf(p, sizeof(p), "%s/out/%s/key.pem", root, name);
        assert_int_equal(crypto_key_load_file(p, &deployed), 0);
        assert_int_equal(store_key_load(state_dir, name, STORE_KEY_SERVED, &served), 0);
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), deployed), 1);
        assert_int_equal(EVP_PKEY_eq(served, deployed), 1);
        X509_free(x);
        EVP_PKEY_free(served);
        EVP_PKEY_free(deployed);
}

/* name's output directory keeps versions, and version is not one of them. */
static void assert_version_gone(const char *name, const char *version) {
        _cleanup_(strv_freep) char **versions = NULL;
        char d[256];
        conf_output out = { .dir = d };

        snprintf(d, sizeof(d), "%s/out/%s", root, name);
        assert_int_equal(deploy_list_versions(&out, &versions), 0);
        assert_non_null(versions[0]);
        for (char **v = versions; *v; v++)
                assert_string_not_equal(*v, version);
}

/* ---- tests ---- */

static void test_issue_deploy_reload(void **s _unused_) {
        const char *names[] = { "a", "b", NULL };
        engine *e;
        cert_state *st;
        char *serial;

        write_conf(names, NULL, false);
        e = once(NULL);
        assert_int_equal(engine_n_results(e), 2);
        /* scheduled work: no operator behind it; the machine sees the
         * engine's configuration */
        assert_int_equal(fake.forced_issues, 0);
        assert_ptr_equal(fake.conf_seen, engine_conf(e));
        for (size_t i = 0; i < 2; i++) {
                const engine_result *r = engine_result_get(e, i);
                assert_int_equal(r->action, ENGINE_ACTION_ISSUED);
                assert_true(r->changed);
                assert_null(r->error);
                assert_non_null(r->serial);
                assert_true(r->renew_at > clock_now() && r->renew_at < r->not_after);
        }
        assert_int_equal(engine_exit_code(e), 0);
        engine_free(e);
        /* one reload for the pass (both certificates share the target's batch) */
        assert_int_equal(reloads(), 2);  /* two distinct commands: one each */
        assert_string_equal(fake.seen_token_on_disk, "tok-1");

        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_non_null(st->served.version);
        /* the served certificate and its chain are kept by the store */
        {
                _cleanup_(freep) char *cert = NULL, *chain = NULL, *deployed = NULL, *p = NULL;
                assert_int_equal(store_pem_load(state_dir, "a", st->served.serial, &cert, &chain), 0);
                assert_non_null(chain);
                p = strprintf("%s/out/a/cert.pem", root);
                assert_int_equal(read_full_file(p, 1 << 16, &deployed, NULL), 0);
                assert_string_equal(cert, deployed);
        }
        assert_null(st->pending.serial);
        assert_null(st->previous.serial);
        assert_non_null(st->issued_for);
        assert_non_null(st->deployed_for);
        assert_null(json_object_get(st->issuer, "token"));  /* the request is done */
        serial = served_serial("a");
        assert_string_equal(serial, st->served.serial);
        free(serial);
        assert_key_consistent("a");
        cert_state_free(st);

        /* again: nothing to do, no issuer call, no write */
        int before = fake.issues;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_NONE);
        assert_int_equal(fake.issues, before);
        assert_int_equal(engine_exit_code(e), 0);
        engine_free(e);
        assert_int_equal(reloads(), 2);

        /* renew --force: a new certificate, the old version kept for rollback */
        st = state_of("a");
        char *old = strdup(st->served.serial);
        cert_state_free(st);
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a", .force = true });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        assert_int_equal(fake.forced_issues, 1);  /* the operator's renew */
        engine_free(e);
        st = state_of("a");
        assert_string_not_equal(st->served.serial, old);
        assert_int_equal(st->phase, PHASE_VALID);
        assert_key_consistent("a");
        cert_state_free(st);
        free(old);
}

/* The pending_validation hook gets the ARN being validated and the
 * records, and a --once pass that waits right after starting it does not
 * end (and kill it) before it finished. */
static void test_pending_validation_hook(void **s _unused_) {
        const char *names[] = { "a", NULL };
        char out[256], extra[512];
        _cleanup_(freep) char *env = NULL;
        engine *e;

        snprintf(out, sizeof(out), "%s/hook.env", root);
        snprintf(extra, sizeof(extra), "    hooks: {pending_validation: [/bin/sh, -c, \"sleep 0.3; env > %s\"]}\n", out);
        write_conf(names, extra, false);
        fake.next = DO_HOOK_WAIT;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_WAITING);
        engine_free(e);
        assert_int_equal(read_full_file(out, 1 << 16, &env, NULL), 0);
        assert_non_null(strstr(env, "ACM_AGENT_EVENT=pending_validation"));
        assert_non_null(strstr(env, "ACM_AGENT_ARN=arn:fake:pending"));
        assert_non_null(strstr(env, "ACM_AGENT_VALIDATION=_x.example.com. CNAME _y.example.net."));
}

/* A failure backs off: the next --once makes no issuer call before the next
 * attempt; renew NAME and a later time do. */
static void test_fail_backoff(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;

        write_conf(names, NULL, false);
        fake.next = DO_FAIL;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "scripted"));
        assert_int_equal(engine_exit_code(e), 1);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_BACKOFF);
        assert_int_equal(st->failures, 1);
        assert_string_equal(st->last_error_kind, "test");
        assert_true(st->wake_at >= clock_now() + 300 - 1);
        time_t retry = st->wake_at;
        cert_state_free(st);
        assert_int_equal(fake.issues, 1);

        /* before the next attempt: reported, no call */
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_int_equal(engine_result_get(e, 0)->next_attempt, retry);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "next attempt at"));
        engine_free(e);
        assert_int_equal(fake.issues, 1);

        /* renew NAME bypasses the backoff; a second failure waits longer */
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a" });
        engine_free(e);
        assert_int_equal(fake.issues, 2);
        st = state_of("a");
        assert_int_equal(st->failures, 2);
        cert_state_free(st);

        /* after the retry time: tried, and now it works */
        clock_set_offset(DAY);
        fake.next = DO_ISSUE;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_ISSUED);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_int_equal(st->failures, 0);
        assert_null(st->last_error);
        cert_state_free(st);
}

/* Waiting on something outside: --once reports it (exit 3) when the wait is
 * long, sits it out when it is short. */
static void test_wait(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;

        write_conf(names, NULL, false);
        fake.next = fake.after_wait = DO_WAIT;
        fake.wait_for = 2 * 3600;
        time_t t0 = clock_now();
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_WAITING);
        assert_string_equal(engine_result_get(e, 0)->wait_reason, "the fake CA is thinking");
        /* with when it is looked at again (the issuer's T) */
        assert_true(engine_result_get(e, 0)->waiting_until >= t0 + 2 * 3600);
        assert_true(engine_result_get(e, 0)->waiting_until <= clock_now() + 2 * 3600);
        assert_int_equal(engine_exit_code(e), 3);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_WAITING);
        assert_string_equal(st->wait_reason, "the fake CA is thinking");
        cert_state_free(st);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_WAITING);
        engine_free(e);
        assert_int_equal(fake.issues, 1);

        /* a short wait (0 s) is sat out in the same pass: issued at once */
        clock_set_offset(3 * 3600);
        fake.wait_for = 0;
        fake.after_wait = DO_ISSUE;
        e = once(NULL);
        assert_int_equal(fake.issues, 3);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_ISSUED);
        engine_free(e);

        /* waits that never end are sat out only up to once_wait_max: the
         * pass ends, reporting the wait */
        clock_set_offset(60 * DAY);
        fake.next = fake.after_wait = DO_WAIT;
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a", .force = true, .once_wait_max = 5 });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_WAITING);
        assert_int_equal(fake.issues, 3 + 6);
        engine_free(e);
}

/* A certificate that does not carry what was asked is not deployed. */
static void test_verify_refuses(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        char p[256];

        write_conf(names, NULL, false);
        fake.next = DO_BAD_CERT;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "failed verification"));
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_BACKOFF);
        assert_string_equal(st->last_error_kind, "verify");
        assert_null(json_object_get(st->issuer, "token"));  /* the request is not resumed */
        assert_null(st->pending.serial);
        cert_state_free(st);
        snprintf(p, sizeof(p), "%s/out/a/cert.pem", root);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(reloads(), 0);
}

/* A failing reload rolls back to the previous version, and the state says
 * so at once; with nothing to roll back to, the reload stays pending. */
static void test_reload_rollback(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        char *before, *now;

        /* first deploy, reload fails: nothing to roll back to */
        write_conf(names, NULL, true);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "reload failed"));
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_RELOAD);
        assert_true(st->wake_at > clock_now());
        cert_state_free(st);
        int tried = reloads();
        assert_true(tried >= 1);
        /* the retry time comes: the reload runs again (no new certificate) */
        write_conf(names, NULL, false);
        clock_set_offset(DAY);
        int issues = fake.issues;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_ISSUED);
        engine_free(e);
        assert_int_equal(fake.issues, issues);
        assert_int_equal(reloads(), tried + 1);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        cert_state_free(st);

        /* a renewal whose reload fails: rolled back to the old version */
        before = served_serial("a");
        write_conf(names, NULL, true);
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a", .force = true });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "rolled back"));
        engine_free(e);
        now = served_serial("a");
        assert_string_equal(now, before);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_BACKOFF);
        assert_string_equal(st->served.serial, before);
        assert_null(st->previous.serial);
        assert_true(st->force_renewal);  /* a forced renewal that failed stays wanted */
        cert_state_free(st);
        assert_key_consistent("a");
        free(before);
        free(now);
}

/* revoke: the served certificate is revoked and replaced in the same
 * command, with a new key; the revoked version is gone and is no rollback
 * target. --no-replace leaves it revoked until renew. */
static void test_revoke(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        EVP_PKEY *k1 = NULL, *k2 = NULL;

        write_conf(names, NULL, false);
        engine_free(once(NULL));
        st = state_of("a");
        char *revoked = strdup(st->served.serial), *revoked_version = strdup(st->served.version);
        cert_state_free(st);
        assert_int_equal(store_key_load(state_dir, "a", STORE_KEY_SERVED, &k1), 0);

        e = once(&(engine_options) { .command = ENGINE_CMD_REVOKE, .only = "a", .revoke_reason = "KEY_COMPROMISE" });
        assert_int_equal(fake.revokes, 1);
        assert_int_equal(fake.replaces, 1);
        assert_int_equal(fake.forced_issues, 1);  /* the replacement the operator's revoke asked for */
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        assert_int_equal(engine_exit_code(e), 0);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_string_not_equal(st->served.serial, revoked);
        assert_string_equal(st->revoked_serial, revoked);
        assert_string_equal(st->revoke_reason, "KEY_COMPROMISE");
        assert_false(st->force_renewal);
        assert_int_equal(store_key_load(state_dir, "a", STORE_KEY_SERVED, &k2), 0);
        assert_int_equal(EVP_PKEY_eq(k1, k2), 0);  /* a new key */
        assert_key_consistent("a");
        assert_version_gone("a", revoked_version);
        cert_state_free(st);
        EVP_PKEY_free(k1);
        EVP_PKEY_free(k2);

        /* --no-replace: revoked and left so (exit 1) until renew */
        e = once(&(engine_options) { .command = ENGINE_CMD_REVOKE, .only = "a", .revoke_reason = "KEY_COMPROMISE",
                                     .revoke_no_replace = true });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_REVOKED);
        assert_int_equal(engine_exit_code(e), 1);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_REVOKED);
        assert_string_equal(st->revoked_serial, st->served.serial);
        cert_state_free(st);
        int issues = fake.issues;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_REVOKED);
        assert_int_equal(fake.issues, issues);
        engine_free(e);
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a" });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        cert_state_free(st);
        free(revoked);
        free(revoked_version);
}

/* ---- the daemon: timers, watch, stop mid-job, configuration swap ---- */

static sd_event *loop;

static engine *daemon_start(void) {
        engine_options o = { .mode = ENGINE_DAEMON, .issuer_lookup = lookup };
        engine *e = NULL;
        char err[256] = "";

        assert_int_equal(sd_event_new(&loop), 0);
        assert_int_equal(engine_new(loop, load_conf(), &o, &e, err, sizeof(err)), 0);
        assert_int_equal(engine_start(e), 0);
        return e;
}

static void daemon_end(engine *e) {
        engine_free(e);
        loop = sd_event_unref(loop);
}

/* Runs the loop until cond() holds (bounded by iterations, not time). */
static bool run_until(bool (*cond)(void *), void *arg) {
        for (int i = 0; i < 2000; i++) {
                if (cond(arg))
                        return true;
                assert_true(sd_event_run(loop, 100 * 1000) >= 0);
        }
        return cond(arg);
}

static bool phase_is(void *arg) {
        const char **want = arg;
        _cleanup_(cert_state_freep) cert_state *st = NULL;
        _cleanup_(freep) char *err = NULL;
        return store_load(state_dir, want[0], &st, &err) >= 0 && streq(cert_phase_to_string(st->phase), want[1]);
}

static bool counter_reaches(void *arg) {
        int *const *p = arg;
        return *p[0] >= *p[1];
}

static bool idle(void *arg) {
        engine *e = arg;
        engine_counts c;
        engine_get_counts(e, &c);
        return c.busy == 0;
}

static void test_daemon_watch_and_renew(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;

        fake_ops.watch = fake_watch;
        fake.has_watch = true;
        fake.watch_every = 3600;
        write_conf(names, NULL, false);
        e = daemon_start();
        assert_true(run_until(phase_is, (const char *[]) { "a", "valid" }));
        assert_true(run_until(idle, e));
        st = state_of("a");
        time_t watch_at = st->wake_at;
        char *first = strdup(st->served.serial);
        cert_state_free(st);
        assert_true(watch_at > clock_now());
        assert_int_equal(fake.watches, 0);
        /* the next wake is the watch, not the renewal a month away */
        const char *next = NULL;
        assert_int_equal(engine_next_wake(e, &next), watch_at);
        assert_string_equal(next, "a");

        /* the clock reaches the watch: checked, fine, next check an hour on */
        clock_set_offset(3601);
        engine_poke(e, "none");  /* unknown: no effect */
        assert_int_equal(engine_poke(e, "nope"), -ENOENT);
        int want = 1;
        int *args[] = { &fake.watches, &want };
        /* steered clock: re-arm the timer at the new "now" */
        assert_int_equal(engine_poke(e, "a"), 0);
        assert_true(run_until(counter_reaches, args));
        assert_true(run_until(idle, e));
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_true(st->wake_at > watch_at);
        cert_state_free(st);

        /* the issuer says a new certificate is ready: fetched and deployed */
        fake.watch = WATCH_RENEWED;
        int issues = fake.issues;
        assert_int_equal(engine_poke(e, "a"), 0);
        want = issues + 1;
        int *args2[] = { &fake.issues, &want };
        assert_true(run_until(counter_reaches, args2));
        assert_true(run_until(idle, e));
        st = state_of("a");
        assert_string_not_equal(st->served.serial, first);
        assert_int_equal(st->phase, PHASE_VALID);
        cert_state_free(st);
        free(first);
        daemon_end(e);
}

/* An issuer whose watch is local (import) is watched on every --once pass,
 * before the wake time it gave; others only when their check is due. */
static void test_once_watch_each_pass(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;

        fake_ops.watch = fake_watch;
        fake.has_watch = true;
        fake.watch_every = DAY;
        write_conf(names, NULL, false);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_ISSUED);
        engine_free(e);
        assert_int_equal(fake.watches, 0);

        /* the check is a day away: a pass does not watch */
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_NONE);
        engine_free(e);
        assert_int_equal(fake.watches, 0);

        /* watch_each_pass: every pass watches, and nothing else happens */
        fake_ops.watch_each_pass = true;
        int issues = fake.issues;
        for (int i = 1; i <= 2; i++) {
                e = once(NULL);
                assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_NONE);
                assert_int_equal(engine_exit_code(e), 0);
                engine_free(e);
                assert_int_equal(fake.watches, i);
        }
        assert_int_equal(fake.issues, issues);

        /* a watch that finds a new certificate renews within the pass */
        fake.watch = WATCH_RENEWED;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        assert_int_equal(fake.issues, issues + 1);
}

static void stopped(void *userdata) {
        *(bool *) userdata = true;
}

static bool flag_set(void *arg) {
        return *(bool *) arg;
}

/* Stopped while a request is in flight: the issuer is cancelled, the saved
 * token stays, and a restart resumes with it (no second request). */
static void test_daemon_stop_mid_job(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        bool done = false;

        write_conf(names, NULL, false);
        fake.next = DO_HANG;
        e = daemon_start();
        assert_true(run_until(phase_is, (const char *[]) { "a", "request" }));
        engine_stop(e, stopped, &done);
        assert_true(run_until(flag_set, &done));
        assert_int_equal(fake.cancels, 1);
        daemon_end(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_REQUEST);
        assert_string_equal(json_string_value(json_object_get(st->issuer, "token")), "tok-1");
        cert_state_free(st);

        /* restart: resumed from the saved token */
        fake.next = DO_ISSUE;
        e = daemon_start();
        assert_true(run_until(phase_is, (const char *[]) { "a", "valid" }));
        assert_int_equal(fake.resumes, 1);
        assert_int_equal(fake.issues, 2);
        assert_true(run_until(idle, e));
        daemon_end(e);
}

/* stderr (the log) into a file, between begin and end; end returns what
 * was written. */
static int saved_stderr = -1;
static char capture_path[] = "/tmp/test-engine-stderr.XXXXXX";

static void stderr_capture_begin(void) {
        int fd = mkstemp(capture_path);

        assert_true(fd >= 0);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        assert_true(saved_stderr >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        close(fd);
}

static char *stderr_capture_end(void) {
        char *text = NULL;

        fflush(stderr);
        assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
        close(saved_stderr);
        saved_stderr = -1;
        assert_int_equal(read_full_file(capture_path, 1 << 20, &text, NULL), 0);
        unlink(capture_path);
        strcpy(capture_path + strlen(capture_path) - 6, "XXXXXX");
        fputs(text, stderr);  /* still in the test's log */
        return text;
}

static bool held_reaches(void *arg) {
        return fake.held >= *(int *) arg;
}

static engine *queued_engine;

static bool queued_reaches(void *arg) {
        engine_counts c;

        engine_get_counts(queued_engine, &c);
        return c.queued >= (size_t) *(int *) arg;
}

/* names[0..n) = c00, c01, …, names[n] = NULL; buf holds them. */
static void slot_names(size_t n, char (*buf)[8], const char **names) {
        for (size_t i = 0; i < n; i++) {
                snprintf(buf[i], sizeof(buf[i]), "c%02zu", i);
                names[i] = buf[i];
        }
        names[n] = NULL;
}

/* More certificates due than ENGINE_ISSUE_SLOTS: only that many start (a
 * key, a request); the others wait, locked, without a byte on disk, and
 * start as slots come free. A stop ends the waiting ones as never started;
 * the restart resumes the started ones and issues the rest. */
static void test_issue_slots(void **s _unused_) {
        enum { N = ENGINE_ISSUE_SLOTS + 8 };
        char names_buf[N][8];
        const char *names[N + 1];
        int slots = ENGINE_ISSUE_SLOTS, started = 0;
        bool done = false;
        engine *e;

        slot_names(N, names_buf, names);
        write_conf(names, NULL, false);
        fake.next = DO_HOLD;
        e = daemon_start();
        assert_true(run_until(held_reaches, &slots));
        /* the others are queued, every slot is held: none can start */
        queued_engine = e;
        assert_true(run_until(queued_reaches, &(int) { N - ENGINE_ISSUE_SLOTS }));
        assert_int_equal(fake.held, ENGINE_ISSUE_SLOTS);
        assert_int_equal(fake.issues, ENGINE_ISSUE_SLOTS);
        for (int i = 0; i < N; i++) {
                _cleanup_(cert_state_freep) cert_state *st = NULL;
                _cleanup_(freep) char *err = NULL;
                int r = store_load(state_dir, names[i], &st, &err);
                if (r >= 0) {
                        assert_int_equal(st->phase, PHASE_REQUEST);
                        started++;
                } else
                        assert_int_equal(r, -ENOENT);
        }
        assert_int_equal(started, ENGINE_ISSUE_SLOTS);
        engine_counts c;
        engine_get_counts(e, &c);
        assert_int_equal(c.busy, N);

        engine_stop(e, stopped, &done);
        assert_true(run_until(flag_set, &done));
        assert_int_equal(fake.cancels, ENGINE_ISSUE_SLOTS);
        daemon_end(e);

        fake.next = DO_ISSUE;
        fake.max_in_request = 0;
        e = daemon_start();
        assert_true(run_until(idle, e));
        for (int i = 0; i < N; i++) {
                _cleanup_(cert_state_freep) cert_state *st = state_of(names[i]);
                assert_int_equal(st->phase, PHASE_VALID);
        }
        assert_int_equal(fake.resumes, ENGINE_ISSUE_SLOTS);
        assert_int_equal(fake.issues, ENGINE_ISSUE_SLOTS + N);
        assert_true(fake.max_in_request <= ENGINE_ISSUE_SLOTS);
        daemon_end(e);

        /* --once: the same bound, every certificate issued in the pass */
        clock_set_offset(25 * DAY);
        fake.max_in_request = 0;
        e = once(NULL);
        for (size_t i = 0; i < N; i++)
                assert_int_equal(engine_result_get(e, i)->action, ENGINE_ACTION_RENEWED);
        assert_int_equal(fake.issues, ENGINE_ISSUE_SLOTS + 2 * N);
        assert_true(fake.max_in_request > 0 && fake.max_in_request <= ENGINE_ISSUE_SLOTS);
        engine_free(e);
}

/* A certificate removed from the configuration while it waits for a slot
 * is never started; the others are issued as the held requests answer. */
static void test_issue_slots_reconfigure(void **s _unused_) {
        enum { N = ENGINE_ISSUE_SLOTS + 2 };
        char names_buf[N][8];
        const char *names[N + 1];
        int slots = ENGINE_ISSUE_SLOTS;
        engine *e;

        slot_names(N, names_buf, names);
        write_conf(names, NULL, false);
        fake.next = DO_HOLD;
        e = daemon_start();
        assert_true(run_until(held_reaches, &slots));
        /* the last one waits for a slot, and goes */
        names[N - 1] = NULL;
        write_conf(names, NULL, false);
        assert_int_equal(engine_reconfigure(e, load_conf(), NULL), 0);
        fake.next = DO_ISSUE;
        fake_release_held();
        assert_true(run_until(idle, e));
        assert_int_equal(engine_n_results(e), N - 1);
        for (int i = 0; i < N - 1; i++) {
                _cleanup_(cert_state_freep) cert_state *st = state_of(names[i]);
                assert_int_equal(st->phase, PHASE_VALID);
        }
        {
                _cleanup_(cert_state_freep) cert_state *st = NULL;
                _cleanup_(freep) char *err = NULL;
                assert_int_equal(store_load(state_dir, names_buf[N - 1], &st, &err), -ENOENT);
        }
        assert_int_equal(fake.issues, N - 1);
        daemon_end(e);
}

/* A configuration swapped while machines are in flight: the busy one
 * finishes with its old settings, then reconciles with the new ones (names
 * changed: a new certificate); a new certificate starts; a removed one stops
 * being managed and keeps its files. */
static void test_daemon_reconfigure(void **s _unused_) {
        const char *ab[] = { "a", "b", NULL }, *ac[] = { "a", "c", NULL };
        engine *e;
        cert_state *st;
        char p[256];

        write_conf(ab, NULL, false);
        e = daemon_start();
        assert_true(run_until(phase_is, (const char *[]) { "b", "valid" }));
        assert_true(run_until(phase_is, (const char *[]) { "a", "valid" }));
        assert_true(run_until(idle, e));
        st = state_of("a");
        char *a_serial = strdup(st->served.serial);
        cert_state_free(st);

        /* a is due (the clock says so) and mid-request when the
         * configuration changes: its subject changes, b goes, c comes */
        fake.next = DO_HANG;
        clock_set_offset(25 * DAY);
        assert_int_equal(engine_poke(e, "a"), 0);
        assert_true(run_until(phase_is, (const char *[]) { "a", "request" }));
        assert_non_null(fake.hung);
        int issues = fake.issues;
        write_conf(ac, "    subject: {organization: Changed}\n", false);
        fake.next = DO_ISSUE;
        assert_int_equal(engine_reconfigure(e, load_conf(), NULL), 0);
        assert_true(run_until(phase_is, (const char *[]) { "c", "valid" }));
        /* a still waits for its request, with its old settings */
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_REQUEST);
        cert_state_free(st);
        assert_int_equal(fake.issues, issues + 1);  /* c only */
        fake_release();
        assert_true(run_until(idle, e));
        /* a finished the old request, then was reissued for its new subject */
        assert_int_equal(fake.issues, issues + 2);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_string_not_equal(st->served.serial, a_serial);
        cert_state_free(st);
        assert_int_equal(engine_n_results(e), 2);
        assert_string_equal(engine_result_get(e, 0)->name, "a");
        assert_string_equal(engine_result_get(e, 1)->name, "c");
        /* b is not managed any more, its files stay */
        snprintf(p, sizeof(p), "%s/out/b/cert.pem", root);
        assert_int_equal(access(p, F_OK), 0);
        snprintf(p, sizeof(p), "%s/certs/b/state.json", state_dir);
        assert_int_equal(access(p, F_OK), 0);

        /* with daemon.on_remove: delete, c's files and state go with it; an
         * operator's own file in its directory stays */
        daemon_extra = ", on_remove: delete";
        snprintf(p, sizeof(p), "%s/out/c/notes.txt", root);
        assert_int_equal(write_file_atomic(p, "mine\n", 5, 0644, (uid_t) -1, (gid_t) -1), 0);
        write_conf((const char *[]) { "a", NULL }, "    subject: {organization: Changed}\n", false);
        stderr_capture_begin();
        assert_int_equal(engine_reconfigure(e, load_conf(), NULL), 0);
        assert_true(run_until(idle, e));
        _cleanup_(freep) char *log = stderr_capture_end();
        /* what stays in AWS is named */
        assert_non_null(strstr(log, "c: no longer in the configuration: its files in "));
        assert_non_null(strstr(log, "; in AWS, arn:fake is neither deleted nor revoked"));
        assert_int_equal(engine_n_results(e), 1);
        snprintf(p, sizeof(p), "%s/out/c/cert.pem", root);
        assert_int_equal(access(p, F_OK), -1);
        snprintf(p, sizeof(p), "%s/out/c/.versions", root);
        assert_int_equal(access(p, F_OK), -1);
        snprintf(p, sizeof(p), "%s/out/c/notes.txt", root);
        assert_int_equal(access(p, F_OK), 0);
        snprintf(p, sizeof(p), "%s/certs/c", state_dir);
        assert_int_equal(access(p, F_OK), -1);
        free(a_serial);
        daemon_end(e);
}

/* The engine's cache across a configuration reload: entries (PCA's CA,
 * ACM's finder, poller, Route 53 publisher) are found by later machines
 * until the configuration is reloaded, which may name another account or
 * region: then they are freed and made afresh. */
static void test_cache_reload(void **s _unused_) {
        engine *e;

        fake.cache_probe = true;
        write_conf((const char *[]) { "a", NULL }, NULL, false);
        e = daemon_start();
        assert_true(run_until(phase_is, (const char *[]) { "a", "valid" }));
        assert_true(run_until(idle, e));
        assert_int_equal(fake.issues, 1);
        assert_int_equal(fake.cache_hits, 0);

        clock_set_offset(25 * DAY);
        assert_int_equal(engine_poke(e, "a"), 0);
        assert_true(run_until(idle, e));
        assert_int_equal(fake.issues, 2);
        assert_int_equal(fake.cache_hits, 1);
        assert_int_equal(fake.cache_frees, 0);

        /* reloaded (a's settings changed: issued again): made afresh */
        write_conf((const char *[]) { "a", NULL }, "    subject: {organization: Changed}\n", false);
        assert_int_equal(engine_reconfigure(e, load_conf(), NULL), 0);
        assert_int_equal(fake.cache_frees, 1);
        assert_true(run_until(idle, e));
        assert_int_equal(fake.issues, 3);
        assert_int_equal(fake.cache_hits, 1);

        clock_set_offset(50 * DAY);
        assert_int_equal(engine_poke(e, "a"), 0);
        assert_true(run_until(idle, e));
        assert_int_equal(fake.issues, 4);
        assert_int_equal(fake.cache_hits, 2);
        daemon_end(e);
        assert_int_equal(fake.cache_frees, 2);
}

/* Output settings changed: the served certificate is deployed again (no new
 * certificate); a deleted output directory is restored the same way. */
static void test_redeploy(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        char p[256], cmd[300];

        write_conf(names, NULL, false);
        engine_free(once(NULL));
        st = state_of("a");
        char *serial = strdup(st->served.serial), *version = strdup(st->served.version);
        cert_state_free(st);
        int issues = fake.issues;
        write_conf(names, "    output: {files: [cert, chain, fullchain, key, haproxy_bundle]}\n", false);
        e = once(NULL);
        engine_free(e);
        assert_int_equal(fake.issues, issues);
        st = state_of("a");
        assert_string_equal(st->served.serial, serial);
        assert_string_not_equal(st->served.version, version);
        cert_state_free(st);
        snprintf(p, sizeof(p), "%s/out/a/haproxy.pem", root);
        assert_int_equal(access(p, F_OK), 0);
        assert_key_consistent("a");

        snprintf(cmd, sizeof(cmd), "rm -rf '%s/out/a'", root);
        assert_int_equal(system(cmd), 0);
        engine_free(once(NULL));
        assert_int_equal(fake.issues, issues);
        char *now = served_serial("a");
        assert_string_equal(now, serial);
        assert_key_consistent("a");
        free(now);
        free(serial);
        free(version);
}

/* The state 0.1 wrote resumes: its layout is migrated, a valid certificate
 * stays valid without a call. */
static void test_migration(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        char p[256], q[256];

        write_conf(names, NULL, false);
        engine_free(once(NULL));
        /* turn the new layout back into 0.1's */
        st = state_of("a");
        _cleanup_(freep) char *v1 = strprintf(
                "{\"schema\": 1, \"phase\": \"valid\", \"serial\": \"%s\", \"current_version\": \"%s\", "
                "\"not_before\": \"2026-01-01T00:00:00Z\", \"not_after\": \"2099-01-01T00:00:00Z\", "
                "\"failures\": 0, \"force_renewal\": false}", st->served.serial, st->served.version);
        cert_state_free(st);
        snprintf(p, sizeof(p), "%s/keys", state_dir);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/certs/a/key.pem", state_dir);
        snprintf(q, sizeof(q), "%s/keys/a.pem", state_dir);
        assert_int_equal(rename(p, q), 0);
        snprintf(p, sizeof(p), "%s/certs/a/state.json", state_dir);
        assert_int_equal(unlink(p), 0);
        snprintf(p, sizeof(p), "%s/certs/a/lock", state_dir);
        (void) unlink(p);
        assert_int_equal(store_pem_gc(state_dir, "a", NULL, 0), 1);  /* 0.1 kept no certificate files */
        snprintf(p, sizeof(p), "%s/certs/a", state_dir);
        assert_int_equal(rmdir(p), 0);
        snprintf(p, sizeof(p), "%s/certs/a.json", state_dir);
        assert_int_equal(write_file_atomic(p, v1, strlen(v1), 0600, (uid_t) -1, (gid_t) -1), 0);

        int issues = fake.issues;
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_NONE);
        engine_free(e);
        assert_int_equal(fake.issues, issues);
        /* not due: nothing locked, so nothing migrated yet; a forced renewal
         * takes the lock and migrates */
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a", .force = true });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        snprintf(p, sizeof(p), "%s/certs/a.json", state_dir);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(access(q, F_OK), -1);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        cert_state_free(st);
        assert_key_consistent("a");
}

static void test_dry_run_locked_corrupt(void **s _unused_) {
        const char *names[] = { "a", "b", NULL };
        engine *e;
        char p[256], c;
        int pfd[2], fd;
        pid_t pid;
        struct stat sb;

        write_conf(names, NULL, false);
        e = once(&(engine_options) { .dry_run = true });
        assert_non_null(strstr(engine_result_get(e, 0)->plan, "issue: no certificate deployed"));
        engine_free(e);
        assert_int_equal(stat(state_dir, &sb), -1);  /* nothing written */
        assert_int_equal(fake.issues, 0);

        engine_free(once(NULL));
        /* another process holds a's lock; b's state is corrupt */
        snprintf(p, sizeof(p), "%s/certs/b/state.json", state_dir);
        assert_int_equal(write_file_atomic(p, "{broken", 7, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(pipe(pfd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pfd[0]);
                if (store_lock(state_dir, "a", false, &fd) < 0)
                        _exit(1);
                (void) !write(pfd[1], "x", 1);
                pause();
                _exit(0);
        }
        close(pfd[1]);
        assert_int_equal(read(pfd[0], &c, 1), 1);
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a", .force = true });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_LOCKED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "locked by another acm-agent"));
        assert_int_equal(engine_exit_code(e), 3);
        engine_free(e);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 1)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 1)->error, "state.json"));
        assert_int_equal(engine_exit_code(e), 1);
        engine_free(e);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(pfd[0]);
        /* an unknown name */
        engine *x = NULL;
        engine_options o = { .mode = ENGINE_ONCE, .only = "nope", .issuer_lookup = lookup };
        assert_int_equal(engine_new(NULL, load_conf(), &o, &x, NULL, 0), -ESRCH);
}

/* A pass with no certificates (a freshly installed host's configuration)
 * ends at once with exit 0: nothing to wait for, no loop to run. The alarm
 * turns a hang into a failure. */
static void test_once_no_certificates(void **s _unused_) {
        FILE *f = fopen(conf_path, "we");
        engine *e;

        assert_non_null(f);
        fprintf(f, "state_dir: %s\ncertificates: []\n", state_dir);
        assert_int_equal(fclose(f), 0);
        alarm(30);
        e = once(NULL);
        alarm(0);
        assert_int_equal(engine_n_results(e), 0);
        assert_int_equal(engine_exit_code(e), 0);
        engine_free(e);
        assert_int_equal(fake.issues, 0);
}

/* A pass over more certificates than PRELOAD_MIN reads the states ahead on
 * workers: the same results as the loop alone (nothing to do, no issuer
 * call), a removed output directory is deployed again whoever read its
 * state, a corrupt state fails that certificate alone with the loader's
 * message, and a dry run plans from preloaded states. */
static void test_preloaded_pass(void **s _unused_) {
        enum { N = 100 };
        static char bufs[N][8];
        const char *names[N + 1];
        engine *e;
        char p[256];

        for (int i = 0; i < N; i++) {
                snprintf(bufs[i], sizeof(bufs[i]), "c%03d", i);
                names[i] = bufs[i];
        }
        names[N] = NULL;
        write_conf(names, NULL, false);
        e = once(&(engine_options) { .load_threads = 1 });
        assert_int_equal(fake.issues, N);
        for (int i = 0; i < N; i++)
                assert_int_equal(engine_result_get(e, (size_t) i)->action, ENGINE_ACTION_ISSUED);
        engine_free(e);

        for (unsigned threads = 2; threads <= 4; threads += 2) {
                e = once(&(engine_options) { .load_threads = threads });
                assert_int_equal(fake.issues, N);
                assert_int_equal(engine_n_results(e), N);
                for (int i = 0; i < N; i++) {
                        const engine_result *r = engine_result_get(e, (size_t) i);
                        assert_string_equal(r->name, names[i]);
                        assert_int_equal(r->action, ENGINE_ACTION_NONE);
                        assert_non_null(r->serial);
                        assert_null(r->error);
                }
                assert_int_equal(engine_exit_code(e), 0);
                engine_free(e);
        }

        /* whoever reads a state, the deployed version is checked: every
         * seventh output directory removed is restored from the served
         * certificate, without AWS */
        for (unsigned threads = 2; threads <= 4; threads += 2) {
                for (int i = 0; i < N; i += 7) {
                        char cmd[400];
                        snprintf(cmd, sizeof(cmd), "rm -rf '%s/out/%s'", root, names[i]);
                        assert_int_equal(system(cmd), 0);
                }
                e = once(&(engine_options) { .load_threads = threads });
                assert_int_equal(fake.issues, N);
                for (int i = 0; i < N; i++) {
                        const engine_result *r = engine_result_get(e, (size_t) i);
                        assert_null(r->error);
                        assert_int_equal(r->changed, i % 7 == 0);
                        snprintf(p, sizeof(p), "%s/out/%s/current", root, names[i]);
                        assert_int_equal(access(p, F_OK), 0);
                }
                engine_free(e);
        }

        /* c090 is read by a helper or by the loop */
        snprintf(p, sizeof(p), "%s/certs/c090/state.json", state_dir);
        assert_int_equal(write_file_atomic(p, "{broken", 7, 0600, (uid_t) -1, (gid_t) -1), 0);
        e = once(&(engine_options) { .load_threads = 4 });
        for (int i = 0; i < N; i++) {
                const engine_result *r = engine_result_get(e, (size_t) i);
                if (i == 90) {
                        assert_int_equal(r->action, ENGINE_ACTION_FAILED);
                        assert_non_null(strstr(r->error, "c090/state.json"));
                } else
                        assert_int_equal(r->action, ENGINE_ACTION_NONE);
        }
        assert_int_equal(engine_exit_code(e), 1);
        engine_free(e);
        assert_int_equal(fake.issues, N);

        e = once(&(engine_options) { .load_threads = 2, .dry_run = true });
        assert_non_null(strstr(engine_result_get(e, 10)->plan, "nothing to do"));
        assert_non_null(engine_result_get(e, 90)->error);
        engine_free(e);
}

/* The fingerprints are kept in every state file (issued_for, deployed_for):
 * the same settings must give the same digests from one release to the
 * next, or every certificate would be renewed or deployed again after an
 * upgrade. These are the digests the state files written so far carry. */
static void test_fingerprint_stable(void **s _unused_) {
        FILE *f = fopen(conf_path, "we");
        char fp[33];
        conf *c;

        assert_non_null(f);
        fprintf(f, "state_dir: %s\noutput_root: /srv/out\ncertificates:\n"
                   "  - name: p\n"
                   "    issuer: {type: pca, ca_arn: \"arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/"
                   "11111111-1111-4111-8111-111111111111\", validity: 30d}\n"
                   "    dns_names: [p.example.com, www.p.example.com]\n"
                   "    subject: {common_name: p.example.com, organization: Example}\n"
                   "    key: {type: rsa, bits: 3072}\n"
                   "    output: {owner: 0, group: 0, mode: \"0640\", key_mode: \"0600\"}\n"
                   "    reload: [{command: [/bin/true]}]\n"
                   "  - name: a\n"
                   "    issuer: {type: acm, key_algorithm: EC_prime256v1}\n"
                   "    dns_names: [a.example.com]\n"
                   "    dns: {provider: exec, command: [/bin/true]}\n",
                state_dir);
        assert_int_equal(fclose(f), 0);
        c = load_conf();
        assert_int_equal(engine_fingerprint(c->certs[0], false, fp), 0);
        assert_string_equal(fp, "52f3819a45bfe1190c476d84e70358c0");
        assert_int_equal(engine_fingerprint(c->certs[0], true, fp), 0);
        assert_string_equal(fp, "07f1e0471f828fe5b1876b18ec922857");
        assert_int_equal(engine_fingerprint(c->certs[1], false, fp), 0);
        assert_string_equal(fp, "d0a33e107b370e1ee4a3d72bdfa66ac7");
        assert_int_equal(engine_fingerprint(c->certs[1], true, fp), 0);
        assert_string_equal(fp, "935649fbddd13accb17206259f8e254f");
        conf_free(c);
}

/* States read ahead while the configuration loaded (store-readahead.h)
 * are the ones the pass decides on, for fewer certificates than
 * PRELOAD_MIN and more, by the loop alone or with helpers (the first of
 * them the read-ahead's own thread): a state broken on disk after it was
 * read ahead is not read again. A read-ahead still reading when the pass
 * starts hands over what it read and helps with the rest. A read-ahead of
 * another state directory is not used. */
static void test_readahead_pass(void **s _unused_) {
        static char bufs[100][8];
        const char *names[101];
        char p[256], cmd[512];

        for (int n = 3; n <= 100; n += 97) {
                for (int i = 0; i < n; i++) {
                        snprintf(bufs[i], sizeof(bufs[i]), "c%03d", i);
                        names[i] = bufs[i];
                }
                names[n] = NULL;
                snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s/out' '%s/copy'", state_dir, root, root);
                assert_int_equal(system(cmd), 0);
                write_conf(names, NULL, false);
                engine_free(once(NULL));
                int issued = fake.issues;
                assert_int_equal(issued, n);
                snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s/copy'", state_dir, root);
                assert_int_equal(system(cmd), 0);
                snprintf(p, sizeof(p), "%s/certs/c001/state.json", state_dir);

                for (unsigned threads = 1; threads <= 2; threads++) {
                        store_readahead *ra = store_readahead_start(state_dir);
                        cert_state *st = NULL;
                        char *err = NULL;
                        int r;
                        assert_non_null(ra);
                        store_readahead_wait(ra);
                        assert_int_equal(write_file_atomic(p, "{broken", 7, 0600, (uid_t) -1, (gid_t) -1), 0);
                        engine *e = once(&(engine_options) { .readahead = ra, .load_threads = threads });
                        for (int i = 0; i < n; i++) {
                                assert_int_equal(engine_result_get(e, (size_t) i)->action, ENGINE_ACTION_NONE);
                                assert_null(engine_result_get(e, (size_t) i)->error);
                        }
                        engine_free(e);
                        assert_false(store_readahead_take(ra, "c001", &r, &st, &err));  /* the engine took it */
                        store_readahead_free(ra);
                        snprintf(cmd, sizeof(cmd), "cp '%s/copy/certs/c001/state.json' '%s'", root, p);
                        assert_int_equal(system(cmd), 0);
                }

                /* still reading when the pass starts: every state once, nothing to do */
                for (int k = 0; k < 3; k++) {
                        store_readahead *ra = store_readahead_start(state_dir);
                        assert_non_null(ra);
                        engine *e = once(&(engine_options) { .readahead = ra, .load_threads = 2 });
                        for (int i = 0; i < n; i++) {
                                assert_int_equal(engine_result_get(e, (size_t) i)->action, ENGINE_ACTION_NONE);
                                assert_null(engine_result_get(e, (size_t) i)->error);
                        }
                        engine_free(e);
                        store_readahead_free(ra);
                }

                /* broken, no read-ahead; then a read-ahead of another directory */
                assert_int_equal(write_file_atomic(p, "{broken", 7, 0600, (uid_t) -1, (gid_t) -1), 0);
                for (int other = 0; other <= 1; other++) {
                        char copy[160];
                        snprintf(copy, sizeof(copy), "%s/copy", root);
                        store_readahead *ra = other ? store_readahead_start(copy) : NULL;
                        cert_state *st = NULL;
                        char *err = NULL;
                        int r;
                        if (ra)
                                store_readahead_wait(ra);
                        engine *e = once(&(engine_options) { .readahead = ra, .load_threads = 2 });
                        assert_int_equal(engine_result_get(e, 1)->action, ENGINE_ACTION_FAILED);
                        assert_non_null(strstr(engine_result_get(e, 1)->error, "c001/state.json"));
                        engine_free(e);
                        if (ra) {
                                assert_true(store_readahead_take(ra, "c001", &r, &st, &err));  /* not taken */
                                assert_int_equal(r, 0);
                                cert_state_free(st);
                                store_readahead_free(ra);
                        }
                }
                assert_int_equal(fake.issues, issued);
                memset(&fake, 0, sizeof(fake));
                fake.watch_every = DAY;
        }
}

/* reload_window: a renewed certificate waits for the window; the first one,
 * and one whose predecessor expires too soon, go at once. */
static void test_reload_window(void **s _unused_) {
        const char *names[] = { "a", NULL };
        char extra[128], *served, *now_served;
        engine *e;
        cert_state *st;
        struct tm tm;
        time_t t = clock_now();

        setenv("TZ", "UTC", 1);
        tzset();
        gmtime_r(&t, &tm);
        /* a daily one-hour window that opens two hours from now */
        snprintf(extra, sizeof(extra), "    reload_window: \"daily %02d:00-%02d:00\"\n", (tm.tm_hour + 2) % 24,
                 (tm.tm_hour + 3) % 24);
        write_conf(names, extra, false);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_ISSUED);  /* nothing served: at once */
        engine_free(e);
        served = served_serial("a");

        /* renewed outside the window: issued, verified, held */
        int reloads_before = reloads();
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a", .force = true });
        engine_free(e);
        /* a forced renewal goes at once */
        now_served = served_serial("a");
        assert_string_not_equal(now_served, served);
        free(served);
        served = now_served;
        assert_int_equal(reloads(), reloads_before + 1);
        /* due by time (the clock moves to the renewal), outside the window: held */
        clock_set_offset(21 * DAY);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_WAITING);
        assert_non_null(strstr(engine_result_get(e, 0)->wait_reason, "maintenance window"));
        assert_int_equal(engine_exit_code(e), 3);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_DEPLOY);
        assert_non_null(st->pending.serial);
        char *pending = strdup(st->pending.serial);
        cert_state_free(st);
        now_served = served_serial("a");
        assert_string_equal(now_served, served);  /* the old one still serves */
        free(now_served);
        int issues = fake.issues;
        e = once(NULL);  /* still closed: nothing new, no second certificate */
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_WAITING);
        engine_free(e);
        assert_int_equal(fake.issues, issues);
        /* the window opens (a minute after its start, whatever minute the
         * test started in): deployed and reloaded */
        clock_set_offset(21 * DAY + 2 * 3600 - (tm.tm_min * 60 + tm.tm_sec) + 60);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        now_served = served_serial("a");
        assert_string_equal(now_served, pending);
        free(now_served);
        free(pending);
        assert_key_consistent("a");

        /* the served certificate expires before the window opens plus a day:
         * deployed at once */
        free(served);
        served = served_serial("a");
        st = state_of("a");
        time_t expires = st->served.not_after;
        cert_state_free(st);
        clock_set_offset(expires - t - 3600);  /* an hour left; the window opens later than that */
        gmtime_r(&(time_t) { clock_now() }, &tm);
        snprintf(extra, sizeof(extra), "    reload_window: \"daily %02d:00-%02d:00\"\n", (tm.tm_hour + 2) % 24,
                 (tm.tm_hour + 3) % 24);
        write_conf(names, extra, false);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        now_served = served_serial("a");
        assert_string_not_equal(now_served, served);
        free(now_served);
        free(served);
        unsetenv("TZ");
        tzset();
}

static int group_setup(void **s _unused_) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);

        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1), 1);
        assert_int_equal(EVP_PKEY_keygen(ctx, &ca_key), 1);
        EVP_PKEY_CTX_free(ctx);
        ca_cert = sign(ca_key, "Test Engine CA", NULL, clock_now() - DAY, clock_now() + 3650L * DAY, true);
        ca_pem = x509_pem(ca_cert);
        return 0;
}

static int group_teardown(void **s _unused_) {
        X509_free(ca_cert);
        EVP_PKEY_free(ca_key);
        free(ca_pem);
        return 0;
}

/* engine_warm_up: OpenSSL is set up on a thread of its own, joined by
 * engine_warm_up_wait (again: nothing); a pass after it works as before. */
static void test_warm_up(void **s _unused_) {
        const char *names[] = { "a", NULL };

        assert_int_equal(engine_warm_up(), 0);
        assert_int_equal(engine_warm_up(), 0);  /* one thread at a time */
        engine_warm_up_wait();
        engine_warm_up_wait();
        write_conf(names, NULL, false);
        engine *e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_ISSUED);
        engine_free(e);
}

static bool reload_queue_reaches(void *arg) {
        return queued_engine->n_reload_queue >= (size_t) *(int *) arg;
}

/* daemon.reload_debounce: certificates deployed within the window share
 * one reload of their server (here: the same reload command), run when the
 * window has passed. The window is an hour and the test ends it by hand
 * once both are queued, so no clock decides the count. */
static void test_daemon_reload_debounce(void **s _unused_) {
        static const char *const names[] = { "a", "b" };
        FILE *f = fopen(conf_path, "we");
        int two = 2;
        engine *e;

        assert_non_null(f);
        fprintf(f, "state_dir: %s\noutput_root: %s/out\ndaemon: {reload_debounce: 1h}\ncertificates:\n", state_dir,
                root);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                fprintf(f, "  - name: %s\n"
                           "    issuer: {type: pca, ca_arn: \"arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/"
                           "11111111-1111-4111-8111-111111111111\", validity: 30d}\n"
                           "    dns_names: [%s.example.com]\n"
                           "    jitter: 0s\n"
                           "    reload: [{command: [/bin/sh, -c, \"echo shared >> %s\"]}]\n",
                        names[i], names[i], reload_log);
        assert_int_equal(fclose(f), 0);
        fake.next = DO_HOLD;
        e = daemon_start();
        assert_true(run_until(held_reaches, &two));
        fake_release_held();
        queued_engine = e;
        assert_true(run_until(reload_queue_reaches, &two));
        /* both deployed, saved as waiting for their reload; none ran */
        assert_true(phase_is((const char *[]) { "a", "reload" }));
        assert_true(phase_is((const char *[]) { "b", "reload" }));
        assert_int_equal(reloads(), 0);
        /* the window ends now */
        uint64_t now;
        assert_non_null(e->reload_timer);
        assert_int_equal(sd_event_now(loop, CLOCK_MONOTONIC, &now), 0);
        assert_true(sd_event_source_set_time(e->reload_timer, now) >= 0);
        assert_true(run_until(phase_is, (const char *[]) { "a", "valid" }));
        assert_true(run_until(phase_is, (const char *[]) { "b", "valid" }));
        assert_int_equal(reloads(), 1);
        assert_key_consistent("a");
        assert_key_consistent("b");
        daemon_end(e);
}

/* Writes a's state with a revoke request as a run killed after saving it
 * (and before saving AWS's answer) leaves it. */
static void plant_revoke_request(bool no_replace) {
        cert_state *st = state_of("a");

        assert_int_equal(state_set_string(&st->revoke_request, "KEY_COMPROMISE"), 0);
        st->revoke_request_no_replace = no_replace;
        assert_int_equal(store_save(state_dir, "a", st), 0);
        cert_state_free(st);
}

/* A revocation interrupted after its intent was saved is finished by the
 * next run, whatever it was asked (the CA may have revoked already); a
 * revocation that failed is not retried on its own. */
static void test_revoke_interrupted(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;

        write_conf(names, NULL, false);
        engine_free(once(NULL));
        st = state_of("a");
        char *first = strdup(st->served.serial);
        cert_state_free(st);

        plant_revoke_request(false);
        e = once(NULL);
        assert_int_equal(fake.revokes, 1);
        assert_int_equal(fake.replaces, 1);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_null(st->revoke_request);
        assert_string_equal(st->revoked_serial, first);
        assert_string_equal(st->revoke_reason, "KEY_COMPROMISE");
        assert_string_not_equal(st->served.serial, first);
        char *second = strdup(st->served.serial);
        cert_state_free(st);
        assert_key_consistent("a");

        /* with --no-replace saved: revoked, left so */
        plant_revoke_request(true);
        e = once(NULL);
        assert_int_equal(fake.revokes, 2);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_REVOKED);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_REVOKED);
        assert_null(st->revoke_request);
        assert_string_equal(st->revoked_serial, second);
        cert_state_free(st);
        engine_free(once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a" }));

        /* the operator's revoke, refused by the CA: failed, the request
         * dropped, no retry and no renewal by itself */
        fake.revoke_fails = true;
        e = once(&(engine_options) { .command = ENGINE_CMD_REVOKE, .only = "a", .revoke_reason = "KEY_COMPROMISE" });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        engine_free(e);
        assert_int_equal(fake.revokes, 3);
        st = state_of("a");
        assert_null(st->revoke_request);
        assert_false(st->force_renewal);
        char *third = strdup(st->served.serial);
        cert_state_free(st);
        clock_set_offset(DAY);
        int issues = fake.issues;
        engine_free(once(NULL));
        assert_int_equal(fake.revokes, 3);
        assert_int_equal(fake.issues, issues);

        /* a saved revoke that cannot finish (the replacement could not be
         * deployed; then the CA refuses) is kept and retried with backoff:
         * no busy loop, no renewal instead of it */
        fake.revoke_fails = false;
        plant_revoke_request(false);
        char d[256];
        snprintf(d, sizeof(d), "%s/out/a", root);
        assert_int_equal(chmod(d, 0777), 0);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "nothing was revoked"));
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_BACKOFF);
        assert_true(st->wake_at > clock_now());
        assert_string_equal(st->revoke_request, "KEY_COMPROMISE");
        assert_false(st->force_renewal);
        time_t retry = st->wake_at;
        cert_state_free(st);
        assert_int_equal(chmod(d, 0755), 0);
        e = once(NULL);  /* before its time: nothing tried */
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        engine_free(e);
        assert_int_equal(fake.revokes, 3);
        fake.revoke_fails = true;
        int64_t off = DAY + (retry - clock_now()) + 1;
        clock_set_offset(off);
        engine_free(once(NULL));
        assert_int_equal(fake.revokes, 4);
        st = state_of("a");
        assert_string_equal(st->revoke_request, "KEY_COMPROMISE");  /* kept: not the operator's command */
        assert_false(st->force_renewal);
        retry = st->wake_at;
        cert_state_free(st);
        fake.revoke_fails = false;
        off += (retry - clock_now()) + 1;
        clock_set_offset(off);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        assert_int_equal(fake.revokes, 5);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_null(st->revoke_request);
        assert_string_equal(st->revoked_serial, third);
        cert_state_free(st);
        assert_int_equal(fake.issues, issues + 1);
        free(first);
        free(second);
        free(third);
}

/* The output directory broken by fake.break_deploy works again. */
static void repair_deploy(void) {
        char v[300], h[310];

        snprintf(v, sizeof(v), "%s/.versions", fake.break_deploy);
        snprintf(h, sizeof(h), "%s.hidden", v);
        assert_int_equal(unlink(v), 0);
        assert_int_equal(rename(h, v), 0);
        fake.break_deploy[0] = 0;
}

/* A revoke whose replacement cannot be deployed, finished by a later run
 * whose reload fails: the revoked certificate is no rollback target there
 * either (that run knows it only from the saved state), and its version
 * leaves the output directory once the replacement is served. */
static void test_revoke_resumed(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        char d[256];

        snprintf(d, sizeof(d), "%s/out/a", root);
        write_conf(names, NULL, false);
        engine_free(once(NULL));
        st = state_of("a");
        char *revoked = strdup(st->served.serial), *revoked_version = strdup(st->served.version);
        cert_state_free(st);

        /* revoked; the replacement is issued and verified, its deploy fails */
        snprintf(fake.break_deploy, sizeof(fake.break_deploy), "%s", d);
        e = once(&(engine_options) { .command = ENGINE_CMD_REVOKE, .only = "a", .revoke_reason = "KEY_COMPROMISE" });
        assert_int_equal(fake.revokes, 1);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "deploy failed"));
        engine_free(e);
        repair_deploy();
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_BACKOFF);
        assert_string_equal(st->served.serial, revoked);
        assert_string_equal(st->revoked_serial, revoked);
        assert_string_equal(st->revoked_version, revoked_version);
        assert_string_equal(st->revoke_reason, "KEY_COMPROMISE");
        assert_true(st->revoked_at > 0);
        assert_non_null(st->pending.serial);
        char *replacement = strdup(st->pending.serial);
        cert_state_free(st);

        /* a later run deploys the pending replacement; its reload fails:
         * nothing to roll back to, the replacement stays */
        write_conf(names, NULL, true);
        int issues = fake.issues;
        e = once(&(engine_options) { .command = ENGINE_CMD_RENEW, .only = "a" });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_null(strstr(engine_result_get(e, 0)->error, "rolled back"));
        assert_non_null(strstr(engine_result_get(e, 0)->error, "reload failed"));
        engine_free(e);
        assert_int_equal(fake.issues, issues);  /* deployed, not requested again */
        _cleanup_(freep) char *now = served_serial("a");
        assert_string_equal(now, replacement);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_RELOAD);
        assert_string_equal(st->served.serial, replacement);
        assert_null(st->previous.serial);
        cert_state_free(st);

        /* the reload works: valid, and the revoked version is gone */
        write_conf(names, NULL, false);
        clock_set_offset(DAY);
        e = once(NULL);
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_RENEWED);
        engine_free(e);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_string_equal(st->served.serial, replacement);
        assert_null(st->revoked_version);  /* removed, then forgotten */
        assert_string_equal(st->revoked_serial, revoked);  /* still shown by status */
        cert_state_free(st);
        assert_key_consistent("a");
        assert_version_gone("a", revoked_version);
        free(revoked);
        free(revoked_version);
        free(replacement);
}

/* A revoke whose replacement could not be deployed revokes nothing: the
 * deploy's preflight (an output directory others may write) runs before
 * the revocation, and the served certificate's state is left as it was. */
static void test_revoke_preflight(void **s _unused_) {
        const char *names[] = { "a", NULL };
        engine *e;
        cert_state *st;
        char d[256];

        write_conf(names, NULL, false);
        engine_free(once(NULL));
        st = state_of("a");
        char *serial = strdup(st->served.serial);
        cert_state_free(st);
        snprintf(d, sizeof(d), "%s/out/a", root);
        assert_int_equal(chmod(d, 0777), 0);
        e = once(&(engine_options) { .command = ENGINE_CMD_REVOKE, .only = "a", .revoke_reason = "KEY_COMPROMISE" });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_FAILED);
        assert_non_null(strstr(engine_result_get(e, 0)->error, "nothing was revoked"));
        assert_int_equal(engine_exit_code(e), 1);
        engine_free(e);
        assert_int_equal(fake.revokes, 0);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        assert_string_equal(st->served.serial, serial);
        assert_null(st->revoked_serial);
        assert_int_equal(st->failures, 0);
        cert_state_free(st);
        /* --no-replace deploys nothing: it revokes */
        e = once(&(engine_options) { .command = ENGINE_CMD_REVOKE, .only = "a", .revoke_reason = "KEY_COMPROMISE",
                                     .revoke_no_replace = true });
        assert_int_equal(engine_result_get(e, 0)->action, ENGINE_ACTION_REVOKED);
        engine_free(e);
        assert_int_equal(fake.revokes, 1);
        assert_int_equal(chmod(d, 0755), 0);
        free(serial);
}

/* A certificate removed by one configuration while it is mid-request and
 * added back by the next before it settled: it stays managed, and with
 * daemon.on_remove: delete its files and state stay. */
static void test_daemon_readd_busy(void **s _unused_) {
        const char *ab[] = { "a", "b", NULL }, *b_only[] = { "b", NULL };
        engine *e;
        cert_state *st;
        char p[256];

        daemon_extra = ", on_remove: delete";
        write_conf(ab, NULL, false);
        e = daemon_start();
        assert_true(run_until(phase_is, (const char *[]) { "a", "valid" }));
        assert_true(run_until(phase_is, (const char *[]) { "b", "valid" }));
        assert_true(run_until(idle, e));

        fake.next = DO_HANG;
        clock_set_offset(25 * DAY);
        assert_int_equal(engine_poke(e, "a"), 0);
        assert_true(run_until(phase_is, (const char *[]) { "a", "request" }));
        assert_non_null(fake.hung);
        write_conf(b_only, NULL, false);
        assert_int_equal(engine_reconfigure(e, load_conf(), NULL), 0);
        write_conf(ab, NULL, false);
        stderr_capture_begin();
        assert_int_equal(engine_reconfigure(e, load_conf(), NULL), 0);
        fake.next = DO_ISSUE;
        fake_release();
        assert_true(run_until(idle, e));
        _cleanup_(freep) char *log = stderr_capture_end();
        assert_non_null(strstr(log, "a: back in the configuration"));
        assert_null(strstr(log, "a: no longer in the configuration"));
        assert_int_equal(engine_n_results(e), 2);
        st = state_of("a");
        assert_int_equal(st->phase, PHASE_VALID);
        cert_state_free(st);
        snprintf(p, sizeof(p), "%s/out/a/cert.pem", root);
        assert_int_equal(access(p, F_OK), 0);
        assert_key_consistent("a");
        daemon_end(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_issue_deploy_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pending_validation_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fail_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_resumed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_preflight, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_interrupted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_daemon_watch_and_renew, setup, teardown),
                cmocka_unit_test_setup_teardown(test_once_watch_each_pass, setup, teardown),
                cmocka_unit_test_setup_teardown(test_daemon_stop_mid_job, setup, teardown),
                cmocka_unit_test_setup_teardown(test_issue_slots, setup, teardown),
                cmocka_unit_test_setup_teardown(test_issue_slots_reconfigure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_daemon_reconfigure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_daemon_readd_busy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_daemon_reload_debounce, setup, teardown),
                cmocka_unit_test_setup_teardown(test_redeploy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_locked_corrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_once_no_certificates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_preloaded_pass, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readahead_pass, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fingerprint_stable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_warm_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_window, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cache_reload, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
