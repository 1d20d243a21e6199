/*
 * Routes: "source:type" (a task type, topic or cron entry of an mq module)
 * to a handler module, as looklook.conf's `routes` lists them.  Exact
 * routes win over patterns; among patterns, the first in the file wins.
 * `*` matches any run of characters (including ':'), nothing else is
 * special, so task types need no escaping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_core.h"

int
ll__glob(const char *p, const char *s)
{
    const char  *star = NULL, *mark = NULL;

    while (*s != '\0') {
        if (*p == '*') {
            star = p++;
            mark = s;
        } else if (*p == *s) {
            p++;
            s++;
        } else if (star != NULL) {
            p = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

static ll_instance_t *
find_instance(ll_cycle_t *c, const char *name, size_t len)
{
    int  i;

    for (i = 0; i < c->ninst; i++) {
        if (strlen(c->inst[i]->name) == len
            && strncmp(c->inst[i]->name, name, len) == 0)
        {
            return c->inst[i];
        }
    }
    return NULL;
}

int
ll__routes_build(ll_cycle_t *c, char *err, size_t n)
{
    ll_conf_t          *conf = c->conf;
    ll_conf_route_t    *cr;
    ll_instance_t      *src;
    config_setting_t   *list = config_lookup(&conf->cfg, "routes");
    config_setting_t   *at;
    const char         *colon;
    char                name[512];
    int                 i;

    c->routes = calloc((size_t) conf->nroutes + 1, sizeof(ll_route_t));
    if (c->routes == NULL) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    for (i = 0; i < conf->nroutes; i++) {
        cr = &conf->routes[i];
        at = config_setting_get_elem(list, (unsigned) i);
        colon = strchr(cr->from, ':');
        src = find_instance(c, cr->from, (size_t) (colon - cr->from));
        if (src == NULL && memchr(cr->from, '*', (size_t) (colon - cr->from))
                           == NULL)
        {
            return ll__conf_errorf(err, n, at, "route from unknown module "
                                   "\"%.*s\"", (int) (colon - cr->from),
                                   cr->from);
        }
        c->routes[i].to = find_instance(c, cr->to, strlen(cr->to));
        if (c->routes[i].to == NULL) {
            return ll__conf_errorf(err, n, at, "route to unknown module \"%s\"",
                                   cr->to);
        }
        if (c->routes[i].to->mod->handle == NULL) {
            return ll__conf_errorf(err, n, at, "route to module \"%s\", which "
                                   "has no handle hook", cr->to);
        }
        c->routes[i].from = strdup(cr->from);
        if (c->routes[i].from == NULL) {
            snprintf(err, n, "out of memory");
            return -1;
        }
        c->routes[i].exact = strchr(cr->from, '*') == NULL;
        c->nroutes++;
        if (snprintf(name, sizeof(name), "%s -> %s", cr->from, cr->to) > 0) {
            c->routes[i].metric = ll__metric_slot(name);
        }
    }
    c->unrouted = ll__metric_slot("(no route)");
    return 0;
}

ll_route_t *
ll__route_find(ll_cycle_t *c, const char *source, const char *type)
{
    ll_route_t  *r, *found = NULL;
    char         buf[512], *key = buf;
    size_t       len;
    int          i;

    /* types have no length limit (asynq's none): a long one gets room */
    type = type ? type : "";
    len = strlen(source) + strlen(type) + 2;
    if (len > sizeof(buf) && (key = malloc(len)) == NULL) {
        return NULL;
    }
    snprintf(key, len, "%s:%s", source, type);
    for (i = 0; found == NULL && i < c->nroutes; i++) {
        r = &c->routes[i];
        if (r->exact && strcmp(r->from, key) == 0) {
            found = r;
        }
    }
    for (i = 0; found == NULL && i < c->nroutes; i++) {
        r = &c->routes[i];
        if (!r->exact && ll__glob(r->from, key)) {
            found = r;
        }
    }
    if (key != buf) {
        free(key);
    }
    return found;
}

LL_API int
ll_route_exists(const ll_instance_t *in, const char *type)
{
    return ll__route_find(in->cycle, in->name, type) != NULL;
}
