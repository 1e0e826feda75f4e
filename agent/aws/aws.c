/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS client: libcurl multi driven by sd-event (after systemd's
 * src/import/curl-util.c), SigV4 (sigv4.c), JSON 1.1 and STS query,
 * retries in standard mode and a per-operation adaptive token bucket
 * (aws-policy.c), Route 53 REST-XML, credentials from the environment,
 * web identity, the shared files (creds-file.c, credential_process through
 * aws-proc.c), ECS and IMDSv2, with roles assumed through STS.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "aws/aws-policy.h"
#include "aws/aws-proc.h"
#include "aws/aws-xml.h"
#include "aws/aws.h"
#include "basic/clock.h"
#include "aws/aws-creds-file.h"
#include "crypto/crypto.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "aws/aws-sigv4.h"
#include "basic/util.h"

#define RESPONSE_MAX (4 * 1024 * 1024)
#define CREDS_REFRESH_USEC (5 * 60 * USEC_PER_SEC)
#define BACKOFF_BASE_USEC (100 * USEC_PER_MSEC)
#define BACKOFF_CAP_USEC (20 * USEC_PER_SEC)
/* A refresh that fails while the old credentials still work is retried
 * after this long; the old ones are used meanwhile. */
#define CREDS_RETRY_USEC (30 * USEC_PER_SEC)
#define CREDS_MIN_LEFT_USEC (10 * USEC_PER_SEC)
#define PROCESS_OUTPUT_MAX (64 * 1024)
#define PROCESS_TIMEOUT_SEC 60
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL 21600
#define IMDS_ATTEMPTS 2
#define IMDS_CONNECT_MS 1000
#define IMDS_TIMEOUT_MS 2000
#define ECS_RELATIVE_HOST "http://169.254.170.2"
#define ECS_ATTEMPTS 2
#define ECS_CONNECT_MS 2000
#define ECS_TIMEOUT_MS 5000
#define METADATA_MAX (64 * 1024)

typedef struct aws_client aws_client;
/* A plain HTTP answer (IMDS, ECS): code is curl's result, status 0 when no
 * HTTP answer came. */
typedef void (*raw_callback)(aws_client *c, CURLcode code, long status, const char *body, size_t len,
                             const char *errbuf, void *userdata);

/* One IMDSv2 GET (token first), for the credentials or the region. */
typedef void (*imds_callback)(aws_client *c, const char *error, const char *body, size_t len);
typedef struct imds_op {
        const char *what;
        char *path;
        imds_callback cb;
        unsigned attempt;
        bool retried_token;
} imds_op;

typedef struct op_entry {
        aws_op_stats stats;
        aws_service service;
        char *operation;
        aws_bucket bucket;
} op_entry;

typedef struct creds_state {
        creds_value v;
        char *source;
        bool valid;
} creds_state;

struct aws_request {
        aws_client *client;
        aws_request *next, *prev;      /* client's list */
        aws_service service;
        char *operation;
        json_t *request;
        unsigned flags;
        aws_callback cb;
        void *userdata;
        aws_credentials_callback creds_cb;  /* a credentials query instead of a call */
        unsigned attempt;
        bool waiting_creds;
        const creds_value *creds;      /* explicit credentials (internal STS calls), else the client's */
        CURL *easy;
        struct curl_slist *headers;
        char *body;
        char *url;
        char *response;
        size_t response_len;
        bool too_large;
        char request_id[128];
        char errbuf[CURL_ERROR_SIZE];
        sd_event_source *timer;
        bool internal;                 /* the client's own (credentials) request */
        bool unsigned_req;             /* AssumeRoleWithWebIdentity: no signature */
        bool creds_checked;            /* credentials just resolved: do not check freshness again */
        bool waiting_region;
        /* Plain HTTP (IMDS, ECS): no signature, no AWS error parsing. */
        raw_callback raw_cb;
        char *raw_method;
        long raw_connect_ms, raw_timeout_ms;
        /* REST-XML (Route 53). */
        char *rest_method, *rest_path, *rest_query, *rest_body;
};

struct aws_client {
        unsigned n_ref;
        sd_event *event;
        const conf_aws *cfg;
        CURLM *multi;
        sd_event_source *curl_timer;
        char *region;
        char *endpoints[_AWS_SERVICE_MAX];
        char *ca_bundle;
        char *user_agent;
        aws_request *requests;
        op_entry *ops;
        size_t n_ops;
        uint64_t throttles;
        creds_state creds;
        bool resolving;
        char *principal;
        /* Credentials resolution in progress */
        creds_files *files;
        creds_chain chain;
        size_t chain_step;
        creds_value pending;
        char *pending_source;
        bool config_role_done;
        uint64_t refresh_after_usec;   /* a failed refresh: retry after this */
        aws_proc *proc;                /* a running credential_process */
        char *proc_cmd;                /* its command line, for messages */
        char *base_profile;            /* the profile of a shared-files chain, NULL otherwise */
        imds_op imds_creds, imds_region;
        char *imds_token;
        uint64_t imds_token_expiry_usec;
        unsigned ecs_attempt;
        char *ecs_url, *ecs_auth;
        /* Region from IMDS: after a failure, calls fail fast with
         * region_error until region_retry_after_usec, then it is asked again. */
        bool region_resolving, region_failed;
        uint64_t region_retry_after_usec;
        char *region_error;
};

static void request_free(aws_request *r);
static void request_start(aws_request *r);
static void creds_resolve(aws_client *c);
static void region_resolve(aws_client *c);

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static const char *strempty(const char *s) {
        return s ? s : "";
}

/* XML answers: STS (query protocol) and Route 53 (REST-XML). */
static bool service_is_xml(aws_service s) {
        return s == AWS_SERVICE_STS || s == AWS_SERVICE_ROUTE53;
}

const char *aws_client_region(aws_client *c) {
        return c ? c->region : NULL;
}

const char *aws_client_endpoint(aws_client *c, aws_service svc) {
        if (!c || (unsigned) svc >= _AWS_SERVICE_MAX)
                return NULL;
        return c->endpoints[svc];
}

uint64_t aws_client_throttle_count(aws_client *c) {
        return c ? c->throttles : 0;
}

size_t aws_client_pending(aws_client *c) {
        size_t n = 0;
        for (aws_request *r = c ? c->requests : NULL; r; r = r->next)
                if (!r->internal)
                        n++;
        return n;
}

size_t aws_client_n_stats(aws_client *c) {
        return c ? c->n_ops : 0;
}

const aws_op_stats *aws_client_stats(aws_client *c, size_t i) {
        if (!c || i >= c->n_ops)
                return NULL;
        c->ops[i].stats.rate = c->ops[i].bucket.rate;
        return &c->ops[i].stats;
}

static op_entry *op_get(aws_client *c, aws_service svc, const char *operation) {
        for (size_t i = 0; i < c->n_ops; i++)
                if (c->ops[i].service == svc && streq(c->ops[i].operation, operation))
                        return &c->ops[i];
        op_entry *n = realloc(c->ops, (c->n_ops + 1) * sizeof(op_entry));
        if (!n)
                return NULL;
        c->ops = n;
        /* stats.operation points into entries: fix them after realloc. */
        for (size_t i = 0; i < c->n_ops; i++)
                c->ops[i].stats.operation = c->ops[i].operation;
        op_entry *e = &c->ops[c->n_ops];
        *e = (op_entry) { .service = svc, .operation = strdup(operation) };
        if (!e->operation)
                return NULL;
        double rate = aws_policy_default_rate(aws_service_to_string(svc), operation);
        if (c->cfg) {
                _cleanup_(freep) char *full = strprintf("%s:%s", aws_service_to_string(svc), operation);
                for (size_t i = 0; full && i < c->cfg->n_rate_limits; i++)
                        if (c->cfg->rate_limits[i].operation && streq(c->cfg->rate_limits[i].operation, full) &&
                            c->cfg->rate_limits[i].per_second > 0)
                                rate = c->cfg->rate_limits[i].per_second;
        }
        aws_bucket_init(&e->bucket, rate, clock_now_usec());
        e->stats.service = aws_service_to_string(svc);
        e->stats.operation = e->operation;
        c->n_ops++;
        return e;
}

/* ---- curl multi on sd-event ---- */

static void check_finished(aws_client *c);

static int on_curl_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        aws_client *c = userdata;
        int action = 0, k = 0;
        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        aws_client_ref(c);
        (void) curl_multi_socket_action(c->multi, fd, action, &k);
        check_finished(c);
        aws_client_unref(c);
        return 0;
}

static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
        aws_client *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        curl_multi_assign(c->multi, s, NULL);
                }
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(c->event, &io, s, events, on_curl_io, c) < 0)
                return -1;
        (void) sd_event_source_set_description(io, "aws-curl-io");
        curl_multi_assign(c->multi, s, io);
        return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        aws_client *c = userdata;
        int k = 0;
        aws_client_ref(c);
        (void) curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &k);
        check_finished(c);
        aws_client_unref(c);
        return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        aws_client *c = userp;
        uint64_t now;

        if (timeout_ms < 0) {
                if (c->curl_timer)
                        (void) sd_event_source_set_enabled(c->curl_timer, SD_EVENT_OFF);
                return 0;
        }
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        uint64_t when = now + (uint64_t) timeout_ms * USEC_PER_MSEC + 1;
        if (c->curl_timer) {
                if (sd_event_source_set_time(c->curl_timer, when) < 0 ||
                    sd_event_source_set_enabled(c->curl_timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_time(c->event, &c->curl_timer, CLOCK_MONOTONIC, when, 0, on_curl_timer, c) < 0)
                return -1;
        (void) sd_event_source_set_description(c->curl_timer, "aws-curl-timer");
        return 0;
}

/* ---- client ---- */

static int set_endpoint(aws_client *c, aws_service svc) {
        static const char *const env_names[_AWS_SERVICE_MAX] = {
                [AWS_SERVICE_ACM] = "AWS_ENDPOINT_URL_ACM",
                [AWS_SERVICE_ACM_PCA] = "AWS_ENDPOINT_URL_ACM_PCA",
                [AWS_SERVICE_STS] = "AWS_ENDPOINT_URL_STS",
                [AWS_SERVICE_ROUTE53] = "AWS_ENDPOINT_URL_ROUTE_53",
        };
        const char *name = aws_service_to_string(svc), *url = NULL;
        bool fips = c->cfg && c->cfg->use_fips;

        for (size_t i = 0; c->cfg && i < c->cfg->n_endpoints; i++)
                if (c->cfg->endpoints[i].service && streq(c->cfg->endpoints[i].service, name))
                        url = c->cfg->endpoints[i].url;
        if (isempty(url))
                url = getenv(env_names[svc]);
        if (isempty(url))
                url = getenv("AWS_ENDPOINT_URL");
        free(c->endpoints[svc]);
        c->endpoints[svc] = NULL;
        if (!isempty(url)) {
                if (!strneq(url, "https://", 8) && !strneq(url, "http://", 7))
                        return -EINVAL;
                c->endpoints[svc] = strdup(url);
        } else if (svc == AWS_SERVICE_ROUTE53)
                c->endpoints[svc] = strdup(fips ? "https://route53-fips.amazonaws.com" : "https://route53.amazonaws.com");
        else if (!c->region)
                return 0;
        else
                c->endpoints[svc] = strprintf("https://%s%s.%s.amazonaws.com%s", name, fips ? "-fips" : "", c->region,
                                              strneq(c->region, "cn-", 3) ? ".cn" : "");
        if (!c->endpoints[svc])
                return -ENOMEM;
        /* Drop a trailing slash: paths are appended. */
        size_t n = strlen(c->endpoints[svc]);
        if (n > 0 && c->endpoints[svc][n - 1] == '/')
                c->endpoints[svc][n - 1] = 0;
        return 0;
}

static const char *profile_name(aws_client *c) {
        const char *p = c->cfg ? c->cfg->profile : NULL;
        if (isempty(p))
                p = getenv("AWS_PROFILE");
        if (isempty(p))
                p = "default";
        return p;
}

static int files_load(creds_files **ret) {
        const char *home = getenv("HOME");
        _cleanup_(freep) char *cfg = NULL, *cred = NULL;
        const char *e;

        e = getenv("AWS_CONFIG_FILE");
        cfg = !isempty(e) ? strdup(e) : home ? path_join(home, ".aws/config") : NULL;
        e = getenv("AWS_SHARED_CREDENTIALS_FILE");
        cred = !isempty(e) ? strdup(e) : home ? path_join(home, ".aws/credentials") : NULL;
        return creds_files_load(cfg, cred, ret);
}

int aws_client_new(sd_event *e, const conf_aws *cfg, aws_client **ret) {
        aws_client *c;
        int r;

        if (!e || !ret)
                return -EINVAL;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->event = sd_event_ref(e);
        c->cfg = cfg;
        c->user_agent = strprintf("acm-agent/%s", PACKAGE_VERSION);
        c->multi = curl_multi_init();
        if (!c->user_agent || !c->multi) {
                aws_client_unref(c);
                return -ENOMEM;
        }
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);

        const char *region = cfg ? cfg->region : NULL;
        if (isempty(region))
                region = getenv("AWS_REGION");
        if (isempty(region))
                region = getenv("AWS_DEFAULT_REGION");
        if (!isempty(region))
                c->region = strdup(region);
        else {
                _cleanup_(creds_files_freep) creds_files *f = NULL;
                if (files_load(&f) >= 0) {
                        const char *pr = creds_files_get(f, profile_name(c), "region");
                        if (!isempty(pr))
                                c->region = strdup(pr);
                }
        }
        const char *ca = cfg ? cfg->ca_bundle : NULL;
        if (isempty(ca))
                ca = getenv("AWS_CA_BUNDLE");
        if (!isempty(ca)) {
                if (access(ca, R_OK) < 0) {
                        r = -errno;
                        aws_client_unref(c);
                        return r;
                }
                c->ca_bundle = strdup(ca);
        }
        for (int s = 0; s < _AWS_SERVICE_MAX; s++) {
                r = set_endpoint(c, (aws_service) s);
                if (r < 0) {
                        aws_client_unref(c);
                        return r;
                }
        }
        if (cfg && cfg->role_arn)
                c->principal = strdup(cfg->role_arn);
        *ret = c;
        return 0;
}

aws_client *aws_client_ref(aws_client *c) {
        if (c)
                c->n_ref++;
        return c;
}

aws_client *aws_client_unref(aws_client *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        while (c->requests)
                request_free(c->requests);
        if (c->multi)
                curl_multi_cleanup(c->multi);
        sd_event_source_disable_unref(c->curl_timer);
        sd_event_unref(c->event);
        free(c->region);
        for (int s = 0; s < _AWS_SERVICE_MAX; s++)
                free(c->endpoints[s]);
        free(c->ca_bundle);
        free(c->user_agent);
        for (size_t i = 0; i < c->n_ops; i++)
                free(c->ops[i].operation);
        free(c->ops);
        creds_value_done(&c->creds.v);
        free(c->creds.source);
        creds_value_done(&c->pending);
        free(c->pending_source);
        creds_chain_done(&c->chain);
        creds_files_free(c->files);
        free(c->principal);
        aws_proc_free(c->proc);
        free(c->proc_cmd);
        free(c->base_profile);
        free(c->imds_creds.path);
        free(c->imds_region.path);
        crypto_secret_free(c->imds_token);
        free(c->ecs_url);
        crypto_secret_free(c->ecs_auth);
        free(c->region_error);
        free(c);
        return NULL;
}

/* ---- requests ---- */

static void request_free(aws_request *r) {
        if (!r)
                return;
        aws_client *c = r->client;
        if (r->easy) {
                curl_multi_remove_handle(c->multi, r->easy);
                curl_easy_cleanup(r->easy);
        }
        curl_slist_free_all(r->headers);
        sd_event_source_disable_unref(r->timer);
        if (r->prev)
                r->prev->next = r->next;
        else if (c->requests == r)
                c->requests = r->next;
        if (r->next)
                r->next->prev = r->prev;
        json_decref(r->request);
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
        request_free(r);
        return NULL;
}

static void request_fail(aws_request *r, aws_error *e) {
        aws_client *c = r->client;
        op_entry *op = r->operation ? op_get(c, r->service, r->operation) : NULL;
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
        request_free(r);
}

static void fail_simple(aws_request *r, aws_error_kind kind, const char *type, const char *message, int error) {
        aws_error e = { .kind = kind, .type = type, .message = message, .error = error };
        request_fail(r, &e);
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        aws_request *r = userdata;
        /* Callbacks run from here may drop the caller's last reference. */
        aws_client *c = aws_client_ref(r->client);
        r->timer = sd_event_source_disable_unref(r->timer);
        request_start(r);
        aws_client_unref(c);
        return 0;
}

static int schedule(aws_request *r, uint64_t delay_usec) {
        aws_client *c = r->client;
        uint64_t now;
        int k;
        r->timer = sd_event_source_disable_unref(r->timer);
        k = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (k < 0)
                return k;
        return sd_event_add_time(c->event, &r->timer, CLOCK_MONOTONIC, now + delay_usec, 0, on_retry_timer, r);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        aws_request *r = userdata;
        size_t n = size * nmemb;
        if (r->response_len + n > (r->raw_cb ? METADATA_MAX : RESPONSE_MAX)) {
                r->too_large = true;
                return 0;
        }
        char *p = realloc(r->response, r->response_len + n + 1);
        if (!p)
                return 0;
        memcpy(p + r->response_len, ptr, n);
        r->response = p;
        r->response_len += n;
        p[r->response_len] = 0;
        return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata) {
        aws_request *r = userdata;
        size_t n = size * nitems;
        static const char *const names[] = { "x-amzn-requestid:", "x-amz-request-id:" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                size_t l = strlen(names[i]);
                if (n > l && strncasecmp(buf, names[i], l) == 0) {
                        const char *v = buf + l;
                        size_t vl = n - l;
                        while (vl > 0 && (*v == ' ' || *v == '\t'))
                                v++, vl--;
                        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                                vl--;
                        if (vl >= sizeof r->request_id)
                                vl = sizeof r->request_id - 1;
                        memcpy(r->request_id, v, vl);
                        r->request_id[vl] = 0;
                }
        }
        return n;
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

/* What every request of the client sets on its easy handle: headers, user
 * agent, the body sink, and TLS verification that is never switched off. */
static void easy_setup_common(aws_request *r) {
        aws_client *c = r->client;

        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
        curl_easy_setopt(r->easy, CURLOPT_USERAGENT, c->user_agent);
        curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
        curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        if (c->ca_bundle)
                curl_easy_setopt(r->easy, CURLOPT_CAINFO, c->ca_bundle);
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

        curl_slist_free_all(r->headers);
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
                struct curl_slist *n = curl_slist_append(r->headers, lines[i]);
                if (!n)
                        return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
                r->headers = n;
        }

        if (r->easy) {
                curl_multi_remove_handle(c->multi, r->easy);
                curl_easy_cleanup(r->easy);
        }
        r->easy = curl_easy_init();
        if (!r->easy)
                return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);
        free(r->response);
        r->response = NULL;
        r->response_len = 0;
        r->too_large = false;
        r->request_id[0] = 0;
        r->errbuf[0] = 0;
        free(r->url);
        if (r->rest_method)
                r->url = strprintf("%s%s%s%s", endpoint, r->rest_path, isempty(r->rest_query) ? "" : "?",
                                   strempty(r->rest_query));
        else
                r->url = strprintf("%s%s", endpoint, isempty(base) ? "/" : "");
        if (!r->url)
                return fail_simple(r, AWS_ERROR_OTHER, "OutOfMemory", "out of memory", -ENOMEM);

        uint64_t connect_timeout = c->cfg && c->cfg->connect_timeout ? c->cfg->connect_timeout : 10;
        uint64_t total_timeout = c->cfg && c->cfg->request_timeout ? c->cfg->request_timeout : 60;
        curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
        curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
        if (r->rest_method && streq(r->rest_method, "GET"))
                curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
        else {
                if (r->rest_method && !streq(r->rest_method, "POST"))
                        curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, r->rest_method);
                curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
                curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long) strlen(r->body));
        }
        easy_setup_common(r);
        curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, (long) connect_timeout);
        curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, (long) total_timeout);
        if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
                return fail_simple(r, AWS_ERROR_OTHER, "CurlError", "cannot start the HTTP request", -EIO);
        op_entry *op = op_get(c, r->service, r->operation);
        if (op) {
                op->stats.http_requests++;
                if (r->attempt > 0)
                        op->stats.retries++;
        }
        r->attempt++;
}

static bool creds_fresh(aws_client *c) {
        uint64_t now = clock_now_usec(), exp = c->creds.v.expiration_usec;
        if (!c->creds.valid)
                return false;
        if (exp == 0 || exp > now + CREDS_REFRESH_USEC)
                return true;
        /* In the refresh window: after a failed refresh, keep using the
         * old credentials for a while as long as they still work. */
        return exp > now + CREDS_MIN_LEFT_USEC && now < c->refresh_after_usec;
}

static void raw_send(aws_request *r) {
        aws_client *c = r->client;
        r->easy = curl_easy_init();
        if (!r->easy) {
                r->raw_cb(c, CURLE_OUT_OF_MEMORY, 0, "", 0, "out of memory", r->userdata);
                request_free(r);
                return;
        }
        free(r->response);
        r->response = NULL;
        r->response_len = 0;
        r->too_large = false;
        r->errbuf[0] = 0;
        curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
        curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
        if (streq(r->raw_method, "PUT")) {
                curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, "PUT");
                curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, 0L);
        } else
                curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
        easy_setup_common(r);
        /* Metadata endpoints are link-local: never through a proxy. */
        curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, r->raw_connect_ms);
        curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, r->raw_timeout_ms);
        if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
                r->raw_cb(c, CURLE_FAILED_INIT, 0, "", 0, "cannot start the HTTP request", r->userdata);
                request_free(r);
                return;
        }
        r->attempt++;
}

static void request_start(aws_request *r) {
        aws_client *c = r->client;

        if (r->raw_cb)
                return raw_send(r);
        /* Everything but Route 53 (global, us-east-1) needs the region, for
         * the endpoint and for the signature (even with an endpoint override). */
        if (!r->creds_cb && r->service != AWS_SERVICE_ROUTE53 && !c->region) {
                if (c->region_failed && clock_now_usec() < c->region_retry_after_usec)
                        return fail_simple(r, AWS_ERROR_INVALID, "NoRegion",
                                           c->region_error ? c->region_error : "no AWS region", -EINVAL);
                r->waiting_region = true;
                region_resolve(c);
                return;
        }
        if (r->creds_checked)
                r->creds_checked = false;
        else if (!r->creds && !creds_fresh(c)) {
                r->waiting_creds = true;
                creds_resolve(c);
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
                request_free(r);
                return;
        }
        if (!(r->flags & AWS_CALL_NO_RATE_LIMIT)) {
                op_entry *op = op_get(c, r->service, r->operation);
                if (op) {
                        uint64_t wait = aws_bucket_take(&op->bucket, clock_now_usec());
                        if (wait > 0) {
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
        request_start(r);
        aws_client_unref(c);
        return 0;
}

static int request_new(aws_client *c, aws_service svc, const char *operation, json_t *request, unsigned flags,
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
                free(r);
                return -ENOMEM;
        }
        r->next = c->requests;
        if (c->requests)
                c->requests->prev = r;
        c->requests = r;
        if (sd_event_add_defer(c->event, &r->timer, on_defer, r) < 0) {
                request_free(r);
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
        k = request_new(c, svc, operation, request, flags, &r);
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
        k = request_new(c, svc, operation, NULL, flags, &r);
        if (k < 0)
                return k;
        r->rest_method = strdup(method);
        r->rest_path = strdup(path);
        r->rest_query = query ? strdup(query) : NULL;
        r->rest_body = body ? strdup(body) : NULL;
        if (!r->rest_method || !r->rest_path || (query && !r->rest_query) || (body && !r->rest_body)) {
                request_free(r);
                return -ENOMEM;
        }
        r->cb = cb;
        r->userdata = userdata;
        if (ret_req)
                *ret_req = r;
        return 0;
}

int aws_client_resolve_credentials(aws_client *c, aws_credentials_callback cb, void *userdata, aws_request **ret_req) {
        aws_request *r;
        int k;
        if (!c || !cb)
                return -EINVAL;
        k = request_new(c, AWS_SERVICE_STS, "ResolveCredentials", NULL, 0, &r);
        if (k < 0)
                return k;
        r->creds_cb = cb;
        r->userdata = userdata;
        if (ret_req)
                *ret_req = r;
        return 0;
}

/* ---- answers ---- */

static void strip_namespace(char *type) {
        /* "com.amazonaws.acm#ResourceNotFoundException" and
         * "ResourceNotFoundException:http://…" both become the bare name. */
        char *p = strrchr(type, '#');
        if (p)
                memmove(type, p + 1, strlen(p + 1) + 1);
        p = strchr(type, ':');
        if (p)
                *p = 0;
}

static aws_net_failure net_failure(CURLcode code) {
        switch (code) {
        case CURLE_OK:
                return AWS_NET_NONE;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
                return AWS_NET_NOT_SENT;
        default:
                return AWS_NET_MAYBE_SENT;
        }
}

static void raw_done(aws_request *r, CURLcode code) {
        aws_client *c = r->client;
        long status = 0;
        if (r->too_large)
                code = CURLE_FILESIZE_EXCEEDED;
        if (code == CURLE_OK)
                curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        raw_callback cb = r->raw_cb;
        void *userdata = r->userdata;
        cb(c, code, status, r->response ? r->response : "", r->response_len, r->errbuf, userdata);
        request_free(r);
}

static void request_done(aws_request *r, CURLcode code) {
        if (r->raw_cb)
                return raw_done(r, code);
        aws_client *c = r->client;
        op_entry *op = op_get(c, r->service, r->operation);
        long status = 0;
        json_t *body = NULL;
        _cleanup_(freep) char *type = NULL, *message = NULL;
        aws_net_failure net = net_failure(code);
        bool retryable = false, malformed = false;
        aws_error_kind kind;

        if (r->too_large) {
                net = AWS_NET_MAYBE_SENT;
                code = CURLE_WRITE_ERROR;
        }
        if (net == AWS_NET_NONE)
                curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);

        if (net == AWS_NET_NONE) {
                if (service_is_xml(r->service)) {
                        json_t *x = NULL;
                        if (r->response_len > 0 && aws_xml_to_json(r->response, r->response_len, &x) >= 0)
                                body = x;
                } else if (r->response_len > 0) {
                        json_error_t jerr;
                        body = json_loadb(r->response, r->response_len, 0, &jerr);
                } else
                        body = json_object();
                if (!body && (status < 300 || r->response_len > 0))
                        malformed = true;
        }

        if (net == AWS_NET_NONE && !malformed && status >= 200 && status < 300) {
                json_t *result = body;
                if (r->service == AWS_SERVICE_ROUTE53) {
                        /* The root element's content; an empty element is an empty result. */
                        const char *rk;
                        json_t *rv;
                        result = NULL;
                        json_object_foreach(body, rk, rv) {
                                result = rv;
                                break;
                        }
                        if (!json_is_object(result)) {
                                json_decref(body);
                                body = json_object();
                                result = body;
                        }
                } else if (r->service == AWS_SERVICE_STS) {
                        _cleanup_(freep) char *rk = strprintf("%sResponse", r->operation);
                        _cleanup_(freep) char *rr = strprintf("%sResult", r->operation);
                        json_t *resp = rk ? json_object_get(body, rk) : NULL;
                        result = rr ? json_object_get(resp, rr) : NULL;
                        if (!result)
                                result = json_object_get(resp, "ResponseMetadata") ? NULL : resp;
                        if (!json_is_object(result))
                                result = NULL;
                        if (!result) {
                                /* An empty result (no outputs) is fine. */
                                json_decref(body);
                                body = json_object();
                                result = body;
                        }
                }
                if (!json_is_object(result)) {
                        malformed = true;
                } else {
                        if (op) {
                                op->stats.calls++;
                                aws_bucket_on_success(&op->bucket);
                        }
                        json_incref(result);
                        json_decref(body);
                        if (r->cb)
                                r->cb(NULL, result, r->userdata);
                        json_decref(result);
                        request_free(r);
                        return;
                }
        }

        if (malformed) {
                net = AWS_NET_MAYBE_SENT;
                type = strdup("MalformedResponse");
                message = strprintf("the answer (HTTP %ld, %zu bytes) is not valid %s", status, r->response_len,
                                    service_is_xml(r->service) ? "XML" : "JSON");
        } else if (net != AWS_NET_NONE) {
                type = strdup(code == CURLE_OPERATION_TIMEDOUT ? "Timeout"
                              : net == AWS_NET_NOT_SENT && (code == CURLE_SSL_CONNECT_ERROR ||
                                                            code == CURLE_PEER_FAILED_VERIFICATION ||
                                                            code == CURLE_SSL_CACERT_BADFILE) ? "TLSError"
                                                                                             : "ConnectionError");
                message = strprintf("%s%s%s (%s)", curl_easy_strerror(code), r->errbuf[0] ? ": " : "", r->errbuf,
                                    r->url ? r->url : "");
        } else {
                const char *t = NULL, *m = NULL;
                json_t *icb = json_object_get(body, "InvalidChangeBatch");
                if (icb) {
                        /* Route 53's own error document. */
                        json_t *ms = json_object_get(json_object_get(icb, "Messages"), "Message");
                        t = "InvalidChangeBatch";
                        m = json_string_value(json_is_array(ms) ? json_array_get(ms, 0) : ms);
                        if (!m)
                                m = json_string_value(json_object_get(icb, "Message"));
                } else if (service_is_xml(r->service)) {
                        json_t *e = json_object_get(json_object_get(body, "ErrorResponse"), "Error");
                        t = json_string_value(json_object_get(e, "Code"));
                        m = json_string_value(json_object_get(e, "Message"));
                        const char *rid = json_string_value(json_object_get(json_object_get(body, "ErrorResponse"), "RequestId"));
                        if (rid && !r->request_id[0])
                                snprintf(r->request_id, sizeof r->request_id, "%s", rid);
                } else {
                        t = json_string_value(json_object_get(body, "__type"));
                        m = json_string_value(json_object_get(body, "message"));
                        if (!m)
                                m = json_string_value(json_object_get(body, "Message"));
                }
                if (t) {
                        type = strdup(t);
                        if (type)
                                strip_namespace(type);
                }
                message = m ? strndup(m, 1024) : strdup("");
        }
        json_decref(body);

        kind = aws_policy_classify(status, type, net, &retryable);
        bool throttled = kind == AWS_ERROR_THROTTLED;
        if (throttled) {
                c->throttles++;
                if (op) {
                        op->stats.throttled++;
                        aws_bucket_on_throttle(&op->bucket, clock_now_usec());
                }
        }
        unsigned max_attempts = c->cfg && c->cfg->max_attempts ? c->cfg->max_attempts : 3;
        if (r->flags & AWS_CALL_NO_RETRY)
                max_attempts = 1;
        bool idempotent = (r->flags & AWS_CALL_IDEMPOTENT_TOKEN) || !aws_policy_operation_is_mutating(r->operation) ||
                          (r->request && (json_object_get(r->request, "IdempotencyToken") ||
                                          json_object_get(r->request, "ClientRequestToken")));
        if (aws_policy_should_retry(kind, retryable, throttled, net, idempotent, r->attempt, max_attempts)) {
                uint64_t rnd = 0;
                (void) random_bytes(&rnd, sizeof rnd);
                uint64_t delay = aws_policy_backoff_usec(r->attempt, BACKOFF_BASE_USEC, BACKOFF_CAP_USEC, rnd);
                log_debug("aws: %s:%s attempt %u failed (%s), retrying in %" PRIu64 " ms",
                          aws_service_to_string(r->service), r->operation, r->attempt, type ? type : "?",
                          delay / USEC_PER_MSEC);
                if (r->easy) {
                        curl_multi_remove_handle(c->multi, r->easy);
                        curl_easy_cleanup(r->easy);
                        r->easy = NULL;
                }
                if (schedule(r, delay) >= 0)
                        return;
        }
        aws_error e = {
                .kind = kind,
                .type = type ? type : (status ? "HttpError" : "Error"),
                .message = message ? message : "",
                .request_id = r->request_id[0] ? r->request_id : NULL,
                .http_status = status,
        };
        request_fail(r, &e);
}

static void check_finished(aws_client *c) {
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(c->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                aws_request *r = NULL;
                CURLcode code = msg->data.result;
                CURL *easy = msg->easy_handle;
                if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &r) != CURLE_OK || !r)
                        continue;
                curl_multi_remove_handle(c->multi, easy);
                request_done(r, code);
        }
}

/* ---- plain HTTP for the metadata endpoints ---- */

/* Queues a plain HTTP request; header lines are copied. Returns 0 or -ENOMEM. */
static int raw_new(aws_client *c, const char *method, const char *url, const char *const *headers, size_t n_headers,
                   long connect_ms, long timeout_ms, raw_callback cb) {
        aws_request *r;
        int k = request_new(c, AWS_SERVICE_STS, NULL, NULL, AWS_CALL_NO_RATE_LIMIT, &r);
        if (k < 0)
                return k;
        r->internal = true;
        r->raw_cb = cb;
        r->userdata = NULL;
        r->raw_connect_ms = connect_ms;
        r->raw_timeout_ms = timeout_ms;
        r->raw_method = strdup(method);
        r->url = strdup(url);
        if (!r->raw_method || !r->url) {
                request_free(r);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_headers; i++) {
                struct curl_slist *n = curl_slist_append(r->headers, headers[i]);
                if (!n) {
                        request_free(r);
                        return -ENOMEM;
                }
                r->headers = n;
        }
        return 0;
}

/* A one-line description of a failed metadata request. */
static char *raw_describe(CURLcode code, long status, const char *errbuf, const char *url) {
        if (code != CURLE_OK)
                return strprintf("%s: %s%s%s", url, curl_easy_strerror(code), !isempty(errbuf) ? ": " : "",
                                 strempty(errbuf));
        return strprintf("%s answered HTTP %ld", url, status);
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

static bool imds_disabled(void) {
        const char *e = getenv("AWS_EC2_METADATA_DISABLED");
        return e && strcasecmp(e, "true") == 0;
}

static char *imds_base(void) {
        const char *e = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        char *b = strdup(!isempty(e) ? e : IMDS_DEFAULT_ENDPOINT);
        size_t n = b ? strlen(b) : 0;
        while (n > 0 && b[n - 1] == '/')
                b[--n] = 0;
        return b;
}

static imds_op *imds_op_of(aws_client *c, bool region) {
        return region ? &c->imds_region : &c->imds_creds;
}

static void imds_fetch(aws_client *c, bool region);

static void imds_finish(aws_client *c, bool region, const char *error, const char *body, size_t len) {
        imds_op *op = imds_op_of(c, region);
        imds_callback cb = op->cb;
        op->cb = NULL;
        if (cb)
                cb(c, error, body, len);
}

static void imds_failed(aws_client *c, bool region, CURLcode code, long status, const char *errbuf, const char *path) {
        _cleanup_(freep) char *base = imds_base();
        _cleanup_(freep) char *url = strprintf("%s%s", strempty(base), path);
        _cleanup_(freep) char *m = raw_describe(code, status, errbuf, url ? url : path);
        imds_finish(c, region, m ? m : "the instance metadata service failed", NULL, 0);
}

static void on_imds_token(aws_client *c, bool region, CURLcode code, long status, const char *body, size_t len,
                          const char *errbuf) {
        imds_op *op = imds_op_of(c, region);
        if ((code != CURLE_OK || status >= 500) && op->attempt < IMDS_ATTEMPTS)
                return imds_fetch(c, region);
        if (code != CURLE_OK || status != 200)
                return imds_failed(c, region, code, status, errbuf, "/latest/api/token");
        while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
                len--;
        if (len == 0 || len > 1024 || memchr(body, '\n', len) || memchr(body, '\r', len))
                return imds_finish(c, region, "the instance metadata service answered an unusable token", NULL, 0);
        crypto_secret_free(c->imds_token);
        c->imds_token = strndup(body, len);
        if (!c->imds_token)
                return imds_finish(c, region, "out of memory", NULL, 0);
        c->imds_token_expiry_usec = clock_now_usec() + (IMDS_TOKEN_TTL - 60) * USEC_PER_SEC;
        op->attempt = 0;
        imds_fetch(c, region);
}

static void on_imds_get(aws_client *c, bool region, CURLcode code, long status, const char *body, size_t len,
                        const char *errbuf) {
        imds_op *op = imds_op_of(c, region);
        if (code == CURLE_OK && status == 401 && !op->retried_token) {
                /* The token expired (or the instance restarted): a new one, once. */
                op->retried_token = true;
                op->attempt = 0;
                crypto_secret_free(c->imds_token);
                c->imds_token = NULL;
                return imds_fetch(c, region);
        }
        if ((code != CURLE_OK || status >= 500) && op->attempt < IMDS_ATTEMPTS)
                return imds_fetch(c, region);
        if (code != CURLE_OK || status != 200)
                return imds_failed(c, region, code, status, errbuf, op->path);
        imds_finish(c, region, NULL, body, len);
}

static void on_imds_token_creds(aws_client *c, CURLcode code, long status, const char *body, size_t len,
                                const char *errbuf, void *userdata) {
        on_imds_token(c, false, code, status, body, len, errbuf);
}
static void on_imds_token_region(aws_client *c, CURLcode code, long status, const char *body, size_t len,
                                 const char *errbuf, void *userdata) {
        on_imds_token(c, true, code, status, body, len, errbuf);
}
static void on_imds_get_creds(aws_client *c, CURLcode code, long status, const char *body, size_t len,
                              const char *errbuf, void *userdata) {
        on_imds_get(c, false, code, status, body, len, errbuf);
}
static void on_imds_get_region(aws_client *c, CURLcode code, long status, const char *body, size_t len,
                               const char *errbuf, void *userdata) {
        on_imds_get(c, true, code, status, body, len, errbuf);
}

/* Sends the next request of op: the token when there is none, else the GET. */
static void imds_fetch(aws_client *c, bool region) {
        imds_op *op = imds_op_of(c, region);
        _cleanup_(freep) char *base = imds_base(), *url = NULL;
        _cleanup_(crypto_secret_freep) char *hdr = NULL;
        int k;

        if (!base)
                return imds_finish(c, region, "out of memory", NULL, 0);
        op->attempt++;
        if (!c->imds_token || clock_now_usec() >= c->imds_token_expiry_usec) {
                /* IMDSv2: a session token first (PUT), never IMDSv1. */
                url = strprintf("%s/latest/api/token", base);
                hdr = strprintf("X-aws-ec2-metadata-token-ttl-seconds: %d", IMDS_TOKEN_TTL);
                const char *h[] = { hdr, "Content-Type:" };
                k = url && hdr ? raw_new(c, "PUT", url, h, ELEMENTSOF(h), IMDS_CONNECT_MS, IMDS_TIMEOUT_MS,
                                         region ? on_imds_token_region : on_imds_token_creds)
                               : -ENOMEM;
        } else {
                url = strprintf("%s%s", base, op->path);
                hdr = strprintf("X-aws-ec2-metadata-token: %s", c->imds_token);
                const char *h[] = { hdr };
                k = url && hdr ? raw_new(c, "GET", url, h, ELEMENTSOF(h), IMDS_CONNECT_MS, IMDS_TIMEOUT_MS,
                                         region ? on_imds_get_region : on_imds_get_creds)
                               : -ENOMEM;
        }
        if (k < 0)
                imds_finish(c, region, "out of memory", NULL, 0);
}

/* GETs path from IMDS (token first); cb runs exactly once. */
static void imds_get(aws_client *c, bool region, const char *path, imds_callback cb) {
        imds_op *op = imds_op_of(c, region);
        free(op->path);
        op->path = strdup(path);
        op->cb = cb;
        op->attempt = 0;
        op->retried_token = false;
        if (!op->path)
                return imds_finish(c, region, "out of memory", NULL, 0);
        imds_fetch(c, region);
}

/* ---- region from IMDS ---- */

static void region_done(aws_client *c, const char *region, const char *error) {
        c->region_resolving = false;
        if (region) {
                free(c->region);
                c->region = strdup(region);
                for (int s = 0; c->region && s < _AWS_SERVICE_MAX; s++)
                        if (set_endpoint(c, (aws_service) s) < 0)
                                break;
        }
        free(c->region_error);
        c->region_error = NULL;
        c->region_failed = !c->region;
        if (!c->region) {
                /* Not forever: a metadata hiccup at boot must not break a
                 * long-lived client. Waiting calls (and those until the retry
                 * time) fail fast; the next one after it asks again. */
                c->region_retry_after_usec = clock_now_usec() + CREDS_RETRY_USEC;
                c->region_error = strprintf("no AWS region: set aws.region in the configuration, AWS_REGION, or "
                                            "region in the profile (EC2 instance metadata: %s)",
                                            error ? error : "out of memory");
        } else
                log_debug("aws: region %s from EC2 instance metadata", c->region);
        aws_client_ref(c);
        for (;;) {
                aws_request *r = c->requests;
                while (r && !r->waiting_region)
                        r = r->next;
                if (!r)
                        break;
                r->waiting_region = false;
                request_start(r);
        }
        aws_client_unref(c);
}

static void on_imds_region(aws_client *c, const char *error, const char *body, size_t len) {
        if (error)
                return region_done(c, NULL, error);
        while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
                len--;
        bool ok = len > 0 && len < 64;
        for (size_t i = 0; ok && i < len; i++)
                ok = (body[i] >= 'a' && body[i] <= 'z') || (body[i] >= '0' && body[i] <= '9') || body[i] == '-';
        if (!ok)
                return region_done(c, NULL, "placement/region is not a region name");
        _cleanup_(freep) char *reg = strndup(body, len);
        region_done(c, reg, reg ? NULL : "out of memory");
}

static void region_resolve(aws_client *c) {
        if (c->region_resolving)
                return;
        c->region_resolving = true;
        if (imds_disabled())
                return region_done(c, NULL, "disabled by AWS_EC2_METADATA_DISABLED");
        imds_get(c, true, "/latest/meta-data/placement/region", on_imds_region);
}

/* ---- credentials ---- */

static void creds_finish(aws_client *c, const aws_error *err) {
        c->resolving = false;
        creds_chain_done(&c->chain);
        c->files = creds_files_free(c->files);
        c->base_profile = mfree(c->base_profile);
        c->proc_cmd = mfree(c->proc_cmd);
        /* Wake every request waiting for credentials; callbacks may cancel
         * others, so look again from the head each time. */
        aws_client_ref(c);
        for (;;) {
                aws_request *r = c->requests;
                while (r && !r->waiting_creds)
                        r = r->next;
                if (!r || c->resolving)
                        break;
                r->waiting_creds = false;
                if (err) {
                        aws_error e = *err;
                        request_fail(r, &e);
                } else {
                        r->creds_checked = true;
                        request_start(r);
                }
        }
        aws_client_unref(c);
}

static void creds_fail(aws_client *c, const char *type, const char *message) {
        aws_error e = { .kind = AWS_ERROR_CREDENTIALS, .type = type, .message = message, .error = -ENOKEY };
        uint64_t now = clock_now_usec();
        creds_value_done(&c->pending);
        c->pending_source = mfree(c->pending_source);
        if (c->creds.valid && c->creds.v.expiration_usec > now + CREDS_MIN_LEFT_USEC) {
                /* A refresh failed but the current credentials still work:
                 * keep them, try again later. */
                log_debug("aws: refreshing the credentials failed (%s: %s); the current ones stay in use", type,
                          message);
                c->refresh_after_usec = now + CREDS_RETRY_USEC;
                return creds_finish(c, NULL);
        }
        creds_finish(c, &e);
}

static void creds_roles_next(aws_client *c);
static int creds_take_sts(aws_client *c, json_t *resp, const char *source);

static void on_web_identity(const aws_error *err, json_t *resp, void *userdata) {
        aws_client *c = userdata;
        if (err) {
                _cleanup_(freep) char *line = aws_error_format(err);
                _cleanup_(freep) char *m = strprintf("web identity: %s", line ? line : err->type);
                return creds_fail(c, err->type, m ? m : err->message);
        }
        if (creds_take_sts(c, resp, c->chain.web_role_arn ? c->chain.web_role_arn : "?") < 0)
                return creds_fail(c, "MalformedResponse", "STS answered without usable Credentials");
        c->chain.web_role_arn = NULL;
        creds_roles_next(c);
}

static int creds_take_sts(aws_client *c, json_t *resp, const char *source) {
        json_t *cr = json_object_get(resp, "Credentials");
        const char *a = json_string_value(json_object_get(cr, "AccessKeyId"));
        const char *s = json_string_value(json_object_get(cr, "SecretAccessKey"));
        const char *t = json_string_value(json_object_get(cr, "SessionToken"));
        const char *x = json_string_value(json_object_get(cr, "Expiration"));
        time_t exp = 0;
        if (!a || !s || !t || (x && clock_parse_rfc3339(x, &exp) < 0))
                return -EBADMSG;
        creds_value v = { strdup(a), strdup(s), strdup(t), (uint64_t) exp * USEC_PER_SEC };
        if (!v.access_key_id || !v.secret_access_key || !v.session_token) {
                creds_value_done(&v);
                return -ENOMEM;
        }
        creds_value_done(&c->pending);
        c->pending = v;
        char *ns = strprintf("%s + assumed role %s", c->pending_source ? c->pending_source : "?", source);
        if (ns) {
                free(c->pending_source);
                c->pending_source = ns;
        }
        return 0;
}

static void on_assume_role(const aws_error *err, json_t *resp, void *userdata) {
        aws_client *c = userdata;
        if (err) {
                _cleanup_(freep) char *line = aws_error_format(err);
                _cleanup_(freep) char *m = strprintf("assuming a role for credentials failed: %s (source: %s)",
                                                     line ? line : err->type,
                                                     c->pending_source ? c->pending_source : "?");
                return creds_fail(c, err->type, m ? m : err->message);
        }
        const char *arn = c->chain_step < c->chain.n_roles ? c->chain.roles[c->chain_step].role_arn
                          : c->cfg && c->cfg->role_arn ? c->cfg->role_arn : c->chain.web_role_arn;
        if (creds_take_sts(c, resp, arn ? arn : "?") < 0)
                return creds_fail(c, "MalformedResponse", "STS answered without usable Credentials");
        c->chain_step++;
        creds_roles_next(c);
}

static int creds_internal_call(aws_client *c, const char *op, json_t *params, bool unsigned_req) {
        aws_request *r;
        int k = request_new(c, AWS_SERVICE_STS, op, params, AWS_CALL_NO_RATE_LIMIT, &r);
        json_decref(params);
        if (k < 0)
                return k;
        r->internal = true;
        r->unsigned_req = unsigned_req;
        r->creds = &c->pending;
        r->cb = on_assume_role;
        r->userdata = c;
        return 0;
}

static const char *session_name(aws_client *c, const char *name) {
        if (!isempty(name))
                return name;
        if (c->cfg && !isempty(c->cfg->role_session_name))
                return c->cfg->role_session_name;
        return "acm-agent";
}

/* Assumes the chain's roles from the base up, then aws.role_arn. */
static void creds_roles_next(aws_client *c) {
        size_t n = c->chain.n_roles + (c->cfg && !isempty(c->cfg->role_arn) ? 1 : 0);
        if (c->chain_step >= n) {
                uint64_t now = clock_now_usec();
                if (c->pending.expiration_usec != 0 && c->pending.expiration_usec <= now) {
                        char when[21];
                        _cleanup_(freep) char *m = strprintf(
                                "the credentials from %s expired at %s; the source must hand out current ones",
                                strempty(c->pending_source),
                                clock_format_rfc3339((time_t) (c->pending.expiration_usec / USEC_PER_SEC), when));
                        return creds_fail(c, "ExpiredCredentials", m ? m : "the credentials are expired");
                }
                creds_value_done(&c->creds.v);
                free(c->creds.source);
                c->creds.v = c->pending;
                c->pending = (creds_value) {};
                c->creds.source = c->pending_source;
                c->pending_source = NULL;
                c->creds.valid = true;
                /* Credentials that already expire within the refresh window
                 * (IMDS during a rotation) are used until the retry time,
                 * not fetched again for every request. */
                c->refresh_after_usec = c->creds.v.expiration_usec != 0 &&
                                                        c->creds.v.expiration_usec <= now + CREDS_REFRESH_USEC
                                                ? now + CREDS_RETRY_USEC
                                                : 0;
                log_debug("aws: credentials from %s", c->creds.source ? c->creds.source : "?");
                return creds_finish(c, NULL);
        }
        json_t *p;
        if (c->chain_step < c->chain.n_roles) {
                const creds_role *role = &c->chain.roles[c->chain_step];
                p = json_pack("{s:s, s:s}", "RoleArn", role->role_arn, "RoleSessionName",
                              session_name(c, role->role_session_name));
                if (p && role->external_id)
                        json_object_set_new(p, "ExternalId", json_string(role->external_id));
                if (p && role->duration_seconds)
                        json_object_set_new(p, "DurationSeconds", json_integer((json_int_t) role->duration_seconds));
        } else {
                p = json_pack("{s:s, s:s}", "RoleArn", c->cfg->role_arn, "RoleSessionName", session_name(c, NULL));
                if (p && !isempty(c->cfg->external_id))
                        json_object_set_new(p, "ExternalId", json_string(c->cfg->external_id));
        }
        if (!p || creds_internal_call(c, "AssumeRole", p, false) < 0)
                creds_fail(c, "OutOfMemory", "out of memory");
}

static int pending_set(aws_client *c, const char *a, const char *s, const char *t, const char *source) {
        creds_value_done(&c->pending);
        c->pending = (creds_value) { strdup(a), strdup(s), t ? strdup(t) : NULL, 0 };
        free(c->pending_source);
        c->pending_source = strdup(source);
        if (!c->pending.access_key_id || !c->pending.secret_access_key || (t && !c->pending.session_token) ||
            !c->pending_source)
                return -ENOMEM;
        return 0;
}

/* Takes {AccessKeyId, SecretAccessKey, Token, Expiration} (ECS, IMDS). */
static int pending_from_metadata(aws_client *c, const char *body, size_t len, const char *source, char **ret_msg) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *j = json_loadb(body, len, 0, &jerr);
        const char *a = json_string_value(json_object_get(j, "AccessKeyId"));
        const char *s = json_string_value(json_object_get(j, "SecretAccessKey"));
        const char *t = json_string_value(json_object_get(j, "Token"));
        const char *x = json_string_value(json_object_get(j, "Expiration"));
        const char *code = json_string_value(json_object_get(j, "Code"));
        time_t exp = 0;
        if (!j) {
                /* Line and column only: jansson's text can quote the input
                 * (a short token). */
                *ret_msg = strprintf("the answer is not JSON (line %d, column %d)", jerr.line, jerr.column);
                return -EBADMSG;
        }
        if (code && !streq(code, "Success")) {
                *ret_msg = strprintf("the answer's Code is %.64s, not Success", code);
                return -EBADMSG;
        }
        if (isempty(a) || isempty(s) || strlen(a) > 128 || strlen(s) > 256 || (t && strlen(t) > 8192)) {
                *ret_msg = strdup("the answer has no usable AccessKeyId and SecretAccessKey");
                return -EBADMSG;
        }
        if (x && clock_parse_rfc3339(x, &exp) < 0) {
                *ret_msg = strdup("the answer's Expiration is not an RFC 3339 time");
                return -EBADMSG;
        }
        if (pending_set(c, a, s, isempty(t) ? NULL : t, source) < 0) {
                *ret_msg = NULL;
                return -ENOMEM;
        }
        c->pending.expiration_usec = (uint64_t) exp * USEC_PER_SEC;
        return 0;
}

/* The sources tried when nothing gave credentials, for the operator. */
static char *tried_sources(aws_client *c, const char *imds) {
        return strprintf("no AWS credentials found; tried: the environment (AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY: not set), web identity (AWS_WEB_IDENTITY_TOKEN_FILE and "
                         "AWS_ROLE_ARN: not set), the shared files (profile '%s': not in AWS_CONFIG_FILE / "
                         "AWS_SHARED_CREDENTIALS_FILE / ~/.aws), container credentials "
                         "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI: not set), EC2 instance metadata "
                         "(%s). Configure one of them for the agent",
                         profile_name(c), imds);
}

static void on_imds_creds(aws_client *c, const char *error, const char *body, size_t len);

/* The failure of a base source: inside a profile it names the profile,
 * as the last resort it lists every source tried. */
static void base_fail(aws_client *c, const char *type, const char *what, const char *detail) {
        _cleanup_(freep) char *m = NULL;
        if (c->base_profile)
                m = strprintf("profile '%s': %s: %s", c->base_profile, what, detail);
        else if (streq(type, "NoCredentials"))
                m = tried_sources(c, detail);
        else
                m = strprintf("%s: %s", what, detail);
        creds_fail(c, type, m ? m : detail);
}

static void on_imds_role_creds(aws_client *c, const char *error, const char *body, size_t len) {
        _cleanup_(freep) char *msg = NULL, *src = NULL;
        if (error)
                return base_fail(c, "CredentialsError", "EC2 instance metadata", error);
        src = strprintf("EC2 instance metadata (IMDSv2, role %s)", strempty(c->imds_creds.path) +
                        strlen("/latest/meta-data/iam/security-credentials/"));
        if (!src)
                return creds_fail(c, "OutOfMemory", "out of memory");
        if (pending_from_metadata(c, body, len, src, &msg) < 0)
                return base_fail(c, "CredentialsError", "EC2 instance metadata credentials",
                                 msg ? msg : "out of memory");
        creds_roles_next(c);
}

static void on_imds_creds(aws_client *c, const char *error, const char *body, size_t len) {
        if (error && strstr(error, "security-credentials/ answered HTTP 404")) {
                _cleanup_(freep) char *m = strprintf("%s: the instance has no IAM role (attach an instance profile)",
                                                     error);
                return base_fail(c, "NoCredentials", "EC2 instance metadata", m ? m : error);
        }
        if (error)
                return base_fail(c, "NoCredentials", "EC2 instance metadata", error);
        size_t n = strcspn(body, "\r\n");
        bool ok = n > 0 && n <= 128 && n <= len;
        for (size_t i = 0; ok && i < n; i++)
                ok = body[i] > ' ' && body[i] != '/' && body[i] != '?' && body[i] != '#' && body[i] != '%';
        if (!ok)
                return base_fail(c, "NoCredentials", "EC2 instance metadata",
                                 "the instance has no usable IAM role (attach an instance profile)");
        _cleanup_(freep) char *path = strprintf("/latest/meta-data/iam/security-credentials/%.*s", (int) n, body);
        if (!path)
                return creds_fail(c, "OutOfMemory", "out of memory");
        imds_get(c, false, path, on_imds_role_creds);
}

static void creds_from_imds(aws_client *c) {
        if (imds_disabled())
                return base_fail(c, "NoCredentials", "EC2 instance metadata", "disabled by AWS_EC2_METADATA_DISABLED");
        imds_get(c, false, "/latest/meta-data/iam/security-credentials/", on_imds_creds);
}

/* ---- ECS container credentials ---- */

static void ecs_send(aws_client *c);

static void on_ecs(aws_client *c, CURLcode code, long status, const char *body, size_t len, const char *errbuf,
                   void *userdata) {
        _cleanup_(freep) char *msg = NULL, *src = NULL;
        if ((code != CURLE_OK || status >= 500) && c->ecs_attempt < ECS_ATTEMPTS)
                return ecs_send(c);
        if (code != CURLE_OK || status != 200) {
                msg = raw_describe(code, status, errbuf, c->ecs_url);
                if (msg && (status == 401 || status == 403)) {
                        char *x = strprintf("%s (%s AWS_CONTAINER_AUTHORIZATION_TOKEN%s)", msg,
                                            c->ecs_auth ? "check" : "refused without",
                                            c->ecs_auth && getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") ? "_FILE"
                                                                                                          : "");
                        free(msg);
                        msg = x;
                }
                return base_fail(c, "CredentialsError", "container credentials", msg ? msg : "failed");
        }
        src = strprintf("container credentials (%s)", c->ecs_url);
        if (!src)
                return creds_fail(c, "OutOfMemory", "out of memory");
        if (pending_from_metadata(c, body, len, src, &msg) < 0) {
                _cleanup_(freep) char *m = strprintf("%s: %s", c->ecs_url, msg ? msg : "out of memory");
                return base_fail(c, "CredentialsError", "container credentials", m ? m : "bad answer");
        }
        creds_roles_next(c);
}

static void ecs_send(aws_client *c) {
        _cleanup_(crypto_secret_freep) char *auth = c->ecs_auth ? strprintf("Authorization: %s", c->ecs_auth) : NULL;
        const char *h[] = { "Accept: application/json", auth };
        c->ecs_attempt++;
        if ((c->ecs_auth && !auth) ||
            raw_new(c, "GET", c->ecs_url, h, auth ? 2 : 1, ECS_CONNECT_MS, ECS_TIMEOUT_MS, on_ecs) < 0)
                creds_fail(c, "OutOfMemory", "out of memory");
}

static bool ecs_configured(void) {
        return !isempty(getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) ||
               !isempty(getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

static void creds_from_ecs(aws_client *c) {
        const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        const char *tok = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        const char *tok_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");

        c->ecs_url = mfree(c->ecs_url);
        crypto_secret_free(c->ecs_auth);
        c->ecs_auth = NULL;
        c->ecs_attempt = 0;
        if (!isempty(rel)) {
                if (rel[0] != '/' || strlen(rel) > 1024 || strpbrk(rel, " \t\r\n"))
                        return base_fail(c, "CredentialsError", "container credentials",
                                         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with /");
                c->ecs_url = strprintf("%s%s", ECS_RELATIVE_HOST, rel);
        } else if (!isempty(full)) {
                /* botocore's rule: https, or http to a loopback or the
                 * ECS/EKS link-local addresses; never a user@ part. */
                const char *why = strpbrk(full, " \t\r\n") ? "it contains spaces"
                                                             : url_check_host(full, URL_HTTP_ECS);
                if (why) {
                        _cleanup_(freep) char *m = strprintf(
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI %.200s is not allowed: %s", full, why);
                        return base_fail(c, "CredentialsError", "container credentials", m ? m : "bad URI");
                }
                c->ecs_url = strdup(full);
        } else
                return base_fail(c, "CredentialsError", "container credentials",
                                 "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set");
        if (!c->ecs_url)
                return creds_fail(c, "OutOfMemory", "out of memory");
        if (!isempty(tok_file)) {
                /* The file wins (EKS Pod Identity rotates it); read at every refresh. */
                _cleanup_(freep) char *t = NULL;
                size_t len = 0;
                int k = read_full_file(tok_file, 16 * 1024, &t, &len);
                if (k < 0) {
                        _cleanup_(freep) char *m = strprintf(
                                "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", tok_file, strerror(-k));
                        return base_fail(c, "CredentialsError", "container credentials", m ? m : "unreadable");
                }
                while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
                        t[--len] = 0;
                c->ecs_auth = strdup(t);
                explicit_bzero(t, len);
        } else if (!isempty(tok))
                c->ecs_auth = strdup(tok);
        if ((!isempty(tok_file) || !isempty(tok)) && !c->ecs_auth)
                return creds_fail(c, "OutOfMemory", "out of memory");
        if (c->ecs_auth && (c->ecs_auth[0] == 0 || strpbrk(c->ecs_auth, "\r\n")))
                return base_fail(c, "CredentialsError", "container credentials",
                                 "the authorization token is empty or has a line break");
        ecs_send(c);
}

/* ---- credential_process ---- */

static uint64_t process_timeout_usec(void) {
        const char *e = getenv("ACM_AGENT_CREDENTIAL_PROCESS_TIMEOUT");
        uint64_t t;
        if (!isempty(e) && parse_uint64(e, &t) >= 0 && t > 0 && t <= 3600)
                return t * USEC_PER_SEC;
        return PROCESS_TIMEOUT_SEC * USEC_PER_SEC;
}

static void process_fail(aws_client *c, const char *fmt_detail) {
        _cleanup_(freep) char *m = strprintf("credential_process of profile '%s' (%s) %s", strempty(c->base_profile),
                                             strempty(c->proc_cmd), fmt_detail);
        creds_fail(c, "CredentialProcessFailed", m ? m : fmt_detail);
}

static void on_process(aws_proc *p, const aws_proc_result *res, void *userdata) {
        aws_client *c = userdata;
        _cleanup_(freep) char *d = NULL, *msg = NULL, *src = NULL;
        creds_value v = {};
        /* Failure is this flag, never whether a message could be formatted:
         * an out-of-memory message must not turn into empty credentials. */
        bool failed = true;

        if (res->exec_errno)
                d = strprintf("cannot be started: %s", strerror(res->exec_errno));
        else if (res->timed_out)
                d = strprintf("did not finish within %" PRIu64 " s and was killed",
                              process_timeout_usec() / USEC_PER_SEC);
        else if (res->too_large)
                d = strprintf("printed more than %d KiB and was killed", PROCESS_OUTPUT_MAX / 1024);
        else if (!res->exited)
                d = strprintf("was killed by signal %d%s%s", res->signal, res->err_line[0] ? ": " : "", res->err_line);
        else if (res->exit_status != 0)
                d = strprintf("exited with status %d%s%s", res->exit_status, res->err_line[0] ? ": " : "",
                              res->err_line[0] ? res->err_line : " (no message on stderr)");
        else if (creds_process_parse_output(res->out, res->out_len, &v, &msg) < 0)
                d = strprintf("printed unusable credentials: %s", msg ? msg : "out of memory");
        else
                failed = false;
        c->proc = aws_proc_free(c->proc);
        if (failed) {
                creds_value_done(&v);
                return process_fail(c, d ? d : "failed (out of memory while describing how)");
        }
        src = strprintf("profile '%s' (credential_process)", strempty(c->base_profile));
        if (!src) {
                creds_value_done(&v);
                return creds_fail(c, "OutOfMemory", "out of memory");
        }
        creds_value_done(&c->pending);
        c->pending = v;
        free(c->pending_source);
        c->pending_source = TAKE_PTR(src);
        creds_roles_next(c);
}

static void creds_from_process(aws_client *c, const char *cmd) {
        _cleanup_(strv_freep) char **argv = NULL;
        int k;

        free(c->proc_cmd);
        c->proc_cmd = strdup(cmd);
        if (!c->proc_cmd)
                return creds_fail(c, "OutOfMemory", "out of memory");
        k = creds_split_command(cmd, &argv);
        if (k == -ENOMEM)
                return creds_fail(c, "OutOfMemory", "out of memory");
        if (k < 0)
                return process_fail(c, "cannot be split into words: an unterminated quote or an empty command");
        c->proc = aws_proc_free(c->proc);
        k = aws_proc_run(c->event, argv, process_timeout_usec(), PROCESS_OUTPUT_MAX, on_process, c, &c->proc);
        if (k < 0) {
                _cleanup_(freep) char *d = strprintf("cannot be started: %s", strerror(-k));
                return process_fail(c, d ? d : "cannot be started");
        }
        log_debug("aws: running the credential_process of profile '%s'", strempty(c->base_profile));
}

/* ---- web identity ---- */

static void creds_web_identity(aws_client *c, const char *token_file, const char *role, const char *session) {
        _cleanup_(freep) char *token = NULL, *src = NULL;
        size_t len = 0;
        int k;

        k = read_full_file(token_file, 64 * 1024, &token, &len);
        if (k < 0) {
                _cleanup_(freep) char *m = strprintf("cannot read the web identity token %s: %s", token_file,
                                                     strerror(-k));
                return base_fail(c, "WebIdentityTokenUnreadable", "web identity", m ? m : "cannot read the token");
        }
        while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
                token[--len] = 0;
        src = c->base_profile ? strprintf("profile '%s' (web identity token %s)", c->base_profile, token_file)
                              : strprintf("web identity token %s", token_file);
        creds_value_done(&c->pending);
        free(c->pending_source);
        c->pending_source = TAKE_PTR(src);
        json_t *p = json_pack("{s:s, s:s, s:s}", "RoleArn", role, "RoleSessionName", session_name(c, session),
                              "WebIdentityToken", token);
        explicit_bzero(token, len);
        c->chain.web_role_arn = role;
        c->chain_step = 0;
        if (!p || !c->pending_source)
                return creds_fail(c, "OutOfMemory", "out of memory");
        aws_request *r;
        k = request_new(c, AWS_SERVICE_STS, "AssumeRoleWithWebIdentity", p, AWS_CALL_NO_RATE_LIMIT, &r);
        json_decref(p);
        if (k < 0)
                return creds_fail(c, "OutOfMemory", "out of memory");
        r->internal = true;
        r->unsigned_req = true;
        r->creds = &c->pending;
        r->cb = on_web_identity;
        r->userdata = c;
}

static void creds_resolve(aws_client *c) {
        const char *a, *s, *t, *token_file, *role;
        int k;

        if (c->resolving)
                return;
        c->resolving = true;
        c->chain_step = 0;
        creds_chain_done(&c->chain);
        c->base_profile = mfree(c->base_profile);

        /* 1. Environment. */
        a = getenv("AWS_ACCESS_KEY_ID");
        s = getenv("AWS_SECRET_ACCESS_KEY");
        t = getenv("AWS_SESSION_TOKEN");
        if (!isempty(a) && !isempty(s)) {
                if (pending_set(c, a, s, isempty(t) ? NULL : t, "environment (AWS_ACCESS_KEY_ID)") < 0)
                        return creds_fail(c, "OutOfMemory", "out of memory");
                return creds_roles_next(c);
        }
        if (!isempty(a) || !isempty(s))
                return creds_fail(c, "IncompleteEnvironment",
                                  "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both or neither");

        /* 2. Web identity. */
        token_file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        role = getenv("AWS_ROLE_ARN");
        if (!isempty(token_file) && !isempty(role))
                return creds_web_identity(c, token_file, role, getenv("AWS_ROLE_SESSION_NAME"));

        /* 3. Shared files. */
        c->files = creds_files_free(c->files);
        k = files_load(&c->files);
        if (k < 0)
                return creds_fail(c, "SharedFilesUnreadable", "the AWS shared config/credentials file cannot be read");
        const char *profile = profile_name(c);
        bool explicit_profile = (c->cfg && !isempty(c->cfg->profile)) || !isempty(getenv("AWS_PROFILE"));
        if (creds_files_has_profile(c->files, profile)) {
                _cleanup_(freep) char *msg = NULL;
                k = creds_files_resolve(c->files, profile, &c->chain, &msg);
                if (k < 0)
                        return creds_fail(c, "InvalidProfile", msg ? msg : "the profile cannot be used");
                c->base_profile = strdup(c->chain.base_profile ? c->chain.base_profile : profile);
                _cleanup_(freep) char *src = strprintf("profile '%s' (shared files)", profile);
                if (!src || !c->base_profile)
                        return creds_fail(c, "OutOfMemory", "out of memory");
                switch (c->chain.base) {
                case CREDS_BASE_STATIC:
                        if (pending_set(c, c->chain.access_key_id, c->chain.secret_access_key, c->chain.session_token,
                                        src) < 0)
                                return creds_fail(c, "OutOfMemory", "out of memory");
                        return creds_roles_next(c);
                case CREDS_BASE_PROCESS:
                        return creds_from_process(c, c->chain.process);
                case CREDS_BASE_WEB_IDENTITY:
                        return creds_web_identity(c, c->chain.token_file, c->chain.web_role_arn,
                                                  c->chain.web_session_name);
                case CREDS_BASE_ENVIRONMENT:
                        return base_fail(c, "CredentialsError", "credential_source Environment",
                                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
                case CREDS_BASE_ECS:
                        return creds_from_ecs(c);
                case CREDS_BASE_IMDS:
                        if (imds_disabled())
                                return base_fail(c, "CredentialsError", "credential_source Ec2InstanceMetadata",
                                                 "disabled by AWS_EC2_METADATA_DISABLED");
                        return creds_from_imds(c);
                }
                return creds_fail(c, "InvalidProfile", "the profile has an unknown credential source");
        } else if (explicit_profile) {
                _cleanup_(freep) char *m = strprintf("profile '%s' is not in the AWS config or credentials file; "
                                                     "add it, or fix aws.profile / AWS_PROFILE", profile);
                return creds_fail(c, "ProfileNotFound", m ? m : "profile not found");
        }

        /* 4. ECS / EKS container credentials. */
        if (ecs_configured())
                return creds_from_ecs(c);

        /* 5. EC2 instance metadata (IMDSv2). */
        creds_from_imds(c);
}
