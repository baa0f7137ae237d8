//! `fuzz`: the system-call fuzzer (`cargo xtask fuzz`, and a short round
//! in `cargo xtask test`).
//!
//! Run as init (pid 1) with `seed=S procs=N calls=M [minutes=T] [child=K
//! gen=G] [skip=NAME,...] [trace] [verbose]` after `--` on the kernel
//! command line. Each round forks N children that make M system calls
//! each, drawn from every call armmap implements (`calls.rs`), with
//! arguments from hostile pools (`pools.rs`), recording their last calls
//! where the parent can read them (`ring.rs`); the processes and threads
//! they make run the code of `spawn.rs`. The parent watches them,
//! ends them and checks (`round.rs`, `checks.rs`) that the kernel is alive,
//! no process is stuck, no zombie is left, the free-frame count is back at
//! its baseline, no call gave an odd result, no system call kept the
//! kernel busy for seconds, and the system files are unchanged. Each check
//! prints a harness line (`test fuzz::NAME ... ok`), then comes one summary
//! line:
//!
//! ```text
//! fuzz: seed=1 procs=8 calls=2000: alive, 0 stuck, frames 22269 -> 22269 (baseline), 66 children killed by signal
//! ```
//!
//! A failure prints the seed, the child (`K.G`: index K, generation G, see
//! `round.rs`) and its last calls, and the command that replays it: a
//! child's calls depend only on (seed, K, G), and `child=K gen=G` forks
//! that child alone. `trace` makes children print each call before making
//! it and its result after (for a kernel panic or hang, where the parent
//! cannot report). `minutes=T` runs rounds (seeds derived from S, each
//! printed) until T minutes have passed or a round leaves processes behind
//! or a broken kernel. `skip=` leaves calls out (say, a known bug's);
//! `verbose` prints how each child ended and its last calls. The exit
//! status is 0 if every check passed.
//!
//! The fuzzer refuses to run anywhere but on armmap: its children send
//! signals to random pids, which on a real Linux (`qemu-aarch64`) are the
//! user's own processes.
#![no_std]
#![no_main]

mod calls;
mod checks;
mod child;
mod pools;
mod ring;
mod rng;
mod round;
mod spawn;

use calls::{Call, CALLS};
use ring::Ring;
use round::{Intact, Outcome, Settings};
use user::test::Harness;
use user::time::{self, Timespec};
use user::{check, println, Args};

user::entry!(main);

/// Command-line options.
struct Opts {
    seed: u64,
    procs: usize,
    calls: u64,
    minutes: Option<u64>,
    child: Option<usize>,
    gen: u64,
    skip: &'static str,
    trace: bool,
    verbose: bool,
}

fn parse(args: &Args) -> Result<Opts, &'static str> {
    let mut o = Opts {
        seed: 1,
        procs: 8,
        calls: 2000,
        minutes: None,
        child: None,
        gen: 0,
        skip: "",
        trace: false,
        verbose: false,
    };
    for a in args.strs().skip(1) {
        let (key, value) = a.split_once('=').unwrap_or((a, ""));
        let num = || value.parse::<u64>().map_err(|_| "a number is expected after '='");
        match key {
            "seed" => o.seed = num()?,
            "procs" => o.procs = num()? as usize,
            "calls" => o.calls = num()?,
            "minutes" => o.minutes = Some(num()?),
            "child" => o.child = Some(num()? as usize),
            "gen" => o.gen = num()?,
            "skip" => o.skip = value,
            "trace" => o.trace = true,
            "verbose" => o.verbose = true,
            _ => return Err("unknown option (seed= procs= calls= minutes= child= gen= skip= trace verbose)"),
        }
    }
    if o.procs == 0 || o.procs > ring::MAX_CHILDREN {
        return Err("procs must be 1..=512");
    }
    if o.child.is_some_and(|k| k >= o.procs) {
        return Err("child must be below procs");
    }
    Ok(o)
}

/// The calls the children draw from: the table minus `skip`.
fn table(skip: &str, out: &mut [&'static Call; CALLS.len()]) -> Result<usize, &'static str> {
    for name in skip.split(',').filter(|n| !n.is_empty()) {
        if calls::by_name(name).is_none() {
            println!("fuzz: skip: no call named {name:?}");
            return Err("skip names an unknown call");
        }
    }
    let mut n = 0;
    for c in CALLS {
        if !skip.split(',').any(|s| s == c.name) {
            out[n] = c;
            n += 1;
        }
    }
    if n == 0 {
        return Err("every call is skipped");
    }
    Ok(n)
}

/// Touches 512 KiB of stack below this frame (far more than a round
/// needs), so that the parent's stack pages are all there before the first
/// frame count.
#[inline(never)]
fn prefault_stack() {
    let mut pad = [0u8; 512 << 10];
    for b in pad.iter_mut().step_by(1024) {
        // SAFETY: `b` is a valid byte of `pad`; volatile so the stores happen.
        unsafe { core::ptr::write_volatile(b, 1) };
    }
    core::hint::black_box(&mut pad);
}

fn main(args: Args) -> i32 {
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            println!("fuzz: {e}");
            return 2;
        }
    };
    if !user::util::on_armmap() {
        println!("fuzz: refusing to run outside armmap: the children signal random pids");
        return 2;
    }
    let mut all = [&CALLS[0]; CALLS.len()];
    let n = match table(o.skip, &mut all) {
        Ok(n) => n,
        Err(e) => {
            println!("fuzz: {e}");
            return 2;
        }
    };
    println!(
        "fuzz: seed={} procs={} calls={} ({} system calls in the table{}{})",
        o.seed,
        o.procs,
        o.calls,
        n,
        if o.skip.is_empty() { "" } else { ", skipping " },
        o.skip
    );
    if user::getpid() != 1 {
        println!("fuzz: note: running as pid {}, not as init", user::getpid());
    }

    // Everything the parent keeps exists before the first frame count.
    let ring = match Ring::map(o.procs) {
        Ok(r) => r,
        Err(e) => {
            println!("fuzz: cannot map the ring: {e}");
            return 1;
        }
    };
    let _ = user::fs::mkdir(c"/tmp/fuzz", 0o755);
    for i in 0..o.procs {
        let _ = user::fs::mkdir(checks::scratch_dir(i).c(), 0o755);
    }
    prefault_stack();
    let intact = Intact::new();
    let mut vmstat: checks::VmstatBuf = [0; 1024];
    let _ = checks::free_frames(&mut vmstat);
    let start = time::now();
    let until = o.minutes.map(|m| Timespec { tv_sec: start.tv_sec + 60 * m as i64, tv_nsec: start.tv_nsec });

    let mut h = Harness::new("fuzz");
    let mut total = Outcome::default();
    let mut first_bad: Option<Outcome> = None;
    let mut failed_rounds = 0u64;
    let mut last = Outcome::default();
    let mut rounds = 0u64;
    loop {
        // Round seeds of different runs do not meet: mix(S ^ mix(R)).
        let seed = if rounds == 0 { o.seed } else { rng::mix(o.seed ^ rng::mix(rounds)) };
        if o.minutes.is_some() {
            // Before the round: if the kernel hangs or panics in it, this
            // is the seed to replay.
            println!("fuzz: round {} seed={seed}", rounds + 1);
        }
        let s = Settings {
            seed,
            procs: o.procs,
            calls: o.calls,
            only: o.child,
            gen: o.gen,
            trace: o.trace,
            verbose: o.verbose,
            table: &all[..n],
            until,
            skip: o.skip,
        };
        let r = round::run(&s, &ring, &mut vmstat, &intact);
        rounds += 1;
        if o.minutes.is_some() {
            println!(
                "fuzz: round {rounds}: {} calls, {} exited, {} killed by signal, frames {} -> {}{}",
                r.calls,
                r.exited,
                r.killed,
                r.frames_before,
                r.frames_after,
                if r.ok() { "" } else { ": FAILED" }
            );
        }
        add(&mut total, &r);
        if !r.ok() {
            failed_rounds += 1;
        }
        // A round that left processes behind, or a kernel that does not
        // work, spoils the next rounds: stop. Other failures (frames, odd
        // results) leave a clean machine: go on, the first one is reported.
        let clean = r.stuck == 0 && r.others_stuck == 0 && !r.zombies_left && r.alive.is_none();
        if !r.ok() && first_bad.is_none() {
            println!(
                "fuzz: FAILED at seed={seed} (round {rounds}); replay: cargo xtask fuzz --seed {seed} --procs {} --calls {}{}{}",
                o.procs,
                o.calls,
                if o.skip.is_empty() { "" } else { " --skip " },
                o.skip
            );
            first_bad = Some(r);
        } else if first_bad.is_none() {
            last = r;
        }
        if !clean || until.is_none_or(|u| time::now() >= u) {
            break;
        }
    }
    let shown = first_bad.unwrap_or(last);

    h.case("kernel_alive", || {
        check!(shown.alive.is_none(), "{}", shown.alive.unwrap_or(""));
        Ok(())
    });
    h.case("no_stuck_process", || {
        check!(shown.stuck == 0, "{} children stuck after SIGKILL", shown.stuck);
        check!(shown.others_stuck == 0, "{} processes made by clone stuck after SIGKILL", shown.others_stuck);
        Ok(())
    });
    h.case("zombies_reaped", || {
        check!(!shown.zombies_left, "wait4(-1, WNOHANG) did not answer ECHILD after the round");
        Ok(())
    });
    h.case("frames_at_baseline", || {
        check!(
            shown.frames_before == shown.frames_after,
            "nr_free_pages {} before the round, {} after ({} scratch entries left)",
            shown.frames_before,
            shown.frames_after,
            shown.scratch_left
        );
        Ok(())
    });
    h.case("no_odd_results", || {
        check!(shown.odd == 0, "{} children with an odd result or exit status (see above)", shown.odd);
        Ok(())
    });
    h.case("kernel_never_frozen", || {
        check!(
            shown.freezes == 0,
            "{} times the parent was not scheduled for over {} ms (the longest: {} ms)",
            shown.freezes,
            round::FROZEN_MS,
            shown.longest_freeze_ms
        );
        Ok(())
    });
    h.case("system_files_intact", || {
        check!(shown.files_changed == 0, "{} system files changed", shown.files_changed);
        Ok(())
    });

    print_stats(&total, rounds, failed_rounds);
    let diff = shown.frames_after as i64 - shown.frames_before as i64;
    let mut frames = user::util::FmtBuf::<48>::new();
    let _ = match diff {
        0 => core::fmt::Write::write_str(&mut frames, "(baseline)"),
        d if d < 0 => core::fmt::Write::write_fmt(&mut frames, format_args!("({} fewer than the baseline)", -d)),
        d => core::fmt::Write::write_fmt(&mut frames, format_args!("({d} more than the baseline)")),
    };
    let rounds_text = if o.minutes.is_some() { " rounds=" } else { "" };
    let mut rounds_num = user::util::FmtBuf::<24>::new();
    if o.minutes.is_some() {
        let _ = core::fmt::Write::write_fmt(&mut rounds_num, format_args!("{rounds}"));
    }
    println!(
        "fuzz: seed={} procs={} calls={}{rounds_text}{}: {}, {} stuck, frames {} -> {} {}, {} children killed by signal",
        o.seed,
        o.procs,
        o.calls,
        rounds_num.as_str(),
        if shown.alive.is_none() { "alive" } else { "NOT alive" },
        shown.stuck + shown.others_stuck,
        shown.frames_before,
        shown.frames_after,
        frames.as_str(),
        total.killed
    );
    h.finish()
}

fn add(total: &mut Outcome, r: &Outcome) {
    total.calls += r.calls;
    total.exited += r.exited;
    total.killed += r.killed;
    for (t, x) in total.by_signal.iter_mut().zip(r.by_signal) {
        *t += x;
    }
    total.others_reaped += r.others_reaped;
    total.continued += r.continued;
    total.setup_failed += r.setup_failed;
    total.panicked += r.panicked;
    total.fork_failed += r.fork_failed;
    total.low_memory_kills += r.low_memory_kills;
    total.stalled += r.stalled;
    total.odd += r.odd;
}

/// One line of totals over the rounds: calls, how children ended, clone
/// children reaped.
fn print_stats(t: &Outcome, rounds: u64, failed: u64) {
    let mut sigs = user::util::FmtBuf::<256>::new();
    for (sig, &n) in t.by_signal.iter().enumerate().filter(|(_, &n)| n > 0) {
        let sep = if sigs.as_str().is_empty() { "" } else { ", " };
        let _ =
            core::fmt::Write::write_fmt(&mut sigs, format_args!("{sep}{} {n}", user::process::signal_name(sig as i32)));
    }
    println!(
        "fuzz: {} rounds ({} failed), {} calls started, {} children exited, {} panicked, {} killed by signal ({}; by the parent: {} after {} ms without a call, {} for low memory), {} clone children reaped, {} stopped processes continued, {} could not set up, {} forks failed",
        rounds,
        failed,
        t.calls,
        t.exited,
        t.panicked,
        t.killed,
        sigs.as_str(),
        t.stalled,
        round::STALL_MS,
        t.low_memory_kills,
        t.others_reaped,
        t.continued,
        t.setup_failed,
        t.fork_failed
    );
}
