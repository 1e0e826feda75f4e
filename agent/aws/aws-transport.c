/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP for the client: libcurl multi driven by sd-event (after systemd's
 * src/import/curl-util.c), the easy-handle settings every request shares,
 * and plain HTTP for the metadata endpoints (IMDS, ECS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "aws/aws-curl.h"
#include "aws/aws-internal.h"
#include "basic/macro.h"
#include "basic/util.h"

static void check_finished(aws_client *c);

static int on_curl_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        aws_client *c = userdata;
        int action = 0, k = 0;
        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        aws_client_ref(c);
        (void) aws_curl.multi_socket_action(c->multi, fd, action, &k);
        check_finished(c);
        aws_client_unref(c);
        return 0;
}

static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
        aws_client *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        aws_curl.multi_assign(c->multi, s, NULL);
                }
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(c->event, &io, s, events, on_curl_io, c) < 0)
                return -1;
        (void) sd_event_source_set_description(io, "aws-curl-io");
        aws_curl.multi_assign(c->multi, s, io);
        return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        aws_client *c = userdata;
        int k = 0;
        aws_client_ref(c);
        (void) aws_curl.multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &k);
        check_finished(c);
        aws_client_unref(c);
        return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        aws_client *c = userp;
        uint64_t now;

        if (timeout_ms < 0) {
                if (c->curl_timer)
                        (void) sd_event_source_set_enabled(c->curl_timer, SD_EVENT_OFF);
                return 0;
        }
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        uint64_t when = now + (uint64_t) timeout_ms * USEC_PER_MSEC + 1;
        if (c->curl_timer) {
                if (sd_event_source_set_time(c->curl_timer, when) < 0 ||
                    sd_event_source_set_enabled(c->curl_timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_time(c->event, &c->curl_timer, CLOCK_MONOTONIC, when, 0, on_curl_timer, c) < 0)
                return -1;
        (void) sd_event_source_set_description(c->curl_timer, "aws-curl-timer");
        return 0;
}

int aws_transport_init(aws_client *c) {
        if (aws_curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
            aws_curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            aws_curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
            aws_curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
                return -ENOMEM;
        return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        aws_request *r = userdata;
        size_t n = size * nmemb;
        if (r->response_len + n > (r->raw_cb ? AWS_METADATA_MAX : AWS_RESPONSE_MAX)) {
                r->too_large = true;
                return 0;
        }
        if (r->response_len + n + 1 > r->response_allocated) {
                /* Doubling: curl hands the body over in pieces of up to 16 KiB. */
                size_t a = r->response_allocated ? r->response_allocated : 4096;
                while (a < r->response_len + n + 1)
                        a *= 2;
                char *p = realloc(r->response, a);
                if (!p)
                        return 0;
                r->response = p;
                r->response_allocated = a;
        }
        memcpy(r->response + r->response_len, ptr, n);
        r->response_len += n;
        r->response[r->response_len] = 0;
        return n;
}

/* Copies a header's value (blanks and the line end trimmed, truncated to
 * fit) when the line is "name: value". */
static void header_value(const char *buf, size_t n, const char *name, char *dst, size_t dst_size) {
        size_t l = strlen(name);
        if (n <= l || strncasecmp(buf, name, l) != 0)
                return;
        const char *v = buf + l;
        size_t vl = n - l;
        while (vl > 0 && (*v == ' ' || *v == '\t'))
                v++, vl--;
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
        if (vl >= dst_size)
                vl = dst_size - 1;
        memcpy(dst, v, vl);
        dst[vl] = 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata) {
        aws_request *r = userdata;
        size_t n = size * nitems;
        header_value(buf, n, "x-amzn-requestid:", r->request_id, sizeof r->request_id);
        header_value(buf, n, "x-amz-request-id:", r->request_id, sizeof r->request_id);
        header_value(buf, n, "x-amzn-errortype:", r->error_type, sizeof r->error_type);
        return n;
}

void aws_transport_drop(aws_request *r) {
        if (!r->easy)
                return;
        aws_curl.multi_remove_handle(r->client->multi, r->easy);
        aws_curl.easy_cleanup(r->easy);
        r->easy = NULL;
}

int aws_transport_reset(aws_request *r) {
        aws_transport_drop(r);
        r->easy = aws_curl.easy_init();
        if (!r->easy)
                return -ENOMEM;
        free(r->response);
        r->response = NULL;
        r->response_len = r->response_allocated = 0;
        r->too_large = false;
        r->request_id[0] = 0;
        r->error_type[0] = 0;
        r->errbuf[0] = 0;
        return 0;
}

int aws_transport_start(aws_request *r, long connect_ms, long timeout_ms) {
        aws_client *c = r->client;

        aws_curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
        aws_curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
        aws_curl_easy_setopt(r->easy, CURLOPT_USERAGENT, c->user_agent);
        aws_curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
        aws_curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
        aws_curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
        aws_curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
        aws_curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
        aws_curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
        /* TLS verification is never switched off. */
        aws_curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        aws_curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
        aws_curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        if (c->ca_bundle)
                aws_curl_easy_setopt(r->easy, CURLOPT_CAINFO, c->ca_bundle);
        /* TIMEOUT_MS bounds the whole attempt, connection included: a server
         * that trickles its answer cannot hold it longer. */
        aws_curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
        aws_curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
        if (aws_curl.multi_add_handle(c->multi, r->easy) != CURLM_OK)
                return -EIO;
        r->attempt++;
        return 0;
}

aws_net_failure aws_transport_net_failure(CURLcode code) {
        switch (code) {
        case CURLE_OK:
                return AWS_NET_NONE;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
                return AWS_NET_NOT_SENT;
        default:
                return AWS_NET_MAYBE_SENT;
        }
}

/* ---- plain HTTP for the metadata endpoints ---- */

int aws_transport_raw_new(aws_client *c, const char *method, const char *url, const char *const *headers,
                          size_t n_headers, long connect_ms, long timeout_ms, aws_raw_callback cb) {
        aws_request *r;
        int k = aws_request_new(c, AWS_SERVICE_STS, NULL, NULL, AWS_CALL_NO_RATE_LIMIT, &r);
        if (k < 0)
                return k;
        r->internal = true;
        r->raw_cb = cb;
        r->userdata = NULL;
        r->raw_connect_ms = connect_ms;
        r->raw_timeout_ms = timeout_ms;
        r->raw_method = strdup(method);
        r->url = strdup(url);
        if (!r->raw_method || !r->url) {
                aws_request_free(r);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_headers; i++) {
                struct curl_slist *n = aws_curl.slist_append(r->headers, headers[i]);
                if (!n) {
                        aws_request_free(r);
                        return -ENOMEM;
                }
                r->headers = n;
        }
        return 0;
}

void aws_transport_raw_send(aws_request *r) {
        aws_client *c = r->client;
        if (aws_transport_reset(r) < 0) {
                r->raw_cb(c, CURLE_OUT_OF_MEMORY, 0, "", 0, "out of memory", r->userdata);
                aws_request_free(r);
                return;
        }
        aws_curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
        if (streq(r->raw_method, "PUT")) {
                aws_curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, "PUT");
                aws_curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "");
                aws_curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, 0L);
        } else
                aws_curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
        /* Metadata endpoints are link-local: never through a proxy. */
        aws_curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "*");
        if (aws_transport_start(r, r->raw_connect_ms, r->raw_timeout_ms) < 0) {
                r->raw_cb(c, CURLE_FAILED_INIT, 0, "", 0, "cannot start the HTTP request", r->userdata);
                aws_request_free(r);
        }
}

static void raw_done(aws_request *r, CURLcode code) {
        aws_client *c = r->client;
        long status = 0;
        if (r->too_large)
                code = CURLE_FILESIZE_EXCEEDED;
        if (code == CURLE_OK)
                aws_curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        aws_raw_callback cb = r->raw_cb;
        void *userdata = r->userdata;
        cb(c, code, status, r->response ? r->response : "", r->response_len, r->errbuf, userdata);
        aws_request_free(r);
}

char *aws_transport_raw_describe(CURLcode code, long status, const char *errbuf, const char *url) {
        if (code != CURLE_OK)
                return strprintf("%s: %s%s%s", url, aws_curl.easy_strerror(code),
                                 !isempty(errbuf) ? ": " : "", errbuf ? errbuf : "");
        return strprintf("%s answered HTTP %ld", url, status);
}

static void check_finished(aws_client *c) {
        CURLMsg *msg;
        int left;
        while ((msg = aws_curl.multi_info_read(c->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                aws_request *r = NULL;
                CURLcode code = msg->data.result;
                CURL *easy = msg->easy_handle;
                if (aws_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &r) != CURLE_OK || !r)
                        continue;
                aws_curl.multi_remove_handle(c->multi, easy);
                if (r->raw_cb)
                        raw_done(r, code);
                else
                        aws_request_done(r, code);
        }
}
