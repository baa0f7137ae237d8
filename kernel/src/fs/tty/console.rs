//! The console terminal: the line discipline on the PL011.
//!
//! Input arrives by interrupt: the UART's receive interrupt (its number
//! read from the device tree) drains the receive FIFO into the line
//! discipline, echoes what the discipline says to echo, sends the signals
//! of ^C, ^\ and ^Z to the foreground process group, and wakes the readers
//! waiting on [`READERS`]. A reader blocks there until a line (canonical
//! mode) or the VMIN/VTIME condition (non-canonical) is met; O_NONBLOCK
//! makes it EAGAIN instead. Without an interrupt number the readers poll
//! the UART once a tick. Output is written to the UART at once (polled),
//! after the discipline's output processing (ONLCR).
//!
//! Sessions, kept simple: the console is the only terminal. A session
//! leader that opens it (`/dev/console` or its alias `/dev/tty`) without
//! O_NOCTTY while no live session owns it makes it its controlling
//! terminal (as does TIOCSCTTY); the console then records that session and
//! a foreground process group, which TIOCSPGRP changes. A process *has* the
//! console as controlling terminal when it is in the recorded session.
//!
//! Locks: the terminal's lock is taken before the console's (echo) and the
//! process table's is never held with it; everything here runs with
//! interrupts masked (system calls, the interrupt handler).

use super::ldisc::{self, Ldisc, RawWait, Received, Termios, Winsize, TERMIOS_SIZE};
use crate::arch::aarch64::uaccess::{copy_from_user, copy_to_user, read_user, write_user};
use crate::arch::aarch64::{gic, timer};
use crate::errno::{Errno, SysResult};
use crate::task::process::{self, Pid, TABLE};
use crate::task::wait::{WaitError, WaitQueue};
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;

/// The console's terminal state.
///
/// Invariant: `fg_pgrp` is 0 when `session` is 0.
struct Tty {
    ld: Ldisc,
    /// The session whose controlling terminal this is (0: none).
    session: Pid,
    /// The foreground process group (0: none).
    fg_pgrp: Pid,
}

static TTY: Mutex<Tty> = Mutex::new(Tty { ld: Ldisc::new(), session: 0, fg_pgrp: 0 });

/// Threads waiting for console input.
pub static READERS: WaitQueue = WaitQueue::new();

/// Whether the receive interrupt is on (else readers poll).
static IRQ_ON: AtomicBool = AtomicBool::new(false);

/// Turns on the receive interrupt `intid` (from the device tree), after
/// the GIC is up.
pub fn init(intid: Option<u32>) {
    match intid {
        Some(id) if id < gic::MAX_HANDLED && id < gic::lines() => {
            gic::enable(id, on_interrupt);
            crate::console::enable_rx_interrupt();
            IRQ_ON.store(true, Ordering::Relaxed);
            log::info!("console input by interrupt {id}");
        }
        other => log::warn!("console: no usable UART interrupt ({other:?}); input is polled"),
    }
}

fn on_interrupt() {
    receive();
    crate::console::clear_rx_interrupt();
}

/// Feeds every byte waiting in the UART to the line discipline.
fn receive() {
    let mut wake = false;
    while let Some(b) = crate::console::read_byte() {
        let mut echo = [0u8; 16];
        let mut n = 0;
        let (what, pgrp) = {
            let mut t = TTY.lock();
            let r = t.ld.receive(b, &mut |e| {
                if n < echo.len() {
                    echo[n] = e;
                    n += 1;
                }
            });
            (r, t.fg_pgrp)
        };
        crate::console::write_raw(&echo[..n]);
        match what {
            Received::Nothing => {}
            Received::Readable => wake = true,
            Received::Signal(sig) => {
                wake = true;
                log::debug!("console: signal {sig} to process group {pgrp}");
                if pgrp != 0 {
                    crate::task::signal::send_group(pgrp, sig);
                }
            }
        }
    }
    if wake {
        READERS.wake_all();
        // `ppoll`/`pselect6` on the console wait on the poll queue.
        crate::fs::poll::wake();
    }
}

/// Whether a read of the console would return without waiting (for
/// `poll`): a whole line in canonical mode, a byte otherwise.
pub fn readable() -> bool {
    if !IRQ_ON.load(Ordering::Relaxed) {
        receive();
    }
    TTY.lock().ld.readable()
}

/// The console's session and foreground process group (0: none), for
/// job control (a background group's reads and writes).
pub fn foreground() -> (Pid, Pid) {
    let t = TTY.lock();
    (t.session, t.fg_pgrp)
}

/// Nanoseconds of `deciseconds` tenths of a second.
fn tenths(deciseconds: u8) -> u64 {
    deciseconds as u64 * 100_000_000
}

/// `read` of the console.
pub fn read(buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let mut got = 0;
    // The VTIME timer: its deadline and the count it was started at.
    let mut timer: Option<(u64, usize)> = None;
    loop {
        if !IRQ_ON.load(Ordering::Relaxed) {
            receive();
        }
        let plan = {
            let mut t = TTY.lock();
            let term = t.ld.termios;
            if term.lflag & ldisc::ICANON != 0 {
                if got == 0 && t.ld.readable() {
                    return Ok(t.ld.read_canonical(buf));
                }
                if got > 0 {
                    // Switched to canonical mode mid-read: return the bytes.
                    return Ok(got);
                }
                RawWait::Wait(None)
            } else {
                got += t.ld.read_raw(&mut buf[got..]);
                ldisc::raw_wait(term.cc[ldisc::VMIN], term.cc[ldisc::VTIME], got, buf.len())
            }
        };
        let deadline = match plan {
            RawWait::Return => return Ok(got),
            RawWait::Wait(None) => None,
            RawWait::Wait(Some(t)) => {
                // With VMIN > 0 the timer restarts with every byte.
                let now = timer::uptime_ns();
                match timer {
                    Some((d, at)) if at == got => Some(d),
                    _ => {
                        let d = now + tenths(t);
                        timer = Some((d, got));
                        Some(d)
                    }
                }
            }
        };
        if nonblock {
            return if got > 0 { Ok(got) } else { Err(Errno::EAGAIN) };
        }
        // Without the interrupt, look at the UART again a tick later.
        let poll = (!IRQ_ON.load(Ordering::Relaxed)).then(|| timer::uptime_ns() + 1_000_000_000 / timer::HZ);
        let wake_at = match (deadline, poll) {
            (Some(d), Some(p)) => Some(d.min(p)),
            (d, p) => d.or(p),
        };
        match READERS.wait_until(wake_at, || TTY.lock().ld.readable()) {
            Ok(()) => {}
            Err(WaitError::TimedOut) => {
                if deadline.is_some_and(|d| timer::uptime_ns() >= d) {
                    return Ok(got);
                }
            }
            Err(e) if got == 0 => return Err(e.into()),
            Err(_) => return Ok(got),
        }
    }
}

/// `write` to the console: the bytes after output processing.
pub fn write(buf: &[u8]) -> usize {
    let termios = TTY.lock().ld.termios;
    let mut out = [0u8; 256];
    let mut n = 0;
    for &b in buf {
        termios.output(b, &mut |o| {
            out[n] = o;
            n += 1;
        });
        if n >= out.len() - 2 {
            crate::console::write_raw(&out[..n]);
            n = 0;
        }
    }
    crate::console::write_raw(&out[..n]);
    buf.len()
}

/// The caller's pid, session and process group.
fn me() -> Result<(Pid, Pid, Pid), Errno> {
    process::with_current(|t| {
        let i = t.process.inner.lock();
        (t.pid(), i.sid, i.pgid)
    })
}

/// Whether a live process belongs to session `sid`.
fn session_alive(sid: Pid) -> bool {
    sid != 0 && TABLE.lock().procs.values().any(|p| !p.is_zombie() && p.inner.lock().sid == sid)
}

/// Makes the console the controlling terminal of the caller's session if
/// the caller leads a session and no live session owns it (or `steal`).
fn claim(steal: bool) -> Result<(), Errno> {
    let (pid, sid, pgid) = me()?;
    let owner = TTY.lock().session;
    if owner == sid && sid != 0 {
        return Ok(());
    }
    if sid != pid || (session_alive(owner) && !steal) {
        return Err(Errno::EPERM);
    }
    let mut t = TTY.lock();
    t.session = sid;
    t.fg_pgrp = pgid;
    Ok(())
}

/// `open` of the console by the caller, with `flags`: a session leader
/// without a terminal gets it as controlling terminal, unless O_NOCTTY.
pub fn opened(flags: u32) {
    const O_NOCTTY: u32 = linux_raw_sys::general::O_NOCTTY;
    if flags & O_NOCTTY == 0 {
        let _ = claim(false);
    }
}

/// ENOTTY unless the console is the caller's controlling terminal;
/// returns the caller's session.
fn controlling() -> Result<Pid, Errno> {
    let (_, sid, _) = me()?;
    let t = TTY.lock();
    if t.session == 0 || t.session != sid {
        return Err(Errno::ENOTTY);
    }
    Ok(sid)
}

/// Linux's tty ioctl numbers (asm-generic/ioctls.h), from linux_raw_sys.
mod req {
    use linux_raw_sys::ioctl as linux;

    pub const TCGETS: u32 = linux::TCGETS;
    pub const TCSETS: u32 = linux::TCSETS;
    pub const TCSETSW: u32 = linux::TCSETSW;
    pub const TCSETSF: u32 = linux::TCSETSF;
    pub const TCSBRK: u32 = linux::TCSBRK;
    pub const TCXONC: u32 = linux::TCXONC;
    pub const TCFLSH: u32 = linux::TCFLSH;
    pub const TIOCSCTTY: u32 = linux::TIOCSCTTY;
    pub const TIOCGPGRP: u32 = linux::TIOCGPGRP;
    pub const TIOCSPGRP: u32 = linux::TIOCSPGRP;
    pub const TIOCOUTQ: u32 = linux::TIOCOUTQ;
    pub const TIOCGWINSZ: u32 = linux::TIOCGWINSZ;
    pub const TIOCSWINSZ: u32 = linux::TIOCSWINSZ;
    pub const FIONREAD: u32 = linux::FIONREAD;
    pub const TIOCNOTTY: u32 = linux::TIOCNOTTY;
    pub const TIOCGSID: u32 = linux::TIOCGSID;
}

fn put_int(arg: u64, v: i32) -> SysResult {
    write_user(arg, &v).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

/// `ioctl(fd, request, arg)` on the console.
pub fn ioctl(request: u64, arg: u64) -> SysResult {
    const SIGWINCH: u32 = 28;
    match request as u32 {
        req::TCGETS => {
            let t = TTY.lock().ld.termios;
            copy_to_user(arg, &t.to_bytes()).map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }
        r @ (req::TCSETS | req::TCSETSW | req::TCSETSF) => {
            let mut b = [0u8; TERMIOS_SIZE];
            copy_from_user(&mut b, arg).map_err(|_| Errno::EFAULT)?;
            let mut t = TTY.lock();
            if r == req::TCSETSF {
                t.ld.flush_input();
            }
            // Output is written synchronously: TCSETSW has nothing to drain.
            t.ld.set_termios(Termios::from_bytes(&b));
            drop(t);
            READERS.wake_all();
            crate::fs::poll::wake();
            Ok(0)
        }
        req::TIOCGWINSZ => {
            let w = TTY.lock().ld.winsize;
            copy_to_user(arg, &w.to_bytes()).map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }
        req::TIOCSWINSZ => {
            let mut b = [0u8; 8];
            copy_from_user(&mut b, arg).map_err(|_| Errno::EFAULT)?;
            let w = Winsize::from_bytes(&b);
            let pgrp = {
                let mut t = TTY.lock();
                let changed = t.ld.winsize != w;
                t.ld.winsize = w;
                if changed {
                    t.fg_pgrp
                } else {
                    0
                }
            };
            if pgrp != 0 {
                crate::task::signal::send_group(pgrp, SIGWINCH);
            }
            Ok(0)
        }
        req::TIOCGPGRP => {
            controlling()?;
            let pgrp = TTY.lock().fg_pgrp;
            put_int(arg, pgrp as i32)
        }
        req::TIOCSPGRP => {
            let sid = controlling()?;
            let pgrp: i32 = read_user(arg).map_err(|_| Errno::EFAULT)?;
            if pgrp < 0 {
                return Err(Errno::EINVAL);
            }
            let pgrp = pgrp as Pid;
            // The group must exist, and be in the caller's session.
            let in_session = {
                let t = TABLE.lock();
                let mut members = t.procs.values().filter(|p| !p.is_zombie() && p.inner.lock().pgid == pgrp);
                members.next().map(|p| p.inner.lock().sid == sid)
            };
            match in_session {
                None => Err(Errno::ESRCH),
                Some(false) => Err(Errno::EPERM),
                Some(true) => {
                    log::debug!("console: foreground process group {pgrp}");
                    TTY.lock().fg_pgrp = pgrp;
                    Ok(0)
                }
            }
        }
        req::TIOCGSID => {
            let sid = controlling()?;
            put_int(arg, sid as i32)
        }
        req::TIOCSCTTY => claim(arg == 1).map(|_| 0),
        req::TIOCNOTTY => {
            controlling()?;
            let (pid, sid, _) = me()?;
            if pid == sid {
                let mut t = TTY.lock();
                t.session = 0;
                t.fg_pgrp = 0;
            }
            Ok(0)
        }
        req::FIONREAD => {
            if !IRQ_ON.load(Ordering::Relaxed) {
                receive();
            }
            let n = TTY.lock().ld.available();
            put_int(arg, n as i32)
        }
        req::TIOCOUTQ => put_int(arg, 0),
        req::TCFLSH => match arg {
            // TCIFLUSH, TCIOFLUSH: input goes; output is never queued.
            0 | 2 => {
                TTY.lock().ld.flush_input();
                Ok(0)
            }
            1 => Ok(0),
            _ => Err(Errno::EINVAL),
        },
        // TCOOFF, TCOON, TCIOFF, TCION: accepted; output is never held.
        req::TCXONC => match arg {
            0..=3 => Ok(0),
            _ => Err(Errno::EINVAL),
        },
        // tcdrain and tcsendbreak: output is already out.
        req::TCSBRK => Ok(0),
        _ => Err(Errno::ENOTTY),
    }
}
