/*
 * dq_producer: ll_send(in, "dq", ...) as go-queue's producer: the body
 * wrapped with its due time, put with priority 2 and a 5 s TTR (settings),
 * into every node when there are at most 3, else into 3 picked at random;
 * it counts as written when at least 2 nodes (1 with a single node) took
 * it, else the copies written are deleted again.  The id is go-queue's:
 * "endpoint/tube/id" of each copy, joined by ",".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dq.h"

#define DQ_PUT_BACKOFF_MIN_MS  100
#define DQ_PUT_BACKOFF_MAX_MS  5000


/* Put one copy: BS_OK with *id, else a bs_rc_e with why.  Serialised per
 * node: one producer connection each. */
static int
dq_put_node(dq_node_t *n, uint32_t pri, uint32_t delay_s, uint32_t ttr_s,
    const char *body, size_t len, uint64_t *id, char *why, size_t whylen)
{
    int  rc = BS_EIO;

    pthread_mutex_lock(&n->put_lock);
    if (n->put.fd < 0) {
        if (lt_mono_ms() < n->put_retry_ms) {
            snprintf(why, whylen, "%s: %s (reconnecting)", n->endpoint,
                     n->put.err);
            goto done;
        }
        if (bs_connect(&n->put, n->endpoint) != BS_OK
            || bs_use(&n->put, n->tube) != BS_OK)
        {
            bs_close(&n->put);
            goto failed;
        }
        ll_log_recovered(n->dq->in, &n->put_log, "beanstalkd %s: producer "
                         "connected again", n->endpoint);
    }
    rc = bs_put(&n->put, pri, delay_s, ttr_s, body, len, id);
    if (rc == BS_OK) {
        n->put_backoff_ms = 0;
        goto done;
    }
    if (rc != BS_EIO) {
        snprintf(why, whylen, "%s", n->put.err);
        goto done;
    }

failed:
    n->put_backoff_ms = n->put_backoff_ms ? n->put_backoff_ms * 2
                                          : DQ_PUT_BACKOFF_MIN_MS;
    if (n->put_backoff_ms > DQ_PUT_BACKOFF_MAX_MS) {
        n->put_backoff_ms = DQ_PUT_BACKOFF_MAX_MS;
    }
    n->put_retry_ms = lt_mono_ms() + n->put_backoff_ms;
    snprintf(why, whylen, "%s", n->put.err);
    ll_log_fail(n->dq->in, &n->put_log, LL_LOG_ERR, "beanstalkd %s: put: %s",
                n->endpoint, n->put.err);
    rc = BS_EIO;
done:
    pthread_mutex_unlock(&n->put_lock);
    return rc;
}


/* Delete a copy written when too few nodes took the job (go-queue's
 * Revoke). */
static void
dq_revoke(dq_node_t *n, uint64_t id)
{
    pthread_mutex_lock(&n->put_lock);
    if (n->put.fd >= 0 && bs_delete(&n->put, id) != BS_OK) {
        ll_log(n->dq->in, LL_LOG_WARN, "beanstalkd %s: revoking job %" PRIu64
               ": %s", n->endpoint, id, n->put.err);
    }
    pthread_mutex_unlock(&n->put_lock);
}


int
dq_produce(dq_t *dq, const ll_msg_t *msg, ll_result_t *res)
{
    dq_conf_t        *c = dq->conf;
    const ll_opt_t   *delay_opt = ll_msg_opt(msg, "delay");
    int64_t           ttr_ms = ll_msg_opt_num(msg, "ttr", c->ttr_ms);
    int64_t           pri = ll_msg_opt_num(msg, "priority", c->priority);
    int64_t           now_ns, at_ns, delay_ns;
    int               pick[DQ_MAX_NODES], npick, i, j, written = 0, need;
    int               invalid = 0, rc;
    uint64_t          ids[DQ_REPLICAS > DQ_MAX_NODES ? DQ_REPLICAS : DQ_MAX_NODES];
    char              prefix[32], why[400] = "", one[400], *body;
    size_t            plen, len, off = 0;

    if (delay_opt != NULL && msg->process_at_ms != 0) {
        return ll_error(res, LL_R_INVALID, "both a delay and process_at given");
    }
    if (ttr_ms < 1000 || ttr_ms > (int64_t) UINT32_MAX * 1000
        || pri < 0 || pri > UINT32_MAX)
    {
        return ll_error(res, LL_R_INVALID, "ttr must be at least 1s, priority "
                        "0 .. 4294967295");
    }
    now_ns = lt_now_ns();
    if (msg->process_at_ms != 0) {
        at_ns = msg->process_at_ms * 1000000;
        if (at_ns < now_ns) {
            /* go-queue's At: ErrTimeBeforeNow */
            return ll_error(res, LL_R_INVALID, "can't schedule task to past "
                            "time");
        }
    } else {
        if (delay_opt != NULL && delay_opt->num < 0) {
            return ll_error(res, LL_R_INVALID, "negative delay");
        }
        at_ns = now_ns + (delay_opt != NULL ? delay_opt->num : 0) * 1000000;
    }
    /* whole seconds, cut as go-beanstalk does */
    delay_ns = at_ns - now_ns;
    if (delay_ns / 1000000000 > UINT32_MAX) {
        return ll_error(res, LL_R_INVALID, "delay too long");
    }

    plen = dq_wrap_prefix(prefix, sizeof(prefix), at_ns);
    len = plen + msg->payload_len;
    body = malloc(len + 1);
    if (body == NULL) {
        return ll_error(res, LL_R_NO_MEMORY, "out of memory");
    }
    memcpy(body, prefix, plen);
    if (msg->payload_len > 0) {
        memcpy(body + plen, msg->payload, msg->payload_len);
    }

    for (i = 0; i < dq->nnodes; i++) {
        pick[i] = i;
    }
    npick = dq->nnodes;
    if (npick > DQ_REPLICAS) {
        for (i = npick - 1; i > 0; i--) {
            j = (int) arc4random_uniform((uint32_t) i + 1);
            rc = pick[i];
            pick[i] = pick[j];
            pick[j] = rc;
        }
        npick = DQ_REPLICAS;
    }
    need = dq->nnodes < DQ_MIN_WRITTEN ? dq->nnodes : DQ_MIN_WRITTEN;

    for (i = 0; i < npick; i++) {
        dq_node_t  *n = &dq->nodes[pick[i]];

        rc = dq_put_node(n, (uint32_t) pri, (uint32_t) (delay_ns / 1000000000),
                         (uint32_t) (ttr_ms / 1000), body, len, &ids[i], one,
                         sizeof(one));
        if (rc == BS_OK) {
            written++;
            continue;
        }
        ids[i] = 0;
        invalid |= rc == BS_JOB_TOO_BIG;
        if (why[0] == '\0') {
            snprintf(why, sizeof(why), "%s", one);
        }
    }
    free(body);

    if (written < need) {
        for (i = 0; i < npick; i++) {
            if (ids[i] != 0) {
                dq_revoke(&dq->nodes[pick[i]], ids[i]);
            }
        }
        return ll_error(res, invalid ? LL_R_INVALID : LL_R_UNAVAILABLE,
                        "written to %d of %d beanstalkd nodes, %d needed: %s",
                        written, npick, need, why);
    }
    for (i = 0; i < npick; i++) {
        if (ids[i] != 0) {
            int  k = snprintf(res->id + off, sizeof(res->id) - off, "%s%s/%s/%"
                              PRIu64, off ? "," : "", dq->nodes[pick[i]].endpoint,
                              dq->nodes[pick[i]].tube, ids[i]);

            if (k < 0 || (size_t) k >= sizeof(res->id) - off) {
                res->id[off] = '\0';  /* the ids of the copies that fit */
                break;
            }
            off += (size_t) k;
        }
    }
    if (written < npick) {
        ll_log(dq->in, LL_LOG_WARN, "job %s written to %d of %d nodes: %s",
               res->id, written, npick, why);
    }
    return LL_DONE;
}


void
dq_producer_close(dq_node_t *n)
{
    bs_close(&n->put);
}
