//! Checking an ELF executable and turning it into a *load plan*.
//!
//! An ELF file starts with a header (what machine, what kind of file, where
//! execution starts, where the program headers are) followed somewhere by the
//! program header table. Of the program headers only `PT_LOAD` ones matter
//! for loading: each says "map `filesz` bytes of the file from `offset` at
//! virtual address `vaddr`, and zero-fill the rest up to `memsz` bytes (the
//! `.bss`), with these R/W/X permissions". Because memory is mapped in pages,
//! `vaddr` and `offset` must agree modulo the page size.
//!
//! armmap runs static programs only: `ET_EXEC` files, which are linked at
//! fixed addresses, and static-pie `ET_DYN` files, which are linked at 0 and
//! relocate themselves. We place a static-pie program at [`STATIC_PIE_BASE`]
//! (4 MiB, where the linker puts ordinary aarch64 executables) so that its
//! first page is not page 0. Linux would choose a random base; a fixed one
//! keeps addresses the same from run to run, which makes traces readable. A
//! `PT_INTERP` header asks for a dynamic linker, which armmap does not have,
//! so such files are refused.
//!
//! [`load_plan`] only reads and checks; it maps nothing. The file comes from
//! the user (any file in the initramfs can be exec'd), so every field is
//! checked and a bad file gives an [`ElfError`] (`ENOEXEC` for the caller),
//! never a panic and never a plan that would map kernel addresses. Parsing is
//! done by the `xmas-elf` crate, which reads the headers in place and insists
//! on 8-byte alignment; files in the initramfs are only 4-byte aligned, so a
//! misaligned file is first copied into an aligned buffer.

use crate::mm::addr::{page_round_up, PAGE_SIZE, USER_END};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use xmas_elf::header::Machine;
use xmas_elf::program::{ProgramHeader, Type};
use xmas_elf::ElfFile;

/// Where a static-pie (`ET_DYN`) program is placed: its link address 0 maps here.
pub const STATIC_PIE_BASE: u64 = 0x0000_0000_0040_0000;
/// Most `PT_LOAD` segments a program may have.
pub const MAX_SEGMENTS: usize = 16;
/// Most program headers (of any type) a program may have.
pub const MAX_PROGRAM_HEADERS: u16 = 64;

/// Size of the ELF64 file header.
const EHDR_SIZE: usize = 64;
/// Size of one ELF64 program header.
const PHDR_SIZE: u16 = 56;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const PAGE: u64 = PAGE_SIZE as u64;

/// One `PT_LOAD` segment, at the address it will be mapped at.
///
/// Invariants (checked by [`load_plan`]): `PAGE_SIZE <= vaddr`,
/// `vaddr + memsz <= USER_END`, `0 < memsz`, `filesz <= memsz`,
/// `file_offset + filesz <= file length`, and
/// `vaddr % PAGE_SIZE == file_offset % PAGE_SIZE`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    /// Bytes of memory; those past `filesz` are zero.
    pub memsz: u64,
    pub file_offset: u64,
    /// Bytes copied from the file.
    pub filesz: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Segment {
    /// First address past the segment.
    pub fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }
    /// The segment's bytes in the file.
    pub fn file_range(&self) -> core::ops::Range<usize> {
        self.file_offset as usize..(self.file_offset + self.filesz) as usize
    }
}

/// Everything the kernel needs to load a checked program.
///
/// Invariants: `segments` is non-empty, sorted by `vaddr`, at most
/// [`MAX_SEGMENTS`] long, and no two segments' byte ranges overlap (two may
/// share a page); `entry` lies in an executable segment; `brk_start` is the
/// page-rounded end of the last segment, at most `USER_END`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// Address of the first instruction.
    pub entry: u64,
    pub segments: Vec<Segment>,
    /// Address of the program headers in the loaded image (`AT_PHDR`), if
    /// they are loaded at all.
    pub phdr_vaddr: Option<u64>,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u16,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u16,
    /// Where the heap (`brk`) starts.
    pub brk_start: u64,
}

/// Why a file cannot be run. Indices are program header numbers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// No `\x7fELF` magic.
    NotElf,
    /// Not `ELFCLASS64`.
    Not64Bit,
    /// Not little endian.
    NotLittleEndian,
    /// Not built for AArch64.
    WrongMachine,
    /// Neither `ET_EXEC` nor `ET_DYN` (the value is `e_type`).
    WrongType(u16),
    /// Has a `PT_INTERP` header: needs a dynamic linker.
    Dynamic,
    /// The file ends before its headers do.
    Truncated,
    /// Program header table missing, misplaced or of the wrong entry size.
    BadProgramHeaders,
    /// No non-empty `PT_LOAD` segment.
    NoLoadSegments,
    /// More than [`MAX_SEGMENTS`] `PT_LOAD` segments.
    TooManySegments,
    /// The segment's file bytes go past the end of the file.
    SegmentPastEndOfFile(u16),
    /// The segment has more file bytes than memory bytes.
    FileSizeExceedsMemSize(u16),
    /// The segment is not inside user space above page 0.
    OutsideUserRange(u16),
    /// The segment's address and file offset differ modulo the page size.
    Misaligned(u16),
    /// Two segments overlap.
    Overlap(u16, u16),
    /// The entry point (the value) is not in an executable segment.
    EntryNotExecutable(u64),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotElf => write!(f, "not an ELF file"),
            Self::Not64Bit => write!(f, "not a 64-bit ELF file"),
            Self::NotLittleEndian => write!(f, "not a little-endian ELF file"),
            Self::WrongMachine => write!(f, "not an AArch64 program"),
            Self::WrongType(t) => write!(f, "ELF type {t} is not an executable"),
            Self::Dynamic => write!(f, "dynamically linked programs are not supported"),
            Self::Truncated => write!(f, "file is truncated"),
            Self::BadProgramHeaders => write!(f, "bad program header table"),
            Self::NoLoadSegments => write!(f, "no loadable segments"),
            Self::TooManySegments => write!(f, "more than {MAX_SEGMENTS} loadable segments"),
            Self::SegmentPastEndOfFile(i) => {
                write!(f, "segment {i} extends past the end of the file")
            }
            Self::FileSizeExceedsMemSize(i) => write!(f, "segment {i} has filesz > memsz"),
            Self::OutsideUserRange(i) => write!(f, "segment {i} is outside user space"),
            Self::Misaligned(i) => {
                write!(f, "segment {i}: vaddr and offset differ modulo the page size")
            }
            Self::Overlap(a, b) => write!(f, "segments {a} and {b} overlap"),
            Self::EntryNotExecutable(e) => {
                write!(f, "entry point {e:#x} is not in an executable segment")
            }
        }
    }
}

/// Checks the ELF file `image` and says how to load it.
pub fn load_plan(image: &[u8]) -> Result<LoadPlan, ElfError> {
    // e_ident first, byte by byte, for precise errors.
    if image.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(ElfError::NotElf);
    }
    match image.get(4..6) {
        Some(&[ELFCLASS64, ELFDATA2LSB]) => {}
        Some(&[ELFCLASS64, _]) => return Err(ElfError::NotLittleEndian),
        Some(_) => return Err(ElfError::Not64Bit),
        None => return Err(ElfError::Truncated),
    }
    if image.len() < EHDR_SIZE {
        return Err(ElfError::Truncated);
    }

    let mut scratch = Vec::new();
    let file = ElfFile::new(aligned(image, &mut scratch)).map_err(|_| ElfError::Truncated)?;
    let hdr = &file.header.pt2;
    if hdr.machine().as_machine() != Machine::AArch64 {
        return Err(ElfError::WrongMachine);
    }
    let bias = match hdr.type_().0 {
        ET_EXEC => 0,
        ET_DYN => STATIC_PIE_BASE,
        other => return Err(ElfError::WrongType(other)),
    };

    // The program header table must lie inside the file. xmas-elf indexes it
    // without checking and reads entries by reference, so it must also be
    // 8-byte aligned (it always is in linker output: right after the header).
    let (phoff, phnum) = (hdr.ph_offset(), hdr.ph_count());
    if hdr.ph_entry_size() != PHDR_SIZE || phoff == 0 || phoff % 8 != 0 || phnum > MAX_PROGRAM_HEADERS {
        return Err(ElfError::BadProgramHeaders);
    }
    let ph_table_end = phoff
        .checked_add(u64::from(phnum) * u64::from(PHDR_SIZE))
        .filter(|&end| end <= image.len() as u64)
        .ok_or(ElfError::Truncated)?;

    let mut loads: Vec<(u16, Segment)> = Vec::new();
    let mut pt_phdr = None;
    for index in 0..phnum {
        let Ok(ProgramHeader::Ph64(ph)) = file.program_header(index) else {
            return Err(ElfError::BadProgramHeaders);
        };
        match ph.get_type() {
            Ok(Type::Load) => {}
            Ok(Type::Interp) => return Err(ElfError::Dynamic),
            Ok(Type::Phdr) => {
                pt_phdr = ph.virtual_addr.checked_add(bias);
                continue;
            }
            // Notes, TLS, GNU_STACK, unknown types...: nothing to load.
            _ => continue,
        }
        if ph.file_size > ph.mem_size {
            return Err(ElfError::FileSizeExceedsMemSize(index));
        }
        match ph.offset.checked_add(ph.file_size) {
            Some(end) if end <= image.len() as u64 => {}
            _ => return Err(ElfError::SegmentPastEndOfFile(index)),
        }
        if ph.virtual_addr % PAGE != ph.offset % PAGE {
            return Err(ElfError::Misaligned(index));
        }
        if ph.mem_size == 0 {
            continue; // occupies no memory
        }
        let vaddr = ph.virtual_addr.checked_add(bias);
        let end = vaddr.and_then(|v| v.checked_add(ph.mem_size));
        let (Some(vaddr), Some(end)) = (vaddr, end) else {
            return Err(ElfError::OutsideUserRange(index));
        };
        if vaddr < PAGE || end > USER_END {
            return Err(ElfError::OutsideUserRange(index));
        }
        if loads.len() == MAX_SEGMENTS {
            return Err(ElfError::TooManySegments);
        }
        let flags = ph.flags;
        let segment = Segment {
            vaddr,
            memsz: ph.mem_size,
            file_offset: ph.offset,
            filesz: ph.file_size,
            read: flags.is_read(),
            write: flags.is_write(),
            exec: flags.is_execute(),
        };
        loads.push((index, segment));
    }

    loads.sort_by_key(|(_, s)| s.vaddr);
    for pair in loads.windows(2) {
        let ((a, first), (b, second)) = (pair[0], pair[1]);
        if first.end() > second.vaddr {
            return Err(ElfError::Overlap(a.min(b), a.max(b)));
        }
    }
    let segments: Vec<Segment> = loads.into_iter().map(|(_, s)| s).collect();
    let Some(last) = segments.last() else {
        return Err(ElfError::NoLoadSegments);
    };
    // `last.end() <= USER_END`, a page boundary, so rounding up cannot overflow.
    let brk_start = page_round_up(last.end()).unwrap_or(USER_END);

    let entry = hdr.entry_point();
    let entry = match entry.checked_add(bias) {
        Some(e) if segments.iter().any(|s| s.exec && (s.vaddr..s.end()).contains(&e)) => e,
        _ => return Err(ElfError::EntryNotExecutable(entry.wrapping_add(bias))),
    };

    // AT_PHDR: PT_PHDR says where the table is; without one, find the
    // segment that loads the table's file bytes.
    let phdr_vaddr = pt_phdr.or_else(|| {
        segments
            .iter()
            .find(|s| s.file_offset <= phoff && ph_table_end <= s.file_offset + s.filesz)
            .map(|s| s.vaddr + (phoff - s.file_offset))
    });

    Ok(LoadPlan { entry, segments, phdr_vaddr, phent: PHDR_SIZE, phnum, brk_start })
}

/// `image` itself if it is 8-byte aligned, else a copy of it in `scratch`
/// that is. (A `Vec<u8>` promises no alignment, so we over-allocate by 7 and
/// start the copy at the first 8-byte boundary.)
fn aligned<'a>(image: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if (image.as_ptr() as usize).is_multiple_of(8) {
        return image;
    }
    *scratch = vec![0; image.len() + 7];
    let skip = (8 - scratch.as_ptr() as usize % 8) % 8;
    let copy = &mut scratch[skip..skip + image.len()];
    copy.copy_from_slice(image);
    copy
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    const PT_LOAD: u32 = 1;
    const PT_INTERP: u32 = 3;
    const PT_PHDR: u32 = 6;
    const PT_GNU_STACK: u32 = 0x6474_e551;
    const R: u32 = 4;
    const W: u32 = 2;
    const X: u32 = 1;

    #[derive(Copy, Clone)]
    struct Ph {
        p_type: u32,
        flags: u32,
        offset: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
    }

    fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph { p_type: PT_LOAD, flags, offset, vaddr, filesz, memsz }
    }

    fn other(p_type: u32) -> Ph {
        Ph { p_type, flags: R, offset: 0, vaddr: 0, filesz: 0, memsz: 0 }
    }

    /// A test-only ELF writer: header at 0, program headers at 64, the file
    /// zero-padded to `len` bytes.
    #[derive(Clone)]
    struct Elf {
        e_type: u16,
        machine: u16,
        entry: u64,
        phs: Vec<Ph>,
        len: usize,
    }

    impl Elf {
        fn build(&self) -> Vec<u8> {
            let mut v = vec![0u8; self.len.max(EHDR_SIZE + 56 * self.phs.len())];
            let mut put = |off: usize, bytes: &[u8]| v[off..off + bytes.len()].copy_from_slice(bytes);
            put(0, b"\x7fELF\x02\x01\x01");
            put(16, &self.e_type.to_le_bytes());
            put(18, &self.machine.to_le_bytes());
            put(20, &1u32.to_le_bytes());
            put(24, &self.entry.to_le_bytes());
            put(32, &64u64.to_le_bytes()); // e_phoff
            put(52, &64u16.to_le_bytes()); // e_ehsize
            put(54, &56u16.to_le_bytes());
            put(56, &(self.phs.len() as u16).to_le_bytes());
            put(58, &64u16.to_le_bytes()); // e_shentsize
            for (i, ph) in self.phs.iter().enumerate() {
                let o = 64 + 56 * i;
                put(o, &ph.p_type.to_le_bytes());
                put(o + 4, &ph.flags.to_le_bytes());
                put(o + 8, &ph.offset.to_le_bytes());
                put(o + 16, &ph.vaddr.to_le_bytes());
                put(o + 24, &ph.vaddr.to_le_bytes());
                put(o + 32, &ph.filesz.to_le_bytes());
                put(o + 40, &ph.memsz.to_le_bytes());
                put(o + 48, &0x1_0000u64.to_le_bytes());
            }
            v
        }
    }

    /// What a small static executable looks like: text (with the headers)
    /// and data + bss.
    fn static_exec() -> Elf {
        Elf {
            e_type: ET_EXEC,
            machine: 183,
            entry: 0x40_0100,
            phs: vec![
                load(R | X, 0, 0x40_0000, 0x1000, 0x1000),
                load(R | W, 0x1000, 0x41_1000, 0x100, 0x1800),
                other(PT_GNU_STACK),
            ],
            len: 0x1100,
        }
    }

    fn err(elf: &Elf) -> ElfError {
        load_plan(&elf.build()).unwrap_err()
    }

    #[test]
    fn static_executable() {
        let plan = load_plan(&static_exec().build()).unwrap();
        assert_eq!(plan.entry, 0x40_0100);
        assert_eq!(
            plan.segments,
            [
                Segment {
                    vaddr: 0x40_0000,
                    memsz: 0x1000,
                    file_offset: 0,
                    filesz: 0x1000,
                    read: true,
                    write: false,
                    exec: true
                },
                Segment {
                    vaddr: 0x41_1000,
                    memsz: 0x1800,
                    file_offset: 0x1000,
                    filesz: 0x100,
                    read: true,
                    write: true,
                    exec: false
                },
            ]
        );
        assert_eq!(plan.segments[1].file_range(), 0x1000..0x1100);
        // No PT_PHDR: the table is at file offset 64, inside the text segment.
        assert_eq!(plan.phdr_vaddr, Some(0x40_0040));
        assert_eq!((plan.phent, plan.phnum), (56, 3));
        assert_eq!(plan.brk_start, 0x41_3000);
    }

    #[test]
    fn pt_phdr_wins_and_unloaded_headers_give_none() {
        let mut e = static_exec();
        e.phs.insert(0, Ph { vaddr: 0x40_0800, ..other(PT_PHDR) });
        assert_eq!(load_plan(&e.build()).unwrap().phdr_vaddr, Some(0x40_0800));
        let mut e = static_exec();
        e.phs[0] = load(R | X, 0x1000, 0x40_0000, 0, 0x1000);
        e.phs[1] = load(R | W, 0x1000, 0x41_1000, 0x100, 0x100);
        assert_eq!(load_plan(&e.build()).unwrap().phdr_vaddr, None);
    }

    #[test]
    fn static_pie_is_placed_at_the_fixed_base() {
        let mut e = static_exec();
        e.e_type = ET_DYN;
        e.entry = 0x100;
        e.phs[0].vaddr = 0;
        e.phs[1].vaddr = 0x1_1000;
        let plan = load_plan(&e.build()).unwrap();
        assert_eq!(plan.entry, STATIC_PIE_BASE + 0x100);
        assert_eq!(plan.segments[0].vaddr, STATIC_PIE_BASE);
        assert_eq!(plan.segments[1].vaddr, STATIC_PIE_BASE + 0x1_1000);
        assert_eq!(plan.phdr_vaddr, Some(STATIC_PIE_BASE + 64));
        assert_eq!(plan.brk_start, STATIC_PIE_BASE + 0x1_3000);
    }

    #[test]
    fn segments_are_sorted_and_empty_ones_skipped() {
        let mut e = static_exec();
        e.phs.swap(0, 1);
        e.phs.push(load(R, 0x1000, 0x50_0000, 0, 0));
        let plan = load_plan(&e.build()).unwrap();
        assert_eq!(plan.segments.len(), 2);
        assert!(plan.segments[0].vaddr < plan.segments[1].vaddr);
        // Byte-disjoint segments may share a page.
        let mut e = static_exec();
        e.phs[1] = load(R | W, 0x1000, 0x40_1000, 0x100, 0x100);
        e.phs.push(load(R, 0x1100, 0x40_1100, 0, 0x10));
        assert_eq!(load_plan(&e.build()).unwrap().segments.len(), 3);
    }

    #[test]
    fn misaligned_buffer_is_copied() {
        let image = static_exec().build();
        let mut shifted = vec![0u8; 4];
        shifted.extend_from_slice(&image);
        let (a, b) = (load_plan(&image[..]), load_plan(&shifted[4..]));
        let c = load_plan(&shifted[..]); // offset by 4 bytes of zeros: not ELF
        assert_eq!(a, b);
        assert!(a.is_ok());
        assert_eq!(c, Err(ElfError::NotElf));
        let mut shifted = vec![0u8; 1];
        shifted.extend_from_slice(&image);
        assert_eq!(load_plan(&shifted[1..]), a);
    }

    #[test]
    fn rejects_bad_identification() {
        let good = static_exec().build();
        assert_eq!(load_plan(b""), Err(ElfError::NotElf));
        assert_eq!(load_plan(b"\x7fEL"), Err(ElfError::NotElf));
        assert_eq!(load_plan(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        assert_eq!(load_plan(b"\x7fELF"), Err(ElfError::Truncated));
        assert_eq!(load_plan(&good[..63]), Err(ElfError::Truncated));
        let mut v = good.clone();
        v[4] = 1;
        assert_eq!(load_plan(&v), Err(ElfError::Not64Bit));
        let mut v = good.clone();
        v[5] = 2;
        assert_eq!(load_plan(&v), Err(ElfError::NotLittleEndian));
        let mut e = static_exec();
        e.machine = 62; // x86-64
        assert_eq!(err(&e), ElfError::WrongMachine);
        e.machine = 183;
        e.e_type = 1; // ET_REL
        assert_eq!(err(&e), ElfError::WrongType(1));
        e.e_type = 4; // ET_CORE
        assert_eq!(err(&e), ElfError::WrongType(4));
    }

    #[test]
    fn rejects_dynamic_programs() {
        let mut e = static_exec();
        e.phs.insert(0, other(PT_INTERP));
        assert_eq!(err(&e), ElfError::Dynamic);
        e.e_type = ET_DYN;
        e.entry = 0x100;
        e.phs[1].vaddr = 0;
        e.phs[2].vaddr = 0x1_1000;
        assert_eq!(err(&e), ElfError::Dynamic);
    }

    #[test]
    fn rejects_bad_program_header_tables() {
        let good = static_exec().build();
        let mut v = good.clone();
        v[54] = 32; // e_phentsize
        assert_eq!(load_plan(&v), Err(ElfError::BadProgramHeaders));
        let mut v = good.clone();
        v[32] = 0; // e_phoff = 0
        assert_eq!(load_plan(&v), Err(ElfError::BadProgramHeaders));
        let mut v = good.clone();
        v[32] = 68; // e_phoff not 8-aligned
        assert_eq!(load_plan(&v), Err(ElfError::BadProgramHeaders));
        let mut v = good.clone();
        v[32..40].copy_from_slice(&0x1080u64.to_le_bytes()); // table past the end
        assert_eq!(load_plan(&v), Err(ElfError::Truncated));
        let mut v = good.clone();
        v[32..40].copy_from_slice(&(u64::MAX - 7).to_le_bytes());
        assert_eq!(load_plan(&v), Err(ElfError::Truncated));
        let mut v = good.clone();
        v[56] = 65; // e_phnum
        assert_eq!(load_plan(&v), Err(ElfError::BadProgramHeaders));
        assert_eq!(load_plan(&good[..64 + 56 * 3 - 1]), Err(ElfError::Truncated));
    }

    #[test]
    fn rejects_programs_without_load_segments() {
        let mut e = static_exec();
        e.phs = vec![];
        assert_eq!(err(&e), ElfError::NoLoadSegments);
        e.phs = vec![other(PT_GNU_STACK), load(R | X, 0, 0x40_0000, 0, 0)];
        assert_eq!(err(&e), ElfError::NoLoadSegments);
    }

    #[test]
    fn rejects_too_many_segments() {
        let mut e = static_exec();
        e.entry = 0x40_0000;
        e.phs = (0..17).map(|i| load(R | X, 0, 0x40_0000 + i * 0x1000, 0, 0x1000)).collect();
        assert_eq!(err(&e), ElfError::TooManySegments);
        e.phs.pop();
        assert_eq!(load_plan(&e.build()).unwrap().segments.len(), 16);
    }

    #[test]
    fn rejects_bad_segments() {
        let mut e = static_exec();
        e.phs[1].filesz = 0x101; // runs past the 0x1100-byte file
        assert_eq!(err(&e), ElfError::SegmentPastEndOfFile(1));
        e.phs[1].offset = u64::MAX - 0xfff;
        e.phs[1].filesz = 0x1000; // offset + filesz overflows
        assert_eq!(err(&e), ElfError::SegmentPastEndOfFile(1));

        let mut e = static_exec();
        e.phs[1].filesz = 0x1801;
        e.len = 0x3000;
        assert_eq!(err(&e), ElfError::FileSizeExceedsMemSize(1));

        let mut e = static_exec();
        e.phs[1].vaddr = 0x41_1010;
        assert_eq!(err(&e), ElfError::Misaligned(1));
    }

    #[test]
    fn rejects_segments_outside_user_space() {
        // Page 0, even partly.
        let mut e = static_exec();
        e.phs[0].vaddr = 0;
        e.entry = 0x100;
        assert_eq!(err(&e), ElfError::OutsideUserRange(0));
        // Ending above user space.
        let mut e = static_exec();
        e.phs[1].vaddr = USER_END - 0x1000;
        assert_eq!(err(&e), ElfError::OutsideUserRange(1));
        // Ending exactly at the top is fine.
        e.phs[1].memsz = 0x1000;
        let plan = load_plan(&e.build()).unwrap();
        assert_eq!(plan.brk_start, USER_END);
        // Kernel addresses.
        let mut e = static_exec();
        e.phs[1].vaddr = 0xffff_0000_0000_0000;
        assert_eq!(err(&e), ElfError::OutsideUserRange(1));
        // vaddr + memsz wraps around.
        let mut e = static_exec();
        e.phs[1].vaddr = 0xffff_ffff_ffff_f000;
        e.phs[1].memsz = 0x2000;
        assert_eq!(err(&e), ElfError::OutsideUserRange(1));
        // A static-pie segment pushed over the top by the bias.
        let mut e = static_exec();
        e.e_type = ET_DYN;
        e.phs[1].vaddr = USER_END - STATIC_PIE_BASE;
        assert_eq!(err(&e), ElfError::OutsideUserRange(1));
    }

    #[test]
    fn rejects_overlapping_segments() {
        let mut e = static_exec();
        // Congruent with its file offset, but inside segment 0.
        e.phs[1] = load(R | W, 0x1000, 0x40_0000, 0x100, 0x100);
        assert_eq!(err(&e), ElfError::Overlap(0, 1));
        let mut e = static_exec();
        e.phs.push(load(R, 0x1000, 0x41_2000, 0x100, 0x100)); // inside segment 1's bss
        assert_eq!(err(&e), ElfError::Overlap(1, 3));
    }

    #[test]
    fn rejects_entry_outside_executable_segments() {
        let mut e = static_exec();
        e.entry = 0x41_1000; // in the data segment
        assert_eq!(err(&e), ElfError::EntryNotExecutable(0x41_1000));
        e.entry = 0x40_1000; // just past the text segment
        assert_eq!(err(&e), ElfError::EntryNotExecutable(0x40_1000));
        e.entry = 0;
        assert_eq!(err(&e), ElfError::EntryNotExecutable(0));
        e.e_type = ET_DYN;
        e.phs[0].vaddr = 0;
        e.phs[1].vaddr = 0x1_1000;
        e.entry = u64::MAX; // wraps around to just below the base
        assert_eq!(err(&e), ElfError::EntryNotExecutable(STATIC_PIE_BASE - 1));
    }

    #[test]
    fn never_panics_on_damaged_files() {
        let good = static_exec().build();
        for len in 0..good.len() {
            let _ = load_plan(&good[..len]);
        }
        // Overwrite each header byte with a few values (a cheap fuzzer).
        for pos in 0..EHDR_SIZE + 3 * 56 {
            for val in [0x00, 0x01, 0x07, 0x40, 0x80, 0xff] {
                let mut v = good.clone();
                v[pos] = val;
                let _ = load_plan(&v);
            }
        }
    }

    #[test]
    fn errors_display() {
        assert_eq!(format!("{}", ElfError::Dynamic), "dynamically linked programs are not supported");
        assert_eq!(format!("{}", ElfError::Overlap(1, 2)), "segments 1 and 2 overlap");
        assert_eq!(
            format!("{}", ElfError::EntryNotExecutable(0x1000)),
            "entry point 0x1000 is not in an executable segment"
        );
    }
}
