/*
 * looklook.conf: parsing (libconfig), the schema check that serves the core
 * settings, every module's settings and modules' nested groups alike, and
 * the ll_conf_* node API for modules.
 *
 * Every error is one line, "FILE:LINE: what is wrong", with the line of the
 * offending setting (or of the group missing a required one).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ll_core.h"
#include "lt_duration.h"

#define S(n)  ((const config_setting_t *) (n))

#define MAX_TIMEOUT_MS  (24 * 3600 * 1000LL)

/* The top-level settings the schema fills; the rest of ll_settings_t is
 * converted from them in load_settings. */
typedef struct {
    char           *pid_file;
    char           *error_log;
    char           *log_level;
    char           *log_format;
    int64_t         shutdown_timeout_ms;
    int64_t         handler_threads;
    char           *module_dir;
    char           *status_file;
    int64_t         ready_timeout_ms;
} core_conf_t;

static const char *const  log_levels[] = {
    "err", "warn", "info", "debug", NULL
};

static const char *const  log_formats[] = { "text", "json", NULL };

/* deadlines are "now + timeout" in int64 ms, in the master and in every
 * worker: a day is beyond any sane drain and far from overflow */
static const ll_conf_field_t  core_schema[] = {
    LL_SET_STR(core_conf_t, pid_file, "pid_file", 0, "looklook.pid",
               "where the master writes its pid"),
    LL_SET_STR(core_conf_t, error_log, "error_log", 0, "stderr",
               "\"stderr\" or a file path"),
    LL_SET_CHOICE(core_conf_t, log_level, "log_level", 0, "info", log_levels,
                  "err, warn, info or debug"),
    LL_SET_CHOICE(core_conf_t, log_format, "log_format", 0, "text",
                  log_formats, "text, or json: one object per line with "
                  "go-zero's field names"),
    LL_SET_DURATION(core_conf_t, shutdown_timeout_ms, "shutdown_timeout", 0,
                    "8", 0, MAX_TIMEOUT_MS,
                    "time to finish in-flight work on QUIT (seconds or \"30s\")"),
    LL_SET_INT(core_conf_t, handler_threads, "handler_threads", 0, "32", 1,
               4096, "handler pool threads per worker"),
    LL_SET_STR(core_conf_t, module_dir, "module_dir", 0, LL_MODULE_DIR,
               "where relative module paths point"),
    LL_SET_STR(core_conf_t, status_file, "status_file", 0, NULL,
               "shared metrics file (default: beside pid_file)"),
    LL_SET_DURATION(core_conf_t, ready_timeout_ms, "ready_timeout", 0, "30",
                    0, MAX_TIMEOUT_MS, "how long a new worker may take to start"),
    LL_SET_END
};

static const char *const  top_reserved[] = {
    "worker_processes", "modules", "routes", NULL
};
static const char *const  module_reserved[] = { "name", "path", NULL };

int
ll__conf_errorf(char *err, size_t n, const config_setting_t *s,
    const char *fmt, ...)
{
    va_list      ap;
    const char  *file;
    int          len;

    file = s != NULL ? config_setting_source_file(s) : NULL;
    len = snprintf(err, n, "%s:%d: ", file ? file : "looklook.conf",
                   s != NULL ? (int) config_setting_source_line(s) : 0);
    if (len < 0 || (size_t) len >= n) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(err + len, n - (size_t) len, fmt, ap);
    va_end(ap);
    return -1;
}

const char *
ll__conf_type_name(int type)
{
    switch (type) {
    case LL_CONF_STR:      return "string";
    case LL_CONF_INT:      return "integer";
    case LL_CONF_BOOL:     return "bool";
    case LL_CONF_DOUBLE:   return "number";
    case LL_CONF_DURATION: return "duration";
    case LL_CONF_NODE:     return "group/list";
    default:               return "?";
    }
}

LL_API int
ll_parse_duration(const char *s, int64_t *ms)
{
    return lt_duration_parse(s, LT_DUR_LOOKLOOK, ms);
}

static int
is_reserved(const char *name, const char *const *reserved)
{
    for (; reserved != NULL && *reserved != NULL; reserved++) {
        if (strcmp(name, *reserved) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Write "<text>" to err and name the setting it is about in *at. */
static int
fail_at(const config_setting_t **at, const config_setting_t *s, char *err,
    size_t n, const char *fmt, ...)
{
    va_list  ap;

    *at = s;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A duration in ms as the largest unit that divides it: "1d", "90s". */
static void
ms_text(char *buf, size_t n, double ms)
{
    static const struct { const char *u; int64_t ms; } units[] = {
        { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
        { "ms", 1 }
    };
    int64_t  v = (int64_t) ms;
    size_t   i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++) {
        if (v != 0 && v % units[i].ms == 0) {
            break;
        }
    }
    snprintf(buf, n, "%lld%s", (long long) (v / units[i].ms), units[i].u);
}

/* The bounds of f, as text: "1 to 4096", "at most 1d". */
static void
bounds_text(char *buf, size_t n, const ll_conf_field_t *f)
{
    char  lo[32], hi[32];

    if (f->type == LL_CONF_DURATION) {
        ms_text(lo, sizeof(lo), f->min);
        ms_text(hi, sizeof(hi), f->max);
    } else {
        snprintf(lo, sizeof(lo), "%.15g", f->min);
        snprintf(hi, sizeof(hi), "%.15g", f->max);
    }
    if (f->type == LL_CONF_DURATION && f->min == 0) {
        snprintf(buf, n, "at most %s", hi);
    } else if (f->max >= 9e18) {
        snprintf(buf, n, "at least %s", lo);
    } else {
        snprintf(buf, n, "from %s to %s", lo, hi);
    }
}

/* Whether text is one of f's choices (any text when it has none). */
static int
choice_ok(const ll_conf_field_t *f, const char *text)
{
    const char *const  *c;

    if (f->choices == NULL) {
        return 1;
    }
    for (c = f->choices; *c != NULL; c++) {
        if (strcmp(*c, text) == 0) {
            return 1;
        }
    }
    return 0;
}

/* "\"a\", \"b\" or \"c\"" */
static void
choices_text(char *buf, size_t n, const ll_conf_field_t *f)
{
    const char *const  *c;
    size_t              len = 0;

    buf[0] = '\0';
    for (c = f->choices; *c != NULL && len < n; c++) {
        len += (size_t) snprintf(buf + len, n - len, "%s\"%s\"",
                                 c == f->choices ? ""
                                 : c[1] == NULL ? " or " : ", ", *c);
    }
}

/* Convert setting s (or, with s NULL, the default text) for field f. */
static int
fill_one(ll_cleanups_t *a, const config_setting_t *s, const ll_conf_field_t *f,
    char *out, const config_setting_t *group, const char *prefix,
    const config_setting_t **at, char *err, size_t n)
{
    const config_setting_t  *here = s != NULL ? s : group;
    const char  *text;
    int          t = s != NULL ? config_setting_type(s) : CONFIG_TYPE_NONE;
    int64_t      i64;
    double       d, num;
    char        *end, what[160];

    switch (f->type) {
    case LL_CONF_STR:
        if (s != NULL && t != CONFIG_TYPE_STRING) {
            return fail_at(at, s, err, n, "%s\"%s\" must be a string",
                           prefix, f->name);
        }
        text = s != NULL ? config_setting_get_string(s) : f->def;
        if (!choice_ok(f, text)) {
            choices_text(what, sizeof(what), f);
            return fail_at(at, here, err, n, "%s\"%s\" must be %s", prefix,
                           f->name, what);
        }
        if ((*(char **) (out + f->offset) = ll__own_strdup(a, text)) == NULL) {
            return fail_at(at, here, err, n, "out of memory");
        }
        return 0;

    case LL_CONF_INT:
        if (s == NULL) {
            errno = 0;
            i64 = strtoll(f->def, &end, 10);
            if (errno != 0 || *end != '\0') {
                return fail_at(at, group, err, n, "%sbad default for \"%s\"",
                               prefix, f->name);
            }
        } else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
            i64 = config_setting_get_int64(s);
        } else {
            return fail_at(at, s, err, n, "%s\"%s\" must be an integer",
                           prefix, f->name);
        }
        num = (double) i64;
        *(int64_t *) (out + f->offset) = i64;
        break;

    case LL_CONF_BOOL:
        if (s == NULL) {
            *(int *) (out + f->offset) = strcmp(f->def, "true") == 0
                                         || strcmp(f->def, "1") == 0;
        } else if (t == CONFIG_TYPE_BOOL) {
            *(int *) (out + f->offset) = config_setting_get_bool(s);
        } else {
            return fail_at(at, s, err, n, "%s\"%s\" must be true or false",
                           prefix, f->name);
        }
        return 0;

    case LL_CONF_DOUBLE:
        if (s == NULL) {
            d = strtod(f->def, NULL);
        } else if (t == CONFIG_TYPE_FLOAT) {
            d = config_setting_get_float(s);
        } else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
            d = (double) config_setting_get_int64(s);
        } else {
            return fail_at(at, s, err, n, "%s\"%s\" must be a number",
                           prefix, f->name);
        }
        num = d;
        *(double *) (out + f->offset) = d;
        break;

    case LL_CONF_DURATION:
        if (s == NULL) {
            text = f->def;
        } else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
            i64 = config_setting_get_int64(s);
            if (i64 < 0 || i64 > INT64_MAX / 1000) {
                goto bad_duration;
            }
            i64 *= 1000;
            goto duration;
        } else if (t == CONFIG_TYPE_FLOAT) {
            d = config_setting_get_float(s);
            if (!(d >= 0 && d < 9.2e15)) {
                goto bad_duration;
            }
            i64 = (int64_t) llround(d * 1000);
            goto duration;
        } else if (t == CONFIG_TYPE_STRING) {
            text = config_setting_get_string(s);
        } else {
            goto bad_duration;
        }
        if (ll_parse_duration(text, &i64) == 0) {
            goto duration;
        }
    bad_duration:
        return fail_at(at, here, err, n,
                       "%s\"%s\" must be a duration such as 30 or "
                       "\"250ms\", \"30s\", \"5m\", \"1h30m\"",
                       prefix, f->name);
    duration:
        num = (double) i64;
        *(int64_t *) (out + f->offset) = i64;
        break;

    case LL_CONF_NODE:
        if (s != NULL && t != CONFIG_TYPE_GROUP && t != CONFIG_TYPE_LIST
            && t != CONFIG_TYPE_ARRAY)
        {
            return fail_at(at, s, err, n,
                           "%s\"%s\" must be a group { } or a list ( )",
                           prefix, f->name);
        }
        *(const config_setting_t **) (out + f->offset) = s;
        return 0;

    default:
        return fail_at(at, group, err, n, "%sbad schema type for \"%s\"",
                       prefix, f->name);
    }

    /* the numeric types: the schema's bounds */
    if ((f->min != 0 || f->max != 0) && (num < f->min || num > f->max)) {
        bounds_text(what, sizeof(what), f);
        return fail_at(at, here, err, n, "%s\"%s\" must be %s", prefix,
                       f->name, what);
    }
    return 0;
}

/* ll__conf_fill without the location: err holds the text, *at the
 * setting (or group) it is about. */
static int
conf_fill(ll_cleanups_t *a, const config_setting_t *group,
    const ll_conf_field_t *schema, void *out, const char *prefix,
    const char *const *reserved, const config_setting_t **at, char *err,
    size_t n)
{
    const ll_conf_field_t  *f;
    config_setting_t       *s;
    const char             *name;
    int                     i, len;

    if (config_setting_type(group) != CONFIG_TYPE_GROUP) {
        return fail_at(at, group, err, n, "%sexpected a group { ... }",
                       prefix);
    }
    len = config_setting_length(group);
    for (i = 0; i < len; i++) {
        s = config_setting_get_elem(group, (unsigned) i);
        name = config_setting_name(s);
        if (is_reserved(name, reserved)) {
            continue;
        }
        for (f = schema; f != NULL && f->name != NULL; f++) {
            if (strcmp(f->name, name) == 0) {
                break;
            }
        }
        if (f == NULL || f->name == NULL) {
            return fail_at(at, s, err, n, "%sunknown setting \"%s\"",
                           prefix, name);
        }
    }
    for (f = schema; f != NULL && f->name != NULL; f++) {
        s = config_setting_get_member(group, f->name);
        if (s == NULL && (f->flags & LL_CONF_REQUIRED)) {
            return fail_at(at, group, err, n,
                           "%smissing required setting \"%s\"",
                           prefix, f->name);
        }
        if (s == NULL && (f->def == NULL || f->type == LL_CONF_NODE)) {
            continue;       /* stays zero / NULL */
        }
        if (fill_one(a, s, f, out, group, prefix, at, err, n) != 0) {
            return -1;
        }
    }
    return 0;
}

int
ll__conf_fill(ll_cleanups_t *a, const config_setting_t *group,
    const ll_conf_field_t *schema, void *out, const char *prefix,
    const char *const *reserved, char *err, size_t n)
{
    const config_setting_t  *at = group;
    char                     e[LL_ERRLEN];

    if (conf_fill(a, group, schema, out, prefix, reserved, &at, e, sizeof(e))
        != 0)
    {
        return ll__conf_errorf(err, n, at, "%s", e);
    }
    return 0;
}

static int
load_settings(ll_conf_t *c, char *err, size_t n)
{
    config_setting_t  *root = config_root_setting(&c->cfg), *s;
    core_conf_t        cc = { 0 };
    long               ncpu;

    if (ll__conf_fill(&c->owned, root, core_schema, &cc, "", top_reserved,
                      err, n) != 0)
    {
        return -1;
    }
    c->settings = (ll_settings_t) {
        .pid_file = cc.pid_file, .error_log = cc.error_log,
        .log_level = ll__log_level_parse(cc.log_level),
        .log_json = strcmp(cc.log_format, "json") == 0,
        .shutdown_timeout_ms = cc.shutdown_timeout_ms,
        .handler_threads = (int) cc.handler_threads,
        .module_dir = cc.module_dir, .status_file = cc.status_file,
        .ready_timeout_ms = cc.ready_timeout_ms
    };

    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->settings.worker_processes = ncpu > 0 ? (int) ncpu : 1;
    s = config_lookup(&c->cfg, "worker_processes");
    if (s != NULL) {
        if (config_setting_type(s) == CONFIG_TYPE_INT
            && config_setting_get_int(s) >= 1
            && config_setting_get_int(s) <= 1024)
        {
            c->settings.worker_processes = config_setting_get_int(s);
        } else if (config_setting_type(s) != CONFIG_TYPE_STRING
                   || strcmp(config_setting_get_string(s), "auto") != 0)
        {
            return ll__conf_errorf(err, n, s, "\"worker_processes\" must be "
                                   "an integer from 1 to 1024 or \"auto\"");
        }
    }

    if (c->settings.status_file == NULL) {
        const char  *slash = strrchr(c->settings.pid_file, '/');
        size_t       dirlen = slash ? (size_t) (slash - c->settings.pid_file) + 1 : 0;
        char        *p = malloc(dirlen + sizeof("looklook.status"));

        if (ll__own(&c->owned, p) == NULL) {
            return ll__conf_errorf(err, n, root, "out of memory");
        }
        memcpy(p, c->settings.pid_file, dirlen);
        strcpy(p + dirlen, "looklook.status");
        c->settings.status_file = p;
    }
    return 0;
}

static int
has_cntrl(const char *s)
{
    for ( ; *s != '\0'; s++) {
        if (iscntrl((unsigned char) *s)) {
            return 1;
        }
    }
    return 0;
}

static int
load_modules(ll_conf_t *c, char *err, size_t n)
{
    config_setting_t  *list, *m, *name, *path;
    int                i, j, len;

    list = config_lookup(&c->cfg, "modules");
    if (list == NULL) {
        return 0;
    }
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        return ll__conf_errorf(err, n, list, "\"modules\" must be a list ( "
                               "{ name = ...; path = ...; }, ... )");
    }
    len = config_setting_length(list);
    c->modules = ll__own(&c->owned,
                               calloc((size_t) len + 1, sizeof(ll_conf_module_t)));
    if (c->modules == NULL) {
        return ll__conf_errorf(err, n, list, "out of memory");
    }
    for (i = 0; i < len; i++) {
        m = config_setting_get_elem(list, (unsigned) i);
        if (config_setting_type(m) != CONFIG_TYPE_GROUP) {
            return ll__conf_errorf(err, n, m, "a module entry must be a group "
                                   "{ name = ...; path = ...; }");
        }
        name = config_setting_get_member(m, "name");
        if (name == NULL) {
            return ll__conf_errorf(err, n, m, "module entry without a name");
        }
        /* the name is in log lines and errors: one line each */
        if (config_setting_type(name) != CONFIG_TYPE_STRING
            || config_setting_get_string(name)[0] == '\0'
            || strchr(config_setting_get_string(name), ':') != NULL
            || has_cntrl(config_setting_get_string(name)))
        {
            return ll__conf_errorf(err, n, name, "module \"name\" must be a "
                                   "non-empty string without ':' or control "
                                   "characters");
        }
        path = config_setting_get_member(m, "path");
        if (path != NULL && (config_setting_type(path) != CONFIG_TYPE_STRING
                             || config_setting_get_string(path)[0] == '\0'))
        {
            return ll__conf_errorf(err, n, path, "module \"%s\": \"path\" must "
                                   "be a non-empty string",
                                   config_setting_get_string(name));
        }
        c->modules[i].name = config_setting_get_string(name);
        c->modules[i].path = path ? config_setting_get_string(path) : NULL;
        c->modules[i].group = m;
        c->modules[i].line = (int) config_setting_source_line(m);
        for (j = 0; j < i; j++) {
            if (strcmp(c->modules[j].name, c->modules[i].name) == 0) {
                return ll__conf_errorf(err, n, name, "module \"%s\" is already "
                                       "defined (line %d)", c->modules[i].name,
                                       c->modules[j].line);
            }
        }
    }
    c->nmodules = len;
    return 0;
}

static int
load_routes(ll_conf_t *c, char *err, size_t n)
{
    static const ll_conf_field_t  route_schema[] = {
        LL_SET_STR(ll_conf_route_t, from, "from", LL_CONF_REQUIRED, NULL,
                   "source:type pattern"),
        LL_SET_STR(ll_conf_route_t, to, "to", LL_CONF_REQUIRED, NULL,
                   "handler module"),
        LL_SET_END
    };
    config_setting_t  *list, *r;
    int                i, len;

    list = config_lookup(&c->cfg, "routes");
    if (list == NULL) {
        return 0;
    }
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        return ll__conf_errorf(err, n, list, "\"routes\" must be a list ( "
                               "{ from = ...; to = ...; }, ... )");
    }
    len = config_setting_length(list);
    c->routes = ll__own(&c->owned,
                              calloc((size_t) len + 1, sizeof(ll_conf_route_t)));
    if (c->routes == NULL) {
        return ll__conf_errorf(err, n, list, "out of memory");
    }
    for (i = 0; i < len; i++) {
        r = config_setting_get_elem(list, (unsigned) i);
        if (ll__conf_fill(&c->owned, r, route_schema, &c->routes[i], "route: ",
                          NULL, err, n) != 0)
        {
            return -1;
        }
        c->routes[i].line = (int) config_setting_source_line(r);
        if (strchr(c->routes[i].from, ':') == NULL) {
            return ll__conf_errorf(err, n, config_setting_get_member(r, "from"),
                                   "route: \"from\" must be \"module:type\", "
                                   "e.g. \"redisq:defer:homestay_order:close\"");
        }
        /* echoed in errors and metric names: one line each */
        if (has_cntrl(c->routes[i].from) || has_cntrl(c->routes[i].to)) {
            return ll__conf_errorf(err, n, r, "route: \"from\" and \"to\" "
                                   "must not hold control characters");
        }
    }
    c->nroutes = len;
    return 0;
}

ll_conf_t *
ll__conf_load(const char *path, char *err, size_t n)
{
    ll_conf_t  *c;

    c = calloc(1, sizeof(ll_conf_t));
    if (c == NULL || (c->path = strdup(path)) == NULL) {
        free(c);
        snprintf(err, n, "%s: out of memory", path);
        return NULL;
    }
    config_init(&c->cfg);
    if (ll__conf_includes_check(path, NULL, err, n) != 0) {
        goto failed;
    }
    if (config_read_file(&c->cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO) {
            snprintf(err, n, "%s: cannot read: %s", path, strerror(errno));
        } else {
            snprintf(err, n, "%s:%d: %s",
                     config_error_file(&c->cfg) ? config_error_file(&c->cfg)
                                                : path,
                     config_error_line(&c->cfg), config_error_text(&c->cfg));
        }
        goto failed;
    }
    if (load_settings(c, err, n) != 0 || load_modules(c, err, n) != 0
        || load_routes(c, err, n) != 0)
    {
        goto failed;
    }
    return c;

failed:
    ll__conf_free(c);
    return NULL;
}

void
ll__conf_free(ll_conf_t *c)
{
    if (c == NULL) {
        return;
    }
    config_destroy(&c->cfg);
    ll__cleanup_run(&c->owned);
    free(c->path);
    free(c);
}

/* ---- the node API for modules ------------------------------------------ */

LL_API int
ll_conf_count(const ll_conf_node_t *n)
{
    return n != NULL ? config_setting_length(S(n)) : 0;
}

LL_API const ll_conf_node_t *
ll_conf_at(const ll_conf_node_t *n, int i)
{
    if (n == NULL || i < 0) {
        return NULL;
    }
    return (const ll_conf_node_t *) config_setting_get_elem(S(n), (unsigned) i);
}

LL_API const ll_conf_node_t *
ll_conf_get(const ll_conf_node_t *n, const char *key)
{
    if (n == NULL || config_setting_type(S(n)) != CONFIG_TYPE_GROUP) {
        return NULL;
    }
    return (const ll_conf_node_t *) config_setting_get_member(S(n), key);
}

LL_API const char *
ll_conf_key(const ll_conf_node_t *n)
{
    return n != NULL ? config_setting_name(S(n)) : NULL;
}

LL_API const char *
ll_conf_file(const ll_conf_node_t *n)
{
    return n != NULL ? config_setting_source_file(S(n)) : NULL;
}

LL_API int
ll_conf_line(const ll_conf_node_t *n)
{
    return n != NULL ? (int) config_setting_source_line(S(n)) : 0;
}

LL_API const char *
ll_conf_str(const ll_conf_node_t *n)
{
    if (n == NULL || config_setting_type(S(n)) != CONFIG_TYPE_STRING) {
        return NULL;
    }
    return config_setting_get_string(S(n));
}

LL_API int
ll_conf_int(const ll_conf_node_t *n, int64_t *v)
{
    if (n == NULL || (config_setting_type(S(n)) != CONFIG_TYPE_INT
                      && config_setting_type(S(n)) != CONFIG_TYPE_INT64))
    {
        return -1;
    }
    *v = config_setting_get_int64(S(n));
    return 0;
}

LL_API int
ll_conf_double(const ll_conf_node_t *n, double *v)
{
    int64_t  i;

    if (n != NULL && config_setting_type(S(n)) == CONFIG_TYPE_FLOAT) {
        *v = config_setting_get_float(S(n));
        return 0;
    }
    if (ll_conf_int(n, &i) != 0) {
        return -1;
    }
    *v = (double) i;
    return 0;
}

LL_API int
ll_conf_duration(const ll_conf_node_t *n, int64_t *ms)
{
    static const ll_conf_field_t  f = {
        .name = "value", .type = LL_CONF_DURATION, .size = sizeof(int64_t)
    };
    const config_setting_t  *at;
    ll_cleanups_t            none = { 0 };
    char                     err[8];

    if (n == NULL) {
        return -1;
    }
    return fill_one(&none, S(n), &f, (char *) ms, S(n), "", &at, err,
                    sizeof(err));
}

int
ll__conf_fill_module(ll_instance_t *in, const config_setting_t *group,
    char *err, size_t n)
{
    char  prefix[160];

    snprintf(prefix, sizeof(prefix), "module \"%s\": ", in->name);
    return ll__conf_fill(&in->owned, group, in->mod->conf, in->conf, prefix,
                         module_reserved, err, n);
}

LL_API int
ll_conf_fill(ll_instance_t *in, const ll_conf_node_t *group,
    const ll_conf_field_t *schema, void *out, char *err, size_t errlen)
{
    char  prefix[160];

    snprintf(prefix, sizeof(prefix), "module \"%s\": ", in->name);
    if (group == NULL) {
        in->err_at = in->group;
        snprintf(err, errlen, "%sno group", prefix);
        return -1;
    }
    return conf_fill(&in->owned, S(group), schema, out, prefix, NULL,
                     &in->err_at, err, errlen);
}

static int
error_vat(ll_instance_t *in, const config_setting_t *at, char *err,
    size_t errlen, const char *fmt, va_list ap)
{
    in->err_at = at != NULL ? at : in->group;
    vsnprintf(err, errlen, fmt, ap);
    return -1;
}

LL_API int
ll_conf_error(ll_instance_t *in, char *err, size_t errlen,
    const ll_conf_node_t *n, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    error_vat(in, S(n), err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

LL_API int
ll_setting_error(ll_instance_t *in, char *err, size_t errlen,
    const char *setting, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    error_vat(in, in->group != NULL
                  ? config_setting_get_member(in->group, setting) : NULL,
              err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
