/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/macro.h"

/*
 * Strict number parsing: the whole string must be a number in range (no
 * leading/trailing junk, no sign for the unsigned forms). Returns 0 and sets
 * *ret, -EINVAL for junk, -ERANGE when out of range.
 */
int parse_int64(const char *s, int64_t *ret);
int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);

/*
 * Parses a duration: a positive integer followed by one unit of s, m, h, d
 * or w ("30d", "12h", "90m", "45s"); combinations ("1d12h") are accepted.
 * Returns 0 and sets *ret (seconds), -EINVAL on syntax, -ERANGE on overflow.
 */
int parse_duration(const char *s, uint64_t *ret);

/* Formats seconds as the largest exact units ("30d", "1d12h", "45s"). */
char *format_duration(uint64_t sec, char *buf, size_t len);

/*
 * Parses an octal file mode "0640" / "640" (at most 4 digits, <= 07777).
 * Returns 0 and sets *ret, -EINVAL otherwise.
 */
int parse_mode(const char *s, mode_t *ret);

/*
 * Reads a whole regular file of at most max bytes into a NUL-terminated
 * buffer. Returns 0 and sets *ret (caller frees; wiped by the caller if
 * secret) and *ret_len (may be NULL); -EFBIG when larger than max, -errno on
 * I/O errors.
 */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * Replaces path with data atomically: a temporary file in the same directory
 * created O_EXCL with the final mode (and owner/group unless (uid_t)-1 /
 * (gid_t)-1), written in full, fsync'd, renamed over path, and the directory
 * fsync'd. On failure the temporary is removed and path is untouched.
 * Returns 0 or -errno.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid);

/* fsyncs the directory containing path (or path itself if it is a dir). */
int fsync_parent_dir(const char *path);

/* Joins a and b with one '/'. Returns NULL on OOM. */
char *path_join(const char *a, const char *b);

/* malloc'd printf; returns NULL on OOM. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);

/* NULL-terminated string vectors. */
size_t strv_length(char *const *l);
char **strv_copy(char *const *l);
void strv_free(char **l);

/* Fills buf with n random bytes from the kernel. Returns 0 or -errno. */
int random_bytes(void *buf, size_t n);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Which plain-http hosts url_check_host() accepts. */
typedef enum url_http_hosts {
        URL_HTTP_LOOPBACK, /* 127.0.0.0/8, ::1, localhost */
        URL_HTTP_ECS,      /* those and the ECS/EKS addresses 169.254.170.2, 169.254.170.23, fd00:ec2::23 */
} url_http_hosts;

/*
 * Checks an endpoint URL with libcurl's own parser (the one that will
 * connect): an https:// or http:// URL with a host and no user name or
 * password; plain http only when the host is exactly one of hosts. Returns
 * NULL when url is acceptable, else a static one-line reason.
 */
const char *url_check_host(const char *url, url_http_hosts hosts);
