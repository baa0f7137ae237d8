//! Arm semihosting: asking the debugger or emulator (QEMU with `-semihosting`)
//! to do something for us through `hlt #0xf000`.
//!
//! armmap uses two calls: *exit* (through the `qemu-exit` crate), which ends
//! QEMU with a status that `cargo xtask` maps back to a test verdict, and
//! *write*, the console of last resort before the UART is known.

use qemu_exit::QEMUExit;

const SYS_WRITE0: u64 = 0x04;

/// Ends QEMU with `status` (0 = success).
pub fn exit(status: u32) -> ! {
    qemu_exit::AArch64::new().exit(status)
}

/// Writes `msg` to QEMU's standard error through semihosting, in chunks of a
/// NUL-terminated buffer.
pub fn write(msg: &str) {
    let mut buf = [0u8; 128];
    for chunk in msg.as_bytes().chunks(buf.len() - 1) {
        buf[..chunk.len()].copy_from_slice(chunk);
        buf[chunk.len()] = 0;
        // SAFETY: SYS_WRITE0 only reads the NUL-terminated buffer at x1.
        unsafe {
            core::arch::asm!("hlt #0xf000", inout("x0") SYS_WRITE0 => _, in("x1") buf.as_ptr(),
                options(nostack, readonly));
        }
    }
}
