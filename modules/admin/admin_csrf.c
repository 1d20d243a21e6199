/*
 * admin_csrf: the token every action (a POST) must carry.  Double submit:
 * GET /api/csrf sets a random value as the cookie ll_csrf (HttpOnly,
 * SameSite=Strict) and returns it in its body; an action sends it back as
 * the header X-CSRF-Token.  Another site can neither read the value nor
 * set that header on a request here, and nothing is kept on the server,
 * so any worker checks what any other issued.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <microhttpd.h>

#include "admin.h"

#define CSRF_BYTES  16

int
admin_csrf_ok(void *conn)
{
    const char  *cookie, *header;

    cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "ll_csrf");
    header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                         "X-CSRF-Token");
    return cookie != NULL && header != NULL
           && strlen(cookie) == 2 * CSRF_BYTES && admin_same(cookie, header);
}

/* GET /api/csrf: a fresh token, as {"csrf": "..."} and as the cookie */
void
admin_get_csrf(const admin_req_t *req, admin_resp_t *resp)
{
    unsigned char  raw[CSRF_BYTES];
    char           hex[2 * CSRF_BYTES + 1];
    cJSON         *o;
    int            i;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw)) {
        admin_error(resp, MHD_HTTP_INTERNAL_SERVER_ERROR, "getrandom failed");
        return;
    }
    for (i = 0; i < CSRF_BYTES; i++) {
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    }
    snprintf(resp->cookie, sizeof(resp->cookie),
             "ll_csrf=%s; Path=/; HttpOnly; SameSite=Strict", hex);
    o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "csrf", hex);
    }
    admin_json(resp, MHD_HTTP_OK, o);
}
