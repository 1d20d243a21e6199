/*
 * The error log: one line per call, written with a single write() so lines
 * from threads and processes sharing the file never interleave.  Reopening
 * (USR1) opens the new file and dup2()s it onto the same descriptor, so a
 * thread writing at that moment writes to either the old or the new file,
 * never to a closed one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ll_core.h"

static int          log_fd = STDERR_FILENO;
static int          log_level = LL_LOG_INFO;
static const char  *log_who = "master";
static unsigned     log_gen;        /* generation, for JSON lines */

static const char  *level_names[] = { "err", "warn", "info", "debug" };

int
ll__log_level_parse(const char *s)
{
    int  i;

    for (i = 0; i < (int) (sizeof(level_names) / sizeof(level_names[0])); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void
ll__log_set(int level, const char *who)
{
    if (level >= 0) {
        log_level = level;
    }
    if (who != NULL) {
        log_who = who;
    }
}

void
ll__log_format(int json, unsigned generation)
{
    if (json >= 0) {
        ll__log_json_on = json;
    }
    if (generation != 0) {
        log_gen = generation;
    }
}

int
ll__log_open(const char *path, char *err, size_t n)
{
    int  fd;

    if (strcmp(path, "stderr") == 0) {
        if (log_fd != STDERR_FILENO) {
            close(log_fd);
            log_fd = STDERR_FILENO;
        }
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf(err, n, "cannot open error_log \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }
    if (log_fd == STDERR_FILENO) {
        log_fd = fd;
        return 0;
    }
    /* swap the file under the same descriptor number */
    if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
        snprintf(err, n, "dup3(): %s", strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* len after appending what snprintf said it wrote (r), at most max */
static size_t
clamp_len(size_t len, int r, size_t max)
{
    if (r > 0) {
        len += (size_t) r;
    }
    return len < max ? len : max;
}

/* one write per line; nothing useful to do if the log itself fails */
static void
log_put(const char *line, size_t len)
{
    if (write(log_fd, line, len) < 0) {
        return;
    }
}

static void
log_write_json(const struct timeval *tv, const char *who, int level,
    const char *fmt, va_list ap)
{
    char    content[4096], *line;
    size_t  len;

    vsnprintf(content, sizeof(content), fmt, ap);
    ll__mask_secrets(content, sizeof(content) - 1);
    line = ll__log_json(tv, level, who, log_gen, content, &len);
    if (line != NULL) {
        log_put(line, len);
        free(line);
    }
}

static void
log_write(const char *who, int level, const char *fmt, va_list ap)
{
    char            line[4096];
    struct timeval  tv;
    struct tm       tm;
    size_t          len;
    int             r;

    if (level > log_level) {
        return;
    }
    gettimeofday(&tv, NULL);
    if (ll__log_json_on) {
        log_write_json(&tv, who, level, fmt, ap);
        return;
    }
    localtime_r(&tv.tv_sec, &tm);
    len = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
    /* each part may be cut short: len counts what is really in line[],
     * and one byte stays free for the newline */
    r = snprintf(line + len, sizeof(line) - len - 1, ".%03d [%s] %d %s: ",
                 (int) (tv.tv_usec / 1000), level_names[level], (int) getpid(),
                 who);
    len = clamp_len(len, r, sizeof(line) - 2);
    r = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    len = clamp_len(len, r, sizeof(line) - 2);
    line[len] = '\0';
    ll__mask_secrets(line, sizeof(line) - 1);
    len = strlen(line);
    line[len++] = '\n';
    log_put(line, len);
}

void
ll__log_core(int level, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    log_write(log_who, level, fmt, ap);
    va_end(ap);
}

LL_API void
ll_log(ll_instance_t *in, int level, const char *fmt, ...)
{
    va_list  ap;

    if (level < LL_LOG_ERR) {
        level = LL_LOG_ERR;
    } else if (level > LL_LOG_DEBUG) {
        level = LL_LOG_DEBUG;
    }
    va_start(ap, fmt);
    log_write(in != NULL ? in->name : log_who, level, fmt, ap);
    va_end(ap);
}
