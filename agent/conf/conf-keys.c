/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every key path the loader accepts, built from the very key lists the
 * parsers check against (conf_check_keys), so the list cannot drift from
 * the loader. tests/unit/conf/ compares it with conf/REFERENCE.md.
 */
#include "conf/conf-internal.h"
#include "basic/util.h"

static const struct {
        const char *prefix;
        const char *const *keys;
} schema[] = {
        { "", conf_keys_top },
        { "aws.", conf_keys_aws },
        { "daemon.", conf_keys_daemon },
        { "reloaders.", conf_keys_reloaders },
        { "reloaders.nginx.", conf_keys_nginx },
        { "reloaders.haproxy.", conf_keys_haproxy },
        { "certificates[].", conf_cert_keys },
        { "certificates[].issuer(pca).", conf_keys_pca },
        { "certificates[].issuer(pca).validity.", conf_keys_validity },
        { "certificates[].issuer(pca).validity_not_before.", conf_keys_validity },
        { "certificates[].issuer(acm).", conf_keys_acm },
        { "certificates[].issuer(import).", conf_keys_import },
        { "certificates[].subject.", conf_keys_subject },
        { "certificates[].subject.custom_attributes[].", conf_keys_custom_attribute },
        { "certificates[].key.", conf_keys_key },
        { "certificates[].dns.", conf_keys_dns },
        { "certificates[].output.", conf_keys_output },
        { "certificates[].reload[].", conf_keys_reload_target },
        { "certificates[].hooks.", conf_keys_hooks },
};

#define CERT_PREFIX "certificates[]."

int conf_key_paths(char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0, alloc = 0;

        /* Each entry once; then defaults.X for every certificate path but name, and defaults.output_root. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t s = 0; s < ELEMENTSOF(schema); s++) {
                        bool cert = strneq(schema[s].prefix, CERT_PREFIX, strlen(CERT_PREFIX));
                        if (pass == 1 && !cert)
                                continue;
                        for (const char *const *k = schema[s].keys; *k; k++) {
                                char *p;
                                if (pass == 1 && streq(schema[s].prefix, CERT_PREFIX) && streq(*k, "name"))
                                        continue;
                                p = pass == 0 ? strprintf("%s%s", schema[s].prefix, *k)
                                              : strprintf("defaults.%s%s", schema[s].prefix + strlen(CERT_PREFIX), *k);
                                if (!p || CONF_GROW(l, alloc, n + 2) < 0) {
                                        free(p);
                                        return -ENOMEM;
                                }
                                l[n++] = p;
                                l[n] = NULL;
                        }
                }
        if (CONF_GROW(l, alloc, n + 2) < 0 || !(l[n] = strdup("defaults.output_root")))
                return -ENOMEM;
        l[++n] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}
