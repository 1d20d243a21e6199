/*
 * ll__conf_includes_check: see ll_include.h.  The directive as libconfig
 * 1.5 scans it: at the start of a line, blanks, "@include", blanks, a
 * double-quoted name; relative names open from the include_dir, else from
 * the current folder (the prefix), as libconfig does.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ll_include.h"

#define MAX_DEPTH  10       /* libconfig's own include depth */

static int
scan(const char *path, const char *dir, int depth, char *err, size_t n)
{
    struct stat  st;
    FILE        *f;
    char         line[4096], name[4096], file[8192], *p, *q;
    int          lineno = 0, rc = 0;

    f = fopen(path, "r");
    if (f == NULL) {
        return 0;       /* libconfig says it better */
    }
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        for (p = line; *p == ' ' || *p == '\t'; p++) { /* void */ }
        if (strncmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t')) {
            continue;
        }
        for (p += 8; *p == ' ' || *p == '\t'; p++) { /* void */ }
        if (*p++ != '"' || (q = strchr(p, '"')) == NULL) {
            continue;
        }
        snprintf(name, sizeof(name), "%.*s", (int) (q - p), p);
        snprintf(file, sizeof(file), "%s%s%s", dir && name[0] != '/' ? dir
                 : "", dir && name[0] != '/' ? "/" : "", name);
        if (stat(file, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, n, "%s:%d: @include \"%s\" is a folder: include "
                     "its files one by one (@include \"%s/NAME.conf\")",
                     path, lineno, name, name);
            rc = -1;
        } else if (!S_ISREG(st.st_mode)) {
            snprintf(err, n, "%s:%d: @include \"%s\" is not a regular file",
                     path, lineno, name);
            rc = -1;
        } else if (depth < MAX_DEPTH) {
            rc = scan(file, dir, depth + 1, err, n);
        }
    }
    fclose(f);
    return rc;
}

int
ll__conf_includes_check(const char *path, const char *dir, char *err,
    size_t n)
{
    return scan(path, dir, 0, err, n);
}
