//! The initial user stack: how a new program receives its arguments,
//! environment and auxiliary vector.
//!
//! A program starts at its ELF entry point (`_start`) with nothing in the
//! registers; everything it needs is on the stack, in the layout the Linux
//! ABI fixes. From the top of the stack down:
//!
//! ```text
//! stack_top ->  program path, NUL          <- AT_EXECFN
//!               environment strings, each NUL-terminated
//!               argument strings, each NUL-terminated  (argv[0] lowest)
//!               "aarch64", NUL              <- AT_PLATFORM
//!               16 random bytes             <- AT_RANDOM (seeds libc's stack canary)
//!               0..15 bytes of padding, so that sp is 16-byte aligned
//!               auxv: (type, value) pairs, ending with (AT_NULL, 0)
//!                     (the first is AT_SYSINFO_EHDR, the vDSO)
//!               NULL
//!               envp[envc - 1] .. envp[0]   (pointers to the strings above)
//!               NULL
//!               argv[argc - 1] .. argv[0]
//! sp ->         argc
//! ```
//!
//! The auxiliary vector tells libc about the process: where the program
//! headers are (static glibc finds its TLS template through `AT_PHDR`), the
//! page size, the CPU features (`AT_HWCAP`) and so on.
//!
//! [`build_initial_stack`] computes the whole image in a buffer, with the
//! user addresses the pointers will have once the buffer is copied to `sp`.
//! Nothing here touches user memory, so the layout is unit-tested on the host.

use crate::mm::addr::{PAGE_SIZE, USER_END};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// End of the auxiliary vector.
pub const AT_NULL: u64 = 0;
/// Address of the program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Load address of the dynamic linker (0: none).
pub const AT_BASE: u64 = 7;
/// Flags (always 0).
pub const AT_FLAGS: u64 = 8;
/// The program's entry point.
pub const AT_ENTRY: u64 = 9;
/// Real user id.
pub const AT_UID: u64 = 11;
/// Effective user id.
pub const AT_EUID: u64 = 12;
/// Real group id.
pub const AT_GID: u64 = 13;
/// Effective group id.
pub const AT_EGID: u64 = 14;
/// Address of the platform name string.
pub const AT_PLATFORM: u64 = 15;
/// CPU feature bits (`HWCAP_*`).
pub const AT_HWCAP: u64 = 16;
/// Clock ticks per second (for `times`).
pub const AT_CLKTCK: u64 = 17;
/// Whether the program runs with raised privileges (0: no).
pub const AT_SECURE: u64 = 23;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More CPU feature bits (`HWCAP2_*`).
pub const AT_HWCAP2: u64 = 26;
/// Address of the program's path.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO's ELF header (0: none).
pub const AT_SYSINFO_EHDR: u64 = 33;

/// The platform name `AT_PLATFORM` points at, NUL included.
pub const PLATFORM: &[u8] = b"aarch64\0";
/// Clock ticks per second reported in `AT_CLKTCK` (Linux's `USER_HZ`).
pub const CLOCK_TICKS: u64 = 100;
/// Most bytes the arguments and environment may take. Like Linux, each
/// string costs its length, its NUL and its 8-byte pointer.
pub const MAX_ARG_BYTES: usize = 128 * 1024;
/// Longest program path (`PATH_MAX`, NUL included).
pub const MAX_EXECFN: usize = 4096;

/// Number of auxv pairs, `AT_NULL` included.
const AUXV_LEN: usize = 20;

/// What the auxiliary vector says about the program (from its
/// [`LoadPlan`](super::elf::LoadPlan)) and the machine.
#[derive(Copy, Clone, Debug)]
pub struct AuxInfo<'a> {
    /// Address of the program headers in memory (0 if they are not loaded).
    pub phdr: u64,
    pub phent: u16,
    pub phnum: u16,
    pub entry: u64,
    /// CPU feature bits, as Linux reports them (`HWCAP_FP`, `HWCAP_ASIMD`...).
    pub hwcap: u64,
    /// Bytes for `AT_RANDOM`; libc derives its stack canary from them.
    pub random: [u8; 16],
    /// The path the program was executed as (without NUL).
    pub execfn: &'a [u8],
    /// Where the vDSO is mapped (`AT_SYSINFO_EHDR`).
    pub sysinfo_ehdr: u64,
}

/// The initial stack image.
///
/// Invariants: `sp` is 16-byte aligned and `bytes` is the content of user
/// memory `[sp, sp + bytes.len())`, which ends at the requested stack top.
/// Every pointer inside `bytes` points into that range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    pub sp: u64,
    pub bytes: Vec<u8>,
}

/// Why the stack cannot be built.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StackError {
    /// Arguments and environment exceed [`MAX_ARG_BYTES`], the path exceeds
    /// [`MAX_EXECFN`], or the image does not fit below the stack top (`E2BIG`).
    TooBig,
    /// A string contains a NUL byte (it would be cut short).
    InteriorNul,
    /// The stack top is above user space.
    BadStackTop,
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooBig => "argument list too long",
            Self::InteriorNul => "string contains a NUL byte",
            Self::BadStackTop => "stack top outside user space",
        })
    }
}

/// Lays out the initial stack of a program that will run with arguments
/// `argv` and environment `envp` (strings without their NULs), for a stack
/// ending at `stack_top`.
pub fn build_initial_stack(
    stack_top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    aux: &AuxInfo<'_>,
) -> Result<InitialStack, StackError> {
    if stack_top > USER_END {
        return Err(StackError::BadStackTop);
    }
    let args = || argv.iter().chain(envp);
    if args().chain([&aux.execfn]).any(|s| s.contains(&0)) {
        return Err(StackError::InteriorNul);
    }
    let arg_bytes: usize = args().map(|s| s.len() + 1 + 8).sum();
    if arg_bytes > MAX_ARG_BYTES || aux.execfn.len() + 1 > MAX_EXECFN {
        return Err(StackError::TooBig);
    }

    // Addresses, from the top down. The limits above keep these sizes small,
    // so only the subtractions from `stack_top` can go wrong.
    let strings_len = args().map(|s| s.len() + 1).sum::<usize>() + aux.execfn.len() + 1;
    let table_words = 1 + (argv.len() + 1) + (envp.len() + 1) + 2 * AUXV_LEN;
    let below = |addr: u64, n: usize| addr.checked_sub(n as u64).ok_or(StackError::TooBig);
    let strings = below(stack_top, strings_len)?;
    let platform = below(strings, PLATFORM.len())?;
    let random = below(platform, aux.random.len())?;
    let sp = below(random, 8 * table_words)? & !15;

    let mut image = Image { sp, bytes: vec![0; (stack_top - sp) as usize] };

    // The strings, ascending from `strings`; remember where each one went.
    let mut cursor = strings;
    let mut put_string = |image: &mut Image, s: &[u8]| {
        let addr = cursor;
        image.put(addr, s); // the NUL is already there: the buffer is zeroed
        cursor += s.len() as u64 + 1;
        addr
    };
    let argv_ptrs: Vec<u64> = argv.iter().map(|s| put_string(&mut image, s)).collect();
    let envp_ptrs: Vec<u64> = envp.iter().map(|s| put_string(&mut image, s)).collect();
    let execfn = put_string(&mut image, aux.execfn);
    image.put(platform, PLATFORM);
    image.put(random, &aux.random);

    // The table, ascending from `sp`.
    // The vDSO first, as Linux's ARCH_DLINFO puts it.
    let auxv: [(u64, u64); AUXV_LEN] = [
        (AT_SYSINFO_EHDR, aux.sysinfo_ehdr),
        (AT_HWCAP, aux.hwcap),
        (AT_PAGESZ, PAGE_SIZE as u64),
        (AT_CLKTCK, CLOCK_TICKS),
        (AT_PHDR, aux.phdr),
        (AT_PHENT, aux.phent.into()),
        (AT_PHNUM, aux.phnum.into()),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, aux.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_HWCAP2, 0),
        (AT_EXECFN, execfn),
        (AT_PLATFORM, platform),
        (AT_NULL, 0),
    ];
    let words = [argv.len() as u64]
        .into_iter()
        .chain(argv_ptrs)
        .chain([0])
        .chain(envp_ptrs)
        .chain([0])
        .chain(auxv.into_iter().flat_map(|(k, v)| [k, v]));
    for (i, word) in words.enumerate() {
        image.put(sp + 8 * i as u64, &word.to_le_bytes());
    }

    Ok(InitialStack { sp: image.sp, bytes: image.bytes })
}

/// The stack image under construction, addressed by user address.
struct Image {
    sp: u64,
    bytes: Vec<u8>,
}

impl Image {
    /// Writes `data` at user address `addr` (which the layout keeps in range).
    fn put(&mut self, addr: u64, data: &[u8]) {
        let at = (addr - self.sp) as usize;
        self.bytes[at..at + data.len()].copy_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    const TOP: u64 = 0x0000_ffff_ffff_f000;

    fn aux(execfn: &[u8]) -> AuxInfo<'_> {
        AuxInfo {
            phdr: 0x40_0040,
            phent: 56,
            phnum: 7,
            entry: 0x40_0100,
            hwcap: 0b11,
            random: *b"0123456789abcdef",
            execfn,
            sysinfo_ehdr: 0xffff_f79f_1000,
        }
    }

    /// What a program's `_start` would find.
    struct Parsed<'a> {
        argv: Vec<&'a [u8]>,
        envp: Vec<&'a [u8]>,
        auxv: Vec<(u64, u64)>,
    }

    impl Parsed<'_> {
        fn aux(&self, key: u64) -> u64 {
            let map: BTreeMap<u64, u64> = self.auxv.iter().copied().collect();
            map[&key]
        }
    }

    /// Reads the image back the way libc does, checking every pointer.
    fn parse(st: &InitialStack) -> Parsed<'_> {
        let top = st.sp + st.bytes.len() as u64;
        let word = |addr: u64| {
            assert!(addr >= st.sp && addr + 8 <= top, "word {addr:#x} outside the image");
            let at = (addr - st.sp) as usize;
            u64::from_le_bytes(st.bytes[at..at + 8].try_into().unwrap())
        };
        let cstr = |addr: u64| {
            assert!(addr >= st.sp && addr < top, "string {addr:#x} outside the image");
            let rest = &st.bytes[(addr - st.sp) as usize..];
            &rest[..rest.iter().position(|&b| b == 0).expect("unterminated string")]
        };
        let argc = word(st.sp);
        let mut p = st.sp + 8;
        let argv: Vec<&[u8]> = (0..argc).map(|i| cstr(word(p + 8 * i))).collect();
        p += 8 * argc;
        assert_eq!(word(p), 0, "argv not NULL-terminated");
        p += 8;
        let mut envp = Vec::new();
        while word(p) != 0 {
            envp.push(cstr(word(p)));
            p += 8;
        }
        p += 8;
        let mut auxv = Vec::new();
        loop {
            let (k, v) = (word(p), word(p + 8));
            auxv.push((k, v));
            p += 16;
            if k == AT_NULL {
                break;
            }
        }
        Parsed { argv, envp, auxv }
    }

    #[test]
    fn round_trip() {
        let argv: [&[u8]; 2] = [b"/bin/hello", b"-v"];
        let envp: [&[u8]; 2] = [b"HOME=/", b"TERM=vt100"];
        let st = build_initial_stack(TOP, &argv, &envp, &aux(b"/bin/hello")).unwrap();
        assert_eq!(st.sp % 16, 0);
        assert_eq!(st.sp + st.bytes.len() as u64, TOP);
        let p = parse(&st);
        assert_eq!(p.argv, argv);
        assert_eq!(p.envp, envp);
        assert_eq!(p.auxv.len(), AUXV_LEN);
        assert_eq!(p.auxv.last(), Some(&(AT_NULL, 0)));
        for (key, value) in [
            (AT_PHDR, 0x40_0040),
            (AT_PHENT, 56),
            (AT_PHNUM, 7),
            (AT_PAGESZ, 4096),
            (AT_BASE, 0),
            (AT_FLAGS, 0),
            (AT_ENTRY, 0x40_0100),
            (AT_UID, 0),
            (AT_EUID, 0),
            (AT_GID, 0),
            (AT_EGID, 0),
            (AT_HWCAP, 0b11),
            (AT_CLKTCK, 100),
            (AT_SECURE, 0),
            (AT_HWCAP2, 0),
            (AT_SYSINFO_EHDR, 0xffff_f79f_1000),
        ] {
            assert_eq!(p.aux(key), value, "auxv key {key}");
        }
        // The pointers in auxv lead to the right bytes inside the image.
        let at = |addr: u64, len: usize| {
            assert!(addr >= st.sp && addr + len as u64 <= TOP);
            &st.bytes[(addr - st.sp) as usize..][..len]
        };
        assert_eq!(at(p.aux(AT_RANDOM), 16), b"0123456789abcdef");
        assert_eq!(at(p.aux(AT_PLATFORM), 8), b"aarch64\0");
        assert_eq!(at(p.aux(AT_EXECFN), 11), b"/bin/hello\0");
        // The program path is the last thing on the stack.
        assert_eq!(p.aux(AT_EXECFN) + 11, TOP);
    }

    #[test]
    fn strings_are_contiguous_like_linux() {
        let argv: [&[u8]; 3] = [b"a", b"bb", b""];
        let envp: [&[u8]; 1] = [b"X=1"];
        let st = build_initial_stack(TOP, &argv, &envp, &aux(b"a")).unwrap();
        let ptr = |i: u64| {
            let at = 8 + 8 * i as usize;
            u64::from_le_bytes(st.bytes[at..at + 8].try_into().unwrap())
        };
        // argv[0], argv[1], argv[2], (NULL), envp[0].
        assert_eq!(ptr(1), ptr(0) + 2);
        assert_eq!(ptr(2), ptr(1) + 3);
        assert_eq!(ptr(4), ptr(2) + 1);
        assert_eq!(parse(&st).argv[2], b"");
    }

    #[test]
    fn sp_is_aligned_for_every_length() {
        for n in 0..48 {
            let s = vec![b'x'; n];
            let argv: Vec<&[u8]> = (0..n % 5).map(|_| s.as_slice()).collect();
            let envp: Vec<&[u8]> = (0..n % 3).map(|_| &s[..n / 2]).collect();
            for top in [TOP, TOP - 8, TOP - 5] {
                let st = build_initial_stack(top, &argv, &envp, &aux(&s)).unwrap();
                assert_eq!(st.sp % 16, 0, "n {n} top {top:#x}");
                assert_eq!(st.sp + st.bytes.len() as u64, top);
                let p = parse(&st);
                assert_eq!(p.argv, argv);
                assert_eq!(p.envp, envp);
                // Padding is never a whole 16 bytes.
                assert!(p.aux(AT_RANDOM) - (st.sp + 8 * (3 + argv.len() + envp.len() + 2 * AUXV_LEN) as u64) < 16);
            }
        }
    }

    #[test]
    fn no_arguments_no_environment() {
        let st = build_initial_stack(TOP, &[], &[], &aux(b"/init")).unwrap();
        let p = parse(&st);
        assert!(p.argv.is_empty() && p.envp.is_empty());
        assert_eq!(&st.bytes[..24], &[0; 24]); // argc, argv NULL, envp NULL
        assert_eq!(p.auxv[0], (AT_SYSINFO_EHDR, 0xffff_f79f_1000));
        assert_eq!(p.auxv[1], (AT_HWCAP, 0b11));
    }

    #[test]
    fn size_limits() {
        let big = vec![b'a'; MAX_ARG_BYTES - 9];
        assert!(build_initial_stack(TOP, &[big.as_slice()], &[], &aux(b"x")).is_ok());
        let big = vec![b'a'; MAX_ARG_BYTES - 8];
        assert_eq!(build_initial_stack(TOP, &[big.as_slice()], &[], &aux(b"x")), Err(StackError::TooBig));
        // Many small strings: pointers count too.
        let many: Vec<&[u8]> = vec![b"ab".as_slice(); MAX_ARG_BYTES / 11 + 1];
        assert_eq!(build_initial_stack(TOP, &[], &many, &aux(b"x")), Err(StackError::TooBig));
        let path = vec![b'p'; MAX_EXECFN];
        assert_eq!(build_initial_stack(TOP, &[], &[], &aux(&path)), Err(StackError::TooBig));
        assert!(build_initial_stack(TOP, &[], &[], &aux(&path[1..])).is_ok());
    }

    #[test]
    fn bad_inputs() {
        assert_eq!(build_initial_stack(TOP, &[b"a\0b".as_slice()], &[], &aux(b"x")), Err(StackError::InteriorNul));
        assert_eq!(build_initial_stack(TOP, &[], &[b"A=\0".as_slice()], &aux(b"x")), Err(StackError::InteriorNul));
        assert_eq!(build_initial_stack(TOP, &[], &[], &aux(b"/x\0")), Err(StackError::InteriorNul));
        assert_eq!(build_initial_stack(USER_END + 16, &[], &[], &aux(b"x")), Err(StackError::BadStackTop));
        assert!(build_initial_stack(USER_END, &[], &[], &aux(b"x")).is_ok());
        // The image does not fit below a tiny stack top.
        assert_eq!(build_initial_stack(0x100, &[b"hello".as_slice()], &[], &aux(b"x")), Err(StackError::TooBig));
    }
}
