//! `madvise`'s arguments, checked as Linux's `do_madvise` checks them:
//! the advice first (EINVAL for one it does not know), then the start
//! (page aligned), then the length (rounded up to pages; EINVAL if that
//! overflows). A zero length after that is a successful no-op. Portable:
//! unit-tested on the host; `madvise.rs` acts on the checked range.

use super::addr::PAGE_SIZE;
use crate::errno::Errno;

/// What a program advises about a range (`MADV_*`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Advice {
    /// NORMAL, RANDOM, SEQUENTIAL, WILLNEED, MERGEABLE, UNMERGEABLE,
    /// HUGEPAGE, NOHUGEPAGE, COLD, PAGEOUT, DONTDUMP, DODUMP: hints about
    /// paging, reading ahead, page merging, huge pages, swap or core files,
    /// which armmap (no swap, no readahead, no KSM, no transparent huge
    /// pages, no core files) has nothing to do for.
    Hint,
    /// DONTNEED: the pages go; private anonymous memory reads as zeros
    /// afterwards, a private file mapping as the file, a shared one as the
    /// shared object.
    DontNeed,
    /// FREE: private anonymous memory may be dropped (here: it is, as
    /// DONTNEED).
    Free,
    /// REMOVE: punch a hole in the shared object behind the range.
    Remove,
    /// DONTFORK/DOFORK, WIPEONFORK/KEEPONFORK: what fork does with the area.
    ForkHint,
    /// POPULATE_READ/POPULATE_WRITE: fault every page in now, as a load or
    /// a store would.
    Populate { write: bool },
}

/// The advice `advice` names; EINVAL for one Linux (Debian's arm64
/// configuration, without memory-failure injection) does not accept.
pub fn decode(advice: u64) -> Result<Advice, Errno> {
    Ok(match advice {
        0..=3 | 12..=17 | 20 | 21 => Advice::Hint,
        4 => Advice::DontNeed,
        8 => Advice::Free,
        9 => Advice::Remove,
        10 | 11 | 18 | 19 => Advice::ForkHint,
        22 => Advice::Populate { write: false },
        23 => Advice::Populate { write: true },
        // HWPOISON/SOFT_OFFLINE need memory-failure injection, COLLAPSE
        // transparent huge pages.
        _ => return Err(Errno::EINVAL),
    })
}

/// The page range `[start, end)` of `madvise(addr, len, ..)`, or `None`
/// for an empty one (nothing to do, success).
pub fn range(addr: u64, len: u64) -> Result<Option<(u64, u64)>, Errno> {
    let page = PAGE_SIZE as u64;
    if !addr.is_multiple_of(page) {
        return Err(Errno::EINVAL);
    }
    let len = len.checked_add(page - 1).ok_or(Errno::EINVAL)? & !(page - 1);
    let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
    Ok((end > addr).then_some((addr, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice() {
        assert_eq!(decode(4), Ok(Advice::DontNeed));
        assert_eq!(decode(8), Ok(Advice::Free));
        assert_eq!(decode(23), Ok(Advice::Populate { write: true }));
        assert_eq!(decode(0), Ok(Advice::Hint));
        for bad in [5, 6, 7, 24, 25, 100, 101, u64::MAX] {
            assert_eq!(decode(bad), Err(Errno::EINVAL), "advice {bad}");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(range(0x1000, 1), Ok(Some((0x1000, 0x2000))));
        assert_eq!(range(0x1000, 0), Ok(None));
        assert_eq!(range(0x1001, 4096), Err(Errno::EINVAL));
        assert_eq!(range(0x1000, u64::MAX), Err(Errno::EINVAL));
        assert_eq!(range(!0xfff, 0x2000), Err(Errno::EINVAL));
    }
}
