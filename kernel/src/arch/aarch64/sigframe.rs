//! The Linux arm64 signal frame, byte for byte, and the two pure steps
//! around it: building the frame a handler runs on, and checking the one
//! `rt_sigreturn` reads back.
//!
//! To run a handler, Linux pushes onto the user stack (or the alternate
//! signal stack) a `struct rt_sigframe` — the `siginfo_t` and a
//! `struct ucontext` holding the interrupted registers, the old signal mask
//! and, in `uc_mcontext.__reserved`, a list of records (FP/SIMD registers,
//! the fault's ESR, then a terminator) — and above it a frame record
//! (x29, x30) so that unwinders walk through the handler into the
//! interrupted code. The handler returns into a restorer that calls
//! `rt_sigreturn`, which reads the frame back from the stack pointer and
//! restores what it says, after checking every record and making sure the
//! saved `pstate` cannot raise privilege (Linux's `restore_sigframe`,
//! `parse_user_sigframe` and `valid_user_regs`). Programs and debuggers
//! read this frame (glibc's `ucontext_t` is the same bytes), so its layout
//! is Linux's: the sizes and offsets are unit-tested here and compared with
//! the cross compiler's headers by `tests/c/abi_layout.c`.
//!
//! Everything here is pure: [`build_frame`] fills a frame the caller copies
//! to user memory at the address it returns, and [`parse_frame`] checks a
//! frame the caller copied in. No user memory is touched, so the module is
//! compiled and tested on the host too. arm64 has no red zone: the frame
//! goes right below the (16-byte aligned) stack pointer.

use linux_raw_sys::general as linux;

/// `fpsimd_context` record magic.
pub const FPSIMD_MAGIC: u32 = 0x4650_8001;
/// `esr_context` record magic.
pub const ESR_MAGIC: u32 = 0x4553_5201;

/// Size of `uc_mcontext.__reserved`, the record area.
pub const RESERVED_SIZE: usize = 4096;

/// PSTATE bits (SPSR_EL1 layout).
pub mod pstate {
    /// Exception level and stack selection (0 = EL0t).
    pub const MODE_MASK: u64 = 0xf;
    /// Set for an AArch32 state.
    pub const MODE32: u64 = 0x10;
    pub const F: u64 = 1 << 6;
    pub const I: u64 = 1 << 7;
    pub const A: u64 = 1 << 8;
    pub const D: u64 = 1 << 9;
    /// Branch type (BTI): cleared on handler entry.
    pub const BTYPE_MASK: u64 = 3 << 10;
    /// Illegal execution state.
    pub const IL: u64 = 1 << 20;
    /// Software step.
    pub const SS: u64 = 1 << 21;
    pub const NZCV: u64 = 0xf << 28;
    /// Bits user space may not set (Linux's `SPSR_EL1_AARCH64_RES0_BITS`:
    /// 63..32, 27..26, 23..22, 20..13 — IL included —, 5).
    pub const RES0: u64 = !((1u64 << 32) - 1) | (0b11 << 26) | (0b11 << 22) | (0xff << 13) | (1 << 5);
}

/// `union sigval`'s members and the other `_sifields` views, as 64-bit
/// Linux lays them out (asm-generic/siginfo.h).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SiRt {
    /// Sender's pid and uid (`si_pid`, `si_uid`).
    pub pid: i32,
    pub uid: u32,
    /// `si_value` (sigqueue's value; 0 for kill).
    pub value: u64,
}

/// `_sigfault`: the faulting address (`si_addr`).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SiFault {
    pub addr: u64,
}

/// `_sigchld`.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SiChld {
    pub pid: i32,
    pub uid: u32,
    /// Exit code or signal (`si_status`).
    pub status: i32,
    pub _pad: i32,
    /// User and system time, in clock ticks (`si_utime`, `si_stime`).
    pub utime: i64,
    pub stime: i64,
}

/// `_timer`.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SiTimer {
    /// `si_tid` (the timer id), `si_overrun`.
    pub tid: i32,
    pub overrun: i32,
    /// `si_value` (the timer's `sigev_value`).
    pub value: u64,
    pub sys_private: i32,
    pub _pad: i32,
}

/// `_sifields`: 112 bytes, read through the view the signal's code names.
///
/// Invariant: all 112 bytes are always initialised (every constructor
/// starts from `raw`), and every view is plain integers, so reading any
/// view is sound.
#[repr(C)]
#[derive(Copy, Clone)]
pub union SiFields {
    pub rt: SiRt,
    pub fault: SiFault,
    pub chld: SiChld,
    pub timer: SiTimer,
    raw: [u64; 14],
}

/// `siginfo_t` (128 bytes).
#[repr(C)]
#[derive(Copy, Clone)]
pub struct Siginfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pub _pad: i32,
    pub fields: SiFields,
}

impl Siginfo {
    fn new(signo: u32, code: i32) -> Self {
        Siginfo { signo: signo as i32, errno: 0, code, _pad: 0, fields: SiFields { raw: [0; 14] } }
    }

    /// From `kill` (SI_USER) or another sender with a pid and uid; `value`
    /// is sigqueue's (SI_QUEUE), 0 otherwise.
    pub fn rt(signo: u32, code: i32, pid: i32, uid: u32, value: u64) -> Self {
        let mut s = Self::new(signo, code);
        s.fields.rt = SiRt { pid, uid, value };
        s
    }

    /// A fault at `addr` (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).
    pub fn fault(signo: u32, code: i32, addr: u64) -> Self {
        let mut s = Self::new(signo, code);
        s.fields.fault = SiFault { addr };
        s
    }

    /// SIGCHLD for a child's change of state.
    pub fn chld(code: i32, chld: SiChld) -> Self {
        let mut s = Self::new(linux::SIGCHLD, code);
        s.fields.chld = chld;
        s
    }

    /// A POSIX timer's expiry (SI_TIMER).
    pub fn timer(signo: u32, tid: i32, overrun: i32, value: u64) -> Self {
        let mut s = Self::new(signo, linux::SI_TIMER);
        s.fields.timer = SiTimer { tid, overrun, value, sys_private: 0, _pad: 0 };
        s
    }

    /// The kill/rt view.
    pub fn as_rt(&self) -> SiRt {
        // SAFETY: the union is fully initialised and all views are integers.
        unsafe { self.fields.rt }
    }

    /// The fault view.
    pub fn as_fault(&self) -> SiFault {
        // SAFETY: as in `as_rt`.
        unsafe { self.fields.fault }
    }

    /// The SIGCHLD view.
    pub fn as_chld(&self) -> SiChld {
        // SAFETY: as in `as_rt`.
        unsafe { self.fields.chld }
    }

    /// The timer view.
    pub fn as_timer(&self) -> SiTimer {
        // SAFETY: as in `as_rt`.
        unsafe { self.fields.timer }
    }

    fn raw(&self) -> [u64; 14] {
        // SAFETY: as in `as_rt`.
        unsafe { self.fields.raw }
    }
}

impl Default for Siginfo {
    /// All zero (signal 0, SI_USER).
    fn default() -> Self {
        Siginfo::rt(0, 0, 0, 0, 0)
    }
}

impl PartialEq for Siginfo {
    fn eq(&self, o: &Self) -> bool {
        (self.signo, self.errno, self.code, self.raw()) == (o.signo, o.errno, o.code, o.raw())
    }
}

impl core::fmt::Debug for Siginfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Siginfo {{ signo: {}, code: {}, fields: {:x?} }}", self.signo, self.code, &self.raw()[..4])
    }
}

/// `stack_t`: an alternate signal stack (`sigaltstack`).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct StackT {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub _pad: i32,
    pub ss_size: u64,
}

/// `struct sigcontext` (uapi/asm/sigcontext.h): 4384 bytes.
#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub struct Sigcontext {
    pub fault_address: u64,
    pub regs: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
    pub _pad: u64,
    /// The records (`__reserved`, 16-byte aligned).
    pub reserved: [u8; RESERVED_SIZE],
}

/// `struct ucontext` as the arm64 kernel defines it (uapi/asm/ucontext.h):
/// the signal mask is 8 bytes, padded to glibc's 128-byte `sigset_t`.
#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub struct Ucontext {
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: StackT,
    pub uc_sigmask: u64,
    pub _unused: [u8; 120],
    pub _pad: u64,
    pub uc_mcontext: Sigcontext,
}

/// `struct rt_sigframe` (arch/arm64/kernel/signal.c).
#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub struct RtSigframe {
    pub info: Siginfo,
    pub uc: Ucontext,
}

/// The frame record (x29, x30) Linux pushes above the frame.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct FrameRecord {
    pub fp: u64,
    pub lr: u64,
}

/// What goes on the user stack: the frame, then the frame record right
/// above it (Linux places them so: `sigframe + sizeof(rt_sigframe)` is the
/// record).
#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub struct UserFrame {
    pub frame: RtSigframe,
    pub record: FrameRecord,
}

/// `struct _aarch64_ctx`: every record's header.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct CtxHeader {
    pub magic: u32,
    pub size: u32,
}

/// `struct fpsimd_context` (528 bytes).
#[repr(C, align(16))]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct FpsimdContext {
    pub head: CtxHeader,
    pub fpsr: u32,
    pub fpcr: u32,
    pub vregs: [u128; 32],
}

/// `struct esr_context` (16 bytes).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct EsrContext {
    pub head: CtxHeader,
    pub esr: u64,
}

/// Implements byte views for types that are plain integers with no
/// implicit padding (every bit pattern is a valid value).
macro_rules! plain_bytes {
    ($($t:ty),*) => {$(
        impl $t {
            /// The value's bytes, as user memory holds them.
            pub fn as_bytes(&self) -> &[u8] {
                // SAFETY: the type is repr(C), made of integers with explicit
                // padding fields (sizes checked by the unit tests), so every
                // byte is initialised.
                unsafe { core::slice::from_raw_parts(self as *const Self as *const u8, core::mem::size_of::<Self>()) }
            }

            /// The value's bytes, to copy user memory into.
            pub fn as_bytes_mut(&mut self) -> &mut [u8] {
                // SAFETY: as above; and any bit pattern is a valid value.
                unsafe { core::slice::from_raw_parts_mut(self as *mut Self as *mut u8, core::mem::size_of::<Self>()) }
            }
        }
    )*};
}
plain_bytes!(RtSigframe, UserFrame, Siginfo);

impl RtSigframe {
    /// A frame of zeros.
    pub const fn zeroed() -> Self {
        // SAFETY: every field is an integer (or array/union of integers):
        // all zeros is a valid value.
        unsafe { core::mem::zeroed() }
    }
}

impl UserFrame {
    /// A frame of zeros.
    pub const fn zeroed() -> Self {
        UserFrame { frame: RtSigframe::zeroed(), record: FrameRecord { fp: 0, lr: 0 } }
    }
}

/// The user registers, as a trap saves them (the trap frame's layout).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct UserRegs {
    pub x: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
}

/// The FP/SIMD registers, laid out as `context::FpState` (q0-q31, FPCR,
/// FPSR).
#[repr(C, align(16))]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct FpRegs {
    pub q: [u128; 32],
    pub fpcr: u64,
    pub fpsr: u64,
}

#[cfg(target_os = "none")]
mod target_conv {
    use super::{FpRegs, UserRegs};
    use crate::arch::aarch64::context::FpState;
    use crate::arch::aarch64::exception::TrapFrame;

    const _: () = assert!(core::mem::size_of::<FpState>() == core::mem::size_of::<FpRegs>());
    const _: () = assert!(core::mem::size_of::<TrapFrame>() == core::mem::size_of::<UserRegs>());

    impl From<&FpState> for FpRegs {
        fn from(s: &FpState) -> Self {
            FpRegs { q: s.q, fpcr: s.fpcr, fpsr: s.fpsr }
        }
    }

    impl FpRegs {
        /// Stores these registers into a saved FP state.
        pub fn store(&self, s: &mut FpState) {
            s.q = self.q;
            s.fpcr = self.fpcr;
            s.fpsr = self.fpsr;
        }
    }

    impl From<&TrapFrame> for UserRegs {
        fn from(f: &TrapFrame) -> Self {
            UserRegs { x: f.x, sp: f.sp_el0, pc: f.elr, pstate: f.spsr }
        }
    }

    impl UserRegs {
        /// Stores these registers into a trap frame (the next `eret` uses them).
        pub fn store(&self, f: &mut TrapFrame) {
            f.x = self.x;
            f.sp_el0 = self.sp;
            f.elr = self.pc;
            f.spsr = self.pstate;
        }
    }
}

/// The process's alternate signal stack, as `sigaltstack` set it.
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct AltStack {
    /// Lowest address and size; size 0 means none (SS_DISABLE).
    pub sp: u64,
    pub size: u64,
    /// SS_AUTODISARM or 0.
    pub flags: u32,
}

impl AltStack {
    /// Whether `sp` is inside the alternate stack (Linux's
    /// `on_sig_stack`: never, with SS_AUTODISARM).
    pub fn contains(&self, sp: u64) -> bool {
        self.flags & linux::SS_AUTODISARM == 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// The stack's state for code running with stack pointer `sp`
    /// (Linux's `sas_ss_flags`: SS_DISABLE, SS_ONSTACK or 0); `sigaltstack`
    /// reports this with [`AltStack::flags`] added.
    pub fn ss_flags(&self, sp: u64) -> u32 {
        if self.size == 0 {
            linux::SS_DISABLE
        } else if self.contains(sp) {
            linux::SS_ONSTACK
        } else {
            0
        }
    }

    /// `uc_stack.ss_flags` in a signal frame: the flags as `sigaltstack`
    /// set them (SS_DISABLE without a stack, else 0 or SS_AUTODISARM), as
    /// Linux's `__save_altstack` stores them (no SS_ONSTACK).
    pub fn saved_flags(&self) -> u32 {
        if self.size == 0 {
            linux::SS_DISABLE
        } else {
            self.flags
        }
    }
}

/// What a signal's delivery needs to know to build the frame.
pub struct FrameInput<'a> {
    /// The interrupted user registers.
    pub regs: &'a UserRegs,
    pub fp: &'a FpRegs,
    /// The signal mask to restore on return (the mask before delivery).
    pub old_mask: u64,
    pub altstack: AltStack,
    /// Whether the action has SA_ONSTACK.
    pub on_stack: bool,
    /// The fault's ESR and address, for a fault signal.
    pub fault: Option<(u64, u64)>,
    pub info: &'a Siginfo,
}

/// Where the frame goes and what else delivery must do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The frame's address: the handler's stack pointer.
    pub frame: u64,
    /// Bytes from `frame` up to where the stack was (what `access_ok`
    /// must cover, and the copy's length is `size_of::<UserFrame>()`).
    pub span: u64,
    /// The alternate stack is SS_AUTODISARM and was used: disarm it
    /// (Linux's `sas_ss_reset`) until the handler returns.
    pub disarm_altstack: bool,
}

/// Why a signal frame could not be built or restored: the process gets
/// SIGSEGV.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BadFrame {
    /// The stack pointer leaves no room for a frame.
    NoRoom,
    /// `rt_sigreturn` with a misaligned stack pointer.
    Misaligned,
    /// A record is unknown, duplicated, misaligned or mis-sized, or the
    /// terminator is missing.
    Records,
    /// No FP/SIMD record, or one of the wrong size.
    Fpsimd,
    /// The saved pstate is not EL0t AArch64 with D, A, I and F clear.
    Pstate,
}

const FPSIMD_SIZE: usize = core::mem::size_of::<FpsimdContext>();
const ESR_SIZE: usize = core::mem::size_of::<EsrContext>();
const HEADER_SIZE: usize = core::mem::size_of::<CtxHeader>();

fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().unwrap_or_default())
}

#[cfg(test)]
fn get_u64(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().unwrap_or_default())
}

/// Builds the frame for a handler into `out` (zeroed first) and says where
/// it goes (Linux's `get_sigframe` and `setup_sigframe`): on the alternate
/// stack's top if the action asks for it (SA_ONSTACK) and the stack pointer
/// is not on it already, else below the current stack pointer; the frame
/// record 16-byte aligned below that, the frame right under the record.
pub fn build_frame(input: &FrameInput<'_>, out: &mut UserFrame) -> Result<Placement, BadFrame> {
    let regs = input.regs;
    let alt = &input.altstack;
    let use_alt = input.on_stack && alt.ss_flags(regs.sp) == 0;
    let top = if use_alt { alt.sp.checked_add(alt.size).ok_or(BadFrame::NoRoom)? } else { regs.sp };
    let record = top.checked_sub(core::mem::size_of::<FrameRecord>() as u64).ok_or(BadFrame::NoRoom)? & !15;
    let frame = record.checked_sub(core::mem::size_of::<RtSigframe>() as u64).ok_or(BadFrame::NoRoom)?;
    if frame == 0 {
        return Err(BadFrame::NoRoom);
    }

    *out = UserFrame::zeroed();
    out.record = FrameRecord { fp: regs.x[29], lr: regs.x[30] };
    let f = &mut out.frame;
    f.info = *input.info;
    f.uc.uc_stack = StackT { ss_sp: alt.sp, ss_flags: alt.saved_flags() as i32, _pad: 0, ss_size: alt.size };
    f.uc.uc_sigmask = input.old_mask;
    let mc = &mut f.uc.uc_mcontext;
    mc.regs = regs.x;
    mc.sp = regs.sp;
    mc.pc = regs.pc;
    mc.pstate = regs.pstate;
    mc.fault_address = input.fault.map_or(0, |(_, addr)| addr);

    // The records: FP/SIMD, the ESR for a fault, the terminator.
    let r = &mut mc.reserved;
    put_u32(r, 0, FPSIMD_MAGIC);
    put_u32(r, 4, FPSIMD_SIZE as u32);
    put_u32(r, 8, input.fp.fpsr as u32);
    put_u32(r, 12, input.fp.fpcr as u32);
    for (i, q) in input.fp.q.iter().enumerate() {
        r[16 + 16 * i..32 + 16 * i].copy_from_slice(&q.to_le_bytes());
    }
    let mut end = FPSIMD_SIZE;
    if let Some((esr, _)) = input.fault {
        put_u32(r, end, ESR_MAGIC);
        put_u32(r, end + 4, ESR_SIZE as u32);
        put_u64(r, end + 8, esr);
        end += ESR_SIZE;
    }
    // The terminator: magic 0, size 0 (already zero).
    debug_assert!(end + HEADER_SIZE <= RESERVED_SIZE);

    Ok(Placement { frame, span: top - frame, disarm_altstack: use_alt && alt.flags & linux::SS_AUTODISARM != 0 })
}

/// The registers a handler starts with (Linux's `setup_return`): x0 the
/// signal, x1/x2 the siginfo and ucontext addresses for an SA_SIGINFO
/// handler (left alone otherwise), sp the frame, x29 the frame record, x30
/// the restorer, pc the handler, BTYPE cleared.
pub fn handler_regs(
    regs: &UserRegs,
    at: &Placement,
    signo: u32,
    handler: u64,
    restorer: u64,
    siginfo: bool,
) -> UserRegs {
    let mut r = *regs;
    r.x[0] = signo as u64;
    if siginfo {
        r.x[1] = at.frame + core::mem::offset_of!(RtSigframe, info) as u64;
        r.x[2] = at.frame + core::mem::offset_of!(RtSigframe, uc) as u64;
    }
    r.sp = at.frame;
    r.x[29] = at.frame + core::mem::size_of::<RtSigframe>() as u64;
    r.x[30] = restorer;
    r.pc = handler;
    r.pstate &= !pstate::BTYPE_MASK;
    r
}

/// `rt_sigreturn` reads the frame at the stack pointer, which must be
/// 16-byte aligned (else SIGSEGV, as on Linux).
pub fn sigreturn_frame_addr(sp: u64) -> Result<u64, BadFrame> {
    if sp & 15 != 0 {
        Err(BadFrame::Misaligned)
    } else {
        Ok(sp)
    }
}

/// What `rt_sigreturn` restores.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub regs: UserRegs,
    pub fp: FpRegs,
    /// The signal mask (SIGKILL and SIGSTOP removed).
    pub mask: u64,
}

/// Makes a user-supplied pstate safe (Linux's `valid_user_regs` for a
/// native task not being single-stepped): the reserved bits and SS are
/// cleared; anything but AArch64 EL0t with D, A, I and F clear is refused.
pub fn sanitize_pstate(ps: u64) -> Result<u64, BadFrame> {
    let ps = ps & !pstate::RES0 & !pstate::SS;
    let el0t = ps & pstate::MODE_MASK == 0 && ps & pstate::MODE32 == 0;
    let daif = ps & (pstate::D | pstate::A | pstate::I | pstate::F);
    if el0t && daif == 0 {
        Ok(ps)
    } else {
        Err(BadFrame::Pstate)
    }
}

/// Checks a frame read back from user memory and returns what it restores
/// (Linux's `restore_sigframe` with `parse_user_sigframe`): the records are
/// walked from the start of `__reserved`, each 16-byte aligned and inside
/// the area; an FP/SIMD record (exactly one, of its exact size) is
/// required, ESR records are ignored, anything else (SVE, extra_context:
/// unsupported here) is an error, and the list must end with the
/// terminator.
pub fn parse_frame(f: &RtSigframe) -> Result<Restored, BadFrame> {
    let mc = &f.uc.uc_mcontext;
    let regs = UserRegs { x: mc.regs, sp: mc.sp, pc: mc.pc, pstate: sanitize_pstate(mc.pstate)? };
    let r = &mc.reserved;
    let mut offset = 0usize;
    let mut fpsimd: Option<(usize, usize)> = None;
    loop {
        if RESERVED_SIZE - offset < HEADER_SIZE || !offset.is_multiple_of(16) {
            return Err(BadFrame::Records);
        }
        let magic = get_u32(r, offset);
        let size = get_u32(r, offset + 4) as usize;
        if RESERVED_SIZE - offset < size {
            return Err(BadFrame::Records);
        }
        match magic {
            0 if size == 0 => break,
            0 => return Err(BadFrame::Records),
            FPSIMD_MAGIC if fpsimd.is_none() => fpsimd = Some((offset, size)),
            ESR_MAGIC => {}
            _ => return Err(BadFrame::Records),
        }
        if size < HEADER_SIZE {
            return Err(BadFrame::Records);
        }
        offset += size;
    }
    let (at, size) = fpsimd.ok_or(BadFrame::Fpsimd)?;
    if size != FPSIMD_SIZE {
        return Err(BadFrame::Fpsimd);
    }
    let mut fp = FpRegs { fpsr: get_u32(r, at + 8) as u64, fpcr: get_u32(r, at + 12) as u64, ..FpRegs::default() };
    for (i, q) in fp.q.iter_mut().enumerate() {
        let s = at + 16 + 16 * i;
        *q = u128::from_le_bytes(r[s..s + 16].try_into().unwrap_or_default());
    }
    let unblockable = (1u64 << (linux::SIGKILL - 1)) | (1u64 << (linux::SIGSTOP - 1));
    Ok(Restored { regs, fp, mask: f.uc.uc_sigmask & !unblockable })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn sizes_and_offsets_match_linux() {
        assert_eq!(size_of::<Siginfo>(), 128);
        assert_eq!(offset_of!(Siginfo, fields), 16);
        assert_eq!(size_of::<SiFields>(), 112);
        assert_eq!(offset_of!(SiRt, value), 8);
        assert_eq!(offset_of!(SiChld, status), 8);
        assert_eq!(offset_of!(SiChld, utime), 16);
        assert_eq!(offset_of!(SiChld, stime), 24);
        assert_eq!(offset_of!(SiTimer, overrun), 4);
        assert_eq!(offset_of!(SiTimer, value), 8);
        assert_eq!(size_of::<StackT>(), 24);
        assert_eq!(offset_of!(StackT, ss_size), 16);
        assert_eq!(size_of::<Sigcontext>(), 4384);
        assert_eq!(offset_of!(Sigcontext, regs), 8);
        assert_eq!(offset_of!(Sigcontext, sp), 256);
        assert_eq!(offset_of!(Sigcontext, pc), 264);
        assert_eq!(offset_of!(Sigcontext, pstate), 272);
        assert_eq!(offset_of!(Sigcontext, reserved), 288);
        assert_eq!(size_of::<Ucontext>(), 4560);
        assert_eq!(offset_of!(Ucontext, uc_stack), 16);
        assert_eq!(offset_of!(Ucontext, uc_sigmask), 40);
        assert_eq!(offset_of!(Ucontext, uc_mcontext), 176);
        assert_eq!(size_of::<RtSigframe>(), 4688);
        assert_eq!(offset_of!(RtSigframe, uc), 128);
        assert_eq!(size_of::<UserFrame>(), 4704);
        assert_eq!(size_of::<FpsimdContext>(), 528);
        assert_eq!(offset_of!(FpsimdContext, vregs), 16);
        assert_eq!(size_of::<EsrContext>(), 16);
        assert_eq!(align_of::<RtSigframe>(), 16);
        assert_eq!(size_of::<FpRegs>(), 528);
        assert_eq!(size_of::<UserRegs>(), 34 * 8);
    }

    #[test]
    fn siginfo_views_land_where_linux_reads_them() {
        let s = Siginfo::timer(14, 3, 7, 0x1122_3344_5566_7788);
        let b = s.as_bytes();
        assert_eq!(i32::from_le_bytes(b[0..4].try_into().unwrap()), 14);
        assert_eq!(i32::from_le_bytes(b[8..12].try_into().unwrap()), linux::SI_TIMER);
        assert_eq!(i32::from_le_bytes(b[16..20].try_into().unwrap()), 3); // si_tid
        assert_eq!(i32::from_le_bytes(b[20..24].try_into().unwrap()), 7); // si_overrun
        assert_eq!(u64::from_le_bytes(b[24..32].try_into().unwrap()), 0x1122_3344_5566_7788);
        let f = Siginfo::fault(11, 1, 0xdead_0000);
        assert_eq!(u64::from_le_bytes(f.as_bytes()[16..24].try_into().unwrap()), 0xdead_0000);
        let c = Siginfo::chld(1, SiChld { pid: 5, uid: 0, status: 3, utime: 9, ..Default::default() });
        assert_eq!(i32::from_le_bytes(c.as_bytes()[24..28].try_into().unwrap()), 3);
        assert_eq!(i64::from_le_bytes(c.as_bytes()[32..40].try_into().unwrap()), 9);
        assert_eq!(c.as_chld().pid, 5);
        assert_eq!(s.as_timer().overrun, 7);
        assert!(s.as_bytes()[32..].iter().all(|&x| x == 0));
    }

    fn sample_regs() -> (UserRegs, FpRegs) {
        let mut regs = UserRegs { sp: 0x7fff_f000, pc: 0x40_1000, pstate: 0x6000_0000, ..Default::default() };
        for (i, x) in regs.x.iter_mut().enumerate() {
            *x = 0x1000 + i as u64;
        }
        let mut fp = FpRegs { fpcr: 0x0300_0000, fpsr: 0x11, ..Default::default() };
        for (i, q) in fp.q.iter_mut().enumerate() {
            *q = ((i as u128) << 64) | (0xabc0 + i as u128);
        }
        (regs, fp)
    }

    fn build(
        regs: &UserRegs,
        fp: &FpRegs,
        alt: AltStack,
        on_stack: bool,
        fault: Option<(u64, u64)>,
    ) -> (UserFrame, Placement) {
        let info = Siginfo::rt(10, 0, 42, 0, 0);
        let input =
            FrameInput { regs, fp, old_mask: 0x5455 | 1 << 8 | 1 << 18, altstack: alt, on_stack, fault, info: &info };
        let mut out = UserFrame::zeroed();
        let at = build_frame(&input, &mut out).unwrap();
        (out, at)
    }

    #[test]
    fn round_trip_restores_registers_fp_and_mask() {
        let (regs, fp) = sample_regs();
        let (out, at) = build(&regs, &fp, AltStack::default(), false, Some((0x9200_0046, 0xbad)));
        assert_eq!(at.frame % 16, 0);
        assert_eq!(at.frame, ((0x7fff_f000u64 - 16) & !15) - 4688);
        assert_eq!(out.record, FrameRecord { fp: regs.x[29], lr: regs.x[30] });
        assert_eq!(out.frame.uc.uc_mcontext.fault_address, 0xbad);
        assert_eq!(out.frame.info.as_rt().pid, 42);
        assert_eq!(out.frame.uc.uc_stack.ss_flags, linux::SS_DISABLE as i32);
        // Copied out and back in as bytes, as through user memory.
        let mut back = RtSigframe::zeroed();
        back.as_bytes_mut().copy_from_slice(&out.as_bytes()[..size_of::<RtSigframe>()]);
        let r = parse_frame(&back).unwrap();
        assert_eq!(r.regs, regs);
        assert_eq!(r.fp, fp);
        assert_eq!(r.mask, 0x5455);
        // The ESR record sits after the FP/SIMD one.
        let rs = &back.uc.uc_mcontext.reserved;
        assert_eq!(get_u32(rs, 528), ESR_MAGIC);
        assert_eq!(get_u64(rs, 536), 0x9200_0046);
        assert_eq!(get_u64(rs, 544), 0);
    }

    #[test]
    fn handler_registers() {
        let (regs, _) = sample_regs();
        let at = Placement { frame: 0x7000_0000, span: 0, disarm_altstack: false };
        let r = handler_regs(&regs, &at, 14, 0x40_2000, 0x40_3000, true);
        assert_eq!((r.x[0], r.x[1], r.x[2]), (14, 0x7000_0000, 0x7000_0000 + 128));
        assert_eq!((r.sp, r.pc, r.x[30], r.x[29]), (0x7000_0000, 0x40_2000, 0x40_3000, 0x7000_0000 + 4688));
        let r = handler_regs(&regs, &at, 14, 0x40_2000, 0x40_3000, false);
        assert_eq!(r.x[1], regs.x[1]);
    }

    #[test]
    fn altstack_selection() {
        let (mut regs, fp) = sample_regs();
        let alt = AltStack { sp: 0x1000_0000, size: 0x4000, flags: 0 };
        // Not asked for: the current stack.
        let (_, at) = build(&regs, &fp, alt, false, None);
        assert!(at.frame < regs.sp && at.frame > regs.sp - 8192);
        // Asked for and not on it: the alternate stack's top.
        let (out, at) = build(&regs, &fp, alt, true, None);
        assert_eq!(at.frame, 0x1000_4000 - 16 - 4688);
        assert_eq!(out.frame.uc.uc_stack, StackT { ss_sp: 0x1000_0000, ss_flags: 0, _pad: 0, ss_size: 0x4000 });
        assert!(!at.disarm_altstack);
        // Already on it (a nested signal): below the current sp there.
        regs.sp = 0x1000_2000;
        let (out, at) = build(&regs, &fp, alt, true, None);
        assert_eq!(at.frame, 0x1000_2000 - 16 - 4688);
        assert_eq!(out.frame.uc.uc_stack.ss_flags, 0);
        assert_eq!(alt.ss_flags(regs.sp), linux::SS_ONSTACK);
        // The top end counts as on it, the bottom end does not (Linux).
        assert!(alt.contains(0x1000_4000) && !alt.contains(0x1000_0000));
        // SS_AUTODISARM: never "on" it, so always its top, and disarmed.
        let auto = AltStack { flags: linux::SS_AUTODISARM, ..alt };
        let (out, at) = build(&regs, &fp, auto, true, None);
        assert_eq!(at.frame, 0x1000_4000 - 16 - 4688);
        assert!(at.disarm_altstack);
        assert_eq!(out.frame.uc.uc_stack.ss_flags as u32, linux::SS_AUTODISARM);
        // A stack pointer too low for a frame.
        regs.sp = 0x100;
        let info = Siginfo::rt(10, 0, 1, 0, 0);
        let input = FrameInput {
            regs: &regs,
            fp: &fp,
            old_mask: 0,
            altstack: AltStack::default(),
            on_stack: true,
            fault: None,
            info: &info,
        };
        assert_eq!(build_frame(&input, &mut UserFrame::zeroed()), Err(BadFrame::NoRoom));
    }

    #[test]
    fn pstate_sanitising() {
        // Flags pass; reserved bits, IL and SS are cleared.
        assert_eq!(sanitize_pstate(0xf000_0000), Ok(0xf000_0000));
        assert_eq!(sanitize_pstate(0xf000_0000 | pstate::IL | pstate::SS | 1 << 40 | 1 << 5), Ok(0xf000_0000));
        // BTYPE and SSBS are user state.
        assert_eq!(sanitize_pstate(pstate::BTYPE_MASK | 1 << 12), Ok(pstate::BTYPE_MASK | 1 << 12));
        // EL1h, AArch32, or any of D, A, I, F: refused.
        for bad in [0x5, 0x4, 0x10, pstate::D, pstate::A, pstate::I, pstate::F] {
            assert_eq!(sanitize_pstate(bad), Err(BadFrame::Pstate), "{bad:#x}");
        }
        let (regs, fp) = sample_regs();
        let (mut out, _) = build(&regs, &fp, AltStack::default(), false, None);
        out.frame.uc.uc_mcontext.pstate = 0x3c5;
        assert_eq!(parse_frame(&out.frame), Err(BadFrame::Pstate));
    }

    #[test]
    fn bad_records_are_refused() {
        let (regs, fp) = sample_regs();
        let (good, _) = build(&regs, &fp, AltStack::default(), false, None);
        let with = |f: &dyn Fn(&mut [u8; RESERVED_SIZE])| {
            let mut fr = good.frame;
            f(&mut fr.uc.uc_mcontext.reserved);
            parse_frame(&fr)
        };
        assert!(with(&|_| {}).is_ok());
        // FP/SIMD record of the wrong size.
        assert_eq!(with(&|r| put_u32(r, 4, 544)), Err(BadFrame::Fpsimd));
        // No FP/SIMD record: the terminator first.
        assert_eq!(with(&|r| r[..8].fill(0)), Err(BadFrame::Fpsimd));
        // A terminator with a size.
        assert_eq!(with(&|r| put_u32(r, 532, 16)), Err(BadFrame::Records));
        // An unknown record (SVE's magic).
        assert_eq!(with(&|r| put_u32(r, 528, 0x5356_4501)), Err(BadFrame::Records));
        // A duplicated FP/SIMD record.
        assert_eq!(
            with(&|r| {
                let (a, b) = r.split_at_mut(528);
                b[..528].copy_from_slice(&a[..528]);
            }),
            Err(BadFrame::Records)
        );
        // A record running past the area, or too small to move on.
        assert_eq!(with(&|r| put_u32(r, 4, 8192)), Err(BadFrame::Records));
        assert_eq!(with(&|r| put_u32(r, 4, 4)), Err(BadFrame::Records));
        // Misaligned next record (size not a multiple of 16).
        assert_eq!(
            with(&|r| {
                put_u32(r, 528, ESR_MAGIC);
                put_u32(r, 532, 24);
            }),
            Err(BadFrame::Records)
        );
        // No terminator: ESR records filling the rest of the area.
        assert_eq!(
            with(&|r| {
                for at in (528..RESERVED_SIZE).step_by(16) {
                    put_u32(r, at, ESR_MAGIC);
                    put_u32(r, at + 4, 16);
                }
            }),
            Err(BadFrame::Records)
        );
        assert_eq!(sigreturn_frame_addr(0x1008), Err(BadFrame::Misaligned));
        assert_eq!(sigreturn_frame_addr(0x1010), Ok(0x1010));
    }
}
