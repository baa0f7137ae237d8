//! `runinit PROGRAM [ARGS...]`: a minimal pid 1 that runs one program.
//!
//! Shells and test suites treat pid 1 specially (signals it has no handler
//! for never reach it, orphans are handed to it), so `cargo xtask run`
//! starts this as init and the program as its child. The child leads a new
//! session and takes the console as its controlling terminal, so ^C
//! reaches it; it inherits init's environment (the kernel command line's
//! `NAME=VALUE` words). runinit reaps every child that ends (orphans
//! included) and, when the program ends, exits with its status: the exit
//! code, or 128 + the signal that killed it, as a shell reports it.
#![no_std]
#![no_main]

use user::fs::O_RDWR;
use user::process;
use user::{eprintln, Args, Errno};

user::entry!(main);

fn main(args: Args) -> i32 {
    let Some(prog) = args.get_cstr(1) else {
        eprintln!("usage: runinit PROGRAM [ARGS...]");
        return 2;
    };
    let child = match user::fork() {
        Ok(0) => exec_program(args, prog),
        Ok(pid) => pid,
        Err(e) => {
            eprintln!("runinit: fork: {}", e.name());
            return 1;
        }
    };
    let code = loop {
        match user::waitpid(-1, 0) {
            Ok((pid, status)) if pid == child => break code_of(status),
            Ok(_) => {} // an orphan, reaped
            Err(Errno::ECHILD) => break 1,
            Err(e) => {
                eprintln!("runinit: wait4: {}", e.name());
                break 1;
            }
        }
    };
    // Orphans already gone are reaped; the rest end with the machine.
    while let Ok((pid, _)) = user::waitpid(-1, process::WNOHANG) {
        if pid == 0 {
            break;
        }
    }
    code
}

/// The shell's `$?` for a wait status.
fn code_of(status: i32) -> i32 {
    if process::wifsignaled(status) {
        128 + process::wtermsig(status)
    } else {
        process::wexitstatus(status)
    }
}

/// In the child: a new session on the console, then the program.
fn exec_program(args: Args, prog: &core::ffi::CStr) -> ! {
    let _ = process::setsid();
    // Opening the console as a session leader makes it the controlling
    // terminal; descriptors 0-2 stay as they were.
    if let Ok(fd) = user::open(c"/dev/console", O_RDWR, 0) {
        let _ = user::close(fd);
    }
    let mut argv: [&core::ffi::CStr; 63] = [c""; 63];
    let mut n = 0;
    for i in 1..args.len().min(64) {
        if let Some(a) = args.get_cstr(i) {
            argv[n] = a;
            n += 1;
        }
    }
    let mut env: [&core::ffi::CStr; 63] = [c""; 63];
    let mut m = 0;
    for e in args.env_cstrs().take(63) {
        env[m] = e;
        m += 1;
    }
    let e = process::execve(prog, &argv[..n], &env[..m]);
    eprintln!("runinit: cannot run {}: {} ({})", prog.to_str().unwrap_or("?"), e.name(), e.description());
    user::exit(127)
}
