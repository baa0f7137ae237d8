//! The kernel heap (`alloc::` collections, `Box`, ...), managed by
//! `linked_list_allocator`.
//!
//! Two regions serve it:
//! - a small **boot heap** inside the image's .bss, usable from the first
//!   instruction of `kernel_main`, before the frame allocator exists;
//! - the **main heap** at [`HEAP_BASE`], which starts empty and grows from the
//!   frame allocator: when an allocation does not fit, more frames are mapped
//!   at the heap's top in the kernel's tables and the heap is extended.
//!
//! Frees go back to the region the block came from.
//!
//! Small blocks (up to 2 KiB: VMA tree nodes, process records, vectors)
//! are served from per-size free lists in front of the first-fit
//! allocator: a freed block of size class 2^k goes on list k and the next
//! request of that class takes it back in a few instructions, instead of
//! a walk of the first-fit free list. Blocks on these lists stay reserved
//! for their class (a slab cache without reclaim).

use super::addr::{VirtAddr, HEAP_BASE, HEAP_MAX, PAGE_SIZE};
use crate::arch::aarch64::cpu;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;
use spin::Mutex;

const BOOT_HEAP_SIZE: usize = 512 << 10;
/// The main heap grows by at least this much at a time.
const GROW_STEP: usize = 256 << 10;

#[repr(align(4096))]
struct BootArena([u8; BOOT_HEAP_SIZE]);
static mut BOOT_ARENA: BootArena = BootArena([0; BOOT_HEAP_SIZE]);

/// Size classes 16, 32, ..., 2048 bytes.
const CLASSES: usize = 8;
const MIN_CLASS: usize = 16;

/// The size class index of `layout`, if it is small enough.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(MIN_CLASS).next_power_of_two();
    let k = size.trailing_zeros() as usize - MIN_CLASS.trailing_zeros() as usize;
    (k < CLASSES).then_some(k)
}

/// The layout the first-fit heap hands out for class `k`: aligned to its
/// size, so every request of the class fits any block of it.
fn class_layout(k: usize) -> Layout {
    let size = MIN_CLASS << k;
    Layout::from_size_align(size, size).expect("power-of-two class")
}

/// A freed small block, linked through its own first word.
struct FreeBlock {
    next: *mut FreeBlock,
}

struct Heaps {
    /// Heads of the per-class free lists (null = empty).
    free: [*mut FreeBlock; CLASSES],
    boot: Heap,
    main: Heap,
    /// Bytes mapped for the main heap; 0 until [`init_main`].
    main_size: usize,
    /// Grows the main heap: maps `bytes` at `va`, false when out of frames.
    grow: Option<fn(VirtAddr, usize) -> bool>,
}

struct KernelHeap(Mutex<Heaps>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(Mutex::new(Heaps {
    free: [core::ptr::null_mut(); CLASSES],
    boot: Heap::empty(),
    main: Heap::empty(),
    main_size: 0,
    grow: None,
}));

/// Makes the boot heap usable. Called first thing in `kernel_main`.
pub fn init_boot() {
    let mut h = HEAP.0.lock();
    if h.boot.size() == 0 {
        // SAFETY: BOOT_ARENA is used by nothing else; the heap owns it from now on.
        unsafe { h.boot.init(core::ptr::addr_of_mut!(BOOT_ARENA.0) as *mut u8, BOOT_HEAP_SIZE) };
    }
}

/// Enables the main heap; `grow` maps more of it on demand.
pub fn init_main(grow: fn(VirtAddr, usize) -> bool) {
    cpu::without_interrupts(|| HEAP.0.lock().grow = Some(grow));
}

/// (boot heap used, main heap used, main heap mapped) in bytes.
pub fn usage() -> (usize, usize, usize) {
    cpu::without_interrupts(|| {
        let h = HEAP.0.lock();
        (h.boot.used(), h.main.used(), h.main_size)
    })
}

// SAFETY: the free-list pointers are only touched with the heap's lock held.
unsafe impl Send for Heaps {}

impl Heaps {
    /// First fit over the main heap, then the boot heap, growing the main heap if needed.
    fn first_fit(&mut self, layout: Layout) -> *mut u8 {
        if self.main_size > 0 {
            if let Ok(p) = self.main.allocate_first_fit(layout) {
                return p.as_ptr();
            }
        }
        if let Ok(p) = self.boot.allocate_first_fit(layout) {
            return p.as_ptr();
        }
        if self.grow_main(layout) {
            if let Ok(p) = self.main.allocate_first_fit(layout) {
                return p.as_ptr();
            }
        }
        core::ptr::null_mut()
    }

    fn in_boot(&self, ptr: *mut u8) -> bool {
        let start = self.boot.bottom() as usize;
        (start..start + BOOT_HEAP_SIZE).contains(&(ptr as usize))
    }

    fn grow_main(&mut self, layout: Layout) -> bool {
        let Some(grow) = self.grow else { return false };
        let need = (layout.size() + layout.align() + 64).max(GROW_STEP).next_multiple_of(PAGE_SIZE);
        if self.main_size as u64 + need as u64 > HEAP_MAX {
            return false;
        }
        let va = VirtAddr(HEAP_BASE + self.main_size as u64);
        if !grow(va, need) {
            return false;
        }
        if self.main_size == 0 {
            // SAFETY: [HEAP_BASE, +need) was just mapped and belongs to the heap.
            unsafe { self.main.init(HEAP_BASE as *mut u8, need) };
        } else {
            // SAFETY: the new pages directly follow the heap's current top.
            unsafe { self.main.extend(need) };
        }
        self.main_size += need;
        true
    }
}

// SAFETY: allocations come from regions owned by the heaps; the lock
// serialises every access, taken with interrupts masked.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        cpu::without_interrupts(|| {
            let mut h = self.0.lock();
            match class_of(layout) {
                Some(k) if !h.free[k].is_null() => {
                    let block = h.free[k];
                    // SAFETY: blocks on list k are free, class-k sized and
                    // hold the link in their first word.
                    h.free[k] = unsafe { (*block).next };
                    block as *mut u8
                }
                Some(k) => h.first_fit(class_layout(k)),
                None => h.first_fit(layout),
            }
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        cpu::without_interrupts(|| {
            let mut h = self.0.lock();
            let Some(nn) = NonNull::new(ptr) else { return };
            if let Some(k) = class_of(layout) {
                let block = ptr as *mut FreeBlock;
                // SAFETY: the block was a class-k block (every small request
                // is served as one) and is now free: it can hold the link.
                unsafe { block.write(FreeBlock { next: h.free[k] }) };
                h.free[k] = block;
                return;
            }
            if h.in_boot(ptr) {
                // SAFETY: ptr was allocated from the boot heap with this layout.
                unsafe { h.boot.deallocate(nn, layout) };
            } else {
                // SAFETY: ptr was allocated from the main heap with this layout.
                unsafe { h.main.deallocate(nn, layout) };
            }
        })
    }
}
