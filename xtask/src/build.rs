//! Building the kernel image, the user programs and the initramfs.

use crate::cpio::{self, Entry};
use crate::image;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The bare-metal target the kernel and the Rust user programs are built for.
pub const TARGET: &str = "aarch64-unknown-none-softfloat";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Where a build's outputs go.
#[derive(Clone, Debug)]
pub struct Artifacts {
    /// The kernel ELF (for gdb and symbols).
    pub kernel_elf: PathBuf,
    /// The flat arm64 Image QEMU boots.
    pub kernel_image: PathBuf,
    /// Directory of the target's build outputs (user programs).
    pub out_dir: PathBuf,
}

fn profile_dir(release: bool) -> &'static str {
    if release {
        "release"
    } else {
        "debug"
    }
}

/// Runs `cargo` with `args` in the workspace root.
pub fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status =
        Command::new(cargo).args(args).current_dir(root()).status().map_err(|e| format!("running cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

/// Builds the kernel and the Rust user programs for the target.
pub fn build(release: bool) -> Result<Artifacts, String> {
    let mut args = vec!["build", "--target", TARGET, "-p", "armmap", "-p", "user", "-p", "armmap-tests"];
    if release {
        args.push("--release");
    }
    cargo(&args)?;
    let out_dir = root().join("target").join(TARGET).join(profile_dir(release));
    let kernel_elf = out_dir.join("armmap");
    let kernel_image = out_dir.join("armmap.bin");
    image::elf_to_image(&kernel_elf, &kernel_image)?;
    Ok(Artifacts { kernel_elf, kernel_image, out_dir })
}

/// Writes an initramfs holding `files` (archive path, contents) to `out`.
pub fn initramfs(files: Vec<(String, Vec<u8>)>, out: &Path) -> Result<PathBuf, String> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for (name, _) in &files {
        let mut prefix = String::new();
        for part in name.split('/').rev().skip(1).collect::<Vec<_>>().into_iter().rev() {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !dirs.contains(&prefix) {
                dirs.push(prefix.clone());
            }
        }
    }
    for d in dirs {
        entries.push(Entry { name: d, mode: 0o040755, data: Vec::new() });
    }
    for (name, data) in files {
        entries.push(Entry { name, mode: 0o100755, data });
    }
    std::fs::write(out, cpio::archive(&entries)).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(out.to_path_buf())
}
