/* SPDX-License-Identifier: Apache-2.0 */
/* The error structure of aws.h: names, the operator's line, copies, and
 * the escaping of text from outside. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-internal.h"
#include "aws/aws.h"
#include "basic/macro.h"
#include "basic/util.h"

#define ERROR_PART_MAX 256
#define ERROR_MESSAGE_MAX 4096

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

/* Length of the UTF-8 sequence starting at p (at most n bytes there), 0
 * when it is not a valid one (overlong, surrogate, beyond U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n) {
        size_t l;
        uint32_t cp;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                l = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                l = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                l = 4, cp = p[0] & 0x07;
        else
                return 0;
        if (l > n)
                return 0;
        for (size_t i = 1; i < l; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((l == 3 && cp < 0x800) || (l == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return l;
}

char *aws_escape_mem(const char *p, size_t len, size_t max) {
        const unsigned char *s = (const unsigned char *) (p ? p : "");
        size_t n = p ? len : 0, in = 0, o = 0;
        /* Each input byte becomes at most 4 ("\xNN"), plus "..." and NUL. */
        size_t take = n < max ? n : max;
        char *out = malloc(take * 4 + 4);
        if (!out)
                return NULL;
        while (in < n) {
                unsigned char ch = s[in];
                size_t l = ch >= 0x80 ? utf8_len(s + in, n - in) : 1;
                if (in + (l ? l : 1) > max)
                        break;
                if (l > 1 && !(l == 2 && ch == 0xc2 && s[in + 1] < 0xa0)) {
                        /* Valid UTF-8 other than the C1 controls U+0080-U+009F
                         * (which terminals obey, like ESC): as is. */
                        memcpy(out + o, s + in, l);
                        o += l;
                        in += l;
                        continue;
                }
                if (l == 2) {
                        /* A C1 control: both bytes escaped. */
                        o += (size_t) snprintf(out + o, 5, "\\x%02x", ch);
                        o += (size_t) snprintf(out + o, 5, "\\x%02x", s[in + 1]);
                        in += 2;
                        continue;
                }
                if (ch == '\n')
                        memcpy(out + o, "\\n", 2), o += 2;
                else if (ch == '\r')
                        memcpy(out + o, "\\r", 2), o += 2;
                else if (ch == '\t')
                        memcpy(out + o, "\\t", 2), o += 2;
                else if (ch < 0x20 || ch == 0x7f || ch >= 0x80)
                        /* Controls (ESC is \x1b) and bytes that are not UTF-8. */
                        o += (size_t) snprintf(out + o, 5, "\\x%02x", ch);
                else
                        out[o++] = (char) ch;
                in++;
        }
        if (in < n) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = 0;
        return out;
}

char *aws_escape(const char *s, size_t max) {
        /* Only the bytes that can be shown matter, and one more to know
         * whether there are more. */
        return aws_escape_mem(s, s ? strnlen(s, max < SIZE_MAX ? max + 1 : max) : 0, max);
}

static const char *s_or(const char *s, const char *dflt) {
        return isempty(s) ? dflt : s;
}

char *aws_error_format(const aws_error *e) {
        _cleanup_(freep) char *detail = NULL, *status = NULL, *type = NULL, *service = NULL, *operation = NULL,
                                  *principal = NULL, *message = NULL, *request_id = NULL;

        if (!e)
                return NULL;
        /* Every part may come from outside (AWS, a credential helper): no
         * control character reaches a log or a terminal. Escaping is
         * idempotent, so parts escaped before stay as they are. */
        type = aws_escape(s_or(e->type, "Error"), ERROR_PART_MAX);
        service = aws_escape(s_or(e->service, "?"), ERROR_PART_MAX);
        operation = aws_escape(s_or(e->operation, "?"), ERROR_PART_MAX);
        principal = e->principal ? aws_escape(e->principal, ERROR_PART_MAX * 4) : NULL;
        message = aws_escape(s_or(e->message, "no message"), ERROR_MESSAGE_MAX);
        request_id = e->request_id ? aws_escape(e->request_id, ERROR_PART_MAX) : NULL;
        if (!type || !service || !operation || (e->principal && !principal) || !message ||
            (e->request_id && !request_id))
                return NULL;
        if (e->http_status > 0)
                status = strprintf("HTTP %ld", e->http_status);
        else
                status = strdup("no HTTP response");
        if (!status)
                return NULL;
        detail = strprintf("%s%s%s, %u attempt%s", status, request_id ? ", request id " : "",
                           request_id ? request_id : "", e->attempts, e->attempts == 1 ? "" : "s");
        if (!detail)
                return NULL;
        return strprintf("%s on %s:%s%s%s: %s (%s)", type, service, operation, principal ? " for " : "",
                         principal ? principal : "", message, detail);
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
