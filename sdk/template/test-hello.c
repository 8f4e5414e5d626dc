/* SPDX-License-Identifier: MIT */
/*
 * The template's test: loads the built plugin the way berth does (dlopen,
 * then the one exported entry), checks its descriptor, and drives it
 * through init, one event and fini with a services table of our own.
 * Run by `ctest` (CMakeLists.txt passes the plugin's path). Grow it with
 * your plugin: every operation can be called like on_event below.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <berth/berth.h>

static char logged[512]; /* the last line the plugin logged */

static void test_log(struct berth_host *host, int level, const char *fmt, ...)
{
    va_list ap;
    (void)host;
    (void)level;
    va_start(ap, fmt);
    vsnprintf(logged, sizeof(logged), fmt, ap);
    va_end(ap);
}

static void test_set_error(struct berth_error *err, int errnum, const char *fmt, ...)
{
    (void)err;
    (void)errnum;
    (void)fmt;
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    const struct berth_plugin_descriptor *(*entry)(void) =
        (const struct berth_plugin_descriptor *(*)(void))dlsym(so, BERTH_PLUGIN_ENTRY_NAME);
    CHECK(entry);
    const struct berth_plugin_descriptor *d = entry();
    CHECK(d->size == sizeof(*d));
    CHECK(d->abi_major == BERTH_ABI_MAJOR && d->abi_minor <= BERTH_ABI_MINOR);
    CHECK(d->kind == BERTH_KIND_HOOK);
    CHECK(strcmp(d->name, "hello") == 0);

    struct berth_services services = {
        .size = sizeof(services),
        .state_dir = "/nonexistent",
        .run_dir = "/nonexistent",
        .config_json = "{}",
        .log = test_log,
        .set_error = test_set_error,
    };
    void *state = NULL;
    CHECK(d->init(&services, &state) == 0);

    const struct berth_hook_ops *ops = d->ops;
    CHECK(ops->size >= sizeof(*ops) - sizeof(ops->gc)); /* on_event at least */
    struct berth_event ev = {
        .size = sizeof(ev),
        .type = BERTH_EVENT_CREATE,
        .phase = BERTH_PHASE_PRE,
        .exit_status = -1,
        .event_name = "create",
        .container_id = "0123abcd",
    };
    CHECK(ops->on_event(state, &ev, NULL, NULL) == 0);
    CHECK(strcmp(logged, "hello: create 0123abcd (pre)") == 0);

    d->fini(state);
    dlclose(so);
    printf("ok: hello loads, logs an event and unloads\n");
    return 0;
}
