/* placeholder until its command group lands */
#include "cli.h"

int
cli_cron(cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx; (void) argc; (void) argv;
    return cli_error("cron: not built yet");
}
