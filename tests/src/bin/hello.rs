//! `hello`: the smallest test program. It proves the kernel can load and
//! start an ELF, pass `argv`, print through `write` and collect an exit code.
#![no_std]
#![no_main]

use user::{println, Args};

user::entry!(main);

fn main(args: Args) -> i32 {
    println!("hello from armmap tests");
    println!("argc = {}", args.len());
    for (i, a) in args.strs().enumerate() {
        println!("argv[{i}] = {a:?}");
    }
    0
}
