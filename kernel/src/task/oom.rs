//! The out-of-memory killer: when a page fault finds no free frame, a
//! process is ended to make room, as Linux's OOM killer does.
//!
//! The victim is the process whose death gives back the most frames: the
//! one holding the most frames nobody else holds (pages shared after fork,
//! page-cache and device pages are not freed by its death). Init is never
//! chosen. If the faulting process is that process, or nobody else holds
//! private frames, the faulting process itself is killed (its report says
//! "out of memory"). Otherwise the victim gets SIGKILL, the faulting process
//! steps aside so the victim can run and die, and its access is retried: the
//! next attempt finds the victim's frames free. A process that is already
//! dying (its threads told to exit, as SIGKILL does) counts as the victim:
//! nobody new is killed while memory is on its way back. A stopped process,
//! or one with an ordinary signal pending, is not dying: it is a candidate
//! like any other (waiting for it would wait for ever).

use super::process::{Pid, TABLE};
use super::{sched, signal};

/// Makes room for process `me`'s page: true if another process was chosen
/// (or is already dying), so the fault should be retried after it has gone;
/// false if `me` itself is the one to go.
pub fn make_room_for(me: Pid) -> bool {
    let (victim, frames, name) = {
        let t = TABLE.lock();
        let my_pid = t.threads.get(&me).map_or(0, |th| th.pid());
        // Each live process with its address space (its first thread's).
        let candidates = || {
            t.procs.values().filter(|p| p.pid != 1 && !p.is_zombie()).filter_map(|p| {
                let tid = *p.inner.lock().threads.first()?;
                t.threads.get(&tid).map(|th| (p, th))
            })
        };
        if candidates().any(|(p, th)| p.pid != my_pid && th.must_exit) {
            // A victim is already on its way out: let it go first.
            drop(t);
            sched::yield_now();
            return true;
        }
        // The faulting thread holds no address-space lock here (its fault
        // has failed and returned).
        let best = candidates().map(|(p, th)| (th.mm.lock().private_frames(), p.pid)).max();
        match best {
            Some((frames, pid)) if pid != my_pid && frames > 0 => {
                (pid, frames, t.procs.get(&pid).map(|p| p.inner.lock().name.clone()).unwrap_or_default())
            }
            _ => return false,
        }
    };
    log::warn!("out of memory: killing pid {victim} ({name}), {frames} private pages, for pid {me}");
    signal::send(victim, signal::SIGKILL);
    sched::yield_now();
    true
}
