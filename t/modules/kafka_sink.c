/*
 * kafka_sink: a test handler for the kafka module's tests.
 *
 * Appends one line per call to `file` (one write(), O_APPEND, so several
 * worker processes can share the file), fields separated by tabs:
 *
 *     pid=P  topic=T  partition=N  offset=O  attempt=A  max_retry=M
 *     key=K  value=V  headers=name:value,...
 *
 * Key, value and header bytes outside printable ASCII (and \t \\ , :) are
 * written as \xNN; NULL as "(null)".  The answer is chosen by the value:
 *
 *     fail...            LL_FAIL  "fixture says fail"
 *     retry-once...      LL_RETRY on attempt 0, then done
 *     retry-delay:MS...  LL_RETRY with retry_delay_ms = MS, every time
 *     retry...           LL_RETRY every time
 *     revoke...          LL_REVOKE
 *     sleep:MS...        done after MS (given up early if cancelled)
 *     anything else      done (after the `sleep` setting)
 *
 * With json = true a value that is not {...} is answered LL_FAIL
 * "malformed JSON", as a real handler would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <looklook/looklook.h>

typedef struct {
    char       *file;
    int64_t     sleep_ms;
    int         json;
} ks_conf_t;

typedef struct {
    ks_conf_t  *conf;
    int         fd;
} ks_t;

static const ll_conf_field_t ks_schema[] = {
    LL_SET_STR(ks_conf_t, file, "file", LL_CONF_REQUIRED, NULL,
      "file each call is appended to"),
    LL_SET_DURATION(ks_conf_t, sleep_ms, "sleep", 0, "0", 0, 0,
      "time every message takes"),
    LL_SET_BOOL(ks_conf_t, json, "json", 0, "false",
      "fail values that are not {...}"),
    LL_SET_END
};

static int
ks_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    ks_t  *ks = calloc(1, sizeof(ks_t));

    if (ks == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ks->conf = conf;
    ks->fd = -1;
    ll_set_data(in, ks);
    return 0;
}

static int
ks_start(ll_instance_t *in, char *err, size_t errlen)
{
    ks_t  *ks = ll_get_data(in);

    ks->fd = open(ks->conf->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0644);
    if (ks->fd == -1) {
        snprintf(err, errlen, "%s: %s", ks->conf->file, strerror(errno));
        return -1;
    }
    return 0;
}

static void
ks_fini(ll_instance_t *in)
{
    ks_t  *ks = ll_get_data(in);

    if (ks != NULL && ks->fd != -1) {
        close(ks->fd);
    }
    free(ks);
}

/* Append bytes escaped; returns the new length (bounded by cap). */
static size_t
put(char *buf, size_t len, size_t cap, const void *data, size_t n)
{
    const unsigned char  *p = data;
    size_t                i;

    if (data == NULL) {
        return len + (size_t) snprintf(buf + len, len < cap ? cap - len : 0,
                                       "(null)");
    }
    for (i = 0; i < n && len + 5 < cap; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\\' || p[i] == ','
            || p[i] == ':')
        {
            len += (size_t) snprintf(buf + len, cap - len, "\\x%02x", p[i]);
        } else {
            buf[len++] = (char) p[i];
        }
    }
    return len;
}

static void
nap(const ll_msg_t *msg, int64_t ms)
{
    struct timespec  ts = { 0, 10 * 1000000 };

    for ( ; ms > 0 && !ll_msg_cancelled(msg); ms -= 10) {
        nanosleep(&ts, NULL);
    }
}

static int
starts(const ll_msg_t *msg, const char *prefix)
{
    size_t  n = strlen(prefix);

    return msg->payload != NULL && msg->payload_len >= n
           && memcmp(msg->payload, prefix, n) == 0;
}

static int
ks_handle(ll_instance_t *in, const ll_msg_t *msg, ll_result_t *res)
{
    ks_t    *ks = ll_get_data(in);
    char     line[16384], num[32];
    /* room past cap for the fixed texts appended after a field that
     * filled the line (a 1 MB value): "\tvalue=", "\theaders=", "\n" */
    size_t   len, i, cap = sizeof(line) - 32;
    int64_t  ms;

    len = (size_t) snprintf(line, cap, "pid=%d\ttopic=%s\tpartition=%d\t"
                            "offset=%lld\tattempt=%d\tmax_retry=%d\tkey=",
                            (int) getpid(), msg->type ? msg->type : "",
                            (int) ll_msg_opt_num(msg, "partition", -1),
                            (long long) ll_msg_opt_num(msg, "offset", -1),
                            msg->attempt, msg->max_retry);
    len = put(line, len, cap, msg->key, msg->key_len);
    memcpy(line + len, "\tvalue=", 7);
    len += 7;
    len = put(line, len, cap, msg->payload, msg->payload_len);
    memcpy(line + len, "\theaders=", 9);
    len += 9;
    for (i = 0; i < msg->nheaders && len + 8 < cap; i++) {
        if (i > 0) {
            line[len++] = ',';
        }
        len = put(line, len, cap, msg->headers[i].name,
                  strlen(msg->headers[i].name));
        line[len++] = ':';
        len = put(line, len, cap, msg->headers[i].value,
                  msg->headers[i].value_len);
    }
    line[len++] = '\n';
    if (write(ks->fd, line, len) != (ssize_t) len) {
        return ll_retry(res, -1, "fixture: write: %s", strerror(errno));
    }

    if (starts(msg, "fail")) {
        return ll_fail(res, "fixture says fail");
    }
    if (starts(msg, "retry-once")) {
        return msg->attempt == 0 ? ll_retry(res, -1, "fixture says retry once")
                                 : LL_DONE;
    }
    if (starts(msg, "retry-delay:")) {
        snprintf(num, sizeof(num), "%.*s",
                 (int) (msg->payload_len - 12 < 20 ? msg->payload_len - 12
                                                   : 20),
                 (const char *) msg->payload + 12);
        return ll_retry(res, atoll(num), "fixture says retry after %lld ms",
                        atoll(num));
    }
    if (starts(msg, "retry")) {
        return ll_retry(res, -1, "fixture says retry");
    }
    if (starts(msg, "revoke")) {
        return LL_REVOKE;
    }
    if (ks->conf->json
        && (msg->payload == NULL || msg->payload_len < 2
            || ((const char *) msg->payload)[0] != '{'
            || ((const char *) msg->payload)[msg->payload_len - 1] != '}'))
    {
        return ll_fail(res, "malformed JSON");
    }
    ms = ks->conf->sleep_ms;
    if (starts(msg, "sleep:")) {
        snprintf(num, sizeof(num), "%.*s",
                 (int) (msg->payload_len - 6 < 20 ? msg->payload_len - 6 : 20),
                 (const char *) msg->payload + 6);
        ms = atoll(num);
    }
    nap(msg, ms);
    return LL_DONE;
}

LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_BUSINESS,
    .name = "kafka_sink",
    .version = "1",
    .description = "test handler: records what the kafka module hands it",
    .conf = ks_schema,
    .conf_size = sizeof(ks_conf_t),
    .init = ks_init,
    .start = ks_start,
    .fini = ks_fini,
    .handle = ks_handle,
};
