/*
 * ll__mask_secrets: see ll_mask.h.  A URL's userinfo ends at the last '@'
 * before the path (a password may hold '@' when escaped, or a raw '/',
 * which is why the whole word is searched when no '@' precedes the path);
 * the word ends at a blank or a quote, as URLs sit in messages.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "ll_mask.h"

#define MASK      "***"
#define MASK_LEN  (sizeof(MASK) - 1)

/* the scheme before "://" at p is redis, rediss, redis-sentinel or
 * redis-cluster (whose "secret@host" form is a password too) */
static int
redis_scheme(const char *s, const char *p)
{
    const char  *b = p;

    while (b > s && (isalnum((unsigned char) b[-1]) || b[-1] == '+'
                     || b[-1] == '-' || b[-1] == '.'))
    {
        b--;
    }
    if (p - b < 5 || strncasecmp(b, "redis", 5) != 0) {
        return 0;
    }
    b += 5;
    return b == p || (p - b == 1 && (*b == 's' || *b == 'S'))
           || (p - b == 9 && strncasecmp(b, "-sentinel", 9) == 0)
           || (p - b == 8 && strncasecmp(b, "-cluster", 8) == 0);
}

void
ll__mask_secrets(char *s, size_t cap)
{
    char    *p = s, *u, *end, *slash, *at, *colon, *from;
    size_t   room, tail;

    if (s == NULL || cap == 0) {
        return;
    }
    while ((p = strstr(p, "://")) != NULL) {
        u = p + 3;
        end = u + strcspn(u, " \t\r\n\"'`<>");
        slash = memchr(u, '/', (size_t) (end - u));
        at = memrchr(u, '@', (size_t) ((slash ? slash : end) - u));
        if (at == NULL) {
            at = memrchr(u, '@', (size_t) (end - u));
        }
        if (at == NULL) {
            p = u;
            continue;
        }
        colon = memchr(u, ':', (size_t) (at - u));
        from = colon != NULL ? colon + 1 : redis_scheme(s, p) ? u : at;
        if (from == at || ((size_t) (at - from) == MASK_LEN
                           && memcmp(from, MASK, MASK_LEN) == 0))
        {
            p = at;
            continue;
        }
        /* from..at becomes MASK; the rest moves (and is cut at cap) */
        room = cap - (size_t) (from - s);
        if (room <= MASK_LEN) {
            *from = '\0';
            return;
        }
        tail = strlen(at);
        if (tail > room - MASK_LEN - 1) {
            tail = room - MASK_LEN - 1;
        }
        memmove(from + MASK_LEN, at, tail);
        from[MASK_LEN + tail] = '\0';
        memcpy(from, MASK, MASK_LEN);
        p = from + MASK_LEN;
    }
}
