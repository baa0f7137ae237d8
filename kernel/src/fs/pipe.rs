//! Pipes and FIFOs: a ring buffer between writers and readers.
//!
//! A pipe (`pipe2`) and a FIFO (`mknod` with `S_IFIFO`, then `open`) are
//! the same object, a [`Pipe`] held by an inode: bytes written at one end
//! come out at the other in order. The data lives in a [`Ring`] of pages
//! (16 by default, 64 KiB, changed with `F_SETPIPE_SZ`), taken from the
//! frame allocator as data first reaches them.
//!
//! The rules are Linux's (fs/pipe.c):
//! - a read waits until there is data, then takes what is there (up to
//!   its count); with no writer left it returns 0 (end of file);
//! - a write of at most [`PIPE_BUF`] bytes goes in whole or waits (never
//!   interleaved with another writer's bytes); a larger one goes in piece
//!   by piece as room appears and may be cut short by a signal or, under
//!   O_NONBLOCK, by a full pipe (the count says how much went in);
//! - with no reader left a write sends SIGPIPE to the writer and fails with
//!   EPIPE (or returns the bytes already written);
//! - under O_NONBLOCK, a read or write that would wait fails with EAGAIN;
//! - a wait interrupted by a signal ends with the count moved so far, or
//!   with nothing moved ERESTARTSYS (EINTR if a handler runs without
//!   SA_RESTART; the call starts again otherwise).
//!
//! The number of readers and writers is counted by the open files: every
//! [`OpenFile`](super::vfs::OpenFile) of a pipe counts as a reader, a
//! writer or both by its access mode, and stops counting when it is
//! dropped (last `close`, process exit, close-on-exec), so end of file and
//! EPIPE follow a process's death.
//!
//! Opening a FIFO meets the other side (`fifo_open`): a reader waits for a
//! writer and a writer for a reader, unless the other side is there
//! already; O_NONBLOCK makes a read-open succeed at once and a write-open
//! with no reader fail with ENXIO; O_RDWR never waits. When the last end
//! closes, the data goes and the size returns to the default.
//!
//! Everyone waiting on a pipe (readers, writers, FIFO opens) waits on its
//! one wait queue and re-checks its own condition when woken; every state
//! change also wakes [`poll`](super::poll) waiters.
//!
//! Room is counted in bytes: a write fits if the ring has that many bytes
//! free. Linux counts pages (a write that cannot merge into the last page
//! takes a new one), so there a pipe fed small odd-sized writes holds
//! somewhat less before it is full; with page-sized writes both hold the
//! same (16 of them by default).
//!
//! No lock is held while user memory is touched: data passes through a
//! kernel buffer the caller supplies, and the copy to or from user memory
//! happens between two holds of the pipe's lock.

use super::ring::{NoMemory, PageSource, ResizeError, Ring};
use crate::errno::Errno;
use crate::mm::addr::{PhysAddr, LINEAR_MAP_BASE, PAGE_SIZE};
use crate::mm::backing::frame_ops;
use crate::task::wait::WaitQueue;
use core::ptr::NonNull;
use spin::Mutex;

/// Writes of at most this many bytes are atomic (POSIX `PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;
/// Pages of a new pipe (Linux's `PIPE_DEF_BUFFERS`).
pub const DEFAULT_SLOTS: usize = 16;
/// Above this, `F_SETPIPE_SZ` is EINVAL (Linux's `round_pipe_size` limit).
pub const MAX_SIZE: u64 = 1 << 31;

/// Pages from the frame allocator, reached through the linear map.
pub struct Frames;

impl PageSource for Frames {
    fn alloc(&self) -> Option<NonNull<u8>> {
        if !crate::mm::kernel_has_room() {
            return None;
        }
        let pa = frame_ops().alloc_zeroed()?;
        NonNull::new(crate::mm::phys_to_virt(pa).as_u64() as *mut u8)
    }

    unsafe fn free(&self, page: NonNull<u8>) {
        frame_ops().put(PhysAddr(page.as_ptr() as u64 - LINEAR_MAP_BASE));
    }
}

/// What a pipe holds besides its wait queue.
///
/// Invariant: `readers`/`writers` equal the number of live open files of
/// the pipe that can read/write; `r_counter`/`w_counter` only grow (one per
/// open for reading/writing) and let a FIFO open see that a partner came,
/// even if it left again.
struct State {
    ring: Ring<Frames>,
    readers: u32,
    writers: u32,
    r_counter: u32,
    w_counter: u32,
}

/// A pipe or FIFO.
pub struct Pipe {
    state: Mutex<State>,
    wq: WaitQueue,
}

/// `poll` event bits (Linux's values).
pub mod events {
    pub const POLLIN: u16 = 0x1;
    pub const POLLPRI: u16 = 0x2;
    pub const POLLOUT: u16 = 0x4;
    pub const POLLERR: u16 = 0x8;
    pub const POLLHUP: u16 = 0x10;
    pub const POLLNVAL: u16 = 0x20;
    pub const POLLRDNORM: u16 = 0x40;
    pub const POLLRDBAND: u16 = 0x80;
    pub const POLLWRNORM: u16 = 0x100;
    pub const POLLWRBAND: u16 = 0x200;
}

impl Pipe {
    /// An empty pipe of the default size with no reader or writer;
    /// ENOMEM if its page index cannot be had.
    pub fn new() -> Result<Pipe, Errno> {
        if !crate::mm::kernel_has_room() {
            return Err(Errno::ENOMEM);
        }
        let ring = Ring::new(Frames, DEFAULT_SLOTS).map_err(|_| Errno::ENOMEM)?;
        Ok(Pipe {
            state: Mutex::new(State { ring, readers: 0, writers: 0, r_counter: 0, w_counter: 0 }),
            wq: WaitQueue::new(),
        })
    }

    /// Wakes everyone waiting on this pipe, and pollers.
    fn wake(&self) {
        self.wq.wake_all();
        super::poll::wake();
    }

    /// Counts a new open file of an anonymous pipe (`pipe2`): never waits.
    pub fn attach(&self, read: bool, write: bool) {
        let mut s = self.state.lock();
        if read {
            s.readers += 1;
            s.r_counter += 1;
        }
        if write {
            s.writers += 1;
            s.w_counter += 1;
        }
    }

    /// Opens a FIFO as Linux's `fifo_open`; `read`/`write` from the access
    /// mode. Returns the writer count a reader must see change before it
    /// reports POLLHUP (see [`poll`](Self::poll)).
    pub fn fifo_open(&self, read: bool, write: bool, nonblock: bool) -> Result<u32, Errno> {
        let mut hup_after = 0;
        match (read, write) {
            (true, true) => {
                self.attach(true, true);
                self.wake();
            }
            (true, false) => {
                let seen = {
                    let mut s = self.state.lock();
                    s.readers += 1;
                    s.r_counter += 1;
                    (s.writers, s.w_counter)
                };
                self.wake();
                if seen.0 == 0 {
                    if nonblock {
                        // No POLLHUP until a writer has come.
                        hup_after = seen.1;
                    } else if let Err(e) = self.wq.wait_until(None, || self.state.lock().w_counter != seen.1) {
                        self.release(true, false);
                        return Err(e.into());
                    }
                }
            }
            (false, true) => {
                let seen = {
                    let mut s = self.state.lock();
                    if nonblock && s.readers == 0 {
                        return Err(Errno::ENXIO);
                    }
                    s.writers += 1;
                    s.w_counter += 1;
                    (s.readers, s.r_counter)
                };
                self.wake();
                if seen.0 == 0 {
                    if let Err(e) = self.wq.wait_until(None, || self.state.lock().r_counter != seen.1) {
                        self.release(false, true);
                        return Err(e.into());
                    }
                }
            }
            (false, false) => return Err(Errno::EINVAL),
        }
        Ok(hup_after)
    }

    /// An open file of the pipe went away. When the last one goes, the
    /// data goes too and the size returns to the default (a FIFO starts
    /// afresh at its next open).
    pub fn release(&self, read: bool, write: bool) {
        {
            let mut s = self.state.lock();
            if read {
                s.readers = s.readers.saturating_sub(1);
            }
            if write {
                s.writers = s.writers.saturating_sub(1);
            }
            if s.readers == 0 && s.writers == 0 {
                let held = s.ring.len();
                s.ring.consume(held);
                s.ring.release_pages();
                // An empty ring resizes without taking a page; only the
                // index may fail to allocate, and the old size then stays.
                let _ = s.ring.resize(DEFAULT_SLOTS);
            }
        }
        self.wake();
    }

    /// Bytes waiting to be read (`FIONREAD`).
    pub fn available(&self) -> usize {
        self.state.lock().ring.len()
    }

    /// The capacity in bytes (`F_GETPIPE_SZ`).
    pub fn size(&self) -> u64 {
        self.state.lock().ring.capacity() as u64
    }

    /// `F_SETPIPE_SZ`: Linux's `pipe_set_size` for a privileged caller:
    /// the size is rounded up to a power-of-two number of pages (at least
    /// one), up to [`MAX_SIZE`] (EINVAL beyond); EBUSY if the pipe holds
    /// more than that. Returns the new size.
    pub fn set_size(&self, arg: u32) -> Result<u64, Errno> {
        let size = round_pipe_size(arg).ok_or(Errno::EINVAL)?;
        let slots = (size / PAGE_SIZE as u64) as usize;
        // The page index (8 bytes a page: 4 MiB at the largest size) must
        // leave the heap its headroom.
        crate::mm::heap::check_room(slots * core::mem::size_of::<usize>())?;
        let r = self.state.lock().ring.resize(slots);
        match r {
            Ok(()) => {
                self.wake();
                Ok(size)
            }
            Err(ResizeError::Busy) => Err(Errno::EBUSY),
            Err(ResizeError::NoMemory) => Err(Errno::ENOMEM),
        }
    }

    /// Which of `events::*` hold for an open file that can `read`/`write`;
    /// `hup_after` as [`fifo_open`](Self::fifo_open) returned (0 for others).
    /// Linux's `pipe_poll`: readable with data, writable with room for
    /// an atomic write, POLLHUP for a reader once no writer is left,
    /// POLLERR for a writer once no reader is left.
    pub fn poll(&self, read: bool, write: bool, hup_after: u32) -> u16 {
        use events::*;
        let s = self.state.lock();
        let mut mask = 0;
        if read {
            if !s.ring.is_empty() {
                mask |= POLLIN | POLLRDNORM;
            }
            if s.writers == 0 && s.w_counter != hup_after {
                mask |= POLLHUP;
            }
        }
        if write {
            if s.ring.room() >= PIPE_BUF {
                mask |= POLLOUT | POLLWRNORM;
            }
            if s.readers == 0 {
                mask |= POLLERR;
            }
        }
        mask
    }

    /// Reads up to `want` bytes (more than 0) through `kbuf`: waits for
    /// data unless `nonblock`, then hands what there is to `sink` (which
    /// copies it to user memory and returns how much it took) until `want`
    /// bytes moved or the pipe is empty. Returns the bytes `sink` took; 0
    /// at end of file.
    pub fn read(
        &self,
        kbuf: &mut [u8],
        want: u64,
        nonblock: bool,
        mut sink: impl FnMut(&[u8]) -> usize,
    ) -> Result<u64, Errno> {
        let ready = || {
            let s = self.state.lock();
            !s.ring.is_empty() || s.writers == 0
        };
        if nonblock {
            if !ready() {
                return Err(Errno::EAGAIN);
            }
        } else {
            self.wq.wait_until(None, ready).map_err(Errno::from)?;
        }
        let mut done = 0u64;
        while done < want {
            let n = {
                let s = self.state.lock();
                let room = usize::try_from(want - done).map_or(kbuf.len(), |w| w.min(kbuf.len()));
                s.ring.peek(&mut kbuf[..room])
            };
            if n == 0 {
                break;
            }
            let took = sink(&kbuf[..n]).min(n);
            self.state.lock().ring.consume(took);
            done += took as u64;
            if took < n {
                if done == 0 {
                    return Err(Errno::EFAULT);
                }
                break;
            }
        }
        if done > 0 {
            self.wake();
        }
        Ok(done)
    }

    /// Writes `total` bytes (more than 0) that `source` copies from user
    /// memory into `kbuf` (returning how many it could), as the rules at
    /// the top say. Returns the bytes written.
    pub fn write(
        &self,
        kbuf: &mut [u8],
        total: u64,
        nonblock: bool,
        mut source: impl FnMut(&mut [u8]) -> usize,
    ) -> Result<u64, Errno> {
        let atomic = total <= PIPE_BUF as u64;
        let mut done = 0u64;
        let result = 'all: loop {
            if done >= total {
                break Ok(());
            }
            let want = usize::try_from(total - done).map_or(kbuf.len(), |t| t.min(kbuf.len()));
            // A broken pipe fails before any user byte is read.
            if self.state.lock().readers == 0 {
                break Err(Errno::EPIPE);
            }
            let got = source(&mut kbuf[..want]).min(want);
            if got == 0 {
                break Err(Errno::EFAULT);
            }
            let mut off = 0;
            while off < got {
                let need = if atomic { got - off } else { 1 };
                let ready = || {
                    let s = self.state.lock();
                    s.readers == 0 || s.ring.room() >= need
                };
                if nonblock {
                    if !ready() {
                        break 'all Err(Errno::EAGAIN);
                    }
                } else if let Err(e) = self.wq.wait_until(None, ready) {
                    // As Linux's pipe_write, a signal ends the write only
                    // while the pipe stays full: room made meanwhile is
                    // used first (the signal acts when the call returns).
                    if !ready() {
                        break 'all Err(e.into());
                    }
                }
                let n = {
                    let mut s = self.state.lock();
                    if s.readers == 0 {
                        break 'all Err(Errno::EPIPE);
                    }
                    s.ring.write(&kbuf[off..got])
                };
                match n {
                    Ok(n) => {
                        off += n;
                        done += n as u64;
                        self.wake();
                    }
                    Err(NoMemory) => break 'all Err(Errno::ENOMEM),
                }
            }
            if got < want {
                // The user buffer faulted part of the way.
                break Err(Errno::EFAULT);
            }
        };
        match result {
            Ok(()) => Ok(done),
            Err(e) => {
                if e == Errno::EPIPE {
                    // To the writing thread, as Linux's `send_sig(SIGPIPE, current)`.
                    crate::task::signal::send_to_current_thread(crate::task::signal::SIGPIPE);
                }
                if done > 0 {
                    Ok(done)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// Linux's `round_pipe_size`: at least a page, a power of two, at most
/// [`MAX_SIZE`] (`None` beyond).
pub fn round_pipe_size(arg: u32) -> Option<u64> {
    let size = u64::from(arg);
    if size > MAX_SIZE {
        return None;
    }
    Some(size.max(PAGE_SIZE as u64).next_power_of_two())
}
