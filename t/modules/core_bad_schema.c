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
    LL_SET_STR(bad_schema_conf_t, label, "label", 0, "x",
      "a string"),
    LL_SET_INT(bad_schema_conf_t, limit, "limit", 0, "10", 0, 0,
      "an integer"),
    LL_SET_END
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
