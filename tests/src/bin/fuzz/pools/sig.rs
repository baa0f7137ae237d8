//! The pools of the signal calls and of the calls that make processes and
//! threads (`clone3`, `thread`, `vfork`).
//!
//! Structures (`struct sigaction`, `sigset_t`, `siginfo_t`, `stack_t`,
//! `struct clone_args`) are built afresh for each call in the child's
//! structure page ([`Pools::put`]), so that every field varies; a few
//! times in each pool the pointer is null or bad instead.
//!
//! Signals go only where they cannot reach the fuzzer itself (see
//! [`Pools::sig_pid`]): a SIGSTOP or any deadly signal may hit the child,
//! its threads, the processes it made, or its siblings, all of which the
//! round ends with SIGKILL (a stopped process included).

use super::{Pools, KERNEL_IMAGE, NO_PID, PAGE, TEXT_START};
use crate::calls::Arg;
use crate::rng::Rng;
use crate::spawn;

const SA_NOCLDSTOP: u64 = 1;
const SA_NOCLDWAIT: u64 = 2;
const SA_SIGINFO: u64 = 4;
const SA_UNSUPPORTED: u64 = 0x400;
const SA_EXPOSE_TAGBITS: u64 = 0x800;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SS_ONSTACK: u64 = 1;
const SS_DISABLE: u64 = 2;
const SS_AUTODISARM: u64 = 1 << 31;
const SIGCHLD: u64 = 17;
/// `CLONE_VM`, `CLONE_VFORK`, `CLONE_THREAD`, `CLONE_SIGHAND`, `CLONE_PIDFD`,
/// `CLONE_SETTLS`, `CLONE_PARENT_SETTID`, `CLONE_CHILD_CLEARTID`,
/// `CLONE_CHILD_SETTID`, `CLONE_PARENT`, `CLONE_NEWNS`.
const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x1_0000;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_SETTLS: u64 = 0x8_0000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
const CLONE_PARENT: u64 = 0x8000;
const CLONE_NEWNS: u64 = 0x2_0000;
/// Bytes of a `struct clone_args` built by [`Pools::clone_args`], the
/// known fields (88 bytes) and then zeros, or a nonzero byte at [`TAIL`].
const CLONE_ARGS_BYTES: usize = 256;
const TAIL: usize = 120;

impl Pools {
    /// Picks a value for one of the signal and process kinds of `arg`
    /// (`x`: a random word).
    pub(super) fn gen_sig(&mut self, arg: Arg, rng: &mut Rng, x: u64) -> u64 {
        match arg {
            Arg::SigNum => rng.weighted(&[(16, 1 + x % 64), (1, 0), (1, 65), (1, u64::MAX), (1, 1 << 32 | 10), (1, x)]),
            Arg::SigPid => self.sig_pid(rng),
            Arg::SigAction => self.sigaction(rng, x),
            Arg::SigSet => match rng.below(10) {
                0 => 0,
                1 => self.pointer(rng),
                _ => {
                    let set = rng.weighted(&[
                        (3, 0),
                        (2, u64::MAX),
                        (3, x),
                        (1, 1 << 10),
                        (1, 1 << 13 | 1 << 16),
                        (1, 1 << 31 | 1 << 33),
                    ]);
                    self.put(&[set])
                }
            },
            Arg::SigSetSize => rng.weighted(&[(14, 8), (1, 0), (1, 4), (1, 16), (1, x)]),
            Arg::SigHow => rng.weighted(&[(3, 0), (3, 1), (3, 2), (1, 3), (1, x)]),
            Arg::SigInfo => self.siginfo(rng, x),
            Arg::StackT => self.stack_t(rng),
            // A null timeout would wait for ever; a huge one too.
            Arg::ShortTimespec => match rng.below(16) {
                0..=11 => rng.pick(&self.times_short),
                12..=13 => rng.pick(&self.times_bad),
                _ => rng.pick(&[self.hole, self.none, KERNEL_IMAGE, self.straddle + PAGE - 8]),
            },
            Arg::CloneArgs => {
                if rng.one_in(10) {
                    self.pointer(rng)
                } else {
                    self.clone_args(rng, x)
                }
            }
            Arg::CloneSize => rng.weighted(&[
                (6, 64),
                (6, 88),
                (2, 80),
                (2, 96),
                (3, 128),
                (1, 0),
                (1, 63),
                (1, 4097),
                (1, 4096),
                (1, x),
            ]),
            Arg::ThreadFlags => rng.weighted(&[
                (16, spawn::THREAD_FLAGS),
                // No CLEARTID: the slot stays taken.
                (1, spawn::THREAD_FLAGS & !CLONE_CHILD_CLEARTID),
                // No CLONE_SIGHAND: EINVAL.
                (1, spawn::THREAD_FLAGS & !CLONE_SIGHAND),
                // A process sharing the memory, on the slot's stack.
                (1, CLONE_VM | CLONE_SIGHAND | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | SIGCHLD),
                (1, spawn::THREAD_FLAGS | CLONE_CHILD_SETTID),
                (1, spawn::THREAD_FLAGS | CLONE_NEWNS),
                (1, spawn::THREAD_FLAGS | SIGCHLD),
            ]),
            Arg::ThreadHow => {
                (x % (spawn::THREAD_CALLS + 1)) | if rng.one_in(4) { spawn::THREAD_GROUP_EXIT } else { 0 }
            }
            Arg::VforkFlags => rng.weighted(&[
                (12, spawn::VFORK_FLAGS | SIGCHLD),
                (2, spawn::VFORK_FLAGS),
                (1, CLONE_VFORK | SIGCHLD),
                (1, spawn::VFORK_FLAGS | CLONE_PARENT_SETTID | SIGCHLD),
                (1, spawn::VFORK_FLAGS | 65),
            ]),
            Arg::VforkThreadFlags => rng.weighted(&[
                (6, spawn::VFORK_FLAGS | CLONE_THREAD | CLONE_SIGHAND),
                (3, spawn::THREAD_FLAGS | CLONE_VFORK),
                (1, spawn::VFORK_FLAGS | CLONE_THREAD),
            ]),
            Arg::VforkPath => match rng.below(16) {
                0..=5 => 0,
                6..=10 => self.exec_paths[5],
                11 => self.exec_paths[1],
                12 => self.exec_paths[6],
                13 => self.hole,
                14 => KERNEL_IMAGE,
                _ => self.exec_paths[0],
            },
            _ => unreachable!("not a signal or process kind: {arg:?}"),
        }
    }

    /// Writes `words` into the next structure of the structure page and
    /// returns its address.
    fn put(&mut self, words: &[u64]) -> u64 {
        let at = self.structs + (self.next_struct % (PAGE / super::STRUCT_BYTES)) * super::STRUCT_BYTES;
        self.next_struct += 1;
        for (i, &w) in words.iter().enumerate().take(super::STRUCT_BYTES as usize / 8) {
            // SAFETY: inside the child's structure page (unless a hostile
            // call unmapped it: then this faults, as hostile calls may).
            unsafe { core::ptr::write_volatile((at as *mut u64).add(i), w) };
        }
        at
    }

    /// Gives this copy of the pools (a thread's) an alternate stack buffer
    /// ([`super::ALTSTACK_PAGES`] pages) and a structure page of its own,
    /// the two one after the other at `at`: two threads on one alternate
    /// stack would write their signal frames over each other.
    pub fn set_thread_areas(&mut self, at: u64) {
        self.altstack = at;
        self.structs = at + super::ALTSTACK_PAGES as u64 * PAGE;
        self.next_struct = 0;
    }

    /// Where the thread stacks are.
    pub fn thread_slots(&self) -> u64 {
        self.slots
    }

    /// A pid to send a signal to. Whatever the choice, a value whose low
    /// 32 bits (`pid_t`) would reach init, the parent, or a process group
    /// or broadcast that includes them, becomes a pid nobody has.
    fn sig_pid(&mut self, rng: &mut Rng) -> u64 {
        let me = i64::from(self.me);
        let p: i64 = match rng.below(32) {
            0..=5 => me,
            6..=9 => self.tids.pick(rng).map_or(me, |t| t as i64),
            10..=15 => self.kids.pick(rng).map_or(NO_PID, |k| k as i64),
            16..=20 => i64::from(self.ring.pid(rng.below(self.ring.children() as u64) as usize)),
            21 => -me,
            _ => rng.pick(&[
                NO_PID,
                -NO_PID,
                i64::from(i32::MAX),
                i64::from(i32::MIN),
                (1 << 32) | me,
                (-1i64 << 32) | me,
            ]),
        };
        let low = p as i32;
        let near_parent = [0, 1, -1, self.ppid, -self.ppid, self.parent_pgid, -self.parent_pgid];
        if near_parent.contains(&low) {
            NO_PID as u64
        } else {
            p as u64
        }
    }

    /// A `struct sigaction`: handler, flags, restorer, mask.
    fn sigaction(&mut self, rng: &mut Rng, x: u64) -> u64 {
        match rng.below(16) {
            0 => return 0,
            1 => return self.pointer(rng),
            _ => {}
        }
        let handler = rng.weighted(&[
            (6, 0),
            (6, 1),
            (24, spawn::handler()),
            (1, self.hole),
            (1, self.rw),
            (1, KERNEL_IMAGE),
            (1, TEXT_START + 2),
            (1, x),
        ]);
        let mut flags = 0;
        for (bit, one_in) in [
            (SA_SIGINFO, 2),
            (SA_RESTART, 2),
            (SA_ONSTACK, 4),
            (SA_NODEFER, 6),
            (SA_RESETHAND, 6),
            (SA_RESTORER, 3),
            (SA_NOCLDSTOP, 8),
            (SA_NOCLDWAIT, 8),
            (SA_UNSUPPORTED, 16),
            (SA_EXPOSE_TAGBITS, 16),
        ] {
            if rng.one_in(one_in) {
                flags |= bit;
            }
        }
        if rng.one_in(32) {
            flags = x.rotate_left(17);
        }
        // Garbage restorers: the handler's return faults (never the
        // program's first instruction, which would start it again).
        let restorer = if flags & SA_RESTORER != 0 {
            rng.weighted(&[(12, spawn::restorer()), (1, 0), (1, self.hole), (1, TEXT_START + 1), (1, KERNEL_IMAGE)])
        } else {
            rng.weighted(&[(3, 0), (1, self.hole)])
        };
        let mask = rng.weighted(&[(4, 0), (2, u64::MAX), (2, x.rotate_left(7)), (1, 1 << 10)]);
        self.put(&[handler, flags, restorer, mask])
    }

    /// A `siginfo_t` (128 bytes): signo, errno, code, then the union.
    fn siginfo(&mut self, rng: &mut Rng, x: u64) -> u64 {
        if rng.one_in(8) {
            return self.pointer(rng);
        }
        // SI_QUEUE, SI_USER, SI_TKILL, SI_KERNEL, SI_ASYNCIO-ish, garbage.
        let code = rng.weighted(&[(4, -1i32), (2, 0), (1, -6), (1, 0x80), (1, 1), (1, -60), (1, x as i32)]);
        let signo = rng.weighted(&[(3, 0u64), (1, x % 65)]);
        let mut w = [0u64; 16];
        w[0] = signo | (x >> 32 & 0xff) << 32;
        w[1] = u64::from(code as u32);
        w[2] = u64::from(self.me as u32);
        w[3] = x;
        self.put(&w)
    }

    /// A `stack_t`: sp, flags, size.
    fn stack_t(&mut self, rng: &mut Rng) -> u64 {
        match rng.below(12) {
            0 => return 0,
            1 => return self.pointer(rng),
            _ => {}
        }
        let alt = self.altstack;
        let size = (super::ALTSTACK_PAGES as u64) * PAGE;
        let (sp, flags, len) = rng.weighted(&[
            (8, (alt, 0, size)),
            (1, (alt, 0, 2048)),
            (2, (0, SS_DISABLE, 0)),
            (1, (alt, SS_AUTODISARM, size)),
            (1, (alt, SS_ONSTACK, size)),
            (1, (alt, 7, size)),
            (1, (self.hole, 0, size)),
            (1, (KERNEL_IMAGE, 0, 1 << 16)),
            (1, (self.ro, 0, 2 * PAGE)),
            (1, (alt, 0, u64::MAX)),
            (1, (0, 0, size)),
        ]);
        self.put(&[sp, flags, len])
    }

    /// A `struct clone_args`: flags, pidfd, child_tid, parent_tid,
    /// exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup,
    /// then zeros up to [`CLONE_ARGS_BYTES`] (a nonzero byte at [`TAIL`]
    /// a third of the time: E2BIG for a size that reaches it).
    fn clone_args(&mut self, rng: &mut Rng, x: u64) -> u64 {
        let flags = rng.weighted(&[
            (6, 0),
            (3, CLONE_VM | CLONE_VFORK),
            (3, spawn::THREAD_FLAGS),
            (2, CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID),
            (1, CLONE_VM),
            (1, CLONE_PIDFD),
            (1, CLONE_THREAD),
            (1, CLONE_PARENT),
            (1, CLONE_SETTLS),
            (1, x),
        ]);
        let exit_signal = if flags & CLONE_THREAD != 0 {
            rng.weighted(&[(6, 0), (1, SIGCHLD)])
        } else {
            rng.weighted(&[(6, SIGCHLD), (2, 0), (1, 65), (1, x)])
        };
        // The child runs none of our code (spawn.rs): any stack will do.
        let (stack, stack_size) = rng.weighted(&[
            (4, (0, 0)),
            (4, (self.rw, PAGE)),
            (1, (0, PAGE)),
            (1, (self.rw, 0)),
            (1, (self.hole, PAGE)),
            (1, (u64::MAX - 8, 64)),
        ]);
        let pidfd = self.pointer(rng);
        let child_tid = self.pointer(rng);
        let parent_tid = self.pointer(rng);
        let (set_tid, set_tid_size) = rng.weighted(&[(8, (0, 0)), (1, (self.rw, 1)), (1, (self.rw, 33)), (1, (0, 1))]);
        let mut w = [0u64; CLONE_ARGS_BYTES / 8];
        w[..11].copy_from_slice(&[
            flags,
            pidfd,
            child_tid,
            parent_tid,
            exit_signal,
            stack,
            stack_size,
            x,
            set_tid,
            set_tid_size,
            0,
        ]);
        if rng.one_in(3) {
            w[TAIL / 8] = 1;
        }
        self.put(&w)
    }
}
