/* The SDK's filesystem helpers (sdk/fsutil: berth_tree_copy, berth_tree_remove, the trash). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include <berth/fsutil.h>

struct fixture {
    char dir[64];
    int fd;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/berth-fsutil.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *state = f;
    return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r = berth_tree_remove(AT_FDCWD, f->dir, NULL);
    close(f->fd);
    free(f);
    return r;
}

static void put(int dir_fd, const char *path, const char *text)
{
    int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int exists(int dir_fd, const char *path)
{
    struct stat st;
    return fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Deeper than the descriptor limit the walk is given. */
static void removes_a_tree_deeper_than_the_fd_limit(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->fd, "deep", 0755), 0);
    int fd = openat(f->fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; i < 1500; i++) {
        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        put(fd, "file", "x");
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(next >= 0);
        close(fd);
        fd = next;
    }
    close(fd);
    struct rlimit old, low = {.rlim_cur = 64, .rlim_max = RLIM_INFINITY};
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int r = berth_tree_remove(f->fd, "deep", NULL);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(r, 0);
    assert_false(exists(f->fd, "deep"));
}

static void never_follows_a_symlink(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->fd, "outside", 0755), 0);
    put(f->fd, "outside/keep", "precious");
    assert_int_equal(mkdirat(f->fd, "victim", 0755), 0);
    assert_int_equal(symlinkat("../outside", f->fd, "victim/link"), 0);
    char abs[PATH_MAX];
    snprintf(abs, sizeof(abs), "%s/outside", f->dir);
    assert_int_equal(symlinkat(abs, f->fd, "victim/abs-link"), 0);
    assert_int_equal(berth_tree_remove(f->fd, "victim", NULL), 0);
    assert_false(exists(f->fd, "victim"));
    assert_true(exists(f->fd, "outside/keep"));
}

/* overlay leaves mode-000 directories in its work dir. */
static void removes_mode_000_directories(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->fd, "w", 0755), 0);
    assert_int_equal(mkdirat(f->fd, "w/work", 0755), 0);
    put(f->fd, "w/work/f", "x");
    assert_int_equal(fchmodat(f->fd, "w/work", 0, 0), 0);
    assert_int_equal(fchmodat(f->fd, "w", 0500, 0), 0);
    assert_int_equal(berth_tree_remove(f->fd, "w", NULL), 0);
    assert_false(exists(f->fd, "w"));
}

static void absent_is_not_an_error(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(berth_tree_remove(f->fd, "nothing-here", NULL), 0);
    put(f->fd, "plain", "x");
    assert_int_equal(berth_tree_remove(f->fd, "plain", NULL), 0);
    assert_false(exists(f->fd, "plain"));
}

struct seen {
    int calls;
    int claimed;
};

/* Claims directories named "sub*" as a driver would a btrfs subvolume. */
static int claim_sub(void *ctx, int dir_fd, const char *name, int fd)
{
    struct seen *s = ctx;
    s->calls++;
    assert_true(fd >= 0);
    if (strncmp(name, "sub", 3) != 0)
        return 0;
    s->claimed++;
    return berth_tree_remove(dir_fd, name, NULL) < 0 ? -EIO : 1;
}

static int refuse(void *ctx, int dir_fd, const char *name, int fd)
{
    (void)ctx, (void)dir_fd, (void)name, (void)fd;
    return -EPERM;
}

static void delete_dir_decides(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->fd, "top", 0755), 0);
    assert_int_equal(mkdirat(f->fd, "top/sub1", 0755), 0);
    assert_int_equal(mkdirat(f->fd, "top/plain", 0755), 0);
    assert_int_equal(mkdirat(f->fd, "top/plain/sub2", 0755), 0);
    put(f->fd, "top/plain/sub2/f", "x");
    struct seen s = {0};
    struct berth_remove_options opts = {.delete_dir = claim_sub, .ctx = &s};
    assert_int_equal(berth_tree_remove(f->fd, "top", &opts), 0);
    assert_false(exists(f->fd, "top"));
    assert_int_equal(s.claimed, 2);
    assert_int_equal(s.calls, 4); /* top, sub1, plain, sub2 */

    assert_int_equal(mkdirat(f->fd, "kept", 0755), 0);
    opts = (struct berth_remove_options){.delete_dir = refuse};
    assert_int_equal(berth_tree_remove(f->fd, "kept", &opts), -EPERM);
    assert_true(exists(f->fd, "kept"));
}

static void trash_moves_then_gc_removes_leftovers(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->fd, "trash", 0700), 0);
    assert_int_equal(mkdirat(f->fd, "layer", 0755), 0);
    put(f->fd, "layer/f", "x");
    char name[BERTH_TRASH_NAME_MAX];
    assert_int_equal(berth_trash_move(f->fd, f->fd, "layer", name), 1);
    assert_false(exists(f->fd, "layer"));
    assert_true(exists(f->fd, name));
    assert_int_equal(strncmp(name, "trash/", 6), 0);
    assert_int_equal(berth_trash_move(f->fd, f->fd, "layer", name), 0);

    /* A crash's leftover of a dead process (pid 2^22 + 1 is past pid_max's
     * largest value) and one of a live process that is still deleting. */
    assert_int_equal(mkdirat(f->fd, "trash/4194305-00000000000000aa", 0755), 0);
    char live[64];
    snprintf(live, sizeof(live), "trash/%d-00000000000000bb", (int)getppid());
    assert_int_equal(mkdirat(f->fd, live, 0755), 0);
    assert_int_equal(berth_trash_gc(f->fd, NULL), 0);
    assert_false(exists(f->fd, name));
    assert_false(exists(f->fd, "trash/4194305-00000000000000aa"));
    assert_true(exists(f->fd, live));

    assert_int_equal(mkdirat(f->fd, "again", 0755), 0);
    assert_int_equal(berth_trash_remove(f->fd, f->fd, "again", NULL), 0);
    assert_false(exists(f->fd, "again"));
}

static void copies_the_tree_as_it_is(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdirat(f->fd, "src", 0751), 0);
    assert_int_equal(mkdirat(f->fd, "src/d", 0700), 0);
    put(f->fd, "src/d/file", "hello");
    assert_int_equal(fchmodat(f->fd, "src/d/file", 02755, 0), 0);
    assert_int_equal(linkat(f->fd, "src/d/file", f->fd, "src/hard", 0), 0);
    assert_int_equal(symlinkat("d/file", f->fd, "src/sym"), 0);
    assert_int_equal(mkfifoat(f->fd, "src/fifo", 0600), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/src/d/file", f->dir);
    int have_xattr = setxattr(path, "user.berth", "v", 1, 0) == 0;

    int src = openat(f->fd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(src >= 0);
    assert_int_equal(berth_tree_copy(src, f->fd, "dst", NULL), 0);
    assert_int_equal(berth_tree_copy(src, f->fd, "dst", NULL), -EEXIST);
    close(src);

    struct stat a, b, h;
    assert_int_equal(fstatat(f->fd, "dst", &a, 0), 0);
    assert_int_equal(a.st_mode & 07777, 0751);
    assert_int_equal(fstatat(f->fd, "dst/d/file", &a, 0), 0);
    assert_int_equal(fstatat(f->fd, "src/d/file", &b, 0), 0);
    assert_int_equal(fstatat(f->fd, "dst/hard", &h, 0), 0);
    assert_int_equal(a.st_mode & 07777, 02755);
    assert_true(a.st_ino == h.st_ino);
    assert_true(a.st_ino != b.st_ino);
    assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
    assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
    char target[16] = {0};
    assert_int_equal(readlinkat(f->fd, "dst/sym", target, sizeof(target) - 1), 6);
    assert_string_equal(target, "d/file");
    assert_int_equal(fstatat(f->fd, "dst/fifo", &a, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISFIFO(a.st_mode));
    if (have_xattr) {
        snprintf(path, sizeof(path), "%s/dst/d/file", f->dir);
        char v[4] = {0};
        assert_int_equal(getxattr(path, "user.berth", v, sizeof(v)), 1);
        assert_string_equal(v, "v");
    }
    int reflink = berth_reflink_supported(f->fd);
    assert_true(reflink == 0 || reflink == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(removes_a_tree_deeper_than_the_fd_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(never_follows_a_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(removes_mode_000_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(absent_is_not_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_dir_decides, setup, teardown),
        cmocka_unit_test_setup_teardown(trash_moves_then_gc_removes_leftovers, setup, teardown),
        cmocka_unit_test_setup_teardown(copies_the_tree_as_it_is, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
