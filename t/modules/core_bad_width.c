/*
 * core_bad_width: a schema written by hand, without the LL_SET_* macros,
 * whose integer setting (the core writes an int64_t) names an int member.
 * The macros refuse this at compile time; the loader must refuse the
 * module rather than write over the member after it.
 */

#include <looklook/looklook.h>


typedef struct {
    int         limit;
    int         after;
} bad_width_conf_t;

static const ll_conf_field_t bad_width_conf[] = {
    { .name = "limit", .type = LL_CONF_INT, .def = "10",
      .offset = offsetof(bad_width_conf_t, limit),
      .size = sizeof(int), .help = "an integer in an int" },
    LL_SET_END
};


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "core_bad_width",
    .version = "1.0.0",
    .description = "test module whose schema names a member too narrow",
    .conf = bad_width_conf,
    .conf_size = sizeof(bad_width_conf_t),
};
