//! Architecture support. armmap runs on AArch64 only; everything that touches
//! a system register, a barrier, the TLB or the exception model lives below
//! `aarch64/`. The pure bit-decoding parts compile on the host too.

pub mod aarch64;
