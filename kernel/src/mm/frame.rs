//! The physical frame allocator: hands out 4 KiB frames of RAM and counts
//! references to them.
//!
//! RAM is one contiguous range `[base, end)`, cut into frames numbered
//! `0..nframes` from `base`. For every frame the allocator keeps a
//! **reference count**, and the free frames sit on a **free stack** (an array
//! of frame numbers), so both `alloc` and freeing are O(1): pop a number,
//! push a number. Nothing is searched.
//!
//! A frame is in one of three states, told apart by its count:
//!
//! | count          | state    | meaning                                              |
//! |----------------|----------|------------------------------------------------------|
//! | `RESERVED`     | reserved | never given to the allocator (kernel image, DTB, initrd, this metadata, a device buffer) |
//! | `0`            | free     | on the free stack                                    |
//! | `1..RESERVED`  | in use   | that many owners (page-table entries, kernel users)  |
//!
//! Every frame starts *reserved*; boot then calls [`FrameAllocator::add_free`]
//! for each part of RAM nobody else uses. A frame shared by several mappings
//! (copy-on-write after `fork`, shared memory) has one reference per mapping:
//! [`get`](FrameAllocator::get) adds one, [`put`](FrameAllocator::put) drops
//! one and frees the frame when the last goes.
//!
//! Callers can treat every physical page alike: `get`/`put` on a frame the
//! allocator does not own (device memory outside RAM, or a reserved frame such
//! as the kernel image) do nothing. Freeing a frame twice, though, is a kernel
//! bug that would hand one frame to two owners, so it panics (in release
//! builds too).
//!
//! The metadata (8 bytes per frame) lives in memory the caller provides,
//! because the kernel must create the allocator before it has a heap: boot
//! carves [`FrameAllocator::metadata_bytes`] out of RAM, reserves it, and
//! passes it in. Host tests pass a leaked `Vec`.

use super::addr::{PhysAddr, PAGE_SIZE};
use core::ops::Range;

/// The count of a frame that was never handed to the allocator.
const RESERVED: u32 = u32::MAX;

/// Reference-counted allocator of the 4 KiB frames in one RAM range.
///
/// Invariants (`i` is a frame number, `base + i * PAGE_SIZE` its address):
/// - `refcount[i]` is `RESERVED`, `0` (free) or the number of references;
/// - `stack[..free]` holds the numbers of exactly the frames whose count is
///   0, each once; `stack[free..]` is unused;
/// - `total` is the number of frames that are not `RESERVED`.
pub struct FrameAllocator<'m> {
    base: PhysAddr,
    nframes: usize,
    refcount: &'m mut [u32],
    stack: &'m mut [u32],
    free: usize,
    total: usize,
}

impl<'m> FrameAllocator<'m> {
    /// Bytes of metadata needed to manage `nframes` frames: a `u32` count and
    /// a `u32` free-stack slot per frame, plus up to 3 bytes to reach 4-byte
    /// alignment if the buffer does not start aligned.
    pub const fn metadata_bytes(nframes: usize) -> usize {
        nframes * 8 + 3
    }

    /// An allocator for the frames in `[base, end)`, all initially reserved,
    /// keeping its metadata in `metadata`.
    ///
    /// Panics if `base`/`end` are not page aligned, the range has more than
    /// `u32::MAX` frames, or `metadata` is smaller than
    /// [`metadata_bytes`](Self::metadata_bytes).
    pub fn new(base: PhysAddr, end: PhysAddr, metadata: &'m mut [u8]) -> Self {
        assert!(
            base.is_aligned(PAGE_SIZE) && end.is_aligned(PAGE_SIZE) && base <= end,
            "frame allocator: bad RAM range {base:?}..{end:?}"
        );
        let nframes = (end - base) / PAGE_SIZE;
        assert!(nframes < u32::MAX as usize, "frame allocator: {nframes} frames do not fit u32 frame numbers");
        assert!(
            metadata.len() >= Self::metadata_bytes(nframes),
            "frame allocator: {} bytes of metadata, {} needed",
            metadata.len(),
            Self::metadata_bytes(nframes)
        );
        let skip = (metadata.as_ptr() as usize).wrapping_neg() & 3;
        let words = &mut metadata[skip..];
        // SAFETY: `words` is exclusively borrowed for 'm and starts 4-byte
        // aligned (we skipped to the next multiple of 4); metadata_bytes
        // guarantees it holds at least 2 * nframes u32s after the skip; every
        // bit pattern is a valid u32. The u8 borrow is consumed here, so the
        // u32 view is the only way to reach this memory.
        let words: &'m mut [u32] =
            unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u32>(), 2 * nframes) };
        let (refcount, stack) = words.split_at_mut(nframes);
        refcount.fill(RESERVED);
        Self { base, nframes, refcount, stack, free: 0, total: 0 }
    }

    /// Hands the frames of `range` to the allocator (they become free). The
    /// range is shrunk inwards to whole pages.
    ///
    /// Panics if the range is outside the managed RAM or a frame in it was
    /// already handed over.
    pub fn add_free(&mut self, range: Range<PhysAddr>) {
        let (start, end) = (range.start.align_up(PAGE_SIZE), range.end.align_down(PAGE_SIZE));
        if start >= end {
            return;
        }
        assert!(
            self.contains(start) && end <= self.end(),
            "frame allocator: add_free({start:?}..{end:?}) outside RAM {:?}..{:?}",
            self.base,
            self.end()
        );
        for pa in (start.as_u64()..end.as_u64()).step_by(PAGE_SIZE) {
            let i = self.index(PhysAddr(pa));
            assert!(self.refcount[i] == RESERVED, "frame allocator: frame {:?} added twice", PhysAddr(pa));
            self.refcount[i] = 0;
            self.push(i);
            self.total += 1;
        }
    }

    /// Takes a free frame; its count becomes 1. The frame's contents are
    /// whatever was there before. `None` when every frame is in use.
    pub fn alloc(&mut self) -> Option<PhysAddr> {
        if self.free == 0 {
            return None;
        }
        self.free -= 1;
        let i = self.stack[self.free] as usize;
        debug_assert_eq!(self.refcount[i], 0);
        self.refcount[i] = 1;
        Some(self.addr(i))
    }

    /// Adds a reference to the in-use frame `pa` (another owner shares it).
    /// Returns false, doing nothing, for a frame the allocator does not own
    /// (outside RAM or reserved).
    ///
    /// Panics if the frame is free: taking a reference to it would be a use
    /// after free.
    pub fn get(&mut self, pa: PhysAddr) -> bool {
        let Some(i) = self.owned_index(pa) else { return false };
        match self.refcount[i] {
            0 => panic!("frame allocator: get({pa:?}) on a free frame"),
            n if n == RESERVED - 1 => panic!("frame allocator: reference count of {pa:?} overflows"),
            n => self.refcount[i] = n + 1,
        }
        true
    }

    /// Drops a reference to frame `pa`; the frame is freed when it was the
    /// last. Returns whether it was freed. A frame the allocator does not own
    /// (outside RAM or reserved) is ignored (returns false).
    ///
    /// Panics if the frame is already free (a double free).
    pub fn put(&mut self, pa: PhysAddr) -> bool {
        let Some(i) = self.owned_index(pa) else { return false };
        match self.refcount[i] {
            0 => panic!("frame allocator: double free of {pa:?} (put on a free frame)"),
            1 => {
                self.refcount[i] = 0;
                self.push(i);
                true
            }
            n => {
                self.refcount[i] = n - 1;
                false
            }
        }
    }

    /// References to frame `pa`: 0 if it is free, reserved or not in RAM.
    pub fn refcount(&self, pa: PhysAddr) -> u32 {
        self.owned_index(pa).map_or(0, |i| self.refcount[i])
    }

    /// Free frames.
    pub fn free_count(&self) -> usize {
        self.free
    }

    /// Frames handed to the allocator with [`add_free`](Self::add_free)
    /// (free or in use; reserved frames do not count).
    pub fn total_count(&self) -> usize {
        self.total
    }

    /// Frames in use (at least one reference).
    pub fn used_count(&self) -> usize {
        self.total - self.free
    }

    /// Whether `pa` lies in the managed RAM range (reserved frames included).
    pub fn contains(&self, pa: PhysAddr) -> bool {
        pa >= self.base && pa < self.end()
    }

    /// Whether `pa` is a frame whose references this allocator counts (in
    /// the range and not reserved).
    pub fn owns(&self, pa: PhysAddr) -> bool {
        self.owned_index(pa).is_some()
    }

    /// The managed RAM range.
    pub fn range(&self) -> Range<PhysAddr> {
        self.base..self.end()
    }

    fn end(&self) -> PhysAddr {
        self.base + self.nframes * PAGE_SIZE
    }

    fn index(&self, pa: PhysAddr) -> usize {
        (pa - self.base) / PAGE_SIZE
    }

    fn addr(&self, i: usize) -> PhysAddr {
        self.base + i * PAGE_SIZE
    }

    fn owned_index(&self, pa: PhysAddr) -> Option<usize> {
        if !self.contains(pa) {
            return None;
        }
        let i = self.index(pa);
        (self.refcount[i] != RESERVED).then_some(i)
    }

    fn push(&mut self, i: usize) {
        self.stack[self.free] = i as u32;
        self.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const BASE: PhysAddr = PhysAddr(0x4000_0000);

    fn allocator(nframes: usize) -> FrameAllocator<'static> {
        let meta = vec![0u8; FrameAllocator::metadata_bytes(nframes)].leak();
        FrameAllocator::new(BASE, BASE + nframes * PAGE_SIZE, meta)
    }

    #[test]
    fn frames_start_reserved_until_added() {
        let mut fa = allocator(16);
        assert_eq!((fa.free_count(), fa.total_count(), fa.used_count()), (0, 0, 0));
        assert_eq!(fa.alloc(), None);
        // Unaligned ends shrink inwards: frames 1..4.
        fa.add_free(BASE + 0x800..BASE + 0x4800);
        assert_eq!((fa.free_count(), fa.total_count()), (3, 3));
        let mut got: vec::Vec<_> = (0..3).map(|_| fa.alloc().unwrap()).collect();
        got.sort();
        assert_eq!(got, [BASE + 0x1000, BASE + 0x2000, BASE + 0x3000]);
        assert_eq!(fa.alloc(), None);
        assert_eq!(fa.used_count(), 3);
    }

    #[test]
    fn refcounts_share_and_free_at_zero() {
        let mut fa = allocator(4);
        fa.add_free(fa.range());
        let a = fa.alloc().unwrap();
        assert_eq!(fa.refcount(a), 1);
        assert!(fa.get(a));
        assert_eq!(fa.refcount(a), 2);
        assert!(!fa.put(a), "still one reference");
        assert_eq!(fa.free_count(), 3);
        assert!(fa.put(a), "last reference frees");
        assert_eq!((fa.refcount(a), fa.free_count()), (0, 4));
        // LIFO: the frame just freed comes back first.
        assert_eq!(fa.alloc(), Some(a));
    }

    #[test]
    fn frames_not_owned_are_ignored() {
        let mut fa = allocator(4);
        fa.add_free(BASE + 0x1000..BASE + 0x4000);
        let device = PhysAddr(0x0900_0000);
        let reserved = BASE;
        for pa in [device, reserved] {
            assert!(!fa.get(pa));
            assert!(!fa.put(pa));
            assert_eq!(fa.refcount(pa), 0);
            assert!(!fa.owns(pa));
        }
        assert!(fa.contains(reserved) && !fa.contains(device));
        assert_eq!(fa.free_count(), 3);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_panics() {
        let mut fa = allocator(2);
        fa.add_free(fa.range());
        let a = fa.alloc().unwrap();
        fa.put(a);
        fa.put(a);
    }

    #[test]
    #[should_panic(expected = "on a free frame")]
    fn get_on_free_frame_panics() {
        let mut fa = allocator(2);
        fa.add_free(fa.range());
        fa.get(BASE);
    }

    #[test]
    #[should_panic(expected = "added twice")]
    fn adding_a_frame_twice_panics() {
        let mut fa = allocator(4);
        fa.add_free(BASE..BASE + 0x2000);
        fa.add_free(BASE + 0x1000..BASE + 0x3000);
    }

    #[test]
    fn metadata_may_start_unaligned() {
        let n = 5;
        let buf = vec![0u8; FrameAllocator::metadata_bytes(n) + 1].leak();
        // Start at an odd address on purpose.
        let mut fa = FrameAllocator::new(BASE, BASE + n * PAGE_SIZE, &mut buf[1..]);
        fa.add_free(fa.range());
        let all: vec::Vec<_> = core::iter::from_fn(|| fa.alloc()).collect();
        assert_eq!(all.len(), n);
        for pa in all {
            assert!(fa.put(pa));
        }
        assert_eq!(fa.free_count(), n);
    }

    #[test]
    #[should_panic(expected = "needed")]
    fn too_little_metadata_panics() {
        let buf = vec![0u8; 16].leak();
        FrameAllocator::new(BASE, BASE + 4 * PAGE_SIZE, buf);
    }
}
