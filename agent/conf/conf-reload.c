/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What runs after a deploy: reload targets (`reloaders:` settings of nginx
 * and haproxy, `reload:` entries of certificates, shared between
 * certificates) and the per-certificate `hooks:`.
 */
#include "conf/conf-internal.h"
#include "basic/util.h"

typedef conf_loader L_t;

const char *const conf_keys_hooks[] = { "deploy", "failure", "pending_validation", "timeout", NULL };
const char *const conf_keys_nginx[] = { "test_command", "reload_command", "pid_file", "unit", "timeout", NULL };
const char *const conf_keys_haproxy[] = { "test_command", "reload_command", "pid_file", "unit", "config", "runtime_socket",
                                          "timeout", NULL };
const char *const conf_keys_reload_target[] = { "systemd", "command", "timeout", NULL };

void conf_hooks_parse(L_t *L, conf_hooks *h, const cnode *n) {
        static const char *const what[] = { "hooks.deploy", "hooks.failure", "hooks.pending_validation" };
        char ***dst[] = { &h->deploy, &h->failure, &h->pending_validation };
        cnode *v;
        if (!conf_want_map(L, n, "hooks"))
                return;
        conf_check_keys(L, n, conf_keys_hooks, "hooks");
        /* A program is an absolute path or a bare name searched in the fixed HOOK_PATH (conf_get_argv). */
        for (size_t i = 0; i < ELEMENTSOF(what); i++)
                if ((v = conf_get(n, conf_keys_hooks[i]))) {
                        strv_free(*dst[i]);
                        *dst[i] = conf_get_argv(L, v, what[i], true);
                }
        conf_get_duration(L, n, "timeout", &h->timeout, 1, 86400);
}

static int reloaders_add(conf_ctx *x, conf_reload *r) {
        if (CONF_GROW(x->c->reloaders, x->alloc_reloaders, x->n_reloaders + 2) < 0)
                return x->L->oom = true, -ENOMEM;
        x->c->reloaders[x->n_reloaders++] = r;
        x->c->reloaders[x->n_reloaders] = NULL;
        return 0;
}

static conf_reload *reloader_find(conf *c, const char *id) {
        for (conf_reload **r = c->reloaders; r && *r; r++)
                if (streq((*r)->id, id))
                        return *r;
        return NULL;
}

static char **argv_of(L_t *L, const char *a, const char *b, const char *c2, const char *d) {
        char **v = calloc(5, sizeof(char *));
        const char *src[] = { a, b, c2, d };
        if (!v)
                return L->oom = true, NULL;
        for (size_t i = 0; i < 4 && src[i]; i++)
                v[i] = conf_strdup(L, src[i]);
        return v;
}

/* nginx / haproxy from `reloaders:` with defaults filled in. */
conf_reload *conf_reloader_named(conf_ctx *x, const char *name) {
        L_t *L = x->L;
        conf_reload *r = reloader_find(x->c, name);
        if (r)
                return r;
        bool haproxy = streq(name, "haproxy");
        const cnode *n = x->reloaders ? conf_get(x->reloaders, name) : NULL;
        cnode *v;

        r = calloc(1, sizeof(conf_reload));
        if (!r)
                return L->oom = true, NULL;
        r->kind = haproxy ? CONF_RELOAD_HAPROXY : CONF_RELOAD_NGINX;
        r->id = conf_strdup(L, name);
        r->timeout = 60;
        if (n && conf_want_map(L, n, name)) {
                conf_check_keys(L, n, haproxy ? conf_keys_haproxy : conf_keys_nginx, haproxy ? "reloaders.haproxy" : "reloaders.nginx");
                if ((v = conf_get(n, "test_command")))
                        r->test_command = conf_get_argv(L, v, "test_command", false);
                if ((v = conf_get(n, "reload_command")))
                        r->reload_command = conf_get_argv(L, v, "reload_command", false);
                conf_get_path(L, n, "pid_file", &r->pid_file);
                conf_get_str(L, n, "unit", &r->unit);
                if (haproxy) {
                        conf_get_path(L, n, "config", &r->config);
                        conf_get_path(L, n, "runtime_socket", &r->runtime_socket);
                }
                conf_get_duration(L, n, "timeout", &r->timeout, 1, 3600);
        }
        if (!r->pid_file)
                r->pid_file = conf_strdup(L, haproxy ? "/run/haproxy.pid" : "/run/nginx.pid");
        if (!r->unit)
                r->unit = conf_strdup(L, haproxy ? "haproxy.service" : "nginx.service");
        if (haproxy && !r->config)
                r->config = conf_strdup(L, "/etc/haproxy/haproxy.cfg");
        if (!r->test_command)
                r->test_command = haproxy ? argv_of(L, "haproxy", "-c", "-f", r->config) : argv_of(L, "nginx", "-t", NULL, NULL);
        if (reloaders_add(x, r) < 0) {
                free(r->id);
                free(r);
                return NULL;
        }
        return r;
}

conf_reload *conf_reload_target(conf_ctx *x, const cnode *n) {
        L_t *L = x->L;
        if (n->kind == CNODE_SCALAR) {
                if (streq(n->str, "nginx") || streq(n->str, "haproxy"))
                        return conf_reloader_named(x, n->str);
                conf_err_at(L, n, "enum", "use nginx, haproxy, {systemd: UNIT} or {command: [program, args]}",
                       "unknown reload target '%s'", n->str);
                return NULL;
        }
        if (n->kind != CNODE_MAP) {
                conf_err_at(L, n, "type", "use nginx, haproxy, {systemd: UNIT} or {command: [program, args]}",
                       "a reload target must be a name or a mapping, not %s", conf_node_type_name(n));
                return NULL;
        }
        conf_check_keys(L, n, conf_keys_reload_target, "a reload target");
        cnode *sd = conf_get(n, "systemd"), *cmd = conf_get(n, "command");
        if ((sd && cmd) || (!sd && !cmd)) {
                conf_err_at(L, n, sd ? "conflict" : "missing", "write {systemd: UNIT} or {command: [program, args]}",
                       "a reload target needs exactly one of 'systemd' and 'command'");
                return NULL;
        }
        conf_reload tmp = { .timeout = 60 };
        if (sd) {
                const char *u = conf_nonempty(L, sd, "systemd");
                if (!u)
                        return NULL;
                if (strlen(u) > 256 || strspn(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_.\\@") != strlen(u)) {
                        conf_err_at(L, sd, "range", "write a unit name such as myapp.service", "'%s' is not a systemd unit name", u);
                        return NULL;
                }
                tmp.kind = CONF_RELOAD_SYSTEMD;
                tmp.unit = (char *) u;
                tmp.id = strprintf("systemd:%s", u);
        } else {
                char **argv = conf_get_argv(L, cmd, "reload command", false);
                if (!argv)
                        return NULL;
                tmp.kind = CONF_RELOAD_COMMAND;
                tmp.command = argv;
                size_t len = 9;
                for (char **a = argv; *a; a++)
                        len += strlen(*a) + 1;
                tmp.id = malloc(len);
                if (tmp.id) {
                        strcpy(tmp.id, "command:");
                        for (char **a = argv; *a; a++) {
                                strcat(tmp.id, *a);
                                if (a[1])
                                        strcat(tmp.id, " ");
                        }
                }
        }
        conf_get_duration(L, n, "timeout", &tmp.timeout, 1, 3600);
        if (!tmp.id) {
                strv_free(tmp.command);
                return L->oom = true, NULL;
        }
        conf_reload *r = reloader_find(x->c, tmp.id);
        if (r) {
                if (r->timeout != tmp.timeout)
                        conf_err_at(L, n, "conflict", "use the same timeout for every use of this target",
                               "reload target '%s' is used with different timeouts", tmp.id);
                free(tmp.id);
                strv_free(tmp.command);
                return r;
        }
        r = calloc(1, sizeof(conf_reload));
        if (!r) {
                free(tmp.id);
                strv_free(tmp.command);
                return L->oom = true, NULL;
        }
        *r = tmp;
        if (tmp.kind == CONF_RELOAD_SYSTEMD)
                r->unit = conf_strdup(L, tmp.unit);
        if (reloaders_add(x, r) < 0) {
                free(r->id);
                free(r->unit);
                strv_free(r->command);
                free(r);
                return NULL;
        }
        return r;
}

void conf_reloaders_free(conf_reload **l) {
        for (conf_reload **r = l; r && *r; r++) {
                free((*r)->id);
                strv_free((*r)->test_command);
                strv_free((*r)->reload_command);
                free((*r)->pid_file);
                free((*r)->unit);
                free((*r)->config);
                free((*r)->runtime_socket);
                strv_free((*r)->command);
                free(*r);
        }
        free(l);
}
