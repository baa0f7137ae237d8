// Copies between kernel and user memory that cannot crash the kernel.
//
// User memory is touched only with the *unprivileged* load/store
// instructions `ldtr`/`sttr` (and their byte forms): executed at EL1 they
// check the access against the EL0 permissions of the page, exactly as if
// the user program had made it, and PAN does not block them. A fault on
// one of them first goes to the page-fault handler (the page may simply not
// be filled in yet); if that cannot resolve it, the exception-table entry
// below sends execution to the fixup label, which returns the number of
// bytes NOT copied. 0 means success.
//
// The count is exact: a fault on an 8-byte access (which may straddle the
// last mapped byte) sends the copy to the byte loop, which stops at the
// first byte that faults. So a copy into a buffer that runs into an
// unmapped page reports every byte before the hole as copied.

.macro EX_ENTRY insn, fixup
    .pushsection __ex_table, "a"
    .balign 8
    .quad \insn, \fixup
    .popsection
.endm

.section .text, "ax"

// usize __copy_from_user(u8 *dst_kernel, const u8 *src_user, usize len)
.global __copy_from_user
__copy_from_user:
    cmp     x2, #8
    b.lo    2f
1:  ldtr    x3, [x1]                // 8 bytes at a time (unaligned is fine on normal memory)
    EX_ENTRY 1b, 3f                 // nothing moved yet: finish byte by byte
    str     x3, [x0], #8
    add     x1, x1, #8
    sub     x2, x2, #8
    cmp     x2, #8
    b.hs    1b
2:  cbz     x2, 8f
3:  ldtrb   w3, [x1]
    EX_ENTRY 3b, 9f
    strb    w3, [x0], #1
    add     x1, x1, #1
    subs    x2, x2, #1
    b.ne    3b
8:  mov     x0, #0
    ret
9:  mov     x0, x2
    ret

// usize __copy_to_user(u8 *dst_user, const u8 *src_kernel, usize len)
.global __copy_to_user
__copy_to_user:
    cmp     x2, #8
    b.lo    2f
1:  ldr     x3, [x1], #8
4:  sttr    x3, [x0]
    EX_ENTRY 4b, 7f
    add     x0, x0, #8
    sub     x2, x2, #8
    cmp     x2, #8
    b.hs    1b
2:  cbz     x2, 8f
3:  ldrb    w3, [x1], #1
5:  sttrb   w3, [x0]
    EX_ENTRY 5b, 9f
    add     x0, x0, #1
    subs    x2, x2, #1
    b.ne    3b
8:  mov     x0, #0
    ret
7:  sub     x1, x1, #8              // the 8-byte store faulted: undo the load's
    b       3b                      // post-increment and finish byte by byte
9:  mov     x0, x2
    ret

// usize __clear_user(u8 *dst_user, usize len)
.global __clear_user
__clear_user:
    cbz     x1, 8f
1:  sttrb   wzr, [x0]
    EX_ENTRY 1b, 9f
    add     x0, x0, #1
    subs    x1, x1, #1
    b.ne    1b
8:  mov     x0, #0
    ret
9:  mov     x0, x1
    ret
