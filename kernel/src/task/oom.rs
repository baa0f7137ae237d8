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
//! dying (a signal pending) counts as the victim: nobody new is killed while
//! memory is on its way back.

use super::process::{Pid, State, TABLE};
use super::{sched, signal};

/// Makes room for process `me`'s page: true if another process was chosen
/// (or is already dying), so the fault should be retried after it has gone;
/// false if `me` itself is the one to go.
pub fn make_room_for(me: Pid) -> bool {
    let (victim, frames, name) = {
        let t = TABLE.lock();
        let candidates = || t.values().filter(|p| p.pid != 1 && !matches!(p.state, State::Zombie { .. }));
        if candidates().any(|p| p.pid != me && p.pending.is_some()) {
            drop(t);
            sched::yield_now();
            return true;
        }
        let best = candidates().map(|p| (p.mm.private_frames(), p.pid)).max();
        match best {
            Some((frames, pid)) if pid != me && frames > 0 => {
                (pid, frames, t.get(&pid).map(|p| p.name.clone()).unwrap_or_default())
            }
            _ => return false,
        }
    };
    log::warn!("out of memory: killing pid {victim} ({name}), {frames} private pages, for pid {me}");
    signal::send(victim, super::exit::SIGKILL);
    sched::yield_now();
    true
}
