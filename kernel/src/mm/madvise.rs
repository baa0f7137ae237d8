//! `madvise`: what a program tells the kernel about a range of its memory.
//!
//! The arguments are checked first (`madvise_args.rs`). Then each area in
//! the range gets the advice for its part, in address order, as Linux's
//! `madvise_walk_vmas` does: an error of an area ends the call; a hole in
//! the range is reported as ENOMEM only after the areas around it were
//! done (POPULATE_* stops at the hole at once, as Linux does).
//!
//! - DONTNEED and FREE drop the range's page-table entries and the frames
//!   they held: the next access faults the page in again, so private
//!   anonymous memory reads as zeros, a private file mapping as the file, a
//!   shared mapping as the shared object. Device memory (`/dev/memdev`,
//!   Linux's VM_PFNMAP) is refused with EINVAL; FREE takes private
//!   anonymous memory only.
//! - POPULATE_READ and POPULATE_WRITE fault every page in as a load or a
//!   store would; an area that does not allow it is EINVAL, a page that
//!   cannot exist (past the end of a file) EFAULT.
//! - REMOVE needs a shared writable mapping (EINVAL for private anonymous
//!   memory, EACCES otherwise) and then a hole punched in the object, which
//!   armmap's RAM objects cannot do yet: EOPNOTSUPP, as a Linux file system
//!   without hole punching answers.
//! - The paging hints (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, MERGEABLE,
//!   HUGEPAGE, COLD, PAGEOUT, ...) have nothing to act on (no swap, no
//!   readahead, no page merging, no huge page collapse) and succeed. The fork hints (DONTFORK, WIPEONFORK and
//!   their opposites) are accepted but not yet kept: fork copies such an
//!   area like any other.

use super::address_space::AddressSpace;
use super::fault::{self, Access, Failure};
use super::madvise_args::{self, Advice};
use super::vma::Vma;
use crate::errno::Errno;

/// `madvise(addr, len, advice)` on `mm`.
pub fn madvise(mm: &mut AddressSpace, addr: u64, len: u64, advice: u64) -> Result<(), Errno> {
    let advice = madvise_args::decode(advice)?;
    let Some((start, end)) = madvise_args::range(addr, len)? else { return Ok(()) };
    let mut hole = false;
    let mut at = start;
    while at < end {
        let Some(v) = mm.vmas.overlapping(at, end).next().cloned() else {
            hole = true;
            break;
        };
        if v.start > at {
            if matches!(advice, Advice::Populate { .. }) {
                return Err(Errno::ENOMEM);
            }
            hole = true;
        }
        let (s, e) = (at.max(v.start), end.min(v.end));
        apply(mm, &v, s, e, advice)?;
        at = e;
    }
    if hole {
        Err(Errno::ENOMEM)
    } else {
        Ok(())
    }
}

/// The advice for `[s, e)`, a part of area `v`.
fn apply(mm: &mut AddressSpace, v: &Vma, s: u64, e: u64, advice: Advice) -> Result<(), Errno> {
    match advice {
        Advice::Hint | Advice::ForkHint => Ok(()),
        Advice::DontNeed | Advice::Free => {
            let private_anon = v.backing.is_anonymous() && !v.shared;
            if v.backing.is_device() || (advice == Advice::Free && !private_anon) {
                return Err(Errno::EINVAL);
            }
            mm.unmap_pages(s, e);
            Ok(())
        }
        Advice::Remove => {
            if v.backing.is_device() || (v.backing.is_anonymous() && !v.shared) {
                Err(Errno::EINVAL)
            } else if !v.shared || !v.prot.write() {
                Err(Errno::EACCES)
            } else {
                Err(Errno::EOPNOTSUPP)
            }
        }
        Advice::Populate { write } => {
            if v.backing.is_device() {
                return Err(Errno::EFAULT);
            }
            if !v.prot.readable() || (write && !v.prot.write()) {
                return Err(Errno::EINVAL);
            }
            let access = if write { Access::Write } else { Access::Read };
            for va in (s..e).step_by(super::addr::PAGE_SIZE) {
                let present = mm.translate(va).is_some();
                if !present || write {
                    match fault::handle(mm, va, access, !present) {
                        Ok(_) => {}
                        Err(Failure::OutOfMemory) => return Err(Errno::ENOMEM),
                        Err(_) => return Err(Errno::EFAULT),
                    }
                }
            }
            Ok(())
        }
    }
}
