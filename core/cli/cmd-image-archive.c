/* berth image save|tag|history|prune, and the top-level save/tag/history. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "image/image-history.h"
#include "image/image-save.h"
#include "image/image-store.h"
#include "lifecycle/engine.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static const char save_help[] =
    "Usage: berth save [-o FILE] [--format docker-archive|oci-archive] IMAGE...\n"
    "\n"
    "Writes the images into one tar archive: FILE, or standard output when it is not\n"
    "a terminal. docker-archive (default) is what docker 25 writes: an OCI image layout\n"
    "with manifest.json and repositories beside it, readable by docker, podman, skopeo\n"
    "and berth load. An image given by name carries that name; by id, all its names.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   write to FILE (replaced only once the archive is complete)\n"
    "      --format FMT    docker-archive (default) or oci-archive\n";

static const char tag_help[] = "Usage: berth image tag SOURCE TARGET\n"
                               "\n"
                               "Names the image SOURCE (name, id or id prefix) also TARGET\n"
                               "(name[:tag], tag 'latest' if none). An image that had the name\n"
                               "TARGET keeps its other names, or stays unnamed.\n";

static const char history_help[] =
    "Usage: berth image history [--format json] [--no-trunc] [-q] IMAGE\n"
    "\n"
    "Shows the image's history from its config, newest first: IMAGE, CREATED,\n"
    "CREATED BY, SIZE (the layer blob's size as stored) and COMMENT.\n"
    "\n"
    "Options:\n"
    "      --format json  print a JSON array\n"
    "      --no-trunc     do not shorten ids and commands\n"
    "  -q, --quiet        print the image id only\n";

static const char prune_help[] =
    "Usage: berth image prune [-a] [-f]\n"
    "\n"
    "Removes dangling images (without a name) that no container uses; with -a, every\n"
    "image that no container uses. Asks for confirmation unless -f.\n"
    "\n"
    "Options:\n"
    "  -a, --all     remove every image no container uses, named or not\n"
    "  -f, --force   do not ask for confirmation\n";

/* ---- save ---- */

int cmd_save(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"output", 'o', 1, 2}, {"format", 0, 1, 3}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image save");
    const char *v, *output = NULL;
    enum image_save_format format = IMAGE_SAVE_DOCKER_ARCHIVE;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(save_help, stdout);
            return 0;
        }
        if (id == 2)
            output = v;
        if (id == 3) {
            if (!strcmp(v, "docker-archive"))
                format = IMAGE_SAVE_DOCKER_ARCHIVE;
            else if (!strcmp(v, "oci-archive"))
                format = IMAGE_SAVE_OCI_ARCHIVE;
            else
                return cli_usage_error("image save",
                                       "unknown format '%s' (docker-archive, oci-archive)", v);
        }
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error("image save", "expects at least one IMAGE (see --help)");
    if (!output && isatty(STDOUT_FILENO))
        return cli_usage_error("image save",
                               "refusing to write an archive to a terminal: use -o FILE");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image save", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    /* A temporary file beside FILE, renamed over it only when complete. */
    _cleanup_free_ char *tmp = output ? xasprintf("%s.berth-tmp-XXXXXX", output) : NULL;
    _cleanup_close_ int fd = -1;
    if (tmp) {
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            error_set(&err, errno, "create '%s'", tmp);
            return cli_report("image save", err);
        }
        (void)fchmod(fd, 0644); /* best effort: mkostemp's 0600 is only less convenient */
    }
    r = image_store_save(e->images, argv + p.index, (size_t)(argc - p.index), format,
                         tmp ? fd : STDOUT_FILENO, &err);
    if (r == 0 && tmp && (fsync(fd) < 0 || rename(tmp, output) < 0))
        r = error_set(&err, errno, "write '%s'", output);
    if (r < 0) {
        if (tmp)
            unlink(tmp);
        return cli_report("image save", err);
    }
    return 0;
}

/* ---- tag ---- */

int cmd_tag(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image tag");
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        fputs(tag_help, stdout);
        return 0;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index != 2)
        return cli_usage_error("image tag", "expects SOURCE and TARGET (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image tag", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    if (image_store_tag(e->images, argv[p.index], argv[p.index + 1], &err) < 0)
        return cli_report("image tag", err);
    return 0;
}

/* ---- history ---- */

static void history_age(long long created, char *out, size_t len)
{
    long long d = (long long)time(NULL) - created;
    if (created <= 0)
        snprintf(out, len, "N/A");
    else if (d < 60)
        snprintf(out, len, "%lld seconds ago", d < 1 ? 1 : d);
    else if (d < 3600)
        snprintf(out, len, "%lld minutes ago", d / 60);
    else if (d < 86400 * 2)
        snprintf(out, len, "%lld hours ago", d / 3600);
    else if (d < 86400 * 14)
        snprintf(out, len, "%lld days ago", d / 86400);
    else if (d < 86400 * 60)
        snprintf(out, len, "%lld weeks ago", d / (86400 * 7));
    else if (d < 86400 * 365 * 2)
        snprintf(out, len, "%lld months ago", d / (86400 * 30));
    else
        snprintf(out, len, "%lld years ago", d / (86400 * 365));
}

/* Docker's truncation: at most 45 characters, the last three "...". */
static void truncated(const char *s, bool no_trunc, char *out, size_t len)
{
    if (no_trunc || strlen(s) <= 45)
        snprintf(out, len, "%s", s);
    else
        snprintf(out, len, "%.42s...", s);
}

int cmd_history(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"format", 0, 1, 2}, {"no-trunc", 0, 0, 3}, {"quiet", 'q', 0, 4}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image history");
    const char *v;
    bool json = false, no_trunc = false, quiet = false;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(history_help, stdout);
            return 0;
        }
        if (id == 2) {
            if (strcmp(v, "json"))
                return cli_usage_error("image history", "unknown format '%s' (json)", v);
            json = true;
        }
        no_trunc |= id == 3;
        quiet |= id == 4;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (argc - p.index != 1)
        return cli_usage_error("image history", "expects one IMAGE (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image history", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_(image_freep) struct image *img = NULL;
    if (image_store_resolve(e->images, argv[p.index], &img, &err) < 0)
        return cli_report("image history", err);
    _cleanup_free_ long long *sizes = calloc(img->n_layers + 1, sizeof(*sizes));
    if (!sizes) {
        error_set(&err, ENOMEM, "image history");
        return cli_report("image history", err);
    }
    for (size_t i = 0; i < img->n_layers; i++) {
        struct stat st;
        sizes[i] = stat(img->layers[i].blob_path, &st) == 0 ? (long long)st.st_size : 0;
    }
    struct image_history_row *rows = NULL;
    size_t n = 0;
    if (image_history_parse(img->config_json, sizes, img->n_layers, &rows, &n, &err) < 0) {
        error_prefix(&err, "'%s'", argv[p.index]);
        return cli_report("image history", err);
    }
    const char *hex = img->id + 7;
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "Id", i == 0 ? img->id : "<missing>");
            cJSON_AddNumberToObject(o, "Created", (double)rows[i].created);
            cJSON_AddStringToObject(o, "CreatedBy", rows[i].created_by);
            cJSON_AddNumberToObject(o, "Size", (double)rows[i].size);
            cJSON_AddStringToObject(o, "Comment", rows[i].comment);
            cJSON_AddBoolToObject(o, "EmptyLayer", rows[i].empty_layer);
            cJSON_AddItemToArray(arr, o);
        }
        _cleanup_free_ char *text = cJSON_Print(arr);
        cJSON_Delete(arr);
        if (text)
            printf("%s\n", text);
    } else if (quiet) {
        printf("%.*s\n", no_trunc ? 71 : 12, no_trunc ? img->id : hex);
    } else {
        printf("%-12s   %-15s   %-45s   %-7s   %s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE",
               "COMMENT");
        for (size_t i = 0; i < n; i++) {
            char idcol[80], age[64], by[4096], size[32];
            if (i == 0)
                snprintf(idcol, sizeof(idcol), "%.*s", no_trunc ? 71 : 12,
                         no_trunc ? img->id : hex);
            else
                snprintf(idcol, sizeof(idcol), "<missing>");
            history_age(rows[i].created, age, sizeof(age));
            truncated(rows[i].created_by, no_trunc, by, sizeof(by));
            cli_image_size(rows[i].size, size, sizeof(size));
            printf("%-12s   %-15s   %-45s   %-7s   %s\n", idcol, age, by, size, rows[i].comment);
        }
    }
    image_history_free(rows, n);
    return 0;
}

/* ---- prune ---- */

int cmd_image_prune(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"all", 'a', 0, 2}, {"force", 'f', 0, 3}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image prune");
    const char *v;
    bool all = false, force = false;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(prune_help, stdout);
            return 0;
        }
        all |= id == 2;
        force |= id == 3;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc)
        return cli_usage_error("image prune", "takes no arguments (see --help)");
    if (!force) {
        fprintf(
            stderr, "WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
            all ? "images without at least one container associated to them" : "dangling images");
        char answer[16] = "";
        if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
            return 0;
    }
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image prune", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    struct image **imgs = NULL;
    size_t n = 0;
    if (image_store_list(e->images, &imgs, &n, &err) < 0)
        return cli_report("image prune", err);
    _cleanup_free_ bool *removed = calloc(n + 1, sizeof(*removed));
    if (!removed) {
        image_list_free(imgs, n);
        error_set(&err, ENOMEM, "image prune");
        return cli_report("image prune", err);
    }
    long long reclaimed = 0;
    bool header = false;
    int status = 0;
    for (size_t i = 0; i < n && status == 0; i++) {
        if (!all && imgs[i]->names[0])
            continue;
        /* Two manifests may share a config (an id): removed with the first. */
        bool done = false;
        for (size_t k = 0; k < i; k++)
            done |= removed[k] && !strcmp(imgs[k]->id, imgs[i]->id);
        if (done)
            continue;
        int users = engine_image_users(e, imgs[i]->id, &err);
        if (users < 0) {
            status = cli_report("image prune", err);
            break;
        }
        if (users > 0)
            continue;
        /* Reclaimed: the layer blobs that are gone afterwards (not shared). */
        _cleanup_free_ long long *sizes = calloc(imgs[i]->n_layers + 1, sizeof(*sizes));
        for (size_t k = 0; sizes && k < imgs[i]->n_layers; k++) {
            struct stat st;
            sizes[k] = stat(imgs[i]->layers[k].blob_path, &st) == 0 ? (long long)st.st_size : 0;
        }
        struct image_layer *freed = NULL;
        size_t n_freed = 0;
        if (image_store_remove(e->images, imgs[i]->id, &freed, &n_freed, &err) < 0) {
            status = cli_report("image prune", err);
            break;
        }
        removed[i] = true;
        if (!header)
            printf("Deleted Images:\n");
        header = true;
        for (char **nm = imgs[i]->names; *nm; nm++)
            printf("untagged: %s\n", *nm);
        printf("deleted: %s\n", imgs[i]->id);
        for (size_t k = 0; sizes && k < imgs[i]->n_layers; k++)
            if (!path_exists(imgs[i]->layers[k].blob_path))
                reclaimed += sizes[k];
        if (n_freed > 0 && engine_storage_remove_layers(e, freed, n_freed, &err) < 0)
            status = cli_report("image prune", err);
        image_layers_free(freed, n_freed);
    }
    image_list_free(imgs, n);
    if (status == 0) {
        char size[32];
        cli_image_size(reclaimed, size, sizeof(size));
        printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", size);
    }
    return status;
}
