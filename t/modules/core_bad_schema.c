/*
 * core_bad_schema: a schema field whose offset lies past conf_size (here
 * conf_size covers only the first field, as in a module whose struct lost
 * a member).  The core must refuse the module instead of writing past the
 * conf struct it allocates.
 */

#include <looklook/looklook.h>


typedef struct {
    char       *label;
    int64_t     limit;
} bad_schema_conf_t;

static const ll_conf_field_t bad_schema_conf[] = {
    { "label", LL_CONF_STR, 0, "x", offsetof(bad_schema_conf_t, label),
      "a string" },
    { "limit", LL_CONF_INT, 0, "10", offsetof(bad_schema_conf_t, limit),
      "an integer" },
    { NULL, 0, 0, NULL, 0, NULL }
};


LL_MODULE_EXPORT const ll_module_t ll_module = {
    LL_MODULE_HEADER,
    .kind = LL_KIND_OTHER,
    .name = "core_bad_schema",
    .version = "1.0.0",
    .description = "test module whose schema does not fit conf_size",
    .conf = bad_schema_conf,
    .conf_size = sizeof(char *),
};
