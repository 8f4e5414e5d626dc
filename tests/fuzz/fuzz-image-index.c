/* Image indexes: the input is the layout's index.json; the fixed manifest
 * and nested index are there for it to name (fuzz-image.h). */
#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_layout_init();
    _cleanup_free_ char *raw = fuzz_strndup(data, size);
    _cleanup_free_ char *index = fuzz_expand(raw);
    fuzz_layout_load(index);
    return 0;
}
