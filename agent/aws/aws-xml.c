/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <expat.h>
#include <string.h>

#include "aws/aws-xml.h"
#include "basic/macro.h"

#define XML_MAX_DEPTH 32
#define XML_MAX_LEN (1024 * 1024)

typedef struct frame {
        char *name;
        json_t *obj;        /* children, created lazily */
        char *text;
        size_t text_len;
} frame;

typedef struct ctx {
        frame stack[XML_MAX_DEPTH];
        int depth;
        json_t *root;
        int error;
        XML_Parser p;
} ctx;

static const char *local_name(const char *n) {
        /* expat without namespace processing keeps prefixes: drop them. */
        const char *c = strrchr(n, ':');
        return c ? c + 1 : n;
}

static void fail(ctx *c, int e) {
        if (!c->error)
                c->error = e;
        XML_StopParser(c->p, XML_FALSE);
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
        ctx *c = ud;
        if (c->error)
                return;
        if (c->depth >= XML_MAX_DEPTH)
                return fail(c, -E2BIG);
        frame *f = &c->stack[c->depth++];
        *f = (frame) { .name = strdup(local_name(name)) };
        if (!f->name)
                fail(c, -ENOMEM);
}

static void on_text(void *ud, const XML_Char *s, int len) {
        ctx *c = ud;
        if (c->error || c->depth == 0 || len <= 0)
                return;
        frame *f = &c->stack[c->depth - 1];
        char *n = realloc(f->text, f->text_len + (size_t) len + 1);
        if (!n)
                return fail(c, -ENOMEM);
        memcpy(n + f->text_len, s, (size_t) len);
        f->text_len += (size_t) len;
        n[f->text_len] = 0;
        f->text = n;
}

static int add_child(json_t *parent, const char *name, json_t *v) {
        json_t *old = json_object_get(parent, name);
        if (!old)
                return json_object_set_new(parent, name, v);
        if (json_is_array(old))
                return json_array_append_new(old, v);
        json_t *a = json_array();
        if (!a || json_array_append(a, old) < 0 || json_array_append_new(a, v) < 0) {
                json_decref(a);
                return -1;
        }
        return json_object_set_new(parent, name, a);
}

static void on_end(void *ud, const XML_Char *name) {
        ctx *c = ud;
        if (c->error || c->depth == 0)
                return;
        frame *f = &c->stack[--c->depth];
        json_t *v = f->obj ? f->obj : json_stringn(f->text ? f->text : "", f->text_len);
        f->obj = NULL;
        json_t *parent;
        if (!v)
                goto oom;
        if (c->depth == 0) {
                parent = c->root;
        } else {
                frame *p = &c->stack[c->depth - 1];
                if (!p->obj && !(p->obj = json_object()))
                        goto oom_v;
                parent = p->obj;
        }
        if (add_child(parent, f->name, v) < 0)
                goto oom;
        free(f->name);
        free(f->text);
        *f = (frame) {};
        return;
oom_v:
        json_decref(v);
oom:
        free(f->name);
        free(f->text);
        *f = (frame) {};
        fail(c, -ENOMEM);
}

int aws_xml_to_json(const char *xml, size_t len, json_t **ret) {
        ctx c = {};
        int r;

        if (len > XML_MAX_LEN)
                return -E2BIG;
        c.root = json_object();
        if (!c.root)
                return -ENOMEM;
        c.p = XML_ParserCreate("UTF-8");
        if (!c.p) {
                json_decref(c.root);
                return -ENOMEM;
        }
        XML_SetUserData(c.p, &c);
        XML_SetElementHandler(c.p, on_start, on_end);
        XML_SetCharacterDataHandler(c.p, on_text);
        if (XML_Parse(c.p, xml, (int) len, XML_TRUE) != XML_STATUS_OK && !c.error)
                c.error = -EBADMSG;
        if (!c.error && json_object_size(c.root) != 1)
                c.error = -EBADMSG;
        while (c.depth > 0) {
                frame *f = &c.stack[--c.depth];
                free(f->name);
                free(f->text);
                json_decref(f->obj);
        }
        XML_ParserFree(c.p);
        r = c.error;
        if (r < 0) {
                json_decref(c.root);
                return r;
        }
        *ret = c.root;
        return 0;
}
