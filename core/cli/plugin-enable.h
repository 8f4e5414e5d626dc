/* berth plugin enable|disable NAME: edits the configuration file. */
#ifndef BERTH_PLUGIN_ENABLE_H
#define BERTH_PLUGIN_ENABLE_H

#include "cli/cli.h"

/* Sets plugins.NAME.enabled to ENABLE in the configuration file, keeping
 * every other key; NAME must be a plugin in the plugin path. */
int plugin_set_enabled(struct cli_globals *g, const char *name, int enable);

#endif
