//! Inodes of armmap's RAM file system, and the page cache.
//!
//! A regular file's data lives in *page-cache frames*: page N of the file is
//! the frame `pages[N]`. `read` and `write` copy to and from those frames,
//! and a shared mapping of the file maps the very same frames (see
//! [`FileBacking`]), so stores through a mapping and `write` see each other
//! at once, as on Linux. Pages never written read as zeros and take no
//! frame (sparse files). The file keeps its frames while anything holds the
//! inode: an open file, a mapping, or a directory entry.

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
}

/// A file's data: its size and page-cache frames.
///
/// Invariant: every frame in `pages` carries one reference owned by the
/// inode; no page at or beyond `size` rounded up to a page is present.
#[derive(Default)]
pub struct Data {
    pub size: u64,
    pub pages: BTreeMap<u64, PhysAddr>,
    /// Pages written since the last msync (through `write` or a shared mapping).
    pub dirty: alloc::collections::BTreeSet<u64>,
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
            match data.pages.get(&page) {
                Some(&pa) => {
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

    /// Writes to a regular file at `off`, growing it; returns the bytes written.
    pub fn write_at(&self, off: u64, buf: &[u8]) -> Result<usize, BackingError> {
        let mut data = self.data.lock();
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let (page, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let chunk = (PAGE_SIZE - in_page).min(buf.len() - done);
            let pa = match data.pages.get(&page) {
                Some(&pa) => pa,
                None => {
                    let pa = frame_ops().alloc_zeroed().ok_or(BackingError::OutOfMemory)?;
                    data.pages.insert(page, pa);
                    pa
                }
            };
            let dst = (phys_to_virt(pa).as_u64() as *mut u8).wrapping_add(in_page);
            // SAFETY: pa is a page-cache frame owned by this inode; the copy
            // stays inside the page.
            unsafe { core::ptr::copy_nonoverlapping(buf[done..].as_ptr(), dst, chunk) };
            data.dirty.insert(page);
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
        let gone: alloc::vec::Vec<u64> = data.pages.range(keep..).map(|(k, _)| *k).collect();
        for k in gone {
            let pa = data.pages.remove(&k).unwrap();
            data.dirty.remove(&k);
            frame_ops().put(pa);
        }
        if !size.is_multiple_of(PAGE_SIZE as u64) {
            if let Some(&pa) = data.pages.get(&(size / PAGE_SIZE as u64)) {
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
        for (_, pa) in core::mem::take(&mut self.data.lock().pages) {
            frame_ops().put(pa);
        }
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
        let ops = frame_ops();
        let mut data = self.inode.data.lock();
        // A page wholly past the end of the file: SIGBUS, as on Linux.
        if pgoff >= data.size.div_ceil(PAGE_SIZE as u64) {
            return Err(BackingError::BeyondEnd);
        }
        let pa = match data.pages.get(&pgoff) {
            Some(&pa) => pa,
            None => {
                let pa = ops.alloc_zeroed().ok_or(BackingError::OutOfMemory)?;
                data.pages.insert(pgoff, pa);
                pa
            }
        };
        ops.get(pa);
        Ok(PageFrame::Shared(pa))
    }

    fn tracks_dirty(&self) -> bool {
        true
    }

    fn ino(&self) -> u64 {
        self.inode.ino
    }

    fn mark_dirty(&self, pgoff: u64) {
        self.inode.data.lock().dirty.insert(pgoff);
    }

    fn write_back(&self, pgoff: u64) {
        // The page cache is the file: nothing to copy, only the state to clear.
        self.inode.data.lock().dirty.remove(&pgoff);
    }

    fn present_page(&self, pgoff: u64) -> Option<PageFrame> {
        let data = self.inode.data.lock();
        if pgoff >= data.size.div_ceil(PAGE_SIZE as u64) {
            return None;
        }
        let pa = *data.pages.get(&pgoff)?;
        frame_ops().get(pa);
        Some(PageFrame::Shared(pa))
    }
}
