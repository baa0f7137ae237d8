//! The C test programs in `tests/c/`, built as static aarch64 Linux
//! executables with `aarch64-linux-gnu-gcc -static` (glibc), exactly as a
//! student would build their own.

use crate::build;
use std::path::PathBuf;
use std::process::Command;

/// The cross compiler.
pub const CC: &str = "aarch64-linux-gnu-gcc";

/// Whether the cross compiler is installed.
pub fn have_cc() -> bool {
    Command::new(CC).arg("--version").output().is_ok()
}

/// Compiles every `tests/c/*.c`; returns (program name, binary path).
/// Without the compiler, says what it skips and returns nothing.
pub fn build_all() -> Result<Vec<(String, PathBuf)>, String> {
    let src_dir = build::root().join("tests").join("c");
    let out_dir = build::root().join("target").join("xtask").join("c");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src_dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "c")).collect()
        })
        .unwrap_or_default();
    sources.sort();
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    if !have_cc() {
        println!(
            "note: {CC} not found; skipping {} C programs (install: sudo apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)",
            sources.len()
        );
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for src in sources {
        let name = src.file_stem().unwrap().to_string_lossy().to_string();
        let bin = out_dir.join(&name);
        let fresh = bin.metadata().and_then(|b| b.modified()).ok() > src.metadata().and_then(|s| s.modified()).ok();
        if !fresh {
            let status = Command::new(CC)
                .args(["-static", "-O2", "-Wall", "-Werror", "-o"])
                .arg(&bin)
                .arg(&src)
                .status()
                .map_err(|e| format!("running {CC}: {e}"))?;
            if !status.success() {
                return Err(format!("{CC} failed on {}", src.display()));
            }
        }
        out.push((name, bin));
    }
    Ok(out)
}
