/*
 * bs_client: beanstalkd's text protocol over one non-blocking TCP socket,
 * every command bounded by a deadline (poll).  See bs_client.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "bs_client.h"
#include "lt_clock.h"

/* the longest reply line: "RESERVED <id> <bytes>", "USING <200 bytes>" */
#define BS_LINE_MAX  256


/* Close the socket after a failure and say why; BS_EIO. */
static int
bs_fail(bs_conn_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->in_len = 0;
    return BS_EIO;
}


/* Wait until fd is readable/writable (events) or the deadline passes:
 * 1 ready, 0 timed out, -1 error. */
static int
bs_wait(bs_conn_t *c, short events, int64_t deadline)
{
    struct pollfd  p = { .fd = c->fd, .events = events };
    int64_t        left;
    int            n;

    for ( ;; ) {
        left = deadline - lt_mono_ms();
        if (left <= 0) {
            return 0;
        }
        n = poll(&p, 1, left > 60000 ? 60000 : (int) left);
        if (n > 0) {
            return 1;
        }
        if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
}


void
bs_init(bs_conn_t *c, int64_t timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
}


void
bs_close(bs_conn_t *c)
{
    if (c == NULL) {
        return;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    free(c->body);
    c->body = NULL;
    c->body_len = c->body_cap = c->in_len = 0;
}


/* Split "host:port", "[v6]:port" or "host" into host and port. */
static int
bs_split(const char *ep, char *host, size_t hlen, char *port, size_t plen)
{
    const char  *colon, *h = ep;
    size_t       n;

    if (ep[0] == '[') {
        const char  *close_br = strchr(ep, ']');

        if (close_br == NULL) {
            return -1;
        }
        h = ep + 1;
        n = (size_t) (close_br - h);
        colon = close_br[1] == ':' ? close_br + 1 : NULL;
        if (close_br[1] != '\0' && colon == NULL) {
            return -1;
        }
    } else {
        colon = strrchr(ep, ':');
        n = colon ? (size_t) (colon - ep) : strlen(ep);
    }
    if (n == 0 || n >= hlen) {
        return -1;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, plen, "%s", colon && colon[1] ? colon + 1 : "11300");
    return 0;
}


int
bs_connect(bs_conn_t *c, const char *endpoint)
{
    struct addrinfo   hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
    char              host[256], port[32];
    int64_t           deadline = lt_mono_ms() + c->timeout_ms;
    int               rc, fd, soerr, one = 1;
    socklen_t         sl = sizeof(soerr);

    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->in_len = 0;
    snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint);
    if (bs_split(endpoint, host, sizeof(host), port, sizeof(port)) != 0) {
        return bs_fail(c, "bad endpoint \"%s\" (host:port)", endpoint);
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        return bs_fail(c, "%s: %s", endpoint, gai_strerror(rc));
    }
    rc = BS_EIO;
    snprintf(c->err, sizeof(c->err), "%s: no address", endpoint);
    for (ai = res; ai != NULL && rc != BS_OK; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            snprintf(c->err, sizeof(c->err), "%s: socket: %s", endpoint,
                     strerror(errno));
            continue;
        }
        c->fd = fd;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            rc = BS_OK;
        } else if (errno != EINPROGRESS) {
            bs_fail(c, "connect %s: %s", endpoint, strerror(errno));
        } else if (bs_wait(c, POLLOUT, deadline) <= 0) {
            bs_fail(c, "connect %s: timed out", endpoint);
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0
                   || soerr != 0)
        {
            bs_fail(c, "connect %s: %s", endpoint, strerror(soerr));
        } else {
            rc = BS_OK;
        }
    }
    freeaddrinfo(res);
    if (rc == BS_OK) {
        /* replies are small and commands go one at a time: no Nagle delay */
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->err[0] = '\0';
    }
    return rc;
}


int
bs_tube_valid(const char *name)
{
    size_t  n = strlen(name), i;

    if (n == 0 || n > BS_TUBE_MAX || name[0] == '-') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char  ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || strchr("-+/;.$_()", ch)))
        {
            return 0;
        }
    }
    return 1;
}


/* Write a command line and, when data is not NULL, its data and CRLF. */
static int
bs_send(bs_conn_t *c, const char *line, size_t llen, const void *data,
    size_t dlen, int64_t deadline)
{
    struct iovec  iov[3] = {
        { (void *) line, llen }, { (void *) data, dlen }, { "\r\n", 2 }
    };
    int           niov = data != NULL ? 3 : 1, i = 0;
    ssize_t       n;

    while (i < niov) {
        struct msghdr  mh = { .msg_iov = iov + i, .msg_iovlen = niov - i };

        n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return bs_fail(c, "%s: write: %s", c->endpoint, strerror(errno));
            }
            if (bs_wait(c, POLLOUT, deadline) <= 0) {
                return bs_fail(c, "%s: write timed out", c->endpoint);
            }
            continue;
        }
        while (i < niov && (size_t) n >= iov[i].iov_len) {
            n -= (ssize_t) iov[i].iov_len;
            i++;
        }
        if (i < niov) {
            iov[i].iov_base = (char *) iov[i].iov_base + n;
            iov[i].iov_len -= (size_t) n;
        }
    }
    return BS_OK;
}


/* Read more bytes into dst (up to cap) before the deadline: the count. */
static int
bs_read_some(bs_conn_t *c, char *dst, size_t cap, int64_t deadline)
{
    ssize_t  n;

    for ( ;; ) {
        n = read(c->fd, dst, cap);
        if (n > 0) {
            return (int) n;
        }
        if (n == 0) {
            return bs_fail(c, "%s: connection closed", c->endpoint);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return bs_fail(c, "%s: read: %s", c->endpoint, strerror(errno));
        }
        if (bs_wait(c, POLLIN, deadline) <= 0) {
            return bs_fail(c, "%s: no reply in time", c->endpoint);
        }
    }
}


/* One reply line, without its CRLF, into line (BS_LINE_MAX bytes). */
static int
bs_read_line(bs_conn_t *c, char *line, int64_t deadline)
{
    char    *crlf;
    size_t   n;
    int      got;

    for ( ;; ) {
        crlf = c->in_len > 1 ? memmem(c->in, c->in_len, "\r\n", 2) : NULL;
        if (crlf != NULL) {
            n = (size_t) (crlf - c->in);
            memcpy(line, c->in, n);
            line[n] = '\0';
            c->in_len -= n + 2;
            memmove(c->in, crlf + 2, c->in_len);
            return BS_OK;
        }
        if (c->in_len >= BS_LINE_MAX - 1) {
            return bs_fail(c, "%s: reply line too long", c->endpoint);
        }
        got = bs_read_some(c, c->in + c->in_len, BS_LINE_MAX - 1 - c->in_len,
                           deadline);
        if (got < 0) {
            return BS_EIO;
        }
        c->in_len += (size_t) got;
    }
}


/* The n data bytes and CRLF that follow a reply line, into c->body. */
static int
bs_read_data(bs_conn_t *c, size_t n, int64_t deadline)
{
    size_t  have, take;
    int     got;

    if (n + 3 > c->body_cap) {
        char  *b = realloc(c->body, n + 3);

        if (b == NULL) {
            return bs_fail(c, "%s: out of memory for %zu bytes", c->endpoint, n);
        }
        c->body = b;
        c->body_cap = n + 3;
    }
    take = c->in_len < n + 2 ? c->in_len : n + 2;
    memcpy(c->body, c->in, take);
    c->in_len -= take;
    memmove(c->in, c->in + take, c->in_len);
    for (have = take; have < n + 2; have += (size_t) got) {
        got = bs_read_some(c, c->body + have, n + 2 - have, deadline);
        if (got < 0) {
            return BS_EIO;
        }
    }
    if (c->body[n] != '\r' || c->body[n + 1] != '\n') {
        return bs_fail(c, "%s: data not ended by CRLF", c->endpoint);
    }
    c->body[n] = '\0';
    c->body_len = n;
    return BS_OK;
}


/* The code of a reply that is an answer of the server rather than the
 * one expected; BS_EIO (connection closed) for a line out of protocol. */
static int
bs_other(bs_conn_t *c, const char *line)
{
    static const struct { const char *text; int rc; } codes[] = {
        { "NOT_FOUND", BS_NOT_FOUND }, { "TIMED_OUT", BS_TIMED_OUT },
        { "DEADLINE_SOON", BS_DEADLINE_SOON }, { "NOT_IGNORED", BS_NOT_IGNORED },
        { "JOB_TOO_BIG", BS_JOB_TOO_BIG }, { "DRAINING", BS_DRAINING },
        { "OUT_OF_MEMORY", BS_SERVER_ERROR }, { "INTERNAL_ERROR", BS_SERVER_ERROR },
        { "BAD_FORMAT", BS_SERVER_ERROR }, { "UNKNOWN_COMMAND", BS_SERVER_ERROR },
        { "EXPECTED_CRLF", BS_SERVER_ERROR }
    };
    size_t  i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(line, codes[i].text) == 0) {
            snprintf(c->err, sizeof(c->err), "%s: %s", c->endpoint, line);
            return codes[i].rc;
        }
    }
    return bs_fail(c, "%s: unexpected reply \"%.60s\"", c->endpoint, line);
}


/*
 * Send a command (format, args) with optional data, read the reply line
 * into line.  wait_s: how long the server may take beyond the timeout
 * (a reserve's own timeout).
 */
static int
bs_cmd(bs_conn_t *c, char *line, uint32_t wait_s, const void *data,
    size_t dlen, const char *fmt, ...)
{
    char     cmd[BS_LINE_MAX + 8];
    va_list  ap;
    int      n;
    int64_t  deadline;

    if (c->fd < 0) {
        snprintf(c->err, sizeof(c->err), "%s: not connected", c->endpoint);
        return BS_EIO;
    }
    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof(cmd) - 2, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof(cmd) - 2) {
        snprintf(c->err, sizeof(c->err), "command too long");
        return BS_BAD_NAME;
    }
    memcpy(cmd + n, "\r\n", 2);
    deadline = lt_mono_ms() + c->timeout_ms + (int64_t) wait_s * 1000;
    if (bs_send(c, cmd, (size_t) n + 2, data, dlen, deadline) != BS_OK) {
        return BS_EIO;
    }
    return bs_read_line(c, line, deadline);
}


/* Read "<word> <id> <bytes>" and its data (RESERVED, FOUND, OK). */
static int
bs_job_reply(bs_conn_t *c, const char *line, const char *word, uint64_t *id,
    int64_t deadline)
{
    uint64_t  jid = 0, bytes;
    char      tail;
    size_t    wl = strlen(word);

    if (strncmp(line, word, wl) != 0 || line[wl] != ' ') {
        return bs_other(c, line);
    }
    if (id != NULL) {
        if (sscanf(line + wl, " %" SCNu64 " %" SCNu64 "%c", &jid, &bytes,
                   &tail) != 2)
        {
            return bs_fail(c, "%s: bad reply \"%.60s\"", c->endpoint, line);
        }
        *id = jid;
    } else if (sscanf(line + wl, " %" SCNu64 "%c", &bytes, &tail) != 1) {
        return bs_fail(c, "%s: bad reply \"%.60s\"", c->endpoint, line);
    }
    if (bytes > (uint64_t) 1 << 30) {
        return bs_fail(c, "%s: job of %" PRIu64 " bytes", c->endpoint, bytes);
    }
    return bs_read_data(c, (size_t) bytes, deadline);
}


/* A reply that must be exactly `want`. */
static int
bs_expect(bs_conn_t *c, int rc, const char *line, const char *want)
{
    if (rc != BS_OK) {
        return rc;
    }
    return strcmp(line, want) == 0 ? BS_OK : bs_other(c, line);
}


static int
bs_tube_cmd(bs_conn_t *c, const char *verb, const char *tube,
    const char *want)
{
    char  line[BS_LINE_MAX];
    int   rc;
    size_t wl = strlen(want);

    if (!bs_tube_valid(tube)) {
        snprintf(c->err, sizeof(c->err), "bad tube name \"%.60s\"", tube);
        return BS_BAD_NAME;
    }
    rc = bs_cmd(c, line, 0, NULL, 0, "%s %s", verb, tube);
    if (rc != BS_OK) {
        return rc;
    }
    return strncmp(line, want, wl) == 0 && line[wl] == ' '
           ? BS_OK : bs_other(c, line);
}


int
bs_use(bs_conn_t *c, const char *tube)
{
    return bs_tube_cmd(c, "use", tube, "USING");
}


int
bs_watch(bs_conn_t *c, const char *tube)
{
    return bs_tube_cmd(c, "watch", tube, "WATCHING");
}


int
bs_ignore(bs_conn_t *c, const char *tube)
{
    return bs_tube_cmd(c, "ignore", tube, "WATCHING");
}


int
bs_put(bs_conn_t *c, uint32_t pri, uint32_t delay_s, uint32_t ttr_s,
    const void *body, size_t len, uint64_t *id)
{
    char  line[BS_LINE_MAX];
    int   rc, n = 0;

    rc = bs_cmd(c, line, 0, body != NULL ? body : "", len,
                "put %" PRIu32 " %" PRIu32 " %" PRIu32 " %zu", pri, delay_s,
                ttr_s, len);
    if (rc != BS_OK) {
        return rc;
    }
    if (sscanf(line, "INSERTED %" SCNu64 "%n", id, &n) == 1 && line[n] == '\0') {
        return BS_OK;
    }
    if (sscanf(line, "BURIED %" SCNu64 "%n", id, &n) == 1 && line[n] == '\0') {
        snprintf(c->err, sizeof(c->err), "%s: buried (server out of memory)",
                 c->endpoint);
        return BS_BURIED;
    }
    return bs_other(c, line);
}


int
bs_reserve(bs_conn_t *c, uint32_t timeout_s, uint64_t *id)
{
    char     line[BS_LINE_MAX];
    int      rc;
    int64_t  deadline = lt_mono_ms() + c->timeout_ms + (int64_t) timeout_s * 1000;

    rc = bs_cmd(c, line, timeout_s, NULL, 0, "reserve-with-timeout %" PRIu32,
                timeout_s);
    return rc != BS_OK ? rc : bs_job_reply(c, line, "RESERVED", id, deadline);
}


int
bs_delete(bs_conn_t *c, uint64_t id)
{
    char  line[BS_LINE_MAX];

    return bs_expect(c, bs_cmd(c, line, 0, NULL, 0, "delete %" PRIu64, id),
                     line, "DELETED");
}


int
bs_release(bs_conn_t *c, uint64_t id, uint32_t pri, uint32_t delay_s)
{
    char  line[BS_LINE_MAX];
    int   rc;

    rc = bs_cmd(c, line, 0, NULL, 0, "release %" PRIu64 " %" PRIu32 " %" PRIu32,
                id, pri, delay_s);
    if (rc == BS_OK && strcmp(line, "BURIED") == 0) {
        snprintf(c->err, sizeof(c->err), "%s: buried (server out of memory)",
                 c->endpoint);
        return BS_BURIED;
    }
    return bs_expect(c, rc, line, "RELEASED");
}


int
bs_bury(bs_conn_t *c, uint64_t id, uint32_t pri)
{
    char  line[BS_LINE_MAX];

    return bs_expect(c, bs_cmd(c, line, 0, NULL, 0, "bury %" PRIu64 " %" PRIu32,
                               id, pri), line, "BURIED");
}


int
bs_touch(bs_conn_t *c, uint64_t id)
{
    char  line[BS_LINE_MAX];

    return bs_expect(c, bs_cmd(c, line, 0, NULL, 0, "touch %" PRIu64, id),
                     line, "TOUCHED");
}


int
bs_kick(bs_conn_t *c, uint32_t bound, uint64_t *count)
{
    char  line[BS_LINE_MAX];
    int   rc, n = 0;

    rc = bs_cmd(c, line, 0, NULL, 0, "kick %" PRIu32, bound);
    if (rc != BS_OK) {
        return rc;
    }
    if (sscanf(line, "KICKED %" SCNu64 "%n", count, &n) == 1 && line[n] == '\0') {
        return BS_OK;
    }
    return bs_other(c, line);
}


int
bs_kick_job(bs_conn_t *c, uint64_t id)
{
    char  line[BS_LINE_MAX];

    return bs_expect(c, bs_cmd(c, line, 0, NULL, 0, "kick-job %" PRIu64, id),
                     line, "KICKED");
}


int
bs_peek(bs_conn_t *c, uint64_t id)
{
    char     line[BS_LINE_MAX];
    uint64_t got;
    int      rc;
    int64_t  deadline = lt_mono_ms() + c->timeout_ms;

    rc = bs_cmd(c, line, 0, NULL, 0, "peek %" PRIu64, id);
    return rc != BS_OK ? rc : bs_job_reply(c, line, "FOUND", &got, deadline);
}


int
bs_peek_state(bs_conn_t *c, const char *state, uint64_t *id)
{
    char     line[BS_LINE_MAX];
    int      rc;
    int64_t  deadline = lt_mono_ms() + c->timeout_ms;

    if (strcmp(state, "ready") != 0 && strcmp(state, "delayed") != 0
        && strcmp(state, "buried") != 0)
    {
        snprintf(c->err, sizeof(c->err), "peek: no state \"%.40s\"", state);
        return BS_BAD_NAME;
    }
    rc = bs_cmd(c, line, 0, NULL, 0, "peek-%s", state);
    return rc != BS_OK ? rc : bs_job_reply(c, line, "FOUND", id, deadline);
}


int
bs_stats_job(bs_conn_t *c, uint64_t id)
{
    char     line[BS_LINE_MAX];
    int      rc;
    int64_t  deadline = lt_mono_ms() + c->timeout_ms;

    rc = bs_cmd(c, line, 0, NULL, 0, "stats-job %" PRIu64, id);
    return rc != BS_OK ? rc : bs_job_reply(c, line, "OK", NULL, deadline);
}


int
bs_stats_tube(bs_conn_t *c, const char *tube)
{
    char     line[BS_LINE_MAX];
    int      rc;
    int64_t  deadline = lt_mono_ms() + c->timeout_ms;

    if (!bs_tube_valid(tube)) {
        snprintf(c->err, sizeof(c->err), "bad tube name \"%.60s\"", tube);
        return BS_BAD_NAME;
    }
    rc = bs_cmd(c, line, 0, NULL, 0, "stats-tube %s", tube);
    return rc != BS_OK ? rc : bs_job_reply(c, line, "OK", NULL, deadline);
}


int64_t
bs_stat(const char *yaml, const char *key)
{
    size_t       kl = strlen(key);
    const char  *p;

    for (p = yaml; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
            char     *end;
            long long v = strtoll(p + kl + 2, &end, 10);

            return end == p + kl + 2 || v < 0 ? -1 : (int64_t) v;
        }
    }
    return -1;
}


const char *
bs_rc_name(int rc)
{
    switch (rc) {
    case BS_OK:             return "OK";
    case BS_EIO:            return "connection failed";
    case BS_NOT_FOUND:      return "NOT_FOUND";
    case BS_TIMED_OUT:      return "TIMED_OUT";
    case BS_DEADLINE_SOON:  return "DEADLINE_SOON";
    case BS_BURIED:         return "BURIED";
    case BS_NOT_IGNORED:    return "NOT_IGNORED";
    case BS_JOB_TOO_BIG:    return "JOB_TOO_BIG";
    case BS_DRAINING:       return "DRAINING";
    case BS_SERVER_ERROR:   return "server error";
    case BS_BAD_NAME:       return "bad name";
    default:                return "unknown";
    }
}
