/*
 * core_bad_magic: exports `ll_module`, but it is not a looklook
 * descriptor; the core must refuse it for its magic.
 */

#include <looklook/looklook.h>


LL_MODULE_EXPORT const ll_module_t ll_module = {
    .magic = 0x12345678U,
    .abi_major = LL_ABI_MAJOR,
    .abi_minor = LL_ABI_MINOR,
    .size = sizeof(ll_module_t),
    .kind = LL_KIND_OTHER,
    .name = "core_bad_magic",
};
