/*
 * Unit tests of the error log: a line stays one line within the line
 * buffer whatever the lengths of the instance name and the message.
 */
#include <stdlib.h>
#include <unistd.h>

#include "ll_core.h"
#include "unit.h"

/* Log one line as instance `name` (length name_len) with a message of
 * msg_len bytes; return what the log file holds. */
static char *
log_one(size_t name_len, size_t msg_len)
{
    static char     got[16384];
    char            path[] = "/tmp/ll_unit_log_XXXXXX";
    char            err[LL_ERRLEN];
    char           *name, *msg;
    ll_instance_t   in = { 0 };
    FILE           *f;
    size_t          n;
    int             fd;

    fd = mkstemp(path);
    name = malloc(name_len + 1);
    msg = malloc(msg_len + 1);
    if (fd == -1 || name == NULL || msg == NULL) {
        abort();
    }
    close(fd);
    memset(name, 'n', name_len);
    name[name_len] = '\0';
    memset(msg, 'm', msg_len);
    msg[msg_len] = '\0';
    in.name = name;
    if (ll__log_open(path, err, sizeof(err)) != 0) {
        abort();
    }
    ll_log(&in, LL_LOG_ERR, "%s", msg);
    ll__log_open("stderr", err, sizeof(err));
    f = fopen(path, "r");
    n = f ? fread(got, 1, sizeof(got) - 1, f) : 0;
    got[n] = '\0';
    if (f != NULL) {
        fclose(f);
    }
    unlink(path);
    free(name);
    free(msg);
    return got;
}

static void
one_line(size_t name_len, size_t msg_len)
{
    char    *got = log_one(name_len, msg_len);
    size_t   len = strlen(got);

    CHECK(len > 0 && len <= 4096 && got[len - 1] == '\n'
          && strchr(got, '\n') == got + len - 1,
          "name of %zu bytes, message of %zu: one line of %zu bytes",
          name_len, msg_len, len);
}

int
main(void)
{
    one_line(5, 20);
    one_line(5, 10000);
    one_line(4000, 10);
    one_line(5000, 3000);
    one_line(20000, 20000);
    return UNIT_DONE();
}
