/*
 * core_not_module: a shared object with no `ll_module` symbol.
 */

#include <looklook/looklook.h>


LL_EXPORT int core_not_module_answer(void);


LL_EXPORT int
core_not_module_answer(void)
{
    return 42;
}
