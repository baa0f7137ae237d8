//! What the machine looks like, read from the device tree QEMU passes in x0:
//! where RAM is, the UART, the interrupt controller, the kernel command line,
//! the initramfs and any memory the firmware reserved.
//!
//! The device tree is parsed with the `fdt` crate; everything armmap needs is
//! copied into a [`Platform`] so nothing later depends on the blob.

use crate::mm::addr::PhysAddr;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;
use fdt::Fdt;

/// The GIC's register blocks.
#[derive(Clone, Debug)]
pub enum Gic {
    /// Distributor and CPU interface.
    V2 { dist: Range<u64>, cpu: Range<u64> },
    /// Distributor and redistributors (not driven by armmap).
    V3 { dist: Range<u64>, redist: Range<u64> },
}

/// The machine, as the device tree describes it.
#[derive(Clone, Debug)]
pub struct Platform {
    pub model: String,
    pub ram: Range<u64>,
    pub uart: Range<u64>,
    /// The UART's interrupt ID at the GIC (32 + its SPI number), if named.
    pub uart_irq: Option<u32>,
    pub gic: Gic,
    pub bootargs: String,
    pub initrd: Option<Range<u64>>,
    pub dtb: Range<u64>,
    /// Ranges the device tree reserves (/memreserve/ and /reserved-memory).
    pub reserved: Vec<Range<u64>>,
}

fn first_reg(node: fdt::node::FdtNode<'_, '_>, index: usize) -> Option<Range<u64>> {
    let r = node.reg()?.nth(index)?;
    let start = r.starting_address as u64;
    Some(start..start + r.size.unwrap_or(0) as u64)
}

/// The GIC interrupt ID of a node's first interrupt. A GIC's specifier has
/// three cells (the `fdt` crate reads only one or two): the type (0 = SPI,
/// 1 = PPI), the number within that type, and trigger flags.
fn gic_intid(node: fdt::node::FdtNode<'_, '_>) -> Option<u32> {
    let v = node.property("interrupts")?.value;
    let cell = |i: usize| Some(u32::from_be_bytes(v.get(i * 4..i * 4 + 4)?.try_into().ok()?));
    match (cell(0)?, cell(1)?) {
        (0, n) if n < 988 => Some(32 + n),
        (1, n) if n < 16 => Some(16 + n),
        _ => None,
    }
}

/// Reads the device tree at `dtb` (a pointer through the early linear map,
/// whose physical address is `dtb_pa`).
///
/// # Safety
/// `dtb` must be readable for the blob's whole size.
pub unsafe fn parse(dtb: *const u8, dtb_pa: PhysAddr) -> Result<Platform, &'static str> {
    // SAFETY: forwarded contract; from_ptr checks the magic before trusting
    // the header's size.
    let fdt = unsafe { Fdt::from_ptr(dtb) }.map_err(|_| "no valid device tree at the address in x0")?;
    if fdt.find_node("/memory").is_none() {
        return Err("the device tree has no /memory node");
    }
    let ram = fdt
        .memory()
        .regions()
        .next()
        .and_then(|r| r.size.map(|s| r.starting_address as u64..r.starting_address as u64 + s as u64))
        .ok_or("the device tree's /memory node has no usable region")?;
    let uart_node = fdt.find_compatible(&["arm,pl011"]).ok_or("no PL011 UART in the device tree")?;
    let uart = first_reg(uart_node, 0).ok_or("the PL011 node has no registers")?;
    let uart_irq = gic_intid(uart_node);
    let gic = if let Some(n) = fdt.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400"]) {
        Gic::V2 {
            dist: first_reg(n, 0).ok_or("GICv2 without distributor")?,
            cpu: first_reg(n, 1).ok_or("GICv2 without CPU interface")?,
        }
    } else if let Some(n) = fdt.find_compatible(&["arm,gic-v3"]) {
        Gic::V3 {
            dist: first_reg(n, 0).ok_or("GICv3 without distributor")?,
            redist: first_reg(n, 1).ok_or("GICv3 without redistributor")?,
        }
    } else {
        return Err("no GIC in the device tree");
    };
    let chosen = fdt.find_node("/chosen");
    let prop = |name: &str| chosen.and_then(|c| c.property(name)).and_then(|p| p.as_usize());
    let initrd = match (prop("linux,initrd-start"), prop("linux,initrd-end")) {
        (Some(s), Some(e)) if e > s => Some(s as u64..e as u64),
        _ => None,
    };
    let mut reserved: Vec<Range<u64>> =
        fdt.memory_reservations().map(|r| r.address() as u64..r.address() as u64 + r.size() as u64).collect();
    if let Some(rm) = fdt.find_node("/reserved-memory") {
        reserved.extend(rm.children().filter_map(|c| first_reg(c, 0)));
    }
    Ok(Platform {
        model: String::from(fdt.root().model()),
        ram,
        uart,
        uart_irq,
        gic,
        bootargs: String::from(fdt.chosen().bootargs().unwrap_or("")),
        initrd,
        dtb: dtb_pa.as_u64()..dtb_pa.as_u64() + fdt.total_size() as u64,
        reserved,
    })
}
