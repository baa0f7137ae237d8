//! Links the test programs with the user programs' linker script,
//! `../user/user.ld`, only when building for the bare-metal target: host
//! builds are left alone.
fn main() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../user/user.ld");
    let script = script.canonicalize().unwrap_or(script);
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        // Segments are aligned to 4 KiB pages (lld's aarch64 default is 64 KiB).
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    }
}
