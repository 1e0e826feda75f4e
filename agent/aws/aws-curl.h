/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * libcurl, loaded when the first AWS client is created (systemd's way with
 * its optional libraries: dlopen() and a table of function pointers). The
 * agent does not link libcurl: a pass with nothing to do, `status` and
 * `check` make no AWS call, and mapping libcurl with the ~30 libraries it
 * pulls in (GnuTLS, Kerberos, LDAP, libssh2, nghttp2, ...) doubled the
 * memory and the dynamic loader's work of such a run. Only agent/aws/
 * includes this header; its files call libcurl through aws_curl.
 *
 * The headers are still libcurl's (<curl/curl.h>): the table's members have
 * the types of the functions they stand for, so every call is type-checked
 * as a direct call would be, and the variadic setopt/getinfo calls go
 * through the macros at the end, which check more than that.
 */
#include <curl/curl.h>

/* Every libcurl function the agent calls, as X(name without "curl_"):
 * aws_curl_load() resolves each, and the table has one member for each. */
#define AWS_CURL_FUNCTIONS(X)                                                                               \
        X(global_init)                                                                                      \
        X(version_info)                                                                                     \
        X(easy_init)                                                                                        \
        X(easy_cleanup)                                                                                     \
        X(easy_setopt)                                                                                      \
        X(easy_getinfo)                                                                                     \
        X(easy_strerror)                                                                                    \
        X(multi_init)                                                                                       \
        X(multi_cleanup)                                                                                    \
        X(multi_setopt)                                                                                     \
        X(multi_add_handle)                                                                                 \
        X(multi_remove_handle)                                                                              \
        X(multi_socket_action)                                                                              \
        X(multi_assign)                                                                                     \
        X(multi_info_read)                                                                                  \
        X(slist_append)                                                                                     \
        X(slist_free_all)

/* The member for curl_NAME: a pointer of curl_NAME's own type. (A function
 * name not followed by '(' is not expanded as curl.h's type-checking macro
 * of the same name.) */
#define AWS_CURL_MEMBER(name) typeof(curl_##name) *name;
typedef struct aws_curl_api {
        AWS_CURL_FUNCTIONS(AWS_CURL_MEMBER)
} aws_curl_api;
#undef AWS_CURL_MEMBER

/* The functions. Filled by aws_curl_load() before it first returns 0, never
 * written afterwards; before that every member is NULL. */
extern aws_curl_api aws_curl;

/*
 * Loads CURL_SONAME (config.h) with dlopen(RTLD_NOW | RTLD_NODELETE),
 * resolves every function of AWS_CURL_FUNCTIONS into aws_curl, checks the
 * library's version (CURL_MIN_VERSION_NUM or newer) and runs
 * curl_global_init(CURL_GLOBAL_DEFAULT). Done once per process, whichever
 * thread calls first (pthread_once); every later call returns the same
 * result at no cost: a library installed after a failure is seen after a
 * restart. Returns 0, or -ELIBACC when libcurl cannot be used, and then
 * aws_curl_load_error() says why. The library stays loaded for the
 * process's life. The test point curl-load (basic/testpoint.h) makes the
 * dlopen() ask for a soname that does not exist.
 */
int aws_curl_load(void);

/* Why aws_curl_load() failed: one sentence naming the library and what the
 * dynamic loader (dlerror()) or libcurl said. NULL before a load was tried
 * and after one that succeeded. Static storage, valid for the process's
 * life. */
const char *aws_curl_load_error(void);

/*
 * curl_easy_setopt(), curl_multi_setopt() and curl_easy_getinfo() through
 * aws_curl, with the type of the value checked against the option when
 * compiling. The three are variadic: libcurl reads the value as the type
 * the option's number says (CURLOPTTYPE_*: a long below 10000, curl_off_t
 * from 30000 to 39999, a pointer otherwise; CURLINFO_TYPEMASK for
 * getinfo), and an int or a 0 where it reads a long or a pointer compiles
 * silently and reads garbage. (curl.h's own checking macros call the
 * function by its name, which the agent does not link, and their warnings,
 * raised inside a system header, only show with -Wsystem-headers.) A value
 * of the wrong kind stops the build with the option's name.
 * __builtin_classify_type() == 5: a pointer, or an array or a function,
 * which become pointers when passed.
 */
/* (clang-format would read "(info) & CURLINFO_TYPEMASK" as an address-of.) */
/* clang-format off */
#define AWS_CURL_POINTER_(v) (__builtin_classify_type(v) == 5)
#define AWS_CURL_VALUE_FITS_(option, value)                                                                 \
        ((option) < CURLOPTTYPE_OBJECTPOINT ? _Generic((value), long: 1, default: 0)                        \
         : (option) >= CURLOPTTYPE_OFF_T && (option) < CURLOPTTYPE_BLOB                                     \
                 ? _Generic((value), curl_off_t: 1, default: 0)                                             \
                 : AWS_CURL_POINTER_(value))
#define AWS_CURL_INFO_FITS_(info, arg)                                                                      \
        (((info) & CURLINFO_TYPEMASK) == CURLINFO_LONG     ? _Generic((arg), long *: 1, default: 0)         \
         : ((info) & CURLINFO_TYPEMASK) == CURLINFO_STRING ? _Generic((arg), char **: 1, const char **: 1,  \
                                                                      default: 0)                           \
         : ((info) & CURLINFO_TYPEMASK) == CURLINFO_DOUBLE ? _Generic((arg), double *: 1, default: 0)       \
         : ((info) & CURLINFO_TYPEMASK) == CURLINFO_OFF_T  ? _Generic((arg), curl_off_t *: 1, default: 0)   \
                                                           : AWS_CURL_POINTER_(arg))
/* clang-format on */

#define aws_curl_easy_setopt(easy, option, value)                                                           \
        __extension__({                                                                                     \
                _Static_assert(AWS_CURL_VALUE_FITS_(option, value), "wrong type of value for " #option);    \
                aws_curl.easy_setopt((easy), (option), (value));                                            \
        })
#define aws_curl_multi_setopt(multi, option, value)                                                         \
        __extension__({                                                                                     \
                _Static_assert(AWS_CURL_VALUE_FITS_(option, value), "wrong type of value for " #option);    \
                aws_curl.multi_setopt((multi), (option), (value));                                          \
        })
#define aws_curl_easy_getinfo(easy, info, arg)                                                              \
        __extension__({                                                                                     \
                _Static_assert(AWS_CURL_INFO_FITS_(info, arg), "wrong type of argument for " #info);        \
                aws_curl.easy_getinfo((easy), (info), (arg));                                               \
        })
