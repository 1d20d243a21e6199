/*
 * admin_api_servers: GET /api/servers, every server sharing the Redis
 * (looklook's redisq or Go asynq) with the tasks it runs, from asynq's
 * server and worker info (lib/asynq/rq_servers.c).
 */
#include <microhttpd.h>

#include "admin.h"
#include "rq_servers.h"

void
admin_get_servers(const admin_req_t *req, admin_resp_t *resp)
{
    rq_redis_t  *r = admin_redis(req, resp);
    char         err[256];
    cJSON       *arr;

    if (r == NULL) {
        return;
    }
    arr = rq_servers_json(r, err, sizeof(err));
    if (arr == NULL) {
        admin_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        return;
    }
    admin_json(resp, MHD_HTTP_OK, arr);
}
