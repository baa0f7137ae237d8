//! The Arm PL011 UART: QEMU virt's serial port and armmap's console.
//!
//! Transmit: wait while the transmit FIFO is full (FR.TXFF), then write the
//! byte to DR. Receive: while the receive FIFO is not empty (!FR.RXFE), read
//! DR. QEMU's model needs no baud-rate setup, but `init` programs the usual
//! 8N1 format with FIFOs so the driver also reads correctly on hardware.
//! Received bytes can raise an interrupt (RX: the FIFO reached its trigger
//! level; RT: bytes waited in it for a while), which stays asserted until
//! the FIFO is read empty; transmission is polled.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {u32,
    /// Flag register.
    FR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// Receive FIFO empty.
        RXFE OFFSET(4) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    /// Line control register.
    LCR_H [
        /// Word length.
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
        /// FIFO enable.
        FEN OFFSET(4) NUMBITS(1) []
    ],
    /// Control register.
    CR [
        RXE OFFSET(9) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        UARTEN OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt mask set/clear register (1 = enabled).
    IMSC [
        /// Receive timeout.
        RTIM OFFSET(6) NUMBITS(1) [],
        /// Receive.
        RXIM OFFSET(4) NUMBITS(1) []
    ],
    /// Interrupt clear register.
    ICR [
        RTIC OFFSET(6) NUMBITS(1) [],
        RXIC OFFSET(4) NUMBITS(1) [],
        ALL OFFSET(0) NUMBITS(11) []
    ]
}

register_structs! {
    pub Registers {
        (0x00 => dr: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x24 => ibrd: ReadWrite<u32>),
        (0x28 => fbrd: ReadWrite<u32>),
        (0x2c => lcr_h: ReadWrite<u32, LCR_H::Register>),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => ifls: ReadWrite<u32>),
        (0x38 => imsc: ReadWrite<u32, IMSC::Register>),
        (0x3c => _reserved2),
        (0x44 => icr: WriteOnly<u32, ICR::Register>),
        (0x48 => @END),
    }
}

/// A PL011 at a mapped address.
pub struct Pl011 {
    regs: &'static Registers,
}

// SAFETY: the registers are MMIO; the console serialises all use of its UART
// behind a lock, so moving the handle between contexts is sound.
unsafe impl Send for Pl011 {}

impl Pl011 {
    /// # Safety
    /// `base` must be the virtual address of a PL011's registers, mapped as
    /// device memory for the kernel's lifetime, and used by nothing else.
    pub unsafe fn new(base: usize) -> Self {
        // SAFETY: the caller guarantees base maps a PL011.
        Self { regs: unsafe { &*(base as *const Registers) } }
    }

    /// 8N1, FIFOs on, transmitter and receiver enabled.
    pub fn init(&self) {
        self.flush();
        self.regs.cr.set(0);
        self.regs.icr.write(ICR::ALL::SET);
        // 115200 baud from a 24 MHz reference clock (ignored by QEMU).
        self.regs.ibrd.set(13);
        self.regs.fbrd.set(1);
        self.regs.lcr_h.write(LCR_H::WLEN::EightBit + LCR_H::FEN::SET);
        self.regs.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
    }

    /// Raises the interrupt when bytes arrive: at the lowest FIFO trigger
    /// level (1/8), or when fewer wait for a while (receive timeout).
    pub fn enable_rx_interrupt(&self) {
        self.regs.ifls.set(0);
        self.regs.icr.write(ICR::RXIC::SET + ICR::RTIC::SET);
        self.regs.imsc.write(IMSC::RXIM::SET + IMSC::RTIM::SET);
    }

    /// Acknowledges the receive interrupts (after the FIFO was drained).
    pub fn clear_rx_interrupt(&self) {
        self.regs.icr.write(ICR::RXIC::SET + ICR::RTIC::SET);
    }

    /// Sends one byte, waiting for room in the FIFO.
    pub fn put(&self, b: u8) {
        while self.regs.fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        self.regs.dr.set(b as u32);
    }

    /// A received byte, if any.
    pub fn get(&self) -> Option<u8> {
        (!self.regs.fr.is_set(FR::RXFE)).then(|| self.regs.dr.get() as u8)
    }

    /// Waits until everything sent has left the UART.
    pub fn flush(&self) {
        while self.regs.fr.is_set(FR::BUSY) {
            core::hint::spin_loop();
        }
    }
}
