//! One fuzzing child: set up, then `calls` random system calls.
//!
//! The child first makes its standard descriptors harmless (0 reads the
//! console, which has no input and blocks; 1 and 2 go to `/dev/null`, so
//! random writes do not garble the serial console), moves into its
//! scratch directory, builds its pools and opens a few descriptors. Then
//! each call is drawn from the table, recorded in the ring, made, and its
//! result recorded and learned from. The child ends by itself after its
//! calls, or earlier when one of them kills it (a `munmap` of its own
//! text, a signal, a thread's `exit_group`) or replaces it (`execve` of
//! `/bin/hello`). The processes and threads it makes are made and run by
//! `spawn.rs`: those of `clone`, `clone3` and vforks leave at once, its
//! threads make a few calls of their own. The memory accesses of the
//! table (`touch`) are made by the child itself.
//!
//! Making these calls is deliberately unsound: the kernel is handed
//! pointers into this process's own memory, which it may overwrite or
//! unmap. The parent counts whatever that does to the child; the report it
//! prints comes from the ring, which lives in the parent's memory too.

use crate::calls::{self, Call, CLONE, CLONE3, THREAD, TOUCH, VFORK, VFORK_THREAD};
use crate::pools::Pools;
use crate::ring::{ArgList, Ring};
use crate::rng::Rng;
use crate::spawn;
use core::fmt::Write;
use user::fs::{self, O_RDONLY, O_RDWR, O_WRONLY};
use user::syscall;
use user::util::FmtBuf;

/// The descriptor the `trace` option prints on (a copy of the console).
const TRACE_FD: i32 = 200;

/// The exit status of a child that could not set itself up (no memory).
pub const SETUP_FAILED: i32 = 3;
/// The exit status of a panic (the user library's): a child panics when a
/// call it made overwrote or replaced its own memory (its stack zeroed by a
/// `MAP_FIXED` mapping, say) without killing it.
pub const PANICKED: i32 = 101;

/// What a child needs to know.
pub struct Plan<'a> {
    pub seed: u64,
    pub index: usize,
    pub gen: u64,
    pub calls: u64,
    pub table: &'a [&'static Call],
    pub ring: Ring,
    pub trace: bool,
}

/// The buffer in the child's frame that pools point the kernel at; the
/// pools also write structures there (`pollfd`s, `fd_set`s), so it is
/// aligned.
#[repr(align(16))]
struct Local([u8; 72 << 10]);

/// Runs child `plan.index`; never returns.
pub fn run(plan: &Plan<'_>) -> ! {
    let mut rng = Rng::for_child(plan.seed, plan.index as u64, plan.gen);
    // The kernel may write into this through pointers from the pools: a
    // read's 64 KiB at most, so it cannot reach the frames around it.
    let mut local = Local([0; 72 << 10]);
    let code = match setup(plan, &mut rng, local.0.as_mut_ptr() as u64) {
        Ok(mut pools) => {
            fuzz(plan, &mut rng, &mut pools);
            0
        }
        Err(_) => SETUP_FAILED,
    };
    core::hint::black_box(&mut local);
    user::exit(code)
}

fn setup(plan: &Plan<'_>, rng: &mut Rng, stack: u64) -> Result<Pools, user::Errno> {
    if plan.trace {
        fs::dup3(1, TRACE_FD, 0)?;
    }
    let null = fs::open(c"/dev/null", O_WRONLY, 0)?;
    let console = fs::open(c"/dev/console", O_RDONLY, 0)?;
    fs::dup3(console, 0, 0)?;
    fs::dup3(null, 1, 0)?;
    // With `trace`, standard error stays on the console: a panic's
    // message shows there.
    if !plan.trace {
        fs::dup3(null, 2, 0)?;
    }
    fs::close(null)?;
    fs::close(console)?;
    let mut dir = FmtBuf::<32>::new();
    let _ = write!(dir, "/tmp/fuzz/c{}\0", plan.index);
    let dir = core::ffi::CStr::from_bytes_until_nul(dir.as_str().as_bytes()).map_err(|_| user::Errno::EINVAL)?;
    fs::chdir(dir)?;
    let mut pools = Pools::new(plan.index, plan.ring, rng, stack)?;
    // A few descriptors to start from (an earlier generation may have
    // left f0 as a directory: then it is one descriptor fewer).
    for (path, flags) in
        [(c"f0", O_RDWR | fs::O_CREAT), (c"/dev/memdev", O_RDWR), (c"/bin/hello", O_RDONLY), (c"/", O_RDONLY)]
    {
        if let Ok(fd) = fs::open(path, flags, 0o644) {
            pools.add_fd(fd);
        }
    }
    Ok(pools)
}

/// What each call of a child (its main thread or one of its threads) needs.
pub struct Ctx<'a> {
    pub table: &'a [&'static Call],
    pub index: usize,
    pub trace: bool,
}

fn fuzz(plan: &Plan<'_>, rng: &mut Rng, pools: &mut Pools) {
    let ring = plan.ring;
    let ctx = Ctx { table: plan.table, index: plan.index, trace: plan.trace };
    for seq in 0..plan.calls {
        let (call, a) = draw(&ctx, pools, rng);
        if plan.trace {
            trace(plan.index, None, seq, call, &a);
        }
        ring.start(plan.index, seq, call.nr, &a);
        let r = make(&ctx, pools, rng, call.nr, &a);
        if plan.trace {
            trace_result(plan.index, None, seq, r);
            // Which call damaged the ring, if one did.
            if let Some(w) = ring.damaged() {
                let mut line = FmtBuf::<96>::new();
                let _ = writeln!(line, "fuzz: c{} the ring is damaged after #{seq} (word {w})", plan.index);
                let _ = fs::write(TRACE_FD, line.as_str().as_bytes());
            }
        }
        ring.finish(plan.index, seq, r);
        if pools.is_odd(call.nr, r) {
            ring.mark_odd(plan.index, seq);
        }
        pools.learn(call.nr, &a, r);
    }
}

/// One call of thread `thread` of the child (not recorded in the ring).
pub fn one_call(ctx: &Ctx<'_>, pools: &mut Pools, rng: &mut Rng, thread: Option<usize>, seq: u64) {
    let (call, a) = draw(ctx, pools, rng);
    if ctx.trace {
        trace(ctx.index, thread, seq, call, &a);
    }
    let r = make(ctx, pools, rng, call.nr, &a);
    if ctx.trace {
        trace_result(ctx.index, thread, seq, r);
    }
    pools.learn(call.nr, &a, r);
}

/// Draws a call from the table (a rare one only once in its
/// [`calls::rarity`] draws) and its arguments.
fn draw(ctx: &Ctx<'_>, pools: &mut Pools, rng: &mut Rng) -> (&'static Call, [u64; 6]) {
    loop {
        let call = ctx.table[rng.below(ctx.table.len() as u64) as usize];
        if calls::rarity(call.nr) > 1 && !rng.one_in(calls::rarity(call.nr)) {
            continue;
        }
        let mut a = [0u64; 6];
        for (slot, &kind) in a.iter_mut().zip(call.args) {
            *slot = pools.gen(kind, rng);
        }
        pools.bound_blocking(call.nr, &mut a);
        return (call, a);
    }
}

/// Makes call `nr` with arguments `a`: a system call, `touch`, or a
/// process or thread made by `spawn.rs`.
fn make(ctx: &Ctx<'_>, pools: &mut Pools, rng: &mut Rng, nr: usize, a: &[u64; 6]) -> u64 {
    match nr {
        // SAFETY: deliberately none (see the module documentation): a load
        // from a hostile address faults or reads something.
        TOUCH if a[1] & 1 == 0 => u64::from(unsafe { core::ptr::read_volatile(a[0] as *const u8) }),
        TOUCH => {
            // SAFETY: deliberately none: a store to a hostile address (the
            // pool leaves out this program's text, data and stack).
            unsafe { core::ptr::write_volatile(a[0] as *mut u8, (a[1] >> 1) as u8) };
            0
        }
        CLONE | CLONE3 => spawn::clone_leave(nr, a),
        VFORK | VFORK_THREAD => spawn::vfork_exec(a[0], a[1], a[2]),
        THREAD => spawn::thread(ctx, pools, rng, a[0], a[1]),
        _ => {
            let [a0, a1, a2, a3, a4, a5] = a.map(|x| x as usize);
            // SAFETY: deliberately none (see the module documentation): the
            // arguments are hostile, and whatever the kernel does to this
            // process with them is what the fuzzer is looking at.
            let r = unsafe { syscall::syscall6(nr, a0, a1, a2, a3, a4, a5) };
            r as u64
        }
    }
}

/// `cN` for the main thread of child N, `cN.tS` for its thread in slot S.
struct Who(usize, Option<usize>);

impl core::fmt::Display for Who {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.1 {
            None => write!(f, "c{}", self.0),
            Some(s) => write!(f, "c{}.t{s}", self.0),
        }
    }
}

/// Prints `fuzz: cN #SEQ = result` on the trace descriptor.
fn trace_result(index: usize, thread: Option<usize>, seq: u64, r: u64) {
    let mut line = FmtBuf::<64>::new();
    let _ = writeln!(line, "fuzz: {} #{seq} = {r:#x}", Who(index, thread));
    let _ = fs::write(TRACE_FD, line.as_str().as_bytes());
}

/// Prints `fuzz: cN #SEQ name(args)` on the trace descriptor, in one write.
fn trace(index: usize, thread: Option<usize>, seq: u64, call: &Call, a: &[u64; 6]) {
    let mut line = FmtBuf::<256>::new();
    let _ = writeln!(line, "fuzz: {} #{seq} {}({})", Who(index, thread), call.name, ArgList(&a[..call.args.len()]));
    let _ = fs::write(TRACE_FD, line.as_str().as_bytes());
}
