/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <jansson.h>
#include <stddef.h>

/*
 * Converts an XML document (STS query answers, Route 53, AWS XML errors)
 * into JSON with expat: an element with child elements becomes an object
 * keyed by child name (a repeated name becomes an array), a leaf element
 * its text. Attributes and namespaces are dropped. The root is the one key
 * of the returned object. Bounded: depth 32, 1 MiB input. Returns 0 and
 * sets *ret (new reference), -EBADMSG for malformed XML, -E2BIG, -ENOMEM.
 */
int aws_xml_to_json(const char *xml, size_t len, json_t **ret);
