//! System calls: the Linux aarch64 ABI.
//!
//! A user program executes `svc #0` with the call number in x8 and up to six
//! arguments in x0-x5; the result goes back in x0, a negative errno on
//! failure. Numbers, flag values and errno values are Linux's
//! (asm-generic/unistd.h), so a static program built for Linux runs
//! unchanged. A number armmap does not implement answers `-ENOSYS` and logs
//! one line naming it.

mod fs;
mod memory;
mod misc;
mod proc;
mod signal;
mod timers;

use crate::arch::aarch64::exception::TrapFrame;
use crate::errno::{encode, Errno, SysResult};

/// Linux aarch64 system call numbers armmap implements.
pub mod nr {
    pub const GETCWD: u64 = 17;
    pub const DUP: u64 = 23;
    pub const DUP3: u64 = 24;
    pub const FCNTL: u64 = 25;
    pub const IOCTL: u64 = 29;
    pub const MKDIRAT: u64 = 34;
    pub const UNLINKAT: u64 = 35;
    pub const FTRUNCATE: u64 = 46;
    pub const FACCESSAT: u64 = 48;
    pub const CHDIR: u64 = 49;
    pub const OPENAT: u64 = 56;
    pub const CLOSE: u64 = 57;
    pub const GETDENTS64: u64 = 61;
    pub const LSEEK: u64 = 62;
    pub const READ: u64 = 63;
    pub const WRITE: u64 = 64;
    pub const READV: u64 = 65;
    pub const WRITEV: u64 = 66;
    pub const PREAD64: u64 = 67;
    pub const PWRITE64: u64 = 68;
    pub const READLINKAT: u64 = 78;
    pub const NEWFSTATAT: u64 = 79;
    pub const FSTAT: u64 = 80;
    pub const FSYNC: u64 = 82;
    pub const EXIT: u64 = 93;
    pub const EXIT_GROUP: u64 = 94;
    pub const SET_TID_ADDRESS: u64 = 96;
    pub const FUTEX: u64 = 98;
    pub const SET_ROBUST_LIST: u64 = 99;
    pub const GET_ROBUST_LIST: u64 = 100;
    pub const NANOSLEEP: u64 = 101;
    pub const GETITIMER: u64 = 102;
    pub const SETITIMER: u64 = 103;
    pub const TIMER_CREATE: u64 = 107;
    pub const TIMER_GETTIME: u64 = 108;
    pub const TIMER_GETOVERRUN: u64 = 109;
    pub const TIMER_SETTIME: u64 = 110;
    pub const TIMER_DELETE: u64 = 111;
    pub const CLOCK_GETTIME: u64 = 113;
    pub const CLOCK_GETRES: u64 = 114;
    pub const CLOCK_NANOSLEEP: u64 = 115;
    pub const SCHED_YIELD: u64 = 124;
    pub const KILL: u64 = 129;
    pub const TKILL: u64 = 130;
    pub const TGKILL: u64 = 131;
    pub const SIGALTSTACK: u64 = 132;
    pub const RT_SIGSUSPEND: u64 = 133;
    pub const RT_SIGACTION: u64 = 134;
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const RT_SIGPENDING: u64 = 136;
    pub const RT_SIGTIMEDWAIT: u64 = 137;
    pub const RT_SIGQUEUEINFO: u64 = 138;
    pub const RT_SIGRETURN: u64 = 139;
    pub const RT_TGSIGQUEUEINFO: u64 = 240;
    pub const SETPGID: u64 = 154;
    pub const GETPGID: u64 = 155;
    pub const GETSID: u64 = 156;
    pub const SETSID: u64 = 157;
    pub const UNAME: u64 = 160;
    pub const GETRUSAGE: u64 = 165;
    pub const GETTIMEOFDAY: u64 = 169;
    pub const GETPID: u64 = 172;
    pub const GETPPID: u64 = 173;
    pub const GETUID: u64 = 174;
    pub const GETEUID: u64 = 175;
    pub const GETGID: u64 = 176;
    pub const GETEGID: u64 = 177;
    pub const GETTID: u64 = 178;
    pub const BRK: u64 = 214;
    pub const MUNMAP: u64 = 215;
    pub const CLONE: u64 = 220;
    pub const EXECVE: u64 = 221;
    pub const MMAP: u64 = 222;
    pub const MPROTECT: u64 = 226;
    pub const MSYNC: u64 = 227;
    pub const MADVISE: u64 = 233;
    pub const WAIT4: u64 = 260;
    pub const PRLIMIT64: u64 = 261;
    pub const GETRANDOM: u64 = 278;
    pub const PERF_EVENT_OPEN: u64 = 241;
    pub const REBOOT: u64 = 142;
    pub const RSEQ: u64 = 293;
    pub const CLONE3: u64 = 435;
    pub const UMASK: u64 = 166;
}

/// Handles the system call in `frame` and stores its result in x0.
pub fn dispatch(frame: &mut TrapFrame) {
    let a = [frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5]];
    let n = frame.x[8];
    let r: SysResult = match n {
        nr::READ => fs::read(a[0], a[1], a[2]),
        nr::WRITE => fs::write(a[0], a[1], a[2]),
        nr::READV => fs::readv(a[0], a[1], a[2]),
        nr::WRITEV => fs::writev(a[0], a[1], a[2]),
        nr::PREAD64 => fs::pread(a[0], a[1], a[2], a[3]),
        nr::PWRITE64 => fs::pwrite(a[0], a[1], a[2], a[3]),
        nr::OPENAT => fs::openat(a[0], a[1], a[2], a[3]),
        nr::CLOSE => fs::close(a[0]),
        nr::LSEEK => fs::lseek(a[0], a[1], a[2]),
        nr::FSTAT => fs::fstat(a[0], a[1]),
        nr::NEWFSTATAT => fs::newfstatat(a[0], a[1], a[2], a[3]),
        nr::FTRUNCATE => fs::ftruncate(a[0], a[1]),
        nr::UNLINKAT => fs::unlinkat(a[0], a[1], a[2]),
        nr::MKDIRAT => fs::mkdirat(a[0], a[1], a[2]),
        nr::GETDENTS64 => fs::getdents64(a[0], a[1], a[2]),
        nr::DUP => fs::dup(a[0]),
        nr::DUP3 => fs::dup3(a[0], a[1], a[2]),
        nr::FCNTL => fs::fcntl(a[0], a[1], a[2]),
        nr::GETCWD => fs::getcwd(a[0], a[1]),
        nr::CHDIR => fs::chdir(a[0]),
        nr::READLINKAT => fs::readlinkat(a[0], a[1], a[2], a[3]),
        nr::FACCESSAT => fs::faccessat(a[0], a[1], a[2]),
        nr::IOCTL => fs::ioctl(a[0], a[1], a[2]),
        nr::FSYNC => fs::fsync(a[0]),
        nr::MMAP => memory::mmap(a[0], a[1], a[2], a[3], a[4], a[5]),
        nr::MUNMAP => memory::munmap(a[0], a[1]),
        nr::MPROTECT => memory::mprotect(a[0], a[1], a[2]),
        nr::MSYNC => memory::msync(a[0], a[1], a[2]),
        nr::BRK => memory::brk(a[0]),
        nr::MADVISE => Ok(0),
        nr::EXIT => proc::exit(a[0]),
        nr::EXIT_GROUP => proc::exit_group(a[0]),
        nr::GETPID => proc::getpid(),
        nr::GETTID => Ok(crate::task::sched::current() as u64),
        nr::GETPPID => proc::getppid(),
        nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Ok(0),
        nr::SCHED_YIELD => proc::sched_yield(),
        nr::CLONE => proc::clone(frame, a[0], a[1], a[2], a[3], a[4]),
        nr::CLONE3 => proc::clone3(frame, a[0], a[1]),
        nr::EXECVE => proc::execve(a[0], a[1], a[2]),
        nr::WAIT4 => proc::wait4(a[0], a[1], a[2], a[3]),
        nr::KILL => proc::kill(a[0], a[1]),
        nr::SETPGID => proc::setpgid(a[0], a[1]),
        nr::GETPGID => proc::getpgid(a[0]),
        nr::GETSID => proc::getsid(a[0]),
        nr::SETSID => proc::setsid(),
        nr::TKILL => proc::tkill(a[0], a[1]),
        nr::TGKILL => proc::tgkill(a[0], a[1], a[2]),
        nr::SET_TID_ADDRESS => proc::set_tid_address(a[0]),
        nr::UMASK => fs::umask(a[0]),
        nr::RT_SIGACTION => signal::rt_sigaction(a[0], a[1], a[2], a[3]),
        nr::RT_SIGPROCMASK => signal::rt_sigprocmask(a[0], a[1], a[2], a[3]),
        nr::RT_SIGPENDING => signal::rt_sigpending(a[0], a[1]),
        nr::RT_SIGSUSPEND => signal::rt_sigsuspend(a[0], a[1]),
        nr::RT_SIGTIMEDWAIT => signal::rt_sigtimedwait(a[0], a[1], a[2], a[3]),
        nr::RT_SIGQUEUEINFO => signal::rt_sigqueueinfo(a[0], a[1], a[2]),
        nr::RT_TGSIGQUEUEINFO => signal::rt_tgsigqueueinfo(a[0], a[1], a[2], a[3]),
        nr::SIGALTSTACK => signal::sigaltstack(frame, a[0], a[1]),
        nr::RT_SIGRETURN => signal::rt_sigreturn(frame),
        nr::NANOSLEEP => misc::nanosleep(a[0], a[1]),
        nr::GETITIMER => timers::getitimer(a[0], a[1]),
        nr::SETITIMER => timers::setitimer(a[0], a[1], a[2]),
        nr::TIMER_CREATE => timers::timer_create(a[0], a[1], a[2]),
        nr::TIMER_SETTIME => timers::timer_settime(a[0], a[1], a[2], a[3]),
        nr::TIMER_GETTIME => timers::timer_gettime(a[0], a[1]),
        nr::TIMER_GETOVERRUN => timers::timer_getoverrun(a[0]),
        nr::TIMER_DELETE => timers::timer_delete(a[0]),
        nr::CLOCK_NANOSLEEP => misc::clock_nanosleep(a[0], a[1], a[2], a[3]),
        nr::CLOCK_GETTIME => misc::clock_gettime(a[0], a[1]),
        nr::CLOCK_GETRES => misc::clock_getres(a[0], a[1]),
        nr::GETTIMEOFDAY => misc::gettimeofday(a[0], a[1]),
        nr::GETRUSAGE => misc::getrusage(a[0], a[1]),
        nr::UNAME => misc::uname(a[0]),
        nr::PRLIMIT64 => misc::prlimit64(a[0], a[1], a[2], a[3]),
        nr::GETRANDOM => misc::getrandom(a[0], a[1], a[2]),
        nr::PERF_EVENT_OPEN => fs::perf_event_open(a[0], a[1], a[2], a[3], a[4]),
        nr::REBOOT => misc::reboot(a[0], a[1], a[2]),
        nr::FUTEX => crate::task::futex::sys_futex(a[0], a[1], a[2], a[3], a[4], a[5]),
        nr::SET_ROBUST_LIST => crate::task::futex::set_robust_list(a[0], a[1]),
        nr::GET_ROBUST_LIST => crate::task::futex::get_robust_list(a[0], a[1], a[2]),
        // Restartable sequences are not supported: glibc's start-up copes with ENOSYS.
        nr::RSEQ => Err(Errno::ENOSYS),
        _ => {
            let pid = crate::task::sched::current();
            log::warn!("pid {pid}: unknown system call {n}, returning ENOSYS");
            Err(Errno::ENOSYS)
        }
    };
    match r {
        // Interrupted by a signal: EINTR or a restart, decided where the
        // signal is delivered.
        Err(e) if crate::task::signal::is_restart(e) => {
            crate::task::signal::deliver(frame, Some(crate::task::signal::Restart { code: e, orig_x0: a[0] }))
        }
        r => frame.x[0] = encode(r),
    }
}
