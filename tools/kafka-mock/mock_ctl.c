/*
 * The control port: fault injection for tests.  One command a line, one
 * reply line each ("ok ..." or "error: ...").  Single-threaded: the main
 * thread multiplexes the listener and a few clients with ppoll, which also
 * delivers the stop signals.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock.h"

#define CTL_CLIENTS  16
#define CTL_LINE     1024

typedef struct {
    int     fd;
    size_t  len;
    char    buf[CTL_LINE];
} ctl_client_t;

static volatile sig_atomic_t  got_signal;

static void
on_signal(int sig)
{
    got_signal = sig;
}

/* Request names accepted in "error" and "clear" (besides numbers). */
static const struct {
    const char  *name;
    int16_t      key;
} api_keys[] = {
    { "Produce", 0 }, { "Fetch", 1 }, { "ListOffsets", 2 },
    { "Metadata", 3 }, { "OffsetCommit", 8 }, { "OffsetFetch", 9 },
    { "FindCoordinator", 10 }, { "JoinGroup", 11 }, { "Heartbeat", 12 },
    { "LeaveGroup", 13 }, { "SyncGroup", 14 }, { "ApiVersions", 18 },
    { "InitProducerId", 22 },
};

static int
parse_long(const char *s, long lo, long hi, long *v)
{
    char  *end;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    errno = 0;
    *v = strtol(s, &end, 10);
    return (*end != '\0' || errno != 0 || *v < lo || *v > hi) ? -1 : 0;
}

static int
parse_api_key(const char *s, int16_t *key)
{
    size_t  i;
    long    v;

    for (i = 0; s != NULL && i < sizeof(api_keys) / sizeof(api_keys[0]); i++)
    {
        if (strcasecmp(s, api_keys[i].name) == 0) {
            *key = api_keys[i].key;
            return 0;
        }
    }
    if (parse_long(s, 0, 100, &v) != 0) {
        return -1;
    }
    *key = (int16_t) v;
    return 0;
}

/* An error code by number or by librdkafka's name ("NOT_COORDINATOR"). */
static int
parse_error(const char *s, rd_kafka_resp_err_t *err)
{
    const struct rd_kafka_err_desc  *descs;
    size_t                           n, i;
    long                             v;

    if (s == NULL) {
        return -1;
    }
    if (parse_long(s, -200, 1000, &v) == 0) {
        *err = (rd_kafka_resp_err_t) v;
        return 0;
    }
    rd_kafka_get_err_descs(&descs, &n);
    for (i = 0; i < n; i++) {
        if (descs[i].name != NULL && strcasecmp(descs[i].name, s) == 0) {
            *err = descs[i].code;
            return 0;
        }
    }
    return -1;
}

void
mock_ctl_exec(rd_kafka_mock_cluster_t *mc, int brokers, char *line,
    char *out, size_t outlen)
{
    rd_kafka_resp_err_t  err = RD_KAFKA_RESP_ERR_NO_ERROR, code;
    char                *av[8], *save = NULL, *tok;
    int16_t              key;
    long                 id, n, cnt;
    int                  ac = 0, i;

    for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && ac < 8;
         tok = strtok_r(NULL, " \t\r\n", &save))
    {
        av[ac++] = tok;
    }
    for (i = ac; i < 8; i++) {
        av[i] = NULL;
    }
    if (ac == 0) {
        snprintf(out, outlen, "error: empty command");
        return;
    }

    if (strcmp(av[0], "ping") == 0) {
        snprintf(out, outlen, "ok pong");
        return;
    }
    if (strcmp(av[0], "brokers") == 0) {
        snprintf(out, outlen, "ok %d %s", brokers,
                 rd_kafka_mock_cluster_bootstraps(mc));
        return;
    }
    if (strcmp(av[0], "down") == 0 || strcmp(av[0], "up") == 0) {
        if (parse_long(av[1], 1, brokers, &id) != 0) {
            snprintf(out, outlen, "error: usage: %s BROKER_ID (1..%d)",
                     av[0], brokers);
            return;
        }
        err = av[0][0] == 'd'
              ? rd_kafka_mock_broker_set_down(mc, (int32_t) id)
              : rd_kafka_mock_broker_set_up(mc, (int32_t) id);
    } else if (strcmp(av[0], "rtt") == 0) {
        if (parse_long(av[1], 1, brokers, &id) != 0
            || parse_long(av[2], 0, 600000, &n) != 0)
        {
            snprintf(out, outlen, "error: usage: rtt BROKER_ID MS");
            return;
        }
        err = rd_kafka_mock_broker_set_rtt(mc, (int32_t) id, (int) n);
    } else if (strcmp(av[0], "topic") == 0) {
        if (av[1] == NULL || parse_long(av[2], 1, 10000, &n) != 0) {
            snprintf(out, outlen, "error: usage: topic NAME PARTITIONS");
            return;
        }
        err = rd_kafka_mock_topic_create(mc, av[1], (int) n, 1);
    } else if (strcmp(av[0], "leader") == 0) {
        if (av[1] == NULL || parse_long(av[2], 0, 100000, &n) != 0
            || parse_long(av[3], -1, brokers, &id) != 0)
        {
            snprintf(out, outlen, "error: usage: leader TOPIC PARTITION ID");
            return;
        }
        err = rd_kafka_mock_partition_set_leader(mc, av[1], (int32_t) n,
                                                 (int32_t) id);
    } else if (strcmp(av[0], "error") == 0) {
        cnt = 1;
        if (parse_api_key(av[1], &key) != 0 || parse_error(av[2], &code) != 0
            || (av[3] != NULL && parse_long(av[3], 1, 100000, &cnt) != 0))
        {
            snprintf(out, outlen, "error: usage: error APIKEY ERR [COUNT]");
            return;
        }
        for (i = 0; i < cnt; i++) {
            rd_kafka_mock_push_request_errors(mc, key, 1, code);
        }
    } else if (strcmp(av[0], "clear") == 0) {
        if (parse_api_key(av[1], &key) != 0) {
            snprintf(out, outlen, "error: usage: clear APIKEY");
            return;
        }
        rd_kafka_mock_clear_request_errors(mc, key);
    } else if (strcmp(av[0], "coordinator") == 0) {
        if (av[1] == NULL || av[2] == NULL
            || parse_long(av[3], 1, brokers, &id) != 0)
        {
            snprintf(out, outlen,
                     "error: usage: coordinator group|transaction KEY ID");
            return;
        }
        err = rd_kafka_mock_coordinator_set(mc, av[1], av[2], (int32_t) id);
    } else {
        snprintf(out, outlen, "error: unknown command \"%s\"", av[0]);
        return;
    }

    if (err) {
        snprintf(out, outlen, "error: %s", rd_kafka_err2str(err));
    } else {
        snprintf(out, outlen, "ok");
    }
}

/* Handle what a client sent; returns -1 when it should be closed. */
static int
client_read(ctl_client_t *c, rd_kafka_mock_cluster_t *mc, int brokers)
{
    char     reply[CTL_LINE + 64], *nl;
    ssize_t  n;
    size_t   used, rlen;

    n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
    if (n <= 0) {
        return -1;
    }
    c->len += (size_t) n;
    c->buf[c->len] = '\0';

    while ((nl = strchr(c->buf, '\n')) != NULL) {
        *nl = '\0';
        used = (size_t) (nl - c->buf) + 1;
        if (strcmp(c->buf, "quit") == 0 || strcmp(c->buf, "quit\r") == 0) {
            return -1;
        }
        mock_ctl_exec(mc, brokers, c->buf, reply, sizeof(reply) - 1);
        fprintf(stderr, "kafka-mock: control: %s\n", reply);
        rlen = strlen(reply);
        reply[rlen++] = '\n';
        if (write(c->fd, reply, rlen) != (ssize_t) rlen) {
            return -1;
        }
        memmove(c->buf, c->buf + used, c->len - used + 1);
        c->len -= used;
    }
    /* a line longer than the buffer is refused rather than split */
    return c->len == sizeof(c->buf) - 1 ? -1 : 0;
}

int
mock_ctl_serve(rd_kafka_mock_cluster_t *mc, int brokers, int lfd,
    const sigset_t *sigs)
{
    ctl_client_t      clients[CTL_CLIENTS];
    struct pollfd     pfd[CTL_CLIENTS + 1];
    struct sigaction  sa;
    sigset_t          wait_mask;
    int               i, n, fd;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* ppoll unblocks the stop signals only while it waits */
    sigprocmask(SIG_BLOCK, NULL, &wait_mask);
    for (i = 1; i < NSIG; i++) {
        if (sigismember(sigs, i) == 1) {
            sigdelset(&wait_mask, i);
        }
    }

    for (i = 0; i < CTL_CLIENTS; i++) {
        clients[i].fd = -1;
    }

    while (!got_signal) {
        pfd[0].fd = lfd;
        pfd[0].events = POLLIN;
        for (i = 0; i < CTL_CLIENTS; i++) {
            pfd[i + 1].fd = clients[i].fd;
            pfd[i + 1].events = POLLIN;
        }
        n = ppoll(pfd, CTL_CLIENTS + 1, NULL, &wait_mask);
        if (n == -1) {
            continue;   /* EINTR: the loop condition sees the signal */
        }
        for (i = 0; i < CTL_CLIENTS; i++) {
            if (clients[i].fd != -1 && pfd[i + 1].revents
                && client_read(&clients[i], mc, brokers) != 0)
            {
                close(clients[i].fd);
                clients[i].fd = -1;
            }
        }
        if (pfd[0].revents & POLLIN) {
            fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd == -1) {
                continue;
            }
            for (i = 0; i < CTL_CLIENTS && clients[i].fd != -1; i++) {
                /* find a free slot */
            }
            if (i == CTL_CLIENTS) {
                close(fd);
                continue;
            }
            clients[i].fd = fd;
            clients[i].len = 0;
        }
    }

    for (i = 0; i < CTL_CLIENTS; i++) {
        if (clients[i].fd != -1) {
            close(clients[i].fd);
        }
    }
    return (int) got_signal;
}
