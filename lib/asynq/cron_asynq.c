/*
 * cron_asynq: entry IDs, Go text formats and asynq's scheduler messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "asynq.pb-c.h"
#include "cron_asynq.h"

/* looklook's namespace for cron entry UUIDs (a fixed random v4 UUID). */
static const uint8_t cron_ns[16] = {
    0x3f, 0x0c, 0x4a, 0x8e, 0x7b, 0x2d, 0x4f, 0x61,
    0x9a, 0x53, 0x1c, 0x5e, 0x2d, 0x8b, 0x7a, 0x90
};

void
cron_entry_uuid(const char *id, char out[37])
{
    EVP_MD_CTX    *ctx;
    uint8_t        md[EVP_MAX_MD_SIZE];
    unsigned int   mdlen = 0;
    int            i, o = 0;

    memset(md, 0, sizeof(md));
    ctx = EVP_MD_CTX_new();
    if (ctx != NULL) {
        EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
        EVP_DigestUpdate(ctx, cron_ns, sizeof(cron_ns));
        EVP_DigestUpdate(ctx, id, strlen(id));
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
    }
    md[6] = (uint8_t) ((md[6] & 0x0f) | 0x50);     /* version 5 */
    md[8] = (uint8_t) ((md[8] & 0x3f) | 0x80);     /* RFC 4122 variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        o += snprintf(out + o, 3, "%02x", md[i]);
    }
    out[36] = '\0';
}

void
cron_go_duration(int64_t ms, char *buf, size_t len)
{
    int64_t  h, m, s, frac;
    char     f[8] = "";
    int      n;

    if (ms == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf(buf, len, "%lldms", (long long) ms);
        return;
    }
    h = ms / 3600000;
    m = ms / 60000 % 60;
    s = ms / 1000 % 60;
    frac = ms % 1000;
    if (frac) {
        n = snprintf(f, sizeof(f), ".%03lld", (long long) frac);
        while (n > 1 && f[n - 1] == '0') {
            f[--n] = '\0';
        }
    }
    if (h) {
        snprintf(buf, len, "%lldh%lldm%lld%ss", (long long) h, (long long) m,
                 (long long) s, f);
    } else if (m) {
        snprintf(buf, len, "%lldm%lld%ss", (long long) m, (long long) s, f);
    } else {
        snprintf(buf, len, "%lld%ss", (long long) s, f);
    }
}

void
cron_go_quote(const char *s, char *buf, size_t len)
{
    size_t  o = 0;

    if (len < 3) {
        buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    for (; *s && o + 6 < len; s++) {
        unsigned char c = (unsigned char) *s;

        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char) c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t) snprintf(buf + o, len - o, "\\x%02x", c);
        } else {
            buf[o++] = (char) c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

static void
cron_ts(Asynq__Timestamp *ts, int64_t unix_s)
{
    asynq__timestamp__init(ts);
    ts->seconds = unix_s;
}

static uint8_t *
cron_pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t  *buf;

    *len = protobuf_c_message_get_packed_size(m);
    buf = malloc(*len ? *len : 1);
    if (buf != NULL) {
        protobuf_c_message_pack(m, buf);
    }
    return buf;
}

uint8_t *
cron_encode_entry(const char *uuid, const char *spec, const char *type,
    const void *payload, size_t payload_len, char **options, size_t noptions,
    int64_t next, int64_t prev, size_t *len)
{
    Asynq__SchedulerEntry  e;
    Asynq__Timestamp       tn, tp;

    asynq__scheduler_entry__init(&e);
    e.id = (char *) uuid;
    e.spec = (char *) spec;
    e.task_type = (char *) type;
    e.task_payload.data = (uint8_t *) payload;
    e.task_payload.len = payload_len;
    e.enqueue_options = options;
    e.n_enqueue_options = noptions;
    cron_ts(&tn, next);
    cron_ts(&tp, prev != 0 ? prev : CRON_GO_ZERO_TIME);
    e.next_enqueue_time = &tn;
    e.prev_enqueue_time = &tp;
    return cron_pack(&e.base, len);
}

uint8_t *
cron_encode_event(const char *task_id, int64_t enqueue_time, size_t *len)
{
    Asynq__SchedulerEnqueueEvent  ev;
    Asynq__Timestamp              t;

    asynq__scheduler_enqueue_event__init(&ev);
    ev.task_id = (char *) task_id;
    cron_ts(&t, enqueue_time);
    ev.enqueue_time = &t;
    return cron_pack(&ev.base, len);
}
