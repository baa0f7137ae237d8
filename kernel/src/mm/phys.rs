//! The kernel's instance of the frame allocator, the linear map, and the
//! page-table contexts that tie `paging` to the real MMU.
//!
//! - [`frames_init`] carves the allocator's metadata out of RAM and hands it
//!   every free page of the physical map.
//! - [`KernelFrames`] gives the backings (`backing.rs`) their frames.
//! - [`HwContext`] implements `PagingContext` with the real barriers and TLB
//!   instructions: by VA for every ASID for the kernel's (global) tables, by
//!   VA and ASID for a process's tables.

use super::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use super::backing::FrameOps;
use super::frame::FrameAllocator;
use super::paging::{PagingContext, PhysAccess};
use super::phys_to_virt;
use super::physmap::PhysMap;
use crate::arch::aarch64::mmu;
use spin::Mutex;

static FRAMES: Mutex<Option<FrameAllocator<'static>>> = Mutex::new(None);

/// Creates the frame allocator over `map.ram` and frees every page of RAM
/// the map does not reserve (the metadata is carved and reserved first).
pub fn frames_init(map: &mut PhysMap) -> Result<(), &'static str> {
    let nframes = ((map.ram.end - map.ram.start) / PAGE_SIZE as u64) as usize;
    let bytes = FrameAllocator::metadata_bytes(nframes);
    let meta = map.carve("frame metadata", bytes as u64, PAGE_SIZE as u64).ok_or("no room for frame metadata")?;
    // SAFETY: the carved range is RAM, reserved in the map (so never handed
    // out as a frame), mapped by the early and final linear maps, and used by
    // nothing else for the kernel's lifetime.
    let meta = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(meta).as_u64() as *mut u8, bytes) };
    let mut fa = FrameAllocator::new(PhysAddr(map.ram.start), PhysAddr(map.ram.end), meta);
    for r in map.free_ranges() {
        fa.add_free(PhysAddr(r.start)..PhysAddr(r.end));
    }
    *FRAMES.lock() = Some(fa);
    if let Some(zero) = alloc_frame() {
        zero_frame(zero);
        ZERO_PAGE.call_once(|| zero);
    }
    super::backing::set_frame_ops(&KernelFrames);
    Ok(())
}

fn with_frames<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> R {
    crate::arch::aarch64::cpu::without_interrupts(|| {
        f(FRAMES.lock().as_mut().expect("frame allocator not initialised"))
    })
}

/// (free, total) frames.
pub fn frame_counts() -> (usize, usize) {
    with_frames(|f| (f.free_count(), f.total_count()))
}

/// A frame with reference count 1 (contents undefined).
pub fn alloc_frame() -> Option<PhysAddr> {
    with_frames(|f| f.alloc())
}

/// Drops a reference to a frame (no-op for memory the allocator does not own).
pub fn put_frame(pa: PhysAddr) -> bool {
    with_frames(|f| f.put(pa))
}

/// Takes a reference to a frame (no-op for memory the allocator does not own).
pub fn get_frame(pa: PhysAddr) -> bool {
    with_frames(|f| f.get(pa))
}

/// The reference count of a frame (0 for memory the allocator does not own).
pub fn frame_refcount(pa: PhysAddr) -> u32 {
    with_frames(|f| if f.owns(pa) { f.refcount(pa) } else { 0 })
}

/// Fills a frame with zeros through the linear map.
pub fn zero_frame(pa: PhysAddr) {
    // SAFETY: pa is a frame of RAM the caller owns, mapped by the linear map
    // as normal cacheable memory.
    unsafe { crate::arch::aarch64::page::zero_page(phys_to_virt(pa).as_u64() as *mut u8) };
}

/// Copies one frame to another.
pub fn copy_frame(dst: PhysAddr, src: PhysAddr) {
    // SAFETY: both are distinct RAM frames reachable through the linear map.
    unsafe {
        crate::arch::aarch64::page::copy_page(
            phys_to_virt(dst).as_u64() as *mut u8,
            phys_to_virt(src).as_u64() as *const u8,
        )
    };
}

/// Frame services for the backings.
pub struct KernelFrames;

impl FrameOps for KernelFrames {
    fn alloc_zeroed(&self) -> Option<PhysAddr> {
        let pa = alloc_frame()?;
        zero_frame(pa);
        Some(pa)
    }
    fn get(&self, pa: PhysAddr) {
        get_frame(pa);
    }
    fn put(&self, pa: PhysAddr) {
        put_frame(pa);
    }
    fn zero_page(&self) -> Option<PhysAddr> {
        let zero = *ZERO_PAGE.get()?;
        get_frame(zero);
        Some(zero)
    }
}

/// The shared zero frame: allocated at boot, never written, never freed (the
/// kernel keeps its first reference).
static ZERO_PAGE: spin::Once<PhysAddr> = spin::Once::new();

/// The zero frame's address, if set up.
pub fn zero_page_addr() -> Option<PhysAddr> {
    ZERO_PAGE.get().copied()
}

/// The hardware paging context: table frames from the frame allocator,
/// reached through the linear map; TLB maintenance for one ASID, or for the
/// kernel's global entries when `asid` is `None`.
pub struct HwContext {
    pub asid: Option<u16>,
}

impl HwContext {
    /// For the kernel's own (TTBR1) tables.
    pub const fn kernel() -> Self {
        Self { asid: None }
    }
    /// For a process's tables tagged with `asid`.
    pub const fn user(asid: u16) -> Self {
        Self { asid: Some(asid) }
    }
}

// SAFETY: table frames come from the frame allocator and are reached through
// the linear map, which maps all of RAM for the kernel's lifetime.
unsafe impl PhysAccess for HwContext {
    fn phys_to_ptr(&self, pa: PhysAddr) -> *mut u64 {
        phys_to_virt(pa).as_u64() as *mut u64
    }
}

impl PagingContext for HwContext {
    fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
        let pa = alloc_frame()?;
        zero_frame(pa);
        Some(pa)
    }
    fn free_table_frame(&mut self, pa: PhysAddr) {
        put_frame(pa);
    }
    fn before_invalidate(&mut self) {
        mmu::dsb_ishst();
    }
    fn invalidate_va(&mut self, va: VirtAddr) {
        match self.asid {
            Some(asid) => mmu::tlbi_user_page(va.as_u64(), asid),
            None => mmu::tlbi_kernel_page(va.as_u64()),
        }
    }
    fn invalidate_all(&mut self) {
        match self.asid {
            Some(asid) => mmu::tlbi_asid(asid),
            None => mmu::tlbi_all(),
        }
    }
    fn sync(&mut self) {
        mmu::dsb_ish_isb();
    }
}
