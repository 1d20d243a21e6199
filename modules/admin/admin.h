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
#include "rq_redis.h"

#define ADMIN_BODY_MAX  (64 * 1024)     /* request bodies above: 413 */

typedef struct {
    char           *listen;         /* "127.0.0.1:8980", "[::1]:8980" */
    char           *token;
    int             read_only;
    char           *redis;          /* redisq's Redis, for the queues
                                     * pages; NULL: none */
    char           *kafka;          /* brokers, for the dead letters;
                                     * NULL: none */
    char           *dlq;            /* the kafka module's dlq pattern */
} admin_conf_t;

typedef struct admin_s  admin_t;
typedef struct admin_history_s  admin_history_t;

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
    char            cookie[96];     /* Set-Cookie value, "" for none */
} admin_resp_t;

/* One endpoint.  path is matched exactly, or as a prefix when it ends in
 * '/' (a folder of static files, an /api/x/ID family). */
enum {
    ADMIN_PUBLIC = 0x1,             /* no token needed */
    ADMIN_ACTION = 0x2              /* changes something: a POST with
                                     * the CSRF token, refused when
                                     * read_only, logged */
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
    rq_redis_conf_t redis_conf;     /* parsed conf->redis */
    rq_redis_t      redis;          /* used by the HTTP thread only */
    void           *kafka;          /* admin_api_kafka.c's clients, made
                                     * by the HTTP thread */
    admin_history_t *history;       /* admin_history.c's sampler */
};

/* admin_http.c */
int  admin_http_start(admin_t *a, char *err, size_t errlen);
void admin_http_stop(admin_t *a);
int  admin_listen_parse(const char *listen, char *host, size_t hostlen,
    char *port, size_t portlen);
int  admin_same(const char *a, const char *b);  /* in constant time */

/* Response helpers (admin_routes.c): a text or JSON body; take text (and
 * json) over, NULL meaning out of memory (500).  A query argument. */
void admin_text(admin_resp_t *resp, int status, const char *type, char *text,
    size_t len);
void admin_json(admin_resp_t *resp, int status, cJSON *json);
void admin_error(admin_resp_t *resp, int status, const char *why);
const char *admin_arg(const admin_req_t *req, const char *key);

/* The Redis connection for handlers, or NULL after answering 503 (no
 * `redis` setting, or Redis unreachable).  admin_api_queues.c */
rq_redis_t *admin_redis(const admin_req_t *req, admin_resp_t *resp);

/* Handlers in their own files (rows of admin_routes[]): the dashboard's
 * files (admin_ui.c), the CSRF token (admin_csrf.c), redisq's queues and
 * tasks (admin_api_queues.c), asynq servers (admin_api_servers.c), cron
 * entries (admin_api_cron.c), Kafka dead letters (admin_api_kafka.c), the
 * routes' last hour (admin_history.c). */
typedef void admin_handler_t(const admin_req_t *req, admin_resp_t *resp);
admin_handler_t  admin_get_index, admin_get_ui, admin_get_csrf;
admin_handler_t  admin_get_queues, admin_get_queue, admin_post_queue;
admin_handler_t  admin_get_servers, admin_get_cron, admin_get_cron_entry;
admin_handler_t  admin_post_cron;
admin_handler_t  admin_get_kafka_dead, admin_post_kafka_dead;
admin_handler_t  admin_get_history;

/* admin_history.c: start / stop the routes' sampler (start's thread) */
int  admin_history_start(admin_t *a);
void admin_history_stop(admin_t *a);

/* admin_api_kafka.c: close the Kafka clients; after the HTTP thread
 * stopped */
void admin_kafka_close(admin_t *a);

/* admin_csrf.c: 1 when the request's X-CSRF-Token header equals its
 * ll_csrf cookie (both set by GET /api/csrf), else 0 */
int admin_csrf_ok(void *conn);

#endif /* ADMIN_H_INCLUDED */
