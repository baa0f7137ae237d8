/* kernel_shared: kernel-user shared memory through /dev/mem.
 *
 * The kernel reserves a physical buffer (memdev) and says where it is in
 * /proc/memdev ("0x<hex physical address> <decimal size>\n"). This program
 * maps the buffer's first page through /dev/mem (opened O_RDWR|O_SYNC, the
 * offset is the physical address), writes its argv[1] there as a
 * NUL-terminated string, and unmaps it; the kernel logs the string it finds
 * at the start of the buffer at shutdown, as
 *     memdev at shutdown: "<string>"
 *
 * armmap only: run as `init=/bin/kernel_shared -- hello-from-user`; exits 0
 * iff every step worked.
 */
#include "check.h"

#include <sys/mman.h>

static const char *message;
static unsigned long phys, size;
static int have_phys;

static void case_read_proc_memdev(void)
{
    char buf[128] = {0};
    long n = check_read_file("/proc/memdev", buf, sizeof buf - 1);
    CHECK(n > 0, "reading /proc/memdev: %ld, errno %d (%s)", n, errno, strerror(errno));
    CHECK(buf[n - 1] == '\n', "/proc/memdev does not end with a newline: \"%s\"", buf);
    CHECK(strncmp(buf, "0x", 2) == 0, "/proc/memdev does not start with 0x: \"%s\"", buf);
    char *end;
    phys = strtoul(buf + 2, &end, 16);
    CHECK(end > buf + 2 && *end == ' ', "bad address field in /proc/memdev: \"%s\"", buf);
    char *p = end + 1;
    size = strtoul(p, &end, 10);
    CHECK(end > p && *end == '\n' && end[1] == 0, "bad size field in /proc/memdev: \"%s\"", buf);
    CHECK((phys & 4095) == 0, "memdev address is not page-aligned");
    CHECK(size >= 4096, "memdev size %lu is less than a page", size);
    printf("memdev: %lu bytes\n", size);
    have_phys = 1;
}

static void case_write_through_dev_mem(void)
{
    CHECK(have_phys, "no address (an earlier case failed)");
    CHECK(message != NULL, "no argv[1] to write");
    CHECK(strlen(message) < 4096, "argv[1] longer than a page");
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    CHECK(fd >= 0, "open(\"/dev/mem\", O_RDWR|O_SYNC): errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)phys);
    CHECK(p != MAP_FAILED, "mmap of /dev/mem at the memdev address: errno %d (%s)", errno, strerror(errno));
    CHECK_SYS(close(fd));
    strcpy(p, message);
    CHECK(strcmp(p, message) == 0, "read back \"%.64s\"", p);
    CHECK_SYS(munmap(p, 4096));
    printf("wrote \"%s\"\n", message);
}

static void case_read_back_new_mapping(void)
{
    CHECK(have_phys && message != NULL, "nothing written (an earlier case failed)");
    int fd = open("/dev/mem", O_RDONLY | O_SYNC);
    CHECK(fd >= 0, "open(\"/dev/mem\", O_RDONLY|O_SYNC): errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)phys);
    CHECK(p != MAP_FAILED, "read-only mmap of /dev/mem: errno %d (%s)", errno, strerror(errno));
    int same = strcmp(p, message) == 0;
    CHECK_SYS(munmap(p, 4096));
    CHECK_SYS(close(fd));
    CHECK(same, "a new mapping does not show the string");
}

int main(int argc, char **argv)
{
    check_init("kernel_shared");
    message = argc > 1 ? argv[1] : NULL;
    RUN(read_proc_memdev);
    RUN(write_through_dev_mem);
    RUN(read_back_new_mapping);
    return check_finish();
}
