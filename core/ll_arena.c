/*
 * An arena: a list of heap blocks owned together (an instance's settings,
 * a parsed config) and freed together.  Used only on the main thread.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_core.h"

void *
ll__arena_add(ll_arena_t *a, void *p)
{
    void  **np;

    if (p == NULL) {
        return NULL;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        np = realloc(a->ptr, a->cap * sizeof(void *));
        if (np == NULL) {
            free(p);
            return NULL;
        }
        a->ptr = np;
    }
    a->ptr[a->n++] = p;
    return p;
}

char *
ll__arena_strdup(ll_arena_t *a, const char *s)
{
    return ll__arena_add(a, strdup(s));
}

void
ll__arena_free(ll_arena_t *a)
{
    size_t  i;

    for (i = 0; i < a->n; i++) {
        free(a->ptr[i]);
    }
    free(a->ptr);
    *a = (ll_arena_t) { 0 };
}
