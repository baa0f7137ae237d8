/* mmap_copy: the classic "cp through mmap" program.
 *
 * Copy one file to another through two shared mappings: the source mapped
 * PROT_READ, the destination (opened O_RDWR: a shared mapping needs read
 * access to the file) extended to the source's size with lseek(size - 1)
 * and a one-byte write(), then mapped PROT_WRITE. Both descriptors are
 * closed before the memcpy, then both mappings are unmapped and the files
 * compared with read().
 *
 * Done for a 10000-byte source (not a page multiple), exactly one page,
 * one byte, and three pages plus one byte.
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#include "check.h"

#include <sys/mman.h>

#define MAX_SIZE 20000

static unsigned char src_data[MAX_SIZE];
static unsigned char got[MAX_SIZE + 16];

/* The source's bytes: not periodic in the page size, never all zero. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 7 + i / 251 + 1) & 0xff);
}

/* Copies `size` bytes; n numbers the scratch files. */
static void copy_case(size_t size, int n)
{
    const char *src_path = check_path(2 * n);
    const char *dst_path = check_path(2 * n + 1);
    unlink(src_path);
    unlink(dst_path);

    /* The source, written with write(). */
    for (size_t i = 0; i < size; i++)
        src_data[i] = pattern(i);
    int s = open(src_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(s >= 0, "creating the source: errno %d (%s)", errno, strerror(errno));
    ssize_t w = write(s, src_data, size);
    CHECK(w == (ssize_t)size, "write of the source returned %ld", (long)w);
    CHECK_SYS(close(s));

    /* The copy, as every tutorial shows it. */
    int in = open(src_path, O_RDONLY);
    CHECK(in >= 0, "opening the source: errno %d (%s)", errno, strerror(errno));
    struct stat st;
    CHECK_SYS(fstat(in, &st));
    CHECK(st.st_size == (off_t)size, "source size is %ld, expected %zu", (long)st.st_size, size);
    int out = open(dst_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(out >= 0, "creating the destination: errno %d (%s)", errno, strerror(errno));
    off_t off = lseek(out, st.st_size - 1, SEEK_SET);
    CHECK(off == st.st_size - 1, "lseek(size - 1) returned %ld", (long)off);
    w = write(out, "", 1);
    CHECK(w == 1, "one-byte write at the end returned %ld, errno %d (%s)", (long)w, errno, strerror(errno));
    struct stat dst;
    CHECK_SYS(fstat(out, &dst));
    CHECK(dst.st_size == st.st_size, "destination size after the one-byte write is %ld", (long)dst.st_size);

    void *from = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, in, 0);
    CHECK(from != MAP_FAILED, "mmap of the source: errno %d (%s)", errno, strerror(errno));
    void *to = mmap(NULL, st.st_size, PROT_WRITE, MAP_SHARED, out, 0);
    CHECK(to != MAP_FAILED, "mmap of the destination: errno %d (%s)", errno, strerror(errno));
    CHECK_SYS(close(in));
    CHECK_SYS(close(out));
    memcpy(to, from, st.st_size);
    CHECK_SYS(munmap(from, st.st_size));
    CHECK_SYS(munmap(to, st.st_size));

    /* Compare with read(). */
    long r = check_read_file(dst_path, got, sizeof got);
    CHECK(r == (long)size, "read %ld bytes of the destination, expected %zu", r, size);
    for (size_t i = 0; i < size; i++)
        CHECK(got[i] == src_data[i], "destination byte %zu is %d, expected %d", i, got[i], src_data[i]);
    r = check_read_file(src_path, got, sizeof got);
    CHECK(r == (long)size, "read %ld bytes of the source, expected %zu", r, size);
    CHECK(memcmp(got, src_data, size) == 0, "the source changed");
    printf("copied %zu bytes\n", size);

    CHECK_SYS(unlink(src_path));
    CHECK_SYS(unlink(dst_path));
}

static void case_copy_10000(void)
{
    copy_case(10000, 1);
}

static void case_copy_one_page(void)
{
    copy_case(4096, 2);
}

static void case_copy_one_byte(void)
{
    copy_case(1, 3);
}

static void case_copy_3_pages_plus_1(void)
{
    copy_case(3 * 4096 + 1, 4);
}

int main(void)
{
    check_init("mmap_copy");
    RUN(copy_10000);
    RUN(copy_one_page);
    RUN(copy_one_byte);
    RUN(copy_3_pages_plus_1);
    check_cleanup(10);
    return check_finish();
}
