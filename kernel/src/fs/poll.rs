//! Readiness of open files, for `ppoll` and `pselect6`.
//!
//! [`ready`] says which `poll` events hold for an open file now, as Linux's
//! `f_op->poll` would: a pipe by its data, room and ends
//! ([`Pipe::poll`](super::pipe::Pipe::poll)), the console readable when a
//! byte has been typed and always writable, and everything else (regular
//! files, directories, other devices) always readable and writable, like
//! Linux's `DEFAULT_POLLMASK` for files without a poll method. The
//! console's readiness is the terminal's (`tty::readable`: a whole line in
//! canonical mode, a byte in raw mode).
//!
//! Waiting for many files at once uses one global wait queue, [`POLL_WQ`]:
//! whatever changes the state of a pollable object (a pipe read, write,
//! open or close) calls [`wake`], and a waiting `ppoll` re-checks all its
//! files. This wakes pollers that do not care about the pipe that changed;
//! they look and sleep again, which is cheap next to the simplicity of one
//! queue. The terminal wakes pollers when input makes it readable; where
//! the UART has no usable interrupt its input is only seen when looked at,
//! so a poll that includes the console also re-checks at every timer tick
//! ([`needs_ticks`]).

use super::inode::Kind;
use super::pipe::events::*;
use super::vfs::OpenFile;
use crate::task::wait::WaitQueue;

/// Where `ppoll` and `pselect6` wait for any pollable object to change.
pub static POLL_WQ: WaitQueue = WaitQueue::new();

/// Tells pollers that some pollable object changed state.
pub fn wake() {
    if POLL_WQ.has_waiters() {
        POLL_WQ.wake_all();
    }
}

/// What Linux reports for a file without a poll method.
pub const DEFAULT_POLLMASK: u16 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/// The `poll` events that hold for `f` now.
pub fn ready(f: &OpenFile) -> u16 {
    match &f.inode.kind {
        Kind::Pipe(p) => p.poll(f.readable(), f.writable(), f.hup_after),
        Kind::CharDev(super::dev::DEV_CONSOLE) => {
            let input = if super::tty::readable() { POLLIN | POLLRDNORM } else { 0 };
            input | POLLOUT | POLLWRNORM
        }
        _ => DEFAULT_POLLMASK,
    }
}

/// Whether `f`'s readiness can change without a [`wake`] (the console),
/// so that a poll on it must look again at every tick.
pub fn needs_ticks(f: &OpenFile) -> bool {
    matches!(f.inode.kind, Kind::CharDev(super::dev::DEV_CONSOLE))
}
