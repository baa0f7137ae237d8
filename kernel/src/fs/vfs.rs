//! The directory tree, path lookup and open files.
//!
//! One RAM file system holds everything: the initramfs contents (unpacked
//! at boot, writable), device nodes under `/dev` and generated files under
//! `/proc`. Paths are resolved component by component from the root or the
//! process's working directory; `.` and `..` are understood.

use super::inode::{Inode, Kind};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::{Mutex, Once};

pub use super::path::normalize;

static ROOT: Once<Arc<Inode>> = Once::new();

/// The root directory.
pub fn root() -> Arc<Inode> {
    ROOT.call_once(|| Inode::new_dir(0o755)).clone()
}

/// Resolves an absolute, normalised path.
pub fn lookup(path: &str) -> Result<Arc<Inode>, Errno> {
    let mut node = root();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        node = node.lookup(part).ok_or(Errno::ENOENT)?;
    }
    Ok(node)
}

/// Longest name of one directory entry (Linux's `NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Splits a normalised path into its parent directory and last component.
pub fn parent_of(path: &str) -> Result<(Arc<Inode>, String), Errno> {
    let (dir, name) = path.rsplit_once('/').ok_or(Errno::EINVAL)?;
    if name.is_empty() {
        return Err(Errno::EEXIST);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let parent = lookup(if dir.is_empty() { "/" } else { dir })?;
    if !parent.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut last = String::new();
    last.try_reserve_exact(name.len()).map_err(|_| Errno::ENOMEM)?;
    last.push_str(name);
    Ok((parent, last))
}

/// Adds `node` as `name` in directory `dir`; ENOSPC when the kernel has no
/// room for more files (as tmpfs says when it is full).
pub fn link(dir: &Inode, name: &str, node: Arc<Inode>) -> Result<(), Errno> {
    match &dir.kind {
        Kind::Dir(_) if !crate::mm::kernel_has_room() => Err(Errno::ENOSPC),
        Kind::Dir(entries) => {
            let mut key = String::new();
            key.try_reserve_exact(name.len()).map_err(|_| Errno::ENOMEM)?;
            key.push_str(name);
            let mut e = entries.lock();
            if e.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            e.insert(key, node);
            Ok(())
        }
        _ => Err(Errno::ENOTDIR),
    }
}

/// Creates every missing directory of `path` and returns the last one.
pub fn mkdir_all(path: &str) -> Arc<Inode> {
    let mut node = root();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        node = match node.lookup(part) {
            Some(n) => n,
            None => {
                let d = Inode::new_dir(0o755);
                let _ = link(&node, part, d.clone());
                d
            }
        };
    }
    node
}

/// Removes entry `name` from `dir`; directories only when `dir_wanted`.
pub fn unlink(dir: &Inode, name: &str, dir_wanted: bool) -> Result<(), Errno> {
    let Kind::Dir(entries) = &dir.kind else { return Err(Errno::ENOTDIR) };
    let mut e = entries.lock();
    let node = e.get(name).ok_or(Errno::ENOENT)?;
    match (&node.kind, dir_wanted) {
        (Kind::Dir(sub), true) if !sub.lock().is_empty() => return Err(Errno::ENOTEMPTY),
        (Kind::Dir(_), true) => {}
        (Kind::Dir(_), false) => return Err(Errno::EISDIR),
        (_, true) => return Err(Errno::ENOTDIR),
        _ => {}
    }
    if let Some(node) = e.remove(name) {
        node.nlink.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

/// Unpacks a newc cpio archive into the tree; returns the number of files
/// (hard links included: entries sharing an inode number, as Linux's
/// unpacker links them).
pub fn unpack_initramfs(archive: &[u8]) -> Result<usize, super::cpio::CpioError> {
    let mut files = 0;
    // Files with more than one link, by inode number, for their later links.
    let mut links: alloc::vec::Vec<(u32, Arc<Inode>)> = alloc::vec::Vec::new();
    for entry in super::cpio::entries(archive) {
        let entry = entry?;
        if entry.name.is_empty() {
            continue;
        }
        let Ok(path) = normalize("/", entry.name) else {
            log::error!("initramfs: out of memory at {}", entry.name);
            break;
        };
        if path.split('/').any(|part| part.len() > NAME_MAX) {
            log::error!("initramfs: {path}: a name longer than {NAME_MAX} bytes, skipped");
            continue;
        }
        if entry.is_dir() {
            mkdir_all(&path);
        } else if entry.is_file() {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
            let parent = mkdir_all(dir);
            // A hard link (same ino, nlink >= 2) to a file already unpacked
            // shares its inode; its data, if it carries any, goes there.
            let earlier = (entry.nlink >= 2).then(|| links.iter().find(|(ino, _)| *ino == entry.ino)).flatten();
            let node = match earlier {
                Some((_, node)) => node.clone(),
                None => Inode::new_file(entry.mode),
            };
            if !entry.data.is_empty() || earlier.is_none() {
                if node.write_at(0, entry.data) != Ok(entry.data.len()) {
                    log::error!("initramfs: out of memory unpacking {path}");
                    break;
                }
                node.data.lock().pages.clear_dirty();
            }
            if earlier.is_some() {
                if link(&parent, name, node.clone()).is_ok() {
                    node.nlink.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
                }
            } else {
                if entry.nlink >= 2 && links.try_reserve(1).is_ok() {
                    links.push((entry.ino, node.clone()));
                }
                let _ = link(&parent, name, node);
            }
            files += 1;
        }
    }
    Ok(files)
}

/// Flags an open file keeps (O_* values of Linux aarch64, from
/// linux_raw_sys: this module is built for arm64 only, where the crate's
/// values are arm64's; O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE
/// differ on x86_64).
pub mod oflags {
    use linux_raw_sys::general as linux;

    pub const O_ACCMODE: u32 = linux::O_ACCMODE;
    pub const O_RDONLY: u32 = linux::O_RDONLY;
    pub const O_WRONLY: u32 = linux::O_WRONLY;
    pub const O_RDWR: u32 = linux::O_RDWR;
    pub const O_CREAT: u32 = linux::O_CREAT;
    pub const O_EXCL: u32 = linux::O_EXCL;
    pub const O_TRUNC: u32 = linux::O_TRUNC;
    pub const O_APPEND: u32 = linux::O_APPEND;
    pub const O_NONBLOCK: u32 = linux::O_NONBLOCK;
    pub const O_DIRECTORY: u32 = linux::O_DIRECTORY;
    pub const O_CLOEXEC: u32 = linux::O_CLOEXEC;
}

/// An open file: an inode, a position and the open flags. Shared by
/// descriptors duplicated with `dup` or inherited through `fork`.
///
/// Invariant: an open file of a pipe counts as one of its readers and/or
/// writers (by its access mode) from its creation until it is dropped.
pub struct OpenFile {
    pub inode: Arc<Inode>,
    /// The path it was opened by (for `/proc/self/maps`).
    pub path: Arc<str>,
    /// The open flags; O_NONBLOCK and O_APPEND change with `F_SETFL`.
    flags: AtomicU32,
    pub pos: Mutex<u64>,
    /// For a FIFO opened for reading: the writer count it saw at open
    /// without a writer, before which it reports no POLLHUP (0 otherwise).
    pub hup_after: u32,
}

impl OpenFile {
    pub fn new(inode: Arc<Inode>, path: &str, flags: u32) -> Arc<OpenFile> {
        Self::new_pipe_end(inode, path, flags, 0)
    }

    /// An open file for an inode that counts its openers (a pipe: the
    /// caller has counted this one), with `hup_after` as the pipe said.
    pub fn new_pipe_end(inode: Arc<Inode>, path: &str, flags: u32, hup_after: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile { inode, path: Arc::from(path), flags: AtomicU32::new(flags), pos: Mutex::new(0), hup_after })
    }

    /// The open flags as they are now.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Replaces the flags `F_SETFL` may change (O_APPEND, O_NONBLOCK).
    pub fn set_status_flags(&self, arg: u32) {
        let changeable = oflags::O_APPEND | oflags::O_NONBLOCK;
        let old = self.flags();
        self.flags.store((old & !changeable) | (arg & changeable), Ordering::Relaxed);
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & oflags::O_NONBLOCK != 0
    }

    pub fn readable(&self) -> bool {
        self.flags() & oflags::O_ACCMODE != oflags::O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags() & oflags::O_ACCMODE != oflags::O_RDONLY
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        // Callers drop open files without the process table locked: the
        // pipe wakes its waiters here.
        if let Some(p) = self.inode.pipe() {
            p.release(self.readable(), self.writable());
        }
    }
}
