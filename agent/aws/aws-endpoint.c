/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoints and the region: configuration, environment, the profile, and
 * EC2 instance metadata when nothing else tells. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-internal.h"
#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"

const char *aws_client_region(aws_client *c) {
        return c ? c->region : NULL;
}

const char *aws_client_endpoint(aws_client *c, aws_service svc) {
        if (!c || (unsigned) svc >= _AWS_SERVICE_MAX)
                return NULL;
        return c->endpoints[svc];
}

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

int aws_endpoint_init(aws_client *c) {
        const char *region = c->cfg ? c->cfg->region : NULL;
        int r;

        if (isempty(region))
                region = getenv("AWS_REGION");
        if (isempty(region))
                region = getenv("AWS_DEFAULT_REGION");
        if (!isempty(region)) {
                c->region = strdup(region);
                if (!c->region)
                        return -ENOMEM;
        } else {
                _cleanup_(creds_files_freep) creds_files *f = NULL;
                if (aws_creds_files_load(&f) >= 0) {
                        const char *pr = creds_files_get(f, aws_creds_profile_name(c), "region");
                        if (!isempty(pr)) {
                                c->region = strdup(pr);
                                if (!c->region)
                                        return -ENOMEM;
                        }
                }
        }
        for (int s = 0; s < _AWS_SERVICE_MAX; s++) {
                r = set_endpoint(c, (aws_service) s);
                if (r < 0)
                        return r;
        }
        return 0;
}

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
                c->region_retry_after_usec = clock_now_usec() + AWS_CREDS_RETRY_USEC;
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
                aws_request_start(r);
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

void aws_endpoint_resolve_region(aws_client *c) {
        if (c->region_resolving)
                return;
        c->region_resolving = true;
        if (aws_metadata_imds_disabled())
                return region_done(c, NULL, "disabled by AWS_EC2_METADATA_DISABLED");
        aws_metadata_imds_get(c, true, "/latest/meta-data/placement/region", on_imds_region);
}
