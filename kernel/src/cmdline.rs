//! The kernel command line (`-append "..."` in QEMU, `/chosen/bootargs` in the
//! device tree): space-separated `key` or `key=value` words.
//!
//! | word            | meaning                                                   |
//! |-----------------|-----------------------------------------------------------|
//! | `log=LEVEL`     | `error`, `warn`, `info` (default), `debug` or `trace`     |
//! | `ktest`         | run the in-kernel tests instead of user space, then exit  |
//! | `ktest=FILTER`  | only the in-kernel tests whose name contains FILTER       |
//! | `memdev=SIZE`   | size of the reserved device buffer (default 2M; K/M/G)    |
//! | `faultaround=N` | map up to N neighbouring present pages per fault (0 = off)|
//! | `init=PATH`     | first user program (default `/init`)                      |
//! | `memdev_attr=A` | how user mappings of the buffer are cached: `cached` (default), `wc` (write-combine), `device` |
//! | `crash=KIND`    | after boot, crash on purpose: `fault` (a kernel data abort) or `panic`, to see the reports |
//!
//! Any other `NAME=VALUE` word before a lone `--` goes to the first user
//! program's environment (replacing a default of the same name); any other
//! word, and every word after `--`, is passed to it as an argument. Both
//! are Linux's rules. Double quotes group words with spaces
//! (`"two words"`), as on Linux.

use alloc::string::String;
use alloc::vec::Vec;

/// Log verbosity, as `log::LevelFilter` without depending on it here.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Default size of the reserved device buffer (`memdev=`).
pub const DEFAULT_MEMDEV_SIZE: u64 = 2 << 20;

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdLine {
    pub log: LogLevel,
    /// `Some("")` runs every in-kernel test, `Some(f)` those matching `f`.
    pub ktest: Option<String>,
    pub memdev_size: u64,
    pub fault_around: usize,
    pub init: String,
    /// `memdev_attr=`: "cached", "wc" or "device".
    pub memdev_attr: String,
    /// `crash=`: "fault" or "panic".
    pub crash: Option<String>,
    /// Words the kernel does not know: arguments for the first program.
    pub init_args: Vec<String>,
    /// `NAME=VALUE` words the kernel does not know: its environment.
    pub init_env: Vec<String>,
    /// Words that look like kernel settings but could not be parsed.
    pub errors: Vec<String>,
}

impl Default for CmdLine {
    fn default() -> Self {
        Self {
            log: LogLevel::Info,
            ktest: None,
            memdev_size: DEFAULT_MEMDEV_SIZE,
            fault_around: 0,
            init: String::from("/init"),
            memdev_attr: String::from("cached"),
            crash: None,
            init_args: Vec::new(),
            init_env: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Splits at spaces outside double quotes; the quotes are removed.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut in_word) = (false, false);
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_ascii_whitespace() && !quoted => {
                if in_word {
                    words.push(core::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Parses a size such as `4096`, `64K`, `4M` or `1G`.
pub fn parse_size(s: &str) -> Option<u64> {
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

impl CmdLine {
    /// Parses `line`; unknown or malformed words never fail the parse.
    pub fn parse(line: &str) -> Self {
        let mut c = CmdLine::default();
        let words = split_words(line);
        let mut words = words.iter().map(String::as_str);
        for word in words.by_ref() {
            if word == "--" {
                break;
            }
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (word, None),
            };
            match (key, value) {
                ("log", Some(v)) => match v {
                    "error" => c.log = LogLevel::Error,
                    "warn" => c.log = LogLevel::Warn,
                    "info" => c.log = LogLevel::Info,
                    "debug" => c.log = LogLevel::Debug,
                    "trace" => c.log = LogLevel::Trace,
                    _ => c.errors.push(String::from(word)),
                },
                ("ktest", v) => c.ktest = Some(String::from(v.unwrap_or(""))),
                ("memdev", Some(v)) => match parse_size(v) {
                    Some(n) if n > 0 && n % 4096 == 0 => c.memdev_size = n,
                    _ => c.errors.push(String::from(word)),
                },
                ("faultaround", Some(v)) => match v.parse() {
                    Ok(n) if n <= 64 => c.fault_around = n,
                    _ => c.errors.push(String::from(word)),
                },
                ("init", Some(v)) => c.init = String::from(v),
                ("memdev_attr", Some(v @ ("cached" | "wc" | "device"))) => c.memdev_attr = String::from(v),
                ("memdev_attr", _) => c.errors.push(String::from(word)),
                ("crash", Some(v @ ("fault" | "panic"))) => c.crash = Some(String::from(v)),
                ("crash", _) => c.errors.push(String::from(word)),
                (_, Some(_)) if !key.is_empty() => c.init_env.push(String::from(word)),
                _ => c.init_args.push(String::from(word)),
            }
        }
        c.init_args.extend(words.map(String::from));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = CmdLine::parse("");
        assert_eq!(c, CmdLine::default());
        assert_eq!(c.memdev_size, 2 << 20);
    }

    #[test]
    fn settings_and_arguments() {
        let c = CmdLine::parse("log=debug memdev=4M ktest=paging faultaround=8 hello world");
        assert_eq!(c.log, LogLevel::Debug);
        assert_eq!(c.memdev_size, 4 << 20);
        assert_eq!(c.ktest.as_deref(), Some("paging"));
        assert_eq!(c.fault_around, 8);
        assert_eq!(c.init_args, ["hello", "world"]);
        assert!(c.errors.is_empty());
    }

    #[test]
    fn bad_values_are_reported_not_fatal() {
        let c = CmdLine::parse("log=loud memdev=3 faultaround=x ktest memdev_attr=odd crash=now");
        assert_eq!(c.errors, ["log=loud", "memdev=3", "faultaround=x", "memdev_attr=odd", "crash=now"]);
        assert_eq!(c.log, LogLevel::Info);
        assert_eq!(c.ktest.as_deref(), Some(""));
    }

    #[test]
    fn unknown_settings_are_the_environment() {
        let c = CmdLine::parse(r#"log=warn TERM=vt100 "PS1=$ " plain =x -- A=b"#);
        assert_eq!(c.init_env, ["TERM=vt100", "PS1=$ "]);
        assert_eq!(c.init_args, ["plain", "=x", "A=b"]);
    }

    #[test]
    fn words_after_double_dash_go_to_init() {
        let c = CmdLine::parse("log=warn init=/init -- log=x memdev=1 --");
        assert_eq!(c.log, LogLevel::Warn);
        assert_eq!(c.init_args, ["log=x", "memdev=1", "--"]);
        assert_eq!(c.memdev_size, DEFAULT_MEMDEV_SIZE);
    }

    #[test]
    fn quotes_group_words() {
        assert_eq!(split_words(r#"a "b c"  d"" "#), ["a", "b c", "d"]);
        assert_eq!(split_words(r#""" x"#), ["", "x"]);
        let c = CmdLine::parse(r#"-- "hello world" x"#);
        assert_eq!(c.init_args, ["hello world", "x"]);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64K"), Some(65536));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size("99999999999999G"), None);
    }
}
