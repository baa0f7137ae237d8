//! `pipes`: pipes, FIFOs, `ppoll`/`pselect6` and descriptor flags, checked
//! against Linux's behaviour (the program runs unchanged under
//! `qemu-aarch64`; the cases that need armmap's counters or root's rights
//! say so and are skipped or relaxed there).
//!
//! `pipes probe FD_CLOSED FD_OPEN` is the program's second role: started
//! by `execve` from the close-on-exec case, it checks that the first
//! descriptor was closed by the exec and the second was not, and writes
//! `ok` to the second.
#![no_std]
#![no_main]

use user::errno::Errno;
use user::fs::{self, Fd, O_APPEND, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY};
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, Pid};
use user::syscall::{ret, syscall2, syscall3, syscall4, syscall5, syscall6};
use user::test::{Failed, Harness, TestResult};
use user::time::{self, Timespec};
use user::{check, check_eq, fail, println, Args};

user::entry!(main);

mod nr {
    pub const DUP3: usize = 24;
    pub const FCNTL: usize = 25;
    pub const IOCTL: usize = 29;
    pub const MKNODAT: usize = 33;
    pub const PIPE2: usize = 59;
    pub const PSELECT6: usize = 72;
    pub const PPOLL: usize = 73;
    pub const MMAP: usize = 222;
}

const F_DUPFD_CLOEXEC: usize = 1030;
const F_GETFD: usize = 1;
const F_SETFD: usize = 2;
const F_GETFL: usize = 3;
const F_SETFL: usize = 4;
const F_SETPIPE_SZ: usize = 1031;
const F_GETPIPE_SZ: usize = 1032;
const FIONREAD: usize = 0x541b;
const S_IFIFO: u32 = 0o010000;
const S_IFREG: u32 = 0o100000;
const S_IFMT: u32 = 0o170000;
const POLLIN: i16 = 1;
const POLLOUT: i16 = 4;
const POLLERR: i16 = 8;
const POLLHUP: i16 = 0x10;
const POLLNVAL: i16 = 0x20;
const SIGPIPE: i32 = 13;
const SIGTERM: i32 = 15;
const PIPE_BUF: usize = 4096;

fn pipe2(flags: u32) -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: the kernel writes two ints into `fds`.
    ret(unsafe { syscall2(nr::PIPE2, fds.as_mut_ptr() as usize, flags as usize) })?;
    Ok((fds[0], fds[1]))
}

fn fcntl(fd: Fd, cmd: usize, arg: usize) -> Result<usize, Errno> {
    // SAFETY: the commands used here take integers, not pointers.
    ret(unsafe { syscall3(nr::FCNTL, fd as usize, cmd, arg) })
}

fn fionread(fd: Fd) -> Result<i32, Errno> {
    let mut n = -1i32;
    // SAFETY: FIONREAD writes one int.
    ret(unsafe { syscall3(nr::IOCTL, fd as usize, FIONREAD, &mut n as *mut i32 as usize) })?;
    Ok(n)
}

fn mknod(path: &core::ffi::CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: the path is NUL-terminated.
    ret(unsafe { syscall4(nr::MKNODAT, fs::AT_FDCWD as usize, path.as_ptr() as usize, mode as usize, 0) }).map(drop)
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

fn ppoll(fds: &mut [PollFd], timeout: Option<&mut Timespec>) -> Result<usize, Errno> {
    let t = timeout.map_or(0, |t| t as *mut Timespec as usize);
    // SAFETY: `fds` and `t` are valid for the kernel to read and write.
    ret(unsafe { syscall5(nr::PPOLL, fds.as_mut_ptr() as usize, fds.len(), t, 0, 0) })
}

fn poll1(fd: Fd, events: i16) -> Result<i16, Errno> {
    let mut p = [PollFd { fd, events, revents: 0 }];
    ppoll(&mut p, Some(&mut Timespec { tv_sec: 0, tv_nsec: 0 }))?;
    Ok(p[0].revents)
}

/// `pselect6` on sets of one long each (descriptors below 64).
fn pselect(
    n: usize,
    rd: Option<&mut u64>,
    wr: Option<&mut u64>,
    timeout: Option<&mut Timespec>,
) -> Result<usize, Errno> {
    let p = |s: Option<&mut u64>| s.map_or(0, |s| s as *mut u64 as usize);
    let t = timeout.map_or(0, |t| t as *mut Timespec as usize);
    // SAFETY: the sets and the timeout are valid for the kernel to use.
    ret(unsafe { syscall6(nr::PSELECT6, n, p(rd), p(wr), 0, t, 0) })
}

fn zero() -> Timespec {
    Timespec { tv_sec: 0, tv_nsec: 0 }
}

fn main(args: Args) -> i32 {
    if args.get_str(1) == Some("probe") {
        return probe(&args);
    }
    let mut h = Harness::new("pipes");
    let only = args.get_str(1).unwrap_or("");
    let mut case = |name: &'static str, f: fn() -> TestResult| {
        if name.contains(only) {
            h.case(name, f);
        }
    };
    case("read_sees_data_then_eof", read_sees_data_then_eof);
    case("pipe2_writes_two_ints_and_checks_flags", pipe2_writes_two_ints_and_checks_flags);
    case("eof_when_the_writer_process_dies", eof_when_the_writer_process_dies);
    case("write_without_reader_is_epipe_and_sigpipe", write_without_reader_is_epipe_and_sigpipe);
    case("nonblocking_eagain_and_capacity", nonblocking_eagain_and_capacity);
    case("small_writes_are_atomic_between_two_writers", small_writes_are_atomic_between_two_writers);
    case("large_write_blocks_until_read", large_write_blocks_until_read);
    case("fionread_counts_waiting_bytes", fionread_counts_waiting_bytes);
    case("pipe_size_calls", pipe_size_calls);
    case("huge_pipe_sizes_fail_cleanly", huge_pipe_sizes_fail_cleanly);
    case("pipe_is_a_fifo_without_position_or_mapping", pipe_is_a_fifo_without_position_or_mapping);
    case("mknod_types", mknod_types);
    case("fifo_open_rendezvous", fifo_open_rendezvous);
    case("fifo_nonblocking_opens", fifo_nonblocking_opens);
    case("fifo_data_goes_when_the_last_end_closes", fifo_data_goes_when_the_last_end_closes);
    case("ppoll_pipe_readiness", ppoll_pipe_readiness);
    case("ppoll_argument_rules", ppoll_argument_rules);
    case("ppoll_timeout_and_wakeup", ppoll_timeout_and_wakeup);
    case("pselect6_sets_and_errors", pselect6_sets_and_errors);
    case("ppoll_mask_holds_a_signal_off", ppoll_mask_holds_a_signal_off);
    case("signal_ends_blocked_pipe_waits", signal_ends_blocked_pipe_waits);
    case("descriptor_flags_per_descriptor", descriptor_flags_per_descriptor);
    case("dup3_rules", dup3_rules);
    case("close_on_exec_closes_exactly_the_flagged", close_on_exec_closes_exactly_the_flagged);
    case("frames_back_to_baseline", frames_back_to_baseline);
    h.finish()
}

/// Reads until `buf` is full or end of file.
fn read_all(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    user::util::read_full(fd, buf)
}

fn wait_status(pid: Pid) -> Result<i32, Failed> {
    let (p, status) = process::waitpid(pid, 0)?;
    check_eq!(p, pid);
    Ok(status)
}

fn expect_exit0(pid: Pid) -> TestResult {
    let s = wait_status(pid)?;
    check!(wifexited(s) && wexitstatus(s) == 0, "child status {:#x}", s);
    Ok(())
}

fn read_sees_data_then_eof() -> TestResult {
    let (r, w) = pipe2(0)?;
    check_eq!(fs::write(w, b"hello")?, 5);
    check_eq!(fs::write(w, b"")?, 0);
    let mut buf = [0u8; 16];
    check_eq!(fs::read(r, &mut buf[..0])?, 0, "a read of 0 returns at once");
    check_eq!(fs::read(r, &mut buf[..2])?, 2);
    check_eq!(&buf[..2], b"he");
    check_eq!(fs::read(r, &mut buf)?, 3, "a read takes what is there and returns");
    check_eq!(&buf[..3], b"llo");
    fs::close(w)?;
    check_eq!(fs::read(r, &mut buf)?, 0, "end of file once the writer is gone");
    check_eq!(fs::read(w, &mut buf), Err(Errno::EBADF));
    fs::close(r)?;
    let (r, w) = pipe2(0)?;
    check_eq!(fs::read(w, &mut buf), Err(Errno::EBADF), "the write end is not readable");
    check_eq!(fs::write(r, b"x"), Err(Errno::EBADF), "the read end is not writable");
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

fn pipe2_writes_two_ints_and_checks_flags() -> TestResult {
    let mut fds = [-7i32; 3];
    // SAFETY: `fds` holds three ints; the kernel writes the first two.
    ret(unsafe { syscall2(nr::PIPE2, fds.as_mut_ptr() as usize, 0) })?;
    check!(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1], "fds {:?}", fds);
    check_eq!(fds[2], -7, "only two ints are written");
    check_eq!(fcntl(fds[0], F_GETFL, 0)?, O_RDONLY as usize);
    check_eq!(fcntl(fds[1], F_GETFL, 0)?, O_WRONLY as usize);
    fs::close(fds[0])?;
    fs::close(fds[1])?;
    for bad in [O_APPEND, 1, O_RDWR] {
        check_eq!(pipe2(bad), Err(Errno::EINVAL), "flags {:#x}", bad);
    }
    let next = fs::dup(0)?;
    fs::close(next)?;
    // SAFETY: address 8 is never mapped: the kernel must fail, not write.
    let r = ret(unsafe { syscall2(nr::PIPE2, 8, 0) });
    check_eq!(r, Err(Errno::EFAULT));
    let again = fs::dup(0)?;
    fs::close(again)?;
    // (qemu-aarch64 makes the pipe on the host first and leaks it.)
    if user::util::on_armmap() {
        check_eq!(again, next, "a pipe2 that faults leaves no descriptor behind");
    }
    let (r, w) = pipe2(O_NONBLOCK | O_CLOEXEC)?;
    check_eq!(fcntl(r, F_GETFL, 0)?, (O_RDONLY | O_NONBLOCK) as usize);
    check_eq!(fcntl(w, F_GETFL, 0)?, (O_WRONLY | O_NONBLOCK) as usize);
    check_eq!(fcntl(r, F_GETFD, 0)?, 1);
    check_eq!(fcntl(w, F_GETFD, 0)?, 1);
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

fn eof_when_the_writer_process_dies() -> TestResult {
    let (r, w) = pipe2(0)?;
    let child = process::fork_run(|| {
        let _ = fs::write(w, b"from the child");
        time::sleep_ms(30);
        // Exits with the write end open: the exit closes it.
        0
    })?;
    fs::close(w)?;
    let mut buf = [0u8; 64];
    let n = read_all(r, &mut buf)?;
    check_eq!(&buf[..n], b"from the child");
    check_eq!(fs::read(r, &mut buf)?, 0);
    expect_exit0(child)?;
    fs::close(r)?;
    Ok(())
}

fn write_without_reader_is_epipe_and_sigpipe() -> TestResult {
    // The writer is a child: SIGPIPE's default action ends it.
    let (r, w) = pipe2(0)?;
    fs::close(r)?;
    let child = process::fork_run(|| {
        let _ = fs::write(w, b"nobody reads this");
        // Not reached: SIGPIPE ends the process first.
        3
    })?;
    let s = wait_status(child)?;
    check!(wifsignaled(s) && wtermsig(s) == SIGPIPE, "status {:#x}: expected death by SIGPIPE", s);
    fs::close(w)?;
    // The reader dies while the writer blocks on a full pipe.
    let (r, w) = pipe2(0)?;
    let reader = process::fork_run(|| {
        time::sleep_ms(50);
        0
    })?;
    fs::close(r)?;
    // The parent's read end is closed; only the reader child holds one.
    let writer = process::fork_run(|| {
        let chunk = [b'z'; 4096];
        loop {
            if fs::write(w, &chunk).is_err() {
                return 4;
            }
        }
    })?;
    fs::close(w)?;
    expect_exit0(reader)?;
    let s = wait_status(writer)?;
    check!(wifsignaled(s) && wtermsig(s) == SIGPIPE, "status {:#x}: the blocked writer gets SIGPIPE", s);
    Ok(())
}

fn nonblocking_eagain_and_capacity() -> TestResult {
    let (r, w) = pipe2(O_NONBLOCK)?;
    let mut buf = [0u8; 8192];
    check_eq!(fs::read(r, &mut buf), Err(Errno::EAGAIN));
    let chunk = [b'c'; 4096];
    let mut total = 0;
    loop {
        match fs::write(w, &chunk) {
            Ok(n) => total += n,
            Err(Errno::EAGAIN) => break,
            Err(e) => fail!("write: {}", e),
        }
        check!(total <= 1 << 20, "the pipe never fills");
    }
    check_eq!(total, 65536, "the default capacity");
    check_eq!(fs::write(w, b"x"), Err(Errno::EAGAIN));
    check_eq!(fs::read(r, &mut buf[..4096])?, 4096);
    // A write larger than PIPE_BUF takes what fits.
    check_eq!(fs::write(w, &buf)?, 4096, "a partial write");
    check_eq!(fs::write(w, &buf), Err(Errno::EAGAIN));
    // Blocking again (F_SETFL), reads drain it; then O_NONBLOCK again.
    fcntl(r, F_SETFL, 0)?;
    check_eq!(fcntl(r, F_GETFL, 0)?, O_RDONLY as usize);
    let mut drained = 0;
    while drained < 65536 {
        drained += fs::read(r, &mut buf)?;
    }
    check_eq!(drained, 65536);
    fcntl(r, F_SETFL, O_NONBLOCK as usize)?;
    check_eq!(fs::read(r, &mut buf), Err(Errno::EAGAIN));
    fs::close(w)?;
    check_eq!(fs::read(r, &mut buf)?, 0, "end of file, not EAGAIN, without writers");
    fs::close(r)?;
    Ok(())
}

/// Two writers send records of 3000 bytes (not a divisor of the pipe's
/// size, so records wrap around its end); every record arrives whole.
fn small_writes_are_atomic_between_two_writers() -> TestResult {
    const REC: usize = 3000;
    const EACH: usize = 150;
    let (r, w) = pipe2(0)?;
    let mut kids = [0 as Pid; 2];
    for (i, k) in kids.iter_mut().enumerate() {
        *k = process::fork_run(|| {
            let rec = [b'a' + i as u8; REC];
            for _ in 0..EACH {
                if fs::write(w, &rec) != Ok(REC) {
                    return 1;
                }
            }
            0
        })?;
    }
    fs::close(w)?;
    let mut rec = [0u8; REC];
    let mut counts = [0usize; 2];
    loop {
        let n = read_all(r, &mut rec)?;
        if n == 0 {
            break;
        }
        check_eq!(n, REC, "a whole number of records");
        let first = rec[0];
        check!(first == b'a' || first == b'b', "record starts with {}", first);
        check!(rec.iter().all(|&b| b == first), "a record mixes two writers' bytes");
        counts[(first - b'a') as usize] += 1;
    }
    check_eq!(counts, [EACH, EACH]);
    for k in kids {
        expect_exit0(k)?;
    }
    fs::close(r)?;
    Ok(())
}

/// A write far larger than the pipe goes in piece by piece as the reader
/// takes data, and returns the full count.
fn large_write_blocks_until_read() -> TestResult {
    const LEN: usize = 300_000;
    let (r, w) = pipe2(0)?;
    let child = process::fork_run(|| {
        let buf = user::mm::map_anonymous(LEN, false).expect("map");
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        match fs::write(w, buf) {
            Ok(LEN) => 0,
            _ => 1,
        }
    })?;
    fs::close(w)?;
    let mut buf = [0u8; 7000];
    let mut at = 0usize;
    loop {
        let n = fs::read(r, &mut buf)?;
        if n == 0 {
            break;
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            check_eq!(b, ((at + i) % 251) as u8, "byte {}", at + i);
        }
        at += n;
    }
    check_eq!(at, LEN);
    expect_exit0(child)?;
    fs::close(r)?;
    Ok(())
}

fn fionread_counts_waiting_bytes() -> TestResult {
    let (r, w) = pipe2(0)?;
    check_eq!(fionread(r)?, 0);
    fs::write(w, &[1u8; 123])?;
    check_eq!(fionread(r)?, 123);
    check_eq!(fionread(w)?, 123, "either end");
    let mut buf = [0u8; 100];
    fs::read(r, &mut buf)?;
    check_eq!(fionread(r)?, 23);
    // SAFETY: address 8 is never mapped.
    let bad = ret(unsafe { syscall3(nr::IOCTL, r as usize, FIONREAD, 8) });
    check_eq!(bad, Err(Errno::EFAULT));
    // SAFETY: an unknown request with no pointer.
    let unknown = ret(unsafe { syscall3(nr::IOCTL, r as usize, 0x5401, 0) });
    check_eq!(unknown, Err(Errno::ENOTTY), "TCGETS on a pipe");
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

fn pipe_size_calls() -> TestResult {
    let (r, w) = pipe2(O_NONBLOCK)?;
    check_eq!(fcntl(r, F_GETPIPE_SZ, 0)?, 65536);
    check_eq!(fcntl(w, F_SETPIPE_SZ, 0)?, 4096, "at least a page");
    check_eq!(fcntl(r, F_GETPIPE_SZ, 0)?, 4096, "one pipe behind both ends");
    check_eq!(fcntl(w, F_SETPIPE_SZ, 5000)?, 8192, "rounded up to a power of two");
    let data = [7u8; 8192];
    check_eq!(fs::write(w, &data)?, 8192);
    check_eq!(fs::write(w, b"x"), Err(Errno::EAGAIN), "the new size holds");
    check_eq!(fcntl(w, F_SETPIPE_SZ, 4096), Err(Errno::EBUSY), "cannot shrink below the data");
    check_eq!(fcntl(w, F_SETPIPE_SZ, 1 << 20)?, 1 << 20);
    check_eq!(fionread(r)?, 8192, "the data survives a resize");
    let mut buf = [0u8; 8192];
    check_eq!(read_all(r, &mut buf)?, 8192);
    check!(buf.iter().all(|&b| b == 7));
    check_eq!(fcntl(w, F_SETPIPE_SZ, (1 << 31) + 1), Err(Errno::EINVAL));
    match fcntl(w, F_SETPIPE_SZ, 2 << 20) {
        Ok(n) => check_eq!(n, 2 << 20, "root may go past pipe-max-size"),
        Err(Errno::EPERM) if !user::util::on_armmap() => {}
        Err(e) => fail!("F_SETPIPE_SZ 2 MiB: {}", e),
    }
    let f = user::util::create_file(c"/tmp/pipes-regular", b"abc")?;
    check_eq!(fcntl(f, F_GETPIPE_SZ, 0), Err(Errno::EBADF), "not a pipe");
    check_eq!(fcntl(f, F_SETPIPE_SZ, 4096), Err(Errno::EBADF));
    fs::lseek(f, 1, 0)?;
    check_eq!(fionread(f)?, 2, "FIONREAD on a regular file: bytes after the position");
    fs::close(f)?;
    fs::unlink(c"/tmp/pipes-regular")?;
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

/// The largest size (2 GiB) asked of many pipes: each gets it or ENOMEM
/// (its page index would eat the kernel's headroom), and pipes keep
/// working afterwards.
fn huge_pipe_sizes_fail_cleanly() -> TestResult {
    if !user::util::armmap_only("root's pipe sizes above pipe-max-size") {
        return Ok(());
    }
    let mut ends = [(0, 0); 12];
    let (mut granted, mut refused) = (0, 0);
    for e in ends.iter_mut() {
        *e = pipe2(O_NONBLOCK)?;
        match fcntl(e.1, F_SETPIPE_SZ, 1 << 31) {
            Ok(n) => {
                check_eq!(n, 1 << 31);
                granted += 1;
            }
            Err(Errno::ENOMEM) => refused += 1,
            Err(e) => fail!("F_SETPIPE_SZ 2 GiB: {}", e),
        }
    }
    println!("  2 GiB pipes: {granted} granted, {refused} refused (ENOMEM)");
    check!(refused > 0, "twelve 2 GiB page indexes fit in the kernel heap?");
    let (r, w) = pipe2(0)?;
    check_eq!(fs::write(w, b"still works")?, 11);
    for (a, b) in ends.into_iter().chain([(r, w)]) {
        fs::close(a)?;
        fs::close(b)?;
    }
    Ok(())
}

fn pipe_is_a_fifo_without_position_or_mapping() -> TestResult {
    let (r, w) = pipe2(0)?;
    let st = fs::fstat(r)?;
    check_eq!(st.st_mode & S_IFMT, S_IFIFO);
    check_eq!(fs::lseek(r, 0, 0), Err(Errno::ESPIPE));
    check_eq!(fs::lseek(w, 0, 1), Err(Errno::ESPIPE));
    let mut buf = [0u8; 4];
    check_eq!(fs::pread(r, &mut buf, 0), Err(Errno::ESPIPE));
    check_eq!(fs::pwrite(w, b"x", 0), Err(Errno::ESPIPE));
    // SAFETY: mmap of a pipe must fail; nothing is mapped.
    let m = ret(unsafe { syscall6(nr::MMAP, 0, 4096, 1, 1, r as usize, 0) });
    check_eq!(m, Err(Errno::ENODEV));
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

fn mknod_types() -> TestResult {
    let _ = fs::unlink(c"/tmp/pipes-node");
    mknod(c"/tmp/pipes-node", S_IFIFO | 0o600)?;
    check_eq!(fs::stat(c"/tmp/pipes-node")?.st_mode & S_IFMT, S_IFIFO);
    check_eq!(mknod(c"/tmp/pipes-node", S_IFIFO | 0o600), Err(Errno::EEXIST));
    fs::unlink(c"/tmp/pipes-node")?;
    mknod(c"/tmp/pipes-node", S_IFREG | 0o600)?;
    check_eq!(fs::stat(c"/tmp/pipes-node")?.st_mode & S_IFMT, S_IFREG);
    fs::unlink(c"/tmp/pipes-node")?;
    mknod(c"/tmp/pipes-node", 0o600)?;
    check_eq!(fs::stat(c"/tmp/pipes-node")?.st_size, 0, "type 0 is an empty regular file");
    check_eq!(fs::stat(c"/tmp/pipes-node")?.st_mode & S_IFMT, S_IFREG);
    fs::unlink(c"/tmp/pipes-node")?;
    check_eq!(mknod(c"/tmp/pipes-node", 0o040000 | 0o700), Err(Errno::EPERM), "a directory type");
    check_eq!(mknod(c"/tmp/pipes-node", 0o170000 | 0o600), Err(Errno::EINVAL), "no such type");
    check_eq!(mknod(c"/tmp/no-such-dir/node", S_IFIFO | 0o600), Err(Errno::ENOENT));
    if user::util::on_armmap() {
        check_eq!(mknod(c"/tmp/pipes-node", 0o020000 | 0o600), Err(Errno::EPERM), "device nodes");
    }
    Ok(())
}

fn fifo_open_rendezvous() -> TestResult {
    let path = c"/tmp/pipes-fifo";
    let _ = fs::unlink(path);
    mknod(path, S_IFIFO | 0o600)?;
    // A writer waits for a reader.
    let writer = process::fork_run(|| {
        let Ok(fd) = fs::open(path, O_WRONLY, 0) else { return 1 };
        if fs::write(fd, b"through the fifo") != Ok(16) {
            return 2;
        }
        0
    })?;
    time::sleep_ms(50);
    let r = fs::open(path, O_RDONLY, 0)?;
    let mut buf = [0u8; 64];
    let n = read_all(r, &mut buf)?;
    check_eq!(&buf[..n], b"through the fifo");
    expect_exit0(writer)?;
    fs::close(r)?;
    // A reader waits for a writer.
    let (sr, sw) = pipe2(0)?;
    let reader = process::fork_run(|| {
        let Ok(fd) = fs::open(path, O_RDONLY, 0) else { return 1 };
        let _ = fs::write(sw, b"opened");
        let mut b = [0u8; 8];
        match read_all(fd, &mut b) {
            Ok(4) if &b[..4] == b"ping" => 0,
            _ => 2,
        }
    })?;
    fs::close(sw)?;
    time::sleep_ms(50);
    check_eq!(fionread(sr)?, 0, "the reader is still waiting in open");
    let w = fs::open(path, O_WRONLY, 0)?;
    let mut b = [0u8; 6];
    check_eq!(read_all(sr, &mut b)?, 6, "the reader's open returned");
    fs::write(w, b"ping")?;
    fs::close(w)?;
    expect_exit0(reader)?;
    fs::close(sr)?;
    // O_RDWR never waits.
    let rw = fs::open(path, O_RDWR, 0)?;
    fs::write(rw, b"self")?;
    check_eq!(fs::read(rw, &mut buf)?, 4);
    fs::close(rw)?;
    fs::unlink(path)?;
    Ok(())
}

fn fifo_nonblocking_opens() -> TestResult {
    let path = c"/tmp/pipes-fifo-nb";
    let _ = fs::unlink(path);
    mknod(path, S_IFIFO | 0o600)?;
    check_eq!(fs::open(path, O_WRONLY | O_NONBLOCK, 0), Err(Errno::ENXIO), "no reader");
    let r = fs::open(path, O_RDONLY | O_NONBLOCK, 0)?;
    check_eq!(poll1(r, POLLIN)?, 0, "no POLLHUP before a writer has come");
    let mut buf = [0u8; 8];
    check_eq!(fs::read(r, &mut buf)?, 0, "no writer: end of file");
    let w = fs::open(path, O_WRONLY | O_NONBLOCK, 0)?;
    fs::write(w, b"nb")?;
    check_eq!(poll1(r, POLLIN)?, POLLIN);
    fs::close(w)?;
    check_eq!(poll1(r, POLLIN)?, POLLIN | POLLHUP, "data, and the writer has gone");
    check_eq!(fs::read(r, &mut buf)?, 2);
    check_eq!(poll1(r, POLLIN)?, POLLHUP);
    fs::close(r)?;
    fs::unlink(path)?;
    Ok(())
}

fn fifo_data_goes_when_the_last_end_closes() -> TestResult {
    let path = c"/tmp/pipes-fifo-gone";
    let _ = fs::unlink(path);
    mknod(path, S_IFIFO | 0o600)?;
    let rw = fs::open(path, O_RDWR, 0)?;
    fs::write(rw, b"left behind")?;
    check_eq!(fionread(rw)?, 11);
    fs::close(rw)?;
    let rw = fs::open(path, O_RDWR, 0)?;
    check_eq!(fionread(rw)?, 0, "a FIFO nobody has open keeps no data");
    fs::close(rw)?;
    fs::unlink(path)?;
    Ok(())
}

fn ppoll_pipe_readiness() -> TestResult {
    let (r, w) = pipe2(0)?;
    check_eq!(poll1(r, POLLIN)?, 0);
    check_eq!(poll1(w, POLLOUT)?, POLLOUT);
    check_eq!(poll1(r, POLLOUT)?, 0, "the read end is never writable");
    fs::write(w, b"x")?;
    check_eq!(poll1(r, POLLIN | POLLOUT)?, POLLIN);
    let mut fds = [
        PollFd { fd: r, events: POLLIN, revents: -1 },
        PollFd { fd: -1, events: POLLIN, revents: -1 },
        PollFd { fd: 200, events: POLLIN, revents: -1 },
        PollFd { fd: w, events: 0, revents: -1 },
    ];
    check_eq!(ppoll(&mut fds, Some(&mut zero()))?, 2, "the readable end and the closed descriptor");
    check_eq!(fds[0].revents, POLLIN);
    check_eq!(fds[1].revents, 0, "a negative fd is skipped");
    check_eq!(fds[2].revents, POLLNVAL);
    check_eq!(fds[3].revents, 0, "nothing asked, nothing wrong");
    fs::close(w)?;
    check_eq!(poll1(r, 0)?, POLLHUP, "POLLHUP is reported unasked");
    check_eq!(poll1(r, POLLIN)?, POLLIN | POLLHUP);
    fs::close(r)?;
    let (r, w) = pipe2(0)?;
    fs::close(r)?;
    check_eq!(poll1(w, POLLOUT)?, POLLOUT | POLLERR, "no reader: POLLERR");
    fs::close(w)?;
    let (r, w) = pipe2(O_NONBLOCK)?;
    let chunk = [0u8; 4096];
    while fs::write(w, &chunk).is_ok() {}
    check_eq!(poll1(w, POLLOUT)?, 0, "full");
    let mut buf = [0u8; 4096];
    fs::read(r, &mut buf)?;
    check_eq!(poll1(w, POLLOUT)?, POLLOUT, "room for PIPE_BUF bytes again");
    fs::close(r)?;
    fs::close(w)?;
    let f = user::util::create_file(c"/tmp/pipes-poll", b"abc")?;
    check_eq!(poll1(f, POLLIN | POLLOUT)?, POLLIN | POLLOUT, "a regular file is always ready");
    fs::close(f)?;
    fs::unlink(c"/tmp/pipes-poll")?;
    check_eq!(poll1(1, POLLOUT)?, POLLOUT, "standard output is writable");
    if user::util::on_armmap() {
        // Nobody types on the test console: not readable, and a poll on
        // it (re-checked at every tick) runs to its timeout.
        let mut fds = [PollFd { fd: 0, events: POLLIN, revents: 0 }];
        let start = time::now();
        let mut t = Timespec { tv_sec: 0, tv_nsec: 40_000_000 };
        check_eq!(ppoll(&mut fds, Some(&mut t))?, 0, "the console has no input");
        check!(time::now().nanos_since(&start) >= 35_000_000, "the console poll ended early");
    }
    Ok(())
}

fn ppoll_argument_rules() -> TestResult {
    let (r, w) = pipe2(0)?;
    let mut fds = [PollFd { fd: r, events: POLLIN, revents: 0 }];
    let p = fds.as_mut_ptr() as usize;
    let mut bad = Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
    // SAFETY: every pointer is valid or deliberately unmapped.
    let call = |fds: usize, n: usize, ts: usize, mask: usize, size: usize| unsafe {
        ret(syscall5(nr::PPOLL, fds, n, ts, mask, size))
    };
    check_eq!(call(p, 1, &mut bad as *mut Timespec as usize, 0, 0), Err(Errno::EINVAL), "nanoseconds out of range");
    let mut neg = Timespec { tv_sec: -1, tv_nsec: 0 };
    check_eq!(call(p, 1, &mut neg as *mut Timespec as usize, 0, 0), Err(Errno::EINVAL), "negative seconds");
    let mut z = zero();
    let zp = &mut z as *mut Timespec as usize;
    let mask = 0u64;
    let mp = &mask as *const u64 as usize;
    check_eq!(call(p, 1, zp, mp, 4), Err(Errno::EINVAL), "a sigset of the wrong size");
    check_eq!(call(p, 1, zp, mp, 8)?, 0, "a sigset of 8 bytes");
    check_eq!(call(p, 1, zp, 8, 8), Err(Errno::EFAULT), "an unreadable sigset");
    check_eq!(call(8, 1, zp, 0, 0), Err(Errno::EFAULT), "unreadable fds");
    check_eq!(call(8, 0, zp, 0, 0)?, 0, "no fds: nothing is read");
    check_eq!(call(p, 1, 8, 0, 0), Err(Errno::EFAULT), "unreadable timeout");
    let mut nofile = [0u64; 2];
    // SAFETY: prlimit64 writes two u64s into `nofile`.
    ret(unsafe { syscall4(261, 0, 7, 0, nofile.as_mut_ptr() as usize) })?;
    // (qemu-aarch64 copies the array itself first, and faults.)
    if user::util::on_armmap() {
        check_eq!(call(p, nofile[0] as usize + 1, zp, 0, 0), Err(Errno::EINVAL), "more than RLIMIT_NOFILE");
    }
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

fn ppoll_timeout_and_wakeup() -> TestResult {
    let (r, w) = pipe2(0)?;
    let mut fds = [PollFd { fd: r, events: POLLIN, revents: 0 }];
    let start = time::now();
    let mut t = Timespec { tv_sec: 0, tv_nsec: 100_000_000 };
    check_eq!(ppoll(&mut fds, Some(&mut t))?, 0, "times out");
    let waited = time::now().nanos_since(&start);
    check!(waited >= 90_000_000, "waited only {} ns", waited);
    check!(t.tv_sec == 0 && t.tv_nsec < 20_000_000, "time left written back: {:?}", t);
    // No timeout: woken by a write from another process.
    let child = process::fork_run(|| {
        time::sleep_ms(50);
        let _ = fs::write(w, b"wake");
        0
    })?;
    let start = time::now();
    check_eq!(ppoll(&mut fds, None)?, 1);
    check_eq!(fds[0].revents, POLLIN);
    check!(time::now().nanos_since(&start) >= 30_000_000, "returned before the write");
    // A long timeout cut short: the time left comes back.
    let mut buf = [0u8; 8];
    fs::read(r, &mut buf)?;
    let child2 = process::fork_run(|| {
        time::sleep_ms(50);
        let _ = fs::write(w, b"again");
        0
    })?;
    let mut t = Timespec { tv_sec: 5, tv_nsec: 0 };
    check_eq!(ppoll(&mut fds, Some(&mut t))?, 1);
    check!(t.tv_sec >= 4 && t.tv_sec <= 5, "time left {:?}", t);
    expect_exit0(child)?;
    expect_exit0(child2)?;
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

/// SIGUSR1's handler: counts.
static CAUGHT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

extern "C" fn on_usr1(_sig: i32) {
    CAUGHT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
}

/// `rt_sigaction(SIGUSR1, ...)`: `handler` (0: the default action), no
/// flags, no restorer (the vDSO's), empty mask.
fn set_usr1(handler: usize) -> Result<(), Errno> {
    let act: [usize; 4] = [handler, 0, 0, 0];
    // SAFETY: `act` is a kernel `struct sigaction`; no old action is asked for.
    ret(unsafe { syscall4(134, SIGUSR1 as usize, act.as_ptr() as usize, 0, 8) }).map(drop)
}

/// The thread's signal mask (`rt_sigprocmask(SIG_BLOCK, NULL, &old)`).
fn sigmask() -> Result<u64, Errno> {
    let mut old = 0u64;
    // SAFETY: the kernel writes 8 bytes into `old`.
    ret(unsafe { syscall4(135, 0, 0, &mut old as *mut u64 as usize, 8) })?;
    Ok(old)
}

const SIGUSR1: i32 = 10;

/// A signal that `ppoll`'s mask holds off does not end the wait; it acts
/// once the call returns (the thread's own mask, which lets it through,
/// is back). Linux does this; qemu-user loses the signal, so this is
/// checked here rather than in the C programs compared with it.
fn ppoll_mask_holds_a_signal_off() -> TestResult {
    if !user::util::armmap_only("a signal held off by ppoll's mask (qemu-user loses it)") {
        return Ok(());
    }
    let (r, w) = pipe2(0)?;
    set_usr1(on_usr1 as *const () as usize)?;
    CAUGHT.store(0, core::sync::atomic::Ordering::Relaxed);
    let before = sigmask()?;
    let parent = process::getpid();
    let child = process::fork_run(|| {
        time::sleep_ms(40);
        let _ = process::kill(parent, SIGUSR1);
        0
    })?;
    let hold = 1u64 << (SIGUSR1 - 1);
    let mut fds = [PollFd { fd: r, events: POLLIN, revents: 0 }];
    let mut t = Timespec { tv_sec: 0, tv_nsec: 200_000_000 };
    let start = time::now();
    // SAFETY: valid array, timeout and mask.
    let n = ret(unsafe {
        syscall5(
            nr::PPOLL,
            fds.as_mut_ptr() as usize,
            1,
            &mut t as *mut Timespec as usize,
            &hold as *const u64 as usize,
            8,
        )
    });
    let caught = CAUGHT.load(core::sync::atomic::Ordering::Relaxed);
    let waited = time::now().nanos_since(&start);
    let after = sigmask()?;
    set_usr1(0)?;
    expect_exit0(child)?;
    check_eq!(n, Ok(0), "the wait ran to its timeout");
    check!(waited >= 150_000_000, "waited {} ns", waited);
    check_eq!(caught, 1, "the handler ran when the call returned");
    check_eq!(after, before, "the thread's mask is back");
    // With its mask letting the signal through, ppoll is interrupted: EINTR
    // (a handler ran, no restart).
    set_usr1(on_usr1 as *const () as usize)?;
    let child = process::fork_run(|| {
        time::sleep_ms(40);
        let _ = process::kill(parent, SIGUSR1);
        0
    })?;
    let none = 0u64;
    let mut t = Timespec { tv_sec: 2, tv_nsec: 0 };
    // SAFETY: as above.
    let n = ret(unsafe {
        syscall5(
            nr::PPOLL,
            fds.as_mut_ptr() as usize,
            1,
            &mut t as *mut Timespec as usize,
            &none as *const u64 as usize,
            8,
        )
    });
    set_usr1(0)?;
    expect_exit0(child)?;
    check_eq!(n, Err(Errno::EINTR));
    check_eq!(CAUGHT.load(core::sync::atomic::Ordering::Relaxed), 2);
    check!(t.tv_sec >= 1, "the time left was written back: {:?}", t);
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

fn pselect6_sets_and_errors() -> TestResult {
    let (r, w) = pipe2(0)?;
    check!(r < 64 && w < 64);
    let n = r.max(w) as usize + 1;
    let (mut rd, mut wr) = (1u64 << r, 1u64 << w);
    check_eq!(pselect(n, Some(&mut rd), Some(&mut wr), Some(&mut zero()))?, 1, "only the write end is ready");
    check_eq!((rd, wr), (0, 1u64 << w));
    fs::write(w, b"data")?;
    let (mut rd, mut wr) = ((1u64 << r) | (1 << w), (1u64 << r) | (1 << w));
    check_eq!(pselect(n, Some(&mut rd), Some(&mut wr), Some(&mut zero()))?, 2);
    check_eq!((rd, wr), (1u64 << r, 1u64 << w), "the read end readable, the write end writable");
    // Timeout, with nothing ready.
    let mut buf = [0u8; 8];
    fs::read(r, &mut buf)?;
    let mut rd = 1u64 << r;
    let start = time::now();
    let mut t = Timespec { tv_sec: 0, tv_nsec: 60_000_000 };
    check_eq!(pselect(n, Some(&mut rd), None, Some(&mut t))?, 0);
    check!(time::now().nanos_since(&start) >= 50_000_000);
    check_eq!(rd, 0, "the set is cleared on timeout");
    // End of file makes the read end readable.
    fs::close(w)?;
    let mut rd = 1u64 << r;
    check_eq!(pselect(n, Some(&mut rd), None, None)?, 1);
    // Errors: a closed descriptor, a negative n, a bad sigset size.
    let mut rd = 1u64 << 40;
    check_eq!(pselect(41, Some(&mut rd), None, Some(&mut zero())), Err(Errno::EBADF));
    // SAFETY: no pointers but the timeout's.
    let neg = ret(unsafe { syscall6(nr::PSELECT6, usize::MAX, 0, 0, 0, &mut zero() as *mut Timespec as usize, 0) });
    check_eq!(neg, Err(Errno::EINVAL));
    let mask = 0u64;
    let pack = [&mask as *const u64 as usize, 4usize];
    let mut rd = 1u64 << r;
    let mut z = zero();
    // SAFETY: valid sets, timeout and argument pack.
    let badsize = ret(unsafe {
        syscall6(
            nr::PSELECT6,
            n,
            &mut rd as *mut u64 as usize,
            0,
            0,
            &mut z as *mut Timespec as usize,
            pack.as_ptr() as usize,
        )
    });
    check_eq!(badsize, Err(Errno::EINVAL), "sigset size 4");
    let pack = [&mask as *const u64 as usize, 8usize];
    // SAFETY: as above.
    let ok = ret(unsafe {
        syscall6(
            nr::PSELECT6,
            n,
            &mut rd as *mut u64 as usize,
            0,
            0,
            &mut z as *mut Timespec as usize,
            pack.as_ptr() as usize,
        )
    });
    check_eq!(ok, Ok(1));
    // SAFETY: an unreadable argument pack.
    let fault = ret(unsafe { syscall6(nr::PSELECT6, 0, 0, 0, 0, 0, 8) });
    check_eq!(fault, Err(Errno::EFAULT));
    // Bits above the table's size are not looked at (n is capped).
    let mut big = [0u64; 16];
    big[15] = 1 << 63;
    // SAFETY: `big` holds 1024 bits.
    let capped = ret(unsafe {
        syscall6(nr::PSELECT6, 1024, big.as_mut_ptr() as usize, 0, 0, &mut zero() as *mut Timespec as usize, 0)
    });
    check_eq!(capped, Ok(0), "descriptor 1023 is past the table");
    fs::close(r)?;
    Ok(())
}

/// A process blocked reading an empty pipe, writing a full one, opening a
/// FIFO or polling dies at once when killed.
fn signal_ends_blocked_pipe_waits() -> TestResult {
    let (r, w) = pipe2(0)?;
    // A second pipe, kept full: its reader (this process) never reads.
    let (fr, fw) = pipe2(0)?;
    let fifo = c"/tmp/pipes-fifo-sig";
    let _ = fs::unlink(fifo);
    mknod(fifo, S_IFIFO | 0o600)?;
    let mut kids = [0 as Pid; 4];
    kids[0] = process::fork_run(|| {
        let mut b = [0u8; 8];
        let _ = fs::read(r, &mut b);
        1
    })?;
    kids[1] = process::fork_run(|| {
        let chunk = [0u8; 4096];
        loop {
            let _ = fs::write(fw, &chunk);
        }
    })?;
    kids[2] = process::fork_run(|| {
        let _ = fs::open(fifo, O_RDONLY, 0);
        1
    })?;
    kids[3] = process::fork_run(|| {
        let mut fds = [PollFd { fd: r, events: 0, revents: 0 }];
        let _ = ppoll(&mut fds, None);
        1
    })?;
    time::sleep_ms(100);
    for k in kids {
        process::kill(k, SIGTERM)?;
    }
    for k in kids {
        let s = wait_status(k)?;
        check!(wifsignaled(s) && wtermsig(s) == SIGTERM, "child {} status {:#x}", k, s);
    }
    for fd in [r, w, fr, fw] {
        fs::close(fd)?;
    }
    fs::unlink(fifo)?;
    Ok(())
}

fn descriptor_flags_per_descriptor() -> TestResult {
    let (r, w) = pipe2(0)?;
    let d = fcntl(r, F_DUPFD_CLOEXEC, 10)? as Fd;
    check!(d >= 10);
    check_eq!(fcntl(d, F_GETFD, 0)?, 1, "F_DUPFD_CLOEXEC sets the flag on the new descriptor");
    check_eq!(fcntl(r, F_GETFD, 0)?, 0, "and not on the old one");
    fcntl(r, F_SETFD, 1)?;
    check_eq!(fcntl(r, F_GETFD, 0)?, 1);
    fcntl(d, F_SETFD, 0)?;
    check_eq!(fcntl(d, F_GETFD, 0)?, 0);
    check_eq!(fcntl(r, F_GETFD, 0)?, 1, "each descriptor keeps its own flag");
    let d2 = fs::dup(r)?;
    check_eq!(fcntl(d2, F_GETFD, 0)?, 0, "dup never copies close-on-exec");
    // Status flags belong to the open file: shared by duplicates.
    fcntl(d, F_SETFL, O_NONBLOCK as usize)?;
    check_eq!(fcntl(r, F_GETFL, 0)?, (O_RDONLY | O_NONBLOCK) as usize);
    let mut b = [0u8; 1];
    check_eq!(fs::read(d2, &mut b), Err(Errno::EAGAIN));
    // Only O_APPEND and O_NONBLOCK change; the access mode stays.
    fcntl(w, F_SETFL, (O_RDWR | O_APPEND) as usize)?;
    check_eq!(fcntl(w, F_GETFL, 0)?, (O_WRONLY | O_APPEND) as usize);
    check_eq!(fcntl(w, 9999, 0), Err(Errno::EINVAL), "unknown command");
    check_eq!(fcntl(-1, F_GETFD, 0), Err(Errno::EBADF));
    for fd in [r, w, d, d2] {
        fs::close(fd)?;
    }
    Ok(())
}

fn dup3_rules() -> TestResult {
    let (r, w) = pipe2(0)?;
    // SAFETY: dup3 takes integers.
    let dup3 = |a: Fd, b: Fd, f: u32| ret(unsafe { syscall3(nr::DUP3, a as usize, b as usize, f as usize) });
    check_eq!(dup3(r, r, 0), Err(Errno::EINVAL), "the same descriptor");
    check_eq!(dup3(r, r, O_CLOEXEC), Err(Errno::EINVAL));
    check_eq!(dup3(r, 50, O_NONBLOCK), Err(Errno::EINVAL), "flags other than O_CLOEXEC");
    check_eq!(dup3(99, 50, 0), Err(Errno::EBADF));
    check_eq!(dup3(r, 50, O_CLOEXEC)?, 50);
    check_eq!(fcntl(50, F_GETFD, 0)?, 1);
    check_eq!(dup3(r, 50, 0)?, 50, "replacing an open descriptor");
    check_eq!(fcntl(50, F_GETFD, 0)?, 0, "the flag is the new one's");
    // dup3 over the last write end closes it: end of file.
    check_eq!(dup3(r, w, 0)?, w as usize);
    let mut b = [0u8; 1];
    check_eq!(fs::read(r, &mut b)?, 0, "the write end went with the dup3");
    fs::close(50)?;
    fs::close(r)?;
    fs::close(w)?;
    Ok(())
}

/// The exec'd side of the close-on-exec case.
fn probe(args: &Args) -> i32 {
    let num = |i| args.get_str(i).and_then(|s| s.parse::<Fd>().ok()).unwrap_or(-1);
    let (closed, open) = (num(2), num(3));
    if fcntl(closed, F_GETFD, 0) != Err(Errno::EBADF) {
        return 10;
    }
    if fcntl(open, F_GETFD, 0) != Ok(0) {
        return 11;
    }
    if fs::write(open, b"ok") != Ok(2) {
        return 12;
    }
    // Stay alive a while: the parent checks, meanwhile, that the exec
    // closed the other pipe's write end (POLLHUP with this process alive).
    time::sleep_ms(200);
    0
}

fn close_on_exec_closes_exactly_the_flagged() -> TestResult {
    let (r, w) = pipe2(O_CLOEXEC)?;
    let (er, ew) = pipe2(0)?;
    let child = process::fork_run(|| {
        fs::close(r).ok();
        fs::close(er).ok();
        // `w` is close-on-exec; its duplicate is not.
        let Ok(kept) = fs::dup(w) else { return 20 };
        // The other pipe's only write end: closed by the exec alone.
        if fcntl(ew, F_SETFD, 1).is_err() {
            return 25;
        }
        // The two numbers as C strings.
        let cstr = |v: Fd, out: &mut [u8; 16]| {
            let mut f = user::util::FmtBuf::<15>::new();
            let _ = core::fmt::Write::write_fmt(&mut f, format_args!("{v}"));
            let t = f.as_str().as_bytes();
            out[..t.len()].copy_from_slice(t);
        };
        let (mut ca, mut cb) = ([0u8; 16], [0u8; 16]);
        cstr(w, &mut ca);
        cstr(kept, &mut cb);
        let (Ok(sa), Ok(sb)) = (core::ffi::CStr::from_bytes_until_nul(&ca), core::ffi::CStr::from_bytes_until_nul(&cb))
        else {
            return 21;
        };
        let me = user::env::args().get_str(0).unwrap_or("/bin/pipes");
        let mut path = [0u8; 256];
        if me.len() >= path.len() {
            return 22;
        }
        path[..me.len()].copy_from_slice(me.as_bytes());
        let Ok(p) = core::ffi::CStr::from_bytes_until_nul(&path) else { return 23 };
        process::execve(p, &[p, c"probe", sa, sb], &[]);
        24
    })?;
    fs::close(w)?;
    fs::close(ew)?;
    let mut buf = [0u8; 2];
    let n = read_all(r, &mut buf)?;
    // The probe is alive (it sleeps after writing): POLLHUP on `er` means
    // the exec closed its copy of `ew`.
    let hup = poll1(er, POLLIN)?;
    let s = wait_status(child)?;
    if !user::util::on_armmap() && wifexited(s) && wexitstatus(s) == 24 {
        println!("  note: execve of this program failed (qemu-aarch64 without binfmt_misc); skipped");
        fs::close(r)?;
        fs::close(er)?;
        return Ok(());
    }
    check!(wifexited(s) && wexitstatus(s) == 0, "probe status {:#x}", s);
    check_eq!(&buf[..n], b"ok");
    check_eq!(hup, POLLHUP, "the close-on-exec write end went with the exec");
    check_eq!(fs::read(er, &mut buf)?, 0);
    fs::close(r)?;
    fs::close(er)?;
    Ok(())
}

/// Free frames, from armmap's `/proc/vmstat`.
fn free_frames() -> Result<u64, Failed> {
    let mut buf = [0u8; 1024];
    let n = user::util::read_path(c"/proc/vmstat", &mut buf)?;
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    match user::util::key_value(text, "nr_free_pages") {
        Some(v) => Ok(v),
        None => fail!("no nr_free_pages in /proc/vmstat"),
    }
}

/// Pipes filled and resized, FIFOs with data, and processes that die
/// holding pipe ends: afterwards every frame is back.
fn frames_back_to_baseline() -> TestResult {
    if !user::util::armmap_only("the frame count (/proc/vmstat)") {
        return Ok(());
    }
    let round = || -> TestResult {
        let mut ends = [(0, 0); 20];
        let chunk = [0x5au8; 4096];
        for (i, e) in ends.iter_mut().enumerate() {
            *e = pipe2(O_NONBLOCK)?;
            if i % 3 == 0 {
                fcntl(e.1, F_SETPIPE_SZ, 1 << 18)?;
            }
            while fs::write(e.1, &chunk).is_ok() {}
        }
        let kid = process::fork_run(|| {
            // Dies holding copies of every end.
            0
        })?;
        expect_exit0(kid)?;
        let fifo = c"/tmp/pipes-fifo-frames";
        let _ = fs::unlink(fifo);
        mknod(fifo, S_IFIFO | 0o600)?;
        let rw = fs::open(fifo, O_RDWR | O_NONBLOCK, 0)?;
        while fs::write(rw, &chunk).is_ok() {}
        fs::close(rw)?;
        fs::unlink(fifo)?;
        for (r, w) in ends {
            fs::close(r)?;
            fs::close(w)?;
        }
        Ok(())
    };
    round()?;
    let before = free_frames()?;
    for _ in 0..3 {
        round()?;
    }
    let after = free_frames()?;
    check_eq!(after, before, "free frames before and after");
    println!("  {before} free frames before, {after} after");
    let _ = PIPE_BUF;
    Ok(())
}
