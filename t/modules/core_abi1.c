/*
 * core_abi1: a module as the ABI 1 headers built it.  The descriptor
 * begins the same way in every ABI (magic, major, minor, size), so the
 * core reads that much and must refuse the rest: "module ABI 1.0 but this
 * core is 2.0: rebuild the module against this looklook's headers".
 */

#include <stdint.h>

#include <looklook/looklook.h>

/* the ABI 1.0 descriptor's head and the fields a 1.0 module filled */
struct abi1_module {
    uint32_t        magic;
    uint16_t        abi_major;
    uint16_t        abi_minor;
    uint32_t        size;
    uint32_t        kind;
    const char     *name;
    const char     *version;
    const char     *description;
    const void     *conf;
    size_t          conf_size;
    void           *hooks[5];
    uintptr_t       spare[8];
};

LL_MODULE_EXPORT const struct abi1_module ll_module = {
    .magic = LL_MODULE_MAGIC,
    .abi_major = 1,
    .abi_minor = 0,
    .size = sizeof(struct abi1_module),
    .kind = LL_KIND_OTHER,
    .name = "core_abi1",
    .version = "1.0.0",
    .description = "test module built against ABI 1.0",
};
