/*
 * looklook-cli: shared declarations.  Each command group lives in its own
 * file (cli_queue.c, cli_task.c, cli_cron.c, cli_order.c, cli_dq.c) and is
 * listed in the table in cli_main.c.
 */
#ifndef CLI_H_INCLUDED
#define CLI_H_INCLUDED

#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char     *redis_url;  /* -u, else the config's redisq "redis" */
    const char     *conf_path;  /* -c FILE, or NULL */
    int             json;       /* --json: machine output on stdout */
} cli_ctx_t;

/* A command group: argv[0] is the group name ("task"), argv[1] the
 * subcommand.  Returns the process exit status: 0 ok, 1 failure, 2 usage. */
typedef int (*cli_cmd_pt)(cli_ctx_t *ctx, int argc, char **argv);

/* The setting `key` of the module instance `module` in the -c config
 * (a string or a number rendered as text), or NULL.  The string lives
 * until exit.  Call only after main has parsed the global options. */
const char *cli_conf_get(cli_ctx_t *ctx, const char *module, const char *key);

/* The setting itself (libconfig's), for lists and groups; NULL if absent.
 * Valid until exit. */
struct config_setting_t *cli_conf_setting(cli_ctx_t *ctx, const char *module,
    const char *key);

/* Options' values (cli_taskfile.c): a duration ("1h30m", "500ms", "45s",
 * "2d", bare number = seconds), a time (Unix seconds "1764088200.250" or
 * RFC 3339 "2026-11-25T16:30:00Z", "...+08:00", no zone = local time),
 * both in ms.  0, or -1 if malformed or beyond CLI_MS_MAX (refused, never
 * cut). */
#define CLI_MS_MAX  253402300800000.0   /* year 10000, Unix ms */

int cli_duration(const char *s, int64_t *ms);
int cli_time(const char *s, int64_t *ms);

/* Print "looklook-cli: <msg>" to stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The command groups (each in its own file). */
int cli_stats(cli_ctx_t *ctx, int argc, char **argv);
int cli_queue(cli_ctx_t *ctx, int argc, char **argv);
int cli_queue_check(cli_ctx_t *ctx, int argc, char **argv);  /* cli_check.c */
int cli_task(cli_ctx_t *ctx, int argc, char **argv);
int cli_cron(cli_ctx_t *ctx, int argc, char **argv);
int cli_order(cli_ctx_t *ctx, int argc, char **argv);
int cli_pay(cli_ctx_t *ctx, int argc, char **argv);
int cli_dq(cli_ctx_t *ctx, int argc, char **argv);

#endif /* CLI_H_INCLUDED */
