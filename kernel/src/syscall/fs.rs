//! File system calls: open, read, write, seek, stat, directories, descriptors.
//!
//! Data moves between user memory and the file through a kernel buffer of
//! at most `IO_CHUNK` bytes, however large the request, and no lock is held
//! while user memory is touched (a page fault on a user buffer needs the
//! process table).
//!
//! Every user buffer is checked as a whole before any byte moves (Linux's
//! `access_ok`: no overflow, nothing above user space), the vectors of
//! `readv`/`writev` all of them first. A transfer that then faults part of
//! the way returns the bytes moved so far and moves the file position by
//! exactly that much; EFAULT means nothing moved. These are Linux's rules
//! (fs/read_write.c, lib/iov_iter.c).

use crate::arch::aarch64::uaccess::{
    access_ok, copy_to_user, read_user, read_user_cstr_into, write_user, CStrError, UserIter,
};
use crate::errno::{Errno, SysResult};
use crate::fs::dev;
use crate::fs::inode::{Inode, Kind, S_IFIFO, S_IFREG};
use crate::fs::pipe::Pipe;
use crate::fs::vfs::{self, oflags, OpenFile};
use crate::task::{files, process, sched};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};
use linux_raw_sys::general as linux;

pub const AT_FDCWD: i64 = linux::AT_FDCWD as i64;
const AT_REMOVEDIR: u64 = linux::AT_REMOVEDIR as u64;
const AT_EMPTY_PATH: u64 = linux::AT_EMPTY_PATH as u64;
const SEEK_SET: u64 = linux::SEEK_SET as u64;
const SEEK_CUR: u64 = linux::SEEK_CUR as u64;
const SEEK_END: u64 = linux::SEEK_END as u64;
/// The kernel buffer a read or write streams through (at most this big).
const IO_CHUNK: usize = 64 << 10;
/// Most bytes one read or write moves (Linux's `MAX_RW_COUNT`: `INT_MAX`
/// rounded down to a page); a larger count is cut to this.
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// Most vectors one readv or writev takes (Linux's `UIO_MAXIOV`, `IOV_MAX`).
const UIO_MAXIOV: u64 = 1024;

/// The open file behind `fd` in the current process.
pub fn file(fd: u64) -> Result<Arc<OpenFile>, Errno> {
    process::with_files(|files| files::get(files, fd))?
}

/// Linux's `PATH_MAX`: the longest path with its NUL.
const PATH_MAX: usize = 4096;

/// A copy of `s` in a string allocated fallibly (ENOMEM).
fn try_string(s: &str) -> Result<String, Errno> {
    let mut t = String::new();
    t.try_reserve_exact(s.len()).map_err(|_| Errno::ENOMEM)?;
    t.push_str(s);
    Ok(t)
}

/// Reads a path of at most PATH_MAX bytes with its NUL (ENAMETOOLONG
/// beyond), into a buffer allocated once and fallibly.
fn read_user_path(ptr: u64) -> Result<Vec<u8>, Errno> {
    let mut raw = Vec::new();
    raw.try_reserve_exact(PATH_MAX).map_err(|_| Errno::ENOMEM)?;
    raw.resize(PATH_MAX, 0);
    let len = read_user_cstr_into(ptr, &mut raw).map_err(|e| match e {
        CStrError::Fault => Errno::EFAULT,
        CStrError::TooLong => Errno::ENAMETOOLONG,
    })?;
    raw.truncate(len);
    Ok(raw)
}

/// Reads a user path and makes it absolute relative to `dirfd`.
pub fn user_path(dirfd: u64, ptr: u64) -> Result<String, Errno> {
    let raw = read_user_path(ptr)?;
    let s = core::str::from_utf8(&raw).map_err(|_| Errno::ENOENT)?;
    if s.is_empty() {
        return Err(Errno::ENOENT);
    }
    let path = if s.starts_with('/') || dirfd as i64 == AT_FDCWD {
        process::with_fs(|f| vfs::normalize(&f.cwd, s))?
    } else {
        let f = file(dirfd)?;
        if !f.inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        vfs::normalize(&f.path, s)
    };
    path.map_err(|_| Errno::ENOMEM)
}

fn read_inode(f: &OpenFile, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    match &f.inode.kind {
        Kind::File => Ok(f.inode.read_at(off, buf)),
        Kind::Dir(_) => Err(Errno::EISDIR),
        Kind::CharDev(dev::DEV_CONSOLE) => crate::fs::tty::read(buf, f.nonblocking()),
        Kind::CharDev(d) => dev::read(*d, off, buf),
        Kind::Pipe(_) => Err(Errno::EINVAL),
        Kind::Perf(id) => {
            if buf.len() < 8 {
                return Err(Errno::ENOSPC);
            }
            let v = process::with_current(|p| crate::task::perf::read(&p.perf, *id))?.ok_or(Errno::EBADF)?;
            buf[..8].copy_from_slice(&v.to_le_bytes());
            Ok(8)
        }
        Kind::Proc(w) => {
            let text = crate::fs::proc::generate(*w)?;
            let text = text.as_bytes();
            let Some(rest) = usize::try_from(off).ok().and_then(|o| text.get(o..)) else { return Ok(0) };
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }
    }
}

fn write_inode(f: &OpenFile, off: u64, buf: &[u8]) -> Result<usize, Errno> {
    match &f.inode.kind {
        Kind::File => f.inode.write_at(off, buf).map_err(|_| Errno::ENOSPC),
        Kind::Dir(_) => Err(Errno::EISDIR),
        Kind::CharDev(d) => dev::write(*d, off, buf),
        Kind::Proc(w) => crate::fs::proc::write(*w, buf),
        Kind::Perf(_) | Kind::Pipe(_) => Err(Errno::EINVAL),
    }
}

fn seekable(f: &OpenFile) -> bool {
    match f.inode.kind {
        Kind::CharDev(d) => dev::seekable(&d),
        Kind::Perf(_) | Kind::Pipe(_) => false,
        _ => true,
    }
}

/// Whether one call moves the whole count through several chunks (a file,
/// memory devices); the console, /proc and perf files answer one chunk per
/// call, a short count the caller asks again for.
fn streams(f: &OpenFile) -> bool {
    match f.inode.kind {
        Kind::File => true,
        Kind::CharDev(d) => dev::streams(d),
        _ => false,
    }
}

/// Linux's `rw_verify_area`: a regular or /proc file refuses a transfer
/// whose end lies beyond the largest offset (`i64::MAX`). Devices take any
/// offset (`/dev/mem` reads physical addresses).
fn verify_area(f: &OpenFile, off: u64, count: u64) -> Result<(), Errno> {
    if matches!(f.inode.kind, Kind::File | Kind::Proc(_)) && off.checked_add(count).is_none_or(|e| e > i64::MAX as u64)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// A kernel buffer for a transfer of `len` bytes: at most `IO_CHUNK`, so
/// a large transfer streams through it instead of needing its own size.
fn bounce(len: u64) -> Result<Vec<u8>, Errno> {
    let n = usize::try_from(len).map_or(IO_CHUNK, |l| l.min(IO_CHUNK));
    let mut k = Vec::new();
    k.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    k.resize(n, 0);
    Ok(k)
}

/// Reads from `f` at `off` into the user ranges of `to`, chunk by chunk.
/// Returns the bytes that reached user memory: a fault after some bytes
/// ends the transfer with that count, EFAULT only if none arrived.
fn read_into(f: &OpenFile, off: u64, to: &mut UserIter) -> SysResult {
    let mut k = bounce(to.remaining())?;
    let mut done = 0u64;
    loop {
        let want = usize::try_from(to.remaining()).map_or(k.len(), |r| r.min(k.len()));
        let n = match read_inode(f, off.saturating_add(done), &mut k[..want]) {
            Ok(n) => n.min(want),
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        let copied = to.copy_out(&k[..n]);
        done += copied as u64;
        if copied < n {
            if done == 0 {
                return Err(Errno::EFAULT);
            }
            break;
        }
        if n < want || to.remaining() == 0 || !streams(f) {
            break;
        }
    }
    Ok(done)
}

/// Writes the user ranges of `from` to `f` at `off`, chunk by chunk.
/// Returns the bytes written: a fault after some bytes ends the transfer
/// with that count, EFAULT only if none could be read.
fn write_from(f: &OpenFile, off: u64, from: &mut UserIter) -> SysResult {
    if let Kind::CharDev(d) = f.inode.kind {
        if dev::discards(d) {
            // /dev/null takes everything without reading it, as on Linux.
            let n = from.remaining();
            from.skip(n);
            return Ok(n);
        }
    }
    let mut k = bounce(from.remaining())?;
    let mut done = 0u64;
    loop {
        let want = usize::try_from(from.remaining()).map_or(k.len(), |r| r.min(k.len()));
        let got = from.copy_in(&mut k[..want]);
        if got == 0 && want > 0 {
            if done == 0 {
                return Err(Errno::EFAULT);
            }
            break;
        }
        let n = match write_inode(f, off.saturating_add(done), &k[..got]) {
            Ok(n) => n.min(got),
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n as u64;
        if n < got || got < want || from.remaining() == 0 || !streams(f) {
            break;
        }
    }
    Ok(done)
}

/// Reads through the file position (or at `at` for pread) into `to`,
/// whose ranges passed `access_ok`; the position moves by exactly the
/// bytes read.
fn read_file(f: &OpenFile, to: &mut UserIter, at: Option<u64>) -> SysResult {
    if let Some(p) = f.inode.pipe() {
        return pipe_read(f, p, to);
    }
    let off = at.unwrap_or_else(|| *f.pos.lock());
    verify_area(f, off, to.remaining())?;
    let n = read_into(f, off, to)?;
    if at.is_none() && seekable(f) {
        *f.pos.lock() = off + n;
    }
    Ok(n)
}

/// Writes `from` through the file position or at `at` for pwrite; the
/// position moves by exactly the bytes written. A file opened with
/// O_APPEND is written at its end, by pwrite too (as on Linux).
fn write_file(f: &OpenFile, from: &mut UserIter, at: Option<u64>) -> SysResult {
    if let Some(p) = f.inode.pipe() {
        return pipe_write(f, p, from);
    }
    let off = match at {
        _ if f.flags() & oflags::O_APPEND != 0 && matches!(f.inode.kind, Kind::File) => f.inode.size(),
        Some(o) => o,
        None => *f.pos.lock(),
    };
    verify_area(f, off, from.remaining())?;
    let n = write_from(f, off, from)?;
    if at.is_none() && seekable(f) {
        *f.pos.lock() = off + n;
    }
    Ok(n)
}

/// Reads from a pipe into `to` (see `fs/pipe.rs` for the rules).
fn pipe_read(f: &OpenFile, p: &Pipe, to: &mut UserIter) -> SysResult {
    let want = to.remaining();
    if want == 0 {
        return Ok(0);
    }
    let mut k = bounce(want)?;
    p.read(&mut k, want, f.nonblocking(), |chunk| to.copy_out(chunk))
}

/// Writes `from` into a pipe: a write of at most PIPE_BUF bytes passes
/// through the kernel buffer whole, so it goes in at once.
fn pipe_write(f: &OpenFile, p: &Pipe, from: &mut UserIter) -> SysResult {
    let total = from.remaining();
    if total == 0 {
        return Ok(0);
    }
    let mut k = bounce(total)?;
    p.write(&mut k, total, f.nonblocking(), |buf| from.copy_in(buf))
}

/// `read`/`pread64`: the buffer must be a user range (EFAULT before any
/// byte moves, as Linux's `access_ok`); at most `MAX_RW_COUNT` bytes move.
fn do_read(f: &OpenFile, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if !access_ok(buf, count) {
        return Err(Errno::EFAULT);
    }
    // Linux checks the offset with the count as asked, before the cap.
    verify_area(f, at.unwrap_or_else(|| *f.pos.lock()), count)?;
    let range = [(buf, count.min(MAX_RW_COUNT))];
    read_file(f, &mut UserIter::new(&range), at)
}

fn do_write(f: &OpenFile, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if !access_ok(buf, count) {
        return Err(Errno::EFAULT);
    }
    // Linux checks the offset with the count as asked, before the cap.
    verify_area(f, at.unwrap_or_else(|| *f.pos.lock()), count)?;
    let range = [(buf, count.min(MAX_RW_COUNT))];
    write_file(f, &mut UserIter::new(&range), at)
}

pub fn read(fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(fd)?;
    do_read(&f, buf, count, None)
}

pub fn write(fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(fd)?;
    do_write(&f, buf, count, None)
}

/// The file for pread64/pwrite64 at `off`: EINVAL for a negative offset
/// (before the descriptor is looked at), ESPIPE where there is no position.
fn positional(fd: u64, off: u64) -> Result<Arc<OpenFile>, Errno> {
    if (off as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let f = file(fd)?;
    if !seekable(&f) {
        return Err(Errno::ESPIPE);
    }
    Ok(f)
}

pub fn pread(fd: u64, buf: u64, count: u64, off: u64) -> SysResult {
    let f = positional(fd, off)?;
    do_read(&f, buf, count, Some(off))
}

pub fn pwrite(fd: u64, buf: u64, count: u64, off: u64) -> SysResult {
    let f = positional(fd, off)?;
    do_write(&f, buf, count, Some(off))
}

/// Reads a `struct iovec` array and checks it as Linux's `import_iovec`
/// does, before any data moves: more than `UIO_MAXIOV` vectors or a
/// negative length is EINVAL (every length is read before any range is
/// checked), a vector that is not a user range EFAULT, and the lengths are
/// cut so that the total is at most `MAX_RW_COUNT`.
fn import_iovec(iov: u64, cnt: u64) -> Result<Vec<(u64, u64)>, Errno> {
    /// A `struct iovec`: base, length.
    type Iovec = [u64; 2];
    crate::abi_layout!("iovec", {
        "size" => size_of::<Iovec>(),
        "iov_base" => 0,
        "iov_len" => size_of::<u64>(),
    });
    const IOVEC: u64 = size_of::<Iovec>() as u64;
    // The count is an `unsigned int` in Linux's import_iovec.
    let cnt = cnt as u32 as u64;
    if cnt > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    // No vector: nothing to read, not even the array's address.
    if cnt == 0 {
        return Ok(Vec::new());
    }
    if !access_ok(iov, cnt * IOVEC) {
        return Err(Errno::EFAULT);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(cnt as usize).map_err(|_| Errno::ENOMEM)?;
    for i in 0..cnt {
        let [base, len]: Iovec = read_user(iov + i * IOVEC).map_err(|_| Errno::EFAULT)?;
        if (len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        v.push((base, len));
    }
    let mut total = 0;
    for (base, len) in v.iter_mut() {
        if !access_ok(*base, *len) {
            return Err(Errno::EFAULT);
        }
        *len = (*len).min(MAX_RW_COUNT - total);
        total += *len;
    }
    Ok(v)
}

pub fn readv(fd: u64, iov: u64, cnt: u64) -> SysResult {
    let f = file(fd)?;
    let ranges = import_iovec(iov, cnt)?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let mut to = UserIter::new(&ranges);
    if to.remaining() == 0 {
        return Ok(0);
    }
    read_file(&f, &mut to, None)
}

pub fn writev(fd: u64, iov: u64, cnt: u64) -> SysResult {
    let f = file(fd)?;
    let ranges = import_iovec(iov, cnt)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let mut from = UserIter::new(&ranges);
    if from.remaining() == 0 {
        return Ok(0);
    }
    write_file(&f, &mut from, None)
}

pub fn openat(dirfd: u64, path: u64, flags: u64, mode: u64) -> SysResult {
    let flags = flags as u32;
    let path = user_path(dirfd, path)?;
    let acc = flags & oflags::O_ACCMODE;
    let inode = match vfs::lookup(&path) {
        Ok(i) => {
            if flags & oflags::O_CREAT != 0 && flags & oflags::O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            i
        }
        Err(Errno::ENOENT) if flags & oflags::O_CREAT != 0 => {
            let (dir, name) = vfs::parent_of(&path)?;
            let node = Inode::new_file(mode as u32 & 0o7777);
            vfs::link(&dir, &name, node.clone())?;
            node
        }
        Err(e) => return Err(e),
    };
    if inode.is_dir() && acc != oflags::O_RDONLY {
        return Err(Errno::EISDIR);
    }
    if flags & oflags::O_DIRECTORY != 0 && !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if flags & oflags::O_TRUNC != 0 && acc != oflags::O_RDONLY && matches!(inode.kind, Kind::File) {
        truncate(&inode, 0);
    }
    let cloexec = flags & oflags::O_CLOEXEC != 0;
    let console = matches!(inode.kind, Kind::CharDev(dev::DEV_CONSOLE));
    let flags = flags & !oflags::O_CLOEXEC;
    let f = match inode.pipe() {
        Some(p) => {
            let (read, write) = (acc == oflags::O_RDONLY || acc == oflags::O_RDWR, acc != oflags::O_RDONLY);
            let hup_after = p.fifo_open(read, write && acc != oflags::O_ACCMODE, flags & oflags::O_NONBLOCK != 0)?;
            OpenFile::new_pipe_end(inode, &path, flags, hup_after)
        }
        None => OpenFile::new(inode, &path, flags),
    };
    let fd = install_file(f, 0, cloexec)?;
    if console {
        crate::fs::tty::opened(flags);
    }
    Ok(fd)
}

/// Installs `f` in the calling thread's descriptor table, in the lowest
/// free slot at or above `min`. The caller's reference goes after the
/// table is let go, so that a pipe end that could not be installed closes
/// (and wakes its pipe's waiters) without a lock held.
fn install_file(f: Arc<OpenFile>, min: usize, cloexec: bool) -> SysResult {
    let r = process::with_files(|files| files::install_fd(files, f.clone(), min, cloexec))?;
    drop(f);
    r
}

pub fn close(fd: u64) -> SysResult {
    let slot = process::with_files(|files| files::close(files, fd))??;
    if let Kind::Perf(id) = slot.file.inode.kind {
        process::with_current(|t| crate::task::perf::close(&mut t.perf, id))?;
    }
    // The file goes (a pipe end wakes its waiters) with the table let go.
    drop(slot);
    Ok(0)
}

pub fn lseek(fd: u64, off: u64, whence: u64) -> SysResult {
    let f = file(fd)?;
    if !seekable(&f) {
        return Err(Errno::ESPIPE);
    }
    let mut pos = f.pos.lock();
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => *pos as i64,
        SEEK_END => f.inode.size() as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(off as i64).filter(|&n| n >= 0).ok_or(Errno::EINVAL)?;
    *pos = new as u64;
    Ok(new as u64)
}

/// `struct stat` of aarch64 Linux (asm-generic/stat.h), 128 bytes.
#[repr(C)]
#[derive(Copy, Clone, Default)]
struct Stat {
    dev: u64,
    ino: u64,
    mode: u32,
    nlink: u32,
    uid: u32,
    gid: u32,
    rdev: u64,
    pad1: u64,
    size: i64,
    blksize: i32,
    pad2: i32,
    blocks: i64,
    times: [i64; 6],
    unused: [u32; 2],
}

const _: () = assert!(core::mem::size_of::<Stat>() == 128);
crate::abi_layout!("stat", {
    "size" => size_of::<Stat>(),
    "st_dev" => offset_of!(Stat, dev),
    "st_ino" => offset_of!(Stat, ino),
    "st_mode" => offset_of!(Stat, mode),
    "st_nlink" => offset_of!(Stat, nlink),
    "st_uid" => offset_of!(Stat, uid),
    "st_gid" => offset_of!(Stat, gid),
    "st_rdev" => offset_of!(Stat, rdev),
    "st_size" => offset_of!(Stat, size),
    "st_blksize" => offset_of!(Stat, blksize),
    "st_blocks" => offset_of!(Stat, blocks),
    "st_atim" => offset_of!(Stat, times),
    "st_mtim" => offset_of!(Stat, times) + 16,
    "st_ctim" => offset_of!(Stat, times) + 32,
});

fn stat_of(inode: &Inode) -> Stat {
    let size = match &inode.kind {
        Kind::CharDev(d) => dev::size(*d),
        Kind::Proc(_) | Kind::Perf(_) | Kind::Pipe(_) => 0,
        _ => inode.size(),
    };
    Stat {
        dev: 1,
        ino: inode.ino,
        mode: inode.mode,
        nlink: inode.nlink.load(core::sync::atomic::Ordering::Relaxed).max(1) as u32,
        rdev: match inode.kind {
            Kind::CharDev(d) => d as u64,
            _ => 0,
        },
        size: size as i64,
        blksize: 4096,
        blocks: (size.div_ceil(512)) as i64,
        ..Default::default()
    }
}

pub fn fstat(fd: u64, buf: u64) -> SysResult {
    let f = file(fd)?;
    write_user(buf, &stat_of(&f.inode)).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

pub fn newfstatat(dirfd: u64, path: u64, buf: u64, flags: u64) -> SysResult {
    let raw = read_user_path(path)?;
    let inode = if raw.is_empty() && flags & AT_EMPTY_PATH != 0 {
        file(dirfd)?.inode.clone()
    } else {
        vfs::lookup(&user_path(dirfd, path)?)?
    };
    write_user(buf, &stat_of(&inode)).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

pub fn ftruncate(fd: u64, len: u64) -> SysResult {
    let f = file(fd)?;
    if (len as i64) < 0 || !f.writable() || !matches!(f.inode.kind, Kind::File) {
        return Err(Errno::EINVAL);
    }
    truncate(&f.inode, len);
    Ok(0)
}

/// Sets a file's size; mappings lose their pages beyond the new end.
fn truncate(inode: &Inode, len: u64) {
    let old = inode.size();
    inode.truncate(len);
    if len < old {
        let first = len.div_ceil(crate::mm::addr::PAGE_SIZE as u64);
        // Threads sharing an address space repeat the (idempotent) walk.
        for t in process::TABLE.lock().threads.values() {
            t.mm.lock().unmap_object_from(inode.ino, first);
        }
    }
}

pub fn unlinkat(dirfd: u64, path: u64, flags: u64) -> SysResult {
    let path = user_path(dirfd, path)?;
    let (dir, name) = vfs::parent_of(&path)?;
    vfs::unlink(&dir, &name, flags & AT_REMOVEDIR != 0)?;
    Ok(0)
}

pub fn mkdirat(dirfd: u64, path: u64, mode: u64) -> SysResult {
    let path = user_path(dirfd, path)?;
    let (dir, name) = vfs::parent_of(&path)?;
    vfs::link(&dir, &name, Inode::new_dir(mode as u32))?;
    Ok(0)
}

/// `getdents64(fd, buf, count)`: `struct linux_dirent64` records, as
/// Linux's fs/readdir.c writes them. Records go out one by one: the listing
/// stops at the first that does not fit in what is left of `count` (EINVAL
/// if not even the first fits) or whose copy faults (EFAULT if nothing was
/// copied), and the directory position moves past exactly the records
/// copied, so the next call goes on from the first one that did not make
/// it. As on Linux, `buf` is not checked as a whole up front: each record
/// is checked as it is written.
pub fn getdents64(fd: u64, buf: u64, count: u64) -> SysResult {
    // Where a record's fields are; the name follows the header.
    const D_INO: usize = 0;
    const D_OFF: usize = 8;
    const D_RECLEN: usize = 16;
    const D_TYPE: usize = 18;
    const D_NAME: usize = 19;
    crate::abi_layout!("linux_dirent64", {
        "d_ino" => D_INO,
        "d_off" => D_OFF,
        "d_reclen" => D_RECLEN,
        "d_type" => D_TYPE,
        "d_name" => D_NAME,
    });
    // Linux takes the count as an `unsigned int`.
    let count = count as u32 as usize;
    let f = file(fd)?;
    let Kind::Dir(entries) = &f.inode.kind else { return Err(Errno::ENOTDIR) };
    let start = *f.pos.lock();
    // Records are formatted into `batch` under the directory's lock, then
    // copied out one by one without it. A record is at most 280 bytes
    // (names have at most 255), so a batch always holds one.
    let mut batch = [0u8; 1024];
    let (mut done, mut copied) = (0usize, 0u64);
    let mut error = None;
    'fill: loop {
        let mut lens = [0u16; 1024 / 24];
        let (mut used, mut n, mut full) = (0usize, 0usize, false);
        {
            let dir = entries.lock();
            let first = usize::try_from(start + copied).unwrap_or(usize::MAX);
            for (name, node) in dir.iter().skip(first) {
                let reclen = (D_NAME + name.len() + 1).next_multiple_of(8);
                if done + used + reclen > count {
                    full = true;
                    break;
                }
                if used + reclen > batch.len() || n == lens.len() {
                    break;
                }
                let kind = match node.kind {
                    Kind::Dir(_) => 4,
                    Kind::CharDev(_) => 2,
                    Kind::Pipe(_) => 1,
                    _ => 8,
                };
                let idx = start + copied + n as u64;
                let rec = &mut batch[used..used + reclen];
                rec.fill(0);
                rec[D_INO..D_INO + 8].copy_from_slice(&node.ino.to_le_bytes());
                rec[D_OFF..D_OFF + 8].copy_from_slice(&(idx as i64 + 1).to_le_bytes());
                rec[D_RECLEN..D_RECLEN + 2].copy_from_slice(&(reclen as u16).to_le_bytes());
                rec[D_TYPE] = kind;
                rec[D_NAME..D_NAME + name.len()].copy_from_slice(name.as_bytes());
                lens[n] = reclen as u16;
                used += reclen;
                n += 1;
            }
        }
        if n == 0 {
            if full && done == 0 {
                error = Some(Errno::EINVAL);
            }
            break;
        }
        let mut at = 0;
        for &reclen in &lens[..n] {
            let reclen = reclen as usize;
            if copy_to_user(buf.wrapping_add(done as u64), &batch[at..at + reclen]).is_err() {
                error = Some(Errno::EFAULT);
                break 'fill;
            }
            at += reclen;
            done += reclen;
            copied += 1;
        }
        if full {
            break;
        }
    }
    *f.pos.lock() = start + copied;
    match error {
        Some(e) if done == 0 => Err(e),
        _ => Ok(done as u64),
    }
}

pub fn dup(fd: u64) -> SysResult {
    let f = file(fd)?;
    install_file(f, 0, false)
}

/// `dup3(old, new, flags)` (and `dup2` through it): `new` becomes a copy
/// of `old` with its own close-on-exec flag, closing what `new` was.
pub fn dup3(old: u64, new: u64, flags: u64) -> SysResult {
    // Linux's dup3 takes unsigned ints.
    let (old, new) = (old as u32 as u64, new as u32 as usize);
    let flags = flags as u32;
    if flags & !oflags::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    if old == new as u64 {
        return Err(Errno::EINVAL);
    }
    if new >= files::MAX_FDS {
        return Err(Errno::EBADF);
    }
    let f = file(old)?;
    let cloexec = flags & oflags::O_CLOEXEC != 0;
    let replaced = process::with_files(|files| files::install_at(files, f, new, cloexec))??;
    // What `new` was closes with the table let go.
    drop(replaced);
    Ok(new as u64)
}

/// `fcntl` commands (Linux's values).
mod fcntl_cmd {
    use linux_raw_sys::general as linux;

    pub const F_DUPFD: u64 = linux::F_DUPFD as u64;
    pub const F_GETFD: u64 = linux::F_GETFD as u64;
    pub const F_SETFD: u64 = linux::F_SETFD as u64;
    pub const F_GETFL: u64 = linux::F_GETFL as u64;
    pub const F_SETFL: u64 = linux::F_SETFL as u64;
    pub const F_DUPFD_CLOEXEC: u64 = linux::F_DUPFD_CLOEXEC as u64;
    pub const F_SETPIPE_SZ: u64 = linux::F_SETPIPE_SZ as u64;
    pub const F_GETPIPE_SZ: u64 = linux::F_GETPIPE_SZ as u64;
    /// The one descriptor flag.
    pub const FD_CLOEXEC: u64 = linux::FD_CLOEXEC as u64;
}

pub fn fcntl(fd: u64, cmd: u64, arg: u64) -> SysResult {
    use fcntl_cmd::*;
    // Linux takes the command as an unsigned int.
    let cmd = cmd as u32 as u64;
    let f = file(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            // Linux's f_dupfd takes the minimum as an unsigned int; one at or
            // above RLIMIT_NOFILE can never be satisfied: EINVAL, where
            // EMFILE means every slot from the minimum up is taken.
            let from = arg as u32 as usize;
            if from >= files::MAX_FDS {
                return Err(Errno::EINVAL);
            }
            install_file(f, from, cmd == F_DUPFD_CLOEXEC)
        }
        F_GETFD => {
            let on = process::with_files(|files| files::slot(files, fd).map(|s| s.cloexec))??;
            Ok(if on { FD_CLOEXEC } else { 0 })
        }
        F_SETFD => {
            process::with_files(|files| files::set_cloexec(files, fd, arg & FD_CLOEXEC != 0))??;
            Ok(0)
        }
        F_GETFL => Ok((f.flags() & !oflags::O_CLOEXEC) as u64),
        F_SETFL => {
            f.set_status_flags(arg as u32);
            Ok(0)
        }
        F_GETPIPE_SZ => Ok(f.inode.pipe().ok_or(Errno::EBADF)?.size()),
        F_SETPIPE_SZ => f.inode.pipe().ok_or(Errno::EBADF)?.set_size(arg as u32),
        _ => Err(Errno::EINVAL),
    }
}

/// `pipe2(fds, flags)`: a new pipe, its read end in `fds[0]` and its
/// write end in `fds[1]` (two ints). O_CLOEXEC and O_NONBLOCK are taken
/// (Linux's packet mode, O_DIRECT, is not: EINVAL like any other flag).
/// ENFILE if the pipe cannot be had (as Linux's `get_pipe_inode`); if
/// `fds` cannot be written, no descriptor stays open (EFAULT).
pub fn pipe2(fds: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    if flags & !(oflags::O_CLOEXEC | oflags::O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let inode = Inode::new_pipe(0o600).map_err(|_| Errno::ENFILE)?;
    let Some(pipe) = inode.pipe() else { return Err(Errno::ENFILE) };
    let nonblock = flags & oflags::O_NONBLOCK;
    pipe.attach(true, false);
    let r = OpenFile::new_pipe_end(inode.clone(), "pipe:", oflags::O_RDONLY | nonblock, 0);
    pipe.attach(false, true);
    let w = OpenFile::new_pipe_end(inode.clone(), "pipe:", oflags::O_WRONLY | nonblock, 0);
    let cloexec = flags & oflags::O_CLOEXEC != 0;
    let rfd = install_file(r, 0, cloexec)?;
    let wfd = match install_file(w, 0, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = close(rfd);
            return Err(e);
        }
    };
    if write_user(fds, &[rfd as i32, wfd as i32]).is_err() {
        let _ = close(rfd);
        let _ = close(wfd);
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

/// `mknodat(dirfd, path, mode, dev)`: a FIFO (`S_IFIFO`) or an empty
/// regular file (`S_IFREG` or no type). Device nodes and sockets are
/// EPERM (once the path is known to be free), a directory type EPERM and
/// an unknown type EINVAL, before the path is looked at, as Linux's
/// `may_mknod`.
pub fn mknodat(dirfd: u64, path: u64, mode: u64, _dev: u64) -> SysResult {
    const S_IFMT: u32 = 0o170000;
    const S_IFCHR: u32 = 0o020000;
    const S_IFBLK: u32 = 0o060000;
    const S_IFSOCK: u32 = 0o140000;
    const S_IFDIR: u32 = 0o040000;
    // Linux takes the mode as an unsigned short (umode_t).
    let mode = mode as u32 & 0o177777;
    let kind = mode & S_IFMT;
    match kind {
        0 | S_IFREG | S_IFIFO | S_IFCHR | S_IFBLK | S_IFSOCK => {}
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    let path = user_path(dirfd, path)?;
    let (dir, name) = vfs::parent_of(&path)?;
    let node = match kind {
        S_IFIFO => Inode::new_pipe(mode)?,
        0 | S_IFREG => Inode::new_file(mode),
        _ => {
            if dir.lookup(&name).is_some() {
                return Err(Errno::EEXIST);
            }
            return Err(Errno::EPERM);
        }
    };
    vfs::link(&dir, &name, node)?;
    Ok(0)
}

/// `getcwd(buf, size)`: ERANGE if the path and its NUL do not fit in
/// `size`; only those bytes are copied (and checked), as on Linux.
pub fn getcwd(buf: u64, size: u64) -> SysResult {
    let cwd = process::with_fs(|f| try_string(&f.cwd))??;
    let len = cwd.len() as u64 + 1;
    if size < len {
        return Err(Errno::ERANGE);
    }
    if !access_ok(buf, len) {
        return Err(Errno::EFAULT);
    }
    copy_to_user(buf, cwd.as_bytes()).map_err(|_| Errno::EFAULT)?;
    copy_to_user(buf + len - 1, &[0]).map_err(|_| Errno::EFAULT)?;
    Ok(len)
}

pub fn chdir(path: u64) -> SysResult {
    let path = user_path(AT_FDCWD as u64, path)?;
    if !vfs::lookup(&path)?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    process::with_fs(|f| f.cwd = path)?;
    Ok(0)
}

/// `readlinkat(dirfd, path, buf, size)`: a size of zero or less (an
/// `int` in Linux) is EINVAL before the path is looked up; armmap's file
/// system has no symbolic links, so an existing path is EINVAL too.
pub fn readlinkat(dirfd: u64, path: u64, _buf: u64, size: u64) -> SysResult {
    if size as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    vfs::lookup(&user_path(dirfd, path)?)?;
    Err(Errno::EINVAL)
}

pub fn faccessat(dirfd: u64, path: u64, _mode: u64) -> SysResult {
    vfs::lookup(&user_path(dirfd, path)?)?;
    Ok(0)
}

/// `ioctl(fd, req, arg)`: perf events' own requests; FIONREAD on a pipe
/// (bytes waiting) or a regular file (bytes after the position); and the
/// requests Linux answers for every file: FIOCLEX/FIONCLEX (the
/// descriptor's close-on-exec flag) and FIONBIO (O_NONBLOCK from an int).
/// Anything else is ENOTTY.
pub fn ioctl(fd: u64, req: u64, arg: u64) -> SysResult {
    use linux_raw_sys::ioctl::{FIOCLEX, FIONBIO, FIONCLEX, FIONREAD};
    let f = file(fd)?;
    // Linux takes the request as an unsigned int.
    match req as u32 {
        FIOCLEX | FIONCLEX => {
            process::with_files(|files| files::set_cloexec(files, fd, req as u32 == FIOCLEX))??;
            return Ok(0);
        }
        FIONBIO => {
            let on: i32 = read_user(arg).map_err(|_| Errno::EFAULT)?;
            let fl = f.flags();
            f.set_status_flags(if on != 0 { fl | oflags::O_NONBLOCK } else { fl & !oflags::O_NONBLOCK });
            return Ok(0);
        }
        FIONREAD if matches!(f.inode.kind, Kind::File | Kind::Pipe(_)) => {
            let n = match f.inode.pipe() {
                Some(p) => p.available() as u64,
                None => f.inode.size().wrapping_sub(*f.pos.lock()),
            };
            write_user(arg, &(n as i32)).map_err(|_| Errno::EFAULT)?;
            return Ok(0);
        }
        _ => {}
    }
    match f.inode.kind {
        Kind::Perf(id) => {
            process::with_current(|p| crate::task::perf::ioctl(&mut p.perf, id, req))??;
            Ok(0)
        }
        Kind::CharDev(dev::DEV_CONSOLE) => crate::fs::tty::ioctl(req, arg),
        _ => Err(Errno::ENOTTY),
    }
}

/// `perf_event_open(attr, pid, cpu, group_fd, flags)`.
pub fn perf_event_open(attr: u64, pid: u64, cpu: u64, group_fd: u64, flags: u64) -> SysResult {
    const PERF_FLAG_FD_CLOEXEC: u64 = 8;
    // The words of perf_event_attr read: type (the low half of the first;
    // size, the high half, is not looked at), config, and the flag bits.
    const TYPE: usize = 0;
    const CONFIG: usize = 1;
    const FLAGS: usize = 5;
    crate::abi_layout!("perf_event_attr", {
        "type" => TYPE * 8,
        "size" => TYPE * 8 + 4,
        "config" => CONFIG * 8,
        "flags" => FLAGS * 8,
    });
    let raw: [u64; FLAGS + 1] = crate::arch::aarch64::uaccess::read_user(attr).map_err(|_| Errno::EFAULT)?;
    let a = crate::task::perf::Attr { kind: raw[TYPE] as u32, config: raw[CONFIG], flags: raw[FLAGS] };
    let me = sched::current();
    if (pid as i32 != 0 && pid as u32 != me) || (cpu as i32 != -1 && cpu != 0) || group_fd as i32 != -1 {
        return Err(Errno::EINVAL);
    }
    if flags & !PERF_FLAG_FD_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    static NEXT_ID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);
    let id = NEXT_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let oflags =
        if flags & PERF_FLAG_FD_CLOEXEC != 0 { oflags::O_RDONLY | oflags::O_CLOEXEC } else { oflags::O_RDONLY };
    process::with_current(|t| crate::task::perf::open(&mut t.perf, &a, id))??;
    let file = OpenFile::new(Inode::new_perf(id), "anon_inode:[perf_event]", oflags);
    let fd = process::with_files(|files| files::install(files, file, 0))?;
    if fd.is_err() {
        process::with_current(|t| crate::task::perf::close(&mut t.perf, id))?;
    }
    fd
}

pub fn fsync(fd: u64) -> SysResult {
    file(fd)?;
    Ok(0)
}

/// `umask(mask)`: sets the file-creation mask; returns the old one.
pub fn umask(mask: u64) -> SysResult {
    process::with_fs(|f| core::mem::replace(&mut f.umask, (mask & 0o777) as u32) as u64)
}
