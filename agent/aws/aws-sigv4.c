/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/macro.h"
#include "aws/aws-sigv4.h"
#include "crypto/crypto.h"
#include "basic/util.h"

/* A small growable string; every append reports OOM through ok. */
typedef struct buf {
        char *s;
        size_t len, cap;
        bool oom;
} buf;

static void buf_grow(buf *b, size_t n) {
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *p = realloc(b->s, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->s = p;
                b->cap = cap;
        }
}

static void buf_add(buf *b, const char *s, size_t n) {
        buf_grow(b, n);
        if (b->oom)
                return;
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

static void buf_adds(buf *b, const char *s) {
        buf_add(b, s, strlen(s));
}

static void buf_addc(buf *b, char c) {
        buf_add(b, &c, 1);
}

static char *buf_steal(buf *b) {
        if (b->oom) {
                free(b->s);
                b->s = NULL;
                return NULL;
        }
        if (!b->s)
                return strdup("");
        return TAKE_PTR(b->s);
}

static bool unreserved(unsigned char c) {
        return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void buf_add_encoded(buf *b, const char *s, size_t n, bool keep_slash) {
        static const char hex[] = "0123456789ABCDEF";
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (unreserved(c) || (keep_slash && c == '/'))
                        buf_addc(b, (char) c);
                else {
                        char e[3] = { '%', hex[c >> 4], hex[c & 15] };
                        buf_add(b, e, 3);
                }
        }
}

char *sigv4_uri_encode(const char *s) {
        buf b = {};
        buf_add_encoded(&b, s, strlen(s), false);
        return buf_steal(&b);
}

/* botocore's remove_dot_segments(): drops "", "." and resolves "..". */
static void canonical_path(buf *b, const char *path) {
        if (isempty(path)) {
                buf_addc(b, '/');
                return;
        }
        size_t n = strlen(path);
        /* Segments as (start, len) pairs; at most n of them. */
        size_t *seg = calloc(n + 1, 2 * sizeof(size_t));
        size_t k = 0;
        if (!seg) {
                b->oom = true;
                return;
        }
        for (size_t i = 0; i <= n;) {
                size_t j = i;
                while (j < n && path[j] != '/')
                        j++;
                size_t len = j - i;
                if (len == 0 || (len == 1 && path[i] == '.'))
                        ;
                else if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
                        if (k > 0)
                                k--;
                } else {
                        seg[2 * k] = i;
                        seg[2 * k + 1] = len;
                        k++;
                }
                i = j + 1;
        }
        if (path[0] == '/')
                buf_addc(b, '/');
        for (size_t i = 0; i < k; i++) {
                if (i > 0)
                        buf_addc(b, '/');
                buf_add_encoded(b, path + seg[2 * i], seg[2 * i + 1], true);
        }
        if (path[n - 1] == '/' && k > 0)
                buf_addc(b, '/');
        free(seg);
}

typedef struct qpair {
        const char *key;
        size_t key_len;
        const char *value;
        size_t value_len;
} qpair;

static int memcmp_len(const char *a, size_t al, const char *b, size_t bl) {
        int r = memcmp(a, b, al < bl ? al : bl);
        if (r != 0)
                return r;
        return al < bl ? -1 : al > bl ? 1 : 0;
}

static int qpair_cmp(const void *x, const void *y) {
        const qpair *a = x, *b = y;
        int r = memcmp_len(a->key, a->key_len, b->key, b->key_len);
        if (r != 0)
                return r;
        return memcmp_len(a->value, a->value_len, b->value, b->value_len);
}

static void canonical_query(buf *b, const char *q) {
        if (isempty(q))
                return;
        size_t n = 1;
        for (const char *p = q; *p; p++)
                if (*p == '&')
                        n++;
        qpair *pairs = calloc(n, sizeof(qpair));
        if (!pairs) {
                b->oom = true;
                return;
        }
        size_t k = 0;
        for (const char *p = q;;) {
                const char *amp = strchrnul(p, '&');
                const char *eq = memchr(p, '=', (size_t) (amp - p));
                pairs[k].key = p;
                if (eq) {
                        pairs[k].key_len = (size_t) (eq - p);
                        pairs[k].value = eq + 1;
                        pairs[k].value_len = (size_t) (amp - eq - 1);
                } else {
                        pairs[k].key_len = (size_t) (amp - p);
                        pairs[k].value = "";
                        pairs[k].value_len = 0;
                }
                k++;
                if (!*amp)
                        break;
                p = amp + 1;
        }
        qsort(pairs, k, sizeof(qpair), qpair_cmp);
        for (size_t i = 0; i < k; i++) {
                if (i > 0)
                        buf_addc(b, '&');
                buf_add(b, pairs[i].key, pairs[i].key_len);
                buf_addc(b, '=');
                buf_add(b, pairs[i].value, pairs[i].value_len);
        }
        free(pairs);
}

typedef struct hdr {
        char *name;     /* lower case */
        char *value;    /* trimmed, runs collapsed */
} hdr;

static int hdr_cmp(const void *x, const void *y) {
        const hdr *a = x, *b = y;
        return strcmp(a->name, b->name);
}

static char *lower_dup(const char *s) {
        char *r = strdup(s);
        if (r)
                for (char *p = r; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        return r;
}

static char *collapse_dup(const char *s) {
        buf b = {};
        bool space = false;
        while (*s == ' ' || *s == '\t')
                s++;
        for (; *s; s++) {
                if (*s == ' ' || *s == '\t')
                        space = true;
                else {
                        if (space)
                                buf_addc(&b, ' ');
                        space = false;
                        buf_addc(&b, *s);
                }
        }
        return buf_steal(&b);
}

static bool blacklisted(const char *lname) {
        return streq(lname, "user-agent") || streq(lname, "expect") || streq(lname, "x-amzn-trace-id");
}

static int sha256_hex(const void *data, size_t len, char out[65]) {
        unsigned char md[32];
        unsigned mdlen = 0;
        if (EVP_Digest(data, len, md, &mdlen, crypto_sha256(), NULL) != 1 || mdlen != 32)
                return -EIO;
        hex_encode(md, 32, out);
        return 0;
}

static int hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32]) {
        unsigned len = 0;
        if (!HMAC(crypto_sha256(), key, (int) key_len, (const unsigned char *) msg, strlen(msg), out, &len) || len != 32)
                return -EIO;
        return 0;
}

static void hdrs_free(hdr *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(h[i].name);
                free(h[i].value);
        }
        free(h);
}

void sigv4_result_done(sigv4_result *r) {
        if (!r)
                return;
        free(r->authorization);
        free(r->canonical_request);
        free(r->string_to_sign);
        r->authorization = r->canonical_request = r->string_to_sign = NULL;
}

int sigv4_sign(const sigv4_input *in, const sigv4_credentials *cr, sigv4_result *ret) {
        char amz_date[17], date[9], payload_hash[65], creq_hash[65];
        unsigned char k[32];
        hdr *h = NULL;
        size_t nh = 0;
        buf creq = {}, signed_headers = {}, sts = {}, scope = {}, auth = {};
        struct tm tm;
        int r;

        if (!in || !cr || isempty(in->method) || isempty(in->host) || isempty(in->region) ||
            isempty(in->service) || isempty(cr->access_key_id) || isempty(cr->secret_access_key))
                return -EINVAL;
        if (!gmtime_r(&in->time, &tm) || strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm) != 16)
                return -EINVAL;
        memcpy(date, amz_date, 8);
        date[8] = 0;

        h = calloc(in->n_headers + 3, sizeof(hdr));
        if (!h)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_headers + 3; i++) {
                const char *name, *value;
                if (i < in->n_headers) {
                        name = in->headers[i].name;
                        value = in->headers[i].value;
                } else if (i == in->n_headers) {
                        name = "host";
                        value = in->host;
                } else if (i == in->n_headers + 1) {
                        name = "x-amz-date";
                        value = amz_date;
                } else {
                        if (!cr->session_token)
                                continue;
                        name = "x-amz-security-token";
                        value = cr->session_token;
                }
                if (!name || !value || strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
                        goto einval;
                _cleanup_(freep) char *lname = lower_dup(name);
                if (!lname)
                        goto enomem;
                if (blacklisted(lname))
                        continue;
                if (i < in->n_headers && (streq(lname, "host") || streq(lname, "x-amz-date") ||
                                          streq(lname, "x-amz-security-token") || streq(lname, "authorization")))
                        goto einval;
                _cleanup_(freep) char *v = collapse_dup(value);
                if (!v)
                        goto enomem;
                /* Repeated names are joined with ',' in order of appearance. */
                size_t j;
                for (j = 0; j < nh; j++)
                        if (streq(h[j].name, lname))
                                break;
                if (j < nh) {
                        char *joined = strprintf("%s,%s", h[j].value, v);
                        if (!joined)
                                goto enomem;
                        free(h[j].value);
                        h[j].value = joined;
                } else {
                        h[nh].name = TAKE_PTR(lname);
                        h[nh].value = TAKE_PTR(v);
                        nh++;
                }
        }
        qsort(h, nh, sizeof(hdr), hdr_cmp);

        r = sha256_hex(in->payload ? in->payload : "", in->payload ? in->payload_len : 0, payload_hash);
        if (r < 0)
                goto fail;

        buf_adds(&creq, in->method);
        buf_addc(&creq, '\n');
        canonical_path(&creq, in->path);
        buf_addc(&creq, '\n');
        canonical_query(&creq, in->query);
        buf_addc(&creq, '\n');
        for (size_t i = 0; i < nh; i++) {
                buf_adds(&creq, h[i].name);
                buf_addc(&creq, ':');
                buf_adds(&creq, h[i].value);
                buf_addc(&creq, '\n');
                if (i > 0)
                        buf_addc(&signed_headers, ';');
                buf_adds(&signed_headers, h[i].name);
        }
        buf_addc(&creq, '\n');
        buf_add(&creq, signed_headers.s ? signed_headers.s : "", signed_headers.len);
        buf_addc(&creq, '\n');
        buf_adds(&creq, payload_hash);
        if (creq.oom || signed_headers.oom)
                goto enomem;

        r = sha256_hex(creq.s, creq.len, creq_hash);
        if (r < 0)
                goto fail;

        buf_adds(&scope, date);
        buf_addc(&scope, '/');
        buf_adds(&scope, in->region);
        buf_addc(&scope, '/');
        buf_adds(&scope, in->service);
        buf_adds(&scope, "/aws4_request");

        buf_adds(&sts, "AWS4-HMAC-SHA256\n");
        buf_adds(&sts, amz_date);
        buf_addc(&sts, '\n');
        buf_add(&sts, scope.s ? scope.s : "", scope.len);
        buf_addc(&sts, '\n');
        buf_adds(&sts, creq_hash);
        if (scope.oom || sts.oom)
                goto enomem;

        {
                _cleanup_(freep) char *secret = strprintf("AWS4%s", cr->secret_access_key);
                char sig[65];
                if (!secret)
                        goto enomem;
                r = hmac(secret, strlen(secret), date, k);
                explicit_bzero(secret, strlen(secret));
                if (r >= 0)
                        r = hmac(k, 32, in->region, k);
                if (r >= 0)
                        r = hmac(k, 32, in->service, k);
                if (r >= 0)
                        r = hmac(k, 32, "aws4_request", k);
                if (r >= 0)
                        r = hmac(k, 32, sts.s, k);
                if (r < 0)
                        goto fail;
                hex_encode(k, 32, sig);

                buf_adds(&auth, "AWS4-HMAC-SHA256 Credential=");
                buf_adds(&auth, cr->access_key_id);
                buf_addc(&auth, '/');
                buf_add(&auth, scope.s, scope.len);
                buf_adds(&auth, ", SignedHeaders=");
                buf_add(&auth, signed_headers.s, signed_headers.len);
                buf_adds(&auth, ", Signature=");
                buf_adds(&auth, sig);
                if (auth.oom)
                        goto enomem;
        }

        memcpy(ret->amz_date, amz_date, sizeof amz_date);
        ret->authorization = buf_steal(&auth);
        ret->canonical_request = buf_steal(&creq);
        ret->string_to_sign = buf_steal(&sts);
        r = 0;
        goto out;

einval:
        r = -EINVAL;
        goto fail;
enomem:
        r = -ENOMEM;
fail:
        free(auth.s);
        free(creq.s);
        free(sts.s);
out:
        explicit_bzero(k, sizeof k);
        free(signed_headers.s);
        free(scope.s);
        hdrs_free(h, nh);
        return r;
}
