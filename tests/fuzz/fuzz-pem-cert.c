/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate PEM from AWS (GetCertificate, ExportCertificate) and from
 * files: crypto_cert_info_get() on the input, crypto_pem_normalize_certs()
 * (which must be idempotent) and the fullchain builder on its output.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        crypto_cert_info *info = NULL;
        char *text, *norm = NULL, *again = NULL, *full = NULL;

        if (crypto_cert_info_get((const char *) data, size, &info) >= 0) {
                FUZZ_CHECK(info && info->serial_hex && info->serial_colon && info->subject && info->issuer);
                FUZZ_CHECK(info->dns_names && info->ip_addresses && info->email_addresses && info->uris);
                FUZZ_CHECK(strlen(info->serial_colon) == strlen(info->serial_hex) / 2 * 3 - 1 ||
                           strlen(info->serial_hex) == 0);
                FUZZ_CHECK(strlen(info->fingerprint_sha256) == 64);
                crypto_cert_info_free(info);
        }
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (crypto_pem_normalize_certs(text, CRYPTO_CHAIN_MAX, &norm) >= 0) {
                FUZZ_CHECK(crypto_pem_normalize_certs(norm, CRYPTO_CHAIN_MAX, &again) >= 0);
                FUZZ_CHECK(strcmp(norm, again) == 0);
                /* the first certificate alone, the rest as its chain */
                const char *second = strstr(norm + 1, "-----BEGIN CERTIFICATE-----");
                if (second) {
                        char *first = strndup(norm, (size_t) (second - norm));
                        FUZZ_CHECK(first);
                        FUZZ_CHECK(crypto_build_fullchain(first, second, &full) >= 0);
                        FUZZ_CHECK(strcmp(full, norm) == 0);
                        free(first);
                }
        }
        free(full);
        free(again);
        free(norm);
        free(text);
        return 0;
}
