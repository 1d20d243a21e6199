/*
 * looklook messages: what an mq module hands the core and a handler takes,
 * and what the handler answers.
 *
 * One struct serves every source and carries what every source has.  What
 * only one kind of queue has (a redisq queue name, a Kafka partition and
 * offset, a uniqueness lock) travels as message options: name/value pairs
 * that each mq module declares in its descriptor (ll_module_t.opts, listed
 * by `looklook -m`), so a new kind of queue needs no change here.
 *
 * Both structs begin with their size, set by ll_msg_init()/ll_result_init()
 * from the header a module was built with.  Later minor versions of the ABI
 * only append fields; the core and modules read a field past the 2.0
 * layout only when LL_MSG_HAS()/LL_RESULT_HAS() says the struct has it.
 */
#ifndef LL_MSG_H_INCLUDED
#define LL_MSG_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LL_DONE   = 0,  /* handled: ack the task, commit the offset */
    LL_RETRY  = 1,  /* try again later (res->error, res->retry_delay_ms) */
    LL_FAIL   = 2,  /* fail for good: archive / dead letter (res->error) */
    LL_REVOKE = 3   /* drop quietly: counted as processed, no failure */
} ll_outcome_e;

/*
 * Why a message was retried or failed, beside the text (res->reason).
 * Callers act on the code, never on the text.  The transient ones
 * (ll_reason_transient()) say "not this message's fault": an mq module
 * retries them with back-off and does not count them against max_retry.
 */
typedef enum {
    LL_R_NONE = 0,      /* no reason given (LL_DONE, LL_REVOKE) */
    LL_R_ERROR,         /* the handler's own error: counts as an attempt */
    LL_R_INVALID,       /* malformed message or option: retrying won't help */
    LL_R_CONFLICT,      /* the ID is taken (redisq: task ID conflicts) */
    LL_R_DUPLICATE,     /* a uniqueness lock is held (redisq: unique) */
    LL_R_NOT_FOUND,     /* what the message names does not exist */
    LL_R_NO_ROUTE,      /* no handler for the type, or no such module */
    LL_R_UNAVAILABLE,   /* transient: a broker or database is unreachable */
    LL_R_NO_MEMORY,     /* transient: out of memory */
    LL_R_SHUTDOWN       /* transient: the target is stopping or not started */
} ll_reason_e;

/* Whether reason is an infrastructure state rather than the message's
 * fault: retried, never spending the message's retry budget. */
static inline int
ll_reason_transient(int reason)
{
    return reason == LL_R_UNAVAILABLE || reason == LL_R_NO_MEMORY
           || reason == LL_R_SHUTDOWN;
}

typedef struct {
    const char     *name;
    const void     *value;
    size_t          value_len;
} ll_header_t;

/*
 * A message option: the mq module's own per-message setting, by name.
 * Exactly one of str (a NUL-terminated string) or num is the value, as the
 * module declared the option (ll_opt_decl_t).  ll_send() refuses a message
 * whose options the target does not declare, or with the wrong kind.
 */
typedef struct {
    const char     *name;       /* "queue", "partition", "unique_ttl" */
    const char     *str;        /* LL_OPT_STR value, else NULL */
    int64_t         num;        /* LL_OPT_INT / LL_OPT_MS value */
} ll_opt_t;

typedef struct ll_msg_s {
    uint32_t            size;       /* sizeof(ll_msg_t): ll_msg_init() */
    uint32_t            flags;      /* 0: reserved */

    /* where it came from */
    const char         *source;     /* mq module instance name: "redisq" */
    const char         *type;       /* task type, topic or cron entry id */
    const char         *id;         /* the source's id of it; NULL if none */

    /* what it carries; bytes, not NUL-terminated */
    const void         *key;
    size_t              key_len;
    const void         *payload;
    size_t              payload_len;
    const ll_header_t  *headers;
    size_t              nheaders;

    /* source-specific options (ll_msg_opt_str()/ll_msg_opt_num()) */
    const ll_opt_t     *opts;
    size_t              nopts;

    /* delivery state */
    int                 attempt;    /* failures so far (asynq "retried") */
    int                 max_retry;  /* retries allowed before archive/DLQ;
                                     * submission: -1 = module default */
    int64_t             deadline_ms;/* Unix ms the attempt must end by; 0 none */

    /* submission (ll_send to an mq module); 0 = module default */
    int64_t             process_at_ms;  /* run at (Unix ms); 0 = now */
    int64_t             timeout_ms;     /* per-attempt timeout */

    /* set by the source when the handler should give up: deadline passed,
     * task cancelled, fast shutdown; read it with ll_msg_cancelled() */
    volatile int        cancelled;

    void               *core[4];    /* the core's; do not touch */
} ll_msg_t;

#define LL_ERROR_MAX  512

typedef struct {
    uint32_t            size;       /* sizeof(ll_result_t): ll_result_init() */
    int32_t             reason;     /* ll_reason_e, beside the text */
    int64_t             retry_delay_ms;         /* retry: -1 = the source's
                                                 * default back-off */
    char                error[LL_ERROR_MAX];    /* reason, for retry/fail */
    char                id[128];                /* an id produced (ll_send) */
} ll_result_t;

/* Does struct s (with its size member) hold member f? */
#define LL_MSG_HAS(m, f)                                                    \
    ((m)->size >= offsetof(ll_msg_t, f) + sizeof(((ll_msg_t *) 0)->f))
#define LL_RESULT_HAS(r, f)                                                 \
    ((r)->size >= offsetof(ll_result_t, f) + sizeof(((ll_result_t *) 0)->f))

/* Set a message to "none": the size, max_retry -1 (module default),
 * everything else 0.  Use it before filling a message. */
static inline void
ll_msg_init(ll_msg_t *m)
{
    *m = (ll_msg_t) { .size = sizeof(ll_msg_t), .max_retry = -1 };
}

/* An empty answer: the size, no reason, retry_delay_ms -1.  A caller of
 * ll_send() passes one. */
static inline void
ll_result_init(ll_result_t *r)
{
    *r = (ll_result_t) { .size = sizeof(ll_result_t), .retry_delay_ms = -1 };
}

/* The option called name, or NULL.  @locality any thread */
static inline const ll_opt_t *
ll_msg_opt(const ll_msg_t *m, const char *name)
{
    size_t  i;

    for (i = 0; i < m->nopts; i++) {
        const char  *a = m->opts[i].name, *b = name;

        while (*a != '\0' && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b) {
            return &m->opts[i];
        }
    }
    return NULL;
}

/* A string option's value, or def when the message has none. */
static inline const char *
ll_msg_opt_str(const ll_msg_t *m, const char *name, const char *def)
{
    const ll_opt_t  *o = ll_msg_opt(m, name);

    return o != NULL && o->str != NULL ? o->str : def;
}

/* A numeric option's value, or def when the message has none. */
static inline int64_t
ll_msg_opt_num(const ll_msg_t *m, const char *name, int64_t def)
{
    const ll_opt_t  *o = ll_msg_opt(m, name);

    return o != NULL && o->str == NULL ? o->num : def;
}

/* Option initialisers: ll_opt_t o[] = { LL_OPT_S("queue", q),
 * LL_OPT_N("retention", 86400000) }; m.opts = o; m.nopts = 2; */
#define LL_OPT_S(n, v)  { .name = (n), .str = (v) }
#define LL_OPT_N(n, v)  { .name = (n), .num = (v) }

#endif /* LL_MSG_H_INCLUDED */
