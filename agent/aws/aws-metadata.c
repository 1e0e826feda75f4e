/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metadata endpoints: EC2 instance metadata (IMDSv2: a session token
 * first, never IMDSv1) for the region and the instance role's credentials,
 * and the ECS/EKS container credentials endpoint.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws-internal.h"
#include "basic/clock.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "crypto/crypto.h"

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL 21600
#define IMDS_ATTEMPTS 2
#define IMDS_CONNECT_MS 1000
#define IMDS_TIMEOUT_MS 2000
#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"
#define ECS_RELATIVE_HOST "http://169.254.170.2"
#define ECS_ATTEMPTS 2
#define ECS_CONNECT_MS 2000
#define ECS_TIMEOUT_MS 5000

static const char *strempty(const char *s) {
        return s ? s : "";
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

bool aws_metadata_imds_disabled(void) {
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

static aws_imds_op *imds_op_of(aws_client *c, bool region) {
        return region ? &c->imds_region : &c->imds_creds;
}

static void imds_fetch(aws_client *c, bool region);

static void imds_finish(aws_client *c, bool region, const char *error, const char *body, size_t len) {
        aws_imds_op *op = imds_op_of(c, region);
        aws_imds_callback cb = op->cb;
        op->cb = NULL;
        if (cb)
                cb(c, error, body, len);
}

static void imds_failed(aws_client *c, bool region, CURLcode code, long status, const char *errbuf, const char *path) {
        _cleanup_(freep) char *base = imds_base();
        _cleanup_(freep) char *url = strprintf("%s%s", strempty(base), path);
        _cleanup_(freep) char *m = aws_transport_raw_describe(code, status, errbuf, url ? url : path);
        _cleanup_(freep) char *x = m ? aws_escape(m, 1024) : NULL;
        imds_finish(c, region, x ? x : "the instance metadata service failed", NULL, 0);
}

static void on_imds_token(aws_client *c, bool region, CURLcode code, long status, const char *body, size_t len,
                          const char *errbuf) {
        aws_imds_op *op = imds_op_of(c, region);
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
        aws_imds_op *op = imds_op_of(c, region);
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
        aws_imds_op *op = imds_op_of(c, region);
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
                k = url && hdr ? aws_transport_raw_new(c, "PUT", url, h, ELEMENTSOF(h), IMDS_CONNECT_MS,
                                                       IMDS_TIMEOUT_MS,
                                                       region ? on_imds_token_region : on_imds_token_creds)
                               : -ENOMEM;
        } else {
                url = strprintf("%s%s", base, op->path);
                hdr = strprintf("X-aws-ec2-metadata-token: %s", c->imds_token);
                const char *h[] = { hdr };
                k = url && hdr ? aws_transport_raw_new(c, "GET", url, h, ELEMENTSOF(h), IMDS_CONNECT_MS,
                                                       IMDS_TIMEOUT_MS, region ? on_imds_get_region : on_imds_get_creds)
                               : -ENOMEM;
        }
        if (k < 0)
                imds_finish(c, region, "out of memory", NULL, 0);
}

void aws_metadata_imds_get(aws_client *c, bool region, const char *path, aws_imds_callback cb) {
        aws_imds_op *op = imds_op_of(c, region);
        free(op->path);
        op->path = strdup(path);
        op->cb = cb;
        op->attempt = 0;
        op->retried_token = false;
        if (!op->path)
                return imds_finish(c, region, "out of memory", NULL, 0);
        imds_fetch(c, region);
}

static void on_imds_role_creds(aws_client *c, const char *error, const char *body, size_t len) {
        _cleanup_(freep) char *msg = NULL, *src = NULL;
        creds_value v = {};
        if (error)
                return aws_creds_base_fail(c, "CredentialsError", "EC2 instance metadata", error);
        src = strprintf("EC2 instance metadata (IMDSv2, role %s)", strempty(c->imds_creds.path) +
                        strlen(IMDS_CREDS_PATH));
        if (!src)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        int k = creds_metadata_parse(body, len, &v, &msg);
        if (k == -ENOMEM)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        if (k < 0)
                return aws_creds_base_fail(c, "CredentialsError", "EC2 instance metadata credentials",
                                           msg ? msg : "unusable");
        aws_creds_base_done(c, &v, TAKE_PTR(src));
}

static void on_imds_creds(aws_client *c, const char *error, const char *body, size_t len) {
        if (error && strstr(error, "security-credentials/ answered HTTP 404")) {
                _cleanup_(freep) char *m = strprintf("%s: the instance has no IAM role (attach an instance profile)",
                                                     error);
                return aws_creds_base_fail(c, "NoCredentials", "EC2 instance metadata", m ? m : error);
        }
        if (error)
                return aws_creds_base_fail(c, "NoCredentials", "EC2 instance metadata", error);
        size_t n = strcspn(body, "\r\n");
        bool ok = n > 0 && n <= 128 && n <= len;
        for (size_t i = 0; ok && i < n; i++)
                ok = body[i] > ' ' && body[i] < 0x7f && body[i] != '/' && body[i] != '?' && body[i] != '#' &&
                     body[i] != '%';
        if (!ok)
                return aws_creds_base_fail(c, "NoCredentials", "EC2 instance metadata",
                                           "the instance has no usable IAM role (attach an instance profile)");
        _cleanup_(freep) char *path = strprintf(IMDS_CREDS_PATH "%.*s", (int) n, body);
        if (!path)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        aws_metadata_imds_get(c, false, path, on_imds_role_creds);
}

void aws_metadata_creds_imds(aws_client *c) {
        if (aws_metadata_imds_disabled())
                return aws_creds_base_fail(c, "NoCredentials", "EC2 instance metadata",
                                           "disabled by AWS_EC2_METADATA_DISABLED");
        aws_metadata_imds_get(c, false, IMDS_CREDS_PATH, on_imds_creds);
}

/* ---- ECS / EKS container credentials ---- */

static void ecs_send(aws_client *c);

static void on_ecs(aws_client *c, CURLcode code, long status, const char *body, size_t len, const char *errbuf,
                   void *userdata) {
        _cleanup_(freep) char *msg = NULL, *src = NULL;
        creds_value v = {};
        if ((code != CURLE_OK || status >= 500) && c->ecs_attempt < ECS_ATTEMPTS)
                return ecs_send(c);
        if (code != CURLE_OK || status != 200) {
                _cleanup_(freep) char *d = aws_transport_raw_describe(code, status, errbuf, c->ecs_url);
                msg = d ? aws_escape(d, 1024) : NULL;
                if (msg && (status == 401 || status == 403)) {
                        char *x = strprintf("%s (%s AWS_CONTAINER_AUTHORIZATION_TOKEN%s)", msg,
                                            c->ecs_auth ? "check" : "refused without",
                                            c->ecs_auth && getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") ? "_FILE"
                                                                                                          : "");
                        free(msg);
                        msg = x;
                }
                return aws_creds_base_fail(c, "CredentialsError", "container credentials", msg ? msg : "failed");
        }
        src = strprintf("container credentials (%s)", c->ecs_url);
        if (!src)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        int k = creds_metadata_parse(body, len, &v, &msg);
        if (k == -ENOMEM)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        if (k < 0) {
                _cleanup_(freep) char *m = strprintf("%s: %s", c->ecs_url, msg ? msg : "unusable");
                return aws_creds_base_fail(c, "CredentialsError", "container credentials", m ? m : "bad answer");
        }
        aws_creds_base_done(c, &v, TAKE_PTR(src));
}

static void ecs_send(aws_client *c) {
        _cleanup_(crypto_secret_freep) char *auth = c->ecs_auth ? strprintf("Authorization: %s", c->ecs_auth) : NULL;
        const char *h[] = { "Accept: application/json", auth };
        c->ecs_attempt++;
        if ((c->ecs_auth && !auth) ||
            aws_transport_raw_new(c, "GET", c->ecs_url, h, auth ? 2 : 1, ECS_CONNECT_MS, ECS_TIMEOUT_MS, on_ecs) < 0)
                aws_creds_fail(c, "OutOfMemory", "out of memory");
}

bool aws_metadata_ecs_configured(void) {
        return !isempty(getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) ||
               !isempty(getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

void aws_metadata_creds_ecs(aws_client *c) {
        const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        const char *tok = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        const char *tok_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");

        free(c->ecs_url);
        c->ecs_url = NULL;
        crypto_secret_free(c->ecs_auth);
        c->ecs_auth = NULL;
        c->ecs_attempt = 0;
        if (!isempty(rel)) {
                if (rel[0] != '/' || strlen(rel) > 1024 || strpbrk(rel, " \t\r\n"))
                        return aws_creds_base_fail(c, "CredentialsError", "container credentials",
                                                   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with /");
                c->ecs_url = strprintf("%s%s", ECS_RELATIVE_HOST, rel);
        } else if (!isempty(full)) {
                /* botocore's rule: https, or http to a loopback or the
                 * ECS/EKS link-local addresses; never a user@ part. */
                const char *why = strpbrk(full, " \t\r\n") ? "it contains spaces"
                                                             : url_check_host(full, URL_HTTP_ECS);
                if (why) {
                        _cleanup_(freep) char *u = aws_escape(full, 200);
                        _cleanup_(freep) char *m = u ? strprintf(
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI %s is not allowed: %s", u, why) : NULL;
                        return aws_creds_base_fail(c, "CredentialsError", "container credentials", m ? m : "bad URI");
                }
                c->ecs_url = strdup(full);
        } else
                return aws_creds_base_fail(c, "CredentialsError", "container credentials",
                                           "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set");
        if (!c->ecs_url)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        if (!isempty(tok_file)) {
                /* The file wins (EKS Pod Identity rotates it); read at every refresh. */
                _cleanup_(freep) char *t = NULL;
                size_t len = 0;
                int k = read_full_file(tok_file, 16 * 1024, &t, &len);
                if (k < 0) {
                        _cleanup_(freep) char *m = strprintf(
                                "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", tok_file, strerror(-k));
                        return aws_creds_base_fail(c, "CredentialsError", "container credentials",
                                                   m ? m : "unreadable");
                }
                while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
                        t[--len] = 0;
                c->ecs_auth = strdup(t);
                explicit_bzero(t, len);
        } else if (!isempty(tok))
                c->ecs_auth = strdup(tok);
        if ((!isempty(tok_file) || !isempty(tok)) && !c->ecs_auth)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        if (c->ecs_auth && (c->ecs_auth[0] == 0 || strpbrk(c->ecs_auth, "\r\n")))
                return aws_creds_base_fail(c, "CredentialsError", "container credentials",
                                           "the authorization token is empty or has a line break");
        ecs_send(c);
}
