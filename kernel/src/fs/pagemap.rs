//! The page cache's index: which frame holds page N of a file, and whether
//! it was written since the last msync.
//!
//! A radix tree with 64 slots per node, keyed by the page number, like the
//! multi-level page tables it feeds: a leaf holds 64 frames and a bitmap of
//! their dirty bits, an inner node 64 subtrees. The tree is as tall as the
//! highest page needs (one leaf for the first 256 KiB of a file, one more
//! level for every factor of 64), and empty subtrees take no memory, so a
//! sparse file with one page at offset 2^40 costs a handful of nodes.
//!
//! A user program decides how large a file grows, so every node is
//! allocated fallibly: [`PageMap::insert`] returns [`NoMemory`] instead of
//! letting the allocator panic, and nothing else allocates. Portable (no
//! frames are touched here), so the host unit tests below cover it.

use crate::mm::addr::PhysAddr;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// log2 of the slots per node.
const BITS: u32 = 6;
const SLOTS: usize = 1 << BITS;

/// A node could not be allocated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NoMemory;

enum Node {
    /// 64 pages: bit i of `present` says whether `frames[i]` holds one.
    Leaf {
        present: u64,
        dirty: u64,
        frames: [PhysAddr; SLOTS],
    },
    Inner {
        children: [Option<Box<Node>>; SLOTS],
    },
}

/// Boxes `v`, or `NoMemory` if the allocation fails (`Box::new` would panic).
fn try_box<T>(v: T) -> Result<Box<T>, NoMemory> {
    let mut one = Vec::new();
    one.try_reserve_exact(1).map_err(|_| NoMemory)?;
    one.push(v);
    let raw = Box::into_raw(one.into_boxed_slice()) as *mut T;
    // SAFETY: a boxed slice of exactly one `T` was allocated with the layout
    // of an array of one `T`, which is the layout of `T` itself, so the
    // allocation may be owned (and freed) as a `Box<T>`.
    Ok(unsafe { Box::from_raw(raw) })
}

impl Node {
    fn new_leaf() -> Result<Box<Node>, NoMemory> {
        try_box(Node::Leaf { present: 0, dirty: 0, frames: [PhysAddr(0); SLOTS] })
    }

    fn new_inner() -> Result<Box<Node>, NoMemory> {
        try_box(Node::Inner { children: [const { None }; SLOTS] })
    }

    /// Removes every frame of page `first` or above from this subtree, which
    /// holds the pages from `base` on, each child `1 << shift` of them,
    /// handing each to `f`. Returns whether the subtree is now empty.
    fn drain_from(&mut self, base: u64, shift: u32, first: u64, f: &mut impl FnMut(u64, PhysAddr)) -> bool {
        match self {
            Node::Leaf { present, dirty, frames } => {
                for (i, &pa) in frames.iter().enumerate() {
                    let (idx, bit) = (base + i as u64, 1u64 << i);
                    if idx >= first && *present & bit != 0 {
                        *present &= !bit;
                        *dirty &= !bit;
                        f(idx, pa);
                    }
                }
                *present == 0
            }
            Node::Inner { children } => {
                // Each child holds `span` pages; `shift` is at most 60.
                let span = 1u64 << shift;
                for (i, slot) in children.iter_mut().enumerate() {
                    // A tree of 11 levels reaches past the last page number:
                    // the children beyond it are always empty.
                    let Some(start) = (i as u64).checked_mul(span).and_then(|o| base.checked_add(o)) else { break };
                    if start.checked_add(span).is_some_and(|end| end <= first) {
                        continue;
                    }
                    if let Some(child) = slot {
                        if child.drain_from(start, shift - BITS, first, f) {
                            *slot = None;
                        }
                    }
                }
                children.iter().all(Option::is_none)
            }
        }
    }
}

/// Page number → frame, with a dirty bit per present page.
#[derive(Default)]
pub struct PageMap {
    root: Option<Box<Node>>,
    /// The root covers page numbers below 64^height (all of them from 11 on).
    height: u32,
}

/// Index bits below the nodes at `level` (0 = leaves).
fn shift_of(level: u32) -> u32 {
    level * BITS
}

/// The slot of page `idx` in a node at `level`.
fn slot_of(idx: u64, level: u32) -> usize {
    let s = shift_of(level);
    if s >= 64 {
        0
    } else {
        ((idx >> s) as usize) & (SLOTS - 1)
    }
}

impl PageMap {
    /// An empty map.
    pub const fn new() -> Self {
        PageMap { root: None, height: 0 }
    }

    /// Whether a tree of `height` levels reaches page `idx`.
    fn covers(height: u32, idx: u64) -> bool {
        let bits = height * BITS;
        bits >= 64 || idx >> bits == 0
    }

    /// The leaf holding page `idx`, if it exists, and the slot in it.
    fn leaf(&self, idx: u64) -> Option<(&Node, usize)> {
        if !Self::covers(self.height, idx) {
            return None;
        }
        let mut node = self.root.as_deref()?;
        let mut level = self.height - 1;
        loop {
            match node {
                Node::Leaf { .. } => return Some((node, slot_of(idx, 0))),
                Node::Inner { children } => {
                    node = children[slot_of(idx, level)].as_deref()?;
                    level -= 1;
                }
            }
        }
    }

    /// The leaf holding page `idx` as (present bits, dirty bits), if it exists, and the slot in it.
    fn leaf_mut(&mut self, idx: u64) -> Option<(&mut u64, &mut u64, usize)> {
        if !Self::covers(self.height, idx) {
            return None;
        }
        let mut node = self.root.as_deref_mut()?;
        let mut level = self.height - 1;
        loop {
            match node {
                Node::Leaf { present, dirty, .. } => return Some((present, dirty, slot_of(idx, 0))),
                Node::Inner { children } => {
                    node = children[slot_of(idx, level)].as_deref_mut()?;
                    level -= 1;
                }
            }
        }
    }

    /// The frame of page `idx`.
    pub fn get(&self, idx: u64) -> Option<PhysAddr> {
        match self.leaf(idx)? {
            (Node::Leaf { present, frames, .. }, i) => (present & (1 << i) != 0).then_some(frames[i]),
            _ => None,
        }
    }

    /// Whether page `idx` is present and dirty.
    pub fn is_dirty(&self, idx: u64) -> bool {
        match self.leaf(idx) {
            Some((Node::Leaf { present, dirty, .. }, i)) => (present & dirty) & (1 << i) != 0,
            _ => false,
        }
    }

    /// Marks page `idx` dirty (or clean); nothing happens if it is absent.
    pub fn set_dirty(&mut self, idx: u64, on: bool) {
        if let Some((present, dirty, i)) = self.leaf_mut(idx) {
            if *present & (1 << i) != 0 && on {
                *dirty |= 1 << i;
            } else {
                *dirty &= !(1 << i);
            }
        }
    }

    /// Marks every page clean.
    pub fn clear_dirty(&mut self) {
        fn walk(node: &mut Node) {
            match node {
                Node::Leaf { dirty, .. } => *dirty = 0,
                Node::Inner { children } => children.iter_mut().flatten().for_each(|c| walk(c)),
            }
        }
        if let Some(root) = self.root.as_deref_mut() {
            walk(root);
        }
    }

    /// Puts `pa` in the (empty) slot of page `idx`, growing the tree as
    /// needed; `NoMemory` if a node cannot be allocated (the map is then
    /// unchanged but for empty nodes, which hold nothing).
    pub fn insert(&mut self, idx: u64, pa: PhysAddr) -> Result<(), NoMemory> {
        if self.root.is_none() {
            self.height = 1;
            while !Self::covers(self.height, idx) {
                self.height += 1;
            }
            self.root = Some(if self.height == 1 { Node::new_leaf()? } else { Node::new_inner()? });
        }
        while !Self::covers(self.height, idx) {
            let mut top = Node::new_inner()?;
            if let Node::Inner { children } = &mut *top {
                children[0] = self.root.take();
            }
            self.root = Some(top);
            self.height += 1;
        }
        let mut level = self.height - 1;
        let mut node = self.root.as_deref_mut().ok_or(NoMemory)?;
        loop {
            match node {
                Node::Leaf { present, frames, .. } => {
                    let i = slot_of(idx, 0);
                    frames[i] = pa;
                    *present |= 1 << i;
                    return Ok(());
                }
                Node::Inner { children } => {
                    let slot = &mut children[slot_of(idx, level)];
                    if slot.is_none() {
                        *slot = Some(if level == 1 { Node::new_leaf()? } else { Node::new_inner()? });
                    }
                    level -= 1;
                    node = slot.as_deref_mut().ok_or(NoMemory)?;
                }
            }
        }
    }

    /// Removes every page numbered `first` or above, handing each
    /// (page number, frame) to `f`, and frees the nodes left empty.
    pub fn drain_from(&mut self, first: u64, mut f: impl FnMut(u64, PhysAddr)) {
        let Some(root) = self.root.as_deref_mut() else { return };
        if root.drain_from(0, shift_of(self.height - 1), first, &mut f) {
            self.root = None;
            self.height = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pa(n: u64) -> PhysAddr {
        PhysAddr(0x4000_0000 + n * 4096)
    }

    #[test]
    fn insert_get_and_grow() {
        let mut m = PageMap::new();
        assert_eq!(m.get(0), None);
        m.insert(3, pa(3)).unwrap();
        assert_eq!((m.get(3), m.get(2), m.get(64)), (Some(pa(3)), None, None));
        assert_eq!(m.height, 1);
        // Far pages make the tree taller; the near ones stay where they were.
        for idx in [64, 4095, 4096, 1 << 40, (i64::MAX as u64) >> 12, u64::MAX] {
            m.insert(idx, pa(idx & 0xffff)).unwrap();
            assert_eq!(m.get(idx), Some(pa(idx & 0xffff)), "page {idx:#x}");
            assert_eq!(m.get(3), Some(pa(3)));
        }
        assert_eq!(m.height, 11);
        assert_eq!(m.get(5), None);
        assert_eq!(m.get(1 << 39), None);
    }

    #[test]
    fn starts_tall_for_a_far_first_page() {
        let mut m = PageMap::new();
        m.insert(1 << 30, pa(1)).unwrap();
        assert_eq!(m.height, 6);
        assert_eq!(m.get(1 << 30), Some(pa(1)));
        assert_eq!(m.get(0), None);
        m.insert(0, pa(0)).unwrap();
        assert_eq!((m.get(0), m.get(1 << 30)), (Some(pa(0)), Some(pa(1))));
    }

    #[test]
    fn dirty_bits_only_for_present_pages() {
        let mut m = PageMap::new();
        m.set_dirty(7, true);
        assert!(!m.is_dirty(7));
        m.insert(7, pa(7)).unwrap();
        m.insert(8, pa(8)).unwrap();
        m.set_dirty(7, true);
        m.set_dirty(8, true);
        assert!(m.is_dirty(7) && m.is_dirty(8) && !m.is_dirty(9));
        m.set_dirty(7, false);
        assert!(!m.is_dirty(7) && m.is_dirty(8));
        m.clear_dirty();
        assert!(!m.is_dirty(8));
    }

    #[test]
    fn drain_from_removes_the_tail_and_frees_nodes() {
        let mut m = PageMap::new();
        let pages = [0u64, 1, 63, 64, 65, 4096, 5000, 1 << 40];
        for &p in &pages {
            m.insert(p, pa(p & 0xffff)).unwrap();
            m.set_dirty(p, true);
        }
        let mut gone = Vec::new();
        m.drain_from(65, |idx, f| gone.push((idx, f)));
        gone.sort();
        assert_eq!(gone, [65, 4096, 5000, 1 << 40].map(|p| (p, pa(p & 0xffff))));
        for p in [0, 1, 63, 64] {
            assert_eq!(m.get(p), Some(pa(p)));
            assert!(m.is_dirty(p));
        }
        for p in [65, 4096, 5000, 1 << 40] {
            assert_eq!(m.get(p), None);
            assert!(!m.is_dirty(p));
        }
        // Re-inserting a drained page works, as does draining everything.
        m.insert(5000, pa(9)).unwrap();
        assert_eq!(m.get(5000), Some(pa(9)));
        let mut n = 0;
        m.drain_from(0, |_, _| n += 1);
        assert_eq!(n, 5);
        assert!(m.root.is_none());
        assert_eq!(m.get(0), None);
    }

    #[test]
    fn drain_from_the_last_pages() {
        let mut m = PageMap::new();
        m.insert(u64::MAX, pa(1)).unwrap();
        m.insert(u64::MAX - 64, pa(2)).unwrap();
        let mut gone = Vec::new();
        m.drain_from(u64::MAX, |idx, _| gone.push(idx));
        assert_eq!(gone, [u64::MAX]);
        assert_eq!(m.get(u64::MAX - 64), Some(pa(2)));
    }
}
