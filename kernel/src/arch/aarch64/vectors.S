// The EL1 exception vector table and the trap frame save/restore.
//
// VBAR_EL1 points at `exception_vectors`: 16 entries of 128 bytes, four
// groups of four (synchronous, IRQ, FIQ, SError):
//   0-3   from EL1 while using SP_EL0   (never: the kernel always runs on SP_EL1)
//   4-7   from EL1 using SP_EL1         (kernel code)
//   8-11  from EL0 in AArch64           (user programs: system calls, faults, IRQs)
//   12-15 from EL0 in AArch32           (not supported)
// Every entry pushes a `TrapFrame` (x0-x30, SP_EL0, ELR_EL1, SPSR_EL1; see
// exception.rs) on the current kernel stack and calls
// `exception_dispatch(frame, entry_index)`; `exception_return` restores the
// (possibly modified) frame and returns with `eret`.

.equ FRAME_SIZE, 34 * 8

.macro VECTOR index
    .balign 128
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #16 * 0]
    mov     x1, #\index
    b       exception_save_rest
.endm

.section .text.vectors, "ax"
.balign 2048
.global exception_vectors
exception_vectors:
    VECTOR 0
    VECTOR 1
    VECTOR 2
    VECTOR 3
    VECTOR 4
    VECTOR 5
    VECTOR 6
    VECTOR 7
    VECTOR 8
    VECTOR 9
    VECTOR 10
    VECTOR 11
    VECTOR 12
    VECTOR 13
    VECTOR 14
    VECTOR 15

exception_save_rest:
    stp     x2, x3, [sp, #16 * 1]
    stp     x4, x5, [sp, #16 * 2]
    stp     x6, x7, [sp, #16 * 3]
    stp     x8, x9, [sp, #16 * 4]
    stp     x10, x11, [sp, #16 * 5]
    stp     x12, x13, [sp, #16 * 6]
    stp     x14, x15, [sp, #16 * 7]
    stp     x16, x17, [sp, #16 * 8]
    stp     x18, x19, [sp, #16 * 9]
    stp     x20, x21, [sp, #16 * 10]
    stp     x22, x23, [sp, #16 * 11]
    stp     x24, x25, [sp, #16 * 12]
    stp     x26, x27, [sp, #16 * 13]
    stp     x28, x29, [sp, #16 * 14]
    mrs     x2, sp_el0
    stp     x30, x2, [sp, #16 * 15]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [sp, #16 * 16]
    mov     x0, sp
    mov     x29, #0                 // end of the frame-pointer chain for backtraces
    bl      exception_dispatch

// Restores the trap frame at sp and returns from the exception. Also the first
// code a new process runs (its kernel stack starts with a prepared frame).
.global exception_return
exception_return:
    ldp     x2, x3, [sp, #16 * 16]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x30, x2, [sp, #16 * 15]
    msr     sp_el0, x2
    ldp     x0, x1, [sp, #16 * 0]
    ldp     x2, x3, [sp, #16 * 1]
    ldp     x4, x5, [sp, #16 * 2]
    ldp     x6, x7, [sp, #16 * 3]
    ldp     x8, x9, [sp, #16 * 4]
    ldp     x10, x11, [sp, #16 * 5]
    ldp     x12, x13, [sp, #16 * 6]
    ldp     x14, x15, [sp, #16 * 7]
    ldp     x16, x17, [sp, #16 * 8]
    ldp     x18, x19, [sp, #16 * 9]
    ldp     x20, x21, [sp, #16 * 10]
    ldp     x22, x23, [sp, #16 * 11]
    ldp     x24, x25, [sp, #16 * 12]
    ldp     x26, x27, [sp, #16 * 13]
    ldp     x28, x29, [sp, #16 * 14]
    add     sp, sp, #FRAME_SIZE
    eret

// Reads 8 bytes at x0 from EL1, surviving a fault: returns (value, 0) in
// (x0, x1), or (0, 1) if the access faulted. The kernel tests use it to check
// that an unmapped page really faults. Its entry in __ex_table tells the
// exception handler where to resume.
.section .text, "ax"
.global probe_read_u64
probe_read_u64:
1:  ldr     x0, [x0]
    mov     x1, #0
    ret
2:  mov     x0, #0
    mov     x1, #1
    ret
.pushsection __ex_table, "a"
    .quad   1b, 2b
.popsection
