/*
 * rq_task: asynq key names, message checks, IDs and clocks.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <openssl/evp.h>
#include <uuid/uuid.h>

#include "rq_task.h"


int
rq_keys_init(rq_keys_t *k, const char *q)
{
    if (!rq_name_ok(q, RQ_QNAME_MAX)) {
        return -1;
    }
    memcpy(k->name, q, strlen(q) + 1);
#define RQ_K(f, s)  snprintf(k->f, sizeof(k->f), "asynq:{%s}:" s, q)
    RQ_K(pending, "pending");
    RQ_K(active, "active");
    RQ_K(lease, "lease");
    RQ_K(scheduled, "scheduled");
    RQ_K(retry, "retry");
    RQ_K(archived, "archived");
    RQ_K(completed, "completed");
    RQ_K(paused, "paused");
    RQ_K(processed, "processed");
    RQ_K(failed, "failed");
    RQ_K(task_prefix, "t:");
    RQ_K(group_prefix, "g:");
#undef RQ_K
    return 0;
}


int
rq_task_key(char *buf, size_t len, const rq_keys_t *k, const char *id)
{
    int  n;

    n = snprintf(buf, len, "%s%s", k->task_prefix, id);
    return n < 0 || (size_t) n >= len ? -1 : 0;
}


void
rq_day_key(char *buf, size_t len, const char *total_key, int64_t now_s)
{
    struct tm  tm;
    time_t     t = (time_t) now_s;

    gmtime_r(&t, &tm);
    snprintf(buf, len, "%s:%04d-%02d-%02d", total_key, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
}


const char *
rq_state_key(const rq_keys_t *k, const char *state)
{
    static const struct { const char *name; size_t off; } map[] = {
        { "pending",   offsetof(rq_keys_t, pending) },
        { "active",    offsetof(rq_keys_t, active) },
        { "scheduled", offsetof(rq_keys_t, scheduled) },
        { "retry",     offsetof(rq_keys_t, retry) },
        { "archived",  offsetof(rq_keys_t, archived) },
        { "completed", offsetof(rq_keys_t, completed) },
    };
    size_t  i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(state, map[i].name) == 0) {
            return (const char *) k + map[i].off;
        }
    }
    return NULL;
}


/* Random bytes for rq_uuid, 64 IDs' worth per getrandom call: libuuid's
 * uuid_generate_random reseeds random() on every call, which was a third
 * of a bulk enqueue's client time.  A forked child starts with an empty
 * pool, or it would hand out its parent's next IDs. */
#define RQ_POOL  (64 * sizeof(uuid_t))

static _Thread_local uint8_t  rq_pool[RQ_POOL];
static _Thread_local size_t   rq_pool_left;
static pthread_once_t         rq_pool_once = PTHREAD_ONCE_INIT;

static void
rq_pool_forget(void)
{
    rq_pool_left = 0;
}


static void
rq_pool_init(void)
{
    pthread_atfork(NULL, NULL, rq_pool_forget);
}


void
rq_uuid(char out[37])
{
    uuid_t  u;

    pthread_once(&rq_pool_once, rq_pool_init);
    if (rq_pool_left == 0
        && getrandom(rq_pool, RQ_POOL, 0) == (ssize_t) RQ_POOL)
    {
        rq_pool_left = RQ_POOL;
    }
    if (rq_pool_left == 0) {
        uuid_generate_random(u);
    } else {
        rq_pool_left -= sizeof(uuid_t);
        memcpy(u, rq_pool + rq_pool_left, sizeof(uuid_t));
        memset(rq_pool + rq_pool_left, 0, sizeof(uuid_t));
        u[6] = (u[6] & 0x0f) | 0x40;    /* version 4 */
        u[8] = (u[8] & 0x3f) | 0x80;    /* RFC 4122 variant */
    }
    uuid_unparse_lower(u, out);
}


int
rq_utf8_valid(const char *s, size_t n)
{
    const unsigned char  *p = (const unsigned char *) s, *end = p + n;
    unsigned              c, need, cp, min;

    while (p < end) {
        c = *p++;
        if (c < 0x80) {
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            need = 1; cp = c & 0x1f; min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2; cp = c & 0x0f; min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        if ((size_t) (end - p) < need) {
            return 0;
        }
        while (need--) {
            if ((*p & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }
    return 1;
}


int
rq_name_ok(const char *s, size_t max)
{
    size_t  n, i;

    if (s == NULL) {
        return 0;
    }
    n = strlen(s);
    if (n == 0 || n > max || !rq_utf8_valid(s, n)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!isspace((unsigned char) s[i])) {
            return 1;
        }
    }
    return 0;
}


int
rq_unique_key(char *buf, size_t len, const char *q, const char *type,
    const void *payload, size_t payload_len)
{
    unsigned char  md[EVP_MAX_MD_SIZE];
    unsigned int   mdlen = 0;
    char           hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    unsigned int   i;
    int            n;

    if (payload_len > 0) {
        if (EVP_Digest(payload, payload_len, md, &mdlen, EVP_md5(), NULL) != 1)
        {
            return -1;
        }
        for (i = 0; i < mdlen; i++) {
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
    }
    n = snprintf(buf, len, "asynq:{%s}:unique:%s:%s", q, type, hex);
    return n < 0 || (size_t) n >= len ? -1 : 0;
}


static int
rq_str_ok(const char *s)
{
    return rq_utf8_valid(s, strlen(s));
}


/* Whether m kept a field numbered 0: protobuf-c takes one whose tag is a
 * long varint (0x85 0x00), keeps it as unknown, then writes it back as a
 * tag it refuses itself; Go refuses it at once. */
static int
rq_has_field0(const ProtobufCMessage *m)
{
    unsigned  i;

    for (i = 0; i < m->n_unknown_fields; i++) {
        if (m->unknown_fields[i].tag == 0) {
            return 1;
        }
    }
    return 0;
}


Asynq__TaskMessage *
rq_msg_decode(const void *buf, size_t len, char *err, size_t errlen)
{
    Asynq__TaskMessage  *m;
    size_t               i;

    m = asynq__task_message__unpack(NULL, len, buf);
    if (m == NULL) {
        snprintf(err, errlen, "undecodable task message (%zu bytes)", len);
        return NULL;
    }
    for (i = 0; i < m->n_headers && !rq_has_field0(&m->headers[i]->base); i++) {
        /* void */
    }
    if (rq_has_field0(&m->base) || i < m->n_headers) {
        snprintf(err, errlen, "undecodable task message (%zu bytes): field "
                 "number 0", len);
        goto bad;
    }
    /* no length limit on a stored ID: a Go client may set any TaskID */
    if (!rq_name_ok(m->type, SIZE_MAX) || !rq_name_ok(m->id, SIZE_MAX)
        || !rq_name_ok(m->queue, RQ_QNAME_MAX))
    {
        snprintf(err, errlen, "task message without a valid type, id or "
                 "queue");
        goto bad;
    }
    if (!rq_str_ok(m->error_msg) || !rq_str_ok(m->unique_key)
        || !rq_str_ok(m->group_key))
    {
        snprintf(err, errlen, "task message with invalid UTF-8 text");
        goto bad;
    }
    for (i = 0; i < m->n_headers; i++) {
        if (!rq_str_ok(m->headers[i]->key) || !rq_str_ok(m->headers[i]->value))
        {
            snprintf(err, errlen, "task message with an invalid header");
            goto bad;
        }
    }
    return m;

bad:
    asynq__task_message__free_unpacked(m, NULL);
    return NULL;
}


uint8_t *
rq_msg_pack(const Asynq__TaskMessage *m, size_t *len)
{
    uint8_t  *buf;

    *len = asynq__task_message__get_packed_size(m);
    buf = malloc(*len ? *len : 1);
    if (buf != NULL) {
        asynq__task_message__pack(m, buf);
    }
    return buf;
}


uint8_t *
rq_msg_replacement(const char *id, const char *queue, const void *raw,
    size_t rawlen, const char *why, int64_t now_s, size_t *len)
{
    Asynq__TaskMessage  m = ASYNQ__TASK_MESSAGE__INIT;

    m.type = (char *) "looklook:undecodable";
    m.id = (char *) id;
    m.queue = (char *) queue;
    m.payload.data = (uint8_t *) raw;
    m.payload.len = rawlen;
    m.error_msg = (char *) why;
    m.last_failed_at = now_s;
    m.timeout = RQ_DEFAULT_TIMEOUT_S;
    return rq_msg_pack(&m, len);
}
