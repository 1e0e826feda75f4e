/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reload batch: certificates deployed close together share one reload
 * per server (reload_pass, deploy-reload.h). --once collects every deploy of
 * the pass (the batch runs when every other machine has settled); the daemon
 * waits daemon.reload_debounce after the last deploy (at most four times
 * that after the first). A deploy that arrives while a batch runs waits for
 * the next one — it is never refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "engine/engine-internal.h"

static int list_add(machine ***l, size_t *n, size_t *cap, machine *m) {
        for (size_t i = 0; i < *n; i++)
                if ((*l)[i] == m)
                        return 0;
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 16;
                machine **nl = realloc(*l, c * sizeof(*nl));
                if (!nl)
                        return -ENOMEM;
                *l = nl;
                *cap = c;
        }
        (*l)[(*n)++] = m;
        return 0;
}

static bool list_remove(machine **l, size_t *n, machine *m) {
        for (size_t i = 0; i < *n; i++)
                if (l[i] == m) {
                        memmove(l + i, l + i + 1, (*n - i - 1) * sizeof(*l));
                        (*n)--;
                        return true;
                }
        return false;
}

static machine *member_by_cert(engine *e, const conf_cert *cert) {
        for (size_t i = 0; i < e->n_reload_members; i++)
                if (e->reload_members[i]->cert == cert)
                        return e->reload_members[i];
        return NULL;
}

static int on_rollback(const conf_cert *cert, const char *previous_version, void *userdata) {
        engine *e = userdata;
        machine *m = member_by_cert(e, cert);
        char err[512] = "";
        int r;

        if (!m)
                return -ESRCH;
        r = machine_rollback(m, previous_version, err, sizeof(err));
        if (r < 0)
                log_cert(LOG_ERR, m->name, "rollback to %s failed: %s", previous_version, err[0] ? err : strerror(-r));
        return r;
}

static void on_cert_done(const conf_cert *cert, int r, const char *reason, bool rolled_back, void *userdata) {
        engine *e = userdata;
        machine *m = member_by_cert(e, cert);

        if (!m)
                return;
        list_remove(e->reload_members, &e->n_reload_members, m);
        machine_reloaded(m, r, reason, rolled_back);
}

static int on_debounce(sd_event_source *s, uint64_t usec, void *userdata);
static void batch_run(engine *e);

static void arm_debounce(engine *e) {
        uint64_t delay = e->cref->c->daemon.reload_debounce * USEC_PER_SEC, now, when;

        if (e->reload_running || e->n_reload_queue == 0)
                return;
        if (delay == 0)
                return batch_run(e);
        (void) sd_event_now(e->loop, CLOCK_MONOTONIC, &now);
        if (e->reload_first_usec == 0)
                e->reload_first_usec = now;
        when = now + delay;
        if (when > e->reload_first_usec + 4 * delay)
                when = e->reload_first_usec + 4 * delay;
        if (e->reload_timer) {
                (void) sd_event_source_set_time(e->reload_timer, when);
                (void) sd_event_source_set_enabled(e->reload_timer, SD_EVENT_ONESHOT);
        } else if (sd_event_add_time(e->loop, &e->reload_timer, CLOCK_MONOTONIC, when, 0, on_debounce, e) < 0)
                batch_run(e);  /* no timer: reload now rather than never */
}

static void on_pass_done(reload_pass *pass _unused_, unsigned n_failed _unused_, void *userdata) {
        engine *e = userdata;

        e->reload_running = reload_pass_free(e->reload_running);
        /* a member the pass forgot to report is failed, not left hanging */
        while (e->n_reload_members > 0) {
                machine *m = e->reload_members[--e->n_reload_members];
                machine_reloaded(m, -EIO, "the reload batch ended without a result for it", false);
        }
        if (e->opts.mode == ENGINE_DAEMON)
                arm_debounce(e);
        else
                engine_reload_maybe_run(e);
}

static void batch_run(engine *e) {
        reload_callbacks cb = {
                .rollback = on_rollback,
                .cert_done = on_cert_done,
                .pass_done = on_pass_done,
                .userdata = e,
        };
        machine **failed = NULL;
        size_t n_failed = 0, cap_failed = 0;
        reload_pass *pass;
        int r;

        if (e->reload_running || e->n_reload_queue == 0)
                return;
        e->reload_timer = sd_event_source_disable_unref(e->reload_timer);
        e->reload_first_usec = 0;
        pass = reload_pass_new(e->loop);
        if (!pass) {
                while (e->n_reload_queue > 0)
                        machine_reloaded(e->reload_queue[--e->n_reload_queue], -ENOMEM, "out of memory", false);
                return;
        }
        /* the queue becomes the batch */
        free(e->reload_members);
        e->reload_members = TAKE_PTR(e->reload_queue);
        e->n_reload_members = e->n_reload_queue;
        e->n_reload_queue = e->n_reload_alloc = 0;
        for (size_t i = 0; i < e->n_reload_members;) {
                machine *m = e->reload_members[i];
                const char *prev = m->st->previous.serial ? m->st->previous.version : NULL;
                r = reload_pass_add(pass, m->cert, prev);
                if (r < 0) {
                        list_remove(e->reload_members, &e->n_reload_members, m);
                        if (list_add(&failed, &n_failed, &cap_failed, m) < 0)
                                machine_reloaded(m, r, "cannot add it to the reload batch", false);
                        continue;
                }
                i++;
        }
        e->reload_running = pass;
        log_debug("reload batch: %zu certificate(s), %u target(s)", e->n_reload_members, reload_pass_n_targets(pass));
        r = reload_pass_run(pass, &cb);
        if (r < 0) {
                e->reload_running = reload_pass_free(e->reload_running);
                while (e->n_reload_members > 0) {
                        machine *m = e->reload_members[--e->n_reload_members];
                        machine_reloaded(m, r, "the reload batch could not start", false);
                }
        }
        for (size_t i = 0; i < n_failed; i++)
                machine_reloaded(failed[i], -ENOMEM, "cannot add it to the reload batch", false);
        free(failed);
}

static int on_debounce(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        engine *e = userdata;

        batch_run(e);
        return 0;
}

int engine_reload_enqueue(engine *e, machine *m) {
        int r = list_add(&e->reload_queue, &e->n_reload_queue, &e->n_reload_alloc, m);

        if (r < 0)
                return r;
        m->busy = BUSY_RELOAD;
        if (e->opts.mode == ENGINE_DAEMON)
                arm_debounce(e);
        else
                engine_reload_maybe_run(e);
        return 0;
}

void engine_reload_maybe_run(engine *e) {
        if (e->opts.mode != ENGINE_ONCE || e->reload_running || e->n_reload_queue == 0)
                return;
        /* every machine that has not settled waits for this batch */
        if (e->n_unsettled > e->n_reload_queue)
                return;
        batch_run(e);
}

void engine_reload_forget(engine *e, machine *m) {
        list_remove(e->reload_queue, &e->n_reload_queue, m);
        list_remove(e->reload_members, &e->n_reload_members, m);
}

void engine_reload_free(engine *e) {
        e->reload_timer = sd_event_source_disable_unref(e->reload_timer);
        e->reload_running = reload_pass_free(e->reload_running);
        free(e->reload_queue);
        free(e->reload_members);
        e->reload_queue = e->reload_members = NULL;
        e->n_reload_queue = e->n_reload_members = e->n_reload_alloc = 0;
}
