/*
 * admin: the HTTP side of looklook, served by every worker on one port
 * (SO_REUSEPORT) from what all workers share, so any worker answers for
 * the whole server.  The endpoints are rows of one route table
 * (admin_routes.c); a handler fills a response from the request.
 */
#ifndef ADMIN_H_INCLUDED
#define ADMIN_H_INCLUDED

#include <stddef.h>
#include <cjson/cJSON.h>

#include "looklook.h"

#define ADMIN_BODY_MAX  (64 * 1024)     /* request bodies above: 413 */

typedef struct {
    char           *listen;         /* "127.0.0.1:8980", "[::1]:8980" */
    char           *token;
    int             read_only;
} admin_conf_t;

typedef struct admin_s  admin_t;

typedef struct {
    admin_t        *admin;
    const char     *method;
    const char     *path;           /* without the query string */
    const char     *body;           /* NUL-terminated, "" when none */
    size_t          body_len;
    void           *conn;           /* struct MHD_Connection */
} admin_req_t;

typedef struct {
    int             status;
    const char     *type;           /* Content-Type */
    char           *body;           /* malloc'ed, sent and freed */
    size_t          len;
} admin_resp_t;

/* One endpoint.  path is matched exactly, or as a prefix when it ends in
 * '/' (a folder of static files, an /api/x/ID family). */
enum {
    ADMIN_PUBLIC = 0x1,             /* no token needed */
    ADMIN_ACTION = 0x2              /* changes something: refused when
                                     * read_only */
};

typedef struct {
    const char     *method;
    const char     *path;
    unsigned        flags;
    void          (*handle)(const admin_req_t *req, admin_resp_t *resp);
} admin_route_t;

extern const admin_route_t  admin_routes[];     /* ends with path NULL */

struct admin_s {
    ll_instance_t  *in;
    admin_conf_t   *conf;
    void           *daemon;         /* struct MHD_Daemon */
    ll_series_t    *requests[4];    /* by status class 2xx..5xx */
};

/* admin_http.c */
int  admin_http_start(admin_t *a, char *err, size_t errlen);
void admin_http_stop(admin_t *a);
int  admin_listen_parse(const char *listen, char *host, size_t hostlen,
    char *port, size_t portlen);

/* Response helpers (admin_routes.c): a text or JSON body; take text (and
 * json) over, NULL meaning out of memory (500).  A query argument. */
void admin_text(admin_resp_t *resp, int status, const char *type, char *text,
    size_t len);
void admin_json(admin_resp_t *resp, int status, cJSON *json);
void admin_error(admin_resp_t *resp, int status, const char *why);
const char *admin_arg(const admin_req_t *req, const char *key);

#endif /* ADMIN_H_INCLUDED */
