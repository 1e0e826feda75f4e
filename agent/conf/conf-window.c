/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reload_window: "DAYS HH:MM-HH:MM" maintenance windows in the host's local
 * time, their parsing, their canonical text, and conf_window_next(), which
 * finds the window open now or the next one (DST-correct through mktime).
 */
#include <strings.h>

#include "conf/conf-internal.h"
#include "basic/util.h"

#define ALL_DAYS 0x7f

/* Monday first, as people write them; bit = tm_wday (Sunday = 0). */
static const char *const day_names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const unsigned day_bit[] = { 1, 2, 3, 4, 5, 6, 0 };

static int day_index(const char *s, size_t l) {
        if (l != 3)
                return -1;
        for (int i = 0; i < 7; i++)
                if (strncasecmp(s, day_names[i], 3) == 0)
                        return i;
        return -1;
}

/* "H:MM" or "HH:MM"; 24:00 only when allow_24. Returns the minutes or -1. */
static int parse_hhmm(const char *s, size_t l, bool allow_24) {
        unsigned h, m;
        if ((l != 4 && l != 5) || s[l - 3] != ':')
                return -1;
        for (size_t i = 0; i < l; i++)
                if (i != l - 3 && (s[i] < '0' || s[i] > '9'))
                        return -1;
        h = l == 4 ? (unsigned) (s[0] - '0') : (unsigned) (s[0] - '0') * 10 + (unsigned) (s[1] - '0');
        m = (unsigned) (s[l - 2] - '0') * 10 + (unsigned) (s[l - 1] - '0');
        if (m > 59)
                return -1;
        if (h == 24 && m == 0 && allow_24)
                return 1440;
        if (h > 23)
                return -1;
        return (int) (h * 60 + m);
}

const char *conf_window_parse(const char *s, conf_window *ret) {
        const char *sp = strchr(s, ' '), *times, *dash;
        unsigned days = 0;
        int a, b;

        if (!sp || sp == s)
                return "a window is \"DAYS HH:MM-HH:MM\"";
        times = sp + strspn(sp, " ");
        if (!*times)
                return "the window has no times (HH:MM-HH:MM)";
        if ((size_t) (sp - s) == 5 && strncasecmp(s, "daily", 5) == 0)
                days = ALL_DAYS;
        else
                for (const char *p = s; p < sp;) {
                        size_t l = strcspn(p, ",");
                        const char *item_end = p + l < sp ? p + l : sp, *d = memchr(p, '-', (size_t) (item_end - p));
                        int i, j;
                        if (item_end == p)
                                return "an empty day in the list (\"Sat,,Sun\")";
                        if (d) {
                                i = day_index(p, (size_t) (d - p));
                                j = day_index(d + 1, (size_t) (item_end - d - 1));
                        } else
                                i = j = day_index(p, (size_t) (item_end - p));
                        if (i < 0 || j < 0)
                                return "days are Mon, Tue, Wed, Thu, Fri, Sat, Sun, ranges (Mon-Fri), lists (Sat,Sun) or daily";
                        /* a range may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon */
                        for (int k = i;; k = (k + 1) % 7) {
                                days |= 1u << day_bit[k];
                                if (k == j)
                                        break;
                        }
                        p = item_end;
                        if (p < sp && *p == ',') {
                                p++;
                                if (p == sp)
                                        return "an empty day in the list (\"Sat,\")";
                        }
                }
        dash = strchr(times, '-');
        if (!dash)
                return "the times are HH:MM-HH:MM";
        a = parse_hhmm(times, (size_t) (dash - times), false);
        b = parse_hhmm(dash + 1, strlen(dash + 1), true);
        if (a < 0 || b < 0)
                return "the times are HH:MM-HH:MM, 00:00 to 23:59 (the end may be 24:00)";
        if (a == b)
                return "the window is empty (start = end); for a whole day write 00:00-24:00";
        *ret = (conf_window) { .days = (uint8_t) days, .start_min = (uint16_t) a, .end_min = (uint16_t) b };
        return NULL;
}

void conf_window_parse_node(conf_loader *L, const cnode *n, conf_window **ret, size_t *ret_n) {
        const cnode *one[1] = { n };
        const cnode *const *items = one;
        size_t count = 1;
        conf_window *w;

        if (n->kind == CNODE_SEQ) {
                items = (const cnode *const *) n->items;
                count = n->n_items;
                if (count == 0) {
                        conf_err_at(L, n, "type", "write at least one window, or remove the key (null clears a default)",
                                    "reload_window is an empty list");
                        return;
                }
                if (count > CONF_MAX_WINDOWS) {
                        conf_err_at(L, n, "too-large", "merge windows", "reload_window has more than %d entries", CONF_MAX_WINDOWS);
                        return;
                }
        } else if (n->kind != CNODE_SCALAR) {
                conf_err_at(L, n, "type", "write \"Mon-Fri 22:00-02:00\" or a list of such strings",
                            "reload_window must be a string or a list of strings, not %s", conf_node_type_name(n));
                return;
        }
        w = calloc(count, sizeof(conf_window));
        if (!w) {
                L->oom = true;
                return;
        }
        size_t k = 0;
        for (size_t i = 0; i < count; i++) {
                const char *s = conf_nonempty(L, items[i], "reload_window"), *why;
                if (!s)
                        continue;
                if ((why = conf_window_parse(s, &w[k]))) {
                        conf_err_at(L, items[i], "window",
                                    "write DAYS HH:MM-HH:MM: \"Mon-Fri 22:00-02:00\", \"Sat,Sun 03:00-05:00\", \"daily 01:00-04:00\"",
                                    "reload_window '%s': %s", s, why);
                        continue;
                }
                k++;
        }
        if (k != count) {
                free(w);
                return;
        }
        free(*ret);
        *ret = w;
        *ret_n = k;
}

char *conf_window_format(const conf_window *w, char *buf, size_t len) {
        char days[64];
        size_t o = 0;

        days[0] = 0;
        if ((w->days & ALL_DAYS) == ALL_DAYS)
                snprintf(days, sizeof days, "daily");
        else
                /* runs in Monday-first order: Mon-Fri, Sat-Sun, Mon,Wed */
                for (int i = 0; i < 7;) {
                        int j = i;
                        if (!(w->days & (1u << day_bit[i]))) {
                                i++;
                                continue;
                        }
                        while (j + 1 < 7 && (w->days & (1u << day_bit[j + 1])))
                                j++;
                        o += (size_t) snprintf(days + o, sizeof days - o, "%s%s", o ? "," : "", day_names[i]);
                        if (j > i && o < sizeof days)
                                o += (size_t) snprintf(days + o, sizeof days - o, "-%s", day_names[j]);
                        i = j + 1;
                        if (o >= sizeof days)
                                break;
                }
        snprintf(buf, len, "%s %02u:%02u-%02u:%02u", days, w->start_min / 60u, w->start_min % 60u, w->end_min / 60u,
                 w->end_min % 60u);
        return buf;
}

/* Local midnight-based time: day (a normalised local date) plus add_days, at minute. */
static int local_at(const struct tm *day, int add_days, unsigned minute, time_t *ret, int *ret_wday) {
        struct tm t = {
                .tm_year = day->tm_year,
                .tm_mon = day->tm_mon,
                .tm_mday = day->tm_mday + add_days,
                .tm_hour = (int) (minute / 60),
                .tm_min = (int) (minute % 60),
                .tm_isdst = -1,
        };
        time_t r;

        errno = 0;
        r = mktime(&t);
        if (r == (time_t) -1 && errno != 0)
                return -EINVAL;
        *ret = r;
        if (ret_wday)
                *ret_wday = t.tm_wday;
        return 0;
}

typedef struct span {
        time_t open, close;
} span;

static int span_cmp(const void *a, const void *b) {
        const span *x = a, *y = b;
        return x->open < y->open ? -1 : x->open > y->open ? 1 : 0;
}

/* Days before now (a wrapping window that opened yesterday) to days after (a weekly window next week). */
#define BACK_DAYS 1
#define AHEAD_DAYS 8

int conf_window_next(const conf_window *w, size_t n, time_t now, time_t *ret_open, time_t *ret_close) {
        _cleanup_(freep) span *s = NULL;
        struct tm today;
        size_t k = 0;

        if (n == 0)
                return -ENOENT;
        if (!w || n > CONF_MAX_WINDOWS)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!(w[i].days & ALL_DAYS) || (w[i].days & ~ALL_DAYS) || w[i].start_min >= 1440 || w[i].end_min > 1440 ||
                    w[i].start_min == w[i].end_min)
                        return -EINVAL;
        if (!localtime_r(&now, &today))
                return -EINVAL;
        s = calloc(n * (BACK_DAYS + AHEAD_DAYS + 1), sizeof(span));
        if (!s)
                return -ENOMEM;

        for (int d = -BACK_DAYS; d <= AHEAD_DAYS; d++) {
                time_t noon;
                int wday;
                /* the weekday of that date, from its noon (never in a DST gap) */
                if (local_at(&today, d, 12 * 60, &noon, &wday) < 0)
                        return -EINVAL;
                for (size_t i = 0; i < n; i++) {
                        span x;
                        bool wraps = w[i].end_min <= w[i].start_min;
                        if (!(w[i].days & (1u << wday)))
                                continue;
                        if (local_at(&today, d, w[i].start_min, &x.open, NULL) < 0 ||
                            local_at(&today, d + (wraps ? 1 : 0), w[i].end_min, &x.close, NULL) < 0)
                                return -EINVAL;
                        if (x.close > x.open)
                                s[k++] = x;
                }
        }
        qsort(s, k, sizeof(span), span_cmp);

        /* Windows that overlap or touch are one opening. */
        for (size_t i = 0; i < k;) {
                span m = s[i++];
                while (i < k && s[i].open <= m.close) {
                        if (s[i].close > m.close)
                                m.close = s[i].close;
                        i++;
                }
                if (m.close <= now)
                        continue;
                *ret_open = m.open <= now ? now : m.open;
                *ret_close = m.close;
                return 0;
        }
        return -EINVAL;   /* not reached: every valid window opens within a week */
}
