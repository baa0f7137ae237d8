//! File descriptor tables.
//!
//! A descriptor is an index into the process's table; each slot holds a
//! shared [`OpenFile`] (position and flags), so `dup` and `fork` give two
//! descriptors one position, as on Linux. The lowest free slot is used.

use super::process::Files;
use crate::errno::Errno;
use crate::fs::vfs::{oflags, OpenFile};
use alloc::sync::Arc;

/// Most descriptors a process may have open (RLIMIT_NOFILE).
pub const MAX_FDS: usize = 256;

/// Descriptors 0, 1 and 2 on the console.
pub fn standard_files() -> Files {
    let console = crate::fs::dev::console();
    let f = |flags| Some(OpenFile::new(console.clone(), "/dev/console", flags));
    alloc::vec![f(oflags::O_RDONLY), f(oflags::O_WRONLY), f(oflags::O_WRONLY)]
}

/// The open file behind `fd`.
pub fn get(files: &Files, fd: u64) -> Result<Arc<OpenFile>, Errno> {
    files.get(fd as usize).and_then(|f| f.clone()).ok_or(Errno::EBADF)
}

/// Installs `file` in the lowest free slot at or above `min` (below
/// [`MAX_FDS`]); EMFILE if there is none.
pub fn install(files: &mut Files, file: Arc<OpenFile>, min: usize) -> Result<u64, Errno> {
    let slot = (min..MAX_FDS).find(|&i| files.get(i).is_none_or(|f| f.is_none())).ok_or(Errno::EMFILE)?;
    install_at(files, file, slot)?;
    Ok(slot as u64)
}

/// Puts `file` in slot `fd` (below [`MAX_FDS`]), replacing what was there;
/// ENOMEM if the table cannot grow to hold it, or the kernel has no room
/// for more open files.
pub fn install_at(files: &mut Files, file: Arc<OpenFile>, fd: usize) -> Result<(), Errno> {
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
    files[fd] = Some(file);
    Ok(())
}

/// Closes `fd`.
pub fn close(files: &mut Files, fd: u64) -> Result<(), Errno> {
    match files.get_mut(fd as usize) {
        Some(slot @ Some(_)) => {
            *slot = None;
            Ok(())
        }
        _ => Err(Errno::EBADF),
    }
}

/// Closes the descriptors opened with O_CLOEXEC (at `execve`).
pub fn close_on_exec(files: &mut Files) {
    for slot in files.iter_mut() {
        if slot.as_ref().is_some_and(|f| f.flags & oflags::O_CLOEXEC != 0) {
            *slot = None;
        }
    }
}
