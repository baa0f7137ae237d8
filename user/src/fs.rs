//! Files: `read`, `write`, `open`, `close`, `lseek`, `fstat` and friends.
//!
//! A file descriptor ([`Fd`]) is a small integer naming an open file in the
//! process's file table; 0, 1 and 2 are standard input, output and error.
//!
//! Paths are passed to the kernel as NUL-terminated C strings, so these
//! functions take a [`CStr`]: write `c"/etc/motd"` in a program. aarch64 has
//! no plain `open`, `stat`, `unlink` or `mkdir` system calls, only the `*at`
//! forms that take a directory descriptor; the wrappers without `at` pass
//! [`AT_FDCWD`] ("relative to the current directory"), which is what the C
//! library does too.

use crate::errno::Errno;
use crate::syscall::{nr, ret, syscall1, syscall2, syscall3, syscall4};
use core::ffi::CStr;
use linux_raw_sys::general as linux;

/// A file descriptor.
pub type Fd = i32;

/// `dirfd` value meaning "the current working directory".
pub const AT_FDCWD: Fd = linux::AT_FDCWD as Fd;
/// `unlinkat` flag: remove a directory instead of a file.
pub const AT_REMOVEDIR: u32 = linux::AT_REMOVEDIR;
/// `newfstatat` flag: do not follow a final symbolic link.
pub const AT_SYMLINK_NOFOLLOW: u32 = linux::AT_SYMLINK_NOFOLLOW;
/// `newfstatat` flag: an empty path means `dirfd` itself.
pub const AT_EMPTY_PATH: u32 = linux::AT_EMPTY_PATH;

// Open flags, from linux_raw_sys (this library is built for aarch64 only).
// aarch64 takes the generic values except for the four in
// `arch/arm64/include/uapi/asm/fcntl.h` (O_DIRECTORY, O_NOFOLLOW, O_DIRECT,
// O_LARGEFILE), which match 32-bit Arm.

/// Open for reading only.
pub const O_RDONLY: u32 = linux::O_RDONLY;
/// Open for writing only.
pub const O_WRONLY: u32 = linux::O_WRONLY;
/// Open for reading and writing.
pub const O_RDWR: u32 = linux::O_RDWR;
/// Mask for the access mode (the three above).
pub const O_ACCMODE: u32 = linux::O_ACCMODE;
/// Create the file if it does not exist (uses the `mode` argument).
pub const O_CREAT: u32 = linux::O_CREAT;
/// With `O_CREAT`: fail with `EEXIST` if the file exists.
pub const O_EXCL: u32 = linux::O_EXCL;
/// Do not make a terminal the controlling terminal.
pub const O_NOCTTY: u32 = linux::O_NOCTTY;
/// Truncate a regular file to length 0.
pub const O_TRUNC: u32 = linux::O_TRUNC;
/// Every write goes to the end of the file.
pub const O_APPEND: u32 = linux::O_APPEND;
/// Non-blocking I/O.
pub const O_NONBLOCK: u32 = linux::O_NONBLOCK;
/// Fail with `ENOTDIR` unless the path is a directory (aarch64 value).
pub const O_DIRECTORY: u32 = linux::O_DIRECTORY;
/// Fail with `ELOOP` if the final path component is a symbolic link (aarch64 value).
pub const O_NOFOLLOW: u32 = linux::O_NOFOLLOW;
/// Close the descriptor on `execve`.
pub const O_CLOEXEC: u32 = linux::O_CLOEXEC;

/// `lseek`: offset is from the start of the file.
pub const SEEK_SET: u32 = linux::SEEK_SET;
/// `lseek`: offset is from the current position.
pub const SEEK_CUR: u32 = linux::SEEK_CUR;
/// `lseek`: offset is from the end of the file.
pub const SEEK_END: u32 = linux::SEEK_END;

/// `st_mode` mask for the file type.
pub const S_IFMT: u32 = linux::S_IFMT;
/// File type: directory.
pub const S_IFDIR: u32 = linux::S_IFDIR;
/// File type: character device.
pub const S_IFCHR: u32 = linux::S_IFCHR;
/// File type: regular file.
pub const S_IFREG: u32 = linux::S_IFREG;
/// File type: symbolic link.
pub const S_IFLNK: u32 = linux::S_IFLNK;
/// File type: FIFO (pipe).
pub const S_IFIFO: u32 = linux::S_IFIFO;

/// `struct stat` exactly as aarch64 Linux fills it in
/// (`include/uapi/asm-generic/stat.h`, 128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    /// Device the file lives on.
    pub st_dev: u64,
    /// Inode number.
    pub st_ino: u64,
    /// File type (`S_IF*`) and permission bits.
    pub st_mode: u32,
    /// Number of hard links.
    pub st_nlink: u32,
    /// Owner's user id.
    pub st_uid: u32,
    /// Owner's group id.
    pub st_gid: u32,
    /// Device number, for device files.
    pub st_rdev: u64,
    /// Padding.
    pub __pad1: u64,
    /// Size in bytes.
    pub st_size: i64,
    /// Preferred I/O block size.
    pub st_blksize: i32,
    /// Padding.
    pub __pad2: i32,
    /// Number of 512-byte blocks allocated.
    pub st_blocks: i64,
    /// Last access, seconds.
    pub st_atime: i64,
    /// Last access, nanoseconds.
    pub st_atime_nsec: u64,
    /// Last modification, seconds.
    pub st_mtime: i64,
    /// Last modification, nanoseconds.
    pub st_mtime_nsec: u64,
    /// Last status change, seconds.
    pub st_ctime: i64,
    /// Last status change, nanoseconds.
    pub st_ctime_nsec: u64,
    /// Unused.
    pub __unused4: u32,
    /// Unused.
    pub __unused5: u32,
}

const _: () = assert!(core::mem::size_of::<Stat>() == 128);

impl Stat {
    /// Is this a directory?
    pub fn is_dir(&self) -> bool {
        self.st_mode & S_IFMT == S_IFDIR
    }

    /// Is this a regular file?
    pub fn is_file(&self) -> bool {
        self.st_mode & S_IFMT == S_IFREG
    }
}

/// Reads up to `buf.len()` bytes from `fd`; returns how many were read
/// (0 at end of file).
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which
    // we borrow mutably for the duration of the call.
    ret(unsafe { syscall3(nr::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })
}

/// Writes up to `buf.len()` bytes to `fd`; returns how many were written.
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel only reads `buf.len()` bytes from `buf`.
    ret(unsafe { syscall3(nr::WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) })
}

/// Reads from `fd` at byte `offset`, without moving the file position.
pub fn pread(fd: Fd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    ret(unsafe { syscall4(nr::PREAD64, fd as usize, buf.as_mut_ptr() as usize, buf.len(), offset as usize) })
}

/// Writes to `fd` at byte `offset`, without moving the file position.
pub fn pwrite(fd: Fd, buf: &[u8], offset: u64) -> Result<usize, Errno> {
    // SAFETY: the kernel only reads `buf.len()` bytes from `buf`.
    ret(unsafe { syscall4(nr::PWRITE64, fd as usize, buf.as_ptr() as usize, buf.len(), offset as usize) })
}

/// Opens `path` relative to the directory `dirfd` (or [`AT_FDCWD`]).
/// `mode` (permission bits) is used only when a file is created.
pub fn openat(dirfd: Fd, path: &CStr, flags: u32, mode: u32) -> Result<Fd, Errno> {
    // SAFETY: `path` is a valid NUL-terminated string the kernel only reads.
    let r = unsafe { syscall4(nr::OPENAT, dirfd as usize, path.as_ptr() as usize, flags as usize, mode as usize) };
    ret(r).map(|fd| fd as Fd)
}

/// Opens `path` (like C's `open`): `openat(AT_FDCWD, ...)`.
pub fn open(path: &CStr, flags: u32, mode: u32) -> Result<Fd, Errno> {
    openat(AT_FDCWD, path, flags, mode)
}

/// Closes `fd`.
pub fn close(fd: Fd) -> Result<(), Errno> {
    // SAFETY: `close` takes no pointers.
    ret(unsafe { syscall1(nr::CLOSE, fd as usize) }).map(drop)
}

/// Moves the file position of `fd` (`whence` is `SEEK_SET`, `SEEK_CUR` or
/// `SEEK_END`); returns the new position.
pub fn lseek(fd: Fd, offset: i64, whence: u32) -> Result<u64, Errno> {
    // SAFETY: `lseek` takes no pointers.
    ret(unsafe { syscall3(nr::LSEEK, fd as usize, offset as usize, whence as usize) }).map(|p| p as u64)
}

/// Information about the open file `fd`.
pub fn fstat(fd: Fd) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    // SAFETY: the kernel writes one `struct stat` (128 bytes, the layout of
    // `Stat`) into `st`.
    ret(unsafe { syscall2(nr::FSTAT, fd as usize, &mut st as *mut Stat as usize) })?;
    Ok(st)
}

/// Information about `path` relative to `dirfd` (`flags`: `AT_*`).
pub fn fstatat(dirfd: Fd, path: &CStr, flags: u32) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    // SAFETY: `path` is NUL-terminated and only read; the kernel writes one
    // `struct stat` into `st`.
    ret(unsafe {
        syscall4(nr::NEWFSTATAT, dirfd as usize, path.as_ptr() as usize, &mut st as *mut Stat as usize, flags as usize)
    })?;
    Ok(st)
}

/// Information about `path` (like C's `stat`).
pub fn stat(path: &CStr) -> Result<Stat, Errno> {
    fstatat(AT_FDCWD, path, 0)
}

/// Sets the size of the file open as `fd` to `len` bytes.
pub fn ftruncate(fd: Fd, len: u64) -> Result<(), Errno> {
    // SAFETY: `ftruncate` takes no pointers.
    ret(unsafe { syscall2(nr::FTRUNCATE, fd as usize, len as usize) }).map(drop)
}

/// Removes `path` (a directory too if `flags` has `AT_REMOVEDIR`).
pub fn unlinkat(dirfd: Fd, path: &CStr, flags: u32) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    ret(unsafe { syscall3(nr::UNLINKAT, dirfd as usize, path.as_ptr() as usize, flags as usize) }).map(drop)
}

/// Removes the file `path` (like C's `unlink`).
pub fn unlink(path: &CStr) -> Result<(), Errno> {
    unlinkat(AT_FDCWD, path, 0)
}

/// Removes the empty directory `path` (like C's `rmdir`).
pub fn rmdir(path: &CStr) -> Result<(), Errno> {
    unlinkat(AT_FDCWD, path, AT_REMOVEDIR)
}

/// Creates the directory `path` with permission bits `mode`.
pub fn mkdir(path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    ret(unsafe { syscall3(nr::MKDIRAT, AT_FDCWD as usize, path.as_ptr() as usize, mode as usize) }).map(drop)
}

/// A new descriptor for the same open file as `fd` (the lowest free number).
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    // SAFETY: `dup` takes no pointers.
    ret(unsafe { syscall1(nr::DUP, fd as usize) }).map(|f| f as Fd)
}

/// Makes `newfd` refer to the same open file as `oldfd` (closing `newfd`
/// first if needed). `flags` may be `O_CLOEXEC`.
pub fn dup3(oldfd: Fd, newfd: Fd, flags: u32) -> Result<Fd, Errno> {
    // SAFETY: `dup3` takes no pointers.
    ret(unsafe { syscall3(nr::DUP3, oldfd as usize, newfd as usize, flags as usize) }).map(|f| f as Fd)
}

/// Writes the current directory into `buf`; returns it without its NUL.
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let n = ret(unsafe { syscall2(nr::GETCWD, buf.as_mut_ptr() as usize, buf.len()) })?;
    // Linux returns the length including the NUL.
    let path = &buf[..n.min(buf.len())];
    Ok(path.strip_suffix(&[0]).unwrap_or(path))
}

/// Changes the current directory to `path`.
pub fn chdir(path: &CStr) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    ret(unsafe { syscall1(nr::CHDIR, path.as_ptr() as usize) }).map(drop)
}

/// Reads directory entries (`struct linux_dirent64` records) from the
/// directory open as `fd` into `buf`; returns the number of bytes filled,
/// 0 at the end. Walk them with [`DirEntries`].
pub fn getdents64(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    ret(unsafe { syscall3(nr::GETDENTS64, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })
}

/// One directory entry decoded from a `getdents64` buffer.
#[derive(Clone, Copy, Debug)]
pub struct DirEntry<'a> {
    /// Inode number.
    pub ino: u64,
    /// File type (`DT_*`: 4 directory, 8 regular file, ...).
    pub kind: u8,
    /// The name, without its NUL.
    pub name: &'a [u8],
}

/// Iterator over the records `getdents64` put in a buffer.
///
/// Each record is `u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]`.
pub struct DirEntries<'a> {
    buf: &'a [u8],
}

impl<'a> DirEntries<'a> {
    /// Walks the first `len` bytes of `buf` (the `getdents64` result).
    pub fn new(buf: &'a [u8], len: usize) -> Self {
        DirEntries { buf: &buf[..len.min(buf.len())] }
    }
}

impl<'a> Iterator for DirEntries<'a> {
    type Item = DirEntry<'a>;

    fn next(&mut self) -> Option<DirEntry<'a>> {
        if self.buf.len() < 19 {
            return None;
        }
        let ino = u64::from_ne_bytes(self.buf[0..8].try_into().ok()?);
        let reclen = u16::from_ne_bytes(self.buf[16..18].try_into().ok()?) as usize;
        if reclen < 19 || reclen > self.buf.len() {
            return None;
        }
        let kind = self.buf[18];
        let raw = &self.buf[19..reclen];
        let name = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
        self.buf = &self.buf[reclen..];
        Some(DirEntry { ino, kind, name })
    }
}
