// armmap entry point.
//
// QEMU's `-kernel` loader recognises the arm64 Linux Image header below, loads
// the image at a 2 MiB-aligned address near the start of RAM and jumps to its
// first instruction with the MMU off and x0 = physical address of the device
// tree blob (the Linux arm64 boot protocol, Documentation/arch/arm64/booting.rst).
//
// From here until `boot_high` runs, code executes at its *physical* load
// address while being linked at KIMAGE_BASE: only PC-relative addressing is
// allowed (adr/adrp, b/bl), which both this file and the early Rust code in
// el2.rs and early_mmu.rs respect.

.section .text.head, "ax"
.global _start
_start:
    b       primary_entry           // code0: branch over the header
    .long   0                       // code1
    .quad   0                       // text_offset: loaded at a 2 MiB boundary (+0)
    .quad   __image_size            // image_size, bss and boot stack included
    .quad   0xa                     // flags: little endian, 4 KiB pages, any 2 MiB-aligned address
    .quad   0                       // res2
    .quad   0                       // res3
    .quad   0                       // res4
    .ascii  "ARM\x64"               // magic
    .long   0                       // res5

.section .text.boot, "ax"
primary_entry:
    msr     daifset, #0xf           // no interrupts until the kernel has vectors
    mov     x19, x0                 // x19 = DTB physical address (kept throughout)

    // Zero .bss (the early page tables live there).
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:
    // The boot stack, at its physical address for now.
    adrp    x0, __boot_stack_top
    add     sp, x0, :lo12:__boot_stack_top

    mrs     x20, CurrentEL
    lsr     x20, x20, #2            // x20 = the exception level we were entered at
    cmp     x20, #2
    b.eq    enter_from_el2
    cmp     x20, #1
    b.eq    at_el1
    adr     x0, msg_bad_el
    b       boot_fail

enter_from_el2:
    adr     x0, el2_vectors
    adr     x1, at_el1              // where EL1 execution begins
    mov     x2, sp
    bl      boot_el2_to_el1         // Rust (el2.rs): configures EL2 and erets to x1 at EL1
    // not reached

at_el1:
    // Now at EL1 (either way). x19 = DTB, x20 = entry EL.
    adrp    x0, __boot_stack_top
    add     sp, x0, :lo12:__boot_stack_top
    adr     x0, _start              // physical load address of the image
    mov     x21, x0
    bl      boot_enable_mmu         // Rust (early_mmu.rs): early tables, MMU on; returns
                                    // still at the physical address (identity map)

    // Jump to the image's linked (virtual) address: an absolute literal.
    ldr     x0, =boot_high_trampoline
    br      x0

boot_high_trampoline:
    ldr     x0, =__boot_stack_top   // the same stack, at its virtual address
    mov     sp, x0
    mov     x0, x19                 // dtb physical address
    mov     x1, x20                 // entry EL
    mov     x2, x21                 // image physical address
    bl      boot_high               // Rust (main.rs), never returns
3:  wfe
    b       3b

// Report a failure before any console exists: print the message through
// semihosting (QEMU runs with -semihosting) and exit QEMU with status 1.
// x0 = address of a NUL-terminated message (PC-relative, so physical).
.global boot_fail
boot_fail:
    mov     x1, x0
    mov     x0, #0x04               // SYS_WRITE0
    hlt     #0xf000
    adr     x1, exit_block
    mov     x0, #0x18               // SYS_EXIT with a parameter block
    hlt     #0xf000
4:  wfe
    b       4b

.balign 8
exit_block:
    .quad   0x20026                 // ADP_Stopped_ApplicationExit
    .quad   1                       // exit status

msg_bad_el:
    .asciz  "armmap: entered at EL3 or EL0; boot at EL2 (virtualization=on) or EL1\n"
msg_el2_trap:
    .asciz  "armmap: unexpected exception taken to EL2; stopping\n"
.balign 4

// Minimal EL2 vector table: 16 entries of 128 bytes. Nothing is expected to
// trap to EL2 (HCR_EL2 routes nothing here), so any entry is a bug such as a
// stray `hvc`: say so and stop QEMU instead of hanging. A hypervisor mode
// would install its real handlers here.
.balign 2048
el2_vectors:
.rept 16
    .balign 128
    adr     x0, msg_el2_trap
    b       boot_fail
.endr

// The idmap trampoline that swaps TTBR1_EL1 safely (see
// kernel::arch::aarch64::mmu::replace_kernel_tables): executed through the
// identity map in TTBR0, it points TTBR1 at a table that maps nothing,
// invalidates the TLB, then installs the new table. No TLB entry of the old
// and the new kernel tables can then coexist (break-before-make for the whole
// kernel half). x0 = new TTBR1 value, x1 = TTBR1 value that maps nothing.
.balign 4096
.global idmap_replace_ttbr1
idmap_replace_ttbr1:
    msr     ttbr1_el1, x1
    isb
    dsb     ishst
    tlbi    vmalle1is
    dsb     ish
    isb
    msr     ttbr1_el1, x0
    isb
    ret
.global idmap_replace_ttbr1_end
idmap_replace_ttbr1_end:
