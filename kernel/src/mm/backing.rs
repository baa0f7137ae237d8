//! Backings: the objects whose pages a mapping shows.
//!
//! One question drives both ways of building page tables: *which physical
//! frame holds page N of this object?* The [`Backing`] trait answers it, and
//! the rest of the mapper never asks what kind of object it is talking to:
//!
//! - the **fault path** (lazy fill, like a driver's `.fault`/`nopage` hook)
//!   asks for one page when the process touches it;
//! - the **eager path** (one-pass remap, like `remap_pfn_range`) asks for
//!   every page at `mmap` time when [`Backing::map_eagerly`] says so.
//!
//! Implementations here: [`ZeroFill`] (private anonymous memory: a fresh
//! zeroed frame per page), [`SharedAnon`] (shared anonymous memory: frames
//! kept by the object so every mapper sees the same ones), [`PhysRange`]
//! (device memory: a fixed physical range, no frames allocated),
//! [`PinnedFrames`] (frames the kernel keeps for good and shows to every
//! process: the vDSO). Files add their page cache in `fs`.

use super::addr::{PhysAddr, PAGE_SIZE};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// How the CPU may cache a mapping's memory (selects the MAIR index).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Normal write-back memory.
    Cached,
    /// Normal non-cacheable memory (write-combining).
    WriteCombine,
    /// Device-nGnRE: no caching, no merging, no speculation.
    Device,
}

/// Frame services a backing needs (the frame allocator, reached through the
/// linear map on the target, simulated on the host).
pub trait FrameOps: Sync {
    /// A new zero-filled frame with reference count 1.
    fn alloc_zeroed(&self) -> Option<PhysAddr>;
    /// Takes one more reference on a frame.
    fn get(&self, pa: PhysAddr);
    /// Drops a reference; the frame is freed when none is left.
    fn put(&self, pa: PhysAddr);
    /// The shared, always-zero frame (with one more reference taken), if
    /// there is one: what a load from untouched anonymous memory maps.
    fn zero_page(&self) -> Option<PhysAddr> {
        None
    }
}

/// What a backing provides for one page.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PageFrame {
    /// A frame that belongs to the object (shared anonymous page, page cache):
    /// the backing took one reference for the new mapping.
    Shared(PhysAddr),
    /// A fresh frame owned by the mapping alone (reference count 1).
    Private(PhysAddr),
    /// Physical memory outside the frame allocator (device memory): mapped,
    /// never reference counted or freed.
    Device(PhysAddr),
}

impl PageFrame {
    pub fn addr(self) -> PhysAddr {
        match self {
            PageFrame::Shared(a) | PageFrame::Private(a) | PageFrame::Device(a) => a,
        }
    }
}

/// Why a backing could not provide a page.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BackingError {
    /// No free frame: the faulting process gets SIGBUS (Linux: VM_FAULT_OOM kills).
    OutOfMemory,
    /// The page lies beyond the end of the object: SIGBUS.
    BeyondEnd,
}

/// An object that can appear in a mapping.
pub trait Backing: Send + Sync {
    /// Short name for traces and dumps: "anon", "shmem", "file", "device".
    fn kind_name(&self) -> &'static str;

    /// The frame for page `pgoff` of the object. `store` says whether the
    /// access that needs it is a store (anonymous memory can answer a load
    /// with the shared zero page).
    fn page(&self, pgoff: u64, store: bool) -> Result<PageFrame, BackingError>;

    /// A frame for `pgoff` only if the object already has one (no allocation,
    /// no I/O): what fault-around may map for free.
    fn present_page(&self, _pgoff: u64) -> Option<PageFrame> {
        None
    }

    /// Whether `mmap` should build every entry at once (one-pass remap)
    /// instead of leaving pages to the fault handler.
    fn map_eagerly(&self) -> bool {
        false
    }

    /// How the mapping's memory is cached.
    fn cache_mode(&self) -> CacheMode {
        CacheMode::Cached
    }

    /// Anonymous memory (areas of it may merge; `/proc/self/maps` shows no file).
    fn is_anonymous(&self) -> bool {
        false
    }

    /// The inode number `/proc/self/maps` shows (0 for anonymous memory).
    fn ino(&self) -> u64 {
        0
    }

    /// Raw physical memory (Linux's VM_PFNMAP): no page is the object's to
    /// drop or fault in ahead (`madvise` refuses such areas).
    fn is_device(&self) -> bool {
        false
    }

    /// Whether the object wants to know about the first store to each page
    /// of a shared mapping (files: for `msync`); its clean pages are then
    /// mapped read-only and [`mark_dirty`](Self::mark_dirty) is called on
    /// the write fault.
    fn tracks_dirty(&self) -> bool {
        false
    }

    /// Records that page `pgoff` was written through a shared mapping.
    fn mark_dirty(&self, _pgoff: u64) {}

    /// Writes page `pgoff` back to the object's store and marks it clean.
    fn write_back(&self, _pgoff: u64) {}

    /// Physical address of page `pgoff` when the object is physically
    /// contiguous (lets the eager path use block descriptors).
    fn contiguous(&self, _pgoff: u64) -> Option<PhysAddr> {
        None
    }

    /// How many pages from `pgoff` on are physically contiguous (0 when
    /// [`contiguous`](Self::contiguous) gives nothing).
    fn contiguous_pages(&self, pgoff: u64) -> u64 {
        u64::from(self.contiguous(pgoff).is_some())
    }
}

/// Private anonymous memory: every page starts as a new zeroed frame.
pub struct ZeroFill;

static ZERO_FILL: spin::Once<Arc<dyn Backing>> = spin::Once::new();

/// The one `ZeroFill` object every private anonymous area shares (so
/// neighbouring areas can merge).
pub fn zero_fill() -> Arc<dyn Backing> {
    ZERO_FILL.call_once(|| Arc::new(ZeroFill)).clone()
}

/// The frame services the backings use; set once at boot (`set_frame_ops`).
static FRAME_OPS: spin::Once<&'static dyn FrameOps> = spin::Once::new();

/// Installs the frame services (the kernel's frame allocator).
pub fn set_frame_ops(ops: &'static dyn FrameOps) {
    FRAME_OPS.call_once(|| ops);
}

/// The installed frame services.
pub fn frame_ops() -> &'static dyn FrameOps {
    *FRAME_OPS.get().expect("frame services not installed")
}

impl Backing for ZeroFill {
    fn kind_name(&self) -> &'static str {
        "anon"
    }
    fn page(&self, _pgoff: u64, store: bool) -> Result<PageFrame, BackingError> {
        let ops = frame_ops();
        // A load maps the shared zero page, as Linux does: no frame is spent
        // until the first store (which then copies: see fault.rs).
        if !store {
            if let Some(zero) = ops.zero_page() {
                return Ok(PageFrame::Shared(zero));
            }
        }
        ops.alloc_zeroed().map(PageFrame::Private).ok_or(BackingError::OutOfMemory)
    }
    fn is_anonymous(&self) -> bool {
        true
    }
}

/// Shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`): the object keeps
/// one reference on each page it has handed out, so every process mapping
/// it (after `fork`, for instance) sees the same frames.
///
/// Invariant: each frame in `pages` carries one reference owned by the object.
#[derive(Default)]
pub struct SharedAnon {
    pages: Mutex<BTreeMap<u64, PhysAddr>>,
}

impl SharedAnon {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

impl Backing for SharedAnon {
    fn kind_name(&self) -> &'static str {
        "shmem"
    }
    fn page(&self, pgoff: u64, _store: bool) -> Result<PageFrame, BackingError> {
        let ops = frame_ops();
        let mut pages = self.pages.lock();
        let pa = match pages.get(&pgoff) {
            Some(&pa) => pa,
            None => {
                let pa = ops.alloc_zeroed().ok_or(BackingError::OutOfMemory)?;
                pages.insert(pgoff, pa);
                pa
            }
        };
        ops.get(pa);
        Ok(PageFrame::Shared(pa))
    }
    fn present_page(&self, pgoff: u64) -> Option<PageFrame> {
        let pa = *self.pages.lock().get(&pgoff)?;
        frame_ops().get(pa);
        Some(PageFrame::Shared(pa))
    }
    fn is_anonymous(&self) -> bool {
        true
    }
}

impl Drop for SharedAnon {
    fn drop(&mut self) {
        if let Some(ops) = FRAME_OPS.get() {
            for (_, pa) in core::mem::take(&mut *self.pages.lock()) {
                ops.put(pa);
            }
        }
    }
}

/// Frames the kernel owns for good and hands to every process that maps the
/// object: the vDSO's code and its data page. Every mapping sees the same
/// frames, as with [`SharedAnon`], but the object is never freed.
///
/// Invariant: the kernel holds one reference on each frame in `frames` and
/// never drops it, so the frames are never freed or handed out again,
/// whatever mappings come and go; each page-table entry holds a reference
/// of its own, as for any shared frame, and gives it back when unmapped.
/// Because the count never falls to one, a private mapping made writable
/// (`mprotect`) copies a frame on the first store instead of changing it.
pub struct PinnedFrames {
    frames: Vec<PhysAddr>,
    name: &'static str,
}

impl PinnedFrames {
    /// `frames` must carry the kernel's own reference, kept for ever.
    pub fn new(frames: Vec<PhysAddr>, name: &'static str) -> Self {
        Self { frames, name }
    }

    /// Number of pages.
    pub fn pages(&self) -> u64 {
        self.frames.len() as u64
    }
}

impl Backing for PinnedFrames {
    fn kind_name(&self) -> &'static str {
        self.name
    }
    fn page(&self, pgoff: u64, _store: bool) -> Result<PageFrame, BackingError> {
        self.present_page(pgoff).ok_or(BackingError::BeyondEnd)
    }
    fn present_page(&self, pgoff: u64) -> Option<PageFrame> {
        let pa = *self.frames.get(usize::try_from(pgoff).ok()?)?;
        frame_ops().get(pa);
        Some(PageFrame::Shared(pa))
    }
}

/// A physical range that is not managed by the frame allocator, such as the
/// reserved `memdev` buffer or device registers.
///
/// Page `pgoff` of the object is the physical page `base + pgoff * 4 KiB`.
pub struct PhysRange {
    pub base: PhysAddr,
    pub size: u64,
    pub cache: CacheMode,
    /// One-pass remap at mmap time (true) or one page per fault (false).
    pub eager: bool,
}

impl Backing for PhysRange {
    fn kind_name(&self) -> &'static str {
        "device"
    }

    fn is_device(&self) -> bool {
        true
    }

    fn page(&self, pgoff: u64, _store: bool) -> Result<PageFrame, BackingError> {
        self.contiguous(pgoff).map(PageFrame::Device).ok_or(BackingError::BeyondEnd)
    }
    fn present_page(&self, pgoff: u64) -> Option<PageFrame> {
        self.contiguous(pgoff).map(PageFrame::Device)
    }
    fn map_eagerly(&self) -> bool {
        self.eager
    }
    fn cache_mode(&self) -> CacheMode {
        self.cache
    }
    fn contiguous(&self, pgoff: u64) -> Option<PhysAddr> {
        (pgoff < self.size / PAGE_SIZE as u64).then(|| self.base + (pgoff as usize) * PAGE_SIZE)
    }
    fn contiguous_pages(&self, pgoff: u64) -> u64 {
        (self.size / PAGE_SIZE as u64).saturating_sub(pgoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Frame services that only count references to frames in
    /// `[TEST_BASE, TEST_BASE + 16 pages)` (installed once for the whole
    /// test process; other frames are ignored).
    struct Counting;
    const TEST_BASE: u64 = 0x4000_0000;
    static GETS: AtomicUsize = AtomicUsize::new(0);
    static PUTS: AtomicUsize = AtomicUsize::new(0);

    fn ours(pa: PhysAddr) -> bool {
        (TEST_BASE..TEST_BASE + 16 * PAGE_SIZE as u64).contains(&pa.0)
    }

    impl FrameOps for Counting {
        fn alloc_zeroed(&self) -> Option<PhysAddr> {
            None
        }
        fn get(&self, pa: PhysAddr) {
            if ours(pa) {
                GETS.fetch_add(1, Ordering::SeqCst);
            }
        }
        fn put(&self, pa: PhysAddr) {
            if ours(pa) {
                PUTS.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn pinned_frames_give_the_same_frames_with_a_reference_each() {
        static OPS: Counting = Counting;
        set_frame_ops(&OPS);
        let frames = vec![PhysAddr(TEST_BASE), PhysAddr(TEST_BASE + 0x1000)];
        let b = PinnedFrames::new(frames, "vdso");
        assert_eq!((b.kind_name(), b.pages(), b.is_anonymous()), ("vdso", 2, false));
        let (g0, p0) = (GETS.load(Ordering::SeqCst), PUTS.load(Ordering::SeqCst));
        // A load and a store get the same shared frame (a private store copies it in fault.rs).
        assert_eq!(b.page(0, false), Ok(PageFrame::Shared(PhysAddr(TEST_BASE))));
        assert_eq!(b.page(0, true), Ok(PageFrame::Shared(PhysAddr(TEST_BASE))));
        assert_eq!(b.present_page(1), Some(PageFrame::Shared(PhysAddr(TEST_BASE + 0x1000))));
        assert_eq!(GETS.load(Ordering::SeqCst) - g0, 3, "one reference per page handed out");
        // Past the end: nothing, and no reference taken.
        assert_eq!(b.page(2, false), Err(BackingError::BeyondEnd));
        assert_eq!(b.present_page(u64::MAX), None);
        assert_eq!(GETS.load(Ordering::SeqCst) - g0, 3);
        // Dropping the object gives nothing back: the kernel's references stay.
        drop(b);
        assert_eq!(PUTS.load(Ordering::SeqCst), p0);
    }
}
