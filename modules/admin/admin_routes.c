/*
 * admin_routes: the endpoints.  Each is a row of admin_routes[] and a
 * handler that fills the response; what they report comes from the core
 * (ll_status_*), which reads the mapping all workers share.
 *
 * To add one: write a handler, add a row (flags ADMIN_ACTION for anything
 * that changes state, so read_only refuses it).
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "admin.h"

void
admin_text(admin_resp_t *resp, int status, const char *type, char *text,
    size_t len)
{
    resp->status = status;
    resp->type = type;
    resp->body = text;
    resp->len = text ? len : 0;
}

void
admin_json(admin_resp_t *resp, int status, cJSON *json)
{
    char  *text = json ? cJSON_PrintUnformatted(json) : NULL;

    cJSON_Delete(json);
    admin_text(resp, status, "application/json", text,
               text ? strlen(text) : 0);
}

void
admin_error(admin_resp_t *resp, int status, const char *why)
{
    cJSON  *o = cJSON_CreateObject();

    if (o != NULL) {
        cJSON_AddStringToObject(o, "error", why);
    }
    admin_json(resp, status, o);
}

const char *
admin_arg(const admin_req_t *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* GET /metrics: the Prometheus text exposition */
static void
get_metrics(const admin_req_t *req, admin_resp_t *resp)
{
    size_t  len = 0;
    char   *text = ll_status_prometheus(&len);

    admin_text(resp, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
               text, len);
}

/* GET /healthz: this worker answers, so the server is alive */
static void
get_healthz(const admin_req_t *req, admin_resp_t *resp)
{
    char  *text = strdup("ok\n");

    admin_text(resp, MHD_HTTP_OK, "text/plain", text, 3);
}

/* GET /readyz: 200 when every module of the serving generation is
 * started and ready in every worker, else 503 saying which is not */
static void
get_readyz(const admin_req_t *req, admin_resp_t *resp)
{
    char  *why = NULL;
    int    ready = ll_status_ready(&why);

    admin_text(resp, ready == 1 ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
               "application/json", why, why ? strlen(why) : 0);
}

/* GET /api/status: what `looklook -s status --json` prints */
static void
get_status(const admin_req_t *req, admin_resp_t *resp)
{
    char  *text = ll_status_json();

    admin_text(resp, MHD_HTTP_OK, "application/json", text,
               text ? strlen(text) : 0);
}

const admin_route_t  admin_routes[] = {
    { "GET", "/metrics",    0,            get_metrics },
    { "GET", "/healthz",    ADMIN_PUBLIC, get_healthz },
    { "GET", "/readyz",     0,            get_readyz },
    { "GET", "/api/status", 0,            get_status },
    { "GET", "/api/history", 0,           admin_get_history },
    { "GET", "/",           0,            admin_get_index },
    { "GET", "/ui/",        0,            admin_get_ui },
    { "GET", "/api/csrf",   0,            admin_get_csrf },
    { "GET", "/api/queues", 0,            admin_get_queues },
    { "GET", "/api/queues/", 0,           admin_get_queue },
    { "POST", "/api/queues/", ADMIN_ACTION, admin_post_queue },
    { "GET", "/api/servers", 0,           admin_get_servers },
    { "GET", "/api/cron",   0,            admin_get_cron },
    { "GET", "/api/cron/",  0,            admin_get_cron_entry },
    { "POST", "/api/cron/", ADMIN_ACTION, admin_post_cron },
    { "GET", "/api/kafka/dead/", 0,       admin_get_kafka_dead },
    { "POST", "/api/kafka/dead/", ADMIN_ACTION, admin_post_kafka_dead },
    { NULL, NULL, 0, NULL }
};
