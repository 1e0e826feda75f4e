/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value validators: DNS names, e-mail addresses, URIs, IP addresses, ARNs,
 * regions, endpoint URLs, OIDs, tags. Pure functions on strings.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <wctype.h>

#include "conf/conf.h"
#include "conf/conf-check.h"
#include "basic/macro.h"
#include "basic/util.h"

static bool is_ldh(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

const char *conf_check_dns_name(const char *s, bool allow_wildcard) {
        size_t n = strlen(s);
        const char *p = s;

        if (n == 0)
                return "empty name";
        if (n > 253)
                return "name longer than 253 octets";
        if (s[n - 1] == '.')
                return "trailing dot";
        if (conf_check_ip(s) == NULL)
                return "an IP address, not a DNS name";
        if (s[0] == '*') {
                if (!allow_wildcard)
                        return "wildcard not allowed here";
                if (s[1] != '.')
                        return "a wildcard must be the whole leftmost label ('*.example.com')";
                p = s + 2;
                if (!*p)
                        return "a wildcard needs a domain after '*.'";
        }
        while (*p) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t) (dot - p) : strlen(p);
                if (l == 0)
                        return "empty label ('..')";
                if (l > 63)
                        return "label longer than 63 octets";
                for (size_t i = 0; i < l; i++) {
                        if (p[i] == '*')
                                return "a wildcard must be the whole leftmost label ('*.example.com')";
                        if (!is_ldh(p[i]))
                                return "labels may hold only letters, digits and '-'";
                }
                if (p[0] == '-' || p[l - 1] == '-')
                        return "a label may not start or end with '-'";
                p += l;
                if (*p == '.')
                        p++;
        }
        return NULL;
}

const char *conf_check_email(const char *s) {
        const char *at = strrchr(s, '@');

        if (!at || at == s)
                return "not an e-mail address (local@domain)";
        if ((size_t) (at - s) > 64)
                return "local part longer than 64 octets";
        if (strlen(s) > 256)
                return "longer than 256 octets";
        for (const char *p = s; p < at; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f || strchr("()<>[]\\,;:\"@", *p))
                        return "invalid character in the local part";
        if (conf_check_dns_name(at + 1, false))
                return "the domain is not a valid DNS name";
        return NULL;
}

const char *conf_check_uri(const char *s) {
        const char *colon = strchr(s, ':');

        if (strlen(s) > 253)
                return "longer than 253 octets";
        if (!colon || colon == s)
                return "not a URI (scheme:rest)";
        if (!isalpha((unsigned char) s[0]))
                return "the scheme must start with a letter";
        for (const char *p = s; p < colon; p++)
                if (!isalnum((unsigned char) *p) && !strchr("+.-", *p))
                        return "invalid character in the scheme";
        if (!colon[1])
                return "nothing after the scheme";
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return "spaces and control or non-ASCII characters must be percent-encoded";
        return NULL;
}

const char *conf_check_ip(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        if (strchr(s, ':'))
                return inet_pton(AF_INET6, s, buf) == 1 ? NULL : "not a valid IPv6 address";
        return inet_pton(AF_INET, s, buf) == 1 ? NULL : "not a valid IPv4 address";
}

const char *conf_check_region(const char *s) {
        /* [a-z]{2}(-[a-z]+)+-[0-9]{1,2}: us-east-1, us-gov-west-1, cn-north-1, ap-southeast-4 */
        const char *p = s;
        unsigned words = 0, digits = 0;

        if (strlen(s) > 32 || !islower((unsigned char) p[0]) || !islower((unsigned char) p[1]) || p[2] != '-')
                return "not a region name like eu-west-1";
        p += 3;
        for (;;) {
                const char *start = p;
                while (islower((unsigned char) *p))
                        p++;
                if (p == start || *p != '-')
                        break;
                words++;
                p++;
        }
        while (isdigit((unsigned char) *p)) {
                p++;
                digits++;
        }
        if (words < 1 || digits < 1 || digits > 2 || *p)
                return "not a region name like eu-west-1";
        return NULL;
}

static bool all_chars(const char *s, size_t n, const char *extra, bool alnum) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (alnum && isalnum(c))
                        continue;
                if (!alnum && (isdigit(c) || (c >= 'a' && c <= 'f')))
                        continue;
                if (!strchr(extra, c) || c == 0)
                        return false;
        }
        return true;
}

const char *conf_arn_example(conf_arn_kind kind) {
        switch (kind) {
        case CONF_ARN_ACM_CERT:
                return "arn:aws:acm:REGION:ACCOUNT:certificate/ID";
        case CONF_ARN_PCA_CA:
                return "arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID";
        case CONF_ARN_PCA_TEMPLATE:
                return "arn:aws:acm-pca:::template/EndEntityCertificate/V1";
        case CONF_ARN_IAM_ROLE:
                return "arn:aws:iam::ACCOUNT:role/NAME";
        }
        return "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE";
}

const char *conf_check_arn(const char *s, conf_arn_kind kind) {
        const char *f[6];
        size_t l[6];
        const char *p = s;

        if (strlen(s) > 2048)
                return "ARN longer than 2048 characters";
        for (int i = 0; i < 6; i++) {
                const char *c = i < 5 ? strchr(p, ':') : NULL;
                if (i < 5 && !c)
                        return "not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)";
                f[i] = p;
                l[i] = c ? (size_t) (c - p) : strlen(p);
                p = c ? c + 1 : p + l[i];
        }
        if (l[0] != 3 || !strneq(f[0], "arn", 3))
                return "not an ARN (it must start with 'arn:')";
        if (!((l[1] == 3 && strneq(f[1], "aws", 3)) || (l[1] == 6 && strneq(f[1], "aws-cn", 6)) ||
              (l[1] == 10 && strneq(f[1], "aws-us-gov", 10))))
                return "unknown partition (aws, aws-cn or aws-us-gov)";

        const char *svc = kind == CONF_ARN_ACM_CERT ? "acm" : kind == CONF_ARN_IAM_ROLE ? "iam" : "acm-pca";
        if (l[2] != strlen(svc) || !strneq(f[2], svc, l[2]))
                return kind == CONF_ARN_ACM_CERT ? "not an ACM ARN (service must be 'acm')"
                       : kind == CONF_ARN_IAM_ROLE ? "not an IAM ARN (service must be 'iam')"
                                                   : "not an ACM-PCA ARN (service must be 'acm-pca')";

        bool regional = kind == CONF_ARN_ACM_CERT || kind == CONF_ARN_PCA_CA;
        if (regional) {
                char region[33];
                if (l[3] == 0 || l[3] >= sizeof region)
                        return "the ARN has no valid region";
                memcpy(region, f[3], l[3]);
                region[l[3]] = 0;
                if (conf_check_region(region))
                        return "the ARN has no valid region";
        } else if (l[3] != 0)
                return "this kind of ARN has no region (leave the field empty: '::')";

        if (kind == CONF_ARN_PCA_TEMPLATE) {
                if (l[4] != 0)
                        return "a template ARN has no account (arn:aws:acm-pca:::template/...)";
        } else if (l[4] != 12 || !all_chars(f[4], 12, "", false) || strspn(f[4], "0123456789") < 12)
                return "the account must be 12 digits";

        const char *res = f[5];
        size_t rl = l[5];
        switch (kind) {
        case CONF_ARN_ACM_CERT:
                if (!strneq(res, "certificate/", 12) || !all_chars(res + 12, rl - 12, "-", false) || rl - 12 > 64)
                        return "the resource must be certificate/ID (hex digits and '-')";
                break;
        case CONF_ARN_PCA_CA:
                if (!strneq(res, "certificate-authority/", 22) || !all_chars(res + 22, rl - 22, "-", false) ||
                    rl - 22 > 64)
                        return "the resource must be certificate-authority/ID (hex digits and '-')";
                break;
        case CONF_ARN_PCA_TEMPLATE: {
                const char *v;
                if (!strneq(res, "template/", 9))
                        return "the resource must be template/NAME/VN";
                v = strrchr(res + 9, '/');
                if (!v || v == res + 9 || !all_chars(res + 9, (size_t) (v - res - 9), "_", true) || v[1] != 'V' ||
                    !v[2] || strspn(v + 2, "0123456789") != strlen(v + 2))
                        return "the resource must be template/NAME/VN (for example template/EndEntityCertificate/V1)";
                break;
        }
        case CONF_ARN_IAM_ROLE:
                if (!strneq(res, "role/", 5) || !all_chars(res + 5, rl - 5, "+=,.@_/-", true) || res[rl - 1] == '/')
                        return "the resource must be role/NAME (or role/PATH/NAME)";
                break;
        }
        return NULL;
}

const char *conf_check_endpoint_url(const char *s) {
        if (strlen(s) > 2048)
                return "URL longer than 2048 characters";
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return "URL contains spaces or control characters";
        return url_check_host(s, URL_HTTP_LOOPBACK);
}

const char *conf_check_oid(const char *s) {
        /* AWS CustomObjectIdentifier: ^([0-2])\.([0-9]|([0-3][0-9]))((\.([0-9]+)){0,126})$, at most 64 */
        const char *p = s;
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return "an object identifier has 1 to 64 characters";
        if (!(p[0] >= '0' && p[0] <= '2') || p[1] != '.')
                return "not a dotted object identifier such as 1.3.6.1.4.1.99999.1";
        p += 2;
        size_t d = strspn(p, "0123456789");
        if (d == 0 || d > 2 || (d == 2 && p[0] > '3'))
                return "the second arc must be 0 to 39";
        p += d;
        while (*p) {
                if (*p != '.')
                        return "not a dotted object identifier such as 1.3.6.1.4.1.99999.1";
                p++;
                d = strspn(p, "0123456789");
                if (d == 0)
                        return "not a dotted object identifier such as 1.3.6.1.4.1.99999.1";
                p += d;
        }
        return NULL;
}

/* Decodes one UTF-8 sequence at *p (advancing it); -1 when malformed (overlong, surrogate, > U+10FFFF). */
static int32_t utf8_next(const unsigned char **p) {
        const unsigned char *s = *p;
        uint32_t c;
        int n;

        if (s[0] < 0x80) {
                *p = s + 1;
                return s[0];
        }
        if ((s[0] & 0xe0) == 0xc0)
                n = 1, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                n = 2, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                n = 3, c = s[0] & 0x07;
        else
                return -1;
        for (int i = 1; i <= n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return -1;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff))
                return -1;
        *p = s + n + 1;
        return (int32_t) c;
}

/* Unicode space separators (\p{Z}: Zs, Zl, Zp). */
static bool is_unicode_space(uint32_t c) {
        return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
               c == 0x202f || c == 0x205f || c == 0x3000;
}

/* \p{L} or \p{N}, through glibc's C.UTF-8 tables (loc); without that locale any other code point passes (AWS decides). */
static bool is_unicode_alnum(uint32_t c, locale_t loc) {
        if (c < 0x80)
                return isalnum((int) c);
        return loc == (locale_t) 0 || iswalnum_l((wint_t) c, loc);
}

/* Number of code points of s when it is a tag string, else -1. */
static ssize_t tag_length(const char *s, locale_t loc) {
        const unsigned char *p = (const unsigned char *) s;
        ssize_t n = 0;
        while (*p) {
                int32_t c = utf8_next(&p);
                if (c < 0 || (c < 0x80 && c != ' ' && !isalnum(c) && !strchr("_.:/=+-@", c)) ||
                    (c >= 0x80 && !is_unicode_alnum((uint32_t) c, loc) && !is_unicode_space((uint32_t) c)))
                        return -1;
                n++;
        }
        return n;
}

const char *conf_check_tag(const char *key, const char *value) {
        locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
        ssize_t kl = tag_length(key, loc), vl = tag_length(value, loc);

        if (loc != (locale_t) 0)
                freelocale(loc);

        if (kl < 0)
                return "a tag key may hold letters, digits, spaces and _ . : / = + - @ (UTF-8)";
        if (kl < 1 || kl > 128)
                return "a tag key has 1 to 128 characters";
        if (strneq(key, "aws:", 4))
                return "tag keys starting with 'aws:' are reserved by AWS";
        if (vl < 0)
                return "a tag value may hold letters, digits, spaces and _ . : / = + - @ (UTF-8)";
        if (vl > 256)
                return "a tag value has at most 256 characters";
        return NULL;
}

const char *conf_check_acm_domain(const char *s, bool allow_wildcard) {
        const char *why = conf_check_dns_name(s, allow_wildcard), *last;

        if (why)
                return why;
        /* DomainNameString: (\*\.)?(label\.)+label, the last label of 2-63 characters */
        if (!strchr(s[0] == '*' ? s + 2 : s, '.'))
                return "ACM needs a fully qualified name with at least two labels (example.com)";
        last = strrchr(s, '.') + 1;
        if (strlen(last) < 2)
                return "ACM needs a last label (top-level domain) of at least 2 characters";
        return NULL;
}

const char *conf_check_base64(const char *s) {
        size_t n = strlen(s), pad = 0;

        if (n == 0 || n > 4096)
                return "the value must be 1 to 4096 base64 characters";
        if (n % 4)
                return "not base64 (the length is not a multiple of 4)";
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '=') {
                        pad++;
                        continue;
                }
                if (pad || !(isalnum((unsigned char) s[i]) || s[i] == '+' || s[i] == '/'))
                        return "not base64 (A-Z a-z 0-9 + / and '=' padding at the end)";
        }
        if (pad > 2)
                return "not base64 (too much padding)";
        return NULL;
}

const char *conf_check_end_date(const char *s) {
        /* YYYYMMDDHHMMSS */
        int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, mo, d, h, mi, se;

        if (strlen(s) != 14 || strspn(s, "0123456789") != 14)
                return "END_DATE must be YYYYMMDDHHMMSS";
        if (sscanf(s, "%4d%2d%2d%2d%2d%2d", &y, &mo, &d, &h, &mi, &se) != 6)
                return "END_DATE must be YYYYMMDDHHMMSS";
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
                return "END_DATE is not a valid date and time";
        return NULL;
}

bool conf_cert_name_valid(const char *name) {
        size_t n;

        if (!name || !name[0] || name[0] == '.')
                return false;
        n = strlen(name);
        if (n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return false;
        }
        return true;
}
