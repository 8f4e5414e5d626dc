/* Built-in configuration defaults; the only place the core names a driver. */
#ifndef BERTH_DEFAULTS_H
#define BERTH_DEFAULTS_H

#define DEFAULT_ROOT "/var/lib/berth"
#define DEFAULT_RUNROOT "/run/berth"
#define DEFAULT_STORAGE_DRIVER "overlay"
#define DEFAULT_NETWORK "none"

#endif
