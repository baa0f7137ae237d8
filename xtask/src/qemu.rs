//! Running armmap under QEMU: the command line, a time limit, and the exit
//! status mapped back (the kernel ends QEMU through semihosting with the
//! status it wants the host to see).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How to start QEMU.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    pub image: PathBuf,
    pub initrd: Option<PathBuf>,
    /// Start at EL1 instead of EL2 (`virtualization=off`).
    pub el1: bool,
    pub mem: String,
    pub cpu: String,
    pub append: String,
    /// Wait for a debugger on :1234 before the first instruction.
    pub gdb: bool,
    /// Interactive: the console is the terminal (`-nographic`).
    pub interactive: bool,
    /// Extra arguments for QEMU itself.
    pub extra: Vec<String>,
}

/// The CPU armmap runs on by default: `max` implements PAN (and every
/// other feature QEMU knows), and `pauth-impdef` picks the fast pointer
/// authentication algorithm so emulation is not slowed by it.
pub const DEFAULT_CPU: &str = "max,pauth-impdef=on";

impl QemuConfig {
    pub fn new(image: PathBuf) -> Self {
        Self {
            image,
            initrd: None,
            el1: false,
            mem: "128M".into(),
            cpu: DEFAULT_CPU.into(),
            append: String::new(),
            gdb: false,
            interactive: false,
            extra: Vec::new(),
        }
    }

    /// The full argument list.
    pub fn args(&self) -> Vec<String> {
        let machine = format!("virt,gic-version=2{}", if self.el1 { "" } else { ",virtualization=on" });
        let mut a: Vec<String> = vec![
            "-machine".into(),
            machine,
            "-cpu".into(),
            self.cpu.clone(),
            "-smp".into(),
            "1".into(),
            "-m".into(),
            self.mem.clone(),
            "-nic".into(),
            "none".into(),
            "-semihosting".into(),
            "-kernel".into(),
            self.image.display().to_string(),
        ];
        if let Some(i) = &self.initrd {
            a.extend(["-initrd".into(), i.display().to_string()]);
        }
        if !self.append.is_empty() {
            a.extend(["-append".into(), self.append.clone()]);
        }
        if self.interactive {
            a.push("-nographic".into());
        } else {
            a.extend(["-display", "none", "-serial", "stdio", "-monitor", "none"].map(String::from));
        }
        if self.gdb {
            a.extend(["-s".into(), "-S".into()]);
        }
        a.extend(self.extra.iter().cloned());
        a
    }
}

/// What a QEMU run produced.
#[derive(Debug)]
pub struct RunResult {
    /// QEMU's exit status; `None` if it was killed (time limit) or by a signal.
    pub status: Option<i32>,
    pub output: String,
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// Says how to install QEMU if it is missing.
pub fn check_installed() -> Result<(), String> {
    match Command::new("qemu-system-aarch64").arg("--version").stdout(Stdio::null()).status() {
        Ok(_) => Ok(()),
        Err(_) => Err("qemu-system-aarch64 was not found.\n  Install it with: sudo apt-get install qemu-system-arm\n  (then run this command again)".into()),
    }
}

/// Runs QEMU interactively (inheriting the terminal); returns its exit status.
pub fn run_interactive(cfg: &QemuConfig) -> Result<i32, String> {
    check_installed()?;
    let status =
        Command::new("qemu-system-aarch64").args(cfg.args()).status().map_err(|e| format!("starting QEMU: {e}"))?;
    Ok(status.code().unwrap_or(1))
}

/// Runs QEMU with its output captured, killing it after `limit`. Each
/// output line is passed to `on_line` as it arrives.
pub fn run_captured(cfg: &QemuConfig, limit: Duration, mut on_line: impl FnMut(&str)) -> Result<RunResult, String> {
    check_installed()?;
    let start = Instant::now();
    let mut child = Command::new("qemu-system-aarch64")
        .args(cfg.args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting QEMU: {e}"))?;
    let (tx, rx) = mpsc::channel::<String>();
    let pipes: Vec<Box<dyn Read + Send>> =
        vec![Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
    let readers: Vec<_> = pipes
        .into_iter()
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(p);
                let mut buf = Vec::new();
                while let Ok(n) = r.read_until(b'\n', &mut buf) {
                    if n == 0 {
                        break;
                    }
                    let line = String::from_utf8_lossy(&buf).replace('\r', "");
                    if tx.send(line).is_err() {
                        break;
                    }
                    buf.clear();
                }
            })
        })
        .collect();
    drop(tx);
    let mut output = String::new();
    let mut timed_out = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                on_line(line.trim_end_matches('\n'));
                output.push_str(&line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    for r in readers {
        let _ = r.join();
    }
    while let Ok(line) = rx.try_recv() {
        output.push_str(&line);
    }
    Ok(RunResult { status: if timed_out { None } else { status.code() }, output, timed_out, elapsed: start.elapsed() })
}

/// The gdb command line that attaches to a QEMU started with `--gdb`.
pub fn gdb_command(elf: &Path) -> String {
    format!("gdb-multiarch {} -ex 'target remote localhost:1234' -ex 'break kernel_main' -ex 'continue'", elf.display())
}
