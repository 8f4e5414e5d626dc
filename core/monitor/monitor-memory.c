/* What the monitor knows about memory: its own footprint, and the container's OOM kills. */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "util/cleanup.h"

static long long read_counter(const char *path, const char *key)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    size_t klen = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, key, klen) && line[klen] == ' ')
            return strtoll(line + klen + 1, NULL, 10);
    return -1;
}

long long monitor_oom_kills(const char *cgroup_path)
{
    if (!cgroup_path || !*cgroup_path)
        return 0;
    /* The record may hold the directory itself or a path under the hierarchy. */
    const char *candidates[][2] = {
        {"%s/memory.events", "oom_kill"},
        {"%s/memory.oom_control", "oom_kill"},
        {"/sys/fs/cgroup/%s/memory.events", "oom_kill"},
        {"/sys/fs/cgroup/memory/%s/memory.oom_control", "oom_kill"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
        char path[4096];
        snprintf(path, sizeof(path), candidates[i][0], cgroup_path);
        long long v = read_counter(path, candidates[i][1]);
        if (v >= 0)
            return v;
    }
    return 0;
}

/*
 * A mapping of a file whose pages are all still the file's (no private,
 * anonymous copy: "Anonymous: 0 kB" in smaps) can lose its resident pages
 * without losing anything: MADV_DONTNEED drops them from this process and
 * the next touch maps the page cache's copy again. Mappings with private
 * copies (.data, relocated GOTs, the heap) are left alone.
 */
void monitor_trim_memory(void)
{
    malloc_trim(0);
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f)
        return;
    struct range {
        unsigned long start, end;
    } ranges[512];
    size_t n = 0;
    unsigned long start = 0, end = 0;
    int candidate = 0;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        unsigned long s, e;
        char perms[8];
        unsigned long inode = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &s, &e, perms, &inode) == 4) {
            start = s;
            end = e;
            candidate = inode != 0 && perms[3] == 'p' && perms[1] != 'w';
            continue;
        }
        unsigned long kb;
        if (candidate && sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
            if (kb == 0 && n < ARRAY_SIZE(ranges))
                ranges[n++] = (struct range){start, end};
            candidate = 0;
        }
    }
    (void)fclose(f);
    /* MADV_RANDOM turns off fault-around: a page touched later maps that
     * page alone, not the 64 kB around it. */
    for (size_t i = 0; i < n; i++) {
        void *start_p = (void *)ranges[i].start;
        size_t len = ranges[i].end - ranges[i].start;
        madvise(start_p, len, MADV_RANDOM);
        madvise(start_p, len, MADV_DONTNEED);
    }
}
