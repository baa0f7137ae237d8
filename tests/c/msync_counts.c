/* msync_counts: msync writes back exactly the pages written since the last
 * sync, counted by armmap's /proc/vmstat key msync_writeback (lines
 * "key value").
 *
 * A 4-page file is mapped shared; stores to pages 0 and 2 then
 * msync(MS_SYNC) must add exactly 2; a second msync with no new stores 0;
 * a store to page 1 then msync 1. A sync of part of the range writes back
 * only the dirty pages inside it; reads never dirty a page; MS_ASYNC is
 * accepted (returns 0).
 *
 * armmap only (Linux has no such counter): a TargetRun with test lines.
 */
#include "check.h"

#include <sys/mman.h>

#define PAGE 4096
#define PAGES 4

static char *map = MAP_FAILED;
static int fd = -1;

/* The value of msync_writeback in /proc/vmstat, or -1. */
static long counter(void)
{
    static char buf[8192];
    long n = check_read_file("/proc/vmstat", buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        static const char key[] = "msync_writeback ";
        if (strncmp(line, key, sizeof key - 1) == 0) {
            char *end;
            long v = strtol(line + sizeof key - 1, &end, 10);
            if (end == line + sizeof key - 1 || (*end != '\n' && *end != 0))
                return -1;
            return v;
        }
    }
    return -1;
}

/* msync(range, MS_SYNC) and returns how much the counter grew (or a
 * negative number if something failed, with the reason printed). */
static long synced(char *addr, size_t len)
{
    long before = counter();
    if (msync(addr, len, MS_SYNC) != 0) {
        printf("  msync(MS_SYNC): errno %d (%s)\n", errno, strerror(errno));
        return -100;
    }
    long after = counter();
    if (before < 0 || after < 0) {
        printf("  no msync_writeback in /proc/vmstat\n");
        return -200;
    }
    return after - before;
}

static void case_vmstat_has_counter(void)
{
    long v = counter();
    CHECK(v >= 0, "/proc/vmstat has no line \"msync_writeback <n>\" (read: errno %d (%s))", errno,
          strerror(errno));
    long again = counter();
    CHECK(again == v, "the counter moved from %ld to %ld without an msync", v, again);
}

static void case_map_file(void)
{
    const char *path = check_path(1);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    CHECK_SYS(ftruncate(fd, PAGES * PAGE));
    map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    /* Nothing written yet: a sync writes nothing back. */
    long d = synced(map, PAGES * PAGE);
    CHECK(d == 0, "msync of a fresh mapping wrote back %ld pages, expected 0", d);
}

static void case_two_dirty_pages(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    map[0] = 'A';
    map[2 * PAGE + 5] = 'C';
    long d = synced(map, PAGES * PAGE);
    CHECK(d == 2, "counter grew by %ld after stores to pages 0 and 2, expected 2", d);
}

static void case_clean_sync_counts_nothing(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    long d = synced(map, PAGES * PAGE);
    CHECK(d == 0, "counter grew by %ld with no new stores, expected 0", d);
}

static void case_one_more_page(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    map[PAGE + 7] = 'B';
    long d = synced(map, PAGES * PAGE);
    CHECK(d == 1, "counter grew by %ld after a store to page 1, expected 1", d);
    /* Page 0 again, after it was cleaned: dirty once more. */
    map[1] = 'a';
    d = synced(map, PAGES * PAGE);
    CHECK(d == 1, "counter grew by %ld after a second store to page 0, expected 1", d);
}

static void case_reads_do_not_dirty(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    volatile char sum = 0;
    for (int i = 0; i < PAGES * PAGE; i += 512)
        sum += map[i];
    (void)sum;
    long d = synced(map, PAGES * PAGE);
    CHECK(d == 0, "counter grew by %ld after reads only, expected 0", d);
}

static void case_partial_range(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    map[0] = 'x';
    map[3 * PAGE] = 'y';
    /* Only page 3 is in the range. */
    long d = synced(map + 3 * PAGE, PAGE);
    CHECK(d == 1, "sync of page 3 wrote back %ld pages, expected 1", d);
    d = synced(map, PAGES * PAGE);
    CHECK(d == 1, "sync of the rest wrote back %ld pages, expected 1 (page 0)", d);
}

static void case_ms_async_accepted(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    map[2 * PAGE] = 'z';
    long before = counter();
    CHECK_SYS(msync(map, PAGES * PAGE, MS_ASYNC));
    /* MS_ASYNC may or may not write back at once; with the MS_SYNC after it
     * the page is written back exactly once. */
    CHECK_SYS(msync(map, PAGES * PAGE, MS_SYNC));
    long after = counter();
    CHECK(before >= 0 && after - before == 1, "MS_ASYNC + MS_SYNC of one dirty page counted %ld, expected 1",
          after - before);
}

static void case_contents_in_file(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    char b[4] = {0};
    CHECK(pread(fd, b, 2, 0) == 2 && b[0] == 'x' && b[1] == 'a', "page 0 of the file holds %d %d", b[0], b[1]);
    CHECK(pread(fd, b, 1, PAGE + 7) == 1 && b[0] == 'B', "page 1 of the file holds %d", b[0]);
    CHECK(pread(fd, b, 1, 2 * PAGE) == 1 && b[0] == 'z', "page 2 of the file holds %d", b[0]);
    CHECK(pread(fd, b, 1, 3 * PAGE) == 1 && b[0] == 'y', "page 3 of the file holds %d", b[0]);
    CHECK_SYS(munmap(map, PAGES * PAGE));
    map = MAP_FAILED;
    CHECK_SYS(close(fd));
    CHECK_SYS(unlink(check_path(1)));
}

int main(void)
{
    check_init("msync_counts");
    RUN(vmstat_has_counter);
    RUN(map_file);
    RUN(two_dirty_pages);
    RUN(clean_sync_counts_nothing);
    RUN(one_more_page);
    RUN(reads_do_not_dirty);
    RUN(partial_range);
    RUN(ms_async_accepted);
    RUN(contents_in_file);
    check_cleanup(2);
    return check_finish();
}
