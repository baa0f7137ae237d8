//! Catching a fault that does not go away.
//!
//! The fault handler answers *spurious* when the page tables already allow
//! the access that faulted: only a stale TLB entry (or, with several CPUs,
//! another CPU changing the entry at that moment) can have denied it, so
//! the entry's TLB copy is dropped and the access retried. If the same
//! access at the same page comes back spurious again and again, the tables
//! and the handler disagree about what the entry allows: a kernel bug. Left
//! alone it would retry for ever (with interrupts masked, when the access
//! is a system call's copy, the whole machine would stop).
//!
//! A [`SpuriousWatch`] per process counts consecutive spurious resolutions
//! of one access; past [`SPURIOUS_LIMIT`] the caller reports the bug and
//! fails the access (SIGSEGV for the program, EFAULT for a copy) instead.

/// How many times in a row one access may resolve as spurious before it
/// counts as a kernel bug. On one CPU the retry after a TLB invalidation
/// must succeed; the margin allows for another CPU changing the entry.
pub const SPURIOUS_LIMIT: u32 = 4;

/// Watches the faults of one process for a spurious resolution that
/// repeats without progress. `K` identifies an access (page and kind).
///
/// Invariant: while `last` is set, `repeats` counts its consecutive
/// spurious resolutions; any other outcome clears `last`, and a spurious
/// fault of another access starts the count over.
#[derive(Copy, Clone, Debug)]
pub struct SpuriousWatch<K> {
    last: Option<K>,
    repeats: u32,
}

impl<K> Default for SpuriousWatch<K> {
    fn default() -> Self {
        Self { last: None, repeats: 0 }
    }
}

impl<K: PartialEq + Copy> SpuriousWatch<K> {
    /// Records the outcome of a fault of access `key`. `Err(n)` when this
    /// was the `n`-th spurious resolution in a row, past the limit: the
    /// caller fails the access (and the count starts over).
    #[inline]
    pub fn note(&mut self, key: K, spurious: bool) -> Result<(), u32> {
        if !spurious {
            self.last = None;
            return Ok(());
        }
        if self.last == Some(key) {
            self.repeats += 1;
        } else {
            *self = Self { last: Some(key), repeats: 1 };
        }
        if self.repeats > SPURIOUS_LIMIT {
            let n = self.repeats;
            *self = Self::default();
            return Err(n);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeating_spurious_fault_is_stopped() {
        let mut w = SpuriousWatch::default();
        for _ in 0..SPURIOUS_LIMIT {
            assert_eq!(w.note((0x1000u64, 0u8), true), Ok(()));
        }
        assert_eq!(w.note((0x1000, 0), true), Err(SPURIOUS_LIMIT + 1));
        // Then it starts over.
        assert_eq!(w.note((0x1000, 0), true), Ok(()));
    }

    #[test]
    fn progress_or_another_access_starts_over() {
        let mut w = SpuriousWatch::default();
        for round in 0..100 {
            for _ in 0..SPURIOUS_LIMIT {
                assert_eq!(w.note((0x1000u64, 1u8), true), Ok(()), "round {round}");
            }
            if round % 2 == 0 {
                assert_eq!(w.note((0x1000, 1), false), Ok(())); // resolved for real
            } else {
                assert_eq!(w.note((0x2000, 1), true), Ok(())); // another page
            }
        }
    }
}
