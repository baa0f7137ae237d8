//! task: processes, ELF loading, scheduling.

pub mod elf;
pub mod stack;
