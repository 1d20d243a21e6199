/*
 * Unit tests of the cleanup list (core/ll_cleanup.c): calls run last-added
 * first, and a realloc that fails while the list grows leaves it intact:
 * the failed entry is undone at once, the ones before it still run, and
 * nothing is written past the old block (ASan sees it if it is).
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "ll_core.h"
#include "unit.h"

/* realloc() interposed: fails while fail_realloc is set */
static int  fail_realloc;

void *
realloc(void *p, size_t n)
{
    static void  *(*real)(void *, size_t);

    if (fail_realloc) {
        return NULL;
    }
    if (real == NULL) {
        real = (void *(*)(void *, size_t)) dlsym(RTLD_NEXT, "realloc");
    }
    return real(p, n);
}

static int  order[64], norder;

static void
record(void *arg)
{
    if (norder < 64) {
        order[norder++] = (int) (intptr_t) arg;
    }
}

int
main(void)
{
    ll_cleanups_t  l = { 0 };
    int            i, ok;

    for (i = 0; i < 16; i++) {
        ll__cleanup_add(&l, record, (void *) (intptr_t) i);
    }
    CHECK(l.n == 16 && l.cap == 16, "16 entries fill the first block");

    /* the 17th needs a bigger block, and realloc fails */
    fail_realloc = 1;
    CHECK(ll__cleanup_add(&l, record, (void *) (intptr_t) 99) == -1,
          "add answers -1 when the list cannot grow");
    fail_realloc = 0;
    CHECK(norder == 1 && order[0] == 99, "the entry that found no room was "
          "run at once");
    CHECK(l.n == 16 && l.cap == 16, "the list keeps its size and capacity");

    /* the next add grows the list for real */
    CHECK(ll__cleanup_add(&l, record, (void *) (intptr_t) 16) == 0
          && l.cap == 32, "a later add grows the block");
    fail_realloc = 1;
    CHECK(ll__own(&l, NULL) == NULL, "owning NULL is out of memory");
    fail_realloc = 0;

    norder = 0;
    ll__cleanup_run(&l);
    for (i = 0, ok = norder == 17; ok && i < 17; i++) {
        ok = order[i] == 16 - i;
    }
    CHECK(ok, "run calls every entry, the last added first");
    CHECK(l.n == 0 && l.item == NULL, "run leaves an empty list");
    return UNIT_DONE();
}
