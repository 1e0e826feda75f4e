/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encrypted PKCS#8 from ACM ExportCertificate: crypto_decrypt_pkcs8() with
 * the passphrase the seeds were encrypted with ("fuzz-passphrase").
 */
#include <openssl/evp.h>
#include <string.h>

#include "crypto/crypto.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        EVP_PKEY *k = NULL;
        char *text = malloc(size + 1);
        int r;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        r = crypto_decrypt_pkcs8(text, "fuzz-passphrase", &k);
        FUZZ_CHECK((r >= 0) == (k != NULL));
        EVP_PKEY_free(k);
        free(text);
        return 0;
}
