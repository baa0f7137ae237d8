//! Device nodes (`/dev`) and generated files (`/proc`).
//!
//! A character device inode carries a device number; `read`, `write`,
//! `fstat` and `mmap` on it are routed here by that number.

use super::inode::Inode;
use super::vfs;
use alloc::sync::Arc;
use spin::Once;

/// The console (`/dev/console`, descriptors 0-2 of every process).
pub const DEV_CONSOLE: u32 = 1;
/// `/dev/null`.
pub const DEV_NULL: u32 = 2;

static CONSOLE: Once<Arc<Inode>> = Once::new();

/// The console's inode.
pub fn console() -> Arc<Inode> {
    CONSOLE.call_once(|| Inode::new_chardev(DEV_CONSOLE, 0o620)).clone()
}

/// Creates `/dev` and its nodes.
pub fn init() {
    let dev = vfs::mkdir_all("/dev");
    let _ = vfs::link(&dev, "console", console());
    let _ = vfs::link(&dev, "null", Inode::new_chardev(DEV_NULL, 0o666));
    vfs::mkdir_all("/tmp");
    vfs::mkdir_all("/proc");
}

/// Reads from device `d`.
pub fn read(d: u32, _off: u64, buf: &mut [u8]) -> Result<usize, crate::errno::Errno> {
    match d {
        DEV_CONSOLE => {
            // Wait for at least one byte, then take what is there.
            loop {
                let mut n = 0;
                while n < buf.len() {
                    match crate::console::read_byte() {
                        Some(b'\r') => {
                            buf[n] = b'\n';
                            n += 1;
                            break;
                        }
                        Some(b) => {
                            buf[n] = b;
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                let now = crate::arch::aarch64::timer::ticks();
                crate::task::sched::block(crate::task::process::Block::Sleep(now + 1));
            }
        }
        _ => Ok(0),
    }
}

/// Writes to device `d`.
pub fn write(d: u32, _off: u64, buf: &[u8]) -> Result<usize, crate::errno::Errno> {
    if d == DEV_CONSOLE {
        crate::console::write_bytes(buf);
    }
    Ok(buf.len())
}

/// The size `fstat` reports for device `d`.
pub fn size(_d: u32) -> u64 {
    0
}

/// Whether device `d` has a file position.
pub fn seekable(d: &u32) -> bool {
    !matches!(*d, DEV_CONSOLE)
}

/// What mapping device `d` means (`mmap` of its node), if it can be mapped.
pub fn mapping(_d: u32, _f: &super::vfs::OpenFile) -> Option<crate::mm::mmap::FileMapping> {
    None
}
