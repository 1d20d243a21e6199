/*
 * The @include lines of looklook.conf, checked before libconfig reads the
 * file: libconfig 1.5 handed a folder dies inside its scanner ("input in
 * flex scanner failed", exit 2) with no file or line.  Standalone, so
 * looklook-cli compiles it in for -c.
 */
#ifndef LL_INCLUDE_H_INCLUDED
#define LL_INCLUDE_H_INCLUDED

#include <stddef.h>

/* 0, or -1 with "FILE:LINE: @include \"X\" is a folder ..." in err when
 * path, or a file it includes, includes what is not a regular file.
 * Relative names start from dir (libconfig's include_dir; NULL: the
 * current folder).  Missing files are left to libconfig, which names
 * them.  Any thread. */
int  ll__conf_includes_check(const char *path, const char *dir, char *err,
    size_t n);

#endif /* LL_INCLUDE_H_INCLUDED */
