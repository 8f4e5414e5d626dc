/* seccomp profiles as --security-opt seccomp=FILE gives them (docker/OCI JSON). */
#include "fuzz-util.h"
#include "runtime/seccomp-profile.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *json = fuzz_strndup(data, size);
    struct seccomp_profile *p = NULL;
    struct error *err = NULL;
    if (seccomp_profile_parse(json, &p, &err) == 0) {
        FUZZ_ASSERT(p);
        FUZZ_ASSERT(seccomp_action_name(p->default_action));
        for (size_t i = 0; i < p->n_rules; i++)
            FUZZ_ASSERT(seccomp_action_name(p->rules[i].action));
        seccomp_profile_free(p);
    } else {
        FUZZ_ASSERT(err && err->msg);
    }
    error_free(&err);
    return 0;
}
