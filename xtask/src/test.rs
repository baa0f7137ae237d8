//! `cargo xtask test`: host unit tests, then boots of armmap under QEMU that
//! each report test results; ends with one line `N passed, N failed`.
//!
//! Each on-target run is bounded by a time limit, so a hung kernel fails
//! instead of hanging the suite. Inside a run, lines of the form
//! `test NAME ... ok` / `test NAME ... FAILED` are counted one by one; the
//! run also fails as a whole if QEMU's exit status is not the expected one.
//! The full output of a failed run is kept in `target/xtask/logs/`.

use crate::build::{self, Artifacts};
use crate::qemu::{self, QemuConfig};
use crate::session::Step;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_string());
        }
    }
}

/// What a run must show to pass.
enum Expect {
    /// Every `test ... ok/FAILED` line counts; QEMU must exit 0, at least
    /// one test must have run, and the output (kernel log included) must
    /// contain every string of the list.
    TestLines(&'static [&'static str]),
    /// QEMU exits with `status` and the output contains every string.
    Exit { status: i32, contains: &'static [&'static str] },
}

/// One boot of armmap.
struct TargetRun {
    name: &'static str,
    append: &'static str,
    el1: bool,
    mem: &'static str,
    limit_secs: u64,
    /// Boot without the initramfs (the kernel's own checks only).
    no_initrd: bool,
    /// Boot with the busybox initramfs (`cargo xtask shell`); skipped
    /// when busybox has not been fetched.
    busybox: bool,
    /// Typed into the console, in order (see `session.rs`).
    script: &'static [Step],
    /// Strings the output must not contain.
    lacks: &'static [&'static str],
    expect: Expect,
}

impl TargetRun {
    /// A boot at EL2 with 128 MiB and the test initramfs, kernel command
    /// line `append`, two minutes at most.
    fn new(name: &'static str, append: &'static str, expect: Expect) -> Self {
        TargetRun {
            name,
            append,
            el1: false,
            mem: "128M",
            limit_secs: 120,
            no_initrd: false,
            busybox: false,
            script: &[],
            lacks: &[],
            expect,
        }
    }

    /// A boot whose `test ... ok` lines are counted.
    fn tests(name: &'static str, append: &'static str) -> Self {
        Self::new(name, append, Expect::TestLines(&[]))
    }

    /// Like [`tests`](Self::tests), and the output must contain every string.
    fn tests_and_log(name: &'static str, append: &'static str, log: &'static [&'static str]) -> Self {
        Self::new(name, append, Expect::TestLines(log))
    }

    /// A boot that must exit with `status` and print every string of `contains`.
    fn exits(name: &'static str, append: &'static str, status: i32, contains: &'static [&'static str]) -> Self {
        Self::new(name, append, Expect::Exit { status, contains })
    }

    /// A scripted console session: `script` is typed (see `session.rs`),
    /// then the boot must exit with `status` and print every string of
    /// `contains`.
    fn session(
        name: &'static str,
        append: &'static str,
        script: &'static [Step],
        status: i32,
        contains: &'static [&'static str],
    ) -> Self {
        Self { script, limit_secs: 60, ..Self::exits(name, append, status, contains) }
    }

    /// The output must contain none of `lacks`.
    fn lacking(self, lacks: &'static [&'static str]) -> Self {
        Self { lacks, ..self }
    }

    /// Boots the busybox initramfs instead of the test one.
    fn on_busybox(self) -> Self {
        Self { busybox: true, ..self }
    }

    fn at_el1(self) -> Self {
        Self { el1: true, ..self }
    }

    fn with_mem(self, mem: &'static str) -> Self {
        Self { mem, ..self }
    }

    /// No initramfs (the kernel's own checks), and a shorter time limit.
    fn bare(self) -> Self {
        Self { no_initrd: true, limit_secs: 30, ..self }
    }
}

fn target_runs() -> Vec<TargetRun> {
    const DEMO_EXITED: &str = "init (pid 1) exited with status 0";
    vec![
        TargetRun::tests("ktest-el2", "ktest"),
        TargetRun::tests("ktest-el1", "ktest").at_el1(),
        TargetRun::tests("user-syscalls", "init=/bin/syscalls"),
        TargetRun::tests("user-files", "init=/bin/files"),
        TargetRun::tests("user-tty", "init=/bin/tty"),
        TargetRun::tests("user-robust", "init=/bin/robust"),
        TargetRun::tests("user-robust_io", "init=/bin/robust_io"),
        TargetRun::tests("user-pipes", "init=/bin/pipes"),
        TargetRun::tests("user-futex", "init=/bin/futex"),
        // C, armmap only: qemu-user has no robust lists to compare with.
        TargetRun::tests("user-futex_robust", "init=/bin/futex_robust"),
        TargetRun::tests("user-timers", "init=/bin/timers"),
        TargetRun::tests_and_log(
            "user-mmap",
            "memdev=4M init=/bin/mmap",
            &["areas of pid 1 (mmap):", "/dev/memdev resident: 0 pages, 2 2M blocks"],
        ),
        TargetRun::exits(
            "boot-demo-el2",
            "",
            0,
            &[
                "entered at EL2, running at EL1",
                "MMU on with the kernel's own tables",
                "remap /dev/memdev: 512 pages touched, 0 page faults",
                "lazy  /dev/memdev-lazy: 512 pages touched, 512 page faults",
                DEMO_EXITED,
            ],
        ),
        TargetRun::exits("boot-demo-el1", "", 0, &["entered at EL1", DEMO_EXITED]).at_el1(),
        TargetRun::exits("boot-2G", "", 0, &["RAM 0x40000000..0xc0000000 (2048 MiB)", DEMO_EXITED]).with_mem("2G"),
        TargetRun::exits(
            "kernel-fault-report",
            "crash=fault",
            1,
            &[
                "*** kernel fault: data abort from EL1",
                "translation fault on read at level 0",
                "FAR_EL1 0x0000000000000008",
            ],
        )
        .bare(),
        TargetRun::exits(
            "kernel-panic-report",
            "crash=panic",
            101,
            &["*** kernel panic at kernel/src/boot.rs:", "crash=panic on the command line"],
        )
        .bare(),
        // 16 MiB cannot even hold the test initramfs (QEMU refuses), hence bare.
        TargetRun::exits("boot-too-small-16M", "", 1, &["too small"]).with_mem("16M").bare(),
        TargetRun::tests("user-classic_hello", "init=/bin/classic_hello"),
        TargetRun::tests("user-classic_copy", "init=/bin/classic_copy"),
        TargetRun::tests("user-classic_pitfalls", "init=/bin/classic_pitfalls"),
        TargetRun::tests("user-driver_memdev", "init=/bin/driver_memdev"),
        TargetRun::exits(
            "user-kernel_shared",
            "init=/bin/kernel_shared -- hello-from-user",
            0,
            &["memdev at shutdown: \"hello-from-user\""],
        ),
        TargetRun::tests("user-msync_counts", "init=/bin/msync_counts"),
        TargetRun::tests("user-vdso", "init=/bin/vdso"),
        TargetRun::tests("user-vdso-el1", "init=/bin/vdso").at_el1(),
        // Acceptance programs of the process model where qemu-user is not
        // faithful to Linux (each says where): checked on armmap alone.
        TargetRun::tests("c-fault_signals", "init=/bin/runinit -- /bin/fault_signals"),
        TargetRun::tests("c-clone_flags", "init=/bin/runinit -- /bin/clone_flags"),
        TargetRun::tests("c-stop_continue", "init=/bin/runinit -- /bin/stop_continue"),
        TargetRun::tests("c-vfork_exec", "init=/bin/runinit -- /bin/vfork_exec"),
        // qemu-user sometimes loses the signal of `kill(0)` here and the
        // test waits for ever under it (it passes on Linux itself).
        TargetRun::tests("c-process_groups", "init=/bin/runinit -- /bin/process_groups"),
        // qemu-user passes madvise to the host only in part.
        TargetRun::tests("c-madvise", "init=/bin/runinit -- /bin/madvise"),
        // Typing at the console: line editing reaches the program as the
        // edited line, and ^C kills the foreground program (runinit, as pid 1,
        // reports 128 + SIGINT).
        TargetRun::session(
            "tty-canonical-editing",
            "log=warn init=/bin/runinit -- /bin/tty readline",
            &[Step::Expect("ready"), Step::Send(b"abc\x7fd\r")],
            0,
            &["abc\u{8} \u{8}d\n", "got: abd"],
        ),
        TargetRun::session(
            "tty-kill-werase",
            "log=warn init=/bin/runinit -- /bin/tty readline",
            &[Step::Expect("ready"), Step::Send(b"zz\x15echo hello wor\x17x\r")],
            0,
            &["got: echo hello x"],
        ),
        TargetRun::session(
            "tty-eof",
            "log=warn init=/bin/runinit -- /bin/tty readline",
            &[Step::Expect("ready"), Step::Send(b"partial\x04")],
            0,
            &["partial", "got: partial\n"],
        ),
        TargetRun::session(
            "tty-ctrl-c",
            "log=warn init=/bin/runinit -- /bin/tty block",
            &[Step::Expect("waiting"), Step::Sleep(100), Step::Send(b"\x03")],
            130,
            &["waiting\n^C"],
        )
        .lacking(&["read returned"]),
        // An interactive busybox shell (cargo xtask shell), when fetched.
        TargetRun::session(
            "busybox-sh",
            crate::shell::SH_CMDLINE,
            &[Step::Expect("/ # "), Step::Send(b"echo hi; exit 3\r")],
            3,
            &["built-in shell (ash)", "\nhi\n"],
        )
        .lacking(&["job control turned off"])
        .on_busybox(),
        // A shell script's everyday tools: pipelines, command substitution,
        // read, a trap handler, background jobs with wait and kill %1.
        TargetRun::session(
            "busybox-sh-script",
            crate::shell::SH_CMDLINE,
            &[
                Step::Expect("/ # "),
                Step::Send(b"echo hello world | tr a-z A-Z | tr -d O\r"),
                Step::Expect("HELL WRLD"),
                Step::Send(b"echo \"n=$(echo abc | wc -c)\"\r"),
                Step::Expect("n=4"),
                Step::Send(b"echo piped | { read v; echo \"read:$v\"; }\r"),
                Step::Expect("read:piped"),
                Step::Send(b"trap 'echo caught USR1' USR1; kill -USR1 $$; echo after-trap\r"),
                Step::Expect("after-trap"),
                Step::Send(b"sleep 1 & wait; echo \"waited:$?\"\r"),
                Step::Expect("waited:0"),
                Step::Send(b"sleep 30 & kill %1; wait $!; echo \"killed:$?\"\r"),
                Step::Expect("killed:143"),
                Step::Send(b"exit 0\r"),
            ],
            0,
            &["caught USR1\n"],
        )
        .on_busybox(),
        // Job control at the prompt: ^Z stops the foreground job, `jobs`
        // lists it, `fg` resumes it, ^C ends it, and the shell lives on.
        TargetRun::session(
            "busybox-sh-job-control",
            crate::shell::SH_CMDLINE,
            &[
                Step::Expect("/ # "),
                Step::Send(b"sleep 30\r"),
                Step::Sleep(300),
                Step::Send(b"\x1a"),
                Step::Expect("Stopped"),
                Step::Expect("/ # "),
                Step::Send(b"jobs\r"),
                Step::Expect("sleep 30"),
                Step::Expect("/ # "),
                Step::Send(b"fg\r"),
                Step::Sleep(300),
                Step::Send(b"\x03"),
                Step::Expect("/ # "),
                Step::Send(b"echo \"alive:$?\"; exit 5\r"),
                Step::Expect("alive:130"),
            ],
            5,
            &[],
        )
        .lacking(&["job control turned off"])
        .on_busybox(),
        // A short fixed-seed round of the system-call fuzzer (cargo xtask fuzz).
        TargetRun::tests("user-fuzz", "init=/bin/fuzz -- seed=1 procs=8 calls=4000"),
    ]
}

/// Rust user programs packed into `/bin` (the demo's `/init` is `init`).
pub const USER_PROGRAMS: &[&str] = &[
    "init",
    "runinit",
    "hello",
    "syscalls",
    "files",
    "robust",
    "robust_io",
    "pipes",
    "futex",
    "classic_hello",
    "classic_copy",
    "classic_pitfalls",
    "mmap",
    "vdso",
    "fuzz",
    "tty",
    "timers",
];

/// The initramfs the demo and the tests boot with: `/init`, every Rust user
/// program under `/bin`, and the C test programs under `/bin` when built.
pub fn demo_initramfs(art: &Artifacts) -> Result<PathBuf, String> {
    let dir = build::root().join("target").join("xtask");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let mut files = vec![("init".to_string(), read(&art.out_dir.join("init"))?)];
    for prog in USER_PROGRAMS {
        files.push((format!("bin/{prog}"), read(&art.out_dir.join(prog))?));
    }
    for (name, path) in crate::cprogs::build_all()? {
        files.push((format!("bin/{name}"), read(&path)?));
    }
    files.push(("etc/motd".to_string(), b"armmap initramfs\n".to_vec()));
    build::initramfs(files, &dir.join("initramfs.cpio"))
}

/// Runs the host unit tests, counting cargo's `test result:` lines.
fn host_tests(t: &mut Tally) -> Result<(), String> {
    println!("== host unit tests (cargo test -p kernel -p xtask)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["test", "-p", "kernel", "-p", "xtask", "--", "--nocapture"])
        .current_dir(build::root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running cargo test: {e}"))?;
    let out = child.stdout.take().unwrap();
    let mut saw_result = false;
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("test result: ") {
            saw_result = true;
            let num = |key: &str| -> u32 {
                rest.split(';')
                    .find_map(|p| {
                        p.trim().strip_suffix(key).map(|n| {
                            n.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ").parse().unwrap_or(0)
                        })
                    })
                    .unwrap_or(0)
            };
            t.passed += num(" passed");
            let failed = num(" failed");
            t.failed += failed;
            if failed > 0 {
                t.failures.push("host unit tests".into());
            }
        }
        if line.starts_with("test ") || line.starts_with("seed") || line.contains("panicked") {
            println!("  {line}");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() && !saw_result {
        t.record("host unit tests (build)", false);
    }
    Ok(())
}

fn run_target(t: &mut Tally, art: &Artifacts, initrd: &Path, run: &TargetRun) -> Result<(), String> {
    println!(
        "== {} (mem {}, {}{})",
        run.name,
        run.mem,
        if run.el1 { "EL1" } else { "EL2" },
        if run.append.is_empty() { String::new() } else { format!(", \"{}\"", run.append) }
    );
    let mut cfg = QemuConfig::new(art.kernel_image.clone());
    cfg.initrd = (!run.no_initrd).then(|| initrd.to_path_buf());
    if run.busybox {
        match crate::shell::cached_initramfs(art)? {
            Some(i) => cfg.initrd = Some(i),
            None => {
                println!("  skipped: busybox not fetched (run `cargo xtask shell` once to fetch it with apt)");
                return Ok(());
            }
        }
    }
    cfg.el1 = run.el1;
    cfg.mem = run.mem.into();
    cfg.append = run.append.into();
    let mut lines_ok = 0u32;
    let mut lines_failed = Vec::new();
    let limit = Duration::from_secs(run.limit_secs);
    let mut on_line = |line: &str| {
        if let Some(rest) = line.trim_start().strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... ok") {
                lines_ok += 1;
                println!("  ok     {name}");
            } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
                lines_failed.push(name.to_string());
                println!("  FAILED {name}");
            }
        }
    };
    let (result, step_failure) = if run.script.is_empty() {
        (qemu::run_captured(&cfg, limit, on_line)?, None)
    } else {
        crate::session::run(&cfg, limit, run.script, &mut on_line)?
    };
    let mut ok = true;
    let mut why = String::new();
    if result.timed_out {
        ok = false;
        why = format!("timed out after {} s", run.limit_secs);
    }
    if let Some(f) = step_failure {
        ok = false;
        why.push_str(&format!(" session: {f}"));
    }
    for l in run.lacks {
        if result.output.contains(l) {
            ok = false;
            why.push_str(&format!(" unexpected \"{l}\""));
        }
    }
    if let Some(lost) = frames_lost(&result.output) {
        ok = false;
        why.push_str(&format!(" {lost}"));
    }
    match &run.expect {
        Expect::TestLines(log) => {
            t.passed += lines_ok;
            for c in *log {
                if !result.output.contains(c) {
                    ok = false;
                    why.push_str(&format!(" missing \"{c}\""));
                }
            }
            for f in &lines_failed {
                t.record(&format!("{}: {f}", run.name), false);
            }
            if result.status != Some(0) && lines_failed.is_empty() {
                ok = false;
                if why.is_empty() {
                    why = format!("QEMU exited with {:?}", result.status);
                }
            }
            if lines_ok == 0 && lines_failed.is_empty() {
                ok = false;
                why.push_str(" (no test ran)");
            }
            if !ok {
                t.record(run.name, false);
            }
        }
        Expect::Exit { status, contains } => {
            if result.status != Some(*status) {
                ok = false;
                why.push_str(&format!(" exit status {:?}, expected {status}", result.status));
            }
            for c in *contains {
                if !result.output.contains(c) {
                    ok = false;
                    why.push_str(&format!(" missing \"{c}\""));
                }
            }
            t.record(run.name, ok);
        }
    }
    let logs = build::root().join("target").join("xtask").join("logs");
    let _ = std::fs::create_dir_all(&logs);
    let log = logs.join(format!("{}.log", run.name));
    let _ = std::fs::write(&log, &result.output);
    if ok && lines_failed.is_empty() {
        println!("  {} passed in {:.1} s", run.name, result.elapsed.as_secs_f64());
    } else {
        println!("  {} FAILED:{why}; full output in {}", run.name, log.display());
        for l in result.output.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev() {
            println!("    | {l}");
        }
    }
    Ok(())
}

/// A C program run on armmap and, when qemu-user is installed, on Linux
/// through `qemu-aarch64`: output and exit status must be equal.
struct CompareRun {
    program: &'static str,
    args: &'static [&'static str],
}

const COMPARE_RUNS: &[CompareRun] = &[
    CompareRun { program: "hello_printf", args: &["a", "b c"] },
    CompareRun { program: "mmap_hello", args: &[] },
    CompareRun { program: "mmap_copy", args: &[] },
    CompareRun { program: "mmap_pitfalls", args: &[] },
    CompareRun { program: "pipeline", args: &[] },
    CompareRun { program: "pipe_poll", args: &[] },
    CompareRun { program: "pipe_signals", args: &[] },
    CompareRun { program: "futex_fork", args: &[] },
    CompareRun { program: "futex_ops", args: &[] },
    CompareRun { program: "futex_threads", args: &[] },
    CompareRun { program: "vdso_clock", args: &[] },
    CompareRun { program: "alarm_kill", args: &[] },
    CompareRun { program: "timer_signals", args: &[] },
    // The process model's acceptance programs that qemu-user runs as Linux
    // does (the others are target runs above: qemu-user is not faithful
    // for them).
    CompareRun { program: "sigaltstack_overflow", args: &[] },
    CompareRun { program: "signal_fpsimd", args: &[] },
    CompareRun { program: "signal_masks", args: &[] },
    CompareRun { program: "signal_restart", args: &[] },
    CompareRun { program: "alarm_timers", args: &[] },
    CompareRun { program: "pthreads", args: &[] },
];

/// Whether a console line is a kernel log line (`[    0.012345] LEVEL ...`).
fn is_kernel_log(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else { return false };
    let Some((time, after)) = rest.split_once("] ") else { return false };
    time.trim().split_once('.').is_some_and(|(s, us)| s.chars().all(|c| c.is_ascii_digit()) && us.len() == 6)
        && ["ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"].iter().any(|l| after.starts_with(l))
}

/// Runs `bin` under qemu-aarch64 (Linux user mode): its standard output
/// and exit status, or `None` if it did not finish within `limit` (then it
/// and every process still running that binary are killed: qemu-user can
/// lose a signal and leave a test waiting for ever).
fn linux_output(bin: &Path, args: &[String], limit: Duration) -> std::io::Result<Option<(String, Option<i32>)>> {
    let mut child = Command::new("qemu-aarch64").arg(bin).args(args).stdout(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut s);
        s
    });
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let text = String::from_utf8_lossy(&reader.join().unwrap_or_default()).to_string();
            return Ok(Some((text, status.code())));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            // Its children may hold the pipe: they go too.
            let _ = Command::new("pkill").arg("-KILL").arg("-f").arg(bin).status();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every boot that shuts down reports its free frames against the count
/// when user space started: they must be equal (no frame lost by anything
/// the run did). `None` when equal or not reported (a run that stops
/// before user space).
fn frames_lost(output: &str) -> Option<String> {
    let line = output.lines().rev().find(|l| l.contains(" at shutdown (") && l.contains("frames: "))?;
    let after = line.split("frames: ").nth(1)?;
    let free: u64 = after.split_whitespace().next()?.parse().ok()?;
    let base: u64 = after.split(" at shutdown (").nth(1)?.split_whitespace().next()?.parse().ok()?;
    (free != base)
        .then(|| format!("frames not back to baseline: {free} free at shutdown, {base} when user space started"))
}

fn compare_run(t: &mut Tally, art: &Artifacts, initrd: &Path, c: &CompareRun) -> Result<(), String> {
    let name = format!("c-{}", c.program);
    let args: Vec<String> = c.args.iter().map(|s| s.to_string()).collect();
    let bin = build::root().join("target").join("xtask").join("c").join(c.program);
    if !bin.exists() {
        println!("== {name}: skipped ({} not built: no cross compiler)", c.program);
        return Ok(());
    }
    println!("== {name} (armmap vs Linux)");
    let mut cfg = QemuConfig::new(art.kernel_image.clone());
    cfg.initrd = Some(initrd.to_path_buf());
    // Under runinit, as `cargo xtask run` does: the program is not pid 1,
    // as under qemu-aarch64 (init has its own rules for signals and groups).
    let program = format!("/bin/{}", c.program);
    let words: Vec<String> = std::iter::once(program).chain(args.iter().cloned()).collect();
    cfg.append = crate::run::cmdline("warn", &words).replace("init=/init", "init=/bin/runinit");
    let r = qemu::run_captured(&cfg, Duration::from_secs(120), |_| {})?;
    let ours: String = r.output.lines().filter(|l| !is_kernel_log(l)).map(|l| format!("{l}\n")).collect();
    let mut ok = !r.timed_out;
    let mut why = String::new();
    if let Some(lost) = frames_lost(&r.output) {
        ok = false;
        why.push_str(&lost);
    }
    match linux_output(&bin, &args, Duration::from_secs(120)) {
        Ok(None) => {
            ok = false;
            why.push_str(" the Linux side (qemu-aarch64) did not finish in 120 s");
        }
        Ok(Some((theirs, code))) => {
            if ours != theirs {
                ok = false;
                why = format!("output differs\n--- armmap\n{ours}--- Linux (qemu-aarch64)\n{theirs}");
            }
            if r.status != code {
                ok = false;
                why.push_str(&format!(" exit status {:?} on armmap, {code:?} on Linux", r.status));
            }
        }
        Err(_) => {
            println!("  note: qemu-aarch64 not installed; comparison with Linux skipped (apt-get install qemu-user)")
        }
    }
    for line in ours.lines().filter(|l| l.starts_with("test ")) {
        if let Some(n) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... ok")) {
            println!("  ok     {n}");
            t.passed += 1;
        } else if let Some(n) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... FAILED")) {
            println!("  FAILED {n}");
            t.record(&format!("{name}: {n}"), false);
        }
    }
    t.record(&name, ok);
    if ok {
        println!("  {name}: same output and exit status as Linux ({:?})", r.status);
    } else {
        println!("  {name} FAILED: {why}");
    }
    Ok(())
}

/// The Linux structure layouts printed by `tests/c/abi_layout.c` (built
/// with the cross compiler's headers, run under qemu-aarch64) must equal
/// `tests/c/abi_layout.expected`, which the kernel's host unit tests compare
/// with the Rust definitions. Skipped, with a note, without the cross
/// compiler or qemu-aarch64.
fn abi_layout(t: &mut Tally) {
    println!("== abi-layout (Linux headers vs tests/c/abi_layout.expected)");
    let bin = build::root().join("target").join("xtask").join("c").join("abi_layout");
    if !bin.exists() {
        println!("  skipped: abi_layout not built ({} not found)", crate::cprogs::CC);
        return;
    }
    let expected_path = build::root().join("tests").join("c").join("abi_layout.expected");
    let expected = match std::fs::read_to_string(&expected_path) {
        Ok(s) => s,
        Err(e) => {
            println!("  abi-layout FAILED: reading {}: {e}", expected_path.display());
            t.record("abi-layout", false);
            return;
        }
    };
    match Command::new("qemu-aarch64").arg(&bin).output() {
        Ok(out) if out.status.success() => {
            let got = String::from_utf8_lossy(&out.stdout);
            let diff: Vec<String> = got
                .lines()
                .zip(expected.lines())
                .filter(|(g, e)| g != e)
                .map(|(g, e)| format!("headers: {g:?}, expected: {e:?}"))
                .collect();
            let ok = diff.is_empty() && got.lines().count() == expected.lines().count();
            if ok {
                println!("  ok     abi-layout: {} entries", expected.lines().count());
            } else {
                println!("  abi-layout FAILED (update the Rust definitions and the .expected file together):");
                for d in diff.iter().take(20) {
                    println!("    {d}");
                }
            }
            t.record("abi-layout", ok);
        }
        Ok(out) => {
            println!("  abi-layout FAILED: qemu-aarch64 exited with {:?}", out.status.code());
            t.record("abi-layout", false);
        }
        Err(_) => println!("  skipped: qemu-aarch64 not installed (apt-get install qemu-user)"),
    }
}

/// The instruction budgets of the key paths (deterministic counts, not
/// timings; see `cargo xtask bench`). Needs the cross compiler for the
/// benchmark program; without it, says what it skips.
fn budgets(t: &mut Tally) {
    println!("== bench-budgets (release build, -icount, instructions per operation)");
    if !crate::cprogs::have_cc() {
        println!("  skipped: {} not found, the benchmark program cannot be built", crate::cprogs::CC);
        return;
    }
    match crate::bench::check_budgets() {
        Ok(rows) => {
            for (row, got, budget, ok) in rows {
                let name = format!("bench-budgets::{row}");
                println!("  {} {name}: {got} instructions (budget {budget})", if ok { "ok    " } else { "FAILED" });
                t.record(&name, ok);
            }
        }
        Err(e) => {
            println!("  bench-budgets FAILED: {e}");
            t.record("bench-budgets", false);
        }
    }
}

/// `cargo xtask test`.
pub fn run(release: bool, filter: Option<&str>) -> Result<i32, String> {
    let mut t = Tally::default();
    if filter.is_none() {
        host_tests(&mut t)?;
    }
    qemu::check_installed()?;
    let art = build::build(release)?;
    let initrd = demo_initramfs(&art)?;
    for run in target_runs() {
        if filter.is_some_and(|f| !run.name.contains(f)) {
            continue;
        }
        run_target(&mut t, &art, &initrd, &run)?;
    }
    for c in COMPARE_RUNS {
        if filter.is_some_and(|f| !format!("c-{}", c.program).contains(f)) {
            continue;
        }
        compare_run(&mut t, &art, &initrd, c)?;
    }
    if filter.is_none_or(|f| "abi-layout".contains(f)) {
        abi_layout(&mut t);
    }
    if filter.is_none_or(|f| "bench-budgets".contains(f)) {
        budgets(&mut t);
    }
    if !t.failures.is_empty() {
        println!("failures:");
        for f in &t.failures {
            println!("  {f}");
        }
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(if t.failed == 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::frames_lost;

    #[test]
    fn frame_accounting_line() {
        let ok = "[ 0.3] INFO  frames: 6456 free of 16909 at shutdown (6456 when user space started)\n";
        assert_eq!(frames_lost(ok), None);
        let lost = "x\n[ 0.3] INFO  frames: 6450 free of 16909 at shutdown (6456 when user space started)";
        assert!(frames_lost(lost).is_some_and(|w| w.contains("6450 free") && w.contains("6456 when")));
        assert_eq!(frames_lost("no shutdown line"), None);
    }
}
