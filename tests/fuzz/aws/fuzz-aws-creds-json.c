/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the credentials JSON of the metadata endpoints (IMDS, ECS:
 * creds_metadata_parse()) and of a credential_process
 * (creds_process_parse_output()), on the same bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/aws-creds-file.h"
#include "fuzz-check.h"

static void check(int k, creds_value *v, char *msg, int fail) {
        if (k >= 0) {
                FUZZ_CHECK(!msg);
                FUZZ_CHECK(v->access_key_id && v->access_key_id[0] && strlen(v->access_key_id) <= 128);
                FUZZ_CHECK(v->secret_access_key && v->secret_access_key[0] && strlen(v->secret_access_key) <= 256);
                FUZZ_CHECK(!v->session_token || strlen(v->session_token) <= 8192);
                creds_value_done(v);
                return;
        }
        FUZZ_CHECK(k == fail || k == -ENOMEM);
        if (k == fail) {
                /* A sentence, never the input's text (it holds secrets)
                 * beyond the escaped Code. */
                FUZZ_CHECK(msg);
                fuzz_check_text(msg);
                FUZZ_CHECK(strlen(msg) < 400);
        }
        free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) ;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        creds_value v = {};
        char *msg = NULL;
        int k = creds_metadata_parse((const char *) data, size, &v, &msg);
        check(k, &v, msg, -EBADMSG);
        msg = NULL;
        k = creds_process_parse_output((const char *) data, size, &v, &msg);
        check(k, &v, msg, -EINVAL);
        return 0;
}
