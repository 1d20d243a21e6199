/*
 * core_undef: calls a function no library defines.  A shared object may
 * link with undefined symbols; loading it with RTLD_NOW must fail with
 * "undefined symbol: core_undef_no_such_function".
 */

#include <stdio.h>

#include <looklook/looklook.h>


void core_undef_no_such_function(void);


static int
undef_init(ll_instance_t *in, void *conf, char *err, size_t errlen)
{
    core_undef_no_such_function();
    return 0;
}


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "core_undef",
    .version = "1.0.0",
    .description = "test module with an undefined symbol",
    .init = undef_init,
};
