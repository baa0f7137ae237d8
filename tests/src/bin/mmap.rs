//! `mmap`: on-target tests of armmap's mapper: `mmap`'s argument checks and
//! error numbers, MAP_FIXED and address hints, shared and private (COW)
//! mappings of anonymous memory and files, `munmap` and `mprotect`, the
//! memdev device nodes (one-pass remap against one page per fault), the
//! `/proc` counters, and that a process's memory all comes back when it ends.
//!
//! Booted by `cargo xtask test` as `init=/bin/mmap` with `memdev=4M`.
//!
//! Every case that does not use an armmap-only file (`/proc/memdev`,
//! `/dev/memdev`, `/proc/vmstat`'s armmap keys, `/proc/self/mmstat`) holds on
//! Linux as well: run `qemu-aarch64 target/aarch64-unknown-none-softfloat/debug/mmap`.
//! The armmap-only checks print a note and pass there; on armmap they must
//! hold. Where qemu-user 7.2's own emulation of a call differs from Linux
//! (it treats MAP_FIXED_NOREPLACE as a hint, refuses MAP_SHARED_VALIDATE
//! with EINVAL, and fails mprotect of length 0 with ENOMEM), the check is
//! made on armmap only (`check_qemu_differs!`); the Linux results it
//! expects there were checked against a Linux kernel directly.
//!
//! Memory under test is only ever touched with single `ldr`/`str`
//! instructions in inline assembly (see [`Region`]): some of those accesses
//! are meant to fault, and the compiler must neither drop nor merge them.
#![no_std]
#![no_main]

use core::ffi::CStr;
use core::sync::atomic::{AtomicU64, Ordering};
use user::errno::Errno;
use user::fs::{self, Fd, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, S_IFCHR, S_IFMT};
use user::mm::{
    self, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, PAGE_SIZE,
    PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
};
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus, SIGSEGV};
use user::test::{Deadline, Failed, Harness, TestResult};
use user::time::{self, RUSAGE_SELF};
use user::util;
use user::{check, check_eq, check_ne, fail, println, Args};

user::entry!(main);

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("mmap");
    println!(
        "  (running on {})",
        if user::util::on_armmap() { "armmap" } else { "Linux: armmap-only checks are skipped" }
    );
    // A. mmap's argument checks and placement.
    h.case("len_zero_einval", len_zero_einval);
    h.case("unaligned_offset_einval", unaligned_offset_einval);
    h.case("file_offset_too_large_eoverflow", file_offset_too_large_eoverflow);
    h.case("neither_shared_nor_private_einval", neither_shared_nor_private_einval);
    h.case("shared_validate_anonymous_einval", shared_validate_anonymous_einval);
    h.case("shared_validate_unknown_flag_eopnotsupp", shared_validate_unknown_flag_eopnotsupp);
    h.case("fixed_unaligned_einval", fixed_unaligned_einval);
    h.case("fixed_replaces_mapping", fixed_replaces_mapping);
    h.case("fixed_noreplace_eexist", fixed_noreplace_eexist);
    h.case("free_hint_honoured", free_hint_honoured);
    h.case("anonymous_ignores_fd", anonymous_ignores_fd);
    h.case("bad_fd_ebadf", bad_fd_ebadf);
    h.case("rdonly_file_shared_write_eacces", rdonly_file_shared_write_eacces);
    h.case("wronly_file_eacces", wronly_file_eacces);
    h.case("length_overflow_enomem", length_overflow_enomem);
    h.case("prot_none_read_sigsegv", prot_none_read_sigsegv);
    h.case("prot_exec_mapping_runs_code", prot_exec_mapping_runs_code);
    h.case("exec_from_non_exec_mapping_sigsegv", exec_from_non_exec_mapping_sigsegv);
    // B. The memdev device nodes (armmap only).
    h.case("proc_memdev_address_and_size", proc_memdev_address_and_size);
    h.case("memdev_fstat_size", memdev_fstat_size);
    h.case("memdev_greeting", memdev_greeting);
    h.case("memdev_eager_no_faults", memdev_eager_no_faults);
    h.case("memdev_lazy_one_fault_per_page", memdev_lazy_one_fault_per_page);
    h.case("memdev_seen_by_child_via_lazy_and_dev_mem", memdev_seen_by_child_via_lazy_and_dev_mem);
    h.case("dev_mem_outside_buffer_eperm", dev_mem_outside_buffer_eperm);
    h.case("memdev_past_end_einval", memdev_past_end_einval);
    h.case("rusage_minflt_matches_mmstat", rusage_minflt_matches_mmstat);
    // C. Shared and private mappings.
    h.case("shared_anonymous_shared_with_children", shared_anonymous_shared_with_children);
    h.case("private_anonymous_cow_after_fork", private_anonymous_cow_after_fork);
    h.case("private_anonymous_zero_filled", private_anonymous_zero_filled);
    h.case("private_file_mapping_copy_on_write", private_file_mapping_copy_on_write);
    h.case("shared_file_mapping_seen_by_read", shared_file_mapping_seen_by_read);
    h.case("mapping_outlives_unlink", mapping_outlives_unlink);
    h.case("proc_dumpmaps_logs_areas", proc_dumpmaps_logs_areas);
    // D. munmap and mprotect.
    h.case("munmap_middle_page_splits_area", munmap_middle_page_splits_area);
    h.case("munmap_unmapped_range_ok", munmap_unmapped_range_ok);
    h.case("munmap_bad_args_einval", munmap_bad_args_einval);
    h.case("mprotect_bad_args", mprotect_bad_args);
    h.case("mprotect_prot_sem_accepted", mprotect_prot_sem_accepted);
    h.case("write_to_read_only_sigsegv", write_to_read_only_sigsegv);
    h.case("write_to_prot_none_sigsegv", write_to_prot_none_sigsegv);
    h.case("mprotect_keeps_data", mprotect_keeps_data);
    h.case("mprotect_write_rdonly_shared_file_eacces", mprotect_write_rdonly_shared_file_eacces);
    h.case("cow_survives_mprotect", cow_survives_mprotect);
    // E. Accounting.
    h.case("child_memory_freed_on_exit", child_memory_freed_on_exit);
    h.case("fork_wait_100_cycles_free_pages_restored", fork_wait_100_cycles_free_pages_restored);
    h.case("proc_self_maps_lines", proc_self_maps_lines);
    h.finish()
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `MAP_SYNC`: valid only with MAP_SHARED_VALIDATE on a DAX file; unknown
/// to every file armmap or a plain Linux `/tmp` has.
const MAP_SYNC: u32 = 0x8_0000;
/// 75: value too large (not in `user::errno`'s table).
const EOVERFLOW: Errno = Errno(75);
/// A flag bit no `mmap` flag uses.
const MAP_UNKNOWN: u32 = 0x80_0000;
/// `PROT_SEM`: accepted (and ignored) by Linux's mprotect on arm64.
const PROT_SEM: u32 = 0x8;
const RW: u32 = PROT_READ | PROT_WRITE;
const P: usize = PAGE_SIZE;
const BLOCK_2M: usize = 2 << 20;
/// The memdev buffer size the test run asks for (`memdev=4M`).
const MEMDEV_SIZE: usize = 4 << 20;
/// Pages of the memdev buffer.
const MEMDEV_PAGES: usize = MEMDEV_SIZE / P;
/// Where the memdev cases store in each page: past the kernel's greeting,
/// which lives at the start of page 0.
const TOUCH_OFF: usize = 2048;

/// Free address ranges, far from the program, its heap, its stack and
/// where either kernel places mappings by itself: the hint case, the
/// `/proc/self/maps` case, and one 4 GiB slot per case that uses MAP_FIXED.
const HINT_ADDR: usize = 0x2000_0000_0000;
const MAPS_REGION: usize = 0x3000_0000_0000;
fn slot(n: usize) -> usize {
    0x3100_0000_0000 + n * 0x1_0000_0000
}

/// For the few checks where qemu-user's own emulation of a call differs
/// from Linux (each one checked against a Linux kernel directly): checks
/// `got == want` on armmap; under qemu-user only says what it got.
/// Evaluates to `got`.
macro_rules! check_qemu_differs {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let got = $got;
        let want = $want;
        if user::util::on_armmap() {
            check_eq!(got, want, $($what)+);
        } else if got != want {
            println!(
                "  note: qemu-user differs from Linux here: {} gave {got:?}, Linux gives {want:?}",
                format_args!($($what)+)
            );
        }
        got
    }};
}

/// The raw `mmap` call (MAP_FIXED allowed).
fn map(addr: usize, len: usize, prot: u32, flags: u32, fd: Fd, offset: u64) -> Result<usize, Errno> {
    // SAFETY: the cases pass MAP_FIXED only with addresses in the test
    // ranges above (`HINT_ADDR`, `MAPS_REGION`, `slot(n)`), where nothing but
    // the mappings the cases make there lives; without it `addr` is a hint.
    unsafe { mm::mmap(addr, len, prot, flags, fd, offset) }
}

/// Anonymous `mmap` (`MAP_ANONYMOUS` added, fd -1).
fn map_anon(addr: usize, len: usize, prot: u32, flags: u32) -> Result<usize, Errno> {
    map(addr, len, prot, flags | MAP_ANONYMOUS, -1, 0)
}

/// `munmap` of (part of) a test mapping.
fn unmap(addr: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: only test mappings are unmapped, and nothing holds a Rust
    // reference into them: they are only accessed through `Region`'s
    // single-instruction loads and stores.
    unsafe { mm::munmap(addr, len) }
}

/// `mprotect` of (part of) a test mapping.
fn protect(addr: usize, len: usize, prot: u32) -> Result<(), Errno> {
    // SAFETY: as for `unmap`: a fault on a test mapping is what the cases
    // that remove access want, and no Rust reference points into one.
    unsafe { mm::mprotect(addr, len, prot) }
}

/// A mapping made by a case, accessed only with single load and store
/// instructions (never through Rust references), and unmapped when dropped.
///
/// The accesses are inline assembly, so one that faults (the point of
/// several cases, always in a forked child) is a signal for the process,
/// not undefined behaviour in the program.
struct Region {
    addr: usize,
    len: usize,
}

impl Region {
    fn map(addr: usize, len: usize, prot: u32, flags: u32, fd: Fd, offset: u64) -> Result<Region, Errno> {
        Ok(Region { addr: map(addr, len, prot, flags, fd, offset)?, len })
    }

    fn anon(addr: usize, len: usize, prot: u32, flags: u32) -> Result<Region, Errno> {
        Region::map(addr, len, prot, flags | MAP_ANONYMOUS, -1, 0)
    }

    /// The address of byte `off` (which must lie inside the region).
    fn at(&self, off: usize) -> usize {
        assert!(off < self.len, "offset {off:#x} outside a {:#x}-byte region", self.len);
        self.addr + off
    }

    /// Loads the 64-bit word at byte `off` (8-byte aligned).
    fn peek(&self, off: usize) -> u64 {
        let a = self.at(off);
        assert!(a.is_multiple_of(8) && off + 8 <= self.len);
        let v: u64;
        // SAFETY: one load instruction from the region's memory, which no
        // Rust reference covers; if the page is not readable the process
        // takes a signal.
        unsafe { core::arch::asm!("ldr {v}, [{a}]", a = in(reg) a, v = out(reg) v, options(nostack, preserves_flags)) };
        v
    }

    /// Stores the 64-bit word `v` at byte `off` (8-byte aligned).
    fn poke(&self, off: usize, v: u64) {
        let a = self.at(off);
        assert!(a.is_multiple_of(8) && off + 8 <= self.len);
        // SAFETY: one store instruction to the region's memory, which no
        // Rust reference covers; if the page is not writable the process
        // takes a signal.
        unsafe { core::arch::asm!("str {v}, [{a}]", a = in(reg) a, v = in(reg) v, options(nostack, preserves_flags)) };
    }

    /// Loads byte `off`.
    fn peek8(&self, off: usize) -> u8 {
        let a = self.at(off);
        let v: u32;
        // SAFETY: as in `peek`.
        unsafe {
            core::arch::asm!("ldrb {v:w}, [{a}]", a = in(reg) a, v = out(reg) v, options(nostack, preserves_flags))
        };
        v as u8
    }

    /// Stores byte `v` at `off`.
    fn poke8(&self, off: usize, v: u8) {
        let a = self.at(off);
        // SAFETY: as in `poke`.
        unsafe {
            core::arch::asm!("strb {v:w}, [{a}]", a = in(reg) a, v = in(reg) v as u32, options(nostack, preserves_flags))
        };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        let _ = unmap(self.addr, self.len);
    }
}

/// Byte `i` of a test file: not periodic in the page size, never all zero.
fn pattern(i: usize) -> u8 {
    ((i * 7 + i / 251 + 1) & 0xff) as u8
}

/// A scratch file under `/tmp` holding `len` bytes of [`pattern`], open
/// `O_RDWR` as `fd`; closed and removed when dropped.
struct TmpFile {
    path: &'static CStr,
    fd: Fd,
}

impl TmpFile {
    /// Creates it with `open(O_CREAT|O_RDWR)` and `ftruncate`, then writes the pattern.
    fn create(path: &'static CStr, len: usize) -> Result<TmpFile, Failed> {
        let _ = fs::unlink(path);
        let f = TmpFile { path, fd: fs::open(path, O_CREAT | O_RDWR | O_TRUNC, 0o644)? };
        fs::ftruncate(f.fd, len as u64)?;
        check_eq!(fs::fstat(f.fd)?.st_size, len as i64, "size of {path:?} after ftruncate");
        let mut buf = [0u8; P];
        let mut off = 0;
        while off < len {
            let n = (len - off).min(P);
            for (k, b) in buf[..n].iter_mut().enumerate() {
                *b = pattern(off + k);
            }
            check_eq!(fs::pwrite(f.fd, &buf[..n], off as u64)?, n, "pwrite to {path:?} at {off}");
            off += n;
        }
        Ok(f)
    }

    /// Another descriptor for the file.
    fn open(&self, flags: u32) -> Result<Fd, Errno> {
        fs::open(self.path, flags, 0)
    }

    /// Byte `off` of the file, read with `pread`.
    fn byte(&self, off: usize) -> Result<u8, Failed> {
        let mut b = [0u8; 1];
        check_eq!(fs::pread(self.fd, &mut b, off as u64)?, 1, "pread of byte {off} of {:?}", self.path);
        Ok(b[0])
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        let _ = fs::close(self.fd);
        let _ = fs::unlink(self.path);
    }
}

/// Runs `f` in a forked child and returns its status word.
fn in_child(f: impl FnOnce() -> i32) -> Result<i32, Failed> {
    let child = process::fork_run(f)?;
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child, "waitpid returned another pid");
    Ok(status)
}

/// Runs `f` in a forked child that is expected to die of a fault: no core
/// file is wanted.
fn in_faulting_child(f: impl FnOnce() -> i32) -> Result<i32, Failed> {
    in_child(|| {
        let _ = process::setrlimit(process::RLIMIT_CORE, process::Rlimit { cur: 0, max: 0 });
        f()
    })
}

/// Checks that a child exited with status 0 (`what` says what it did).
fn check_exit0(status: i32, what: &str) -> TestResult {
    check!(
        wifexited(status) && wexitstatus(status) == 0,
        "{what}: child {}, expected exit status 0",
        ExitStatus(status)
    );
    Ok(())
}

/// Checks that a child was killed by `sig`.
fn check_killed(status: i32, sig: i32, what: &str) -> TestResult {
    check!(
        wifsignaled(status) && wtermsig(status) == sig,
        "{what}: child {}, expected killed by {}",
        ExitStatus(status),
        process::signal_name(sig)
    );
    Ok(())
}

/// A child that loads from (`write` false) or stores to byte `off` of `r`:
/// returns its status (exit 0 if the access worked).
fn access_in_child(r: &Region, off: usize, write: bool) -> Result<i32, Failed> {
    in_faulting_child(|| {
        if write {
            r.poke(off, 0x5a5a);
        } else {
            let _ = r.peek(off);
        }
        0
    })
}

/// Reads a (small, generated) file whole as text.
fn read_text<'a>(path: &CStr, buf: &'a mut [u8]) -> Result<&'a str, Failed> {
    let n = util::read_path(path, buf)?;
    check!(n < buf.len(), "{path:?} does not fit in {} bytes", buf.len());
    match core::str::from_utf8(&buf[..n]) {
        Ok(s) => Ok(s),
        Err(_) => fail!("{path:?} is not UTF-8"),
    }
}

/// The `key value` entry `key` of the text file `path`.
fn stat_value(text: &str, path: &CStr, key: &str) -> Result<u64, Failed> {
    match util::key_value(text, key) {
        Some(v) => Ok(v),
        None => fail!("no `{key} <number>` line in {path:?}:\n{text}"),
    }
}

/// The `/proc/vmstat` counters the cases use.
#[derive(Clone, Copy, Debug)]
struct VmStat {
    free: u64,
    total: u64,
    eager_pages: u64,
    eager_blocks_2m: u64,
}

/// Reads `/proc/vmstat` (armmap's keys).
fn vmstat() -> Result<VmStat, Failed> {
    let path = c"/proc/vmstat";
    let mut buf = [0u8; 1024];
    let t = read_text(path, &mut buf)?;
    Ok(VmStat {
        free: stat_value(t, path, "nr_free_pages")?,
        total: stat_value(t, path, "nr_total_pages")?,
        eager_pages: stat_value(t, path, "eager_pages")?,
        eager_blocks_2m: stat_value(t, path, "eager_blocks_2m")?,
    })
}

/// The calling process's `/proc/self/mmstat` counters.
#[derive(Clone, Copy, Debug)]
struct MmStat {
    minflt: u64,
    eager_pages: u64,
}

fn mmstat() -> Result<MmStat, Failed> {
    let path = c"/proc/self/mmstat";
    let mut buf = [0u8; 256];
    let t = read_text(path, &mut buf)?;
    Ok(MmStat { minflt: stat_value(t, path, "minflt")?, eager_pages: stat_value(t, path, "eager_pages")? })
}

/// One line of `/proc/self/maps`: `start-end perms offset dev inode [path]`.
#[derive(Debug)]
struct MapsLine<'a> {
    start: usize,
    end: usize,
    perms: &'a str,
    offset: u64,
    path: Option<&'a str>,
}

/// Takes the next blank-separated field off the front of `rest`.
fn take_field<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let s = rest.trim_start_matches(' ');
    let end = s.find(' ').unwrap_or(s.len());
    let (field, after) = s.split_at(end);
    *rest = after;
    (!field.is_empty()).then_some(field)
}

fn parse_maps_line(line: &str) -> Option<MapsLine<'_>> {
    let mut rest = line;
    let (start, end) = take_field(&mut rest)?.split_once('-')?;
    let perms = take_field(&mut rest)?;
    let offset = util::parse_hex(take_field(&mut rest)?)?;
    let _dev = take_field(&mut rest)?;
    let _inode: u64 = take_field(&mut rest)?.parse().ok()?;
    let path = rest.trim();
    Some(MapsLine {
        start: util::parse_hex(start)? as usize,
        end: util::parse_hex(end)? as usize,
        perms,
        offset,
        path: (!path.is_empty()).then_some(path),
    })
}

/// Reads `/proc/self/maps` into `buf`, checking that every line parses.
fn read_maps(buf: &mut [u8]) -> Result<&str, Failed> {
    let text = read_text(c"/proc/self/maps", buf)?;
    for line in text.lines() {
        check!(parse_maps_line(line).is_some(), "unparsable /proc/self/maps line {line:?}");
    }
    Ok(text)
}

/// The parsed `/proc/self/maps` lines that overlap `[start, end)`.
fn maps_overlapping(text: &str, start: usize, end: usize) -> impl Iterator<Item = MapsLine<'_>> {
    text.lines().filter_map(parse_maps_line).filter(move |l| l.start < end && l.end > start)
}

/// Waits (bounded) until `flag` holds `value`; false on timeout.
fn wait_flag(flag: &AtomicU64, value: u64) -> bool {
    let mut deadline = Deadline::after_ms(10_000, 10_000_000);
    while flag.load(Ordering::Acquire) != value {
        if deadline.expired() {
            return false;
        }
        process::sched_yield();
    }
    true
}

/// A tag for page `p` of case `salt` (never 0).
fn tag(salt: u64, p: usize) -> u64 {
    (salt << 32) | (p as u64 + 1)
}

// ---------------------------------------------------------------------------
// A. mmap's argument checks and placement
// ---------------------------------------------------------------------------

fn len_zero_einval() -> TestResult {
    check_eq!(map_anon(0, 0, RW, MAP_PRIVATE), Err(Errno::EINVAL), "anonymous, length 0");
    check_eq!(map_anon(0, 0, RW, MAP_SHARED), Err(Errno::EINVAL), "shared anonymous, length 0");
    let f = TmpFile::create(c"/tmp/armmap-mmap-len0", P)?;
    check_eq!(map(0, 0, PROT_READ, MAP_PRIVATE, f.fd, 0), Err(Errno::EINVAL), "file, length 0");
    Ok(())
}

fn unaligned_offset_einval() -> TestResult {
    // arm64's sys_mmap checks the offset before anything else.
    check_eq!(map(0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 100), Err(Errno::EINVAL), "anonymous, offset 100");
    check_eq!(map(0, P, PROT_READ, MAP_PRIVATE, 999, 100), Err(Errno::EINVAL), "bad fd 999 and offset 100");
    check_eq!(map(0, 0, PROT_READ, MAP_PRIVATE, 999, 1), Err(Errno::EINVAL), "bad fd, length 0 and offset 1");
    let f = TmpFile::create(c"/tmp/armmap-mmap-off", 2 * P)?;
    check_eq!(map(0, P, PROT_READ, MAP_PRIVATE, f.fd, P as u64 - 1), Err(Errno::EINVAL), "file, offset 4095");
    // A page-aligned offset is fine and shows that part of the file.
    let r = Region::map(0, P, PROT_READ, MAP_PRIVATE, f.fd, P as u64)?;
    check_eq!(r.peek8(0), pattern(P), "first byte of a mapping at offset 4096");
    Ok(())
}

fn file_offset_too_large_eoverflow() -> TestResult {
    // A regular file's pages end at byte 2^63 - 1 (MAX_LFS_FILESIZE):
    // Linux refuses mappings reaching past it with EOVERFLOW.
    let f = TmpFile::create(c"/tmp/armmap-mmap-eoverflow", P)?;
    for (off, len) in [(1u64 << 63, P), (0x7fff_ffff_ffff_f000, P), (0xffff_ffff_ffff_f000, 2 * P)] {
        let r = map(0, len, PROT_READ, MAP_PRIVATE, f.fd, off);
        check_eq!(r, Err(EOVERFLOW), "mapping {len} bytes at file offset {off:#x}");
    }
    // Just below that limit is fine (pages past the end of the file are
    // only an error when touched).
    let r = Region::map(0, P, PROT_READ, MAP_PRIVATE, f.fd, 0x7fff_ffff_ffff_e000);
    check!(r.is_ok(), "mapping the last page below 2^63: {:?}", r.as_ref().err());
    Ok(())
}

fn neither_shared_nor_private_einval() -> TestResult {
    check_eq!(map(0, P, RW, MAP_ANONYMOUS, -1, 0), Err(Errno::EINVAL), "flags = MAP_ANONYMOUS only");
    let f = TmpFile::create(c"/tmp/armmap-mmap-type", P)?;
    check_eq!(map(0, P, PROT_READ, 0, f.fd, 0), Err(Errno::EINVAL), "file mapping with flags 0");
    Ok(())
}

fn shared_validate_anonymous_einval() -> TestResult {
    check_eq!(map_anon(0, P, RW, MAP_SHARED_VALIDATE), Err(Errno::EINVAL), "MAP_SHARED_VALIDATE | MAP_ANONYMOUS");
    Ok(())
}

fn shared_validate_unknown_flag_eopnotsupp() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-validate", P)?;
    // qemu-user 7.2 refuses MAP_SHARED_VALIDATE itself, with EINVAL.
    for (flags, what) in [
        (MAP_UNKNOWN, "unknown flag 0x800000"),
        (MAP_SYNC, "MAP_SYNC"),
        // Not one of Linux's LEGACY_MAP_MASK flags either.
        (MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"),
    ] {
        let r = map(slot(9), P, RW, MAP_SHARED_VALIDATE | flags, f.fd, 0);
        if let Ok(addr) = check_qemu_differs!(r, Err(Errno::EOPNOTSUPP), "MAP_SHARED_VALIDATE | {what} on a file") {
            unmap(addr, P)?;
        }
    }
    // Without an unknown flag MAP_SHARED_VALIDATE is MAP_SHARED: stores
    // reach the file. (qemu-user 7.2 refuses MAP_SHARED_VALIDATE altogether.)
    match Region::map(0, P, RW, MAP_SHARED_VALIDATE, f.fd, 0) {
        Ok(r) => {
            r.poke8(10, 0xa5);
            check_eq!(f.byte(10)?, 0xa5, "a store through a MAP_SHARED_VALIDATE mapping, read back with pread");
        }
        Err(e) => {
            let _ = check_qemu_differs!(Err::<(), _>(e), Ok(()), "MAP_SHARED_VALIDATE without unknown flags");
        }
    }
    // Unknown flags are ignored when not validating.
    let r = Region::map(0, P, PROT_READ, MAP_PRIVATE | MAP_UNKNOWN, f.fd, 0)?;
    check_eq!(r.peek8(11), pattern(11), "MAP_PRIVATE | unknown flag maps the file");
    Ok(())
}

fn fixed_unaligned_einval() -> TestResult {
    let a = slot(1);
    check_eq!(map_anon(a + 100, P, RW, MAP_PRIVATE | MAP_FIXED), Err(Errno::EINVAL), "MAP_FIXED at {:#x}", a + 100);
    // qemu-user 7.2 treats MAP_FIXED_NOREPLACE as a hint.
    let r = map_anon(a + 8, P, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE);
    if let Ok(addr) = check_qemu_differs!(r, Err(Errno::EINVAL), "MAP_FIXED_NOREPLACE at an unaligned address") {
        unmap(addr, P)?;
    }
    // The same request at an aligned address works.
    let r = Region::anon(a, P, RW, MAP_PRIVATE | MAP_FIXED)?;
    check_eq!(r.addr, a, "MAP_FIXED at {a:#x}");
    Ok(())
}

fn fixed_replaces_mapping() -> TestResult {
    let a = slot(2);
    let r = Region::anon(a, 3 * P, RW, MAP_PRIVATE | MAP_FIXED)?;
    check_eq!(r.addr, a);
    for p in 0..3 {
        r.poke(p * P + 64, tag(2, p));
    }
    // Replace the middle page: the new page is fresh zeroed memory.
    check_eq!(map_anon(a + P, P, RW, MAP_PRIVATE | MAP_FIXED), Ok(a + P), "MAP_FIXED over the middle page");
    for off in (0..P).step_by(8) {
        check_eq!(r.peek(P + off), 0, "byte {off} of the replaced page");
    }
    check_eq!(r.peek(64), tag(2, 0), "page 0 must keep its data");
    check_eq!(r.peek(2 * P + 64), tag(2, 2), "page 2 must keep its data");
    r.poke(P + 8, 77);
    check_eq!(r.peek(P + 8), 77, "the replacement page is writable");
    // Replace everything with a file mapping: the file's bytes appear.
    let f = TmpFile::create(c"/tmp/armmap-mmap-fixed", 3 * P)?;
    check_eq!(map(a, 3 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, f.fd, 0), Ok(a), "MAP_FIXED file mapping over all");
    for p in 0..3 {
        check_eq!(r.peek8(p * P + 64), pattern(p * P + 64), "page {p} after the file replaced it");
    }
    Ok(())
}

fn fixed_noreplace_eexist() -> TestResult {
    let a = slot(3);
    let r = Region::anon(a, 2 * P, RW, MAP_PRIVATE | MAP_FIXED)?;
    r.poke(0, tag(3, 0));
    r.poke(P, tag(3, 1));
    // qemu-user 7.2 treats MAP_FIXED_NOREPLACE as a hint and maps elsewhere.
    for (addr, len, what) in [(a, P, "over a mapped page"), (a + P, 2 * P, "overlapping the last page")] {
        let r = map_anon(addr, len, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE);
        match check_qemu_differs!(r, Err(Errno::EEXIST), "MAP_FIXED_NOREPLACE {what}") {
            Ok(got) if got + len <= a || got >= a + 2 * P => unmap(got, len)?,
            Ok(got) => fail!("MAP_FIXED_NOREPLACE {what} returned {got:#x}: it replaced the mapping"),
            Err(_) => {}
        }
    }
    check_eq!(r.peek(0), tag(3, 0), "data in the existing mapping");
    check_eq!(r.peek(P), tag(3, 1), "data in the existing mapping");
    // On a free range it places the mapping exactly there.
    let b = a + 16 * P;
    let s = Region::anon(b, 2 * P, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE)?;
    check_eq!(s.addr, b, "MAP_FIXED_NOREPLACE on a free range");
    check_eq!(s.peek(P), 0);
    Ok(())
}

fn free_hint_honoured() -> TestResult {
    let mut buf = [0u8; 16384];
    let text = read_maps(&mut buf)?;
    if let Some(l) = maps_overlapping(text, HINT_ADDR, HINT_ADDR + 3 * P).next() {
        fail!("the hint range is not free: {l:?}");
    }
    let r = Region::anon(HINT_ADDR, 3 * P, RW, MAP_PRIVATE)?;
    check_eq!(r.addr, HINT_ADDR, "mmap with the free hint {HINT_ADDR:#x} (no MAP_FIXED)");
    r.poke(P, 0x1234);
    // The same hint again is taken: the kernel must go elsewhere and leave the first mapping alone.
    let s = Region::anon(HINT_ADDR, P, RW, MAP_PRIVATE)?;
    check!(
        s.addr + P <= HINT_ADDR || s.addr >= HINT_ADDR + 3 * P,
        "second mapping at {:#x} overlaps the first",
        s.addr
    );
    check_eq!(r.peek(P), 0x1234, "the first mapping's data");
    Ok(())
}

fn anonymous_ignores_fd() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-anonfd", P)?;
    for fd in [-1, 12345, f.fd] {
        let r = match Region::map(0, 2 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, fd, 0) {
            Ok(r) => r,
            Err(e) => fail!("MAP_ANONYMOUS with fd {fd}: {e}"),
        };
        // Zero-filled (not the file's bytes) and writable.
        check_eq!(r.peek(0), 0, "first word of an anonymous mapping made with fd {fd}");
        check_eq!(r.peek8(1), 0, "anonymous mapping made with fd {fd} shows the file");
        r.poke(P, 5);
        check_eq!(r.peek(P), 5);
    }
    Ok(())
}

fn bad_fd_ebadf() -> TestResult {
    check_eq!(map(0, P, PROT_READ, MAP_PRIVATE, 999, 0), Err(Errno::EBADF), "fd 999");
    check_eq!(map(0, P, PROT_READ, MAP_SHARED, -1, 0), Err(Errno::EBADF), "fd -1 without MAP_ANONYMOUS");
    let fd = {
        let f = TmpFile::create(c"/tmp/armmap-mmap-badfd", P)?;
        f.fd
    };
    check_eq!(map(0, P, PROT_READ, MAP_PRIVATE, fd, 0), Err(Errno::EBADF), "a closed fd");
    Ok(())
}

fn rdonly_file_shared_write_eacces() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-rdonly", P)?;
    let fd = f.open(O_RDONLY)?;
    check_eq!(map(0, P, RW, MAP_SHARED, fd, 0), Err(Errno::EACCES), "MAP_SHARED | PROT_WRITE of an O_RDONLY fd");
    // Reading it shared is fine; writing privately is fine and stays private.
    let r = Region::map(0, P, PROT_READ, MAP_SHARED, fd, 0)?;
    check_eq!(r.peek8(7), pattern(7));
    let w = Region::map(0, P, RW, MAP_PRIVATE, fd, 0)?;
    w.poke8(7, 0);
    check_eq!(w.peek8(7), 0, "store to a private writable mapping of an O_RDONLY fd");
    check_eq!(f.byte(7)?, pattern(7), "the private store reached the file");
    fs::close(fd)?;
    Ok(())
}

fn wronly_file_eacces() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-wronly", P)?;
    let fd = f.open(O_WRONLY)?;
    for (prot, flags) in [(RW, MAP_SHARED), (PROT_WRITE, MAP_SHARED), (PROT_READ, MAP_SHARED), (PROT_READ, MAP_PRIVATE)]
    {
        check_eq!(
            map(0, P, prot, flags, fd, 0),
            Err(Errno::EACCES),
            "prot {prot:#x} flags {flags:#x} of an O_WRONLY fd"
        );
    }
    fs::close(fd)?;
    Ok(())
}

fn length_overflow_enomem() -> TestResult {
    // Rounding the length up to a page wraps around to 0.
    check_eq!(map_anon(0, usize::MAX - 100, RW, MAP_PRIVATE), Err(Errno::ENOMEM), "length 2^64 - 101");
    // Larger than the whole user address space.
    check_eq!(map_anon(0, 1 << 48, RW, MAP_PRIVATE), Err(Errno::ENOMEM), "length 2^48");
    Ok(())
}

fn prot_none_read_sigsegv() -> TestResult {
    let r = Region::anon(0, P, PROT_NONE, MAP_PRIVATE)?;
    check_killed(access_in_child(&r, 0, false)?, SIGSEGV, "load from a PROT_NONE page")?;
    check_killed(access_in_child(&r, P - 8, false)?, SIGSEGV, "load from the end of a PROT_NONE page")?;
    Ok(())
}

/// `mov w0, #42; ret`
const CODE_RETURN_42: [u32; 2] = [0x5280_0540, 0xd65f_03c0];

/// Calls the code at `addr` (in a child: it may fault) and returns the status.
fn call_in_child(addr: usize) -> Result<i32, Failed> {
    in_faulting_child(|| {
        // SAFETY: `addr` holds `CODE_RETURN_42`, a complete function with
        // the C calling convention that touches nothing; if its page is
        // not executable this child takes a signal.
        let f = unsafe { core::mem::transmute::<usize, extern "C" fn() -> u32>(addr) };
        f() as i32
    })
}

fn prot_exec_mapping_runs_code() -> TestResult {
    // Anonymous executable mappings are accepted.
    let x = Region::anon(0, P, PROT_READ | PROT_EXEC, MAP_PRIVATE)?;
    check_eq!(x.peek(0), 0, "fresh PROT_READ|PROT_EXEC anonymous memory");
    let xo = Region::anon(0, P, PROT_EXEC, MAP_PRIVATE)?;
    check_eq!(xo.addr % P, 0);
    // Code written to a file and mapped PROT_EXEC runs (the kernel, which
    // wrote the page, keeps the instruction cache coherent).
    let f = TmpFile::create(c"/tmp/armmap-mmap-code", P)?;
    let mut code = [0u8; 8];
    code[..4].copy_from_slice(&CODE_RETURN_42[0].to_le_bytes());
    code[4..].copy_from_slice(&CODE_RETURN_42[1].to_le_bytes());
    check_eq!(fs::pwrite(f.fd, &code, 0)?, 8);
    let c = Region::map(0, P, PROT_READ | PROT_EXEC, MAP_PRIVATE, f.fd, 0)?;
    let status = call_in_child(c.addr)?;
    check!(
        wifexited(status) && wexitstatus(status) == 42,
        "calling code in a PROT_EXEC file mapping: child {}, expected exit status 42",
        ExitStatus(status)
    );
    Ok(())
}

fn exec_from_non_exec_mapping_sigsegv() -> TestResult {
    let r = Region::anon(0, P, RW, MAP_PRIVATE)?;
    r.poke(0, u64::from(CODE_RETURN_42[0]) | (u64::from(CODE_RETURN_42[1]) << 32));
    check_killed(call_in_child(r.addr)?, SIGSEGV, "calling code in a PROT_READ|PROT_WRITE mapping")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// B. The memdev device nodes (armmap only)
// ---------------------------------------------------------------------------

/// The memdev buffer's physical address, from `/proc/memdev`.
fn memdev_base() -> Result<usize, Failed> {
    let mut buf = [0u8; 128];
    let text = read_text(c"/proc/memdev", &mut buf)?;
    let mut f = text.split_ascii_whitespace();
    match f.next().filter(|a| a.starts_with("0x")).and_then(util::parse_hex) {
        Some(a) => Ok(a as usize),
        None => fail!("/proc/memdev: no 0x<hex> address in {text:?}"),
    }
}

fn proc_memdev_address_and_size() -> TestResult {
    if !user::util::armmap_only("/proc/memdev") {
        return Ok(());
    }
    let mut buf = [0u8; 128];
    let text = read_text(c"/proc/memdev", &mut buf)?;
    println!("  /proc/memdev: {:?}", text);
    check!(text.ends_with('\n') && text.lines().count() == 1, "not one line: {text:?}");
    let fields: [Option<&str>; 3] = {
        let mut f = text.split_ascii_whitespace();
        [f.next(), f.next(), f.next()]
    };
    let (Some(addr), Some(size), None) = (fields[0], fields[1], fields[2]) else {
        fail!("expected `<address> <size>`, got {text:?}")
    };
    check!(addr.starts_with("0x"), "address without 0x: {addr:?}");
    let Some(base) = util::parse_hex(addr) else { fail!("bad hex address {addr:?}") };
    check_eq!(size.parse::<u64>().ok(), Some(MEMDEV_SIZE as u64), "size in bytes with memdev=4M");
    check_eq!(base % BLOCK_2M as u64, 0, "buffer address {base:#x} is not 2 MiB aligned");
    check!(base >= 0x4000_0000, "buffer address {base:#x} below RAM");
    Ok(())
}

fn memdev_fstat_size() -> TestResult {
    if !user::util::armmap_only("/dev/memdev") {
        return Ok(());
    }
    for path in [c"/dev/memdev", c"/dev/memdev-lazy"] {
        let fd = fs::open(path, O_RDONLY, 0)?;
        let st = fs::fstat(fd)?;
        fs::close(fd)?;
        check_eq!(st.st_size, MEMDEV_SIZE as i64, "st_size of {path:?}");
        check_eq!(st.st_mode & S_IFMT, S_IFCHR, "{path:?} is not a character device (mode {:#o})", st.st_mode);
    }
    Ok(())
}

fn memdev_greeting() -> TestResult {
    if !user::util::armmap_only("/dev/memdev") {
        return Ok(());
    }
    let fd = fs::open(c"/dev/memdev", O_RDWR, 0)?;
    let m = Region::map(0, P, RW, MAP_SHARED, fd, 0)?;
    let mut saved = [0u8; 256];
    for (i, b) in saved.iter_mut().enumerate() {
        *b = m.peek8(i);
    }
    let Some(nul) = saved.iter().position(|&b| b == 0) else {
        fail!("no NUL in the first 256 bytes of /dev/memdev: {:?}", &saved[..64])
    };
    let greeting = core::str::from_utf8(&saved[..nul]).unwrap_or("(not UTF-8)");
    println!("  greeting: {greeting:?}");
    check!(greeting.starts_with("armmap:"), "the buffer does not start with \"armmap:\": {:?}", &saved[..nul.min(64)]);
    check!(saved[..nul].iter().all(|b| (0x20..0x7f).contains(b)), "greeting not printable: {:?}", &saved[..nul]);
    // A store through the mapping is what read() of the device sees.
    let scratch = b"armmap-test: scratch\0";
    for (i, &b) in scratch.iter().enumerate() {
        m.poke8(i, b);
    }
    let mut seen = [0u8; 32];
    let n = fs::pread(fd, &mut seen, 0);
    // Put the greeting back before checking anything.
    for (i, &b) in saved[..=nul].iter().enumerate() {
        m.poke8(i, b);
    }
    let mut after = [0u8; 256];
    let n2 = fs::pread(fd, &mut after, 0);
    fs::close(fd)?;
    check_eq!(n, Ok(seen.len()), "pread of /dev/memdev");
    check_eq!(&seen[..scratch.len()], &scratch[..], "pread after storing through the mapping");
    check_eq!(n2, Ok(after.len()));
    check_eq!(&after[..=nul], &saved[..=nul], "the greeting after restoring it");
    Ok(())
}

fn memdev_eager_no_faults() -> TestResult {
    if !user::util::armmap_only("/dev/memdev") {
        return Ok(());
    }
    let fd = fs::open(c"/dev/memdev", O_RDWR, 0)?;
    let v0 = vmstat()?;
    let s0 = mmstat()?;
    let m = Region::map(0, MEMDEV_SIZE, RW, MAP_SHARED, fd, 0)?;
    let v1 = vmstat()?;
    let s1 = mmstat()?;
    check_eq!(
        v1.eager_blocks_2m.wrapping_sub(v0.eager_blocks_2m),
        2,
        "eager_blocks_2m grew by this for a 4 MiB /dev/memdev mapping at {:#x}",
        m.addr
    );
    check_eq!(v1.eager_pages.wrapping_sub(v0.eager_pages), MEMDEV_PAGES as u64, "vmstat eager_pages growth");
    check_eq!(s1.eager_pages.wrapping_sub(s0.eager_pages), MEMDEV_PAGES as u64, "mmstat eager_pages growth");
    for p in 0..MEMDEV_PAGES {
        m.poke(p * P + TOUCH_OFF, tag(0xe1, p));
    }
    let s2 = mmstat()?;
    check_eq!(s2.minflt, s1.minflt, "page faults while storing once to each of the {MEMDEV_PAGES} pages");
    // The stores went to the buffer: read() of the device sees them.
    for p in 0..MEMDEV_PAGES {
        let mut w = [0u8; 8];
        check_eq!(fs::pread(fd, &mut w, (p * P + TOUCH_OFF) as u64)?, 8);
        check_eq!(u64::from_le_bytes(w), tag(0xe1, p), "pread of page {p}'s word");
    }
    fs::close(fd)?;
    Ok(())
}

fn memdev_lazy_one_fault_per_page() -> TestResult {
    if !user::util::armmap_only("/dev/memdev-lazy") {
        return Ok(());
    }
    let fd = fs::open(c"/dev/memdev-lazy", O_RDWR, 0)?;
    let v0 = vmstat()?;
    let s0 = mmstat()?;
    let m = Region::map(0, MEMDEV_SIZE, RW, MAP_SHARED, fd, 0)?;
    fs::close(fd)?;
    let v1 = vmstat()?;
    let s1 = mmstat()?;
    check_eq!(v1.eager_blocks_2m, v0.eager_blocks_2m, "a lazy mapping used 2 MiB blocks");
    check_eq!(s1.eager_pages, s0.eager_pages, "a lazy mapping was mapped eagerly");
    for p in 0..MEMDEV_PAGES {
        m.poke(p * P + TOUCH_OFF, tag(0x1a, p));
    }
    let s2 = mmstat()?;
    for p in 0..MEMDEV_PAGES {
        m.poke(p * P + TOUCH_OFF + 8, tag(0x1b, p));
    }
    let s3 = mmstat()?;
    check_eq!(s2.minflt.wrapping_sub(s1.minflt), MEMDEV_PAGES as u64, "faults for one store to each page");
    check_eq!(s3.minflt, s2.minflt, "faults for a second store to each page");
    // The same buffer as /dev/memdev.
    let fd = fs::open(c"/dev/memdev", O_RDONLY, 0)?;
    let e = Region::map(0, MEMDEV_SIZE, PROT_READ, MAP_SHARED, fd, 0)?;
    fs::close(fd)?;
    for p in 0..MEMDEV_PAGES {
        check_eq!(e.peek(p * P + TOUCH_OFF), tag(0x1a, p), "page {p} through /dev/memdev");
    }
    Ok(())
}

/// Child of `memdev_seen_by_child_via_lazy_and_dev_mem`: checks the words the
/// parent stored at pages 3 and 768 through `/dev/memdev-lazy` and `/dev/mem`,
/// and stores one back through `/dev/mem`. Returns 0 or which step failed.
fn memdev_child(base: usize, a: usize, b: usize) -> i32 {
    let Ok(fd) = fs::open(c"/dev/memdev-lazy", O_RDONLY, 0) else { return 10 };
    let Ok(l) = Region::map(0, MEMDEV_SIZE, PROT_READ, MAP_SHARED, fd, 0) else { return 11 };
    let _ = fs::close(fd);
    if l.peek(a) != tag(0x5c, 1) || l.peek(b) != tag(0x5c, 2) {
        println!("  child: /dev/memdev-lazy shows {:#x} and {:#x}", l.peek(a), l.peek(b));
        return 12;
    }
    let Ok(fd) = fs::open(c"/dev/mem", O_RDWR, 0) else { return 13 };
    let pa = |off: usize| ((base + off) & !(P - 1)) as u64;
    let (Ok(d1), Ok(d2)) =
        (Region::map(0, P, RW, MAP_SHARED, fd, pa(a)), Region::map(0, P, PROT_READ, MAP_SHARED, fd, pa(b)))
    else {
        return 14;
    };
    let _ = fs::close(fd);
    if d1.peek(a % P) != tag(0x5c, 1) || d2.peek(b % P) != tag(0x5c, 2) {
        println!("  child: /dev/mem shows {:#x} and {:#x}", d1.peek(a % P), d2.peek(b % P));
        return 15;
    }
    d1.poke(a % P + 8, tag(0x5c, 3));
    0
}

fn memdev_seen_by_child_via_lazy_and_dev_mem() -> TestResult {
    if !user::util::armmap_only("/dev/memdev, /dev/memdev-lazy and /dev/mem") {
        return Ok(());
    }
    let base = memdev_base()?;
    let fd = fs::open(c"/dev/memdev", O_RDWR, 0)?;
    let m = Region::map(0, MEMDEV_SIZE, RW, MAP_SHARED, fd, 0)?;
    fs::close(fd)?;
    // One word in each 2 MiB half.
    let (a, b) = (3 * P + TOUCH_OFF, 768 * P + TOUCH_OFF + 16);
    m.poke(a, tag(0x5c, 1));
    m.poke(b, tag(0x5c, 2));
    m.poke(a + 8, 0);
    let status = in_child(|| memdev_child(base, a, b))?;
    check_exit0(
        status,
        "child reading through /dev/memdev-lazy and /dev/mem (10-11: lazy open/map, 12: lazy data, 13-14: /dev/mem open/map, 15: /dev/mem data)",
    )?;
    check_eq!(m.peek(a + 8), tag(0x5c, 3), "the child's store through /dev/mem, seen through /dev/memdev");
    Ok(())
}

fn dev_mem_outside_buffer_eperm() -> TestResult {
    if !user::util::armmap_only("/dev/mem") {
        return Ok(());
    }
    let base = memdev_base()?;
    let fd = fs::open(c"/dev/mem", O_RDWR, 0)?;
    let outside = [
        (0x4000_0000, P, "the start of RAM"),
        (base - P, P, "the page below the buffer"),
        (base + MEMDEV_SIZE, P, "the page after the buffer"),
        (base + MEMDEV_SIZE - P, 2 * P, "a range running past the buffer's end"),
    ];
    for (pa, len, what) in outside {
        if pa == base {
            continue;
        }
        check_eq!(map(0, len, PROT_READ, MAP_SHARED, fd, pa as u64), Err(Errno::EPERM), "/dev/mem at {pa:#x}: {what}");
    }
    let ok = Region::map(0, P, PROT_READ, MAP_SHARED, fd, base as u64);
    check!(ok.is_ok(), "/dev/mem at the buffer's address {base:#x}: {:?}", ok.as_ref().err());
    fs::close(fd)?;
    Ok(())
}

fn memdev_past_end_einval() -> TestResult {
    if !user::util::armmap_only("/dev/memdev") {
        return Ok(());
    }
    for path in [c"/dev/memdev", c"/dev/memdev-lazy"] {
        let fd = fs::open(path, O_RDWR, 0)?;
        let end = MEMDEV_SIZE as u64;
        check_eq!(map(0, P, RW, MAP_SHARED, fd, end), Err(Errno::EINVAL), "{path:?} at offset 4 MiB");
        check_eq!(map(0, 2 * P, RW, MAP_SHARED, fd, end - P as u64), Err(Errno::EINVAL), "{path:?} across its end");
        check_eq!(map(0, MEMDEV_SIZE + P, RW, MAP_SHARED, fd, 0), Err(Errno::EINVAL), "{path:?}, 4 MiB + 4 KiB");
        let last = Region::map(0, P, RW, MAP_SHARED, fd, end - P as u64);
        check!(last.is_ok(), "{path:?}: the last page: {:?}", last.as_ref().err());
        fs::close(fd)?;
    }
    Ok(())
}

fn rusage_minflt_matches_mmstat() -> TestResult {
    let r = Region::anon(0, 8 * P, RW, MAP_PRIVATE)?;
    let on_armmap = user::util::on_armmap();
    // A first round makes the stack pages these calls use resident.
    for round in 0..2 {
        let before = time::getrusage(RUSAGE_SELF)?.ru_minflt as u64;
        let s0 = if on_armmap { Some(mmstat()?) } else { None };
        for p in 0..8 {
            r.poke(p * P + 8 * round, 1);
        }
        let s1 = if on_armmap { Some(mmstat()?) } else { None };
        let after = time::getrusage(RUSAGE_SELF)?.ru_minflt as u64;
        if round == 0 {
            check!(after >= before + 8, "ru_minflt grew from {before} to {after} for 8 fresh pages");
            if let (Some(s0), Some(s1)) = (s0, s1) {
                check_eq!(s1.minflt - s0.minflt, 8, "mmstat minflt growth for stores to 8 fresh pages");
                check_eq!(after, s1.minflt, "ru_minflt against mmstat's minflt");
            }
        } else if let (Some(s0), Some(s1)) = (s0, s1) {
            check_eq!(before, s0.minflt, "ru_minflt against mmstat's minflt");
            check_eq!(s1.minflt, s0.minflt, "faults for stores to 8 resident pages");
            check_eq!(after, s1.minflt, "ru_minflt against mmstat's minflt");
        }
    }
    if !on_armmap {
        println!("  note: not on armmap, /proc/self/mmstat comparison skipped");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// C. Shared and private mappings
// ---------------------------------------------------------------------------

fn shared_anonymous_shared_with_children() -> TestResult {
    let r = Region::anon(0, 2 * P, RW, MAP_SHARED)?;
    r.poke(0, 1);
    // The child stores to a page touched before the fork and to one that was not.
    let status = in_child(|| {
        r.poke(8, 0xc1);
        r.poke(P + 16, 0xc2);
        0
    })?;
    check_exit0(status, "first child storing")?;
    check_eq!(r.peek(8), 0xc1, "the child's store to the touched page");
    check_eq!(r.peek(P + 16), 0xc2, "the child's store to the untouched page");
    check_eq!(r.peek(0), 1);
    // The parent stores; a second child sees it.
    r.poke(24, 0xa1);
    r.poke(P + 32, 0xa2);
    let status = in_child(|| i32::from(!(r.peek(24) == 0xa1 && r.peek(P + 32) == 0xa2 && r.peek(8) == 0xc1)))?;
    check_exit0(status, "second child checking the parent's stores (1: it did not see them)")?;
    Ok(())
}

fn private_anonymous_cow_after_fork() -> TestResult {
    let r = Region::anon(0, 2 * P, RW, MAP_PRIVATE)?;
    r.poke(0, 0x11); // Page 0 is resident before the fork, page 1 is not.
    let flags = mm::map_anonymous_words(2, true)?;
    let (child_stored, parent_stored) = (&flags[0], &flags[1]);
    let child = process::fork_run(|| {
        r.poke(0, 0xc0);
        r.poke(P, 0xc1);
        child_stored.store(1, Ordering::Release);
        if !wait_flag(parent_stored, 1) {
            return 3;
        }
        if r.peek(0) == 0xc0 && r.peek(P) == 0xc1 {
            0
        } else {
            println!("  child: sees {:#x} {:#x}", r.peek(0), r.peek(P));
            2
        }
    })?;
    let waited = wait_flag(child_stored, 1);
    r.poke(0, 0xa0);
    r.poke(P, 0xa1);
    parent_stored.store(1, Ordering::Release);
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child);
    check!(waited, "the child never said it had stored");
    check_exit0(status, "child checking its own values (2: it saw the parent's, 3: timeout)")?;
    check_eq!(r.peek(0), 0xa0, "parent's page 0 after the child stored");
    check_eq!(r.peek(P), 0xa1, "parent's page 1 after the child stored");
    Ok(())
}

fn private_anonymous_zero_filled() -> TestResult {
    let a = slot(4);
    for flags in [MAP_PRIVATE | MAP_FIXED, MAP_SHARED | MAP_FIXED] {
        let r = Region::anon(a, 16 * P, RW, flags)?;
        for off in (0..16 * P).step_by(8) {
            check_eq!(r.peek(off), 0, "word at {off:#x} of a fresh mapping (flags {flags:#x})");
        }
        for off in (0..16 * P).step_by(512) {
            r.poke(off, !0);
        }
        // Dropping `r` unmaps it; the next round maps the same range again.
    }
    let r = Region::anon(a, 16 * P, RW, MAP_PRIVATE | MAP_FIXED)?;
    for off in (0..16 * P).step_by(8) {
        check_eq!(r.peek(off), 0, "word at {off:#x} of memory mapped again at the same address");
    }
    Ok(())
}

fn private_file_mapping_copy_on_write() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-private", 2 * P)?;
    let shared = Region::map(0, 2 * P, PROT_READ, MAP_SHARED, f.fd, 0)?;
    let private = Region::map(0, 2 * P, RW, MAP_PRIVATE, f.fd, 0)?;
    for i in 0..2 * P {
        check_eq!(private.peek8(i), pattern(i), "byte {i} of the private mapping before any store");
    }
    private.poke8(100, 0xaa);
    private.poke8(P + 5, 0xbb);
    check_eq!(private.peek8(100), 0xaa);
    check_eq!(private.peek8(P + 5), 0xbb);
    check_eq!(f.byte(100)?, pattern(100), "read() sees the private store");
    check_eq!(f.byte(P + 5)?, pattern(P + 5), "read() sees the private store");
    check_eq!(shared.peek8(100), pattern(100), "a shared mapping sees the private store");
    check_eq!(shared.peek8(P + 5), pattern(P + 5), "a shared mapping sees the private store");
    // Once copied, the private page no longer follows the file.
    check_eq!(fs::pwrite(f.fd, &[0x77], 200)?, 1);
    check_eq!(shared.peek8(200), 0x77, "the shared mapping after write()");
    check_eq!(private.peek8(200), pattern(200), "the private (copied) page after write()");
    check_eq!(private.peek8(101), pattern(101), "the rest of the private page");
    Ok(())
}

/// A file keeps its pages while a mapping holds them, even after its last
/// name is gone: the mapping still reads the old data and takes stores, and
/// a new file of the same name is a different file.
fn mapping_outlives_unlink() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-unlinked", 2 * P)?;
    let r = Region::map(0, 2 * P, RW, MAP_SHARED, f.fd, 0)?;
    r.poke8(5, 0x5a);
    fs::unlink(f.path)?;
    check_eq!(r.peek8(5), 0x5a, "data through the mapping after unlink");
    r.poke8(P + 5, 0x5b);
    check_eq!(r.peek8(P + 5), 0x5b, "a store through the mapping after unlink");
    // The descriptor still reaches the same (nameless) file.
    check_eq!(f.byte(P + 5)?, 0x5b, "read() of the unlinked file");
    let g = TmpFile::create(c"/tmp/armmap-mmap-unlinked", P)?;
    check_ne!(g.byte(5)?, 0x5a, "a new file under the old name holds the old data");
    check_eq!(r.peek8(5), 0x5a, "the old mapping after the name was reused");
    Ok(())
}

/// Writing a pid to `/proc/dumpmaps` logs that process's areas (the test
/// run checks the kernel log for the memdev area with its two 2 MiB
/// blocks); a pid that does not exist is ESRCH, text that is no pid EINVAL.
fn proc_dumpmaps_logs_areas() -> TestResult {
    if !user::util::armmap_only("/proc/dumpmaps") {
        return Ok(());
    }
    let dev = fs::open(c"/dev/memdev", O_RDWR, 0)?;
    let r = Region::map(0, 4 << 20, RW, MAP_SHARED, dev, 0)?;
    fs::close(dev)?;
    let f = fs::open(c"/proc/dumpmaps", O_WRONLY, 0)?;
    let mut pid = user::util::FmtBuf::<16>::new();
    let _ = core::fmt::Write::write_fmt(&mut pid, format_args!("{}", user::getpid()));
    check_eq!(fs::write(f, pid.as_str().as_bytes()), Ok(pid.as_str().len()), "write of our pid");
    check_eq!(fs::write(f, b"999999"), Err(Errno::ESRCH), "a pid that does not exist");
    check_eq!(fs::write(f, b"seven"), Err(Errno::EINVAL), "not a pid");
    fs::close(f)?;
    drop(r);
    Ok(())
}

fn shared_file_mapping_seen_by_read() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-shared", 2 * P)?;
    let r = Region::map(0, 2 * P, RW, MAP_SHARED, f.fd, 0)?;
    let other = Region::map(0, 2 * P, PROT_READ, MAP_SHARED, f.fd, 0)?;
    r.poke8(10, 0x42);
    r.poke8(P + 10, 0x43);
    // No msync, no munmap: read() sees the stores at once.
    check_eq!(f.byte(10)?, 0x42, "read() after a store through a shared mapping");
    check_eq!(f.byte(P + 10)?, 0x43, "read() after a store through a shared mapping");
    check_eq!(other.peek8(10), 0x42, "another shared mapping of the file");
    // And a write() is seen through the mapping.
    check_eq!(fs::pwrite(f.fd, &[0x44], 20)?, 1);
    check_eq!(r.peek8(20), 0x44, "the mapping after write()");
    // The mapping outlives the descriptor it was made with.
    let fd2 = f.open(O_RDWR)?;
    let m2 = Region::map(0, P, RW, MAP_SHARED, fd2, P as u64)?;
    fs::close(fd2)?;
    m2.poke8(30, 0x45);
    check_eq!(f.byte(P + 30)?, 0x45, "a store through a mapping whose fd was closed");
    Ok(())
}

// ---------------------------------------------------------------------------
// D. munmap and mprotect
// ---------------------------------------------------------------------------

fn munmap_middle_page_splits_area() -> TestResult {
    let a = slot(5);
    let r = Region::anon(a, 3 * P, RW, MAP_PRIVATE | MAP_FIXED)?;
    for p in 0..3 {
        r.poke(p * P, tag(5, p));
    }
    unmap(a + P, P)?;
    let mut buf = [0u8; 16384];
    let text = read_maps(&mut buf)?;
    let mut found = [false; 2];
    for l in maps_overlapping(text, a, a + 3 * P) {
        if l.start == a && l.end == a + P && l.perms == "rw-p" {
            found[0] = true;
        } else if l.start == a + 2 * P && l.end == a + 3 * P && l.perms == "rw-p" {
            found[1] = true;
        } else {
            fail!("unexpected /proc/self/maps line after munmap of the middle page: {l:?}");
        }
    }
    check!(found == [true, true], "the two areas left (found {found:?}) in:\n{text}");
    check_killed(access_in_child(&r, P, false)?, SIGSEGV, "load from the unmapped middle page")?;
    check_eq!(r.peek(0), tag(5, 0), "page 0 after munmap of page 1");
    check_eq!(r.peek(2 * P), tag(5, 2), "page 2 after munmap of page 1");
    Ok(())
}

fn munmap_unmapped_range_ok() -> TestResult {
    let a = slot(6);
    check_eq!(unmap(a, 16 * P), Ok(()), "munmap of a range with nothing mapped");
    // A range with something in it: only that goes.
    let r = Region::anon(a + P, P, RW, MAP_PRIVATE | MAP_FIXED)?;
    r.poke(0, 1);
    check_eq!(unmap(a, 4 * P), Ok(()), "munmap of a range holding one mapped page");
    check_killed(access_in_child(&r, 0, false)?, SIGSEGV, "load from the page after munmap")?;
    Ok(())
}

fn munmap_bad_args_einval() -> TestResult {
    let a = slot(7);
    let r = Region::anon(a, 2 * P, RW, MAP_PRIVATE | MAP_FIXED)?;
    r.poke(0, 9);
    check_eq!(unmap(a + 1, P), Err(Errno::EINVAL), "munmap at an unaligned address");
    check_eq!(unmap(a, 0), Err(Errno::EINVAL), "munmap of length 0");
    check_eq!(unmap(0xffff_0000_0000_0000, P), Err(Errno::EINVAL), "munmap of a kernel address");
    check_eq!(r.peek(0), 9, "the mapping after the failed munmaps");
    Ok(())
}

fn mprotect_bad_args() -> TestResult {
    let a = slot(8);
    let r = Region::anon(a, P, RW, MAP_PRIVATE | MAP_FIXED)?;
    check_eq!(protect(a + 1, P, PROT_READ), Err(Errno::EINVAL), "mprotect at an unaligned address");
    check_eq!(protect(a + 1, 0, PROT_READ), Err(Errno::EINVAL), "mprotect at an unaligned address, length 0");
    // qemu-user 7.2 says ENOMEM here.
    let _ = check_qemu_differs!(protect(a, 0, PROT_READ), Ok(()), "mprotect of length 0");
    check_eq!(protect(a + 4 * P, P, PROT_READ), Err(Errno::ENOMEM), "mprotect of an unmapped page");
    check_eq!(protect(a, P, PROT_READ | 0x100), Err(Errno::EINVAL), "mprotect with an unknown prot bit");
    // None of that may have changed the page's protection.
    check_exit0(access_in_child(&r, 0, true)?, "store after the failed mprotect calls")?;
    // A range with a hole: ENOMEM. (Linux may already have changed the
    // areas before the hole, so that range is not touched afterwards.)
    let b = slot(10);
    let _first = Region::anon(b, P, RW, MAP_PRIVATE | MAP_FIXED)?;
    let _third = Region::anon(b + 2 * P, P, RW, MAP_PRIVATE | MAP_FIXED)?;
    check_eq!(protect(b, 3 * P, PROT_READ), Err(Errno::ENOMEM), "mprotect over a hole");
    Ok(())
}

fn mprotect_prot_sem_accepted() -> TestResult {
    let r = Region::anon(0, P, RW, MAP_PRIVATE)?;
    check_eq!(
        protect(r.addr, P, RW | PROT_SEM),
        Ok(()),
        "mprotect(PROT_READ|PROT_WRITE|PROT_SEM) (arm64 Linux accepts PROT_SEM)"
    );
    r.poke(0, 1);
    check_eq!(r.peek(0), 1);
    Ok(())
}

fn write_to_read_only_sigsegv() -> TestResult {
    let r = Region::anon(0, P, PROT_READ, MAP_PRIVATE)?;
    check_exit0(access_in_child(&r, 0, false)?, "load from a PROT_READ page")?;
    check_killed(access_in_child(&r, 0, true)?, SIGSEGV, "store to a PROT_READ anonymous page")?;
    check_eq!(r.peek(0), 0);
    let f = TmpFile::create(c"/tmp/armmap-mmap-ro", P)?;
    let m = Region::map(0, P, PROT_READ, MAP_SHARED, f.fd, 0)?;
    check_killed(access_in_child(&m, 8, true)?, SIGSEGV, "store to a PROT_READ shared file page")?;
    check_eq!(f.byte(8)?, pattern(8), "the file after the failed store");
    Ok(())
}

fn write_to_prot_none_sigsegv() -> TestResult {
    let r = Region::anon(0, 2 * P, PROT_NONE, MAP_PRIVATE)?;
    check_killed(access_in_child(&r, 0, true)?, SIGSEGV, "store to a PROT_NONE page")?;
    check_killed(access_in_child(&r, P + 8, true)?, SIGSEGV, "store to a PROT_NONE page")?;
    Ok(())
}

fn mprotect_keeps_data() -> TestResult {
    let r = Region::anon(0, 4 * P, RW, MAP_PRIVATE)?;
    for p in 0..4 {
        r.poke(p * P, tag(9, p));
    }
    protect(r.addr, 4 * P, PROT_READ)?;
    check_eq!(r.peek(2 * P), tag(9, 2), "data after mprotect(PROT_READ)");
    check_killed(access_in_child(&r, P, true)?, SIGSEGV, "store after mprotect(PROT_READ)")?;
    protect(r.addr + P, P, PROT_NONE)?;
    check_killed(access_in_child(&r, P, false)?, SIGSEGV, "load after mprotect(PROT_NONE)")?;
    protect(r.addr, 4 * P, RW)?;
    for p in 0..4 {
        check_eq!(r.peek(p * P), tag(9, p), "page {p} after mprotect back to PROT_READ|PROT_WRITE");
    }
    r.poke(P + 8, 7);
    check_eq!(r.peek(P + 8), 7, "store after mprotect back to PROT_READ|PROT_WRITE");
    Ok(())
}

fn mprotect_write_rdonly_shared_file_eacces() -> TestResult {
    let f = TmpFile::create(c"/tmp/armmap-mmap-mprot", P)?;
    let fd = f.open(O_RDONLY)?;
    let shared = Region::map(0, P, PROT_READ, MAP_SHARED, fd, 0)?;
    let private = Region::map(0, P, PROT_READ, MAP_PRIVATE, fd, 0)?;
    fs::close(fd)?;
    check_eq!(protect(shared.addr, P, RW), Err(Errno::EACCES), "mprotect(PROT_WRITE) of a shared O_RDONLY mapping");
    check_eq!(protect(shared.addr, P, PROT_READ | PROT_EXEC), Ok(()), "mprotect(PROT_READ|PROT_EXEC)");
    check_eq!(shared.peek8(3), pattern(3));
    // A private mapping of the same fd may become writable; its stores stay private.
    check_eq!(protect(private.addr, P, RW), Ok(()), "mprotect(PROT_WRITE) of a private O_RDONLY mapping");
    private.poke8(3, 0);
    check_eq!(private.peek8(3), 0);
    check_eq!(f.byte(3)?, pattern(3), "the file after a private store");
    Ok(())
}

fn cow_survives_mprotect() -> TestResult {
    let r = Region::anon(0, P, RW, MAP_PRIVATE)?;
    r.poke(0, 0x1111);
    let flag = &mm::map_anonymous_words(1, true)?[0];
    // The parent changes the page's protection and stores; the child must
    // still see the value from before the fork.
    let child = process::fork_run(|| {
        if !wait_flag(flag, 1) {
            return 3;
        }
        match r.peek(0) {
            0x1111 => 0,
            v => {
                println!("  child: sees {v:#x}");
                2
            }
        }
    })?;
    let steps = protect(r.addr, P, PROT_READ).and_then(|()| protect(r.addr, P, RW));
    if steps.is_ok() {
        r.poke(0, 0x2222);
    }
    flag.store(1, Ordering::Release);
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child);
    check_eq!(steps, Ok(()), "mprotect R then RW");
    check_exit0(status, "child reading the private page after the parent's store (2: saw it, 3: timeout)")?;
    check_eq!(r.peek(0), 0x2222, "the parent's own value");
    // The other way round: the child changes protection and stores.
    let status = in_child(|| {
        if protect(r.addr, P, PROT_READ).and_then(|()| protect(r.addr, P, RW)).is_err() {
            return 4;
        }
        r.poke(0, 0x3333);
        i32::from(r.peek(0) != 0x3333)
    })?;
    check_exit0(status, "child doing mprotect R, RW and a store (4: mprotect failed)")?;
    check_eq!(r.peek(0), 0x2222, "the parent's value after the child's store");
    Ok(())
}

// ---------------------------------------------------------------------------
// E. Accounting
// ---------------------------------------------------------------------------

/// Pages the child of `child_memory_freed_on_exit` touches.
const CHILD_PAGES: usize = 1000;

/// One round of `child_memory_freed_on_exit`: returns the free page counts
/// before the fork and after the wait.
fn child_pages_round() -> Result<(u64, u64), Failed> {
    let before = vmstat()?.free;
    let status = in_child(|| {
        let Ok(r) = Region::anon(0, CHILD_PAGES * P, RW, MAP_PRIVATE) else { return 10 };
        for p in 0..CHILD_PAGES {
            r.poke(p * P, tag(0xacc, p));
        }
        if (0..CHILD_PAGES).any(|p| r.peek(p * P) != tag(0xacc, p)) {
            return 11;
        }
        let Ok(now) = vmstat() else { return 12 };
        if before.saturating_sub(now.free) < CHILD_PAGES as u64 {
            println!("  child: free pages {before} before the fork, {} after touching {CHILD_PAGES} pages", now.free);
            return 13;
        }
        0
    })?;
    check_exit0(status, "child touching 1000 pages (11: data, 12: vmstat, 13: free count did not drop by 1000)")?;
    Ok((before, vmstat()?.free))
}

fn child_memory_freed_on_exit() -> TestResult {
    if !user::util::armmap_only("/proc/vmstat nr_free_pages accounting") {
        return Ok(());
    }
    // A warm-up round: kernel heap growth is not given back and not counted.
    let (b0, a0) = child_pages_round()?;
    let (before, after) = child_pages_round()?;
    println!("  free pages: warm-up {b0} -> {a0}, measured {before} -> {after}");
    check_eq!(after, before, "free pages after the child ended");
    let v = vmstat()?;
    check!(v.free < v.total, "nr_free_pages {} not below nr_total_pages {}", v.free, v.total);
    Ok(())
}

fn fork_wait_100_cycles_free_pages_restored() -> TestResult {
    if !user::util::armmap_only("/proc/vmstat nr_free_pages accounting") {
        return Ok(());
    }
    let cycle = |i: i32| -> TestResult {
        let status = in_child(|| i)?;
        check!(wifexited(status) && wexitstatus(status) == i, "cycle {i}: child {}", ExitStatus(status));
        Ok(())
    };
    cycle(0)?; // Warm-up.
    let before = vmstat()?.free;
    for i in 0..100 {
        cycle(i)?;
    }
    let after = vmstat()?.free;
    check_eq!(after, before, "free pages after 100 fork+wait cycles");
    check_eq!(user::wait().map(|(pid, _)| pid), Err(Errno::ECHILD), "children left over");
    Ok(())
}

fn proc_self_maps_lines() -> TestResult {
    let m = MAPS_REGION;
    let f = TmpFile::create(c"/tmp/armmap-mmap-maps", 3 * P)?;
    let anon_rw = Region::anon(m, 2 * P, RW, MAP_PRIVATE | MAP_FIXED)?;
    let anon_none = Region::anon(m + 0x10000, P, PROT_NONE, MAP_PRIVATE | MAP_FIXED)?;
    let file = Region::map(m + 0x20000, 2 * P, RW, MAP_SHARED | MAP_FIXED, f.fd, P as u64)?;
    anon_rw.poke(0, 1);
    file.poke(0, 2);
    // (start, end, perms, offset, path)
    let path = f.path.to_str().unwrap_or("?");
    let expected: [(usize, usize, &str, u64, Option<&str>); 3] = [
        (m, m + 2 * P, "rw-p", 0, None),
        (m + 0x10000, m + 0x10000 + P, "---p", 0, None),
        (m + 0x20000, m + 0x20000 + 2 * P, "rw-s", P as u64, Some(path)),
    ];
    let mut buf = [0u8; 16384];
    let text = read_maps(&mut buf)?;
    let mut seen = 0;
    for l in maps_overlapping(text, m, m + 0x100000) {
        let Some(e) = expected.iter().find(|e| e.0 == l.start) else {
            fail!("unexpected line in the test region: {l:?}\n{text}");
        };
        check_eq!((l.start, l.end, l.perms, l.offset, l.path), *e, "/proc/self/maps line");
        seen += 1;
    }
    check_eq!(seen, expected.len(), "lines for the three mappings in:\n{text}");
    drop((anon_rw, anon_none, file));
    let mut buf = [0u8; 16384];
    let text = read_maps(&mut buf)?;
    if let Some(l) = maps_overlapping(text, m, m + 0x100000).next() {
        fail!("line left after munmap: {l:?}");
    }
    Ok(())
}
