/* driver_memdev: the classic "map a driver's buffer" program, run against
 * armmap's /dev/memdev (a reserved physical buffer the kernel's memdev
 * driver maps into a process in one pass, like remap_pfn_range).
 *
 * open("/dev/memdev", O_RDWR), map 2048 bytes MAP_SHARED read-write,
 * strcpy a string in and read it back, strcpy another and read it back,
 * munmap, close. The kernel put a greeting at the start of the buffer and
 * logs what it finds there at shutdown, so the first 64 bytes (in fact the
 * whole first page, all this program writes) are saved first and put back
 * at the end.
 *
 * armmap only (Linux has no /dev/memdev): a TargetRun, not a CompareRun.
 */
#include "check.h"

#include <sys/mman.h>

#define LEN 2048
/* The first 64 bytes hold the greeting; everything this program writes
 * (the whole first page) is saved and restored. */
#define GREETING 64
#define SAVE 4096

static int fd = -1;
static char *map = MAP_FAILED;
static char saved[SAVE];

static void case_open(void)
{
    fd = open("/dev/memdev", O_RDWR);
    CHECK(fd >= 0, "open(\"/dev/memdev\", O_RDWR): errno %d (%s)", errno, strerror(errno));
    struct stat st;
    CHECK_SYS(fstat(fd, &st));
    CHECK(S_ISCHR(st.st_mode), "/dev/memdev is not a character device (mode %o)", (unsigned)st.st_mode);
}

static void case_mmap_shared_rw(void)
{
    CHECK(fd >= 0, "no descriptor (an earlier case failed)");
    map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED, "mmap(%d, PROT_READ|PROT_WRITE, MAP_SHARED): errno %d (%s)", LEN, errno,
          strerror(errno));
    CHECK(((unsigned long)map & 4095) == 0, "mapping is not page-aligned");
    memcpy(saved, map, SAVE);
    size_t n = strnlen(saved, GREETING);
    printf("greeting: \"%.*s\"\n", (int)n, saved);
}

static void case_strcpy_first(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    static const char msg[] = "Hello from user space through mmap";
    strcpy(map, msg);
    CHECK(strcmp(map, msg) == 0, "read back \"%.64s\"", map);
}

static void case_strcpy_second(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    static const char msg[] = "second";
    strcpy(map, msg);
    CHECK(strcmp(map, msg) == 0, "read back \"%.64s\"", map);
    /* The tail of the longer first string is still there after the NUL. */
    CHECK(memcmp(map + 11, "user space", 10) == 0, "bytes after the NUL changed");
}

static void case_whole_length_usable(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    /* Beyond the greeting: write a pattern up to the end of the 2048 bytes
     * and of the page the mapping was rounded up to. */
    for (int i = GREETING; i < 4096; i++)
        map[i] = (char)(i * 13);
    for (int i = GREETING; i < 4096; i++)
        CHECK(map[i] == (char)(i * 13), "byte %d reads %d", i, map[i]);
}

static void case_second_mapping_sees_it(void)
{
    CHECK(fd >= 0 && map != MAP_FAILED, "no mapping (an earlier case failed)");
    char *again = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(again != MAP_FAILED, "second mmap: errno %d (%s)", errno, strerror(errno));
    int same = strcmp(again, "second") == 0 && again[100] == (char)(100 * 13);
    CHECK_SYS(munmap(again, LEN));
    CHECK(same, "a second mapping of the device does not show the first one's stores");
}

static void case_restore_munmap_close(void)
{
    CHECK(map != MAP_FAILED, "no mapping (an earlier case failed)");
    memcpy(map, saved, SAVE);
    CHECK(memcmp(map, saved, SAVE) == 0, "greeting not restored");
    CHECK_SYS(munmap(map, LEN));
    map = MAP_FAILED;
    CHECK_SYS(close(fd));
    fd = -1;
}

int main(void)
{
    check_init("driver_memdev");
    RUN(open);
    RUN(mmap_shared_rw);
    RUN(strcpy_first);
    RUN(strcpy_second);
    RUN(whole_length_usable);
    RUN(second_mapping_sees_it);
    RUN(restore_munmap_close);
    return check_finish();
}
