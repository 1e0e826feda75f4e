/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One certificate: the `defaults:` merge, names, subject, key, dns, output,
 * schedule, and the derived defaults (output dir, common name). The issuer
 * is parsed in conf-issuer.c, reload targets and hooks in conf-reload.c.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf/conf-internal.h"
#include "basic/util.h"

typedef conf_loader L_t;

const char *const conf_keys_subject[] = { "common_name", "country", "organization", "organizational_unit",
                                            "distinguished_name_qualifier", "state", "serial_number", "locality", "title",
                                            "surname", "given_name", "initials", "pseudonym", "generation_qualifier",
                                            "custom_attributes", NULL };
static const unsigned subject_max[] = { 64, 2, 64, 64, 64, 128, 64, 128, 64, 40, 16, 5, 128, 3 };

static char **subject_field(conf_subject *s, size_t i) {
        char **f[] = { &s->common_name, &s->country, &s->organization, &s->organizational_unit,
                       &s->distinguished_name_qualifier, &s->state, &s->serial_number, &s->locality, &s->title,
                       &s->surname, &s->given_name, &s->initials, &s->pseudonym, &s->generation_qualifier };
        return f[i];
}

static void parse_subject(L_t *L, conf_subject *s, const cnode *n) {
        cnode *v;
        if (!conf_want_map(L, n, "subject"))
                return;
        conf_check_keys(L, n, conf_keys_subject, "subject");
        for (size_t i = 0; i < ELEMENTSOF(subject_max); i++) {
                if (!(v = conf_get(n, conf_keys_subject[i])))
                        continue;
                const char *str = conf_nonempty(L, v, conf_keys_subject[i]);
                if (!str)
                        continue;
                if (strlen(str) > subject_max[i]) {
                        char hint[64];
                        snprintf(hint, sizeof hint, "shorten it to %u characters", subject_max[i]);
                        conf_err_at(L, v, "range", hint, "subject.%s is longer than %u characters", conf_keys_subject[i], subject_max[i]);
                        continue;
                }
                if (i == 1 && (strlen(str) != 2 || !isalpha((unsigned char) str[0]) || !isalpha((unsigned char) str[1]))) {
                        conf_err_at(L, v, "range", "use a two-letter ISO 3166 code such as DE or US", "subject.country '%s' is not a two-letter code", str);
                        continue;
                }
                *subject_field(s, i) = conf_strdup(L, str);
        }
        if ((v = conf_get(n, "custom_attributes"))) {
                if (v->kind != CNODE_SEQ) {
                        conf_err_at(L, v, "type", "write a list of {oid, value}", "custom_attributes must be a list");
                        return;
                }
                s->custom_attributes = calloc(v->n_items ? v->n_items : 1, sizeof(conf_attr));
                if (!s->custom_attributes) {
                        L->oom = true;
                        return;
                }
                for (size_t i = 0; i < v->n_items; i++) {
                        const cnode *a = v->items[i];
                        cnode *o, *val;
                        const char *os, *vs, *why;
                        if (!conf_want_map(L, a, "a custom attribute"))
                                continue;
                        conf_check_keys(L, a, conf_keys_custom_attribute, "a custom attribute");
                        o = conf_get(a, "oid");
                        val = conf_get(a, "value");
                        if (!o || !val) {
                                conf_err_at(L, a, "missing", "write {oid: 1.2.3.4, value: text}", "a custom attribute needs 'oid' and 'value'");
                                continue;
                        }
                        if (!(os = conf_nonempty(L, o, "oid")) || !(vs = conf_nonempty(L, val, "value")))
                                continue;
                        if ((why = conf_check_oid(os))) {
                                conf_err_at(L, o, "oid", "write a dotted OID such as 1.3.6.1.4.1.99999.1", "oid '%s': %s", os, why);
                                continue;
                        }
                        if (strlen(vs) > 256) {
                                conf_err_at(L, val, "range", "shorten it to 256 characters", "custom attribute value longer than 256 characters");
                                continue;
                        }
                        s->custom_attributes[s->n_custom_attributes].oid = conf_strdup(L, os);
                        s->custom_attributes[s->n_custom_attributes++].value = conf_strdup(L, vs);
                }
        }
}

typedef enum name_kind { NAME_DNS, NAME_IP, NAME_EMAIL, NAME_URI } name_kind;

static char **parse_names(L_t *L, const cnode *n, const char *what, name_kind kind) {
        char **v = conf_get_strv(L, n, what, 100);
        if (!v)
                return NULL;
        for (size_t i = 0; v[i]; i++) {
                const char *why = kind == NAME_DNS ? conf_check_dns_name(v[i], true)
                                  : kind == NAME_IP ? conf_check_ip(v[i])
                                  : kind == NAME_EMAIL ? conf_check_email(v[i])
                                                       : conf_check_uri(v[i]);
                const char *klass = kind == NAME_DNS ? "dns-name" : kind == NAME_IP ? "ip" : kind == NAME_EMAIL ? "email" : "uri";
                const char *hint = kind == NAME_DNS ? (conf_check_ip(v[i]) ? "write a name such as www.example.com or *.example.com"
                                                                           : "put IP addresses under ip_addresses")
                                   : kind == NAME_IP ? "write an IPv4 (192.0.2.1) or IPv6 (2001:db8::1) address"
                                   : kind == NAME_EMAIL ? "write an address such as ops@example.com"
                                                        : "write a URI such as spiffe://example.org/web";
                if (why) {
                        conf_err_at(L, n->items[i], klass, hint, "%s: '%s': %s", what, v[i], why);
                        continue;
                }
                for (size_t j = 0; j < i; j++)
                        if (strcasecmp(v[j], v[i]) == 0) {
                                conf_err_at(L, n->items[i], "duplicate", "list each name once", "%s: '%s' is listed twice", what, v[i]);
                                break;
                        }
        }
        return v;
}

const char *const conf_keys_custom_attribute[] = { "oid", "value", NULL };
const char *const conf_keys_key[] = { "type", "curve", "bits", "reuse", NULL };

static void parse_key(L_t *L, conf_key *k, const cnode *n) {
        static const char *const types[] = { "ec", "rsa", NULL };
        static const char *const curves[] = { "P-256", "P-384", "P-521", NULL };
        cnode *v;
        if (!conf_want_map(L, n, "key"))
                return;
        conf_check_keys(L, n, conf_keys_key, "key");
        if ((v = conf_get(n, "type"))) {
                int i = conf_get_enum(L, v, "key type", types);
                if (i >= 0)
                        k->type = (conf_key_type) i;
        }
        if (k->type == CONF_KEY_RSA) {
                uint64_t bits;
                if (conf_get(n, "curve"))
                        conf_err_at(L, conf_get(n, "curve"), "conflict", "remove curve (it is for EC keys) or use type: ec",
                               "'curve' is set for an RSA key");
                if (conf_get_uint(L, n, "bits", &bits, 0, UINT32_MAX)) {
                        if (bits != 2048 && bits != 3072 && bits != 4096)
                                conf_err_at(L, conf_get(n, "bits"), "enum", "use one of: 2048, 3072, 4096", "RSA key size %" PRIu64 " is not supported", bits);
                        else
                                k->bits = (unsigned) bits;
                }
        } else {
                if (conf_get(n, "bits"))
                        conf_err_at(L, conf_get(n, "bits"), "conflict", "remove bits (it is for RSA keys) or use type: rsa",
                               "'bits' is set for an EC key");
                if ((v = conf_get(n, "curve"))) {
                        int i = conf_get_enum(L, v, "curve", curves);
                        if (i >= 0)
                                k->curve = (conf_curve) i;
                }
        }
        conf_get_bool(L, n, "reuse", &k->reuse);
}

/*
 * One nameserver: "IP", "IP:PORT" (IPv4) or "[IPv6]:PORT" ("[IPv6]" and a
 * bare IPv6 address take port 53). Returns NULL and sets *ret_addr (a copy
 * of the address) and *ret_port, or a static message.
 */
static const char *parse_nameserver(const char *s, char **ret_addr, uint16_t *ret_port) {
        _cleanup_(freep) char *addr = NULL;
        const char *port = NULL;
        uint32_t p = 53;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close)
                        return "a '[' without ']'";
                addr = strndup(s + 1, (size_t) (close - s - 1));
                if (!addr)
                        return NULL;   /* OOM: the caller sees *ret_addr unset */
                if (!strchr(addr, ':') || conf_check_ip(addr))
                        return "brackets hold an IPv6 address: [2001:db8::53]:53";
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1])
                        return "write [IPv6]:PORT";
        } else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
                /* one colon: IPv4:PORT */
                addr = strndup(s, (size_t) (strchr(s, ':') - s));
                if (!addr)
                        return NULL;
                if (strchr(addr, '.') == NULL || conf_check_ip(addr))
                        return "not an IPv4 address before ':PORT' (an IPv6 address with a port is written [IPv6]:PORT)";
                port = strchr(s, ':') + 1;
        } else {
                addr = strdup(s);
                if (!addr)
                        return NULL;
                if (conf_check_ip(addr))
                        return "not an IP address (a name server is given by address, not by name)";
        }
        if (port && (parse_uint32(port, &p) < 0 || p < 1 || p > 65535))
                return "the port is a number from 1 to 65535";
        *ret_addr = TAKE_PTR(addr);
        *ret_port = (uint16_t) p;
        return NULL;
}

static void parse_nameservers(L_t *L, conf_dns *d, const cnode *n) {
        char **v = conf_get_strv(L, n, "nameservers", CONF_MAX_NAMESERVERS);
        conf_nameserver *ns;
        size_t k = 0;

        if (!v)
                return;
        ns = calloc(strv_length(v) + 1, sizeof(conf_nameserver));
        if (!ns) {
                strv_free(v);
                L->oom = true;
                return;
        }
        for (size_t i = 0; v[i]; i++) {
                char *addr = NULL;
                uint16_t port = 0;
                const char *why = parse_nameserver(v[i], &addr, &port);
                if (why) {
                        conf_err_at(L, n->items[i], "ip", "write IP, IP:PORT or [IPv6]:PORT, such as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53",
                                    "nameservers: '%s': %s", v[i], why);
                        continue;
                }
                if (!addr) {
                        L->oom = true;
                        continue;
                }
                bool dup = false;
                for (size_t j = 0; j < k && !dup; j++)
                        dup = ns[j].port == port && streq(ns[j].address, addr);
                if (dup) {
                        conf_err_at(L, n->items[i], "duplicate", "list each server once", "nameservers: '%s' is listed twice", v[i]);
                        free(addr);
                        continue;
                }
                ns[k++] = (conf_nameserver) { .address = addr, .port = port };
        }
        strv_free(v);
        d->nameservers = ns;
        d->n_nameservers = k;
}

const char *const conf_keys_dns[] = { "provider", "hosted_zone_id", "role_arn", "command", "propagation_timeout", "ttl",
                                      "nameservers", NULL };

static void parse_dns(L_t *L, conf_dns *d, const cnode *n) {
        static const char *const providers[] = { "none", "route53", "exec", "manual", NULL };
        cnode *v;
        if (!conf_want_map(L, n, "dns"))
                return;
        conf_check_keys(L, n, conf_keys_dns, "dns");
        if ((v = conf_get(n, "provider"))) {
                int i = conf_get_enum(L, v, "dns provider", providers);
                if (i >= 0)
                        d->provider = (conf_dns_provider) i;
        } else
                conf_err_at(L, n, "missing", "add provider: route53, exec or manual", "dns: required key 'provider' is missing");
        if ((v = conf_get(n, "hosted_zone_id"))) {
                const char *s = conf_nonempty(L, v, "hosted_zone_id");
                if (s && (strlen(s) > 32 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(s)))
                        conf_err_at(L, v, "range", "write the zone id as Route 53 shows it, such as Z0123456789ABCDEFGHIJ",
                               "hosted_zone_id '%s' is not a Route 53 zone id", s);
                else if (s) {
                        if (d->provider != CONF_DNS_ROUTE53)
                                conf_err_at(L, v, "conflict", "hosted_zone_id is for provider: route53", "hosted_zone_id is set but the provider is not route53");
                        d->hosted_zone_id = conf_strdup(L, s);
                }
        }
        if ((v = conf_get(n, "command"))) {
                if (d->provider != CONF_DNS_EXEC)
                        conf_err_at(L, v, "conflict", "command is for provider: exec", "dns command is set but the provider is not exec");
                d->command = conf_get_argv(L, v, "dns command", false);
        } else if (d->provider == CONF_DNS_EXEC)
                conf_err_at(L, n, "missing", "add command: [/path/to/dns-hook]", "dns provider exec needs 'command'");
        if (conf_get_arn(L, n, "role_arn", CONF_ARN_IAM_ROLE, &d->role_arn) && d->provider != CONF_DNS_ROUTE53)
                conf_err_at(L, conf_get(n, "role_arn"), "conflict", "role_arn is for provider: route53 (the exec provider has its own credentials)",
                            "dns role_arn is set but the provider is not route53");
        if ((v = conf_get(n, "nameservers")))
                parse_nameservers(L, d, v);
        conf_get_duration(L, n, "propagation_timeout", &d->propagation_timeout, 1, 86400);
        if ((v = conf_get(n, "ttl"))) {
                uint64_t t;
                if (v->kind == CNODE_SCALAR && parse_uint64(v->str, &t) >= 0) {
                        if (t < 1 || t > 604800)
                                conf_err_at(L, v, "range", "use 1 to 604800 seconds", "dns ttl %" PRIu64 " is out of range", t);
                        else
                                d->ttl = t;
                } else
                        conf_get_duration(L, n, "ttl", &d->ttl, 1, 604800);
        }
}

static const char *const file_names[] = { "cert", "chain", "fullchain", "key", "haproxy_bundle", "pkcs12", NULL };

const char *const conf_keys_output[] = { "dir", "owner", "group", "mode", "key_mode", "files", "pkcs12_passphrase_file",
                                         "keep_versions", NULL };

static void parse_output(L_t *L, conf_output *o, const cnode *n) {
        cnode *v;
        if (!conf_want_map(L, n, "output"))
                return;
        conf_check_keys(L, n, conf_keys_output, "output");
        conf_get_path(L, n, "dir", &o->dir);
        uint32_t id;
        if ((v = conf_get(n, "owner"))) {
                id = o->owner;
                conf_lookup_owner(L, v, false, &id, &o->owner_name);
                o->owner = (uid_t) id;
        }
        if ((v = conf_get(n, "group"))) {
                id = o->group;
                conf_lookup_owner(L, v, true, &id, &o->group_name);
                o->group = (gid_t) id;
        }
        const char *mk[] = { "mode", "key_mode" };
        mode_t *mp[] = { &o->mode, &o->key_mode };
        for (size_t i = 0; i < 2; i++) {
                const char *s;
                mode_t m;
                if (!(v = conf_get(n, mk[i])) || !(s = conf_scalar(L, v, mk[i])))
                        continue;
                if (parse_mode(s, &m) < 0 || (m & ~(mode_t) 0777)) {
                        conf_err_at(L, v, "mode", "write an octal mode such as \"0640\" (quoted)", "%s: '%s' is not a file mode", mk[i], s);
                        continue;
                }
                if (i == 1 && (m & 0007)) {
                        conf_err_at(L, v, "mode", "keys must not be world-accessible: use 0600 or 0640", "key_mode %s gives others access to the private key", s);
                        continue;
                }
                *mp[i] = m;
        }
        if ((v = conf_get(n, "files"))) {
                if (v->kind != CNODE_SEQ || v->n_items == 0)
                        conf_err_at(L, v, "type", "write a list such as [cert, chain, fullchain, key]", "output.files must be a non-empty list");
                else {
                        unsigned bits = 0;
                        for (size_t i = 0; i < v->n_items; i++) {
                                int fi = conf_get_enum(L, v->items[i], "output file", file_names);
                                if (fi < 0)
                                        continue;
                                if (bits & (1u << fi))
                                        conf_err_at(L, v->items[i], "duplicate", "list each file once", "output file '%s' is listed twice", file_names[fi]);
                                bits |= 1u << fi;
                        }
                        if (bits)
                                o->files = bits;
                }
        }
        conf_get_path(L, n, "pkcs12_passphrase_file", &o->pkcs12_passphrase_file);
        uint64_t kv;
        if (conf_get_uint(L, n, "keep_versions", &kv, 0, 50))
                o->keep_versions = (unsigned) kv;
}

/* ---- defaults merge ---- */

/* Keys whose mapping values merge per key (cert's value wins per key). */
static bool mergeable(const char *key) {
        return streq(key, "issuer") || streq(key, "subject") || streq(key, "key") || streq(key, "dns") ||
               streq(key, "output") || streq(key, "hooks");
}

/* A discriminator that, when different, makes the cert's mapping replace the default's. */
static const char *discriminator(const char *key) {
        return streq(key, "issuer") || streq(key, "key") ? "type" : streq(key, "dns") ? "provider" : NULL;
}

static cnode *merge_map(L_t *L, cnode *over, const cnode *def, bool nested) {
        cnode *m;
        if (!def || def->kind != CNODE_MAP || over->kind != CNODE_MAP)
                return over;
        m = conf_node_new(L, CNODE_MAP, &over->loc);
        if (!m)
                return over;
        m->pairs = conf_arena_alloc(L, (over->n_pairs + def->n_pairs + 1) * sizeof(cpair));
        if (!m->pairs)
                return over;
        for (size_t i = 0; i < over->n_pairs; i++) {
                cpair p = over->pairs[i];
                p.from_defaults = false;
                if (!nested && p.key->kind == CNODE_SCALAR && mergeable(p.key->str) && p.value->kind == CNODE_MAP) {
                        const cnode *dv = conf_node_get(def, p.key->str, NULL);
                        const char *disc = discriminator(p.key->str);
                        if (dv && dv->kind == CNODE_MAP) {
                                cnode *a = disc ? conf_get(p.value, disc) : NULL, *b = disc ? conf_get(dv, disc) : NULL;
                                bool differ = a && b && (a->kind != CNODE_SCALAR || b->kind != CNODE_SCALAR ||
                                                         strcasecmp(a->str, b->str) != 0);
                                if (!differ)
                                        p.value = merge_map(L, p.value, dv, true);
                        }
                }
                m->pairs[m->n_pairs++] = p;
        }
        for (size_t i = 0; i < def->n_pairs; i++) {
                cpair p = def->pairs[i];
                if (p.key->kind != CNODE_SCALAR || conf_node_get(over, p.key->str, NULL))
                        continue;
                if (!nested && (streq(p.key->str, "name") || streq(p.key->str, "output_root")))
                        continue;
                p.from_defaults = true;
                m->pairs[m->n_pairs++] = p;
        }
        return m;
}

const char *const conf_cert_keys[] = { "name", "issuer", "subject", "dns_names", "ip_addresses", "email_addresses",
                                      "uris", "key", "dns", "output", "reload", "hooks", "renew_fraction",
                                      "renew_before", "jitter", "retry_min", "retry_max", "reload_window", NULL };

/*
 * output.dir, normalised (stored so), is not "/", not in /proc, /sys or
 * /dev (also through a symlinked ancestor), not an existing non-directory.
 */
static void check_output_dir(conf_ctx *x, conf_cert *cert, const cnode *n) {
        L_t *L = x->L;
        _cleanup_(freep) char *norm = NULL, *canon = NULL;
        const cnode *at = conf_get(conf_get(n, "output"), "dir");
        const char *virt;
        struct stat st;
        mode_t type = 0;
        int r, sr;

        if (!at)
                at = x->output_root ? x->output_root : n;
        r = conf_path_normalize(cert->output.dir, &norm);
        if (r < 0) {
                L->oom = true;
                return;
        }
        /* its canonical form and its type from one listing of the parent
         * (a thousand certificates under one output_root), or one lstat(2) */
        if (x->paths)
                r = conf_path_canonical_stat(norm, x->paths, &canon, &type, &sr);
        else {
                r = conf_path_canonical(norm, &canon);
                if (r >= 0)
                        sr = stat(canon, &st) < 0 ? -errno : (type = st.st_mode & S_IFMT, 0);
        }
        if (r == -ENOMEM) {
                L->oom = true;
                return;
        }
        if (r < 0)
                sr = stat(norm, &st) < 0 ? -errno : (type = st.st_mode & S_IFMT, 0);
        if (streq(norm, "/") || (canon && streq(canon, "/")))
                conf_err_at(L, at, "path", "give the certificate a directory of its own, such as /etc/ssl/acm-agent/NAME",
                            "output.dir %s is the root directory '/'", cert->output.dir);
        else if ((virt = conf_path_virtual(norm)) || (canon && (virt = conf_path_virtual(canon))))
                conf_err_at(L, at, "path", "write the files to a real file system, such as /etc/ssl/acm-agent/NAME",
                            "output.dir %s is inside %s (a virtual file system)", cert->output.dir, virt);
        else if (sr == 0 && !S_ISDIR(type))
                conf_err_at(L, at, "path", "name a directory (it is created when missing), or move the file away",
                            "output.dir %s exists and is %s, not a directory", cert->output.dir, file_kind_string(type));
        else if (sr == -ENOTDIR)
                conf_err_at(L, at, "path", "name a directory whose parents are directories",
                            "output.dir %s cannot be created: a parent of it is not a directory", cert->output.dir);
        free(cert->output.dir);
        cert->output.dir = TAKE_PTR(norm);
        if (x->output_canon && canon) {
                free(*x->output_canon);
                *x->output_canon = TAKE_PTR(canon);
        }
}

static void cert_finish(conf_ctx *x, conf_cert *cert, const cnode *n, bool issuer_ok) {
        L_t *L = x->L;
        conf *c = x->c;

        /* Derived defaults. */
        if (!cert->output.dir && cert->name && c->output_root)
                cert->output.dir = path_join(c->output_root, cert->name);
        if (cert->output.dir)
                check_output_dir(x, cert, n);
        if (!cert->subject.common_name && cert->dns_names && cert->dns_names[0] && cert->dns_names[0][0] != '*' &&
            strlen(cert->dns_names[0]) <= 64)
                cert->subject.common_name = conf_strdup(L, cert->dns_names[0]);
        else if (!cert->subject.common_name && cert->dns_names && cert->dns_names[0] && strlen(cert->dns_names[0]) <= 64)
                cert->subject.common_name = conf_strdup(L, cert->dns_names[0]);

        /* Consumers may walk the name lists without a NULL check. */
        char ***lists[] = { &cert->dns_names, &cert->ip_addresses, &cert->email_addresses, &cert->uris };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                if (!*lists[i] && !(*lists[i] = calloc(1, sizeof(char *))))
                        L->oom = true;

        /* A names key that is present but invalid was reported already. */
        bool names_written = conf_get(n, "dns_names") || conf_get(n, "ip_addresses") || conf_get(n, "email_addresses") || conf_get(n, "uris");
        if (issuer_ok)
                conf_issuer_check_names(L, cert, n, names_written);
        if ((cert->output.files & CONF_OUT_PKCS12) && !cert->output.pkcs12_passphrase_file) {
                cnode *o = conf_get(n, "output");
                conf_err_at(L, o ? o : n, "conflict", "add output.pkcs12_passphrase_file: /etc/acm-agent/p12.pass (a file holding the passphrase)",
                       "output file pkcs12 is selected without pkcs12_passphrase_file");
        }
        if (cert->schedule.retry_min > cert->schedule.retry_max) {
                const cnode *r = conf_get(n, "retry_min") ? conf_get(n, "retry_min") : n;
                conf_err_at(L, r, "range", "make retry_min at most retry_max", "retry_min is larger than retry_max");
        }
}

conf_cert *conf_cert_parse(conf_ctx *x, cnode *raw) {
        L_t *L = x->L;
        bool issuer_ok = false;
        conf_cert *cert;
        cnode *n, *v;

        if (!conf_want_map(L, raw, "a certificate"))
                return NULL;
        conf_check_keys(L, raw, conf_cert_keys, "a certificate");
        n = merge_map(L, raw, x->defaults, false);

        cert = calloc(1, sizeof(conf_cert));
        if (!cert)
                return L->oom = true, NULL;
        cert->loc = raw->loc;
        cert->key = (conf_key) { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256, .bits = 0 };
        cert->dns = (conf_dns) { .provider = CONF_DNS_NONE, .propagation_timeout = 600, .ttl = 300 };
        cert->output = (conf_output) { .mode = 0644, .key_mode = 0600,
                                       .files = CONF_OUT_CERT | CONF_OUT_CHAIN | CONF_OUT_FULLCHAIN | CONF_OUT_KEY,
                                       .keep_versions = 2 };
        cert->hooks.timeout = 60;
        cert->schedule = (conf_schedule) { .renew_fraction = 0.33, .jitter = 12 * 3600, .retry_min = 300, .retry_max = 6 * 3600 };

        if ((v = conf_get(raw, "name"))) {
                const char *s = conf_scalar(L, v, "name");
                if (s && !conf_cert_name_valid(s))
                        conf_err_at(L, v, "name", "use 1-128 letters, digits, '.', '_' or '-', not starting with '.'",
                               "certificate name '%s' is not a safe file name", s);
                else if (s)
                        cert->name = conf_strdup(L, s);
        } else
                conf_err_at(L, raw, "missing", "add name: web (a stable id for files, state and logs)",
                       "a certificate needs a 'name'");

        if ((v = conf_get(n, "issuer"))) {
                size_t before = L->n_errs;
                conf_issuer_parse(L, cert, v);
                issuer_ok = L->n_errs == before;
        }
        else
                conf_err_at(L, raw, "missing", "add issuer: {type: pca, ca_arn: ..., validity: 30d} (or acm, import)",
                       "certificate '%s' has no issuer", cert->name ? cert->name : "?");
        if ((v = conf_get(n, "subject")))
                parse_subject(L, &cert->subject, v);
        if ((v = conf_get(n, "dns_names")))
                cert->dns_names = parse_names(L, v, "dns_names", NAME_DNS);
        if ((v = conf_get(n, "ip_addresses")))
                cert->ip_addresses = parse_names(L, v, "ip_addresses", NAME_IP);
        if ((v = conf_get(n, "email_addresses")))
                cert->email_addresses = parse_names(L, v, "email_addresses", NAME_EMAIL);
        if ((v = conf_get(n, "uris")))
                cert->uris = parse_names(L, v, "uris", NAME_URI);
        if ((v = conf_get(n, "key")))
                parse_key(L, &cert->key, v);
        if (cert->key.type == CONF_KEY_RSA && !cert->key.bits)
                cert->key.bits = 2048;
        if ((v = conf_get(n, "dns")))
                parse_dns(L, &cert->dns, v);
        if ((v = conf_get(n, "output")))
                parse_output(L, &cert->output, v);
        cert->output.configured = conf_get(raw, "output") != NULL;
        if ((v = conf_get(n, "reload"))) {
                if (v->kind != CNODE_SEQ)
                        conf_err_at(L, v, "type", "write a list such as [nginx] or [{systemd: myapp.service}]",
                               "reload must be a list, not %s", conf_node_type_name(v));
                else if (v->n_items > 32)
                        conf_err_at(L, v, "too-large", "use at most 32 reload targets", "too many reload targets");
                else {
                        cert->reload = calloc(v->n_items + 1, sizeof(conf_reload *));
                        if (!cert->reload)
                                L->oom = true;
                        size_t k = 0;
                        for (size_t i = 0; cert->reload && i < v->n_items; i++) {
                                conf_reload *r = conf_reload_target(x, v->items[i]);
                                bool dup = false;
                                if (!r)
                                        continue;
                                for (size_t j = 0; j < k; j++)
                                        dup |= cert->reload[j] == r;
                                if (dup)
                                        conf_err_at(L, v->items[i], "duplicate", "list each target once", "reload target '%s' is listed twice", r->id);
                                else
                                        cert->reload[k++] = r;
                        }
                }
        }
        if ((v = conf_get(n, "hooks")))
                conf_hooks_parse(L, &cert->hooks, v);
        if ((v = conf_get(n, "reload_window")))
                conf_window_parse_node(L, v, &cert->reload_window, &cert->n_reload_window);

        /* renew_before and renew_fraction may both be set (DESIGN §2's example does): renew_before wins. */
        if ((v = conf_get(n, "renew_fraction"))) {
                const char *s = conf_scalar(L, v, "renew_fraction");
                char *end = NULL;
                double d = 0;
                if (s) {
                        errno = 0;
                        d = strtod(s, &end);
                        if (errno || end == s || *end || !isfinite(d))
                                conf_err_at(L, v, "type", "write a number between 0 and 1, such as 0.33", "renew_fraction '%s' is not a number", s);
                        else if (d <= 0 || d >= 1)
                                conf_err_at(L, v, "range", "write a number between 0 and 1 (exclusive), such as 0.33", "renew_fraction %s is not between 0 and 1", s);
                        else
                                cert->schedule.renew_fraction = d;
                }
        }
        conf_get_duration(L, n, "renew_before", &cert->schedule.renew_before, 60, 10 * 365 * 86400ULL);
        conf_get_duration(L, n, "jitter", &cert->schedule.jitter, 0, 7 * 86400);
        conf_get_duration(L, n, "retry_min", &cert->schedule.retry_min, 1, 86400);
        conf_get_duration(L, n, "retry_max", &cert->schedule.retry_max, 1, 7 * 86400);

        cert_finish(x, cert, n, issuer_ok);
        return cert;
}


conf_cert *conf_cert_free(conf_cert *c) {
        if (!c)
                return NULL;
        free(c->name);
        conf_issuer_done(c);
        for (size_t i = 0; i < ELEMENTSOF(subject_max); i++)
                free(*subject_field(&c->subject, i));
        for (size_t i = 0; i < c->subject.n_custom_attributes; i++) {
                free(c->subject.custom_attributes[i].oid);
                free(c->subject.custom_attributes[i].value);
        }
        free(c->subject.custom_attributes);
        strv_free(c->dns_names);
        strv_free(c->ip_addresses);
        strv_free(c->email_addresses);
        strv_free(c->uris);
        free(c->dns.hosted_zone_id);
        free(c->dns.role_arn);
        strv_free(c->dns.command);
        for (size_t i = 0; i < c->dns.n_nameservers; i++)
                free(c->dns.nameservers[i].address);
        free(c->dns.nameservers);
        free(c->reload_window);
        free(c->output.dir);
        free(c->output.owner_name);
        free(c->output.group_name);
        free(c->output.pkcs12_passphrase_file);
        free(c->reload);
        strv_free(c->hooks.deploy);
        strv_free(c->hooks.failure);
        strv_free(c->hooks.pending_validation);
        free(c);
        return NULL;
}

const conf_cert *conf_find_cert(const conf *c, const char *name) {
        for (conf_cert **i = c ? c->certs : NULL; i && *i; i++)
                if (streq((*i)->name, name))
                        return *i;
        return NULL;
}

const char *conf_key_describe(const conf_key *k, char *buf, size_t len) {
        static const char *const curves[] = { "P-256", "P-384", "P-521" };
        if (k->type == CONF_KEY_RSA)
                snprintf(buf, len, "rsa-%u", k->bits);
        else
                snprintf(buf, len, "ec-%s", k->curve <= CONF_CURVE_P521 ? curves[k->curve] : "?");
        return buf;
}
