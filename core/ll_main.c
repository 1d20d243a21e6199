/*
 * looklook: command line.  Runs the master, or one of the one-shot
 * commands: -t (check a config), -m (describe a module), -s (signal a
 * running master, or print its metrics), -V (version).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ll_core.h"
#include "ll_status.h"

static void
usage(FILE *f)
{
    fprintf(f,
        "usage: looklook [-c FILE] [-p PREFIX] [-t | -s SIGNAL [--json | --no-wait] |\n"
        "                 -m FILE.so | -V | -h]\n"
        "\n"
        "Runs the master in the foreground, or a one-shot command.\n"
        "\n"
        "  -c FILE     config file (default " LL_CONF_PATH ")\n"
        "  -p PREFIX   folder relative paths start from (default: the config's)\n"
        "  -t          check the config and every module it names, then exit\n"
        "  -s SIGNAL   reload | quit | stop | reopen | status: signal the running\n"
        "              master named by pid_file.  reload waits for the outcome\n"
        "              and prints it (\"reload ok, generation N\" or \"reload\n"
        "              failed: why\", exit 1); with --no-wait it only sends HUP.\n"
        "              status prints the metrics (--json: the whole server\n"
        "              status as JSON; exit 3 when no master runs)\n"
        "  -m FILE.so  print a module's name, version, ABI, settings and message\n"
        "              options (a bare name is looked for in module_dir)\n"
        "  -V          print version, module ABI and configure arguments\n"
        "              (also --version)\n"
        "  -h          this help (also --help)\n"
        "\n"
        "See looklook(8) and looklook.conf(5).\n");
}

static const char *
kind_name(uint32_t kind)
{
    switch (kind) {
    case LL_KIND_MQ:       return "mq";
    case LL_KIND_BUSINESS: return "business";
    default:               return "other";
    }
}

static const char *
opt_type_name(int type)
{
    switch (type) {
    case LL_OPT_STR: return "string";
    case LL_OPT_INT: return "integer";
    default:         return "ms";
    }
}

static int
describe_module(const char *path)
{
    const ll_module_t      *m;
    const ll_conf_field_t  *f;
    const ll_opt_decl_t    *o;
    const char *const      *c;
    char                    err[LL_ERRLEN], def[96], lim[128];
    size_t                  len;

    m = ll__module_open(path, err, sizeof(err));
    if (m == NULL) {
        fprintf(stderr, "looklook: %s\n", err);
        return 1;
    }
    printf("name:        %s\nversion:     %s\nkind:        %s\n"
           "abi:         %u.%u\ndescription: %s\nsettings:\n", m->name,
           m->version ? m->version : "-", kind_name(m->kind), m->abi_major,
           m->abi_minor, m->description ? m->description : "-");
    for (f = m->conf; f != NULL && f->name != NULL; f++) {
        if (f->flags & LL_CONF_REQUIRED) {
            snprintf(def, sizeof(def), "(required)");
        } else if (f->def != NULL) {
            snprintf(def, sizeof(def), "= %s", f->def);
        } else {
            snprintf(def, sizeof(def), "(optional)");
        }
        lim[0] = '\0';
        if (f->min != 0 || f->max != 0) {
            snprintf(lim, sizeof(lim), " [%.15g .. %.15g%s]", f->min, f->max,
                     f->type == LL_CONF_DURATION ? " ms" : "");
        }
        for (c = f->choices, len = 0; c != NULL && *c != NULL
             && len < sizeof(lim); c++)
        {
            len += (size_t) snprintf(lim + len, sizeof(lim) - len, "%s%s",
                                     c == f->choices ? " [" : "|", *c);
        }
        if (len > 0 && len < sizeof(lim) - 1) {
            strcat(lim, "]");
        }
        printf("  %-20s %-10s %-28s %s%s\n", f->name,
               ll__conf_type_name(f->type), def, f->help ? f->help : "", lim);
    }
    if (m->conf == NULL || m->conf->name == NULL) {
        printf("  (none)\n");
    }
    if (m->opts != NULL && m->opts->name != NULL) {
        printf("message options:\n");
        for (o = m->opts; o->name != NULL; o++) {
            printf("  %-20s %-10s %-28s %s\n", o->name, opt_type_name(o->type),
                   (o->flags & (LL_OPT_IN | LL_OPT_OUT))
                   == (LL_OPT_IN | LL_OPT_OUT) ? "delivered, taken"
                   : (o->flags & LL_OPT_IN) ? "delivered" : "taken",
                   o->help ? o->help : "");
        }
    }
    return 0;
}

/*
 * -m NAME.so: a bare name is looked up in module_dir as looklook.conf's
 * module paths are: the config's module_dir (relative to its folder, or
 * to -p), else the built-in one when the config cannot be read.
 */
static int
describe_named(const char *name, const char *conf_arg, int conf_given,
    const char *prefix)
{
    ll_conf_t   *conf;
    const char  *dir = LL_MODULE_DIR;
    char        *abs = NULL, *rel = NULL, *path, err[LL_ERRLEN];
    int          rc;

    conf = ll__conf_load(conf_arg, err, sizeof(err));
    if (conf != NULL) {
        dir = conf->settings.module_dir;
        if (dir[0] != '/') {
            if (prefix == NULL && (abs = realpath(conf_arg, NULL)) != NULL) {
                prefix = dirname(abs);
            }
            rel = ll__module_path(prefix, dir);
            dir = rel;
        }
    } else if (conf_given) {
        fprintf(stderr, "looklook: %s; looking in %s\n", err, dir);
    }
    path = dir != NULL ? ll__module_path(dir, name) : NULL;
    if (path == NULL) {
        fprintf(stderr, "looklook: out of memory\n");
        rc = 1;
    } else {
        rc = describe_module(path);
    }
    free(path);
    free(rel);
    free(abs);
    ll__conf_free(conf);
    return rc;
}

/*
 * The status file of the master pid_file names, mapped, with that
 * master alive: 0; else 1 with why on stderr.  The file outlives the
 * master (kill -9 leaves it, a stop leaves its last figures), so the
 * master it names must still run and be a looklook.
 */
static int
open_status(const ll_conf_t *conf, ll_st_master_t *m)
{
    char         err[LL_ERRLEN], buf[4096];
    const char  *abs = ll__path_abs(conf->settings.status_file, buf,
                                    sizeof(buf));
    pid_t        pid;

    if (ll__metrics_open(abs, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "looklook: %s\n", err);
        return 1;
    }
    ll__status_master_copy(m);
    pid = m->master_pid;
    if (pid <= 0) {
        fprintf(stderr, "looklook: not running (the server that wrote %s "
                "has stopped)\n", abs);
        return 1;
    }
    if (!ll__pid_is_looklook(pid, err, sizeof(err))) {
        fprintf(stderr, "looklook: not running (%s wrote %s)\n", err, abs);
        return 1;
    }
    return 0;
}

/* looklook -s status [--json] */
static int
print_status(const ll_conf_t *conf, int json)
{
    ll_st_master_t  *m = malloc(sizeof(*m));
    char            *text;
    int              rc = 1;

    if (m == NULL || open_status(conf, m) != 0) {
        free(m);
        return LL_EXIT_NOT_RUNNING;
    }
    if (!json) {
        rc = ll__metrics_print(stdout) != 0;
    } else if ((text = ll_status_json()) != NULL) {
        printf("%s\n", text);
        free(text);
        rc = 0;
    }
    free(m);
    return rc;
}

/* The master's part, copied into m; -1 when it is not master pid's. */
static int
master_state(pid_t pid, ll_st_master_t *m)
{
    return ll__st != NULL && ll__status_master_copy(m) == 0
           && m->master_pid == pid ? 0 : -1;
}

/*
 * looklook -s reload: HUP, then wait for the outcome of the first reload
 * that begins after it (one already under way ends first, and HUPs that
 * arrive together make one reload).  Each wait, for the reload to begin
 * and for it to end, is bounded by what the master allows a reload: the
 * config check, then ready_timeout.
 */
static int
reload_and_wait(const ll_conf_t *conf, pid_t pid)
{
    ll_st_master_t        *m = malloc(sizeof(*m));
    const ll_st_reload_t  *r;
    struct timespec        tick = { 0, 5 * 1000000 };
    char                   err[LL_ERRLEN];
    uint32_t               mine;
    int64_t                bound, until;
    int                    begun = 0, rc = 1;

    if (m == NULL) {
        fprintf(stderr, "looklook: out of memory\n");
        return 1;
    }
    if (ll__metrics_open(conf->settings.status_file, 0, err, sizeof(err)) != 0
        || (master_state(pid, m) != 0
            && snprintf(err, sizeof(err), "status file %s is not master "
                        "%d's", conf->settings.status_file, (int) pid) > 0))
    {
        fprintf(stderr, "looklook: cannot wait for the reload: %s (send it "
                "with --no-wait)\n", err);
        free(m);
        return 1;
    }
    mine = m->nbegun + 1;
    if (kill(pid, SIGHUP) != 0) {
        fprintf(stderr, "looklook: kill(%d, HUP): %s\n", (int) pid,
                strerror(errno));
        free(m);
        return 1;
    }
    bound = LL_CHECK_TIMEOUT_MS + conf->settings.ready_timeout_ms
            + LL_RELOAD_WAIT_MARGIN_MS;
    until = lt_mono_ms() + bound;
    for ( ;; ) {
        if (master_state(pid, m) != 0 || !ll__pid_is_looklook(pid, err,
                                                             sizeof(err)))
        {
            fprintf(stderr, "looklook: reload failed: the master (pid %d) "
                    "exited\n", (int) pid);
            break;
        }
        if (m->nreloads >= mine) {
            r = &m->reload[(mine - 1) % LL_ST_RELOADS];
            if (m->nreloads - mine >= LL_ST_RELOADS) {
                fprintf(stderr, "looklook: reload outcome lost: %u reloads "
                        "since\n", m->nreloads - mine);
            } else if (r->ok) {
                printf("reload ok, generation %u\n", r->gen);
                rc = 0;
            } else {
                fprintf(stderr, "looklook: reload failed: %s\n", r->why);
            }
            break;
        }
        if (!begun && m->nbegun >= mine) {
            begun = 1;
            until = lt_mono_ms() + bound;
        }
        if (lt_mono_ms() >= until) {
            fprintf(stderr, "looklook: reload: no outcome within %lld s (%s); "
                    "see the error log\n", (long long) bound / 1000,
                    begun ? "still starting the new generation"
                          : "an earlier reload is still under way");
            break;
        }
        nanosleep(&tick, NULL);
    }
    free(m);
    return rc;
}

static int
send_signal(const char *conf_path, const char *what, int json, int nowait)
{
    static const struct { const char *name; int sig; } sigs[] = {
        { "reload", SIGHUP }, { "quit", SIGQUIT }, { "stop", SIGTERM },
        { "reopen", SIGUSR1 }, { "status", 0 }
    };
    ll_conf_t  *conf;
    char        err[LL_ERRLEN], buf[4096];
    const char *abs;
    size_t      i;
    pid_t       pid;
    int         rc = 1;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (strcmp(what, sigs[i].name) == 0) {
            break;
        }
    }
    if (i == sizeof(sigs) / sizeof(sigs[0])) {
        fprintf(stderr, "looklook: unknown signal \"%s\" (reload, quit, stop, "
                "reopen or status)\n", what);
        return 1;
    }
    conf = ll__conf_load(conf_path, err, sizeof(err));
    if (conf == NULL) {
        ll__mask_secrets(err, sizeof(err));
        fprintf(stderr, "looklook: %s%s\n",
                sigs[i].sig == SIGHUP ? "reload failed: " : "", err);
        return 1;
    }
    if (sigs[i].sig == 0) {
        rc = print_status(conf, json);
        goto done;
    }
    abs = ll__path_abs(conf->settings.pid_file, buf, sizeof(buf));
    pid = ll__pid_file_read(abs, err, sizeof(err));
    if (pid <= 0) {
        fprintf(stderr, "looklook: %s%s\n", err, errno == ENOENT
                ? " (not running?)" : "");
    } else if (!ll__pid_is_looklook(pid, err, sizeof(err))) {
        /* a stale pid file: its pid may be anyone's by now */
        fprintf(stderr, "looklook: not running: pid file %s: %s; nothing "
                "signalled\n", abs, err);
    } else if (sigs[i].sig == SIGHUP && !nowait) {
        rc = reload_and_wait(conf, pid);
    } else if (kill(pid, sigs[i].sig) != 0) {
        fprintf(stderr, "looklook: kill(%d, %s): %s\n", (int) pid, what,
                strerror(errno));
    } else {
        rc = 0;
    }
done:
    ll__conf_free(conf);
    return rc;
}

static const struct option  longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { "json", no_argument, NULL, 'j' },
    { "no-wait", no_argument, NULL, 'n' },
    { NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
    const char  *conf_arg = LL_CONF_PATH, *prefix = NULL, *sig = NULL;
    const char  *module = NULL;
    char        *dir = NULL, *abs = NULL, *conf_path, err[LL_ERRLEN];
    int          opt, test = 0, json = 0, nowait = 0, rc, conf_given = 0;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:p:ts:m:Vh", longopts, NULL))
           != -1)
    {
        switch (opt) {
        case 'j': json = 1; break;
        case 'n': nowait = 1; break;
        case 'c': conf_arg = optarg; conf_given = 1; break;
        case 'p': prefix = optarg; break;
        case 't': test = 1; break;
        case 's': sig = optarg; break;
        case 'm': module = optarg; break;
        case 'V':
            printf("looklook version %s\nmodule ABI %d.%d\n"
                   "configure arguments: %s\n", LL_VERSION, LL_ABI_MAJOR,
                   LL_ABI_MINOR, LL_CONFIGURE_ARGS);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            if (optopt == 'c' || optopt == 'p' || optopt == 's'
                || optopt == 'm')
            {
                fprintf(stderr, "looklook: option -%c needs a value\n", optopt);
            } else if (optopt != 0) {
                fprintf(stderr, "looklook: unknown option -%c\n", optopt);
            } else {
                fprintf(stderr, "looklook: unknown option %s\n",
                        argv[optind - 1]);
            }
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "looklook: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 1;
    }
    if (module != NULL) {
        return strchr(module, '/') != NULL
               ? describe_module(module)
               : describe_named(module, conf_arg, conf_given, prefix);
    }

    /* Relative paths (pid_file, modules, sqlite files, @include) start from
     * the prefix, by default the config's folder: chdir there.  The config
     * keeps the name it was given when that is a bare file name, else its
     * absolute path; errors print that name. */
    if (strchr(conf_arg, '/') == NULL && prefix == NULL) {
        conf_path = (char *) conf_arg;
        prefix = ".";
    } else {
        conf_path = abs = realpath(conf_arg, NULL);
        if (conf_path == NULL) {
            fprintf(stderr, "looklook: %s: %s\n", conf_arg, strerror(errno));
            return 1;
        }
        if (prefix == NULL) {
            dir = strdup(abs);
            if (dir == NULL) {
                fprintf(stderr, "looklook: out of memory\n");
                free(abs);
                return 1;
            }
            prefix = dirname(dir);
        }
    }
    if (chdir(prefix) != 0) {
        fprintf(stderr, "looklook: prefix %s: %s\n", prefix, strerror(errno));
        free(abs);
        free(dir);
        return 1;
    }

    if (sig != NULL) {
        rc = send_signal(conf_path, sig, json, nowait);
    } else if (test) {
        rc = ll__check(conf_path, LL_MODE_CHECK, err, sizeof(err)) != 0;
        if (rc != 0) {
            ll__mask_secrets(err, sizeof(err));
            fprintf(stderr, "%s\n", err);
        } else {
            fprintf(stderr, "%s: syntax is ok\n%s: test is successful\n",
                    conf_path, conf_path);
        }
    } else {
        rc = ll__master_run(conf_path);
    }
    free(abs);
    free(dir);
    return rc;
}
