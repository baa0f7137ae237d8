//! Randomized model test of the page-table code (host only).
//!
//! Thousands of random `map`/`unmap`/`protect` operations run against a
//! [`PageTable`] in simulated memory and, side by side, against a model that
//! is obviously right: a `BTreeMap` from virtual page number to
//! `(physical frame number, attributes)`, one entry per 4 KiB page, with no
//! blocks, tables or splitting. After every operation each page the
//! operation touched is translated and compared with the model, and the
//! leaves in its range are compared with the model's entries; every
//! `FULL_CHECK_EVERY` operations the whole window is compared and the tree is
//! checked for leaked or empty tables. At the end everything is unmapped and
//! every table frame must be back in the allocator.
//!
//! Ranges are drawn from a 3 GiB window that crosses a level-0 boundary, with
//! a bias towards 2 MiB and 1 GiB alignment (and physical addresses with the
//! same offsets) so that blocks are created, partly unmapped, partly
//! re-protected and split.
//!
//! The seed is printed; rerun a failure with `ARMMAP_SEED=0x... cargo test
//! -p kernel model -- --nocapture`.

use super::sim::SimContext;
use super::stage1::{MemType, PageAttrs, Stage1};
use super::{MapError, MapStats, PageTable};
use crate::mm::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

const DEFAULT_SEED: u64 = 0xa4a4_2024_5eed_0001;
const OPS: usize = 10_000;
const FULL_CHECK_EVERY: usize = 500;

const P: u64 = PAGE_SIZE as u64;
const M2: u64 = 2 << 20;
const G1: u64 = 1 << 30;
/// The window: 511 GiB .. 514 GiB, across the level-0 boundary at 512 GiB.
const WIN_START: u64 = 511 * G1;
const WIN_END: u64 = WIN_START + 3 * G1;
/// Physical addresses are drawn below this.
const PA_LIMIT: u64 = 1 << 40;

/// vpn -> (pfn, attrs), one entry per mapped page.
type Model = BTreeMap<u64, (u64, PageAttrs)>;
type Pt = PageTable<Stage1>;

/// splitmix64: a tiny, good-enough PRNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    let Ok(s) = std::env::var("ARMMAP_SEED") else { return DEFAULT_SEED };
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => s.replace('_', "").parse(),
    };
    parsed.unwrap_or_else(|e| panic!("ARMMAP_SEED={s}: {e}"))
}

/// A random page-aligned range inside the window: `(start, len)`.
fn random_range(rng: &mut Rng) -> (u64, u64) {
    let page = |rng: &mut Rng| WIN_START + rng.below((WIN_END - WIN_START) / P) * P;
    let (start, len) = match rng.below(100) {
        // A few pages anywhere.
        0..=44 => (page(rng), (1 + rng.below(64)) * P),
        // Around 2 MiB blocks, sometimes shifted by a few pages to cut them.
        45..=79 => {
            let mut start = WIN_START + rng.below((WIN_END - WIN_START) / M2) * M2;
            let mut len = (1 + rng.below(4)) * M2;
            if rng.chance(30) {
                start += rng.below(8) * P;
            }
            if rng.chance(30) {
                len -= rng.below(8) * P;
            }
            (start, len)
        }
        // Up to 8 MiB anywhere.
        80..=97 => (page(rng), (1 + rng.below(2048)) * P),
        // A whole 1 GiB, or a bit more or less.
        _ => {
            let start = WIN_START + rng.below(3) * G1;
            match rng.below(4) {
                0 => (start + M2, G1 - 2 * M2),
                1 => (start + 5 * P, G1),
                _ => (start, G1),
            }
        }
    };
    let end = (start + len).min(WIN_END);
    (start, end - start)
}

/// A physical address for a mapping of `len` bytes at `va`: most of the
/// time with the same offset within 1 GiB or 2 MiB as `va`, so blocks are
/// possible.
fn random_pa(rng: &mut Rng, va: u64, len: u64) -> u64 {
    let congruence = match rng.below(10) {
        0..=2 => G1,
        _ if len >= G1 && rng.chance(70) => G1,
        3..=7 => M2,
        _ => P,
    };
    rng.below(PA_LIMIT / G1 - 4) * G1 + rng.below(G1 / congruence) * congruence + va % congruence
}

fn random_attrs(rng: &mut Rng) -> PageAttrs {
    let base = match rng.below(9) {
        0 => PageAttrs::kernel_text(),
        1 => PageAttrs::kernel_rodata(),
        2 => PageAttrs::kernel_data(),
        3 => PageAttrs::device(),
        _ => PageAttrs::user(rng.chance(60), rng.chance(50), rng.chance(30)),
    };
    let mem = if rng.chance(20) { random_mem(rng) } else { base.mem };
    let global = if rng.chance(10) { !base.global } else { base.global };
    PageAttrs { global, soft: rng.below(8) as u8, ..base.with_mem(mem) }.normalized()
}

fn random_mem(rng: &mut Rng) -> MemType {
    [MemType::Normal, MemType::NormalNc, MemType::Device][rng.below(3) as usize]
}

/// Every page of `[start, end)` translates as the model says. (The model's
/// entries are walked in order alongside, instead of looked up one by one.)
fn check_pages(pt: &Pt, ctx: &SimContext, model: &Model, start: u64, end: u64) {
    let mut expected = model.range(start / P..end / P).peekable();
    for va in (start..end).step_by(PAGE_SIZE) {
        let got = pt.translate(VirtAddr(va + 0x123), ctx).map(|(pa, attrs, size)| {
            assert!(size == PAGE_SIZE || size == 2 << 20 || size == 1 << 30);
            ((pa.0 - 0x123) / P, attrs)
        });
        let want = expected.next_if(|(&vpn, _)| vpn == va / P).map(|(_, &e)| e);
        assert_eq!(got, want, "translate({va:#x})");
    }
}

/// The leaves overlapping `[start, end)`, cut to the range, are exactly the
/// model's entries there (a merge of two sorted sequences).
fn check_leaves(pt: &Pt, ctx: &SimContext, model: &Model, start: u64, end: u64) {
    let mut expected = model.range(start / P..end / P);
    pt.for_each_leaf(VirtAddr(start), (end - start) as usize, ctx, |va, pa, size, attrs| {
        let (va, size) = (va.0, size as u64);
        assert!(va % size == 0 && pa.0 % size == 0, "misaligned leaf {va:#x} -> {pa:?} ({size:#x})");
        for page in (va.max(start)..(va + size).min(end)).step_by(PAGE_SIZE) {
            let want = (page / P, (pa.0 + (page - va)) / P, attrs);
            let got = expected.next().map(|(&vpn, &(pfn, a))| (vpn, pfn, a));
            assert_eq!(got, Some(want), "leaf {va:#x} ({size:#x}) at page {page:#x}");
        }
    });
    assert_eq!(expected.next(), None, "the model has pages no leaf maps");
}

/// Every table the tree holds is allocated, non-empty (but the root), and
/// nothing else is allocated.
fn check_tables(pt: &Pt, ctx: &SimContext) -> usize {
    let mut tables = 0;
    pt.for_each_table(ctx, |level, table, valid| {
        tables += 1;
        assert!(level == 0 || valid > 0, "empty level-{level} table {table:?} left in the tree");
    });
    assert_eq!(tables, ctx.tables, "table frames leaked");
    tables
}

#[derive(Default, Debug)]
struct Counts {
    mapped: usize,
    already_mapped: usize,
    no_memory: usize,
    unmapped: usize,
    replaced: usize,
    protected: usize,
    written: MapStats,
    leaves_removed: usize,
    max_tables: usize,
}

/// The page table under test, its machine, and the model.
struct World {
    pt: Pt,
    ctx: SimContext,
    model: Model,
    n: Counts,
    step: usize,
}

impl World {
    fn map(&mut self, rng: &mut Rng, start: u64, len: u64) {
        let (end, step) = (start + len, self.step);
        let pa = random_pa(rng, start, len);
        let attrs = random_attrs(rng);
        let starved = rng.chance(3);
        if starved {
            self.ctx.budget = Some(rng.below(3) as usize);
        }
        let r = self.pt.map(VirtAddr(start), PhysAddr(pa), len as usize, attrs, &mut self.ctx);
        self.ctx.budget = None;
        let conflict = self.model.range(start / P..end / P).next().map(|(&vpn, _)| VirtAddr(vpn * P));
        match (r, conflict) {
            (Ok(stats), None) => {
                for i in 0..len / P {
                    self.model.insert(start / P + i, (pa / P + i, attrs));
                }
                let covered = stats.pages() as u64 * P + stats.blocks_2m() as u64 * M2 + stats.blocks_1g() as u64 * G1;
                assert_eq!(covered, len, "step {step}: {stats:?}");
                for l in 0..4 {
                    self.n.written.leaves[l] += stats.leaves[l];
                }
                self.n.mapped += 1;
            }
            (Err(MapError::AlreadyMapped(va)), Some(first)) => {
                assert_eq!(va, first, "step {step}: reported conflict");
                self.n.already_mapped += 1;
            }
            (Err(MapError::NoMemory), _) if starved => self.n.no_memory += 1,
            (r, conflict) => panic!("step {step}: map {start:#x}+{len:#x} gave {r:?}, model conflict {conflict:?}"),
        }
    }

    fn unmap(&mut self, start: u64, len: u64) {
        let (end, step) = (start + len, self.step);
        let mut removed = Vec::new();
        self.pt
            .unmap(VirtAddr(start), len as usize, &mut self.ctx, |va, pa, size| removed.push((va.0, pa.0, size as u64)))
            .unwrap_or_else(|e| panic!("step {step}: unmap {start:#x}+{len:#x}: {e:?}"));
        self.n.leaves_removed += removed.len();
        for (va, pa, size) in removed {
            assert!(va >= start && va + size <= end, "step {step}: removed leaf {va:#x}+{size:#x} outside range");
            for i in 0..size / P {
                let (pfn, _) =
                    self.model.remove(&(va / P + i)).unwrap_or_else(|| panic!("step {step}: {va:#x} was not mapped"));
                assert_eq!(pfn, pa / P + i, "step {step}: removed frame");
            }
        }
        let left = self.model.range(start / P..end / P).count();
        assert_eq!(left, 0, "step {step}: unmap did not report {left} pages");
        self.n.unmapped += 1;
    }

    /// Fixed attributes, or attributes computed per leaf from the old ones.
    fn protect(&mut self, rng: &mut Rng, start: u64, len: u64) {
        let (end, step) = (start + len, self.step);
        let mode = rng.below(4);
        let fixed = random_attrs(rng);
        let new_mem = random_mem(rng);
        let change = move |old: PageAttrs| match mode {
            0 | 1 => fixed,
            2 => PageAttrs { write: !old.write, ..old }.normalized(),
            _ => PageAttrs { mem: new_mem, global: !old.global, ..old },
        };
        let m = &self.model;
        self.pt
            .protect_with(VirtAddr(start), len as usize, &mut self.ctx, |va, pa, size, old| {
                let (va, size) = (va.0, size as u64);
                assert!(va >= start && va + size <= end, "step {step}: protect leaf {va:#x} outside range");
                for page in [va, va + size - P] {
                    let want = Some(&((pa.0 + page - va) / P, old));
                    assert_eq!(m.get(&(page / P)), want, "step {step}: protect leaf at {page:#x}");
                }
                change(old)
            })
            .unwrap_or_else(|e| panic!("step {step}: protect: {e:?}"));
        for (_, (_, attrs)) in self.model.range_mut(start / P..end / P) {
            *attrs = change(*attrs);
        }
        self.n.protected += 1;
    }
}

#[test]
fn randomized_against_a_btreemap_model() {
    let seed = seed();
    println!("seed = {seed:#x}");
    let started = std::time::Instant::now();
    let mut rng = Rng(seed);
    let mut ctx = SimContext::new(8192);
    let free_at_start = ctx.frames.free_count();
    let pt = Pt::new(&mut ctx).unwrap();
    let mut w = World { pt, ctx, model: Model::new(), n: Counts::default(), step: 0 };

    for step in 0..OPS {
        w.step = step;
        let (start, len) = random_range(&mut rng);
        match rng.below(100) {
            0..=39 => w.map(&mut rng, start, len),
            // Like mmap(MAP_FIXED): whatever was there goes first.
            40..=49 => {
                w.unmap(start, len);
                w.map(&mut rng, start, len);
                w.n.replaced += 1;
            }
            50..=79 => w.unmap(start, len),
            _ => w.protect(&mut rng, start, len),
        }
        check_pages(&w.pt, &w.ctx, &w.model, start, start + len);
        check_leaves(&w.pt, &w.ctx, &w.model, start, start + len);
        w.n.max_tables = w.n.max_tables.max(w.ctx.tables);
        if step % FULL_CHECK_EVERY == FULL_CHECK_EVERY - 1 {
            check_leaves(&w.pt, &w.ctx, &w.model, WIN_START, WIN_END);
            check_tables(&w.pt, &w.ctx);
        }
    }

    let World { mut pt, mut ctx, mut model, n, .. } = w;
    check_leaves(&pt, &ctx, &model, WIN_START, WIN_END);
    check_tables(&pt, &ctx);
    // Tear down: every page the model has is reported once, every table freed.
    let mut pages = 0u64;
    pt.unmap(VirtAddr(WIN_START), (WIN_END - WIN_START) as usize, &mut ctx, |va, pa, size| {
        for i in 0..size as u64 / P {
            let (pfn, _) = model.remove(&(va.0 / P + i)).expect("leaf reported twice, or never mapped");
            assert_eq!(pfn, pa.0 / P + i);
        }
        pages += size as u64 / P;
    })
    .unwrap();
    assert!(model.is_empty(), "{} pages not reported by the final unmap", model.len());
    assert_eq!(check_tables(&pt, &ctx), 1, "only the root is left");
    pt.destroy(&mut ctx);
    assert_eq!(ctx.frames.free_count(), free_at_start, "frames leaked");

    println!(
        "{OPS} ops in {:.2?}: {} maps ({} already mapped, {} out of memory), {} unmaps ({} before a map), \
         {} protects; leaves written: {} pages, {} 2M blocks, {} 1G blocks; {} leaves removed; \
         at most {} tables; {} pages unmapped at the end; {} TLBIs, {} syncs",
        started.elapsed(),
        n.mapped,
        n.already_mapped,
        n.no_memory,
        n.unmapped,
        n.replaced,
        n.protected,
        n.written.pages(),
        n.written.blocks_2m(),
        n.written.blocks_1g(),
        n.leaves_removed,
        n.max_tables,
        pages,
        ctx.invalidations,
        ctx.syncs,
    );
    assert!(n.written.blocks_1g() > 0 && n.written.blocks_2m() > 0, "the run made no blocks: {n:?}");
    assert!(n.already_mapped > 0 && n.no_memory > 0, "the run hit no map failures: {n:?}");
}
