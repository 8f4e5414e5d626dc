#include "image/load-progress.h"
#include "util/human-units.h"

#include <string.h>
#include <time.h>

long long load_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void load_progress_start(struct load_progress *p, FILE *out)
{
    *p = (struct load_progress){.out = out, .start_ns = load_progress_now()};
}

static void line(FILE *out, const char *label, const char *what, long long bytes, long long ns)
{
    char size[32], speed[32];
    double secs = (double)ns / 1e9;
    format_bytes((double)bytes, size, sizeof(size));
    format_bytes(secs > 0 ? (double)bytes / secs : 0, speed, sizeof(speed));
    fprintf(out, "%s: %s %s in %.2fs (%s/s)\n", label, what, size, secs, speed);
    fflush(out);
}

void load_progress_step(struct load_progress *p, const char *what, const char *digest_or_name,
                        long long bytes, long long since_ns, int is_layer)
{
    if (is_layer) {
        p->bytes += bytes;
        p->layers++;
    }
    if (!p->out)
        return;
    char label[16];
    const char *l = digest_or_name;
    if (!strncmp(l, "sha256:", 7)) {
        snprintf(label, sizeof(label), "%.12s", l + 7);
        l = label;
    }
    line(p->out, l, what, bytes, load_progress_now() - since_ns);
}

void load_progress_end(struct load_progress *p)
{
    if (!p->out)
        return;
    char what[64];
    snprintf(what, sizeof(what), "%zu layer%s,", p->layers, p->layers == 1 ? "" : "s");
    line(p->out, "Loaded", what, p->bytes, load_progress_now() - p->start_ns);
}
