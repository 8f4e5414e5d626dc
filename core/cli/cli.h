/* The berth command line: global options and one function per verb. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <stddef.h>

#include "util/error.h"

struct cli_globals {
    const char *root;    /* --root, default /var/lib/berth */
    const char *runroot; /* --runroot, default /run/berth */
    char **plugin_path;  /* NULL-terminated: --plugin-path, BERTH_PLUGIN_PATH, installed dir */
    int log_level;
    /* From the configuration file (--config, else /etc/berth/berth.json if it
     * exists); NULL when not set. Owned by main. */
    const char *cgroup_parent;
    const char *userns_user;        /* whose /etc/subuid, /etc/subgid lines (NULL: "berth") */
    const struct cJSON *registries; /* the config's "registries" (registry-config.h) or NULL */
    /* The configuration file's path and its parsed content ({} when the
     * default file is missing); owned by main. */
    const char *config_file;
    const struct cJSON *config;
    /* "storage_driver" and "default_network" from it; NULL when not set. */
    const char *storage_driver;
    const char *default_network;
};

/* Each verb returns the process exit status. ARGV[0] is the verb. */
int cmd_run(struct cli_globals *g, int argc, char **argv);
int cmd_create(struct cli_globals *g, int argc, char **argv);
int cmd_start(struct cli_globals *g, int argc, char **argv);
int cmd_ps(struct cli_globals *g, int argc, char **argv);
int cmd_inspect(struct cli_globals *g, int argc, char **argv);
int cmd_rm(struct cli_globals *g, int argc, char **argv);
int cmd_image(struct cli_globals *g, int argc, char **argv);
int cmd_plugin(struct cli_globals *g, int argc, char **argv);
int cmd_plugin_test(struct cli_globals *g, int argc, char **argv);
int cmd_system(struct cli_globals *g, int argc, char **argv);
int cmd_volume(struct cli_globals *g, int argc, char **argv);
int cmd_network(struct cli_globals *g, int argc, char **argv);
int cmd_port(struct cli_globals *g, int argc, char **argv);
int cmd_stats(struct cli_globals *g, int argc, char **argv);
int cmd_top(struct cli_globals *g, int argc, char **argv);
int cmd_cp(struct cli_globals *g, int argc, char **argv);
int cmd_diff(struct cli_globals *g, int argc, char **argv);
int cmd_export(struct cli_globals *g, int argc, char **argv);
int cmd_container(struct cli_globals *g, int argc, char **argv);
int cmd_system_prune(struct cli_globals *g, int argc, char **argv);
int cmd_pause(struct cli_globals *g, int argc, char **argv);
int cmd_unpause(struct cli_globals *g, int argc, char **argv);
int cmd_events(struct cli_globals *g, int argc, char **argv);
int cmd_commit(struct cli_globals *g, int argc, char **argv);
int cmd_snapshot(struct cli_globals *g, int argc, char **argv);
int cmd_stop(struct cli_globals *g, int argc, char **argv);
int cmd_kill(struct cli_globals *g, int argc, char **argv);
int cmd_restart(struct cli_globals *g, int argc, char **argv);
int cmd_wait(struct cli_globals *g, int argc, char **argv);
int cmd_logs(struct cli_globals *g, int argc, char **argv);
int cmd_attach(struct cli_globals *g, int argc, char **argv);
int cmd_exec(struct cli_globals *g, int argc, char **argv);
int cmd_pull(struct cli_globals *g, int argc, char **argv);
int cmd_login(struct cli_globals *g, int argc, char **argv);
int cmd_logout(struct cli_globals *g, int argc, char **argv);
struct engine;
/* Pulls REF into E's image store (run/create of a missing image), progress on a terminal. */
int cli_pull_image(struct cli_globals *g, struct engine *e, const char *ref, int quiet,
                   struct error **err);
int cmd_load(struct cli_globals *g, int argc, char **argv);
int cmd_save(struct cli_globals *g, int argc, char **argv);
int cmd_tag(struct cli_globals *g, int argc, char **argv);
int cmd_history(struct cli_globals *g, int argc, char **argv);
int cmd_image_prune(struct cli_globals *g, int argc, char **argv);
int cmd_push(struct cli_globals *g, int argc, char **argv);

/* Prints "berth: VERB: MESSAGE" once and returns the error's exit status. */
int cli_report(const char *verb, struct error *err);
/* Opens the engine for VERB into *RET. Returns 0, or the exit status after
 * reporting the failure. */
int cli_open_engine(struct cli_globals *g, const char *verb, struct engine **ret);
/* An image size as docker's image listings print it: "4.26MB", "512B". */
void cli_image_size(long long n, char *out, size_t len);
/* Prints "berth: VERB: FMT…" and returns 125, for usage errors. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if ARG is -h or --help. */
int cli_is_help(const char *arg);

#endif
