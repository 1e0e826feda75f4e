/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS Certificate Manager issuer (engine-issuer.h is the contract).
 *
 * Issue:
 *   no state: the account's certificates are searched for one the agent
 *   requested for this name on this host (tags acm-agent:name and
 *   acm-agent:host; ListCertificates shared by the engine, then
 *   ListTagsForCertificate) before anything is requested: an account may
 *   request 5,000 certificates a year and hold 2,500.
 *   → RequestCertificate (the IdempotencyToken persisted first, the ARN
 *   right after) → DescribeCertificate until every DomainValidationOption
 *   has its ResourceRecord (backoff) → the CNAMEs asked of DNS (c-ares):
 *   those not there are published through the certificate's provider
 *   (Route 53, batched for the engine; exec; manual: the operator is told,
 *   the certificate waits) and asked again → until ISSUED (one
 *   ListCertificates for every pending certificate of the engine, not a
 *   DescribeCertificate each; a wait after ACM_AGENT_ACM_POLL_DEADLINE) →
 *   ExportCertificate with a fresh passphrase held only here → the
 *   decrypted key and the certificate to the engine, verified against the
 *   trust store (public) or the Private CA's certificate (private).
 *   `arn:` tracks an existing certificate: described, exported, watched.
 *   export: false: the certificate is served where it is (not deployed).
 *
 * Watch (ACM renews, the agent follows): DescribeCertificate every
 *   daemon.acm_poll_interval, denser inside ACM's renewal window
 *   (issuer_acm_next_describe); a new serial is exported and deployed;
 *   RenewalSummary PENDING_VALIDATION re-checks and re-publishes the
 *   CNAMEs; FAILED is reported (and on_renewal_failure: reissue requests a
 *   new certificate); an eligible private certificate inside its window
 *   gets RenewCertificate; the CNAMEs are asked of DNS every
 *   daemon.dns_recheck_interval and repaired.
 *
 * Revoke: RevokeCertificate (exported certificates only; public ones for
 *   the four reasons ACM takes).
 *
 * Typed state ("issuer" in the state file):
 *   token, token_time   RequestCertificate's IdempotencyToken in flight
 *   arn                 the certificate requested (or found again), not delivered yet
 *   rerequests          VALIDATION_TIMED_OUT re-requests of this issuance
 *   reissue             a new certificate is wanted (the renewal FAILED)
 *   records             validation CNAMEs of the current certificate
 *   validation_emails   e-mail validation: "DOMAIN EMAIL a@x,b@x" lines
 *   renewal_status, renewal_reason, renewal_updated_at   RenewalSummary
 *   exported_serial     the serial of the last export
 *   checked_at, dns_checked_at   the last description, the last DNS check
 *
 * Test points (basic/testpoint.h): acm-token-saved, acm-requested,
 * acm-arn-saved, acm-records-saved, acm-validating, acm-exported.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/testpoint.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "issuer/issuer-acm-internal.h"
#include "issuer/issuer-acm.h"
#include "issuer/issuer-dns.h"
#include "issuer/issuer.h"
#include "store/store-state.h"

/* RequestCertificate's IdempotencyToken holds for an hour (reference). */
#define ACM_TOKEN_LIFETIME_SEC 3300
/* "there is a delay of several seconds before you can retrieve
 * information about the new certificate" (reference) */
#define ACM_DESCRIBE_FIRST_USEC (2 * USEC_PER_SEC)
#define ACM_DESCRIBE_MAX_USEC (30 * USEC_PER_SEC)
#define ACM_NOT_FOUND_GRACE_SEC 120
/* polls within one operation end after this (ACM_AGENT_ACM_POLL_DEADLINE) */
#define ACM_POLL_DEADLINE_SEC 240
/* then the certificate waits this long: longer than --once sits out */
#define ACM_RECHECK_SEC 900
#define ACM_MANUAL_RECHECK_SEC 600
#define ACM_EMAIL_RECHECK_SEC 1800
#define ACM_RENEW_RETRY_SEC 300
#define ACM_ARN_MAX 2048
#define ACM_CANDIDATES_MAX 10

/* ---- typed state ---- */

typedef struct acm_state {
        char *token;
        time_t token_time;
        char *arn;
        unsigned rerequests;
        bool reissue;
        dns_records records;
        char *emails;
        char *renewal_status, *renewal_reason;
        time_t renewal_updated_at;
        char *exported_serial;
        time_t checked_at, dns_checked_at;
} acm_state;

static void acm_state_free(void *v) {
        acm_state *s = v;
        if (!s)
                return;
        free(s->token);
        free(s->arn);
        dns_records_done(&s->records);
        free(s->emails);
        free(s->renewal_status);
        free(s->renewal_reason);
        free(s->exported_serial);
        free(s);
}

static void acm_state_reset(void *v) {
        acm_state *s = v;
        s->token = (free(s->token), NULL);
        s->arn = (free(s->arn), NULL);
        s->emails = (free(s->emails), NULL);
        s->token_time = 0;
        s->rerequests = 0;
        s->reissue = false;
}

static bool acm_state_in_flight(const void *v) {
        const acm_state *s = v;
        return s->token || s->arn || s->reissue;
}

static int acm_state_load(json_t *o, void **ret, char **ret_error) {
        acm_state *s = calloc(1, sizeof(*s));
        json_t *v;
        int r;

        *ret_error = NULL;
        if (!s)
                return -ENOMEM;
        if ((r = state_part_string(o, "token", 0, STATE_PART_MAX, &s->token, ret_error)) < 0 ||
            (r = state_part_time(o, "token_time", &s->token_time, ret_error)) < 0 ||
            (r = state_part_string(o, "arn", 0, STATE_PART_MAX, &s->arn, ret_error)) < 0 ||
            (r = state_part_string(o, "validation_emails", 0, STATE_PART_MAX, &s->emails, ret_error)) < 0 ||
            (r = state_part_string(o, "renewal_status", 0, STATE_PART_MAX, &s->renewal_status, ret_error)) < 0 ||
            (r = state_part_string(o, "renewal_reason", 0, STATE_PART_MAX, &s->renewal_reason, ret_error)) < 0 ||
            (r = state_part_time(o, "renewal_updated_at", &s->renewal_updated_at, ret_error)) < 0 ||
            (r = state_part_string(o, "exported_serial", 0, STATE_PART_MAX, &s->exported_serial, ret_error)) < 0 ||
            (r = state_part_time(o, "checked_at", &s->checked_at, ret_error)) < 0 ||
            (r = state_part_time(o, "dns_checked_at", &s->dns_checked_at, ret_error)) < 0)
                goto fail;
        v = json_object_get(o, "rerequests");
        if (v && !json_is_null(v)) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000) {
                        *ret_error = strdup("\"rerequests\" is not a small number");
                        r = -EBADMSG;
                        goto fail;
                }
                s->rerequests = (unsigned) json_integer_value(v);
        }
        v = json_object_get(o, "reissue");
        if (v && !json_is_null(v)) {
                if (!json_is_boolean(v)) {
                        *ret_error = strdup("\"reissue\" is not true or false");
                        r = -EBADMSG;
                        goto fail;
                }
                s->reissue = json_is_true(v);
        }
        v = json_object_get(o, "records");
        if (v && !json_is_null(v) && (r = dns_records_from_json(v, &s->records)) < 0) {
                if (r == -EBADMSG)
                        *ret_error = strdup("\"records\" is not a list of validation CNAMEs");
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        acm_state_free(s);
        return r;
}

static int set_time(json_t *o, const char *k, time_t t) {
        char buf[32];
        if (!t)
                return 0;
        if (!state_format_time(t, buf, sizeof(buf)))
                return -EINVAL;
        return json_object_set_new(o, k, json_string(buf));
}

static int set_str(json_t *o, const char *k, const char *v) {
        return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

static int acm_state_save(const void *v, json_t **ret) {
        const acm_state *s = v;
        json_t *o = json_object(), *recs = NULL;

        if (!o)
                return -ENOMEM;
        if (set_str(o, "token", s->token) < 0 || set_time(o, "token_time", s->token_time) < 0 ||
            set_str(o, "arn", s->arn) < 0 || set_str(o, "validation_emails", s->emails) < 0 ||
            set_str(o, "renewal_status", s->renewal_status) < 0 ||
            set_str(o, "renewal_reason", s->renewal_reason) < 0 ||
            set_time(o, "renewal_updated_at", s->renewal_updated_at) < 0 ||
            set_str(o, "exported_serial", s->exported_serial) < 0 ||
            set_time(o, "checked_at", s->checked_at) < 0 ||
            set_time(o, "dns_checked_at", s->dns_checked_at) < 0 ||
            (s->rerequests && json_object_set_new(o, "rerequests", json_integer(s->rerequests)) < 0) ||
            (s->reissue && json_object_set_new(o, "reissue", json_true()) < 0))
                goto oom;
        if (s->records.n > 0) {
                if (dns_records_to_json(&s->records, &recs) < 0 ||
                    json_object_set_new(o, "records", recs) < 0)
                        goto oom;
        }
        *ret = o;
        return 0;
oom:
        json_decref(o);
        return -ENOMEM;
}

/* ---- what an issued certificate must carry ---- */

static int acm_expect(const conf_cert *cert, const void *state _unused_, cert_expect *ret) {
        cert_expect e = {.want = *cert};

        /* ACM makes DomainName the subject's only attribute, the common name
         * (for a tracked certificate issue() checked that the first
         * dns_name is it); the rest of subject: is not ACM's business */
        e.want.subject = (conf_subject){
                .common_name = cert->dns_names && cert->dns_names[0] ? cert->dns_names[0] : NULL};
        *ret = e;
        return 0;
}

static bool acm_deploys(const conf_cert *cert) {
        return cert->issuer.acm.export;
}

/* ---- the runtime of one operation ---- */

typedef enum acm_op {
        ACM_OP_ISSUE,
        ACM_OP_WATCH,
        ACM_OP_REVOKE,
} acm_op;

typedef struct acm_run acm_run;
typedef void (*detail_fn)(acm_run *r, const aws_error *err, acm_detail *d);

struct acm_run {
        machine *m;
        acm_state *s;
        acm_op op;
        bool requested;       /* this operation sent a RequestCertificate */
        bool new_records;     /* the validation records were saved in this operation */
        bool renewal_dns;     /* watch: the records are the renewal's (PENDING_VALIDATION) */
        bool adopt;           /* discovery: adopt what is found (else: a hint for a lost certificate) */
        time_t created_after; /* discovery: only certificates created since (0: any) */
        char *target;         /* the ARN this operation is about */
        char *lost;           /* a lost certificate's message, while looking for its replacement */
        aws_request *req;
        sd_event_source *timer;
        void (*timer_fn)(acm_run *r);
        detail_fn then;    /* what the DescribeCertificate in flight continues with */
        uint64_t delay;    /* the current poll interval */
        uint64_t deadline; /* CLOCK_MONOTONIC usec: polls end, the certificate waits */
        acm_detail d;      /* the last description */
        acm_wait wait;
        json_t *candidates; /* discovery: summaries to look at, newest first */
        size_t next_candidate;
        acm_ref *r53_ref, *checker_ref;
        dns_checker *checker; /* held by checker_ref */
        dns_job *dns_job;
        dns_check_job *check_job;
        dns_records todo; /* records to publish */
        char *dns_note;   /* what the DNS check said, for the wait reason */
        char passphrase[ACM_PASSPHRASE_LEN + 1];
        EVP_PKEY *key;
        char *cert_pem, *chain_pem, *ca_arn;
        const char *revoke_reason;
};

static void acm_cancel(machine *m) {
        acm_run *r = machine_get_data(m);

        if (!r)
                return;
        machine_set_data(m, NULL);
        aws_request_cancel(r->req);
        sd_event_source_disable_unref(r->timer);
        acm_wait_cancel(&r->wait);
        dns_job_cancel(r->dns_job);
        dns_check_job_cancel(r->check_job);
        acm_ref_unref(r->r53_ref);
        acm_ref_unref(r->checker_ref);
        dns_records_done(&r->todo);
        acm_detail_done(&r->d);
        json_decref(r->candidates);
        OPENSSL_cleanse(r->passphrase, sizeof(r->passphrase));
        EVP_PKEY_free(r->key);
        free(r->cert_pem);
        free(r->chain_pem);
        free(r->ca_arn);
        free(r->target);
        free(r->lost);
        free(r->dns_note);
        free(r);
}

static acm_run *run_new(machine *m, acm_op op) {
        acm_run *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->m = m;
        r->s = machine_issuer_state(m);
        r->op = op;
        machine_set_data(m, r);
        return r;
}

static void run_fail(acm_run *r, const char *kind, const char *fmt, ...) _printf_(3, 4);
static void run_fail(acm_run *r, const char *kind, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        machine_fail(r->m, kind, "%s", msg ? msg : "out of memory");
}

static void run_fail_aws(acm_run *r, const char *what, const aws_error *err) {
        _cleanup_(freep) char *line = aws_error_format(err);

        machine_fail_aws(r->m, err, "%s: %s", what, line ? line : err->type);
}

static const char *name_of(acm_run *r) {
        return machine_name(r->m);
}

static bool tracked(acm_run *r) {
        return machine_cert(r->m)->issuer.acm.arn != NULL;
}

static bool is_private(acm_run *r) {
        return machine_cert(r->m)->issuer.acm.certificate_authority_arn ||
               (r->d.type && streq(r->d.type, "PRIVATE"));
}

static uint64_t mono_now(acm_run *r) {
        uint64_t t = 0;
        (void) sd_event_now(machine_loop(r->m), CLOCK_MONOTONIC, &t);
        return t;
}

static uint64_t poll_deadline_sec(void) {
        const char *e = getenv("ACM_AGENT_ACM_POLL_DEADLINE");
        uint64_t v;

        if (e && parse_uint64(e, &v) >= 0 && v > 0)
                return v;
        return ACM_POLL_DEADLINE_SEC;
}

static void deadline_start(acm_run *r) {
        r->deadline = mono_now(r) + poll_deadline_sec() * USEC_PER_SEC;
        r->delay = 0;
}

static bool deadline_passed(acm_run *r) {
        return r->deadline && mono_now(r) >= r->deadline;
}

static int set_target(acm_run *r, const char *arn) {
        return state_set_string(&r->target, arn);
}

static int on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        acm_run *r = userdata;
        void (*fn)(acm_run *) = r->timer_fn;

        r->timer = sd_event_source_disable_unref(r->timer);
        r->timer_fn = NULL;
        fn(r);
        return 0;
}

/* Runs fn(r) from the loop after delay. */
static void run_later(acm_run *r, uint64_t delay, void (*fn)(acm_run *r)) {
        int k;

        r->timer = sd_event_source_disable_unref(r->timer);
        r->timer_fn = fn;
        k = sd_event_add_time(machine_loop(r->m), &r->timer, CLOCK_MONOTONIC, mono_now(r) + delay,
                              50 * USEC_PER_MSEC, on_timer, r);
        if (k < 0)
                run_fail(r, "event", "cannot arm a timer: %s", strerror(-k));
}

/* The next poll interval: first, doubling up to the maximum. */
static uint64_t next_delay(acm_run *r) {
        r->delay = r->delay ? r->delay * 2 : ACM_DESCRIBE_FIRST_USEC;
        if (r->delay > ACM_DESCRIBE_MAX_USEC)
                r->delay = ACM_DESCRIBE_MAX_USEC;
        return r->delay;
}

/* ---- DescribeCertificate ---- */

static void on_describe(const aws_error *err, json_t *resp, void *userdata) {
        acm_run *r = userdata;
        _cleanup_(freep) char *why = NULL;
        detail_fn then = r->then;
        int k;

        r->req = NULL;
        if (err)
                return then(r, err, NULL);
        acm_detail_done(&r->d);
        k = issuer_acm_detail_parse(resp, &r->d, &why);
        if (k < 0)
                return run_fail(r, "aws", "DescribeCertificate %s: %s", r->target,
                                why            ? why
                                : k == -ENOMEM ? "out of memory"
                                               : "unusable answer");
        then(r, NULL, &r->d);
}

static void describe_now(acm_run *r) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        int k;

        k = machine_aws(r->m, &client);
        if (k < 0)
                return run_fail(r, "aws", "cannot set up the AWS client: %s", aws_client_strerror(k));
        req = json_pack("{s:s}", "CertificateArn", r->target);
        k = req ? aws_call(client, AWS_SERVICE_ACM, "DescribeCertificate", req, 0, on_describe, r, &r->req)
                : -ENOMEM;
        if (k < 0)
                run_fail(r, "aws", "cannot send DescribeCertificate: %s", strerror(-k));
}

/* Describes r->target after delay (0: now), then then(). */
static void describe(acm_run *r, uint64_t delay, detail_fn then) {
        r->then = then;
        if (delay)
                return run_later(r, delay, describe_now);
        describe_now(r);
}

/* ---- forward declarations of the flow ---- */

static void start_request(acm_run *r);
static void discover(acm_run *r);
static void on_request_detail(acm_run *r, const aws_error *err, acm_detail *d);
static void on_pending_detail(acm_run *r, const aws_error *err, acm_detail *d);
static void validation(acm_run *r);
static void wait_issued(acm_run *r);
static void deliver_issued(acm_run *r);
static void export_now(acm_run *r);
static void watched(acm_run *r);
static void watch_dns(acm_run *r, json_t *dvos);

/* ---- the configuration's DNS servers, as dns_check_records() takes them ---- */

static char **nameservers(const conf_cert *cert) {
        char **l = calloc(cert->dns.n_nameservers + 1, sizeof(char *));

        if (!l)
                return NULL;
        for (size_t i = 0; i < cert->dns.n_nameservers; i++) {
                const conf_nameserver *n = &cert->dns.nameservers[i];
                l[i] = strchr(n->address, ':') ? strprintf("[%s]:%u", n->address, (unsigned) n->port)
                                               : strprintf("%s:%u", n->address, (unsigned) n->port);
                if (!l[i]) {
                        strv_free(l);
                        return NULL;
                }
        }
        return l;
}

/* "NAME CNAME VALUE" lines, the pending_validation hook's contract. */
static char *records_hook_text(const dns_records *l) {
        char *out = strdup("");

        for (size_t i = 0; out && i < l->n; i++) {
                char *n = strprintf("%s%s CNAME %s\n", out, l->items[i].name, l->items[i].value);
                free(out);
                out = n;
        }
        return out;
}

/* Zone-file lines joined by "; " (one line for logs and status). */
static char *records_zone_line(const dns_records *l, uint64_t ttl) {
        char *out = strdup("");

        for (size_t i = 0; out && i < l->n; i++) {
                char *n = strprintf("%s%s%s %" PRIu64 " IN CNAME %s", out, i ? "; " : "", l->items[i].name,
                                    ttl ? ttl : 300, l->items[i].value);
                free(out);
                out = n;
        }
        return out;
}

static bool records_equal(const dns_records *a, const dns_records *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++) {
                const dns_record *o = dns_records_find(b, a->items[i].name);
                if (!o || !dns_name_equal(o->value, a->items[i].value))
                        return false;
        }
        return true;
}

/* Keeps the records of a description when ACM gave them all and they
 * differ from the saved ones (a certificate found again, or tracked,
 * gets its records for the DNS re-checks too). */
static int absorb_records(acm_run *r, json_t *dvos) {
        dns_records recs = {};
        size_t waiting = 0;
        int k;

        if (!dvos || r->d.type == NULL || !streq(r->d.type, "AMAZON_ISSUED"))
                return 0;
        k = dns_records_from_validation_options(dvos, &recs, &waiting);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || waiting > 0 || recs.n == 0 || records_equal(&recs, &r->s->records)) {
                dns_records_done(&recs);
                return 0;
        }
        dns_records_done(&r->s->records);
        r->s->records = recs;
        r->new_records = true;
        return 1;
}

/* ---- discovery: a certificate the agent requested before ---- */

static void adopt_saved(machine *m _unused_, void *userdata) {
        acm_run *r = userdata;

        log_cert(LOG_NOTICE, name_of(r),
                 "found %s, requested by this agent for this certificate on this host "
                 "(tags %s, %s): using it instead of requesting another",
                 r->s->arn, ACM_TAG_NAME, ACM_TAG_HOST);
        if (set_target(r, r->s->arn) < 0)
                return run_fail(r, "oom", "out of memory");
        deadline_start(r);
        describe(r, 0, on_request_detail);
}

static void next_candidate(acm_run *r);

static void lost_report(acm_run *r, const char *replacement) {
        run_fail(r, "acm-lost",
                 "%s%s%s%s; the current files stay deployed; run 'acm-agent renew %s --force' to request "
                 "a new certificate",
                 r->lost, replacement ? " (" : "", replacement ? replacement : "",
                 replacement ? " carries this certificate's tags: set issuer.arn to it to use it instead)"
                             : "",
                 name_of(r));
}

static void on_tags(const aws_error *err, json_t *resp, void *userdata) {
        acm_run *r = userdata;
        json_t *c = json_array_get(r->candidates, r->next_candidate - 1);
        const char *arn = json_string_value(json_object_get(c, "CertificateArn"));

        r->req = NULL;
        if (err) {
                if (err->kind == AWS_ERROR_NOT_FOUND)
                        return next_candidate(r); /* deleted since it was listed */
                if (!r->adopt)
                        return lost_report(r, NULL);
                return run_fail_aws(r,
                                    "cannot read the tags of a certificate this agent may have requested "
                                    "(ListTagsForCertificate; allow acm:ListTagsForCertificate)",
                                    err);
        }
        if (!issuer_acm_tags_match(json_object_get(resp, "Tags"), name_of(r), machine_host_id(r->m)))
                return next_candidate(r);
        if (!r->adopt)
                return lost_report(r, arn);
        if (state_set_string(&r->s->arn, arn) < 0)
                return run_fail(r, "oom", "out of memory");
        machine_persist(r->m, PHASE_VALIDATE, adopt_saved, r);
}

static void next_candidate(acm_run *r) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        json_t *c;
        int k;

        if (r->next_candidate >= json_array_size(r->candidates) || r->next_candidate >= ACM_CANDIDATES_MAX) {
                if (!r->adopt)
                        return lost_report(r, NULL);
                return start_request(r);
        }
        c = json_array_get(r->candidates, r->next_candidate++);
        k = machine_aws(r->m, &client);
        if (k < 0)
                return run_fail(r, "aws", "cannot set up the AWS client: %s", aws_client_strerror(k));
        req = json_pack("{s:O}", "CertificateArn", json_object_get(c, "CertificateArn"));
        k = req ? aws_call(client, AWS_SERVICE_ACM, "ListTagsForCertificate", req, 0, on_tags, r, &r->req)
                : -ENOMEM;
        if (k < 0)
                run_fail(r, "aws", "cannot send ListTagsForCertificate: %s", strerror(-k));
}

static double created_of(json_t *summary) {
        json_t *c = json_object_get(summary, "CreatedAt");
        return json_is_number(c) ? json_number_value(c) : 0;
}

static int by_created_desc(const void *a, const void *b) {
        double x = created_of(*(json_t *const *) a), y = created_of(*(json_t *const *) b);
        return x < y ? 1 : x > y ? -1 : 0;
}

static void on_found(acm_wait *w) {
        acm_run *r = w->m ? machine_get_data(w->m) : NULL;
        const conf_cert *cert;
        const char *exclude;
        json_t *s, *sorted[1024];
        size_t i, n = 0;

        if (!r)
                return;
        cert = machine_cert(r->m);
        if (w->error) {
                if (!r->adopt)
                        return lost_report(r, NULL);
                if (w->no_client)
                        return run_fail(r, "aws", "%s", w->error);
                return run_fail(
                        r, "aws",
                        "%s; the agent looks for a certificate it requested before requesting another "
                        "(allow acm:ListCertificates and acm:ListTagsForCertificate)",
                        w->error);
        }
        exclude = r->adopt ? machine_state(r->m)->served.arn : r->target;
        json_array_foreach(w->summaries, i, s) {
                if (n == ELEMENTSOF(sorted))
                        break;
                if (!issuer_acm_summary_candidate(s, cert, exclude))
                        continue;
                if (r->created_after && created_of(s) < (double) r->created_after)
                        continue;
                sorted[n++] = s;
        }
        qsort(sorted, n, sizeof(sorted[0]), by_created_desc);
        json_decref(r->candidates);
        r->candidates = json_array();
        if (!r->candidates)
                return run_fail(r, "oom", "out of memory");
        for (i = 0; i < n; i++)
                if (json_array_append(r->candidates, sorted[i]) < 0)
                        return run_fail(r, "oom", "out of memory");
        r->next_candidate = 0;
        next_candidate(r);
}

/* Looks for a certificate this agent requested for this name on this
 * host; adopts it, or requests one when there is none. */
static void discover(acm_run *r) {
        int k;

        r->adopt = true;
        r->wait = (acm_wait){.done = on_found};
        k = acm_finder_wait(r->m, &r->wait);
        if (k < 0)
                return run_fail(r, "oom", "out of memory");
        if (k > 0)
                on_found(&r->wait);
}

/* The served (or tracked) certificate is gone or unusable in ACM: reported
 * with the ARN that carries this certificate's tags now, if any; never
 * requested again without the operator. */
static void lost(acm_run *r, const char *fmt, ...) _printf_(2, 3);
static void lost(acm_run *r, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        if (vasprintf(&r->lost, fmt, ap) < 0)
                r->lost = NULL;
        va_end(ap);
        if (!r->lost)
                return run_fail(r, "oom", "out of memory");
        if (tracked(r))
                return run_fail(r, "config", "%s: point issuer.arn at a certificate that is ISSUED",
                                r->lost);
        r->adopt = false;
        r->wait = (acm_wait){.done = on_found};
        k = acm_finder_wait(r->m, &r->wait);
        if (k < 0)
                return run_fail(r, "oom", "out of memory");
        if (k > 0)
                on_found(&r->wait);
}

/* ---- RequestCertificate ---- */

static void after_arn_saved(machine *m, void *userdata) {
        acm_run *r = userdata;

        testpoint_hit("acm-arn-saved", machine_name(m));
        if (set_target(r, r->s->arn) < 0)
                return run_fail(r, "oom", "out of memory");
        deadline_start(r);
        describe(r, next_delay(r), on_request_detail);
}

static void on_request(const aws_error *err, json_t *resp, void *userdata) {
        acm_run *r = userdata;
        const char *arn;

        r->req = NULL;
        if (err) {
                const char *hint = "";
                if (err->kind == AWS_ERROR_LIMIT)
                        hint = "; the account reached an ACM quota (2,500 certificates held, 5,000 "
                               "requested a year, "
                               "or names per certificate): delete certificates that are no longer used, or "
                               "ask for a "
                               "higher quota in Service Quotas";
                else if (err->kind == AWS_ERROR_INVALID || err->kind == AWS_ERROR_OTHER)
                        hint = "; ACM refused the request as configured: check dns_names, tags, "
                               "key_algorithm and "
                               "certificate_authority_arn (acm-agent check)";
                if (err->kind == AWS_ERROR_LIMIT || err->kind == AWS_ERROR_INVALID ||
                    err->kind == AWS_ERROR_OTHER || err->kind == AWS_ERROR_AUTH ||
                    err->kind == AWS_ERROR_NOT_FOUND) {
                        /* refused: nothing was requested, the next attempt starts afresh */
                        free(r->s->token);
                        r->s->token = NULL;
                        r->s->token_time = 0;
                }
                _cleanup_(freep) char *line = aws_error_format(err);
                return machine_fail_aws(r->m, err, "RequestCertificate: %s%s", line ? line : err->type, hint);
        }
        arn = json_string_value(json_object_get(resp, "CertificateArn"));
        if (!arn || strlen(arn) > ACM_ARN_MAX)
                return run_fail(r, "aws", "RequestCertificate answered without a usable CertificateArn");
        testpoint_hit("acm-requested", name_of(r));
        log_cert(LOG_INFO, name_of(r), "requested %s", arn);
        if (state_set_string(&r->s->arn, arn) < 0)
                return run_fail(r, "oom", "out of memory");
        machine_persist(r->m, PHASE_VALIDATE, after_arn_saved, r);
}

static void send_request(acm_run *r) {
        const conf_cert *cert = machine_cert(r->m);
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        int k;

        k = issuer_acm_build_request(cert, r->s->token, machine_host_id(r->m), &req);
        if (k < 0)
                return run_fail(r, "config", "cannot build RequestCertificate: %s", strerror(-k));
        if (cert->issuer.acm.transparency_logging_set)
                log_cert(LOG_WARNING, name_of(r),
                         "issuer.transparency_logging is deprecated (AWS removed the opt-out "
                         "in 2026) and is sent only because the configuration sets it: remove it");
        k = machine_aws(r->m, &client);
        if (k < 0)
                return run_fail(r, "aws", "cannot set up the AWS client: %s", aws_client_strerror(k));
        r->requested = true;
        k = aws_call(client, AWS_SERVICE_ACM, "RequestCertificate", req, AWS_CALL_IDEMPOTENT_TOKEN,
                     on_request, r, &r->req);
        if (k < 0)
                run_fail(r, "aws", "cannot send RequestCertificate: %s", strerror(-k));
}

static void after_token_saved(machine *m, void *userdata) {
        testpoint_hit("acm-token-saved", machine_name(m));
        send_request(userdata);
}

/* A new certificate: a fresh token, persisted before the request. */
static void start_request(acm_run *r) {
        acm_state *s = r->s;
        uint8_t raw[16];
        char hex[33];
        int k;

        if (tracked(r))
                return run_fail(r, "config",
                                "issuer.arn %s cannot be used and the agent does not request certificates "
                                "for a tracked arn: point issuer.arn at a usable certificate, or remove arn "
                                "to let the agent "
                                "request one",
                                r->target ? r->target : machine_cert(r->m)->issuer.acm.arn);
        k = random_bytes(raw, sizeof(raw));
        if (k < 0)
                return run_fail(r, "random", "cannot get random bytes: %s", strerror(-k));
        hex_encode(raw, sizeof(raw), hex);
        if (state_set_string(&s->token, hex) < 0)
                return run_fail(r, "oom", "out of memory");
        s->arn = (free(s->arn), NULL);
        s->emails = (free(s->emails), NULL);
        s->token_time = machine_now(r->m);
        machine_persist(r->m, PHASE_REQUEST, after_token_saved, r);
}

/* ---- the request in flight: records, validation, issuance ---- */

static void poll_or_wait(acm_run *r, detail_fn then, const char *fmt, ...) _printf_(3, 4);
/* Describes again after the next interval, or, past the deadline, waits
 * ACM_RECHECK_SEC (the reason from fmt). */
static void poll_or_wait(acm_run *r, detail_fn then, const char *fmt, ...) {
        _cleanup_(freep) char *why = NULL;
        va_list ap;

        if (!deadline_passed(r))
                return describe(r, next_delay(r), then);
        va_start(ap, fmt);
        if (vasprintf(&why, fmt, ap) < 0)
                why = NULL;
        va_end(ap);
        machine_wait(r->m, machine_now(r->m) + ACM_RECHECK_SEC, "%s", why ? why : "ACM is validating");
}

static void failed(acm_run *r) {
        const char *reason = r->d.failure_reason ? r->d.failure_reason : "OTHER";

        if (issuer_acm_failure_retryable(reason, is_private(r))) {
                _cleanup_(freep) char *arn = strdup(r->target);
                acm_state_reset(r->s);
                return run_fail(r, "acm-failed",
                                "ACM could not issue %s (FAILED, %s): %s; a new certificate is requested at "
                                "the next attempt",
                                arn ? arn : "?", reason, issuer_acm_failure_hint(reason));
        }
        if (machine_operator_forced(r->m) && !r->requested && !tracked(r)) {
                log_cert(LOG_NOTICE, name_of(r), "%s FAILED (%s); requesting a new certificate as asked",
                         r->target, reason);
                return start_request(r);
        }
        run_fail(r, "acm-failed",
                 "ACM could not issue %s (FAILED, %s): %s; then run 'acm-agent renew %s' to request a new "
                 "certificate",
                 r->target, reason, issuer_acm_failure_hint(reason), name_of(r));
}

static void timed_out(acm_run *r) {
        const conf_cert *cert = machine_cert(r->m);
        bool email = cert->issuer.acm.validation == CONF_VALIDATION_EMAIL;

        if (!tracked(r) && cert->issuer.acm.on_validation_timeout == CONF_ACM_TIMEOUT_REREQUEST &&
            r->s->rerequests == 0 && !r->requested) {
                log_cert(LOG_WARNING, name_of(r),
                         "ACM could not validate %s within 72 hours (VALIDATION_TIMED_OUT); "
                         "requesting it once more (on_validation_timeout: rerequest)",
                         r->target);
                r->s->rerequests++;
                return start_request(r);
        }
        if (machine_operator_forced(r->m) && !r->requested && !tracked(r)) {
                log_cert(LOG_NOTICE, name_of(r), "%s timed out; requesting a new certificate as asked",
                         r->target);
                return start_request(r);
        }
        run_fail(r, "acm-timeout",
                 "ACM could not validate %s within 72 hours (VALIDATION_TIMED_OUT%s): %s, then run "
                 "'acm-agent renew %s' to request a new certificate",
                 r->target, r->s->rerequests ? ", for the second time" : "",
                 email ? "approve the validation e-mails when they arrive"
                       : "publish the validation CNAMEs and keep them (acm-agent dns NAME prints them)",
                 name_of(r));
}

/* A certificate that is REVOKED, EXPIRED or INACTIVE in ACM. */
static void unusable(acm_run *r) {
        const acm_detail *d = &r->d;
        char t[21];

        if (machine_operator_forced(r->m) && !r->requested && !tracked(r)) {
                log_cert(LOG_NOTICE, name_of(r), "%s is %s; requesting a new certificate as asked",
                         r->target, d->status);
                return start_request(r);
        }
        if (streq(d->status, "REVOKED"))
                return lost(r, "certificate %s was revoked in ACM (%s%s%s)", r->target,
                            d->revocation_reason ? d->revocation_reason : "no reason given",
                            d->revoked_at ? " at " : "",
                            d->revoked_at ? clock_format_rfc3339(d->revoked_at, t) : "");
        if (streq(d->status, "EXPIRED"))
                return lost(r, "certificate %s EXPIRED in ACM (ACM could not renew it)", r->target);
        if (streq(d->status, "INACTIVE"))
                return lost(r, "certificate %s is INACTIVE in ACM (it can no longer be used or renewed)",
                            r->target);
        lost(r, "certificate %s is %s in ACM", r->target, d->status);
}

static void email_wait(acm_run *r) {
        _cleanup_(freep) char *lines = NULL, *one = NULL;
        int k;

        k = issuer_acm_emails_format(r->d.dvos, &lines);
        if (k < 0)
                return run_fail(r, "oom", "out of memory");
        if (!r->s->emails || !streq(r->s->emails, lines)) {
                if (state_set_string(&r->s->emails, lines) < 0)
                        return run_fail(r, "oom", "out of memory");
                if (lines[0])
                        machine_hook_pending_validation(r->m, r->target, lines);
        }
        one = strdup(lines);
        if (!one)
                return run_fail(r, "oom", "out of memory");
        for (char *p = one; *p; p++)
                if (*p == '\n')
                        *p = p[1] ? ';' : 0;
        machine_wait(r->m, machine_now(r->m) + ACM_EMAIL_RECHECK_SEC,
                     "approve the validation e-mails ACM sent for %s: %s", r->target,
                     one[0] ? one : "(addresses not known yet)");
}

static void on_second_check(const dns_check_result *res, size_t n, void *userdata) {
        acm_run *r = userdata;
        _cleanup_(freep) char *note = NULL;
        size_t ok = 0, unknown = 0;

        r->check_job = NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *line = dns_check_result_format(&res[i]);
                if (res[i].status == DNS_CHECK_OK)
                        ok++;
                else if (res[i].status == DNS_CHECK_ERROR) {
                        unknown++;
                        log_cert(LOG_INFO, name_of(r), "cannot confirm by DNS: %s",
                                 line ? line : res[i].name);
                } else {
                        log_cert(LOG_WARNING, name_of(r), "published, but DNS does not answer it yet: %s",
                                 line ? line : res[i].name);
                        char *x = strprintf("%s%s%s", note ? note : "", note ? "; " : "",
                                            line ? line : res[i].name);
                        free(note);
                        note = x;
                }
        }
        free(r->dns_note);
        r->dns_note = note ? strprintf("DNS check: %s", note)
                           : strprintf("DNS check: %zu of %zu published records answered%s", ok, n,
                                       unknown ? ", the others could not be asked" : "");
        wait_issued(r);
}

static void on_published(const dns_result *res, void *userdata) {
        acm_run *r = userdata;
        _cleanup_(strv_freep) char **ns = NULL;
        int k;

        r->dns_job = NULL;
        if (res->notice)
                log_cert(LOG_NOTICE, name_of(r), "%s", res->notice);
        if (res->error) {
                if (r->op == ACM_OP_WATCH)
                        return run_fail(r, res->kind ? res->kind : "dns",
                                        "the validation records ACM needs to renew %s "
                                        "are missing and cannot be published again: %s",
                                        r->target, res->message);
                return run_fail(r, res->kind ? res->kind : "dns",
                                "cannot publish the validation records of %s: %s", r->target,
                                res->message ? res->message : strerror(-res->error));
        }
        log_cert(LOG_INFO, name_of(r), "published %zu validation record%s through %s", r->todo.n,
                 r->todo.n == 1 ? "" : "s",
                 machine_cert(r->m)->dns.provider == CONF_DNS_ROUTE53 ? "Route 53" : "dns.command");
        if (r->op == ACM_OP_WATCH) {
                /* repaired: whoever watches the validation is told */
                _cleanup_(freep) char *text = records_hook_text(&r->todo);
                r->s->dns_checked_at = machine_now(r->m);
                if (text)
                        machine_hook_pending_validation(r->m, r->target, text);
                return watched(r);
        }
        /* asked again: a CNAME a delegated subzone or a private zone hides is
         * told now, not after ACM's 72 hours */
        ns = nameservers(machine_cert(r->m));
        if (!ns)
                return run_fail(r, "oom", "out of memory");
        k = r->checker ? dns_check_records(r->checker, &r->todo, ns, on_second_check, r, &r->check_job)
                       : -ENODEV;
        if (k < 0) {
                log_cert(LOG_INFO, name_of(r), "cannot ask DNS for the validation records: %s",
                         strerror(-k));
                return wait_issued(r);
        }
}

static void publish_todo(acm_run *r) {
        const conf_cert *cert = machine_cert(r->m);
        dns_publish_params p = {
                .provider = cert->dns.provider,
                .cert_name = name_of(r),
                .ttl = cert->dns.ttl ? cert->dns.ttl : 300,
                .timeout_usec = cert->dns.propagation_timeout * USEC_PER_SEC,
                .hosted_zone_id = cert->dns.hosted_zone_id,
                .event = machine_loop(r->m),
                .command = cert->dns.command,
        };
        int k;

        if (cert->dns.provider == CONF_DNS_ROUTE53) {
                k = acm_route53_get(r->m, &p.route53, &r->r53_ref);
                if (k < 0)
                        return run_fail(r, "dns-route53", "cannot set up the Route 53 publisher: %s%s",
                                        aws_client_strerror(k),
                                        k == -ELIBACC ? "" : " (check dns.role_arn and the aws: settings)");
        }
        k = dns_publish(&p, &r->todo, DNS_ACTION_CREATE, on_published, r, &r->dns_job);
        if (k < 0)
                run_fail(r, "dns", "cannot publish the validation records: %s", strerror(-k));
}

/* The operator publishes (manual, or no provider): say what, and wait. */
static void manual_wait(acm_run *r, const char *differences) {
        const conf_cert *cert = machine_cert(r->m);
        _cleanup_(freep) char *zone = records_zone_line(&r->todo, cert->dns.ttl);

        if (!zone)
                return run_fail(r, "oom", "out of memory");
        if (r->new_records) {
                _cleanup_(freep) char *text = records_hook_text(&r->s->records);
                if (text)
                        machine_hook_pending_validation(r->m, r->target, text);
        }
        machine_wait(r->m, machine_now(r->m) + ACM_MANUAL_RECHECK_SEC,
                     "publish the validation records of %s in DNS (acm-agent dns %s prints them): %s%s%s",
                     r->target, name_of(r), zone, differences ? "; DNS check: " : "",
                     differences ? differences : "");
}

static void on_first_check(const dns_check_result *res, size_t n, void *userdata) {
        acm_run *r = userdata;
        const conf_cert *cert = machine_cert(r->m);
        _cleanup_(freep) char *differences = NULL;
        size_t ok = 0;
        int k;

        r->check_job = NULL;
        dns_records_done(&r->todo);
        for (size_t i = 0; i < n; i++) {
                if (res[i].status == DNS_CHECK_OK) {
                        ok++;
                        continue;
                }
                k = dns_records_add(&r->todo, res[i].name, res[i].expected);
                if (k < 0 && k != -EEXIST)
                        return run_fail(r, "oom", "cannot keep the records: %s", strerror(-k));
                if (res[i].status == DNS_CHECK_WRONG || res[i].status == DNS_CHECK_MISSING) {
                        _cleanup_(freep) char *line = dns_check_result_format(&res[i]);
                        char *x = strprintf("%s%s%s", differences ? differences : "",
                                            differences ? "; " : "", line ? line : res[i].name);
                        free(differences);
                        differences = x;
                }
        }
        if (r->op == ACM_OP_WATCH) {
                /* the periodic re-check repairs what DNS says is missing or
                 * wrong; a renewal that waits for validation also gets what
                 * DNS could not be asked about (publishing is idempotent) */
                if (r->todo.n == 0 || (!differences && !r->renewal_dns)) {
                        r->s->dns_checked_at = machine_now(r->m);
                        if (r->renewal_dns && r->new_records) {
                                _cleanup_(freep) char *text = records_hook_text(&r->s->records);
                                if (text)
                                        machine_hook_pending_validation(r->m, r->target, text);
                        }
                        return watched(r);
                }
                if (!r->renewal_dns) {
                        dns_records tmp = {};
                        for (size_t i = 0; i < n; i++)
                                if ((res[i].status == DNS_CHECK_WRONG ||
                                     res[i].status == DNS_CHECK_MISSING) &&
                                    dns_records_add(&tmp, res[i].name, res[i].expected) < 0) {
                                        dns_records_done(&tmp);
                                        return run_fail(r, "oom", "out of memory");
                                }
                        dns_records_done(&r->todo);
                        r->todo = tmp;
                }
                if (cert->dns.provider == CONF_DNS_ROUTE53 || cert->dns.provider == CONF_DNS_EXEC) {
                        log_cert(LOG_WARNING, name_of(r), "%s (%s): publishing %zu record%s again",
                                 r->renewal_dns ? "ACM waits for the validation records to renew"
                                                : "the validation records ACM needs to renew are not in DNS",
                                 differences ? differences : "DNS cannot be asked", r->todo.n,
                                 r->todo.n == 1 ? "" : "s");
                        return publish_todo(r);
                }
                _cleanup_(freep) char *zone = records_zone_line(&r->todo, cert->dns.ttl);
                _cleanup_(freep) char *text = records_hook_text(&r->todo);
                if (text)
                        machine_hook_pending_validation(r->m, r->target, text);
                return run_fail(
                        r, "dns",
                        "the validation records ACM needs to renew %s are not in DNS (%s): publish %s",
                        r->target, differences ? differences : "DNS cannot be asked",
                        zone ? zone : "them (acm-agent dns NAME prints them)");
        }
        if (r->todo.n == 0) {
                log_cert(LOG_INFO, name_of(r), "the %zu validation record%s of %s are in DNS", ok,
                         ok == 1 ? "" : "s", r->target);
                free(r->dns_note);
                r->dns_note = strprintf("DNS check: the %zu validation records answered", ok);
                if (r->new_records) {
                        _cleanup_(freep) char *text = records_hook_text(&r->s->records);
                        if (text)
                                machine_hook_pending_validation(r->m, r->target, text);
                }
                return wait_issued(r);
        }
        if (cert->dns.provider == CONF_DNS_ROUTE53 || cert->dns.provider == CONF_DNS_EXEC) {
                if (r->new_records) {
                        _cleanup_(freep) char *text = records_hook_text(&r->s->records);
                        if (text)
                                machine_hook_pending_validation(r->m, r->target, text);
                }
                return publish_todo(r);
        }
        if (!differences) {
                /* DNS cannot be asked from here: ACM's own check decides */
                log_cert(LOG_INFO, name_of(r),
                         "cannot confirm the validation records of %s by DNS; waiting for ACM", r->target);
                free(r->dns_note);
                r->dns_note = strdup("DNS check: the records could not be asked about");
                if (r->new_records) {
                        _cleanup_(freep) char *text = records_hook_text(&r->s->records);
                        if (text)
                                machine_hook_pending_validation(r->m, r->target, text);
                }
                return wait_issued(r);
        }
        log_cert(LOG_WARNING, name_of(r), "validation records of %s not in DNS: %s", r->target, differences);
        manual_wait(r, differences);
}

/* Asks DNS for s->records (or r->todo when set), then on_first_check. */
static void check_records(acm_run *r, const dns_records *l) {
        _cleanup_(strv_freep) char **ns = nameservers(machine_cert(r->m));
        int k;

        if (!ns)
                return run_fail(r, "oom", "out of memory");
        if (!r->checker) {
                k = acm_checker_get(r->m, &r->checker, &r->checker_ref);
                if (k < 0)
                        return run_fail(r, "dns", "cannot set up the DNS check: %s", strerror(-k));
        }
        k = dns_check_records(r->checker, l, ns, on_first_check, r, &r->check_job);
        if (k < 0)
                run_fail(r, "dns", "cannot ask DNS for the validation records: %s (check dns.nameservers)",
                         strerror(-k));
}

static void after_records_saved(machine *m, void *userdata) {
        acm_run *r = userdata;
        _cleanup_(freep) char *zone = records_zone_line(&r->s->records, machine_cert(m)->dns.ttl);

        testpoint_hit("acm-records-saved", machine_name(m));
        log_cert(LOG_INFO, machine_name(m), "validation records of %s: %s", r->target, zone ? zone : "?");
        check_records(r, &r->s->records);
}

static void validation(acm_run *r) {
        const conf_cert *cert = machine_cert(r->m);
        dns_records recs = {};
        size_t waiting = 0;
        json_t *dvo0 = json_array_get(r->d.dvos, 0);
        const char *method = json_string_value(json_object_get(dvo0, "ValidationMethod"));
        int k;

        if (is_private(r))
                /* no validation: ACM asks the CA */
                return poll_or_wait(r, on_request_detail,
                                    "the private certificate %s is still PENDING_VALIDATION", r->target);
        if (method ? streq(method, "EMAIL") : cert->issuer.acm.validation == CONF_VALIDATION_EMAIL)
                return email_wait(r);
        if (!r->d.dvos)
                return poll_or_wait(r, on_request_detail,
                                    "ACM has not produced the validation records of %s yet", r->target);
        k = dns_records_from_validation_options(r->d.dvos, &recs, &waiting);
        if (k == -ENOMEM)
                return run_fail(r, "oom", "out of memory");
        if (k < 0)
                return run_fail(r, "aws", "DescribeCertificate %s: unusable DomainValidationOptions (%s)",
                                r->target, strerror(-k));
        if (waiting > 0 || recs.n == 0) {
                dns_records_done(&recs);
                return poll_or_wait(r, on_request_detail,
                                    "ACM has not produced the validation records of %s yet", r->target);
        }
        if (records_equal(&recs, &r->s->records)) {
                dns_records_done(&recs);
                return check_records(r, &r->s->records);
        }
        dns_records_done(&r->s->records);
        r->s->records = recs;
        r->new_records = true;
        machine_persist(r->m, PHASE_VALIDATE, after_records_saved, r);
}

static void on_request_detail(acm_run *r, const aws_error *err, acm_detail *d) {
        if (err) {
                if (err->kind == AWS_ERROR_NOT_FOUND && r->s->token_time &&
                    r->s->token_time + ACM_NOT_FOUND_GRACE_SEC > machine_now(r->m))
                        /* not known yet right after the request */
                        return poll_or_wait(r, on_request_detail, "ACM does not describe %s yet", r->target);
                if (err->kind == AWS_ERROR_NOT_FOUND) {
                        _cleanup_(freep) char *arn = strdup(r->target);
                        acm_state_reset(r->s);
                        return run_fail(
                                r, "acm-lost",
                                "certificate %s, requested by the agent, was deleted in ACM before it "
                                "was delivered; a new one is requested at the next attempt",
                                arn ? arn : "?");
                }
                return run_fail_aws(r, "DescribeCertificate", err);
        }
        if (streq(d->status, "PENDING_VALIDATION"))
                return validation(r);
        if (streq(d->status, "ISSUED"))
                return deliver_issued(r);
        if (streq(d->status, "FAILED"))
                return failed(r);
        if (streq(d->status, "VALIDATION_TIMED_OUT"))
                return timed_out(r);
        unusable(r);
}

/* Polling after the DNS steps: only the status matters now. */
static void on_pending_detail(acm_run *r, const aws_error *err, acm_detail *d) {
        if (err || !streq(d->status, "PENDING_VALIDATION"))
                return on_request_detail(r, err, d);
        poll_or_wait(r, on_pending_detail, "ACM is validating %s%s%s%s", r->target, r->dns_note ? " (" : "",
                     r->dns_note ? r->dns_note : "", r->dns_note ? ")" : "");
}

static void on_validation_deadline(acm_run *r) {
        acm_wait_cancel(&r->wait);
        r->delay = ACM_DESCRIBE_MAX_USEC;
        describe(r, 0, on_pending_detail);
}

static void on_poll_done(acm_wait *w) {
        acm_run *r = machine_get_data(w->m);

        if (!r)
                return;
        r->timer = sd_event_source_disable_unref(r->timer);
        if (w->error) {
                log_cert(LOG_INFO, name_of(r), "%s; asking DescribeCertificate instead", w->error);
                return describe(r, next_delay(r), on_pending_detail);
        }
        if (streq(w->status, "ISSUED") && machine_cert(r->m)->issuer.acm.export && !is_private(r))
                return export_now(r);
        describe(r, 0, on_pending_detail);
}

/* The records are published: wait for ISSUED with the engine's poller. */
static void wait_issued(acm_run *r) {
        uint64_t now = mono_now(r);
        int k;

        testpoint_hit("acm-validating", name_of(r));
        r->wait = (acm_wait){.done = on_poll_done, .arn = r->target, .created = r->d.created_at};
        k = acm_poller_wait(r->m, &r->wait);
        if (k < 0)
                return run_fail(r, "oom", "out of memory");
        if (!r->deadline)
                deadline_start(r);
        run_later(r, r->deadline > now ? r->deadline - now : 0, on_validation_deadline);
}

/* ---- ISSUED: export and deliver ---- */

static void deliver(acm_run *r, const char *anchor_pem) {
        machine *m = r->m;
        const conf_cert *cert = machine_cert(m);
        const conf *c = machine_conf(m);
        _cleanup_(crypto_cert_info_freep) crypto_cert_info *info = NULL;
        time_t now = machine_now(m);
        int k;

        k = crypto_cert_info_get(r->cert_pem, strlen(r->cert_pem), &info);
        if (k < 0)
                return run_fail(r, "aws",
                                "ExportCertificate %s: the certificate is not a valid PEM certificate",
                                r->target);
        if (state_set_string(&r->s->exported_serial, info->serial_hex) < 0)
                return run_fail(r, "oom", "out of memory");
        r->s->checked_at = now;
        if (r->s->records.n)
                r->s->dns_checked_at = now;
        acm_watch_input in = {
                .last = now,
                .not_before = info->not_before,
                .not_after = info->not_after,
                .poll_interval = c->daemon.acm_poll_interval,
                .hash = issuer_acm_hash(machine_host_id(m), machine_name(m)),
        };
        issued_cert ic = {
                .key = r->key,
                .cert_pem = r->cert_pem,
                .chain_pem = r->chain_pem,
                .anchor_pem = anchor_pem,
                .trust_store = anchor_pem ? NULL : cert->issuer.acm.trust_store,
                .arn = r->target,
                .key_is_pending = false,
                .watch_at = issuer_acm_next_describe(&in),
        };
        log_cert(LOG_INFO, machine_name(m), "exported %s (serial %s)", r->target, info->serial_hex);
        machine_issued(m, &ic);
}

static void on_ca_done(acm_wait *w) {
        acm_run *r = machine_get_data(w->m);

        if (!r)
                return;
        if (w->error)
                return run_fail(r, "ca", "%s (needed to verify the private certificate %s)", w->error,
                                r->target);
        deliver(r, w->pem);
}

static void on_export(const aws_error *err, json_t *resp, void *userdata) {
        acm_run *r = userdata;
        const char *cert, *chain, *key;
        int k;

        r->req = NULL;
        if (err) {
                OPENSSL_cleanse(r->passphrase, sizeof(r->passphrase));
                if (err->kind == AWS_ERROR_IN_PROGRESS)
                        return poll_or_wait(r, on_pending_detail, "ACM is still issuing %s", r->target);
                if (streq(err->type, "ValidationException"))
                        return run_fail_aws(
                                r,
                                "ExportCertificate (a public certificate requested without Export "
                                "ENABLED can never be exported: set export: false to track it without a "
                                "copy, or let the agent request an exportable one)",
                                err);
                return run_fail_aws(r, "ExportCertificate", err);
        }
        cert = json_string_value(json_object_get(resp, "Certificate"));
        chain = json_string_value(json_object_get(resp, "CertificateChain"));
        key = json_string_value(json_object_get(resp, "PrivateKey"));
        if (!cert || !key || strlen(cert) > CRYPTO_PEM_MAX || strlen(key) > CRYPTO_PEM_MAX ||
            (chain && strlen(chain) > CRYPTO_PEM_MAX)) {
                OPENSSL_cleanse(r->passphrase, sizeof(r->passphrase));
                return run_fail(r, "aws",
                                "ExportCertificate %s answered without a usable Certificate and PrivateKey",
                                r->target);
        }
        EVP_PKEY_free(r->key);
        r->key = NULL;
        k = crypto_decrypt_pkcs8(key, r->passphrase, &r->key);
        OPENSSL_cleanse(r->passphrase, sizeof(r->passphrase));
        if (k < 0)
                return run_fail(
                        r, "aws",
                        "ExportCertificate %s: the private key cannot be decrypted with the passphrase "
                        "sent (%s)",
                        r->target, strerror(-k));
        free(r->cert_pem);
        free(r->chain_pem);
        r->cert_pem = strdup(cert);
        r->chain_pem = chain ? strdup(chain) : NULL;
        if (!r->cert_pem || (chain && !r->chain_pem))
                return run_fail(r, "oom", "out of memory");
        testpoint_hit("acm-exported", name_of(r));
        if (is_private(r)) {
                const char *ca =
                        r->d.ca_arn ? r->d.ca_arn : machine_cert(r->m)->issuer.acm.certificate_authority_arn;
                if (!ca)
                        return run_fail(r, "aws",
                                        "%s is a private certificate without a CertificateAuthorityArn",
                                        r->target);
                r->wait = (acm_wait){.done = on_ca_done};
                k = acm_ca_wait(r->m, ca, &r->wait);
                if (k < 0)
                        return run_fail(r, "oom", "out of memory");
                if (k > 0)
                        deliver(r, r->wait.pem);
                return;
        }
        deliver(r, NULL);
}

static void export_now(acm_run *r) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        _cleanup_(freep) char *b64 = NULL;
        aws_client *client;
        size_t n = 4 * ((ACM_PASSPHRASE_LEN + 2) / 3) + 1;
        int k;

        k = machine_aws(r->m, &client);
        if (k < 0)
                return run_fail(r, "aws", "cannot set up the AWS client: %s", aws_client_strerror(k));
        k = issuer_acm_passphrase(r->passphrase);
        if (k < 0)
                return run_fail(r, "random", "cannot make the export passphrase: %s", strerror(-k));
        b64 = malloc(n);
        if (!b64)
                return run_fail(r, "oom", "out of memory");
        /* a blob: base64 in the JSON protocol */
        EVP_EncodeBlock((unsigned char *) b64, (const unsigned char *) r->passphrase, ACM_PASSPHRASE_LEN);
        req = json_pack("{s:s,s:s}", "CertificateArn", r->target, "Passphrase", b64);
        OPENSSL_cleanse(b64, n);
        /* (the request object and the body the AWS client sends hold the
         * passphrase until the call ends: that copy is the client's) */
        k = req ? aws_call(client, AWS_SERVICE_ACM, "ExportCertificate", req, 0, on_export, r, &r->req)
                : -ENOMEM;
        if (k < 0)
                run_fail(r, "aws", "cannot send ExportCertificate: %s", strerror(-k));
}

static void deliver_issued(acm_run *r) {
        const acm_detail *d = &r->d;

        if (absorb_records(r, d->dvos) < 0)
                return run_fail(r, "oom", "out of memory");
        if (!machine_cert(r->m)->issuer.acm.export) {
                /* tracked in ACM, nothing deployed here */
                _cleanup_(freep) char *serial = d->serial ? strdup(d->serial) : NULL;
                _cleanup_(freep) char *arn = strdup(r->target);
                time_t nb = d->not_before, na = d->not_after;
                if (!serial || !arn)
                        return run_fail(r, "aws",
                                        "DescribeCertificate %s: an ISSUED certificate without a Serial",
                                        r->target);
                r->s->checked_at = machine_now(r->m);
                return machine_served(r->m, serial, arn, nb, na);
        }
        export_now(r);
}

/* ---- the served (or tracked) certificate ---- */

static void on_renewing_detail(acm_run *r, const aws_error *err, acm_detail *d);

static void on_renewed(const aws_error *err, json_t *resp _unused_, void *userdata) {
        acm_run *r = userdata;

        r->req = NULL;
        if (err && err->kind != AWS_ERROR_IN_PROGRESS) {
                if (r->op == ACM_OP_WATCH) {
                        _cleanup_(freep) char *line = aws_error_format(err);
                        log_cert(LOG_WARNING, name_of(r),
                                 "RenewCertificate %s: %s; ACM's own renewal is watched", r->target,
                                 line ? line : err->type);
                        return watched(r);
                }
                return run_fail_aws(r, "RenewCertificate", err);
        }
        log_cert(LOG_INFO, name_of(r), "RenewCertificate %s: %s", r->target,
                 err ? "a renewal is already in progress" : "ACM is renewing it");
        deadline_start(r);
        describe(r, err ? next_delay(r) : 0, on_renewing_detail);
}

static void renew_now(acm_run *r) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        int k;

        k = machine_aws(r->m, &client);
        if (k < 0)
                return run_fail(r, "aws", "cannot set up the AWS client: %s", aws_client_strerror(k));
        req = json_pack("{s:s}", "CertificateArn", r->target);
        k = req ? aws_call(client, AWS_SERVICE_ACM, "RenewCertificate", req, 0, on_renewed, r, &r->req)
                : -ENOMEM;
        if (k < 0)
                run_fail(r, "aws", "cannot send RenewCertificate: %s", strerror(-k));
}

static bool renewal_pending(const acm_detail *d) {
        return d->renewal_status && (streq(d->renewal_status, "PENDING_AUTO_RENEWAL") ||
                                     streq(d->renewal_status, "PENDING_VALIDATION"));
}

static void on_renewing_detail(acm_run *r, const aws_error *err, acm_detail *d) {
        const cert_state *st = machine_state(r->m);

        if (err)
                return run_fail_aws(r, "DescribeCertificate", err);
        if (streq(d->status, "ISSUED") && !issuer_acm_serial_equal(d->serial, st->served.serial)) {
                if (r->op == ACM_OP_WATCH)
                        return machine_renewal_ready(r->m, "RenewCertificate gave a new serial");
                return deliver_issued(r);
        }
        if (d->renewal_status && streq(d->renewal_status, "FAILED"))
                return run_fail(r, "acm-renewal", "ACM could not renew %s (%s): %s", r->target,
                                d->renewal_reason ? d->renewal_reason : "no reason given",
                                issuer_acm_failure_hint(d->renewal_reason));
        if (!streq(d->status, "ISSUED"))
                return unusable(r);
        if (r->op == ACM_OP_WATCH) {
                /* looked at again soon, without holding the machine */
                time_t now = machine_now(r->m);
                if (state_set_string(&r->s->renewal_status, d->renewal_status) < 0 ||
                    state_set_string(&r->s->renewal_reason, d->renewal_reason) < 0)
                        return run_fail(r, "oom", "out of memory");
                r->s->renewal_updated_at = d->renewal_updated_at;
                return machine_watched(r->m, now + ACM_RENEW_RETRY_SEC);
        }
        poll_or_wait(r, on_renewing_detail, "ACM is renewing %s (%s)", r->target,
                     d->renewal_status ? d->renewal_status : "RenewCertificate sent");
}

static void on_target(acm_run *r, const aws_error *err, acm_detail *d) {
        const cert_state *st = machine_state(r->m);
        _cleanup_(freep) char *why = NULL;

        if (err) {
                if (err->kind != AWS_ERROR_NOT_FOUND)
                        return run_fail_aws(r, "DescribeCertificate", err);
                if (machine_operator_forced(r->m) && !tracked(r)) {
                        log_cert(LOG_NOTICE, name_of(r),
                                 "%s no longer exists in ACM; requesting a new certificate as asked",
                                 r->target);
                        return start_request(r);
                }
                return lost(r,
                            "certificate %s no longer exists in ACM (deleted outside the agent, or another "
                            "region or "
                            "account)",
                            r->target);
        }
        if (streq(d->status, "PENDING_VALIDATION")) {
                deadline_start(r);
                return validation(r);
        }
        if (streq(d->status, "FAILED") || streq(d->status, "VALIDATION_TIMED_OUT")) {
                if (machine_operator_forced(r->m) && !tracked(r))
                        return start_request(r);
                return lost(r, "certificate %s is %s in ACM (%s)", r->target, d->status,
                            d->failure_reason ? issuer_acm_failure_hint(d->failure_reason) : "never issued");
        }
        if (!streq(d->status, "ISSUED"))
                return unusable(r);
        if (!issuer_acm_detail_fits(d, machine_cert(r->m), &why)) {
                if (tracked(r))
                        return run_fail(r, "config", "issuer.arn %s does not fit the configuration: %s",
                                        r->target, why ? why : "?");
                log_cert(LOG_NOTICE, name_of(r),
                         "%s no longer fits the configuration (%s): requesting a new certificate; "
                         "%s stays in ACM (delete it there when it is no longer used)",
                         r->target, why ? why : "?", r->target);
                return start_request(r);
        }
        if (r->s->reissue && !tracked(r)) {
                log_cert(LOG_NOTICE, name_of(r),
                         "requesting a new certificate to replace %s (on_renewal_failure: reissue)",
                         r->target);
                return start_request(r);
        }
        if (!st->served.serial || !issuer_acm_serial_equal(d->serial, st->served.serial) ||
            !machine_operator_forced(r->m))
                /* a new serial, or the same certificate deployed again */
                return deliver_issued(r);
        /* renew --force: ACM still holds the served serial */
        if (renewal_pending(d)) {
                deadline_start(r);
                return on_renewing_detail(r, NULL, d);
        }
        if (d->eligibility && streq(d->eligibility, "ELIGIBLE"))
                return renew_now(r);
        if (tracked(r))
                return run_fail(r, "acm-renew",
                                "ACM does not renew %s now (RenewalEligibility %s): it renews certificates "
                                "that were exported or are in use, 60 days before they expire",
                                r->target, d->eligibility ? d->eligibility : "unknown");
        log_cert(LOG_NOTICE, name_of(r),
                 "ACM does not renew %s now (RenewalEligibility %s): requesting a new certificate "
                 "as asked",
                 r->target, d->eligibility ? d->eligibility : "unknown");
        start_request(r);
}

/* ---- issue ---- */

static int acm_issue(machine *m, issue_reason reason) {
        const conf_cert *cert = machine_cert(m);
        const cert_state *st = machine_state(m);
        acm_run *r = run_new(m, ACM_OP_ISSUE);
        acm_state *s;
        time_t now = machine_now(m);

        if (!r)
                return -ENOMEM;
        s = r->s;
        if (reason == ISSUE_REPLACE)
                /* a revoked certificate's request is never resumed */
                acm_state_reset(s);
        if (cert->issuer.acm.arn) {
                if (set_target(r, cert->issuer.acm.arn) < 0)
                        return -ENOMEM;
                if (reason == ISSUE_REPLACE) {
                        run_fail(r, "config",
                                 "the tracked certificate %s was revoked: point issuer.arn at its "
                                 "replacement, "
                                 "or remove arn to let the agent request one",
                                 cert->issuer.acm.arn);
                        return 0;
                }
                describe(r, 0, on_target);
                return 0;
        }
        if (s->arn) {
                if (set_target(r, s->arn) < 0)
                        return -ENOMEM;
                deadline_start(r);
                describe(r, 0, on_request_detail);
                return 0;
        }
        if (s->token) {
                if (s->token_time + ACM_TOKEN_LIFETIME_SEC > now) {
                        /* the same token: ACM answers the same ARN if the request arrived */
                        send_request(r);
                        return 0;
                }
                log_cert(LOG_WARNING, machine_name(m),
                         "the idempotency token of an interrupted request is older than an "
                         "hour; looking for a certificate that request may have made before requesting "
                         "another");
                r->created_after = s->token_time - 300;
                s->token = (free(s->token), NULL);
                s->token_time = 0;
                discover(r);
                return 0;
        }
        if (s->reissue || reason == ISSUE_REPLACE) {
                start_request(r);
                return 0;
        }
        if (st->served.arn) {
                if (set_target(r, st->served.arn) < 0)
                        return -ENOMEM;
                describe(r, 0, on_target);
                return 0;
        }
        discover(r);
        return 0;
}

/* ---- watch ---- */

static time_t next_dns_check(acm_run *r) {
        const conf_cert *cert = machine_cert(r->m);
        uint64_t every = machine_conf(r->m)->daemon.dns_recheck_interval;

        if (cert->issuer.acm.certificate_authority_arn ||
            cert->issuer.acm.validation != CONF_VALIDATION_DNS || r->s->records.n == 0)
                return 0;
        if (!every)
                every = 86400;
        return r->s->dns_checked_at + (time_t) every;
}

static time_t next_describe(acm_run *r) {
        const cert_state *st = machine_state(r->m);
        acm_watch_input in = {
                .last = r->s->checked_at,
                .not_before = st->served.not_before,
                .not_after = st->served.not_after,
                .poll_interval = machine_conf(r->m)->daemon.acm_poll_interval,
                .hash = issuer_acm_hash(machine_host_id(r->m), name_of(r)),
                .renewal_pending =
                        r->s->renewal_status && (streq(r->s->renewal_status, "PENDING_AUTO_RENEWAL") ||
                                                 streq(r->s->renewal_status, "PENDING_VALIDATION")),
        };
        return issuer_acm_next_describe(&in);
}

static void watched(acm_run *r) {
        time_t a = next_describe(r), b = next_dns_check(r), now = machine_now(r->m);
        time_t next = b && b < a ? b : a;

        if (next <= now)
                next = now + 60;
        machine_watched(r->m, next);
}

static void watch_dns(acm_run *r, json_t *dvos) {
        dns_records recs = {};
        size_t waiting = 0;

        /* the description's records win over the saved ones (ACM may change
         * them for a renewal) */
        if (dvos && dns_records_from_validation_options(dvos, &recs, &waiting) >= 0 && waiting == 0 &&
            recs.n > 0 && !records_equal(&recs, &r->s->records)) {
                dns_records_done(&r->s->records);
                r->s->records = recs;
                r->new_records = true;
        } else
                dns_records_done(&recs);
        if (r->s->records.n == 0) {
                r->s->dns_checked_at = machine_now(r->m);
                return watched(r);
        }
        check_records(r, &r->s->records);
}

static void on_watch_detail(acm_run *r, const aws_error *err, acm_detail *d) {
        const cert_state *st = machine_state(r->m);
        const conf_cert *cert = machine_cert(r->m);
        acm_state *s = r->s;
        time_t now = machine_now(r->m);
        char t[21];

        s->checked_at = now;
        if (err) {
                if (err->kind == AWS_ERROR_NOT_FOUND)
                        return lost(r,
                                    "certificate %s no longer exists in ACM (deleted outside the agent, or "
                                    "another "
                                    "region or account)",
                                    r->target);
                return run_fail_aws(r, "DescribeCertificate", err);
        }
        if (!streq(d->status, "ISSUED"))
                return unusable(r);
        if (absorb_records(r, d->dvos) < 0)
                return run_fail(r, "oom", "out of memory");
        if ((d->renewal_status ? !s->renewal_status || !streq(d->renewal_status, s->renewal_status)
                               : !!s->renewal_status) ||
            d->renewal_updated_at != s->renewal_updated_at) {
                if (d->renewal_status)
                        log_cert(LOG_NOTICE, name_of(r), "ACM renewal of %s: %s%s%s", r->target,
                                 d->renewal_status, d->renewal_reason ? " " : "",
                                 d->renewal_reason ? d->renewal_reason : "");
                if (state_set_string(&s->renewal_status, d->renewal_status) < 0 ||
                    state_set_string(&s->renewal_reason, d->renewal_reason) < 0)
                        return run_fail(r, "oom", "out of memory");
                s->renewal_updated_at = d->renewal_updated_at;
                r->new_records = d->renewal_status && streq(d->renewal_status, "PENDING_VALIDATION");
        }
        /* a renewal is a new serial (and a later NotAfter) */
        if (!issuer_acm_serial_equal(d->serial, st->served.serial) ||
            (st->served.not_after && d->not_after > st->served.not_after + 86400)) {
                _cleanup_(freep) char *why =
                        strprintf("ACM renewed %s: serial %s, valid until %s", r->target,
                                  d->serial ? d->serial : "?", clock_format_rfc3339(d->not_after, t));
                return machine_renewal_ready(r->m, why ? why : "ACM renewed it");
        }
        if (d->renewal_status && streq(d->renewal_status, "FAILED")) {
                bool reissue =
                        cert->issuer.acm.on_renewal_failure == CONF_ACM_RENEWAL_REISSUE && !tracked(r);
                if (reissue)
                        s->reissue = true;
                return run_fail(r, "acm-renewal", "ACM's managed renewal of %s FAILED (%s): %s; %s",
                                r->target, d->renewal_reason ? d->renewal_reason : "no reason given",
                                issuer_acm_failure_hint(d->renewal_reason),
                                reissue ? "a new certificate is requested (on_renewal_failure: reissue)"
                                        : "the current certificate stays deployed until it expires");
        }
        if (d->renewal_status && streq(d->renewal_status, "PENDING_VALIDATION")) {
                r->renewal_dns = true;
                return watch_dns(r, d->renewal_dvos ? d->renewal_dvos : d->dvos);
        }
        /* a private certificate ACM may renew: asked inside its window */
        if (is_private(r) && d->eligibility && streq(d->eligibility, "ELIGIBLE") && !renewal_pending(d) &&
            d->not_after && now >= issuer_acm_window_start(d->not_before, d->not_after)) {
                log_cert(LOG_INFO, name_of(r), "%s expires on %s and is eligible: RenewCertificate",
                         r->target, clock_format_rfc3339(d->not_after, t));
                return renew_now(r);
        }
        if (next_dns_check(r) && now >= next_dns_check(r))
                return watch_dns(r, d->dvos);
        watched(r);
}

static int acm_watch(machine *m) {
        const conf_cert *cert = machine_cert(m);
        const cert_state *st = machine_state(m);
        acm_run *r = run_new(m, ACM_OP_WATCH);
        const char *arn = cert->issuer.acm.arn ? cert->issuer.acm.arn : st->served.arn;
        time_t now = machine_now(m), dns_at;

        if (!r)
                return -ENOMEM;
        if (!arn) {
                machine_watched(m, now + (time_t) (machine_conf(m)->daemon.acm_poll_interval ?: 6 * 3600));
                return 0;
        }
        if (set_target(r, arn) < 0)
                return -ENOMEM;
        dns_at = next_dns_check(r);
        /* only the DNS check is due: no DescribeCertificate */
        if (dns_at && now >= dns_at && now < next_describe(r)) {
                watch_dns(r, NULL);
                return 0;
        }
        describe(r, 0, on_watch_detail);
        return 0;
}

/* ---- revoke ---- */

static void on_revoke_check(acm_run *r, const aws_error *err, acm_detail *d) {
        if (!err && streq(d->status, "REVOKED"))
                return machine_revoked(r->m, true);
        run_fail(r, "acm-revoke", "ACM refused to revoke %s: %s", r->target,
                 r->lost ? r->lost : "only exported certificates can be revoked");
}

static void on_revoked(const aws_error *err, json_t *resp _unused_, void *userdata) {
        acm_run *r = userdata;

        r->req = NULL;
        if (!err)
                return machine_revoked(r->m, false);
        if (streq(err->type, "ResourceInUseException"))
                return run_fail_aws(
                        r,
                        "RevokeCertificate (the certificate is in use by AWS resources, InUseBy: "
                        "detach it from them first)",
                        err);
        if (err->kind == AWS_ERROR_INVALID || streq(err->type, "ConflictException")) {
                /* revoked before? (a second revocation is refused) */
                _cleanup_(freep) char *line = aws_error_format(err);
                free(r->lost);
                r->lost = line ? TAKE_PTR(line) : NULL;
                return describe(r, 0, on_revoke_check);
        }
        run_fail_aws(r, "RevokeCertificate", err);
}

static void revoke_send(acm_run *r) {
        _cleanup_(json_decrefp) json_t *req = NULL;
        const char *reason = NULL;
        aws_client *client;
        int k;

        k = issuer_acm_revocation_reason(r->revoke_reason, is_private(r), &reason);
        if (k == -EPERM)
                return run_fail(r, "config",
                                "ACM revokes a public certificate only for %s, not %s: run the revoke again "
                                "with one of those (the key is discarded and replaced whatever the reason)",
                                issuer_acm_public_revocation_reasons(), r->revoke_reason);
        if (k < 0)
                return run_fail(r, "config", "ACM does not know the revocation reason %s", r->revoke_reason);
        k = machine_aws(r->m, &client);
        if (k < 0)
                return run_fail(r, "aws", "cannot set up the AWS client: %s", aws_client_strerror(k));
        req = json_pack("{s:s,s:s}", "CertificateArn", r->target, "RevocationReason", reason);
        k = req ? aws_call(client, AWS_SERVICE_ACM, "RevokeCertificate", req, 0, on_revoked, r, &r->req)
                : -ENOMEM;
        if (k < 0)
                run_fail(r, "aws", "cannot send RevokeCertificate: %s", strerror(-k));
}

static void on_revoke_detail(acm_run *r, const aws_error *err, acm_detail *d _unused_) {
        if (err)
                return run_fail_aws(r, "DescribeCertificate", err);
        revoke_send(r);
}

static int acm_revoke(machine *m, const char *reason) {
        const cert_state *st = machine_state(m);
        const conf_cert *cert = machine_cert(m);
        acm_run *r = run_new(m, ACM_OP_REVOKE);
        const char *arn = st->served.arn ? st->served.arn : cert->issuer.acm.arn;

        if (!r)
                return -ENOMEM;
        r->revoke_reason = reason;
        if (!arn) {
                run_fail(r, "state", "no ACM certificate is recorded as served: nothing to revoke");
                return 0;
        }
        if (set_target(r, arn) < 0)
                return -ENOMEM;
        if (cert->issuer.acm.arn)
                /* public or private: only ACM knows */
                describe(r, 0, on_revoke_detail);
        else
                revoke_send(r);
        return 0;
}

const issuer_ops issuer_acm_ops = {
        .name = "acm",
        .state_load = acm_state_load,
        .state_save = acm_state_save,
        .state_free = acm_state_free,
        .state_in_flight = acm_state_in_flight,
        .state_reset = acm_state_reset,
        .expect = acm_expect,
        .issue = acm_issue,
        .watch = acm_watch,
        .revoke = acm_revoke,
        .cancel = acm_cancel,
        .deploys = acm_deploys,
        .renews = false,
};
