//! Scripted console sessions: boot armmap under QEMU, type into its serial
//! console and watch what comes back, as a person at a terminal would.
//!
//! A session is a list of [`Step`]s run in order against QEMU's serial
//! port (QEMU's standard input and output with `-serial stdio`): wait for a
//! text to appear ([`Step::Expect`], matched anywhere in the output after
//! the previous match, so a prompt without a newline counts), type bytes
//! ([`Step::Send`], one at a time with a short pause, like a fast typist;
//! `\r` is Enter, `\x03` is ^C, `\x7f` is DEL), or pause ([`Step::Sleep`]).
//! Once the steps are done the session waits for QEMU to exit. A step that
//! waits past the time limit ends the run as timed out.
//!
//! `cargo xtask test` uses sessions for line editing, ^C and the busybox
//! shell (see `TargetRun::session` in `test.rs`); a job-control session is
//! another list of steps.

use crate::qemu::{self, QemuConfig, RunResult};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One step of a scripted session.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Wait until this text appears in the output (after the previous match).
    Expect(&'static str),
    /// Type these bytes.
    Send(&'static [u8]),
    /// Wait this many milliseconds.
    Sleep(u64),
}

/// Pause between typed bytes: QEMU's UART takes them one by one anyway,
/// and this keeps the guest's echo in step with the input.
const KEY_DELAY: Duration = Duration::from_millis(5);

/// The output so far and whether QEMU closed it.
#[derive(Default)]
struct Output {
    text: String,
    closed: bool,
}

/// Runs QEMU with `script` typed into its console, killing it after
/// `limit`. Complete output lines go to `on_line` as they arrive; the
/// result's `output` has every byte QEMU printed (`\r` removed).
pub fn run(
    cfg: &QemuConfig,
    limit: Duration,
    script: &[Step],
    mut on_line: impl FnMut(&str),
) -> Result<(RunResult, Option<String>), String> {
    qemu::check_installed()?;
    let start = Instant::now();
    let mut cfg = cfg.clone();
    cfg.interactive = false;
    let mut child = Command::new("qemu-system-aarch64")
        .args(cfg.args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting QEMU: {e}"))?;
    let shared = Arc::new((Mutex::new(Output::default()), Condvar::new()));
    let mut readers = Vec::new();
    let pipes: Vec<Box<dyn Read + Send>> =
        vec![Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
    let open = Arc::new(Mutex::new(pipes.len()));
    for mut p in pipes {
        let shared = shared.clone();
        let open = open.clone();
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = match p.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let (lock, cv) = &*shared;
                lock.lock().unwrap().text.push_str(&String::from_utf8_lossy(&buf[..n]).replace('\r', ""));
                cv.notify_all();
            }
            let mut left = open.lock().unwrap();
            *left -= 1;
            if *left == 0 {
                let (lock, cv) = &*shared;
                lock.lock().unwrap().closed = true;
                cv.notify_all();
            }
        }));
    }
    let mut stdin = child.stdin.take();
    let mut seen = 0; // output bytes already matched by an Expect
    let mut lines_done = 0; // output bytes already passed to on_line
    let mut failure = None;
    let (lock, cv) = &*shared;
    let mut flush_lines = |text: &str, upto: &mut usize| {
        while let Some(nl) = text[*upto..].find('\n') {
            on_line(&text[*upto..*upto + nl]);
            *upto += nl + 1;
        }
    };
    'steps: for step in script {
        match *step {
            Step::Expect(want) => {
                let mut out = lock.lock().unwrap();
                loop {
                    flush_lines(&out.text, &mut lines_done);
                    if let Some(at) = out.text[seen..].find(want) {
                        seen += at + want.len();
                        break;
                    }
                    if out.closed || start.elapsed() > limit {
                        failure = Some(format!("never saw {want:?}"));
                        break 'steps;
                    }
                    out = cv.wait_timeout(out, Duration::from_millis(50)).unwrap().0;
                }
            }
            Step::Send(bytes) => {
                let Some(input) = stdin.as_mut() else { break };
                for &b in bytes {
                    if input.write_all(&[b]).and_then(|_| input.flush()).is_err() {
                        failure = Some("QEMU stopped reading its input".into());
                        break 'steps;
                    }
                    std::thread::sleep(KEY_DELAY);
                }
            }
            Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(ms)),
        }
    }
    // The steps are done: wait for the guest to finish on its own.
    let mut timed_out = false;
    if failure.is_some() {
        let _ = child.kill();
    }
    {
        let mut out = lock.lock().unwrap();
        loop {
            flush_lines(&out.text, &mut lines_done);
            if out.closed {
                break;
            }
            if start.elapsed() > limit {
                timed_out = true;
                let _ = child.kill();
                break;
            }
            out = cv.wait_timeout(out, Duration::from_millis(50)).unwrap().0;
        }
    }
    drop(stdin);
    let status = child.wait().map_err(|e| e.to_string())?;
    for r in readers {
        let _ = r.join();
    }
    let out = lock.lock().unwrap();
    let text = out.text.clone();
    if lines_done < text.len() {
        on_line(&text[lines_done..]);
    }
    let result = RunResult {
        status: if timed_out { None } else { status.code() },
        output: text,
        timed_out,
        elapsed: start.elapsed(),
    };
    Ok((result, failure))
}
