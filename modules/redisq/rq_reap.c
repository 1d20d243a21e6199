/*
 * rq_reap: recovery of a dead worker's tasks as soon as its death is
 * certain, without waiting for their leases to expire (looklook only; a
 * Go server's tasks still come back by lease expiry).
 *
 * Each server records the leases it gives in its own zset
 * asynq:{q}:ll_held:<server ID> (member = task ID, score = the lease score
 * it wrote, kept equal by the dequeue script and the heartbeat, left by
 * every outcome), and registers itself in the hash asynq:{q}:ll_owners:
 * field = server ID, value = "<host identity> <pid> <heartbeat Unix s>".
 * The host identity is the kernel's boot ID plus the PID namespace, so a
 * PID means the same process to every server that shares it.
 *
 * Every second, the house thread of each server reads ll_owners of its
 * queues: an owner with our host identity whose PID no longer exists
 * (kill(pid, 0) says ESRCH; a respawned worker sees its predecessor gone
 * at its first pass) is dead for certain.  Its held tasks whose lease
 * score is still the one it wrote (nobody leased them again since) are
 * retried at once ("redisq: its worker died", counted as a failure, so a
 * task that kills its worker each time is archived in the end), each write
 * checking that score again inside the script: a task another live
 * process holds is never taken.  Owners of other hosts are never judged by
 * PID; those silent for RQ_OWNER_STALE_S are forgotten (their tasks came
 * back by lease expiry long before).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redisq.h"
#include "rq_scripts.h"

#define RQ_REAP_BATCH       512
#define RQ_OWNER_STALE_S    600


void
rq_owner_init(rq_server_t *s)
{
    FILE     *f;
    char      boot[64] = "", ns[64];
    ssize_t   n;
    int       i, base;

    f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f != NULL) {
        if (fgets(boot, sizeof(boot), f) == NULL) {
            boot[0] = '\0';
        }
        boot[strcspn(boot, "\n")] = '\0';
        fclose(f);
    }
    n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
    s->machine[0] = '\0';
    if (boot[0] != '\0' && n > 0) {
        ns[n] = '\0';
        snprintf(s->machine, sizeof(s->machine), "%s/%s", boot, ns);
    }
    for (i = 0; i < s->nqueues; i++) {
        /* beside the queue's other keys: asynq:{q}: is task_prefix less
         * its "t:" */
        base = (int) strlen(s->queues[i].k.task_prefix) - 2;
        snprintf(s->queues[i].held, sizeof(s->queues[i].held),
                 "%.*sll_held:%s", base, s->queues[i].k.task_prefix,
                 s->server_id);
        snprintf(s->queues[i].owners, sizeof(s->queues[i].owners),
                 "%.*sll_owners", base, s->queues[i].k.task_prefix);
    }
}


/* Append HSET ll_owners <sid> "<host> <pid> <now s>" for every queue
 * (with the heartbeat); returns the number of commands appended. */
int
rq_owner_append(rq_server_t *s, rq_redis_t *r, int64_t now_ms)
{
    char  val[200];
    int   i;

    snprintf(val, sizeof(val), "%s %d %lld",
             s->machine[0] ? s->machine : "-", (int) getpid(),
             (long long) (now_ms / 1000));
    for (i = 0; i < s->nqueues; i++) {
        rq_redis_appendf(r, "HSET %s %s %s", s->queues[i].owners,
                         s->server_id, val);
    }
    return s->nqueues;
}


/* Append the clean-stop removal of this server's entries; returns the
 * number of commands appended. */
int
rq_owner_clear_append(rq_server_t *s, rq_redis_t *r)
{
    int  i;

    for (i = 0; i < s->nqueues; i++) {
        rq_redis_appendf(r, "HDEL %s %s", s->queues[i].owners,
                         s->server_id);
        rq_redis_appendf(r, "DEL %s", s->queues[i].held);
    }
    return 2 * s->nqueues;
}


/* Whether the owner text "<host> <pid> <hb s>" names a dead process of
 * this host (1), one we cannot judge or alive (0), or a stale owner of
 * another host (-1).  *pid gets its PID. */
static int
rq_owner_dead(rq_server_t *s, const char *val, size_t len, int *pid,
    int64_t now_s)
{
    char       host[128], text[256];
    long long  hb;

    snprintf(text, sizeof(text), "%.*s", (int) (len < 255 ? len : 255), val);
    if (sscanf(text, "%127s %d %lld", host, pid, &hb) != 3 || *pid <= 0) {
        return 0;
    }
    if (s->machine[0] == '\0' || strcmp(host, s->machine) != 0) {
        return hb < now_s - RQ_OWNER_STALE_S ? -1 : 0;
    }
    if (*pid == (int) getpid()) {
        return 0;
    }
    return kill((pid_t) *pid, 0) == -1 && errno == ESRCH;
}


/* Retry now the tasks dead server sid still held in queue qi. */
static void
rq_reap_owner(rq_server_t *s, rq_redis_t *r, int qi, const char *sid,
    size_t sidlen, int pid)
{
    rq_queue_t   *q = &s->queues[qi];
    redisReply   *rep;
    rq_job_t     *jobs[RQ_REAP_BATCH], *j;
    const char   *argv[6];
    size_t        argl[6], i;
    char          held[RQ_KEY_MAX + 48], limit[16], why[RQ_QNAME_MAX + 32];
    int           n, done, rep_n, total = 0, all = 0, rounds;

    snprintf(held, sizeof(held), "%.*sll_held:%.*s",
             (int) (strlen(q->owners) - (sizeof("ll_owners") - 1)), q->owners,
             (int) sidlen, sid);
    snprintf(limit, sizeof(limit), "%d", RQ_REAP_BATCH);
    argv[0] = held;             argl[0] = strlen(held);
    argv[1] = q->k.lease;       argl[1] = strlen(q->k.lease);
    argv[2] = q->owners;        argl[2] = strlen(q->owners);
    argv[3] = q->k.task_prefix; argl[3] = strlen(q->k.task_prefix);
    argv[4] = sid;              argl[4] = sidlen;
    argv[5] = limit;            argl[5] = strlen(limit);
    /* each round drops what it returned or found stale: bounded */
    for (rounds = 0; rounds < 1000; rounds++) {
        rep = rq_redis_eval(r, &rq_s_held, 3, 6, argv, argl);
        if (rep == NULL) {
            return;
        }
        if (rep->type != REDIS_REPLY_ARRAY) {
            if (rep->type == REDIS_REPLY_ERROR) {
                snprintf(why, sizeof(why), "dead worker's tasks in %s",
                         q->k.name);
                rq_script_error(s, NULL, why, rep);
            }
            freeReplyObject(rep);
            return;
        }
        if (rep->elements == 0) {
            freeReplyObject(rep);
            break;
        }
        rep_n = rep->elements / 3;
        for (n = 0, i = 0; i + 2 < rep->elements && n < RQ_REAP_BATCH;
             i += 3)
        {
            j = calloc(1, sizeof(*j));
            if (j == NULL) {
                continue;
            }
            j->q = q;
            j->lease_ms = INT64_MAX;
            j->held = held;
            snprintf(j->expect, sizeof(j->expect), "%.*s",
                     (int) rep->element[i + 2]->len, rep->element[i + 2]->str);
            if (rq_job_decode(j, rep->element[i], rep->element[i + 1]) < 0) {
                rq_job_free(j);
                continue;
            }
            jobs[n++] = j;
        }
        freeReplyObject(rep);
        done = n > 0 ? rq_recover_write(s, r, jobs, n,
                                        "redisq: its worker died", 0) : 0;
        total += done;
        all += n;
        while (n > 0) {
            rq_job_free(jobs[--n]);
        }
        if (done == 0 && rep_n > 0) {
            break;      /* nothing written (Redis gone, an error): next pass */
        }
    }
    if (all > 0) {
        ll_log(s->in, LL_LOG_WARN, "queue %s: worker %d died: %d of its %d "
               "tasks retried now", q->k.name, pid, total, all);
    }
}


void
rq_reap(rq_server_t *s, rq_redis_t *r)
{
    redisReply  *rep;
    int64_t      now_s = lt_now_ms() / 1000;
    size_t       i;
    int          q, pid, dead;

    for (q = 0; q < s->nqueues; q++) {
        rep = rq_redis_cmd(r, "HGETALL %s", s->queues[q].owners);
        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return;
        }
        for (i = 0; i + 1 < rep->elements; i += 2) {
            dead = rq_owner_dead(s, rep->element[i + 1]->str,
                                 rep->element[i + 1]->len, &pid, now_s);
            if (dead != 0) {
                /* a stale owner of another host has only stale entries
                 * left (its leases expired long ago): they go the same
                 * way, each write checking its lease score */
                rq_reap_owner(s, r, q, rep->element[i]->str,
                              rep->element[i]->len, pid);
            }
        }
        freeReplyObject(rep);
    }
}
