//! `tty`: the console as a terminal, from user space.
//!
//! Without arguments it tests the terminal `ioctl`s as pid 1 (`init=/bin/tty`):
//! `isatty` on the console and not on a file (ENOTTY), a `struct termios`
//! round trip through TCGETS/TCSETS*, the window size, the controlling
//! terminal a session leader gets by opening `/dev/tty`, the foreground
//! process group (TIOCGPGRP/TIOCSPGRP and their ESRCH, EPERM, EINVAL and
//! ENOTTY cases), TIOCGSID, FIONREAD, TCFLSH, TCXONC, O_NONBLOCK and the
//! VMIN/VTIME timeouts of non-canonical reads.
//!
//! With an argument it is a program for scripted console sessions
//! (`cargo xtask test`, see `xtask/src/session.rs`):
//! - `readline`: prints `ready`, reads one line and prints `got: <line>`;
//! - `block`: prints `waiting`, then reads standard input (^C ends it).
#![no_std]
#![no_main]

use user::errno::Errno;
use user::fs::{self, O_NOCTTY, O_NONBLOCK, O_RDONLY, O_RDWR};
use user::process;
use user::test::{Deadline, Harness, TestResult};
use user::time;
use user::tty::{self, Termios, Winsize};
use user::{check, check_eq, println, Args};

user::entry!(main);

fn main(args: Args) -> i32 {
    match args.get_str(1) {
        Some("readline") => return readline(),
        Some("block") => return block(),
        Some(other) => {
            println!("tty: unknown mode {other}");
            return 2;
        }
        None => {}
    }
    let mut h = Harness::new("tty");
    h.case("isatty_console_not_file", isatty_console_not_file);
    h.case("termios_round_trip", termios_round_trip);
    h.case("winsize_default_and_set", winsize);
    h.case("no_controlling_tty_enotty", no_controlling_tty);
    h.case("setsid_open_gives_ctty", setsid_open_gives_ctty);
    h.case("foreground_group_set_and_errors", foreground_group);
    h.case("other_session_enotty_eperm", other_session);
    h.case("fionread_tcflsh_tcxonc", fionread_tcflsh_tcxonc);
    h.case("nonblock_read_eagain", nonblock_read);
    h.case("vmin_vtime_timeouts", vmin_vtime);
    h.finish()
}

fn readline() -> i32 {
    println!("ready");
    let mut buf = [0u8; 128];
    match fs::read(0, &mut buf) {
        Ok(n) => {
            let line = core::str::from_utf8(&buf[..n]).unwrap_or("<non-UTF-8>");
            println!("got: {}", line.trim_end_matches('\n'));
            0
        }
        Err(e) => {
            println!("read: {}", e.name());
            1
        }
    }
}

fn block() -> i32 {
    println!("waiting");
    let mut buf = [0u8; 16];
    let r = fs::read(0, &mut buf);
    println!("read returned {r:?}");
    0
}

fn isatty_console_not_file() -> TestResult {
    for fd in 0..3 {
        check!(tty::isatty(fd), "fd {fd} is the console");
    }
    let fd = fs::open(c"/etc/motd", O_RDONLY, 0)?;
    let r = tty::tcgetattr(fd);
    let w = tty::get_winsize(fd);
    fs::close(fd)?;
    check_eq!(r, Err(Errno::ENOTTY));
    check_eq!(w, Err(Errno::ENOTTY));
    Ok(())
}

fn termios_round_trip() -> TestResult {
    let orig = tty::tcgetattr(0)?;
    check_eq!(orig.lflag & (tty::ICANON | tty::ECHO | tty::ISIG), tty::ICANON | tty::ECHO | tty::ISIG);
    check_eq!(orig.iflag & tty::ICRNL, tty::ICRNL);
    check_eq!(orig.oflag & (tty::OPOST | tty::ONLCR), tty::OPOST | tty::ONLCR);
    check_eq!((orig.cc[tty::VINTR], orig.cc[tty::VERASE], orig.cc[tty::VEOF]), (3, 0x7f, 4));
    check_eq!((orig.cc[tty::VMIN], orig.cc[tty::VTIME]), (1, 0));
    let mut t = orig;
    t.lflag &= !(tty::ECHO | tty::ICANON);
    t.cc[tty::VMIN] = 5;
    t.cc[tty::VTIME] = 7;
    for req in [tty::TCSETS, tty::TCSETSW, tty::TCSETSF] {
        tty::tcsetattr(0, req, &t)?;
        check_eq!(tty::tcgetattr(1)?, t, "after request {req:#x}, read through fd 1");
        t.cc[tty::VMIN] += 1;
    }
    tty::tcsetattr(0, tty::TCSETS, &orig)?;
    check_eq!(tty::tcgetattr(2)?, orig);
    // A bad pointer is EFAULT, not a crash.
    // SAFETY: the kernel checks the address; 8 is never mapped.
    check_eq!(unsafe { tty::ioctl(0, tty::TCGETS, 8) }, Err(Errno::EFAULT));
    Ok(())
}

fn winsize() -> TestResult {
    let w = tty::get_winsize(0)?;
    check_eq!((w.rows, w.cols), (24, 80));
    let big = Winsize { rows: 40, cols: 132, xpixel: 0, ypixel: 0 };
    tty::set_winsize(1, &big)?;
    check_eq!(tty::get_winsize(2)?, big);
    tty::set_winsize(0, &w)?;
    check_eq!(tty::get_winsize(0)?, w);
    Ok(())
}

fn no_controlling_tty() -> TestResult {
    // pid 1 starts in no session (sid 0), without a controlling terminal.
    check_eq!(process::getsid(0)?, 0);
    check_eq!(tty::tcgetpgrp(0), Err(Errno::ENOTTY));
    check_eq!(tty::ioctl_int(0, tty::TIOCGSID), Err(Errno::ENOTTY));
    check_eq!(tty::tcsetpgrp(0, 1), Err(Errno::ENOTTY));
    // SAFETY: TIOCNOTTY takes no argument.
    check_eq!(unsafe { tty::ioctl(0, tty::TIOCNOTTY, 0) }, Err(Errno::ENOTTY));
    Ok(())
}

fn setsid_open_gives_ctty() -> TestResult {
    let me = user::getpid();
    check_eq!(process::setsid()?, me);
    // O_NOCTTY leaves it alone.
    let fd = fs::open(c"/dev/console", O_RDWR | O_NOCTTY, 0)?;
    check_eq!(tty::tcgetpgrp(fd), Err(Errno::ENOTTY));
    fs::close(fd)?;
    let fd = fs::open(c"/dev/tty", O_RDWR, 0)?;
    check!(tty::isatty(fd), "/dev/tty is a terminal");
    check_eq!(tty::tcgetpgrp(fd)?, me as i32);
    check_eq!(tty::tcgetpgrp(0)?, me as i32, "the same terminal through fd 0");
    check_eq!(tty::ioctl_int(fd, tty::TIOCGSID)?, me as i32);
    fs::close(fd)?;
    // TIOCSCTTY on the terminal it already controls succeeds.
    // SAFETY: TIOCSCTTY takes an int by value.
    check_eq!(unsafe { tty::ioctl(0, tty::TIOCSCTTY, 0) }, Ok(0));
    Ok(())
}

fn foreground_group() -> TestResult {
    let me = user::getpid() as i32;
    let child = process::fork_run(|| {
        time::sleep_ms(2000);
        0
    })?;
    process::setpgid(child, child)?;
    tty::tcsetpgrp(0, child as i32)?;
    let fg = tty::tcgetpgrp(0);
    let back = tty::tcsetpgrp(0, me);
    let none = tty::tcsetpgrp(0, 0x7fff_0000);
    let negative = tty::tcsetpgrp(0, -1);
    let _ = user::kill(child, 9);
    let _ = user::waitpid(child, 0);
    check_eq!(fg, Ok(child as i32));
    check_eq!(back, Ok(()));
    check_eq!(none, Err(Errno::ESRCH));
    check_eq!(negative, Err(Errno::EINVAL));
    check_eq!(tty::tcgetpgrp(0)?, me);
    Ok(())
}

fn other_session() -> TestResult {
    // A child in a new session has no controlling terminal: ENOTTY there,
    // and its group cannot become this session's foreground (EPERM).
    let child = process::fork_run(|| {
        if process::setsid().is_err() {
            return 10;
        }
        if tty::tcgetpgrp(0) != Err(Errno::ENOTTY) {
            return 11;
        }
        time::sleep_ms(2000);
        0
    })?;
    let mut d = Deadline::after_ms(1000, 100_000);
    while process::getsid(child) != Ok(child) && !d.expired() {
        user::sched_yield();
    }
    let r = tty::tcsetpgrp(0, child as i32);
    let _ = user::kill(child, 9);
    let (_, status) = user::waitpid(child, 0)?;
    check!(process::wifsignaled(status), "the child checked ENOTTY and slept: status {status:#x}");
    check_eq!(r, Err(Errno::EPERM));
    Ok(())
}

fn fionread_tcflsh_tcxonc() -> TestResult {
    check_eq!(tty::ioctl_int(0, tty::FIONREAD)?, 0, "nothing typed");
    // SAFETY: TCFLSH and TCXONC take an int by value.
    unsafe {
        check_eq!(tty::ioctl(0, tty::TCFLSH, 0), Ok(0));
        check_eq!(tty::ioctl(0, tty::TCFLSH, 2), Ok(0));
        check_eq!(tty::ioctl(0, tty::TCFLSH, 5), Err(Errno::EINVAL));
        check_eq!(tty::ioctl(0, tty::TCXONC, 1), Ok(0));
        check_eq!(tty::ioctl(0, 0x54ff, 0), Err(Errno::ENOTTY), "an unknown request");
    }
    Ok(())
}

fn nonblock_read() -> TestResult {
    let fd = fs::open(c"/dev/console", O_RDONLY | O_NONBLOCK, 0)?;
    let mut buf = [0u8; 8];
    let r = fs::read(fd, &mut buf);
    fs::close(fd)?;
    check_eq!(r, Err(Errno::EAGAIN));
    Ok(())
}

fn set_raw(orig: &Termios, vmin: u8, vtime: u8) -> TestResult {
    let mut t = *orig;
    t.lflag &= !(tty::ICANON | tty::ECHO);
    t.cc[tty::VMIN] = vmin;
    t.cc[tty::VTIME] = vtime;
    tty::tcsetattr(0, tty::TCSETS, &t)?;
    Ok(())
}

fn vmin_vtime() -> TestResult {
    let orig = tty::tcgetattr(0)?;
    let mut buf = [0u8; 8];
    // VMIN 0, VTIME 0: returns at once with nothing.
    set_raw(&orig, 0, 0)?;
    let t0 = time::now();
    let polled = fs::read(0, &mut buf);
    let poll_ns = time::now().nanos_since(&t0);
    // VMIN 0, VTIME 3: 0 after 0.3 s.
    set_raw(&orig, 0, 3)?;
    let t1 = time::now();
    let timed = fs::read(0, &mut buf);
    let timed_ns = time::now().nanos_since(&t1);
    tty::tcsetattr(0, tty::TCSETS, &orig)?;
    check_eq!(polled, Ok(0));
    check!(poll_ns < 100_000_000, "VMIN=0 VTIME=0 waited {poll_ns} ns");
    check_eq!(timed, Ok(0));
    check!((250_000_000..2_000_000_000).contains(&timed_ns), "VTIME=3 waited {timed_ns} ns");
    Ok(())
}
