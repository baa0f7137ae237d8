//! The kernel heap (`alloc::` collections, `Box`, ...), managed by
//! `linked_list_allocator`.
//!
//! Two regions serve it:
//! - a small **boot heap** inside the image's .bss, usable from the first
//!   instruction of `kernel_main`, before the physical memory map exists;
//! - the **main heap**, a fixed region of RAM carved out at boot (see
//!   [`main_heap_size`]: 1/8 of RAM, between 8 and 128 MiB) and reached
//!   through the linear map.
//!
//! The main heap is *bounded* on purpose. Its frames never pass through the
//! frame allocator, so kernel bookkeeping can neither eat the frames user
//! memory needs nor keep frames after a workload: the free-frame count
//! returns to its baseline once every process is gone, whatever the kernel
//! allocated meanwhile. Running out of heap is an ordinary error, not a
//! panic: large or user-sized requests use fallible calls (`try_reserve`,
//! [`try_box`], a null check on `alloc`), and every operation that creates
//! kernel objects a user could multiply (processes, areas, files) first
//! asks [`has_headroom`] (through `mm::kernel_has_room`), so the last
//! [`headroom`] bytes stay for the bounded, short-lived allocations of the
//! calls in progress.
//!
//! Frees go back to the region the block came from.
//!
//! Small blocks (up to 2 KiB: VMA tree nodes, process records, vectors)
//! are served from per-size free lists in front of the first-fit
//! allocator: a freed block of size class 2^k goes on list k and the next
//! request of that class takes it back in a few instructions, instead of
//! a walk of the first-fit free list. Each list keeps at most
//! [`CLASS_CACHE_BYTES`]; blocks beyond that go back to the first-fit heap,
//! so a burst of one size cannot leave the heap fragmented for the others.

use crate::arch::aarch64::cpu;
use crate::errno::Errno;
use alloc::boxed::Box;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;
use spin::Mutex;

const BOOT_HEAP_SIZE: usize = 512 << 10;
/// Bytes each size class's free list may keep.
pub const CLASS_CACHE_BYTES: usize = 64 << 10;

/// The size of the main heap for `ram` bytes of RAM: 1/8 of it, at least
/// 8 MiB and at most 128 MiB, in whole pages. That is room for Linux's
/// 65,530 areas in one process on a 128 MiB machine (about 140 bytes each
/// with their tree), or a few hundred processes.
pub const fn main_heap_size(ram: u64) -> usize {
    let s = ram / 8;
    let s = if s < (8 << 20) {
        8 << 20
    } else if s > (128 << 20) {
        128 << 20
    } else {
        s
    };
    (s as usize) & !0xfff
}

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
    /// How many blocks each free list holds (at most
    /// `CLASS_CACHE_BYTES / class size`).
    cached: [usize; CLASSES],
    boot: Heap,
    main: Heap,
    /// Bytes of the main heap; 0 until [`init_main`].
    main_size: usize,
}

struct KernelHeap(Mutex<Heaps>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(Mutex::new(Heaps {
    free: [core::ptr::null_mut(); CLASSES],
    cached: [0; CLASSES],
    boot: Heap::empty(),
    main: Heap::empty(),
    main_size: 0,
}));

/// Makes the boot heap usable. Called first thing in `kernel_main`.
pub fn init_boot() {
    let mut h = HEAP.0.lock();
    if h.boot.size() == 0 {
        // SAFETY: BOOT_ARENA is used by nothing else; the heap owns it from now on.
        unsafe { h.boot.init(core::ptr::addr_of_mut!(BOOT_ARENA.0) as *mut u8, BOOT_HEAP_SIZE) };
    }
}

/// Enables the main heap over `len` bytes at `start`.
///
/// # Safety
/// `[start, start + len)` must be mapped, writable, and used by nothing else
/// for the kernel's lifetime.
pub unsafe fn init_main(start: *mut u8, len: usize) {
    cpu::without_interrupts(|| {
        let mut h = HEAP.0.lock();
        // SAFETY: the caller hands the region over for good.
        unsafe { h.main.init(start, len) };
        h.main_size = len;
    });
}

/// (boot heap used, main heap used, main heap size) in bytes.
pub fn usage() -> (usize, usize, usize) {
    cpu::without_interrupts(|| {
        let h = HEAP.0.lock();
        (h.boot.used(), h.main.used(), h.main_size)
    })
}

/// The bytes of main heap kept for allocations in progress: an eighth of it.
pub fn headroom() -> usize {
    usage().2 / 8
}

/// Whether the main heap has more than [`headroom`] bytes free: checked
/// before creating kernel objects on a user's behalf (ENOMEM otherwise).
pub fn has_headroom() -> bool {
    check_room(0).is_ok()
}

/// A copy of `s`, or ENOMEM.
pub fn try_string(s: &str) -> Result<alloc::string::String, Errno> {
    let mut out = alloc::string::String::new();
    out.try_reserve_exact(s.len()).map_err(|_| Errno::ENOMEM)?;
    out.push_str(s);
    Ok(out)
}

/// A copy of `v`, or ENOMEM.
pub fn try_clone_vec<T: Clone>(v: &[T]) -> Result<alloc::vec::Vec<T>, Errno> {
    let mut out = alloc::vec::Vec::new();
    out.try_reserve_exact(v.len()).map_err(|_| Errno::ENOMEM)?;
    out.extend_from_slice(v);
    Ok(out)
}

/// Whether `bytes` more can be taken from the main heap and still leave
/// its [`headroom`]: asked before a large allocation a user sizes (a
/// program image), which must not eat the room the rest of the call needs.
pub fn check_room(bytes: usize) -> Result<(), Errno> {
    cpu::without_interrupts(|| {
        let h = HEAP.0.lock();
        let free = h.main.free();
        if free > h.main_size / 8 && free - h.main_size / 8 > bytes {
            Ok(())
        } else {
            Err(Errno::ENOMEM)
        }
    })
}

/// `Box::new(value)`, or ENOMEM when the heap has no room for it.
pub fn try_box<T>(value: T) -> Result<Box<T>, Errno> {
    let layout = core::alloc::Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(value));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc(layout) } as *mut T;
    if p.is_null() {
        return Err(Errno::ENOMEM);
    }
    // SAFETY: p is a fresh allocation of T's layout from the global
    // allocator, which Box::from_raw takes over once the value is written.
    unsafe {
        p.write(value);
        Ok(Box::from_raw(p))
    }
}

// SAFETY: the free-list pointers are only touched with the heap's lock held.
unsafe impl Send for Heaps {}

impl Heaps {
    /// First fit over the main heap, then the boot heap.
    fn first_fit(&mut self, layout: Layout) -> *mut u8 {
        if self.main_size > 0 {
            if let Ok(p) = self.main.allocate_first_fit(layout) {
                return p.as_ptr();
            }
        }
        match self.boot.allocate_first_fit(layout) {
            Ok(p) => p.as_ptr(),
            Err(()) => core::ptr::null_mut(),
        }
    }

    fn in_boot(&self, ptr: *mut u8) -> bool {
        let start = self.boot.bottom() as usize;
        (start..start + BOOT_HEAP_SIZE).contains(&(ptr as usize))
    }

    /// Gives a block back to the first-fit heap it came from.
    ///
    /// # Safety
    /// `ptr` was allocated by [`first_fit`](Self::first_fit) with `layout`.
    unsafe fn release(&mut self, ptr: NonNull<u8>, layout: Layout) {
        if self.in_boot(ptr.as_ptr()) {
            // SAFETY: ptr was allocated from the boot heap with this layout.
            unsafe { self.boot.deallocate(ptr, layout) };
        } else {
            // SAFETY: ptr was allocated from the main heap with this layout.
            unsafe { self.main.deallocate(ptr, layout) };
        }
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
                    h.cached[k] -= 1;
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
            match class_of(layout) {
                Some(k) if h.cached[k] < CLASS_CACHE_BYTES / (MIN_CLASS << k) => {
                    let block = ptr as *mut FreeBlock;
                    // SAFETY: the block was a class-k block (every small
                    // request is served as one) and is now free: it can hold
                    // the link.
                    unsafe { block.write(FreeBlock { next: h.free[k] }) };
                    h.free[k] = block;
                    h.cached[k] += 1;
                }
                // SAFETY: every small request was served by first_fit with
                // its class layout, every other one with its own layout.
                Some(k) => unsafe { h.release(nn, class_layout(k)) },
                // SAFETY: as above.
                None => unsafe { h.release(nn, layout) },
            }
        })
    }
}
