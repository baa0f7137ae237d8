//! `cargo xtask run [OPTIONS] PROGRAM [ARGS...]`: boot armmap with any static
//! aarch64 Linux executable as the first process.
//!
//! The program becomes `/init` in the initramfs, each `--file F` is packed
//! as `/<file name of F>`, ARGS reach the program as argv[1..]. The kernel
//! logs only warnings (a SIGSEGV report, for instance) so the program's own
//! output stands out; the command exits with the program's exit status
//! (128 + S when killed by signal S), as a shell would report it.

use crate::build;
use crate::qemu::{self, QemuConfig};
use std::path::PathBuf;

/// Options for `run`.
pub struct RunOpts {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub files: Vec<PathBuf>,
    pub release: bool,
    pub el1: bool,
    pub mem: Option<String>,
    pub log: String,
}

/// The initramfs for running `program` with `files`.
pub fn initramfs_for(program: &PathBuf, files: &[PathBuf], name: &str) -> Result<PathBuf, String> {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let mut entries = vec![("init".to_string(), read(program)?)];
    for f in files {
        let base = f.file_name().ok_or_else(|| format!("{} has no file name", f.display()))?;
        entries.push((base.to_string_lossy().to_string(), read(f)?));
    }
    let dir = build::root().join("target").join("xtask");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    build::initramfs(entries, &dir.join(format!("run-{name}.cpio")))
}

/// The kernel command line that runs `/init` with `args`.
pub fn cmdline(log: &str, args: &[String]) -> String {
    let mut s = format!("log={log} init=/init --");
    for a in args {
        s.push(' ');
        if a.is_empty() || a.contains(char::is_whitespace) {
            s.push('"');
            s.push_str(a);
            s.push('"');
        } else {
            s.push_str(a);
        }
    }
    s
}

pub fn run(o: RunOpts) -> Result<i32, String> {
    qemu::check_installed()?;
    let art = build::build(o.release)?;
    let initrd = initramfs_for(&o.program, &o.files, "program")?;
    let mut cfg = QemuConfig::new(art.kernel_image);
    cfg.initrd = Some(initrd);
    cfg.el1 = o.el1;
    if let Some(m) = o.mem {
        cfg.mem = m;
    }
    cfg.append = cmdline(&o.log, &o.args);
    qemu::run_interactive(&cfg)
}
