//! Builds the vDSO (`vdso/`) when the kernel is built for the bare-metal
//! target; host builds (unit tests) are left alone.
//!
//! The vDSO is a small aarch64 ELF shared object the kernel embeds
//! (`include_bytes!` in `src/vdso/mod.rs`) and maps into every process. It
//! is built here, with nothing but the Rust toolchain already in use: the
//! same `rustc` compiles `vdso/vdso.rs` for the kernel's target into one
//! position-independent object, and the toolchain's own `rust-lld` links it
//! with `vdso/vdso.lds` (after Linux's vdso.lds.S) into a shared object.
//! A separate crate cannot do this: cargo offers no `cdylib` for a
//! bare-metal target and no way to hand one crate's output file to
//! another's `include_bytes!`; and C or a GNU assembler would add a tool.
//! The output depends only on the sources and the toolchain version (no
//! paths, no timestamps; the build id is a hash of the contents), so it is
//! reproducible. The link fails if the code needs anything from outside
//! (`--no-undefined`), and the build checks that the result has no
//! relocations to process: it is mapped as it is, read-only.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=vdso");
    println!("cargo:rerun-if-changed=src/vdso/data.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let target = std::env::var("TARGET").expect("TARGET");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());

    let object = out.join("vdso.o");
    run(Command::new(&rustc)
        .args(["--edition", "2021", "--crate-type", "lib", "--crate-name", "vdso", "--target", &target])
        .arg(format!("--emit=obj={}", object.display()))
        .args(["-C", "opt-level=2", "-C", "panic=abort", "-C", "relocation-model=pic", "-C", "codegen-units=1"])
        .args(["-C", "debuginfo=0", "-C", "embed-bitcode=no"])
        .arg(format!("--remap-path-prefix={}=.", dir.display()))
        .arg(dir.join("vdso/vdso.rs")));

    let host = std::env::var("HOST").expect("HOST");
    let sysroot = String::from_utf8(
        Command::new(&rustc).args(["--print", "sysroot"]).output().expect("running rustc --print sysroot").stdout,
    )
    .expect("sysroot path");
    let lld = Path::new(sysroot.trim()).join("lib/rustlib").join(host).join("bin/rust-lld");
    let so = out.join("vdso.so");
    run(Command::new(&lld)
        .args(["-flavor", "gnu", "-shared", "-soname", "linux-vdso.so.1", "--hash-style=both", "--build-id=sha1"])
        .args(["--no-undefined", "-z", "max-page-size=4096", "-z", "noexecstack", "--strip-all"])
        .arg("-T")
        .arg(dir.join("vdso/vdso.lds"))
        .arg("-o")
        .arg(&so)
        .arg(&object));

    let image = std::fs::read(&so).expect("reading vdso.so");
    if let Err(e) = check(&image) {
        panic!("{}: {e}", so.display());
    }
}

/// Runs a build step; its output is shown only if it fails.
fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    if !o.status.success() {
        panic!("{cmd:?} failed:\n{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
}

/// Checks what the kernel relies on: a little-endian aarch64 ET_DYN whose
/// dynamic section asks for no relocation and no text relocation.
fn check(elf: &[u8]) -> Result<(), String> {
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u64_at = |o: usize| elf.get(o..o + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") || u16_at(16) != Some(3) || u16_at(18) != Some(183) {
        return Err("not a little-endian aarch64 ELF64 shared object".into());
    }
    let (phoff, phnum) = (u64_at(32).ok_or("short")? as usize, u16_at(56).ok_or("short")? as usize);
    let mut dynamic = None;
    for i in 0..phnum {
        let ph = phoff + i * 56;
        let kind = elf.get(ph..ph + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
        if kind == Some(2) {
            dynamic = Some((u64_at(ph + 8).ok_or("short")? as usize, u64_at(ph + 32).ok_or("short")? as usize));
        }
    }
    let (off, size) = dynamic.ok_or("no PT_DYNAMIC")?;
    // DT_REL, DT_RELA, DT_TEXTREL, DT_JMPREL, DT_RELR.
    const RELOCATING: [u64; 5] = [17, 7, 22, 23, 36];
    for entry in (off..off + size).step_by(16) {
        let tag = u64_at(entry).ok_or("short dynamic section")?;
        if RELOCATING.contains(&tag) {
            return Err(format!("dynamic tag {tag}: the vDSO must need no relocation"));
        }
    }
    Ok(())
}
