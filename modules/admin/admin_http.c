/*
 * admin_http: the HTTP server, libmicrohttpd with its own polling thread.
 * Every worker binds the same address with SO_REUSEPORT, so the kernel
 * spreads connections over the workers and a worker that dies or is
 * replaced by a reload leaves the port served by the others.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "admin.h"

typedef struct {
    char     *body;
    size_t    len;
    int       too_large;
} req_state_t;

int
admin_listen_parse(const char *listen, char *host, size_t hostlen,
    char *port, size_t portlen)
{
    const char  *colon = strrchr(listen, ':'), *h = listen;
    size_t       hl;
    char        *end;
    long         p;

    if (colon == NULL || colon == listen) {
        return -1;
    }
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || p < 1 || p > 65535) {
        return -1;
    }
    hl = (size_t) (colon - listen);
    if (h[0] == '[') {                          /* [::1]:8980 */
        if (hl < 3 || h[hl - 1] != ']') {
            return -1;
        }
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen) {
        return -1;
    }
    snprintf(host, hostlen, "%.*s", (int) hl, h);
    snprintf(port, portlen, "%ld", p);
    return 0;
}

/* in time independent of where they differ, so the token cannot be
 * guessed byte by byte */
int
admin_same(const char *a, const char *b)
{
    size_t         la = strlen(a), lb = strlen(b), i;
    unsigned char  d = la != lb;

    for (i = 0; i < la && i < lb; i++) {
        d |= (unsigned char) a[i] ^ (unsigned char) b[i];
    }
    return d == 0;
}

static int
authorized(admin_t *a, struct MHD_Connection *conn)
{
    const char  *h;
    char        *user, *pass = NULL;
    int          ok = 0;

    if (a->conf->token == NULL) {
        return 1;
    }
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_AUTHORIZATION);
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
        return admin_same(h + 7, a->conf->token);
    }
    user = MHD_basic_auth_get_username_password(conn, &pass);
    if (user != NULL && pass != NULL) {
        ok = admin_same(pass, a->conf->token);
    }
    MHD_free(user);
    MHD_free(pass);
    return ok;
}

static const admin_route_t *
route_find(const char *method, const char *path, int *path_known)
{
    const admin_route_t  *r;
    size_t                n;

    *path_known = 0;
    for (r = admin_routes; r->path != NULL; r++) {
        n = strlen(r->path);
        /* "/" itself is the dashboard, not a prefix of every path */
        if (r->path[n - 1] == '/' && n > 1 ? strncmp(path, r->path, n) == 0
                                  : strcmp(path, r->path) == 0)
        {
            *path_known = 1;
            if (strcmp(method, r->method) == 0
                || (strcmp(method, "HEAD") == 0
                    && strcmp(r->method, "GET") == 0))
            {
                return r;
            }
        }
    }
    return NULL;
}

static enum MHD_Result
respond(admin_t *a, struct MHD_Connection *conn, admin_resp_t *resp)
{
    struct MHD_Response  *r;
    enum MHD_Result       rc;
    int                   cls = resp->status / 100 - 2;

    if (resp->body == NULL) {
        resp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp->body = strdup("out of memory\n");
        resp->len = resp->body ? strlen(resp->body) : 0;
        resp->type = "text/plain";
    }
    r = MHD_create_response_from_buffer(resp->len, resp->body,
                                        resp->body ? MHD_RESPMEM_MUST_FREE
                                                   : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(resp->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    /* the dashboard loads nothing from elsewhere and is framed nowhere */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; "
                            "frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp->cookie[0] != '\0') {
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->cookie);
    }
    if (resp->status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"looklook\"");
    }
    rc = MHD_queue_response(conn, (unsigned) resp->status, r);
    MHD_destroy_response(r);
    if (cls >= 0 && cls < 4) {
        ll_metric_add(a->requests[cls], 1);
    }
    return rc;
}

/* Who did what: every action (allowed or refused) makes one line. */
static void
log_action(admin_t *a, struct MHD_Connection *conn, const char *method,
    const char *url, int status)
{
    const union MHD_ConnectionInfo  *ci;
    char                             host[NI_MAXHOST] = "?";
    char                            *user, *pass = NULL;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL) {
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6
                    ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                    host, sizeof(host), NULL, 0, NI_NUMERICHOST);
    }
    user = MHD_basic_auth_get_username_password(conn, &pass);
    ll_log(a->in, status < 300 ? LL_LOG_INFO : LL_LOG_WARN,
           "action %s %s from %s user \"%s\": %d", method, url, host,
           user ? user : "", status);
    MHD_free(user);
    MHD_free(pass);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **state)
{
    admin_t              *a = cls;
    req_state_t          *rs = *state;
    const admin_route_t  *r;
    admin_req_t           req;
    admin_resp_t          resp = { .type = "text/plain" };
    int                   known;
    char                 *p;

    /* the first call only sets up; a body comes in the calls after */
    if (rs == NULL) {
        rs = calloc(1, sizeof(*rs));
        if (rs == NULL) {
            return MHD_NO;
        }
        *state = rs;
        return MHD_YES;
    }
    if (*upload_len != 0) {
        if (rs->len + *upload_len > ADMIN_BODY_MAX) {
            rs->too_large = 1;
        } else if ((p = realloc(rs->body, rs->len + *upload_len + 1))
                   == NULL)
        {
            return MHD_NO;
        } else {
            rs->body = p;
            memcpy(rs->body + rs->len, upload, *upload_len);
            rs->len += *upload_len;
            rs->body[rs->len] = '\0';
        }
        *upload_len = 0;
        return MHD_YES;
    }

    r = route_find(method, url, &known);
    if (r == NULL) {
        admin_error(&resp, known ? MHD_HTTP_METHOD_NOT_ALLOWED
                                 : MHD_HTTP_NOT_FOUND,
                    known ? "method not allowed" : "not found");
    } else if (!(r->flags & ADMIN_PUBLIC) && !authorized(a, conn)) {
        admin_error(&resp, MHD_HTTP_UNAUTHORIZED, "token required");
    } else if ((r->flags & ADMIN_ACTION) && a->conf->read_only) {
        admin_error(&resp, MHD_HTTP_FORBIDDEN, "read_only is set");
    } else if ((r->flags & ADMIN_ACTION) && !admin_csrf_ok(conn)) {
        admin_error(&resp, MHD_HTTP_FORBIDDEN, "CSRF token missing or wrong "
                    "(GET /api/csrf, send it as X-CSRF-Token)");
    } else if (rs->too_large) {
        admin_error(&resp, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
    } else {
        req = (admin_req_t) { a, method, url, rs->body ? rs->body : "",
                              rs->len, conn };
        r->handle(&req, &resp);
    }
    if (r != NULL && (r->flags & ADMIN_ACTION)) {
        log_action(a, conn, method, url, resp.status);
    }
    return respond(a, conn, &resp);
}

static void
on_done(void *cls, struct MHD_Connection *conn, void **state,
    enum MHD_RequestTerminationCode why)
{
    req_state_t  *rs = *state;

    if (rs != NULL) {
        free(rs->body);
        free(rs);
        *state = NULL;
    }
}

static void
on_log(void *cls, const char *fmt, va_list ap)
{
    char  line[512];
    size_t  n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    ll_log(((admin_t *) cls)->in, LL_LOG_WARN, "http: %s", line);
}

int
admin_http_start(admin_t *a, char *err, size_t errlen)
{
    struct addrinfo   hints, *ai = NULL;
    char              host[256], port[16];
    int               rc;
    unsigned          flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO
                              | MHD_USE_ERROR_LOG;

    if (admin_listen_parse(a->conf->listen, host, sizeof(host), port,
                           sizeof(port)) != 0)
    {
        snprintf(err, errlen, "bad listen \"%s\"", a->conf->listen);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "listen \"%s\": %s", a->conf->listen,
                 gai_strerror(rc));
        return -1;
    }
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    a->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, a,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, a,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (a->daemon == NULL) {
        snprintf(err, errlen, "cannot serve HTTP on %s (address in use by "
                 "another program, or not local?)", a->conf->listen);
        return -1;
    }
    ll_log(a->in, LL_LOG_INFO, "serving http://%s/ (dashboard, /metrics, "
           "/healthz, /readyz, /api/)%s", a->conf->listen,
           a->conf->token ? ", token required" : "");
    return 0;
}

void
admin_http_stop(admin_t *a)
{
    if (a != NULL && a->daemon != NULL) {
        MHD_stop_daemon(a->daemon);
        a->daemon = NULL;
    }
}
