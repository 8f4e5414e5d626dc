/* Built-in configuration defaults; the only place the core names a driver. */
#ifndef BERTH_DEFAULTS_H
#define BERTH_DEFAULTS_H

#define DEFAULT_ROOT "/var/lib/berth"
#define DEFAULT_RUNROOT "/run/berth"
#define DEFAULT_STORAGE_DRIVER "overlay"
/* `network create --driver bridge` (or no --driver) means this chain. */
#define DEFAULT_NETWORK_DRIVER "bridge"
#define DEFAULT_NETWORK_CHAIN "bridge,nat"
#define DEFAULT_NETWORK "berth0" /* bridge + nat, 10.87.0.0/16, made on first use */
/* docker's name for its default volume driver */
#define DEFAULT_VOLUME_DRIVER "local"

#endif
