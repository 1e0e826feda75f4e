/* SPDX-License-Identifier: Apache-2.0 */
/* Keys, CSRs, certificate inspection/verification and output builders. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"

static void bio_freep(BIO **b) { BIO_free(*b); }
static void x509_freep(X509 **x) { X509_free(*x); }
static void x509_req_freep(X509_REQ **x) { X509_REQ_free(*x); }
static void x509_stack_freep(STACK_OF(X509) **s) { sk_X509_pop_free(*s, X509_free); }
static void x509_store_freep(X509_STORE **s) { X509_STORE_free(*s); }
static void x509_store_ctx_freep(X509_STORE_CTX **s) { X509_STORE_CTX_free(*s); }
static void gens_freep(GENERAL_NAMES **g) { GENERAL_NAMES_free(*g); }
static void exts_freep(STACK_OF(X509_EXTENSION) **s) { sk_X509_EXTENSION_pop_free(*s, X509_EXTENSION_free); }
static void pkcs12_freep(PKCS12 **p) { PKCS12_free(*p); }

void crypto_secret_free(char *p) {
        if (!p)
                return;
        OPENSSL_cleanse(p, strlen(p));
        free(p);
}

/* Copies a memory BIO's contents into a NUL-terminated malloc'd string. */
static int bio_to_string(BIO *b, char **ret) {
        char *data;
        long n = BIO_get_mem_data(b, &data);
        if (n < 0)
                return -ENOMEM;
        char *s = malloc((size_t) n + 1);
        if (!s)
                return -ENOMEM;
        if (n > 0) /* an empty BIO gives no data pointer at all */
                memcpy(s, data, (size_t) n);
        s[n] = 0;
        *ret = s;
        return 0;
}

static void set_reason(char **ret_reason, char *r) {
        if (ret_reason) {
                free(*ret_reason);
                *ret_reason = r;
        } else
                free(r);
}

/* ---- keys ---- */

static const char *curve_name(conf_curve c) {
        switch (c) {
        case CONF_CURVE_P256: return "P-256";
        case CONF_CURVE_P384: return "P-384";
        case CONF_CURVE_P521: return "P-521";
        }
        return NULL;
}

int crypto_key_generate(const conf_key *k, EVP_PKEY **ret) {
        EVP_PKEY *p;

        if (!k || !ret)
                return -EINVAL;
        if (k->type == CONF_KEY_RSA) {
                if (k->bits != 2048 && k->bits != 3072 && k->bits != 4096)
                        return -EINVAL;
                p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) k->bits);
        } else if (k->type == CONF_KEY_EC) {
                const char *c = curve_name(k->curve);
                if (!c)
                        return -EINVAL;
                p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c);
        } else
                return -EINVAL;
        if (!p) {
                log_debug("key generation failed: %s", ERR_reason_error_string(ERR_peek_last_error()));
                ERR_clear_error();
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

int crypto_key_to_pem(EVP_PKEY *key, char **ret_pem) {
        if (!key || !ret_pem)
                return -EINVAL;
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_secmem());
        if (!b)
                return -ENOMEM;
        if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
                ERR_clear_error();
                return -EINVAL;
        }
        return bio_to_string(b, ret_pem);
}

int crypto_key_from_pem(const char *pem, size_t len, EVP_PKEY **ret) {
        if (!pem || !ret)
                return -EINVAL;
        if (len > CRYPTO_PEM_MAX)
                return -E2BIG;
        _cleanup_(bio_freep) BIO *b = BIO_new_mem_buf(pem, (int) len);
        if (!b)
                return -ENOMEM;
        /* Empty passphrase as u: never prompts; an encrypted key fails. */
        EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *) "");
        if (!p) {
                ERR_clear_error();
                return -EBADMSG;
        }
        *ret = p;
        return 0;
}

int crypto_key_load_file(const char *path, EVP_PKEY **ret) {
        struct stat st;
        char buf[CRYPTO_PEM_MAX + 1];
        size_t n = 0;
        int r;

        if (!path || !ret)
                return -EINVAL;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode) || (st.st_mode & 0077)) {
                close(fd);
                return S_ISREG(st.st_mode) ? -EPERM : -EINVAL;
        }
        for (;;) {
                ssize_t k = read(fd, buf + n, sizeof buf - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        close(fd);
                        OPENSSL_cleanse(buf, n);
                        return r;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n == sizeof buf) {
                        close(fd);
                        OPENSSL_cleanse(buf, n);
                        return -E2BIG;
                }
        }
        close(fd);
        r = crypto_key_from_pem(buf, n, ret);
        OPENSSL_cleanse(buf, n);
        return r;
}

bool crypto_key_matches_conf(EVP_PKEY *key, const conf_key *k) {
        if (!key || !k)
                return false;
        if (k->type == CONF_KEY_RSA)
                return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
                       (unsigned) EVP_PKEY_get_bits(key) == k->bits;
        if (k->type != CONF_KEY_EC || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
                return false;
        char group[64];
        size_t gl = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) != 1) {
                ERR_clear_error();
                return false;
        }
        const char *want = curve_name(k->curve);
        if (!want)
                return false;
        int nid = OBJ_sn2nid(group);
        if (nid == NID_undef)
                nid = EC_curve_nist2nid(group);
        return nid != NID_undef && nid == EC_curve_nist2nid(want);
}

/* ---- CSR ---- */

static int name_add(X509_NAME *n, int nid, const char *v) {
        if (isempty(v))
                return 0;
        if (X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8, (const unsigned char *) v, -1, -1, 0) != 1) {
                ERR_clear_error();
                return -EINVAL;
        }
        return 0;
}

static int subject_build(const conf_cert *c, X509_NAME *n) {
        const conf_subject *s = &c->subject;
        const char *cn = s->common_name;
        int r = 0;

        if (isempty(cn) && c->dns_names && c->dns_names[0])
                cn = c->dns_names[0];
        r = r ?: name_add(n, NID_countryName, s->country);
        r = r ?: name_add(n, NID_stateOrProvinceName, s->state);
        r = r ?: name_add(n, NID_localityName, s->locality);
        r = r ?: name_add(n, NID_organizationName, s->organization);
        r = r ?: name_add(n, NID_organizationalUnitName, s->organizational_unit);
        r = r ?: name_add(n, NID_dnQualifier, s->distinguished_name_qualifier);
        r = r ?: name_add(n, NID_serialNumber, s->serial_number);
        r = r ?: name_add(n, NID_title, s->title);
        r = r ?: name_add(n, NID_surname, s->surname);
        r = r ?: name_add(n, NID_givenName, s->given_name);
        r = r ?: name_add(n, NID_initials, s->initials);
        r = r ?: name_add(n, NID_pseudonym, s->pseudonym);
        r = r ?: name_add(n, NID_generationQualifier, s->generation_qualifier);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_custom_attributes; i++) {
                const conf_attr *a = &s->custom_attributes[i];
                if (!a->oid || !a->value)
                        return -EINVAL;
                ASN1_OBJECT *o = OBJ_txt2obj(a->oid, 1);
                if (!o) {
                        ERR_clear_error();
                        return -EINVAL;
                }
                int ok = X509_NAME_add_entry_by_OBJ(n, o, MBSTRING_UTF8,
                                                    (const unsigned char *) a->value, -1, -1, 0);
                ASN1_OBJECT_free(o);
                if (ok != 1) {
                        ERR_clear_error();
                        return -EINVAL;
                }
        }
        return name_add(n, NID_commonName, cn);
}

static int gens_add(GENERAL_NAMES *g, int type, const char *v) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        if (!gn)
                return -ENOMEM;
        if (type == GEN_IPADD) {
                ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v);
                if (!ip) {
                        ERR_clear_error();
                        GENERAL_NAME_free(gn);
                        return -EINVAL;
                }
                GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        } else {
                ASN1_IA5STRING *s = ASN1_IA5STRING_new();
                if (!s || ASN1_STRING_set(s, v, -1) != 1) {
                        ASN1_IA5STRING_free(s);
                        GENERAL_NAME_free(gn);
                        return -ENOMEM;
                }
                GENERAL_NAME_set0_value(gn, type, s);
        }
        if (!sk_GENERAL_NAME_push(g, gn)) {
                GENERAL_NAME_free(gn);
                return -ENOMEM;
        }
        return 0;
}

int crypto_csr_build(const conf_cert *c, EVP_PKEY *key, char **ret_pem) {
        int r;

        if (!c || !key || !ret_pem)
                return -EINVAL;
        _cleanup_(x509_req_freep) X509_REQ *req = X509_REQ_new();
        X509_NAME *name = X509_NAME_new();
        if (!req || !name) {
                X509_NAME_free(name);
                return -ENOMEM;
        }
        r = subject_build(c, name);
        if (r >= 0 && X509_REQ_set_subject_name(req, name) != 1)
                r = -ENOMEM;
        X509_NAME_free(name);
        if (r < 0)
                return r;
        if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 || X509_REQ_set_pubkey(req, key) != 1)
                return -ENOMEM;

        _cleanup_(gens_freep) GENERAL_NAMES *g = GENERAL_NAMES_new();
        if (!g)
                return -ENOMEM;
        struct { char **l; int type; } kinds[] = {
                { c->dns_names, GEN_DNS }, { c->ip_addresses, GEN_IPADD },
                { c->email_addresses, GEN_EMAIL }, { c->uris, GEN_URI },
        };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                for (char **p = kinds[k].l; p && *p; p++) {
                        r = gens_add(g, kinds[k].type, *p);
                        if (r < 0)
                                return r;
                }
        if (sk_GENERAL_NAME_num(g) > 0) {
                _cleanup_(exts_freep) STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
                X509_EXTENSION *e = X509V3_EXT_i2d(NID_subject_alt_name, 0, g);
                if (!exts || !e || !sk_X509_EXTENSION_push(exts, e)) {
                        X509_EXTENSION_free(e);
                        return -ENOMEM;
                }
                if (X509_REQ_add_extensions(req, exts) != 1)
                        return -ENOMEM;
        }
        if (X509_REQ_sign(req, key, crypto_sha256()) <= 0) {
                ERR_clear_error();
                return -EINVAL;
        }
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b || PEM_write_bio_X509_REQ(b, req) != 1)
                return -ENOMEM;
        return bio_to_string(b, ret_pem);
}

/* ---- PEM parsing ---- */

static const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_END[] = "-----END CERTIFICATE-----";

/* Parses a list of PEM certificates strictly: only whitespace around blocks. */
static int certs_parse(const char *pem, size_t max, STACK_OF(X509) **ret) {
        if (!pem)
                return -EINVAL;
        size_t len = strnlen(pem, CRYPTO_PEM_MAX + 1);
        if (len > CRYPTO_PEM_MAX)
                return -E2BIG;
        _cleanup_(x509_stack_freep) STACK_OF(X509) *sk = sk_X509_new_null();
        if (!sk)
                return -ENOMEM;
        const char *p = pem, *end = pem + len;
        for (;;) {
                while (p < end && strchr(" \t\r\n", *p))
                        p++;
                if (p == end)
                        break;
                if ((size_t) (end - p) < sizeof PEM_BEGIN - 1 || !strneq(p, PEM_BEGIN, sizeof PEM_BEGIN - 1))
                        return -EBADMSG;
                const char *e = strstr(p, PEM_END);
                if (!e)
                        return -EBADMSG;
                e += sizeof PEM_END - 1;
                if ((size_t) sk_X509_num(sk) >= max)
                        return -E2BIG;
                _cleanup_(bio_freep) BIO *b = BIO_new_mem_buf(p, (int) (e - p));
                if (!b)
                        return -ENOMEM;
                X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                if (!x) {
                        ERR_clear_error();
                        return -EBADMSG;
                }
                if (!sk_X509_push(sk, x)) {
                        X509_free(x);
                        return -ENOMEM;
                }
                p = e;
        }
        if (sk_X509_num(sk) == 0)
                return -EBADMSG;
        *ret = TAKE_PTR(sk);
        return 0;
}

static int certs_write(BIO *b, STACK_OF(X509) *sk) {
        for (int i = 0; i < sk_X509_num(sk); i++)
                if (PEM_write_bio_X509(b, sk_X509_value(sk, i)) != 1)
                        return -ENOMEM;
        return 0;
}

int crypto_pem_normalize_certs(const char *pem, size_t max, char **ret) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *sk = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = certs_parse(pem, max, &sk);
        if (r < 0)
                return r;
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return -ENOMEM;
        r = certs_write(b, sk);
        if (r < 0)
                return r;
        return bio_to_string(b, ret);
}

/* ---- certificate info ---- */

static char *name_oneline(const X509_NAME *n) {
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_mem());
        char *s = NULL;
        if (!b || X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
                return NULL;
        if (bio_to_string(b, &s) < 0)
                return NULL;
        return s;
}

static char *name_cn(const X509_NAME *n) {
        int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
        if (i < 0)
                return NULL;
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
        unsigned char *u = NULL;
        int l = ASN1_STRING_to_UTF8(&u, d);
        if (l < 0)
                return NULL;
        char *s = strndup((char *) u, (size_t) l);
        OPENSSL_free(u);
        return s;
}

/* A growing NULL-terminated list: n entries, room for cap pointers. */
typedef struct strv_builder {
        size_t n, cap;
} strv_builder;

static int strv_push(char ***l, strv_builder *b, const char *v, size_t len) {
        char *s;

        if (ARRAY_RESERVE(*l, b->cap, b->n + 2) < 0)
                return -ENOMEM;
        s = strndup(v, len);
        if (!s)
                return -ENOMEM;
        (*l)[b->n++] = s;
        (*l)[b->n] = NULL;
        return 0;
}

static int ip_to_string(const ASN1_OCTET_STRING *ip, char *buf, size_t len) {
        const unsigned char *d = ASN1_STRING_get0_data(ip);
        int n = ASN1_STRING_length(ip);
        if (n == 4)
                return inet_ntop(AF_INET, d, buf, (socklen_t) len) ? 0 : -EINVAL;
        if (n == 16)
                return inet_ntop(AF_INET6, d, buf, (socklen_t) len) ? 0 : -EINVAL;
        return -EBADMSG;
}

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret) {
        struct tm tm = {};
        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}

void crypto_cert_info_free(crypto_cert_info *i) {
        if (!i)
                return;
        free(i->serial_hex);
        free(i->serial_colon);
        free(i->subject_cn);
        free(i->subject);
        free(i->issuer);
        strv_free(i->dns_names);
        strv_free(i->ip_addresses);
        strv_free(i->email_addresses);
        strv_free(i->uris);
        free(i);
}

static int cert_info_from_x509(X509 *x, crypto_cert_info **ret) {
        _cleanup_(gens_freep) GENERAL_NAMES *g = NULL;
        crypto_cert_info *i = calloc(1, sizeof *i);
        int r = -ENOMEM;
        if (!i)
                return -ENOMEM;

        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;
        BN_free(bn);
        if (!hex)
                goto fail;
        const char *h = hex[0] == '-' ? hex + 1 : hex;
        size_t hl = strlen(h);
        bool pad = hl % 2;
        i->serial_hex = strprintf("%s%s", pad ? "0" : "", h);
        OPENSSL_free(hex);
        if (!i->serial_hex)
                goto fail;
        hl = strlen(i->serial_hex);
        i->serial_colon = malloc(hl / 2 * 3 + 1);
        if (!i->serial_colon)
                goto fail;
        char *o = i->serial_colon;
        for (size_t k = 0; k < hl; k += 2) {
                if (k)
                        *o++ = ':';
                *o++ = (char) (i->serial_hex[k] | 0x20);
                *o++ = (char) (i->serial_hex[k + 1] | 0x20);
        }
        *o = 0;
        /* digits|0x20 are unchanged; letters become lowercase */

        r = -EBADMSG;
        if (asn1_time_to_time_t(X509_get0_notBefore(x), &i->not_before) < 0 ||
            asn1_time_to_time_t(X509_get0_notAfter(x), &i->not_after) < 0)
                goto fail;
        r = -ENOMEM;
        i->subject_cn = name_cn(X509_get_subject_name(x));
        i->subject = name_oneline(X509_get_subject_name(x));
        i->issuer = name_oneline(X509_get_issuer_name(x));
        if (!i->subject || !i->issuer)
                goto fail;

        strv_builder bd = { 0, 1 }, bi = { 0, 1 }, be = { 0, 1 }, bu = { 0, 1 };
        i->dns_names = calloc(1, sizeof(char *));
        i->ip_addresses = calloc(1, sizeof(char *));
        i->email_addresses = calloc(1, sizeof(char *));
        i->uris = calloc(1, sizeof(char *));
        if (!i->dns_names || !i->ip_addresses || !i->email_addresses || !i->uris)
                goto fail;
        g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        for (int k = 0; g && k < sk_GENERAL_NAME_num(g); k++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, k);
                int type;
                void *v = GENERAL_NAME_get0_value(gn, &type);
                char ipbuf[INET6_ADDRSTRLEN];
                char ***l = NULL;
                if (type == GEN_IPADD) {
                        if (ip_to_string(v, ipbuf, sizeof ipbuf) < 0)
                                continue;
                        if (strv_push(&i->ip_addresses, &bi, ipbuf, strlen(ipbuf)) < 0)
                                goto fail;
                        continue;
                }
                strv_builder *bl = type == GEN_DNS ? &bd : type == GEN_EMAIL ? &be : &bu;
                l = type == GEN_DNS ? &i->dns_names : type == GEN_EMAIL ? &i->email_addresses :
                    type == GEN_URI ? &i->uris : NULL;
                if (!l)
                        continue;
                if (strv_push(l, bl, (const char *) ASN1_STRING_get0_data(v), (size_t) ASN1_STRING_length(v)) < 0)
                        goto fail;
        }

        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdl = 0;
        if (X509_digest(x, crypto_sha256(), md, &mdl) != 1 || mdl != 32)
                goto fail;
        hex_encode(md, mdl, i->fingerprint_sha256);
        EVP_PKEY *pk = X509_get0_pubkey(x);
        if (pk) {
                int id = EVP_PKEY_get_base_id(pk);
                snprintf(i->key_type, sizeof i->key_type, "%s",
                         id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_ED25519 ? "ED25519" : "unknown");
                i->key_bits = (unsigned) EVP_PKEY_get_bits(pk);
        }
        ERR_clear_error();
        *ret = i;
        return 0;
fail:
        ERR_clear_error();
        crypto_cert_info_free(i);
        return r;
}

int crypto_cert_info_get(const char *pem, size_t len, crypto_cert_info **ret) {
        if (!pem || !ret)
                return -EINVAL;
        if (len > CRYPTO_PEM_MAX)
                return -E2BIG;
        _cleanup_(bio_freep) BIO *b = BIO_new_mem_buf(pem, (int) len);
        if (!b)
                return -ENOMEM;
        _cleanup_(x509_freep) X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (!x) {
                ERR_clear_error();
                return -EBADMSG;
        }
        return cert_info_from_x509(x, ret);
}

/* ---- verification ---- */

static void format_iso(time_t t, char buf[static 32]) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "@%lld", (long long) t);
}

static bool strv_contains_case(char **l, const char *v) {
        for (; l && *l; l++)
                if (strcasecmp(*l, v) == 0)
                        return true;
        return false;
}

static bool ip_equal(const char *a, const char *b) {
        unsigned char x[16], y[16];
        if (inet_pton(AF_INET, a, x) == 1)
                return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
        if (inet_pton(AF_INET6, a, x) == 1)
                return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
        return false;
}

static int verify_names(const conf_cert *want, const crypto_cert_info *info, char **reason) {
        for (char **p = want->dns_names; p && *p; p++)
                if (!strv_contains_case(info->dns_names, *p)) {
                        set_reason(reason, strprintf("SAN %s missing", *p));
                        return -EKEYREJECTED;
                }
        for (char **p = want->ip_addresses; p && *p; p++) {
                bool found = false;
                for (char **q = info->ip_addresses; q && *q && !found; q++)
                        found = ip_equal(*p, *q);
                if (!found) {
                        set_reason(reason, strprintf("SAN IP %s missing", *p));
                        return -EKEYREJECTED;
                }
        }
        for (char **p = want->email_addresses; p && *p; p++)
                if (!strv_contains_case(info->email_addresses, *p)) {
                        set_reason(reason, strprintf("SAN email %s missing", *p));
                        return -EKEYREJECTED;
                }
        for (char **p = want->uris; p && *p; p++) {
                bool found = false;
                for (char **q = info->uris; q && *q && !found; q++)
                        found = streq(*p, *q);
                if (!found) {
                        set_reason(reason, strprintf("SAN URI %s missing", *p));
                        return -EKEYREJECTED;
                }
        }
        const char *cn = want->subject.common_name;
        if (isempty(cn) && want->dns_names && want->dns_names[0])
                cn = want->dns_names[0];
        if (!isempty(cn) && (!info->subject_cn || strcasecmp(cn, info->subject_cn) != 0)) {
                set_reason(reason, strprintf("subject CN is %s, expected %s",
                                             info->subject_cn ?: "(none)", cn));
                return -EKEYREJECTED;
        }
        return 0;
}

/* True when sig's signature verifies with issuer's public key and issuer's
 * subject is sig's issuer name (X509_check_issued also checks key ids and
 * key usage). */
static bool cert_signed_by(X509 *sig, X509 *issuer) {
        EVP_PKEY *k = X509_get0_pubkey(issuer);
        bool ok = k && X509_check_issued(issuer, sig) == X509_V_OK && X509_verify(sig, k) == 1;

        ERR_clear_error();
        return ok;
}

static bool stack_has(STACK_OF(X509) *sk, X509 *x) {
        for (int i = 0; i < sk_X509_num(sk); i++)
                if (X509_cmp(sk_X509_value(sk, i), x) == 0)
                        return true;
        return false;
}

/* Same CA (subject and public key) as a member of sk: a cross-certificate
 * of a certificate on the path, issued by someone else. */
static bool stack_has_same_ca(STACK_OF(X509) *sk, X509 *x) {
        for (int i = 0; i < sk_X509_num(sk); i++) {
                X509 *y = sk_X509_value(sk, i);
                if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(y)) == 0 &&
                    EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(y)) == 1) {
                        ERR_clear_error();
                        return true;
                }
        }
        ERR_clear_error();
        return false;
}

static int stack_push_up(STACK_OF(X509) *sk, X509 *x) {
        if (!X509_up_ref(x))
                return -ENOMEM;
        if (!sk_X509_push(sk, x)) {
                X509_free(x);
                return -ENOMEM;
        }
        return 0;
}

static const char *x509_subject_short(X509 *x, char *buf, size_t len) {
        if (!X509_NAME_oneline(X509_get_subject_name(x), buf, (int) len))
                snprintf(buf, len, "?");
        return buf;
}

/*
 * From a verified OpenSSL chain (leaf first), the chain to write: every
 * certificate after the leaf, then, when the anchor is not self-signed (a
 * configured subordinate CA trusted with PARTIAL_CHAIN), the given
 * certificates that continue the path upward, each checked by signature.
 * Then every given certificate must be on that path, or be a
 * cross-certificate of a path member (same subject and key; dropped), or
 * have signed one of those (dropped): anything else does not belong to
 * this certificate and the whole answer is refused.
 */
static int chain_from_verified(STACK_OF(X509) *verified, STACK_OF(X509) *given, char **ret_pem,
                               char **ret_reason) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *path = sk_X509_new_null();
        _cleanup_(x509_stack_freep) STACK_OF(X509) *cross = sk_X509_new_null();
        char name[256];
        int n = sk_X509_num(verified), r;

        if (!path || !cross)
                return -ENOMEM;
        for (int i = 1; i < n; i++) {
                r = stack_push_up(path, sk_X509_value(verified, i));
                if (r < 0)
                        return r;
        }
        /* extend above a partial anchor, at most one step per given certificate */
        for (int step = 0; step < sk_X509_num(given) && sk_X509_num(path) > 0; step++) {
                X509 *top = sk_X509_value(path, sk_X509_num(path) - 1), *up = NULL;

                if (X509_check_issued(top, top) == X509_V_OK)
                        break;
                for (int i = 0; i < sk_X509_num(given) && !up; i++) {
                        X509 *g = sk_X509_value(given, i);
                        if (!stack_has(path, g) && cert_signed_by(top, g))
                                up = g;
                }
                if (!up)
                        break;
                r = stack_push_up(path, up);
                if (r < 0)
                        return r;
        }
        ERR_clear_error();
        /* cross-certificates, then whoever signed them, to a fixed point */
        for (bool more = true; more;) {
                more = false;
                for (int i = 0; i < sk_X509_num(given); i++) {
                        X509 *g = sk_X509_value(given, i);
                        bool ok = false;

                        if (stack_has(path, g) || stack_has(cross, g))
                                continue;
                        if (stack_has_same_ca(path, g))
                                ok = true;
                        for (int k = 0; k < sk_X509_num(cross) && !ok; k++)
                                ok = cert_signed_by(sk_X509_value(cross, k), g);
                        if (ok) {
                                r = stack_push_up(cross, g);
                                if (r < 0)
                                        return r;
                                more = true;
                        }
                }
        }
        for (int i = 0; i < sk_X509_num(given); i++) {
                X509 *g = sk_X509_value(given, i);
                if (!stack_has(path, g) && !stack_has(cross, g)) {
                        set_reason(ret_reason, strprintf("chain: certificate %d (%s) is not on the path from the "
                                                         "certificate to its trust anchor; refusing the whole answer",
                                                         i + 1, x509_subject_short(g, name, sizeof name)));
                        return -EKEYREJECTED;
                }
        }
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return -ENOMEM;
        r = certs_write(b, path);
        if (r < 0)
                return r;
        return bio_to_string(b, ret_pem);
}

int crypto_key_matches_cert(EVP_PKEY *key, const char *cert_pem) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *leaf = NULL;
        int r;

        if (!key || !cert_pem)
                return -EINVAL;
        r = certs_parse(cert_pem, 1, &leaf);
        if (r < 0)
                return r;
        r = EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(leaf, 0)), key) == 1;
        ERR_clear_error();
        return r;
}

int crypto_verify_issued(const conf_cert *want, EVP_PKEY *key, const char *cert_pem,
                         const char *chain_pem, const char *ca_cert_pem, const char *trust_store,
                         time_t now, char **ret_chain, char **ret_reason) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *leaf = NULL, *chain = NULL, *ca = NULL;
        _cleanup_(crypto_cert_info_freep) crypto_cert_info *info = NULL;
        _cleanup_(freep) char *out = NULL;
        char when[32];
        int r;

        if (!want || !key || !cert_pem)
                return -EINVAL;
        r = certs_parse(cert_pem, 1, &leaf);
        if (r < 0) {
                set_reason(ret_reason, strprintf("certificate: %s", r == -E2BIG ? "more than one certificate or too large" : "not a valid PEM certificate"));
                return r;
        }
        if (!isempty(chain_pem) && strspn(chain_pem, " \t\r\n") < strlen(chain_pem)) {
                r = certs_parse(chain_pem, CRYPTO_CHAIN_MAX, &chain);
                if (r < 0) {
                        set_reason(ret_reason, strprintf("chain: %s", r == -E2BIG ? "more than 10 certificates or over 64 KiB" : "not a valid list of PEM certificates"));
                        return r;
                }
        }
        if (!isempty(ca_cert_pem)) {
                r = certs_parse(ca_cert_pem, CRYPTO_CHAIN_MAX, &ca);
                if (r < 0) {
                        set_reason(ret_reason, strprintf("CA certificate: not valid PEM"));
                        return r;
                }
        }
        X509 *x = sk_X509_value(leaf, 0);

        if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
                ERR_clear_error();
                set_reason(ret_reason, strdup("certificate public key does not match the pending key"));
                return -EKEYREJECTED;
        }
        r = cert_info_from_x509(x, &info);
        if (r < 0) {
                set_reason(ret_reason, strdup("certificate: cannot read its fields"));
                return r;
        }
        if (info->not_after <= now) {
                format_iso(info->not_after, when);
                set_reason(ret_reason, strprintf("certificate expired %s", when));
                return -EKEYREJECTED;
        }
        if (info->not_before > now + CRYPTO_SKEW_SEC) {
                format_iso(info->not_before, when);
                set_reason(ret_reason, strprintf("certificate not valid before %s", when));
                return -EKEYREJECTED;
        }
        r = verify_names(want, info, ret_reason);
        if (r < 0)
                return r;

        /* Trust anchor: the given CA, else the trust store (never a root the
         * answer brought along: that would trust whoever wrote the answer). */
        _cleanup_(x509_store_freep) X509_STORE *store = X509_STORE_new();
        if (!store)
                return -ENOMEM;
        if (ca) {
                int nanchors = 0;
                for (int k = 0; k < sk_X509_num(ca); k++)
                        if (X509_STORE_add_cert(store, sk_X509_value(ca, k)) == 1)
                                nanchors++;
                ERR_clear_error();
                if (nanchors == 0)
                        return -ENOMEM;
        } else if (trust_store) {
                if (X509_STORE_load_file(store, trust_store) != 1) {
                        ERR_clear_error();
                        set_reason(ret_reason, strprintf("trust store %s: cannot be read as a PEM bundle", trust_store));
                        return -EINVAL;
                }
        } else if (X509_STORE_set_default_paths(store) != 1) {
                ERR_clear_error();
                set_reason(ret_reason, strdup("the system's default trust store cannot be loaded"));
                return -EINVAL;
        }
        _cleanup_(x509_store_ctx_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        if (!ctx || X509_STORE_CTX_init(ctx, store, x, chain) != 1)
                return -ENOMEM;
        /* A leaf issued a moment ago may start slightly in the future. */
        X509_STORE_CTX_set_time(ctx, 0, info->not_before > now ? info->not_before : now);
        /* A configured CA is trusted even when it is itself a subordinate. */
        if (ca)
                X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
        if (X509_verify_cert(ctx) != 1) {
                int err = X509_STORE_CTX_get_error(ctx);
                set_reason(ret_reason, strprintf("chain does not verify: %s (depth %d)",
                                                 X509_verify_cert_error_string(err),
                                                 X509_STORE_CTX_get_error_depth(ctx)));
                ERR_clear_error();
                return -EKEYREJECTED;
        }
        r = chain_from_verified(X509_STORE_CTX_get0_chain(ctx), chain, &out, ret_reason);
        ERR_clear_error();
        if (r < 0)
                return r;
        if (isempty(out) && !(ca && sk_X509_num(ca) == 1 && X509_cmp(sk_X509_value(ca, 0), x) == 0)) {
                /* the leaf anchored itself through a store or a CA given
                 * for something else: nothing to deploy as a chain */
                set_reason(ret_reason, strdup("the certificate is its own trust anchor; refusing"));
                return -EKEYREJECTED;
        }
        if (ret_chain)
                *ret_chain = TAKE_PTR(out);
        return 0;
}

/* ---- output builders ---- */

int crypto_build_fullchain(const char *cert_pem, const char *chain_pem, char **ret) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *leaf = NULL, *chain = NULL;
        int r;

        if (!cert_pem || !ret)
                return -EINVAL;
        r = certs_parse(cert_pem, 1, &leaf);
        if (r < 0)
                return r;
        if (!isempty(chain_pem)) {
                r = certs_parse(chain_pem, CRYPTO_CHAIN_MAX, &chain);
                if (r < 0)
                        return r;
        }
        _cleanup_(bio_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return -ENOMEM;
        r = certs_write(b, leaf);
        if (r >= 0 && chain)
                r = certs_write(b, chain);
        if (r < 0)
                return r;
        return bio_to_string(b, ret);
}

int crypto_build_haproxy_bundle(const char *cert_pem, const char *chain_pem, EVP_PKEY *key,
                                char **ret) {
        _cleanup_(freep) char *full = NULL;
        _cleanup_(crypto_secret_freep) char *k = NULL;
        int r;

        if (!key || !ret)
                return -EINVAL;
        r = crypto_build_fullchain(cert_pem, chain_pem, &full);
        if (r < 0)
                return r;
        r = crypto_key_to_pem(key, &k);
        if (r < 0)
                return r;
        size_t a = strlen(full), b = strlen(k);
        char *s = malloc(a + b + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, full, a);
        memcpy(s + a, k, b + 1);
        *ret = s;
        return 0;
}

int crypto_build_pkcs12(const char *cert_pem, const char *chain_pem, EVP_PKEY *key,
                        const char *passphrase, unsigned char **ret_der, size_t *ret_len) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *leaf = NULL, *chain = NULL;
        int r;

        if (!cert_pem || !key || !passphrase || !ret_der || !ret_len)
                return -EINVAL;
        r = certs_parse(cert_pem, 1, &leaf);
        if (r < 0)
                return r;
        if (!isempty(chain_pem)) {
                r = certs_parse(chain_pem, CRYPTO_CHAIN_MAX, &chain);
                if (r < 0)
                        return r;
        }
        X509 *x = sk_X509_value(leaf, 0);
        if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
                ERR_clear_error();
                return -EKEYREJECTED;
        }
        _cleanup_(pkcs12_freep) PKCS12 *p12 = PKCS12_create(passphrase, NULL, key, x, chain,
                                                           NID_aes_256_cbc, NID_aes_256_cbc,
                                                           PKCS12_DEFAULT_ITER, PKCS12_DEFAULT_ITER, 0);
        if (!p12) {
                ERR_clear_error();
                return -ENOMEM;
        }
        unsigned char *der = NULL;
        int n = i2d_PKCS12(p12, &der);
        if (n <= 0) {
                ERR_clear_error();
                return -ENOMEM;
        }
        unsigned char *copy = malloc((size_t) n);
        if (!copy) {
                OPENSSL_free(der);
                return -ENOMEM;
        }
        memcpy(copy, der, (size_t) n);
        OPENSSL_free(der);
        *ret_der = copy;
        *ret_len = (size_t) n;
        return 0;
}

/* The key-derivation cost an encrypted PKCS#8 asks for: its iteration count
 * (PBES2/PBKDF2 or PBES1), 0 for scrypt (OpenSSL bounds its memory itself),
 * or -EBADMSG when it cannot be read. */
static int64_t pkcs8_iterations(const X509_SIG *sig) {
        const X509_ALGOR *alg = NULL;
        const ASN1_OBJECT *obj = NULL;
        const void *param = NULL;
        int ptype = 0, nid;
        int64_t iter = -EBADMSG;

        X509_SIG_get0(sig, &alg, NULL);
        if (!alg)
                return -EBADMSG;
        X509_ALGOR_get0(&obj, &ptype, &param, alg);
        nid = OBJ_obj2nid(obj);
        if (ptype != V_ASN1_SEQUENCE)
                return -EBADMSG;
        if (nid == NID_pbes2) {
                PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
                if (p2 && p2->keyfunc && OBJ_obj2nid(p2->keyfunc->algorithm) == NID_id_pbkdf2) {
                        PBKDF2PARAM *kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter);
                        int64_t v;
                        if (kdf && kdf->iter && ASN1_INTEGER_get_int64(&v, kdf->iter) == 1)
                                iter = v;
                        PBKDF2PARAM_free(kdf);
                } else if (p2 && p2->keyfunc && OBJ_obj2nid(p2->keyfunc->algorithm) == NID_id_scrypt)
                        iter = 0;
                PBE2PARAM_free(p2);
        } else {
                PBEPARAM *p1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
                int64_t v;
                if (p1 && p1->iter && ASN1_INTEGER_get_int64(&v, p1->iter) == 1)
                        iter = v;
                PBEPARAM_free(p1);
        }
        ERR_clear_error();
        return iter;
}

int crypto_decrypt_pkcs8(const char *pem, const char *passphrase, EVP_PKEY **ret) {
        if (!pem || !passphrase || !ret)
                return -EINVAL;
        size_t len = strnlen(pem, CRYPTO_PEM_MAX + 1);
        if (len > CRYPTO_PEM_MAX)
                return -E2BIG;
        if (!strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"))
                return -EBADMSG;
        _cleanup_(bio_freep) BIO *b = BIO_new_mem_buf(pem, (int) len);
        if (!b)
                return -ENOMEM;
        /* The iteration count comes with the input: bound it before deriving
         * (2^31 rounds of PBKDF2 would hold the agent for half an hour). */
        {
                X509_SIG *sig = PEM_read_bio_PKCS8(b, NULL, NULL, NULL);
                int64_t iter;

                if (!sig) {
                        ERR_clear_error();
                        return -EBADMSG;
                }
                iter = pkcs8_iterations(sig);
                X509_SIG_free(sig);
                if (iter < 0)
                        return -EBADMSG;
                if (iter > CRYPTO_PKCS8_ITER_MAX)
                        return -E2BIG;
                if (BIO_reset(b) != 1)
                        return -ENOMEM;
        }
        EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *) passphrase);
        if (!p) {
                unsigned long e = ERR_peek_last_error();
                int reason = ERR_GET_REASON(e);
                ERR_clear_error();
                /* A bad passphrase shows as a decrypt/unpad failure. */
                return reason == ERR_R_NESTED_ASN1_ERROR || ERR_GET_LIB(e) == ERR_LIB_EVP ||
                               ERR_GET_LIB(e) == ERR_LIB_PEM || ERR_GET_LIB(e) == ERR_LIB_PROV ||
                               ERR_GET_LIB(e) == ERR_LIB_PKCS12 || ERR_GET_LIB(e) == ERR_LIB_OSSL_DECODER
                               ? -EKEYREJECTED : -EBADMSG;
        }
        *ret = p;
        return 0;
}

static EVP_MD *sha256;

static void sha256_fetch(void) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *crypto_sha256(void) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        (void) pthread_once(&once, sha256_fetch);
        return sha256;
}
