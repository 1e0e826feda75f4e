/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS client's life: creation (libcurl loaded by the first, settings,
 * endpoints, the curl multi handle on the loop), references, teardown, and
 * its counters. The work is
 * done in aws-transport.c, aws-request.c, aws-answer.c, aws-endpoint.c,
 * aws-metadata.c and aws-creds.c (see aws-internal.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws-curl.h"
#include "aws/aws-internal.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "crypto/crypto.h"

void aws_client_set_config(aws_client *c, const conf_aws *cfg) {
        if (c)
                c->cfg = cfg;
}

int aws_client_new(sd_event *e, const conf_aws *cfg, aws_client **ret) {
        aws_client *c;
        int r;

        if (!e || !ret)
                return -EINVAL;
        /* libcurl is loaded here, by the first client (aws-curl.h). */
        r = aws_curl_load();
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->event = sd_event_ref(e);
        c->cfg = cfg;
        c->user_agent = strprintf("acm-agent/%s", PACKAGE_VERSION);
        c->multi = aws_curl.multi_init();
        if (!c->user_agent || !c->multi || aws_transport_init(c) < 0) {
                aws_client_unref(c);
                return -ENOMEM;
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
                if (!c->ca_bundle) {
                        aws_client_unref(c);
                        return -ENOMEM;
                }
        }
        r = aws_endpoint_init(c);
        if (r < 0) {
                aws_client_unref(c);
                return r;
        }
        if (cfg && cfg->role_arn) {
                c->principal = strdup(cfg->role_arn);
                if (!c->principal) {
                        aws_client_unref(c);
                        return -ENOMEM;
                }
        }
        *ret = c;
        return 0;
}

const char *aws_client_strerror(int r) {
        const char *m = r == -ELIBACC ? aws_curl_load_error() : NULL;

        return m ? m : strerror(r < 0 ? -r : r);
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
                aws_request_free(c->requests);
        if (c->multi)
                aws_curl.multi_cleanup(c->multi);
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
        for (size_t i = 0; i < c->n_limiters; i++)
                free(c->limiters[i].key);
        free(c->limiters);
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
        c->ops[i].stats.rate = c->limiters[c->ops[i].limiter].bucket.rate;
        return &c->ops[i].stats;
}
