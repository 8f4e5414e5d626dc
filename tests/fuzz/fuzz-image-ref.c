/* Image references and layer entry names: pure string checks. */
#include "fuzz-util.h"
#include "util/cleanup.h"
#include "util/fs-util.h"
#include "image/image-store.h"
#include "image/layer-unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *s = fuzz_strndup(data, size);
    _cleanup_free_ char *norm = image_ref_normalize(s);
    if (norm) {
        /* A normalized reference is a fixed point. */
        _cleanup_free_ char *again = image_ref_normalize(norm);
        FUZZ_ASSERT(again && !strcmp(again, norm));
    }
    if (layer_check_entry_name(s) == 0)
        FUZZ_ASSERT(s[0] != '/');
    return 0;
}
