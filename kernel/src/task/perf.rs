//! `perf_event_open` for instructions and cycles, counted per process.
//!
//! A process opens an event and gets a file descriptor; `read` on it gives
//! the count as a `u64`. The hardware counters belong to whichever process
//! runs, so the counts are *virtualised*: when a process is switched out,
//! its counters are read and added to its events' totals and stopped; when
//! it is switched in, they are restarted from zero. The timer tick folds the
//! (32-bit) counters into the totals too, so they never wrap unseen. Counter
//! `n` of the PMU serves the process's event number `n`.
//!
//! Supported: `type = PERF_TYPE_HARDWARE` with `config` INSTRUCTIONS or
//! CPU_CYCLES, `pid` 0 (the caller), `cpu` -1 or 0, no group, the
//! `disabled`, `inherit`, `exclude_user` and `exclude_kernel` bits, and the
//! ioctls ENABLE, DISABLE and RESET. With `inherit`, a child created by
//! `fork` counts into its own copy of the event, which is added to the
//! parent's when the child exits (after its address space is gone), as on
//! Linux.

use crate::arch::aarch64::pmu;
use crate::errno::Errno;
use alloc::vec::Vec;

pub const PERF_TYPE_HARDWARE: u32 = 0;
pub const PERF_COUNT_HW_CPU_CYCLES: u64 = 0;
pub const PERF_COUNT_HW_INSTRUCTIONS: u64 = 1;
// `_IO('$', 0)`, `_IO('$', 1)`, `_IO('$', 3)` (linux/perf_event.h): the
// ioctl numbers with no argument are missing from linux_raw_sys::ioctl, so
// they are written out here.
pub const PERF_EVENT_IOC_ENABLE: u64 = 0x2400;
pub const PERF_EVENT_IOC_DISABLE: u64 = 0x2401;
pub const PERF_EVENT_IOC_RESET: u64 = 0x2403;

/// One open event of a process.
#[derive(Clone, Debug)]
pub struct PerfEvent {
    /// The id its file descriptor refers to.
    pub id: u32,
    pub pmu_event: u64,
    pub exclude_kernel: bool,
    pub exclude_user: bool,
    pub enabled: bool,
    /// Count accumulated while the process was switched out or folded.
    pub total: u64,
    /// Children inherit the event (`inherit` bit).
    pub inherit: bool,
    /// For an inherited copy: the parent process and its event's id.
    pub parent: Option<(u32, u32)>,
}

/// A process's events; index = hardware counter.
pub type Events = Vec<Option<PerfEvent>>;

/// Decoded `struct perf_event_attr` fields armmap uses.
pub struct Attr {
    pub kind: u32,
    pub config: u64,
    pub flags: u64,
}

/// Creates an event for the current process; returns its index.
pub fn open(events: &mut Events, attr: &Attr, id: u32) -> Result<usize, Errno> {
    if attr.kind != PERF_TYPE_HARDWARE {
        return Err(Errno::ENOENT);
    }
    let pmu_event = match attr.config {
        PERF_COUNT_HW_INSTRUCTIONS => pmu::EVENT_INST_RETIRED,
        PERF_COUNT_HW_CPU_CYCLES => pmu::EVENT_CPU_CYCLES,
        _ => return Err(Errno::ENOENT),
    };
    if !pmu::supports(pmu_event) {
        return Err(Errno::ENOENT);
    }
    let slot = match events.iter().position(Option::is_none) {
        Some(s) => s,
        None if events.len() < pmu::counters() => {
            events.push(None);
            events.len() - 1
        }
        None => return Err(Errno::EBUSY),
    };
    let ev = PerfEvent {
        id,
        pmu_event,
        exclude_user: attr.flags & (1 << 4) != 0,
        exclude_kernel: attr.flags & (1 << 5) != 0,
        enabled: attr.flags & 1 == 0,
        total: 0,
        inherit: attr.flags & (1 << 1) != 0,
        parent: None,
    };
    if ev.enabled {
        pmu::start(slot, ev.pmu_event, ev.exclude_kernel, ev.exclude_user);
    }
    events[slot] = Some(ev);
    Ok(slot)
}

fn slot_of(events: &Events, id: u32) -> Option<usize> {
    events.iter().position(|e| e.as_ref().is_some_and(|e| e.id == id))
}

/// The current count of event `id` (of the running process).
pub fn read(events: &Events, id: u32) -> Option<u64> {
    let n = slot_of(events, id)?;
    let e = events[n].as_ref()?;
    Some(e.total + if e.enabled { pmu::read(n) } else { 0 })
}

/// ENABLE / DISABLE / RESET.
pub fn ioctl(events: &mut Events, id: u32, req: u64) -> Result<(), Errno> {
    let n = slot_of(events, id).ok_or(Errno::EBADF)?;
    let e = events[n].as_mut().ok_or(Errno::EBADF)?;
    match req {
        PERF_EVENT_IOC_ENABLE if !e.enabled => {
            e.enabled = true;
            pmu::start(n, e.pmu_event, e.exclude_kernel, e.exclude_user);
        }
        PERF_EVENT_IOC_DISABLE if e.enabled => {
            e.total += pmu::stop(n);
            e.enabled = false;
        }
        PERF_EVENT_IOC_RESET => {
            e.total = 0;
            if e.enabled {
                pmu::zero(n);
            }
        }
        PERF_EVENT_IOC_ENABLE | PERF_EVENT_IOC_DISABLE => {}
        _ => return Err(Errno::ENOTTY),
    }
    Ok(())
}

/// Removes event `id` (its descriptor was closed).
pub fn close(events: &mut Events, id: u32) {
    if let Some(n) = slot_of(events, id) {
        if events[n].as_ref().is_some_and(|e| e.enabled) {
            pmu::stop(n);
        }
        events[n] = None;
    }
}

/// Switching out: stop the counters, keep their counts.
pub fn save(events: &mut Events) {
    for (n, e) in events.iter_mut().enumerate() {
        if let Some(e) = e.as_mut().filter(|e| e.enabled) {
            e.total += pmu::stop(n);
        }
    }
}

/// Switching in: restart the counters from zero.
pub fn restore(events: &Events) {
    for (n, e) in events.iter().enumerate() {
        if let Some(e) = e.as_ref().filter(|e| e.enabled) {
            pmu::start(n, e.pmu_event, e.exclude_kernel, e.exclude_user);
        }
    }
}

/// The events a child created by `fork` starts with: fresh copies of the
/// parent's inherited events, linked to them.
pub fn inherit(events: &Events, parent: u32) -> Events {
    events
        .iter()
        .map(|e| {
            e.as_ref().filter(|e| e.inherit).map(|e| PerfEvent { total: 0, parent: Some((parent, e.id)), ..e.clone() })
        })
        .collect()
}

/// A process exits: stops its counters and returns what its inherited
/// events counted, as (parent pid, parent event id, count).
pub fn exit_counts(events: &mut Events) -> Vec<(u32, u32, u64)> {
    save(events);
    let out = events.iter().flatten().filter_map(|e| e.parent.map(|(p, id)| (p, id, e.total))).collect();
    events.clear();
    out
}

/// Adds a child's final count to event `id`.
pub fn add_child_count(events: &mut Events, id: u32, count: u64) {
    if let Some(e) = events.iter_mut().flatten().find(|e| e.id == id) {
        e.total += count;
    }
}

/// Timer tick: move the counts into the totals before 32 bits can wrap.
pub fn fold(events: &mut Events) {
    for (n, e) in events.iter_mut().enumerate() {
        if let Some(e) = e.as_mut().filter(|e| e.enabled) {
            e.total += pmu::read(n);
            pmu::zero(n);
        }
    }
}
