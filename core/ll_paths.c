/*
 * The files the master writes (pid_file, status_file, error_log): shown
 * by their absolute path in errors, and checked for writability by -t and
 * before every start and reload, as nginx -t does, so that a missing
 * run/ or logs/ folder is found before the server is started.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ll_core.h"

/* path as an absolute one (relative paths start from the current folder,
 * the prefix by then), in buf; path itself when absolute or too long */
const char *
ll__path_abs(const char *path, char *buf, size_t n)
{
    char  cwd[4096];

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL) {
        return path;
    }
    while (strncmp(path, "./", 2) == 0) {
        path += 2;
    }
    if ((size_t) snprintf(buf, n, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
                          path) >= n)
    {
        return path;
    }
    return buf;
}

/*
 * Can this process write path?  An existing file must be writable;
 * with replace (the file is written beside and renamed over) or when it
 * does not exist yet, its folder must exist and be writable.  0, or -1
 * with "what \"ABS\": why" in err.
 */
static int
writable(const char *what, const char *path, int replace, char *err,
    size_t n)
{
    struct stat  st;
    char         abs[4096], dir[4096];
    const char  *shown = ll__path_abs(path, abs, sizeof(abs));

    snprintf(dir, sizeof(dir), "%s", shown);
    dirname(dir);
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, n, "%s \"%s\" is a folder", what, shown);
            return -1;
        }
        if (!replace && access(path, W_OK) != 0) {
            snprintf(err, n, "%s \"%s\" is not writable: %s", what, shown,
                     strerror(errno));
            return -1;
        }
        if (!replace) {
            return 0;
        }
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, n, "%s \"%s\": folder %s does not exist", what, shown,
                 dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, n, "%s \"%s\": folder %s is not writable: %s", what,
                 shown, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The master's files of conf, checked; errors name the setting's line
 * (or the config file, for a default). */
int
ll__conf_check_paths(ll_conf_t *c, char *err, size_t n)
{
    const struct { const char *name, *path; int replace; } f[] = {
        { "pid_file", c->settings.pid_file, 1 },
        { "status_file", c->settings.status_file, 1 },
        { "error_log", c->settings.error_log, 0 },
    };
    config_setting_t  *s;
    char               e[3 * 4096];     /* two paths and a reason */
    size_t             i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (i == 2 && strcmp(f[i].path, "stderr") == 0) {
            continue;
        }
        if (writable(f[i].name, f[i].path, f[i].replace, e, sizeof(e)) == 0) {
            continue;
        }
        s = config_lookup(&c->cfg, f[i].name);
        if (s == NULL && i == 1) {
            s = config_lookup(&c->cfg, "pid_file");  /* the default's base */
        }
        if (s != NULL) {
            return ll__conf_errorf(err, n, s, "%s", e);
        }
        snprintf(err, n, "%s: %s (the default)", c->path, e);
        return -1;
    }
    return 0;
}
