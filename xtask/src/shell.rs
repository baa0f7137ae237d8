//! `cargo xtask shell`: an interactive busybox shell on armmap.
//!
//! Debian's `busybox-static` package for arm64 is fetched once with
//! `apt-get download busybox-static:arm64` and its `bin/busybox` kept in
//! `target/bench/busybox/` (beside the arm64 Linux kernel `cargo xtask
//! bench --linux` caches). The initramfs holds `/bin/busybox`, one hard link
//! per applet in `/bin` (`busybox --list`, run under `qemu-aarch64`, names
//! them), `/sbin/runinit` as pid 1, and an empty `/root`. armmap boots with
//! `sh -i` as runinit's child on the console, `PATH=/bin` and
//! `HOME=/root`, and QEMU's serial on the terminal (`-nographic`: ^C goes to
//! the guest; Ctrl-A X quits QEMU).

use crate::bench::{bench_dir, sh};
use crate::build::{self, Artifacts};
use crate::cpio::{self, Entry};
use crate::qemu::{self, QemuConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel command line of a shell session (`cargo xtask shell` sets
/// its own log level).
pub const SH_CMDLINE: &str = "log=warn init=/sbin/runinit PATH=/bin HOME=/root -- /bin/sh -i";

/// What the package download needs, when apt cannot do it.
const HOW_TO_FETCH: &str = "\
busybox-static for arm64 could not be fetched with apt. Either, as root:
    dpkg --add-architecture arm64 && apt-get update
and run this command again, or download the arm64 .deb by hand from
    https://packages.debian.org/stable/arm64/busybox-static/download
into DIR and run this command again.";

/// Applets to link when `busybox --list` cannot be run (no qemu-aarch64).
const FALLBACK_APPLETS: &[&str] = &[
    "sh", "ash", "[", "[[", "awk", "basename", "cat", "chmod", "clear", "cp", "cut", "date", "dd", "df", "dirname",
    "du", "echo", "env", "expr", "false", "find", "grep", "head", "hexdump", "id", "kill", "ln", "ls", "mkdir", "more",
    "mv", "printf", "ps", "pwd", "rm", "rmdir", "sed", "seq", "sleep", "sort", "stat", "stty", "tail", "tee", "test",
    "time", "touch", "tr", "true", "tty", "uname", "uniq", "vi", "wc", "which", "xargs", "yes",
];

fn dir() -> PathBuf {
    bench_dir().join("busybox")
}

/// The cached busybox binary, if it was fetched.
pub fn cached() -> Option<PathBuf> {
    let p = dir().join("busybox");
    p.is_file().then_some(p)
}

/// The busybox binary: the cached one, else fetched with apt and cached.
pub fn fetch() -> Result<PathBuf, String> {
    if let Some(p) = cached() {
        return Ok(p);
    }
    let dir = dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let how = || HOW_TO_FETCH.replace("DIR", &dir.display().to_string());
    let find_deb = || -> Option<PathBuf> {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
    };
    let deb = match find_deb() {
        Some(d) => d,
        None => {
            println!("== fetching Debian's busybox-static (arm64) into {}", dir.display());
            // The sandbox option silences apt's warning about downloading as root.
            if let Err(e) =
                sh("apt-get", &["-o", "APT::Sandbox::User=root", "download", "busybox-static:arm64"], Some(&dir))
            {
                return Err(format!("{e}\n{}", how()));
            }
            find_deb().ok_or_else(|| format!("apt-get download left no .deb\n{}", how()))?
        }
    };
    let unpacked = dir.join("unpacked");
    let _ = std::fs::remove_dir_all(&unpacked);
    sh("dpkg-deb", &["-x", &deb.display().to_string(), &unpacked.display().to_string()], None)?;
    let bin = dir.join("busybox");
    std::fs::copy(unpacked.join("bin").join("busybox"), &bin)
        .map_err(|e| format!("{} has no bin/busybox: {e}", deb.display()))?;
    let _ = std::fs::remove_dir_all(&unpacked);
    Ok(bin)
}

/// The applet names of `busybox`: `busybox --list` under qemu-aarch64
/// (cached in `applets.txt`), else a list of the common ones.
fn applets(busybox: &Path) -> Vec<String> {
    let list = dir().join("applets.txt");
    if let Ok(text) = std::fs::read_to_string(&list) {
        return text.lines().map(String::from).collect();
    }
    match Command::new("qemu-aarch64").arg(busybox).arg("--list").output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            let _ = std::fs::write(&list, &text);
            text.lines().map(String::from).collect()
        }
        _ => {
            println!("  note: qemu-aarch64 not installed; linking {} common applets", FALLBACK_APPLETS.len());
            FALLBACK_APPLETS.iter().map(|s| s.to_string()).collect()
        }
    }
}

/// The shell's initramfs, built from `busybox`.
pub fn initramfs(art: &Artifacts, busybox: &Path) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let dirmode = 0o040755;
    let mut entries: Vec<Entry> = ["bin", "sbin", "root", "etc"]
        .iter()
        .map(|d| Entry { name: d.to_string(), mode: dirmode, data: Vec::new() })
        .collect();
    entries.push(Entry { name: "sbin/runinit".into(), mode: 0o100755, data: read(&art.out_dir.join("runinit"))? });
    entries.push(Entry { name: "etc/motd".into(), mode: 0o100644, data: b"armmap: busybox shell\n".to_vec() });
    let bb = entries.len();
    entries.push(Entry { name: "bin/busybox".into(), mode: 0o100755, data: read(busybox)? });
    let links: Vec<(String, usize)> = applets(busybox)
        .into_iter()
        .filter(|a| !a.is_empty() && a != "busybox" && !a.contains('/'))
        .map(|a| (format!("bin/{a}"), bb))
        .collect();
    let out = build::root().join("target").join("xtask").join("busybox.cpio");
    std::fs::create_dir_all(out.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(&out, cpio::archive_with_links(&entries, &links))
        .map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(out)
}

/// The shell's initramfs for `cargo xtask test`: busybox is fetched once
/// if apt can (CI enables the arm64 architecture for it); where it cannot,
/// the busybox sessions are skipped with the reason.
pub fn cached_initramfs(art: &Artifacts) -> Result<Option<PathBuf>, String> {
    match fetch() {
        Ok(b) => initramfs(art, &b).map(Some),
        Err(why) => {
            println!("  note: busybox not available, its sessions are skipped:\n{why}");
            Ok(None)
        }
    }
}

/// `cargo xtask shell [--release] [--mem SIZE] [--log LEVEL]`.
pub fn run(args: &[String]) -> Result<i32, String> {
    let mut release = false;
    let mut mem = None;
    // Only errors by default: the kernel's warnings would interleave with
    // what is typed.
    let mut log = "error".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => release = true,
            "--mem" => mem = Some(it.next().ok_or("--mem needs a size")?.clone()),
            "--log" => log = it.next().ok_or("--log needs a level")?.clone(),
            s => return Err(format!("shell: unknown argument {s}")),
        }
    }
    qemu::check_installed()?;
    let busybox = fetch()?;
    let art = build::build(release)?;
    let mut cfg = QemuConfig::new(art.kernel_image.clone());
    cfg.initrd = Some(initramfs(&art, &busybox)?);
    cfg.interactive = true;
    if let Some(m) = mem {
        cfg.mem = m;
    }
    cfg.append = SH_CMDLINE.replacen("log=warn", &format!("log={log}"), 1);
    println!("(busybox sh on armmap: `exit` ends it; Ctrl-A then X quits QEMU)");
    qemu::run_interactive(&cfg)
}
