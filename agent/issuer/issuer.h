/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The issuers this build has, by configured type: what the CLI gives the
 * engine (engine_options.issuer_lookup). Each issuer's ops table is in its
 * own file (issuer-pca.c, ...); engine-issuer.h is the contract.
 */
#include "conf/conf.h"
#include "engine/engine-issuer.h"

extern const issuer_ops issuer_pca_ops;
extern const issuer_ops issuer_acm_ops;
extern const issuer_ops issuer_import_ops;

/* The ops for type, NULL when this build has no such issuer. */
const issuer_ops *issuer_lookup(conf_issuer_type type);
