//! The stage-1 descriptor format of the EL1&0 translation regime (the
//! kernel's and user processes' tables), 4 KiB granule.
//!
//! A table descriptor is just `VALID | TYPE | next-table address`. A leaf
//! (level-1 1 GiB block, level-2 2 MiB block, level-3 4 KiB page) carries
//! the output address and the attributes the MMU checks on every access:
//!
//! ```text
//!  63   58   55 54  53  52  51  50  48 47          12 11  10  9  8  7  6  5  4   2  1  0
//! +----+------+---+---+---+---+------+--------------+---+---+-----+-----+--+------+---+---+
//! |    |  SW  |UXN|PXN|CT |DBM|      | output addr  |nG |AF | SH  | AP  |NS|AttrIx|TYP|VAL|
//! +----+------+---+---+---+---+------+--------------+---+---+-----+-----+--+------+---+---+
//! ```
//!
//! - **AttrIndx** selects one of the eight memory types programmed in
//!   `MAIR_EL1`; armmap uses three ([`MAIR_INDEX_NORMAL`],
//!   [`MAIR_INDEX_NORMAL_NC`], [`MAIR_INDEX_DEVICE`]), which the boot code
//!   programs from these same constants.
//! - **AP[2:1]** sets read/write access for EL1 and EL0: `00` EL1 RW, `01`
//!   EL1+EL0 RW, `10` EL1 RO, `11` EL1+EL0 RO. EL1 can always read a valid
//!   mapping.
//! - **PXN / UXN** forbid execution at EL1 / EL0. armmap sets PXN on every
//!   user page (the kernel never runs user code) and UXN on every kernel
//!   page.
//! - **SH** is the shareability: inner shareable for normal memory (all
//!   CPUs see one coherent copy); device memory is always treated as outer
//!   shareable whatever SH says, and armmap writes non-shareable.
//! - **AF**, the access flag, is always set: armmap does not track accesses
//!   (a clear AF would fault on first use).
//! - **nG** (not global) tags the TLB entry with the current ASID; user
//!   pages are non-global, kernel pages global.
//! - **SW**, bits 58:55, are ignored by the hardware and free for software.
//!   armmap uses bit 55 to mark user mappings (so a user page with no access
//!   is told apart from a kernel read-only page) and bits 58:56 as
//!   [`PageAttrs::soft`], for the mapper (e.g. copy-on-write).
//!
//! A user page with no access at all (`PROT_NONE`) stays mapped as
//! "EL1 read-only, UXN, PXN": EL0 faults on any access while the frame is
//! kept.

use super::{Descriptor, DescriptorFormat, LAST_LEVEL};
use crate::mm::addr::PhysAddr;
use tock_registers::{register_bitfields, LocalRegisterCopy};

/// `MAIR_EL1` index of normal write-back memory (RAM).
pub const MAIR_INDEX_NORMAL: u64 = 0;
/// `MAIR_EL1` index of normal non-cacheable memory (write-combining, e.g. a framebuffer).
pub const MAIR_INDEX_NORMAL_NC: u64 = 1;
/// `MAIR_EL1` index of Device-nGnRE memory (MMIO registers).
pub const MAIR_INDEX_DEVICE: u64 = 2;

register_bitfields! {u64,
    /// A VMSAv8-64 stage-1 descriptor, 4 KiB granule, 48-bit output address.
    pub STAGE1_DESCRIPTOR [
        /// 1 = valid; 0 = translation fault (all other bits ignored).
        VALID OFFSET(0) NUMBITS(1) [],
        /// Levels 0-2: 1 = table, 0 = block. Level 3: must be 1 (page).
        TYPE OFFSET(1) NUMBITS(1) [
            Block = 0,
            TableOrPage = 1
        ],
        /// Index of the memory type in MAIR_EL1.
        ATTRINDX OFFSET(2) NUMBITS(3) [],
        /// Non-secure output address (only meaningful in Secure state).
        NS OFFSET(5) NUMBITS(1) [],
        /// Data access permissions AP[2:1].
        AP OFFSET(6) NUMBITS(2) [
            ReadWriteEl1 = 0b00,
            ReadWriteEl1El0 = 0b01,
            ReadOnlyEl1 = 0b10,
            ReadOnlyEl1El0 = 0b11
        ],
        /// Shareability.
        SH OFFSET(8) NUMBITS(2) [
            NonShareable = 0b00,
            OuterShareable = 0b10,
            InnerShareable = 0b11
        ],
        /// Access flag.
        AF OFFSET(10) NUMBITS(1) [],
        /// Not global: the TLB entry belongs to the current ASID only.
        NG OFFSET(11) NUMBITS(1) [],
        /// Output address bits 47:12 (the next table, the block or the page).
        OUTPUT_ADDR OFFSET(12) NUMBITS(36) [],
        /// Dirty bit modifier (hardware dirty tracking; unused by armmap).
        DBM OFFSET(51) NUMBITS(1) [],
        /// Hint: part of a run of 16 contiguous entries (unused by armmap).
        CONTIGUOUS OFFSET(52) NUMBITS(1) [],
        /// Privileged execute-never.
        PXN OFFSET(53) NUMBITS(1) [],
        /// Unprivileged execute-never.
        UXN OFFSET(54) NUMBITS(1) [],
        /// Software bit 55: armmap marks user mappings with it.
        SW_USER OFFSET(55) NUMBITS(1) [],
        /// Software bits 58:56, free for the mapper ([`PageAttrs::soft`]).
        SW_SOFT OFFSET(56) NUMBITS(3) []
    ]
}

use STAGE1_DESCRIPTOR as D;

type Desc = LocalRegisterCopy<u64, D::Register>;

/// How memory is cached and ordered; each is one `MAIR_EL1` slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemType {
    /// Normal write-back memory ([`MAIR_INDEX_NORMAL`]).
    Normal,
    /// Normal non-cacheable memory, write-combining ([`MAIR_INDEX_NORMAL_NC`]).
    NormalNc,
    /// Device-nGnRE ([`MAIR_INDEX_DEVICE`]): no gathering, no reordering,
    /// early write acknowledgement; never speculatively read.
    Device,
}

impl MemType {
    /// This type's index in `MAIR_EL1`.
    pub const fn mair_index(self) -> u64 {
        match self {
            MemType::Normal => MAIR_INDEX_NORMAL,
            MemType::NormalNc => MAIR_INDEX_NORMAL_NC,
            MemType::Device => MAIR_INDEX_DEVICE,
        }
    }
}

/// The attributes of a stage-1 leaf.
///
/// Invariant of a *normalised* value (what every constructor returns and
/// what decoding gives back): kernel pages are readable (`read` is true: EL1
/// can read any valid mapping); for user pages `write` or `exec` imply
/// `read` (AArch64 has no write-only encoding); `soft < 8`. Encoding a value
/// that is not normalised encodes [`normalized`](Self::normalized).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PageAttrs {
    /// Memory type (MAIR index, shareability).
    pub mem: MemType,
    /// A user (EL0) mapping; otherwise the kernel's (EL1 only).
    pub user: bool,
    /// Readable by its owner (user pages: EL0 may read).
    pub read: bool,
    /// Writable by its owner.
    pub write: bool,
    /// Executable by its owner (EL0 for user pages, EL1 for kernel pages).
    pub exec: bool,
    /// In every address space (TLB entry not tagged with an ASID).
    pub global: bool,
    /// Three bits the hardware ignores, for the mapper's own use.
    pub soft: u8,
}

impl PageAttrs {
    const KERNEL: PageAttrs =
        PageAttrs { mem: MemType::Normal, user: false, read: true, write: false, exec: false, global: true, soft: 0 };

    /// Kernel code: read and execute.
    pub const fn kernel_text() -> Self {
        Self { exec: true, ..Self::KERNEL }
    }

    /// Kernel read-only data.
    pub const fn kernel_rodata() -> Self {
        Self::KERNEL
    }

    /// Kernel data: read and write, never executed.
    pub const fn kernel_data() -> Self {
        Self { write: true, ..Self::KERNEL }
    }

    /// Kernel mapping of MMIO registers: Device-nGnRE, read/write, never executed.
    pub const fn device() -> Self {
        Self { mem: MemType::Device, write: true, ..Self::KERNEL }
    }

    /// A user page with mmap-style permissions (write or exec imply read).
    /// Normal memory, non-global.
    pub const fn user(read: bool, write: bool, exec: bool) -> Self {
        Self { mem: MemType::Normal, user: true, read, write, exec, global: false, soft: 0 }.normalized()
    }

    /// The same attributes with memory type `mem`.
    pub const fn with_mem(self, mem: MemType) -> Self {
        Self { mem, ..self }
    }

    /// The canonical form of these attributes (see the type's invariant).
    pub const fn normalized(self) -> Self {
        let read = !self.user || self.read || self.write || self.exec;
        Self { read, soft: self.soft & 0b111, ..self }
    }
}

/// The stage-1 (EL1&0) descriptor format: blocks at levels 1 and 2.
#[derive(Copy, Clone, Debug)]
pub struct Stage1;

impl DescriptorFormat for Stage1 {
    type Attrs = PageAttrs;

    fn leaf_allowed(level: usize) -> bool {
        (1..=LAST_LEVEL).contains(&level)
    }

    #[inline]
    fn table(next: PhysAddr) -> u64 {
        let mut d = Desc::new(0);
        d.write(D::VALID::SET + D::TYPE::TableOrPage + D::OUTPUT_ADDR.val(next.pfn()));
        d.get()
    }

    #[inline]
    fn leaf(level: usize, pa: PhysAddr, attrs: PageAttrs) -> u64 {
        let a = attrs.normalized();
        let shareability = match a.mem {
            MemType::Normal | MemType::NormalNc => D::SH::InnerShareable,
            MemType::Device => D::SH::NonShareable,
        };
        let mut d = Desc::new(0);
        d.write(
            D::VALID::SET
                + if level == LAST_LEVEL { D::TYPE::TableOrPage } else { D::TYPE::Block }
                + D::ATTRINDX.val(a.mem.mair_index())
                + shareability
                + D::AF::SET
                + D::NG.val(u64::from(!a.global))
                + D::OUTPUT_ADDR.val(pa.pfn())
                + D::SW_SOFT.val(u64::from(a.soft)),
        );
        if a.user {
            let ap = match (a.read, a.write) {
                (true, true) => D::AP::ReadWriteEl1El0,
                (true, false) => D::AP::ReadOnlyEl1El0,
                // No EL0 access; the kernel may still read (PROT_NONE).
                (false, _) => D::AP::ReadOnlyEl1,
            };
            d.modify(ap + D::SW_USER::SET + D::PXN::SET + D::UXN.val(u64::from(!a.exec)));
        } else {
            let ap = if a.write { D::AP::ReadWriteEl1 } else { D::AP::ReadOnlyEl1 };
            d.modify(ap + D::UXN::SET + D::PXN.val(u64::from(!a.exec)));
        }
        d.get()
    }

    #[inline]
    fn decode(level: usize, desc: u64) -> Descriptor<PageAttrs> {
        let d = Desc::new(desc);
        if !d.is_set(D::VALID) {
            return Descriptor::Invalid;
        }
        let oa = PhysAddr::from_pfn(d.read(D::OUTPUT_ADDR));
        match (level == LAST_LEVEL, d.is_set(D::TYPE)) {
            // Level 3: TYPE=1 is a page, TYPE=0 is reserved.
            (true, true) => Descriptor::Leaf { pa: oa, attrs: decode_attrs(d) },
            (true, false) => Descriptor::Invalid,
            (false, true) => Descriptor::Table(oa),
            // A block where blocks exist (the low address bits are RES0).
            (false, false) if Self::leaf_allowed(level) => {
                Descriptor::Leaf { pa: oa.align_down(super::level_size(level) as usize), attrs: decode_attrs(d) }
            }
            (false, false) => Descriptor::Invalid,
        }
    }

    fn needs_break_before_make(old: &PageAttrs, new: &PageAttrs) -> bool {
        // Memory type and shareability (derived from it) need BBM; so does
        // nG, conservatively. AP, PXN, UXN and the software bits do not.
        old.mem != new.mem || old.global != new.global
    }
}

fn decode_attrs(d: Desc) -> PageAttrs {
    let mem = match d.read(D::ATTRINDX) {
        MAIR_INDEX_NORMAL => MemType::Normal,
        MAIR_INDEX_NORMAL_NC => MemType::NormalNc,
        _ => MemType::Device,
    };
    let user = d.is_set(D::SW_USER);
    let ap = d.read_as_enum(D::AP);
    let (read, write, exec) = if user {
        match ap {
            Some(D::AP::Value::ReadWriteEl1El0) => (true, true, !d.is_set(D::UXN)),
            Some(D::AP::Value::ReadOnlyEl1El0) => (true, false, !d.is_set(D::UXN)),
            _ => (false, false, !d.is_set(D::UXN)),
        }
    } else {
        let write = matches!(ap, Some(D::AP::Value::ReadWriteEl1 | D::AP::Value::ReadWriteEl1El0));
        (true, write, !d.is_set(D::PXN))
    };
    PageAttrs { mem, user, read, write, exec, global: !d.is_set(D::NG), soft: d.read(D::SW_SOFT) as u8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf_attrs(level: usize, desc: u64) -> (PhysAddr, PageAttrs) {
        match Stage1::decode(level, desc) {
            Descriptor::Leaf { pa, attrs } => (pa, attrs),
            other => panic!("not a leaf: {other:?}"),
        }
    }

    // Expected values below were assembled by hand from the Arm ARM's
    // descriptor layout, independently of the bitfield definitions.
    #[test]
    fn known_encodings() {
        // User RW page: VALID|TYPE, AP=01, SH=11, AF, nG, PXN, UXN, SW bit 55.
        assert_eq!(Stage1::leaf(3, PhysAddr(0x4000_1000), PageAttrs::user(true, true, false)), 0x00e0_0000_4000_1f43);
        // Kernel data 2 MiB block: VALID, AP=00, SH=11, AF, PXN, UXN.
        assert_eq!(Stage1::leaf(2, PhysAddr(0x4020_0000), PageAttrs::kernel_data()), 0x0060_0000_4020_0701);
        // Device page: VALID|TYPE, AttrIndx=2, SH=00, AF, PXN, UXN.
        assert_eq!(Stage1::leaf(3, PhysAddr(0x0900_0000), PageAttrs::device()), 0x0060_0000_0900_040b);
        // Kernel text 1 GiB block: AP=10 (RO), executable at EL1 (no PXN), UXN.
        assert_eq!(Stage1::leaf(1, PhysAddr(0x4000_0000), PageAttrs::kernel_text()), 0x0040_0000_4000_0781);
        // Table: VALID|TYPE and the address, nothing else.
        assert_eq!(Stage1::table(PhysAddr(0x4123_4000)), 0x4123_4003);
    }

    #[test]
    fn user_pages_never_run_in_the_kernel_and_kernel_pages_never_in_user() {
        for (r, w, x) in
            [(false, false, false), (true, false, false), (true, true, false), (true, false, true), (true, true, true)]
        {
            let d = Desc::new(Stage1::leaf(3, PhysAddr(0x1000), PageAttrs::user(r, w, x)));
            assert!(d.is_set(D::PXN));
            assert_eq!(d.is_set(D::UXN), !x);
            assert!(d.is_set(D::NG) && d.is_set(D::AF));
        }
        for a in [PageAttrs::kernel_text(), PageAttrs::kernel_rodata(), PageAttrs::kernel_data(), PageAttrs::device()] {
            let d = Desc::new(Stage1::leaf(3, PhysAddr(0x1000), a));
            assert!(d.is_set(D::UXN) && !d.is_set(D::NG));
            assert_eq!(d.read(D::AP) & 0b01, 0, "EL0 has no access to kernel pages");
        }
    }

    #[test]
    fn prot_none_is_el1_read_only_and_execute_never() {
        let d = Desc::new(Stage1::leaf(3, PhysAddr(0x5000), PageAttrs::user(false, false, false)));
        assert_eq!(d.read_as_enum(D::AP), Some(D::AP::Value::ReadOnlyEl1));
        assert!(d.is_set(D::PXN) && d.is_set(D::UXN) && d.is_set(D::SW_USER));
        // ... and it does not decode as a kernel read-only page.
        let (_, a) = leaf_attrs(3, d.get());
        assert!(a.user && !a.read && !a.write && !a.exec);
        assert_ne!(a, PageAttrs::kernel_rodata());
    }

    #[test]
    fn every_attribute_combination_round_trips() {
        for bits in 0..(1u32 << 9) {
            let mem = [MemType::Normal, MemType::NormalNc, MemType::Device][(bits % 3) as usize];
            let b = |i: u32| bits & (1 << i) != 0;
            let attrs = PageAttrs {
                mem,
                user: b(2),
                read: b(3),
                write: b(4),
                exec: b(5),
                global: b(6),
                soft: (bits >> 7) as u8 | 0b100,
            };
            for (level, pa) in [(1, 0x8000_0000u64), (2, 0x4020_0000), (3, 0x4000_7000)] {
                let desc = Stage1::leaf(level, PhysAddr(pa), attrs);
                assert_eq!(leaf_attrs(level, desc), (PhysAddr(pa), attrs.normalized()), "{attrs:?} at level {level}");
            }
        }
    }

    #[test]
    fn memory_types_select_mair_slots_and_shareability() {
        let d = |a: PageAttrs| Desc::new(Stage1::leaf(3, PhysAddr(0), a));
        assert_eq!(d(PageAttrs::kernel_data()).read(D::ATTRINDX), MAIR_INDEX_NORMAL);
        assert_eq!(d(PageAttrs::kernel_data().with_mem(MemType::NormalNc)).read(D::ATTRINDX), MAIR_INDEX_NORMAL_NC);
        assert_eq!(d(PageAttrs::device()).read(D::ATTRINDX), MAIR_INDEX_DEVICE);
        assert_eq!(d(PageAttrs::kernel_data()).read_as_enum(D::SH), Some(D::SH::Value::InnerShareable));
        assert_eq!(d(PageAttrs::device()).read_as_enum(D::SH), Some(D::SH::Value::NonShareable));
    }

    #[test]
    fn reserved_encodings_decode_as_invalid() {
        let block = Stage1::leaf(2, PhysAddr(0x4020_0000), PageAttrs::kernel_data());
        // No blocks at level 0; TYPE=0 at level 3 is reserved.
        assert_eq!(Stage1::decode(0, block), Descriptor::Invalid);
        assert_eq!(Stage1::decode(3, block), Descriptor::Invalid);
        assert_eq!(Stage1::decode(2, 0), Descriptor::Invalid);
        let table = Stage1::table(PhysAddr(0x4000_3000));
        assert_eq!(Stage1::decode(0, table), Descriptor::Table(PhysAddr(0x4000_3000)));
        // At level 3 the same bits are a page.
        assert!(matches!(Stage1::decode(3, table), Descriptor::Leaf { pa: PhysAddr(0x4000_3000), .. }));
    }

    #[test]
    fn break_before_make_only_for_type_or_global_changes() {
        let rw = PageAttrs::user(true, true, false);
        let ro = PageAttrs::user(true, false, false);
        assert!(!Stage1::needs_break_before_make(&rw, &ro));
        assert!(!Stage1::needs_break_before_make(&rw, &PageAttrs { soft: 1, ..rw }));
        assert!(Stage1::needs_break_before_make(&rw, &rw.with_mem(MemType::Device)));
        assert!(Stage1::needs_break_before_make(&rw, &PageAttrs { global: true, ..rw }));
    }
}
