/* OCI runtime configs: the input is a bundle's config.json. */
#include "fuzz-util.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "runtime/runtime-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *path = xasprintf("%s/config.json", fuzz_dir());
    fuzz_write_file(path, data, size);
    struct oci_config *cfg = NULL;
    struct error *err = NULL;
    if (oci_config_load(fuzz_dir(), &cfg, &err) == 0)
        oci_config_free(cfg);
    else if (getenv("BERTH_FUZZ_DEBUG"))
        fprintf(stderr, "fuzz: load: %s\n", err ? err->msg : "?");
    error_free(&err);
    return 0;
}
