/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "deploy/deploy-build.h"

void deploy_verified_done(deploy_verified *v) {
        free(v->cert_pem);
        free(v->chain_pem);
        free(v->serial);
        *v = (deploy_verified) {};
}

int deploy_verify(const conf_cert *want, EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                  const char *anchor_pem, const char *trust_store, time_t now, deploy_verified *ret,
                  char **ret_reason) {
        _cleanup_(crypto_cert_info_freep) crypto_cert_info *info = NULL;
        deploy_verified v = {};
        int r;

        *ret_reason = NULL;
        if (!want || !key || isempty(cert_pem))
                return -EINVAL;
        r = crypto_pem_normalize_certs(cert_pem, 1, &v.cert_pem);
        if (r < 0) {
                *ret_reason = strprintf("the certificate is not one valid PEM certificate (%s)", strerror(-r));
                return r;
        }
        r = crypto_verify_issued(want, key, v.cert_pem, chain_pem, anchor_pem, trust_store, now, &v.chain_pem,
                                 ret_reason);
        if (r < 0) {
                deploy_verified_done(&v);
                return r;
        }
        r = crypto_cert_info_get(v.cert_pem, strlen(v.cert_pem), &info);
        if (r < 0 || !(v.serial = strdup(info->serial_hex))) {
                deploy_verified_done(&v);
                return r < 0 ? r : -ENOMEM;
        }
        v.not_before = info->not_before;
        v.not_after = info->not_after;
        *ret = v;
        return 0;
}

void deploy_files_done(deploy_files *f) {
        free(f->chain);
        free(f->fullchain);
        crypto_secret_free(f->key_pem);
        crypto_secret_free(f->bundle);
        if (f->p12)
                OPENSSL_cleanse(f->p12, f->p12_len);
        free(f->p12);
        *f = (deploy_files) {};
}

static int read_passphrase(const char *path, char **ret) {
        char *s = NULL;
        size_t len;
        int r = read_full_file(path, 4096, &s, &len);

        if (r < 0)
                return r;
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
                s[--len] = 0;
        if (len == 0) {
                crypto_secret_free(s);
                return -ENODATA;
        }
        *ret = s;
        return 0;
}

static void add(deploy_files *f, conf_output_file kind, const void *data, size_t len, bool secret) {
        f->files[f->n++] = (deploy_file) { kind, data, len, secret };
}

int deploy_files_build(const conf_cert *cert, EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                       deploy_files *ret, char **ret_reason) {
        _cleanup_(crypto_secret_freep) char *pass = NULL;
        unsigned want = cert->output.files;
        deploy_files f = {};
        int r;

        *ret_reason = NULL;
        if (want == 0) {
                *ret_reason = strdup("output.files selects nothing to write");
                return -EINVAL;
        }
        if (want & CONF_OUT_CERT)
                add(&f, CONF_OUT_CERT, cert_pem, strlen(cert_pem), false);
        if (want & CONF_OUT_CHAIN) {
                /* always written, so the stable chain.pem never dangles */
                f.chain = strdup(chain_pem ? chain_pem : "");
                if (!f.chain)
                        goto oom;
                add(&f, CONF_OUT_CHAIN, f.chain, strlen(f.chain), false);
        }
        if (want & CONF_OUT_FULLCHAIN) {
                r = crypto_build_fullchain(cert_pem, chain_pem, &f.fullchain);
                if (r < 0)
                        goto fail;
                add(&f, CONF_OUT_FULLCHAIN, f.fullchain, strlen(f.fullchain), false);
        }
        if (want & CONF_OUT_KEY) {
                r = crypto_key_to_pem(key, &f.key_pem);
                if (r < 0)
                        goto fail;
                add(&f, CONF_OUT_KEY, f.key_pem, strlen(f.key_pem), true);
        }
        if (want & CONF_OUT_HAPROXY_BUNDLE) {
                r = crypto_build_haproxy_bundle(cert_pem, chain_pem, key, &f.bundle);
                if (r < 0)
                        goto fail;
                add(&f, CONF_OUT_HAPROXY_BUNDLE, f.bundle, strlen(f.bundle), true);
        }
        if (want & CONF_OUT_PKCS12) {
                if (!cert->output.pkcs12_passphrase_file) {
                        deploy_files_done(&f);
                        *ret_reason = strdup("output.files has pkcs12 but no output.pkcs12_passphrase_file");
                        return -EINVAL;
                }
                r = read_passphrase(cert->output.pkcs12_passphrase_file, &pass);
                if (r < 0) {
                        deploy_files_done(&f);
                        *ret_reason = strprintf("cannot read the PKCS#12 passphrase from %s: %s",
                                                cert->output.pkcs12_passphrase_file,
                                                r == -ENODATA ? "the file is empty" : strerror(-r));
                        return r;
                }
                r = crypto_build_pkcs12(cert_pem, chain_pem, key, pass, &f.p12, &f.p12_len);
                if (r < 0)
                        goto fail;
                add(&f, CONF_OUT_PKCS12, f.p12, f.p12_len, true);
        }
        *ret = f;
        return 0;
oom:
        r = -ENOMEM;
fail:
        deploy_files_done(&f);
        *ret_reason = strprintf("cannot build the output files: %s", strerror(-r));
        return r;
}

int deploy_preflight(const conf_cert *cert, char **ret_reason) {
        _cleanup_(crypto_secret_freep) char *pass = NULL;
        char err[512] = "";
        int r;

        *ret_reason = NULL;
        if (cert->output.files == 0) {
                *ret_reason = strdup("output.files selects nothing to write");
                return -EINVAL;
        }
        if (cert->output.files & CONF_OUT_PKCS12) {
                if (!cert->output.pkcs12_passphrase_file) {
                        *ret_reason = strdup("output.files has pkcs12 but no output.pkcs12_passphrase_file");
                        return -EINVAL;
                }
                r = read_passphrase(cert->output.pkcs12_passphrase_file, &pass);
                if (r < 0) {
                        *ret_reason = strprintf("cannot read the PKCS#12 passphrase from %s: %s (a deploy would "
                                                "fail after the certificate is issued)",
                                                cert->output.pkcs12_passphrase_file,
                                                r == -ENODATA ? "the file is empty" : strerror(-r));
                        return r;
                }
        }
        if (cert->output.owner != (uid_t) -1 && cert->output.owner != 0 && !getpwuid(cert->output.owner)) {
                *ret_reason = strprintf("output.owner %s (uid %u) does not exist on this host any more",
                                        cert->output.owner_name ? cert->output.owner_name : "?",
                                        (unsigned) cert->output.owner);
                return -ESRCH;
        }
        if (cert->output.group != (gid_t) -1 && cert->output.group != 0 && !getgrgid(cert->output.group)) {
                *ret_reason = strprintf("output.group %s (gid %u) does not exist on this host any more",
                                        cert->output.group_name ? cert->output.group_name : "?",
                                        (unsigned) cert->output.group);
                return -ESRCH;
        }
        r = deploy_check_dir(&cert->output, err, sizeof(err));
        if (r < 0) {
                *ret_reason = strdup(err[0] ? err : strerror(-r));
                return r;
        }
        return 0;
}
