/*
 * Fuzz target: looklook.conf as the -t check reads it (ll__conf_load: the
 * @include check, libconfig, the core settings, modules, routes), then
 * every module entry against a fixture module schema holding each LL_SET_*
 * kind (ll__conf_fill_module, as a cycle does), every LL_SET_NODE value
 * walked with the ll_conf_* node API and filled by ll_conf_fill, and the
 * routes built over those instances and looked up (ll__route_find).
 *
 * Invariants: a loaded config has every core setting within its schema's
 * bounds, unique module names, routes "module:type"; a filled module has
 * each value within its bounds and choices, every required string set; a
 * route's own text finds it; a refusal is one "FILE:LINE: ..." line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ll_core.h"

typedef struct {
    char                   *url;
    char                   *mode;
    int64_t                 count;
    int                     on;
    double                  ratio;
    int64_t                 every;
    const ll_conf_node_t   *node;
} fix_conf_t;

typedef struct {
    char                   *name;
    int64_t                 weight;
} fix_item_t;

static const char *const  modes[] = { "fast", "safe", NULL };

static const ll_conf_field_t  fix_schema[] = {
    LL_SET_STR(fix_conf_t, url, "url", LL_CONF_REQUIRED, NULL, ""),
    LL_SET_CHOICE(fix_conf_t, mode, "mode", 0, "safe", modes, ""),
    LL_SET_INT(fix_conf_t, count, "count", 0, "4", 1, 1000, ""),
    LL_SET_BOOL(fix_conf_t, on, "on", 0, "false", ""),
    LL_SET_DOUBLE(fix_conf_t, ratio, "ratio", 0, "0.5", 0, 1, ""),
    LL_SET_DURATION(fix_conf_t, every, "every", 0, "1s", 10, 86400000, ""),
    LL_SET_NODE(fix_conf_t, node, "items", 0, ""),
    LL_SET_END
};

static const ll_conf_field_t  item_schema[] = {
    LL_SET_STR(fix_item_t, name, "name", LL_CONF_REQUIRED, NULL, ""),
    LL_SET_INT(fix_item_t, weight, "weight", 0, "1", 1, 255, ""),
    LL_SET_END
};

static int
fix_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    return LL_DONE;
}

/* routes may lead to it: it has a handle hook */
static const ll_module_t  fix_module = {
    .magic = LL_MODULE_MAGIC, .abi_major = LL_ABI_MAJOR,
    .abi_minor = LL_ABI_MINOR, .size = sizeof(ll_module_t),
    .kind = LL_KIND_BUSINESS, .name = "fixture", .conf = fix_schema,
    .conf_size = sizeof(fix_conf_t), .handle = fix_handle
};

static char  conf_path[64];

static void
remove_dir(void)
{
    char  dir[64];

    unlink(conf_path);
    snprintf(dir, sizeof(dir), "%.*s", (int) (strrchr(conf_path, '/')
                                              - conf_path), conf_path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) loses a string token's buffer when a syntax
 * error follows it (input: ""), inside its own scanner: not ours to free */
const char *
__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  dir[] = "/tmp/llfuzz-conf.XXXXXX";

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(conf_path, sizeof(conf_path), "%s/looklook.conf", dir);
    atexit(remove_dir);
    return 0;
}

/* A refusal is "FILE:LINE: text" (or "...: out of memory"). */
static void
check_error(const char *err)
{
    const char  *p = strchr(err, ':');

    if (err[0] == '\0' || p == NULL || strchr(err, '\n') != NULL) {
        fprintf(stderr, "bad error text: \"%s\"\n", err);
        abort();
    }
}

/* Every child is reachable by index and, in a group, by its key; scalars
 * read back with the type they have. */
static void
walk(const ll_conf_node_t *n, int depth)
{
    const ll_conf_node_t  *c;
    const char            *key;
    int64_t                i64;
    double                 d;
    int                    i, count = ll_conf_count(n);

    if (depth > 64) {
        return;
    }
    for (i = 0; i < count; i++) {
        c = ll_conf_at(n, i);
        if (c == NULL) {
            abort();
        }
        key = ll_conf_key(c);
        if (key != NULL && ll_conf_get(n, key) != c) {
            abort();
        }
        if (ll_conf_int(c, &i64) == 0 && (ll_conf_double(c, &d) != 0
                                          || d != (double) i64))
        {
            abort();
        }
        if (ll_conf_duration(c, &i64) == 0 && i64 < 0) {
            abort();
        }
        (void) ll_conf_str(c);
        (void) ll_conf_line(c);
        walk(c, depth + 1);
    }
    if (ll_conf_at(n, count) != NULL || ll_conf_at(n, -1) != NULL) {
        abort();
    }
}

static void
check_items(ll_instance_t *in, const ll_conf_node_t *items)
{
    fix_item_t  it;
    char        err[LL_ERRLEN];
    int         i;

    for (i = 0; i < ll_conf_count(items); i++) {
        memset(&it, 0, sizeof(it));
        if (ll_conf_fill(in, ll_conf_at(items, i), item_schema, &it, err,
                         sizeof(err)) != 0)
        {
            if (err[0] == '\0' || in->err_at == NULL) {
                abort();
            }
            continue;
        }
        if (it.name == NULL || it.weight < 1 || it.weight > 255) {
            abort();
        }
    }
}

/* The module entry filled as a cycle fills it: the instance, or NULL. */
static ll_instance_t *
check_module(const ll_conf_module_t *cm)
{
    ll_instance_t  *in = calloc(1, sizeof(*in));
    fix_conf_t     *fc;
    char            err[LL_ERRLEN];

    if (in == NULL) {
        return NULL;
    }
    in->mod = &fix_module;
    in->group = cm->group;
    in->name = ll__own_strdup(&in->owned, cm->name);
    in->conf = fc = ll__own(&in->owned, calloc(1, sizeof(fix_conf_t)));
    if (in->name == NULL || fc == NULL) {
        goto done;
    }
    if (ll__conf_fill_module(in, cm->group, err, sizeof(err)) != 0) {
        check_error(err);
        goto done;
    }
    if (fc->url == NULL || fc->mode == NULL
        || (strcmp(fc->mode, "fast") != 0 && strcmp(fc->mode, "safe") != 0)
        || fc->count < 1 || fc->count > 1000 || (fc->on != 0 && fc->on != 1)
        || !(fc->ratio >= 0 && fc->ratio <= 1)
        || fc->every < 10 || fc->every > 86400000)
    {
        fprintf(stderr, "module \"%s\" filled out of bounds\n", cm->name);
        abort();
    }
    if (fc->node != NULL) {
        walk(fc->node, 0);
        check_items(in, fc->node);
    }
    return in;

done:
    ll__cleanup_run(&in->owned);
    free(in);
    return NULL;
}

/* The route source:type finds: an exact one's own (or an earlier exact
 * route's with the same text), and a pattern matches its own text with
 * each '*' left empty. */
static void
check_routes(ll_cycle_t *cy)
{
    ll_route_t  *r, *got;
    char        *src, *colon, *p, *q;
    int          i;

    for (i = 0; i < cy->nroutes; i++) {
        r = &cy->routes[i];
        src = malloc(strlen(r->from) + 1);
        if (src == NULL) {
            return;
        }
        for (p = r->from, q = src; *p != '\0'; p++) {
            if (*p != '*') {
                *q++ = *p;
            }
        }
        *q = '\0';
        colon = strchr(src, ':');       /* every route has one */
        *colon = '\0';
        got = ll__route_find(cy, src, colon + 1);
        if (got == NULL
            || (r->exact && (!got->exact || strcmp(got->from, r->from) != 0)))
        {
            fprintf(stderr, "route \"%s\" does not find %s\n", r->from,
                    got ? got->from : "any route");
            abort();
        }
        free(src);
    }
}

/* Routes built over the filled instances, as a cycle builds them. */
static void
build_routes(ll_conf_t *c, ll_instance_t **inst, int ninst)
{
    ll_cycle_t  cy = { .conf = c, .inst = inst, .ninst = ninst };
    char        err[LL_ERRLEN];
    int         i;

    if (ll__routes_build(&cy, err, sizeof(err)) != 0) {
        check_error(err);
    } else {
        check_routes(&cy);
    }
    for (i = 0; i < cy.nroutes; i++) {
        free(cy.routes[i].from);
    }
    free(cy.routes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_conf_t       *c;
    ll_instance_t  **inst;
    FILE            *f;
    char             err[LL_ERRLEN];
    int              i, j, n = 0;

    f = fopen(conf_path, "w");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(conf_path);
        abort();
    }
    c = ll__conf_load(conf_path, err, sizeof(err));
    if (c == NULL) {
        check_error(err);
        return 0;
    }
    if (c->settings.pid_file == NULL || c->settings.error_log == NULL
        || c->settings.module_dir == NULL || c->settings.status_file == NULL
        || c->settings.shutdown_timeout_ms < 0
        || c->settings.shutdown_timeout_ms > 86400000
        || c->settings.ready_timeout_ms < 0
        || c->settings.ready_timeout_ms > 86400000
        || c->settings.handler_threads < 1
        || c->settings.handler_threads > 4096
        || c->settings.worker_processes < 1
        || c->settings.worker_processes > 1024)
    {
        fprintf(stderr, "core settings out of bounds\n");
        abort();
    }
    for (i = 0; i < c->nmodules; i++) {
        if (c->modules[i].name[0] == '\0'
            || strchr(c->modules[i].name, ':') != NULL)
        {
            abort();
        }
        for (j = 0; j < i; j++) {
            if (strcmp(c->modules[i].name, c->modules[j].name) == 0) {
                abort();
            }
        }
    }
    inst = calloc((size_t) c->nmodules + 1, sizeof(*inst));
    for (i = 0; inst != NULL && i < c->nmodules; i++) {
        if ((inst[n] = check_module(&c->modules[i])) != NULL) {
            n++;
        }
    }
    for (i = 0; i < c->nroutes; i++) {
        if (c->routes[i].to == NULL || strchr(c->routes[i].from, ':') == NULL) {
            abort();
        }
    }
    if (inst != NULL) {
        build_routes(c, inst, n);
        for (i = 0; i < n; i++) {
            ll__cleanup_run(&inst[i]->owned);
            free(inst[i]);
        }
        free(inst);
    }
    ll__conf_free(c);
    return 0;
}
