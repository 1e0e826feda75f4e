/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <syslog.h>

#include "basic/macro.h"

/*
 * Logging. Levels are syslog's (LOG_ERR .. LOG_DEBUG). When stderr is
 * connected to the journal (JOURNAL_STREAM matches), messages go to journald
 * with structured fields (CERT_NAME=, plus any given by log_cert_fields);
 * otherwise one line per message on stderr: "acm-agent: <level>: [cert] msg".
 * Library modules log at debug only; the caller that decides logs once.
 * Control characters in the formatted message, the certificate name and the
 * values of extra fields are escaped at the sink (escape_control(): \n, \r,
 * \t, \x1b, \xNN), so text quoted from outside cannot forge a line or drive
 * a terminal; a message longer than 16 KiB is cut and ends in "...".
 */

/* Sets the maximum level printed. */
void log_set_max_level(int level);
int log_get_max_level(void);

/* Parses "error", "warning", "notice", "info", "debug". Returns level or -EINVAL. */
int log_level_from_string(const char *s);

/*
 * Logs a message at level, tagged with the certificate name when cert is not
 * NULL. Returns -abs(error) when error != 0, else 0, so callers can write
 * `return log_error_errno(r, ...)`.
 */
int log_internal(int level, int error, const char *cert, const char *fmt, ...) _printf_(4, 5);

/*
 * Like log_internal with extra journald fields ("SERIAL=..", "CERT_ARN=..",
 * "MESSAGE_ID=..", NULL-terminated). Fields are ignored on stderr.
 */
int log_struct(int level, const char *cert, const char *const *fields, const char *fmt, ...) _printf_(4, 5);

#define log_error(...) log_internal(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), NULL, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), NULL, __VA_ARGS__)

#define log_cert(level, cert, ...) log_internal((level), 0, (cert), __VA_ARGS__)
