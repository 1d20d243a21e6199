/*
 * The pid file, and telling whether a pid is a looklook master: the pid
 * file and the status file outlive a master killed with -9, and its pid
 * may by then belong to another program, which must never be signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ll_core.h"

/* Write our pid to path (through path.tmp and a rename, so a reader never
 * sees half a file); 0644 whatever the umask. */
int
ll__pid_file_write(const char *path, char *err, size_t n)
{
    char  tmp[4096], line[32];
    int   fd, len;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf(err, n, "cannot write pid file %s: %s", tmp, strerror(errno));
        return -1;
    }
    len = snprintf(line, sizeof(line), "%d\n", (int) getpid());
    if (write(fd, line, (size_t) len) != len || close(fd) != 0
        || rename(tmp, path) != 0)
    {
        snprintf(err, n, "cannot write pid file %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The pid path holds, or -1 (and why in err; errno ENOENT when there is
 * no file). */
pid_t
ll__pid_file_read(const char *path, char *err, size_t n)
{
    FILE  *f;
    int    pid = 0, saved;

    f = fopen(path, "r");
    if (f == NULL) {
        saved = errno;
        snprintf(err, n, "cannot read pid file %s: %s", path, strerror(errno));
        errno = saved;
        return -1;
    }
    if (fscanf(f, "%d", &pid) != 1 || pid <= 0) {
        snprintf(err, n, "pid file %s holds no pid", path);
        pid = -1;
        errno = EINVAL;
    }
    fclose(f);
    return pid;
}

/* /proc/PID/comm: the program's file name as the kernel keeps it (15
 * bytes at most); readable for any process, unlike /proc/PID/exe. */
static int
comm(const char *pid, char *buf, size_t n)
{
    char     path[64];
    ssize_t  len;
    int      fd;

    snprintf(path, sizeof(path), "/proc/%s/comm", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }
    len = read(fd, buf, n - 1);
    close(fd);
    if (len <= 0) {
        return -1;
    }
    buf[len] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* 1 when pid is a zombie: dead, not yet reaped by its parent */
static int
zombie(const char *pid)
{
    char   path[64], buf[512], *p;
    FILE  *f;
    int    z = 0;

    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    /* "pid (comm) S ...": comm may hold spaces and parentheses */
    if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL
        && p[1] == ' ')
    {
        z = p[2] == 'Z' || p[2] == 'X';
    }
    fclose(f);
    return z;
}

/*
 * 1 when pid is alive and runs the same program as this process (a
 * looklook), else 0 with why in err ("is not running", "is \"vim\"").
 */
int
ll__pid_is_looklook(pid_t pid, char *err, size_t n)
{
    char  theirs[64], ours[64], id[32];

    if (kill(pid, 0) != 0 && errno == ESRCH) {
        snprintf(err, n, "pid %d is not running", (int) pid);
        return 0;
    }
    snprintf(id, sizeof(id), "%d", (int) pid);
    if (comm(id, theirs, sizeof(theirs)) != 0 || zombie(id)) {
        snprintf(err, n, "pid %d is not running", (int) pid);
        return 0;
    }
    if (comm("self", ours, sizeof(ours)) != 0 || strcmp(ours, theirs) != 0) {
        snprintf(err, n, "pid %d is not looklook (it runs \"%s\")", (int) pid,
                 theirs);
        return 0;
    }
    return 1;
}
