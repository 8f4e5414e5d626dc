/* SPDX-License-Identifier: MIT */
#include "conformance.h"

int conformance_network(struct conformance *c)
{
    conf_skip(c, "network", "not written yet");
    return 0;
}
