/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls: aws_call() (JSON 1.1, STS query) and aws_call_rest() (Route 53
 * REST-XML) — signing with SigV4, the client-side rate limiter, retries in
 * AWS's standard mode with backoff, the time limit of a call, and turning
 * every answer into a result or an error (aws-answer.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws-answer.h"
#include "aws/aws-curl.h"
#include "aws/aws-internal.h"
#include "aws/aws-sigv4.h"
#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "crypto/crypto.h"

static const char *strempty(const char *s) {
        return s ? s : "";
}

/* ---- counters and the rate limiter ---- */

/* Grows *array (of n elements of size) so that one more fits, doubling. */
static int grow(void **array, size_t *allocated, size_t n, size_t size) {
        if (n < *allocated)
                return 0;
        size_t a = *allocated ? *allocated * 2 : 8;
        void *p = reallocarray(*array, a, size);
        if (!p)
                return -ENOMEM;
        *array = p;
        *allocated = a;
        return 0;
}

/* The index of the token bucket an operation draws from: one per operation,
 * or one per service when the service's quota is per account (Route 53).
 * aws.rate_limits overrides the default rate; for a shared bucket any
 * "route53:Operation" entry sets it (the lowest wins) and the burst is
 * scaled with it. */
static int limiter_get(aws_client *c, aws_service svc, const char *operation, size_t *ret) {
        const char *sname = aws_service_to_string(svc);
        bool shared = aws_policy_shared_bucket(sname);
        _cleanup_(freep) char *key = shared ? strdup(sname) : strprintf("%s:%s", sname, operation);
        if (!key)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_limiters; i++)
                if (streq(c->limiters[i].key, key)) {
                        *ret = i;
                        return 0;
                }

        double rate = aws_policy_default_rate(sname, operation);
        double burst = aws_policy_default_burst(sname, operation);
        double configured = 0;
        size_t plen = strlen(sname);
        for (size_t i = 0; c->cfg && i < c->cfg->n_rate_limits; i++) {
                const conf_rate_limit *rl = &c->cfg->rate_limits[i];
                if (!rl->operation || !(rl->per_second > 0))
                        continue;
                bool match = shared ? strneq(rl->operation, sname, plen) && rl->operation[plen] == ':'
                                    : streq(rl->operation, key);
                if (match && (configured == 0 || rl->per_second < configured))
                        configured = rl->per_second;
        }
        if (configured > 0) {
                /* The same seconds' worth of burst as the default. */
                burst = burst * configured / rate;
                rate = configured;
        }
        if (grow((void **) &c->limiters, &c->n_limiters_allocated, c->n_limiters, sizeof *c->limiters) < 0)
                return -ENOMEM;
        aws_limiter *l = &c->limiters[c->n_limiters];
        *l = (aws_limiter) { .key = TAKE_PTR(key) };
        aws_bucket_init_burst(&l->bucket, rate, burst, clock_now_usec());
        *ret = c->n_limiters++;
        return 0;
}

aws_op_entry *aws_request_op(aws_client *c, aws_service svc, const char *operation) {
        size_t limiter;
        for (size_t i = 0; i < c->n_ops; i++)
                if (c->ops[i].service == svc && streq(c->ops[i].operation, operation))
                        return &c->ops[i];
        if (limiter_get(c, svc, operation, &limiter) < 0)
                return NULL;
        if (grow((void **) &c->ops, &c->n_ops_allocated, c->n_ops, sizeof *c->ops) < 0)
                return NULL;
        aws_op_entry *e = &c->ops[c->n_ops];
        *e = (aws_op_entry) { .service = svc, .operation = strdup(operation), .limiter = limiter };
        if (!e->operation)
                return NULL;
        e->stats.service = aws_service_to_string(svc);
        e->stats.operation = e->operation;
        c->n_ops++;
        return e;
}

static aws_bucket *op_bucket(aws_client *c, aws_op_entry *op) {
        return op ? &c->limiters[op->limiter].bucket : NULL;
}

/* ---- requests ---- */

void aws_request_free(aws_request *r) {
        if (!r)
                return;
        aws_client *c = r->client;
        aws_transport_drop(r);
        aws_curl.slist_free_all(r->headers);
        sd_event_source_disable_unref(r->timer);
        if (r->prev)
                r->prev->next = r->next;
        else if (c->requests == r)
                c->requests = r->next;
        if (r->next)
                r->next->prev = r->prev;
        json_decref(r->request);
        aws_error_free(r->last_error);
        free(r->operation);
        free(r->body);
        free(r->url);
        free(r->response);
        free(r->raw_method);
        free(r->rest_method);
        free(r->rest_path);
        free(r->rest_query);
        free(r->rest_body);
        free(r);
}

aws_request *aws_request_cancel(aws_request *r) {
        aws_request_free(r);
        return NULL;
}

void aws_request_fail(aws_request *r, aws_error *e) {
        aws_client *c = r->client;
        aws_op_entry *op = r->operation ? aws_request_op(c, r->service, r->operation) : NULL;
        e->service = aws_service_to_string(r->service);
        e->operation = r->operation ? r->operation : "";
        if (!e->message)
                e->message = "";
        if (!e->type)
                e->type = "Error";
        e->attempts = r->attempt;
        if (!e->principal)
                e->principal = c->principal ? c->principal : c->creds.source;
        if (op) {
                op->stats.calls++;
                op->stats.errors++;
        }
        if (r->creds_cb)
                r->creds_cb(e, NULL, r->userdata);
        else if (r->cb)
                r->cb(e, NULL, r->userdata);
        aws_request_free(r);
}

static void fail_simple(aws_request *r, aws_error_kind kind, const char *type, const char *message, int error) {
        aws_error e = { .kind = kind, .type = type, .message = message, .error = error };
        aws_request_fail(r, &e);
}

static uint64_t monotonic_now(aws_client *c) {
        uint64_t now = 0;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
        }
        return now;
}

static uint64_t request_timeout_usec(aws_client *c) {
        uint64_t s = c->cfg && c->cfg->request_timeout ? c->cfg->request_timeout : AWS_REQUEST_TIMEOUT_DEFAULT;
        return s * USEC_PER_SEC;
}

/* Why no other attempt is made although the error is retryable. */
static char *time_limit_note(aws_client *c) {
        return strprintf("no time left for another attempt within the call's limit of %" PRIu64
                         " s (%d x aws.request_timeout)",
                         AWS_CALL_TIMEOUT_FACTOR * request_timeout_usec(c) / USEC_PER_SEC, AWS_CALL_TIMEOUT_FACTOR);
}

/* The call's time is up before its next attempt: it ends with the error of
 * the attempt before, saying why it stops. */
static void fail_time_limit(aws_request *r) {
        _cleanup_(freep) char *note = time_limit_note(r->client), *m = NULL;
        aws_error e = r->last_error ? *r->last_error
                                    : (aws_error) { .kind = AWS_ERROR_NETWORK, .type = "Timeout", .message = "" };
        m = note ? strprintf("%s%s%s", strempty(e.message), isempty(e.message) ? "" : "; ", note) : NULL;
        e.message = m ? m : e.message;
        e.service = NULL;
        e.operation = NULL;
        e.principal = NULL;
        aws_request_fail(r, &e);
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        aws_request *r = userdata;
        /* Callbacks run from here may drop the caller's last reference. */
        aws_client *c = aws_client_ref(r->client);
        r->timer = sd_event_source_disable_unref(r->timer);
        aws_request_start(r);
        aws_client_unref(c);
        return 0;
}

static int schedule(aws_request *r, uint64_t delay_usec) {
        aws_client *c = r->client;
        r->timer = sd_event_source_disable_unref(r->timer);
        return sd_event_add_time(c->event, &r->timer, CLOCK_MONOTONIC, monotonic_now(c) + delay_usec, 0,
                                 on_retry_timer, r);
}

/* Splits an endpoint "https://host[:port][/base]" into host and path. */
static int split_url(const char *url, char **ret_host, char **ret_base) {
        const char *p = strstr(url, "://");
        if (!p)
                return -EINVAL;
        p += 3;
        size_t hl = strcspn(p, "/?#");
        if (hl == 0)
                return -EINVAL;
        char *host = strndup(p, hl);
        char *base = strdup(p + hl);
        if (!host || !base) {
                free(host);
                free(base);
                return -ENOMEM;
        }
        /* Default ports are not part of Host, as botocore does. */
        size_t n = strlen(host);
        if (strneq(url, "https://", 8) && n > 4 && streq(host + n - 4, ":443"))
                host[n - 4] = 0;
        else if (strneq(url, "http://", 7) && n > 3 && streq(host + n - 3, ":80"))
                host[n - 3] = 0;
        *ret_host = host;
        *ret_base = base;
        return 0;
}

static int append_query_params(char **body, const char *prefix, json_t *v) {
        const char *k;
        json_t *x;
        size_t i;
        if (json_is_object(v)) {
                json_object_foreach(v, k, x) {
                        _cleanup_(freep) char *p = prefix ? strprintf("%s.%s", prefix, k) : strdup(k);
                        if (!p)
                                return -ENOMEM;
                        int r = append_query_params(body, p, x);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (json_is_array(v)) {
                json_array_foreach(v, i, x) {
                        _cleanup_(freep) char *p = strprintf("%s.member.%zu", prefix, i + 1);
                        if (!p)
                                return -ENOMEM;
                        int r = append_query_params(body, p, x);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        _cleanup_(freep) char *val = NULL, *ek = NULL, *ev = NULL;
        if (json_is_string(v))
                val = strdup(json_string_value(v));
        else if (json_is_integer(v))
                val = strprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_boolean(v))
                val = strdup(json_is_true(v) ? "true" : "false");
        else
                return -EINVAL;
        if (!val)
                return -ENOMEM;
        ek = sigv4_uri_encode(prefix);
        ev = sigv4_uri_encode(val);
        if (!ek || !ev)
                return -ENOMEM;
        char *n = strprintf("%s&%s=%s", *body, ek, ev);
        if (!n)
                return -ENOMEM;
        free(*body);
        *body = n;
        return 0;
}

static const char *json_target_prefix(aws_service s) {
        switch (s) {
        case AWS_SERVICE_ACM:
                return "CertificateManager";
        case AWS_SERVICE_ACM_PCA:
                return "ACMPrivateCA";
        default:
                return NULL;
        }
}

static void request_send(aws_request *r) {
        static const creds_value no_creds = {};
        aws_client *c = r->client;
        const creds_value *cr = r->creds ? r->creds : &c->creds.v;
        _cleanup_(freep) char *host = NULL, *base = NULL, *target = NULL;
        sigv4_result sig = {};
        sigv4_header hdrs[2];
        size_t nh = 0;
        int k;

        const char *endpoint = c->endpoints[r->service];
        if (!endpoint)
                return fail_simple(r, AWS_ERROR_INVALID, "NoRegion",
                                   "no AWS region: set aws.region in the configuration, AWS_REGION, or region in the profile",
                                   -EINVAL);
        k = split_url(endpoint, &host, &base);
        if (k < 0)
                return fail_simple(r, AWS_ERROR_INVALID, "BadEndpoint", "the endpoint URL is not usable", k);

        /* The call's time limit starts with its first attempt: time queued
         * for the rate limiter, credentials or the region before it does
         * not count. Each attempt is cut at aws.request_timeout, or at the
         * call's limit when that comes first. */
        uint64_t now = monotonic_now(c), per_attempt = request_timeout_usec(c);
        if (r->deadline_usec == 0)
                r->deadline_usec = now + AWS_CALL_TIMEOUT_FACTOR * per_attempt;
        if (now >= r->deadline_usec)
                return fail_time_limit(r);
        uint64_t left = r->deadline_usec - now;
        r->cut_by_deadline = left < per_attempt;
        long timeout_ms = (long) ((r->cut_by_deadline ? left : per_attempt) / USEC_PER_MSEC);
        if (timeout_ms < 1)
                timeout_ms = 1;
        uint64_t connect_s = c->cfg && c->cfg->connect_timeout ? c->cfg->connect_timeout : AWS_CONNECT_TIMEOUT_DEFAULT;
        long connect_ms = connect_s * 1000 < (uint64_t) timeout_ms ? (long) (connect_s * 1000) : timeout_ms;

        free(r->body);
        r->body = NULL;
        if (r->rest_method) {
                r->body = strdup(r->rest_body ? r->rest_body : "");
                if (r->rest_body)
                        hdrs[nh++] = (sigv4_header) { "Content-Type", "text/xml" };
        } else if (r->service == AWS_SERVICE_STS) {
                r->body = strprintf("Action=%s&Version=2011-06-15", r->operation);
                if (r->body && r->request && append_query_params(&r->body, NULL, r->request) < 0) {
                        free(r->body);
                        r->body = NULL;
                }
                hdrs[nh++] = (sigv4_header) { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" };
        } else {
                r->body = r->request ? json_dumps(r->request, JSON_COMPACT) : strdup("{}");
                target = strprintf("%s.%s", json_target_prefix(r->service), r->operation);
                if (!target)
                        return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
                hdrs[nh++] = (sigv4_header) { "Content-Type", "application/x-amz-json-1.1" };
                hdrs[nh++] = (sigv4_header) { "X-Amz-Target", target };
        }
        if (!r->body)
                return fail_simple(r, AWS_ERROR_INVALID, "SerializationError", "the request cannot be serialized", -EINVAL);

        _cleanup_(freep) char *rest_full = r->rest_method ? strprintf("%s%s", base, r->rest_path) : NULL;
        if (r->rest_method && !rest_full)
                return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
        const char *path = rest_full ? rest_full : isempty(base) ? "/" : base;
        sigv4_input in = {
                .method = r->rest_method ? r->rest_method : "POST", .host = host, .path = path,
                .query = r->rest_method ? r->rest_query : NULL, .headers = hdrs, .n_headers = nh,
                .payload = r->body, .payload_len = strlen(r->body),
                .region = r->service == AWS_SERVICE_ROUTE53 ? "us-east-1" : c->region ? c->region : "us-east-1",
                .service = aws_service_to_string(r->service), .time = clock_now(),
        };
        sigv4_credentials sc = { cr->access_key_id, cr->secret_access_key, cr->session_token };
        if (r->unsigned_req) {
                sig.authorization = strdup("");
                snprintf(sig.amz_date, sizeof sig.amz_date, "%s", "");
                cr = &no_creds;
                k = sig.authorization ? 0 : -ENOMEM;
        } else
                k = sigv4_sign(&in, &sc, &sig);
        if (k < 0)
                return fail_simple(r, AWS_ERROR_CREDENTIALS, "SigningFailed", "the request could not be signed", k);

        aws_curl.slist_free_all(r->headers);
        r->headers = NULL;
        _cleanup_(freep) char *h_auth = r->unsigned_req ? NULL : strprintf("Authorization: %s", sig.authorization);
        _cleanup_(freep) char *h_date = r->unsigned_req ? NULL : strprintf("X-Amz-Date: %s", sig.amz_date);
        _cleanup_(crypto_secret_freep) char *h_tok = cr->session_token ? strprintf("X-Amz-Security-Token: %s", cr->session_token) : NULL;
        _cleanup_(freep) char *h0 = nh > 0 ? strprintf("%s: %s", hdrs[0].name, hdrs[0].value) : NULL;
        _cleanup_(freep) char *h1 = nh > 1 ? strprintf("%s: %s", hdrs[1].name, hdrs[1].value) : NULL;
        sigv4_result_done(&sig);
        if ((!r->unsigned_req && (!h_auth || !h_date)) || (cr->session_token && !h_tok) || (nh > 0 && !h0) ||
            (nh > 1 && !h1))
                return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
        const char *lines[] = { h_auth, h_date, h0, "Expect:", h1, h_tok };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                if (!lines[i])
                        continue;
                struct curl_slist *n = aws_curl.slist_append(r->headers, lines[i]);
                if (!n)
                        return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
                r->headers = n;
        }

        if (aws_transport_reset(r) < 0)
                return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
        free(r->url);
        if (r->rest_method)
                r->url = strprintf("%s%s%s%s", endpoint, r->rest_path, isempty(r->rest_query) ? "" : "?",
                                   strempty(r->rest_query));
        else
                r->url = strprintf("%s%s", endpoint, isempty(base) ? "/" : "");
        if (!r->url)
                return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);

        aws_curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
        if (r->rest_method && streq(r->rest_method, "GET"))
                aws_curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
        else {
                if (r->rest_method && !streq(r->rest_method, "POST"))
                        aws_curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, r->rest_method);
                aws_curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
                aws_curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long) strlen(r->body));
        }
        if (aws_transport_start(r, connect_ms, timeout_ms) < 0)
                return fail_simple(r, AWS_ERROR_OTHER, "CurlError", "cannot start the HTTP request", -EIO);
        aws_op_entry *op = aws_request_op(c, r->service, r->operation);
        if (op) {
                op->stats.http_requests++;
                if (r->attempt > 1)
                        op->stats.retries++;
        }
}

void aws_request_start(aws_request *r) {
        aws_client *c = r->client;

        if (r->raw_cb)
                return aws_transport_raw_send(r);
        /* Everything but Route 53 (global, us-east-1) needs the region, for
         * the endpoint and for the signature (even with an endpoint override). */
        if (!r->creds_cb && r->service != AWS_SERVICE_ROUTE53 && !c->region) {
                if (c->region_failed && clock_now_usec() < c->region_retry_after_usec)
                        return fail_simple(r, AWS_ERROR_INVALID, "NoRegion",
                                           c->region_error ? c->region_error : "no AWS region", -EINVAL);
                r->waiting_region = true;
                aws_endpoint_resolve_region(c);
                return;
        }
        if (r->creds_checked)
                r->creds_checked = false;
        else if (!r->creds && !aws_creds_fresh(c)) {
                r->waiting_creds = true;
                aws_creds_resolve(c);
                return;
        }
        if (r->creds_cb) {
                aws_credentials_info info = {
                        .source = c->creds.source,
                        .access_key_id = c->creds.v.access_key_id,
                        .temporary = c->creds.v.session_token != NULL,
                        .expiration_usec = c->creds.v.expiration_usec,
                };
                r->creds_cb(NULL, &info, r->userdata);
                aws_request_free(r);
                return;
        }
        if (!(r->flags & AWS_CALL_NO_RATE_LIMIT)) {
                aws_bucket *b = op_bucket(c, aws_request_op(c, r->service, r->operation));
                if (b) {
                        uint64_t wait = aws_bucket_take(b, clock_now_usec());
                        if (wait > 0) {
                                /* A retry that would wait past the call's limit ends now. */
                                if (r->deadline_usec != 0 && monotonic_now(c) + wait >= r->deadline_usec)
                                        return fail_time_limit(r);
                                if (schedule(r, wait) < 0)
                                        fail_simple(r, AWS_ERROR_OTHER, "EventLoopError", "cannot arm a timer", -EIO);
                                return;
                        }
                }
        }
        request_send(r);
}

static int on_defer(sd_event_source *s, void *userdata) {
        aws_request *r = userdata;
        aws_client *c = aws_client_ref(r->client);
        r->timer = sd_event_source_disable_unref(r->timer);
        aws_request_start(r);
        aws_client_unref(c);
        return 0;
}

int aws_request_new(aws_client *c, aws_service svc, const char *operation, json_t *request, unsigned flags,
                    aws_request **ret) {
        aws_request *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->client = c;
        r->service = svc;
        r->flags = flags;
        r->operation = operation ? strdup(operation) : NULL;
        r->request = request ? json_incref(request) : NULL;
        if (operation && !r->operation) {
                json_decref(r->request);
                free(r);
                return -ENOMEM;
        }
        r->next = c->requests;
        if (c->requests)
                c->requests->prev = r;
        c->requests = r;
        if (sd_event_add_defer(c->event, &r->timer, on_defer, r) < 0) {
                aws_request_free(r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

int aws_call(aws_client *c, aws_service svc, const char *operation, json_t *request, unsigned flags,
             aws_callback cb, void *userdata, aws_request **ret_req) {
        aws_request *r;
        int k;
        if (!c || !cb || isempty(operation) || (svc != AWS_SERVICE_ACM && svc != AWS_SERVICE_ACM_PCA &&
                                                svc != AWS_SERVICE_STS))
                return -EINVAL;
        if (request && !json_is_object(request))
                return -EINVAL;
        k = aws_request_new(c, svc, operation, request, flags, &r);
        if (k < 0)
                return k;
        r->cb = cb;
        r->userdata = userdata;
        if (ret_req)
                *ret_req = r;
        return 0;
}

int aws_call_rest(aws_client *c, aws_service svc, const char *operation, const char *method, const char *path,
                  const char *query, const char *body, unsigned flags, aws_callback cb, void *userdata,
                  aws_request **ret_req) {
        aws_request *r;
        int k;
        if (!c || !cb || isempty(operation) || svc != AWS_SERVICE_ROUTE53 || isempty(method) || isempty(path) ||
            path[0] != '/' || strpbrk(path, "?# \r\n") || (query && strpbrk(query, "# \r\n")))
                return -EINVAL;
        if (!streq(method, "GET") && !streq(method, "POST") && !streq(method, "DELETE"))
                return -EINVAL;
        k = aws_request_new(c, svc, operation, NULL, flags, &r);
        if (k < 0)
                return k;
        r->rest_method = strdup(method);
        r->rest_path = strdup(path);
        r->rest_query = query ? strdup(query) : NULL;
        r->rest_body = body ? strdup(body) : NULL;
        if (!r->rest_method || !r->rest_path || (query && !r->rest_query) || (body && !r->rest_body)) {
                aws_request_free(r);
                return -ENOMEM;
        }
        r->cb = cb;
        r->userdata = userdata;
        if (ret_req)
                *ret_req = r;
        return 0;
}

/* ---- answers ---- */

/* The error of a transfer that got no (usable) HTTP answer. */
static int transport_error(aws_request *r, CURLcode code, aws_net_failure net, long *ret_status, char **ret_type,
                           char **ret_message) {
        _cleanup_(freep) char *raw = NULL, *note = NULL;
        const char *type;

        if (r->too_large) {
                aws_curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, ret_status);
                type = "MalformedResponse";
                raw = strprintf("the HTTP %ld answer is larger than %d MiB (%s)", *ret_status,
                                AWS_RESPONSE_MAX / (1024 * 1024), strempty(r->url));
        } else {
                type = code == CURLE_OPERATION_TIMEDOUT ? "Timeout"
                       : net == AWS_NET_NOT_SENT && (code == CURLE_SSL_CONNECT_ERROR ||
                                                     code == CURLE_PEER_FAILED_VERIFICATION ||
                                                     code == CURLE_SSL_CACERT_BADFILE) ? "TLSError"
                                                                                      : "ConnectionError";
                if (code == CURLE_OPERATION_TIMEDOUT && r->cut_by_deadline)
                        note = strprintf("; the call's limit of %" PRIu64 " s (%d x aws.request_timeout) is used up",
                                         AWS_CALL_TIMEOUT_FACTOR * request_timeout_usec(r->client) / USEC_PER_SEC,
                                         AWS_CALL_TIMEOUT_FACTOR);
                raw = strprintf("%s%s%s (%s)%s", aws_curl.easy_strerror(code), r->errbuf[0] ? ": " : "",
                                r->errbuf, strempty(r->url), strempty(note));
        }
        if (!raw)
                return -ENOMEM;
        /* curl's buffer can carry what the server sent. */
        char *m = aws_escape(raw, 2048), *t = strdup(type);
        if (!m || !t) {
                free(m);
                free(t);
                return -ENOMEM;
        }
        *ret_type = t;
        *ret_message = m;
        return 0;
}

void aws_request_done(aws_request *r, CURLcode code) {
        aws_client *c = r->client;
        aws_op_entry *op = aws_request_op(c, r->service, r->operation);
        aws_bucket *bucket = op_bucket(c, op);
        aws_net_failure net = aws_transport_net_failure(code);
        _cleanup_(aws_answer_done) aws_answer a = {};
        _cleanup_(freep) char *local_type = NULL, *local_message = NULL, *with_note = NULL;
        aws_error e;
        bool retryable = false;
        long status = 0;
        int k;

        if (r->too_large)
                net = AWS_NET_MAYBE_SENT;
        if (net == AWS_NET_NONE) {
                aws_curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
                aws_answer_headers h = {
                        .request_id = r->request_id[0] ? r->request_id : NULL,
                        .error_type = r->error_type[0] ? r->error_type : NULL,
                };
                k = aws_answer_parse(r->service, r->operation, status, &h, r->response, r->response_len, &a);
                if (k < 0)
                        return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", k);
                if (a.result) {
                        if (op) {
                                op->stats.calls++;
                                aws_bucket_on_success(bucket);
                        }
                        json_t *result = TAKE_PTR(a.result);
                        if (r->cb)
                                r->cb(NULL, result, r->userdata);
                        json_decref(result);
                        aws_request_free(r);
                        return;
                }
                e = *a.error;
                retryable = a.retryable;
                net = a.net;
        } else {
                k = transport_error(r, code, net, &status, &local_type, &local_message);
                if (k < 0)
                        return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", k);
                e = (aws_error) {
                        .kind = aws_policy_classify(status, local_type, net, &retryable),
                        .type = local_type,
                        .message = local_message,
                        .http_status = status,
                };
        }

        bool throttled = e.kind == AWS_ERROR_THROTTLED;
        if (throttled) {
                c->throttles++;
                if (op) {
                        op->stats.throttled++;
                        aws_bucket_on_throttle(bucket, clock_now_usec());
                }
        }
        unsigned max_attempts = c->cfg && c->cfg->max_attempts ? c->cfg->max_attempts : 3;
        if (r->flags & AWS_CALL_NO_RETRY)
                max_attempts = 1;
        bool idempotent = (r->flags & AWS_CALL_IDEMPOTENT_TOKEN) || !aws_policy_operation_is_mutating(r->operation) ||
                          (r->request && (json_object_get(r->request, "IdempotencyToken") ||
                                          json_object_get(r->request, "ClientRequestToken")));
        if (aws_policy_should_retry(e.kind, retryable, throttled, net, idempotent, r->attempt, max_attempts)) {
                uint64_t rnd = 0;
                (void) random_bytes(&rnd, sizeof rnd);
                uint64_t delay = aws_policy_backoff_usec(r->attempt, AWS_BACKOFF_BASE_USEC, AWS_BACKOFF_CAP_USEC, rnd);
                if (monotonic_now(c) + delay < r->deadline_usec) {
                        log_debug("aws: %s:%s attempt %u failed (%s), retrying in %" PRIu64 " ms",
                                  aws_service_to_string(r->service), r->operation, r->attempt, e.type,
                                  delay / USEC_PER_MSEC);
                        aws_transport_drop(r);
                        aws_error_free(r->last_error);
                        r->last_error = aws_error_copy(&e);
                        if (r->last_error && schedule(r, delay) >= 0)
                                return;
                } else if (!(code == CURLE_OPERATION_TIMEDOUT && r->cut_by_deadline)) {
                        /* Retryable, but the call's time is up: say so (a
                         * timeout at the call's limit has said it). */
                        _cleanup_(freep) char *note = time_limit_note(c);
                        with_note = note ? strprintf("%s%s%s", strempty(e.message), isempty(e.message) ? "" : "; ",
                                                     note)
                                         : NULL;
                        if (with_note)
                                e.message = with_note;
                }
        }
        /* Service, operation and principal are the request's. */
        e.service = NULL;
        e.operation = NULL;
        e.principal = NULL;
        if (!e.type)
                e.type = status ? "HttpError" : "Error";
        aws_request_fail(r, &e);
}
