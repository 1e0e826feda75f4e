/* SPDX-License-Identifier: Apache-2.0 */
/* The Route 53 publisher: records of many certificates, batched per zone. */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws-route53.h"
#include "basic/log.h"
#include "basic/util.h"
#include "issuer/issuer-dns-internal.h"
#include "issuer/issuer-dns-route53.h"

#define WINDOW_DEFAULT_USEC (2 * USEC_PER_SEC)
#define POLL_FIRST_DEFAULT_USEC (2 * USEC_PER_SEC)
#define POLL_MAX_DEFAULT_USEC (30 * USEC_PER_SEC)
#define RETRY_FIRST_USEC (2 * USEC_PER_SEC)
#define RETRY_MAX_USEC (30 * USEC_PER_SEC)
#define ZONE_LIST_PAGE 100
#define ZONE_LIST_MAX_PAGES 100
#define ZONE_LIST_MAX_AGE_USEC (300 * USEC_PER_SEC)
#define NOTICE_MAX 1024

typedef struct r53_job r53_job;
typedef struct r53_zone r53_zone;
typedef struct r53_batch r53_batch;

typedef enum entry_state {
        ENTRY_QUEUED,   /* waits for the next batch of its zone */
        ENTRY_SENDING,  /* in the zone's ChangeResourceRecordSets (or its retry) */
        ENTRY_POLLING,  /* accepted; GetChange until INSYNC */
        ENTRY_DONE,     /* INSYNC (published, or deleted) in this publisher's life */
} entry_state;

/* One record of one zone: what this publisher knows of it. */
typedef struct r53_entry {
        r53_zone *zone;
        char *name, *value;
        uint64_t ttl;
        dns_action action;
        entry_state state;
        r53_batch *batch;     /* SENDING, POLLING */
        char *cert_name;      /* the certificate that asked for the current action first */
        r53_job **waiters;
        size_t n_waiters, cap_waiters;
} r53_entry;

struct r53_batch {
        r53_zone *zone;
        dns_action action;
        r53_entry **entries;
        size_t n;
        char *change_id;      /* once accepted */
        aws_request *req;
        sd_event_source *timer;
        uint64_t delay;       /* the next poll or retry interval */
        char *last_error;     /* the last retried failure, for timeout messages */
        r53_batch *next_batch, *prev_batch;
};

struct r53_zone {
        dns_route53 *p;
        char *id;
        void *entries;                 /* tsearch tree by name */
        r53_entry **queue[_DNS_ACTION_MAX];
        size_t n_queue[_DNS_ACTION_MAX], cap_queue[_DNS_ACTION_MAX];
        r53_batch *sending;            /* at most one ChangeResourceRecordSets per zone */
        sd_event_source *window;
        bool window_due;               /* the window passed: send what is queued */
};

struct r53_job {
        dns_job base;
        dns_route53 *p;
        dns_records records;
        dns_action action;
        char *zone_id;                 /* NULL: by name */
        uint64_t ttl, timeout_usec;
        char *cert_name;
        bool routed, list_retried, finished;
        r53_entry **entries;           /* entries it waits for */
        size_t n_entries;
        sd_event_source *timeout, *defer;
        int error;
        const char *kind;
        char *message, *notice;
        dns_callback cb;
        void *userdata;
        r53_job *next_job, *prev_job;
};

typedef enum list_state {
        LIST_NONE,
        LIST_LOADING,
        LIST_LOADED,
} list_state;

struct dns_route53 {
        sd_event *event;
        aws_client *client;
        conf_aws role_cfg;             /* new_for_role: the settings the client reads (a deep copy) */
        uint64_t window, poll_first, poll_max;
        r53_zone **zones;
        size_t n_zones, cap_zones;
        dns_route53_zone *list, *loading;
        size_t n_list, n_loading;
        list_state list_state;
        uint64_t list_usec;            /* CLOCK_MONOTONIC when the list was loaded */
        unsigned list_pages;
        aws_request *list_req;
        r53_job *jobs, *jobs_tail;     /* in submission order */
        r53_batch *batches;
};

/* ---------------------------------------------------------------- helpers */

static uint64_t now_usec(dns_route53 *p) {
        uint64_t t = 0;
        (void) sd_event_now(p->event, CLOCK_MONOTONIC, &t);
        return t;
}

static void zone_list_free(dns_route53_zone *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].id);
                free(l[i].name);
        }
        free(l);
}

size_t dns_route53_batch_fit(const size_t *value_len, size_t n, dns_action action) {
        size_t w = action == DNS_ACTION_DELETE ? 1 : 2, recs = 0, chars = 0, i;
        for (i = 0; i < n; i++) {
                if (recs + w > DNS_ROUTE53_BATCH_RECORDS || chars + w * value_len[i] > DNS_ROUTE53_BATCH_VALUE_CHARS)
                        break;
                recs += w;
                chars += w * value_len[i];
        }
        return i == 0 && n > 0 ? 1 : i;
}

static bool label_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Where message names name (whole name), or NULL. */
static const char *message_find(const char *message, const char *name) {
        size_t l = strlen(name);
        if (l > 0 && name[l - 1] == '.')
                l--;
        if (!message || l == 0)
                return NULL;
        for (const char *s = message; *s; s++) {
                if (strncasecmp(s, name, l) != 0)
                        continue;
                if (s > message && (label_char(s[-1]) || s[-1] == '.'))
                        continue;
                const char *e = s + l;
                if (*e == '.')
                        e++;
                if (label_char(*e))
                        continue;
                return s;
        }
        return NULL;
}

bool dns_route53_message_names(const char *message, const char *name) {
        return name && message_find(message, name);
}

int dns_route53_parse_zones(json_t *resp, dns_route53_zone **zones, size_t *n, const char **ret_next_name,
                            const char **ret_next_id) {
        json_t *list = json_object_get(json_object_get(resp, "HostedZones"), "HostedZone");
        size_t cap = *n, k = route53_list_n(list);

        for (size_t i = 0; i < k; i++) {
                json_t *z = route53_list_get(list, i);
                const char *id = json_string_value(json_object_get(z, "Id"));
                const char *name = json_string_value(json_object_get(z, "Name"));
                const char *priv = json_string_value(json_object_get(json_object_get(z, "Config"), "PrivateZone"));
                _cleanup_(freep) char *nid = NULL, *nname = NULL;
                int r;

                if (!id || !name || route53_zone_id_normalize(id, &nid) < 0)
                        return -EBADMSG;
                if (!(nname = strdup(name)))
                        return -ENOMEM;
                if ((r = dns_grow((void **) zones, &cap, *n + 1, sizeof **zones)) < 0)
                        return r;
                (*zones)[(*n)++] = (dns_route53_zone) {
                        .id = TAKE_PTR(nid),
                        .name = TAKE_PTR(nname),
                        .private_zone = priv && streq(priv, "true"),
                };
        }
        const char *trunc = json_string_value(json_object_get(resp, "IsTruncated"));
        const char *nn = NULL, *ni = NULL;
        if (trunc && streq(trunc, "true")) {
                nn = json_string_value(json_object_get(resp, "NextDNSName"));
                ni = json_string_value(json_object_get(resp, "NextHostedZoneId"));
                if (isempty(nn))
                        return -EBADMSG;
        }
        *ret_next_name = nn;
        *ret_next_id = ni;
        return 0;
}

int dns_route53_pick_zone(const dns_route53_zone *zones, size_t n, const char *name, size_t *ret_index,
                          char **ret_notice) {
        size_t best = SIZE_MAX, best_len = 0, priv = SIZE_MAX, priv_len = 0;

        for (size_t i = 0; i < n; i++) {
                if (!dns_name_in_zone(name, zones[i].name))
                        continue;
                size_t l = strlen(zones[i].name);
                if (zones[i].private_zone) {
                        if (priv == SIZE_MAX || l > priv_len)
                                priv = i, priv_len = l;
                } else if (best == SIZE_MAX || l > best_len)
                        best = i, best_len = l;
        }
        char *notice = NULL;
        if (priv != SIZE_MAX && (best == SIZE_MAX || priv_len >= best_len)) {
                if (best == SIZE_MAX)
                        notice = strprintf("private hosted zone %s (%s) matches %s, but ACM validates through "
                                           "public DNS: create a public zone for it, or set dns.hosted_zone_id",
                                           zones[priv].name, zones[priv].id, name);
                else
                        notice = strprintf("%s goes to the public hosted zone %s (%s), not to the private zone "
                                           "%s (%s): ACM validates through public DNS",
                                           name, zones[best].name, zones[best].id, zones[priv].name, zones[priv].id);
                if (!notice)
                        return -ENOMEM;
        }
        if (best == SIZE_MAX) {
                if (ret_notice)
                        *ret_notice = notice;
                else
                        free(notice);
                return -ENOENT;
        }
        *ret_index = best;
        if (ret_notice)
                *ret_notice = notice;
        else
                free(notice);
        return 0;
}

/* ---------------------------------------------------------------- jobs */

static void job_detach(r53_job *j);
static void entry_free(r53_entry *e);
static void zone_kick(r53_zone *z);

/* Takes j out of its publisher (which j does not touch afterwards). */
static void job_unlink(r53_job *j) {
        dns_route53 *p = j->p;
        if (!p)
                return;
        job_detach(j);
        if (j->prev_job)
                j->prev_job->next_job = j->next_job;
        else if (p->jobs == j)
                p->jobs = j->next_job;
        if (j->next_job)
                j->next_job->prev_job = j->prev_job;
        else if (p->jobs_tail == j)
                p->jobs_tail = j->prev_job;
        j->p = NULL;
}

static void job_free(r53_job *j) {
        if (!j)
                return;
        job_unlink(j);
        sd_event_source_disable_unref(j->timeout);
        sd_event_source_disable_unref(j->defer);
        dns_records_done(&j->records);
        free(j->entries);
        free(j->zone_id);
        free(j->cert_name);
        free(j->message);
        free(j->notice);
        free(j);
}

static void job_cancel(dns_job *base) {
        job_free((r53_job *) base);
}

static int on_job_defer(sd_event_source *s _unused_, void *userdata) {
        r53_job *j = userdata;
        dns_result res = {
                .error = j->error,
                .kind = j->error ? j->kind : NULL,
                .message = j->error ? (j->message ? j->message : "out of memory") : NULL,
                .notice = j->notice,
        };
        /* The callback may free the publisher: j leaves it first. */
        job_unlink(j);
        j->cb(&res, j->userdata);
        job_free(j);
        return 0;
}

/* Ends j (once) from the loop. */
static void job_finish(r53_job *j) {
        if (j->finished)
                return;
        j->finished = true;
        job_detach(j);
        j->timeout = sd_event_source_disable_unref(j->timeout);
        if (sd_event_add_defer(j->p->event, &j->defer, on_job_defer, j) < 0)
                on_job_defer(NULL, j);
}

static void job_fail(r53_job *j, int error, const char *kind, char *message) {
        if (j->finished) {
                free(message);
                return;
        }
        j->error = error;
        j->kind = kind;
        free(j->message);
        j->message = message;
        job_finish(j);
}

static void job_add_notice(r53_job *j, char *notice) {
        if (!notice)
                return;
        if (!j->notice)
                j->notice = notice;
        else {
                if (!strstr(j->notice, notice) && strlen(j->notice) < NOTICE_MAX) {
                        char *s = strprintf("%s; %s", j->notice, notice);
                        if (s) {
                                free(j->notice);
                                j->notice = s;
                        }
                }
                free(notice);
        }
}

/* An entry stopped waiting for j: j leaves its waiters, and a queued entry
 * nobody waits for any more is dropped. */
static void entry_unwait(r53_entry *e, r53_job *j) {
        for (size_t i = 0; i < e->n_waiters; i++)
                if (e->waiters[i] == j) {
                        e->waiters[i] = e->waiters[--e->n_waiters];
                        break;
                }
        if (e->n_waiters == 0 && e->state == ENTRY_QUEUED)
                entry_free(e);
}

static void job_detach(r53_job *j) {
        for (size_t i = 0; i < j->n_entries; i++)
                entry_unwait(j->entries[i], j);
        j->n_entries = 0;
}

/* An entry j waited for is done. */
static void job_entry_done(r53_job *j, r53_entry *e) {
        for (size_t i = 0; i < j->n_entries; i++)
                if (j->entries[i] == e) {
                        j->entries[i] = j->entries[--j->n_entries];
                        break;
                }
        if (j->n_entries == 0 && j->routed)
                job_finish(j);
}

/* ---------------------------------------------------------------- zones and entries */

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const r53_entry *) a)->name, ((const r53_entry *) b)->name);
}

static r53_entry *zone_find(r53_zone *z, const char *name) {
        r53_entry key = { .name = (char *) name };
        void *n = tfind(&key, &z->entries, entry_cmp);
        return n ? *(r53_entry **) n : NULL;
}

static void queue_remove(r53_zone *z, r53_entry *e) {
        for (size_t i = 0; i < z->n_queue[e->action]; i++)
                if (z->queue[e->action][i] == e) {
                        memmove(&z->queue[e->action][i], &z->queue[e->action][i + 1],
                                (z->n_queue[e->action] - i - 1) * sizeof(r53_entry *));
                        z->n_queue[e->action]--;
                        return;
                }
}

static void entry_free_node(void *n) {
        r53_entry *e = n;
        free(e->name);
        free(e->value);
        free(e->cert_name);
        free(e->waiters);
        free(e);
}

static void entry_free(r53_entry *e) {
        if (!e)
                return;
        if (e->state == ENTRY_QUEUED)
                queue_remove(e->zone, e);
        (void) tdelete(e, &e->zone->entries, entry_cmp);
        entry_free_node(e);
}

static r53_zone *zone_get(dns_route53 *p, const char *id) {
        for (size_t i = 0; i < p->n_zones; i++)
                if (streq(p->zones[i]->id, id))
                        return p->zones[i];
        if (dns_grow((void **) &p->zones, &p->cap_zones, p->n_zones + 1, sizeof(r53_zone *)) < 0)
                return NULL;
        r53_zone *z = calloc(1, sizeof *z);
        if (!z || !(z->id = strdup(id))) {
                free(z);
                return NULL;
        }
        z->p = p;
        p->zones[p->n_zones++] = z;
        return z;
}

static void zone_free(r53_zone *z) {
        sd_event_source_disable_unref(z->window);
        tdestroy(z->entries, entry_free_node);
        for (int a = 0; a < _DNS_ACTION_MAX; a++)
                free(z->queue[a]);
        free(z->id);
        free(z);
}

static int entry_wait(r53_entry *e, r53_job *j) {
        int r;
        if ((r = dns_grow((void **) &e->waiters, &e->cap_waiters, e->n_waiters + 1, sizeof(r53_job *))) < 0)
                return r;
        e->waiters[e->n_waiters++] = j;
        j->entries[j->n_entries++] = e;
        return 0;
}

static int on_window(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        r53_zone *z = userdata;
        z->window = sd_event_source_disable_unref(z->window);
        z->window_due = true;
        zone_kick(z);
        return 0;
}

static int enqueue(r53_entry *e) {
        r53_zone *z = e->zone;
        int r;
        if ((r = dns_grow((void **) &z->queue[e->action], &z->cap_queue[e->action], z->n_queue[e->action] + 1,
                      sizeof(r53_entry *))) < 0)
                return r;
        z->queue[e->action][z->n_queue[e->action]++] = e;
        e->state = ENTRY_QUEUED;
        if (!z->window && !z->window_due &&
            sd_event_add_time_relative(z->p->event, &z->window, CLOCK_MONOTONIC, z->p->window, USEC_PER_MSEC,
                                       on_window, z) < 0)
                z->window_due = true;  /* no timer: send at once rather than never */
        return 0;
}

/* ---------------------------------------------------------------- batches */

static int send_batch(r53_batch *b);

static void batch_free(r53_batch *b) {
        if (!b)
                return;
        dns_route53 *p = b->zone->p;
        if (b->prev_batch)
                b->prev_batch->next_batch = b->next_batch;
        else if (p->batches == b)
                p->batches = b->next_batch;
        if (b->next_batch)
                b->next_batch->prev_batch = b->prev_batch;
        if (b->zone->sending == b)
                b->zone->sending = NULL;
        aws_request_cancel(b->req);
        sd_event_source_disable_unref(b->timer);
        free(b->entries);
        free(b->change_id);
        free(b->last_error);
        free(b);
}

static bool batch_wanted(r53_batch *b) {
        for (size_t i = 0; i < b->n; i++)
                if (b->entries[i] && b->entries[i]->n_waiters > 0)
                        return true;
        return false;
}

/* Entries nobody waits for any more are forgotten (their state is
 * unknown: a later submission sends them again), then the batch. */
static void batch_drop(r53_batch *b) {
        r53_zone *z = b->zone;
        for (size_t i = 0; i < b->n; i++)
                entry_free(b->entries[i]);
        batch_free(b);
        zone_kick(z);
}

/* Fails entry e (its waiters get message) and forgets it. */
static void entry_fail(r53_entry *e, int error, const char *kind, const char *message) {
        while (e->n_waiters > 0) {
                r53_job *j = e->waiters[0];
                char *m = strdup(message);
                job_fail(j, error, kind, m); /* detaches j from e */
        }
        entry_free(e);
}

static void entry_done(r53_entry *e) {
        e->state = ENTRY_DONE;
        e->batch = NULL;
        while (e->n_waiters > 0) {
                r53_job *j = e->waiters[--e->n_waiters];
                job_entry_done(j, e);
        }
}

static int on_batch_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void batch_schedule(r53_batch *b, uint64_t delay) {
        b->timer = sd_event_source_disable_unref(b->timer);
        if (sd_event_add_time_relative(b->zone->p->event, &b->timer, CLOCK_MONOTONIC, delay, USEC_PER_MSEC,
                                       on_batch_timer, b) < 0) {
                for (size_t i = 0; i < b->n; i++)
                        entry_fail(b->entries[i], -ENOMEM, "dns-route53", "out of memory (timer)");
                b->n = 0;
                batch_drop(b);
        }
}

static void on_get_change(const aws_error *err, json_t *resp, void *userdata);

static int on_batch_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        r53_batch *b = userdata;
        int r;

        b->timer = sd_event_source_disable_unref(b->timer);
        if (!batch_wanted(b)) {
                batch_drop(b);
                return 0;
        }
        if (b->change_id)
                r = route53_get_change(b->zone->p->client, b->change_id, on_get_change, b, &b->req);
        else
                r = send_batch(b);
        if (r < 0) {
                for (size_t i = 0; i < b->n; i++)
                        entry_fail(b->entries[i], r, "dns-route53", "cannot send a Route 53 request: out of memory");
                b->n = 0;
                batch_drop(b);
        }
        return 0;
}

static bool retryable(const aws_error *err) {
        return err->kind == AWS_ERROR_THROTTLED || err->kind == AWS_ERROR_SERVER || err->kind == AWS_ERROR_NETWORK;
}

/* A failure worth another try later: remembered for the timeout message. */
static void batch_retry(r53_batch *b, const aws_error *err) {
        _cleanup_(freep) char *f = aws_error_format(err);
        free(b->last_error);
        b->last_error = f ? dns_escape(f, 1024) : NULL;
        b->delay = b->delay ? b->delay * 2 : RETRY_FIRST_USEC;
        if (b->delay > RETRY_MAX_USEC)
                b->delay = RETRY_MAX_USEC;
        log_debug("dns: route53 %s in zone %s failed (%s), again in %llu s", b->change_id ? "GetChange" :
                  "ChangeResourceRecordSets", b->zone->id, err->type, (unsigned long long) (b->delay / USEC_PER_SEC));
        batch_schedule(b, b->delay);
}

/* The operator's line for an error that fails the whole batch. */
static char *batch_error_message(r53_batch *b, const aws_error *err, int *ret_error, const char **ret_kind) {
        _cleanup_(freep) char *f = aws_error_format(err), *ef = NULL;
        ef = dns_escape(f ? f : err->type, 2048);
        const char *act = b->action == DNS_ACTION_DELETE ? "delete" : "publish";
        *ret_kind = "dns-route53";
        if (err->kind == AWS_ERROR_NOT_FOUND && !b->change_id) {
                *ret_error = -ENOENT;
                *ret_kind = "dns-zone";
                return strprintf("cannot %s %s in Route 53: hosted zone %s does not exist (%s); correct "
                                 "dns.hosted_zone_id, or remove it to find the zone by name",
                                 act, b->entries[0]->name, b->zone->id, ef ? ef : "?");
        }
        if (err->kind == AWS_ERROR_AUTH || err->kind == AWS_ERROR_CREDENTIALS) {
                *ret_error = -EACCES;
                return strprintf("cannot %s %s in Route 53 zone %s: %s; the credentials need "
                                 "route53:ChangeResourceRecordSets and route53:GetChange on the zone",
                                 act, b->entries[0]->name, b->zone->id, ef ? ef : "?");
        }
        *ret_error = err->kind == AWS_ERROR_INVALID ? -EINVAL : -EIO;
        return strprintf("cannot %s %s%s in Route 53 zone %s: %s", act, b->entries[0]->name,
                         b->n > 1 ? " (and the other records of its batch)" : "", b->zone->id, ef ? ef : "?");
}

static void batch_fail_all(r53_batch *b, const aws_error *err) {
        int error;
        const char *kind;
        _cleanup_(freep) char *m = batch_error_message(b, err, &error, &kind);
        for (size_t i = 0; i < b->n; i++)
                entry_fail(b->entries[i], m ? error : -ENOMEM, kind, m ? m : "out of memory");
        b->n = 0;
        batch_drop(b);
}

/* InvalidChangeBatch: the records it names fail (a DELETE of a record that
 * is not there is done), the others go back to the head of the queue. */
static void batch_invalid(r53_batch *b, const aws_error *err) {
        _cleanup_(freep) char *msg = dns_escape(err->message, 2048);
        _cleanup_(freep) r53_entry **named = calloc(b->n, sizeof(r53_entry *));
        _cleanup_(freep) char **parts = calloc(b->n, sizeof(char *));
        r53_zone *z = b->zone;
        dns_action a = b->action;
        size_t n_named = 0, keep = 0;

        if (!named || !parts)
                return batch_fail_all(b, err);
        for (size_t i = 0; i < b->n; i++) {
                const char *at = message_find(err->message, b->entries[i]->name);
                if (!at)
                        continue;
                /* This record's part of the message: up to the next record named. */
                const char *end = at + strlen(at);
                for (size_t m = 0; m < b->n; m++) {
                        const char *o = m == i ? NULL : message_find(at + 1, b->entries[m]->name);
                        if (o && o < end)
                                end = o;
                }
                parts[n_named] = strndup(at, (size_t) (end - at));
                named[n_named++] = b->entries[i];
        }
        if (n_named == 0)
                return batch_fail_all(b, err);
        /* First the others back into the queue, in their order, before what
         * came since; then the named ones end (which may drop queued entries
         * whose certificates fail with them). */
        keep = b->n - n_named;
        if (dns_grow((void **) &z->queue[a], &z->cap_queue[a], z->n_queue[a] + keep, sizeof(r53_entry *)) < 0) {
                for (size_t i = 0; i < n_named; i++)
                        free(parts[i]);
                return batch_fail_all(b, err);
        }
        memmove(&z->queue[a][keep], z->queue[a], z->n_queue[a] * sizeof(r53_entry *));
        z->n_queue[a] += keep;
        for (size_t i = 0, k = 0; i < b->n; i++) {
                r53_entry *e = b->entries[i];
                if (message_find(err->message, e->name))
                        continue;
                e->state = ENTRY_QUEUED;
                e->batch = NULL;
                z->queue[a][k++] = e;
        }
        b->n = 0;
        batch_free(b);
        for (size_t i = 0; i < n_named; i++) {
                r53_entry *e = named[i];
                if (a == DNS_ACTION_DELETE && parts[i] && strstr(parts[i], "not found"))
                        entry_done(e);
                else {
                        _cleanup_(freep) char *m = strprintf("Route 53 refused to %s %s CNAME %s in zone %s "
                                                             "(InvalidChangeBatch): %s",
                                                             a == DNS_ACTION_DELETE ? "delete" : "publish", e->name,
                                                             e->value, z->id, msg ? msg : "?");
                        entry_fail(e, -EINVAL, "dns-route53", m ? m : "out of memory");
                }
                free(parts[i]);
        }
        z->window_due = true;
        zone_kick(z);
}

static void on_change(const aws_error *err, json_t *resp, void *userdata) {
        r53_batch *b = userdata;
        r53_zone *z = b->zone;
        const char *id = NULL, *status = NULL;

        b->req = NULL;
        if (err) {
                if (retryable(err) && batch_wanted(b))
                        return batch_retry(b, err);
                if (err->type && streq(err->type, "InvalidChangeBatch"))
                        return batch_invalid(b, err);
                return batch_fail_all(b, err);
        }
        if (route53_change_info(resp, &id, &status) < 0 || !(b->change_id = strdup(id))) {
                aws_error e = { .kind = AWS_ERROR_OTHER, .type = "MalformedResponse",
                                .message = "ChangeResourceRecordSets answered without ChangeInfo" };
                return batch_fail_all(b, &e);
        }
        log_debug("dns: route53 change %s in zone %s: %zu records, %s", b->change_id, z->id, b->n, status);
        z->sending = NULL;
        for (size_t i = 0; i < b->n; i++)
                b->entries[i]->state = ENTRY_POLLING;
        free(b->last_error);
        b->last_error = NULL;
        b->delay = z->p->poll_first;
        if (streq(status, "INSYNC")) {
                for (size_t i = 0; i < b->n; i++)
                        entry_done(b->entries[i]);
                batch_free(b);
        } else
                batch_schedule(b, b->delay);
        zone_kick(z);
}

static void on_get_change(const aws_error *err, json_t *resp, void *userdata) {
        r53_batch *b = userdata;
        const char *status = NULL;

        b->req = NULL;
        if (err) {
                if (retryable(err) && batch_wanted(b))
                        return batch_retry(b, err);
                return batch_fail_all(b, err);
        }
        if (route53_change_info(resp, NULL, &status) < 0) {
                aws_error e = { .kind = AWS_ERROR_OTHER, .type = "MalformedResponse",
                                .message = "GetChange answered without ChangeInfo" };
                return batch_fail_all(b, &e);
        }
        if (streq(status, "INSYNC")) {
                for (size_t i = 0; i < b->n; i++)
                        entry_done(b->entries[i]);
                batch_free(b);
                return;
        }
        b->delay = b->delay * 2 > b->zone->p->poll_max ? b->zone->p->poll_max : b->delay * 2;
        batch_schedule(b, b->delay);
}

static int send_batch(r53_batch *b) {
        _cleanup_(freep) route53_change *ch = calloc(b->n, sizeof *ch);
        _cleanup_(freep) char *comment = NULL;
        if (!ch)
                return -ENOMEM;
        for (size_t i = 0; i < b->n; i++)
                ch[i] = (route53_change) {
                        .action = b->action == DNS_ACTION_DELETE ? ROUTE53_DELETE : ROUTE53_UPSERT,
                        .name = b->entries[i]->name,
                        .type = "CNAME",
                        .ttl = b->entries[i]->ttl,
                        .value = b->entries[i]->value,
                };
        comment = strprintf("acm-agent: %s %zu validation record%s", b->action == DNS_ACTION_DELETE ? "delete" :
                            "upsert", b->n, b->n == 1 ? "" : "s");
        if (!comment)
                return -ENOMEM;
        b->zone->sending = b;
        return route53_change_resource_record_sets(b->zone->p->client, b->zone->id, ch, b->n, comment, on_change, b,
                                                   &b->req);
}

/* Sends the next batch of z when one is due and none is in flight. */
static void zone_kick(r53_zone *z) {
        dns_route53 *p = z->p;

        if (z->sending)
                return;
        for (int a = 0; a < _DNS_ACTION_MAX; a++) {
                size_t n = z->n_queue[a];
                if (n == 0)
                        continue;
                _cleanup_(freep) size_t *lens = calloc(n, sizeof(size_t));
                if (!lens)
                        return; /* the window timer or the next submission comes back here */
                for (size_t i = 0; i < n; i++)
                        lens[i] = strlen(z->queue[a][i]->value);
                size_t fit = dns_route53_batch_fit(lens, n, (dns_action) a);
                if (!z->window_due && fit == n)
                        continue;  /* not full: wait for the window */
                r53_batch *b = calloc(1, sizeof *b);
                r53_entry **entries = calloc(fit, sizeof(r53_entry *));
                if (!b || !entries) {
                        free(b);
                        free(entries);
                        return;
                }
                *b = (r53_batch) { .zone = z, .action = (dns_action) a, .entries = entries, .n = fit };
                memcpy(entries, z->queue[a], fit * sizeof(r53_entry *));
                memmove(z->queue[a], z->queue[a] + fit, (n - fit) * sizeof(r53_entry *));
                z->n_queue[a] -= fit;
                for (size_t i = 0; i < fit; i++) {
                        entries[i]->state = ENTRY_SENDING;
                        entries[i]->batch = b;
                }
                /* the window is spent once everything it held is sent:
                 * records queued from now on wait for a window of their
                 * own (batched with the records that come after them)
                 * instead of leaving one by one behind each batch */
                if (z->n_queue[DNS_ACTION_CREATE] == 0 && z->n_queue[DNS_ACTION_DELETE] == 0)
                        z->window_due = false;
                b->next_batch = p->batches;
                if (p->batches)
                        p->batches->prev_batch = b;
                p->batches = b;
                int r = send_batch(b);
                if (r < 0) {
                        for (size_t i = 0; i < b->n; i++)
                                entry_fail(b->entries[i], r, "dns-route53",
                                           "cannot send a Route 53 request: out of memory");
                        b->n = 0;
                        batch_free(b);
                        continue;
                }
                return;  /* one in flight per zone */
        }
        if (z->n_queue[DNS_ACTION_CREATE] == 0 && z->n_queue[DNS_ACTION_DELETE] == 0)
                z->window_due = false;
}

/* ---------------------------------------------------------------- routing */

/* Why j cannot take e over, or NULL when it can. */
static char *conflict(r53_job *j, r53_entry *e, const dns_record *rec) {
        bool same = streq(e->value, rec->value) && e->ttl == j->ttl && e->action == j->action;
        bool same_cert = e->cert_name && j->cert_name && streq(e->cert_name, j->cert_name);
        const char *other = e->cert_name ? e->cert_name : "another certificate";

        if (same)
                return NULL;
        if (j->action == DNS_ACTION_DELETE && e->action == DNS_ACTION_CREATE && !same_cert)
                return strprintf("%s was not deleted from Route 53 zone %s: certificate %s uses it", rec->name,
                                 e->zone->id, other);
        if (e->state == ENTRY_DONE)
                return NULL;
        if (j->action != e->action)
                return strprintf("%s is being %s in Route 53 zone %s for %s: try again when that has finished",
                                 rec->name, e->action == DNS_ACTION_DELETE ? "deleted" : "published", e->zone->id,
                                 other);
        return strprintf("%s is being %s in Route 53 zone %s with another value (%s, TTL %llu) for %s", rec->name,
                         e->action == DNS_ACTION_DELETE ? "deleted" : "published", e->zone->id, e->value,
                         (unsigned long long) e->ttl, other);
}

/* Places record rec of j into zone z (checked by conflict() before). */
static int place(r53_job *j, r53_zone *z, const dns_record *rec) {
        r53_entry *e = zone_find(z, rec->name);
        int r;

        if (e && e->state == ENTRY_DONE && streq(e->value, rec->value) && e->ttl == j->ttl && e->action == j->action)
                return 0;  /* already done in this run */
        if (e && e->state == ENTRY_DONE) {
                /* Take over a finished entry for the new action or value. */
                char *v = strdup(rec->value), *c = j->cert_name ? strdup(j->cert_name) : NULL;
                if (!v || (j->cert_name && !c)) {
                        free(v);
                        free(c);
                        return -ENOMEM;
                }
                free(e->value);
                free(e->cert_name);
                e->value = v;
                e->cert_name = c;
                e->ttl = j->ttl;
                e->action = j->action;
                if ((r = enqueue(e)) < 0) {
                        e->state = ENTRY_DONE;
                        return r;
                }
                return entry_wait(e, j);
        }
        if (e)
                return entry_wait(e, j);
        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        *e = (r53_entry) { .zone = z, .ttl = j->ttl, .action = j->action, .state = ENTRY_DONE };
        if (!(e->name = strdup(rec->name)) || !(e->value = strdup(rec->value)) ||
            (j->cert_name && !(e->cert_name = strdup(j->cert_name)))) {
                entry_free_node(e);
                return -ENOMEM;
        }
        void *node = tsearch(e, &z->entries, entry_cmp);
        if (!node) {
                entry_free_node(e);
                return -ENOMEM;
        }
        if ((r = enqueue(e)) < 0 || (r = entry_wait(e, j)) < 0) {
                entry_free(e);
                return r;
        }
        return 0;
}

static void job_oom(r53_job *j) {
        job_fail(j, -ENOMEM, "dns-route53", NULL);
}

static void load_zone_list(dns_route53 *p);

/* Puts every record of j into its zone; j then waits for them. */
static void job_route(r53_job *j) {
        dns_route53 *p = j->p;
        _cleanup_(freep) r53_zone **zones = calloc(j->records.n ? j->records.n : 1, sizeof(r53_zone *));
        int r;

        if (!zones)
                return job_oom(j);
        for (size_t i = 0; i < j->records.n; i++) {
                const char *name = j->records.items[i].name;
                const char *id = j->zone_id;
                if (!id) {
                        size_t k;
                        char *notice = NULL;
                        r = dns_route53_pick_zone(p->list, p->n_list, name, &k, &notice);
                        if (r == -ENOMEM)
                                return job_oom(j);
                        if (r < 0) {
                                if (!j->list_retried && now_usec(p) >= p->list_usec + ZONE_LIST_MAX_AGE_USEC) {
                                        /* The list may be stale: ask once more. */
                                        free(notice);
                                        j->list_retried = true;
                                        if (p->list_state != LIST_LOADING) {
                                                p->list_state = LIST_NONE;
                                                load_zone_list(p);
                                        }
                                        return;
                                }
                                char *m = notice ? strprintf("no public Route 53 hosted zone of this account "
                                                             "contains %s: %s", name, notice)
                                                 : strprintf("no public Route 53 hosted zone of this account "
                                                             "contains %s: create one, or set dns.hosted_zone_id",
                                                             name);
                                free(notice);
                                return job_fail(j, -ENOENT, "dns-zone", m);
                        }
                        job_add_notice(j, notice);
                        id = p->list[k].id;
                }
                if (!(zones[i] = zone_get(p, id)))
                        return job_oom(j);
        }
        /* All or nothing: a conflict leaves no record of j queued. */
        for (size_t i = 0; i < j->records.n; i++) {
                r53_entry *e = zone_find(zones[i], j->records.items[i].name);
                char *m = e ? conflict(j, e, &j->records.items[i]) : NULL;
                if (m)
                        return job_fail(j, -EBUSY, "dns-conflict", m);
        }
        j->entries = calloc(j->records.n ? j->records.n : 1, sizeof(r53_entry *));
        if (!j->entries)
                return job_oom(j);
        for (size_t i = 0; i < j->records.n; i++)
                if ((r = place(j, zones[i], &j->records.items[i])) < 0)
                        return job_oom(j);
        j->routed = true;
        if (j->n_entries == 0)
                return job_finish(j);
        for (size_t i = 0; i < j->records.n; i++)
                zone_kick(zones[i]);
}

static void list_done(dns_route53 *p, const aws_error *err, int error) {
        _cleanup_(freep) char *f = err ? aws_error_format(err) : NULL, *why = NULL;
        const char *hint = "; set dns.hosted_zone_id to skip the look-up";

        if (!err && error == 0) {
                zone_list_free(p->list, p->n_list);
                p->list = TAKE_PTR(p->loading);
                p->n_list = p->n_loading;
                p->n_loading = 0;
                p->list_state = LIST_LOADED;
                p->list_usec = now_usec(p);
        } else {
                zone_list_free(p->loading, p->n_loading);
                p->loading = NULL;
                p->n_loading = 0;
                p->list_state = p->list ? LIST_LOADED : LIST_NONE;
                if (err) {
                        why = dns_escape(f ? f : err->type, 2048);
                        error = err->kind == AWS_ERROR_AUTH ? -EACCES : -EIO;
                        if (err->kind == AWS_ERROR_AUTH)
                                hint = "; allow route53:ListHostedZonesByName, or set dns.hosted_zone_id";
                } else
                        why = strdup(error == -E2BIG ? "more than 10000 hosted zones"
                                     : error == -EBADMSG ? "a malformed answer" : strerror(-error));
        }
        for (r53_job *j = p->jobs, *next; j; j = next) {
                next = j->next_job;
                if (j->routed || j->finished || j->zone_id)
                        continue;
                if (error)
                        job_fail(j, error, "dns-route53",
                                 strprintf("cannot list the Route 53 hosted zones to find the zone of %s: %s%s",
                                           j->records.items[0].name, why ? why : "?", hint));
                else
                        job_route(j);
        }
}

static void on_list(const aws_error *err, json_t *resp, void *userdata) {
        dns_route53 *p = userdata;
        const char *nn = NULL, *ni = NULL;
        int r;

        p->list_req = NULL;
        if (err)
                return list_done(p, err, 0);
        if ((r = dns_route53_parse_zones(resp, &p->loading, &p->n_loading, &nn, &ni)) < 0)
                return list_done(p, NULL, r);
        if (!nn)
                return list_done(p, NULL, 0);
        if (++p->list_pages >= ZONE_LIST_MAX_PAGES)
                return list_done(p, NULL, -E2BIG);
        r = route53_list_hosted_zones_by_name(p->client, nn, ni, ZONE_LIST_PAGE, on_list, p, &p->list_req);
        if (r < 0)
                list_done(p, NULL, r);
}

static void load_zone_list(dns_route53 *p) {
        if (p->list_state == LIST_LOADING)
                return;
        p->list_state = LIST_LOADING;
        p->list_pages = 0;
        int r = route53_list_hosted_zones_by_name(p->client, NULL, NULL, ZONE_LIST_PAGE, on_list, p, &p->list_req);
        if (r < 0)
                list_done(p, NULL, r);
}

static int on_job_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        r53_job *j = userdata;
        const char *what = "the zone look-up has not finished";
        r53_entry *e = j->n_entries > 0 ? j->entries[0] : NULL;
        _cleanup_(freep) char *detail = NULL;

        j->timeout = sd_event_source_disable_unref(j->timeout);
        if (e && e->state == ENTRY_QUEUED)
                what = "not sent yet (the batch window, or the zone's previous change still being sent)";
        else if (e && e->state == ENTRY_SENDING)
                what = "ChangeResourceRecordSets has not succeeded";
        else if (e && e->state == ENTRY_POLLING)
                what = "the change is still PENDING";
        if (e && e->batch && e->batch->change_id)
                detail = strprintf(" (change %s)", e->batch->change_id);
        else if (e && e->batch && e->batch->last_error)
                detail = strprintf(" (last error: %s)", e->batch->last_error);
        job_fail(j, -ETIMEDOUT, "dns-timeout",
                 strprintf("Route 53: %zu of %zu records (%s first) not in sync after %llu s: %s%s; raise "
                           "dns.propagation_timeout if Route 53 is slow",
                           j->n_entries ? j->n_entries : j->records.n, j->records.n,
                           e ? e->name : j->records.items[0].name,
                           (unsigned long long) (j->timeout_usec / USEC_PER_SEC), what, detail ? detail : ""));
        return 0;
}

int dns_route53_submit(dns_route53 *p, const dns_records *records, dns_action action, const char *zone_id,
                       uint64_t ttl, uint64_t timeout_usec, const char *cert_name, dns_callback cb, void *userdata,
                       dns_job **ret) {
        r53_job *j;
        int r;

        if (!p || !records || !cb || !dns_action_to_string(action) || ttl < 1 || ttl > 2147483647)
                return -EINVAL;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (r53_job) {
                .base.cancel = job_cancel,
                .p = p,
                .action = action,
                .ttl = ttl,
                .timeout_usec = timeout_usec,
                .cb = cb,
                .userdata = userdata,
        };
        if (zone_id && (r = route53_zone_id_normalize(zone_id, &j->zone_id)) < 0) {
                job_free(j);
                return r;
        }
        if ((cert_name && !(j->cert_name = strdup(cert_name))) || dns_records_copy(records, &j->records) < 0) {
                job_free(j);
                return -ENOMEM;
        }
        if (timeout_usec > 0 && (r = sd_event_add_time_relative(p->event, &j->timeout, CLOCK_MONOTONIC, timeout_usec,
                                                                 USEC_PER_SEC / 10, on_job_timeout, j)) < 0) {
                job_free(j);
                return r;
        }
        /* First come, first placed: the zone look-up routes jobs in order. */
        j->prev_job = p->jobs_tail;
        if (p->jobs_tail)
                p->jobs_tail->next_job = j;
        else
                p->jobs = j;
        p->jobs_tail = j;

        if (j->records.n == 0 || j->zone_id || p->list_state == LIST_LOADED)
                job_route(j);
        else
                load_zone_list(p);
        if (ret)
                *ret = &j->base;
        return 0;
}

/* ---------------------------------------------------------------- the publisher */

static int publisher_new(sd_event *e, const dns_route53_options *o, dns_route53 **ret) {
        dns_route53 *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->window = o && o->batch_window_usec ? o->batch_window_usec : WINDOW_DEFAULT_USEC;
        p->poll_first = o && o->poll_first_usec ? o->poll_first_usec : POLL_FIRST_DEFAULT_USEC;
        p->poll_max = o && o->poll_max_usec ? o->poll_max_usec : POLL_MAX_DEFAULT_USEC;
        if (p->poll_max < p->poll_first)
                p->poll_max = p->poll_first;
        *ret = p;
        return 0;
}

int dns_route53_new(sd_event *e, aws_client *client, const dns_route53_options *o, dns_route53 **ret) {
        dns_route53 *p;
        int r;
        if (!e || !client || !ret)
                return -EINVAL;
        if ((r = publisher_new(e, o, &p)) < 0)
                return r;
        p->client = aws_client_ref(client);
        *ret = p;
        return 0;
}

int dns_route53_new_for_role(sd_event *e, const conf_aws *base, const char *role_arn,
                             const dns_route53_options *o, dns_route53 **ret) {
        _cleanup_(dns_route53_freep) dns_route53 *p = NULL;
        int r;
        if (!e || !base || isempty(role_arn) || !ret)
                return -EINVAL;
        if ((r = publisher_new(e, o, &p)) < 0)
                return r;
        /* a copy: the publisher may outlive base's configuration (a
         * reload while a change is in flight) */
        if ((r = conf_aws_copy(base, &p->role_cfg)) < 0)
                return r;
        free(p->role_cfg.role_arn);
        if (!(p->role_cfg.role_arn = strdup(role_arn)))
                return -ENOMEM;
        if ((r = aws_client_new(e, &p->role_cfg, &p->client)) < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

aws_client *dns_route53_client(dns_route53 *p) {
        return p ? p->client : NULL;
}

dns_route53 *dns_route53_free(dns_route53 *p) {
        if (!p)
                return NULL;
        while (p->jobs)
                job_free(p->jobs);
        while (p->batches) {
                r53_batch *b = p->batches;
                b->n = 0;
                batch_free(b);
        }
        aws_request_cancel(p->list_req);
        for (size_t i = 0; i < p->n_zones; i++)
                zone_free(p->zones[i]);
        free(p->zones);
        zone_list_free(p->list, p->n_list);
        zone_list_free(p->loading, p->n_loading);
        /* The client reads role_cfg: it goes first. */
        aws_client_unref(p->client);
        conf_aws_done(&p->role_cfg);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
