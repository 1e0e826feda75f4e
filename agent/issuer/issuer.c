/* SPDX-License-Identifier: Apache-2.0 */
#include "issuer/issuer.h"

const issuer_ops *issuer_lookup(conf_issuer_type type) {
        switch (type) {
        case CONF_ISSUER_PCA:
                return &issuer_pca_ops;
        case CONF_ISSUER_ACM:
                return &issuer_acm_ops;
        case CONF_ISSUER_IMPORT:
                return &issuer_import_ops;
        default:
                return NULL;
        }
}
