/* docker-archive manifest.json: whatever is accepted names only paths inside
 * the archive and valid image names. */
#include "fuzz-util.h"
#include "image/docker-archive.h"
#include "image/image-store.h"
#include "image/layer-unpack.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *s = fuzz_strndup(data, size);
    struct docker_archive_entry *e = NULL;
    size_t n = 0;
    struct error *err = NULL;
    if (docker_archive_parse(s, &e, &n, &err) < 0) {
        FUZZ_ASSERT(err && !e);
        error_free(&err);
        return 0;
    }
    FUZZ_ASSERT(n > 0 && !err);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(layer_check_entry_name(e[i].config) == 0 && e[i].config[0] != '/');
        size_t k = 0;
        for (char **l = e[i].layers; *l; l++, k++)
            FUZZ_ASSERT(layer_check_entry_name(*l) == 0 && (*l)[0] != '/');
        FUZZ_ASSERT(k == e[i].n_layers);
        for (char **t = e[i].repo_tags; *t; t++) {
            _cleanup_free_ char *norm = image_ref_normalize(*t);
            FUZZ_ASSERT(norm);
        }
    }
    docker_archive_entries_free(e, n);
    return 0;
}
