/*
 * The one TAP emitter of the project's C test programs (the core's
 * t/unit/ files, and the ll_tests of lib/ and modules/, which make test-build
 * builds with $CC and $CFLAGS like the rest): each check prints
 * "ok N - what" or "not ok N - what"; UNIT_DONE() prints the plan and gives
 * main's exit status.
 */
#ifndef UNIT_H_INCLUDED
#define UNIT_H_INCLUDED

#include <stdio.h>
#include <string.h>

static int  unit_n, unit_failed;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        int ok_ = (cond) ? 1 : 0;                                           \
        printf("%sok %d - ", ok_ ? "" : "not ", ++unit_n);                  \
        printf(__VA_ARGS__);                                                \
        printf("\n");                                                       \
        if (!ok_) {                                                         \
            unit_failed++;                                                  \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                   \
    } while (0)

#define CHECK_STR(got, want, what)                                          \
    do {                                                                    \
        const char *g_ = (got), *w_ = (want);                               \
        CHECK(g_ != NULL && strcmp(g_, w_) == 0, "%s", what);               \
        if (g_ == NULL || strcmp(g_, w_) != 0) {                            \
            printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)", w_); \
        }                                                                   \
    } while (0)

#define UNIT_DONE()                                                         \
    (printf("1..%d\n", unit_n), unit_failed ? 1 : 0)

#endif /* UNIT_H_INCLUDED */
