//! File descriptor tables.
//!
//! A descriptor is an index into the process's table; each slot holds a
//! shared [`OpenFile`] (position and status flags), so `dup` and `fork`
//! give two descriptors one position, as on Linux, and its own
//! close-on-exec flag ([`Fd::cloexec`]): that flag belongs to the
//! descriptor, not to the open file, so `dup` of a close-on-exec
//! descriptor gives one that stays open across `execve`. The lowest free
//! slot is used.
//!
//! Dropping an open file may wake processes (the last writer of a pipe
//! closing), which takes the process table's lock: the functions that
//! take files out of a table hand them back, and callers drop them only
//! after they let go of the table.

use super::process::Files;
use crate::errno::Errno;
use crate::fs::vfs::{oflags, OpenFile};
use alloc::sync::Arc;

/// Most descriptors a process may have open (RLIMIT_NOFILE).
pub const MAX_FDS: usize = 256;

/// One slot of a descriptor table.
#[derive(Clone)]
pub struct Fd {
    pub file: Arc<OpenFile>,
    /// Closed by `execve` (FD_CLOEXEC).
    pub cloexec: bool,
}

/// Descriptors 0, 1 and 2 on the console.
pub fn standard_files() -> Files {
    let console = crate::fs::dev::console();
    let f = |flags| Some(Fd { file: OpenFile::new(console.clone(), "/dev/console", flags), cloexec: false });
    alloc::vec![f(oflags::O_RDONLY), f(oflags::O_WRONLY), f(oflags::O_WRONLY)]
}

/// The open file behind `fd`.
pub fn get(files: &Files, fd: u64) -> Result<Arc<OpenFile>, Errno> {
    slot(files, fd).map(|s| s.file.clone())
}

/// The slot of `fd`.
pub fn slot(files: &Files, fd: u64) -> Result<&Fd, Errno> {
    usize::try_from(fd).ok().and_then(|i| files.get(i)).and_then(|f| f.as_ref()).ok_or(Errno::EBADF)
}

/// Sets the close-on-exec flag of `fd`.
pub fn set_cloexec(files: &mut Files, fd: u64, on: bool) -> Result<(), Errno> {
    let s = usize::try_from(fd).ok().and_then(|i| files.get_mut(i)).and_then(|f| f.as_mut()).ok_or(Errno::EBADF)?;
    s.cloexec = on;
    Ok(())
}

/// Installs a newly opened `file` in the lowest free slot at or above
/// `min`, close-on-exec if it was opened with O_CLOEXEC; EMFILE if there is
/// no free slot below [`MAX_FDS`].
pub fn install(files: &mut Files, file: Arc<OpenFile>, min: usize) -> Result<u64, Errno> {
    let cloexec = file.flags() & oflags::O_CLOEXEC != 0;
    install_fd(files, file, min, cloexec)
}

/// Installs `file` in the lowest free slot at or above `min`, with
/// close-on-exec as `cloexec` says.
pub fn install_fd(files: &mut Files, file: Arc<OpenFile>, min: usize, cloexec: bool) -> Result<u64, Errno> {
    let slot = (min..MAX_FDS).find(|&i| files.get(i).is_none_or(|f| f.is_none())).ok_or(Errno::EMFILE)?;
    let old = install_at(files, file, slot, cloexec)?;
    debug_assert!(old.is_none());
    Ok(slot as u64)
}

/// Puts `file` in slot `fd` (below [`MAX_FDS`]), replacing what was there,
/// which is returned (drop it without the table locked); ENOMEM if the
/// table cannot grow to hold it, or the kernel has no room for more open
/// files.
pub fn install_at(files: &mut Files, file: Arc<OpenFile>, fd: usize, cloexec: bool) -> Result<Option<Fd>, Errno> {
    if fd >= MAX_FDS {
        return Err(Errno::EBADF);
    }
    if !crate::mm::kernel_has_room() {
        return Err(Errno::ENOMEM);
    }
    if files.len() <= fd {
        files.try_reserve(fd + 1 - files.len()).map_err(|_| Errno::ENOMEM)?;
        files.resize(fd + 1, None);
    }
    Ok(files[fd].replace(Fd { file, cloexec }))
}

/// Closes `fd`; returns its slot (drop it without the table locked).
pub fn close(files: &mut Files, fd: u64) -> Result<Fd, Errno> {
    usize::try_from(fd).ok().and_then(|i| files.get_mut(i)).and_then(Option::take).ok_or(Errno::EBADF)
}

/// Closes exactly the descriptors flagged close-on-exec (at `execve`).
/// Call it on a table taken out of the process: the files are dropped here.
pub fn close_on_exec(files: &mut Files) {
    for slot in files.iter_mut() {
        if slot.as_ref().is_some_and(|f| f.cloexec) {
            *slot = None;
        }
    }
}

/// The size of Linux's descriptor table for `files` (what `select` caps
/// its count at): 64 slots at first, then growing to multiples of 128 by
/// powers of two, as `expand_fdtable` does.
pub fn table_size(files: &Files) -> usize {
    let used = files.len();
    if used <= 64 {
        64
    } else {
        used.div_ceil(128).next_power_of_two() * 128
    }
}
