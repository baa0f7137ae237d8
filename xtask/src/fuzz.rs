//! `cargo xtask fuzz`: boots armmap with the system-call fuzzer
//! (`tests/src/bin/fuzz/`) as init and reports what it found.
//!
//! ```text
//! cargo xtask fuzz [--seed S] [--procs N] [--calls M] [--minutes T]
//!                  [--child K [--gen G]] [--skip CALL,...] [--trace] [--verbose]
//!                  [--release] [--log LEVEL] [--mem SIZE]
//! ```
//!
//! Without `--seed` a seed is drawn from the clock and printed. The
//! fuzzer's lines (`fuzz: ...`, `test fuzz::...`) and kernel errors are
//! shown as they come; the whole console output is kept in
//! `target/xtask/logs/fuzz.log`. QEMU's time limit follows the work asked
//! for (`--minutes`, or procs x calls). The command exits 0 only if the
//! fuzzer ran to its summary and every check passed; otherwise it says
//! why (a check failed, the kernel crashed or hung, init was killed) and
//! how to replay.

use crate::build;
use crate::qemu::{self, QemuConfig};
use std::time::{Duration, SystemTime};

/// What the fuzzer is asked to do.
struct FuzzOpts {
    seed: u64,
    procs: u64,
    calls: u64,
    minutes: Option<u64>,
    child: Option<u64>,
    gen: Option<u64>,
    skip: Option<String>,
    trace: bool,
    verbose: bool,
    release: bool,
    log: String,
    mem: Option<String>,
}

fn number(it: &mut std::slice::Iter<'_, String>, what: &str) -> Result<u64, String> {
    let v = it.next().ok_or(format!("{what} needs a number"))?;
    v.parse().map_err(|_| format!("{what}: '{v}' is not a number"))
}

fn parse(args: &[String]) -> Result<FuzzOpts, String> {
    let mut o = FuzzOpts {
        seed: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_007),
        procs: 8,
        calls: 5000,
        minutes: None,
        child: None,
        gen: None,
        skip: None,
        trace: false,
        verbose: false,
        release: false,
        log: "warn".into(),
        mem: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => o.seed = number(&mut it, "--seed")?,
            "--procs" => o.procs = number(&mut it, "--procs")?,
            "--calls" => o.calls = number(&mut it, "--calls")?,
            "--minutes" => o.minutes = Some(number(&mut it, "--minutes")?),
            "--child" => o.child = Some(number(&mut it, "--child")?),
            "--gen" => o.gen = Some(number(&mut it, "--gen")?),
            "--skip" => o.skip = Some(it.next().ok_or("--skip needs a list of call names")?.clone()),
            "--trace" => o.trace = true,
            "--verbose" => o.verbose = true,
            "--release" => o.release = true,
            "--log" => o.log = it.next().ok_or("--log needs a level")?.clone(),
            "--mem" => o.mem = Some(it.next().ok_or("--mem needs a size")?.clone()),
            s => return Err(format!("unknown option {s}")),
        }
    }
    if o.procs == 0 {
        return Err("--procs must be at least 1".into());
    }
    Ok(o)
}

/// The fuzzer's arguments on the kernel command line.
fn guest_args(o: &FuzzOpts) -> String {
    let mut s = format!("seed={} procs={} calls={}", o.seed, o.procs, o.calls);
    if let Some(m) = o.minutes {
        s.push_str(&format!(" minutes={m}"));
    }
    if let Some(k) = o.child {
        s.push_str(&format!(" child={k}"));
    }
    if let Some(g) = o.gen {
        s.push_str(&format!(" gen={g}"));
    }
    if let Some(skip) = &o.skip {
        s.push_str(&format!(" skip={skip}"));
    }
    if o.trace {
        s.push_str(" trace");
    }
    if o.verbose {
        s.push_str(" verbose");
    }
    s
}

/// The same run (or, with `seed`, one round of it) as a `cargo xtask fuzz` command.
fn replay_command(o: &FuzzOpts, seed: u64) -> String {
    let mut s = format!("cargo xtask fuzz --seed {seed} --procs {} --calls {}", o.procs, o.calls);
    if let Some(k) = o.child {
        s.push_str(&format!(" --child {k}"));
    }
    if let Some(g) = o.gen {
        s.push_str(&format!(" --gen {g}"));
    }
    if let Some(skip) = &o.skip {
        s.push_str(&format!(" --skip {skip}"));
    }
    s
}

/// QEMU's time limit: the minutes asked for, or the calls at a pessimistic
/// 300 calls per second (the debug kernel manages several thousand), with
/// two minutes for booting and the checks.
fn time_limit(o: &FuzzOpts) -> Duration {
    let work = match o.minutes {
        Some(m) => m * 60,
        None => o.procs.saturating_mul(o.calls) / 300,
    };
    Duration::from_secs(120 + work)
}

/// Whether a console line is worth showing as it comes.
fn shown(line: &str) -> bool {
    line.starts_with("fuzz") || line.starts_with("test ") || line.contains("***") || line.contains("ERROR")
}

/// `cargo xtask fuzz`.
pub fn run(args: &[String]) -> Result<i32, String> {
    let o = parse(args)?;
    qemu::check_installed()?;
    let art = build::build(o.release)?;
    let initrd = crate::test::demo_initramfs(&art)?;
    let mut cfg = QemuConfig::new(art.kernel_image.clone());
    cfg.initrd = Some(initrd);
    if let Some(m) = &o.mem {
        cfg.mem = m.clone();
    }
    cfg.append = format!("log={} init=/bin/fuzz -- {}", o.log, guest_args(&o));
    let limit = time_limit(&o);
    println!(
        "== fuzz: seed {} ({} processes x {} calls), QEMU time limit {} s",
        o.seed,
        o.procs,
        o.calls,
        limit.as_secs()
    );
    let mut summary = false;
    // The seed of the round under way: with --minutes, the one to replay
    // when the kernel hangs or panics.
    let mut round_seed = o.seed;
    let result = qemu::run_captured(&cfg, limit, |line| {
        if shown(line) {
            println!("{line}");
        }
        if line.starts_with("fuzz: seed=") && line.contains(" stuck, frames ") {
            summary = true;
        }
        if let Some(seed) = line.strip_prefix("fuzz: round ").and_then(|r| r.split_once(" seed=")) {
            round_seed = seed.1.trim().parse().unwrap_or(round_seed);
        }
    })?;
    let logs = build::root().join("target").join("xtask").join("logs");
    let _ = std::fs::create_dir_all(&logs);
    let log = logs.join("fuzz.log");
    let _ = std::fs::write(&log, &result.output);
    let out = &result.output;
    let why = if result.timed_out {
        Some(format!("QEMU did not finish within {} s (a hang?)", limit.as_secs()))
    } else if out.contains("*** kernel panic") || out.contains("*** kernel fault") {
        Some("the kernel crashed".to_string())
    } else if let Some(sig) = result.status.filter(|&s| !summary && s > 128).map(|s| s - 128) {
        Some(format!("the fuzzer (init, pid 1) was killed by signal {sig}"))
    } else if !summary {
        Some(format!("the fuzzer ended without its summary (QEMU exit status {:?})", result.status))
    } else if result.status != Some(0) {
        Some("a check failed (see the lines above)".to_string())
    } else {
        None
    };
    match why {
        None => {
            println!("fuzz passed in {:.1} s; full output in {}", result.elapsed.as_secs_f64(), log.display());
            Ok(0)
        }
        Some(why) => {
            println!("fuzz FAILED: {why}; full output in {}", log.display());
            // With a summary, the fuzzer has printed how to replay the round
            // that failed; without one, the round under way is the suspect.
            if !summary {
                println!("last lines:");
                for l in out.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev() {
                    println!("    | {l}");
                }
                println!("replay: {}", replay_command(&o, round_seed));
                println!("each child's calls as they are made (slow): {} --trace", replay_command(&o, round_seed));
            }
            Ok(1)
        }
    }
}
