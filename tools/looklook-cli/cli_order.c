/* placeholder until its command group lands */
#include "cli.h"

int
cli_order(cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx; (void) argc; (void) argv;
    return cli_error("order: not built yet");
}

int
cli_pay(cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx; (void) argc; (void) argv;
    return cli_error("pay: not built yet");
}
