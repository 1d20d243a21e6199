/*
 * Metrics shared by every worker: a file mapped MAP_SHARED by the master
 * before it forks, so all generations add to the same counters, and
 * `looklook -s status` and the admin module read them.  The server status
 * (ll_status.h) follows the route metrics in the same mapping.  Slots are claimed without a lock (a process dying mid-claim
 * must not wedge the others); two workers racing for one name may claim
 * two slots, which the reader adds up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ll_core.h"
#include "ll_status.h"

#define METRICS_MAGIC    0x4c4c4d54U     /* "LLMT" */
#define METRICS_VERSION  3       /* 3: reloads begun, longer reasons */
#define METRICS_SLOTS    LL_ROUTE_SLOTS
#define HIST_BUCKETS     LL_HIST_BUCKETS

/* bucket upper bounds in µs (the last is +Inf), Prometheus-style */
const uint64_t  ll__hist_bounds[HIST_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000, 2500000, 10000000, UINT64_MAX
};

#define bounds  ll__hist_bounds

enum { SLOT_FREE = 0, SLOT_CLAIMING, SLOT_READY };

typedef struct {
    uint32_t     magic;
    uint32_t     version;
    uint32_t     nslots;
    uint32_t     pad;
    ll_metric_t  slot[METRICS_SLOTS];
} metrics_file_t;

static metrics_file_t  *mf;
ll_status_t            *ll__st;

/* the server status follows, page aligned */
#define STATUS_OFFSET  ((sizeof(metrics_file_t) + 4095) & ~(size_t) 4095)
#define MAPPING_SIZE   (STATUS_OFFSET + sizeof(ll_status_t))

/*
 * Map the status file: create it (the master, before it forks), or read
 * one.  The master writes a new file beside the path and renames it over
 * the old one, so a reader mapping the old file never sees it shrink
 * (SIGBUS); a reader checks the size and magic before trusting it.
 */
int
ll__metrics_open(const char *path, int create, char *err, size_t n)
{
    struct stat  st;
    char         tmp[4096];
    int          fd;
    void        *p;

    if (create) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        /* 0644 whatever the umask: only the server writes it */
        fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd == -1 || ftruncate(fd, MAPPING_SIZE) != 0) {
            snprintf(err, n, "cannot create status file %s: %s", tmp,
                     strerror(errno));
            goto failed;
        }
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1 || fstat(fd, &st) != 0) {
            snprintf(err, n, "cannot read status file %s: %s", path,
                     strerror(errno));
            goto failed;
        }
        if (st.st_size < (off_t) MAPPING_SIZE) {
            snprintf(err, n, "status file %s is %s (%lld bytes): not one a "
                     "running looklook %s wrote", path,
                     st.st_size == 0 ? "empty" : "too short",
                     (long long) st.st_size, LL_VERSION);
            goto failed;
        }
    }
    p = mmap(NULL, MAPPING_SIZE, create ? PROT_READ | PROT_WRITE : PROT_READ,
             MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, n, "cannot map status file %s: %s", path,
                 strerror(errno));
        goto failed;
    }
    close(fd);
    fd = -1;
    if (create) {
        ((metrics_file_t *) p)->version = METRICS_VERSION;
        ((metrics_file_t *) p)->nslots = METRICS_SLOTS;
        ((metrics_file_t *) p)->magic = METRICS_MAGIC;
        if (rename(tmp, path) != 0) {
            snprintf(err, n, "cannot create status file %s: %s", path,
                     strerror(errno));
            munmap(p, MAPPING_SIZE);
            goto failed;
        }
    } else if (((metrics_file_t *) p)->magic != METRICS_MAGIC
               || ((metrics_file_t *) p)->version != METRICS_VERSION
               || ((metrics_file_t *) p)->nslots != METRICS_SLOTS)
    {
        snprintf(err, n, "%s is not a looklook %s status file", path,
                 LL_VERSION);
        munmap(p, MAPPING_SIZE);
        goto failed;
    }
    if (mf != NULL) {
        munmap(mf, MAPPING_SIZE);
    }
    mf = p;
    ll__st = (ll_status_t *) ((char *) mf + STATUS_OFFSET);
    return 0;

failed:
    if (fd != -1) {
        close(fd);
    }
    if (create) {
        unlink(tmp);
    }
    return -1;
}

ll_metric_t *
ll__metric_slot(const char *name)
{
    ll_metric_t  *m;
    uint32_t      expected;
    int           i;

    if (mf == NULL) {
        return NULL;
    }
    for (i = 0; i < METRICS_SLOTS; i++) {
        m = &mf->slot[i];
        if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == SLOT_READY
            && strcmp(m->name, name) == 0)
        {
            return m;
        }
    }
    for (i = 0; i < METRICS_SLOTS; i++) {
        m = &mf->slot[i];
        expected = SLOT_FREE;
        if (__atomic_compare_exchange_n(&m->state, &expected, SLOT_CLAIMING, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        {
            snprintf(m->name, sizeof(m->name), "%s", name);
            __atomic_store_n(&m->state, SLOT_READY, __ATOMIC_RELEASE);
            return m;
        }
    }
    return NULL;        /* full: that route goes uncounted */
}

void
ll__metric_add(ll_metric_t *m, int outcome, int64_t us, int received)
{
    int  b;

    if (m == NULL) {
        return;
    }
    __atomic_add_fetch(&m->received, (uint64_t) received, __ATOMIC_RELAXED);
    switch (outcome) {
    case LL_DONE:   __atomic_add_fetch(&m->done, 1, __ATOMIC_RELAXED); break;
    case LL_RETRY:  __atomic_add_fetch(&m->retried, 1, __ATOMIC_RELAXED); break;
    case LL_FAIL:   __atomic_add_fetch(&m->failed, 1, __ATOMIC_RELAXED); break;
    default:        __atomic_add_fetch(&m->revoked, 1, __ATOMIC_RELAXED); break;
    }
    if (us < 0) {
        us = 0;
    }
    for (b = 0; (uint64_t) us > bounds[b]; b++) { /* void */ }
    __atomic_add_fetch(&m->hist[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->sum_us, (uint64_t) us, __ATOMIC_RELAXED);
}

/* the upper bound (ms) of the bucket holding quantile q */
double
ll__quantile_ms(const uint64_t *hist, uint64_t total, double q)
{
    uint64_t  seen = 0;
    int       b;

    if (total == 0) {
        return 0;
    }
    for (b = 0; b < HIST_BUCKETS - 1; b++) {
        seen += hist[b];
        if ((double) seen >= q * (double) total) {
            break;
        }
    }
    return b == HIST_BUCKETS - 1 ? 1e9 : (double) bounds[b] / 1000.0;
}

/* The route metrics of every slot, added up by name into sum[] (at most
 * METRICS_SLOTS); returns how many, or -1 without a valid mapping. */
int
ll__metrics_sum(ll_metric_t *sum)
{
    ll_metric_t  *m, *s;
    int           i, j, n = 0, b;

    if (mf == NULL || mf->magic != METRICS_MAGIC
        || mf->version != METRICS_VERSION)
    {
        return -1;
    }
    for (i = 0; i < METRICS_SLOTS; i++) {
        m = &mf->slot[i];
        if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != SLOT_READY) {
            continue;
        }
        for (j = 0; j < n && strcmp(sum[j].name, m->name) != 0; j++) { }
        if (j == n) {
            memset(&sum[n], 0, sizeof(sum[n]));
            memcpy(sum[n].name, m->name, sizeof(m->name));
            n++;
        }
        s = &sum[j];
        s->received += m->received;
        s->done += m->done;
        s->retried += m->retried;
        s->failed += m->failed;
        s->revoked += m->revoked;
        s->sum_us += m->sum_us;
        for (b = 0; b < HIST_BUCKETS; b++) {
            s->hist[b] += m->hist[b];
        }
    }
    return n;
}

/* The route table of `looklook -s status`, from the open mapping. */
int
ll__metrics_print(FILE *out)
{
    static ll_metric_t   sum[METRICS_SLOTS];
    ll_metric_t         *s;
    int                  j, n;
    uint64_t             total;

    if ((n = ll__metrics_sum(sum)) < 0) {
        return -1;
    }
    fprintf(out, "%-56s %9s %9s %8s %8s %8s %8s %8s %8s\n", "route",
            "received", "done", "retried", "failed", "revoked", "avg_ms",
            "p50_ms", "p99_ms");
    for (j = 0; j < n; j++) {
        s = &sum[j];
        total = s->done + s->retried + s->failed + s->revoked;
        fprintf(out, "%-56s %9llu %9llu %8llu %8llu %8llu %8.3f %8.3f %8.3f\n",
                s->name, (unsigned long long) s->received,
                (unsigned long long) s->done, (unsigned long long) s->retried,
                (unsigned long long) s->failed, (unsigned long long) s->revoked,
                total ? (double) s->sum_us / (double) total / 1000.0 : 0.0,
                ll__quantile_ms(s->hist, total, 0.5),
                ll__quantile_ms(s->hist, total, 0.99));
    }
    return 0;
}
