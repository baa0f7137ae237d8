//! Turning the kernel ELF into the flat arm64 `Image` QEMU's loader expects.
//!
//! QEMU only honours the arm64 Image header (and passes the device tree in
//! x0, and loads an initramfs) for a flat image, not an ELF. The flat image
//! is each loadable segment's file bytes placed at its offset from the
//! lowest segment address; .bss is not stored (the header's `image_size`
//! tells the loader how much room to leave, and the boot code zeroes it).

use std::fs;
use std::path::Path;

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

const PT_LOAD: u32 = 1;

/// Writes the flat image of ELF file `elf` to `out`.
pub fn elf_to_image(elf: &Path, out: &Path) -> Result<(), String> {
    let b = fs::read(elf).map_err(|e| format!("reading {}: {e}", elf.display()))?;
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return Err(format!("{} is not an ELF64 file", elf.display()));
    }
    let phoff = u64_at(&b, 0x20) as usize;
    let phentsize = u16_at(&b, 0x36) as usize;
    let phnum = u16_at(&b, 0x38) as usize;
    let mut segs = Vec::new();
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        if u32_at(&b, p) != PT_LOAD {
            continue;
        }
        let (offset, vaddr, filesz) = (u64_at(&b, p + 8), u64_at(&b, p + 16), u64_at(&b, p + 32));
        if filesz > 0 {
            segs.push((vaddr, offset as usize, filesz as usize));
        }
    }
    let base = segs.iter().map(|s| s.0).min().ok_or("no loadable segment")?;
    let end = segs.iter().map(|s| (s.0 - base) as usize + s.2).max().unwrap();
    let mut img = vec![0u8; end];
    for (vaddr, offset, filesz) in segs {
        let at = (vaddr - base) as usize;
        img[at..at + filesz].copy_from_slice(&b[offset..offset + filesz]);
    }
    if &img[0x38..0x3c] != b"ARM\x64" {
        return Err("the kernel image does not start with an arm64 Image header".into());
    }
    fs::write(out, img).map_err(|e| format!("writing {}: {e}", out.display()))
}
