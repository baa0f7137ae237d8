//! `cargo xtask bench`: guest instructions per operation on armmap and,
//! with `--linux`, on Debian's Linux kernel in the same QEMU machine.
//!
//! The benchmark is one static C program, `bench/bench.c`, booted as the
//! first process (`/init`). It counts retired instructions with
//! `perf_event_open` around batches of operations and prints
//! `bench <row> <instructions-per-op> <ops>` lines, then `bench done`, and
//! powers the machine off. QEMU runs with `-icount shift=0,sleep=off`, which
//! makes the guest's instruction count (PMU event 0x08, INST_RETIRED) exact
//! and repeatable: two runs print the same numbers, so the counts compare
//! kernels, not host noise. Host wall time per whole run (median of the
//! runs) is reported too, clearly apart: it is per boot, not per operation.
//!
//! Results go to `target/bench/results.json` and `target/bench/chart.svg`.

use crate::build;
use crate::cpio::{self, Entry};
use crate::cprogs;
use crate::qemu::{self, QemuConfig};
use plotters::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// QEMU options added to the usual ones for a deterministic guest: no random
/// seed in the device tree, exact instruction counting, a fixed real-time
/// clock (Linux mixes the RTC into its random pool, which then picks stack
/// offsets), and RAM allocated up front so the wall times are steadier.
const DETERMINISTIC: &[&str] =
    &["-machine", "dtb-randomness=off", "-icount", "shift=0,sleep=off", "-rtc", "base=2024-01-01T00:00:00,clock=vm"];

/// The Linux kernel command line (the program is `/init` of the initramfs).
pub const LINUX_APPEND: &str = "console=ttyAMA0 quiet rdinit=/init nokaslr norandmaps";

/// armmap's kernel command line: a buffer big enough for the 128 MiB rows.
pub const ARMMAP_APPEND: &str = "log=warn memdev=128M";

/// Time limit for one boot.
const LIMIT: Duration = Duration::from_secs(300);

/// The rows `bench.c` prints, in order, with what they measure.
pub const ROWS: &[(&str, &str)] = &[
    ("getppid", "null system call (getppid)"),
    ("clock_gettime_vdso", "clock_gettime(CLOCK_MONOTONIC) through glibc (the vDSO)"),
    ("clock_gettime_syscall", "clock_gettime(CLOCK_MONOTONIC) as a system call"),
    ("mmap_munmap_4k", "mmap + munmap of 4 KiB, anonymous, untouched"),
    ("anon_write_fault", "anonymous write fault, per page"),
    ("anon_read_fault", "anonymous read fault (Linux: maps the zero page)"),
    ("anon_write_after_read", "write after read (Linux: COW of the zero page)"),
    ("populate_per_page", "mmap with MAP_POPULATE, per page (4 MiB)"),
    ("munmap_per_page", "munmap of a populated mapping, per page"),
    ("file_private_read", "private file read fault (/tmp), per page"),
    ("file_private_write", "private file write fault (copy), per page"),
    ("file_shared_read", "shared file read fault, per page"),
    ("file_shared_write", "shared file write fault, per page"),
    ("cow_after_fork_per_page", "COW after fork: child writes a parent's page"),
    ("fork_exit_wait_0", "fork + exit + wait (no extra pages)"),
    ("fork_exit_wait_1024", "fork + exit + wait, 1024 populated pages"),
    ("fork_exit_wait_16384", "fork + exit + wait, 16384 populated pages"),
    ("sched_yield_switch", "sched_yield ping-pong, per switch"),
    ("memdev_remap_mmap_2M", "/dev/memdev remap: mmap of 2 MiB"),
    ("memdev_remap_total_2M", "/dev/memdev remap: mmap + touch 2 MiB"),
    ("memdev_lazy_mmap_2M", "/dev/memdev-lazy: mmap of 2 MiB"),
    ("memdev_lazy_total_2M", "/dev/memdev-lazy: mmap + touch 2 MiB"),
    ("memdev_remap_mmap_8M", "/dev/memdev remap: mmap of 8 MiB"),
    ("memdev_remap_total_8M", "/dev/memdev remap: mmap + touch 8 MiB"),
    ("memdev_lazy_mmap_8M", "/dev/memdev-lazy: mmap of 8 MiB"),
    ("memdev_lazy_total_8M", "/dev/memdev-lazy: mmap + touch 8 MiB"),
    ("memdev_remap_mmap_32M", "/dev/memdev remap: mmap of 32 MiB"),
    ("memdev_remap_total_32M", "/dev/memdev remap: mmap + touch 32 MiB"),
    ("memdev_lazy_mmap_32M", "/dev/memdev-lazy: mmap of 32 MiB"),
    ("memdev_lazy_total_32M", "/dev/memdev-lazy: mmap + touch 32 MiB"),
    ("memdev_remap_mmap_128M", "/dev/memdev remap: mmap of 128 MiB"),
    ("memdev_remap_total_128M", "/dev/memdev remap: mmap + touch 128 MiB"),
    ("memdev_lazy_mmap_128M", "/dev/memdev-lazy: mmap of 128 MiB"),
    ("memdev_lazy_total_128M", "/dev/memdev-lazy: mmap + touch 128 MiB"),
    ("fault_vmas_1", "anonymous write fault, 1 extra VMA"),
    ("fault_vmas_100", "anonymous write fault, 100 extra VMAs"),
    ("fault_vmas_1000", "anonymous write fault, 1000 extra VMAs"),
    ("fault_vmas_10000", "anonymous write fault, 10000 extra VMAs"),
];

/// The memdev sizes (MiB) of the remap-vs-lazy rows.
const MEMDEV_MIB: &[u64] = &[2, 8, 32, 128];

/// Options of `cargo xtask bench`.
#[derive(Default)]
struct Opts {
    linux: bool,
    linux_image: Option<PathBuf>,
    runs: usize,
    armmap: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts { runs: 5, armmap: true, ..Default::default() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--linux" => o.linux = true,
            "--linux-image" => {
                o.linux = true;
                o.linux_image = Some(it.next().ok_or("--linux-image needs a path")?.into());
            }
            "--runs" => {
                let n = it.next().ok_or("--runs needs a number")?;
                o.runs = n.parse().ok().filter(|&n| n > 0).ok_or(format!("--runs: bad number {n}"))?;
            }
            "--no-armmap" => o.armmap = false,
            s => return Err(format!("bench: unknown argument {s}")),
        }
    }
    if !o.armmap && !o.linux {
        return Err("--no-armmap needs --linux".into());
    }
    Ok(o)
}

/// One row's figure.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Figure {
    per_op: u64,
    ops: u64,
}

/// What one boot printed.
#[derive(Debug, Default)]
struct Parsed {
    rows: BTreeMap<String, Figure>,
    skipped: Vec<(String, String)>,
    info: Vec<(String, String)>,
    error: Option<String>,
    done: bool,
}

/// Reads the `bench ...` lines of a boot's console output.
fn parse_output(output: &str) -> Parsed {
    let mut p = Parsed::default();
    for line in output.lines() {
        // A kernel message may share the line; the program's text starts at "bench ".
        let Some(at) = line.find("bench ") else { continue };
        let rest = &line[at + 6..];
        let words: Vec<&str> = rest.split_whitespace().collect();
        match words.as_slice() {
            ["done"] => p.done = true,
            ["error", ..] => p.error = Some(rest["error".len()..].trim().to_string()),
            ["skip", row, why @ ..] => p.skipped.push((row.to_string(), why.join(" "))),
            ["info", key, value @ ..] => p.info.push((key.to_string(), value.join(" "))),
            [row, per_op, ops] => {
                if let (Ok(per_op), Ok(ops)) = (per_op.parse(), ops.parse()) {
                    p.rows.insert(row.to_string(), Figure { per_op, ops });
                }
            }
            _ => {}
        }
    }
    p
}

/// A kernel's results over all its runs.
#[derive(Debug, Default)]
struct KernelResult {
    name: &'static str,
    rows: BTreeMap<String, Figure>,
    skipped: Vec<(String, String)>,
    info: Vec<(String, String)>,
    error: Option<String>,
    wall: Vec<f64>,
    /// Every run printed the same counts.
    deterministic: bool,
    image: String,
}

impl KernelResult {
    fn wall_median(&self) -> Option<f64> {
        median(&self.wall)
    }
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

pub(crate) fn bench_dir() -> PathBuf {
    build::root().join("target").join("bench")
}

/// Compiles `bench/bench.c` (static, -O2) unless the binary is newer.
fn build_program() -> Result<PathBuf, String> {
    if !cprogs::have_cc() {
        return Err(format!(
            "{} not found (install: sudo apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)",
            cprogs::CC
        ));
    }
    let src = build::root().join("bench").join("bench.c");
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let bin = dir.join("bench");
    let fresh = bin.metadata().and_then(|b| b.modified()).ok() > src.metadata().and_then(|s| s.modified()).ok();
    if !fresh {
        println!("== compiling {}", src.display());
        let status = Command::new(cprogs::CC)
            .args(["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&bin)
            .arg(&src)
            .status()
            .map_err(|e| format!("running {}: {e}", cprogs::CC))?;
        if !status.success() {
            return Err(format!("{} failed on {}", cprogs::CC, src.display()));
        }
    }
    Ok(bin)
}

/// A smoke test under the host's user-mode QEMU (`qemu-aarch64`, the host
/// kernel's system calls): the program must end by itself, with `bench
/// done` or (usually: no guest PMU there) `bench error perf_event_open`.
fn smoke_user_mode(bin: &Path) {
    let out = match Command::new("timeout").arg("120").arg("qemu-aarch64").arg(bin).stdin(Stdio::null()).output() {
        Ok(o) => o,
        Err(_) => return,
    };
    if out.status.code() == Some(127) {
        println!("== qemu-aarch64 smoke test skipped (install: sudo apt-get install qemu-user)");
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().rev().find(|l| l.starts_with("bench done") || l.starts_with("bench error"));
    match (last, out.status.code()) {
        (Some(l), code) if code != Some(124) => {
            println!("== qemu-aarch64 smoke test: ended by itself (status {code:?}): {l}")
        }
        _ => println!("== qemu-aarch64 smoke test: WARNING: unexpected end ({:?}):\n{text}", out.status.code()),
    }
}

/// The QEMU configuration shared by both kernels.
fn qemu_config(image: &Path, initrd: PathBuf, append: &str) -> QemuConfig {
    let mut cfg = QemuConfig::new(image.to_path_buf());
    cfg.initrd = Some(initrd);
    cfg.cpu = "cortex-a72".into();
    cfg.mem = "1G".into();
    cfg.append = append.into();
    cfg.extra = DETERMINISTIC.iter().map(|s| s.to_string()).collect();
    cfg.extra.push("-mem-prealloc".into());
    cfg
}

/// Boots `runs` times; stops after a failed run.
fn run_kernel(name: &'static str, cfg: &QemuConfig, runs: usize) -> Result<KernelResult, String> {
    let mut k =
        KernelResult { name, deterministic: true, image: cfg.image.display().to_string(), ..Default::default() };
    let logs = bench_dir();
    println!("== {name}: qemu-system-aarch64 {}", cfg.args().join(" "));
    let mut per_run: Vec<BTreeMap<String, Figure>> = Vec::new();
    for i in 0..runs {
        let r = qemu::run_captured(cfg, LIMIT, |_| {})?;
        let log = logs.join(format!("{name}-run{}.log", i + 1));
        let _ = std::fs::write(&log, &r.output);
        let p = parse_output(&r.output);
        let failed = if r.timed_out {
            Some(format!("timed out after {} s", LIMIT.as_secs()))
        } else if let Some(e) = &p.error {
            let hint = if e.contains("perf_event_open") && e.contains(" 38 ") {
                " (ENOSYS: this kernel has no perf_event_open yet)"
            } else {
                ""
            };
            Some(format!("the program reported: {e}{hint}"))
        } else if !p.done {
            Some(format!("no 'bench done' line (QEMU exit status {:?})", r.status))
        } else if r.status != Some(0) {
            Some(format!("QEMU exit status {:?}, expected 0 (power-off)", r.status))
        } else {
            None
        };
        if let Some(why) = failed {
            println!("  run {}: FAILED: {why}; output in {}", i + 1, log.display());
            for l in r.output.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev() {
                println!("    | {l}");
            }
            k.error = Some(why);
            k.rows = p.rows;
            k.skipped = p.skipped;
            k.info = p.info;
            return Ok(k);
        }
        let secs = r.elapsed.as_secs_f64();
        println!("  run {}: {} rows, {:.2} s wall", i + 1, p.rows.len(), secs);
        k.wall.push(secs);
        if i == 0 {
            k.skipped = p.skipped;
            k.info = p.info;
        }
        per_run.push(p.rows);
    }
    // Every run should agree; if not, say where and keep the median.
    let first = per_run[0].clone();
    for (i, rows) in per_run.iter().enumerate().skip(1) {
        for (row, f) in rows {
            if first.get(row) != Some(f) {
                k.deterministic = false;
                println!(
                    "  note: run {} differs from run 1 on {row}: {} vs {:?}",
                    i + 1,
                    f.per_op,
                    first.get(row).map(|f| f.per_op)
                );
            }
        }
    }
    for row in first.keys() {
        let v: Vec<f64> = per_run.iter().filter_map(|r| r.get(row)).map(|f| f.per_op as f64).collect();
        let m = median(&v).unwrap_or(0.0);
        k.rows.insert(row.clone(), Figure { per_op: m.round() as u64, ops: first[row].ops });
    }
    if k.deterministic && runs > 1 {
        println!("  all {runs} runs printed identical counts");
    }
    Ok(k)
}

/// The benchmark on armmap: release build, the program as `/init`.
fn armmap(bin: &Path, runs: usize) -> Result<KernelResult, String> {
    let art = build::build(true)?;
    let initrd = crate::run::initramfs_for(bin, &[], "bench", None)?;
    let cfg = qemu_config(&art.kernel_image, initrd, ARMMAP_APPEND);
    run_kernel("armmap", &cfg, runs)
}

/// The Linux initramfs: `/init` (the program), `/dev` and `/tmp`. The
/// kernel's built-in initramfs supplies `/dev/console`.
fn linux_initramfs(bin: &Path) -> Result<PathBuf, String> {
    let data = std::fs::read(bin).map_err(|e| format!("reading {}: {e}", bin.display()))?;
    let entries = [
        Entry { name: "dev".into(), mode: 0o040755, data: Vec::new() },
        Entry { name: "tmp".into(), mode: 0o041777, data: Vec::new() },
        Entry { name: "init".into(), mode: 0o100755, data },
    ];
    let out = bench_dir().join("linux-initramfs.cpio");
    std::fs::write(&out, cpio::archive(&entries)).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(out)
}

/// Runs a command, echoing it; returns its stdout.
pub(crate) fn sh(cmd: &str, args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    println!("  $ {cmd} {}", args.join(" "));
    let mut c = Command::new(cmd);
    c.args(args).stdin(Stdio::null()).stderr(Stdio::inherit());
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c.output().map_err(|e| format!("running {cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd} {} failed ({})", args.join(" "), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The versioned package `linux-image-arm64:arm64` depends on.
fn linux_package() -> Result<Option<String>, String> {
    let out = Command::new("apt-cache")
        .args(["depends", "linux-image-arm64:arm64"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("running apt-cache (is this Debian?): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().find_map(|l| {
        let dep = l.trim().strip_prefix("Depends:")?.trim().trim_start_matches('<').trim_end_matches('>');
        dep.starts_with("linux-image-").then(|| dep.to_string())
    }))
}

pub(crate) fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Debian's arm64 kernel image: `--linux-image`, else the one cached in
/// `target/bench/linux/`, else downloaded with apt and cached there.
fn linux_image(given: Option<&PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if p.is_file() { Ok(p.clone()) } else { Err(format!("--linux-image {}: no such file", p.display())) };
    }
    let dir = bench_dir().join("linux");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let cached = |dir: &Path| -> Option<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
            .collect();
        v.sort();
        v.pop()
    };
    if let Some(p) = cached(&dir) {
        return Ok(p);
    }
    println!("== fetching Debian's arm64 Linux kernel into {}", dir.display());
    let pkg = match linux_package()? {
        Some(p) => p,
        None if is_root() => {
            // The arm64 package lists are not there yet.
            sh("dpkg", &["--add-architecture", "arm64"], None)?;
            sh("apt-get", &["update", "-q"], None)?;
            linux_package()?.ok_or("apt-cache depends linux-image-arm64:arm64 names no linux-image package")?
        }
        None => {
            return Err("no arm64 package lists. As root run:\n  dpkg --add-architecture arm64 && apt-get update\n\
                 or pass --linux-image PATH (an arm64 vmlinuz)"
                .into())
        }
    };
    let pkg = if pkg.ends_with(":arm64") { pkg } else { format!("{pkg}:arm64") };
    // The sandbox option silences apt's warning about downloading as root.
    sh("apt-get", &["-o", "APT::Sandbox::User=root", "download", &pkg], Some(&dir))?;
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download left no .deb")?;
    // Only the kernel image, not the whole package (its modules are ~400 MB).
    let tar = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running dpkg-deb: {e}"))?;
    println!(
        "  $ dpkg-deb --fsys-tarfile {} | tar -x --wildcards --strip-components=2 './boot/vmlinuz-*'",
        deb.display()
    );
    let status = Command::new("tar")
        .args(["-x", "--wildcards", "--strip-components=2", "./boot/vmlinuz-*"])
        .current_dir(&dir)
        .stdin(tar.stdout.ok_or("dpkg-deb: no stdout")?)
        .status()
        .map_err(|e| format!("running tar: {e}"))?;
    let _ = std::fs::remove_file(&deb);
    if !status.success() {
        return Err("extracting boot/vmlinuz-* from the package failed".into());
    }
    cached(&dir).ok_or_else(|| format!("no vmlinuz-* in {}", dir.display()))
}

/// The benchmark on Linux.
fn linux(bin: &Path, given: Option<&PathBuf>, runs: usize) -> Result<KernelResult, String> {
    let image = linux_image(given)?;
    let initrd = linux_initramfs(bin)?;
    let cfg = qemu_config(&image, initrd, LINUX_APPEND);
    run_kernel("linux", &cfg, runs)
}

/// Whether a `bench skip NAME` line covers `row` (`memdev_2M` covers the
/// four `memdev_*_2M` rows).
fn skip_covers(skipped: &str, row: &str) -> bool {
    skipped == row
        || (skipped.starts_with("memdev_") && row.starts_with("memdev_") && row.ends_with(&skipped["memdev".len()..]))
}

fn describe(row: &str) -> &str {
    ROWS.iter().find(|(r, _)| *r == row).map(|(_, d)| *d).unwrap_or(row)
}

fn is_memdev(row: &str) -> bool {
    row.starts_with("memdev_")
}

/// Every row either kernel printed, in the program's order.
fn all_rows(kernels: &[&KernelResult]) -> Vec<String> {
    let mut rows: Vec<String> = ROWS.iter().map(|(r, _)| r.to_string()).collect();
    for k in kernels {
        for r in k.rows.keys() {
            if !rows.contains(r) {
                rows.push(r.clone());
            }
        }
    }
    rows.retain(|r| kernels.iter().any(|k| k.rows.contains_key(r)));
    rows
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The results table (Markdown, so it can go into docs as is).
fn table(armmap: Option<&KernelResult>, linux: Option<&KernelResult>) -> String {
    let ks: Vec<&KernelResult> = [armmap, linux].into_iter().flatten().collect();
    let rows = all_rows(&ks);
    let cell = |k: Option<&KernelResult>, row: &str| -> String {
        match k {
            None => "–".into(),
            Some(k) => match k.rows.get(row) {
                Some(f) => thousands(f.per_op),
                None if k.skipped.iter().any(|(r, _)| skip_covers(r, row)) => "skipped".into(),
                None => "n/a".into(),
            },
        }
    };
    let mut s = String::new();
    let with_linux = linux.is_some();
    if with_linux {
        s.push_str("| operation | row | armmap instr/op | Linux instr/op | armmap / Linux | ops |\n");
        s.push_str("|---|---|--:|--:|--:|--:|\n");
    } else {
        s.push_str("| operation | row | armmap instr/op | ops |\n|---|---|--:|--:|\n");
    }
    for row in &rows {
        let ops = ks.iter().find_map(|k| k.rows.get(row)).map(|f| f.ops).unwrap_or(0);
        if with_linux {
            let ratio = match (armmap.and_then(|k| k.rows.get(row)), linux.and_then(|k| k.rows.get(row))) {
                (Some(a), Some(l)) if l.per_op > 0 => format!("{:.2}", a.per_op as f64 / l.per_op as f64),
                _ => "–".into(),
            };
            s.push_str(&format!(
                "| {} | `{row}` | {} | {} | {ratio} | {ops} |\n",
                describe(row),
                cell(armmap, row),
                cell(linux, row)
            ));
        } else {
            s.push_str(&format!("| {} | `{row}` | {} | {ops} |\n", describe(row), cell(armmap, row)));
        }
    }
    let wall = |k: Option<&KernelResult>| match k.and_then(|k| k.wall_median()) {
        Some(w) => format!("{w:.2} s"),
        None => "–".into(),
    };
    let n = ks.iter().map(|k| k.wall.len()).max().unwrap_or(0);
    if with_linux {
        s.push_str(&format!(
            "| *host wall time per whole run (boot + all rows + power-off), median of {n}; per run, not per op* | | {} | {} | | |\n",
            wall(armmap),
            wall(linux)
        ));
    } else {
        s.push_str(&format!(
            "| *host wall time per whole run (boot + all rows + power-off), median of {n}; per run, not per op* | | {} | |\n",
            wall(armmap)
        ));
    }
    s
}

fn kernel_json(k: &KernelResult) -> Value {
    let rows: serde_json::Map<String, Value> = k
        .rows
        .iter()
        .map(|(r, f)| (r.clone(), json!({ "instructions_per_op": f.per_op, "ops": f.ops, "what": describe(r) })))
        .collect();
    json!({
        "image": k.image,
        "ok": k.error.is_none(),
        "error": k.error,
        "deterministic": k.deterministic,
        "rows": rows,
        "skipped": k.skipped.iter().map(|(r, w)| json!({ "row": r, "why": w })).collect::<Vec<_>>(),
        "info": k.info.iter().map(|(a, b)| (a.clone(), json!(b))).collect::<serde_json::Map<_, _>>(),
        "wall_seconds_per_run": k.wall,
        "wall_seconds_median": k.wall_median(),
    })
}

fn write_json(armmap: Option<&KernelResult>, linux: Option<&KernelResult>, path: &Path) -> Result<(), String> {
    let v = json!({
        "unit": "guest instructions per operation (PMU INST_RETIRED, user + kernel), under QEMU -icount shift=0,sleep=off",
        "qemu": {
            "machine": "virt,gic-version=2,virtualization=on,dtb-randomness=off",
            "cpu": "cortex-a72",
            "memory": "1G",
            "extra": DETERMINISTIC,
        },
        "armmap_cmdline": ARMMAP_APPEND,
        "linux_cmdline": LINUX_APPEND,
        "armmap": armmap.map(kernel_json),
        "linux": linux.map(kernel_json),
    });
    let text = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The chart: memdev remap against lazy over the mapping size (top), and
/// instructions per operation, armmap against Linux (bottom, log scale).
fn write_chart(armmap: Option<&KernelResult>, linux: Option<&KernelResult>, path: &Path) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<std::io::Error>| format!("drawing {}: {e:?}", path.display());
    let ks: Vec<&KernelResult> = [armmap, linux].into_iter().flatten().collect();
    let rows: Vec<String> = all_rows(&ks).into_iter().filter(|r| !is_memdev(r)).collect();
    let bar_h = 34u32;
    let height = 470 + 140 + bar_h * rows.len().max(1) as u32;
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(470);

    // Top: memdev.
    let series: Vec<(&str, &str, RGBColor)> = vec![
        ("remap", "mmap", RGBColor(31, 119, 180)),
        ("remap", "total", RGBColor(31, 119, 180)),
        ("lazy", "mmap", RGBColor(214, 39, 40)),
        ("lazy", "total", RGBColor(214, 39, 40)),
    ];
    let point = |kind: &str, what: &str, mib: u64| -> Option<(f64, f64)> {
        let f = armmap?.rows.get(&format!("memdev_{kind}_{what}_{mib}M"))?;
        Some(((mib as f64).log2(), f.per_op.max(1) as f64))
    };
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(k, w, _)| MEMDEV_MIB.iter().filter_map(move |&m| point(k, w, m)).map(|p| p.1))
        .collect();
    let ymin = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let ymax = values.iter().cloned().fold(0.0, f64::max);
    let (ylo, yhi) = if values.is_empty() { (1e3, 1e8) } else { (ymin / 3.0, ymax * 3.0) };
    let mut chart = ChartBuilder::on(&top)
        .caption(
            "armmap: /dev/memdev one-pass remap vs /dev/memdev-lazy faults (guest instructions, log-log)",
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(0.5f64..7.5f64, (ylo..yhi).log_scale())
        .map_err(err)?;
    // x is log2 of the size in MiB, labelled with the size.
    chart
        .configure_mesh()
        .x_desc("mapping size (MiB, log scale)")
        .y_desc("instructions")
        .x_labels(15)
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 && v.round() >= 0.0 {
                format!("{}", 1u64 << v.round() as u32)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(err)?;
    if values.is_empty() {
        top.draw(&Text::new("no armmap memdev results", (420, 220), ("sans-serif", 18).into_font())).map_err(err)?;
    }
    for (kind, what, color) in &series {
        let pts: Vec<(f64, f64)> = MEMDEV_MIB.iter().filter_map(|&m| point(kind, what, m)).collect();
        if pts.is_empty() {
            continue;
        }
        let color = *color;
        let style = if *what == "total" { color.stroke_width(3) } else { color.stroke_width(1) };
        let label = format!(
            "{} {}",
            if *kind == "remap" { "/dev/memdev (remap)" } else { "/dev/memdev-lazy" },
            if *what == "total" { "mmap + touch every page" } else { "mmap call only" }
        );
        chart
            .draw_series(LineSeries::new(pts.clone(), style))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;

    // Bottom: per operation.
    let n = rows.len().max(1);
    let vals: Vec<f64> = rows
        .iter()
        .flat_map(|r| ks.iter().filter_map(move |k| k.rows.get(r)).map(|f| f.per_op.max(1) as f64))
        .collect();
    let xmax = vals.iter().cloned().fold(10.0, f64::max) * 4.0;
    let xmin = vals.iter().cloned().fold(f64::INFINITY, f64::min).min(100.0) / 2.0;
    let names = rows.clone();
    let label_of = move |y: &f64| -> String {
        let i = y.round();
        if (y - i).abs() > 1e-6 || i < 0.0 || i as usize >= names.len() {
            return String::new();
        }
        names[names.len() - 1 - i as usize].clone()
    };
    let mut chart = ChartBuilder::on(&bottom)
        .caption("guest instructions per operation: armmap vs Linux (log scale)", ("sans-serif", 20))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(200)
        .build_cartesian_2d((xmin..xmax).log_scale(), -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(4 * n)
        .y_label_formatter(&label_of)
        .x_desc("instructions per operation")
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(err)?;
    let sides: Vec<(&KernelResult, RGBColor, f64)> =
        [armmap.map(|k| (k, RGBColor(31, 119, 180), 0.0)), linux.map(|k| (k, RGBColor(255, 127, 14), -0.4))]
            .into_iter()
            .flatten()
            .collect();
    for (k, color, off) in sides {
        let bars: Vec<(f64, f64, u64)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| k.rows.get(r).map(|f| ((n - 1 - i) as f64, f.per_op.max(1) as f64, f.per_op)))
            .collect();
        chart
            .draw_series(
                bars.iter()
                    .map(|&(y, v, _)| Rectangle::new([(xmin, y + off + 0.02), (v, y + off + 0.38)], color.filled())),
            )
            .map_err(err)?
            .label(if k.name == "armmap" { "armmap" } else { "Linux (Debian arm64)" })
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
        chart
            .draw_series(bars.iter().map(|&(y, v, raw)| {
                Text::new(thousands(raw), (v * 1.08, y + off + 0.32), ("sans-serif", 12).into_font())
            }))
            .map_err(err)?;
        let missing: Vec<(f64, String)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !k.rows.contains_key(*r))
            .map(|(i, r)| {
                let why =
                    k.skipped.iter().find(|(s, _)| skip_covers(s, r)).map(|(_, w)| w.as_str()).unwrap_or("no result");
                ((n - 1 - i) as f64, format!("{}: skipped ({why})", k.name))
            })
            .collect();
        chart
            .draw_series(missing.iter().map(|(y, t)| {
                Text::new(t.clone(), (xmin * 1.1, y + off + 0.32), ("sans-serif", 12).into_font().color(&color))
            }))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// `cargo xtask bench [--linux] [--linux-image PATH] [--runs N] [--no-armmap]`.
pub fn run(args: &[String]) -> Result<i32, String> {
    let o = parse(args)?;
    qemu::check_installed()?;
    let bin = build_program()?;
    smoke_user_mode(&bin);
    let dir = bench_dir();
    let a = if o.armmap { Some(armmap(&bin, o.runs)?) } else { None };
    let l = if o.linux { Some(linux(&bin, o.linux_image.as_ref(), o.runs)?) } else { None };
    let t = table(a.as_ref(), l.as_ref());
    println!();
    println!("guest instructions per operation (PMU INST_RETIRED, user + kernel; QEMU -icount shift=0,sleep=off)");
    println!("{t}");
    for k in [&a, &l].into_iter().flatten() {
        for (row, why) in &k.skipped {
            println!("{}: skipped {row}: {why}", k.name);
        }
        if let Some(e) = &k.error {
            println!("{}: FAILED: {e}", k.name);
        } else if !k.deterministic {
            println!("{}: runs differed (median shown)", k.name);
        }
    }
    let json = dir.join("results.json");
    write_json(a.as_ref(), l.as_ref(), &json)?;
    let svg = dir.join("chart.svg");
    write_chart(a.as_ref(), l.as_ref(), &svg)?;
    std::fs::write(dir.join("table.md"), &t).map_err(|e| e.to_string())?;
    println!("results: {}\nchart:   {}\ntable:   {}", json.display(), svg.display(), dir.join("table.md").display());
    let failed = [&a, &l].into_iter().flatten().any(|k| k.error.is_some());
    Ok(if failed { 1 } else { 0 })
}

/// Instruction budgets for armmap's key paths, set from measurements with
/// some headroom (see docs/performance.md). Counts are exact under icount,
/// so crossing a budget is a real regression, never noise.
pub const BUDGETS: &[(&str, u64)] = &[
    ("getppid", 250),
    ("clock_gettime_vdso", 150),
    ("anon_write_fault", 1_050),
    ("anon_read_fault", 870),
    ("anon_write_after_read", 1_250),
    ("cow_after_fork_per_page", 1_950),
    ("file_private_write", 2_100),
    ("file_shared_write", 1_350),
    ("munmap_per_page", 220),
    ("populate_per_page", 870),
    ("mmap_munmap_4k", 5_200),
    ("memdev_remap_mmap_2M", 4_300),
    ("sched_yield_switch", 500),
];

/// Runs the benchmark once on armmap and checks every budget; returns
/// (row, measured, budget, within) for each, plus the VMA-scaling check
/// (fault cost with 10,000 VMAs at most 1.2 times the cost with 1).
pub fn check_budgets() -> Result<Vec<(String, u64, u64, bool)>, String> {
    let bin = build_program()?;
    let k = armmap(&bin, 1)?;
    if let Some(e) = &k.error {
        return Err(format!("the benchmark failed on armmap: {e}"));
    }
    let mut out = Vec::new();
    for &(row, budget) in BUDGETS {
        let got = k.rows.get(row).map(|f| f.per_op).ok_or(format!("row {row} missing"))?;
        out.push((row.to_string(), got, budget, got <= budget));
    }
    let one = k.rows.get("fault_vmas_1").map(|f| f.per_op).ok_or("row fault_vmas_1 missing")?;
    let many = k.rows.get("fault_vmas_10000").map(|f| f.per_op).ok_or("row fault_vmas_10000 missing")?;
    let limit = one * 12 / 10;
    out.push(("fault_vmas_10000 (<= 1.2 x fault_vmas_1)".into(), many, limit, many <= limit));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_program_output() {
        let out = "[    0.1] WARN  something\nbench info pid 1\nbench getppid 217 1000\n\
                   bench skip memdev_2M no-/dev/memdev\n[ 1.2] x bench mmap_munmap_4k 21556 256\nbench done\n";
        let p = parse_output(out);
        assert!(p.done);
        assert_eq!(p.rows["getppid"], Figure { per_op: 217, ops: 1000 });
        assert_eq!(p.rows["mmap_munmap_4k"].per_op, 21556);
        assert_eq!(p.skipped, vec![("memdev_2M".to_string(), "no-/dev/memdev".to_string())]);
        assert_eq!(p.info, vec![("pid".to_string(), "1".to_string())]);
        let e = parse_output("bench error perf_event_open: 38 (Function not implemented)\n");
        assert_eq!(e.error.as_deref(), Some("perf_event_open: 38 (Function not implemented)"));
        assert!(!e.done);
    }

    #[test]
    fn medians_and_thousands() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
