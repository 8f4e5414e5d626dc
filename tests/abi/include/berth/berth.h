/* SPDX-License-Identifier: MIT */
/* Everything a berth plugin may include. */
#ifndef BERTH_BERTH_H
#define BERTH_BERTH_H

#include <berth/plugin.h>
#include <berth/storage.h>
#include <berth/volume.h>
#include <berth/network.h>
#include <berth/hook.h>

#endif
