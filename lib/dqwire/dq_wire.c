/*
 * dq_wire: go-queue's dq body wrapper and de-duplication lock (dq_wire.h).
 *
 * The consumer looks for the '/' among the first (digits of now in ns + 2)
 * bytes and reads the number as Go's strconv.ParseInt(s, 10, 64) does (an
 * optional sign, decimal digits, no overflow).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "dq_wire.h"

/* go-zero's lock: renew our own value, else set only when free */
static rq_script_t  dq_lock_script = RQ_SCRIPT(
    "local v = redis.call('GET', KEYS[1])\n"
    "if v == ARGV[1] then\n"
    "  return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "end\n"
    "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\n");


size_t
dq_wrap_prefix(char *buf, size_t len, int64_t at_ns)
{
    int  n = snprintf(buf, len, "%" PRId64 "/", at_ns);

    return n > 0 && (size_t) n < len ? (size_t) n : 0;
}


/* strconv.ParseInt(s, 10, 64): 0, or -1 when Go would refuse s */
static int
dq_parse_int64(const char *s, size_t n, int64_t *v)
{
    uint64_t  acc = 0, lim;
    size_t    i = 0;
    int       neg = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n) {
        return -1;
    }
    lim = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        if (acc > (lim - (uint64_t) (s[i] - '0')) / 10) {
            return -1;
        }
        acc = acc * 10 + (uint64_t) (s[i] - '0');
    }
    *v = neg ? (int64_t) (0 - acc) : (int64_t) acc;
    return 0;
}


int
dq_unwrap(const char *body, size_t len, int64_t now_ns, int64_t *at_ns,
    const char **task, size_t *task_len, char *why, size_t whylen)
{
    char        digits[24];
    size_t      max_check, i;
    const char *sep = NULL;

    max_check = (size_t) snprintf(digits, sizeof(digits), "%" PRId64, now_ns)
                + 2;
    for (i = 0; i < max_check && i < len; i++) {
        if (body[i] == '/') {
            sep = body + i;
            break;
        }
    }
    if (sep == NULL) {
        snprintf(why, whylen, "no \"<unix ns>/\" due time before the body");
        return -1;
    }
    if (dq_parse_int64(body, (size_t) (sep - body), at_ns) != 0) {
        snprintf(why, whylen, "due time \"%.*s\" is not a 64-bit integer",
                 (int) (sep - body), body);
        return -1;
    }
    /* Go: time.Unix(0, at).Add(30 * time.Minute).Before(time.Now()) */
    if (*at_ns < now_ns - (int64_t) DQ_STALE_MS * 1000000) {
        snprintf(why, whylen, "due at %" PRId64 " ns, more than 30 minutes "
                 "ago", *at_ns);
        return -2;
    }
    *task = sep + 1;
    *task_len = len - (size_t) (sep + 1 - body);
    return 0;
}


static void
dq_md5_hex(const void *data, size_t len, char *hex, size_t nhex)
{
    static const char  xd[] = "0123456789abcdef";
    unsigned char      md[EVP_MAX_MD_SIZE];
    unsigned int       mdlen = 0, i;

    EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
    for (i = 0; i < mdlen && 2 * i + 2 < nhex + 1; i++) {
        hex[2 * i] = xd[md[i] >> 4];
        hex[2 * i + 1] = xd[md[i] & 15];
    }
    hex[2 * i < nhex ? 2 * i : nhex] = '\0';
}


void
dq_lock_key(const void *body, size_t len, char key[33])
{
    dq_md5_hex(body, len, key, 32);
}


/* go-zero's value is 16 random letters and digits, unique to one lock
 * attempt; ours is the same shape but derived from the job's node and id,
 * so the same job reserved again (a retry, a TTR expiry, a kick) finds its
 * own lock, while a copy on another node finds another's. */
void
dq_lock_value(const char *id_text, char value[17])
{
    dq_md5_hex(id_text, strlen(id_text), value, 16);
}


int
dq_lock(rq_redis_t *r, const char *key, const char *value)
{
    char         px[24];
    const char  *argv[3] = { key, value, px };
    redisReply  *rep;
    int          rc;

    snprintf(px, sizeof(px), "%d", DQ_LOCK_SECONDS * 1000 + DQ_LOCK_SLACK_MS);
    rep = rq_redis_eval(r, &dq_lock_script, 1, 3, argv, NULL);
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        rc = 0;
    } else if (rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0) {
        rc = 1;
    } else {
        snprintf(r->err, sizeof(r->err), "lock: unexpected reply %.80s",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        rc = -1;
    }
    freeReplyObject(rep);
    return rc;
}
