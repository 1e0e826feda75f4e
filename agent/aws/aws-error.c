/* SPDX-License-Identifier: Apache-2.0 */
/* The error structure of aws.h: names, the operator's line, copies. */
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "basic/macro.h"
#include "basic/util.h"

const char *aws_service_to_string(aws_service s) {
        static const char *const names[_AWS_SERVICE_MAX] = {
                [AWS_SERVICE_ACM] = "acm",
                [AWS_SERVICE_ACM_PCA] = "acm-pca",
                [AWS_SERVICE_STS] = "sts",
                [AWS_SERVICE_ROUTE53] = "route53",
        };
        if ((unsigned) s >= _AWS_SERVICE_MAX)
                return NULL;
        return names[s];
}

const char *aws_error_kind_to_string(aws_error_kind k) {
        static const char *const names[_AWS_ERROR_KIND_MAX] = {
                [AWS_ERROR_AUTH] = "auth",
                [AWS_ERROR_CREDENTIALS] = "credentials",
                [AWS_ERROR_THROTTLED] = "throttled",
                [AWS_ERROR_NOT_FOUND] = "not-found",
                [AWS_ERROR_INVALID] = "invalid",
                [AWS_ERROR_LIMIT] = "limit",
                [AWS_ERROR_IN_PROGRESS] = "in-progress",
                [AWS_ERROR_SERVER] = "server",
                [AWS_ERROR_NETWORK] = "network",
                [AWS_ERROR_OTHER] = "other",
        };
        if ((unsigned) k >= _AWS_ERROR_KIND_MAX)
                return NULL;
        return names[k];
}

static const char *s_or(const char *s, const char *dflt) {
        return isempty(s) ? dflt : s;
}

char *aws_error_format(const aws_error *e) {
        _cleanup_(freep) char *detail = NULL, *status = NULL;

        if (!e)
                return NULL;
        if (e->http_status > 0)
                status = strprintf("HTTP %ld", e->http_status);
        else
                status = strdup("no HTTP response");
        if (!status)
                return NULL;
        detail = strprintf("%s%s%s, %u attempt%s", status, e->request_id ? ", request id " : "",
                           e->request_id ? e->request_id : "", e->attempts, e->attempts == 1 ? "" : "s");
        if (!detail)
                return NULL;
        return strprintf("%s on %s:%s%s%s: %s (%s)", s_or(e->type, "Error"), s_or(e->service, "?"),
                         s_or(e->operation, "?"), e->principal ? " for " : "", e->principal ? e->principal : "",
                         s_or(e->message, "no message"), detail);
}

aws_error *aws_error_free(aws_error *e) {
        if (!e)
                return NULL;
        free((char *) e->service);
        free((char *) e->operation);
        free((char *) e->type);
        free((char *) e->message);
        free((char *) e->request_id);
        free((char *) e->principal);
        free(e);
        return NULL;
}

static bool dup_into(const char **dst, const char *src, bool nullable) {
        if (!src) {
                if (nullable)
                        return true;
                src = "";
        }
        *dst = strdup(src);
        return *dst != NULL;
}

aws_error *aws_error_copy(const aws_error *e) {
        _cleanup_(aws_error_freep) aws_error *c = NULL;

        if (!e)
                return NULL;
        c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->kind = e->kind;
        c->http_status = e->http_status;
        c->error = e->error;
        c->attempts = e->attempts;
        if (!dup_into(&c->service, e->service, false) || !dup_into(&c->operation, e->operation, false) ||
            !dup_into(&c->type, e->type, false) || !dup_into(&c->message, e->message, false) ||
            !dup_into(&c->request_id, e->request_id, true) || !dup_into(&c->principal, e->principal, true))
                return NULL;
        return TAKE_PTR(c);
}
