//! Links the user programs with `user.ld` (text at 0x400000, one segment per
//! permission), only when building for the bare-metal target: host builds
//! are left alone. `tests/build.rs` does the same for the test programs.
fn main() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("user.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        // Segments are aligned to 4 KiB pages (lld's aarch64 default is 64 KiB).
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    }
}
