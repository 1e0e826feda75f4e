/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the ACM certificates of one engine share (issuer-acm-internal.h):
 * the list of the account's certificates for discovery, the poller that
 * watches pending certificates with one ListCertificates for all of them,
 * the Route 53 publisher, the DNS checker and the Private CA certificates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "issuer/issuer-acm-internal.h"

#define FINDER_TTL_SEC 600
#define FINDER_PAGES_MAX 20 /* 20,000 certificates; an account holds 2,500 by default */
#define POLLER_FIRST_USEC (2 * USEC_PER_SEC)
#define POLLER_MAX_USEC (20 * USEC_PER_SEC)
#define POLLER_PAGES_MAX 10
#define CA_TTL_SEC 600

/* Every key type: ListCertificates shows only RSA_1024 and RSA_2048 unless
 * Includes.keyTypes says otherwise. */
static const char *const key_types[] = {"RSA_1024",      "RSA_2048",     "RSA_3072",    "RSA_4096",
                                        "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"};

/* ---- reference counting and queues ---- */

struct acm_shared {
        unsigned n_ref;
        acm_wait *head, *tail;
        void (*free_fn)(acm_shared *s);
        void (*idle)(acm_shared *s); /* the last waiter left */
};

static acm_shared *shared_ref(acm_shared *s) {
        if (s)
                s->n_ref++;
        return s;
}

static void shared_unref(acm_shared *s) {
        if (s && --s->n_ref == 0)
                s->free_fn(s);
}

static void shared_cache_free(void *p) {
        shared_unref(p);
}

static void wait_link(acm_shared *s, acm_wait *w) {
        w->prev = s->tail;
        w->next = NULL;
        if (s->tail)
                s->tail->next = w;
        else
                s->head = w;
        s->tail = w;
        w->owner = shared_ref(s);
}

/* Unlinks w; returns its owner's reference (the caller unrefs it). */
static acm_shared *wait_unlink(acm_wait *w) {
        acm_shared *s = w->owner;

        if (!s)
                return NULL;
        if (w->prev)
                w->prev->next = w->next;
        else
                s->head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        else
                s->tail = w->prev;
        w->prev = w->next = NULL;
        w->owner = NULL;
        return s;
}

void acm_wait_cancel(acm_wait *w) {
        acm_shared *s = wait_unlink(w);

        if (!s)
                return;
        if (!s->head && s->idle)
                s->idle(s);
        shared_unref(s);
}

/* Notifies every waiter of s with what set() puts into each. The list is
 * detached first: a done() may wait again (on s too). */
static void notify_all(acm_shared *s, void (*set)(acm_shared *s, acm_wait *w)) {
        acm_wait *head = s->head;

        s->head = s->tail = NULL;
        shared_ref(s);
        while (head) {
                acm_wait *w = head;
                head = w->next;
                if (head)
                        head->prev = NULL;
                w->prev = w->next = NULL;
                w->owner = NULL;
                set(s, w);
                w->done(w);
                shared_unref(s); /* the waiter's reference */
        }
        shared_unref(s);
}

static char *cache_key(machine *m, const char *what, const char *arg) {
        return strprintf("acm-%s:%p:%s", what, (const void *) machine_conf(m), arg ? arg : "-");
}

/* The AWS client of a machine waiting on s (the first), or an error:
 * -ESRCH when nobody waits, else machine_aws()'s, and then *ret_error
 * (owned by the caller) says why, for the waiters. */
static int shared_client(acm_shared *s, aws_client **ret, char **ret_error) {
        int r;

        if (!s->head)
                return -ESRCH;
        r = machine_aws(s->head->m, ret);
        if (r < 0)
                *ret_error = strprintf("cannot set up the AWS client: %s", aws_client_strerror(r));
        return r;
}

static char *error_line(const char *what, const aws_error *err) {
        _cleanup_(freep) char *line = aws_error_format(err);
        return strprintf("%s: %s", what, line ? line : err->type);
}

/* ---- the account's certificates (discovery) ---- */

typedef struct acm_finder {
        acm_shared base;
        bool done;
        json_t *summaries;
        aws_request *req;
        unsigned pages;
} acm_finder;

static void finder_free(acm_shared *s) {
        acm_finder *f = (acm_finder *) s;
        aws_request_cancel(f->req);
        json_decref(f->summaries);
        free(f);
}

static void finder_reset(acm_finder *f) {
        f->req = aws_request_cancel(f->req);
        json_decref(f->summaries);
        f->summaries = NULL;
        f->pages = 0;
        f->done = false;
}

static void finder_idle(acm_shared *s) {
        acm_finder *f = (acm_finder *) s;
        if (!f->done)
                finder_reset(f); /* asked again from the start by the next waiter */
}

static const char *finder_error;
static bool finder_no_client;

static void finder_set(acm_shared *s, acm_wait *w) {
        acm_finder *f = (acm_finder *) s;
        w->summaries = finder_error ? NULL : f->summaries;
        w->error = finder_error;
        w->no_client = finder_error && finder_no_client;
}

static void finder_page(acm_finder *f, const char *next_token);

static void on_finder_page(const aws_error *err, json_t *resp, void *userdata) {
        acm_finder *f = userdata;
        json_t *list, *s;
        const char *next;
        size_t i;

        f->req = NULL;
        if (err) {
                _cleanup_(freep) char *msg =
                        error_line("cannot list the account's certificates (ListCertificates)", err);
                finder_reset(f);
                finder_error = msg ? msg : "cannot list the account's certificates";
                notify_all(&f->base, finder_set);
                finder_error = NULL;
                return;
        }
        list = json_object_get(resp, "CertificateSummaryList");
        json_array_foreach(list, i, s) {
                const char *type = json_string_value(json_object_get(s, "Type"));
                if (!json_string_value(json_object_get(s, "CertificateArn")))
                        continue;
                if (type && !streq(type, "AMAZON_ISSUED") && !streq(type, "PRIVATE"))
                        continue;
                if (json_array_append(f->summaries, s) < 0) {
                        finder_reset(f);
                        finder_error = "out of memory";
                        notify_all(&f->base, finder_set);
                        finder_error = NULL;
                        return;
                }
        }
        next = json_string_value(json_object_get(resp, "NextToken"));
        if (next && ++f->pages < FINDER_PAGES_MAX)
                return finder_page(f, next);
        f->done = true;
        notify_all(&f->base, finder_set);
}

static void finder_page(acm_finder *f, const char *next_token) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        json_t *kt;
        int r;

        _cleanup_(freep) char *client_error = NULL;
        r = shared_client(&f->base, &client, &client_error);
        if (r == -ESRCH)
                return finder_reset(f); /* nobody waits any more */
        if (r < 0) {
                /* (libcurl missing, say): the waiters fail with the reason
                 * instead of waiting for an answer that never comes */
                finder_reset(f);
                finder_error = client_error ? client_error : "cannot set up the AWS client";
                finder_no_client = true;
                notify_all(&f->base, finder_set);
                finder_error = NULL;
                finder_no_client = false;
                return;
        }
        req = json_pack("{s:[s,s],s:{s:[]},s:i}", "CertificateStatuses", "PENDING_VALIDATION", "ISSUED",
                        "Includes", "keyTypes", "MaxItems", 1000);
        kt = json_object_get(json_object_get(req, "Includes"), "keyTypes");
        for (size_t i = 0; kt && i < ELEMENTSOF(key_types); i++)
                if (json_array_append_new(kt, json_string(key_types[i])) < 0)
                        kt = NULL;
        if (!kt || (next_token && json_object_set_new(req, "NextToken", json_string(next_token)) < 0))
                r = -ENOMEM;
        else
                r = aws_call(client, AWS_SERVICE_ACM, "ListCertificates", req, 0, on_finder_page, f,
                             &f->req);
        if (r < 0) {
                finder_reset(f);
                finder_error = "cannot send ListCertificates";
                notify_all(&f->base, finder_set);
                finder_error = NULL;
        }
}

int acm_finder_wait(machine *m, acm_wait *w) {
        _cleanup_(freep) char *key = cache_key(m, "finder", NULL);
        acm_finder *f;

        if (!key)
                return -ENOMEM;
        w->m = m;
        f = machine_cache_get(m, key);
        if (!f) {
                f = calloc(1, sizeof(*f));
                if (!f)
                        return -ENOMEM;
                f->base = (acm_shared){.n_ref = 1, .free_fn = finder_free, .idle = finder_idle};
                if (machine_cache_put(m, key, f, shared_cache_free, FINDER_TTL_SEC) < 0) {
                        free(f);
                        return -ENOMEM;
                }
        }
        if (f->done) {
                w->summaries = f->summaries;
                w->error = NULL;
                return 1;
        }
        wait_link(&f->base, w);
        if (!f->req && !f->summaries) {
                f->summaries = json_array();
                if (!f->summaries) {
                        acm_wait_cancel(w);
                        return -ENOMEM;
                }
                finder_page(f, NULL);
        }
        return 0;
}

/* ---- pending certificates: one ListCertificates for all ---- */

typedef struct acm_poller {
        acm_shared base;
        sd_event *loop;
        sd_event_source *timer;
        aws_request *req;
        uint64_t interval;
        time_t oldest; /* this round: CreatedAt of the oldest waiter, 0 = unknown (all pages) */
        unsigned pages;
        json_t *found; /* this round: {arn: status} of waiting certificates that left PENDING_VALIDATION */
} acm_poller;

static void poller_free(acm_shared *s) {
        acm_poller *p = (acm_poller *) s;
        aws_request_cancel(p->req);
        sd_event_source_disable_unref(p->timer);
        json_decref(p->found);
        sd_event_unref(p->loop);
        free(p);
}

static void poller_idle(acm_shared *s) {
        acm_poller *p = (acm_poller *) s;
        p->req = aws_request_cancel(p->req);
        p->timer = sd_event_source_disable_unref(p->timer);
        json_decref(p->found);
        p->found = NULL;
        p->interval = 0;
}

static void poller_arm(acm_poller *p);

static const char *poller_error;

static void poller_set_error(acm_shared *s _unused_, acm_wait *w) {
        w->status = NULL;
        w->error = poller_error;
}

static void poller_page(acm_poller *p, const char *next_token);

static void on_poller_page(const aws_error *err, json_t *resp, void *userdata) {
        acm_poller *p = userdata;
        json_t *list, *s;
        const char *next;
        time_t last = 0;
        size_t i;

        p->req = NULL;
        if (err) {
                _cleanup_(freep) char *msg = error_line(
                        "cannot list the certificates that left validation (ListCertificates)", err);
                json_decref(p->found);
                p->found = NULL;
                poller_error = msg ? msg : "ListCertificates failed";
                notify_all(&p->base, poller_set_error);
                poller_error = NULL;
                return;
        }
        list = json_object_get(resp, "CertificateSummaryList");
        json_array_foreach(list, i, s) {
                const char *arn = json_string_value(json_object_get(s, "CertificateArn"));
                const char *status = json_string_value(json_object_get(s, "Status"));
                json_t *c = json_object_get(s, "CreatedAt");
                if (json_is_number(c))
                        last = (time_t) json_number_value(c);
                if (!arn || !status || streq(status, "PENDING_VALIDATION"))
                        continue;
                for (acm_wait *w = p->base.head; w; w = w->next)
                        if (streq(w->arn, arn)) {
                                (void) json_object_set_new(p->found, arn, json_string(status));
                                break;
                        }
        }
        next = json_string_value(json_object_get(resp, "NextToken"));
        /* newest first: older pages hold nothing a waiter asked about */
        if (next && ++p->pages < POLLER_PAGES_MAX && (p->oldest == 0 || last == 0 || last >= p->oldest))
                return poller_page(p, next);

        /* the round is over: tell the waiters whose certificate moved (taken
         * out of the queue first: a done() may wait again) */
        json_t *found = TAKE_PTR(p->found);
        bool progress = json_object_size(found) > 0;
        acm_wait *ready = NULL, **tail = &ready;
        for (acm_wait *w = p->base.head, *nw; w; w = nw) {
                nw = w->next;
                if (!json_object_get(found, w->arn))
                        continue;
                (void) wait_unlink(w); /* its reference is dropped after done() */
                *tail = w;
                tail = &w->next;
        }
        shared_ref(&p->base);
        for (acm_wait *w = ready, *nw; w; w = nw) {
                nw = w->next;
                w->next = NULL;
                w->status = json_string_value(json_object_get(found, w->arn));
                w->error = NULL;
                w->done(w);
                shared_unref(&p->base);
        }
        json_decref(found);
        if (p->base.head) {
                /* a third of the time the newest waiter has waited: fresh
                 * certificates soon, long waits sparsely */
                uint64_t now, newest = 0;
                (void) sd_event_now(p->loop, CLOCK_MONOTONIC, &now);
                for (acm_wait *w = p->base.head; w; w = w->next)
                        if (w->since > newest)
                                newest = w->since;
                p->interval = now > newest ? (now - newest) / 3 : 0;
                if (progress || p->interval < POLLER_FIRST_USEC)
                        p->interval = POLLER_FIRST_USEC;
                if (p->interval > POLLER_MAX_USEC)
                        p->interval = POLLER_MAX_USEC;
                poller_arm(p);
        }
        shared_unref(&p->base);
}

static void poller_page(acm_poller *p, const char *next_token) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        json_t *kt;
        int r;

        _cleanup_(freep) char *client_error = NULL;
        r = shared_client(&p->base, &client, &client_error);
        if (r == -ESRCH)
                return poller_idle(&p->base);
        if (r < 0) {
                json_decref(p->found);
                p->found = NULL;
                poller_error = client_error ? client_error : "cannot set up the AWS client";
                notify_all(&p->base, poller_set_error);
                poller_error = NULL;
                return;
        }
        req = json_pack("{s:[s,s,s,s,s,s],s:{s:[]},s:i,s:s,s:s}", "CertificateStatuses", "ISSUED", "FAILED",
                        "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE", "Includes", "keyTypes",
                        "MaxItems", 1000, "SortBy", "CREATED_AT", "SortOrder", "DESCENDING");
        kt = json_object_get(json_object_get(req, "Includes"), "keyTypes");
        for (size_t i = 0; kt && i < ELEMENTSOF(key_types); i++)
                if (json_array_append_new(kt, json_string(key_types[i])) < 0)
                        kt = NULL;
        if (!kt || (next_token && json_object_set_new(req, "NextToken", json_string(next_token)) < 0))
                r = -ENOMEM;
        else
                r = aws_call(client, AWS_SERVICE_ACM, "ListCertificates", req, 0, on_poller_page, p,
                             &p->req);
        if (r < 0) {
                json_decref(p->found);
                p->found = NULL;
                poller_error = "cannot send ListCertificates";
                notify_all(&p->base, poller_set_error);
                poller_error = NULL;
        }
}

static int on_poller_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        acm_poller *p = userdata;

        p->timer = sd_event_source_disable_unref(p->timer);
        if (!p->base.head)
                return 0;
        p->oldest = 0;
        for (acm_wait *w = p->base.head; w; w = w->next) {
                if (!w->created) {
                        p->oldest = 0;
                        break;
                }
                if (!p->oldest || w->created < p->oldest)
                        p->oldest = w->created;
        }
        p->pages = 0;
        json_decref(p->found);
        p->found = json_object();
        if (!p->found) {
                poller_error = "out of memory";
                notify_all(&p->base, poller_set_error);
                poller_error = NULL;
                return 0;
        }
        poller_page(p, NULL);
        return 0;
}

static void poller_arm(acm_poller *p) {
        uint64_t now;
        int r;

        if (p->timer || p->req)
                return;
        if (!p->interval)
                p->interval = POLLER_FIRST_USEC;
        (void) sd_event_now(p->loop, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(p->loop, &p->timer, CLOCK_MONOTONIC, now + p->interval, 100 * USEC_PER_MSEC,
                              on_poller_timer, p);
        if (r < 0) {
                poller_error = "cannot arm the poll timer";
                notify_all(&p->base, poller_set_error);
                poller_error = NULL;
        }
}

int acm_poller_wait(machine *m, acm_wait *w) {
        _cleanup_(freep) char *key = cache_key(m, "poller", NULL);
        acm_poller *p;

        if (!key || !w->arn)
                return -ENOMEM;
        w->m = m;
        p = machine_cache_get(m, key);
        if (!p) {
                p = calloc(1, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                p->base = (acm_shared){.n_ref = 1, .free_fn = poller_free, .idle = poller_idle};
                p->loop = sd_event_ref(machine_loop(m));
                if (machine_cache_put(m, key, p, shared_cache_free, 0) < 0) {
                        poller_free(&p->base);
                        return -ENOMEM;
                }
        }
        (void) sd_event_now(p->loop, CLOCK_MONOTONIC, &w->since);
        wait_link(&p->base, w);
        if (p->timer) {
                /* a fresh waiter: the next round no later than usual for it */
                uint64_t at = 0;
                if (sd_event_source_get_time(p->timer, &at) >= 0 && at > w->since + POLLER_FIRST_USEC)
                        (void) sd_event_source_set_time(p->timer, w->since + POLLER_FIRST_USEC);
        }
        poller_arm(p);
        return 0;
}

/* ---- objects that are only held: the Route 53 publisher, the checker ---- */

struct acm_ref {
        acm_shared base;
        void *obj;
        void (*obj_free)(void *obj);
};

static void ref_free(acm_shared *s) {
        acm_ref *r = (acm_ref *) s;
        r->obj_free(r->obj);
        free(r);
}

acm_ref *acm_ref_unref(acm_ref *r) {
        if (r)
                shared_unref(&r->base);
        return NULL;
}

static int ref_put(machine *m, const char *key, void *obj, void (*obj_free)(void *), acm_ref **ret) {
        acm_ref *r = calloc(1, sizeof(*r));

        if (!r) {
                obj_free(obj);
                return -ENOMEM;
        }
        *r = (acm_ref){.base = {.n_ref = 1, .free_fn = ref_free}, .obj = obj, .obj_free = obj_free};
        if (machine_cache_put(m, key, r, shared_cache_free, 0) < 0) {
                ref_free(&r->base);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

static void route53_free(void *p) {
        dns_route53_free(p);
}

static void checker_free(void *p) {
        dns_checker_free(p);
}

/* 200 ms of batch window per certificate validated through Route 53,
 * 0.5 s to 12 s: the records of N certificates arrive at most as fast as
 * ACM accepts requests (5/s), so a fleet's records go in batches of about
 * 60 (at least 50 with the jitter of the answers), and one certificate is
 * not held back for nothing. */
static uint64_t route53_window(const conf *c) {
        uint64_t n = 0, ms;

        for (conf_cert **i = c->certs; i && *i; i++)
                n += (*i)->issuer_type == CONF_ISSUER_ACM && (*i)->dns.provider == CONF_DNS_ROUTE53;
        ms = n * 200;
        if (ms < 500)
                ms = 500;
        if (ms > 12000)
                ms = 12000;
        return ms * USEC_PER_MSEC;
}

int acm_route53_get(machine *m, dns_route53 **ret, acm_ref **ret_ref) {
        const char *role = machine_cert(m)->dns.role_arn;
        _cleanup_(freep) char *key = cache_key(m, "route53", role);
        /* GetChange a second after the change, doubling (Route 53 is INSYNC
         * within a minute) */
        dns_route53_options o = {.batch_window_usec = route53_window(machine_conf(m)),
                                 .poll_first_usec = USEC_PER_SEC};
        dns_route53 *p = NULL;
        acm_ref *r;
        int k;

        if (!key)
                return -ENOMEM;
        r = machine_cache_get(m, key);
        if (!r) {
                if (role)
                        k = dns_route53_new_for_role(machine_loop(m), &machine_conf(m)->aws, role, &o, &p);
                else {
                        aws_client *client;
                        k = machine_aws(m, &client);
                        if (k >= 0)
                                k = dns_route53_new(machine_loop(m), client, &o, &p);
                }
                if (k < 0)
                        return k;
                k = ref_put(m, key, p, route53_free, &r);
                if (k < 0)
                        return k;
        }
        *ret = r->obj;
        *ret_ref = (acm_ref *) shared_ref(&r->base);
        return 0;
}

int acm_checker_get(machine *m, dns_checker **ret, acm_ref **ret_ref) {
        _cleanup_(freep) char *key = cache_key(m, "checker", NULL);
        dns_checker *c = NULL;
        acm_ref *r;
        int k;

        if (!key)
                return -ENOMEM;
        r = machine_cache_get(m, key);
        if (!r) {
                k = dns_checker_new(machine_loop(m), NULL, &c);
                if (k < 0)
                        return k;
                k = ref_put(m, key, c, checker_free, &r);
                if (k < 0)
                        return k;
        }
        *ret = r->obj;
        *ret_ref = (acm_ref *) shared_ref(&r->base);
        return 0;
}

/* ---- Private CA certificates ---- */

typedef struct acm_ca {
        acm_shared base;
        char *arn;
        bool done;
        char *pem;
        aws_request *req;
} acm_ca;

static void ca_free(acm_shared *s) {
        acm_ca *c = (acm_ca *) s;
        aws_request_cancel(c->req);
        free(c->arn);
        free(c->pem);
        free(c);
}

static void ca_idle(acm_shared *s) {
        acm_ca *c = (acm_ca *) s;
        c->req = aws_request_cancel(c->req);
}

static const char *ca_error;

static void ca_set(acm_shared *s, acm_wait *w) {
        acm_ca *c = (acm_ca *) s;
        w->pem = ca_error ? NULL : c->pem;
        w->error = ca_error;
}

static void on_ca(const aws_error *err, json_t *resp, void *userdata) {
        acm_ca *c = userdata;
        _cleanup_(freep) char *msg = NULL;
        const char *pem, *chain;

        c->req = NULL;
        if (err) {
                msg = error_line("cannot fetch the certificate of the Private CA "
                                 "(GetCertificateAuthorityCertificate)",
                                 err);
                ca_error = msg ? msg : "GetCertificateAuthorityCertificate failed";
        } else {
                pem = json_string_value(json_object_get(resp, "Certificate"));
                chain = json_string_value(json_object_get(resp, "CertificateChain"));
                if (!pem || strlen(pem) > 65536 || (chain && strlen(chain) > 65536))
                        ca_error =
                                "GetCertificateAuthorityCertificate answered without a usable Certificate";
                else if (!(c->pem = chain ? strprintf("%s%s%s", pem,
                                                      pem[0] && pem[strlen(pem) - 1] == '\n' ? "" : "\n",
                                                      chain)
                                          : strdup(pem)))
                        ca_error = "out of memory";
                else
                        c->done = true;
        }
        notify_all(&c->base, ca_set);
        ca_error = NULL;
}

int acm_ca_wait(machine *m, const char *ca_arn, acm_wait *w) {
        _cleanup_(freep) char *key = cache_key(m, "ca", ca_arn);
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        acm_ca *c;
        int r;

        if (!key)
                return -ENOMEM;
        w->m = m;
        c = machine_cache_get(m, key);
        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c || !(c->arn = strdup(ca_arn))) {
                        free(c);
                        return -ENOMEM;
                }
                c->base = (acm_shared){.n_ref = 1, .free_fn = ca_free, .idle = ca_idle};
                if (machine_cache_put(m, key, c, shared_cache_free, CA_TTL_SEC) < 0) {
                        ca_free(&c->base);
                        return -ENOMEM;
                }
        }
        if (c->done) {
                w->pem = c->pem;
                w->error = NULL;
                return 1;
        }
        wait_link(&c->base, w);
        if (c->req)
                return 0;
        r = machine_aws(m, &client);
        if (r >= 0) {
                req = json_pack("{s:s}", "CertificateAuthorityArn", c->arn);
                r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "GetCertificateAuthorityCertificate", req, 0,
                                   on_ca, c, &c->req)
                        : -ENOMEM;
        }
        if (r < 0) {
                acm_wait_cancel(w);
                return r;
        }
        return 0;
}
