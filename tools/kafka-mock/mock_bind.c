/*
 * Fixed listener ports for the mock cluster.  librdkafka 2.0.2 always binds
 * its mock brokers to 127.0.0.1:0; this executable defines bind() itself
 * (exported, so librdkafka's calls resolve here first) and, only while
 * armed, turns those port-0 loopback binds into base, base+1, ...
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock.h"

typedef int (*bind_pt)(int, const struct sockaddr *, socklen_t);

static int  fix_base;
static int  fix_count;
static int  fix_next;
static int  fix_armed;

static bind_pt
real_bind(void)
{
    static bind_pt  fn;

    if (fn == NULL) {
        fn = (bind_pt) dlsym(RTLD_NEXT, "bind");
    }
    return fn;
}

void
mock_bind_arm(int base, int count)
{
    fix_base = base;
    fix_count = count;
    fix_next = 0;
    fix_armed = 1;
}

void
mock_bind_disarm(void)
{
    fix_armed = 0;
}

/* The interposer.  Anything but an armed port-0 loopback bind passes
 * through untouched.  @locality any thread (armed: main thread only) */
__attribute__((visibility("default"))) int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct sockaddr_in  sin;
    bind_pt             fn = real_bind();

    if (fn == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (fix_armed && fix_next < fix_count && sa != NULL
        && sa->sa_family == AF_INET && len >= sizeof(sin))
    {
        memcpy(&sin, sa, sizeof(sin));
        if (sin.sin_port == 0
            && sin.sin_addr.s_addr == htonl(INADDR_LOOPBACK))
        {
            sin.sin_port = htons((uint16_t) (fix_base + fix_next++));
            return fn(fd, (const struct sockaddr *) &sin, sizeof(sin));
        }
    }
    return fn(fd, sa, len);
}

int
mock_port_free(int port)
{
    struct sockaddr_in  sin;
    int                 fd, rc, err;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) {
        return -1;
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = real_bind()(fd, (struct sockaddr *) &sin, sizeof(sin));
    err = errno;
    close(fd);
    errno = err;
    return rc == 0 ? 0 : -1;
}
