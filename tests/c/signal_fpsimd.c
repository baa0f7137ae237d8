/* signal_fpsimd: the floating-point and SIMD state survives a signal
 * handler.
 *
 * Inline assembly loads a known pattern into each of v0..v31 (so d8-d15,
 * the callee-saved halves, too), sets FPCR (DN, FZ, round towards minus
 * infinity) and FPSR (QC, IXC, DZC, IOC), then makes the kill system call
 * itself, so the signal arrives with those values live in the registers.
 * The handler checks that the frame's fpsimd_context record holds them,
 * overwrites every vector register, FPCR and FPSR with other values, and
 * changes v31's saved copy in the frame. After rt_sigreturn the assembly
 * stores the registers again: v0..v30, FPCR and FPSR are as before the
 * signal and v31 is what the handler put in the frame (sigreturn restores
 * the FP state from the frame, not from a kernel-side copy).
 *
 * On a CPU with SVE, when the frame carries an sve_context with register
 * data, rt_sigreturn loads the Z registers (whose low 128 bits are the V
 * registers) from it rather than from fpsimd_context; the handler then
 * changes Z31 there too. qemu-user's default CPU has SVE and always writes
 * that data.
 *
 * The same holds for a signal sent by another process (the child's kill
 * arrives while the parent spins in the assembly with the values live)
 * and for a handler that itself takes a nested signal.
 *
 * The kernel needs: saving V0-V31, FPSR and FPCR in the rt_sigframe's
 * fpsimd_context on delivery and loading them back from it in
 * rt_sigreturn; the FP state switched per task.
 */
#define _GNU_SOURCE
#include "check.h"

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>

#define FPCR_SET ((1u << 25) | (1u << 24) | (2u << 22))
#define FPSR_SET ((1u << 27) | (1u << 4) | (1u << 1) | 1u)

static unsigned char pattern[32][16] __attribute__((aligned(16)));
static unsigned char after[32][16] __attribute__((aligned(16)));
static unsigned char clobber[32][16] __attribute__((aligned(16)));
static unsigned char v31_new[16] __attribute__((aligned(16)));

static volatile int handled, frame_ok, frame_fpsr_ok, frame_fpcr_ok, nested;

static void fill(unsigned char (*p)[16], unsigned seed)
{
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 16; j++)
            p[i][j] = (unsigned char)((i * 16 + j) * 7 + seed);
}

/* The frame record with this magic, or NULL. */
static struct _aarch64_ctx *find_record(ucontext_t *uc, uint32_t magic)
{
    unsigned char *p = (unsigned char *)uc->uc_mcontext.__reserved;
    unsigned char *end = p + sizeof uc->uc_mcontext.__reserved;
    while (p + sizeof(struct _aarch64_ctx) <= end) {
        struct _aarch64_ctx *h = (struct _aarch64_ctx *)p;
        if (h->magic == 0 || h->size < sizeof *h || h->size > (size_t)(end - p))
            return NULL;
        if (h->magic == magic)
            return h;
        p += h->size;
    }
    return NULL;
}

/* Overwrites every vector register, FPCR and FPSR. */
static void clobber_fp(void)
{
    const unsigned char *c = &clobber[0][0];
    __asm__ volatile("ld1 {v0.16b-v3.16b}, [%0], #64\n\t"
                     "ld1 {v4.16b-v7.16b}, [%0], #64\n\t"
                     "ld1 {v8.16b-v11.16b}, [%0], #64\n\t"
                     "ld1 {v12.16b-v15.16b}, [%0], #64\n\t"
                     "ld1 {v16.16b-v19.16b}, [%0], #64\n\t"
                     "ld1 {v20.16b-v23.16b}, [%0], #64\n\t"
                     "ld1 {v24.16b-v27.16b}, [%0], #64\n\t"
                     "ld1 {v28.16b-v31.16b}, [%0], #64\n\t"
                     "msr fpcr, xzr\n\t"
                     "msr fpsr, xzr\n\t"
                     : "+r"(c)
                     :
                     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
                       "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27",
                       "v28", "v29", "v30", "v31", "memory");
}

static void nested_handler(int sig)
{
    (void)sig;
    clobber_fp();
    nested++;
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    struct fpsimd_context *f = (struct fpsimd_context *)find_record(ucv, FPSIMD_MAGIC);
    struct sve_context *sve = (struct sve_context *)find_record(ucv, SVE_MAGIC);
    frame_ok = f != NULL && memcmp(f->vregs, pattern, sizeof pattern) == 0;
    frame_fpsr_ok = f != NULL && f->fpsr == FPSR_SET;
    frame_fpcr_ok = f != NULL && f->fpcr == FPCR_SET;
    clobber_fp();
    if (nested >= 0)
        raise(SIGUSR2); /* a nested handler clobbers again and returns */
    clobber_fp();
    if (f != NULL)
        memcpy(&f->vregs[31], v31_new, 16);
    /* With SVE register data in the frame (an SVE CPU and a task that
     * used SVE; qemu-user's default CPU always writes it), sigreturn
     * restores the Z registers from there instead: V31 is Z31's low part. */
    if (sve != NULL && sve->head.size > sizeof *sve) {
        unsigned vq = sve->vl / 16;
        memcpy((char *)sve + SVE_SIG_ZREG_OFFSET(vq, 31), v31_new, 16);
    }
    handled++;
}

/* Loads pattern into v0..v31, FPCR and FPSR; if sig != 0 sends it to
 * this process with kill; if spin, waits (registers live) until handled
 * changes; then stores v0..v31 into after. Returns FPCR and FPSR as they
 * were then (fpcr in the high half). FPCR and FPSR go back to 0. */
static uint64_t with_live_registers(int sig, int spin)
{
    const unsigned char *in = &pattern[0][0];
    unsigned char *out = &after[0][0];
    uint64_t fpcr_out, fpsr_out;
    register long x0 __asm__("x0") = getpid();
    register long x1 __asm__("x1") = sig;
    register long x8 __asm__("x8") = SYS_kill;
    volatile int *flag = &handled;
    int start = handled;
    __asm__ volatile("msr fpcr, %[fpcr]\n\t"
                     "msr fpsr, %[fpsr]\n\t"
                     "ld1 {v0.16b-v3.16b}, [%[in]], #64\n\t"
                     "ld1 {v4.16b-v7.16b}, [%[in]], #64\n\t"
                     "ld1 {v8.16b-v11.16b}, [%[in]], #64\n\t"
                     "ld1 {v12.16b-v15.16b}, [%[in]], #64\n\t"
                     "ld1 {v16.16b-v19.16b}, [%[in]], #64\n\t"
                     "ld1 {v20.16b-v23.16b}, [%[in]], #64\n\t"
                     "ld1 {v24.16b-v27.16b}, [%[in]], #64\n\t"
                     "ld1 {v28.16b-v31.16b}, [%[in]], #64\n\t"
                     "cbz x1, 1f\n\t"
                     "svc #0\n"
                     "1:\n\t"
                     "cbz %w[spin], 3f\n"
                     "2:\n\t"
                     "ldr w9, [%[flag]]\n\t"
                     "cmp w9, %w[start]\n\t"
                     "b.eq 2b\n"
                     "3:\n\t"
                     "st1 {v0.16b-v3.16b}, [%[out]], #64\n\t"
                     "st1 {v4.16b-v7.16b}, [%[out]], #64\n\t"
                     "st1 {v8.16b-v11.16b}, [%[out]], #64\n\t"
                     "st1 {v12.16b-v15.16b}, [%[out]], #64\n\t"
                     "st1 {v16.16b-v19.16b}, [%[out]], #64\n\t"
                     "st1 {v20.16b-v23.16b}, [%[out]], #64\n\t"
                     "st1 {v24.16b-v27.16b}, [%[out]], #64\n\t"
                     "st1 {v28.16b-v31.16b}, [%[out]], #64\n\t"
                     "mrs %[fpcr_out], fpcr\n\t"
                     "mrs %[fpsr_out], fpsr\n\t"
                     "msr fpcr, xzr\n\t"
                     "msr fpsr, xzr\n\t"
                     : [in] "+r"(in), [out] "+r"(out), [fpcr_out] "=&r"(fpcr_out), [fpsr_out] "=&r"(fpsr_out),
                       "+r"(x0)
                     : [fpcr] "r"((uint64_t)FPCR_SET), [fpsr] "r"((uint64_t)FPSR_SET), "r"(x1), "r"(x8),
                       [spin] "r"(spin), [flag] "r"(flag), [start] "r"(start)
                     : "x9", "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12",
                       "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25",
                       "v26", "v27", "v28", "v29", "v30", "v31", "memory");
    return fpcr_out << 32 | (fpsr_out & 0xffffffffu);
}

/* Returns NULL or what differs after the handler. */
static const char *compare_after(uint64_t ctl)
{
    static char why[96];
    for (int i = 0; i < 31; i++)
        if (memcmp(after[i], pattern[i], 16) != 0) {
            snprintf(why, sizeof why, "v%d changed across the handler", i);
            return why;
        }
    if (memcmp(after[31], v31_new, 16) != 0)
        return "v31 is not the value the handler stored in the frame";
    if ((uint32_t)(ctl >> 32) != FPCR_SET) {
        snprintf(why, sizeof why, "FPCR %#x, expected %#x", (unsigned)(ctl >> 32), FPCR_SET);
        return why;
    }
    if ((uint32_t)ctl != FPSR_SET) {
        snprintf(why, sizeof why, "FPSR %#x, expected %#x", (unsigned)ctl, FPSR_SET);
        return why;
    }
    return NULL;
}

static void setup(void)
{
    struct sigaction sa;
    fill(pattern, 0x11);
    fill(clobber, 0xa5);
    for (int j = 0; j < 16; j++)
        v31_new[j] = (unsigned char)(0xf0 ^ j);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = nested_handler;
    sa.sa_flags = 0;
    sigaction(SIGUSR2, &sa, NULL);
}

static void case_no_signal_baseline(void)
{
    setup();
    memcpy(v31_new, pattern[31], 16);
    uint64_t ctl = with_live_registers(0, 0);
    const char *why = compare_after(ctl);
    CHECK(why == NULL, "without a signal: %s", why);
}

static void case_own_kill(void)
{
    setup();
    handled = 0;
    nested = -1; /* no nested signal */
    uint64_t ctl = with_live_registers(SIGUSR1, 0);
    CHECK(handled == 1, "handler ran %d times", handled);
    CHECK(frame_ok, "the frame's fpsimd_context does not hold v0..v31");
    CHECK(frame_fpsr_ok && frame_fpcr_ok, "the frame's FPSR/FPCR are not the interrupted ones");
    const char *why = compare_after(ctl);
    CHECK(why == NULL, "%s", why);
}

static void case_nested_signal(void)
{
    setup();
    handled = 0;
    nested = 0;
    uint64_t ctl = with_live_registers(SIGUSR1, 0);
    CHECK(handled == 1 && nested == 1, "handler ran %d times, nested %d times", handled, nested);
    CHECK(frame_ok, "the frame's fpsimd_context does not hold v0..v31");
    const char *why = compare_after(ctl);
    CHECK(why == NULL, "%s", why);
}

static void case_signal_from_other_process(void)
{
    setup();
    handled = 0;
    nested = -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        check_sleep_ms(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    uint64_t ctl = with_live_registers(0, 1); /* spins until handled */
    int st = check_wait(pid);
    CHECK(WIFEXITED(st), "child %s", check_status_str(st));
    CHECK(handled == 1, "handler ran %d times", handled);
    CHECK(frame_ok, "the frame's fpsimd_context does not hold v0..v31");
    const char *why = compare_after(ctl);
    CHECK(why == NULL, "%s", why);
}

int main(int argc, char **argv)
{
    check_init("signal_fpsimd");
    check_filter(argc, argv);
    RUN(no_signal_baseline);
    RUN(own_kill);
    RUN(nested_signal);
    RUN(signal_from_other_process);
    return check_finish();
}
