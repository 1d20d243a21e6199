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
#include <unistd.h>

#include "ll_core.h"

static void
usage(FILE *f)
{
    fprintf(f,
        "usage: looklook [-c FILE] [-p PREFIX] [-t | -s SIGNAL | -m FILE.so | -V | -h]\n"
        "\n"
        "Runs the master in the foreground, or a one-shot command.\n"
        "\n"
        "  -c FILE     config file (default " LL_CONF_PATH ")\n"
        "  -p PREFIX   folder relative paths start from (default: the config's)\n"
        "  -t          check the config and every module it names, then exit\n"
        "  -s SIGNAL   reload | quit | stop | reopen | status: signal the running\n"
        "              master named by pid_file (status prints its metrics)\n"
        "  -m FILE.so  print a module's name, version, ABI and settings\n"
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

static int
describe_module(const char *path)
{
    const ll_module_t      *m;
    const ll_conf_field_t  *f;
    char                    err[LL_ERRLEN], def[96];

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
        printf("  %-20s %-10s %-28s %s\n", f->name, ll__conf_type_name(f->type),
               def, f->help ? f->help : "");
    }
    if (m->conf == NULL || m->conf->name == NULL) {
        printf("  (none)\n");
    }
    return 0;
}

static int
send_signal(const char *conf_path, const char *what)
{
    static const struct { const char *name; int sig; } sigs[] = {
        { "reload", SIGHUP }, { "quit", SIGQUIT }, { "stop", SIGTERM },
        { "reopen", SIGUSR1 }, { "status", 0 }
    };
    ll_conf_t  *conf;
    char        err[LL_ERRLEN];
    FILE       *f;
    size_t      i;
    int         pid = 0, rc = 1;

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
        fprintf(stderr, "looklook: %s\n", err);
        return 1;
    }
    if (sigs[i].sig == 0) {
        if (ll__metrics_print(conf->settings.status_file, stdout) != 0) {
            fprintf(stderr, "looklook: cannot read status file %s: %s\n",
                    conf->settings.status_file, strerror(errno));
        } else {
            rc = 0;
        }
        goto done;
    }
    f = fopen(conf->settings.pid_file, "r");
    if (f == NULL) {
        fprintf(stderr, "looklook: cannot read pid file %s: %s\n",
                conf->settings.pid_file, strerror(errno));
        goto done;
    }
    if (fscanf(f, "%d", &pid) != 1 || pid <= 0) {
        fprintf(stderr, "looklook: pid file %s holds no pid\n",
                conf->settings.pid_file);
    } else if (kill(pid, sigs[i].sig) != 0) {
        fprintf(stderr, "looklook: kill(%d, %s): %s\n", pid, what,
                strerror(errno));
    } else {
        rc = 0;
    }
    fclose(f);
done:
    ll__conf_free(conf);
    return rc;
}

static const struct option  longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
    const char  *conf_arg = LL_CONF_PATH, *prefix = NULL, *sig = NULL;
    const char  *module = NULL;
    char        *dir = NULL, *abs = NULL, *conf_path, err[LL_ERRLEN];
    int          opt, test = 0, rc;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:p:ts:m:Vh", longopts, NULL))
           != -1)
    {
        switch (opt) {
        case 'c': conf_arg = optarg; break;
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
        return describe_module(module);
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
        rc = send_signal(conf_path, sig);
    } else if (test) {
        rc = ll__check(conf_path, err, sizeof(err)) != 0;
        if (rc != 0) {
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
