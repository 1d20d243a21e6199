/*
 * Partitions and their windows.  A window holds every fetched message of a
 * partition that is not yet released, in offset order; the safe commit
 * offset is the first unhandled one (or the one after the last fetched),
 * so nothing is committed past a message still in work.  Also here: which
 * messages may go to a handler now (the ordering modes) and the timer list.
 * Everything runs with kq->lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

kq_part_t *
kq_part_find(kq_t *kq, const char *topic, int32_t partition)
{
    kq_part_t  *p;

    for (p = kq->parts; p != NULL; p = p->next) {
        if (p->partition == partition && strcmp(p->topic, topic) == 0) {
            return p;
        }
    }
    return NULL;
}

kq_part_t *
kq_part_add(kq_t *kq, const char *topic, int32_t partition)
{
    kq_part_t  *p = calloc(1, sizeof(kq_part_t));

    if (p == NULL || (p->topic = strdup(topic)) == NULL) {
        free(p);
        return NULL;
    }
    p->kq = kq;
    p->partition = partition;
    p->next_offset = -1;
    p->stored = -1;
    p->next = kq->parts;
    kq->parts = p;
    return p;
}

/* Unlink p from the assigned partitions (it is being revoked). */
void
kq_part_detach(kq_part_t *p)
{
    kq_part_t  **pp;

    for (pp = &p->kq->parts; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    p->next = NULL;
}

/* Free p and every item still in its window (none may be with a handler
 * or the producer any more). */
void
kq_part_free(kq_part_t *p)
{
    kq_item_t  *it, *next;

    for (it = p->head; it != NULL; it = next) {
        next = it->next;
        kq_item_free(it);
    }
    free(p->topic);
    free(p);
}

/* FNV-1a: same key, same hash; collisions only cost parallelism. */
static uint32_t
key_hash(const void *key, size_t len)
{
    const unsigned char  *k = key;
    uint32_t              h = 2166136261u;
    size_t                i;

    for (i = 0; i < len; i++) {
        h = (h ^ k[i]) * 16777619u;
    }
    return h | 1;   /* 0 is "no key" */
}

/*
 * An item for rkm, which it takes over; its part is set when it is
 * appended.  NULL when out of memory (rkm is then still the caller's).
 */
kq_item_t *
kq_item_new(kq_t *kq, rd_kafka_message_t *rkm)
{
    rd_kafka_headers_t  *hdrs;
    kq_item_t           *it;
    const void          *val;
    const char          *name;
    size_t               n, i, size;

    it = calloc(1, sizeof(kq_item_t));
    if (it == NULL) {
        return NULL;
    }
    ll_msg_init(&it->msg);
    if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR
        && (n = rd_kafka_header_cnt(hdrs)) > 0)
    {
        it->headers = calloc(n, sizeof(ll_header_t));
        if (it->headers == NULL) {
            free(it);
            return NULL;
        }
        for (i = 0; i < n; i++) {
            if (rd_kafka_header_get_all(hdrs, i, &name, &val, &size) != 0) {
                break;
            }
            it->headers[i].name = name;
            it->headers[i].value = val;
            it->headers[i].value_len = val != NULL ? size : 0;
        }
        it->msg.nheaders = i;
        it->msg.headers = it->headers;
    }

    it->dr_kind = KQ_DR_ITEM;
    it->rkm = rkm;
    it->state = KQ_WAITING;
    it->dlq_cap = SIZE_MAX;

    it->partition = rkm->partition;
    it->offset = rkm->offset;
    it->opts[0] = (ll_opt_t) LL_OPT_S("topic", rd_kafka_topic_name(rkm->rkt));
    it->opts[1] = (ll_opt_t) LL_OPT_N("partition", rkm->partition);
    it->opts[2] = (ll_opt_t) LL_OPT_N("offset", rkm->offset);
    it->msg.opts = it->opts;
    it->msg.nopts = 3;
    it->msg.source = ll_instance_name(kq->in);
    it->msg.type = rd_kafka_topic_name(rkm->rkt);
    it->msg.key = rkm->key;
    it->msg.key_len = rkm->key != NULL ? rkm->key_len : 0;
    it->msg.payload = rkm->payload;
    it->msg.payload_len = rkm->payload != NULL ? rkm->len : 0;
    it->msg.max_retry = (int) kq->conf->max_retries;
    it->key_hash = rkm->key != NULL ? key_hash(rkm->key, rkm->key_len) : 0;
    return it;
}

/* @locality any thread, without kq->lock (it calls librdkafka) */
void
kq_item_free(kq_item_t *it)
{
    rd_kafka_message_destroy(it->rkm);
    free(it->headers);
    free(it->error);
    free(it);
}

void
kq_part_append(kq_part_t *p, kq_item_t *it)
{
    it->part = p;
    if (p->tail != NULL) {
        p->tail->next = it;
    } else {
        p->head = it;
    }
    p->tail = it;
    if (p->scan == NULL) {
        p->scan = it;
    }
    p->count++;
    p->next_offset = it->offset + 1;
}

static void
take(kq_part_t *p, kq_item_t *it, kq_item_t **batch)
{
    it->state = KQ_INFLIGHT;
    p->busy++;
    if (p->kq->order == KQ_ORDER_KEY && it->key_hash != 0) {
        p->keys[p->nkeys++] = it->key_hash;
    }
    it->dnext = *batch;
    *batch = it;
}

/* it leaves work (handled, or given up): one busy less, its key free. */
void
kq_part_unbusy(kq_part_t *p, const kq_item_t *it)
{
    int  i;

    p->busy--;
    if (p->kq->order != KQ_ORDER_KEY || it->key_hash == 0) {
        return;
    }
    for (i = 0; i < p->nkeys; i++) {
        if (p->keys[i] == it->key_hash) {
            p->keys[i] = p->keys[--p->nkeys];
            return;
        }
    }
}

static int
key_in_work(const kq_part_t *p, uint32_t h)
{
    int  i;

    for (i = 0; i < p->nkeys; i++) {
        if (p->keys[i] == h) {
            return 1;
        }
    }
    return 0;
}

/*
 * Move what may run now to INFLIGHT and push it on *batch, by the order
 * setting: partition (one at a time), key (a key waits for its earlier
 * messages; messages without a key run freely), none.  Nothing starts on a
 * revoking partition or once the consumer stops.
 */
void
kq_part_pick(kq_part_t *p, kq_item_t **batch)
{
    kq_t       *kq = p->kq;
    kq_item_t  *it;
    int         limit, passed = 0;

    if (p->revoking || kq->stopping) {
        return;
    }
    /* items leave WAITING for good, so the cursor only moves on */
    while (p->scan != NULL && p->scan->state != KQ_WAITING) {
        p->scan = p->scan->next;
    }
    limit = kq->order == KQ_ORDER_PARTITION ? 1 : (int) kq->conf->parallelism;
    for (it = p->scan; it != NULL && p->busy < limit; it = it->next) {
        if (it->state != KQ_WAITING) {
            continue;
        }
        if (kq->order == KQ_ORDER_KEY && it->key_hash != 0) {
            /* the walk takes the first waiting message of each key, so
             * only a key in work can hold one back; it gives up after
             * KQ_KEY_LOOKAHEAD held-back messages, so that a hot key does
             * not cost a walk of the whole window per message */
            if (key_in_work(p, it->key_hash)) {
                if (++passed == KQ_KEY_LOOKAHEAD) {
                    break;
                }
                continue;
            }
            if (p->nkeys == KQ_KEYS_MAX) {
                break;
            }
        }
        take(p, it, batch);
    }
}

/* Unlink the handled items at the window's head; returns them (dnext) for
 * kq_item_free outside the lock, and marks the partition dirty. */
kq_item_t *
kq_part_release(kq_part_t *p)
{
    kq_item_t  *it, *freed = NULL;

    while ((it = p->head) != NULL && it->state == KQ_HANDLED) {
        p->head = it->next;
        if (p->scan == it) {
            p->scan = it->next;
        }
        if (p->head == NULL) {
            p->tail = NULL;
        }
        p->count--;
        p->dirty = 1;
        it->dnext = freed;
        freed = it;
    }
    return freed;
}

/* The offset to commit: every message below it was handled.  -1 if
 * nothing was fetched yet. */
int64_t
kq_part_safe_offset(const kq_part_t *p)
{
    return p->head != NULL ? p->head->offset : p->next_offset;
}

void
kq_timer_add(kq_t *kq, kq_item_t *it, int64_t due_ms)
{
    kq_item_t  **pp;

    it->due_ms = due_ms;
    for (pp = &kq->timers; *pp != NULL && (*pp)->due_ms <= due_ms;
         pp = &(*pp)->tnext)
    {
        /* keep the list sorted by due time */
    }
    it->tnext = *pp;
    *pp = it;
}

void
kq_timer_remove(kq_t *kq, kq_item_t *it)
{
    kq_item_t  **pp;

    for (pp = &kq->timers; *pp != NULL; pp = &(*pp)->tnext) {
        if (*pp == it) {
            *pp = it->tnext;
            it->tnext = NULL;
            return;
        }
    }
}
