/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "engine/engine-internal.h"
#include "crypto/crypto.h"
#include "deploy/deploy.h"
#include "store/store.h"

typedef struct cache_item {
        char *key;
        void *value;
        void (*free_fn)(void *);
        uint64_t expires_usec;      /* CLOCK_MONOTONIC, 0 never */
} cache_item;

const char *engine_action_to_string(engine_action a) {
        static const char *const names[_ENGINE_ACTION_MAX] = {
                [ENGINE_ACTION_NONE] = "none",
                [ENGINE_ACTION_ISSUED] = "issued",
                [ENGINE_ACTION_RENEWED] = "renewed",
                [ENGINE_ACTION_FAILED] = "failed",
                [ENGINE_ACTION_WAITING] = "waiting",
                [ENGINE_ACTION_LOCKED] = "locked",
                [ENGINE_ACTION_REVOKED] = "revoked",
        };
        return (unsigned) a < _ENGINE_ACTION_MAX ? names[a] : NULL;
}

int engine_raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur >= rl.rlim_max)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        return 0;
}

/* ---- configuration generations ---- */

static conf_gen *conf_gen_new(conf *c) {
        conf_gen *ec = calloc(1, sizeof(*ec));

        if (!ec)
                return NULL;
        ec->c = c;
        ec->n_ref = 1;
        return ec;
}

conf_gen *conf_gen_ref(conf_gen *ec) {
        if (ec)
                ec->n_ref++;
        return ec;
}

conf_gen *conf_gen_unref(conf_gen *ec) {
        if (!ec || --ec->n_ref > 0)
                return NULL;
        aws_client_unref(ec->aws);
        conf_free(ec->c);
        free(ec);
        return NULL;
}

const conf *engine_conf(const engine *e) {
        return e->cref->c;
}

/* Earlier generations whose AWS client still has requests in flight are
 * kept until those are answered. */
static void old_crefs_gc(engine *e) {
        size_t k = 0;

        for (size_t i = 0; i < e->n_old_crefs; i++) {
                conf_gen *ec = e->old_crefs[i];
                if (ec->aws && aws_client_pending(ec->aws) > 0)
                        e->old_crefs[k++] = ec;
                else
                        conf_gen_unref(ec);
        }
        e->n_old_crefs = k;
}

/* ---- machines ---- */

static machine *find_machine(const engine *e, const char *name) {
        for (size_t i = 0; i < e->n_machines; i++)
                if (streq(e->machines[i]->name, name))
                        return e->machines[i];
        return NULL;
}

static int add_machine(engine *e, machine *m) {
        if (e->n_machines == e->n_alloc) {
                size_t n = e->n_alloc ? e->n_alloc * 2 : 16;
                machine **l = realloc(e->machines, n * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                e->machines = l;
                e->n_alloc = n;
        }
        e->machines[e->n_machines++] = m;
        return 0;
}

static void drop_machine(engine *e, machine *m) {
        for (size_t i = 0; i < e->n_machines; i++)
                if (e->machines[i] == m) {
                        memmove(e->machines + i, e->machines + i + 1, (e->n_machines - i - 1) * sizeof(*e->machines));
                        e->n_machines--;
                        break;
                }
        machine_free(m);
}

/* The workers make keys (CPU-bound: a thread per CPU is what helps) and
 * save states and deploy (fsync-bound: ENGINE_WORKERS_MIN overlapping keep
 * up with IssueCertificate's 25/s and more). Each thread keeps a malloc
 * arena and cache of its own, some 300 KiB after a 1000-certificate pass:
 * 8 threads on a 2-CPU host were 1.2 MiB more than 4, for no speed. */
static unsigned worker_threads(void) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        if (n < ENGINE_WORKERS_MIN)
                return ENGINE_WORKERS_MIN;
        return n > ENGINE_WORKERS_MAX ? ENGINE_WORKERS_MAX : (unsigned) n;
}

int engine_workers(engine *e, worker_pool **ret) {
        if (!e->workers) {
                int r = worker_pool_new(e->loop, worker_threads(), &e->workers);
                if (r < 0)
                        return r;
        }
        *ret = e->workers;
        return 0;
}

/* ---- the cache ---- */

static uint64_t mono_now(engine *e) {
        uint64_t t = 0;
        (void) sd_event_now(e->loop, CLOCK_MONOTONIC, &t);
        return t;
}

void *machine_cache_get(machine *m, const char *key) {
        engine *e = m->e;
        uint64_t now = mono_now(e);

        for (size_t i = 0; i < e->n_cache; i++)
                if (streq(e->cache[i].key, key)) {
                        if (e->cache[i].expires_usec && e->cache[i].expires_usec <= now)
                                return NULL;
                        return e->cache[i].value;
                }
        return NULL;
}

int machine_cache_put(machine *m, const char *key, void *value, void (*free_fn)(void *), uint64_t ttl) {
        engine *e = m->e;
        uint64_t now = mono_now(e);
        char *k;

        for (size_t i = 0; i < e->n_cache; i++)
                if (streq(e->cache[i].key, key)) {
                        if (!e->cache[i].expires_usec || e->cache[i].expires_usec > now)
                                return -EEXIST;
                        /* expired: replaced */
                        if (e->cache[i].free_fn)
                                e->cache[i].free_fn(e->cache[i].value);
                        e->cache[i].value = value;
                        e->cache[i].free_fn = free_fn;
                        e->cache[i].expires_usec = ttl ? now + ttl * USEC_PER_SEC : 0;
                        return 0;
                }
        if (e->n_cache == e->n_cache_alloc) {
                size_t n = e->n_cache_alloc ? e->n_cache_alloc * 2 : 8;
                cache_item *l = realloc(e->cache, n * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                e->cache = l;
                e->n_cache_alloc = n;
        }
        k = strdup(key);
        if (!k)
                return -ENOMEM;
        e->cache[e->n_cache++] = (cache_item) { k, value, free_fn, ttl ? now + ttl * USEC_PER_SEC : 0 };
        return 0;
}

static void cache_free(engine *e) {
        for (size_t i = 0; i < e->n_cache; i++) {
                if (e->cache[i].free_fn)
                        e->cache[i].free_fn(e->cache[i].value);
                free(e->cache[i].key);
        }
        free(e->cache);
        e->cache = NULL;
        e->n_cache = e->n_cache_alloc = 0;
}

/* ---- creating ---- */

static void machine_id_read(char *buf, size_t len) {
        _cleanup_(freep) char *s = NULL;

        buf[0] = 0;
        if (read_full_file("/etc/machine-id", 128, &s, NULL) < 0)
                return;  /* no machine id: the name alone spreads the jitter */
        s[strcspn(s, "\r\n")] = 0;
        snprintf(buf, len, "%s", s);
}

static void host_id_make(const char *machine_id, char out[static 17]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        out[0] = 0;
        if (isempty(machine_id))
                return;
        /* an application-specific hash: the machine id itself stays private */
        _cleanup_(freep) char *s = strprintf("acm-agent:%s", machine_id);
        if (s && crypto_sha256() && EVP_Digest(s, strlen(s), md, &len, crypto_sha256(), NULL) == 1 && len >= 8)
                hex_encode(md, 8, out);
}

int engine_new(sd_event *loop, conf *c, const engine_options *o, engine **ret, char *err, size_t errlen) {
        _cleanup_(engine_freep) engine *e = NULL;
        sigset_t ss;
        int r;

        if (!c || !o || !ret || !o->issuer_lookup) {
                conf_free(c);
                return -EINVAL;
        }
        if (o->only && !conf_find_cert(c, o->only)) {
                conf_free(c);
                return -ESRCH;
        }
        e = calloc(1, sizeof(*e));
        if (!e) {
                conf_free(c);
                return -ENOMEM;
        }
        e->opts = *o;
        e->cref = conf_gen_new(c);
        if (!e->cref) {
                conf_free(c);
                return -ENOMEM;
        }
        /* sd-event child sources (hooks, reload commands) need SIGCHLD
         * blocked in every thread: block it before any worker starts */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        r = -pthread_sigmask(SIG_BLOCK, &ss, NULL);
        if (r < 0)
                return r;
        /* a full file system or a closed pipe must be an error we report
         * (EFBIG, EPIPE), never a signal that kills the agent mid-deploy */
        (void) signal(SIGXFSZ, SIG_IGN);
        (void) signal(SIGPIPE, SIG_IGN);
        if (loop)
                e->loop = sd_event_ref(loop);
        else {
                r = sd_event_new(&e->loop);
                if (r < 0)
                        return r;
        }
        if (!o->dry_run) {
                r = store_prepare(c->state_dir, err, errlen);
                if (r < 0)
                        return r;
        }
        machine_id_read(e->machine_id, sizeof(e->machine_id));
        host_id_make(e->machine_id, e->host_id);
        for (conf_cert **i = c->certs; i && *i; i++) {
                machine *m;
                if (o->only && !streq((*i)->name, o->only))
                        continue;
                m = machine_new(e, e->cref, *i);
                if (!m || add_machine(e, m) < 0) {
                        machine_free(m);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(e);
        return 0;
}

/* ---- settling and waking ---- */

static void once_check_done(engine *e) {
        if (e->opts.mode != ENGINE_ONCE || !e->running)
                return;
        engine_reload_maybe_run(e);
        if (e->n_unsettled == 0) {
                e->running = false;
                (void) sd_event_exit(e->loop, 0);
        }
}

static void stop_check_done(engine *e);

/* Switches m to the configuration it was given while it was busy. */
static void apply_next_conf(engine *e, machine *m) {
        if (!m->next_cref)
                return;
        if (m->istate && m->ops)
                m->ops->state_free(m->istate);  /* the issuer may change: reloaded at the next wake */
        m->istate = NULL;
        conf_gen_unref(m->cref);
        m->cref = TAKE_PTR(m->next_cref);
        m->cert = TAKE_PTR(m->next_cert);
        m->ops = e->opts.issuer_lookup(m->cert->issuer_type);
}

/* daemon.on_remove: delete: the output directory (what the agent put
 * there) and the state, keys included, of a certificate no longer
 * configured. */
static void remove_files(engine *e, machine *m) {
        const char *arn = m->st ? m->st->served.arn : NULL;
        char err[512] = "";
        int r, fd = -1;

        r = store_lock(e->cref->c->state_dir, m->name, false, &fd);
        if (r < 0) {
                log_cert(LOG_WARNING, m->name, "no longer in the configuration, but its files are not removed: %s",
                         r == -EWOULDBLOCK ? "another acm-agent holds its lock" : strerror(-r));
                return;
        }
        r = m->ops && m->ops->deploys && !m->ops->deploys(m->cert) ? 0 : deploy_remove_all(&m->cert->output, err, sizeof(err));
        if (r < 0)
                log_cert(LOG_WARNING, m->name, "no longer in the configuration; removing %s failed: %s",
                         m->cert->output.dir, err[0] ? err : strerror(-r));
        else {
                r = store_remove(e->cref->c->state_dir, m->name);
                if (r < 0)
                        log_cert(LOG_WARNING, m->name, "no longer in the configuration; its state cannot be removed: %s",
                                 strerror(-r));
                else
                        log_cert(LOG_NOTICE, m->name, "no longer in the configuration: its files in %s and its state "
                                 "are removed (daemon.on_remove: delete)%s%s%s", m->cert->output.dir,
                                 arn ? "; in AWS, " : "", arn ? arn : "",
                                 arn ? " is neither deleted nor revoked (other services may use it)" : "");
        }
        safe_close(fd);
}

void engine_notify(engine *e, machine *m) {
        if (e->observer)
                e->observer(e, m->name, e->observer_userdata);
}

void engine_machine_settled(engine *e, machine *m) {
        if (e->opts.mode == ENGINE_ONCE) {
                if (!m->settled) {
                        m->settled = true;
                        if (e->n_unsettled > 0)
                                e->n_unsettled--;
                }
                engine_notify(e, m);
                once_check_done(e);
                return;
        }
        engine_notify(e, m);
        if (m->removed) {
                if (e->cref->c->daemon.on_remove == CONF_ON_REMOVE_DELETE)
                        remove_files(e, m);
                else
                        log_cert(LOG_NOTICE, m->name, "no longer in the configuration: not managed any more (its "
                                 "files and state stay where they are; daemon.on_remove: delete removes them)");
                drop_machine(e, m);
                if (e->stopping)
                        stop_check_done(e);
                else
                        engine_rearm(e);
                return;
        }
        if (m->next_cref) {
                apply_next_conf(e, m);
                m->poked = true;
        }
        old_crefs_gc(e);
        if (e->stopping) {
                stop_check_done(e);
                return;
        }
        if (m->poked) {
                m->poked = false;
                machine_wake(m);
                return;
        }
        engine_rearm(e);
}

/* ---- the daemon's wake timer: one timer, at the earliest wake ---- */

static int on_wake_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        engine *e = userdata;
        time_t now = clock_now();

        /* machines may be added or dropped while waking: walk a snapshot of
         * the names that are due */
        size_t n = 0;
        _cleanup_(freep) char **due = calloc(e->n_machines + 1, sizeof(char *));
        if (!due)
                return 0;
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                if (m->busy == BUSY_NONE && m->wake_at > 0 && m->wake_at <= now)
                        due[n++] = m->name;
        }
        for (size_t i = 0; i < n; i++) {
                machine *m = find_machine(e, due[i]);
                if (m && m->busy == BUSY_NONE)
                        machine_wake(m);
        }
        engine_rearm(e);
        return 0;
}

void engine_rearm(engine *e) {
        time_t when = 0;
        uint64_t usec;
        int64_t offset;

        if (e->opts.mode != ENGINE_DAEMON || e->stopping)
                return;
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                if (m->busy == BUSY_NONE && m->wake_at > 0 && (when == 0 || m->wake_at < when))
                        when = m->wake_at;
        }
        if (when == 0) {
                if (e->wake_timer)
                        (void) sd_event_source_set_enabled(e->wake_timer, SD_EVENT_OFF);
                return;
        }
        /* machines think in clock_now() (which tests may shift); the kernel
         * timer runs on the real clock */
        offset = (int64_t) clock_now() - (int64_t) time(NULL);
        usec = ((uint64_t) (when - offset)) * USEC_PER_SEC;
        if (e->wake_timer) {
                (void) sd_event_source_set_time(e->wake_timer, usec);
                (void) sd_event_source_set_enabled(e->wake_timer, SD_EVENT_ONESHOT);
        } else if (sd_event_add_time(e->loop, &e->wake_timer, CLOCK_REALTIME, usec, USEC_PER_SEC, on_wake_timer, e) < 0)
                log_error("cannot arm the wake timer: the daemon would not act on its own");
}

/* ---- running ---- */

/*
 * Reading a thousand state files is most of a pass that finds nothing to do
 * (the JSON parse dominates). With more than PRELOAD_MIN certificates and
 * more than one CPU, helpers on workers and the loop share the reading:
 * each claims the next PRELOAD_CHUNK machines from one cursor until none
 * are left, so whoever is faster reads more and all finish together. A
 * helper only reads: the state (store_load()), the fingerprints of the
 * (immutable) settings and, when a certificate is served, which version
 * is current (deploy_current_peek_in(): each reader keeps the parent of
 * the outputs open); nothing else, and it never touches a machine. The
 * loop reads the chunks it claims the same way and hands each to its
 * machines at once; a chunk a helper filled is handed to its machines
 * (BUSY_LOAD until then) as soon as the loop is free: after its own
 * claims, and when a helper finishes.
 */
#define PRELOAD_MIN 64
#define PRELOAD_MAX_THREADS 4
#define PRELOAD_CHUNK 8

static size_t min_size(size_t a, size_t b) {
        return a < b ? a : b;
}

typedef struct preload_item {
        const char *name;          /* the machine's name and settings (immutable while BUSY_LOAD) */
        const conf_cert *cert;
        int r;                     /* store_load(), or what the read-ahead read (preload_fill()) */
        cert_state *st;
        char *err;
        char fp[2][33];            /* issue, deploy; fp[0][0] == 0: not computed */
        bool cur_read;             /* cur_r, cur_id: deploy_current_peek() */
        int cur_r;
        char *cur_id;
} preload_item;

typedef struct preload_job {
        engine *e;
        char *state_dir;
        int certs_fd;              /* state_dir/certs for store_load_at(), or AT_FDCWD */
        size_t n;                  /* e->machines[0..n) */
        preload_item *items;
        atomic_size_t next;        /* the first machine nobody has claimed */
        atomic_bool *filled;       /* per chunk: a helper read it (release; acquire before use) */
        bool *taken;               /* per chunk, loop only: its machines have their state */
        unsigned n_running;        /* loop only: helper jobs whose done callback has not run */
        store_readahead *ra;       /* its states are taken before any is read again; NULL: none */
        bool ra_helps;             /* ra's thread runs preload_run() (joined by the loop) */
} preload_job;

static void preload_item_done(preload_item *it) {
        it->st = cert_state_free(it->st);
        it->err = (free(it->err), NULL);
        it->cur_id = (free(it->cur_id), NULL);
}

static void preload_job_free(preload_job *j) {
        for (size_t i = 0; i < j->n; i++)
                preload_item_done(&j->items[i]);
        if (j->certs_fd >= 0)
                safe_close(j->certs_fd);
        free(j->state_dir);
        free(j->items);
        free(j->filled);
        free(j->taken);
        free(j);
}

/* The first machine of the next unclaimed chunk; >= j->n when none is left. */
static size_t preload_claim(preload_job *j) {
        return atomic_fetch_add_explicit(&j->next, PRELOAD_CHUNK, memory_order_relaxed);
}

/* What a helper reads for items [from, to): the states not read ahead,
 * the fingerprints, and which version is current. */
static void preload_fill(preload_job *j, size_t from, size_t to, deploy_peek_dir *pd) {
        for (size_t i = from; i < to; i++) {
                preload_item *it = &j->items[i];
                if (!j->ra || !store_readahead_take(j->ra, it->name, &it->r, &it->st, &it->err))
                        it->r = store_load_at(j->certs_fd, j->state_dir, it->name, &it->st, &it->err);
                if (engine_fingerprint(it->cert, false, it->fp[0]) < 0 || engine_fingerprint(it->cert, true, it->fp[1]) < 0)
                        it->fp[0][0] = 0;
                if (it->r >= 0 && it->st->served.serial) {
                        it->cur_r = deploy_current_peek_in(pd, &it->cert->output, &it->cur_id);
                        it->cur_read = true;
                }
        }
}

static int preload_run(void *arg) {
        preload_job *j = arg;
        deploy_peek_dir pd = DEPLOY_PEEK_DIR_INIT;

        for (size_t from; (from = preload_claim(j)) < j->n;) {
                preload_fill(j, from, min_size(from + PRELOAD_CHUNK, j->n), &pd);
                atomic_store_explicit(&j->filled[from / PRELOAD_CHUNK], true, memory_order_release);
        }
        deploy_peek_dir_done(&pd);
        return 0;
}

static void preload_run_ra(void *arg) {
        (void) preload_run(arg);
}

/* Gives the machines of chunk c what was read for them (preload_fill()),
 * and wakes them (while the engine runs, when only_running). */
static void preload_hand_over_chunk(preload_job *j, size_t c, bool only_running) {
        size_t from = c * PRELOAD_CHUNK, to = min_size(from + PRELOAD_CHUNK, j->n);

        j->taken[c] = true;
        for (size_t i = from; i < to; i++) {
                preload_item *it = &j->items[i];
                machine *m = j->e->machines[i];
                m->pre_ready = true;
                m->pre_r = it->r;
                m->pre_st = TAKE_PTR(it->st);
                m->pre_err = TAKE_PTR(it->err);
                m->pre_cur_ready = it->cur_read;
                m->pre_cur_r = it->cur_r;
                m->pre_cur_id = TAKE_PTR(it->cur_id);
                if (it->fp[0][0]) {
                        memcpy(m->fp_issue, it->fp[0], sizeof(m->fp_issue));
                        memcpy(m->fp_deploy, it->fp[1], sizeof(m->fp_deploy));
                        m->fp_for = m->cert;
                }
                m->busy = BUSY_NONE;
        }
        for (size_t i = from; i < to && (!only_running || j->e->running); i++)
                machine_wake(j->e->machines[i]);
}

/* Hands over every chunk a helper has filled and nobody has taken. */
static void preload_hand_over(preload_job *j) {
        for (size_t c = 0; c * PRELOAD_CHUNK < j->n; c++)
                if (!j->taken[c] && atomic_load_explicit(&j->filled[c], memory_order_acquire))
                        preload_hand_over_chunk(j, c, false);
}

static void preload_done(int r, void *arg) {
        preload_job *j = arg;

        /* -ECANCELED: the engine is being freed, the machines with it */
        if (r != -ECANCELED)
                preload_hand_over(j);
        if (--j->n_running == 0)
                preload_job_free(j);
}

/* The states ra read while the configuration loaded become the machines'
 * (pre_*), for a pass without helpers; ra is stopped. NULL: nothing. */
static void readahead_take(engine *e, store_readahead *ra) {
        if (!ra)
                return;
        store_readahead_stop(ra);
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                if (!m->pre_ready && store_readahead_take(ra, m->name, &m->pre_r, &m->pre_st, &m->pre_err))
                        m->pre_ready = true;
        }
}

/* Starts helpers that read the states of e->machines (more than
 * PRELOAD_MIN, more than one CPU) and returns their job, every machine
 * BUSY_LOAD; NULL when the loop reads alone (no helper could be started:
 * nothing is BUSY_LOAD, and ra was not given anything). The first
 * helper is ra's thread, when there is one: it has been reading on the
 * second CPU since the configuration started loading, and goes on with
 * the job instead of ending while a new thread is started and scheduled. */
static preload_job *preload_start(engine *e, store_readahead *ra) {
        long ncpu = e->opts.load_threads ? (long) e->opts.load_threads : sysconf(_SC_NPROCESSORS_ONLN);
        size_t n = e->n_machines, n_chunks = (n + PRELOAD_CHUNK - 1) / PRELOAD_CHUNK;
        unsigned helpers;
        worker_pool *pool;
        preload_job *j;
        int r;

        if (n < PRELOAD_MIN || ncpu < 2 || engine_workers(e, &pool) < 0)
                return NULL;
        helpers = (unsigned) min_size((size_t) ncpu, PRELOAD_MAX_THREADS) - 1;
        j = calloc(1, sizeof(*j));
        if (!j)
                return NULL;
        *j = (preload_job) { .e = e, .n = n, .state_dir = strdup(e->cref->c->state_dir), .certs_fd = AT_FDCWD,
                             .items = calloc(n, sizeof(preload_item)), .filled = calloc(n_chunks, sizeof(atomic_bool)),
                             .taken = calloc(n_chunks, sizeof(bool)) };
        if (!j->state_dir || !j->items || !j->filled || !j->taken) {
                preload_job_free(j);
                return NULL;
        }
        r = store_certs_open(j->state_dir);
        if (r >= 0)
                j->certs_fd = r;
        atomic_init(&j->next, 0);
        for (size_t c = 0; c < n_chunks; c++)
                atomic_init(&j->filled[c], false);
        for (size_t i = 0; i < n; i++) {
                machine *m = e->machines[i];
                preload_item *it = &j->items[i];
                *it = (preload_item) { .name = m->name, .cert = m->cert };
                m->busy = BUSY_LOAD;
        }
        j->ra = ra;
        if (ra && store_readahead_then(ra, preload_run_ra, j)) {
                j->ra_helps = true;
                helpers--;
        }
        for (unsigned k = 0; k < helpers; k++) {
                if (worker_pool_submit(pool, preload_run, preload_done, j) < 0)
                        break;
                j->n_running++;
        }
        if (j->n_running == 0 && !j->ra_helps) {
                for (size_t i = 0; i < n; i++)
                        e->machines[i]->busy = BUSY_NONE;
                preload_job_free(j);
                return NULL;
        }
        return j;
}

/* The loop's part: it claims chunks as the helpers do, reads them as they
 * do (preload_fill()) and hands each over at once; then waits for ra's
 * thread to finish its last chunk and hands over what the helpers filled
 * so far. j may be freed when this returns (here, or by the pool helpers'
 * done callbacks, which run only from the loop). */
static void preload_loop_share(engine *e, preload_job *j) {
        deploy_peek_dir pd = DEPLOY_PEEK_DIR_INIT;

        for (size_t from; e->running && (from = preload_claim(j)) < j->n;) {
                preload_fill(j, from, min_size(from + PRELOAD_CHUNK, j->n), &pd);
                preload_hand_over_chunk(j, from / PRELOAD_CHUNK, true);
        }
        deploy_peek_dir_done(&pd);
        if (j->ra_helps) {
                store_readahead_stop(j->ra);  /* every chunk is claimed: at most one is left to it */
                j->ra_helps = false;
        }
        preload_hand_over(j);
        if (j->n_running == 0)
                preload_job_free(j);
}

/* e->opts.readahead when it read this configuration's state_dir; else it
 * is stopped, and NULL. */
static store_readahead *readahead_for(engine *e) {
        store_readahead *ra = e->opts.readahead;

        if (!ra)
                return NULL;
        if (streq(store_readahead_dir(ra), e->cref->c->state_dir))
                return ra;
        store_readahead_stop(ra);
        return NULL;
}

int engine_run_once(engine *e) {
        int r;

        if (e->opts.mode != ENGINE_ONCE)
                return -EINVAL;
        store_readahead *ra = readahead_for(e);
        e->running = true;
        e->n_unsettled = e->n_machines;
        for (size_t i = 0; i < e->n_machines; i++)
                e->machines[i]->settled = false;
        preload_job *j = preload_start(e, ra);
        if (j)
                preload_loop_share(e, j);
        else {
                readahead_take(e, ra);
                for (size_t i = 0; i < e->n_machines && e->running; i++)
                        machine_wake(e->machines[i]);
        }
        once_check_done(e);  /* no certificates, or a filter that matched none */
        if (!e->running)
                return 0;  /* everything settled at once: no loop, no AWS, no thread */
        r = sd_event_loop(e->loop);
        return r < 0 ? r : 0;
}

int engine_start(engine *e) {
        if (e->opts.mode != ENGINE_DAEMON)
                return -EINVAL;
        for (size_t i = 0; i < e->n_machines; i++)
                machine_wake(e->machines[i]);
        engine_rearm(e);
        return 0;
}

int engine_poke(engine *e, const char *name) {
        machine *m = find_machine(e, name);

        if (!m)
                return -ENOENT;
        m->watch_now = true;
        if (m->busy != BUSY_NONE) {
                m->poked = true;
                return 0;
        }
        machine_wake(m);
        return 0;
}

/* The AWS settings of two configurations are the same (the client and its
 * credentials can be kept). Compared through conf_to_json: only on a
 * reconfigure, never in a pass. */
static bool aws_settings_equal(const conf *a, const conf *b) {
        _cleanup_(json_decrefp) json_t *ja = conf_to_json(a), *jb = conf_to_json(b);
        return ja && jb && json_equal(json_object_get(ja, "aws"), json_object_get(jb, "aws"));
}

static bool cert_changed(const conf_cert *a, const conf_cert *b) {
        char fa[33], fb[33];

        if (engine_fingerprint(a, false, fa) < 0 || engine_fingerprint(b, false, fb) < 0 || !streq(fa, fb))
                return true;
        if (engine_fingerprint(a, true, fa) < 0 || engine_fingerprint(b, true, fb) < 0 || !streq(fa, fb))
                return true;
        return memcmp(&a->schedule, &b->schedule, sizeof(a->schedule)) != 0;
}

void engine_clock_changed(engine *e) {
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                if (m->busy == BUSY_NONE)
                        m->wake_at = machine_next_wake(m);
        }
        engine_rearm(e);
}

int engine_reconfigure(engine *e, conf *c, engine_reconfigure_report *ret_report) {
        engine_reconfigure_report rep = {};
        conf_gen *ec;
        bool aws_changed;

        if (e->opts.mode != ENGINE_DAEMON) {
                conf_free(c);
                return -EINVAL;
        }
        ec = conf_gen_new(c);
        if (!ec) {
                conf_free(c);
                return -ENOMEM;
        }
        /* room for every new certificate first: no half-applied change */
        size_t n_new = 0;
        for (conf_cert **i = c->certs; i && *i; i++)
                if (!find_machine(e, (*i)->name))
                        n_new++;
        if (e->n_machines + n_new > e->n_alloc) {
                size_t n = e->n_machines + n_new;
                machine **l = realloc(e->machines, n * sizeof(*l));
                if (!l) {
                        conf_gen_unref(ec);
                        return -ENOMEM;
                }
                e->machines = l;
                e->n_alloc = n;
        }
        aws_changed = !aws_settings_equal(e->cref->c, c);
        if (!aws_changed && e->cref->aws) {
                /* the same AWS settings: keep the client (credentials, rate
                 * limits and connections survive the reload) */
                ec->aws = aws_client_ref(e->cref->aws);
                /* it read the old generation's aws: until now; that one
                 * may be freed below */
                aws_client_set_config(ec->aws, &c->aws);
        }
        /* removed certificates */
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                const conf_cert *nc = conf_find_cert(c, m->name);
                if (!nc) {
                        m->removed = true;
                        rep.removed++;
                } else if (cert_changed(m->next_cert ? m->next_cert : m->cert, nc))
                        rep.changed++;
        }
        rep.added = n_new;
        rep.total = c->n_certs;
        /* changed and kept ones: switched now when idle, else when settled */
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                const conf_cert *nc = conf_find_cert(c, m->name);
                if (!nc)
                        continue;
                if (m->removed) {
                        /* removed by an earlier reload while busy, and back
                         * before it settled: managed again, not dropped */
                        m->removed = false;
                        log_cert(LOG_NOTICE, m->name, "back in the configuration before its removal took effect");
                }
                conf_gen_unref(m->next_cref);
                m->next_cref = conf_gen_ref(ec);
                m->next_cert = nc;
                if (m->busy == BUSY_NONE)
                        apply_next_conf(e, m);
        }
        /* the old generation's client may still have requests in flight */
        if (e->cref->aws && aws_client_pending(e->cref->aws) > 0 && aws_changed) {
                conf_gen **l = realloc(e->old_crefs, (e->n_old_crefs + 1) * sizeof(*l));
                if (l) {
                        e->old_crefs = l;
                        e->old_crefs[e->n_old_crefs++] = conf_gen_ref(e->cref);
                }
        }
        conf_gen_unref(e->cref);
        e->cref = ec;
        /* cached answers may belong to the old settings */
        cache_free(e);
        for (conf_cert **i = c->certs; i && *i; i++)
                if (!find_machine(e, (*i)->name)) {
                        machine *m = machine_new(e, ec, *i);
                        if (!m)
                                return -ENOMEM;  /* the others are reconfigured; this one comes next time */
                        e->machines[e->n_machines++] = m;
                        log_cert(LOG_NOTICE, m->name, "added by the new configuration");
                }
        /* wake every idle machine: a removed one is dropped, a changed one
         * decides with its new settings, a new one starts */
        for (size_t i = 0; i < e->n_machines;) {
                machine *m = e->machines[i];
                size_t before = e->n_machines;
                if (m->busy == BUSY_NONE) {
                        if (m->removed) {
                                engine_machine_settled(e, m);
                                if (e->n_machines < before)
                                        continue;
                        } else
                                machine_wake(m);
                }
                i++;
        }
        engine_rearm(e);
        if (ret_report)
                *ret_report = rep;
        return 0;
}

/* ---- stopping ---- */

static int on_stop_defer(sd_event_source *s _unused_, void *userdata) {
        engine *e = userdata;
        void (*done)(void *) = e->stop_done;

        e->stop_defer = sd_event_source_disable_unref(e->stop_defer);
        e->stop_done = NULL;
        if (done)
                done(e->stop_userdata);
        return 0;
}

static void stop_check_done(engine *e) {
        if (!e->stopping || !e->stop_done || e->stop_defer)
                return;
        for (size_t i = 0; i < e->n_machines; i++)
                if (e->machines[i]->busy != BUSY_NONE)
                        return;
        if (e->reload_running)
                return;
        /* called from the loop, never from inside engine_stop() */
        if (sd_event_add_defer(e->loop, &e->stop_defer, on_stop_defer, e) < 0)
                on_stop_defer(NULL, e);
}

void engine_stop(engine *e, void (*done)(void *userdata), void *userdata) {
        e->stopping = true;
        e->stop_done = done;
        e->stop_userdata = userdata;
        if (e->wake_timer)
                (void) sd_event_source_set_enabled(e->wake_timer, SD_EVENT_OFF);
        for (size_t i = 0; i < e->n_machines; i++)
                (void) machine_stop(e->machines[i]);
        /* queued reloads not started yet: their deploy is on disk (RELOAD),
         * the next start reloads */
        if (!e->reload_running)
                while (e->n_reload_queue > 0) {
                        machine *m = e->reload_queue[--e->n_reload_queue];
                        m->busy = BUSY_NONE;
                }
        stop_check_done(e);
}

/* ---- results ---- */

size_t engine_n_results(const engine *e) {
        return e ? e->n_machines : 0;
}

const engine_result *engine_result_get(const engine *e, size_t i) {
        if (!e || i >= e->n_machines)
                return NULL;
        machine_result_refresh(e->machines[i]);
        return &e->machines[i]->res;
}

int engine_exit_code(const engine *e) {
        bool waiting = false;

        for (size_t i = 0; i < e->n_machines; i++) {
                engine_action a = e->machines[i]->action;
                if (a == ENGINE_ACTION_FAILED || a == ENGINE_ACTION_REVOKED)
                        return 1;
                if (a == ENGINE_ACTION_LOCKED || a == ENGINE_ACTION_WAITING)
                        waiting = true;
        }
        return waiting ? 3 : 0;
}

time_t engine_next_wake(const engine *e, const char **ret_name) {
        time_t when = 0;
        const char *name = NULL;

        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                if (m->wake_at > 0 && (when == 0 || m->wake_at < when)) {
                        when = m->wake_at;
                        name = m->name;
                }
        }
        if (ret_name)
                *ret_name = name;
        return when;
}

void engine_get_counts(const engine *e, engine_counts *ret) {
        time_t now = clock_now();

        *ret = (engine_counts) { .total = e->n_machines };
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                const cert_state *st = m->st;
                if (m->busy != BUSY_NONE) {
                        ret->busy++;
                        ret->queued += m->busy == BUSY_QUEUED;
                        continue;
                }
                if (!st)
                        continue;
                switch (st->phase) {
                case PHASE_VALID:
                        ret->valid++;
                        break;
                case PHASE_WAITING:
                        ret->waiting++;
                        break;
                case PHASE_REVOKED:
                        ret->revoked++;
                        break;
                case PHASE_BACKOFF:
                case PHASE_RELOAD:
                        ret->failed++;
                        break;
                default:
                        break;
                }
                if (st->served.serial) {
                        time_t renew_at = sched_renew_at(&m->cert->schedule, st->served.not_before,
                                                         st->served.not_after, sched_hash(e->machine_id, m->name));
                        if (sched_danger_at(st->served.not_before, st->served.not_after, renew_at, now) != SCHED_SAFE)
                                ret->in_danger++;
                }
        }
}

void engine_set_observer(engine *e, void (*changed)(engine *e, const char *name, void *userdata), void *userdata) {
        e->observer = changed;
        e->observer_userdata = userdata;
}

static void stats_add(json_t *calls, json_t *errors, aws_client *c, uint64_t *throttles) {
        for (size_t i = 0; c && i < aws_client_n_stats(c); i++) {
                const aws_op_stats *s = aws_client_stats(c, i);
                char key[128];
                json_int_t prev;
                snprintf(key, sizeof(key), "%s:%s", s->service, s->operation);
                prev = json_integer_value(json_object_get(calls, key));
                json_object_set_new(calls, key, json_integer(prev + (json_int_t) s->calls));
                if (s->errors > 0) {
                        prev = json_integer_value(json_object_get(errors, key));
                        json_object_set_new(errors, key, json_integer(prev + (json_int_t) s->errors));
                }
        }
        if (c)
                *throttles += aws_client_throttle_count(c);
}

json_t *engine_aws_stats_json(const engine *e) {
        json_t *o = json_object(), *calls = json_object(), *errors = json_object();
        uint64_t throttles = 0;

        if (!o || !calls || !errors) {
                json_decref(o);
                json_decref(calls);
                json_decref(errors);
                return NULL;
        }
        stats_add(calls, errors, e->cref->aws, &throttles);
        for (size_t i = 0; i < e->n_old_crefs; i++)
                stats_add(calls, errors, e->old_crefs[i]->aws, &throttles);
        json_object_set_new(o, "calls", calls);
        json_object_set_new(o, "errors", errors);
        json_object_set_new(o, "throttles", json_integer((json_int_t) throttles));
        return o;
}

size_t engine_aws_n_stats(const engine *e) {
        return e->cref->aws ? aws_client_n_stats(e->cref->aws) : 0;
}

const struct aws_op_stats *engine_aws_stats(const engine *e, size_t i) {
        return e->cref->aws ? aws_client_stats(e->cref->aws, i) : NULL;
}

engine *engine_free(engine *e) {
        if (!e)
                return NULL;
        /* stop issuers and hooks, then join the workers (their jobs get
         * -ECANCELED and wipe what they hold), then free the machines */
        for (size_t i = 0; i < e->n_machines; i++) {
                machine *m = e->machines[i];
                if (m->key_job)
                        store_key_job_cancel(TAKE_PTR(m->key_job));
                if (m->op != OP_NONE && m->ops && m->ops->cancel)
                        m->ops->cancel(m);
                m->op = OP_NONE;
        }
        engine_reload_free(e);
        machine_queue_drop(e);
        e->workers = worker_pool_free(e->workers);
        for (size_t i = 0; i < e->n_machines; i++)
                machine_free(e->machines[i]);
        free(e->machines);
        cache_free(e);
        for (size_t i = 0; i < e->n_old_crefs; i++)
                conf_gen_unref(e->old_crefs[i]);
        free(e->old_crefs);
        conf_gen_unref(e->cref);
        sd_event_source_disable_unref(e->wake_timer);
        sd_event_source_disable_unref(e->stop_defer);
        sd_event_unref(e->loop);
        free(e);
        return NULL;
}
