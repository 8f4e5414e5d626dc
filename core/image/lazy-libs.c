/* Unloading the image code's lazily loaded libraries (lazy-libs.h). */
#include "image/lazy-libs.h"

#include "image/archive-lazy.h"
#include "image/diff-digest.h"

void image_lazy_libraries_unload(void)
{
    archive_lazy_unload();
    diff_digest_unload();
}
