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
mod poll;
mod proc;
mod signal;
mod timers;

use crate::arch::aarch64::exception::TrapFrame;
use crate::errno::{encode, Errno, SysResult};

/// Linux aarch64 system call numbers armmap implements, from
/// `linux_raw_sys` (generated from Linux's headers), as the dispatch table
/// matches them.
pub mod nr {
    // This module is built for arm64 only, so the crate's numbers are
    // arm64's (the generic table, asm-generic/unistd.h).
    use linux_raw_sys::general as linux;

    pub const GETCWD: u64 = linux::__NR_getcwd as u64;
    pub const DUP: u64 = linux::__NR_dup as u64;
    pub const DUP3: u64 = linux::__NR_dup3 as u64;
    pub const FCNTL: u64 = linux::__NR_fcntl as u64;
    pub const IOCTL: u64 = linux::__NR_ioctl as u64;
    pub const MKNODAT: u64 = linux::__NR_mknodat as u64;
    pub const MKDIRAT: u64 = linux::__NR_mkdirat as u64;
    pub const UNLINKAT: u64 = linux::__NR_unlinkat as u64;
    pub const FTRUNCATE: u64 = linux::__NR_ftruncate as u64;
    pub const FACCESSAT: u64 = linux::__NR_faccessat as u64;
    pub const CHDIR: u64 = linux::__NR_chdir as u64;
    pub const OPENAT: u64 = linux::__NR_openat as u64;
    pub const CLOSE: u64 = linux::__NR_close as u64;
    pub const PIPE2: u64 = linux::__NR_pipe2 as u64;
    pub const GETDENTS64: u64 = linux::__NR_getdents64 as u64;
    pub const LSEEK: u64 = linux::__NR_lseek as u64;
    pub const READ: u64 = linux::__NR_read as u64;
    pub const WRITE: u64 = linux::__NR_write as u64;
    pub const READV: u64 = linux::__NR_readv as u64;
    pub const WRITEV: u64 = linux::__NR_writev as u64;
    pub const PREAD64: u64 = linux::__NR_pread64 as u64;
    pub const PWRITE64: u64 = linux::__NR_pwrite64 as u64;
    pub const PSELECT6: u64 = linux::__NR_pselect6 as u64;
    pub const PPOLL: u64 = linux::__NR_ppoll as u64;
    pub const READLINKAT: u64 = linux::__NR_readlinkat as u64;
    pub const NEWFSTATAT: u64 = linux::__NR_newfstatat as u64;
    pub const FSTAT: u64 = linux::__NR_fstat as u64;
    pub const FSYNC: u64 = linux::__NR_fsync as u64;
    pub const EXIT: u64 = linux::__NR_exit as u64;
    pub const EXIT_GROUP: u64 = linux::__NR_exit_group as u64;
    pub const SET_TID_ADDRESS: u64 = linux::__NR_set_tid_address as u64;
    pub const FUTEX: u64 = linux::__NR_futex as u64;
    pub const SET_ROBUST_LIST: u64 = linux::__NR_set_robust_list as u64;
    pub const GET_ROBUST_LIST: u64 = linux::__NR_get_robust_list as u64;
    pub const NANOSLEEP: u64 = linux::__NR_nanosleep as u64;
    pub const GETITIMER: u64 = linux::__NR_getitimer as u64;
    pub const SETITIMER: u64 = linux::__NR_setitimer as u64;
    pub const TIMER_CREATE: u64 = linux::__NR_timer_create as u64;
    pub const TIMER_GETTIME: u64 = linux::__NR_timer_gettime as u64;
    pub const TIMER_GETOVERRUN: u64 = linux::__NR_timer_getoverrun as u64;
    pub const TIMER_SETTIME: u64 = linux::__NR_timer_settime as u64;
    pub const TIMER_DELETE: u64 = linux::__NR_timer_delete as u64;
    pub const CLOCK_GETTIME: u64 = linux::__NR_clock_gettime as u64;
    pub const CLOCK_GETRES: u64 = linux::__NR_clock_getres as u64;
    pub const CLOCK_NANOSLEEP: u64 = linux::__NR_clock_nanosleep as u64;
    pub const SCHED_YIELD: u64 = linux::__NR_sched_yield as u64;
    pub const KILL: u64 = linux::__NR_kill as u64;
    pub const TKILL: u64 = linux::__NR_tkill as u64;
    pub const TGKILL: u64 = linux::__NR_tgkill as u64;
    pub const SIGALTSTACK: u64 = linux::__NR_sigaltstack as u64;
    pub const RT_SIGSUSPEND: u64 = linux::__NR_rt_sigsuspend as u64;
    pub const RT_SIGACTION: u64 = linux::__NR_rt_sigaction as u64;
    pub const RT_SIGPROCMASK: u64 = linux::__NR_rt_sigprocmask as u64;
    pub const RT_SIGPENDING: u64 = linux::__NR_rt_sigpending as u64;
    pub const RT_SIGTIMEDWAIT: u64 = linux::__NR_rt_sigtimedwait as u64;
    pub const RT_SIGQUEUEINFO: u64 = linux::__NR_rt_sigqueueinfo as u64;
    pub const RT_SIGRETURN: u64 = linux::__NR_rt_sigreturn as u64;
    pub const RT_TGSIGQUEUEINFO: u64 = linux::__NR_rt_tgsigqueueinfo as u64;
    pub const SETPGID: u64 = linux::__NR_setpgid as u64;
    pub const GETPGID: u64 = linux::__NR_getpgid as u64;
    pub const GETSID: u64 = linux::__NR_getsid as u64;
    pub const SETSID: u64 = linux::__NR_setsid as u64;
    pub const UNAME: u64 = linux::__NR_uname as u64;
    pub const GETRUSAGE: u64 = linux::__NR_getrusage as u64;
    pub const GETTIMEOFDAY: u64 = linux::__NR_gettimeofday as u64;
    pub const GETPID: u64 = linux::__NR_getpid as u64;
    pub const GETPPID: u64 = linux::__NR_getppid as u64;
    pub const GETUID: u64 = linux::__NR_getuid as u64;
    pub const GETEUID: u64 = linux::__NR_geteuid as u64;
    pub const GETGID: u64 = linux::__NR_getgid as u64;
    pub const GETEGID: u64 = linux::__NR_getegid as u64;
    pub const GETTID: u64 = linux::__NR_gettid as u64;
    pub const BRK: u64 = linux::__NR_brk as u64;
    pub const MUNMAP: u64 = linux::__NR_munmap as u64;
    pub const CLONE: u64 = linux::__NR_clone as u64;
    pub const EXECVE: u64 = linux::__NR_execve as u64;
    pub const MMAP: u64 = linux::__NR_mmap as u64;
    pub const MPROTECT: u64 = linux::__NR_mprotect as u64;
    pub const MSYNC: u64 = linux::__NR_msync as u64;
    pub const MADVISE: u64 = linux::__NR_madvise as u64;
    pub const WAIT4: u64 = linux::__NR_wait4 as u64;
    pub const WAITID: u64 = linux::__NR_waitid as u64;
    pub const PRCTL: u64 = linux::__NR_prctl as u64;
    pub const PRLIMIT64: u64 = linux::__NR_prlimit64 as u64;
    pub const GETRANDOM: u64 = linux::__NR_getrandom as u64;
    pub const PERF_EVENT_OPEN: u64 = linux::__NR_perf_event_open as u64;
    pub const REBOOT: u64 = linux::__NR_reboot as u64;
    pub const RSEQ: u64 = linux::__NR_rseq as u64;
    pub const CLONE3: u64 = linux::__NR_clone3 as u64;
    pub const UMASK: u64 = linux::__NR_umask as u64;
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
        nr::PIPE2 => fs::pipe2(a[0], a[1]),
        nr::MKNODAT => fs::mknodat(a[0], a[1], a[2], a[3]),
        nr::PPOLL => poll::ppoll(a[0], a[1], a[2], a[3], a[4]),
        nr::PSELECT6 => poll::pselect6(a[0], a[1], a[2], a[3], a[4], a[5]),
        nr::FSYNC => fs::fsync(a[0]),
        nr::MMAP => memory::mmap(a[0], a[1], a[2], a[3], a[4], a[5]),
        nr::MUNMAP => memory::munmap(a[0], a[1]),
        nr::MPROTECT => memory::mprotect(a[0], a[1], a[2]),
        nr::MSYNC => memory::msync(a[0], a[1], a[2]),
        nr::BRK => memory::brk(a[0]),
        nr::MADVISE => memory::madvise(a[0], a[1], a[2]),
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
        nr::WAITID => proc::waitid(a[0], a[1], a[2], a[3], a[4]),
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
        nr::PRCTL => proc::prctl(a[0], a[1]),
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
