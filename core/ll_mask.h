/*
 * Credentials out of messages: every text looklook shows (log lines, -t
 * and -s output, the status file, looklook-cli's errors) goes through
 * ll__mask_secrets, the one place that knows what a secret looks like.
 * Standalone (no other core header), so the tools compile it in.
 */
#ifndef LL_MASK_H_INCLUDED
#define LL_MASK_H_INCLUDED

#include <stddef.h>

/* In s (a NUL-terminated text in a buffer of cap bytes), replace the
 * password of every URL ("scheme://user:PASSWORD@host", and the lone
 * "redis://PASSWORD@host" go-redis reads as a password) with "***";
 * a text that grows past cap is cut.  Any thread. */
void  ll__mask_secrets(char *s, size_t cap);

#endif /* LL_MASK_H_INCLUDED */
