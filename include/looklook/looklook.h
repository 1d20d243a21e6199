/*
 * looklook: the one header a module includes.
 */
#ifndef LOOKLOOK_H_INCLUDED
#define LOOKLOOK_H_INCLUDED

#include "ll_conf.h"
#include "ll_msg.h"
#include "ll_module.h"
#include "ll_api.h"
#include "ll_observe.h"

#endif /* LOOKLOOK_H_INCLUDED */
