//! Starting programs: `execve` and the first process.
//!
//! Loading an ELF executable means: read the file, check it and compute a
//! load plan (`elf.rs`), create a fresh address space, add one private area
//! per loadable segment (its file bytes copied in, the rest zero: .bss), a
//! stack area with the Linux initial stack at its top (`stack.rs`: argc,
//! argv, envp, auxv), and the start of the `brk` heap after the highest
//! segment, and the vDSO's two areas (`vdso/`, announced in
//! `AT_SYSINFO_EHDR`). The process's user registers are then reset so that returning
//! to user mode jumps to the entry point with `sp` at argc.

use super::elf::{self, LoadPlan};
use super::process::{FsContext, KernelStack, ProcInner, Process, State, Thread};
use super::stack::{self, AuxInfo};
use crate::arch::aarch64::context::{exception_return, Context, FpState};
use crate::arch::aarch64::exception::TrapFrame;
use crate::errno::Errno;
use crate::fs::inode::Kind;
use crate::fs::vfs;
use crate::mm::addr::{page_round_up, PAGE_SIZE};
use crate::mm::address_space::{AddressSpace, STACK_SIZE, STACK_TOP};
use crate::mm::backing::zero_fill;
use crate::mm::vma::{Prot, Vma};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// AT_HWCAP bits armmap reports: FP and Advanced SIMD.
const HWCAP_FP: u64 = 1 << 0;
const HWCAP_ASIMD: u64 = 1 << 1;

/// Reads a whole executable file (anything but a regular file cannot be
/// executed: EACCES, as Linux answers for a directory or a device). A file
/// that does not start like an ELF image is ENOEXEC before anything else is
/// read, as on Linux, whatever its size.
pub fn read_file(path: &str) -> Result<Vec<u8>, Errno> {
    let inode = vfs::lookup(path)?;
    if !matches!(inode.kind, Kind::File) {
        return Err(Errno::EACCES);
    }
    let mut magic = [0u8; 4];
    if inode.read_at(0, &mut magic) != magic.len() || magic != *b"\x7fELF" {
        return Err(Errno::ENOEXEC);
    }
    let size = usize::try_from(inode.size()).map_err(|_| Errno::ENOMEM)?;
    crate::mm::heap::check_room(size)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    buf.resize(size, 0);
    let n = inode.read_at(0, &mut buf);
    buf.truncate(n);
    Ok(buf)
}

/// Builds the address space of program `image` with arguments and
/// environment; returns it with the entry point and initial stack pointer.
pub fn load(image: &[u8], path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(AddressSpace, u64, u64), Errno> {
    let plan: LoadPlan = elf::load_plan(image).map_err(|e| {
        log::debug!("exec {path}: {e}");
        Errno::ENOEXEC
    })?;
    let mut mm = AddressSpace::new()?;
    let zero = zero_fill();
    let mut prev_end = 0u64;
    for seg in &plan.segments {
        let start = (seg.vaddr & !(PAGE_SIZE as u64 - 1)).max(prev_end);
        let end = page_round_up(seg.end()).ok_or(Errno::ENOEXEC)?;
        let prot = Prot((seg.read as u8) | ((seg.write as u8) << 1) | ((seg.exec as u8) << 2));
        if start < end {
            mm.vmas.insert(Vma {
                start,
                end,
                prot,
                shared: false,
                may_write: true,
                backing: zero.clone(),
                pgoff: start / PAGE_SIZE as u64,
                name: Some(Arc::from(path)),
            })?;
        }
        prev_end = prev_end.max(end);
        mm.write_bytes(seg.vaddr, &image[seg.file_range()])?;
    }
    mm.brk_start = plan.brk_start;
    mm.brk = plan.brk_start;

    // The stack, and the initial stack contents at its top. A program whose
    // segments lie there cannot run (the area list must not overlap).
    if mm.vmas.any_overlap(STACK_TOP - STACK_SIZE, STACK_TOP) {
        log::debug!("exec {path}: a segment lies in the stack area");
        return Err(Errno::ENOEXEC);
    }
    mm.vmas.insert(Vma {
        start: STACK_TOP - STACK_SIZE,
        end: STACK_TOP,
        prot: Prot::RW,
        shared: false,
        may_write: true,
        backing: zero,
        pgoff: (STACK_TOP - STACK_SIZE) / PAGE_SIZE as u64,
        name: Some(Arc::from("[stack]")),
    })?;
    let vdso = crate::vdso::map_into(&mut mm)?;
    let argv_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(|a| a.as_slice()).collect();
    let aux = AuxInfo {
        phdr: plan.phdr_vaddr.unwrap_or(0),
        phent: plan.phent,
        phnum: plan.phnum,
        entry: plan.entry,
        hwcap: HWCAP_FP | HWCAP_ASIMD,
        random: crate::random::bytes(),
        execfn: path.as_bytes(),
        sysinfo_ehdr: vdso,
    };
    let st = stack::build_initial_stack(STACK_TOP, &argv_refs, &envp_refs, &aux).map_err(|e| match e {
        stack::StackError::TooBig => Errno::E2BIG,
        _ => Errno::EINVAL,
    })?;
    mm.write_bytes(st.sp, &st.bytes)?;
    Ok((mm, plan.entry, st.sp))
}

/// The user registers of a freshly started program.
pub fn initial_frame(entry: u64, sp: u64) -> TrapFrame {
    // SPSR = EL0t with every interrupt unmasked.
    TrapFrame { x: [0; 31], sp_el0: sp, elr: entry, spsr: 0 }
}

/// The last path component, as the process name.
pub fn basename(path: &str) -> String {
    String::from(path.rsplit('/').next().unwrap_or(path))
}

/// A kernel context that starts a process at `exception_return` with its
/// trap frame at the top of `kstack`.
pub fn initial_context(kstack: &mut KernelStack) -> Context {
    let top = kstack.0.as_mut_ptr_range().end as u64;
    let frame = top - core::mem::size_of::<TrapFrame>() as u64;
    Context { x19_28: [0; 10], fp: 0, lr: exception_return as *const () as u64, sp: frame }
}

/// Creates a process running `path` (the first process, and tests).
pub fn spawn(path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>], ppid: u32) -> Result<u32, Errno> {
    let image = read_file(path)?;
    let (mm, entry, sp) = load(&image, path, argv, envp)?;
    let pid = super::process::alloc_pid();
    let mut kstack: Box<KernelStack> = new_kernel_stack()?;
    let ctx = initial_context(&mut kstack);
    super::sched::reserve_slot()?;
    // The first process starts in session 0, process group 0, as Linux's
    // init does; later ones join their parent's.
    let (pgid, sid) = super::process::process(ppid).map_or((0, 0), |p| {
        let i = p.inner.lock();
        (i.pgid, i.sid)
    });
    let mut threads = Vec::new();
    threads.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    threads.push(pid);
    let actions = Arc::new(spin::Mutex::new(super::sigset::Actions::default()));
    let process = Arc::new(Process::new(
        pid,
        ProcInner {
            ppid,
            pgid,
            sid,
            name: basename(path),
            threads,
            group_exit: None,
            zombie: None,
            dead_ticks: 0,
            exit_signal: super::signal::SIGCHLD,
        },
        actions,
    ));
    let mut t = crate::mm::heap::try_box(Thread {
        tid: pid,
        process: process.clone(),
        state: State::Ready,
        mm: Arc::new(spin::Mutex::new(mm)),
        files: Arc::new(spin::Mutex::new(super::files::standard_files())),
        fs: Arc::new(spin::Mutex::new(FsContext { cwd: String::from("/"), umask: 0o022 })),
        sig: Default::default(),
        must_exit: false,
        clear_child_tid: 0,
        robust_list: 0,
        vfork_done: None,
        kstack,
        ctx,
        fp: Box::default(),
        tpidr: 0,
        user_ticks: 0,
        perf: alloc::vec::Vec::new(),
    })?;
    *t.trap_frame() = initial_frame(entry, sp);
    {
        let mut tables = super::process::TABLE.lock();
        tables.procs.insert(pid, process);
        tables.threads.insert(pid, t);
    }
    super::sched::start(pid);
    Ok(pid)
}

/// A zeroed kernel stack on the heap; ENOMEM when the heap has no room.
pub fn new_kernel_stack() -> Result<Box<KernelStack>, Errno> {
    // Built directly on the heap: a 32 KiB array must not pass through the
    // (smaller) kernel stack on its way.
    let layout = core::alloc::Layout::new::<KernelStack>();
    // SAFETY: the layout is non-zero-sized.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) } as *mut KernelStack;
    if p.is_null() {
        return Err(Errno::ENOMEM);
    }
    // SAFETY: a zeroed byte array is a valid KernelStack, and Box::from_raw
    // takes ownership of the allocation made with the global allocator and
    // the same layout.
    Ok(unsafe { Box::from_raw(p) })
}

/// Replaces the current process's program (`execve`). The program is
/// loaded first (a failure leaves the caller as it was); then the other
/// threads of the process exit, the caller takes the process's id as its
/// thread id (Linux's `de_thread`), gets a descriptor table of its own
/// with the close-on-exec descriptors closed, and a vfork parent waiting
/// for it is released.
pub fn exec_current(path: &str, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> Result<(), Errno> {
    let image = read_file(path)?;
    let (mm, entry, sp) = load(&image, path, &argv, &envp)?;
    let mm = crate::mm::heap::try_box(spin::Mutex::new(mm))?;
    let process = super::process::current_process()?;
    become_only_thread(&process)?;
    // The old program's robust futexes are released, as at exit (Linux's
    // exec_mm_release), while its memory is still there.
    let tid = super::sched::current();
    let head = super::process::with(tid, |t| core::mem::take(&mut t.robust_list)).unwrap_or(0);
    super::futex::exit_robust_list(head, tid);
    let files = super::process::with_current(|t| t.files.clone())?;
    let own_files = if Arc::strong_count(&files) > 2 {
        // Shared with another process (CLONE_FILES): exec unshares it.
        let copy = crate::mm::heap::try_clone_vec(&files.lock())?;
        Some(Arc::new(spin::Mutex::new(copy)))
    } else {
        None
    };
    drop(files);
    let (old_mm, old_files, files, vfork_done) = super::process::with(tid, |t| {
        let old_mm = core::mem::replace(&mut t.mm, Arc::from(mm));
        t.mm.lock().activate();
        t.tpidr = 0;
        crate::arch::aarch64::context::set_tpidr_el0(0);
        *t.fp = FpState::default();
        crate::arch::aarch64::context::restore_fp(&t.fp);
        *t.trap_frame() = initial_frame(entry, sp);
        t.sig.altstack = Default::default();
        let old_files = own_files.map(|f| core::mem::replace(&mut t.files, f));
        (old_mm, old_files, t.files.clone(), t.vfork_done.take())
    })
    .ok_or(Errno::ESRCH)?;
    // The close-on-exec descriptors close without the thread table locked
    // (a pipe's last writer going wakes its readers, which takes it).
    super::files::close_on_exec(&mut files.lock());
    drop(files);
    process.inner.lock().name = basename(path);
    // Handlers go back to the default (their code is gone).
    process.sighand.lock().reset_for_exec();
    // The old address space goes after TTBR0 points at the new one.
    drop(old_mm);
    drop(old_files);
    // POSIX timers do not survive exec; interval timers do (Linux).
    super::timers::with(|t| t.exec(process.pid));
    // A vfork parent waits for this thread to let go of its memory.
    if let Some(done) = vfork_done {
        done.complete();
    }
    Ok(())
}

/// Makes the calling thread the only one of `process`, with the process's
/// id as its tid. EINTR if a signal ends the process meanwhile.
fn become_only_thread(process: &Arc<Process>) -> Result<(), Errno> {
    let me = super::sched::current();
    let alone = || process.inner.lock().threads.len() == 1;
    if !alone() {
        super::exit::kill_other_threads(process);
        process.thread_exit.wait_until(None, alone)?;
    }
    if me != process.pid {
        super::sched::take_tid(me, process.pid);
    }
    Ok(())
}
