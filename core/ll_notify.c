/*
 * Readiness for systemd's Type=notify services: the master says READY=1
 * when the first generation is ready, RELOADING=1 ... READY=1 around each
 * reload (whatever its outcome: the service keeps serving), STOPPING=1 at
 * a stop.  libsystemd does the sending; without $NOTIFY_SOCKET (not run
 * by systemd) it does nothing, and a build configured without libsystemd
 * leaves this a no-op.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ll_core.h"

#if LL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void
ll__notify(const char *fmt, ...)
{
#if LL_HAVE_SYSTEMD
    char     state[256];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(state, sizeof(state), fmt, ap);
    va_end(ap);
    /* a lost notification is systemd's timeout to report, not ours */
    (void) sd_notify(0, state);
#else
    (void) fmt;
#endif
}
