//! The Generic Interrupt Controller, version 2 (QEMU virt's default,
//! `-machine virt,gic-version=2`).
//!
//! A GICv2 has two MMIO blocks: the *distributor* (GICD), shared by all CPUs,
//! which enables each interrupt and routes it, and the *CPU interface* (GICC),
//! through which a CPU acknowledges an interrupt (reading IAR gives its ID)
//! and signals its end (writing EOIR). Interrupt IDs 16-31 are per-CPU
//! peripherals (PPIs) such as the generic timer; 32 and up are shared (SPIs).

use crate::mm::addr::PhysAddr;
use spin::Once;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {u32,
    GICD_CTLR [ENABLE OFFSET(0) NUMBITS(1) []],
    GICC_CTLR [ENABLE OFFSET(0) NUMBITS(1) []],
    GICC_PMR [PRIORITY OFFSET(0) NUMBITS(8) []],
    GICC_IAR [INTID OFFSET(0) NUMBITS(10) []]
}

register_structs! {
    Distributor {
        (0x000 => ctlr: ReadWrite<u32, GICD_CTLR::Register>),
        (0x004 => typer: ReadOnly<u32>),
        (0x008 => _reserved0),
        (0x100 => isenabler: [ReadWrite<u32>; 32]),
        (0x180 => icenabler: [ReadWrite<u32>; 32]),
        (0x200 => _reserved1),
        (0x400 => ipriorityr: [ReadWrite<u32>; 255]),
        (0x7fc => _reserved2),
        (0x800 => itargetsr: [ReadWrite<u32>; 255]),
        (0xbfc => _reserved3),
        (0x1000 => @END),
    }
}

register_structs! {
    CpuInterface {
        (0x00 => ctlr: ReadWrite<u32, GICC_CTLR::Register>),
        (0x04 => pmr: ReadWrite<u32, GICC_PMR::Register>),
        (0x08 => bpr: ReadWrite<u32>),
        (0x0c => iar: ReadOnly<u32, GICC_IAR::Register>),
        (0x10 => eoir: WriteOnly<u32, GICC_IAR::Register>),
        (0x14 => @END),
    }
}

/// Interrupt IDs 1020-1023 are special; 1023 means "nothing pending".
const SPURIOUS: u32 = 1023;

struct Gic {
    gicd: &'static Distributor,
    gicc: &'static CpuInterface,
}

// SAFETY: the register blocks are MMIO that the hardware serialises; armmap
// touches them only with interrupts masked on its single CPU.
unsafe impl Sync for Gic {}
// SAFETY: as above; the references are to device memory, not thread-local data.
unsafe impl Send for Gic {}

static GIC: Once<Gic> = Once::new();

/// A handler for one interrupt ID.
pub type Handler = fn();
static HANDLERS: spin::Mutex<[Option<Handler>; MAX_HANDLED as usize]> = spin::Mutex::new([None; MAX_HANDLED as usize]);

/// Initialises the distributor and this CPU's interface from their physical
/// addresses (mapped as device memory in the linear map).
pub fn init(dist: PhysAddr, cpu: PhysAddr) {
    GIC.call_once(|| {
        // SAFETY: the device tree names these as the GICv2 register blocks and
        // the kernel maps them as Device memory at their linear-map address;
        // nothing else creates references to them.
        let (gicd, gicc) = unsafe {
            (
                &*(crate::mm::phys_to_virt(dist).as_u64() as *const Distributor),
                &*(crate::mm::phys_to_virt(cpu).as_u64() as *const CpuInterface),
            )
        };
        gicd.ctlr.write(GICD_CTLR::ENABLE::SET);
        gicc.pmr.write(GICC_PMR::PRIORITY.val(0xff));
        gicc.bpr.set(0);
        gicc.ctlr.write(GICC_CTLR::ENABLE::SET);
        Gic { gicd, gicc }
    });
}

/// Number of interrupt lines the distributor implements.
pub fn lines() -> u32 {
    GIC.get().map_or(0, |g| 32 * ((g.gicd.typer.get() & 0x1f) + 1))
}

/// Highest interrupt ID [`enable`] takes, plus one.
pub const MAX_HANDLED: u32 = 64;

/// Enables interrupt `intid` (below [`MAX_HANDLED`]) and routes it to
/// `handler`; a shared interrupt (SPI) is sent to this CPU.
pub fn enable(intid: u32, handler: Handler) {
    let g = GIC.get().expect("GIC not initialised");
    HANDLERS.lock()[intid as usize] = Some(handler);
    let reg = &g.gicd.ipriorityr[intid as usize / 4];
    let shift = (intid % 4) * 8;
    reg.set((reg.get() & !(0xff << shift)) | (0x80 << shift));
    if intid >= 32 {
        // CPU interface 0 (read-only on a uniprocessor GIC, where it is implied).
        let reg = &g.gicd.itargetsr[intid as usize / 4];
        reg.set((reg.get() & !(0xff << shift)) | (0x01 << shift));
    }
    g.gicd.isenabler[intid as usize / 32].set(1 << (intid % 32));
}

/// Acknowledges and handles every pending interrupt (called from the IRQ vector).
pub fn handle_irq() {
    let Some(g) = GIC.get() else { return };
    loop {
        let iar = g.gicc.iar.extract();
        let intid = iar.read(GICC_IAR::INTID);
        if intid >= SPURIOUS - 3 {
            break;
        }
        let handler = HANDLERS.lock().get(intid as usize).copied().flatten();
        match handler {
            Some(h) => h(),
            None => log::warn!("unexpected interrupt {intid}"),
        }
        g.gicc.eoir.set(iar.get());
    }
}
