/* mmap_hello: the classic first mmap program.
 *
 * Create a file, ftruncate it to 4096 bytes, map it MAP_SHARED read-write,
 * fill it with spaces, copy "Hello World" in, close the descriptor (the
 * mapping stays valid), copy "Hello World" again after it, msync(MS_SYNC),
 * munmap, and read the file back with read(): it holds
 * "Hello WorldHello World" followed by spaces up to 4096 bytes.
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#include "check.h"

#include <sys/mman.h>

#define SIZE 4096
#define HELLO "Hello World"
#define HELLO_LEN 11

static const char *path;
static int fd = -1;
static char *map = MAP_FAILED;

static void case_create_and_truncate(void)
{
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open(O_RDWR|O_CREAT|O_TRUNC): errno %d (%s)", errno, strerror(errno));
    struct stat st;
    CHECK_SYS(fstat(fd, &st));
    CHECK(st.st_size == 0, "new file has size %ld", (long)st.st_size);
    CHECK_SYS(ftruncate(fd, SIZE));
    CHECK_SYS(fstat(fd, &st));
    CHECK(st.st_size == SIZE, "size after ftruncate(%d) is %ld", SIZE, (long)st.st_size);
}

static void case_map_shared_rw(void)
{
    CHECK(fd >= 0, "no file (an earlier case failed)");
    map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK(((unsigned long)map & (SIZE - 1)) == 0, "mapping is not page-aligned");
    /* ftruncate extends with zeros: the mapping starts out all zero. */
    for (int i = 0; i < SIZE; i++)
        CHECK(map[i] == 0, "byte %d of the fresh file is %d, expected 0", i, map[i]);
}

static void case_fill_and_copy(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    memset(map, ' ', SIZE);
    memcpy(map, HELLO, HELLO_LEN);
    CHECK(memcmp(map, HELLO " ", HELLO_LEN + 1) == 0, "mapping does not hold what was just stored");
}

static void case_close_keeps_mapping(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    /* Closing the descriptor does not unmap the file. */
    CHECK_SYS(close(fd));
    fd = -1;
    memcpy(map + HELLO_LEN, HELLO, HELLO_LEN);
    CHECK(memcmp(map, HELLO HELLO " ", 2 * HELLO_LEN + 1) == 0, "mapping does not hold what was just stored");
}

static void case_msync_sync(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    CHECK_SYS(msync(map, SIZE, MS_SYNC));
}

static void case_munmap(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    CHECK_SYS(munmap(map, SIZE));
    map = MAP_FAILED;
}

static void case_read_back(void)
{
    static char buf[SIZE + 16];
    long n = check_read_file(path, buf, sizeof buf);
    CHECK(n >= 0, "reading the file back: errno %d (%s)", errno, strerror(errno));
    CHECK(n == SIZE, "read %ld bytes, expected %d", n, SIZE);
    printf("first 22 bytes: \"%.22s\"\n", buf);
    CHECK(memcmp(buf, HELLO HELLO, 2 * HELLO_LEN) == 0, "the file does not start with \"%s%s\"", HELLO, HELLO);
    for (int i = 2 * HELLO_LEN; i < SIZE; i++)
        CHECK(buf[i] == ' ', "byte %d is %d, expected a space", i, buf[i]);
}

static void case_size_unchanged(void)
{
    struct stat st;
    CHECK_SYS(stat(path, &st));
    CHECK(st.st_size == SIZE, "size is %ld, expected %d", (long)st.st_size, SIZE);
}

static void case_cleanup(void)
{
    CHECK_SYS(unlink(path));
    struct stat st;
    CHECK_ERRNO(stat(path, &st), ENOENT);
}

int main(void)
{
    check_init("mmap_hello");
    path = check_path(1);
    unlink(path);
    RUN(create_and_truncate);
    RUN(map_shared_rw);
    RUN(fill_and_copy);
    RUN(close_keeps_mapping);
    RUN(msync_sync);
    RUN(munmap);
    RUN(read_back);
    RUN(size_unchanged);
    RUN(cleanup);
    check_cleanup(2);
    return check_finish();
}
