//! Random bytes for user space: `AT_RANDOM` at exec and `getrandom`.
//!
//! A xorshift64 generator, its state stirred with the system counter on
//! every call. Unpredictable enough for glibc's stack canaries and pointer
//! guards in a teaching kernel; it is not a cryptographic generator.

use crate::arch::aarch64::timer;
use core::sync::atomic::{AtomicU64, Ordering};

static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// Fills `buf` with pseudo-random bytes.
pub fn fill(buf: &mut [u8]) {
    let mut x = STATE.load(Ordering::Relaxed) ^ timer::counter();
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 24) as u8;
    }
    STATE.store(x | 1, Ordering::Relaxed);
}

/// `N` pseudo-random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut r = [0u8; N];
    fill(&mut r);
    r
}
