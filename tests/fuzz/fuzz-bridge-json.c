/*
 * The bridge driver's JSON intake (network-drivers/bridge/bridge-config.c,
 * compiled in): the input is the network record, then "\n---\n", then a
 * join request.
 */
#include <errno.h>

#include "bridge.h"
#include "fuzz-services.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A non-NULL error object, so that every message is formatted; the fake
 * set_error never dereferences it. */
static char fuzz_err_storage;
#define fuzz_err ((struct berth_error *)&fuzz_err_storage)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct berth_services sv;
    if (!sv.size)
        sv = fuzz_services(fuzz_dir());
    struct bridge b = {.services = &sv, .state_fd = -1, .addr_fd = -1, .old_fd = -1};
    _cleanup_free_ char *net_json = NULL, *join_json = NULL;
    fuzz_split(data, size, &net_json, &join_json);

    static const char *const names[] = {"fuzznet", "berth0"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct net_config cfg;
        if (net_config_parse(&b, names[i], net_json, &cfg, fuzz_err) == 0) {
            FUZZ_ASSERT(cfg.bridge[0] && cfg.subnet);
            net_config_done(&cfg);
        }
    }
    struct join_request jr;
    if (join_request_parse(&b, join_json, &jr, fuzz_err) == 0) {
        FUZZ_ASSERT(jr.interface && jr.interface[0]);
        join_request_done(&jr);
    }
    return 0;
}
