//! Small helpers for test programs: reading whole files, creating a file
//! with given contents, mapping a file, looking up `key value` lines such as
//! `/proc/vmstat`'s, parsing hexadecimal numbers, and formatting into a
//! fixed buffer without a heap.

use crate::errno::Errno;
use crate::fs::{self, Fd};
use crate::mm::{self, MAP_FIXED, MAP_FIXED_NOREPLACE};
use core::ffi::CStr;
use core::fmt;

/// Whether the program runs on armmap rather than Linux: armmap's
/// `/proc/memdev` exists. Test programs use it to skip armmap-only checks
/// when run under `qemu-aarch64` on Linux.
pub fn on_armmap() -> bool {
    crate::fs::open(c"/proc/memdev", crate::fs::O_RDONLY, 0).map(crate::fs::close).is_ok()
}

/// True on armmap; elsewhere prints that `what` (an armmap-only check) is
/// skipped.
pub fn armmap_only(what: &str) -> bool {
    if on_armmap() {
        return true;
    }
    crate::println!("  note: not on armmap, {what} skipped");
    false
}

/// Reads from `fd` until `buf` is full or the file ends, retrying short
/// reads and `EINTR`; returns the number of bytes read (0 at end of file).
pub fn read_full(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut n = 0;
    while n < buf.len() {
        match fs::read(fd, &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads the file `path` from its start into `buf` (until `buf` is full or
/// the file ends); returns the number of bytes read.
pub fn read_path(path: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = fs::open(path, fs::O_RDONLY, 0)?;
    let r = read_full(fd, buf);
    let _ = fs::close(fd);
    r
}

/// Creates `path` (or truncates it) holding exactly `data`; returns an
/// `O_RDWR` descriptor for it.
pub fn create_file(path: &CStr, data: &[u8]) -> Result<Fd, Errno> {
    let fd = fs::open(path, fs::O_RDWR | fs::O_CREAT | fs::O_TRUNC, 0o644)?;
    if let Err(e) = crate::io::write_all(fd, data) {
        let _ = fs::close(fd);
        return Err(e);
    }
    Ok(fd)
}

/// Maps `len` bytes of the file open as `fd`, from byte `offset`, wherever
/// the kernel likes; returns the address. `MAP_FIXED` and
/// `MAP_FIXED_NOREPLACE` are refused with `EINVAL` (they are what would make
/// this unsafe).
pub fn mmap_file(len: usize, prot: u32, flags: u32, fd: Fd, offset: u64) -> Result<usize, Errno> {
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    // SAFETY: with address hint 0 and no MAP_FIXED the kernel picks an
    // unused range, so no existing memory is affected.
    unsafe { mm::mmap(0, len, prot, flags, fd, offset) }
}

/// The decimal value on the first line of `text` of the form `key value`
/// (fields separated by blanks), e.g. `key_value(vmstat, "nr_free_pages")`.
pub fn key_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut f = line.split_ascii_whitespace();
        if f.next() == Some(key) {
            f.next()?.parse().ok()
        } else {
            None
        }
    })
}

/// Parses a hexadecimal number, with or without a `0x` prefix.
pub fn parse_hex(s: &str) -> Option<u64> {
    let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// A fixed-size text buffer that `write!` can format into (no heap).
/// Output that does not fit is cut off and remembered
/// ([`overflowed`](FmtBuf::overflowed)).
pub struct FmtBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflowed: bool,
}

impl<const N: usize> FmtBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        FmtBuf { buf: [0; N], len: 0, overflowed: false }
    }

    /// The text formatted so far.
    pub fn as_str(&self) -> &str {
        // Whole `&str`s are copied in, but a cut-off one may end inside a
        // character: keep the valid prefix.
        match core::str::from_utf8(&self.buf[..self.len]) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&self.buf[..e.valid_up_to()]).unwrap_or(""),
        }
    }

    /// Whether some output did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Empties the buffer.
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }
}

impl<const N: usize> Default for FmtBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for FmtBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() {
            self.overflowed = true;
            return Err(fmt::Error);
        }
        Ok(())
    }
}
