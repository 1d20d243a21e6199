/*
 * kafka-mock: a daemon around librdkafka's mock cluster (rdkafka_mock.h),
 * plus small client modes for scripts and tests.
 */
#ifndef MOCK_H_INCLUDED
#define MOCK_H_INCLUDED

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * Fixed ports: while armed, bind() calls of the mock's listeners
 * (127.0.0.1:0) get base, base+1, ... in call order instead of port 0.
 * librdkafka 2.0.2 creates its listeners synchronously, one per broker in
 * broker order, inside rd_kafka_mock_cluster_new().
 * @locality main thread, around rd_kafka_mock_cluster_new() only
 */
void mock_bind_arm(int base, int count);
void mock_bind_disarm(void);

/* 0 if 127.0.0.1:port can be bound now, else -1 with errno set.
 * @locality any thread */
int mock_port_free(int port);

/*
 * Run the control port until a signal in sigs arrives: one command a line,
 * each answered with "ok ..." or "error: ...".  lfd is the listening
 * socket.  Returns the signal number.  @locality main thread
 */
int mock_ctl_serve(rd_kafka_mock_cluster_t *mc, int brokers, int lfd,
    const sigset_t *sigs);

/* Run one control command line; writes the reply (no newline) to out. */
void mock_ctl_exec(rd_kafka_mock_cluster_t *mc, int brokers, char *line,
    char *out, size_t outlen);

/* Client modes: "committed" and "ctl".  Return the exit status. */
int mock_cmd_committed(int argc, char **argv);
int mock_cmd_ctl(int argc, char **argv);

#endif /* MOCK_H_INCLUDED */
