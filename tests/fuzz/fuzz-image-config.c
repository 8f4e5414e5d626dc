/* Image configs: the input is the config blob of a one-layer manifest. */
#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_layout_init();
    _cleanup_free_ char *raw = fuzz_strndup(data, size);
    _cleanup_free_ char *config = fuzz_expand(raw);
    char config_digest[DIGEST_STR_LEN + 1], manifest_digest[DIGEST_STR_LEN + 1];
    fuzz_layout_add(config, config_digest);
    _cleanup_free_ char *manifest = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"digest\":\"%s\",\"size\":%zu},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
        "\"digest\":\"%s\",\"size\":%s}]}",
        config_digest, strlen(config), fuzz_layout.digest[BLOB_LAYER],
        fuzz_layout.size[BLOB_LAYER]);
    fuzz_layout_add(manifest, manifest_digest);
    _cleanup_free_ char *index = xasprintf(
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
        "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
        manifest_digest, strlen(manifest));
    fuzz_layout_load(index);
    fuzz_layout_remove(manifest_digest);
    fuzz_layout_remove(config_digest);
    return 0;
}
