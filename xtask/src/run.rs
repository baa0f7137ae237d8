//! `cargo xtask run [OPTIONS] PROGRAM [ARGS...]`: boot armmap with any static
//! aarch64 Linux executable.
//!
//! The program runs as the child of a small init, `runinit`
//! (`user/src/bin/runinit.rs`), which gives it the console as controlling
//! terminal, reaps orphans and exits with the program's status: shells and
//! test suites treat pid 1 specially. The program is packed as
//! `/bin/<its file name>`, runinit as `/sbin/runinit`; with `--as-init` the
//! program itself is `/init` and pid 1. Each `--file F` is packed as
//! `/<file name of F>`, ARGS reach the program as argv[1..], and each
//! `--env NAME=VALUE` is set in its environment (a `NAME=VALUE` word of the
//! kernel command line, which Linux and armmap give to init's environment).
//! The kernel logs only warnings (a SIGSEGV report, for instance) so the
//! program's own output stands out; the command exits with the program's
//! exit status (128 + S when killed by signal S), as a shell would report it.

use crate::build;
use crate::qemu::{self, QemuConfig};
use std::path::{Path, PathBuf};

/// Options for `run`.
pub struct RunOpts {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub files: Vec<PathBuf>,
    /// `NAME=VALUE` settings for the program's environment.
    pub env: Vec<String>,
    /// Run the program as pid 1 instead of under runinit.
    pub as_init: bool,
    pub release: bool,
    pub el1: bool,
    pub mem: Option<String>,
    pub log: String,
}

/// Where the program is in the initramfs: `/init` as pid 1, else
/// `/bin/<file name>`.
fn program_path(program: &Path, as_init: bool) -> Result<String, String> {
    if as_init {
        return Ok("/init".into());
    }
    let base = program.file_name().ok_or_else(|| format!("{} has no file name", program.display()))?;
    Ok(format!("/bin/{}", base.to_string_lossy()))
}

/// The initramfs for running `program` with `files` (under `runinit` if
/// given, the path of its binary).
pub fn initramfs_for(program: &Path, files: &[PathBuf], name: &str, runinit: Option<&Path>) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let mut entries = match runinit {
        Some(r) => vec![
            ("sbin/runinit".to_string(), read(r)?),
            (program_path(program, false)?.trim_start_matches('/').to_string(), read(program)?),
        ],
        None => vec![("init".to_string(), read(program)?)],
    };
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
        s.push_str(&quote(a));
    }
    s
}

/// One word of the kernel command line: in double quotes if it is empty
/// or has spaces (the kernel's `split_words` removes them).
fn quote(a: &str) -> String {
    if a.is_empty() || a.contains(char::is_whitespace) {
        format!("\"{a}\"")
    } else {
        a.to_string()
    }
}

/// Words the kernel takes for itself: an environment setting by such a
/// name would never reach the program.
const KERNEL_KEYS: &[&str] = &["log", "ktest", "memdev", "faultaround", "init", "memdev_attr", "crash"];

/// The kernel command line that runs `init` with `env` in its environment
/// and `args` as arguments; an error for what it cannot carry (a double
/// quote, a control character, an environment word without `=`).
pub fn cmdline_with_env(log: &str, init: &str, env: &[String], args: &[String]) -> Result<String, String> {
    let mut s = format!("log={log} init={init}");
    for w in env.iter().chain(args) {
        if w.contains('"') || w.chars().any(|c| c.is_control()) {
            return Err(format!("{w:?}: the kernel command line cannot carry double quotes or control characters"));
        }
    }
    for kv in env {
        let name = kv.split_once('=').map(|(n, _)| n).filter(|n| !n.is_empty() && !n.contains(char::is_whitespace));
        match name {
            None => return Err(format!("--env {kv:?}: expected NAME=VALUE")),
            Some(n) if KERNEL_KEYS.contains(&n) => {
                return Err(format!("--env {kv:?}: {n}= is a kernel setting, it cannot be passed to the program"))
            }
            Some(_) => {}
        }
        s.push(' ');
        s.push_str(&quote(kv));
    }
    s.push_str(" --");
    for a in args {
        s.push(' ');
        s.push_str(&quote(a));
    }
    Ok(s)
}

pub fn run(o: RunOpts) -> Result<i32, String> {
    qemu::check_installed()?;
    let art = build::build(o.release)?;
    let runinit = art.out_dir.join("runinit");
    let initrd = initramfs_for(&o.program, &o.files, "program", (!o.as_init).then_some(runinit.as_path()))?;
    let mut cfg = QemuConfig::new(art.kernel_image);
    cfg.initrd = Some(initrd);
    cfg.el1 = o.el1;
    if let Some(m) = o.mem {
        cfg.mem = m;
    }
    cfg.append = if o.as_init {
        cmdline_with_env(&o.log, "/init", &o.env, &o.args)?
    } else {
        let mut args = vec![program_path(&o.program, false)?];
        args.extend(o.args.iter().cloned());
        cmdline_with_env(&o.log, "/sbin/runinit", &o.env, &args)?
    };
    qemu::run_interactive(&cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_carries_environment_and_arguments() {
        let env = vec!["TERM=vt100".to_string(), "GREETING=hello world".to_string()];
        let args = vec!["/bin/prog".to_string(), "a b".to_string(), String::new()];
        assert_eq!(
            cmdline_with_env("warn", "/sbin/runinit", &env, &args).unwrap(),
            r#"log=warn init=/sbin/runinit TERM=vt100 "GREETING=hello world" -- /bin/prog "a b" """#
        );
        assert!(cmdline_with_env("warn", "/init", &["NOEQUALS".into()], &[]).is_err());
        assert!(cmdline_with_env("warn", "/init", &["log=debug".into()], &[]).is_err());
        assert!(cmdline_with_env("warn", "/init", &[], &["say \"hi\"".into()]).is_err());
    }
}
