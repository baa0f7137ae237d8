//! The record of each child's last calls, in memory the parent can read.
//!
//! The parent maps one `MAP_SHARED` anonymous area before forking, at a
//! fixed address far from where the children's own mappings and pool
//! addresses go, so a child's random `mmap`/`munmap` is unlikely to hit it (if one does, that
//! child dies at its next record, or its record stops: the report says
//! what the ring last saw). The first page holds the children's pids (a
//! child picks siblings to signal from it); then each child has a 4 KiB
//! slot:
//!
//! ```text
//! word 0      calls started (the sequence number of the next call)
//! word 1      1 + the sequence number of the first odd result (0: none)
//! word 2..8   canaries (see below)
//! word 8..    ENTRIES entries of 8 words: nr | seq << 32, a0..a5, result
//! ```
//!
//! A child writes an entry before each call, with [`PENDING`] as the
//! result, and the result after it; so the entry of a call that never
//! returned (a hang, a crash inside the kernel) still says `PENDING`.
//!
//! The words nobody writes (the pid page past the pids, words 2..8 of each
//! slot) hold canaries: if one changes, the kernel wrote into these shared
//! frames (or handed them out for something else), and the parent says so.

use crate::calls;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use user::errno::Errno;
use user::mm::{self, PAGE_SIZE};
use user::println;

/// Where the ring is mapped: far below the top-down mmap area and far
/// above the program, and irregular, so that no two halves of the small
/// numbers and pool addresses a child hands the kernel (an unaligned iovec
/// read from its data area, say) make up an address in it.
const RING_ADDR: usize = 0x5a3c_9e71_0000;
/// Most children a round can have (one pid word each in the first page).
pub const MAX_CHILDREN: usize = PAGE_SIZE / 8;
const SLOT_WORDS: usize = PAGE_SIZE / 8;
const HEADER_WORDS: usize = 8;
const ENTRY_WORDS: usize = 8;
/// Calls remembered per child.
pub const ENTRIES: usize = (SLOT_WORDS - HEADER_WORDS) / ENTRY_WORDS;
/// The result of a call that has not returned.
pub const PENDING: u64 = 0x7e4d_1e9c_0000_0000;

/// The shared record of a round's children.
#[derive(Clone, Copy)]
pub struct Ring {
    words: &'static [AtomicU64],
    children: usize,
}

impl Ring {
    /// Maps (and touches, so its frames are counted in the baseline) a
    /// ring for `children` children.
    pub fn map(children: usize) -> Result<Ring, Errno> {
        let len = PAGE_SIZE * (1 + children);
        let flags = mm::MAP_SHARED | mm::MAP_ANONYMOUS | mm::MAP_FIXED_NOREPLACE;
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
        let addr = unsafe { mm::mmap(RING_ADDR, len, mm::PROT_READ | mm::PROT_WRITE, flags, -1, 0)? };
        // SAFETY: the kernel just mapped `len` zeroed, shared, writable
        // bytes at `addr`; zero bytes are valid atomics.
        let words = unsafe { core::slice::from_raw_parts(addr as *const AtomicU64, len / 8) };
        let ring = Ring { words, children };
        ring.clear();
        Ok(ring)
    }

    /// Empties every slot and the pid table (writing every page), and
    /// writes the canary words.
    pub fn clear(&self) {
        for (i, w) in self.words.iter().enumerate() {
            w.store(if Self::is_canary(i, self.children) { canary(i) } else { 0 }, Relaxed);
        }
    }

    /// Whether word `i` is a canary: the pid page past the pids, and the
    /// unused header words of each slot. Nobody writes them after `clear`.
    fn is_canary(i: usize, children: usize) -> bool {
        if i < SLOT_WORDS {
            i >= children
        } else {
            (2..HEADER_WORDS).contains(&(i % SLOT_WORDS))
        }
    }

    /// The index of the first canary word that changed, if one did: the
    /// ring's frames were written by something other than the fuzzer.
    pub fn damaged(&self) -> Option<usize> {
        (0..self.words.len()).find(|&i| Self::is_canary(i, self.children) && self.words[i].load(Relaxed) != canary(i))
    }

    fn slot(&self, child: usize) -> &'static [AtomicU64] {
        assert!(child < self.children);
        &self.words[SLOT_WORDS * (1 + child)..SLOT_WORDS * (2 + child)]
    }

    /// Empties child `child`'s slot for its next generation.
    pub fn reset(&self, child: usize) {
        let s = self.slot(child);
        s[0].store(0, Relaxed);
        s[1].store(0, Relaxed);
    }

    /// Records child `child`'s pid for its siblings.
    pub fn set_pid(&self, child: usize, pid: i32) {
        self.words[child].store(pid as u64, Relaxed);
    }

    /// The pid of child `child` (0 if not forked yet).
    pub fn pid(&self, child: usize) -> i32 {
        self.words[child % self.children].load(Relaxed) as i32
    }

    /// How many children the ring has room for.
    pub fn children(&self) -> usize {
        self.children
    }

    /// Calls child `child` has started.
    pub fn calls(&self, child: usize) -> u64 {
        self.slot(child)[0].load(Relaxed)
    }

    /// The sequence number of child `child`'s first odd result.
    pub fn odd(&self, child: usize) -> Option<u64> {
        self.slot(child)[1].load(Relaxed).checked_sub(1)
    }

    /// The number of child `child`'s last call, if it has not returned.
    pub fn pending(&self, child: usize) -> Option<usize> {
        let s = self.slot(child);
        let seq = s[0].load(Relaxed).checked_sub(1)?;
        let e = &s[HEADER_WORDS + (seq as usize % ENTRIES) * ENTRY_WORDS..][..ENTRY_WORDS];
        let head = e[0].load(Relaxed);
        (head >> 32 == seq && e[7].load(Relaxed) == PENDING).then_some((head & 0xffff_ffff) as usize)
    }

    /// Child side: records call `seq` before it is made.
    pub fn start(&self, child: usize, seq: u64, nr: usize, args: &[u64; 6]) {
        let s = self.slot(child);
        let e = &s[HEADER_WORDS + (seq as usize % ENTRIES) * ENTRY_WORDS..][..ENTRY_WORDS];
        e[0].store(nr as u64 | seq << 32, Relaxed);
        for (w, a) in e[1..7].iter().zip(args) {
            w.store(*a, Relaxed);
        }
        e[7].store(PENDING, Relaxed);
        s[0].store(seq + 1, Relaxed);
    }

    /// Child side: records the result of call `seq`.
    pub fn finish(&self, child: usize, seq: u64, result: u64) {
        let s = self.slot(child);
        s[HEADER_WORDS + (seq as usize % ENTRIES) * ENTRY_WORDS + 7].store(result, Relaxed);
    }

    /// Child side: marks call `seq` as the first odd one.
    pub fn mark_odd(&self, child: usize, seq: u64) {
        let _ = self.slot(child)[1].compare_exchange(0, seq + 1, Relaxed, Relaxed);
    }

    /// Prints child `child`'s last `max` calls, oldest first, one
    /// `fuzz:   #SEQ name(args) = result` line each.
    pub fn print_last(&self, child: usize, max: usize) {
        let s = self.slot(child);
        let started = s[0].load(Relaxed);
        let n = started.min(ENTRIES as u64).min(max as u64);
        for seq in started - n..started {
            let e = &s[HEADER_WORDS + (seq as usize % ENTRIES) * ENTRY_WORDS..][..ENTRY_WORDS];
            let head = e[0].load(Relaxed);
            let nr = (head & 0xffff_ffff) as usize;
            if head >> 32 != seq {
                println!("fuzz:   #{seq} (entry overwritten: {head:#x})");
                continue;
            }
            let a: [u64; 6] = core::array::from_fn(|i| e[1 + i].load(Relaxed));
            let name = calls::by_nr(nr).map_or("?", |c| c.name);
            let argc = calls::by_nr(nr).map_or(6, |c| c.args.len());
            let r = e[7].load(Relaxed);
            let args = ArgList(&a[..argc]);
            match r {
                PENDING => println!("fuzz:   #{seq} {name}({args}) = (no result: did not return)"),
                r if (r as i64) < 0 && (r as i64) >= -4095 => {
                    println!("fuzz:   #{seq} {name}({args}) = -{:?}", Errno(-(r as i64) as i32))
                }
                r => println!("fuzz:   #{seq} {name}({args}) = {r:#x}"),
            }
        }
    }
}

/// The value of canary word `i`.
fn canary(i: usize) -> u64 {
    0xca4a_7000_0000_0000 | i as u64
}

/// Arguments printed as `0x1, 0x2, 0x3`.
pub struct ArgList<'a>(pub &'a [u64]);

impl core::fmt::Display for ArgList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a:#x}")?;
        }
        Ok(())
    }
}
