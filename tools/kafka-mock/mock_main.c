/*
 * kafka-mock: run librdkafka's mock cluster as a broker other processes
 * reach over TCP (loopback, PLAINTEXT), for tests and the demo.
 *
 *   kafka-mock [-b BROKERS] [-t TOPIC:PARTITIONS]... [-p BASEPORT]
 *              [-w FILE] [-c CTLPORT] [-C FILE] [-d DEBUG]
 *   kafka-mock committed -b BOOTSTRAP -g GROUP -t TOPIC...
 *   kafka-mock ctl HOST:PORT COMMAND...
 *
 * The daemon prints "bootstrap ADDRS" and "control ADDR", writes the
 * bootstrap string to -w FILE and the control address to -C FILE (each
 * atomically, once everything is up, so a file's presence means ready) and
 * runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock.h"

#define MOCK_MAX_TOPICS  64

typedef struct {
    const char  *name;
    int          partitions;
} mock_topic_t;

static void
usage(FILE *f)
{
    fputs("usage: kafka-mock [-b BROKERS] [-t TOPIC:PARTITIONS]... "
          "[-p BASEPORT] [-w FILE]\n"
          "                  [-c CTLPORT] [-C FILE] [-d DEBUG]\n"
          "       kafka-mock committed -b BOOTSTRAP -g GROUP -t TOPIC...\n"
          "       kafka-mock ctl HOST:PORT COMMAND...\n"
          "  -b N     brokers (default 3)\n"
          "  -t T:P   create topic T with P partitions (repeatable; P "
          "default 1)\n"
          "  -p BASE  brokers listen on BASE, BASE+1, ... (default: random)\n"
          "  -w FILE  write the bootstrap string to FILE when ready\n"
          "  -c PORT  control port (default: random)\n"
          "  -C FILE  write the control address to FILE when ready\n"
          "  -d LIST  librdkafka debug contexts (e.g. mock,protocol)\n"
          "control commands: ping | brokers | down ID | up ID | "
          "rtt ID MS | topic T P |\n"
          "  leader T P ID | error APIKEY ERR [COUNT] | clear APIKEY | "
          "coordinator group G ID\n", f);
}

/* Write text to path through a temp file and rename. */
static int
write_atomic(const char *path, const char *text)
{
    char   tmp[4096];
    FILE  *f;

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long) getpid())
        >= sizeof(tmp))
    {
        errno = ENAMETOOLONG;
        return -1;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int
ctl_listen(int port, int *bound)
{
    struct sockaddr_in  sin;
    socklen_t           len = sizeof(sin);
    int                 fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || listen(fd, 16) == -1
        || getsockname(fd, (struct sockaddr *) &sin, &len) == -1)
    {
        close(fd);
        return -1;
    }
    *bound = ntohs(sin.sin_port);
    return fd;
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void) rk;
    fprintf(stderr, "kafka-mock: %d %s: %s\n", level, fac, buf);
}

static int
parse_port(const char *s, int *port)
{
    char  *end;
    long   v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 0 || v > 65535) {
        return -1;
    }
    *port = (int) v;
    return 0;
}

static int
run_daemon(int argc, char **argv)
{
    mock_topic_t              topics[MOCK_MAX_TOPICS];
    rd_kafka_mock_cluster_t  *mc;
    rd_kafka_conf_t          *conf;
    rd_kafka_t               *rk;
    const char               *wfile = NULL, *cfile = NULL, *debug = NULL;
    char                      errstr[512], addr[64], *colon, *end;
    sigset_t                  sigs;
    int                       ntopics = 0, brokers = 3, base = 0;
    int                       ctlport = 0, lfd, i, opt, sig;
    long                      v;

    while ((opt = getopt(argc, argv, "b:t:p:w:c:C:d:h")) != -1) {
        switch (opt) {
        case 'b':
            v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > 64) {
                fprintf(stderr, "kafka-mock: -b wants 1..64 brokers\n");
                return 2;
            }
            brokers = (int) v;
            break;
        case 't':
            if (ntopics == MOCK_MAX_TOPICS) {
                fprintf(stderr, "kafka-mock: too many topics\n");
                return 2;
            }
            topics[ntopics].name = optarg;
            topics[ntopics].partitions = 1;
            colon = strrchr(optarg, ':');
            if (colon != NULL) {
                *colon = '\0';
                v = strtol(colon + 1, &end, 10);
                if (*end != '\0' || v < 1 || v > 10000) {
                    fprintf(stderr, "kafka-mock: bad partition count in "
                            "-t %s:%s\n", optarg, colon + 1);
                    return 2;
                }
                topics[ntopics].partitions = (int) v;
            }
            if (topics[ntopics].name[0] == '\0') {
                fprintf(stderr, "kafka-mock: empty topic name\n");
                return 2;
            }
            ntopics++;
            break;
        case 'p':
            if (parse_port(optarg, &base) != 0 || base == 0) {
                fprintf(stderr, "kafka-mock: bad base port \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'c':
            if (parse_port(optarg, &ctlport) != 0) {
                fprintf(stderr, "kafka-mock: bad control port \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        case 'w': wfile = optarg; break;
        case 'C': cfile = optarg; break;
        case 'd': debug = optarg; break;
        case 'h': usage(stdout); return 0;
        default:  usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (base != 0 && base + brokers - 1 > 65535) {
        fprintf(stderr, "kafka-mock: ports %d..%d out of range\n",
                base, base + brokers - 1);
        return 2;
    }

    /* The mock aborts the process when a listener can't be bound, so
     * fixed ports are checked first and refused cleanly. */
    for (i = 0; base != 0 && i < brokers; i++) {
        if (mock_port_free(base + i) != 0) {
            fprintf(stderr, "FATAL: cannot listen on 127.0.0.1:%d: %s\n",
                    base + i, strerror(errno));
            return 1;
        }
    }

    /* librdkafka's threads inherit this mask, so only the main thread
     * takes the stop signals (through ppoll in the control loop). */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = ctl_listen(ctlport, &ctlport);
    if (lfd == -1) {
        fprintf(stderr, "FATAL: cannot listen on control port 127.0.0.1:%d: "
                "%s\n", ctlport, strerror(errno));
        return 1;
    }

    /* this handle only hosts the cluster: it connects nowhere, so its
     * "no bootstrap.servers" notice is noise */
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set(conf, "log_level", debug != NULL ? "7" : "4", NULL, 0);
    if (debug != NULL
        && rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof(errstr))
           != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "kafka-mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        close(lfd);
        return 2;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka-mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        close(lfd);
        return 1;
    }

    if (base != 0) {
        mock_bind_arm(base, brokers);
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    mock_bind_disarm();
    if (mc == NULL) {
        fprintf(stderr, "kafka-mock: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        close(lfd);
        return 1;
    }

    for (i = 0; i < ntopics; i++) {
        rd_kafka_resp_err_t  err;

        err = rd_kafka_mock_topic_create(mc, topics[i].name,
                                         topics[i].partitions, 1);
        if (err) {
            fprintf(stderr, "kafka-mock: topic %s: %s\n", topics[i].name,
                    rd_kafka_err2str(err));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            close(lfd);
            return 1;
        }
    }

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ctlport);
    if ((wfile != NULL
         && write_atomic(wfile, rd_kafka_mock_cluster_bootstraps(mc)) != 0)
        || (cfile != NULL && write_atomic(cfile, addr) != 0))
    {
        fprintf(stderr, "kafka-mock: cannot write %s: %s\n",
                wfile != NULL ? wfile : cfile, strerror(errno));
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        close(lfd);
        return 1;
    }
    printf("bootstrap %s\ncontrol %s\n", rd_kafka_mock_cluster_bootstraps(mc),
           addr);
    fflush(stdout);

    sig = mock_ctl_serve(mc, brokers, lfd, &sigs);

    fprintf(stderr, "kafka-mock: signal %d, stopping\n", sig);
    close(lfd);
    if (wfile != NULL) {
        unlink(wfile);
    }
    if (cfile != NULL) {
        unlink(cfile);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "committed") == 0) {
        return mock_cmd_committed(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "ctl") == 0) {
        return mock_cmd_ctl(argc - 1, argv + 1);
    }
    return run_daemon(argc, argv);
}
