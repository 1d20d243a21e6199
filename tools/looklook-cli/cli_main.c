/*
 * looklook-cli: inspect and drive a looklook deployment.  The grammar
 * follows the asynq CLI where the two overlap.  Global options (anywhere on
 * the line): -u URL (Redis), -c FILE (take settings from looklook.conf),
 * --json (machine output), -h / --help, -V / --version.
 */
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auto_config.h"
#include "../../core/ll_include.h"
#include "../../core/ll_mask.h"
#include "cli.h"

static const struct {
    const char     *name;
    cli_cmd_pt      run;
    const char     *usage;
} groups[] = {
    { "stats", cli_stats, "stats" },
    { "queue", cli_queue, "queue ls | inspect Q | pause Q | unpause Q | "
                          "check [--fix] [Q...]" },
    { "task",  cli_task,
      "task ls|inspect|run|archive|delete|enqueue ... (task -h for more)" },
    { "cron",  cli_cron,  "cron ls | history ID | run ID" },
    { "order", cli_order, "order create [options] | show SN... | "
                          "state SN STATE | pay SN [--status N]" },
    { "pay",   cli_pay,   "pay SN [--status N]" },
    { "dq",    cli_dq,    "dq put|stats|peek|kick ... (dq -h for more)" },
};

static config_t  conf;
static int       conf_loaded;
static char      nums[16][24];
static size_t    nnums;

int
cli_error(const char *fmt, ...)
{
    va_list ap;
    char    text[4096];

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* a URL given with -u, --db or in looklook.conf keeps its password */
    ll__mask_secrets(text, sizeof(text));
    fprintf(stderr, "looklook-cli: %s\n", text);
    return 1;
}

struct config_setting_t *
cli_conf_setting(cli_ctx_t *ctx, const char *module, const char *key)
{
    config_setting_t  *mods, *m;
    const char        *name;
    int                i;

    if (ctx->conf_path == NULL) {
        return NULL;
    }
    if (!conf_loaded) {
        char  err[4096], dir[4096];

        /* relative @include names start from the config's folder, as
         * for looklook */
        snprintf(dir, sizeof(dir), "%s", ctx->conf_path);
        dirname(dir);
        config_init(&conf);
        config_set_include_dir(&conf, dir);
        if (ll__conf_includes_check(ctx->conf_path, dir, err, sizeof(err))
            != 0)
        {
            cli_error("%s", err);
            exit(1);
        }
        if (config_read_file(&conf, ctx->conf_path) != CONFIG_TRUE) {
            cli_error("%s:%d: %s", ctx->conf_path, config_error_line(&conf),
                      config_error_text(&conf));
            exit(1);
        }
        conf_loaded = 1;
    }
    mods = config_lookup(&conf, "modules");
    for (i = 0; mods != NULL && i < config_setting_length(mods); i++) {
        m = config_setting_get_elem(mods, i);
        if (config_setting_lookup_string(m, "name", &name) == CONFIG_TRUE
            && strcmp(name, module) == 0)
        {
            return config_setting_get_member(m, key);
        }
    }
    return NULL;
}

const char *
cli_conf_get(cli_ctx_t *ctx, const char *module, const char *key)
{
    config_setting_t  *v = cli_conf_setting(ctx, module, key);
    char              *text;

    if (v == NULL) {
        return NULL;
    }
    switch (config_setting_type(v)) {
    case CONFIG_TYPE_STRING:
        return config_setting_get_string(v);
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        /* numbers rendered as text live in static slots until exit */
        if (nnums == sizeof(nums) / sizeof(nums[0])) {
            return NULL;
        }
        text = nums[nnums++];
        snprintf(text, sizeof(nums[0]), "%lld",
                 (long long) config_setting_get_int64(v));
        return text;
    default:
        return NULL;
    }
}

static int
usage(FILE *f)
{
    size_t  i;

    fprintf(f, "usage: looklook-cli [-u redis://HOST:PORT/DB] [-c looklook.conf]"
               " [--json] COMMAND ...\n\ncommands:\n");
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        fprintf(f, "  %s\n", groups[i].usage);
    }
    fprintf(f, "\n  -u, --uri URL  Redis (default: -c's redisq, else "
               "redis://127.0.0.1:6379/0)\n"
               "  -c FILE        take settings from this looklook.conf\n"
               "  --json         machine-readable output\n"
               "  -h, --help     this help\n"
               "  -V, --version  print the version\n"
               "\nSee looklook-cli(1).\n");
    return f == stderr ? 2 : 0;
}

int
main(int argc, char **argv)
{
    cli_ctx_t   ctx = { 0 };
    char      **rest;
    int         i, n = 0, rc;
    size_t      g;

    /* take the global options out, leave the rest in order */
    rest = calloc((size_t) argc + 1, sizeof(char *));
    if (rest == NULL) {
        return cli_error("out of memory");
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            ctx.json = 1;
        } else if (strcmp(argv[i], "-u") == 0 || strcmp(argv[i], "--uri") == 0
                   || strcmp(argv[i], "-c") == 0)
        {
            /* no value, or an empty one, is a mistake: never fall back
             * silently to the default Redis */
            if (i + 1 == argc || argv[i + 1][0] == '\0') {
                free(rest);
                cli_error("%s needs a value", argv[i]);
                return 2;
            }
            *(strcmp(argv[i], "-c") == 0 ? &ctx.conf_path
                                         : &ctx.redis_url) = argv[i + 1];
            i++;
        } else if (strncmp(argv[i], "--uri=", 6) == 0) {
            if (argv[i][6] == '\0') {
                free(rest);
                cli_error("--uri needs a value");
                return 2;
            }
            ctx.redis_url = argv[i] + 6;
        } else if (n == 0 && (strcmp(argv[i], "-h") == 0
                              || strcmp(argv[i], "--help") == 0))
        {
            free(rest);
            return usage(stdout);
        } else if (n == 0 && (strcmp(argv[i], "-V") == 0
                              || strcmp(argv[i], "--version") == 0))
        {
            free(rest);
            printf("looklook-cli version %s\n", LL_VERSION);
            return 0;
        } else {
            rest[n++] = argv[i];
        }
    }
    if (n == 0) {
        free(rest);
        return usage(stderr);
    }
    if (ctx.redis_url == NULL) {
        ctx.redis_url = cli_conf_get(&ctx, "redisq", "redis");
    }
    if (ctx.redis_url == NULL) {
        ctx.redis_url = "redis://127.0.0.1:6379/0";
    }
    rc = -1;
    for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (strcmp(rest[0], groups[g].name) == 0) {
            rc = groups[g].run(&ctx, n, rest);
            break;
        }
    }
    if (rc == -1) {
        cli_error("unknown command \"%s\"", rest[0]);
        rc = usage(stderr);
    }
    free(rest);
    return rc;
}
