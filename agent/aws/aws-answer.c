/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP answer of AWS -> the call's result or the error it carries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-answer.h"
#include "aws/aws-internal.h"
#include "aws/aws-xml.h"
#include "basic/macro.h"
#include "basic/util.h"

#define TYPE_MAX 128
#define MESSAGE_MAX 1024
#define REQUEST_ID_MAX 127
#define REASONS_MAX 5

static bool is_xml(aws_service s) {
        return s == AWS_SERVICE_STS || s == AWS_SERVICE_ROUTE53;
}

static const char *json_kind(const json_t *j) {
        switch (json_typeof(j)) {
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        default:
                return "an object";
        }
}

/* "com.amazonaws.acm#ResourceNotFoundException" and
 * "ResourceNotFoundException:http://…" both become the bare name, escaped;
 * NULL when nothing is left. */
static char *type_clean(const char *t, bool *oom) {
        if (isempty(t))
                return NULL;
        const char *p = strrchr(t, '#');
        if (p)
                t = p + 1;
        size_t n = strcspn(t, ":");
        if (n == 0)
                return NULL;
        char *s = aws_escape_mem(t, n, TYPE_MAX);
        if (!s)
                *oom = true;
        return s;
}

/* The reasons of a throttling answer (2026 ACM model: throttlingReasons,
 * a list of {reason, resource}), appended to message. */
static char *append_reasons(char *message, json_t *reasons, bool *oom) {
        if (!json_is_array(reasons) || json_array_size(reasons) == 0)
                return message;
        size_t n = json_array_size(reasons);
        _cleanup_(freep) char *list = strdup("");
        for (size_t i = 0; list && i < n && i < REASONS_MAX; i++) {
                json_t *e = json_array_get(reasons, i);
                _cleanup_(freep) char *reason = aws_escape(json_string_value(json_object_get(e, "reason")), 120);
                _cleanup_(freep) char *res = aws_escape(json_string_value(json_object_get(e, "resource")), 200);
                if (!reason || !res) {
                        *oom = true;
                        return message;
                }
                char *x = strprintf("%s%s%s%s%s", list, i > 0 ? "; " : "", isempty(reason) ? "unspecified" : reason,
                                    isempty(res) ? "" : " on ", res);
                free(list);
                list = x;
        }
        _cleanup_(freep) char *more = n > REASONS_MAX ? strprintf(" and %zu more", n - REASONS_MAX) : strdup("");
        char *m = list && more ? strprintf("%s%s(throttling reasons: %s%s)", message, isempty(message) ? "" : " ",
                                           list, more)
                               : NULL;
        if (!m) {
                *oom = true;
                return message;
        }
        free(message);
        return m;
}

/* Builds the error of an answer. type and message are taken over (either
 * may be NULL). */
static int answer_error(aws_service svc, const char *operation, long status, const char *type_shown,
                        char *type, char *message, aws_net_failure net, char *request_id, aws_answer *ret) {
        _cleanup_(freep) char *t = type, *m = message, *rid = request_id;
        _cleanup_(aws_error_freep) aws_error *e = calloc(1, sizeof *e);
        bool retryable = false;

        if (!e)
                return -ENOMEM;
        e->kind = aws_policy_classify(status, t, net, &retryable);
        e->http_status = status;
        e->service = strdup(aws_service_to_string(svc));
        e->operation = strdup(operation);
        e->type = t ? TAKE_PTR(t) : strdup(type_shown);
        e->message = m ? TAKE_PTR(m) : strdup("");
        e->request_id = TAKE_PTR(rid);
        if (!e->service || !e->operation || !e->type || !e->message)
                return -ENOMEM;
        *ret = (aws_answer) { .error = TAKE_PTR(e), .retryable = retryable, .net = net };
        return 0;
}

/* "HTTP 200 answer is not valid JSON (line 1, column 20), 20 bytes:
 * {\"__type\": \"Internal" */
static char *describe_body(long status, const char *what, const char *body, size_t len) {
        _cleanup_(freep) char *x = aws_escape_mem(body, len, AWS_EXCERPT_MAX);
        if (!x)
                return NULL;
        if (len == 0)
                return strprintf("HTTP %ld answer %s; the body is empty", status, what);
        return strprintf("HTTP %ld answer %s; %zu byte%s: %s", status, what, len, len == 1 ? "" : "s", x);
}

/* An unusable body: MalformedResponse for 2xx (the result is lost),
 * HttpError classified by the status otherwise. */
static int answer_unusable(aws_service svc, const char *operation, long status, const char *what, const char *body,
                           size_t len, char *request_id, aws_answer *ret) {
        _cleanup_(freep) char *rid = request_id;
        bool ok2xx = status >= 200 && status < 300;
        char *m = describe_body(status, what, body, len);
        if (!m)
                return -ENOMEM;
        return answer_error(svc, operation, status, ok2xx ? "MalformedResponse" : "HttpError",
                            ok2xx ? strdup("MalformedResponse") : NULL, m,
                            ok2xx ? AWS_NET_MAYBE_SENT : AWS_NET_NONE, TAKE_PTR(rid), ret);
}

static char *request_id_of(const aws_answer_headers *h, const char *from_body, bool *oom) {
        const char *s = h && !isempty(h->request_id) ? h->request_id : from_body;
        if (isempty(s))
                return NULL;
        char *r = aws_escape(s, REQUEST_ID_MAX);
        if (!r)
                *oom = true;
        return r;
}

static int parse_json(aws_service svc, const char *operation, long status, const aws_answer_headers *h,
                      const char *body, size_t len, aws_answer *ret) {
        bool ok2xx = status >= 200 && status < 300, oom = false;
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_error_t jerr;

        if (len == 0) {
                if (ok2xx) {
                        json_t *o = json_object();
                        if (!o)
                                return -ENOMEM;
                        *ret = (aws_answer) { .result = o };
                        return 0;
                }
                /* An error without a body: the header may still name it. */
                _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                _cleanup_(freep) char *t = type_clean(h ? h->error_type : NULL, &oom);
                if (oom)
                        return -ENOMEM;
                if (t) {
                        char *m = strprintf("HTTP %ld answer with an empty body", status);
                        if (!m)
                                return -ENOMEM;
                        return answer_error(svc, operation, status, "HttpError", TAKE_PTR(t), m, AWS_NET_NONE,
                                            TAKE_PTR(rid), ret);
                }
                return answer_unusable(svc, operation, status, "has no AWS error", body, len, TAKE_PTR(rid), ret);
        }
        j = json_loadb(body, len, 0, &jerr);
        if (!j) {
                /* Line and column only: jansson's text can quote the input. */
                char what[96];
                snprintf(what, sizeof what, "is not valid JSON (line %d, column %d)", jerr.line, jerr.column);
                _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                if (oom)
                        return -ENOMEM;
                return answer_unusable(svc, operation, status, what, body, len, TAKE_PTR(rid), ret);
        }
        if (!json_is_object(j)) {
                char what[64];
                snprintf(what, sizeof what, "is JSON but not an object (%s)", json_kind(j));
                _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                if (oom)
                        return -ENOMEM;
                return answer_unusable(svc, operation, status, what, body, len, TAKE_PTR(rid), ret);
        }
        json_t *jt = json_object_get(j, "__type");
        if (ok2xx && !jt) {
                *ret = (aws_answer) { .result = TAKE_PTR(j) };
                return 0;
        }

        _cleanup_(freep) char *t = type_clean(json_string_value(jt), &oom);
        if (!t && !oom)
                t = type_clean(h ? h->error_type : NULL, &oom);
        const char *m = json_string_value(json_object_get(j, "message"));
        if (!m)
                m = json_string_value(json_object_get(j, "Message"));
        _cleanup_(freep) char *msg = aws_escape(m, MESSAGE_MAX);
        _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
        if (oom || !msg)
                return -ENOMEM;
        msg = append_reasons(TAKE_PTR(msg), json_object_get(j, "throttlingReasons"), &oom);
        if (oom)
                return -ENOMEM;
        if (ok2xx) {
                /* A success status with an error document: the error it names. */
                char *x = strprintf("the HTTP %ld answer carries an error%s%s", status, isempty(msg) ? "" : ": ",
                                    msg);
                if (!x)
                        return -ENOMEM;
                free(msg);
                msg = x;
        } else if (!t && isempty(m)) {
                /* Nothing that names the error: show what came. */
                return answer_unusable(svc, operation, status, "has no AWS error (__type)", body, len, TAKE_PTR(rid),
                                       ret);
        }
        return answer_error(svc, operation, status, "HttpError", TAKE_PTR(t), TAKE_PTR(msg), AWS_NET_NONE,
                            TAKE_PTR(rid), ret);
}

/* The error of an XML error document (root name root, content doc). */
static int xml_error(aws_service svc, const char *operation, long status, const aws_answer_headers *h,
                     const char *root, json_t *doc, aws_answer *ret) {
        const char *t = NULL, *m = NULL, *rid = NULL;
        bool oom = false;

        if (streq(root, "InvalidChangeBatch")) {
                /* Route 53's own error document. */
                json_t *ms = json_object_get(json_object_get(doc, "Messages"), "Message");
                t = "InvalidChangeBatch";
                m = json_string_value(json_is_array(ms) ? json_array_get(ms, 0) : ms);
                if (!m)
                        m = json_string_value(json_object_get(doc, "Message"));
                rid = json_string_value(json_object_get(doc, "RequestId"));
        } else {
                /* <ErrorResponse><Error>…</Error><RequestId>, or a bare <Error>. */
                json_t *e = streq(root, "Error") ? doc : json_object_get(doc, "Error");
                if (json_is_array(e))
                        e = json_array_get(e, 0);
                t = json_string_value(json_object_get(e, "Code"));
                m = json_string_value(json_object_get(e, "Message"));
                rid = json_string_value(json_object_get(doc, "RequestId"));
        }
        _cleanup_(freep) char *type = type_clean(t, &oom);
        _cleanup_(freep) char *msg = aws_escape(m, MESSAGE_MAX);
        _cleanup_(freep) char *id = request_id_of(h, rid, &oom);
        if (oom || !msg)
                return -ENOMEM;
        if (status >= 200 && status < 300) {
                char *x = strprintf("the HTTP %ld answer carries an error%s%s", status, isempty(msg) ? "" : ": ", msg);
                if (!x)
                        return -ENOMEM;
                free(msg);
                msg = x;
        }
        return answer_error(svc, operation, status, "HttpError", TAKE_PTR(type), TAKE_PTR(msg), AWS_NET_NONE,
                            TAKE_PTR(id), ret);
}

static bool is_error_root(const char *root) {
        return streq(root, "ErrorResponse") || streq(root, "InvalidChangeBatch") || streq(root, "Error");
}

static int parse_xml(aws_service svc, const char *operation, long status, const aws_answer_headers *h,
                     const char *body, size_t len, aws_answer *ret) {
        bool ok2xx = status >= 200 && status < 300, oom = false;
        _cleanup_(json_decrefp) json_t *x = NULL;
        aws_xml_error xerr = {};
        const char *root = NULL;
        json_t *doc = NULL;
        int k;

        if (len == 0) {
                _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                if (oom)
                        return -ENOMEM;
                return answer_unusable(svc, operation, status, ok2xx ? "is empty, XML expected" : "has no AWS error",
                                       body, len, TAKE_PTR(rid), ret);
        }
        k = aws_xml_parse(body, len, &x, &xerr);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                char what[128];
                if (k == -E2BIG)
                        snprintf(what, sizeof what, "is not usable XML (%s)", xerr.what);
                else
                        snprintf(what, sizeof what, "is not well-formed XML (line %lu, column %lu: %s)", xerr.line,
                                 xerr.column, xerr.what);
                _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                if (oom)
                        return -ENOMEM;
                return answer_unusable(svc, operation, status, what, body, len, TAKE_PTR(rid), ret);
        }
        json_object_foreach(x, root, doc)
                break;
        if (is_error_root(root))
                return xml_error(svc, operation, status, h, root, doc, ret);
        if (!ok2xx) {
                char what[128];
                snprintf(what, sizeof what, "has no AWS error (root element <%.64s>)", root);
                _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                if (oom)
                        return -ENOMEM;
                return answer_unusable(svc, operation, status, what, body, len, TAKE_PTR(rid), ret);
        }

        json_t *result = NULL;
        if (svc == AWS_SERVICE_STS) {
                _cleanup_(freep) char *rk = strprintf("%sResponse", operation);
                _cleanup_(freep) char *rr = strprintf("%sResult", operation);
                if (!rk || !rr)
                        return -ENOMEM;
                if (!streq(root, rk)) {
                        _cleanup_(freep) char *what = strprintf("has the root element <%.64s>, not <%.64s>", root,
                                                                rk);
                        _cleanup_(freep) char *rid = request_id_of(h, NULL, &oom);
                        if (!what || oom)
                                return -ENOMEM;
                        return answer_unusable(svc, operation, status, what, body, len, TAKE_PTR(rid), ret);
                }
                result = json_object_get(doc, rr);
                if (!result && !json_object_get(doc, "ResponseMetadata"))
                        result = doc;
        } else
                /* Route 53: the root element's content. */
                result = doc;
        /* An empty element (no outputs) is an empty result. */
        json_t *r = json_is_object(result) ? json_incref(result) : json_object();
        if (!r)
                return -ENOMEM;
        *ret = (aws_answer) { .result = r };
        return 0;
}

int aws_answer_parse(aws_service svc, const char *operation, long http_status, const aws_answer_headers *h,
                     const char *body, size_t len, aws_answer *ret) {
        if (!operation || !ret || (!body && len > 0) || (unsigned) svc >= _AWS_SERVICE_MAX)
                return -EINVAL;
        if (!body)
                body = "";
        if (is_xml(svc))
                return parse_xml(svc, operation, http_status, h, body, len, ret);
        return parse_json(svc, operation, http_status, h, body, len, ret);
}

void aws_answer_done(aws_answer *a) {
        if (!a)
                return;
        json_decref(a->result);
        aws_error_free(a->error);
        *a = (aws_answer) {};
}
