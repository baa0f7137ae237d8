//! `cargo xtask`: build, run, test and debug armmap under QEMU.
//!
//! ```text
//! cargo xtask qemu [--release] [--el1] [--mem SIZE] [--cpu CPU] [--gdb] [-- KERNEL ARGS...]
//! cargo xtask run [--file F]... [--env NAME=VALUE]... [--as-init] [OPTIONS] PROGRAM [ARGS...]
//! cargo xtask shell [--release] [--mem SIZE] [--log LEVEL]
//! cargo xtask build [--release]
//! cargo xtask test [--release] [FILTER]
//! cargo xtask clippy
//! cargo xtask bench [--linux] [--linux-image PATH] [--runs N] [--no-armmap]
//! cargo xtask fuzz [--seed S] [--procs N] [--calls M] [--minutes T] [--child K [--gen G]] [--skip CALLS] [--trace]
//! ```

mod bench;
mod build;
mod cpio;
mod cprogs;
mod fuzz;
mod image;
mod qemu;
mod run;
mod session;
mod shell;
mod test;

use qemu::QemuConfig;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  qemu   build and boot armmap (the demo)
         --release      optimised build
         --el1          enter the kernel at EL1 instead of EL2
         --mem SIZE     guest RAM (default 128M)
         --cpu CPU      QEMU CPU model (default max,pauth-impdef=on)
         --gdb          wait for gdb-multiarch on localhost:1234
         -- ARGS...     appended to the kernel command line
  run    [--file F]... [--env NAME=VALUE]... [--as-init] [--release] [--el1]
         [--mem SIZE] [--log LEVEL] PROGRAM [ARGS...]
         boot with a static aarch64 Linux executable, run as the child of a
         small init (pid 1) on the console; exits with its status (128+S if
         killed by signal S). --env sets its environment; --as-init runs
         PROGRAM itself as pid 1
  shell  [--release] [--mem SIZE] [--log LEVEL]
         an interactive busybox sh on armmap's console (Debian's
         busybox-static for arm64, fetched once with apt and cached);
         the kernel logs errors only unless --log says otherwise
  build  build the kernel image and user programs [--release]
  test   host unit tests, then on-target tests; ends with 'N passed, N failed'
         [--release] [FILTER: only on-target runs whose name contains it]
  clippy run clippy on the host crates and on the target crates, and check
         the formatting of the files `cargo fmt` does not reach
  bench  guest instructions per operation (PMU, QEMU -icount) of bench/bench.c
         on armmap; table, target/bench/results.json and chart.svg
         --linux        also on Debian's arm64 Linux (fetched with apt, cached)
         --linux-image PATH   that Linux image instead (implies --linux)
         --runs N       boots per kernel (default 5; wall time is their median)
         --no-armmap    Linux only
  fuzz   boot with the system-call fuzzer as init: N processes make M random
         calls each with hostile arguments; checks the kernel survives them
         --seed S       seed (default: from the clock; printed)
         --procs N      processes per round (default 8)
         --calls M      calls per process (default 5000)
         --minutes T    run rounds (new seed each, printed) for T minutes
         --child K      only child K of the round (replay); --gen G its generation G
         --skip CALLS   leave calls out, comma-separated names
         --trace        children print each call before making it
         --verbose      how each child ended, and its last calls
         --release      optimised build; --log LEVEL (default warn), --mem SIZE";

/// Options shared by the commands that boot the kernel.
#[derive(Default)]
struct Opts {
    release: bool,
    el1: bool,
    gdb: bool,
    mem: Option<String>,
    cpu: Option<String>,
    rest: Vec<String>,
    positional: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => o.release = true,
            "--el1" => o.el1 = true,
            "--gdb" => o.gdb = true,
            "--mem" => o.mem = Some(it.next().ok_or("--mem needs a size")?.clone()),
            "--cpu" => o.cpu = Some(it.next().ok_or("--cpu needs a model")?.clone()),
            "--" => {
                o.rest = it.by_ref().cloned().collect();
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => o.positional.push(s.into()),
        }
    }
    Ok(o)
}

fn cmd_qemu(o: Opts) -> Result<i32, String> {
    qemu::check_installed()?;
    let art = build::build(o.release)?;
    let initrd = test::demo_initramfs(&art)?;
    let mut cfg = QemuConfig::new(art.kernel_image.clone());
    cfg.initrd = Some(initrd);
    cfg.el1 = o.el1;
    cfg.gdb = o.gdb;
    cfg.interactive = true;
    if let Some(m) = o.mem {
        cfg.mem = m;
    }
    if let Some(c) = o.cpu {
        cfg.cpu = c;
    }
    cfg.append = o.rest.join(" ");
    if o.gdb {
        println!("QEMU waits for a debugger. In another terminal run:\n  {}", qemu::gdb_command(&art.kernel_elf));
    }
    println!("(QEMU: press Ctrl-A then X to quit)");
    qemu::run_interactive(&cfg)
}

fn cmd_clippy() -> Result<i32, String> {
    build::cargo(&["clippy", "-p", "kernel", "-p", "xtask", "--all-targets", "--", "-D", "warnings"])?;
    build::cargo(&[
        "clippy",
        "--target",
        build::TARGET,
        "-p",
        "armmap",
        "-p",
        "kernel",
        "-p",
        "user",
        "-p",
        "armmap-tests",
        "--",
        "-D",
        "warnings",
    ])?;
    check_target_only_formatting()?;
    Ok(0)
}

/// `cargo fmt` skips modules declared through a macro (the kernel's
/// `target_only!`), so their files are checked with rustfmt directly.
fn check_target_only_formatting() -> Result<(), String> {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = build::root();
    let mut files = Vec::new();
    rust_files(&root.join("kernel").join("src"), &mut files);
    let status = std::process::Command::new("rustfmt")
        .args(["--edition", "2021", "--check", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .args(&files)
        .status()
        .map_err(|e| format!("running rustfmt: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("kernel sources are not formatted: run rustfmt on the files above (cargo fmt does not reach them)".into())
    }
}

fn cmd_run(args: &[String]) -> Result<i32, String> {
    let mut o = run::RunOpts {
        program: Default::default(),
        args: Vec::new(),
        files: Vec::new(),
        env: Vec::new(),
        as_init: false,
        release: false,
        el1: false,
        mem: None,
        log: "warn".into(),
    };
    let mut it = args.iter();
    loop {
        let a = it.next().ok_or("run needs a PROGRAM")?;
        match a.as_str() {
            "--file" => o.files.push(it.next().ok_or("--file needs a path")?.into()),
            "--env" => o.env.push(it.next().ok_or("--env needs NAME=VALUE")?.clone()),
            "--as-init" => o.as_init = true,
            "--release" => o.release = true,
            "--el1" => o.el1 = true,
            "--mem" => o.mem = Some(it.next().ok_or("--mem needs a size")?.clone()),
            "--log" => o.log = it.next().ok_or("--log needs a level")?.clone(),
            s if s.starts_with("--") => return Err(format!("unknown option {s} (options go before PROGRAM)")),
            program => {
                o.program = program.into();
                break;
            }
        }
    }
    o.args = it.cloned().collect();
    run::run(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if cmd == "run" {
        return match cmd_run(&args[1..]) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cmd == "fuzz" {
        return match fuzz::run(&args[1..]) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cmd == "shell" {
        return match shell::run(&args[1..]) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cmd == "bench" {
        return match bench::run(&args[1..]) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let opts = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let r = match cmd.as_str() {
        "qemu" => cmd_qemu(opts),
        "build" => build::build(opts.release).map(|a| {
            println!("kernel image: {}", a.kernel_image.display());
            0
        }),
        "test" => test::run(opts.release, opts.positional.first().map(String::as_str)),
        "clippy" => cmd_clippy(),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    };
    match r {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
