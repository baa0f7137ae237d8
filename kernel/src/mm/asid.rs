//! Address-space identifiers (ASIDs) with generations.
//!
//! Every TLB entry for user memory is tagged with the ASID of the address
//! space it belongs to, so switching processes needs no TLB flush: the new
//! process's TTBR0 carries its own ASID, and stale entries of others simply
//! do not match. ASIDs are few (256 or 65536), so they are handed out in
//! *generations*: when the current generation runs out, the generation
//! number increases, the whole TLB is flushed once, and every address space
//! must get a fresh ASID the next time it runs (its old one belongs to a
//! past generation). ASID 0 is reserved for "no process" (the kernel's idle
//! state with an empty TTBR0).

/// An address space's ASID tagged with the generation it was allocated in.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct AsidTag {
    pub generation: u64,
    pub asid: u16,
}

/// Hands out ASIDs.
///
/// Invariant: every ASID in `1..next` was given out in `generation`; an
/// [`AsidTag`] from an older generation may no longer be used without a
/// fresh allocation.
pub struct AsidAllocator {
    bits: u32,
    generation: u64,
    next: u32,
}

/// What [`AsidAllocator::refresh`] asks the caller to do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The tag is current: nothing to do.
    Current,
    /// A new ASID was assigned in the same generation.
    Assigned,
    /// A new generation started: flush the whole TLB before using the ASID.
    FlushAll,
}

impl AsidAllocator {
    /// An allocator for a CPU with `bits` ASID bits (8 or 16).
    pub const fn new(bits: u32) -> Self {
        Self { bits, generation: 1, next: 1 }
    }

    /// Number of usable ASIDs per generation.
    pub fn capacity(&self) -> u32 {
        (1 << self.bits) - 1
    }

    /// Makes `tag` valid for the current generation, allocating if needed.
    pub fn refresh(&mut self, tag: &mut AsidTag) -> Refresh {
        if tag.generation == self.generation && tag.asid != 0 {
            return Refresh::Current;
        }
        let mut outcome = Refresh::Assigned;
        if self.next > self.capacity() {
            self.generation += 1;
            self.next = 1;
            outcome = Refresh::FlushAll;
        }
        *tag = AsidTag { generation: self.generation, asid: self.next as u16 };
        self.next += 1;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigns_then_keeps() {
        let mut a = AsidAllocator::new(8);
        let mut t = AsidTag::default();
        assert_eq!(a.refresh(&mut t), Refresh::Assigned);
        assert_eq!(t.asid, 1);
        assert_eq!(a.refresh(&mut t), Refresh::Current);
        assert_eq!(t.asid, 1);
    }

    #[test]
    fn rollover_starts_a_generation_and_flushes_once() {
        let mut a = AsidAllocator::new(8);
        let mut tags = [AsidTag::default(); 255];
        for t in tags.iter_mut() {
            assert_eq!(a.refresh(t), Refresh::Assigned);
        }
        let mut seen: alloc::vec::Vec<u16> = tags.iter().map(|t| t.asid).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 255);
        assert!(!seen.contains(&0));
        // The 256th address space starts generation 2.
        let mut extra = AsidTag::default();
        assert_eq!(a.refresh(&mut extra), Refresh::FlushAll);
        assert_eq!(extra, AsidTag { generation: 2, asid: 1 });
        // Old tags are stale now and get new ASIDs without another flush.
        assert_eq!(a.refresh(&mut tags[0]), Refresh::Assigned);
        assert_eq!(tags[0], AsidTag { generation: 2, asid: 2 });
    }
}
