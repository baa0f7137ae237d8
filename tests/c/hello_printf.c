/* The smallest C program built by a standard toolchain: static glibc,
 * printf through stdio. Its output must equal what Linux prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *buf = malloc(64);
    strcpy(buf, "heap works");
    printf("hello from C, argc=%d, %s\n", argc, buf);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    printf("pid is positive: %s\n", getpid() > 0 ? "yes" : "no");
    free(buf);
    return 3;
}
