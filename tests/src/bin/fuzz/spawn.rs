//! The processes and threads a fuzzing child makes, and its signal handler.
//!
//! A process or thread that `clone`, `clone3` or a vfork makes starts on
//! the instruction after the `svc`, with the caller's registers, and (with
//! `CLONE_VM`) in the caller's memory, maybe on the caller's very stack.
//! Rust code cannot run there, so the calls are made by the small
//! assembly routines below, whose child side touches no memory at all:
//!
//! - `fuzz_clone_leave` makes any call (`clone`, `clone3`) and the child
//!   leaves at once with `exit(0)` (a thread ends alone, a process with it);
//! - `fuzz_vfork_exec` makes a `clone` (a vfork: `CLONE_VM | CLONE_VFORK`)
//!   whose child `execve`s a path (a nonexistent one mostly) and leaves
//!   with `exit(0)` when that fails, or at once when the path is 0;
//! - `fuzz_thread_start` makes a `clone` with a fresh stack whose top holds
//!   the thread's entry and argument: the new thread calls
//!   [`thread_main`], which makes a few calls from its own copy of the
//!   pools and ends with `exit` or `exit_group`.
//!
//! A child has [`SLOTS`] thread stacks (mapped at setup, see `pools.rs`),
//! each topped by its [`ThreadArg`]. A slot's `tid` word is 0 while the
//! slot is free; it is claimed (set to `u32::MAX`) before the clone,
//! `CLONE_PARENT_SETTID` writes the thread's id there and
//! `CLONE_CHILD_CLEARTID` clears it when the thread is gone. A thread
//! made without `CLONE_CHILD_CLEARTID` (or in another address space)
//! keeps its slot for good: the child then makes fewer threads, never two
//! on one stack. Threads are not recorded in the ring (each child's slot
//! there belongs to its main thread); `trace` prints their calls as
//! `cN.tS`. None of them outlives its child for long: the round's SIGKILL
//! of the child ends its threads, and the processes it made are killed
//! with every other process of the round.
//!
//! [`on_signal`] is the handler the pools install: it counts and returns.
//! For a fault signal it first puts back the default action, since the
//! faulting instruction runs again after the handler (the second fault
//! then kills the child, as it would have without a handler).

use crate::calls::Call;
use crate::child::{self, Ctx};
use crate::pools::Pools;
use crate::rng::Rng;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use user::errno::Errno;
use user::syscall::{self, nr};

/// Thread stacks a child has.
pub const SLOTS: usize = 4;
/// Bytes of each thread stack: from the bottom, the thread's alternate
/// signal stack and structure page (see `Pools::set_thread_areas`), its
/// stack, its [`ThreadArg`] at the top.
pub const STACK_BYTES: usize = 64 << 10;
/// `clone` flags of a thread as glibc makes one (`CLONE_VM | CLONE_FS |
/// CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
/// CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID`).
pub const THREAD_FLAGS: u64 = 0x3d0f00;
/// `CLONE_VM | CLONE_VFORK`.
pub const VFORK_FLAGS: u64 = 0x4100;
/// Most calls a thread makes.
pub const THREAD_CALLS: u64 = 8;
/// In a thread call's second argument: end with `exit_group` (else `exit`).
pub const THREAD_GROUP_EXIT: u64 = 0x100;

core::arch::global_asm!(
    ".text",
    ".p2align 2",
    ".globl fuzz_clone_leave",
    ".type fuzz_clone_leave, %function",
    // (a0..a5, nr): the call; the child exits at once.
    "fuzz_clone_leave:",
    "mov x8, x6",
    "svc #0",
    "cbz x0, 1f",
    "ret",
    "1: mov x0, #0",
    "mov x8, #93",
    "svc #0",
    "b 1b",
    ".size fuzz_clone_leave, . - fuzz_clone_leave",
    ".p2align 2",
    ".globl fuzz_vfork_exec",
    ".type fuzz_vfork_exec, %function",
    // (flags, path, argv, envp): clone(flags, 0, 0, 0, 0); the child
    // execs path (unless 0) and exits.
    "fuzz_vfork_exec:",
    "mov x9, x1",
    "mov x10, x2",
    "mov x11, x3",
    "mov x1, #0",
    "mov x2, #0",
    "mov x3, #0",
    "mov x4, #0",
    "mov x8, #220",
    "svc #0",
    "cbz x0, 1f",
    "ret",
    "1: cbz x9, 2f",
    "mov x0, x9",
    "mov x1, x10",
    "mov x2, x11",
    "mov x8, #221",
    "svc #0",
    "2: mov x0, #0",
    "mov x8, #93",
    "svc #0",
    "b 2b",
    ".size fuzz_vfork_exec, . - fuzz_vfork_exec",
    ".p2align 2",
    ".globl fuzz_thread_start",
    ".type fuzz_thread_start, %function",
    // (flags, stack, ptid, tls, ctid): clone; the child finds its entry
    // and argument at the top of its stack.
    "fuzz_thread_start:",
    "mov x8, #220",
    "svc #0",
    "cbz x0, 1f",
    "ret",
    "1: ldp x1, x0, [sp]",
    "blr x1",
    "2: mov x0, #0",
    "mov x8, #93",
    "svc #0",
    "b 2b",
    ".size fuzz_thread_start, . - fuzz_thread_start",
    ".p2align 2",
    ".globl fuzz_restorer",
    ".type fuzz_restorer, %function",
    // Where a handler installed with SA_RESTORER returns.
    "fuzz_restorer:",
    "mov x8, #139",
    "svc #0",
    ".size fuzz_restorer, . - fuzz_restorer",
);

extern "C" {
    fn fuzz_clone_leave(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, nr: u64) -> u64;
    fn fuzz_vfork_exec(flags: u64, path: u64, argv: u64, envp: u64) -> u64;
    fn fuzz_thread_start(flags: u64, stack: u64, ptid: u64, tls: u64, ctid: u64) -> u64;
    fn fuzz_restorer();
}

/// Makes `clone` or `clone3` (`nr`) with `a`; the new process or thread
/// leaves at once.
pub fn clone_leave(nr: usize, a: &[u64; 6]) -> u64 {
    // SAFETY: deliberately none beyond this: the arguments are hostile
    // (see child.rs); the new process or thread runs no code of ours.
    unsafe { fuzz_clone_leave(a[0], a[1], a[2], a[3], a[4], a[5], nr as u64) }
}

/// A vfork (`flags`, mostly `CLONE_VM | CLONE_VFORK`) whose child execs
/// `path` (0: exits at once) with `argv`.
pub fn vfork_exec(flags: u64, path: u64, argv: u64) -> u64 {
    // SAFETY: as in `clone_leave`: the child only makes system calls.
    unsafe { fuzz_vfork_exec(flags, path, argv, 0) }
}

/// The address handlers return to with SA_RESTORER.
pub fn restorer() -> u64 {
    fuzz_restorer as *const () as usize as u64
}

/// Signals the handler has run for, in this child (all its threads).
static HANDLED: AtomicU64 = AtomicU64::new(0);

/// The signal handler the pools install (with or without SA_SIGINFO: the
/// extra arguments are not looked at).
pub extern "C" fn on_signal(sig: i32, _info: usize, _uc: usize) {
    HANDLED.fetch_add(1, Relaxed);
    // SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV.
    if matches!(sig, 4 | 5 | 7 | 8 | 11) {
        let dfl = [0u64; 4];
        // SAFETY: rt_sigaction reads 32 bytes from `dfl`, a local.
        unsafe { syscall::syscall4(nr::RT_SIGACTION, sig as usize, dfl.as_ptr() as usize, 0, 8) };
    }
}

/// The handler's address.
pub fn handler() -> u64 {
    on_signal as *const () as usize as u64
}

/// What a thread needs, at the top of its stack (`tid` first: the kernel
/// writes and clears it there).
#[repr(C)]
pub struct ThreadArg {
    /// 0: the slot is free (see the module documentation).
    tid: AtomicU32,
    pools: Pools,
    rng: Rng,
    calls: u64,
    group_exit: bool,
    table: *const &'static Call,
    table_len: usize,
    index: usize,
    slot: usize,
    trace: bool,
}

/// Where slot `slot`'s [`ThreadArg`] is, in the slots mapped at `base`.
fn arg_at(base: u64, slot: usize) -> u64 {
    let top = base + ((slot + 1) * STACK_BYTES) as u64;
    (top - core::mem::size_of::<ThreadArg>() as u64) & !63
}

/// Starts a thread with `flags` that makes `how & 0xff` (at most
/// [`THREAD_CALLS`]) calls and then ends with `exit`, or `exit_group` if
/// [`THREAD_GROUP_EXIT`] is set. Returns what `clone` returned, or
/// -EAGAIN when every slot is taken.
pub fn thread(ctx: &Ctx<'_>, pools: &Pools, rng: &mut Rng, flags: u64, how: u64) -> u64 {
    let base = pools.thread_slots();
    for slot in 0..SLOTS {
        let at = arg_at(base, slot);
        // SAFETY: `at` is inside this child's slot mapping, aligned; the
        // `tid` word is only ever accessed atomically. (A hostile call
        // may have unmapped it: then this faults, as hostile calls may.)
        let tid = unsafe { &*(at as *const AtomicU32) };
        if tid.compare_exchange(0, u32::MAX, Relaxed, Relaxed).is_err() {
            continue;
        }
        let mut own = pools.clone();
        own.set_thread_areas(base + (slot * STACK_BYTES) as u64);
        let arg = ThreadArg {
            tid: AtomicU32::new(u32::MAX),
            pools: own,
            rng: rng.split(),
            calls: (how & 0xff).min(THREAD_CALLS),
            group_exit: how & THREAD_GROUP_EXIT != 0,
            table: ctx.table.as_ptr(),
            table_len: ctx.table.len(),
            index: ctx.index,
            slot,
            trace: ctx.trace,
        };
        // SAFETY: the slot is ours (claimed above); its ThreadArg area is
        // inside the mapping and aligned; the tid word stays as claimed.
        unsafe { core::ptr::write(at as *mut ThreadArg, arg) };
        let sp = at - 16;
        // SAFETY: the two words below the ThreadArg are the new stack's top.
        unsafe { core::ptr::write(sp as *mut [u64; 2], [thread_main as *const () as usize as u64, at]) };
        // SAFETY: deliberately none beyond this (hostile flags); the new
        // thread runs on the slot's stack, in `thread_main`.
        let r = unsafe { fuzz_thread_start(flags, sp, at, at, at) };
        if (r as i64) < 0 {
            tid.store(0, Relaxed);
        }
        return r;
    }
    -(Errno::EAGAIN.0 as i64) as u64
}

/// A thread's body: a few calls, then `exit` or `exit_group`.
extern "C" fn thread_main(arg: *mut ThreadArg) -> ! {
    // SAFETY: `arg` is this thread's ThreadArg, written before the clone;
    // its slot stays claimed until this thread is gone.
    let t = unsafe { &mut *arg };
    // SAFETY: the table is the fuzzer's (in `main`'s frame), alive as long
    // as the child's main thread is.
    let table = unsafe { core::slice::from_raw_parts(t.table, t.table_len) };
    let ctx = Ctx { table, index: t.index, trace: t.trace };
    for seq in 0..t.calls {
        child::one_call(&ctx, &mut t.pools, &mut t.rng, Some(t.slot), seq);
    }
    let nr = if t.group_exit { nr::EXIT_GROUP } else { nr::EXIT };
    loop {
        // SAFETY: exit and exit_group take no pointers and do not return.
        unsafe { syscall::syscall1(nr, 0) };
    }
}
