//! fs: files and the initramfs.
//!
//! `cpio` parses the initramfs archive (portable); the RAM file system
//! (`inode`, `vfs`) keeps file data in page-cache frames and runs on the
//! target, where frames are reachable through the linear map.

pub mod cpio;
#[cfg(target_os = "none")]
pub mod dev;
#[cfg(target_os = "none")]
pub mod inode;
pub mod path;
#[cfg(target_os = "none")]
pub mod proc;
#[cfg(target_os = "none")]
pub mod vfs;
