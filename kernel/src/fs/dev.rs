//! Device nodes (`/dev`).
//!
//! A character device inode carries a device number; `read`, `write`,
//! `fstat` and `mmap` on it are routed here by that number.
//!
//! | node               | mmap offset means          | strategy                         |
//! |--------------------|----------------------------|----------------------------------|
//! | `/dev/memdev`      | offset into the buffer     | one-pass remap (2 MiB blocks)    |
//! | `/dev/memdev-lazy` | offset into the buffer     | one page per fault               |
//! | `/dev/mem`         | physical address           | one-pass remap; only inside the memdev buffer, else EPERM (like Linux's strict /dev/mem) |
//!
//! `/dev/console` (and its alias `/dev/tty`) is the terminal of `fs/tty`.
//!
//! The *memdev buffer* is RAM the kernel reserves at boot (`memdev=SIZE`,
//! default 2 MiB, 2 MiB-aligned) and never gives to the frame allocator:
//! a stand-in for a device's memory, shared between the kernel and user
//! space. At boot the kernel writes a greeting at its start; at shutdown it
//! logs the string it finds there.

use super::inode::Inode;
use super::vfs::{self, OpenFile};
use crate::errno::Errno;
use crate::mm::addr::{PhysAddr, PAGE_SIZE};
use crate::mm::backing::{CacheMode, PhysRange};
use crate::mm::mmap::FileMapping;
use crate::mm::phys_to_virt;
use alloc::string::String;
use alloc::sync::Arc;
use spin::Once;

/// The console (`/dev/console`, descriptors 0-2 of every process).
pub const DEV_CONSOLE: u32 = 1;
/// `/dev/null`.
pub const DEV_NULL: u32 = 2;
/// `/dev/memdev`: the buffer, remapped in one pass.
pub const DEV_MEMDEV: u32 = 3;
/// `/dev/memdev-lazy`: the buffer, filled page by page in the fault handler.
pub const DEV_MEMDEV_LAZY: u32 = 4;
/// `/dev/mem`: physical memory (only the buffer).
pub const DEV_MEM: u32 = 5;

static CONSOLE: Once<Arc<Inode>> = Once::new();
static MEMDEV: Once<(PhysAddr, u64, CacheMode)> = Once::new();

/// The console's inode.
pub fn console() -> Arc<Inode> {
    CONSOLE.call_once(|| Inode::new_chardev(DEV_CONSOLE, 0o620)).clone()
}

/// The memdev buffer: (physical address, size).
pub fn memdev() -> (PhysAddr, u64) {
    // Cannot fail once a program runs: `init` sets MEMDEV at boot before it
    // creates the nodes through which programs reach this (the memdev
    // devices, /proc/memdev is created after it), and before the first
    // process starts.
    let (base, size, _) = *MEMDEV.get().expect("memdev not set up");
    (base, size)
}

/// How user mappings of the buffer are cached (`memdev_attr=`).
fn memdev_cache() -> CacheMode {
    MEMDEV.get().map_or(CacheMode::Cached, |m| m.2)
}

fn buffer_ptr() -> *mut u8 {
    phys_to_virt(memdev().0).as_u64() as *mut u8
}

/// Creates `/dev` and its nodes; `buffer` is the reserved memdev range,
/// mapped into user space with caching `attr`.
pub fn init(buffer: PhysAddr, size: u64, attr: CacheMode) {
    MEMDEV.call_once(|| (buffer, size, attr));
    let greeting = alloc::format!("armmap: hello from the kernel, buffer at {:#x}\0", buffer.as_u64());
    // SAFETY: the buffer is reserved RAM reachable through the linear map;
    // the greeting is far smaller than the buffer's minimum size (4 KiB).
    unsafe { core::ptr::copy_nonoverlapping(greeting.as_ptr(), buffer_ptr(), greeting.len()) };
    let dev = vfs::mkdir_all("/dev");
    let _ = vfs::link(&dev, "console", console());
    // The controlling terminal: always the console, the only terminal.
    let _ = vfs::link(&dev, "tty", console());
    let _ = vfs::link(&dev, "null", Inode::new_chardev(DEV_NULL, 0o666));
    let _ = vfs::link(&dev, "memdev", Inode::new_chardev(DEV_MEMDEV, 0o666));
    let _ = vfs::link(&dev, "memdev-lazy", Inode::new_chardev(DEV_MEMDEV_LAZY, 0o666));
    let _ = vfs::link(&dev, "mem", Inode::new_chardev(DEV_MEM, 0o600));
    vfs::mkdir_all("/tmp");
}

/// The string at the start of the buffer (up to its NUL), for the shutdown log.
pub fn buffer_string() -> String {
    let (_, size) = memdev();
    let mut s = String::new();
    for i in 0..(size as usize).min(256) {
        // SAFETY: i is inside the reserved buffer.
        let b = unsafe { buffer_ptr().add(i).read_volatile() };
        match b {
            0 => break,
            0x20..=0x7e => s.push(b as char),
            _ => s.push('?'),
        }
    }
    s
}

/// The byte range of the buffer a read/write at `off` may touch on device `d`.
fn buffer_window(d: u32, off: u64, len: usize) -> Option<(usize, usize)> {
    let (base, size) = memdev();
    let start = match d {
        DEV_MEMDEV | DEV_MEMDEV_LAZY => off,
        DEV_MEM => off.checked_sub(base.as_u64())?,
        _ => return None,
    };
    if start >= size {
        return Some((0, 0));
    }
    Some((start as usize, len.min((size - start) as usize)))
}

/// Reads from device `d`.
pub fn read(d: u32, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    match d {
        DEV_CONSOLE => super::tty::read(buf, false),
        DEV_MEMDEV | DEV_MEMDEV_LAZY | DEV_MEM => {
            let (start, n) = buffer_window(d, off, buf.len()).ok_or(Errno::EPERM)?;
            // SAFETY: [start, start + n) lies inside the reserved buffer.
            unsafe { core::ptr::copy_nonoverlapping(buffer_ptr().add(start), buf.as_mut_ptr(), n) };
            Ok(n)
        }
        _ => Ok(0),
    }
}

/// Writes to device `d`.
pub fn write(d: u32, off: u64, buf: &[u8]) -> Result<usize, Errno> {
    match d {
        DEV_CONSOLE => Ok(super::tty::write(buf)),
        DEV_MEMDEV | DEV_MEMDEV_LAZY | DEV_MEM => {
            let (start, n) = buffer_window(d, off, buf.len()).ok_or(Errno::EPERM)?;
            if n == 0 && !buf.is_empty() {
                return Err(Errno::ENOSPC);
            }
            // SAFETY: [start, start + n) lies inside the reserved buffer.
            unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), buffer_ptr().add(start), n) };
            Ok(n)
        }
        _ => Ok(buf.len()),
    }
}

/// The size `fstat` reports for device `d`.
pub fn size(d: u32) -> u64 {
    match d {
        DEV_MEMDEV | DEV_MEMDEV_LAZY => memdev().1,
        _ => 0,
    }
}

/// Whether device `d` has a file position.
pub fn seekable(d: &u32) -> bool {
    !matches!(*d, DEV_CONSOLE)
}

/// Whether a read or write of device `d` moves its whole count in one call
/// (memory); the console answers with what it has.
pub fn streams(d: u32) -> bool {
    !matches!(d, DEV_CONSOLE)
}

/// Whether device `d` throws writes away without reading them (`/dev/null`).
pub fn discards(d: u32) -> bool {
    d == DEV_NULL
}

/// What mapping device `d` means (`mmap` of its node), if it can be mapped.
pub fn mapping(d: u32, f: &OpenFile) -> Option<FileMapping> {
    let (base, size) = memdev();
    let pages = size / PAGE_SIZE as u64;
    let (backing, allowed, name) = match d {
        DEV_MEMDEV | DEV_MEMDEV_LAZY => (
            PhysRange { base, size, cache: memdev_cache(), eager: d == DEV_MEMDEV },
            (0..pages, Errno::EINVAL),
            if d == DEV_MEMDEV { "/dev/memdev" } else { "/dev/memdev-lazy" },
        ),
        DEV_MEM => {
            // Offset = physical address. O_SYNC asks for uncached access:
            // normal non-cacheable (write-combining) memory, which still
            // allows the unaligned accesses string functions make.
            let cache = if f.flags() & O_SYNC != 0 { CacheMode::WriteCombine } else { memdev_cache() };
            let first = base.pfn();
            (
                PhysRange { base: PhysAddr(0), size: !(PAGE_SIZE as u64 - 1), cache, eager: true },
                (first..first + pages, Errno::EPERM),
                "/dev/mem",
            )
        }
        _ => return None,
    };
    Some(FileMapping {
        backing: Arc::new(backing),
        readable: f.readable(),
        writable: f.writable(),
        name: Some(Arc::from(name)),
        allowed: Some(allowed),
        max_bytes: u64::MAX,
    })
}

/// `O_SYNC` (Linux aarch64; the generic value).
const O_SYNC: u32 = linux_raw_sys::general::O_SYNC;
