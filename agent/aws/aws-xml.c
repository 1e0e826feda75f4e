/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-xml.h"
#include "basic/macro.h"

#define XML_MAX_DEPTH 32
#define XML_MAX_LEN (1024 * 1024)

typedef struct frame {
        char *name;
        json_t *obj;        /* children, created lazily */
        char *text;
        size_t text_len, text_allocated;
} frame;

typedef struct ctx {
        frame stack[XML_MAX_DEPTH];
        int depth;
        json_t *root;
        int error;
        const char *what;
        XML_Parser p;
} ctx;

static const char *local_name(const char *n) {
        /* expat without namespace processing keeps prefixes: drop them. */
        const char *c = strrchr(n, ':');
        return c ? c + 1 : n;
}

static void fail(ctx *c, int e, const char *what) {
        if (!c->error) {
                c->error = e;
                c->what = what;
        }
        XML_StopParser(c->p, XML_FALSE);
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
        ctx *c = ud;
        if (c->error)
                return;
        if (c->depth >= XML_MAX_DEPTH)
                return fail(c, -E2BIG, "elements nested deeper than 32 levels");
        frame *f = &c->stack[c->depth++];
        *f = (frame) { .name = strdup(local_name(name)) };
        if (!f->name)
                fail(c, -ENOMEM, "out of memory");
}

static void on_text(void *ud, const XML_Char *s, int len) {
        ctx *c = ud;
        if (c->error || c->depth == 0 || len <= 0)
                return;
        frame *f = &c->stack[c->depth - 1];
        /* expat hands text over in pieces (one per entity reference): grow
         * geometrically. The input bound (1 MiB) bounds the text. */
        if (f->text_len + (size_t) len + 1 > f->text_allocated) {
                size_t want = f->text_len + (size_t) len + 1, a = f->text_allocated ? f->text_allocated : 64;
                while (a < want)
                        a *= 2;
                char *n = realloc(f->text, a);
                if (!n)
                        return fail(c, -ENOMEM, "out of memory");
                f->text = n;
                f->text_allocated = a;
        }
        memcpy(f->text + f->text_len, s, (size_t) len);
        f->text_len += (size_t) len;
        f->text[f->text_len] = 0;
}

static int add_child(json_t *parent, const char *name, json_t *v) {
        json_t *old = json_object_get(parent, name);
        if (!old)
                return json_object_set_new(parent, name, v);
        if (json_is_array(old))
                return json_array_append_new(old, v);
        json_t *a = json_array();
        if (!a || json_array_append(a, old) < 0) {
                json_decref(a);
                json_decref(v);
                return -1;
        }
        if (json_array_append_new(a, v) < 0) {
                json_decref(a);
                return -1;
        }
        return json_object_set_new(parent, name, a);
}

static void frame_done(frame *f) {
        free(f->name);
        free(f->text);
        json_decref(f->obj);
        *f = (frame) {};
}

static void on_end(void *ud, const XML_Char *name) {
        ctx *c = ud;
        if (c->error || c->depth == 0)
                return;
        frame *f = &c->stack[--c->depth];
        /* expat hands out UTF-8 only (it has checked the input's encoding
         * and refuses character references to non-characters). */
        json_t *v = f->obj ? f->obj : json_stringn_nocheck(f->text ? f->text : "", f->text_len);
        f->obj = NULL;
        json_t *parent;
        if (!v) {
                frame_done(f);
                return fail(c, -ENOMEM, "out of memory");
        }
        if (c->depth == 0) {
                parent = c->root;
        } else {
                frame *p = &c->stack[c->depth - 1];
                if (!p->obj && !(p->obj = json_object())) {
                        json_decref(v);
                        frame_done(f);
                        return fail(c, -ENOMEM, "out of memory");
                }
                parent = p->obj;
        }
        /* add_child() takes v, also when it fails. */
        if (add_child(parent, f->name, v) < 0) {
                frame_done(f);
                return fail(c, -ENOMEM, "out of memory");
        }
        frame_done(f);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal_subset) {
        /* AWS never sends a DTD; entities are how XML bombs work. */
        fail(ud, -EBADMSG, "a document type declaration (DTD) is not accepted");
}

static void on_entity(void *ud, const XML_Char *name, int is_parameter, const XML_Char *value, int value_length,
                      const XML_Char *base, const XML_Char *system_id, const XML_Char *public_id,
                      const XML_Char *notation) {
        fail(ud, -EBADMSG, "an entity declaration is not accepted");
}

int aws_xml_parse(const char *xml, size_t len, json_t **ret, aws_xml_error *err) {
        ctx c = {};
        int r;

        if (!ret || (!xml && len > 0))
                return -EINVAL;
        if (len > XML_MAX_LEN || len > INT_MAX) {
                if (err)
                        *err = (aws_xml_error) { .what = "larger than 1 MiB" };
                return -E2BIG;
        }
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
        XML_SetStartDoctypeDeclHandler(c.p, on_doctype);
        XML_SetEntityDeclHandler(c.p, on_entity);
        if (XML_Parse(c.p, xml ? xml : "", (int) len, XML_TRUE) != XML_STATUS_OK && !c.error) {
                c.error = -EBADMSG;
                c.what = XML_ErrorString(XML_GetErrorCode(c.p));
                if (!c.what)
                        c.what = "malformed";
        }
        if (!c.error && json_object_size(c.root) != 1) {
                c.error = -EBADMSG;
                c.what = "no root element";
        }
        unsigned long line = XML_GetCurrentLineNumber(c.p), column = XML_GetCurrentColumnNumber(c.p) + 1;
        while (c.depth > 0)
                frame_done(&c.stack[--c.depth]);
        XML_ParserFree(c.p);
        r = c.error;
        if (r < 0) {
                json_decref(c.root);
                if (err)
                        *err = (aws_xml_error) { .line = line, .column = column, .what = c.what };
                return r;
        }
        *ret = c.root;
        return 0;
}

int aws_xml_to_json(const char *xml, size_t len, json_t **ret) {
        return aws_xml_parse(xml, len, ret, NULL);
}
