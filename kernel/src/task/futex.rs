//! Futexes: the kernel half of user-space locks and condition variables.
//!
//! A futex is a 32-bit word in user memory. User space changes it with
//! atomic instructions and enters the kernel only to sleep until the word
//! changes (`FUTEX_WAIT`: "sleep if the word still holds `val`") or to wake
//! the threads sleeping on it (`FUTEX_WAKE`). Linux adds bitset-filtered
//! waits and wakes, requeueing sleepers from one word to another (what
//! condition variables use for broadcast) and `FUTEX_WAKE_OP`, which
//! changes a second word and wakes on both, all in one call. armmap
//! implements those (Linux's `kernel/futex/`, without the priority
//! inheritance operations, which answer ENOSYS), plus robust lists: what
//! a dying thread leaves in the locks it held.
//!
//! **Keys.** A sleeper is queued under the *key* of its word. A private
//! futex (`FUTEX_PRIVATE_FLAG`, or any futex in private memory) is keyed
//! by its address space and virtual address, so two processes never meet
//! on one even at equal addresses; a futex in a `MAP_SHARED` mapping
//! (anonymous or file) is keyed by the physical address of the word, which
//! is the same for every process mapping that page, wherever it maps it
//! (shared anonymous frames and page-cache frames stay with their object
//! for its whole life, so the frame names the page as Linux's (inode, page
//! index) does).
//!
//! **Queues.** Sleepers sit in [`Queues`]: [`BUCKETS`] first-in first-out
//! lists chosen by a hash of the key, every entry naming its key (several
//! keys share a bucket). Requeue moves entries between buckets. The number
//! of entries is bounded by the number of threads (one per sleeping
//! thread); a full bucket grows with a fallible reservation (ENOMEM, never
//! a panic).
//!
//! This file holds what is plain logic and is unit-tested on the host:
//! the operation and flag decoding, timeouts, `FUTEX_WAKE_OP` arithmetic,
//! the queues and the robust-list death rule. The system calls, which
//! touch user memory and sleep, are in `futex/sys.rs` (target only).

use crate::errno::Errno;
use alloc::vec::Vec;

#[cfg(target_os = "none")]
mod sys;
#[cfg(target_os = "none")]
pub use sys::*;

use linux_raw_sys::general as linux;

/// The operations (`op & FUTEX_CMD_MASK`), Linux's numbering.
pub mod cmd {
    use linux_raw_sys::general as linux;
    pub const WAIT: u32 = linux::FUTEX_WAIT;
    pub const WAKE: u32 = linux::FUTEX_WAKE;
    pub const REQUEUE: u32 = linux::FUTEX_REQUEUE;
    pub const CMP_REQUEUE: u32 = linux::FUTEX_CMP_REQUEUE;
    pub const WAKE_OP: u32 = linux::FUTEX_WAKE_OP;
    pub const LOCK_PI: u32 = linux::FUTEX_LOCK_PI;
    pub const UNLOCK_PI: u32 = linux::FUTEX_UNLOCK_PI;
    pub const TRYLOCK_PI: u32 = linux::FUTEX_TRYLOCK_PI;
    pub const WAIT_BITSET: u32 = linux::FUTEX_WAIT_BITSET;
    pub const WAKE_BITSET: u32 = linux::FUTEX_WAKE_BITSET;
    pub const WAIT_REQUEUE_PI: u32 = linux::FUTEX_WAIT_REQUEUE_PI;
    pub const CMP_REQUEUE_PI: u32 = linux::FUTEX_CMP_REQUEUE_PI;
    pub const LOCK_PI2: u32 = linux::FUTEX_LOCK_PI2;
}

/// The futex is private to the address space.
pub const FUTEX_PRIVATE_FLAG: u32 = linux::FUTEX_PRIVATE_FLAG;
/// `FUTEX_WAIT_BITSET`'s absolute timeout is on `CLOCK_REALTIME`.
pub const FUTEX_CLOCK_REALTIME: u32 = linux::FUTEX_CLOCK_REALTIME;
/// The bitset of `FUTEX_WAIT` and `FUTEX_WAKE`: matches every bitset.
pub const BITSET_MATCH_ANY: u32 = linux::FUTEX_BITSET_MATCH_ANY;

/// Robust futex word bits (the low 30 bits are the owner's thread id).
pub const FUTEX_WAITERS: u32 = linux::FUTEX_WAITERS;
pub const FUTEX_OWNER_DIED: u32 = linux::FUTEX_OWNER_DIED;
pub const FUTEX_TID_MASK: u32 = linux::FUTEX_TID_MASK;
/// At most this many robust-list entries are walked at exit (a list that
/// is longer, or circular, is cut there), as on Linux.
pub const ROBUST_LIST_LIMIT: u32 = linux::ROBUST_LIST_LIMIT;
/// `sizeof(struct robust_list_head)`: `{ next, futex_offset, list_op_pending }`.
pub const ROBUST_LIST_HEAD_LEN: u64 = core::mem::size_of::<linux::robust_list_head>() as u64;

/// A decoded `op` argument.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// `op` without the two flags; an unknown value is ENOSYS.
    pub cmd: u32,
    /// No `FUTEX_PRIVATE_FLAG`: the word may be shared between address spaces.
    pub shared: bool,
    pub realtime: bool,
}

impl Op {
    /// Splits `op` (Linux's `int`: only the low 32 bits of the register).
    pub fn decode(op: u64) -> Op {
        let op = op as u32;
        Op {
            cmd: op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME),
            shared: op & FUTEX_PRIVATE_FLAG == 0,
            realtime: op & FUTEX_CLOCK_REALTIME != 0,
        }
    }

    /// Whether the fourth argument is a timeout pointer (read, and
    /// checked, before anything else) rather than a count.
    pub fn has_timeout(self) -> bool {
        matches!(self.cmd, cmd::WAIT | cmd::LOCK_PI | cmd::LOCK_PI2 | cmd::WAIT_BITSET | cmd::WAIT_REQUEUE_PI)
    }

    /// `FUTEX_CLOCK_REALTIME` is allowed only with the absolute-timeout
    /// waits; elsewhere it is ENOSYS, as on Linux.
    pub fn check_clock(self) -> Result<(), Errno> {
        if self.realtime && !matches!(self.cmd, cmd::WAIT_BITSET | cmd::WAIT_REQUEUE_PI | cmd::LOCK_PI2) {
            return Err(Errno::ENOSYS);
        }
        Ok(())
    }
}

/// The deadline (nanoseconds since boot, the clock `CLOCK_MONOTONIC`
/// reads) of a wait with timeout `sec`/`nsec`: relative to `now` for
/// `FUTEX_WAIT`, absolute otherwise, on `CLOCK_REALTIME` (which reads
/// `realtime_offset` nanoseconds ahead of the monotonic clock, possibly a
/// negative amount) if `realtime`. EINVAL for a timespec Linux rejects
/// (negative seconds, nanoseconds outside 0..1e9). Far futures saturate;
/// a deadline before boot is 0 (already passed).
pub fn deadline(op: Op, sec: i64, nsec: i64, now: u64, realtime_offset: i64) -> Result<u64, Errno> {
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    let ns = (sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64);
    Ok(if op.cmd == cmd::WAIT {
        now.saturating_add(ns)
    } else if op.realtime {
        (i128::from(ns) - i128::from(realtime_offset)).clamp(0, i128::from(u64::MAX)) as u64
    } else {
        ns
    })
}

/// A decoded `FUTEX_WAKE_OP` operation (`val3`): change the second word
/// with `op` and `oparg`, then compare its *old* value with `cmparg`.
///
/// Layout: bit 31 "oparg is a shift count", bits 28..30 the operation,
/// bits 24..27 the comparison, bits 12..23 `oparg` and bits 0..11
/// `cmparg` (both 12-bit signed).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct WakeOp {
    pub op: u32,
    pub cmp: u32,
    pub oparg: i32,
    pub cmparg: i32,
}

/// Sign-extends the low 12 bits.
fn sext12(v: u32) -> i32 {
    ((v << 20) as i32) >> 20
}

impl WakeOp {
    pub const SET: u32 = linux::FUTEX_OP_SET;
    pub const ADD: u32 = linux::FUTEX_OP_ADD;
    pub const OR: u32 = linux::FUTEX_OP_OR;
    pub const ANDN: u32 = linux::FUTEX_OP_ANDN;
    pub const XOR: u32 = linux::FUTEX_OP_XOR;
    pub const CMP_EQ: u32 = linux::FUTEX_OP_CMP_EQ;
    pub const CMP_NE: u32 = linux::FUTEX_OP_CMP_NE;
    pub const CMP_LT: u32 = linux::FUTEX_OP_CMP_LT;
    pub const CMP_LE: u32 = linux::FUTEX_OP_CMP_LE;
    pub const CMP_GT: u32 = linux::FUTEX_OP_CMP_GT;
    pub const CMP_GE: u32 = linux::FUTEX_OP_CMP_GE;
    const OPARG_SHIFT: u32 = linux::FUTEX_OP_OPARG_SHIFT << 28;

    pub fn decode(encoded: u32) -> WakeOp {
        let mut oparg = sext12((encoded >> 12) & 0xfff);
        if encoded & Self::OPARG_SHIFT != 0 {
            // Linux masks an out-of-range shift count (and logs it).
            oparg = 1i32.wrapping_shl((oparg & 31) as u32);
        }
        WakeOp { op: (encoded >> 28) & 7, cmp: (encoded >> 24) & 0xf, oparg, cmparg: sext12(encoded & 0xfff) }
    }

    /// Whether the operation is one Linux knows (else ENOSYS, before the
    /// word is touched).
    pub fn valid_op(self) -> bool {
        self.op <= Self::XOR
    }

    /// The new value of a word that held `old`.
    pub fn apply(self, old: u32) -> u32 {
        let arg = self.oparg as u32;
        match self.op {
            Self::SET => arg,
            Self::ADD => old.wrapping_add(arg),
            Self::OR => old | arg,
            Self::ANDN => old & !arg,
            _ => old ^ arg,
        }
    }

    /// The comparison of the old value (signed, as Linux's `int`); ENOSYS
    /// for an unknown comparison (the word has been changed by then, as on
    /// Linux).
    pub fn compare(self, old: u32) -> Result<bool, Errno> {
        let (o, c) = (old as i32, self.cmparg);
        Ok(match self.cmp {
            Self::CMP_EQ => o == c,
            Self::CMP_NE => o != c,
            Self::CMP_LT => o < c,
            Self::CMP_LE => o <= c,
            Self::CMP_GT => o > c,
            Self::CMP_GE => o >= c,
            _ => return Err(Errno::ENOSYS),
        })
    }
}

/// What names a futex (see the module documentation).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// Address space (its id) and the word's virtual address.
    Private { mm: u64, addr: u64 },
    /// The word's physical address.
    Shared { phys: u64 },
}

/// Number of queue buckets.
pub const BUCKETS: usize = 64;

impl Key {
    /// The bucket the key's sleepers are in.
    pub fn bucket(self) -> usize {
        let (a, b) = match self {
            Key::Private { mm, addr } => (mm, addr),
            Key::Shared { phys } => (u64::MAX, phys),
        };
        // Words are 4-byte aligned: the low two bits carry nothing.
        let h = (a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (b >> 2)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 58) as usize % BUCKETS
    }
}

/// One sleeping thread.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Waiter {
    /// The thread (its pid).
    pub who: u32,
    pub key: Key,
    /// Woken only by wakes whose bitset shares a bit with this one.
    pub bitset: u32,
}

/// No memory to queue a sleeper or to make room for requeued ones.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NoMemory;

impl From<NoMemory> for Errno {
    fn from(_: NoMemory) -> Errno {
        Errno::ENOMEM
    }
}

/// The sleepers, by bucket.
///
/// Invariants: a thread is in at most one bucket, at most once, and only
/// in the bucket of its entry's key; each bucket is in arrival order (a
/// requeued entry counts as arriving when it is moved).
pub struct Queues {
    buckets: [Vec<Waiter>; BUCKETS],
}

impl Default for Queues {
    fn default() -> Self {
        Self::new()
    }
}

impl Queues {
    pub const fn new() -> Self {
        const EMPTY: Vec<Waiter> = Vec::new();
        Queues { buckets: [EMPTY; BUCKETS] }
    }

    /// Queues `w` at the end of its key's bucket.
    pub fn enqueue(&mut self, w: Waiter) -> Result<(), NoMemory> {
        let b = &mut self.buckets[w.key.bucket()];
        b.try_reserve(1).map_err(|_| NoMemory)?;
        b.push(w);
        Ok(())
    }

    /// Takes thread `who` out of the queues; false if it was not there
    /// (a wake took it out). `hint` is the key it was queued under: its
    /// bucket is looked at first (a requeue may have moved it since).
    pub fn unqueue(&mut self, who: u32, hint: Key) -> bool {
        let first = hint.bucket();
        let order = core::iter::once(first).chain((0..BUCKETS).filter(|&b| b != first));
        for b in order {
            let q = &mut self.buckets[b];
            if let Some(i) = q.iter().position(|w| w.who == who) {
                q.remove(i);
                return true;
            }
        }
        false
    }

    /// Whether thread `who` is queued.
    pub fn is_queued(&self, who: u32) -> bool {
        self.buckets.iter().any(|q| q.iter().any(|w| w.who == who))
    }

    /// Number of sleepers.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes sleepers on `key` whose bitset meets `bitset`, oldest first,
    /// calling `woken` for each after taking it out; returns how many. As
    /// Linux counts, a count below 1 still wakes one.
    pub fn wake(&mut self, key: Key, bitset: u32, nr: i32, mut woken: impl FnMut(u32)) -> u32 {
        let q = &mut self.buckets[key.bucket()];
        let mut n = 0u32;
        let mut i = 0;
        while i < q.len() {
            let w = q[i];
            if w.key != key || w.bitset & bitset == 0 {
                i += 1;
                continue;
            }
            q.remove(i);
            woken(w.who);
            n += 1;
            if i64::from(n) >= i64::from(nr) {
                break;
            }
        }
        n
    }

    /// Wakes up to `nr_wake` sleepers on `from` and moves up to
    /// `nr_requeue` more to `to`, oldest first; returns how many were
    /// woken or moved. The counts must not be negative (the caller answers
    /// EINVAL). Nothing changes when there is no room in `to`'s bucket.
    pub fn requeue(
        &mut self,
        from: Key,
        to: Key,
        nr_wake: u32,
        nr_requeue: u32,
        mut woken: impl FnMut(u32),
    ) -> Result<u32, NoMemory> {
        let (fb, tb) = (from.bucket(), to.bucket());
        let matching = self.buckets[fb].iter().filter(|w| w.key == from).count() as u64;
        let moving = matching.saturating_sub(u64::from(nr_wake)).min(u64::from(nr_requeue));
        if fb != tb {
            self.buckets[tb].try_reserve(moving as usize).map_err(|_| NoMemory)?;
        }
        let (mut done, mut moved) = (0u32, 0u64);
        let mut i = 0;
        while i < self.buckets[fb].len() && (u64::from(done) < u64::from(nr_wake) || moved < moving) {
            let w = self.buckets[fb][i];
            if w.key != from {
                i += 1;
                continue;
            }
            if done < nr_wake {
                self.buckets[fb].remove(i);
                woken(w.who);
            } else if fb == tb {
                self.buckets[fb][i].key = to;
                moved += 1;
                i += 1;
            } else {
                self.buckets[fb].remove(i);
                // Room was reserved above.
                self.buckets[tb].push(Waiter { key: to, ..w });
                moved += 1;
            }
            done += 1;
        }
        Ok(done)
    }
}

/// What a dying thread does to one futex word of its robust list.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Death {
    /// Not its lock: leave it.
    Nothing,
    /// The word is unowned but the thread died in the middle of taking or
    /// releasing it (`list_op_pending`): wake one sleeper so it can retry.
    WakeOnly,
    /// The thread owned it: store `new` (owner died, tid cleared, waiters
    /// bit kept) and wake one sleeper if `wake`.
    Mark { new: u32, wake: bool },
}

/// Linux's `handle_futex_death` rule for a word holding `uval`, seen by
/// dying thread `tid` (`pi`: a priority-inheritance futex, `pending`: the
/// `list_op_pending` entry).
pub fn on_death(uval: u32, tid: u32, pi: bool, pending: bool) -> Death {
    let owner = uval & FUTEX_TID_MASK;
    if pending && !pi && owner == 0 {
        return Death::WakeOnly;
    }
    if owner != tid & FUTEX_TID_MASK {
        return Death::Nothing;
    }
    Death::Mark { new: (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED, wake: !pi && uval & FUTEX_WAITERS != 0 }
}

/// A robust-list pointer: the entry's address and whether it is a
/// priority-inheritance futex (bit 0).
pub fn robust_entry(raw: u64) -> (u64, bool) {
    (raw & !1, raw & 1 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: u64) -> Key {
        Key::Private { mm: 1, addr: a }
    }

    fn w(who: u32, k: Key) -> Waiter {
        Waiter { who, key: k, bitset: BITSET_MATCH_ANY }
    }

    #[test]
    fn op_decoding() {
        let o = Op::decode(cmd::WAIT_BITSET as u64 | 128 | 256);
        assert_eq!(o, Op { cmd: cmd::WAIT_BITSET, shared: false, realtime: true });
        assert!(o.check_clock().is_ok());
        // Only the low 32 bits count; unknown high bits make an unknown command.
        assert_eq!(Op::decode(1 << 32).cmd, cmd::WAIT);
        assert_eq!(Op::decode(0x200 | 1).cmd, 0x201);
        assert_eq!(Op::decode(cmd::WAIT as u64 | 256).check_clock(), Err(Errno::ENOSYS));
        assert_eq!(Op::decode(cmd::WAKE as u64 | 256).check_clock(), Err(Errno::ENOSYS));
        assert!(Op::decode(cmd::LOCK_PI2 as u64 | 256).check_clock().is_ok());
        assert!(Op::decode(cmd::WAIT as u64).has_timeout());
        assert!(Op::decode(cmd::LOCK_PI as u64).has_timeout());
        assert!(!Op::decode(cmd::WAKE as u64).has_timeout());
        assert!(!Op::decode(cmd::CMP_REQUEUE as u64).has_timeout());
        assert!(Op::decode(cmd::WAKE as u64).shared);
    }

    #[test]
    fn deadlines() {
        let wait = Op::decode(cmd::WAIT as u64);
        let bits = Op::decode(cmd::WAIT_BITSET as u64);
        let rt = Op::decode(cmd::WAIT_BITSET as u64 | 256);
        assert_eq!(deadline(wait, 1, 5, 100, 0), Ok(1_000_000_105));
        assert_eq!(deadline(bits, 1, 5, 100, 0), Ok(1_000_000_005));
        assert_eq!(deadline(rt, 1, 5, 100, 1_000), Ok(999_999_005));
        assert_eq!(deadline(rt, 0, 5, 100, 1_000), Ok(0));
        assert_eq!(deadline(rt, 0, 5, 100, -1_000), Ok(1_005));
        assert_eq!(deadline(rt, i64::MAX, 999_999_999, 0, -1), Ok(u64::MAX));
        assert_eq!(deadline(wait, i64::MAX, 999_999_999, 100, 0), Ok(u64::MAX));
        for (s, ns) in [(-1, 0), (0, -1), (0, 1_000_000_000), (i64::MIN, 0)] {
            assert_eq!(deadline(wait, s, ns, 0, 0), Err(Errno::EINVAL));
            assert_eq!(deadline(bits, s, ns, 0, 0), Err(Errno::EINVAL));
        }
    }

    #[test]
    fn wake_op_decoding_and_arithmetic() {
        // FUTEX_OP(op, oparg, cmp, cmparg) as glibc's macro builds it.
        let enc = |op: u32, oparg: i32, cmp: u32, cmparg: i32| {
            (op & 0xf) << 28 | (cmp & 0xf) << 24 | ((oparg as u32) & 0xfff) << 12 | (cmparg as u32) & 0xfff
        };
        let o = WakeOp::decode(enc(WakeOp::ADD, -1, 2, -5));
        assert_eq!(o, WakeOp { op: WakeOp::ADD, cmp: 2, oparg: -1, cmparg: -5 });
        assert_eq!(o.apply(0), u32::MAX);
        assert_eq!(o.compare(-6i32 as u32), Ok(true));
        assert_eq!(o.compare(-5i32 as u32), Ok(false));
        assert_eq!(WakeOp::decode(enc(WakeOp::SET, 7, 0, 0)).apply(99), 7);
        assert_eq!(WakeOp::decode(enc(WakeOp::OR, 6, 0, 0)).apply(1), 7);
        assert_eq!(WakeOp::decode(enc(WakeOp::ANDN, 6, 0, 0)).apply(7), 1);
        assert_eq!(WakeOp::decode(enc(WakeOp::XOR, 5, 0, 0)).apply(6), 3);
        // Shift form: oparg is 1 << oparg; an out-of-range count is masked.
        let shift = 8 << 28;
        assert_eq!(WakeOp::decode(shift | enc(WakeOp::OR, 4, 0, 0)).apply(0), 16);
        assert_eq!(WakeOp::decode(shift | enc(WakeOp::SET, 33, 0, 0)).apply(0), 2);
        assert_eq!(WakeOp::decode(shift | enc(WakeOp::SET, -1, 0, 0)).apply(0), 1 << 31);
        // Comparisons are signed.
        // Comparisons are signed, numbered as Linux's FUTEX_OP_CMP_*:
        // EQ 0, NE 1, LT 2, LE 3, GT 4, GE 5.
        let cmp = |c: u32, old: i32, arg: i32| WakeOp::decode(enc(0, 0, c, arg)).compare(old as u32);
        let table = [
            // (cmp, results for old < arg, old == arg, old > arg)
            (0, [false, true, false]),
            (1, [true, false, true]),
            (2, [true, false, false]),
            (3, [true, true, false]),
            (4, [false, false, true]),
            (5, [false, true, true]),
        ];
        for (c, want) in table {
            for (old, w) in [-1, 0, 1].into_iter().zip(want) {
                assert_eq!(cmp(c, old, 0), Ok(w), "cmp {c}, old {old}, arg 0");
            }
        }
        assert_eq!(cmp(2, -1, 0), Ok(true));
        assert_eq!(cmp(6, 1, 0), Err(Errno::ENOSYS));
        assert_eq!(cmp(15, 1, 0), Err(Errno::ENOSYS));
        assert!(!WakeOp::decode(enc(5, 0, 0, 0)).valid_op());
        assert!(WakeOp::decode(enc(4, 0, 0, 0)).valid_op());
    }

    #[test]
    fn keys_compare_by_space_and_address_or_by_frame() {
        assert_eq!(Key::Private { mm: 1, addr: 8 }, Key::Private { mm: 1, addr: 8 });
        assert_ne!(Key::Private { mm: 1, addr: 8 }, Key::Private { mm: 2, addr: 8 });
        assert_ne!(Key::Private { mm: 1, addr: 8 }, Key::Private { mm: 1, addr: 12 });
        assert_ne!(Key::Private { mm: 1, addr: 8 }, Key::Shared { phys: 8 });
        assert_eq!(Key::Shared { phys: 0x4000_1008 }, Key::Shared { phys: 0x4000_1008 });
        for a in (0..4096).step_by(4) {
            assert!(key(a).bucket() < BUCKETS);
        }
        // Neighbouring words spread over several buckets.
        let mut seen = [false; BUCKETS];
        for a in (0..256).step_by(4) {
            seen[key(a).bucket()] = true;
        }
        assert!(seen.iter().filter(|&&s| s).count() > 8);
    }

    #[test]
    fn wake_is_fifo_per_key_and_honours_bitsets_and_counts() {
        let mut q = Queues::new();
        let (a, b) = (key(0x100), key(0x104));
        q.enqueue(w(1, a)).unwrap();
        q.enqueue(w(2, b)).unwrap();
        q.enqueue(Waiter { who: 3, key: a, bitset: 0b10 }).unwrap();
        q.enqueue(w(4, a)).unwrap();
        let mut got = Vec::new();
        // Bitset 0b01 skips thread 3.
        assert_eq!(q.wake(a, 0b01, 5, |p| got.push(p)), 2);
        assert_eq!(got, [1, 4]);
        // A count of 0 (or negative) still wakes one, as on Linux.
        assert_eq!(q.wake(a, BITSET_MATCH_ANY, 0, |p| got.push(p)), 1);
        assert_eq!(got, [1, 4, 3]);
        assert_eq!(q.wake(a, BITSET_MATCH_ANY, 1, |_| ()), 0);
        assert_eq!(q.len(), 1);
        assert!(q.is_queued(2));
        assert!(q.unqueue(2, b));
        assert!(!q.unqueue(2, b));
        assert!(q.is_empty());
    }

    #[test]
    fn requeue_wakes_then_moves_in_order() {
        let mut q = Queues::new();
        let (a, b) = (key(0x100), Key::Shared { phys: 0x7000 });
        for who in 1..=5 {
            q.enqueue(w(who, a)).unwrap();
        }
        q.enqueue(w(9, b)).unwrap();
        let mut got = Vec::new();
        assert_eq!(q.requeue(a, b, 1, 2, |p| got.push(p)), Ok(3));
        assert_eq!(got, [1]);
        // 2 and 3 now sleep on b, after 9; 4 and 5 stay on a.
        got.clear();
        assert_eq!(q.wake(b, BITSET_MATCH_ANY, 10, |p| got.push(p)), 3);
        assert_eq!(got, [9, 2, 3]);
        got.clear();
        assert_eq!(q.wake(a, BITSET_MATCH_ANY, 10, |p| got.push(p)), 2);
        assert_eq!(got, [4, 5]);
        // Zero counts do nothing.
        q.enqueue(w(1, a)).unwrap();
        assert_eq!(q.requeue(a, b, 0, 0, |_| ()), Ok(0));
        // A requeued thread is still found by unqueue with its old key.
        assert_eq!(q.requeue(a, b, 0, 1, |_| ()), Ok(1));
        assert!(q.unqueue(1, a));
        assert!(q.is_empty());
    }

    #[test]
    fn requeue_within_one_bucket_and_onto_the_same_key() {
        let mut q = Queues::new();
        let a = key(0x100);
        // A key in the same bucket as a.
        let b = (1..10_000u64).map(|i| key(0x100 + 4 * i)).find(|k| k.bucket() == a.bucket()).unwrap();
        q.enqueue(w(1, a)).unwrap();
        q.enqueue(w(2, a)).unwrap();
        assert_eq!(q.requeue(a, b, 0, 5, |_| ()), Ok(2));
        let mut got = Vec::new();
        assert_eq!(q.wake(b, BITSET_MATCH_ANY, 5, |p| got.push(p)), 2);
        assert_eq!(got, [1, 2]);
        q.enqueue(w(3, a)).unwrap();
        assert_eq!(q.requeue(a, a, 0, 5, |_| ()), Ok(1));
        assert!(q.unqueue(3, a));
    }

    #[test]
    fn robust_death_rule() {
        let tid = 42;
        assert_eq!(on_death(tid, tid, false, false), Death::Mark { new: FUTEX_OWNER_DIED, wake: false });
        assert_eq!(
            on_death(tid | FUTEX_WAITERS, tid, false, false),
            Death::Mark { new: FUTEX_WAITERS | FUTEX_OWNER_DIED, wake: true }
        );
        // An already-dead owner's word is marked again (recursive death).
        assert_eq!(
            on_death(tid | FUTEX_OWNER_DIED | FUTEX_WAITERS, tid, false, false),
            Death::Mark { new: FUTEX_WAITERS | FUTEX_OWNER_DIED, wake: true }
        );
        assert_eq!(on_death(43 | FUTEX_WAITERS, tid, false, false), Death::Nothing);
        assert_eq!(on_death(0, tid, false, false), Death::Nothing);
        assert_eq!(on_death(0, tid, false, true), Death::WakeOnly);
        assert_eq!(on_death(0, tid, true, true), Death::Nothing);
        assert_eq!(
            on_death(tid | FUTEX_WAITERS, tid, true, false),
            Death::Mark { new: FUTEX_WAITERS | FUTEX_OWNER_DIED, wake: false }
        );
        assert_eq!(ROBUST_LIST_HEAD_LEN, 24);
        assert_eq!(robust_entry(0x1001), (0x1000, true));
        assert_eq!(robust_entry(0x1000), (0x1000, false));
    }
}
