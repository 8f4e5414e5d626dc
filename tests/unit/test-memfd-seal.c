/* The seals of the re-exec copy of berth (runtime/memfd-seal.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/memfd-seal.h"

static int filled_memfd(void)
{
    int fd = memfd_create("seal-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "contents", 8), 8);
    return fd;
}

static void refuses_changes(int fd)
{
    assert_true(memfd_is_sealed(fd));
    errno = 0;
    assert_int_equal(pwrite(fd, "X", 1, 0), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(fd, 1), -1);
    assert_int_equal(ftruncate(fd, 4096), -1);
    assert_true(mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
    char buf[8];
    assert_int_equal(pread(fd, buf, 8, 0), 8);
    assert_memory_equal(buf, "contents", 8);
}

static void seals_a_plain_copy(void **state)
{
    (void)state;
    int fd = filled_memfd();
    assert_false(memfd_is_sealed(fd));
    assert_int_equal(memfd_seal_contents(fd), 0);
    assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_WRITE);
    refuses_changes(fd);
    close(fd);
}

/*
 * A writable shared mapping makes F_SEAL_WRITE fail with EBUSY for good, as
 * pinned pages do for a while: the copy must still end up refusing writes.
 */
static void seals_while_f_seal_write_is_busy(void **state)
{
    (void)state;
    int fd = filled_memfd();
    void *map = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
    assert_int_equal(errno, EBUSY);
    assert_int_equal(memfd_seal_contents(fd), 0);
    refuses_changes(fd);
    munmap(map, 8);
    close(fd);
}

static void fails_on_an_unsealable_file(void **state)
{
    (void)state;
    int fd = memfd_create("no-sealing", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(memfd_seal_contents(fd), -1);
    assert_int_equal(errno, EPERM);
    assert_false(memfd_is_sealed(fd));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seals_a_plain_copy),
        cmocka_unit_test(seals_while_f_seal_write_is_busy),
        cmocka_unit_test(fails_on_an_unsealable_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
