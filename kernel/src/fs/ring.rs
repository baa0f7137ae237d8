//! A byte ring buffer made of pages: the storage behind a pipe.
//!
//! The ring has a capacity of `slots` pages; bytes go in at the tail and
//! come out at the head, wrapping around. A page is taken from the
//! [`PageSource`] only when the first byte is written into it, so an idle
//! pipe holds no page and a pipe that never fills holds only the pages its
//! data passed through; every page goes back when the ring is dropped,
//! resized, or emptied with [`Ring::release_pages`]. Taking a page may fail:
//! a write then stops short (and says so), it never panics.
//!
//! Portable: the kernel's page source hands out frames through the linear
//! map, the host tests' source heap pages.

use crate::mm::addr::PAGE_SIZE;
use alloc::vec::Vec;
use core::ptr::NonNull;

/// Where a ring gets its pages.
pub trait PageSource {
    /// A page of `PAGE_SIZE` bytes, writable, contents unspecified; `None`
    /// when memory is short.
    fn alloc(&self) -> Option<NonNull<u8>>;
    /// Gives back a page.
    ///
    /// # Safety
    /// `page` came from [`alloc`](Self::alloc) of the same source and is
    /// not used afterwards.
    unsafe fn free(&self, page: NonNull<u8>);
}

/// Memory ran out (no page, or no room for the page index).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NoMemory;

/// Why [`Ring::resize`] refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResizeError {
    /// The ring holds more bytes than the new size (EBUSY).
    Busy,
    /// No memory for the new index or the pages the data needs (ENOMEM).
    NoMemory,
}

/// A ring of `pages.len()` pages.
///
/// Invariants: at least one slot; `len <= capacity()`, `head <
/// capacity()`; every byte in
/// `[head, head + len)` (mod capacity) lies in a page that is present;
/// each present page came from `source` and is owned by the ring alone.
pub struct Ring<S: PageSource> {
    pages: Vec<Option<NonNull<u8>>>,
    head: usize,
    len: usize,
    source: S,
}

// SAFETY: the pages are owned by the ring alone (see the invariants), so
// moving the ring to another thread moves sole ownership of them too.
unsafe impl<S: PageSource + Send> Send for Ring<S> {}

/// An index of `slots` empty slots, allocated fallibly.
fn empty_slots(slots: usize) -> Result<Vec<Option<NonNull<u8>>>, NoMemory> {
    let mut v = Vec::new();
    v.try_reserve_exact(slots).map_err(|_| NoMemory)?;
    v.resize(slots, None);
    Ok(v)
}

impl<S: PageSource> Ring<S> {
    /// An empty ring of `slots` pages (at least one); no page is taken yet.
    pub fn new(source: S, slots: usize) -> Result<Self, NoMemory> {
        Ok(Ring { pages: empty_slots(slots.max(1))?, head: 0, len: 0, source })
    }

    /// Bytes the ring can hold.
    pub fn capacity(&self) -> usize {
        self.pages.len() * PAGE_SIZE
    }

    /// Pages the ring can hold.
    pub fn slots(&self) -> usize {
        self.pages.len()
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that can still go in.
    pub fn room(&self) -> usize {
        self.capacity() - self.len
    }

    /// Pages currently taken from the source.
    pub fn pages_held(&self) -> usize {
        self.pages.iter().filter(|p| p.is_some()).count()
    }

    /// The page of slot `i`, taken from the source if the slot is empty.
    fn page(&mut self, i: usize) -> Result<NonNull<u8>, NoMemory> {
        if let Some(p) = self.pages[i] {
            return Ok(p);
        }
        let p = self.source.alloc().ok_or(NoMemory)?;
        self.pages[i] = Some(p);
        Ok(p)
    }

    /// Appends as much of `data` as fits; returns the bytes appended,
    /// fewer if a page could not be had (`Err` if not even one byte went in
    /// for that reason).
    pub fn write(&mut self, data: &[u8]) -> Result<usize, NoMemory> {
        let want = data.len().min(self.room());
        let mut done = 0;
        while done < want {
            let pos = (self.head + self.len) % self.capacity();
            let (slot, off) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let chunk = (PAGE_SIZE - off).min(want - done);
            let page = match self.page(slot) {
                Ok(p) => p,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            // SAFETY: `page` is a PAGE_SIZE page owned by the ring and
            // `off + chunk <= PAGE_SIZE`; `data[done..done + chunk]` is in bounds.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), page.as_ptr().add(off), chunk) };
            done += chunk;
            self.len += chunk;
        }
        Ok(done)
    }

    /// Copies up to `buf.len()` bytes from the head into `buf` without
    /// taking them out; returns how many.
    pub fn peek(&self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.len);
        let mut done = 0;
        while done < n {
            let pos = (self.head + done) % self.capacity();
            let (slot, off) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let chunk = (PAGE_SIZE - off).min(n - done);
            // Present: the byte at `pos` is held (see the invariants).
            let Some(page) = self.pages[slot] else { break };
            // SAFETY: as in `write`, the range stays inside the page.
            unsafe { core::ptr::copy_nonoverlapping(page.as_ptr().add(off), buf[done..].as_mut_ptr(), chunk) };
            done += chunk;
        }
        done
    }

    /// Drops `n` bytes (at most those held) from the head.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % self.capacity();
        self.len -= n;
        if self.len == 0 {
            // Start over at the first page: a pipe used for small messages
            // keeps touching the same page.
            self.head = 0;
        }
    }

    /// Takes up to `buf.len()` bytes from the head; returns how many.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = self.peek(buf);
        self.consume(n);
        n
    }

    /// Gives every page back to the source; only when empty (a FIFO that
    /// nobody has open any more). Returns whether it did.
    pub fn release_pages(&mut self) -> bool {
        if self.len != 0 {
            return false;
        }
        self.head = 0;
        for slot in self.pages.iter_mut() {
            if let Some(p) = slot.take() {
                // SAFETY: the page came from this source; its slot is now empty.
                unsafe { self.source.free(p) };
            }
        }
        true
    }

    /// Changes the capacity to `slots` pages (at least one), keeping the
    /// data, which is moved to the start of the new ring. On error nothing
    /// changes.
    pub fn resize(&mut self, slots: usize) -> Result<(), ResizeError> {
        let slots = slots.max(1);
        if self.len > slots * PAGE_SIZE {
            return Err(ResizeError::Busy);
        }
        let mut new =
            Ring { pages: empty_slots(slots).map_err(|_| ResizeError::NoMemory)?, head: 0, len: 0, source: () };
        // Copy page by page through the new ring's own pages.
        let mut copied = 0;
        while copied < self.len {
            let slot = copied / PAGE_SIZE;
            let page = match self.source.alloc() {
                Some(p) => p,
                None => {
                    new.free_into(&self.source);
                    return Err(ResizeError::NoMemory);
                }
            };
            new.pages[slot] = Some(page);
            let n = PAGE_SIZE.min(self.len - copied);
            let mut tmp_off = 0;
            while tmp_off < n {
                let pos = (self.head + copied + tmp_off) % self.capacity();
                let (s, off) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
                let chunk = (PAGE_SIZE - off).min(n - tmp_off);
                let Some(src) = self.pages[s] else { break };
                // SAFETY: both ranges lie inside pages owned by the two rings.
                unsafe { core::ptr::copy_nonoverlapping(src.as_ptr().add(off), page.as_ptr().add(tmp_off), chunk) };
                tmp_off += chunk;
            }
            copied += n;
        }
        new.len = self.len;
        // Swap the indexes; the old pages go back to the source.
        let old = core::mem::replace(&mut self.pages, core::mem::take(&mut new.pages));
        self.head = 0;
        self.len = new.len;
        for p in old.into_iter().flatten() {
            // SAFETY: the page came from this source and is no longer indexed.
            unsafe { self.source.free(p) };
        }
        Ok(())
    }
}

impl Ring<()> {
    /// Frees the pages of a ring built during [`Ring::resize`] into `source`.
    fn free_into<S: PageSource>(&mut self, source: &S) {
        for p in self.pages.iter_mut().filter_map(Option::take) {
            // SAFETY: the pages were taken from `source` by `resize`.
            unsafe { source.free(p) };
        }
    }
}

/// The unit source has no pages; it only stands in while `resize` builds
/// the new index (whose pages come from the ring's real source).
impl PageSource for () {
    fn alloc(&self) -> Option<NonNull<u8>> {
        None
    }

    unsafe fn free(&self, _page: NonNull<u8>) {}
}

impl<S: PageSource> Drop for Ring<S> {
    fn drop(&mut self) {
        for p in self.pages.iter_mut().filter_map(Option::take) {
            // SAFETY: the page came from this source; the ring is going away.
            unsafe { self.source.free(p) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Heap pages, counted; `limit` pages at most.
    #[derive(Clone)]
    struct Heap {
        live: Rc<Cell<usize>>,
        limit: usize,
    }

    impl PageSource for Heap {
        fn alloc(&self) -> Option<NonNull<u8>> {
            if self.live.get() >= self.limit {
                return None;
            }
            self.live.set(self.live.get() + 1);
            let b: Box<[u8; PAGE_SIZE]> = Box::new([0xaa; PAGE_SIZE]);
            NonNull::new(Box::into_raw(b) as *mut u8)
        }

        unsafe fn free(&self, page: NonNull<u8>) {
            self.live.set(self.live.get() - 1);
            // SAFETY: made by `alloc` from a Box of this type.
            drop(unsafe { Box::from_raw(page.as_ptr() as *mut [u8; PAGE_SIZE]) });
        }
    }

    fn heap(limit: usize) -> Heap {
        Heap { live: Rc::new(Cell::new(0)), limit }
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
    }

    #[test]
    fn fills_to_capacity_and_drains_in_order() {
        let h = heap(100);
        let mut r = Ring::new(h.clone(), 2).unwrap();
        assert_eq!(r.capacity(), 2 * PAGE_SIZE);
        assert_eq!(h.live.get(), 0, "no page before the first write");
        let d = pattern(3 * PAGE_SIZE, 1);
        assert_eq!(r.write(&d), Ok(2 * PAGE_SIZE));
        assert_eq!(r.room(), 0);
        assert_eq!(r.write(&d), Ok(0));
        let mut out = vec![0; 3 * PAGE_SIZE];
        assert_eq!(r.read(&mut out), 2 * PAGE_SIZE);
        assert_eq!(&out[..2 * PAGE_SIZE], &d[..2 * PAGE_SIZE]);
        assert!(r.is_empty());
        drop(r);
        assert_eq!(h.live.get(), 0, "every page given back");
    }

    #[test]
    fn wraps_around() {
        let h = heap(100);
        let mut r = Ring::new(h.clone(), 2).unwrap();
        let mut expect = std::collections::VecDeque::new();
        let mut seed = 0u8;
        for step in 0..200 {
            let n = (step * 977) % (PAGE_SIZE + 300) + 1;
            let d = pattern(n, seed);
            seed = seed.wrapping_add(3);
            let w = r.write(&d).unwrap();
            expect.extend(&d[..w]);
            let mut out = vec![0; (step * 613) % PAGE_SIZE + 1];
            let got = r.read(&mut out);
            for b in &out[..got] {
                assert_eq!(Some(*b), expect.pop_front());
            }
            assert_eq!(r.len(), expect.len());
        }
        assert!(h.live.get() <= 2);
    }

    #[test]
    fn peek_leaves_the_data() {
        let mut r = Ring::new(heap(10), 1).unwrap();
        r.write(b"hello").unwrap();
        let mut b = [0; 3];
        assert_eq!(r.peek(&mut b), 3);
        assert_eq!(&b, b"hel");
        r.consume(2);
        let mut b = [0; 10];
        assert_eq!(r.read(&mut b), 3);
        assert_eq!(&b[..3], b"llo");
    }

    #[test]
    fn short_write_when_pages_run_out() {
        let h = heap(1);
        let mut r = Ring::new(h.clone(), 4).unwrap();
        let d = pattern(3 * PAGE_SIZE, 5);
        assert_eq!(r.write(&d), Ok(PAGE_SIZE));
        assert_eq!(r.write(&d), Err(NoMemory));
        assert_eq!(r.len(), PAGE_SIZE);
    }

    #[test]
    fn resize_keeps_data_and_refuses_to_shrink_below_it() {
        let h = heap(100);
        let mut r = Ring::new(h.clone(), 4).unwrap();
        let d = pattern(3 * PAGE_SIZE, 9);
        r.write(&d[..PAGE_SIZE]).unwrap();
        let mut sink = vec![0; 100];
        r.read(&mut sink); // head is now mid-page
        r.write(&d[PAGE_SIZE..]).unwrap();
        let held = r.len();
        assert_eq!(r.resize(2), Err(ResizeError::Busy));
        assert_eq!(r.len(), held);
        r.resize(8).unwrap();
        assert_eq!(r.capacity(), 8 * PAGE_SIZE);
        let mut out = vec![0; held];
        assert_eq!(r.read(&mut out), held);
        assert_eq!(&out[..], &d[100..]);
        assert_eq!(h.live.get(), r.pages_held());
        r.resize(1).unwrap();
        assert_eq!(h.live.get(), 0, "an empty ring keeps no page across a resize");
    }

    #[test]
    fn resize_without_memory_changes_nothing() {
        let h = heap(3);
        let mut r = Ring::new(h.clone(), 4).unwrap();
        let d = pattern(2 * PAGE_SIZE + 10, 2);
        r.write(&d).unwrap();
        assert_eq!(h.live.get(), 3);
        assert_eq!(r.resize(4), Err(ResizeError::NoMemory));
        assert_eq!(h.live.get(), 3);
        let mut out = vec![0; d.len()];
        assert_eq!(r.read(&mut out), d.len());
        assert_eq!(out, d);
    }

    #[test]
    fn release_pages_only_when_empty() {
        let h = heap(10);
        let mut r = Ring::new(h.clone(), 2).unwrap();
        r.write(b"x").unwrap();
        assert!(!r.release_pages());
        r.consume(1);
        assert!(r.release_pages());
        assert_eq!(h.live.get(), 0);
    }
}
