/* placeholder until its command group lands */
#include "cli.h"

int
cli_stats(cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx; (void) argc; (void) argv;
    return cli_error("stats: not built yet");
}

int
cli_queue(cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx; (void) argc; (void) argv;
    return cli_error("queue: not built yet");
}
