/*
 * admin_history: the last hour of the routes' counters, so the
 * dashboard's charts start full instead of empty.  A thread of each
 * worker's admin instance samples the shared status every HISTORY_STEP_S
 * (the counters are the whole server's, so any worker's history is the
 * server's since that worker started) into a ring the HTTP thread reads.
 *
 *   GET /api/history   {"step":5,"samples":[{"t":UNIX_S,"routes":
 *                      {"FROM -> TO":{"received","failed","retried"}}}]}
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "admin.h"

#define HISTORY_STEP_S  5
#define HISTORY_LEN     720             /* an hour */

struct admin_history_s {
    pthread_t        thread;
    pthread_mutex_t  lock;
    pthread_cond_t   wake;
    int              stop;
    cJSON           *ring[HISTORY_LEN]; /* {"t","routes"}; NULL: empty */
    size_t           next;
};

/* One sample from the shared status: the counters of every route. */
static cJSON *
sample(void)
{
    char          *text = ll_status_json();
    cJSON         *st = text ? cJSON_Parse(text) : NULL, *s, *routes, *r, *o;
    const cJSON   *from, *to;
    char           key[512];
    struct timespec  now;

    free(text);
    if (st == NULL) {
        return NULL;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "t", (double) now.tv_sec);
    routes = cJSON_AddObjectToObject(s, "routes");
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "routes")) {
        from = cJSON_GetObjectItem(r, "from");
        to = cJSON_GetObjectItem(r, "to");
        if (!cJSON_IsString(from) || !cJSON_IsString(to)) {
            continue;
        }
        /* the key the page uses: "from \u2192 to" */
        snprintf(key, sizeof(key), "%s \xe2\x86\x92 %s", from->valuestring,
                 to->valuestring[0] ? to->valuestring : "(none)");
        o = cJSON_AddObjectToObject(routes, key);
        cJSON_AddItemToObject(o, "received", cJSON_Duplicate(
            cJSON_GetObjectItem(r, "received"), 0));
        cJSON_AddItemToObject(o, "failed", cJSON_Duplicate(
            cJSON_GetObjectItem(r, "failed"), 0));
        cJSON_AddItemToObject(o, "retried", cJSON_Duplicate(
            cJSON_GetObjectItem(r, "retried"), 0));
    }
    cJSON_Delete(st);
    return s;
}

static void *
run(void *arg)
{
    admin_history_t  *h = arg;
    struct timespec   at;
    cJSON            *s;

    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        pthread_mutex_unlock(&h->lock);
        s = sample();
        pthread_mutex_lock(&h->lock);
        if (s != NULL) {
            cJSON_Delete(h->ring[h->next]);
            h->ring[h->next] = s;
            h->next = (h->next + 1) % HISTORY_LEN;
        }
        clock_gettime(CLOCK_REALTIME, &at);
        at.tv_sec += HISTORY_STEP_S;
        while (!h->stop
               && pthread_cond_timedwait(&h->wake, &h->lock, &at) == 0)
        {
            /* woken early for nothing: wait out the step */
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int
admin_history_start(admin_t *a)
{
    admin_history_t  *h = calloc(1, sizeof(*h));

    if (h == NULL) {
        return -1;
    }
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return -1;
    }
    a->history = h;
    return 0;
}

void
admin_history_stop(admin_t *a)
{
    admin_history_t  *h = a->history;
    size_t            i;

    if (h == NULL) {
        return;
    }
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    for (i = 0; i < HISTORY_LEN; i++) {
        cJSON_Delete(h->ring[i]);
    }
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
    a->history = NULL;
}

/* GET /api/history: the samples, oldest first */
void
admin_get_history(const admin_req_t *req, admin_resp_t *resp)
{
    admin_history_t  *h = req->admin->history;
    cJSON            *o = cJSON_CreateObject(), *arr;
    size_t            i, k;

    cJSON_AddNumberToObject(o, "step", HISTORY_STEP_S);
    arr = cJSON_AddArrayToObject(o, "samples");
    if (h != NULL) {
        pthread_mutex_lock(&h->lock);
        for (i = 0; i < HISTORY_LEN; i++) {
            k = (h->next + i) % HISTORY_LEN;
            if (h->ring[k] != NULL) {
                cJSON_AddItemToArray(arr, cJSON_Duplicate(h->ring[k], 1));
            }
        }
        pthread_mutex_unlock(&h->lock);
    }
    admin_json(resp, MHD_HTTP_OK, o);
}
