/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state directory: layout, modes whatever the umask, refusals, locks,
 * migration of the 0.1 layout (including the name collision it had), temp
 * file cleaning, removal; the keystore from generation to promotion.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "basic/worker.h"
#include "crypto/crypto.h"
#include "store/store-keys.h"
#include "store/store-readahead.h"
#include "store/store.h"

static char base[64];
static char dir[96];

static int setup(void **st _unused_) {
        strcpy(base, "/tmp/test-store-XXXXXX");
        assert_non_null(mkdtemp(base));
        snprintf(dir, sizeof(dir), "%s/state", base);
        return 0;
}

static int teardown(void **st _unused_) {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *p) {
        struct stat s;
        assert_int_equal(lstat(p, &s), 0);
        return s.st_mode & 07777;
}

static void write_text(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void test_prepare(void **st _unused_) {
        char err[512] = "", p[160];
        mode_t old = umask(0);

        /* modes never depend on the caller's umask */
        assert_int_equal(store_prepare(dir, err, sizeof(err)), 0);
        assert_int_equal(mode_of(dir), 0700);
        snprintf(p, sizeof(p), "%s/certs", dir);
        assert_int_equal(mode_of(p), 0700);
        umask(0777);
        assert_int_equal(store_save(dir, "web", &(cert_state) { .phase = PHASE_NEW }), 0);
        umask(old);
        snprintf(p, sizeof(p), "%s/certs/web", dir);
        assert_int_equal(mode_of(p), 0700);
        snprintf(p, sizeof(p), "%s/certs/web/state.json", dir);
        assert_int_equal(mode_of(p), 0600);

        /* refusals, each naming the path and the fix */
        assert_int_equal(store_prepare("/", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "state_dir \"/\""));
        assert_int_equal(chmod(dir, 0777), 0);
        assert_int_equal(store_prepare(dir, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "chmod 0700"));
        assert_int_equal(chmod(dir, 0700), 0);
        snprintf(p, sizeof(p), "%s/file", base);
        write_text(p, "x", 0600);
        assert_int_equal(store_prepare(p, err, sizeof(err)), -ENOTDIR);
        snprintf(p, sizeof(p), "%s/link", base);
        assert_int_equal(symlink(dir, p), 0);
        assert_int_equal(store_prepare(p, err, sizeof(err)), -ELOOP);
        assert_int_equal(store_prepare("relative", err, sizeof(err)), -EINVAL);
        /* a world-writable parent (not sticky) lets anyone swap the directory */
        snprintf(p, sizeof(p), "%s/open", base);
        assert_int_equal(mkdir(p, 0777), 0);
        assert_int_equal(chmod(p, 0777), 0);
        snprintf(p, sizeof(p), "%s/open/state", base);
        assert_int_equal(store_prepare(p, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "writable by everyone"));
}

static void test_save_load_list(void **st _unused_) {
        _cleanup_(cert_state_freep) cert_state *s = cert_state_new(), *l = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_(freep) char *err = NULL;
        char p[160];

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        assert_int_equal(store_load(dir, "web", &l, &err), -ENOENT);
        s->phase = PHASE_VALID;
        s->served.serial = strdup("0A");
        assert_int_equal(store_save(dir, "web", s), 0);
        assert_int_equal(store_save(dir, "web.pending", s), 0);
        assert_int_equal(store_load(dir, "web", &l, &err), 0);
        assert_string_equal(l->served.serial, "0A");
        /* invalid names never reach the file system */
        assert_int_equal(store_save(dir, "../x", s), -EINVAL);
        assert_int_equal(store_save(dir, ".hidden", s), -EINVAL);
        /* a corrupt file names itself and the fix */
        snprintf(p, sizeof(p), "%s/certs/web/state.json", dir);
        write_text(p, "{\"schema\": 2, \"phase\": \"valid\", \"failures\": \"many\"}", 0600);
        cert_state_free(TAKE_PTR(l));
        assert_int_equal(store_load(dir, "web", &l, &err), -EBADMSG);
        assert_non_null(strstr(err, p));
        assert_non_null(strstr(err, "move it aside"));
        err = (free(err), NULL);
        /* read relative to certs/, the messages still name the full path */
        {
                _cleanup_(closep) int cfd = store_certs_open(dir);
                char q[160];
                assert_true(cfd >= 0);
                assert_int_equal(store_load_at(cfd, dir, "web", &l, &err), -EBADMSG);
                assert_non_null(strstr(err, p));
                err = (free(err), NULL);
                write_text(p, "{\"schema\": 99, \"phase\": \"valid\"}", 0600);
                assert_int_equal(store_load_at(cfd, dir, "web", &l, &err), -EPROTONOSUPPORT);
                assert_true(strneq(err, p, strlen(p)));
                err = (free(err), NULL);
                snprintf(q, sizeof(q), "%s/certs/dirstate", dir);
                assert_int_equal(mkdir(q, 0700), 0);
                snprintf(q, sizeof(q), "%s/certs/dirstate/state.json", dir);
                assert_int_equal(mkdir(q, 0700), 0);
                assert_int_equal(store_load_at(cfd, dir, "dirstate", &l, &err), -EISDIR);
                assert_true(strneq(err, q, strlen(q)));
                assert_non_null(strstr(err, "cannot read the state file"));
                err = (free(err), NULL);
                assert_int_equal(store_load(dir, "dirstate", &l, &err), -EISDIR);
                assert_true(strneq(err, q, strlen(q)));
                err = (free(err), NULL);
                assert_int_equal(rmdir(q), 0);
                snprintf(q, sizeof(q), "%s/certs/dirstate", dir);
                assert_int_equal(rmdir(q), 0);
                assert_int_equal(store_load_at(cfd, dir, "../x", &l, &err), -EINVAL);
        }
        write_text(p, "{\"schema\": 2, \"phase\": \"valid\", \"failures\": \"many\"}", 0600);
        /* a layout-1 state is listed (once) and loads */
        snprintf(p, sizeof(p), "%s/certs/old.json", dir);
        write_text(p, "{\"schema\": 1, \"phase\": \"valid\", \"serial\": \"0B\"}", 0600);
        snprintf(p, sizeof(p), "%s/certs/web.pending.json", dir);
        write_text(p, "{\"schema\": 1, \"phase\": \"valid\", \"serial\": \"0C\"}", 0600);
        assert_int_equal(store_list(dir, &names), 0);
        assert_int_equal(strv_length(names), 3);
        assert_string_equal(names[0], "old");
        assert_string_equal(names[1], "web");
        assert_string_equal(names[2], "web.pending");
        free(err);
        err = NULL;
        assert_int_equal(store_load(dir, "old", &l, &err), 0);
        assert_string_equal(l->served.serial, "0B");
}

static void test_lock(void **st _unused_) {
        _cleanup_(closep) int fd = -1;
        pid_t holder = 0, child;
        int status;

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        assert_int_equal(store_lock(dir, "web", false, &fd), 0);
        assert_int_equal(store_lock_holder(dir, "web", &holder), 0);
        assert_int_equal(holder, getpid());
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                int f2 = -1;
                _exit(store_lock(dir, "web", false, &f2) == -EWOULDBLOCK ? 0 : 1);
        }
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Layout 1 kept keys/<name>.pem and keys/<name>.pending.pem: the pending key
 * of "web" was the served key of "web.pending". The migration moves each
 * key where it belongs and keeps the state. */
/* store-readahead: what it hands over for a name is what store_load()
 * returns for it (a state, layout 1 too, or the error of a corrupt one),
 * each once; a name it did not read (unknown, or written after it
 * stopped) is for the caller to read; a state directory that does not
 * exist reads nothing. */
static void test_readahead(void **st _unused_) {
        _cleanup_(cert_state_freep) cert_state *s = cert_state_new(), *l = NULL;
        _cleanup_(freep) char *err = NULL;
        store_readahead *ra;
        char p[160];
        int r = 0;

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        s->phase = PHASE_VALID;
        s->served.serial = strdup("0A");
        assert_int_equal(store_save(dir, "web", s), 0);
        free(s->served.serial);
        s->served.serial = strdup("0D");
        assert_int_equal(store_save(dir, "mail", s), 0);
        assert_int_equal(store_save(dir, "broken", s), 0);
        snprintf(p, sizeof(p), "%s/certs/broken/state.json", dir);
        write_text(p, "{\"schema\": 2, \"phase\": \"valid\", \"failures\": \"many\"}", 0600);
        snprintf(p, sizeof(p), "%s/certs/old.json", dir);
        write_text(p, "{\"schema\": 1, \"phase\": \"valid\", \"serial\": \"0B\"}", 0600);
        snprintf(p, sizeof(p), "%s/certs/empty", dir);   /* a directory without a state */
        assert_int_equal(mkdir(p, 0700), 0);

        ra = store_readahead_start(dir);
        assert_non_null(ra);
        assert_string_equal(store_readahead_dir(ra), dir);
        store_readahead_wait(ra);
        store_readahead_stop(ra);  /* after it: nothing */
        /* written after it stopped: not read */
        assert_int_equal(store_save(dir, "late", s), 0);

        assert_true(store_readahead_take(ra, "web", &r, &l, &err));
        assert_int_equal(r, 0);
        assert_string_equal(l->served.serial, "0A");
        assert_null(err);
        cert_state_free(TAKE_PTR(l));
        assert_false(store_readahead_take(ra, "web", &r, &l, &err));  /* taken */
        assert_true(store_readahead_take(ra, "old", &r, &l, &err));
        assert_int_equal(r, 0);
        assert_string_equal(l->served.serial, "0B");
        cert_state_free(TAKE_PTR(l));
        assert_true(store_readahead_take(ra, "broken", &r, &l, &err));
        assert_int_equal(r, -EBADMSG);
        assert_null(l);
        snprintf(p, sizeof(p), "%s/certs/broken/state.json: corrupt state file", dir);  /* the full path */
        assert_non_null(strstr(err, p));
        assert_non_null(strstr(err, "move it aside"));
        err = (free(err), NULL);
        assert_true(store_readahead_take(ra, "empty", &r, &l, &err));
        assert_int_equal(r, -ENOENT);
        assert_null(l);
        assert_false(store_readahead_take(ra, "late", &r, &l, &err));
        assert_false(store_readahead_take(ra, "nobody", &r, &l, &err));
        /* "mail" is left to free */
        assert_null(store_readahead_free(ra));

        /* no state directory yet */
        snprintf(p, sizeof(p), "%s/none", base);
        ra = store_readahead_start(p);
        assert_non_null(ra);
        store_readahead_wait(ra);
        assert_false(store_readahead_take(ra, "web", &r, &l, &err));
        store_readahead_free(ra);
        /* stopped by free alone */
        store_readahead_free(store_readahead_start(dir));
}

typedef struct then_run {
        store_readahead *ra;
        pthread_t caller;
        int runs;
        bool other_thread;
        bool took_web;
} then_run;

static void then_fn(void *arg) {
        then_run *t = arg;
        int r;
        cert_state *st = NULL;
        char *err = NULL;

        t->runs++;
        t->other_thread = !pthread_equal(pthread_self(), t->caller);
        t->took_web = store_readahead_take(t->ra, "web", &r, &st, &err);
        cert_state_free(st);
        free(err);
}

/* store_readahead_then(): the thread that read runs the caller's function
 * once, after the reading, and may take states as the caller does; it is
 * refused once something was given or the thread has ended. */
static void test_readahead_then(void **st _unused_) {
        _cleanup_(cert_state_freep) cert_state *s = cert_state_new(), *l = NULL;
        _cleanup_(freep) char *err = NULL;
        then_run t = { .caller = pthread_self() };
        int r = 0;

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        s->phase = PHASE_VALID;
        s->served.serial = strdup("0A");
        assert_int_equal(store_save(dir, "web", s), 0);
        assert_int_equal(store_save(dir, "mail", s), 0);

        t.ra = store_readahead_start(dir);
        assert_non_null(t.ra);
        store_readahead_wait(t.ra);
        assert_true(store_readahead_take(t.ra, "mail", &r, &l, &err));  /* the caller takes one */
        cert_state_free(TAKE_PTR(l));
        assert_true(store_readahead_then(t.ra, then_fn, &t));
        assert_false(store_readahead_then(t.ra, then_fn, &t));  /* once */
        store_readahead_stop(t.ra);  /* waits for then_fn */
        assert_int_equal(t.runs, 1);
        assert_true(t.other_thread);
        assert_true(t.took_web);
        assert_false(store_readahead_take(t.ra, "web", &r, &l, &err));  /* then_fn took it */
        assert_false(store_readahead_then(t.ra, then_fn, &t));  /* ended */
        assert_int_equal(t.runs, 1);
        store_readahead_free(t.ra);

        /* given before the reading is done: it stops reading and runs it */
        t = (then_run) { .caller = pthread_self() };
        t.ra = store_readahead_start(dir);
        assert_non_null(t.ra);
        assert_true(store_readahead_then(t.ra, then_fn, &t));
        store_readahead_wait(t.ra);
        store_readahead_stop(t.ra);
        assert_int_equal(t.runs, 1);
        assert_true(t.other_thread);
        store_readahead_free(t.ra);

        /* stopped without anything given: it never runs */
        t = (then_run) { .caller = pthread_self() };
        t.ra = store_readahead_start(dir);
        store_readahead_stop(t.ra);
        assert_false(store_readahead_then(t.ra, then_fn, &t));
        assert_int_equal(t.runs, 0);
        store_readahead_free(t.ra);
}

static void test_migrate(void **st _unused_) {
        _cleanup_(cert_state_freep) cert_state *l = NULL;
        _cleanup_(freep) char *err = NULL;
        char p[200], e[512] = "";

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        snprintf(p, sizeof(p), "%s/keys", dir);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/certs/web.json", dir);
        write_text(p, "{\"schema\": 1, \"phase\": \"valid\", \"serial\": \"0A\", \"current_version\": \"v1\"}", 0600);
        snprintf(p, sizeof(p), "%s/certs/web.lock", dir);
        write_text(p, "1\n", 0600);
        snprintf(p, sizeof(p), "%s/certs/web.pending.json", dir);
        write_text(p, "{\"schema\": 1, \"phase\": \"awaiting_issue\", \"pending_arn\": \"arn:x\", "
                      "\"pending_key_path\": \"/x/keys/web.pending.pending.pem\"}", 0600);
        snprintf(p, sizeof(p), "%s/keys/web.pem", dir);
        write_text(p, "KEY-OF-WEB", 0600);
        snprintf(p, sizeof(p), "%s/keys/web.pending.pem", dir);
        write_text(p, "KEY-OF-WEB.PENDING", 0600);
        snprintf(p, sizeof(p), "%s/keys/web.pending.pending.pem", dir);
        write_text(p, "PENDING-KEY-OF-WEB.PENDING", 0600);

        assert_int_equal(store_migrate(dir, "web", e, sizeof(e)), 1);
        assert_int_equal(store_migrate(dir, "web", e, sizeof(e)), 0);  /* done once */
        assert_int_equal(store_migrate(dir, "web.pending", e, sizeof(e)), 1);

        _cleanup_(freep) char *k = NULL;
        snprintf(p, sizeof(p), "%s/certs/web/key.pem", dir);
        assert_int_equal(read_full_file(p, 100, &k, NULL), 0);
        assert_string_equal(k, "KEY-OF-WEB");
        k = (free(k), NULL);
        /* web had no pending key: keys/web.pending.pem was web.pending's */
        snprintf(p, sizeof(p), "%s/certs/web/key.pending.pem", dir);
        assert_int_equal(access(p, F_OK), -1);
        snprintf(p, sizeof(p), "%s/certs/web.pending/key.pem", dir);
        assert_int_equal(read_full_file(p, 100, &k, NULL), 0);
        assert_string_equal(k, "KEY-OF-WEB.PENDING");
        k = (free(k), NULL);
        snprintf(p, sizeof(p), "%s/certs/web.pending/key.pending.pem", dir);
        assert_int_equal(read_full_file(p, 100, &k, NULL), 0);
        assert_string_equal(k, "PENDING-KEY-OF-WEB.PENDING");
        /* the old files are gone, the states are schema 2 */
        snprintf(p, sizeof(p), "%s/certs/web.json", dir);
        assert_int_equal(access(p, F_OK), -1);
        snprintf(p, sizeof(p), "%s/certs/web.lock", dir);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(store_load(dir, "web", &l, &err), 0);
        assert_int_equal(l->phase, PHASE_VALID);
        assert_string_equal(l->served.version, "v1");
        cert_state_free(TAKE_PTR(l));
        assert_int_equal(store_load(dir, "web.pending", &l, &err), 0);
        assert_int_equal(l->phase, PHASE_ISSUE);
        assert_string_equal(json_string_value(json_object_get(l->issuer, "arn")), "arn:x");
        _cleanup_(freep) char *txt = NULL;
        snprintf(p, sizeof(p), "%s/certs/web.pending/state.json", dir);
        assert_int_equal(read_full_file(p, 1 << 20, &txt, NULL), 0);
        assert_non_null(strstr(txt, "\"schema\": 2"));
}

static void test_clean_remove(void **st _unused_) {
        char p[200];

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        assert_int_equal(store_save(dir, "web", &(cert_state) { .phase = PHASE_NEW }), 0);
        snprintf(p, sizeof(p), "%s/certs/web/" STORE_TEMP_PREFIX "abc", dir);
        write_text(p, "half a key", 0600);
        snprintf(p, sizeof(p), "%s/certs/web/state.json.tmp-0123", dir);
        write_text(p, "{", 0600);
        assert_int_equal(store_clean_temp(dir, "web"), 2);
        snprintf(p, sizeof(p), "%s/certs/web/state.json", dir);
        assert_int_equal(access(p, F_OK), 0);
        assert_int_equal(store_clean_temp(dir, "web"), 0);
        assert_int_equal(store_remove(dir, "web"), 0);
        snprintf(p, sizeof(p), "%s/certs/web", dir);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(store_remove(dir, "web"), 0);
}

/* Certificates by serial: written once, read back split into cert and
 * chain, collected when no version refers to them. */
static void test_pem(void **st _unused_) {
        _cleanup_(freep) char *cert = NULL, *chain = NULL;
        const char *keep[] = { "0A", NULL, "0C" };
        char p[200];

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        assert_false(store_pem_exists(dir, "web", "0A"));
        assert_int_equal(store_pem_save(dir, "web", "0A", "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
                                        "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"), 0);
        /* the content of a serial never changes: a second save keeps the first */
        assert_int_equal(store_pem_save(dir, "web", "0A", "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
                                        NULL), 0);
        assert_int_equal(store_pem_load(dir, "web", "0A", &cert, &chain), 0);
        assert_string_equal(cert, "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n");
        assert_string_equal(chain, "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
        assert_int_equal(store_pem_save(dir, "web", "0B", "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n",
                                        NULL), 0);
        free(cert);
        free(chain);
        cert = chain = NULL;
        assert_int_equal(store_pem_load(dir, "web", "0B", &cert, &chain), 0);
        assert_null(chain);
        snprintf(p, sizeof(p), "%s/certs/web/0B.crt", dir);
        assert_int_equal(mode_of(p), 0644);
        /* not a serial: never a path */
        assert_int_equal(store_pem_save(dir, "web", "../x", "c", NULL), -EINVAL);
        assert_int_equal(store_pem_save(dir, "web", "0a", "c", NULL), -EINVAL);
        assert_int_equal(store_pem_load(dir, "web", "0D", &cert, &chain), -ENOENT);
        /* 0B is referred to by nothing any more */
        assert_int_equal(store_pem_gc(dir, "web", keep, ELEMENTSOF(keep)), 1);
        assert_true(store_pem_exists(dir, "web", "0A"));
        assert_false(store_pem_exists(dir, "web", "0B"));
}

/* ---- keystore ---- */

typedef struct key_result {
        int calls, r;
        EVP_PKEY *key;
        bool fresh;
} key_result;

static void on_key(int r, EVP_PKEY *key, bool fresh, const char *what _unused_, void *userdata) {
        key_result *k = userdata;
        k->calls++;
        k->r = r;
        EVP_PKEY_free(k->key);
        k->key = key;
        k->fresh = fresh;
}

static void acquire(sd_event *loop, worker_pool *pool, const conf_key *spec, bool reuse, key_result *k) {
        int before = k->calls;
        assert_int_equal(store_key_acquire(pool, dir, "web", spec, reuse, on_key, k, NULL), 0);
        assert_int_equal(k->calls, before);  /* never from inside the call */
        while (k->calls == before)
                assert_true(sd_event_run(loop, UINT64_MAX) >= 0);
        assert_int_equal(k->r, 0);
}

static void test_keystore(void **st _unused_) {
        const conf_key p256 = { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256 };
        const conf_key p384 = { .type = CONF_KEY_EC, .curve = CONF_CURVE_P384 };
        sd_event *loop = NULL;
        worker_pool *pool = NULL;
        key_result k = {};
        EVP_PKEY *first, *again = NULL;
        char p[200];

        assert_int_equal(store_prepare(dir, NULL, 0), 0);
        assert_int_equal(sd_event_new(&loop), 0);
        assert_int_equal(worker_pool_new(loop, 2, &pool), 0);

        /* nothing yet: generated off the loop and saved as pending, 0600 */
        acquire(loop, pool, &p256, false, &k);
        assert_true(k.fresh);
        assert_true(crypto_key_matches_conf(k.key, &p256));
        snprintf(p, sizeof(p), "%s/certs/web/key.pending.pem", dir);
        assert_int_equal(mode_of(p), 0600);
        first = k.key;
        k.key = NULL;
        /* an interrupted request resumes with the same pending key */
        acquire(loop, pool, &p256, false, &k);
        assert_false(k.fresh);
        assert_int_equal(EVP_PKEY_eq(first, k.key), 1);
        /* promoted when served; reused with key.reuse, not without */
        assert_int_equal(store_key_promote(dir, "web"), 0);
        assert_int_equal(store_key_promote(dir, "web"), -ENOENT);
        acquire(loop, pool, &p256, true, &k);
        assert_false(k.fresh);
        assert_int_equal(EVP_PKEY_eq(first, k.key), 1);
        acquire(loop, pool, &p256, false, &k);
        assert_true(k.fresh);
        assert_int_equal(EVP_PKEY_eq(first, k.key), 0);
        /* the settings changed: a pending key that does not fit is replaced */
        acquire(loop, pool, &p384, true, &k);
        assert_true(k.fresh);
        assert_true(crypto_key_matches_conf(k.key, &p384));
        assert_int_equal(store_key_load(dir, "web", STORE_KEY_PENDING, &again), 0);
        assert_int_equal(EVP_PKEY_eq(again, k.key), 1);
        EVP_PKEY_free(again);
        again = NULL;
        /* deleted: both slots; the bytes are overwritten first (a reader
         * that held the file open sees zeros, not the key) */
        snprintf(p, sizeof(p), "%s/certs/web/key.pem", dir);
        int held = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(held >= 0);
        struct stat hs;
        assert_int_equal(fstat(held, &hs), 0);
        assert_true(hs.st_size > 0);
        assert_int_equal(store_key_delete(dir, "web", STORE_KEY_SERVED), 0);
        assert_int_equal(access(p, F_OK), -1);
        char wiped[8192];
        ssize_t nw = pread(held, wiped, sizeof(wiped), 0);
        assert_int_equal(nw, hs.st_size);
        for (ssize_t i = 0; i < nw; i++)
                assert_int_equal(wiped[i], 0);
        close(held);
        assert_int_equal(store_key_delete(dir, "web", STORE_KEY_PENDING), 0);
        assert_int_equal(store_key_load(dir, "web", STORE_KEY_SERVED, &again), -ENOENT);
        assert_int_equal(store_key_delete(dir, "web", STORE_KEY_SERVED), 0);
        /* a symlink planted in a slot is removed, its target left alone */
        char target[256];
        snprintf(target, sizeof(target), "%s/not-a-key", dir);
        assert_int_equal(write_file_atomic(target, "keep me\n", 8, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(symlink(target, p), 0);
        assert_int_equal(store_key_delete(dir, "web", STORE_KEY_SERVED), 0);
        assert_int_equal(access(p, F_OK), -1);
        _cleanup_(freep) char *kept = NULL;
        assert_int_equal(read_full_file(target, 64, &kept, NULL), 0);
        assert_string_equal(kept, "keep me\n");
        /* a FIFO planted there (no reader) neither hangs the delete nor stays */
        assert_int_equal(mkfifo(p, 0600), 0);
        assert_int_equal(store_key_delete(dir, "web", STORE_KEY_SERVED), 0);
        assert_int_equal(access(p, F_OK), -1);
        /* a key readable by others is refused: it has leaked already */
        assert_int_equal(store_key_save(dir, "web", STORE_KEY_SERVED, first), 0);
        snprintf(p, sizeof(p), "%s/certs/web/key.pem", dir);
        assert_int_equal(chmod(p, 0644), 0);
        assert_int_equal(store_key_load(dir, "web", STORE_KEY_SERVED, &again), -EPERM);

        /* a cancelled job never calls back; freeing the pool frees its key */
        store_key_job *j = NULL;
        int before = k.calls;
        assert_int_equal(store_key_acquire(pool, dir, "web", &p384, false, on_key, &k, &j), 0);
        store_key_job_cancel(j);
        worker_pool_free(pool);
        (void) sd_event_run(loop, 0);
        assert_int_equal(k.calls, before);

        EVP_PKEY_free(first);
        EVP_PKEY_free(k.key);
        sd_event_unref(loop);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_prepare, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_load_list, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readahead, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readahead_then, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clean_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keystore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pem, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
