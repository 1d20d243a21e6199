/*
 * kafka-mock's client modes, for scripts and tests (they work against any
 * broker, not only the mock):
 *
 *   committed -b BOOTSTRAP -g GROUP -t TOPIC...   prints "TOPIC PART OFFSET"
 *       for every partition (-1: nothing committed).  The mock has no
 *       DescribeGroups, so this asks with OffsetFetch (rd_kafka_committed)
 *       without joining the group.
 *   ctl HOST:PORT COMMAND...                        one control command,
 *       prints the reply; exit 0 on "ok".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock.h"

#define CLIENT_TIMEOUT_MS  10000

static int
add_topic_partitions(rd_kafka_t *rk, const char *topic,
    rd_kafka_topic_partition_list_t *list)
{
    const struct rd_kafka_metadata  *md;
    rd_kafka_topic_t                *rkt;
    rd_kafka_resp_err_t              err;
    int                              i;

    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL) {
        fprintf(stderr, "kafka-mock: topic %s: %s\n", topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, CLIENT_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        fprintf(stderr, "kafka-mock: metadata for %s: %s\n", topic,
                rd_kafka_err2str(err));
        return -1;
    }
    if (md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "kafka-mock: topic %s: %s\n", topic,
                rd_kafka_err2str(md->topic_cnt ? md->topics[0].err
                                 : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        rd_kafka_metadata_destroy(md);
        return -1;
    }
    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        rd_kafka_topic_partition_list_add(list, topic,
                                          md->topics[0].partitions[i].id);
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

int
mock_cmd_committed(int argc, char **argv)
{
    rd_kafka_topic_partition_list_t  *list;
    rd_kafka_resp_err_t               err;
    rd_kafka_conf_t                  *conf;
    rd_kafka_t                       *rk;
    const char                       *brokers = NULL, *group = NULL;
    char                              errstr[512];
    int                               opt, i, rc = 0;

    list = rd_kafka_topic_partition_list_new(8);
    optind = 1;
    while ((opt = getopt(argc, argv, "b:g:t:")) != -1) {
        switch (opt) {
        case 'b': brokers = optarg; break;
        case 'g': group = optarg; break;
        case 't': rd_kafka_topic_partition_list_add(list, optarg, -1); break;
        default:
            rd_kafka_topic_partition_list_destroy(list);
            return 2;
        }
    }
    if (brokers == NULL || group == NULL || list->cnt == 0) {
        fprintf(stderr, "usage: kafka-mock committed -b BOOTSTRAP -g GROUP "
                "-t TOPIC...\n");
        rd_kafka_topic_partition_list_destroy(list);
        return 2;
    }

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr))
           != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "kafka-mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        rd_kafka_topic_partition_list_destroy(list);
        return 2;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka-mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        rd_kafka_topic_partition_list_destroy(list);
        return 1;
    }

    /* expand each "-t TOPIC" (partition -1) into its partitions */
    {
        rd_kafka_topic_partition_list_t  *all;

        all = rd_kafka_topic_partition_list_new(list->cnt * 4);
        for (i = 0; i < list->cnt && rc == 0; i++) {
            rc = add_topic_partitions(rk, list->elems[i].topic, all);
        }
        rd_kafka_topic_partition_list_destroy(list);
        list = all;
    }

    if (rc == 0) {
        err = rd_kafka_committed(rk, list, CLIENT_TIMEOUT_MS);
        if (err) {
            fprintf(stderr, "kafka-mock: committed: %s\n",
                    rd_kafka_err2str(err));
            rc = 1;
        }
    }
    for (i = 0; rc == 0 && i < list->cnt; i++) {
        rd_kafka_topic_partition_t  *p = &list->elems[i];

        if (p->err) {
            fprintf(stderr, "kafka-mock: %s [%d]: %s\n", p->topic,
                    (int) p->partition, rd_kafka_err2str(p->err));
            rc = 1;
            break;
        }
        printf("%s %d %lld\n", p->topic, (int) p->partition,
               (long long) (p->offset < 0 ? -1 : p->offset));
    }

    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return rc;
}

int
mock_cmd_ctl(int argc, char **argv)
{
    struct sockaddr_in  sin;
    char                line[1024], reply[1100], host[64], *colon;
    size_t              len = 0;
    ssize_t             n;
    int                 fd, i, port;

    if (argc < 3 || strlen(argv[1]) >= sizeof(host)) {
        fprintf(stderr, "usage: kafka-mock ctl HOST:PORT COMMAND...\n");
        return 2;
    }
    strcpy(host, argv[1]);
    colon = strrchr(host, ':');
    if (colon == NULL) {
        fprintf(stderr, "kafka-mock: ctl wants HOST:PORT\n");
        return 2;
    }
    *colon = '\0';
    port = atoi(colon + 1);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sin.sin_addr) != 1)
    {
        fprintf(stderr, "kafka-mock: bad control address %s\n", argv[1]);
        return 2;
    }

    line[0] = '\0';
    for (i = 2; i < argc; i++) {
        len += (size_t) snprintf(line + len, sizeof(line) - len, "%s%s",
                                 argv[i], i + 1 < argc ? " " : "\n");
        if (len >= sizeof(line)) {
            fprintf(stderr, "kafka-mock: command too long\n");
            return 2;
        }
    }

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1 || connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        perror("kafka-mock: connect");
        if (fd != -1) {
            close(fd);
        }
        return 1;
    }
    if (write(fd, line, len) != (ssize_t) len) {
        perror("kafka-mock: write");
        close(fd);
        return 1;
    }
    len = 0;
    while (len < sizeof(reply) - 1
           && (n = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
    {
        len += (size_t) n;
        if (memchr(reply, '\n', len) != NULL) {
            break;
        }
    }
    close(fd);
    reply[len] = '\0';
    fputs(reply, stdout);
    return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}
