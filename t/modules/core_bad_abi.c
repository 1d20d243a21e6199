/*
 * core_bad_abi: a module built for a future ABI 3.0; the core must refuse
 * it with "module ABI 3.0 but this core is 2.0: the module needs a newer
 * looklook".
 */

#include <looklook/looklook.h>


LL_MODULE_EXPORT const ll_module_t ll_module = {
    .magic = LL_MODULE_MAGIC,
    .abi_major = 3,
    .abi_minor = 0,
    .size = sizeof(ll_module_t),
    .kind = LL_KIND_OTHER,
    .name = "core_bad_abi",
    .version = "1.0.0",
    .description = "test module with ABI 3.0",
};
