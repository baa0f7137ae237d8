//! Generated files under `/proc`: their text is produced when read.
//!
//! | file               | contents                                                    |
//! |--------------------|-------------------------------------------------------------|
//! | `/proc/self/maps`  | the reader's areas, in Linux's `/proc/self/maps` format      |
//! | `/proc/self/mmstat`| the reader's counters: `minflt`, `cow`, `eager_pages`        |
//! | `/proc/vmstat`     | system-wide counters, one `key value` per line (see below)   |
//! | `/proc/memdev`     | `<physical address in hex> <size in bytes>` of the memdev buffer |
//! | `/proc/dumpmaps`   | write a pid to log that process's areas and page-table use   |
//!
//! `/proc/vmstat` keys: `nr_free_pages`, `nr_total_pages` (frames),
//! `pgfault` (faults resolved), `cow_copies`, `eager_pages` and
//! `eager_blocks_2m` (one-pass remap), `msync_writeback` (pages written back
//! by msync), `context_switches`.

use super::inode::Inode;
use super::vfs;
use crate::errno::Errno;
use crate::mm::address_space::AddressSpace;
use crate::task::{process, sched};
use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;

pub const PROC_SELF_MAPS: u32 = 1;
pub const PROC_SELF_MMSTAT: u32 = 2;
pub const PROC_VMSTAT: u32 = 3;
pub const PROC_MEMDEV: u32 = 4;
pub const PROC_DUMPMAPS: u32 = 5;

/// Creates the `/proc` tree.
pub fn init() {
    let proc = vfs::mkdir_all("/proc");
    let me = vfs::mkdir_all("/proc/self");
    let _ = vfs::link(&me, "maps", Inode::new_proc(PROC_SELF_MAPS));
    let _ = vfs::link(&me, "mmstat", Inode::new_proc(PROC_SELF_MMSTAT));
    let _ = vfs::link(&proc, "vmstat", Inode::new_proc(PROC_VMSTAT));
    let _ = vfs::link(&proc, "memdev", Inode::new_proc(PROC_MEMDEV));
    let _ = vfs::link(&proc, "dumpmaps", Inode::new_proc(PROC_DUMPMAPS));
}

/// Text built with `write!` whose every allocation is fallible: the size
/// of `/proc/self/maps` grows with the number of areas a program makes.
#[derive(Default)]
struct Text {
    s: String,
    out_of_memory: bool,
}

impl Write for Text {
    fn write_str(&mut self, t: &str) -> core::fmt::Result {
        if self.s.try_reserve(t.len()).is_err() {
            self.out_of_memory = true;
            return Err(core::fmt::Error);
        }
        self.s.push_str(t);
        Ok(())
    }
}

impl Text {
    /// The text, or ENOMEM if an allocation failed.
    fn finish(self) -> Result<String, Errno> {
        if self.out_of_memory {
            Err(Errno::ENOMEM)
        } else {
            Ok(self.s)
        }
    }
}

/// Runs `f` on a fresh [`Text`]; ENOMEM if any of its writes could not allocate.
fn text(f: impl FnOnce(&mut Text) -> core::fmt::Result) -> Result<String, Errno> {
    let mut t = Text::default();
    let _ = f(&mut t);
    t.finish()
}

/// `/proc/self/maps` text of an address space, Linux's format:
/// `start-end perms offset dev inode` then the name padded to column 74.
pub fn maps_text(mm: &AddressSpace) -> Result<String, Errno> {
    text(|s| {
        for v in mm.vmas.iter() {
            let l = v.prot.letters();
            let ino = v.backing.ino();
            let offset = if v.backing.is_anonymous() { 0 } else { v.pgoff * 4096 };
            let line = format_args!(
                "{:08x}-{:08x} {}{}{}{} {:08x} {} {} ",
                v.start,
                v.end,
                l[0] as char,
                l[1] as char,
                l[2] as char,
                if v.shared { 's' } else { 'p' },
                offset,
                if ino == 0 { "00:00" } else { "00:01" },
                ino
            );
            let start = s.s.len();
            s.write_fmt(line)?;
            if let Some(name) = &v.name {
                let pad = 73usize.saturating_sub(s.s.len() - start);
                write!(s, "{:pad$}{name}", "")?;
            }
            s.write_char('\n')?;
        }
        Ok(())
    })
}

/// Generates the text of `/proc` file number `which` for the calling
/// process; ENOMEM if it does not fit in memory.
pub fn generate(which: u32) -> Result<String, Errno> {
    match which {
        PROC_SELF_MAPS => process::with_mm(|mm| maps_text(mm)).unwrap_or(Ok(String::new())),
        PROC_SELF_MMSTAT => match process::current_process() {
            Ok(p) => {
                let c = &p.counters;
                let get = process::Counters::get;
                text(|s| {
                    write!(s, "minflt {}\ncow {}\neager_pages {}\n", get(&c.minflt), get(&c.cow), get(&c.eager_pages))
                })
            }
            Err(_) => Ok(String::new()),
        },
        PROC_VMSTAT => {
            let (free, total) = crate::mm::frame_counts();
            text(|s| {
                write!(
                    s,
                    "nr_free_pages {free}\nnr_total_pages {total}\npgfault {}\ncow_copies {}\neager_pages {}\neager_blocks_2m {}\nmsync_writeback {}\ncontext_switches {}\n",
                    crate::trap::stats::FAULTS.load(Relaxed),
                    crate::trap::stats::COW_COPIES.load(Relaxed),
                    crate::mm::mmap::EAGER_PAGES.load(Relaxed),
                    crate::mm::mmap::EAGER_BLOCKS_2M.load(Relaxed),
                    crate::mm::msync::WRITTEN_BACK.load(Relaxed),
                    sched::SWITCHES.load(Relaxed),
                )
            })
        }
        PROC_MEMDEV => {
            let (base, size) = super::dev::memdev();
            text(|s| writeln!(s, "{:#x} {}", base.as_u64(), size))
        }
        _ => Ok(String::new()),
    }
}

/// Writes to a `/proc` file: only `/proc/dumpmaps` accepts a pid.
pub fn write(which: u32, buf: &[u8]) -> Result<usize, Errno> {
    if which != PROC_DUMPMAPS {
        return Err(Errno::EACCES);
    }
    let text_in = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    let pid: u32 = text_in.trim().parse().map_err(|_| Errno::EINVAL)?;
    let (name, mm) = {
        let mut t = process::TABLE.lock();
        let name = t.procs.get(&pid).map(|p| p.inner.lock().name.clone());
        let mm = t.main_thread(pid).map(|th| th.mm.clone());
        name.zip(mm).ok_or(Errno::ESRCH)?
    };
    let dump = {
        let mm = mm.lock();
        text(|s| {
            writeln!(s, "areas of pid {pid} ({name}):")?;
            for v in mm.vmas.iter() {
                let (mut pages, mut blocks) = (0u64, 0u64);
                mm.for_each_leaf(v.start, v.end, |size| {
                    if size >= 2 << 20 {
                        blocks += 1;
                    } else {
                        pages += 1;
                    }
                });
                writeln!(
                    s,
                    "    {v:?} {} resident: {pages} pages, {blocks} 2M blocks",
                    v.name.as_deref().unwrap_or("")
                )?;
            }
            Ok(())
        })
    }?;
    log::info!("{}", dump.trim_end());
    Ok(buf.len())
}
