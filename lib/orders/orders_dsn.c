/*
 * orders_dsn: the orders module's `db` URL.
 *
 *   sqlite:PATH                      (PATH relative to the working folder)
 *   mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=/path/mysqld.sock]
 *
 * mariadb:// is a synonym of mysql://; %XX escapes are decoded in USER and
 * PASS, so a password may hold '@' or ':'.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orders_store.h"


/* s[0..n) with %XX decoded, malloc'ed; NULL when out of memory. */
static char *
orders_unescape(const char *s, size_t n)
{
    char    *out, *p, hex[3];
    size_t   i;

    out = malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }
    for (i = 0, p = out; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char) s[i + 1])
            && isxdigit((unsigned char) s[i + 2]))
        {
            hex[0] = s[i + 1];
            hex[1] = s[i + 2];
            hex[2] = '\0';
            *p++ = (char) strtol(hex, NULL, 16);
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    return out;
}


int
orders_dsn_parse(orders_dsn_t *d, const char *raw, char *err, size_t errlen)
{
    const char  *p, *at, *colon, *slash, *q, *hostend;
    char        *end;
    long         port;

    memset(d, 0, sizeof(*d));
    /* errors quote the URL as given: whoever shows them masks its
     * password (the core's log and -t, looklook-cli's errors) */
    if (raw == NULL || *raw == '\0') {
        snprintf(err, errlen, "db: empty; expected sqlite:PATH or "
                 "mysql://user:pass@host:port/db");
        return -1;
    }

    if (strncmp(raw, "sqlite:", 7) == 0) {
        p = raw + 7;
        if (strncmp(p, "//", 2) == 0) {
            p += 2;                 /* sqlite:///abs/path and sqlite://rel */
        }
        if (*p == '\0') {
            snprintf(err, errlen, "db \"%s\": no file after sqlite:", raw);
            return -1;
        }
        d->kind = ORDERS_SQLITE;
        d->path = strdup(p);
        if (d->path == NULL) {
            goto nomem;
        }
        return 0;
    }

    if (strncmp(raw, "mysql://", 8) == 0) {
        p = raw + 8;
    } else if (strncmp(raw, "mariadb://", 10) == 0) {
        p = raw + 10;
    } else {
        snprintf(err, errlen, "db \"%s\": expected sqlite:PATH or "
                 "mysql://user:pass@host:port/db", raw);
        return -1;
    }
    d->kind = ORDERS_MYSQL;
    d->port = 3306;

    slash = strchr(p, '/');
    if (slash == NULL) {
        snprintf(err, errlen, "db \"%s\": no database name (.../looklook_order)",
                 raw);
        return -1;
    }
    at = memrchr(p, '@', (size_t) (slash - p));
    if (at == NULL) {
        snprintf(err, errlen, "db \"%s\": no user (mysql://user:pass@host/db)",
                 raw);
        return -1;
    }
    colon = memchr(p, ':', (size_t) (at - p));
    d->user = orders_unescape(p, (size_t) ((colon ? colon : at) - p));
    if (d->user == NULL) {
        goto nomem;
    }
    if (colon != NULL) {
        d->password = orders_unescape(colon + 1, (size_t) (at - colon - 1));
        if (d->password == NULL) {
            goto nomem;
        }
    }

    p = at + 1;
    colon = memchr(p, ':', (size_t) (slash - p));
    hostend = colon ? colon : slash;
    d->host = strndup(p, (size_t) (hostend - p));
    if (d->host == NULL) {
        goto nomem;
    }
    if (d->host[0] == '\0') {
        free(d->host);
        d->host = strdup("127.0.0.1");
        if (d->host == NULL) {
            goto nomem;
        }
    }
    if (colon != NULL) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno != 0 || end != slash || port < 1 || port > 65535) {
            snprintf(err, errlen, "db \"%s\": bad port", raw);
            goto fail;
        }
        d->port = (int) port;
    }

    q = strchr(slash + 1, '?');
    d->dbname = strndup(slash + 1, q ? (size_t) (q - slash - 1)
                                     : strlen(slash + 1));
    if (d->dbname == NULL) {
        goto nomem;
    }
    if (d->dbname[0] == '\0') {
        snprintf(err, errlen, "db \"%s\": no database name", raw);
        goto fail;
    }
    if (q != NULL) {
        if (strncmp(q, "?socket=", 8) != 0 || q[8] != '/') {
            snprintf(err, errlen, "db \"%s\": only \"?socket=/path\" may "
                     "follow the database name", raw);
            goto fail;
        }
        d->socket = strdup(q + 8);
        if (d->socket == NULL) {
            goto nomem;
        }
    }
    return 0;

nomem:
    snprintf(err, errlen, "db: out of memory");
fail:
    orders_dsn_free(d);
    return -1;
}


void
orders_dsn_free(orders_dsn_t *d)
{
    if (d == NULL) {
        return;
    }
    free(d->path);
    free(d->host);
    free(d->user);
    free(d->password);
    free(d->dbname);
    free(d->socket);
    memset(d, 0, sizeof(*d));
}
