/* madvise: what each advice does to the memory behind it, and the errors
 * in Linux's order (mm/madvise.c).
 *
 * MADV_DONTNEED drops pages: private anonymous memory reads as zeros after
 * it, a private file mapping as the file again (its copies gone), a shared
 * mapping keeps its data (it lives in the shared object). FREE is for
 * private anonymous memory only; POPULATE_READ/WRITE fault pages in and
 * refuse an area that does not allow the access; a hole in the range is
 * ENOMEM once the mapped parts were done. Runs unmodified on armmap and
 * on Linux (Debian's arm64 6.1); qemu-user passes madvise to the host
 * kernel only in part, so the test runs on armmap alone in the suite.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE 4096

static char *anon(int pages, int prot, int flags)
{
    char *p = mmap(NULL, pages * PAGE, prot, flags | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void case_dontneed_private_anon(void)
{
    char *p = anon(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    CHECK(p != NULL, "mmap");
    memset(p, 0x5a, 4 * PAGE);
    CHECK_Z(madvise(p + PAGE, 2 * PAGE, MADV_DONTNEED));
    CHECK(p[0] == 0x5a && p[4 * PAGE - 1] == 0x5a, "pages outside the range changed");
    CHECK(p[PAGE] == 0 && p[3 * PAGE - 1] == 0, "dropped pages do not read as zeros");
    p[PAGE] = 1; /* writable again, fresh */
    CHECK(p[PAGE] == 1, "store after DONTNEED lost");
    munmap(p, 4 * PAGE);
}

static void case_dontneed_shared_anon(void)
{
    char *p = anon(2, PROT_READ | PROT_WRITE, MAP_SHARED);
    CHECK(p != NULL, "mmap");
    memset(p, 0x33, 2 * PAGE);
    CHECK_Z(madvise(p, 2 * PAGE, MADV_DONTNEED));
    CHECK(p[0] == 0x33 && p[2 * PAGE - 1] == 0x33, "shared memory lost its data");
    munmap(p, 2 * PAGE);
}

static void case_dontneed_private_file(void)
{
    char name[] = "/tmp/madvise-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) {
        strcpy(name, "madvise-file");
        fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    }
    CHECK_SYS(fd);
    char buf[PAGE];
    memset(buf, 'f', sizeof buf);
    CHECK(write(fd, buf, sizeof buf) == sizeof buf, "write");
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap");
    p[0] = 'x'; /* a private copy */
    CHECK_Z(madvise(p, PAGE, MADV_DONTNEED));
    CHECK(p[0] == 'f', "the private copy survived DONTNEED (read %c)", p[0]);
    CHECK_ERRNO(madvise(p, PAGE, MADV_FREE), EINVAL);
    munmap(p, PAGE);
    close(fd);
    unlink(name);
}

static void case_free_and_populate(void)
{
    char *p = anon(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    CHECK(p != NULL, "mmap");
    CHECK_Z(madvise(p, 2 * PAGE, MADV_POPULATE_WRITE));
    CHECK_Z(madvise(p, 2 * PAGE, MADV_POPULATE_READ));
    memset(p, 7, 2 * PAGE);
    CHECK_Z(madvise(p, 2 * PAGE, MADV_FREE));
    CHECK(p[0] == 0 || p[0] == 7, "FREE left neither the data nor zeros");
    char *ro = anon(1, PROT_READ, MAP_PRIVATE);
    CHECK_Z(madvise(ro, PAGE, MADV_POPULATE_READ));
    CHECK_ERRNO(madvise(ro, PAGE, MADV_POPULATE_WRITE), EINVAL);
    char *none = anon(1, PROT_NONE, MAP_PRIVATE);
    CHECK_ERRNO(madvise(none, PAGE, MADV_POPULATE_READ), EINVAL);
    munmap(p, 2 * PAGE);
    munmap(ro, PAGE);
    munmap(none, PAGE);
}

static void case_errors(void)
{
    char *p = anon(3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    CHECK(p != NULL, "mmap");
    CHECK_ERRNO(madvise(p + 1, PAGE, MADV_DONTNEED), EINVAL);
    CHECK_ERRNO(madvise(p, PAGE, 12345), EINVAL);
    CHECK_Z(madvise(p, 0, MADV_DONTNEED));
    CHECK_ERRNO(madvise(p, (size_t)-1, MADV_DONTNEED), EINVAL);
    CHECK_ERRNO(madvise(p, PAGE, MADV_REMOVE), EINVAL);
    /* A hole in the middle: ENOMEM, and the mapped parts were done. */
    p[0] = 9;
    p[2 * PAGE] = 9;
    CHECK_Z(munmap(p + PAGE, PAGE));
    CHECK_ERRNO(madvise(p, 3 * PAGE, MADV_DONTNEED), ENOMEM);
    CHECK(p[0] == 0 && p[2 * PAGE] == 0, "the mapped parts around the hole were not dropped");
    CHECK_ERRNO(madvise(p, 3 * PAGE, MADV_POPULATE_READ), ENOMEM);
    CHECK_Z(madvise(p, PAGE, MADV_NORMAL));
    CHECK_Z(madvise(p, PAGE, MADV_WILLNEED));
    CHECK_Z(madvise(p, PAGE, MADV_SEQUENTIAL));
    munmap(p, 3 * PAGE);
}

int main(int argc, char **argv)
{
    check_init("madvise");
    check_filter(argc, argv);
    RUN(dontneed_private_anon);
    RUN(dontneed_shared_anon);
    RUN(dontneed_private_file);
    RUN(free_and_populate);
    RUN(errors);
    return check_finish();
}
