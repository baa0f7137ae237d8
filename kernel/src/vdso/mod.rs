//! The vDSO: a small shared object the kernel maps into every process, so
//! that reading the clocks costs a function call instead of a system call.
//!
//! Two areas, at the same fixed place in every process, 2 MiB above the
//! highest address `mmap` chooses (`MMAP_TOP`; no randomisation):
//!
//! ```text
//! VVAR_START  [vvar]  r--p  one frame: the data page (`data.rs`)
//! VDSO_START  [vdso]  r-xp  the ELF image (`kernel/vdso/`), AT_SYSINFO_EHDR
//! ```
//!
//! The frames are allocated once at boot ([`init`]) and kept for ever
//! ([`PinnedFrames`]): every process maps the same ones, each entry with its
//! own reference, so frame accounting returns to its baseline when processes
//! go. `fork` copies the areas like any other; `munmap` removes them. The
//! data page cannot be made writable (`mprotect` says EACCES, Linux's answer
//! for `[vvar]`); the text can, and then a store copies the page for that
//! process alone (copy-on-write, as on Linux), never changing the kernel's.
//!
//! The image is built from `kernel/vdso/` by `kernel/build.rs` and embedded
//! here.

pub mod data;

target_only! {
    mod pages;
}
#[cfg(target_os = "none")]
pub use pages::*;
