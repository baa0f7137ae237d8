//! The hostile argument pools: where each [`Arg`] kind's values come from.
//!
//! At start-up each child builds its own targets (see [`Pools::new`]): a
//! read-write buffer, a read-only page, a `PROT_NONE` page, a shared page,
//! a page followed by a hole (for ranges and strings that straddle into
//! unmapped memory), a hole, and a read-only data area holding the paths,
//! `argv` arrays, iovec arrays, timespecs and perf attributes the calls
//! point at. Pointers then come from those, from the child's own text,
//! data and stack, from kernel addresses, from the edges of user space,
//! and from what earlier calls returned (mappings, descriptors, pids).
//!
//! Nothing outside the child's scratch directory may be created, written
//! or removed: `/bin/fuzz` (the running program) or `/bin/hello` changed
//! under the parent would not be a kernel bug. So paths that `mkdirat` and
//! `unlinkat` get are scratch paths or bad pointers, and `openat` of any
//! other path has its write access, `O_CREAT` and `O_TRUNC` masked off
//! (devices such as `/dev/null` excepted). Pids that calls look up
//! (`wait4`, `setpgid`, `prlimit64`, ...) are anything, init included;
//! signals only go to the child, its threads and children, and its
//! siblings (`pools/sig.rs`).

mod sig;

use crate::calls::{Arg, CLONE, CLONE3, THREAD, VFORK, VFORK_THREAD};
use crate::ring::Ring;
use crate::rng::Rng;
use crate::spawn;
use core::fmt::Write;
use user::errno::Errno;
use user::mm::{self, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_NONE, PROT_READ, PROT_WRITE};
use user::util::FmtBuf;

const PAGE: u64 = PAGE_SIZE as u64;
/// The start of the kernel's linear map of RAM.
const KERNEL_LINEAR: u64 = 0xffff_0000_0000_0000;
/// A kernel address with nothing mapped (between the linear map and the
/// image; the kernel heap once lived here).
const KERNEL_UNMAPPED: u64 = 0xffff_8000_0000_0000;
/// The kernel image.
const KERNEL_IMAGE: u64 = 0xffff_ffff_8000_0000;
/// The end of user space (48-bit addresses).
const USER_END: u64 = 1 << 48;
/// A pid no process has.
const NO_PID: i64 = 0x3fff_ffff;
/// Where user programs are linked.
const TEXT_START: u64 = 0x40_0000;
/// Pages of the read-write buffer.
const RW_PAGES: usize = 4;
/// Pages of the (read-only) data area.
const DATA_PAGES: usize = 8;
/// Where in the stack buffer `ppoll`'s array, `pselect6`'s three sets and
/// `pipe2`'s two ints are built.
const POLL_FDS_AT: u64 = 0;
const FD_SETS_AT: u64 = 256;
const PIPE_FDS_AT: u64 = 640;

/// A few recent values (descriptors, mappings, pids), newest overwriting oldest.
#[derive(Clone, Copy)]
struct Recent<const N: usize> {
    items: [u64; N],
    len: usize,
    next: usize,
}

impl<const N: usize> Recent<N> {
    const fn new() -> Self {
        Recent { items: [0; N], len: 0, next: 0 }
    }

    fn push(&mut self, v: u64) {
        self.items[self.next] = v;
        self.next = (self.next + 1) % N;
        self.len = (self.len + 1).min(N);
    }

    fn remove(&mut self, v: u64) {
        // Leaves a duplicate of another entry in its place: cheap, and
        // still a value from the pool.
        if let Some(i) = self.items[..self.len].iter().position(|&x| x == v) {
            self.items[i] = self.items[(self.next + N - 1) % N];
        }
    }

    fn pick(&self, rng: &mut Rng) -> Option<u64> {
        (self.len > 0).then(|| self.items[rng.below(self.len as u64) as usize])
    }
}

/// Where a path may be written: only scratch and device paths.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// System files and directories: read only.
    System,
    /// Devices and `/proc/dumpmaps`: may be opened for writing, never removed.
    Device,
    /// The child's scratch directory: anything goes.
    Scratch,
    /// A bad pointer or a path that cannot exist.
    Bad,
}

const SYSTEM_PATHS: &[&[u8]] = &[
    b"/",
    b"/bin",
    b"/bin/hello",
    b"/etc/motd",
    b"/proc/vmstat",
    b"/proc/self/maps",
    b"/proc/self/mmstat",
    b"/proc/memdev",
    b"/dev",
    b"/dev/console",
    b"/tmp",
    b".",
    b"..",
    b"hello",
    b"",
    b"//bin/../etc/./motd",
    b"/bin/hello/x",
    b"/nonexistent/x",
    b"\xff\xfe/x",
];
const DEVICE_PATHS: &[&[u8]] = &[b"/dev/null", b"/dev/memdev", b"/dev/memdev-lazy", b"/dev/mem", b"/proc/dumpmaps"];
/// Relative to the child's scratch directory `/tmp/fuzz/cN`.
const SCRATCH_NAMES: &[&str] = &["f0", "f1", "f2", "f3", "d0", "d0/f1", "d0/d1", "d0/d1/f2", "no/such"];
const MAX_PATHS: usize = 48;

/// Lays objects out in the data area while it is still writable.
struct Builder {
    base: u64,
    used: u64,
    cap: u64,
}

impl Builder {
    fn bytes(&mut self, b: &[u8]) -> u64 {
        self.used = self.used.next_multiple_of(16);
        assert!(self.used + b.len() as u64 <= self.cap, "data area too small");
        let at = self.base + self.used;
        // SAFETY: [at, at + len) is inside the data area this child mapped
        // read-write in `Pools::new` and nothing else refers to.
        unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), at as *mut u8, b.len()) };
        self.used += b.len() as u64;
        at
    }

    fn cstr(&mut self, s: &[u8]) -> u64 {
        let at = self.bytes(s);
        self.bytes_raw(&[0]);
        at
    }

    /// Appends without aligning (a string's NUL).
    fn bytes_raw(&mut self, b: &[u8]) {
        assert!(self.used + b.len() as u64 <= self.cap, "data area too small");
        // SAFETY: as in `bytes`.
        unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), (self.base + self.used) as *mut u8, b.len()) };
        self.used += b.len() as u64;
    }

    fn words(&mut self, w: &[u64]) -> u64 {
        self.used = self.used.next_multiple_of(16);
        let at = self.base + self.used;
        for x in w {
            self.bytes_raw(&x.to_ne_bytes());
        }
        at
    }

    fn fill(&mut self, n: usize, byte: u8) -> u64 {
        self.used = self.used.next_multiple_of(16);
        assert!(self.used + n as u64 <= self.cap, "data area too small");
        let at = self.base + self.used;
        // SAFETY: as in `bytes`.
        unsafe { core::ptr::write_bytes(at as *mut u8, byte, n) };
        self.used += n as u64;
        at
    }
}

/// Pages of the alternate signal stack buffer.
const ALTSTACK_PAGES: usize = 4;
/// Bytes of each of the structures built for one call (see [`Pools::put`]).
const STRUCT_BYTES: u64 = 512;

/// One child's targets and what it learned from its calls' results (a
/// thread of the child has a copy of its own).
#[derive(Clone)]
pub struct Pools {
    me: i32,
    ppid: i32,
    ring: Ring,
    /// Read-write buffer, `RW_PAGES` pages of random bytes.
    rw: u64,
    /// The data area (read-only once built).
    data: u64,
    /// A read-write page followed by a hole.
    straddle: u64,
    ro: u64,
    none: u64,
    shared: u64,
    hole: u64,
    /// A buffer in the child's stack frame (72 KiB: a call writes 64 KiB at most).
    stack: u64,
    /// An address in the program's `.data`.
    static_data: u64,
    /// The program's break at start.
    brk: u64,
    /// The process group of the parent (signals never go there).
    parent_pgid: i32,
    /// A buffer for `sigaltstack` (`ALTSTACK_PAGES` pages).
    altstack: u64,
    /// A page of structures built for one call each (`sigaction`,
    /// `sigset_t`, `siginfo_t`, `stack_t`, `clone_args`), used in turn.
    structs: u64,
    next_struct: u64,
    /// The thread stacks (`spawn::SLOTS` of `spawn::STACK_BYTES`).
    slots: u64,

    paths: [(u64, Kind); MAX_PATHS],
    npaths: usize,
    scratch_first: usize,
    bad_first: usize,
    exec_paths: [u64; 8],
    arrays: [u64; 6],
    iovecs: [u64; 8],
    times_short: [u64; 4],
    times_bad: [u64; 4],
    time_huge: u64,
    timer_vals: [u64; 8],
    sigevents: [u64; 8],
    attrs: [u64; 5],
    /// A readable signal mask (all clear), and `pselect6` argument packs
    /// pointing at it (size 8 and 4) or at the hole.
    sigset: u64,
    sigpacks: [u64; 3],
    /// Which of the three `fd_set` buffers the next [`Arg::FdSet`] fills.
    next_set: u64,

    fds: Recent<8>,
    stale: Recent<4>,
    maps: Recent<8>,
    map_lens: Recent<8>,
    kids: Recent<4>,
    /// The child's threads.
    tids: Recent<4>,
    /// Whether the last path chosen may be opened for writing.
    writable: bool,
}

/// An address in the program's `.data` for the pools (writes to it are harmless).
static STATIC_DATA: [core::sync::atomic::AtomicU64; 64] = [const { core::sync::atomic::AtomicU64::new(0) }; 64];

/// Where a child's targets are mapped: far from the top-down mmap area,
/// so that the holes between them stay holes (a hole the kernel handed
/// out again to a later `mmap` would no longer be one).
const POOL_BASE: u64 = 0x20_0000_0000;
/// Where the areas the child's code writes itself are mapped (the
/// alternate stack, the structures, the thread stacks): 256 MiB above the
/// targets.
const OWN_BASE: u64 = POOL_BASE + (1 << 28);

/// Maps the child's targets one after the other from [`POOL_BASE`], with
/// an unmapped page after each.
struct Placer(u64);

impl Placer {
    fn map(&mut self, pages: usize, prot: u32, flags: u32) -> Result<u64, Errno> {
        let at = self.0;
        let flags = flags | MAP_ANONYMOUS | mm::MAP_FIXED_NOREPLACE;
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
        let a = unsafe { mm::mmap(at as usize, pages * PAGE_SIZE, prot, flags, -1, 0)? } as u64;
        self.0 = a + (pages as u64 + 1) * PAGE;
        Ok(a)
    }

    /// The next page, left unmapped.
    fn hole(&mut self) -> u64 {
        self.0 += PAGE;
        self.0 - PAGE
    }
}

impl Pools {
    /// Maps and fills child `index`'s targets. `stack` is a buffer in the
    /// caller's frame that may be written to.
    pub fn new(index: usize, ring: Ring, rng: &mut Rng, stack: u64) -> Result<Pools, Errno> {
        let mut place = Placer(POOL_BASE);
        let rw = place.map(RW_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
        for i in 0..(RW_PAGES * PAGE_SIZE / 8) as u64 {
            // SAFETY: rw is RW_PAGES freshly mapped writable pages.
            unsafe { ((rw + i * 8) as *mut u64).write(rng.next()) };
        }
        let data = place.map(DATA_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
        // The unmapped page after each target is what `straddle` runs into.
        let straddle = place.map(1, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
        let ro = place.map(1, PROT_READ, MAP_PRIVATE)?;
        let none = place.map(1, PROT_NONE, MAP_PRIVATE)?;
        let shared = place.map(1, PROT_READ | PROT_WRITE, MAP_SHARED)?;
        let hole = place.hole();
        // The areas the child's own code writes, further away: out of
        // reach of a hostile munmap of a few MiB from the targets above.
        let mut own = Placer(OWN_BASE);
        let altstack = own.map(ALTSTACK_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
        let structs = own.map(1, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
        let slots = own.map(spawn::SLOTS * spawn::STACK_BYTES / PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
        // SAFETY: getpgid takes no pointers.
        let parent_pgid = unsafe { user::syscall::syscall1(155, user::getppid() as usize) } as i32;

        let mut p = Pools {
            me: user::getpid(),
            ppid: user::getppid(),
            ring,
            rw,
            data,
            straddle,
            ro,
            none,
            shared,
            hole,
            stack,
            static_data: STATIC_DATA.as_ptr() as u64,
            brk: mm::current_break() as u64,
            parent_pgid,
            altstack,
            structs,
            next_struct: 0,
            slots,
            paths: [(0, Kind::Bad); MAX_PATHS],
            npaths: 0,
            scratch_first: 0,
            bad_first: 0,
            exec_paths: [0; 8],
            arrays: [0; 6],
            iovecs: [0; 8],
            times_short: [0; 4],
            times_bad: [0; 4],
            time_huge: 0,
            timer_vals: [0; 8],
            sigevents: [0; 8],
            attrs: [0; 5],
            sigset: 0,
            sigpacks: [0; 3],
            next_set: 0,
            fds: Recent::new(),
            stale: Recent::new(),
            maps: Recent::new(),
            map_lens: Recent::new(),
            kids: Recent::new(),
            tids: Recent::new(),
            writable: false,
        };
        p.build(index, rng);
        // SAFETY: the data area is this child's own; from now on only the
        // kernel reads it.
        unsafe { mm::mprotect(data as usize, DATA_PAGES * PAGE_SIZE, PROT_READ)? };
        Ok(p)
    }

    fn add_path(&mut self, addr: u64, kind: Kind) {
        self.paths[self.npaths] = (addr, kind);
        self.npaths += 1;
    }

    /// Writes the strings, arrays and structures into the data area.
    fn build(&mut self, index: usize, rng: &mut Rng) {
        let mut b = Builder { base: self.data, used: 0, cap: (DATA_PAGES * PAGE_SIZE) as u64 };
        for s in SYSTEM_PATHS {
            let a = b.cstr(s);
            self.add_path(a, Kind::System);
        }
        for s in DEVICE_PATHS {
            let a = b.cstr(s);
            self.add_path(a, Kind::Device);
        }
        self.scratch_first = self.npaths;
        let mut scratch = [0u64; SCRATCH_NAMES.len()];
        for (i, name) in SCRATCH_NAMES.iter().enumerate() {
            let mut s = FmtBuf::<64>::new();
            let _ = write!(s, "/tmp/fuzz/c{index}/{name}");
            scratch[i] = b.cstr(s.as_str().as_bytes());
            self.add_path(scratch[i], Kind::Scratch);
        }
        // Bad paths: a name over PATH_MAX, a string running into the hole
        // after the straddle page, then plain bad pointers.
        self.bad_first = self.npaths;
        let long = b.fill(5000, b'a');
        b.bytes_raw(&[0]);
        let straddle_str = self.straddle + PAGE - 12;
        // SAFETY: the last 12 bytes of the straddle page are ours; no NUL,
        // so a string read from there runs into the hole.
        unsafe { core::ptr::write_bytes(straddle_str as *mut u8, b'/', 12) };
        for a in [long, straddle_str, 0, 1, self.hole, self.none, KERNEL_IMAGE, USER_END - 1] {
            self.add_path(a, Kind::Bad);
        }

        let hello = self.paths[2].0;
        let etc_motd = self.paths[3].0;
        let x = b.cstr(b"x");
        self.exec_paths = [
            hello,
            etc_motd,
            self.paths[0].0,
            self.paths[4].0,
            scratch[0],
            b.cstr(b"/bin/nonexistent"),
            self.paths[1].0,
            self.hole,
        ];
        let long_args = [long; 64];
        let la = b.words(&long_args);
        b.words(&[0]);
        // An argv whose last pointer is followed by the hole (no NULL).
        let unterminated = self.straddle + PAGE - 16;
        // SAFETY: the last 16 bytes of the straddle page are ours.
        unsafe { core::ptr::copy_nonoverlapping([x, x].as_ptr(), unterminated as *mut u64, 2) };
        self.arrays = [
            b.words(&[hello, x, 0]),
            b.words(&[0]),
            b.words(&[self.hole, 0]),
            b.words(&[KERNEL_LINEAR, 0]),
            la,
            unterminated,
        ];

        let rw = self.rw;
        let big: [u64; 2048] = core::array::from_fn(|i| if i % 2 == 0 { rw + (i as u64 / 2) * 8 } else { 8 });
        self.iovecs = [
            b.words(&[rw, 64]),
            b.words(&[rw, 16, self.hole, 16, rw + 64, 16]),
            b.words(&[rw, u64::MAX]),
            b.words(&[KERNEL_LINEAR, 8, rw, 8]),
            b.words(&big),
            b.words(&[self.ro, PAGE, rw, 8]),
            b.words(&[self.none, PAGE, 0, 0]),
            // Straddles: the second half of the entry is in the hole.
            self.straddle + PAGE - 8,
        ];

        let ts = |b: &mut Builder, s: i64, ns: i64| b.words(&[s as u64, ns as u64]);
        self.times_short = [ts(&mut b, 0, 0), ts(&mut b, 0, 1), ts(&mut b, 0, 1_000_000), ts(&mut b, 0, 20_000_000)];
        self.times_bad = [ts(&mut b, -1, 0), ts(&mut b, 0, -1), ts(&mut b, 0, 1_000_000_000), ts(&mut b, i64::MIN, 0)];
        self.time_huge = ts(&mut b, i64::MAX, 999_999_999);

        // struct itimerval / itimerspec: interval (sec, sub), value (sec,
        // sub); the sub-second unit is µs for one, ns for the other, so the
        // short ones fire within a few ticks either way (or never: 1 ns).
        let tv = |b: &mut Builder, is: i64, isub: i64, vs: i64, vsub: i64| {
            b.words(&[is as u64, isub as u64, vs as u64, vsub as u64])
        };
        self.timer_vals = [
            tv(&mut b, 0, 0, 0, 0),
            tv(&mut b, 0, 0, 0, 20_000),
            tv(&mut b, 0, 5_000, 0, 2_000),
            tv(&mut b, 0, 1, 0, 1),
            tv(&mut b, 0, 0, 0, 999_999),
            tv(&mut b, 0, 0, 0, 1_000_000_000),
            tv(&mut b, -1, 0, 0, 1),
            tv(&mut b, i64::MAX, 999_999, i64::MAX, 999_999),
        ];
        // struct sigevent: value, signo | notify << 32, tid, padding.
        let me = self.me as u64;
        let ev = |b: &mut Builder, signo: u64, notify: u64, tid: u64| {
            b.words(&[0x5eed, signo | notify << 32, tid, 0, 0, 0, 0, 0])
        };
        self.sigevents = [
            ev(&mut b, 14, 0, 0),
            ev(&mut b, 17, 0, 0),
            ev(&mut b, 0, 1, 0),
            ev(&mut b, 10, 2, 0),
            ev(&mut b, 34, 4, me),
            ev(&mut b, 34, 4, 1),
            ev(&mut b, 0, 0, 0),
            ev(&mut b, 65, 99, 0),
        ];

        // struct perf_event_attr: type|size, config, period, sample_type,
        // read_format, flags (bit 0 disabled).
        self.attrs = [
            b.words(&[0, 0, 0, 0, 0, 0]),
            b.words(&[0, 1, 0, 0, 0, 1]),
            b.words(&[1, 0, 0, 0, 0, 0]),
            b.words(&[u64::from(u32::MAX), u64::MAX, 0, 0, 0, u64::MAX]),
            b.words(&[rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next()]),
        ];

        self.sigset = b.words(&[0]);
        self.sigpacks = [b.words(&[self.sigset, 8]), b.words(&[self.sigset, 4]), b.words(&[self.hole, 8])];
    }

    /// Child side: descriptors the child opened before fuzzing.
    pub fn add_fd(&mut self, fd: i32) {
        self.fds.push(fd as u64);
    }

    /// Picks a value for `arg`.
    pub fn gen(&mut self, arg: Arg, rng: &mut Rng) -> u64 {
        // One random word for the pools' "anything" entries.
        let x = rng.next();
        match arg {
            Arg::Fd => self.fd(rng),
            Arg::DirFd => {
                if rng.one_in(2) {
                    -100i64 as u64
                } else {
                    self.fd(rng)
                }
            }
            Arg::Path => {
                let (a, kind) = self.paths[rng.below(self.npaths as u64) as usize];
                self.writable = matches!(kind, Kind::Device | Kind::Scratch);
                if kind == Kind::Bad && rng.one_in(3) {
                    return self.pointer(rng);
                }
                a
            }
            Arg::ScratchPath => {
                let n =
                    if rng.one_in(4) { self.npaths - self.scratch_first } else { self.bad_first - self.scratch_first };
                self.paths[self.scratch_first + rng.below(n as u64) as usize].0
            }
            Arg::ExecPath => {
                // /bin/hello replaces the child: rarely.
                if rng.one_in(16) {
                    self.exec_paths[0]
                } else if rng.one_in(8) {
                    self.pointer(rng)
                } else {
                    self.exec_paths[1 + rng.below(7) as usize]
                }
            }
            Arg::OpenFlags => self.open_flags(rng),
            Arg::Mode => rng.weighted(&[(3, 0o644), (2, 0o755), (1, 0), (1, 0o7777), (1, x)]),
            Arg::In | Arg::Out => self.pointer(rng),
            Arg::Len => self.len(rng),
            Arg::Offset => rng.weighted(&[
                (6, 0),
                (2, PAGE),
                (1, 1),
                (1, PAGE - 1),
                (1, 2 * PAGE),
                (1, 1 << 20),
                (1, 1 << 32),
                (1, 1 << 40),
                (1, 1 << 62),
                (1, i64::MAX as u64),
                (1, i64::MAX as u64 & !(PAGE - 1)),
                (1, u64::MAX),
                (1, PAGE.wrapping_neg()),
            ]),
            Arg::Whence => rng.weighted(&[(3, 0), (3, 1), (3, 2), (1, 3), (1, 4), (1, u64::MAX)]),
            Arg::Addr => self.addr(rng),
            Arg::Hint => self.hint(rng),
            Arg::Touch => self.touch(rng),
            Arg::MapLen => self.map_len(rng),
            Arg::Prot => rng.weighted(&[(8, x % 8), (1, 0xb), (1, 0x10), (1, x)]),
            Arg::MapFlags => self.map_flags(rng),
            Arg::MsyncFlags => rng.weighted(&[(2, 0), (3, 1), (1, 2), (3, 4), (1, 3), (1, 5), (1, 6), (1, 8), (1, x)]),
            Arg::Pid => self.pid(rng),
            Arg::SelfPid => match rng.below(4) {
                0 | 1 => 0,
                2 => self.me as u64,
                _ => self.pid(rng),
            },
            Arg::Cpu => rng.weighted(&[(6, u64::MAX), (3, 0), (1, 1), (1, x)]),
            Arg::GroupFd => {
                if rng.one_in(4) {
                    self.fd(rng)
                } else {
                    u64::MAX
                }
            }
            // Mostly signals that do not end the child (0, ignored by
            // default, or caught if a handler is installed).
            // Each child end costs a new generation, each stop a stalled
            // second: deadly and stopping signals are about one in ten.
            Arg::Sig => rng.weighted(&[
                (20, 0),
                (5, 17),
                (4, 18),
                (3, 23),
                (3, 28),
                (3, 1 + x % 64),
                (1, 9),
                (1, 19),
                (2, 65),
                (2, u64::from(u32::MAX)),
                (1, 1 << 32 | 9),
            ]),
            // A huge sleep blocks the child until the round ends: rarely.
            Arg::Timespec => match rng.below(256) {
                0..=159 => rng.pick(&self.times_short),
                160..=199 => rng.pick(&self.times_bad),
                200 => self.time_huge,
                _ => rng.pick(&[
                    0,
                    self.hole,
                    self.none,
                    KERNEL_LINEAR,
                    self.straddle + PAGE - 8,
                    USER_END - 8,
                    self.ro,
                    TEXT_START + 1,
                ]),
            },
            Arg::Iovec => {
                if rng.one_in(4) {
                    self.pointer(rng)
                } else {
                    rng.pick(&self.iovecs)
                }
            }
            Arg::IovCount => {
                rng.weighted(&[(1, 0), (4, 1), (2, 2), (3, 3), (1, 1024), (1, 1025), (1, u64::MAX), (1, 1 << 32 | 1)])
            }
            Arg::Clock => rng.weighted(&[(8, x % 8), (1, 8), (1, 11), (1, u64::MAX), (1, (-2i64) as u64)]),
            Arg::Flags => rng.weighted(&[
                (6, 0),
                (2, 0x1000),
                (3, 0x200),
                (1, 0x100),
                (2, 0o2000000),
                (1, 1),
                (1, 2),
                (1, 4),
                (1, 8),
                (1, x & 0xffff_ffff),
                (1, u64::MAX),
            ]),
            Arg::StrArray => {
                if rng.one_in(4) {
                    self.pointer(rng)
                } else {
                    rng.pick(&self.arrays)
                }
            }
            Arg::FcntlCmd => rng.weighted(&[
                (2, 0),
                (2, 1),
                (1, 2),
                (2, 3),
                (1, 4),
                (2, 1030),
                (1, 5),
                (1, 6),
                (1, 7),
                (1, 1031),
                (1, 1032),
                (1, u64::MAX),
            ]),
            Arg::IoctlReq => rng.weighted(&[
                (2, 0x2400),
                (2, 0x2401),
                (1, 0x2402),
                (2, 0x2403),
                (1, 0x5401),
                (2, 0x541b),
                (1, 0x5450),
                (1, 0x5451),
                (1, 0),
                (1, x),
            ]),
            Arg::Who => rng.weighted(&[(3, 0), (2, u64::MAX), (1, 1), (1, 2), (1, x)]),
            Arg::Resource => rng.weighted(&[(8, x % 16), (1, 16), (1, u64::MAX)]),
            Arg::PerfAttr => {
                if rng.one_in(4) {
                    self.pointer(rng)
                } else {
                    rng.pick(&self.attrs)
                }
            }
            Arg::CloneFlags => {
                const SETTID: u64 = 0x0010_0000;
                const CLEARTID: u64 = 0x0020_0000;
                const CHILD_SETTID: u64 = 0x0100_0000;
                const CLONE_VM: u64 = 0x100;
                rng.weighted(&[
                    (6, 17),
                    (2, 17 | SETTID),
                    (2, 17 | CHILD_SETTID),
                    (1, 17 | CLEARTID),
                    (1, 17 | SETTID | CLEARTID | CHILD_SETTID),
                    (1, 17 | CLONE_VM),
                    (1, 0),
                    (1, x),
                ])
            }
            Arg::Zero => 0,
            Arg::TimerVal => {
                if rng.one_in(6) {
                    self.pointer(rng)
                } else {
                    rng.pick(&self.timer_vals)
                }
            }
            Arg::Sigevent => match rng.below(8) {
                0 => 0,
                1 => self.pointer(rng),
                _ => rng.pick(&self.sigevents),
            },
            Arg::ItimerWhich => rng.weighted(&[(6, 0), (2, 1), (2, 2), (1, 3), (1, u64::MAX), (1, x)]),
            Arg::TimerId => rng.weighted(&[(8, x % 4), (1, 64), (1, u64::MAX), (1, 1 << 32), (1, x)]),
            Arg::WaitOpts => rng.weighted(&[(2, 0), (6, 1), (1, 2), (1, 0x4000_0000), (1, 0x8000_0000), (1, x)]),
            Arg::SigNum
            | Arg::SigPid
            | Arg::SigAction
            | Arg::SigSet
            | Arg::SigSetSize
            | Arg::SigHow
            | Arg::SigInfo
            | Arg::StackT
            | Arg::ShortTimespec
            | Arg::CloneArgs
            | Arg::CloneSize
            | Arg::ThreadFlags
            | Arg::ThreadHow
            | Arg::VforkFlags
            | Arg::VforkThreadFlags
            | Arg::VforkPath => self.gen_sig(arg, rng, x),
            Arg::PipeFds => {
                if rng.one_in(5) {
                    self.pointer(rng)
                } else {
                    self.stack + PIPE_FDS_AT
                }
            }
            Arg::PipeFlags => {
                const O_NONBLOCK: u64 = 0o4000;
                const O_CLOEXEC: u64 = 0o2000000;
                const O_DIRECT: u64 = 0o200000;
                O_NONBLOCK | rng.weighted(&[(4, 0), (3, O_CLOEXEC), (1, O_DIRECT), (1, 1), (1, x)])
            }
            Arg::MknodMode => {
                const S_IFIFO: u64 = 0o010000;
                const S_IFREG: u64 = 0o100000;
                rng.weighted(&[
                    (5, S_IFIFO | 0o644),
                    (2, S_IFREG | 0o644),
                    (1, 0o600),
                    (1, 0o020000 | 0o600),
                    (1, 0o060000 | 0o600),
                    (1, 0o140000 | 0o600),
                    (1, 0o040000 | 0o755),
                    (1, 0o170000),
                    (1, x),
                ])
            }
            Arg::PollFds => {
                if rng.one_in(5) {
                    self.pointer(rng)
                } else {
                    self.poll_array(rng)
                }
            }
            Arg::PollCount => rng.weighted(&[(8, x % 9), (1, 256), (1, 257), (1, u64::MAX), (1, 1 << 32 | 1)]),
            Arg::PollTimeout => match rng.below(16) {
                0..=7 => self.times_short[0],
                8..=10 => rng.pick(&self.times_short),
                11..=12 => rng.pick(&self.times_bad),
                _ => rng.pick(&[self.hole, self.none, KERNEL_LINEAR, self.straddle + PAGE - 8]),
            },
            Arg::SigsetPtr => rng.weighted(&[(6, 0), (3, self.sigset), (1, self.hole), (1, KERNEL_LINEAR)]),
            Arg::SigsetSize => rng.weighted(&[(6, 8), (1, 0), (1, 4), (1, 16), (1, x)]),
            Arg::SelectN => {
                rng.weighted(&[(6, x % 40), (1, 64), (1, 1024), (1, u64::from(u32::MAX)), (1, 1 << 31), (1, u64::MAX)])
            }
            Arg::FdSet => match rng.below(8) {
                0..=1 => 0,
                2 => self.pointer(rng),
                _ => self.fd_set(rng),
            },
            Arg::SigPack => {
                rng.weighted(&[(5, 0), (2, self.sigpacks[0]), (1, self.sigpacks[1]), (1, self.sigpacks[2])])
            }
            Arg::FutexOp => {
                let flags = if rng.one_in(2) { 128 } else { 0 } | if rng.one_in(8) { 256 } else { 0 };
                if rng.one_in(16) {
                    x
                } else {
                    (x % 14) | flags
                }
            }
            // Never 0 (no timeout) nor far: no wait lasts more than 20 ms
            // (absolute deadlines this small are long past). Small numbers
            // are counts for requeue and wake-op, and unmapped addresses
            // (EFAULT) for the waits.
            Arg::FutexTimeout => match rng.below(16) {
                0..=7 => rng.pick(&self.times_short),
                8..=10 => rng.pick(&self.times_bad),
                11..=13 => 1 + x % 8,
                14 => u64::from(u32::MAX),
                _ => rng.pick(&[self.hole, self.none, KERNEL_LINEAR, self.straddle + PAGE - 8]),
            },
            Arg::Any => rng.weighted(&[(4, x % 16), (2, x), (1, u64::MAX), (1, 1 << 32)]),
        }
    }

    /// Writes eight `struct pollfd` entries (the child's descriptors and
    /// others, assorted events) at the start of the stack buffer; returns
    /// their address.
    fn poll_array(&mut self, rng: &mut Rng) -> u64 {
        const EVENTS: [u64; 6] = [1, 4, 5, 0, 0x18, 0xffff];
        let at = self.stack + POLL_FDS_AT;
        for i in 0..8u64 {
            let fd = self.fd(rng) as u32;
            let events = rng.pick(&EVENTS) as u16;
            let entry = u64::from(fd) | u64::from(events) << 32 | 0xdead << 48;
            // SAFETY: the stack buffer is this child's own memory (see `stack`).
            unsafe { ((at + i * 8) as *mut u64).write_volatile(entry) };
        }
        at
    }

    /// Fills one of three `fd_set` buffers (1024 bits) in the stack buffer
    /// with the child's descriptors and a few others; returns its address.
    fn fd_set(&mut self, rng: &mut Rng) -> u64 {
        let at = self.stack + FD_SETS_AT + (self.next_set % 3) * 128;
        self.next_set += 1;
        let mut words = [0u64; 16];
        for _ in 0..rng.below(6) {
            let fd = (self.fd(rng) % 1024) as usize;
            words[fd / 64] |= 1 << (fd % 64);
        }
        if rng.one_in(8) {
            words[rng.below(16) as usize] = rng.next();
        }
        for (i, w) in words.iter().enumerate() {
            // SAFETY: as in `poll_array`.
            unsafe { ((at + i as u64 * 8) as *mut u64).write_volatile(*w) };
        }
        at
    }

    /// Keeps every call from blocking for long: whatever `F_SETFL` is
    /// given, O_NONBLOCK stays set (the child's pipes and FIFOs would
    /// otherwise block it on itself until the parent kills it).
    pub fn bound_blocking(&self, nr: usize, args: &mut [u64; 6]) {
        const O_NONBLOCK: u64 = 0o4000;
        // fcntl(fd, F_SETFL, flags)
        if nr == 25 && args[1] as u32 == 4 {
            args[2] |= O_NONBLOCK;
        }
    }

    fn fd(&mut self, rng: &mut Rng) -> u64 {
        match rng.below(24) {
            0..=9 => self.fds.pick(rng).unwrap_or(3),
            10..=11 => self.stale.pick(rng).unwrap_or(4),
            12..=14 => rng.below(3),
            15 => u64::MAX,
            16 => -100i64 as u64,
            17 => rng.pick(&[255, 256, 1023]),
            18 => rng.pick(&[1 << 31, i32::MAX as u64, 1 << 32]),
            _ => 3 + rng.below(30),
        }
    }

    fn open_flags(&mut self, rng: &mut Rng) -> u64 {
        const O_CREAT: u64 = 0o100;
        const O_EXCL: u64 = 0o200;
        const O_TRUNC: u64 = 0o1000;
        const O_APPEND: u64 = 0o2000;
        const O_NONBLOCK: u64 = 0o4000;
        const O_DIRECTORY: u64 = 0o40000;
        const O_NOFOLLOW: u64 = 0o100000;
        const O_CLOEXEC: u64 = 0o2000000;
        let mut f = if rng.one_in(20) {
            rng.next()
        } else {
            let mut f = rng.below(4);
            for (bit, one_in) in [
                (O_CREAT, 2),
                (O_EXCL, 10),
                (O_TRUNC, 6),
                (O_APPEND, 6),
                (O_DIRECTORY, 10),
                (O_NOFOLLOW, 20),
                (O_CLOEXEC, 5),
                (O_NONBLOCK, 10),
            ] {
                if rng.one_in(one_in) {
                    f |= bit;
                }
            }
            f
        };
        if !self.writable {
            f &= !(3 | O_CREAT | O_TRUNC | O_APPEND);
        }
        // A FIFO opened without O_NONBLOCK waits for a partner that never
        // comes (only this child knows it); for other files it changes nothing.
        f | O_NONBLOCK
    }

    /// A pointer for the kernel to read from or write to.
    pub fn pointer(&mut self, rng: &mut Rng) -> u64 {
        let rw_len = (RW_PAGES * PAGE_SIZE) as u64;
        match rng.below(48) {
            0..=11 => self.rw + rng.below(rw_len),
            12..=13 => self.rw + rw_len - 1 - rng.below(16),
            14..=16 => self.straddle + PAGE - 1 - rng.below(64),
            17..=18 => self.ro + rng.below(64),
            19..=20 => self.none,
            21..=22 => self.hole + rng.below(PAGE),
            23..=24 => self.shared + rng.below(PAGE),
            25 => self.data + rng.below((DATA_PAGES * PAGE_SIZE) as u64),
            26 => rng.pick(&[0, 1, 8, PAGE]),
            27..=28 => rng.pick(&[KERNEL_LINEAR, KERNEL_UNMAPPED, KERNEL_IMAGE, 0xffff_ffff_ffff_fff8]),
            29..=30 => rng.pick(&[USER_END - 8, USER_END, USER_END - PAGE, 1 << 55]),
            31 => TEXT_START + rng.below(PAGE),
            32 => self.stack + rng.below(64),
            // Below the deepest frame the child uses: free stack.
            33 => self.stack.wrapping_sub(256 << 10),
            34 => self.static_data + rng.below(64),
            35 => self.brk,
            _ => match self.maps.pick(rng) {
                Some(m) => m + rng.pick(&[0, 8, PAGE - 4, PAGE]),
                None => self.rw,
            },
        }
    }

    fn len(&mut self, rng: &mut Rng) -> u64 {
        rng.weighted(&[
            (2, 0),
            (2, 1),
            (2, 8),
            (3, 64),
            (1, 100),
            (1, PAGE - 1),
            (3, PAGE),
            (1, PAGE + 1),
            (1, 2 * PAGE),
            (1, 4 * PAGE),
            (1, 1 << 16),
            (1, (1 << 16) + 1),
            (1, 1 << 20),
            (1, 1 << 31),
            (1, 1 << 32),
            (1, i64::MAX as u64),
            (1, u64::MAX),
            (1, PAGE.wrapping_neg()),
        ])
    }

    /// An address for the calls that work on existing memory (`munmap`,
    /// `mprotect`, ...). The child's own text, data and stack are in the
    /// pool, rarely: hitting them usually ends the child.
    fn addr(&mut self, rng: &mut Rng) -> u64 {
        let recent = self.maps.pick(rng);
        let a = match rng.below(1024) {
            0..=399 => recent.unwrap_or(self.rw),
            400..=519 => recent.unwrap_or(self.rw) + PAGE * rng.below(4),
            520..=559 => self.rw,
            560..=599 => self.ro,
            600..=639 => self.none,
            640..=679 => self.shared,
            680..=719 => self.hole,
            720..=759 => self.straddle,
            760..=799 => self.straddle + PAGE,
            800..=809 => self.data,
            810..=849 => self.brk + PAGE * rng.below(4),
            850..=869 => 0,
            870..=889 => rng.pick(&[0x1_0000, 0x1000, 0x20_0000, 0x4000_0000]),
            890..=909 => rng.pick(&[USER_END - PAGE, USER_END, 0xffff_ff7f_f000, 1 << 47]),
            910..=929 => rng.pick(&[KERNEL_LINEAR, KERNEL_IMAGE, !(PAGE - 1)]),
            930..=932 => TEXT_START,
            933..=935 => self.static_data & !(PAGE - 1),
            936..=938 => self.stack & !(PAGE - 1),
            _ => rng.below(USER_END) & !(PAGE - 1),
        };
        if rng.one_in(16) {
            a.wrapping_add(rng.pick(&[1, 8, PAGE - 1]))
        } else {
            a
        }
    }

    /// An address for `touch`: mostly in one of the child's recent
    /// mappings (its first 16 pages: a touch far into a huge mapping costs
    /// page tables for one byte) or its read-write targets, sometimes
    /// anywhere [`addr`](Self::addr) goes except the child's own text, data
    /// and stack.
    fn touch(&mut self, rng: &mut Rng) -> u64 {
        let n = self.maps.len;
        let r = rng.below(32);
        if n > 0 && r < 16 {
            let i = rng.below(n as u64) as usize;
            let len = self.map_lens.items[i].clamp(1, 16 * PAGE);
            return self.maps.items[i] + rng.below(len);
        }
        if r < 30 {
            let base = rng.pick(&[self.rw, self.rw + PAGE, self.shared, self.straddle]);
            return base + rng.below(PAGE);
        }
        loop {
            let a = self.addr(rng) & !(PAGE - 1);
            let own = [TEXT_START, self.static_data & !(PAGE - 1), self.stack & !(PAGE - 1)];
            if !own.contains(&a) {
                return a + rng.below(PAGE);
            }
        }
    }

    /// `mmap`'s address: mostly 0 (the kernel chooses), else an [`addr`](Self::addr).
    fn hint(&mut self, rng: &mut Rng) -> u64 {
        if rng.one_in(2) {
            0
        } else {
            self.addr(rng)
        }
    }

    fn map_len(&mut self, rng: &mut Rng) -> u64 {
        let earlier = self.map_lens.pick(rng).unwrap_or(PAGE);
        rng.weighted(&[
            (8, PAGE),
            (4, 2 * PAGE),
            (2, 3 * PAGE),
            (2, 16 * PAGE),
            (1, 1),
            (1, PAGE - 1),
            (1, PAGE + 1),
            (2, 2 << 20),
            (1, (2 << 20) + PAGE),
            (1, 4 << 20),
            (1, 64 << 20),
            (1, 1 << 30),
            (1, 1 << 40),
            (1, 1 << 47),
            (1, USER_END),
            (1, u64::MAX),
            (1, u64::MAX - (PAGE - 1)),
            (1, 0),
            (1, i64::MAX as u64),
            (2, earlier),
        ])
    }

    fn map_flags(&mut self, rng: &mut Rng) -> u64 {
        const MAP_FIXED: u64 = 0x10;
        const MAP_POPULATE: u64 = 0x8000;
        const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
        if rng.one_in(32) {
            return rng.next();
        }
        let mut f = rng.weighted(&[(8, MAP_PRIVATE as u64), (6, MAP_SHARED as u64), (1, 3), (1, 0), (1, 0xf)]);
        for (bit, one_in) in [
            (MAP_ANONYMOUS as u64, 2),
            (MAP_FIXED, 8),
            (MAP_FIXED_NOREPLACE, 16),
            (MAP_POPULATE, 5),
            (0x100, 20),
            (0x4_0000, 20),
            (0x200, 20),
        ] {
            if rng.one_in(one_in) {
                f |= bit;
            }
        }
        f
    }

    /// A pid. On armmap 0 and negative pids mean the caller itself (no
    /// process groups yet), so those are rare, like the caller's own pid.
    fn pid(&mut self, rng: &mut Rng) -> u64 {
        let p: i64 = match rng.below(64) {
            0..=3 => 1,
            4 => i64::from(self.me),
            5 => 0,
            6 => -1,
            7 => rng.pick(&[-2, -i64::from(self.me), i64::from(i32::MIN)]),
            8..=9 => {
                let sibling = self.ring.pid(rng.below(self.ring.children() as u64) as usize);
                if sibling == 0 {
                    2
                } else {
                    i64::from(sibling)
                }
            }
            // The processes its `clone` made (none yet: a pid nobody has).
            10..=37 => self.kids.pick(rng).map_or(NO_PID, |k| k as i64),
            38..=57 => 2 + rng.below(200) as i64,
            58..=59 => i64::from(self.ppid),
            _ => rng.pick(&[i64::from(i32::MAX), (1 << 32) + 1, -1i64 << 40, i64::MAX]),
        };
        p as u64
    }

    /// Learns from the result `r` of call `nr` with `args`: new and closed
    /// descriptors, mappings, children.
    pub fn learn(&mut self, nr: usize, args: &[u64; 6], r: u64) {
        if (r as i64) < 0 {
            return;
        }
        match nr {
            // openat, dup, dup3, perf_event_open
            56 | 23 | 24 | 241 => self.fds.push(r),
            // fcntl(F_DUPFD / F_DUPFD_CLOEXEC)
            25 if args[1] == 0 || args[1] == 1030 => self.fds.push(r),
            // pipe2 into the stack buffer: read the two descriptors back.
            59 if args[0] == self.stack + PIPE_FDS_AT => {
                // SAFETY: the stack buffer is this child's own memory.
                let fds = unsafe { ((self.stack + PIPE_FDS_AT) as *const [i32; 2]).read_volatile() };
                for fd in fds {
                    self.fds.push(fd as u64);
                }
            }
            57 => {
                self.fds.remove(args[0]);
                self.stale.push(args[0]);
            }
            222 => {
                self.maps.push(r);
                self.map_lens.push(args[1]);
            }
            CLONE | CLONE3 | VFORK if r > 0 => self.kids.push(r),
            THREAD | VFORK_THREAD if r > 0 => self.tids.push(r),
            _ => {}
        }
    }

    /// Whether the result `r` of call `nr` is odd: an errno Linux does not
    /// have, or an identity call answering something impossible.
    pub fn is_odd(&self, nr: usize, r: u64) -> bool {
        let e = r as i64;
        if (-4095..=-134).contains(&e) {
            return true;
        }
        match nr {
            172 | 178 => e != i64::from(self.me),
            173 => e != i64::from(self.ppid),
            174..=177 => e != 0,
            // execve returns only on failure.
            221 => e >= 0,
            _ => false,
        }
    }
}
