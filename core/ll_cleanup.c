/*
 * A cleanup list: what one owner (an instance, a parsed config) must undo
 * when it goes, as calls fn(arg) run last-added first.  Heap blocks are the
 * common case (ll__own: fn = free).  Used only on the main thread.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_core.h"

int
ll__cleanup_add(ll_cleanups_t *l, void (*fn)(void *), void *arg)
{
    ll_cleanup_item_t  *ni;
    size_t              cap;

    if (l->n == l->cap) {
        /* the new capacity is kept only once the block is there: a failed
         * realloc leaves the list as it was, still consistent */
        cap = l->cap ? l->cap * 2 : 16;
        ni = realloc(l->item, cap * sizeof(*ni));
        if (ni == NULL) {
            fn(arg);
            return -1;
        }
        l->item = ni;
        l->cap = cap;
    }
    l->item[l->n].fn = fn;
    l->item[l->n].arg = arg;
    l->n++;
    return 0;
}

void *
ll__own(ll_cleanups_t *l, void *p)
{
    if (p == NULL || ll__cleanup_add(l, free, p) != 0) {
        return NULL;
    }
    return p;
}

char *
ll__own_strdup(ll_cleanups_t *l, const char *s)
{
    return ll__own(l, strdup(s));
}

void
ll__cleanup_run(ll_cleanups_t *l)
{
    while (l->n > 0) {
        l->n--;
        l->item[l->n].fn(l->item[l->n].arg);
    }
    free(l->item);
    *l = (ll_cleanups_t) { 0 };
}
