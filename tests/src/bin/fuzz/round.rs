//! One round: fork the children, let them make their calls, end them, and
//! check what they left behind.
//!
//! The parent polls instead of blocking: every 10 ms it reaps whatever
//! ended (`wait4(-1, WNOHANG)`) and looks at the children's call counts in
//! the ring. When every child has ended, or none has started a call for
//! [`STALL_MS`] (those left are blocked: a long sleep, a read of the
//! console), or the run's time is up, each child still there gets SIGKILL,
//! and so does every other process of the round (the processes `clone`
//! made: found by probing the pids between the first child's and a fresh
//! one's). Whatever has not been reaped [`KILL_MS`] later is stuck. Then
//! `wait4(-1, WNOHANG)` must say ECHILD (no zombie left), the scratch
//! directories are emptied, and the free-frame count must be back at the
//! baseline taken before the fork.

use crate::calls::Call;
use crate::checks::{self, PathBuf, VmstatBuf};
use crate::child::{self, Plan};
use crate::ring::{Ring, ENTRIES};
use user::errno::Errno;
use user::println;
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus, Pid, SIGKILL, WNOHANG};
use user::time::{self, Timespec};

/// How long no child may start a call before the parent ends the calls phase.
pub const STALL_MS: i128 = 2000;
/// How long killed processes have to be reaped.
pub const KILL_MS: i128 = 3000;
/// Processes of a round other than the children that the parent tracks.
const MAX_OTHERS: usize = 64;

/// What a round is asked to do.
pub struct Settings<'a> {
    pub seed: u64,
    pub procs: usize,
    pub calls: u64,
    /// Fork only this child (replay).
    pub only: Option<usize>,
    pub trace: bool,
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
    pub others_reaped: u32,
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
            && self.files_changed == 0
    }
}

#[derive(Clone, Copy, Default)]
struct Kid {
    pid: Pid,
    reaped: bool,
    status: i32,
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

/// Runs one round.
pub fn run(s: &Settings<'_>, ring: &Ring, vmstat: &mut VmstatBuf, intact: &Intact) -> Outcome {
    let mut out = Outcome::default();
    ring.clear();
    out.frames_before = checks::free_frames(vmstat).unwrap_or(0);
    let mut all_kids = [Kid::default(); crate::ring::MAX_CHILDREN];
    let kids = &mut all_kids[..s.procs];
    let mut first_pid = 0;
    for (i, kid) in kids.iter_mut().enumerate() {
        if s.only.is_some_and(|k| k != i) {
            // Not forked: nothing to wait for.
            kid.reaped = true;
            continue;
        }
        let plan = Plan { seed: s.seed, index: i, calls: s.calls, table: s.table, ring: *ring, trace: s.trace };
        match process::fork() {
            Ok(0) => child::run(&plan),
            Ok(pid) => {
                kid.pid = pid;
                ring.set_pid(i, pid);
                if first_pid == 0 {
                    first_pid = pid;
                }
            }
            Err(e) => {
                println!("fuzz: fork of child {i} failed: {e:?}");
                kid.reaped = true;
                out.odd += 1;
            }
        }
    }

    // The calls phase.
    let (mut last_total, mut last_progress) = (u64::MAX, now());
    loop {
        reap(kids, &mut out, 0);
        if kids.iter().all(|k| k.reaped) {
            break;
        }
        let total: u64 = (0..s.procs).map(|i| ring.calls(i)).sum();
        if total != last_total {
            (last_total, last_progress) = (total, now());
        }
        if ms_since(&last_progress) > STALL_MS || s.until.is_some_and(|u| now() >= u) {
            break;
        }
        time::sleep_ms(10);
    }

    // The kill phase: children, then every other process since the first child.
    for k in kids.iter().filter(|k| !k.reaped && k.pid > 0) {
        let _ = process::kill(k.pid, SIGKILL);
    }
    let mut others = [0 as Pid; MAX_OTHERS];
    let mut nothers = 0;
    let probe = process::fork_run(|| 0).unwrap_or(0);
    if first_pid > 0 && probe > first_pid {
        for pid in first_pid + 1..probe {
            if kids.iter().any(|k| k.pid == pid) || process::kill(pid, 0).is_err() {
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
        let none_left = reap(kids, &mut out, probe);
        if none_left || ms_since(&start) > KILL_MS {
            break;
        }
        time::sleep_ms(10);
    }

    for i in 0..s.procs {
        out.calls += ring.calls(i);
    }
    for (i, k) in kids.iter().enumerate() {
        if k.pid > 0 && !k.reaped {
            out.stuck += 1;
            report(s, ring, i, k.pid, format_args!("still there {KILL_MS} ms after SIGKILL (stuck)"));
        } else if k.pid > 0 && (wifexited(k.status) && wexitstatus(k.status) != 0) {
            out.odd += 1;
            report(s, ring, i, k.pid, format_args!("{}", ExitStatus(k.status)));
        } else if let Some(seq) = (k.pid > 0).then(|| ring.odd(i)).flatten() {
            out.odd += 1;
            report(s, ring, i, k.pid, format_args!("odd result of call #{seq}"));
        } else if k.pid > 0 && s.only == Some(i) {
            report(s, ring, i, k.pid, format_args!("{}", ExitStatus(k.status)));
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
        let mut dir = PathBuf::new("/tmp/fuzz");
        let mut name = user::util::FmtBuf::<16>::new();
        let _ = core::fmt::Write::write_fmt(&mut name, format_args!("c{i}"));
        dir.push(name.as_str().as_bytes());
        out.scratch_left += checks::empty_dir(&mut dir, 0);
    }
    out.frames_after = checks::free_frames(vmstat).unwrap_or(0);
    out.alive = checks::kernel_alive().err();
    out.files_changed = intact.changed();
    out
}

/// Reaps every process that has ended; true once there are no children
/// left at all (ECHILD). `probe` is the parent's own short-lived child.
fn reap(kids: &mut [Kid], out: &mut Outcome, probe: Pid) -> bool {
    loop {
        let mut status = 0;
        match process::wait4(-1, Some(&mut status), WNOHANG, None) {
            Ok(0) => return false,
            Ok(pid) => {
                if let Some(k) = kids.iter_mut().find(|k| k.pid == pid) {
                    k.reaped = true;
                    k.status = status;
                    if wifsignaled(status) {
                        out.killed += 1;
                        let sig = wtermsig(status) as usize;
                        out.by_signal[if sig < 32 { sig } else { 0 }] += 1;
                    } else {
                        out.exited += 1;
                    }
                } else if pid != probe {
                    out.others_reaped += 1;
                }
            }
            Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => return true,
            Err(_) => return false,
        }
    }
}

/// Prints why child `i` is reported, how to replay it, and its last calls.
fn report(s: &Settings<'_>, ring: &Ring, i: usize, pid: Pid, why: core::fmt::Arguments<'_>) {
    println!("fuzz: seed={} child {i} (pid {pid}): {why}; {} calls started; last calls:", s.seed, ring.calls(i));
    ring.print_last(i, ENTRIES);
    let skip = if s.skip.is_empty() { "" } else { " --skip " };
    println!(
        "fuzz: replay: cargo xtask fuzz --seed {} --procs {} --calls {} --child {i}{skip}{}",
        s.seed, s.procs, s.calls, s.skip
    );
}
