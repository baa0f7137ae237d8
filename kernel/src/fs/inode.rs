//! Inodes of armmap's RAM file system, and the page cache.
//!
//! A regular file's data lives in *page-cache frames*: page N of the file is
//! the frame `pages[N]`. `read` and `write` copy to and from those frames,
//! and a shared mapping of the file maps the very same frames (see
//! [`FileBacking`]), so stores through a mapping and `write` see each other
//! at once, as on Linux. Pages never written read as zeros and take no
//! frame (sparse files). The file keeps its frames while anything holds the
//! inode: an open file, a mapping, or a directory entry.
//!
//! The frames are indexed by a [`PageMap`], whose nodes are allocated
//! fallibly: a file that cannot grow any more (no frame, no node) makes
//! `write` return what it wrote so far, or ENOSPC, never a kernel panic.

use super::pagemap::PageMap;
use crate::mm::addr::{PhysAddr, PAGE_SIZE};
use crate::mm::backing::{frame_ops, Backing, BackingError, PageFrame};
use crate::mm::phys_to_virt;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

/// What an inode is.
pub enum Kind {
    File,
    Dir(Mutex<BTreeMap<String, Arc<Inode>>>),
    /// A character device; the number selects the driver (see `fs::dev`).
    CharDev(u32),
    /// A generated file under /proc; the number selects the generator.
    Proc(u32),
    /// A `perf_event_open` event of the process that opened it (its id).
    Perf(u32),
    /// A pipe (`pipe2`) or FIFO (`mknod` with `S_IFIFO`).
    Pipe(super::pipe::Pipe),
}

/// A file's data: its size and page-cache frames.
///
/// Invariant: every frame in `pages` carries one reference owned by the
/// inode; no page at or beyond `size` rounded up to a page is present.
/// A page's dirty bit says it was written since the last msync (through
/// `write` or a shared mapping).
#[derive(Default)]
pub struct Data {
    pub size: u64,
    pub pages: PageMap,
}

impl Data {
    /// The frame of page `page`, allocating a zeroed one (and its slot in
    /// the index) if the page has none yet.
    fn frame_of(&mut self, page: u64) -> Result<PhysAddr, BackingError> {
        if let Some(pa) = self.pages.get(page) {
            return Ok(pa);
        }
        if !crate::mm::kernel_has_room() {
            return Err(BackingError::OutOfMemory);
        }
        let ops = frame_ops();
        let pa = ops.alloc_zeroed().ok_or(BackingError::OutOfMemory)?;
        if self.pages.insert(page, pa).is_err() {
            ops.put(pa);
            return Err(BackingError::OutOfMemory);
        }
        Ok(pa)
    }
}

/// A file, directory or device node.
pub struct Inode {
    pub ino: u64,
    /// Permission bits and type, as in `st_mode`.
    pub mode: u32,
    pub kind: Kind,
    pub data: Mutex<Data>,
    /// Directory entries pointing here (0 after unlink).
    pub nlink: AtomicU64,
}

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

pub const S_IFREG: u32 = 0o100000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

impl Inode {
    fn with(kind: Kind, mode: u32) -> Arc<Inode> {
        Arc::new(Inode {
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            mode,
            kind,
            data: Mutex::new(Data::default()),
            nlink: AtomicU64::new(1),
        })
    }

    pub fn new_file(perm: u32) -> Arc<Inode> {
        Self::with(Kind::File, S_IFREG | (perm & 0o7777))
    }

    pub fn new_dir(perm: u32) -> Arc<Inode> {
        Self::with(Kind::Dir(Mutex::new(BTreeMap::new())), S_IFDIR | (perm & 0o7777))
    }

    pub fn new_chardev(dev: u32, perm: u32) -> Arc<Inode> {
        Self::with(Kind::CharDev(dev), S_IFCHR | (perm & 0o7777))
    }

    pub fn new_proc(which: u32) -> Arc<Inode> {
        Self::with(Kind::Proc(which), S_IFREG | 0o444)
    }

    pub fn new_perf(id: u32) -> Arc<Inode> {
        Self::with(Kind::Perf(id), 0o600)
    }

    /// A pipe or FIFO with permission bits `perm`; ENOMEM if its buffer's
    /// index cannot be had.
    pub fn new_pipe(perm: u32) -> Result<Arc<Inode>, crate::errno::Errno> {
        let pipe = super::pipe::Pipe::new()?;
        Ok(Self::with(Kind::Pipe(pipe), S_IFIFO | (perm & 0o7777)))
    }

    /// The pipe this inode is, if it is one.
    pub fn pipe(&self) -> Option<&super::pipe::Pipe> {
        match &self.kind {
            Kind::Pipe(p) => Some(p),
            _ => None,
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    /// The file size in bytes.
    pub fn size(&self) -> u64 {
        self.data.lock().size
    }

    /// Looks up a directory entry.
    pub fn lookup(&self, name: &str) -> Option<Arc<Inode>> {
        match &self.kind {
            Kind::Dir(d) => d.lock().get(name).cloned(),
            _ => None,
        }
    }

    /// Reads from a regular file at `off`; returns the bytes read.
    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        let data = self.data.lock();
        if off >= data.size {
            return 0;
        }
        let n = buf.len().min((data.size - off) as usize);
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let (page, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let chunk = (PAGE_SIZE - in_page).min(n - done);
            match data.pages.get(page) {
                Some(pa) => {
                    let src = (phys_to_virt(pa).as_u64() as *const u8).wrapping_add(in_page);
                    // SAFETY: pa is a page-cache frame owned by this inode,
                    // reachable through the linear map; chunk stays in the page.
                    unsafe { core::ptr::copy_nonoverlapping(src, buf[done..].as_mut_ptr(), chunk) };
                }
                None => buf[done..done + chunk].fill(0),
            }
            done += chunk;
        }
        n
    }

    /// Writes to a regular file at `off`, growing it; returns the bytes
    /// written, fewer than `buf.len()` if memory ran out on the way, and
    /// `Err` only if not even the first page could be had.
    pub fn write_at(&self, off: u64, buf: &[u8]) -> Result<usize, BackingError> {
        let mut data = self.data.lock();
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let (page, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let chunk = (PAGE_SIZE - in_page).min(buf.len() - done);
            let pa = match data.frame_of(page) {
                Ok(pa) => pa,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let dst = (phys_to_virt(pa).as_u64() as *mut u8).wrapping_add(in_page);
            // SAFETY: pa is a page-cache frame owned by this inode; the copy
            // stays inside the page.
            unsafe { core::ptr::copy_nonoverlapping(buf[done..].as_ptr(), dst, chunk) };
            data.pages.set_dirty(page, true);
            done += chunk;
            data.size = data.size.max(pos + chunk as u64);
        }
        Ok(done)
    }

    /// Sets the size; pages wholly beyond the new end are dropped and the
    /// tail of the last page is zeroed.
    pub fn truncate(&self, size: u64) {
        let mut data = self.data.lock();
        let keep = size.div_ceil(PAGE_SIZE as u64);
        let ops = frame_ops();
        data.pages.drain_from(keep, |_, pa| ops.put(pa));
        if !size.is_multiple_of(PAGE_SIZE as u64) {
            if let Some(pa) = data.pages.get(size / PAGE_SIZE as u64) {
                let from = (size % PAGE_SIZE as u64) as usize;
                let p = (phys_to_virt(pa).as_u64() as *mut u8).wrapping_add(from);
                // SAFETY: zeroes the rest of a page-cache frame owned by this inode.
                unsafe { core::ptr::write_bytes(p, 0, PAGE_SIZE - from) };
            }
        }
        data.size = size;
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let ops = frame_ops();
        self.data.lock().pages.drain_from(0, |_, pa| ops.put(pa));
    }
}

/// A regular file as the backing of a mapping: its page-cache frames.
pub struct FileBacking {
    pub inode: Arc<Inode>,
    pub path: Arc<str>,
}

impl Backing for FileBacking {
    fn kind_name(&self) -> &'static str {
        "file"
    }

    fn page(&self, pgoff: u64, _store: bool) -> Result<PageFrame, BackingError> {
        let mut data = self.inode.data.lock();
        // A page wholly past the end of the file: SIGBUS, as on Linux.
        if pgoff >= data.size.div_ceil(PAGE_SIZE as u64) {
            return Err(BackingError::BeyondEnd);
        }
        let pa = data.frame_of(pgoff)?;
        frame_ops().get(pa);
        Ok(PageFrame::Shared(pa))
    }

    fn tracks_dirty(&self) -> bool {
        true
    }

    fn ino(&self) -> u64 {
        self.inode.ino
    }

    fn mark_dirty(&self, pgoff: u64) {
        self.inode.data.lock().pages.set_dirty(pgoff, true);
    }

    fn write_back(&self, pgoff: u64) {
        // The page cache is the file: nothing to copy, only the state to clear.
        self.inode.data.lock().pages.set_dirty(pgoff, false);
    }

    fn present_page(&self, pgoff: u64) -> Option<PageFrame> {
        let data = self.inode.data.lock();
        if pgoff >= data.size.div_ceil(PAGE_SIZE as u64) {
            return None;
        }
        let pa = data.pages.get(pgoff)?;
        frame_ops().get(pa);
        Some(PageFrame::Shared(pa))
    }
}
