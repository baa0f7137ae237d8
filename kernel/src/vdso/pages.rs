//! The vDSO's frames, the data page the kernel writes, and the two areas
//! `exec` adds to each new address space (see `mod.rs`).

use super::data::{Params, VdsoData, MODE_COUNTER};
use crate::arch::aarch64::{page, timer};
use crate::errno::Errno;
use crate::mm::addr::{PhysAddr, PAGE_SIZE};
use crate::mm::address_space::{AddressSpace, MMAP_TOP};
use crate::mm::backing::{Backing, PinnedFrames};
use crate::mm::phys::{alloc_frame, put_frame, zero_frame};
use crate::mm::phys_to_virt;
use crate::mm::vma::{Prot, Vma};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The vDSO image (`kernel/vdso/`, built by `build.rs`).
const IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));
/// Pages the image takes.
pub const TEXT_PAGES: u64 = IMAGE.len().div_ceil(PAGE_SIZE) as u64;
/// Where `[vvar]` starts in every process: 2 MiB above the top of the mmap
/// area (in the gap below the stack), so the two areas get a last-level
/// table of their own and the page-table walks of `mmap`/`munmap` near the
/// top of the mmap area do not descend into it.
pub const VVAR_START: u64 = MMAP_TOP + (2 << 20);
/// Where `[vdso]` (the ELF header) starts: the page after the data page,
/// which the image's code finds one page below its first byte.
pub const VDSO_START: u64 = VVAR_START + PAGE_SIZE as u64;
/// End of `[vdso]`.
pub const VDSO_END: u64 = VDSO_START + TEXT_PAGES * PAGE_SIZE as u64;

/// The nanoseconds `clock_getres` reports for the counter clocks (Linux's
/// high-resolution answer).
const RESOLUTION_NS: u64 = 1;

/// The vDSO's objects, set up once at boot.
struct Vdso {
    /// The data page's frame (also held by `vvar`).
    data: PhysAddr,
    vvar: Arc<dyn Backing>,
    text: Arc<dyn Backing>,
}

static VDSO: spin::Once<Vdso> = spin::Once::new();

/// What the clocks are computed from; the same values the data page holds.
fn boot_params() -> Params {
    Params { mode: MODE_COUNTER, freq: timer::frequency(), realtime_offset_ns: 0, res_ns: RESOLUTION_NS }
}

/// Allocates the frames, copies the image and fills the data page; lets
/// EL0 read the counter. Without frames (a machine too small to run
/// anything) processes simply get no vDSO.
pub fn init() {
    let Some(frames) = alloc_frames(1 + TEXT_PAGES as usize) else {
        log::error!("vdso: no frames, processes run without a vDSO");
        return;
    };
    let data = frames[0];
    let text: Vec<PhysAddr> = frames[1..].to_vec();
    for (i, &pa) in text.iter().enumerate() {
        let chunk = &IMAGE[i * PAGE_SIZE..IMAGE.len().min((i + 1) * PAGE_SIZE)];
        let va = phys_to_virt(pa).as_u64() as *mut u8;
        // SAFETY: `pa` is a zeroed frame just allocated for the vDSO alone,
        // reached through the linear map; `chunk` is at most a page.
        unsafe {
            core::ptr::copy_nonoverlapping(chunk.as_ptr(), va, chunk.len());
            page::sync_icache(va, PAGE_SIZE);
        }
    }
    timer::allow_user_counter();
    let vdso = VDSO.call_once(|| Vdso {
        data,
        vvar: Arc::new(PinnedFrames::new(alloc::vec![data], "vvar")),
        text: Arc::new(PinnedFrames::new(text, "vdso")),
    });
    page_data(vdso).update(&boot_params());
    log::info!("vdso: {} bytes at {VDSO_START:#x}, data page at {VVAR_START:#x}", IMAGE.len());
}

/// `n` zeroed frames, each with the one reference the kernel keeps; none if
/// any is missing.
fn alloc_frames(n: usize) -> Option<Vec<PhysAddr>> {
    let mut frames = Vec::new();
    for _ in 0..n {
        match alloc_frame() {
            Some(pa) => {
                zero_frame(pa);
                frames.push(pa);
            }
            None => {
                frames.into_iter().for_each(|pa| {
                    put_frame(pa);
                });
                return None;
            }
        }
    }
    Some(frames)
}

fn page_data(vdso: &Vdso) -> &'static VdsoData {
    // SAFETY: the data frame is the kernel's for ever (never freed), reached
    // through the linear map, page aligned and zero-initialised, which is a
    // valid `VdsoData` (atomics); user mappings of it are read-only.
    unsafe { &*(phys_to_virt(vdso.data).as_u64() as *const VdsoData) }
}

/// The clock parameters, as the data page publishes them (the system calls
/// compute from these, so they agree with the vDSO).
pub fn params() -> Params {
    match VDSO.get() {
        Some(v) => page_data(v).read(|p| *p),
        None => boot_params(),
    }
}

/// Adds `[vvar]` and `[vdso]` to a new address space; returns the vDSO's
/// address for `AT_SYSINFO_EHDR` (0 when there is no vDSO). A program whose
/// segments already cover that place simply gets none (libc then makes
/// system calls).
pub fn map_into(mm: &mut AddressSpace) -> Result<u64, Errno> {
    let Some(v) = VDSO.get() else { return Ok(0) };
    if mm.vmas.any_overlap(VVAR_START, VDSO_END) {
        log::debug!("vdso: the program's segments cover {VVAR_START:#x}..{VDSO_END:#x}; no vDSO");
        return Ok(0);
    }
    mm.vmas.insert(Vma {
        start: VVAR_START,
        end: VDSO_START,
        prot: Prot::READ,
        shared: false,
        may_write: false,
        backing: v.vvar.clone(),
        pgoff: 0,
        name: Some(Arc::from("[vvar]")),
    })?;
    mm.vmas.insert(Vma {
        start: VDSO_START,
        end: VDSO_END,
        prot: Prot::RX,
        shared: false,
        may_write: true,
        backing: v.text.clone(),
        pgoff: 0,
        name: Some(Arc::from("[vdso]")),
    })?;
    Ok(VDSO_START)
}

/// The user address of `__kernel_rt_sigreturn`, where a handler returns
/// when the program gave no SA_RESTORER (glibc on arm64 gives none); 0 if
/// the image lacks it. Found once in the image's dynamic symbol table.
pub fn sigreturn_address() -> u64 {
    static AT: spin::Once<u64> = spin::Once::new();
    *AT.call_once(|| symbol_offset(IMAGE, "__kernel_rt_sigreturn").map_or(0, |off| VDSO_START + off))
}

/// The offset in `image` of dynamic symbol `name`.
fn symbol_offset(image: &[u8], name: &str) -> Option<u64> {
    use xmas_elf::sections::SectionData;
    use xmas_elf::symbol_table::Entry;
    let elf = xmas_elf::ElfFile::new(image).ok()?;
    let dynsym = elf.find_section_by_name(".dynsym")?;
    let SectionData::DynSymbolTable64(syms) = dynsym.get_data(&elf).ok()? else { return None };
    syms.iter().find(|s| s.get_name(&elf).ok() == Some(name)).map(|s| s.value())
}
