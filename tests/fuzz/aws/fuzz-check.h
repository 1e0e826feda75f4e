/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Invariants the AWS answer harnesses check on every input (an abort() is a
 * finding for libFuzzer). Header-only: each harness is one source file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-answer.h"
#include "aws/aws.h"

#define FUZZ_CHECK(cond)                                                              \
        do {                                                                          \
                if (!(cond)) {                                                        \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                      \
                }                                                                     \
        } while (0)

/* No control character may reach a message (aws_escape()). */
static inline void fuzz_check_text(const char *s) {
        FUZZ_CHECK(s);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
}

/* aws_answer_parse()'s contract: 0 and exactly one of result (an object)
 * and error (escaped, bounded strings), or -ENOMEM. */
static inline void fuzz_check_answer(int k, aws_answer *a, long status) {
        if (k < 0) {
                FUZZ_CHECK(k == -ENOMEM);
                return;
        }
        FUZZ_CHECK((a->result != NULL) != (a->error != NULL));
        if (a->result) {
                FUZZ_CHECK(json_is_object(a->result));
                /* The result can be serialized (what callers log or store). */
                char *s = json_dumps(a->result, JSON_COMPACT);
                FUZZ_CHECK(s);
                free(s);
                return;
        }
        const aws_error *e = a->error;
        FUZZ_CHECK(e->http_status == status);
        FUZZ_CHECK((unsigned) e->kind < _AWS_ERROR_KIND_MAX);
        FUZZ_CHECK(e->type && e->type[0]);
        fuzz_check_text(e->type);
        fuzz_check_text(e->message);
        FUZZ_CHECK(strlen(e->type) <= 4 * 128 + 3);
        FUZZ_CHECK(strlen(e->message) <= 8192);
        if (e->request_id)
                fuzz_check_text(e->request_id);
        char *line = aws_error_format(e);
        FUZZ_CHECK(line);
        fuzz_check_text(line);
        free(line);
        aws_error *copy = aws_error_copy(e);
        FUZZ_CHECK(copy);
        aws_error_free(copy);
}

/* An HTTP status from two input bytes: mostly the ones that matter. */
static inline long fuzz_status(const uint8_t *d) {
        static const long common[] = { 200, 200, 200, 201, 204, 400, 400, 403, 404, 413, 429, 500, 502, 503, 504, 301 };
        if (d[0] < 0xc0)
                return common[d[0] % (sizeof common / sizeof common[0])];
        return 100 + (long) ((d[0] << 8 | d[1]) % 500);
}
