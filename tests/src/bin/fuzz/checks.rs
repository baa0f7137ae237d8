//! What the parent checks around a round: free frames, a clean scratch
//! directory, a kernel that still works, system files unchanged.

use core::ffi::CStr;
use user::errno::Errno;
use user::fs::{self, DirEntries, O_DIRECTORY, O_RDONLY};
use user::mm::{self, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::process::{self, WNOHANG};
use user::test::Deadline;
use user::util;

/// The buffer `/proc/vmstat` is read into: the same one before and after a
/// round, so reading it costs the same both times.
pub type VmstatBuf = [u8; 1024];

/// `nr_free_pages` from `/proc/vmstat`.
pub fn free_frames(buf: &mut VmstatBuf) -> Result<u64, Errno> {
    let n = util::read_path(c"/proc/vmstat", buf)?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| Errno::EINVAL)?;
    util::key_value(text, "nr_free_pages").ok_or(Errno::EINVAL)
}

/// A NUL-terminated path being built, no heap.
pub struct PathBuf {
    buf: [u8; 256],
    len: usize,
}

impl PathBuf {
    /// The path `s` (ASCII, shorter than 255 bytes).
    pub fn new(s: &str) -> PathBuf {
        let mut p = PathBuf { buf: [0; 256], len: 0 };
        p.push_bytes(s.as_bytes());
        p
    }

    fn push_bytes(&mut self, b: &[u8]) -> bool {
        if self.len + b.len() >= self.buf.len() {
            return false;
        }
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        self.buf[self.len] = 0;
        true
    }

    /// Appends `/name`; false if it does not fit.
    pub fn push(&mut self, name: &[u8]) -> bool {
        let len = self.len;
        if self.push_bytes(b"/") && self.push_bytes(name) {
            return true;
        }
        self.truncate(len);
        false
    }

    /// Back to the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.len = len;
        self.buf[len] = 0;
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The path as a C string.
    pub fn c(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf[..=self.len]).unwrap_or(c"/nonexistent")
    }
}

/// Child `i`'s scratch directory, `/tmp/fuzz/cI`.
pub fn scratch_dir(i: usize) -> PathBuf {
    let mut name = user::util::FmtBuf::<16>::new();
    let _ = core::fmt::Write::write_fmt(&mut name, format_args!("c{i}"));
    let mut dir = PathBuf::new("/tmp/fuzz");
    dir.push(name.as_str().as_bytes());
    dir
}

/// Empties child `i`'s scratch directory; returns how many entries could
/// not be removed.
pub fn empty_scratch(i: usize) -> u32 {
    empty_dir(&mut scratch_dir(i), 0)
}

/// Removes everything inside the directory `dir` (not `dir` itself);
/// returns how many entries could not be removed.
pub fn empty_dir(dir: &mut PathBuf, depth: u32) -> u32 {
    const DT_DIR: u8 = 4;
    let mut failed = 0;
    // Each pass lists from the start and removes what it lists; entries
    // that cannot be removed end it.
    for _ in 0..64 {
        let fd = match fs::open(dir.c(), O_RDONLY | O_DIRECTORY, 0) {
            Ok(fd) => fd,
            Err(_) => return failed + 1,
        };
        let mut buf = [0u8; 2048];
        let n = fs::getdents64(fd, &mut buf);
        let _ = fs::close(fd);
        let Ok(n) = n else { return failed + 1 };
        let (mut removed, mut failed_here) = (0, 0);
        for e in DirEntries::new(&buf, n) {
            if e.name == b"." || e.name == b".." {
                continue;
            }
            let len = dir.len();
            if !dir.push(e.name) {
                failed_here += 1;
                continue;
            }
            let r = if e.kind == DT_DIR && depth < 8 {
                failed += empty_dir(dir, depth + 1);
                fs::rmdir(dir.c())
            } else {
                fs::unlink(dir.c())
            };
            dir.truncate(len);
            match r {
                Ok(()) => removed += 1,
                Err(_) => failed_here += 1,
            }
        }
        if removed == 0 {
            return failed + failed_here;
        }
    }
    failed + 1
}

/// Whether the kernel still does the basics: a fresh mapping can be
/// written and read back and unmapped, and a child can be forked and
/// collected (within 5 s).
pub fn kernel_alive() -> Result<(), &'static str> {
    let addr = mm::mmap_anonymous(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE).map_err(|_| "mmap failed")?;
    let p = addr as *mut u64;
    for i in 0..PAGE_SIZE / 8 {
        // SAFETY: `addr` is a fresh, writable page of our own.
        unsafe { p.add(i).write_volatile(i as u64 ^ 0x5a5a) };
    }
    for i in 0..PAGE_SIZE / 8 {
        // SAFETY: as above.
        if unsafe { p.add(i).read_volatile() } != i as u64 ^ 0x5a5a {
            return Err("a fresh mapping does not keep what was written");
        }
    }
    // SAFETY: nothing refers to the page any more.
    unsafe { mm::munmap(addr, PAGE_SIZE) }.map_err(|_| "munmap failed")?;
    let child = process::fork_run(|| 42).map_err(|_| "fork failed")?;
    let mut deadline = Deadline::after_ms(5000, 1_000_000);
    loop {
        match process::waitpid(child, WNOHANG) {
            Ok((0, _)) => {}
            Ok((_, status)) if process::wifexited(status) && process::wexitstatus(status) == 42 => return Ok(()),
            Ok(_) => return Err("a forked child did not exit with its status"),
            Err(_) => return Err("wait4 for a forked child failed"),
        }
        if deadline.expired() {
            return Err("a forked child did not exit within 5 s");
        }
        user::time::sleep_ms(10);
    }
}

/// Size and FNV-1a hash of a file's contents (None if it cannot be read).
pub fn checksum(path: &CStr) -> Option<(u64, u64)> {
    let fd = fs::open(path, O_RDONLY, 0).ok()?;
    let (mut size, mut hash) = (0u64, 0xcbf2_9ce4_8422_2325u64);
    let mut buf = [0u8; 4096];
    let r = loop {
        match fs::read(fd, &mut buf) {
            Ok(0) => break Some((size, hash)),
            Ok(n) => {
                size += n as u64;
                for &b in &buf[..n] {
                    hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                }
            }
            Err(_) => break None,
        }
    };
    let _ = fs::close(fd);
    r
}
