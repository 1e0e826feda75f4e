/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <jansson.h>
#include <stddef.h>

/* Where and why a document was refused. what is a static phrase (expat's
 * error string or ours), never text from the document. */
typedef struct aws_xml_error {
        unsigned long line, column;   /* 0 when not about a position */
        const char *what;
} aws_xml_error;

/*
 * Converts an XML document (STS query answers, Route 53, AWS XML errors)
 * into JSON with expat: an element with child elements becomes an object
 * keyed by child name (a repeated name becomes an array), a leaf element
 * its text. Attributes and namespaces are dropped. The root is the one key
 * of the returned object. Bounded: depth 32, 1 MiB input; a document type
 * declaration (DTD, entities) is refused. Returns 0 and sets *ret (new
 * reference), -EBADMSG for malformed XML or a DTD, -E2BIG when too deep or
 * too large, -ENOMEM; on failure *err (may be NULL) says where and why.
 */
int aws_xml_parse(const char *xml, size_t len, json_t **ret, aws_xml_error *err);

/* aws_xml_parse() without the error details. */
int aws_xml_to_json(const char *xml, size_t len, json_t **ret);
