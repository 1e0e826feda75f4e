/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private key PEM (state files, import sources): crypto_key_from_pem(); a key
 * it accepts must survive crypto_key_to_pem() and parse back to the same key.
 */
#include <openssl/evp.h>
#include <string.h>

#include "crypto/crypto.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        EVP_PKEY *k = NULL, *k2 = NULL;
        char *pem = NULL;

        if (crypto_key_from_pem((const char *) data, size, &k) < 0)
                return 0;
        FUZZ_CHECK(k);
        if (crypto_key_to_pem(k, &pem) >= 0) {
                FUZZ_CHECK(crypto_key_from_pem(pem, strlen(pem), &k2) >= 0);
                FUZZ_CHECK(EVP_PKEY_eq(k, k2) == 1);
                EVP_PKEY_free(k2);
                crypto_secret_free(pem);
        }
        EVP_PKEY_free(k);
        return 0;
}
