//! fs: files and the initramfs.
//!
//! `cpio` parses the initramfs archive (portable); the RAM file system
//! (`inode`, `vfs`) keeps file data in page-cache frames, indexed by
//! `pagemap` (portable), and runs on the target, where frames are reachable
//! through the linear map. `pipe` is the pipe and FIFO object over a
//! page `ring` (portable), and `poll` says which files are ready.

pub mod cpio;
pub mod pagemap;
pub mod path;
pub mod ring;
pub mod tty;

target_only! {
    pub mod dev;
    pub mod inode;
    pub mod pipe;
    pub mod poll;
    pub mod proc;
    pub mod vfs;
}
