/*
 * bs_client: a small blocking client for beanstalkd's text protocol
 * (protocol.txt of beanstalkd 1.12): put, use, watch, ignore,
 * reserve-with-timeout, delete, release, bury, touch, kick, kick-job,
 * peek, peek-ready/-delayed/-buried, stats-job and stats-tube.
 *
 *     bs_conn_t  c;
 *     uint64_t   id;
 *
 *     bs_init(&c, 2000);                      (I/O timeout per command, ms)
 *     if (bs_connect(&c, "127.0.0.1:11300") != BS_OK) { ... c.err ... }
 *     bs_use(&c, "orders");
 *     bs_put(&c, 2, 10, 5, "body", 4, &id);   (pri, delay s, ttr s)
 *     bs_watch(&c, "orders");
 *     if (bs_reserve(&c, 1, &id) == BS_OK) { ... c.body, c.body_len ... }
 *     bs_delete(&c, id);
 *     bs_close(&c);
 *
 * Every command returns a bs_rc_e: BS_OK, one of the server's answers that
 * are not errors of the connection (BS_NOT_FOUND, BS_TIMED_OUT, ...), or
 * BS_EIO when the connection failed (refused, closed, timed out, a reply
 * that is not the protocol): the connection is then closed and c.err says
 * why; bs_connect opens it again.  A job body (reserve, peek) and a stats
 * text are in c.body (NUL-terminated, body_len bytes without the NUL), owned
 * by c and valid until its next command.  A bs_conn_t is one connection:
 * one thread at a time.
 */
#ifndef BS_CLIENT_H_INCLUDED
#define BS_CLIENT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef enum {
    BS_OK = 0,
    BS_EIO = -1,            /* connection failed; closed, see err */
    BS_NOT_FOUND = 1,       /* no such job (or not reserved by us) */
    BS_TIMED_OUT,           /* reserve: nothing within the timeout */
    BS_DEADLINE_SOON,       /* reserve: a job we hold is about to time out */
    BS_BURIED,              /* put/release: server out of memory, job buried */
    BS_NOT_IGNORED,         /* ignore: the last watched tube */
    BS_JOB_TOO_BIG,         /* put: larger than the server's max-job-size */
    BS_DRAINING,            /* put: server in drain mode */
    BS_SERVER_ERROR,        /* OUT_OF_MEMORY, INTERNAL_ERROR, BAD_FORMAT,
                             * UNKNOWN_COMMAND, EXPECTED_CRLF */
    BS_BAD_NAME             /* tube name refused before sending */
} bs_rc_e;

#define BS_TUBE_MAX  200    /* bytes in a tube name */

typedef struct {
    int         fd;             /* -1 while closed */
    int64_t     timeout_ms;     /* per command, beside a reserve's wait */
    char        endpoint[128];  /* host:port of the last bs_connect */
    char        err[400];       /* why the last call failed */

    char       *body;           /* the last job body or stats text */
    size_t      body_len;
    size_t      body_cap;

    char        in[512];        /* bytes read past the last reply */
    size_t      in_len;
} bs_conn_t;

/* A closed connection with this command timeout.  @locality any thread */
void bs_init(bs_conn_t *c, int64_t timeout_ms);

/* Connect to "host:port" ("[v6]:port"; port 11300 when left out) within
 * the timeout; closes a connection c still has.  BS_OK or BS_EIO. */
int bs_connect(bs_conn_t *c, const char *endpoint);

/* Close and free the body buffer; c may be connected again.  NULL-safe. */
void bs_close(bs_conn_t *c);

/* Whether name is a tube name the server takes (1 or 0). */
int bs_tube_valid(const char *name);

int bs_use(bs_conn_t *c, const char *tube);
int bs_watch(bs_conn_t *c, const char *tube);
int bs_ignore(bs_conn_t *c, const char *tube);

/* Put into the used tube; *id set on BS_OK (and on BS_BURIED). */
int bs_put(bs_conn_t *c, uint32_t pri, uint32_t delay_s, uint32_t ttr_s,
    const void *body, size_t len, uint64_t *id);

/* reserve-with-timeout: the job's id in *id, its body in c->body. */
int bs_reserve(bs_conn_t *c, uint32_t timeout_s, uint64_t *id);

int bs_delete(bs_conn_t *c, uint64_t id);
int bs_release(bs_conn_t *c, uint64_t id, uint32_t pri, uint32_t delay_s);
int bs_bury(bs_conn_t *c, uint64_t id, uint32_t pri);
int bs_touch(bs_conn_t *c, uint64_t id);

/* kick up to bound jobs of the used tube (buried first, else delayed);
 * how many in *count. */
int bs_kick(bs_conn_t *c, uint32_t bound, uint64_t *count);
int bs_kick_job(bs_conn_t *c, uint64_t id);

/* peek a job by id, or the next "ready", "delayed" or "buried" job of the
 * used tube: id in *id, body in c->body. */
int bs_peek(bs_conn_t *c, uint64_t id);
int bs_peek_state(bs_conn_t *c, const char *state, uint64_t *id);

/* The YAML stats text in c->body; bs_stat reads one number from it. */
int bs_stats_job(bs_conn_t *c, uint64_t id);
int bs_stats_tube(bs_conn_t *c, const char *tube);

/* The value of "key: N" in a stats text, or -1 when absent. */
int64_t bs_stat(const char *yaml, const char *key);

/* "NOT_FOUND", "TIMED_OUT", ...: a code's name for messages. */
const char *bs_rc_name(int rc);

#endif /* BS_CLIENT_H_INCLUDED */
