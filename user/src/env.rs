//! The command line and environment, read from the initial stack.
//!
//! When the kernel starts a program (Linux and armmap alike) it leaves this
//! on the stack, at the address `sp` holds on entry to `_start`:
//!
//! ```text
//! sp -> argc
//!       argv[0] ... argv[argc-1]  NULL      pointers to NUL-terminated strings
//!       envp[0] ... envp[n-1]     NULL      "KEY=VALUE" strings
//!       auxv: (type, value) pairs ... (AT_NULL, 0)
//!       ... the strings themselves, higher up
//! ```
//!
//! [`Args`] remembers where those arrays are and hands out the strings as
//! `&'static [u8]` (they live as long as the program and nothing writes to
//! them). The auxiliary vector carries facts from the kernel's ELF loader,
//! for example where the program headers were mapped ([`AT_PHDR`]) and the
//! page size ([`AT_PAGESZ`]).

use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicPtr, Ordering};

/// Auxiliary vector: end of the vector.
pub const AT_NULL: usize = 0;
/// Auxiliary vector: address of the program headers in memory.
pub const AT_PHDR: usize = 3;
/// Auxiliary vector: size of one program header.
pub const AT_PHENT: usize = 4;
/// Auxiliary vector: number of program headers.
pub const AT_PHNUM: usize = 5;
/// Auxiliary vector: the page size.
pub const AT_PAGESZ: usize = 6;
/// Auxiliary vector: the program's entry point.
pub const AT_ENTRY: usize = 9;
/// Auxiliary vector: CPU feature bits.
pub const AT_HWCAP: usize = 16;
/// Auxiliary vector: address of 16 random bytes.
pub const AT_RANDOM: usize = 25;
/// Auxiliary vector: address of the file name that was executed.
pub const AT_EXECFN: usize = 31;
/// Auxiliary vector: address of the vDSO's ELF header.
pub const AT_SYSINFO_EHDR: usize = 33;

/// The program's arguments, environment and auxiliary vector.
///
/// Invariant: `argv` points at `argc` valid string pointers followed by a
/// null pointer, `envp` at string pointers ending with a null pointer and
/// then the auxiliary vector; all of it (and the strings) stays untouched
/// for the rest of the program.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
    envp: *const *const c_char,
}

/// The initial stack pointer, saved by [`Args::from_stack`] for [`args`].
static INITIAL_SP: AtomicPtr<usize> = AtomicPtr::new(core::ptr::null_mut());

/// The program's [`Args`], from anywhere (empty before `_start` ran).
pub fn args() -> Args {
    let sp = INITIAL_SP.load(Ordering::Relaxed);
    if sp.is_null() {
        return Args { argc: 0, argv: core::ptr::null(), envp: core::ptr::null() };
    }
    // SAFETY: `INITIAL_SP` is only ever set from `from_stack`, whose caller
    // guaranteed it is the initial stack pointer.
    unsafe { Args::from_stack(sp) }
}

/// A string on the initial stack, without its NUL.
///
/// # Safety
///
/// `p` must point at a NUL-terminated string that is never modified or freed.
unsafe fn static_cstr(p: *const c_char) -> &'static [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(p) }.to_bytes()
}

impl Args {
    /// Reads the layout the kernel built at `sp`.
    ///
    /// # Safety
    ///
    /// `sp` must be the stack pointer the program was started with, and
    /// the program must not overwrite that part of the stack (nothing does:
    /// it lies above `_start`'s frame).
    pub unsafe fn from_stack(sp: *const usize) -> Args {
        INITIAL_SP.store(sp as *mut usize, Ordering::Relaxed);
        // SAFETY: the kernel put argc at `sp` and the argv array right after
        // it, then envp after argv's null pointer (see the module docs).
        unsafe {
            let argc = *sp;
            let argv = sp.add(1) as *const *const c_char;
            let envp = argv.add(argc + 1);
            Args { argc, argv, envp }
        }
    }

    /// Number of arguments, including the program name.
    pub fn len(&self) -> usize {
        self.argc
    }

    /// No arguments at all (not even a program name)?
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i` (0 is the program name), as bytes.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: by the invariant, argv[i] for i < argc is a valid pointer
        // to a string that lives forever.
        Some(unsafe { static_cstr(*self.argv.add(i)) })
    }

    /// Argument `i` as a C string (for passing on to `execve`).
    pub fn get_cstr(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: as for `get`.
        Some(unsafe { CStr::from_ptr(*self.argv.add(i)) })
    }

    /// The environment strings as C strings (for passing on to `execve`).
    pub fn env_cstrs(&self) -> impl Iterator<Item = &'static CStr> {
        // Every string `env` yields is followed by its NUL in memory.
        // SAFETY: each slice comes from `CStr::from_ptr` on a string that
        // lives forever, so its pointer starts that NUL-terminated string.
        self.env().map(|s| unsafe { CStr::from_ptr(s.as_ptr() as *const c_char) })
    }

    /// Argument `i` as text (`None` if missing or not UTF-8).
    pub fn get_str(&self, i: usize) -> Option<&'static str> {
        self.get(i).and_then(|a| core::str::from_utf8(a).ok())
    }

    /// The arguments as bytes.
    pub fn iter(&self) -> impl Iterator<Item = &'static [u8]> {
        let me = *self;
        (0..self.argc).filter_map(move |i| me.get(i))
    }

    /// The arguments as text; one that is not UTF-8 shows as `"<non-UTF-8>"`.
    pub fn strs(&self) -> impl Iterator<Item = &'static str> {
        self.iter().map(|a| core::str::from_utf8(a).unwrap_or("<non-UTF-8>"))
    }

    /// The program name: `argv[0]` after its last `/` (`""` if absent).
    pub fn program(&self) -> &'static str {
        let a0 = self.get_str(0).unwrap_or("");
        a0.rsplit('/').next().unwrap_or(a0)
    }

    /// The environment strings (`"KEY=VALUE"`).
    pub fn env(&self) -> impl Iterator<Item = &'static [u8]> {
        let mut p = self.envp;
        core::iter::from_fn(move || {
            if p.is_null() {
                return None;
            }
            // SAFETY: by the invariant `p` walks the envp array, which ends
            // with a null pointer; we stop there and never read past it.
            unsafe {
                if (*p).is_null() {
                    return None;
                }
                let s = static_cstr(*p);
                p = p.add(1);
                Some(s)
            }
        })
    }

    /// The value of environment variable `name`.
    pub fn var(&self, name: &str) -> Option<&'static [u8]> {
        self.env().find_map(|kv| kv.strip_prefix(name.as_bytes())?.strip_prefix(b"="))
    }

    /// The value the kernel passed for auxiliary vector entry `key` (`AT_*`).
    pub fn auxv(&self, key: usize) -> Option<usize> {
        if self.envp.is_null() {
            return None;
        }
        // SAFETY: by the invariant, the envp array ends with a null pointer
        // and the auxiliary vector, (type, value) pairs of usize ending with
        // AT_NULL, follows it. We stop at AT_NULL.
        unsafe {
            let mut p = self.envp;
            while !(*p).is_null() {
                p = p.add(1);
            }
            let mut aux = p.add(1) as *const usize;
            loop {
                let (k, v) = (*aux, *aux.add(1));
                if k == AT_NULL {
                    return None;
                }
                if k == key {
                    return Some(v);
                }
                aux = aux.add(2);
            }
        }
    }
}
