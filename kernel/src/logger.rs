//! The `log` backend: every kernel message goes through the `log` macros and
//! comes out on the console as
//!
//! ```text
//! [    0.012345] INFO  message
//! ```
//!
//! with the time since boot from the generic timer's counter. The level is
//! set by `log=` on the kernel command line (default `info`); the mmap and
//! fault traces are at `debug`.

use crate::arch::aarch64::timer;
use crate::cmdline::LogLevel;
use log::{Level, LevelFilter, Log, Metadata, Record};

struct Logger;

static LOGGER: Logger = Logger;

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let ns = timer::uptime_ns();
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        crate::console::print(format_args!(
            "[{:5}.{:06}] {} {}\n",
            ns / 1_000_000_000,
            (ns / 1000) % 1_000_000,
            level,
            record.args()
        ));
    }

    fn flush(&self) {}
}

/// Installs the logger at `level`.
pub fn init(level: LogLevel) {
    let _ = log::set_logger(&LOGGER);
    set_level(level);
}

/// Changes the level.
pub fn set_level(level: LogLevel) {
    log::set_max_level(match level {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    });
}
