/* berth image import|load|ls|inspect|rm. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli-options.h"
#include "cli/cli.h"
#include "image/image-commit.h"
#include "image/image-store.h"
#include "lifecycle/engine.h"
#include "util/cleanup.h"
#include "util/fs-util.h"

static const char image_help[] =
    "Usage: berth image COMMAND\n"
    "\n"
    "Commands:\n"
    "  import TAR NAME[:TAG]         make a one-layer image from a root file system tarball\n"
    "                                (tar, tar.gz or tar.zst)\n"
    "  load [-q] [-i] PATH           load a docker-archive, an OCI archive or OCI layout\n"
    "  save [-o FILE] IMAGE...       write images to a docker-archive or OCI archive\n"
    "  ls [--format json] [-q]       list images\n"
    "  inspect IMAGE...              print images as a JSON array\n"
    "  rm [-f] IMAGE...              untag or remove images\n"
    "  tag SOURCE TARGET             give an image another name\n"
    "  history IMAGE                 the layers and commands an image was built from\n"
    "  prune [-a] [-f]               remove unused images\n"
    "  push IMAGE [DEST]             upload an image to a registry (same as 'berth push')\n"
    "\n"
    "IMAGE is a name[:tag], an image id, or a unique id prefix of at least 4 digits.\n";

static const char import_help[] =
    "Usage: berth image import TAR|- NAME[:TAG]\n"
    "\n"
    "Stores the tarball TAR ('-': standard input; plain, gzip or zstd) as the single\n"
    "layer of a new image\n"
    "named NAME[:TAG] (tag 'latest' if none) and prints its id. An entry that would land\n"
    "outside the root file system refuses the whole tarball.\n";

static const char load_help[] =
    "Usage: berth load [-q] [-i] [PATH|-]\n"
    "\n"
    "Loads every image of a docker-archive (as docker save writes it: names from\n"
    "manifest.json's RepoTags), of an OCI archive, or of an OCI image layout directory\n"
    "(names from org.opencontainers.image.ref.name). Archives may be gzip or zstd\n"
    "compressed. Every blob is verified against its digest. Without PATH, or with\n"
    "'-', the archive is read from standard input (berth save IMAGE | berth load).\n"
    "\n"
    "Options:\n"
    "  -i, --input PATH   the archive or layout directory\n"
    "  -q, --quiet        no progress lines (they are only printed on a terminal)\n";

static const char ls_help[] = "Usage: berth image ls [--format json] [-q]\n"
                              "\n"
                              "Options:\n"
                              "      --format json  print a JSON array\n"
                              "  -q, --quiet        print image ids only\n";

static const char inspect_help[] =
    "Usage: berth image inspect IMAGE...\n"
    "\n"
    "Prints the images as a JSON array: id, names, config, layers with their digests,\n"
    "diff ids and chain ids.\n";

static const char rm_help[] = "Usage: berth image rm [-f] IMAGE...\n"
                              "\n"
                              "Removes a name; an image goes with its last name, or at once\n"
                              "when given by id. An image a container uses is kept unless -f.\n"
                              "\n"
                              "Options:\n"
                              "  -f, --force   remove even if containers use the image\n";

/* "sha256:0123…" → "0123456789ab", as docker shows ids. */
static void short_id(const char *id, char out[13])
{
    const char *hex = strncmp(id, "sha256:", 7) ? id : id + 7;
    snprintf(out, 13, "%s", hex);
}

static void human_age(long long created, char *out, size_t len)
{
    if (created <= 0) {
        snprintf(out, len, "unknown");
        return;
    }
    long long d = (long long)time(NULL) - created;
    if (d < 60)
        snprintf(out, len, "%lld seconds ago", d < 1 ? 1 : d);
    else if (d < 3600)
        snprintf(out, len, "%lld minutes ago", d / 60);
    else if (d < 86400LL * 2)
        snprintf(out, len, "%lld hours ago", d / 3600);
    else if (d < 86400LL * 60)
        snprintf(out, len, "%lld days ago", d / 86400);
    else
        snprintf(out, len, "%lld months ago", d / (86400LL * 30));
}

static char *rfc3339(long long t)
{
    char buf[64] = "";
    time_t tt = (time_t)t;
    struct tm tm;
    if (t > 0 && gmtime_r(&tt, &tm))
        (void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
}

static cJSON *strv_json(char **v)
{
    if (!v)
        return cJSON_CreateNull();
    cJSON *a = cJSON_CreateArray();
    for (; *v; v++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*v));
    return a;
}

static cJSON *image_json(const struct image *img, bool full)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Id", img->id);
    cJSON_AddItemToObject(o, "RepoTags", strv_json(img->names));
    _cleanup_free_ char *created = rfc3339(img->created);
    cJSON_AddStringToObject(o, "Created", created ? created : "");
    cJSON_AddNumberToObject(o, "Size", (double)img->size);
    if (!full)
        return o;
    cJSON_AddStringToObject(o, "ManifestDigest", img->manifest_digest);
    cJSON *config = img->config_json ? cJSON_Parse(img->config_json) : NULL;
    const char *keys[] = {"architecture", "os"};
    const char *names[] = {"Architecture", "Os"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, keys[i]);
        cJSON_AddStringToObject(o, names[i], cJSON_IsString(v) ? v->valuestring : "");
    }
    cJSON_Delete(config);
    cJSON *c = cJSON_AddObjectToObject(o, "Config");
    cJSON_AddItemToObject(c, "Env", strv_json(img->env));
    cJSON_AddItemToObject(c, "Entrypoint", strv_json(img->entrypoint));
    cJSON_AddItemToObject(c, "Cmd", strv_json(img->cmd));
    cJSON_AddStringToObject(c, "WorkingDir", img->working_dir ? img->working_dir : "");
    cJSON_AddStringToObject(c, "User", img->user ? img->user : "");
    cJSON *rootfs = cJSON_AddObjectToObject(o, "RootFS");
    cJSON_AddStringToObject(rootfs, "Type", "layers");
    cJSON *diffs = cJSON_AddArrayToObject(rootfs, "Layers");
    cJSON *layers = cJSON_AddArrayToObject(o, "Layers");
    for (size_t i = 0; i < img->n_layers; i++) {
        const struct image_layer *l = &img->layers[i];
        cJSON_AddItemToArray(diffs, cJSON_CreateString(l->diff_id));
        cJSON *lo = cJSON_CreateObject();
        cJSON_AddStringToObject(lo, "Digest", l->digest);
        cJSON_AddStringToObject(lo, "DiffID", l->diff_id);
        cJSON_AddStringToObject(lo, "ChainID", l->chain_id);
        cJSON_AddStringToObject(lo, "MediaType", l->media_type);
        cJSON_AddItemToArray(layers, lo);
    }
    return o;
}

static void print_json(cJSON *j)
{
    _cleanup_free_ char *text = cJSON_Print(j);
    if (text)
        printf("%s\n", text);
    cJSON_Delete(j);
}

/* Parses only -h/--help for verbs without options; returns the first operand index. */
static int parse_no_options(int argc, char **argv, const char *verb, const char *help,
                            int *ret_exit)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, verb);
    const char *v;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        fputs(help, stdout);
        *ret_exit = 0;
        return -1;
    }
    if (id < 0) {
        *ret_exit = EXIT_BERTH_ERROR;
        return -1;
    }
    return p.index;
}

/*
 * An archive on standard input, written whole into a private directory of
 * the image store (the loaders read an archive by path, some twice):
 * *RET_PATH is its file; commit_dir_end(DIR) removes both.
 */
static int spool_stdin(struct engine *e, struct commit_dir *dir, char **ret_path,
                       struct error **err)
{
    int r = commit_dir_new(e->globals->root, dir, err);
    if (r < 0)
        return r;
    char *path = xasprintf("%s/stdin.tar", dir->path);
    _cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        free(path);
        return error_set(err, errno, "spool standard input");
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        /* A regular file takes a whole write, short only on a full disk (ENOSPC). */
        ssize_t w = n > 0 ? write(out, buf, (size_t)n) : -1;
        if (w != n) {
            free(path);
            return error_set(err, w >= 0 ? ENOSPC : errno, "spool standard input");
        }
    }
    *ret_path = path;
    return 0;
}

static int image_import(struct cli_globals *g, int argc, char **argv)
{
    int status = 0;
    int i = parse_no_options(argc, argv, "image import", import_help, &status);
    if (i < 0)
        return status;
    if (argc - i != 2)
        return cli_usage_error("image import", "expects TAR and NAME[:TAG] (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image import", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_free_ char *id = NULL, *spooled = NULL;
    struct commit_dir dir = {.fd = -1};
    const char *tar = argv[i];
    if (!strcmp(tar, "-") && (r = spool_stdin(e, &dir, &spooled, &err)) == 0)
        tar = spooled;
    if (r == 0)
        r = image_store_import(e->images, tar, argv[i + 1], &id, &err);
    commit_dir_end(&dir);
    if (r < 0)
        return cli_report("image import", err);
    printf("%s\n", id);
    return 0;
}

int cmd_load(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"input", 'i', 1, 2}, {"quiet", 'q', 0, 3}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image load");
    const char *v, *input = NULL;
    bool quiet = false;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(load_help, stdout);
            return 0;
        }
        if (id == 2)
            input = v;
        if (id == 3)
            quiet = true;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (!input && p.index < argc)
        input = argv[p.index++];
    if (p.index != argc)
        return cli_usage_error("image load", "expects one PATH (see --help)");
    if (!input && isatty(STDIN_FILENO))
        return cli_usage_error("image load",
                               "expects PATH, or an archive on standard input (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image load", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    _cleanup_strv_ char **names = NULL;
    if (!quiet && isatty(STDERR_FILENO))
        image_store_set_progress(e->images, stderr);
    _cleanup_free_ char *spooled = NULL;
    struct commit_dir dir = {.fd = -1};
    if ((!input || !strcmp(input, "-")) && (r = spool_stdin(e, &dir, &spooled, &err)) == 0)
        input = spooled;
    if (r == 0)
        r = image_store_load(e->images, input, &names, &err);
    commit_dir_end(&dir);
    if (r < 0)
        return cli_report("image load", err);
    for (char **n = names; n && *n; n++)
        printf("Loaded image%s: %s\n", strncmp(*n, "sha256:", 7) ? "" : " ID", *n);
    return 0;
}

static int image_ls(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {
        {"help", 'h', 0, 1}, {"format", 0, 1, 2}, {"quiet", 'q', 0, 3}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image ls");
    const char *v;
    bool json = false, quiet = false;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(ls_help, stdout);
            return 0;
        }
        if (id == 2) {
            if (strcmp(v, "json"))
                return cli_usage_error("image ls", "unknown format '%s' (json)", v);
            json = true;
        }
        if (id == 3)
            quiet = true;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index != argc)
        return cli_usage_error("image ls", "takes no arguments (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image ls", &e);
    if (r)
        return r;
    struct error *err _cleanup_error_ = NULL;
    struct image **imgs = NULL;
    size_t n = 0;
    if (image_store_list(e->images, &imgs, &n, &err) < 0)
        return cli_report("image ls", err);
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, image_json(imgs[i], false));
        print_json(arr);
    } else if (quiet) {
        for (size_t i = 0; i < n; i++) {
            char sid[13];
            short_id(imgs[i]->id, sid);
            printf("%s\n", sid);
        }
    } else {
        printf("%-40s %-16s %-12s  %-20s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
        for (size_t i = 0; i < n; i++) {
            char sid[13], age[64], size[32];
            short_id(imgs[i]->id, sid);
            human_age(imgs[i]->created, age, sizeof(age));
            cli_image_size(imgs[i]->size, size, sizeof(size));
            if (!imgs[i]->names[0])
                printf("%-40s %-16s %-12s  %-20s %s\n", "<none>", "<none>", sid, age, size);
            for (char **nm = imgs[i]->names; *nm; nm++) {
                /* The tag follows the last ':' after the last '/'. */
                _cleanup_free_ char *repo = strdup(*nm);
                if (!repo)
                    break;
                char *at = strchr(repo, '@');
                if (at)
                    *at = '\0';
                char *slash = strrchr(repo, '/');
                char *colon = strrchr(slash ? slash : repo, ':');
                const char *tag = "<none>";
                if (colon) {
                    *colon = '\0';
                    tag = colon + 1;
                }
                printf("%-40s %-16s %-12s  %-20s %s\n", repo, tag, sid, age, size);
            }
        }
    }
    image_list_free(imgs, n);
    return 0;
}

static int image_inspect(struct cli_globals *g, int argc, char **argv)
{
    int status = 0;
    int i = parse_no_options(argc, argv, "image inspect", inspect_help, &status);
    if (i < 0)
        return status;
    if (i >= argc)
        return cli_usage_error("image inspect", "expects at least one IMAGE (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image inspect", &e);
    if (r)
        return r;
    cJSON *arr = cJSON_CreateArray();
    status = 0;
    for (; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        _cleanup_(image_freep) struct image *img = NULL;
        if (image_store_resolve(e->images, argv[i], &img, &err) < 0) {
            status = cli_report("image inspect", err);
            continue;
        }
        cJSON_AddItemToArray(arr, image_json(img, true));
    }
    print_json(arr);
    return status;
}

/* Whether removing REF only takes one of several names off IMG. */
static bool only_untags(const struct image *img, const char *ref)
{
    _cleanup_free_ char *name = image_ref_normalize(ref);
    if (!name || !img->names[0] || !img->names[1])
        return false;
    for (char **n = img->names; *n; n++)
        if (!strcmp(*n, name))
            return true;
    return false;
}

static int remove_one(struct engine *e, const char *ref, bool force, struct error **err)
{
    _cleanup_(image_freep) struct image *img = NULL;
    int r = image_store_resolve(e->images, ref, &img, err);
    if (r < 0)
        return r;
    int users = 0;
    if (!only_untags(img, ref)) {
        users = engine_image_users(e, img->id, err);
        if (users < 0)
            return users;
        if (users > 0 && !force)
            return error_set(err, EBUSY,
                             "image '%s' is used by %d container%s (remove %s or use -f)", ref,
                             users, users == 1 ? "" : "s", users == 1 ? "it" : "them");
    }
    struct image_layer *freed = NULL;
    size_t n_freed = 0;
    r = image_store_remove(e->images, ref, &freed, &n_freed, err);
    if (r < 0)
        return r;
    if (only_untags(img, ref))
        printf("Untagged: %s\n", ref);
    else
        printf("Deleted: %s\n", img->id);
    /* A forced removal keeps the layers the containers still stand on;
     * storage gc drops them once the containers are gone. */
    if (users == 0 && n_freed > 0)
        r = engine_storage_remove_layers(e, freed, n_freed, err);
    image_layers_free(freed, n_freed);
    return r;
}

static int image_rm(struct cli_globals *g, int argc, char **argv)
{
    static const struct cli_option opts[] = {{"help", 'h', 0, 1}, {"force", 'f', 0, 2}, {0}};
    struct cli_parser p;
    cli_parser_init(&p, argc, argv, "image rm");
    const char *v;
    bool force = false;
    int id;
    while ((id = cli_next_option(&p, opts, &v)) > 0) {
        if (id == 1) {
            fputs(rm_help, stdout);
            return 0;
        }
        force = true;
    }
    if (id < 0)
        return EXIT_BERTH_ERROR;
    if (p.index >= argc)
        return cli_usage_error("image rm", "expects at least one IMAGE (see --help)");
    _cleanup_(engine_freep) struct engine *e = NULL;
    int r = cli_open_engine(g, "image rm", &e);
    if (r)
        return r;
    int status = 0;
    for (int i = p.index; i < argc; i++) {
        struct error *err _cleanup_error_ = NULL;
        if (remove_one(e, argv[i], force, &err) < 0)
            status = cli_report("image rm", err);
    }
    return status;
}

int cmd_image(struct cli_globals *g, int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(image_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BERTH_ERROR : 0;
    }
    static const struct {
        const char *name;
        int (*fn)(struct cli_globals *g, int argc, char **argv);
    } subs[] = {
        {"import", image_import}, {"load", cmd_load},         {"ls", image_ls},
        {"list", image_ls},       {"inspect", image_inspect}, {"rm", image_rm},
        {"remove", image_rm},     {"save", cmd_save},         {"tag", cmd_tag},
        {"history", cmd_history}, {"prune", cmd_image_prune},
    };
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].fn(g, argc - 1, argv + 1);
    return cli_usage_error("image", "unknown command '%s' (see --help)", argv[1]);
}
