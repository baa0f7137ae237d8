//! One round: fork the children, let them make their calls, end them, and
//! check what they left behind.
//!
//! Child K makes `calls` calls in all: when one dies early (a signal, an
//! `execve`), the next *generation* of child K takes over with the calls
//! left, drawn from (seed, K, generation). So a round keeps `procs`
//! processes busy until every child index has made its calls, and a
//! report names the child as `K.G`. Each generation starts with an empty
//! scratch directory.
//!
//! The parent polls instead of blocking: every 10 ms it reaps whatever
//! ended (`wait4(-1, WNOHANG)`) and looks at the children's call counts in
//! the ring. In a round with an odd seed a process of the round that
//! stops (a SIGSTOP from a sibling) gets SIGCONT; with an even seed it
//! stays stopped (as the kernel must cope with stopped processes too,
//! when memory runs out, say). A child that has started no call for [`STALL_MS`]
//! (blocked: a long sleep, a read of the console) gets SIGKILL
//! (one blocked in a `vfork` is reported first: see
//! [`Children::check_vfork`]), and must be reaped
//! within [`KILL_MS`], or it is stuck. So does the busiest child when free
//! memory falls below an eighth of the baseline (the parent's own faults
//! must find memory).
//! A poll that comes more than [`FROZEN_MS`] after the one before means a
//! system call kept the kernel busy that long: reported, with the calls
//! the children were making. When every child index has made its
//! calls (or is stuck), or the run's time is up, each child still there
//! gets SIGKILL, and so does every other process of the round (the
//! processes `clone` made: found by probing the pids between the first
//! child's and a fresh one's); whatever has not been reaped [`KILL_MS`]
//! later is stuck too. Then `wait4(-1, WNOHANG)` must say ECHILD (no
//! zombie left: every process init inherits has SIGCHLD as its exit
//! signal, as on Linux), the scratch directories are emptied, and the free-frame
//! count must be back at the baseline taken before the fork.

use crate::calls::Call;
use crate::calls::{VFORK, VFORK_THREAD};
use crate::checks::{self, VmstatBuf};
use crate::child::{self, Plan};
use crate::ring::{Ring, ENTRIES};
use user::errno::Errno;
use user::println;
use user::process::{
    self, wexitstatus, wifexited, wifsignaled, wifstopped, wtermsig, ExitStatus, Pid, SIGCONT, SIGKILL, WNOHANG,
    WUNTRACED,
};
use user::time::{self, Timespec};

/// How long a child may start no call before the parent kills it.
pub const STALL_MS: i128 = 1000;
/// A gap between two of the parent's polls longer than this means the
/// kernel ran something else without a break (it is not preemptible).
pub const FROZEN_MS: i128 = 2000;
/// How long killed processes have to be reaped.
pub const KILL_MS: i128 = 3000;
/// Processes of a round other than the children that the parent tracks.
const MAX_OTHERS: usize = 512;

/// What a round is asked to do.
pub struct Settings<'a> {
    pub seed: u64,
    pub procs: usize,
    pub calls: u64,
    /// Fork only this child (replay), generation `gen`, once.
    pub only: Option<usize>,
    pub gen: u64,
    pub trace: bool,
    /// Print how each child ended and its last calls.
    pub verbose: bool,
    pub table: &'a [&'static Call],
    /// End the calls phase at this time (`--minutes`).
    pub until: Option<Timespec>,
    /// The `skip=` list, for the replay line.
    pub skip: &'a str,
}

/// What a round found.
#[derive(Default)]
pub struct Outcome {
    pub calls: u64,
    pub exited: u32,
    pub killed: u32,
    /// Children killed by each signal (index 0: numbers above 31).
    pub by_signal: [u32; 32],
    pub stuck: u32,
    /// Children killed by the parent for starting no call for [`STALL_MS`].
    pub stalled: u32,
    pub others_reaped: u32,
    /// Stopped processes the parent sent SIGCONT.
    pub continued: u32,
    /// Children that could not set themselves up (their index stops there).
    pub setup_failed: u32,
    /// Children that panicked (their own memory overwritten by a call).
    pub panicked: u32,
    /// Forks that failed (no memory; tried again).
    pub fork_failed: u32,
    /// Children the parent killed because free memory fell below 1/8 of
    /// the baseline.
    pub low_memory_kills: u32,
    /// The ring's canaries changed (reported once).
    pub ring_damaged: bool,
    /// Times the parent was not scheduled for [`FROZEN_MS`], and the
    /// longest such gap.
    pub freezes: u32,
    pub longest_freeze_ms: u64,
    pub others_stuck: u32,
    pub zombies_left: bool,
    pub odd: u32,
    pub scratch_left: u32,
    pub frames_before: u64,
    pub frames_after: u64,
    pub alive: Option<&'static str>,
    pub files_changed: u32,
}

impl Outcome {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.alive.is_none()
            && self.stuck == 0
            && self.others_stuck == 0
            && !self.zombies_left
            && self.frames_before == self.frames_after
            && self.odd == 0
            && self.freezes == 0
            && self.files_changed == 0
    }
}

/// The files that must come through a round unchanged, with their checksums.
pub struct Intact {
    pub paths: [&'static core::ffi::CStr; 4],
    pub sums: [Option<(u64, u64)>; 4],
}

impl Intact {
    /// Checksums `/bin/hello`, `/etc/motd`, `/init` and this program.
    pub fn new() -> Intact {
        let paths = [c"/bin/hello", c"/etc/motd", c"/init", c"/bin/fuzz"];
        let sums = paths.map(checks::checksum);
        Intact { paths, sums }
    }

    fn changed(&self) -> u32 {
        let mut n = 0;
        for (p, s) in self.paths.iter().zip(self.sums) {
            let now = checks::checksum(p);
            if now != s {
                println!("fuzz: {p:?} changed: (size, hash) {s:?} before, {now:?} after");
                n += 1;
            }
        }
        n
    }
}

fn now() -> Timespec {
    time::now()
}

fn ms_since(t: &Timespec) -> i128 {
    now().nanos_since(t) / 1_000_000
}

/// One child index of the round: the process now running for it (its
/// generation `gen`) and the calls its earlier generations made.
#[derive(Clone, Copy, Default)]
struct Slot {
    pid: Pid,
    gen: u64,
    done: u64,
    /// Calls the running generation had started when last seen, and when
    /// that count last changed.
    seen: u64,
    seen_at: Timespec,
    /// When the parent sent SIGKILL to the running generation.
    killed_at: Option<Timespec>,
    /// Reported stuck: left alone from then on.
    stuck: bool,
    /// The last fork failed (no memory): try again.
    pending: bool,
}

/// The parent's view of the round's children.
struct Children<'a, 'b> {
    s: &'a Settings<'b>,
    ring: &'a Ring,
    slots: [Slot; crate::ring::MAX_CHILDREN],
    /// The pid of the round's first child (later processes are the round's).
    first_pid: Pid,
    /// Start no new generation (the kill phase).
    killing: bool,
}

impl Children<'_, '_> {
    /// Forks generation `slots[i].gen` of child `i`.
    fn spawn(&mut self, i: usize, out: &mut Outcome) {
        let slot = self.slots[i];
        self.ring.reset(i);
        let plan = Plan {
            seed: self.s.seed,
            index: i,
            gen: slot.gen,
            calls: self.s.calls - slot.done,
            table: self.s.table,
            ring: *self.ring,
            trace: self.s.trace,
        };
        match process::fork() {
            Ok(0) => child::run(&plan),
            Ok(pid) => {
                let slot = &mut self.slots[i];
                (slot.pid, slot.seen, slot.seen_at, slot.killed_at, slot.pending) = (pid, 0, now(), None, false);
                self.ring.set_pid(i, pid);
                if self.first_pid == 0 {
                    self.first_pid = pid;
                }
            }
            Err(_) => {
                // Out of memory, for now: the watch loop tries again.
                self.slots[i].pending = true;
                out.fork_failed += 1;
            }
        }
    }

    /// Child `i` ended with `status`: counts it, reports anything odd, and
    /// forks its next generation if it has calls left to make.
    fn ended(&mut self, i: usize, status: i32, out: &mut Outcome) {
        let (pid, gen) = (self.slots[i].pid, self.slots[i].gen);
        self.slots[i].pid = 0;
        // A generation that died before its first call still uses one up.
        self.slots[i].done += self.ring.calls(i).max(1);
        out.calls += self.ring.calls(i);
        let code = if wifexited(status) { wexitstatus(status) } else { 0 };
        if wifsignaled(status) {
            out.killed += 1;
            let sig = wtermsig(status) as usize;
            out.by_signal[if sig < 32 { sig } else { 0 }] += 1;
        } else if code != child::SETUP_FAILED && code != child::PANICKED {
            out.exited += 1;
        }
        let s = self.s;
        if code == child::SETUP_FAILED {
            // Out of memory, most likely: not a finding, but no use going on.
            out.setup_failed += 1;
            return;
        } else if code == child::PANICKED {
            // Its own memory changed under it (a MAP_FIXED over its stack,
            // say) as much as a fault would have: counted, like signals.
            out.panicked += 1;
            if s.verbose || s.only.is_some() {
                report(s, self.ring, i, gen, pid, format_args!("{} (a panic)", ExitStatus(status)));
            }
        } else if code != 0 {
            out.odd += 1;
            report(s, self.ring, i, gen, pid, format_args!("{}", ExitStatus(status)));
        } else if let Some(seq) = self.ring.odd(i) {
            out.odd += 1;
            report(s, self.ring, i, gen, pid, format_args!("odd result of call #{seq}"));
        } else if s.only.is_some() {
            report(s, self.ring, i, gen, pid, format_args!("{}", ExitStatus(status)));
        } else if s.verbose {
            println!(
                "fuzz: child {i}.{gen} (pid {pid}): {} calls started, {}; last:",
                self.ring.calls(i),
                ExitStatus(status)
            );
            self.ring.print_last(i, 2);
        }
        if !self.killing && s.only.is_none() && self.slots[i].done < s.calls {
            // The files of the generation before stay out of its way (and
            // do not pile up over a long round).
            checks::empty_scratch(i);
            self.slots[i].gen += 1;
            self.spawn(i, out);
        }
    }

    /// Watches the running children: one that has started no call for
    /// [`STALL_MS`] (blocked: a long sleep, say) gets SIGKILL, and its next
    /// generation takes over once it is reaped; one not reaped [`KILL_MS`]
    /// after SIGKILL is stuck.
    fn watch(&mut self, out: &mut Outcome) {
        for i in 0..self.s.procs {
            let slot = self.slots[i];
            if slot.pending && !self.killing {
                self.spawn(i, out);
            }
            if slot.pid == 0 || slot.stuck {
                continue;
            }
            let calls = self.ring.calls(i);
            if let Some(t) = slot.killed_at {
                if ms_since(&t) > KILL_MS {
                    self.slots[i].stuck = true;
                    self.stuck(i, out);
                }
            } else if calls != slot.seen {
                (self.slots[i].seen, self.slots[i].seen_at) = (calls, now());
            } else if ms_since(&slot.seen_at) > STALL_MS {
                if self.check_vfork(i, out) {
                    continue;
                }
                out.stalled += 1;
                self.slots[i].killed_at = Some(now());
                let _ = process::kill(slot.pid, SIGKILL);
            }
        }
    }

    /// Child `i` has made no call for [`STALL_MS`]. If it is in a `vfork`
    /// or `vfork_thread` (whose child only execs or exits at once) and is
    /// not stopped, the kernel did not wake it when its child was done: a
    /// finding, counted as odd. True if the child turned out to have ended
    /// (handled here).
    fn check_vfork(&mut self, i: usize, out: &mut Outcome) -> bool {
        let Some(nr) = self.ring.pending(i) else { return false };
        if nr != VFORK && nr != VFORK_THREAD {
            return false;
        }
        let (pid, gen) = (self.slots[i].pid, self.slots[i].gen);
        let mut status = 0;
        match process::wait4(pid, Some(&mut status), WNOHANG | WUNTRACED, None) {
            Ok(p) if p == pid && wifstopped(status) => false,
            Ok(p) if p == pid => {
                self.ended(i, status, out);
                true
            }
            Ok(_) => {
                out.odd += 1;
                let why =
                    format_args!("still in its vfork after {STALL_MS} ms, not stopped: its child never released it");
                report(self.s, self.ring, i, gen, pid, why);
                false
            }
            Err(_) => false,
        }
    }

    /// Memory is nearly gone: SIGKILL to the running child with the most
    /// calls in its generation (the likeliest to hold the most), unless one
    /// is already on its way out. Without this, on a kernel with no OOM
    /// killer (or one that picks the parent), the next page the parent
    /// itself needs (a copy-on-write fault on its stack) would kill it
    /// with SIGBUS, and the run with it.
    fn relieve(&mut self, out: &mut Outcome) {
        if self.running().any(|(_, k)| k.killed_at.is_some() && !k.stuck) {
            return;
        }
        if let Some((i, k)) = self.running().filter(|(_, k)| !k.stuck).max_by_key(|&(i, _)| self.ring.calls(i)) {
            out.low_memory_kills += 1;
            self.slots[i].killed_at = Some(now());
            let _ = process::kill(k.pid, SIGKILL);
        }
    }

    /// The parent, which sleeps 10 ms between polls, was not scheduled for
    /// `ms`: some system call kept the (non-preemptible) kernel busy that
    /// long. Reports it with each running child's last calls.
    fn frozen(&mut self, ms: i128, out: &mut Outcome) {
        out.freezes += 1;
        out.longest_freeze_ms = out.longest_freeze_ms.max(ms as u64);
        println!("fuzz: seed={}: the parent was not scheduled for {ms} ms; children now:", self.s.seed);
        for (i, k) in self.running() {
            println!("fuzz:   child {i}.{} (pid {}), {} calls started:", k.gen, k.pid, self.ring.calls(i));
            self.ring.print_last(i, 2);
        }
    }

    /// Checks the ring's canaries, and reports the first damage once.
    fn check_ring(&mut self, out: &mut Outcome) {
        if out.ring_damaged {
            return;
        }
        if let Some(w) = self.ring.damaged() {
            out.ring_damaged = true;
            out.odd += 1;
            println!(
                "fuzz: seed={}: the ring's shared memory changed under the fuzzer (word {w}); children now:",
                self.s.seed
            );
            for (i, k) in self.running() {
                println!("fuzz:   child {i}.{} (pid {}), {} calls started", k.gen, k.pid, self.ring.calls(i));
            }
        }
    }

    fn stuck(&self, i: usize, out: &mut Outcome) {
        let k = self.slots[i];
        out.stuck += 1;
        report(self.s, self.ring, i, k.gen, k.pid, format_args!("still there {KILL_MS} ms after SIGKILL (stuck)"));
    }

    /// Reaps every process that has ended; true once there are no children
    /// left at all (ECHILD). `probe` is the parent's own short-lived child.
    /// In the calls phase of a round with an odd seed, a process that
    /// stopped (a SIGSTOP from a sibling, say) gets SIGCONT and goes on; in
    /// other rounds it stays stopped until it is killed for making no call.
    /// In the kill phase a stopped process must end by the SIGKILL it got
    /// like any other.
    fn reap(&mut self, out: &mut Outcome, probe: Pid) -> bool {
        let untraced = if self.killing || self.s.seed.is_multiple_of(2) { 0 } else { WUNTRACED };
        loop {
            let mut status = 0;
            match process::wait4(-1, Some(&mut status), WNOHANG | untraced, None) {
                Ok(0) => return false,
                Ok(pid) if wifstopped(status) => {
                    out.continued += 1;
                    let _ = process::kill(pid, SIGCONT);
                }
                Ok(pid) => match (0..self.s.procs).find(|&i| self.slots[i].pid == pid) {
                    Some(i) => self.ended(i, status, out),
                    None if pid != probe => out.others_reaped += 1,
                    None => {}
                },
                Err(Errno::EINTR) => {}
                Err(Errno::ECHILD) => return true,
                Err(_) => return false,
            }
        }
    }

    /// The children not reaped yet, stuck ones included.
    fn running(&self) -> impl Iterator<Item = (usize, Slot)> + '_ {
        (0..self.s.procs).map(|i| (i, self.slots[i])).filter(|(_, k)| k.pid > 0)
    }
}

/// Runs one round.
pub fn run(s: &Settings<'_>, ring: &Ring, vmstat: &mut VmstatBuf, intact: &Intact) -> Outcome {
    let mut out = Outcome::default();
    ring.clear();
    out.frames_before = checks::free_frames(vmstat).unwrap_or(0);
    let mut c = Children { s, ring, slots: [Slot::default(); crate::ring::MAX_CHILDREN], first_pid: 0, killing: false };
    for i in 0..s.procs {
        if s.only.is_none_or(|k| k == i) {
            c.slots[i].gen = s.gen;
            c.spawn(i, &mut out);
        }
    }

    // The calls phase: until every child index has made its calls (or is
    // stuck), or the time is up.
    let low_water = out.frames_before / 8;
    let mut last_poll = now();
    loop {
        let gap = ms_since(&last_poll);
        last_poll = now();
        if gap > FROZEN_MS {
            c.frozen(gap, &mut out);
        }
        c.reap(&mut out, 0);
        c.watch(&mut out);
        c.check_ring(&mut out);
        if checks::free_frames(vmstat).is_ok_and(|free| free < low_water) {
            c.relieve(&mut out);
        }
        if c.running().all(|(_, k)| k.stuck) || s.until.is_some_and(|u| now() >= u) {
            break;
        }
        time::sleep_ms(10);
    }

    // The kill phase: children, then every other process since the first child.
    c.killing = true;
    for (_, k) in c.running() {
        let _ = process::kill(k.pid, SIGKILL);
    }
    let mut others = [0 as Pid; MAX_OTHERS];
    let mut nothers = 0;
    let probe = process::fork_run(|| 0).unwrap_or(0);
    if c.first_pid > 0 && probe > c.first_pid {
        for pid in c.first_pid + 1..probe {
            if c.running().any(|(_, k)| k.pid == pid) || process::kill(pid, 0).is_err() {
                continue;
            }
            let _ = process::kill(pid, SIGKILL);
            if nothers < MAX_OTHERS {
                others[nothers] = pid;
                nothers += 1;
            }
        }
    }
    let start = now();
    loop {
        let none_left = c.reap(&mut out, probe);
        if none_left || ms_since(&start) > KILL_MS {
            break;
        }
        time::sleep_ms(10);
    }

    for (i, k) in c.running() {
        out.calls += ring.calls(i);
        if !k.stuck {
            c.stuck(i, &mut out);
        }
    }
    for &pid in &others[..nothers] {
        if process::kill(pid, 0).is_ok() {
            out.others_stuck += 1;
            println!("fuzz: seed={} pid {pid} (made by a child's clone) still there after SIGKILL (stuck)", s.seed);
        }
    }
    out.zombies_left = match process::wait4(-1, None, WNOHANG, None) {
        Err(Errno::ECHILD) => false,
        r => {
            println!("fuzz: seed={}: after the round wait4(-1, WNOHANG) = {r:?}, expected ECHILD", s.seed);
            true
        }
    };
    for i in 0..s.procs {
        out.scratch_left += checks::empty_scratch(i);
    }
    out.frames_after = checks::free_frames(vmstat).unwrap_or(0);
    out.alive = checks::kernel_alive().err();
    out.files_changed = intact.changed();
    out
}

/// Prints why generation `gen` of child `i` is reported, how to replay
/// it, and its last calls.
fn report(s: &Settings<'_>, ring: &Ring, i: usize, gen: u64, pid: Pid, why: core::fmt::Arguments<'_>) {
    println!("fuzz: seed={} child {i}.{gen} (pid {pid}): {why}; {} calls started; last calls:", s.seed, ring.calls(i));
    ring.print_last(i, ENTRIES);
    let skip = if s.skip.is_empty() { "" } else { " --skip " };
    println!(
        "fuzz: replay: cargo xtask fuzz --seed {} --procs {} --calls {} --child {i} --gen {gen}{skip}{}",
        s.seed, s.procs, s.calls, s.skip
    );
}
