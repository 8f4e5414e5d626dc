/* Image manifests: the input is a manifest blob that an index names, without
 * a media type so that the document (OCI or Docker) says what it is. */
#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_layout_init();
    _cleanup_free_ char *raw = fuzz_strndup(data, size);
    _cleanup_free_ char *manifest = fuzz_expand(raw);
    char digest[DIGEST_STR_LEN + 1];
    fuzz_layout_add(manifest, digest);
    _cleanup_free_ char *index =
        xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu,"
                  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"fuzz:latest\"}}]}",
                  digest, strlen(manifest));
    fuzz_layout_load(index);
    fuzz_layout_remove(digest);
    return 0;
}
