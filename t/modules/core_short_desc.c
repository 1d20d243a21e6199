/*
 * core_short_desc: a descriptor whose size says it ends after the first
 * four fields; what lies past them is garbage (here a bogus name pointer
 * and kind).  The core must refuse it by size alone, reading nothing past
 * `size` bytes, not even to print the refusal.
 */

#include <stdint.h>

#include <looklook/looklook.h>


LL_MODULE_EXPORT const ll_module_t ll_module = {
    .magic = LL_MODULE_MAGIC,
    .abi_major = LL_ABI_MAJOR,
    .abi_minor = LL_ABI_MINOR,
    .size = offsetof(ll_module_t, name),
    .kind = 0x7777,
    .name = (const char *) (uintptr_t) 16,
};
