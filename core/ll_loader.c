/*
 * Loading a module .so: RTLD_NOW so a missing symbol fails here and not in
 * the middle of a handler, RTLD_LOCAL so two modules never interpose each
 * other's symbols.  Modules are never dlclosed: a worker is a process of
 * its own, and a reload starts new workers that load the files afresh.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_core.h"

/* the descriptor fields every ABI 2.x module has */
#define LL_MODULE_MIN_SIZE  offsetof(ll_module_t, spare)

char *
ll__module_path(const char *module_dir, const char *path)
{
    char  *p;

    if (path[0] == '/' || module_dir == NULL || module_dir[0] == '\0') {
        return strdup(path);
    }
    if (asprintf(&p, "%s/%s", module_dir, path) < 0) {
        return NULL;
    }
    return p;
}

/* The width of the conf struct member a field of this type fills. */
static size_t
field_width(int type)
{
    switch (type) {
    case LL_CONF_STR:      return sizeof(char *);
    case LL_CONF_INT:      return sizeof(int64_t);
    case LL_CONF_BOOL:     return sizeof(int);
    case LL_CONF_DOUBLE:   return sizeof(double);
    case LL_CONF_DURATION: return sizeof(int64_t);
    case LL_CONF_NODE:     return sizeof(void *);
    default:               return 0;
    }
}

/*
 * Every schema field must name a known type, have the width the core
 * writes for it (the LL_SET_* macros fill it from the member) and lie
 * inside conf_size: the core fills a conf_size struct at those offsets,
 * and a field past its end or wider than its member would write over the
 * heap.  Message options need a name and a known type.
 */
static int
schema_check(const ll_module_t *m, char *err, size_t n)
{
    const ll_conf_field_t  *f;
    const ll_opt_decl_t    *o;
    size_t                  w;

    for (f = m->conf; f != NULL && f->name != NULL; f++) {
        w = field_width(f->type);
        if (w == 0) {
            snprintf(err, n, "malformed schema: setting \"%s\" has unknown "
                     "type %d", f->name, f->type);
            return -1;
        }
        if (f->size != w) {
            snprintf(err, n, "malformed schema: setting \"%s\" (%s) fills "
                     "%zu bytes but its member has %zu (declare settings "
                     "with the LL_SET_* macros)", f->name,
                     ll__conf_type_name(f->type), w, f->size);
            return -1;
        }
        if (f->offset > m->conf_size || m->conf_size - f->offset < w) {
            snprintf(err, n, "malformed schema: setting \"%s\" (%s at offset "
                     "%zu) does not fit conf_size %zu", f->name,
                     ll__conf_type_name(f->type), f->offset, m->conf_size);
            return -1;
        }
    }
    for (o = m->opts; o != NULL && o->name != NULL; o++) {
        if (o->type < LL_OPT_STR || o->type > LL_OPT_MS
            || (o->flags & (LL_OPT_IN | LL_OPT_OUT)) == 0)
        {
            snprintf(err, n, "malformed message option \"%s\" (type %d, "
                     "flags %#x)", o->name, o->type, o->flags);
            return -1;
        }
    }
    return 0;
}

const ll_module_t *
ll__module_open(const char *path, char *err, size_t n)
{
    void               *dl;
    const ll_module_t  *m;
    const char         *e;
    char                why[512];

    dlerror();
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        e = dlerror();
        snprintf(err, n, "cannot load %s: %s", path, e ? e : "dlopen() failed");
        return NULL;
    }
    m = dlsym(dl, LL_MODULE_SYMBOL);
    if (m == NULL) {
        snprintf(err, n, "cannot load %s: not a looklook module "
                 "(no \"" LL_MODULE_SYMBOL "\" symbol)", path);
        goto refused;
    }
    if (m->magic != LL_MODULE_MAGIC) {
        snprintf(err, n, "cannot load %s: not a looklook module (bad magic)",
                 path);
        goto refused;
    }
    if (m->abi_major != LL_ABI_MAJOR || m->abi_minor > LL_ABI_MINOR) {
        snprintf(err, n, "cannot load %s: module ABI %u.%u but this core is "
                 "%d.%d: %s", path, m->abi_major, m->abi_minor, LL_ABI_MAJOR,
                 LL_ABI_MINOR, m->abi_major < LL_ABI_MAJOR
                 ? "rebuild the module against this looklook's headers"
                 : "the module needs a newer looklook");
        goto refused;
    }
    /* nothing past the first `size` bytes may be read, not even to say
     * what is wrong with them */
    if (m->size < LL_MODULE_MIN_SIZE) {
        snprintf(err, n, "cannot load %s: malformed module descriptor "
                 "(size %u)", path, m->size);
        goto refused;
    }
    if (m->name == NULL || m->name[0] == '\0'
        || (m->kind != LL_KIND_MQ && m->kind != LL_KIND_BUSINESS
            && m->kind != LL_KIND_OTHER))
    {
        snprintf(err, n, "cannot load %s: malformed module descriptor "
                 "(name %s, kind %u)", path, m->name ? m->name : "NULL",
                 m->kind);
        goto refused;
    }
    if (schema_check(m, why, sizeof(why)) != 0) {
        snprintf(err, n, "cannot load %s: %s", path, why);
        goto refused;
    }
    return m;

refused:
    /* nothing of it ran: safe to unload */
    dlclose(dl);
    return NULL;
}
