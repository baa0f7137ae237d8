//! The fuzzer's pseudo-random numbers: splitmix64, seeded from
//! (seed, child index, generation) so one child's call sequence replays on
//! its own.
//!
//! Not cryptographic; what matters is that the same seed gives the same
//! numbers on every run and every machine.

/// A splitmix64 generator.
#[derive(Clone)]
pub struct Rng(u64);

/// One splitmix64 step on `x` (also a good 64-bit mixing function).
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator of generation `gen` of child `index` in a round with `seed`.
    pub fn for_child(seed: u64, index: u64, gen: u64) -> Rng {
        Rng(mix(seed ^ mix(index.wrapping_add(1)) ^ mix(gen.wrapping_add(1) << 32)))
    }

    /// A generator of its own for a thread, drawn from this one.
    pub fn split(&mut self) -> Rng {
        Rng(mix(self.next()))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True once in `n` times on average.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// A uniformly chosen element of `items` (not empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An element of `items` chosen with the given weights (not all 0).
    pub fn weighted<T: Copy>(&mut self, items: &[(u32, T)]) -> T {
        let total: u64 = items.iter().map(|&(w, _)| u64::from(w)).sum();
        let mut r = self.below(total);
        for &(w, v) in items {
            if r < u64::from(w) {
                return v;
            }
            r -= u64::from(w);
        }
        items[items.len() - 1].1
    }
}
