//! `vdso`: on-target tests of armmap's vDSO. The program finds it as libc
//! does (the auxiliary vector's `AT_SYSINFO_EHDR`), reads its ELF dynamic
//! symbol table and version definitions with the small parser below, calls
//! its functions and compares every answer with the system call's. It also
//! checks how the two areas look (`/proc/self/maps`), what a process may do
//! to them (a store into `[vvar]` is SIGSEGV, `mprotect` of `[vvar]` to
//! writable is EACCES, a store into `[vdso]` made writable copies the page
//! for that process alone), that they survive `fork` and `exec` and go with
//! `munmap`, and that frame accounting returns to its baseline.
//!
//! Booted by `cargo xtask test` as `init=/bin/vdso`. Run with the argument
//! `exec-check`, it only checks that its vDSO works (the `exec` case).
//! Under `qemu-aarch64` (no vDSO in its Linux user mode) the cases that need
//! one print a note and pass.
#![no_std]
#![no_main]

use user::env::AT_SYSINFO_EHDR;
use user::errno::Errno;
use user::mm::{self, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE};
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus, SIGSEGV};
use user::syscall::{nr, ret, syscall2};
use user::test::{Failed, Harness, TestResult};
use user::time::{Timespec, Timeval};
use user::{check, check_eq, fail, println, util, Args};

user::entry!(main);

const NR_CLOCK_GETRES: usize = 114;
const NR_GETTIMEOFDAY: usize = 169;
const EINVAL: i32 = 22;

/// The clocks the vDSO computes itself.
const CLOCKS: [i32; 6] = [0, 1, 4, 5, 6, 7];

fn main(args: Args) -> i32 {
    if args.get_str(1) == Some("exec-check") {
        // The new program of the `exec` case: its own vDSO must work.
        return match exec_check() {
            Ok(()) => 0,
            Err(Failed) => 1,
        };
    }
    let mut h = Harness::new("vdso");
    h.case("auxv_points_at_an_elf_shared_object", auxv_points_at_an_elf_shared_object);
    h.case("exports_the_linux_symbols_and_version", exports_the_linux_symbols_and_version);
    h.case("clock_gettime_between_syscalls", clock_gettime_between_syscalls);
    h.case("other_clocks_reach_the_kernel", other_clocks_reach_the_kernel);
    h.case("gettimeofday_between_syscalls", gettimeofday_between_syscalls);
    h.case("clock_getres_is_the_syscalls", clock_getres_is_the_syscalls);
    h.case("maps_show_vvar_and_vdso", maps_show_vvar_and_vdso);
    h.case("data_page_and_counter_readable_at_el0", data_page_and_counter_readable_at_el0);
    h.case("store_to_vvar_is_sigsegv", store_to_vvar_is_sigsegv);
    h.case("vvar_cannot_become_writable", vvar_cannot_become_writable);
    h.case("writable_vdso_copies_for_one_process", writable_vdso_copies_for_one_process);
    h.case("survives_fork", survives_fork);
    h.case("survives_exec", survives_exec);
    h.case("munmap_removes_both", munmap_removes_both);
    h.case("program_over_its_place_runs_without_one", program_over_its_place_runs_without_one);
    h.case("frames_return_to_baseline", frames_return_to_baseline);
    h.finish()
}

// ---- the ELF parser ----

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_RELA: u64 = 7;
const DT_REL: u64 = 17;
const DT_TEXTREL: u64 = 22;
const DT_JMPREL: u64 = 23;
const DT_VERSYM: u64 = 0x6fff_fff0;
const DT_VERDEF: u64 = 0x6fff_fffc;
const STT_FUNC: u8 = 2;
const STB_GLOBAL: u8 = 1;

/// Reads a `T` at address `addr` of this process (the vDSO's bytes).
fn at<T: Copy>(addr: usize) -> T {
    // SAFETY: callers only pass addresses inside the mapped vDSO image
    // (checked against its size by `Vdso::addr`); any bit pattern is a
    // valid integer.
    unsafe { core::ptr::read_unaligned(addr as *const T) }
}

/// The vDSO as the dynamic loader sees it: base, size and the tables its
/// dynamic section names.
struct Vdso {
    base: usize,
    /// Bytes of the PT_LOAD segment (what the parser may read).
    size: usize,
    symtab: usize,
    strtab: usize,
    nsyms: usize,
    versym: usize,
    verdef: usize,
    /// Whether the dynamic section asks for relocations.
    relocations: bool,
}

impl Vdso {
    /// An address inside the image, `Failed` if `off` is outside it.
    fn addr(&self, off: u64, len: usize) -> Result<usize, Failed> {
        let off = usize::try_from(off).unwrap_or(usize::MAX);
        check!(off.checked_add(len).is_some_and(|e| e <= self.size), "offset {off:#x}+{len} outside the vDSO");
        Ok(self.base + off)
    }

    /// The NUL-terminated string at `off` in .dynstr.
    fn string(&self, off: u32) -> Result<&'static [u8], Failed> {
        let start = (self.strtab - self.base) as u64 + u64::from(off);
        let mut len = 0;
        while at::<u8>(self.addr(start + len as u64, 1)?) != 0 {
            len += 1;
        }
        let p = self.addr(start, len)?;
        // SAFETY: `[p, p + len)` lies in the mapped image (checked above).
        Ok(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
    }

    /// The version name of symbol `index` (through .gnu.version and .gnu.version_d).
    fn version_of(&self, index: usize) -> Result<Option<&'static [u8]>, Failed> {
        if self.versym == 0 || self.verdef == 0 {
            return Ok(None);
        }
        let ndx = at::<u16>(self.addr((self.versym - self.base + 2 * index) as u64, 2)?) & 0x7fff;
        let mut vd = self.verdef - self.base;
        for _ in 0..16 {
            // Elf64_Verdef: version, flags, ndx, cnt (u16), hash, aux, next (u32).
            let vd_ndx = at::<u16>(self.addr(vd as u64 + 4, 2)?);
            let vd_aux = at::<u32>(self.addr(vd as u64 + 12, 4)?);
            let vd_next = at::<u32>(self.addr(vd as u64 + 16, 4)?);
            if vd_ndx == ndx {
                // Elf64_Verdaux: name (u32), next (u32).
                let name = at::<u32>(self.addr(vd as u64 + u64::from(vd_aux), 4)?);
                return self.string(name).map(Some);
            }
            if vd_next == 0 {
                break;
            }
            vd += vd_next as usize;
        }
        Ok(None)
    }

    /// The address of global function `name`, with its version name.
    fn lookup(&self, name: &str) -> Result<(usize, Option<&'static [u8]>), Failed> {
        for i in 1..self.nsyms {
            // Elf64_Sym: name (u32), info, other (u8), shndx (u16), value, size (u64).
            let sym = self.addr((self.symtab - self.base + 24 * i) as u64, 24)?;
            if self.string(at::<u32>(sym))? != name.as_bytes() {
                continue;
            }
            let info = at::<u8>(sym + 4);
            check_eq!((info & 0xf, info >> 4), (STT_FUNC, STB_GLOBAL), "type and binding of {name}");
            let value = at::<u64>(sym + 8);
            check!(value != 0, "{name} is undefined");
            return Ok((self.addr(value, 4)?, self.version_of(i)?));
        }
        fail!("{name} not in the vDSO's dynamic symbol table")
    }
}

/// Parses the vDSO at `base`.
fn parse(base: usize) -> Result<Vdso, Failed> {
    check_eq!(at::<[u8; 4]>(base), *b"\x7fELF", "ELF magic at AT_SYSINFO_EHDR");
    check_eq!((at::<u8>(base + 4), at::<u8>(base + 5)), (2, 1), "class ELF64, little-endian");
    check_eq!(at::<u16>(base + 16), 3, "e_type (ET_DYN)");
    check_eq!(at::<u16>(base + 18), 183, "e_machine (EM_AARCH64)");
    let phoff = at::<u64>(base + 32) as usize;
    let phnum = at::<u16>(base + 56) as usize;
    check!(phoff + 56 * phnum <= PAGE_SIZE, "program headers beyond the first page");
    let mut load = None;
    let mut dynamic = None;
    for i in 0..phnum {
        let ph = base + phoff + 56 * i;
        let (kind, flags) = (at::<u32>(ph), at::<u32>(ph + 4));
        let (vaddr, memsz) = (at::<u64>(ph + 16), at::<u64>(ph + 40));
        match kind {
            PT_LOAD => {
                check!(load.is_none(), "more than one PT_LOAD");
                check_eq!((vaddr, flags), (0, 5), "PT_LOAD address and flags (R+X)");
                load = Some(memsz as usize);
            }
            PT_DYNAMIC => dynamic = Some(vaddr),
            _ => {}
        }
    }
    let (Some(size), Some(dynamic)) = (load, dynamic) else { fail!("no PT_LOAD or no PT_DYNAMIC") };
    let mut v = Vdso { base, size, symtab: 0, strtab: 0, nsyms: 0, versym: 0, verdef: 0, relocations: false };
    let mut entry = v.addr(dynamic, 16)?;
    loop {
        let (tag, val) = (at::<u64>(entry), at::<u64>(entry + 8));
        match tag {
            DT_NULL => break,
            // Elf64 .hash: nbucket, nchain (u32): nchain is the symbol count.
            DT_HASH => v.nsyms = at::<u32>(v.addr(val, 8)? + 4) as usize,
            DT_STRTAB => v.strtab = v.addr(val, 1)?,
            DT_SYMTAB => v.symtab = v.addr(val, 24)?,
            DT_VERSYM => v.versym = v.addr(val, 2)?,
            DT_VERDEF => v.verdef = v.addr(val, 20)?,
            DT_RELA | DT_REL | DT_TEXTREL | DT_JMPREL => v.relocations = true,
            _ => {}
        }
        entry = v.addr((entry - base + 16) as u64, 16)?;
    }
    check!(v.symtab != 0 && v.strtab != 0 && v.nsyms > 1, "no symbol table, string table or hash table");
    Ok(v)
}

/// The vDSO's base, or `None` (after a note) when there is none off armmap.
fn base() -> Result<Option<usize>, Failed> {
    match user::args().auxv(AT_SYSINFO_EHDR) {
        Some(b) if b != 0 => Ok(Some(b)),
        _ if util::on_armmap() => fail!("no AT_SYSINFO_EHDR on armmap"),
        _ => {
            println!("  note: no vDSO (not on armmap), skipped");
            Ok(None)
        }
    }
}

type ClockFn = unsafe extern "C" fn(i32, *mut Timespec) -> i32;
type TimeofdayFn = unsafe extern "C" fn(*mut Timeval, *mut [i32; 2]) -> i32;

/// The vDSO's three clock functions.
struct Clocks {
    gettime: ClockFn,
    getres: ClockFn,
    gettimeofday: TimeofdayFn,
}

impl Clocks {
    fn find(base: usize) -> Result<Clocks, Failed> {
        let v = parse(base)?;
        let f = |name| v.lookup(name).map(|(a, _)| a);
        let (gettime, getres, tod) =
            (f("__kernel_clock_gettime")?, f("__kernel_clock_getres")?, f("__kernel_gettimeofday")?);
        // SAFETY: these are the addresses of the vDSO's functions with these
        // C signatures (Linux's vDSO ABI).
        unsafe {
            Ok(Clocks {
                gettime: core::mem::transmute::<usize, ClockFn>(gettime),
                getres: core::mem::transmute::<usize, ClockFn>(getres),
                gettimeofday: core::mem::transmute::<usize, TimeofdayFn>(tod),
            })
        }
    }

    fn gettime(&self, clock: i32) -> (i32, Timespec) {
        let mut ts = Timespec { tv_sec: -1, tv_nsec: -1 };
        // SAFETY: the vDSO writes one timespec.
        let r = unsafe { (self.gettime)(clock, &mut ts) };
        (r, ts)
    }

    fn getres(&self, clock: i32) -> (i32, Timespec) {
        let mut ts = Timespec { tv_sec: -1, tv_nsec: -1 };
        // SAFETY: the vDSO writes one timespec.
        let r = unsafe { (self.getres)(clock, &mut ts) };
        (r, ts)
    }
}

/// The vDSO's clock functions, or `None` off armmap.
fn clocks() -> Result<Option<Clocks>, Failed> {
    base()?.map(Clocks::find).transpose()
}

fn sys_gettime(clock: i32) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one timespec.
    ret(unsafe { syscall2(nr::CLOCK_GETTIME, clock as isize as usize, &mut ts as *mut Timespec as usize) })?;
    Ok(ts)
}

fn sys_getres(clock: i32) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one timespec.
    ret(unsafe { syscall2(NR_CLOCK_GETRES, clock as isize as usize, &mut ts as *mut Timespec as usize) })?;
    Ok(ts)
}

/// Checks that the vDSO's clocks agree with the system calls (shared by
/// the cases and by the children of the fork and exec cases).
fn check_clocks(c: &Clocks, rounds: usize) -> TestResult {
    for _ in 0..rounds {
        for clock in CLOCKS {
            let a = sys_gettime(clock)?;
            let (r, b) = c.gettime(clock);
            let z = sys_gettime(clock)?;
            check_eq!(r, 0, "__kernel_clock_gettime({clock})");
            check!((0..1_000_000_000).contains(&b.tv_nsec), "clock {clock}: tv_nsec {}", b.tv_nsec);
            check!(a <= b && b <= z, "clock {clock}: syscall {a}, vdso {b}, syscall {z} not in order");
        }
    }
    Ok(())
}

// ---- the cases ----

fn auxv_points_at_an_elf_shared_object() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    check_eq!(b % PAGE_SIZE, 0, "vDSO base {b:#x} not page aligned");
    let v = parse(b)?;
    check!(!v.relocations, "the vDSO's dynamic section asks for relocations");
    check!(v.size <= 4 * PAGE_SIZE, "vDSO of {} bytes", v.size);
    Ok(())
}

fn exports_the_linux_symbols_and_version() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    let v = parse(b)?;
    for name in ["__kernel_rt_sigreturn", "__kernel_clock_gettime", "__kernel_gettimeofday", "__kernel_clock_getres"] {
        let (_, version) = v.lookup(name)?;
        check_eq!(version, Some(&b"LINUX_2.6.39"[..]), "version of {name}");
    }
    // The signal trampoline is Linux's: mov x8, #139; svc #0.
    let (sigreturn, _) = v.lookup("__kernel_rt_sigreturn")?;
    check_eq!((at::<u32>(sigreturn), at::<u32>(sigreturn + 4)), (0xd280_1168, 0xd400_0001), "__kernel_rt_sigreturn");
    Ok(())
}

fn clock_gettime_between_syscalls() -> TestResult {
    let Some(c) = clocks()? else { return Ok(()) };
    check_clocks(&c, 200)
}

fn other_clocks_reach_the_kernel() -> TestResult {
    let Some(c) = clocks()? else { return Ok(()) };
    // CPU-time clocks: the vDSO makes the system call.
    for clock in [2, 3] {
        let (r, t) = c.gettime(clock);
        check_eq!(r, 0, "__kernel_clock_gettime({clock})");
        check!(t.tv_sec >= 0 && (0..1_000_000_000).contains(&t.tv_nsec), "clock {clock}: {t}");
    }
    for clock in [8, 1000, -1, i32::MIN] {
        check_eq!(c.gettime(clock).0, -EINVAL, "__kernel_clock_gettime({clock})");
        check_eq!(c.getres(clock).0, -EINVAL, "__kernel_clock_getres({clock})");
        check_eq!(sys_gettime(clock), Err(Errno::EINVAL), "clock_gettime({clock})");
    }
    Ok(())
}

fn gettimeofday_between_syscalls() -> TestResult {
    let Some(c) = clocks()? else { return Ok(()) };
    for _ in 0..100 {
        let a = sys_gettime(0)?;
        let mut tv = Timeval { tv_sec: -1, tv_usec: -1 };
        let mut tz = [77i32; 2];
        // SAFETY: the vDSO writes one timeval and one timezone.
        let r = unsafe { (c.gettimeofday)(&mut tv, &mut tz) };
        let z = sys_gettime(0)?;
        check_eq!(r, 0, "__kernel_gettimeofday");
        check_eq!(tz, [0, 0], "time zone (UTC)");
        let us = tv.tv_sec as i128 * 1_000_000 + tv.tv_usec as i128;
        check!((0..1_000_000).contains(&tv.tv_usec), "tv_usec {}", tv.tv_usec);
        check!(a.as_nanos() / 1000 <= us && us <= z.as_nanos() / 1000, "{us} us outside [{a}, {z}]");
    }
    // The system call answers the same way, and both take null pointers.
    let mut tv = Timeval::default();
    let mut tz = [77i32; 2];
    // SAFETY: the kernel writes one timeval and one timezone.
    ret(unsafe { syscall2(NR_GETTIMEOFDAY, &mut tv as *mut Timeval as usize, &mut tz as *mut [i32; 2] as usize) })?;
    check_eq!(tz, [0, 0], "gettimeofday's time zone");
    check!(tv.tv_sec > 0 || tv.tv_usec > 0, "gettimeofday: zero time");
    // SAFETY: null pointers: nothing is written.
    check_eq!(unsafe { (c.gettimeofday)(core::ptr::null_mut(), core::ptr::null_mut()) }, 0, "with null pointers");
    // SAFETY: as above.
    check_eq!(ret(unsafe { syscall2(NR_GETTIMEOFDAY, 0, 0) }), Ok(0), "system call with null pointers");
    Ok(())
}

fn clock_getres_is_the_syscalls() -> TestResult {
    let Some(c) = clocks()? else { return Ok(()) };
    for clock in 0..8 {
        let (r, res) = c.getres(clock);
        check_eq!(r, 0, "__kernel_clock_getres({clock})");
        check_eq!(res, sys_getres(clock)?, "resolution of clock {clock}");
        check!(res.tv_sec == 0 && res.tv_nsec > 0, "clock {clock}: resolution {res}");
    }
    // SAFETY: a null pointer: nothing is written.
    check_eq!(unsafe { (c.getres)(1, core::ptr::null_mut()) }, 0, "__kernel_clock_getres(1, NULL)");
    Ok(())
}

/// The `[vvar]` and `[vdso]` lines of `/proc/self/maps`: (start, end, perms) each.
type Areas = [(usize, usize, [u8; 4]); 2];

fn vdso_areas() -> Result<Option<Areas>, Failed> {
    let mut buf = [0u8; 8192];
    let n = util::read_path(c"/proc/self/maps", &mut buf)?;
    check!(n < buf.len(), "/proc/self/maps does not fit");
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    let mut found = [None, None];
    for line in text.lines() {
        let slot = if line.ends_with(" [vvar]") {
            0
        } else if line.ends_with(" [vdso]") {
            1
        } else {
            continue;
        };
        let mut fields = line.split(' ');
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { fail!("bad line {line:?}") };
        let Some((s, e)) = range.split_once('-') else { fail!("bad range in {line:?}") };
        let (Some(s), Some(e)) = (util::parse_hex(s), util::parse_hex(e)) else { fail!("bad range in {line:?}") };
        let p: [u8; 4] = perms.as_bytes().try_into().unwrap_or([0; 4]);
        check!(found[slot].is_none(), "two lines for {line:?}");
        found[slot] = Some((s as usize, e as usize, p));
    }
    match found {
        [Some(a), Some(b)] => Ok(Some([a, b])),
        [None, None] => Ok(None),
        _ => fail!("only one of [vvar] and [vdso] in:\n{text}"),
    }
}

fn maps_show_vvar_and_vdso() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    let Some([vvar, vdso]) = vdso_areas()? else { fail!("no [vvar] or [vdso] in /proc/self/maps") };
    check_eq!(&vvar.2, b"r--p", "[vvar] permissions");
    check_eq!(&vdso.2, b"r-xp", "[vdso] permissions");
    check_eq!(vdso.0, b, "[vdso] starts at AT_SYSINFO_EHDR");
    check_eq!((vvar.0 + PAGE_SIZE, vvar.1), (b, b), "[vvar]: the page just below [vdso]");
    check!(vdso.1 > vdso.0, "empty [vdso]");
    Ok(())
}

/// The counter and its frequency, read here at EL0 as the vDSO reads them.
fn el0_counter() -> (u64, u64) {
    let (c, f): (u64, u64);
    // SAFETY: reads of CNTVCT_EL0 and CNTFRQ_EL0, which EL0 may make on
    // armmap (CNTKCTL_EL1.EL0VCTEN); without that they trap (SIGILL).
    unsafe {
        core::arch::asm!("isb", "mrs {c}, cntvct_el0", "mrs {f}, cntfrq_el0", c = out(reg) c, f = out(reg) f, options(nomem, nostack))
    };
    (c, f)
}

/// The data page holds what `kernel/src/vdso/data.rs` says (sequence count,
/// mode, frequency, REALTIME offset, resolution), and the counter read at
/// EL0 turns into the system call's CLOCK_MONOTONIC.
fn data_page_and_counter_readable_at_el0() -> TestResult {
    if !util::armmap_only("armmap's data page layout") {
        return Ok(());
    }
    let Some(b) = base()? else { return Ok(()) };
    let vvar = b - PAGE_SIZE;
    let (seq, mode, freq, offset, res) =
        (at::<u32>(vvar), at::<u32>(vvar + 4), at::<u64>(vvar + 8), at::<u64>(vvar + 16), at::<u64>(vvar + 24));
    check_eq!(seq % 2, 0, "sequence count {seq} odd outside an update");
    check_eq!(mode, 1, "mode (1: counter readable at EL0)");
    check_eq!(freq, el0_counter().1, "frequency against CNTFRQ_EL0");
    check_eq!(res, 1, "resolution");
    let a = sys_gettime(1)?;
    let (c, f) = el0_counter();
    let z = sys_gettime(1)?;
    let ns = (c / f) as i128 * 1_000_000_000 + ((c % f) as i128 * 1_000_000_000) / f as i128;
    check!(a.as_nanos() <= ns && ns <= z.as_nanos(), "counter {c} is {ns} ns, outside [{a}, {z}]");
    let r = sys_gettime(0)?;
    let m = sys_gettime(1)?;
    check!(r.as_nanos() - offset as i128 <= m.as_nanos(), "REALTIME {r} minus the offset {offset} after MONOTONIC {m}");
    Ok(())
}

/// Runs `f` in a child and returns its status word.
fn in_child(f: impl FnOnce() -> i32) -> Result<i32, Failed> {
    let child = process::fork_run(f)?;
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child, "waitpid");
    Ok(status)
}

fn check_exit0(status: i32, what: &str) -> TestResult {
    check!(wifexited(status) && wexitstatus(status) == 0, "{what}: child {}", ExitStatus(status));
    Ok(())
}

/// Stores `v` at `addr` with one `str` instruction (which may fault).
fn store(addr: usize, v: u64) {
    // SAFETY: a deliberate store to a page that may forbid it: the fault is
    // the process's own (SIGSEGV), and no Rust reference points there.
    unsafe { core::arch::asm!("str {v}, [{a}]", a = in(reg) addr, v = in(reg) v, options(nostack)) };
}

fn store_to_vvar_is_sigsegv() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    let _ = process::setrlimit(process::RLIMIT_CORE, process::Rlimit { cur: 0, max: 0 });
    for (what, addr) in [("[vvar]", b - PAGE_SIZE), ("[vdso]", b + 8)] {
        let status = in_child(|| {
            store(addr, 1);
            0
        })?;
        check!(wifsignaled(status) && wtermsig(status) == SIGSEGV, "store to {what}: child {}", ExitStatus(status));
    }
    // The stores changed nothing: the clocks still work.
    let Some(c) = clocks()? else { return Ok(()) };
    check_clocks(&c, 10)
}

fn vvar_cannot_become_writable() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    // SAFETY: a failing mprotect changes nothing.
    check_eq!(unsafe { mm::mprotect(b - PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE) }, Err(Errno::EACCES), "[vvar]");
    // Read-only again is allowed (no change).
    // SAFETY: the protection stays what it is.
    check_eq!(unsafe { mm::mprotect(b - PAGE_SIZE, PAGE_SIZE, PROT_READ) }, Ok(()), "[vvar] read-only");
    Ok(())
}

fn writable_vdso_copies_for_one_process() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    // e_ident's padding (byte 9..16): unused by anyone.
    let pad = b + 8;
    let before = at::<u64>(pad);
    let status = in_child(|| {
        // SAFETY: the page stays mapped; only its protection changes.
        if unsafe { mm::mprotect(b, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) }.is_err() {
            return 11;
        }
        store(pad, 0x5a5a_5a5a_5a5a_5a5a);
        if at::<u64>(pad) != 0x5a5a_5a5a_5a5a_5a5a {
            return 12;
        }
        // The copied page is still the vDSO: the clocks work from it.
        match clocks() {
            Ok(Some(c)) if check_clocks(&c, 5).is_ok() => 0,
            _ => 13,
        }
    })?;
    check_exit0(status, "child writing its vDSO (11: mprotect, 12: store lost, 13: clocks)")?;
    check_eq!(at::<u64>(pad), before, "this process's vDSO after the child's store");
    // A new child sees the kernel's bytes too.
    let status = in_child(|| if at::<u64>(pad) == before { 0 } else { 1 })?;
    check_exit0(status, "second child reading the vDSO")
}

fn survives_fork() -> TestResult {
    let Some(parent) = vdso_areas()? else { return Ok(()) };
    let status = in_child(|| {
        let same = matches!(vdso_areas(), Ok(Some(a)) if a == parent);
        let works = matches!(clocks(), Ok(Some(c)) if check_clocks(&c, 20).is_ok());
        if !same {
            11
        } else if !works {
            12
        } else {
            0
        }
    })?;
    check_exit0(status, "child after fork (11: areas differ, 12: clocks)")
}

/// The program run by the `exec` case.
fn exec_check() -> TestResult {
    let Some(b) = base()? else { return Ok(()) };
    let Some([_, vdso]) = vdso_areas()? else { fail!("no [vdso] after exec") };
    check_eq!(vdso.0, b, "[vdso] at AT_SYSINFO_EHDR after exec");
    let Some(c) = clocks()? else { fail!("no vDSO after exec") };
    check_clocks(&c, 20)
}

fn survives_exec() -> TestResult {
    if base()?.is_none() {
        return Ok(());
    }
    let status = in_child(|| {
        // The child first drops its vDSO: exec must give the new program one.
        if let Ok(Some([vvar, vdso])) = vdso_areas() {
            // SAFETY: nothing in this process uses those pages any more.
            let _ = unsafe { mm::munmap(vvar.0, vdso.1 - vvar.0) };
        }
        let e = process::execve(c"/bin/vdso", &[c"vdso", c"exec-check"], &[]);
        println!("  execve: {e}");
        20
    })?;
    check_exit0(status, "the program after exec (20: execve failed)")
}

fn munmap_removes_both() -> TestResult {
    let Some([vvar, vdso]) = vdso_areas()? else { return Ok(()) };
    let status = in_child(|| {
        // SAFETY: nothing in this process uses those pages any more.
        if unsafe { mm::munmap(vvar.0, vdso.1 - vvar.0) }.is_err() {
            return 11;
        }
        match vdso_areas() {
            Ok(None) => {}
            _ => return 12,
        }
        // The pages are gone: a load faults (the child dies of SIGSEGV).
        at::<u8>(vdso.0) as i32 + 100
    })?;
    check!(wifsignaled(status) && wtermsig(status) == SIGSEGV, "child after munmap: {}", ExitStatus(status));
    Ok(())
}

/// A program whose only segment lies where the vDSO would go runs, without
/// a vDSO (the kernel must not trip over the overlap).
fn program_over_its_place_runs_without_one() -> TestResult {
    if !util::armmap_only("armmap's ELF loader") {
        return Ok(());
    }
    let Some([vvar, _]) = vdso_areas()? else { fail!("no [vvar]") };
    // ELF header, one PT_LOAD (R+X) of the whole file at [vvar]'s address,
    // and at 0xc0: mov x0, #42; mov x8, #93 (exit); svc #0.
    let mut img = [0u8; 256];
    let put = |img: &mut [u8; 256], at: usize, bytes: &[u8]| img[at..at + bytes.len()].copy_from_slice(bytes);
    put(&mut img, 0, b"\x7fELF\x02\x01\x01");
    put(&mut img, 16, &2u16.to_le_bytes()); // ET_EXEC
    put(&mut img, 18, &183u16.to_le_bytes()); // EM_AARCH64
    put(&mut img, 20, &1u32.to_le_bytes());
    put(&mut img, 24, &(vvar.0 as u64 + 0xc0).to_le_bytes()); // entry
    put(&mut img, 32, &64u64.to_le_bytes()); // phoff
    put(&mut img, 52, &64u16.to_le_bytes());
    put(&mut img, 54, &56u16.to_le_bytes());
    put(&mut img, 56, &1u16.to_le_bytes());
    put(&mut img, 64, &1u32.to_le_bytes()); // PT_LOAD
    put(&mut img, 68, &5u32.to_le_bytes()); // R+X
    for (i, v) in [0, vvar.0 as u64, vvar.0 as u64, 256, 256, 0x1000].iter().enumerate() {
        put(&mut img, 72 + 8 * i, &v.to_le_bytes());
    }
    for (i, insn) in [0xd280_0540u32, 0xd280_0ba8, 0xd400_0001].iter().enumerate() {
        put(&mut img, 0xc0 + 4 * i, &insn.to_le_bytes());
    }
    let path = c"/tmp/armmap-vdso-over";
    let fd = util::create_file(path, &img)?;
    let _ = user::fs::close(fd);
    let status = in_child(|| 100 + process::execve(path, &[c"over"], &[]).0)?;
    let _ = user::fs::unlink(path);
    check!(
        wifexited(status) && wexitstatus(status) == 42,
        "the program: {} (100 + errno: exec failed)",
        ExitStatus(status)
    );
    Ok(())
}

/// Free frames, from armmap's `/proc/vmstat`.
fn free_frames() -> Result<u64, Failed> {
    let mut buf = [0u8; 1024];
    let n = util::read_path(c"/proc/vmstat", &mut buf)?;
    match util::key_value(core::str::from_utf8(&buf[..n]).unwrap_or(""), "nr_free_pages") {
        Some(v) => Ok(v),
        None => fail!("no nr_free_pages in /proc/vmstat"),
    }
}

fn frames_return_to_baseline() -> TestResult {
    if !util::armmap_only("/proc/vmstat nr_free_pages accounting") {
        return Ok(());
    }
    // Children that use the vDSO, copy a page of it, and drop it.
    let round = || -> TestResult {
        check_exit0(in_child(|| if survives_fork().is_ok() { 0 } else { 1 })?, "fork round")?;
        writable_vdso_copies_for_one_process()?;
        munmap_removes_both()
    };
    round()?; // Warm-up: the pages this program itself touches become resident.
    let before = free_frames()?;
    for _ in 0..10 {
        round()?;
    }
    let after = free_frames()?;
    check_eq!(after, before, "free frames after 10 rounds");
    Ok(())
}
