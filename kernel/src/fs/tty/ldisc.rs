//! The line discipline: what a terminal does between the bytes a user types
//! and the bytes a program reads, as Linux's `n_tty` does it.
//!
//! In *canonical* mode (`ICANON`, the default) typed bytes collect in an
//! edit line that the user can correct (VERASE: DEL or ^H erases a
//! character, VWERASE ^W a word, VKILL ^U the line) and reach readers only
//! as whole lines, when Enter (`\n`, or `\r` turned into `\n` by ICRNL)
//! or VEOF (^D) ends them; ^D on an empty line makes `read` return 0, the
//! end of input. In *non-canonical* mode every byte is readable at once,
//! and VMIN/VTIME decide when a read returns ([`raw_wait`]). With ISIG,
//! VINTR (^C), VQUIT (^\) and VSUSP (^Z) become SIGINT, SIGQUIT and SIGTSTP
//! for the foreground process group, and throw away the pending input
//! unless NOFLSH. ECHO and friends send typed bytes back to the terminal
//! (ECHOE erases on screen with `\b \b`, ECHOK/ECHOKE for the kill
//! character, ECHONL echoes newlines alone, ECHOCTL shows control bytes as
//! `^X`); OPOST/ONLCR turn `\n` into `\r\n` on the way out.
//!
//! This file is pure logic (no device, no locks, no allocation: fixed
//! buffers), so it is unit-tested on the host; `tty/mod.rs` connects it to
//! the UART, the wait queue and the system calls. Flag and control-character
//! values are Linux's (asm-generic `termbits.h`).

/// Number of control characters in Linux's `struct termios` (NCCS).
pub const NCCS: usize = 19;

// c_cc indices.
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VDISCARD: usize = 13;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

// c_iflag bits.
pub const ISTRIP: u32 = 0o40;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const IXON: u32 = 0o2000;

// c_oflag bits.
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;

// c_cflag: B38400 | CS8 | CREAD (what `stty -g` shows on a Linux terminal).
pub const CFLAG_DEFAULT: u32 = 0o17 | 0o60 | 0o200;

// c_lflag bits.
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;

/// Signal numbers the ISIG characters raise (Linux aarch64).
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGTSTP: u32 = 20;

/// Linux's `struct termios` (asm-generic, what TCGETS/TCSETS copy): four
/// flag words, the line discipline number and 19 control characters,
/// 36 bytes, no padding.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
}

/// Size of [`Termios`] in user memory.
pub const TERMIOS_SIZE: usize = 36;

impl Termios {
    /// Linux's `tty_std_termios`: canonical mode with echo and signals,
    /// `\r` read as `\n`, `\n` written as `\r\n`.
    pub const fn default_console() -> Self {
        let mut cc = [0u8; NCCS];
        cc[VINTR] = 0x03;
        cc[VQUIT] = 0x1c;
        cc[VERASE] = 0x7f;
        cc[VKILL] = 0x15;
        cc[VEOF] = 0x04;
        cc[VTIME] = 0;
        cc[VMIN] = 1;
        cc[VSTART] = 0x11;
        cc[VSTOP] = 0x13;
        cc[VSUSP] = 0x1a;
        cc[VREPRINT] = 0x12;
        cc[VDISCARD] = 0x0f;
        cc[VWERASE] = 0x17;
        cc[VLNEXT] = 0x16;
        Termios {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: CFLAG_DEFAULT,
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
        }
    }

    /// The bytes user memory holds.
    pub fn to_bytes(&self) -> [u8; TERMIOS_SIZE] {
        let mut b = [0u8; TERMIOS_SIZE];
        for (i, w) in [self.iflag, self.oflag, self.cflag, self.lflag].iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        b[16] = self.line;
        b[17..].copy_from_slice(&self.cc);
        b
    }

    /// From the bytes user memory holds.
    pub fn from_bytes(b: &[u8; TERMIOS_SIZE]) -> Self {
        let w = |i: usize| u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        let mut cc = [0u8; NCCS];
        cc.copy_from_slice(&b[17..]);
        Termios { iflag: w(0), oflag: w(1), cflag: w(2), lflag: w(3), line: b[16], cc }
    }

    /// Output processing of one byte (OPOST: ONLCR, OCRNL), through `put`.
    pub fn output(&self, b: u8, put: &mut impl FnMut(u8)) {
        let o = self.oflag;
        if o & OPOST == 0 {
            put(b);
        } else if b == b'\n' && o & ONLCR != 0 {
            put(b'\r');
            put(b'\n');
        } else if b == b'\r' && o & OCRNL != 0 {
            put(b'\n');
        } else {
            put(b);
        }
    }

    fn l(&self, bit: u32) -> bool {
        self.lflag & bit != 0
    }

    /// Whether `b` is control character `idx` (0 disables one, as Linux's
    /// `_POSIX_VDISABLE`).
    fn is(&self, b: u8, idx: usize) -> bool {
        self.cc[idx] != 0 && self.cc[idx] == b
    }
}

/// Linux's `struct winsize`: rows, columns, and two unused pixel sizes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Winsize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

impl Winsize {
    /// 24 lines of 80 columns, the size a serial console is assumed to have.
    pub const DEFAULT: Winsize = Winsize { rows: 24, cols: 80, xpixel: 0, ypixel: 0 };

    pub fn to_bytes(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        for (i, v) in [self.rows, self.cols, self.xpixel, self.ypixel].iter().enumerate() {
            b[i * 2..i * 2 + 2].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; 8]) -> Self {
        let h = |i: usize| u16::from_le_bytes([b[i * 2], b[i * 2 + 1]]);
        Winsize { rows: h(0), cols: h(1), xpixel: h(2), ypixel: h(3) }
    }
}

/// Longest edit line (Linux's `N_TTY_BUF_SIZE` less the terminator).
pub const LINE_MAX: usize = 4095;
/// Readable bytes the discipline holds at most.
const READY_CAP: usize = 8192;
/// In the readable queue: the end of input VEOF left (never read as a byte).
const EOF_MARK: u16 = 0x100;

/// A fixed-size FIFO of `u16` (a byte, or [`EOF_MARK`]).
///
/// Invariant: `len <= READY_CAP`; the elements are `buf[head..head+len]`
/// modulo `READY_CAP`.
struct Ring {
    buf: [u16; READY_CAP],
    head: usize,
    len: usize,
}

impl Ring {
    const fn new() -> Self {
        Ring { buf: [0; READY_CAP], head: 0, len: 0 }
    }
    fn room(&self) -> usize {
        READY_CAP - self.len
    }
    fn push(&mut self, v: u16) {
        if self.len < READY_CAP {
            self.buf[(self.head + self.len) % READY_CAP] = v;
            self.len += 1;
        }
    }
    fn front(&self) -> Option<u16> {
        (self.len > 0).then(|| self.buf[self.head])
    }
    fn pop(&mut self) -> Option<u16> {
        let v = self.front()?;
        self.head = (self.head + 1) % READY_CAP;
        self.len -= 1;
        Some(v)
    }
    fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..self.len).map(|i| self.buf[(self.head + i) % READY_CAP])
    }
    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// What a received byte asks of the terminal's owner.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// Nothing beyond the echo (the byte was buffered, edited or dropped).
    Nothing,
    /// Readers may have something now: wake them.
    Readable,
    /// Send this signal to the foreground process group.
    Signal(u32),
}

/// A terminal's input state and settings.
///
/// Invariants: `line[..line_len]` is the edit line (canonical mode only;
/// empty in non-canonical mode); `lines` counts the line ends (`\n`, VEOL,
/// VEOL2, [`EOF_MARK`]) in `ready` when canonical.
pub struct Ldisc {
    pub termios: Termios,
    pub winsize: Winsize,
    line: [u8; LINE_MAX],
    line_len: usize,
    ready: Ring,
    lines: usize,
}

impl Default for Ldisc {
    fn default() -> Self {
        Self::new()
    }
}

impl Ldisc {
    pub const fn new() -> Self {
        Ldisc {
            termios: Termios::default_console(),
            winsize: Winsize::DEFAULT,
            line: [0; LINE_MAX],
            line_len: 0,
            ready: Ring::new(),
            lines: 0,
        }
    }

    fn canonical(&self) -> bool {
        self.termios.l(ICANON)
    }

    /// Whether byte `v` of the readable queue ends a line.
    fn ends_line(&self, v: u16) -> bool {
        v == EOF_MARK || v == b'\n' as u16 || {
            let b = v as u8;
            self.termios.is(b, VEOL) || self.termios.is(b, VEOL2)
        }
    }

    /// Whether a read would find something (a whole line when canonical).
    pub fn readable(&self) -> bool {
        if self.canonical() {
            self.lines > 0
        } else {
            self.ready.len > 0
        }
    }

    /// Bytes a read could take now (FIONREAD).
    pub fn available(&self) -> usize {
        if self.canonical() && self.lines == 0 {
            return 0;
        }
        self.ready.iter().filter(|&v| v != EOF_MARK).count()
    }

    /// Throws away everything typed and not read (TCFLSH, signals).
    pub fn flush_input(&mut self) {
        self.line_len = 0;
        self.ready.clear();
        self.lines = 0;
    }

    /// New settings (TCSETS*). Leaving canonical mode makes the edit
    /// line readable; entering it counts the line ends already queued.
    pub fn set_termios(&mut self, t: Termios) {
        let was = self.canonical();
        self.termios = t;
        if was && !self.canonical() {
            for i in 0..self.line_len {
                self.ready.push(self.line[i] as u16);
            }
            self.line_len = 0;
        }
        if self.canonical() {
            self.lines = self.ready.iter().filter(|&v| self.ends_line(v)).count();
        }
    }

    /// Output processing of one byte (see [`Termios::output`]).
    pub fn output(&self, b: u8, put: &mut impl FnMut(u8)) {
        self.termios.output(b, put)
    }

    /// Echoes `b` as typed: control bytes as `^X` under ECHOCTL.
    fn echo_char(&self, b: u8, put: &mut impl FnMut(u8)) {
        if self.termios.l(ECHOCTL) && is_ctrl(b) && b != b'\t' {
            put(b'^');
            put(b ^ 0x40);
        } else {
            self.output(b, put);
        }
    }

    /// How many columns `b` took on screen when echoed.
    fn width(&self, b: u8) -> usize {
        if is_ctrl(b) && b != b'\t' {
            if self.termios.l(ECHOCTL) {
                2
            } else {
                0
            }
        } else {
            1
        }
    }

    /// One byte from the terminal. `echo` receives what goes back to it.
    pub fn receive(&mut self, mut b: u8, echo: &mut impl FnMut(u8)) -> Received {
        let t = self.termios;
        if t.iflag & ISTRIP != 0 {
            b &= 0x7f;
        }
        if b == b'\r' {
            if t.iflag & IGNCR != 0 {
                return Received::Nothing;
            }
            if t.iflag & ICRNL != 0 {
                b = b'\n';
            }
        } else if b == b'\n' && t.iflag & INLCR != 0 {
            b = b'\r';
        }
        if t.l(ISIG) {
            let sig = if t.is(b, VINTR) {
                Some(SIGINT)
            } else if t.is(b, VQUIT) {
                Some(SIGQUIT)
            } else if t.is(b, VSUSP) {
                Some(SIGTSTP)
            } else {
                None
            };
            if let Some(sig) = sig {
                if !t.l(NOFLSH) {
                    self.flush_input();
                }
                if t.l(ECHO) {
                    self.echo_char(b, echo);
                }
                return Received::Signal(sig);
            }
        }
        if !self.canonical() {
            if self.ready.room() == 0 {
                return Received::Nothing;
            }
            if t.l(ECHO) {
                self.echo_char(b, echo);
            }
            self.ready.push(b as u16);
            return Received::Readable;
        }
        if t.is(b, VERASE) || b == 0x08 && t.cc[VERASE] == 0x7f {
            self.erase(Erase::Char, echo);
            return Received::Nothing;
        }
        if t.is(b, VKILL) {
            self.erase(Erase::Line, echo);
            return Received::Nothing;
        }
        if t.l(IEXTEN) && t.is(b, VWERASE) {
            self.erase(Erase::Word, echo);
            return Received::Nothing;
        }
        if t.is(b, VEOF) {
            return self.commit(None);
        }
        if b == b'\n' || t.is(b, VEOL) || t.is(b, VEOL2) {
            if t.l(ECHO) || (b == b'\n' && t.l(ECHONL)) {
                if b == b'\n' {
                    self.output(b, echo);
                } else {
                    self.echo_char(b, echo);
                }
            }
            return self.commit(Some(b));
        }
        if self.line_len >= LINE_MAX {
            // A full line takes nothing but its end, as on Linux.
            return Received::Nothing;
        }
        if t.l(ECHO) {
            self.echo_char(b, echo);
        }
        self.line[self.line_len] = b;
        self.line_len += 1;
        Received::Nothing
    }

    /// Moves the edit line and its end (`None`: VEOF's mark) to the readable
    /// queue; a line with no room left is dropped.
    fn commit(&mut self, end: Option<u8>) -> Received {
        let n = self.line_len;
        self.line_len = 0;
        if self.ready.room() < n + 1 {
            return Received::Nothing;
        }
        for i in 0..n {
            self.ready.push(self.line[i] as u16);
        }
        self.ready.push(end.map_or(EOF_MARK, |b| b as u16));
        self.lines += 1;
        Received::Readable
    }

    /// Edits the line backwards: VERASE, VWERASE or VKILL, echoing the
    /// erasure as Linux's `eraser` does.
    fn erase(&mut self, kind: Erase, echo: &mut impl FnMut(u8)) {
        let t = self.termios;
        if self.line_len == 0 {
            return;
        }
        if kind == Erase::Line && (!t.l(ECHOK) || !t.l(ECHOKE) || !t.l(ECHOE)) {
            self.line_len = 0;
            if t.l(ECHO) {
                self.echo_char(t.cc[VKILL], echo);
                if t.l(ECHOK) {
                    self.output(b'\n', echo);
                }
            }
            return;
        }
        let mut seen_word = false;
        while self.line_len > 0 {
            let c = self.line[self.line_len - 1];
            if kind == Erase::Word {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    seen_word = true;
                } else if seen_word {
                    break;
                }
            }
            self.line_len -= 1;
            if t.l(ECHO) {
                if t.l(ECHOE) {
                    for _ in 0..self.width(c) {
                        echo(0x08);
                        echo(b' ');
                        echo(0x08);
                    }
                } else if kind == Erase::Char {
                    self.echo_char(t.cc[VERASE], echo);
                }
            }
            if kind == Erase::Char {
                break;
            }
        }
    }

    /// Takes a line (canonical) for a read into `buf`: bytes up to and
    /// including its `\n` (VEOF's mark ends it without being read);
    /// 0 means end of input when the line was empty. Call only when
    /// [`readable`](Self::readable).
    pub fn read_canonical(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(v) = self.ready.pop() else { break };
            let end = self.ends_line(v);
            if v != EOF_MARK {
                buf[n] = v as u8;
                n += 1;
            }
            if end {
                self.lines = self.lines.saturating_sub(1);
                break;
            }
        }
        n
    }

    /// Takes up to `buf.len()` readable bytes (non-canonical).
    pub fn read_raw(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match self.ready.pop() {
                Some(EOF_MARK) => continue,
                Some(v) => {
                    buf[n] = v as u8;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }
}

fn is_ctrl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Erase {
    Char,
    Word,
    Line,
}

/// What a non-canonical read does next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RawWait {
    /// Return the bytes it has.
    Return,
    /// Wait for more input, forever or until this many tenths of a second
    /// pass without any (the timer restarts with each byte when VMIN > 0;
    /// with VMIN = 0 it runs from the start of the read).
    Wait(Option<u8>),
}

/// The VMIN/VTIME rules (POSIX, Linux's `n_tty_read`), having `got` of
/// the `want` bytes asked for.
///
/// | VMIN | VTIME | read returns                                              |
/// |------|-------|-----------------------------------------------------------|
/// | 0    | 0     | at once, with what is there (maybe nothing)               |
/// | 0    | t     | with the first byte, or 0 after t/10 s                    |
/// | m    | 0     | once min(m, count) bytes are there                        |
/// | m    | t     | once min(m, count) bytes are there, or t/10 s after a byte with no next one |
pub fn raw_wait(vmin: u8, vtime: u8, got: usize, want: usize) -> RawWait {
    if want == 0 {
        return RawWait::Return;
    }
    if vmin == 0 {
        return if got > 0 || vtime == 0 { RawWait::Return } else { RawWait::Wait(Some(vtime)) };
    }
    if got >= (vmin as usize).min(want) {
        RawWait::Return
    } else if vtime > 0 && got > 0 {
        RawWait::Wait(Some(vtime))
    } else {
        RawWait::Wait(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Types `input`; returns what was echoed and the signals raised.
    fn type_in(l: &mut Ldisc, input: &[u8]) -> (Vec<u8>, Vec<u32>) {
        let mut echo = Vec::new();
        let mut sigs = Vec::new();
        for &b in input {
            if let Received::Signal(s) = l.receive(b, &mut |e| echo.push(e)) {
                sigs.push(s);
            }
        }
        (echo, sigs)
    }

    fn read_line(l: &mut Ldisc) -> Option<Vec<u8>> {
        if !l.readable() {
            return None;
        }
        let mut buf = [0u8; 64];
        let n = l.read_canonical(&mut buf);
        Some(buf[..n].to_vec())
    }

    #[test]
    fn termios_layout_is_linux() {
        let t = Termios::default_console();
        assert_eq!(core::mem::size_of::<Termios>(), TERMIOS_SIZE);
        let b = t.to_bytes();
        // Linux's defaults as `stty -g` shows them: 500:5:bf:8a3b:3:1c:7f:15:4:0:1:0:11:13:1a:0:12:f:17:16:0:...
        assert_eq!(&b[..16], &[0x00, 0x05, 0, 0, 5, 0, 0, 0, 0xbf, 0, 0, 0, 0x3b, 0x8a, 0, 0]);
        assert_eq!(&b[17..34], &[3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0]);
        assert_eq!(Termios::from_bytes(&b), t);
        assert_eq!(Winsize::from_bytes(&Winsize::DEFAULT.to_bytes()), Winsize::DEFAULT);
        assert_eq!(Winsize::DEFAULT.to_bytes(), [24, 0, 80, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn canonical_line_waits_for_enter_and_echoes() {
        let mut l = Ldisc::new();
        let (echo, _) = type_in(&mut l, b"ab");
        assert_eq!(echo, b"ab");
        assert!(!l.readable());
        assert_eq!(l.available(), 0);
        // The serial line sends \r for Enter: ICRNL makes it \n, ONLCR echoes \r\n.
        let (echo, _) = type_in(&mut l, b"\r");
        assert_eq!(echo, b"\r\n");
        assert_eq!(l.available(), 3);
        assert_eq!(read_line(&mut l).unwrap(), b"ab\n");
        assert!(!l.readable());
    }

    #[test]
    fn one_line_per_read_and_short_buffers() {
        let mut l = Ldisc::new();
        type_in(&mut l, b"one\ntwo\n");
        assert_eq!(read_line(&mut l).unwrap(), b"one\n");
        let mut small = [0u8; 2];
        assert_eq!(l.read_canonical(&mut small), 2);
        assert_eq!(&small, b"tw");
        assert!(l.readable());
        assert_eq!(read_line(&mut l).unwrap(), b"o\n");
        assert!(!l.readable());
    }

    #[test]
    fn erase_with_del_and_backspace() {
        let mut l = Ldisc::new();
        let (echo, _) = type_in(&mut l, b"abc\x7fd\n");
        assert_eq!(echo, b"abc\x08 \x08d\r\n");
        assert_eq!(read_line(&mut l).unwrap(), b"abd\n");
        type_in(&mut l, b"xy\x08\x08\x08z\n");
        assert_eq!(read_line(&mut l).unwrap(), b"z\n");
        // A control byte echoed as ^X takes two columns to erase.
        let (echo, _) = type_in(&mut l, b"\x01\x7f");
        assert_eq!(echo, b"^A\x08 \x08\x08 \x08");
        // Without ECHOE the erase character itself is echoed.
        l.termios.lflag &= !ECHOE;
        let (echo, _) = type_in(&mut l, b"q\x7f\n");
        assert_eq!(echo, b"q^?\r\n");
        assert_eq!(read_line(&mut l).unwrap(), b"\n");
    }

    #[test]
    fn kill_and_word_erase() {
        let mut l = Ldisc::new();
        let (echo, _) = type_in(&mut l, b"ab\x15");
        assert_eq!(echo, b"ab\x08 \x08\x08 \x08");
        type_in(&mut l, b"ok\n");
        assert_eq!(read_line(&mut l).unwrap(), b"ok\n");
        // ECHOK without ECHOKE: the kill character and a newline.
        l.termios.lflag &= !ECHOKE;
        let (echo, _) = type_in(&mut l, b"zz\x15");
        assert_eq!(echo, b"zz^U\r\n");
        assert!(!l.readable());
        type_in(&mut l, b"echo hello, world  \x17\x17x\n");
        assert_eq!(read_line(&mut l).unwrap(), b"echo x\n");
        // ^W with nothing but spaces and punctuation erases them all.
        type_in(&mut l, b" -- \x17y\n");
        assert_eq!(read_line(&mut l).unwrap(), b"y\n");
    }

    #[test]
    fn eof_returns_buffered_then_zero() {
        let mut l = Ldisc::new();
        let (echo, _) = type_in(&mut l, b"abc\x04");
        assert_eq!(echo, b"abc", "^D is not echoed");
        assert_eq!(read_line(&mut l).unwrap(), b"abc");
        assert!(!l.readable());
        type_in(&mut l, b"\x04");
        assert_eq!(read_line(&mut l).unwrap(), b"", "^D on an empty line is end of input");
        assert!(!l.readable());
    }

    #[test]
    fn echo_off_and_echonl() {
        let mut l = Ldisc::new();
        l.termios.lflag &= !ECHO;
        let (echo, _) = type_in(&mut l, b"secret\r");
        assert!(echo.is_empty());
        assert_eq!(read_line(&mut l).unwrap(), b"secret\n");
        l.termios.lflag |= ECHONL;
        let (echo, _) = type_in(&mut l, b"pw\n");
        assert_eq!(echo, b"\r\n");
    }

    #[test]
    fn isig_maps_characters_to_signals_and_flushes() {
        let mut l = Ldisc::new();
        let (echo, sigs) = type_in(&mut l, b"half\x03");
        assert_eq!(sigs, [SIGINT]);
        assert_eq!(echo, b"half^C");
        type_in(&mut l, b"\n");
        assert_eq!(read_line(&mut l).unwrap(), b"\n", "the typed half line was flushed");
        let (_, sigs) = type_in(&mut l, b"\x1c\x1a");
        assert_eq!(sigs, [SIGQUIT, SIGTSTP]);
        // NOFLSH keeps the input.
        l.termios.lflag |= NOFLSH;
        type_in(&mut l, b"ab\n\x03");
        assert_eq!(read_line(&mut l).unwrap(), b"ab\n");
        // Without ISIG ^C is data.
        l.termios.lflag &= !ISIG;
        let (_, sigs) = type_in(&mut l, b"\x03\n");
        assert!(sigs.is_empty());
        assert_eq!(read_line(&mut l).unwrap(), b"\x03\n");
    }

    #[test]
    fn icrnl_igncr_and_output_processing() {
        let mut l = Ldisc::new();
        l.termios.iflag &= !ICRNL;
        type_in(&mut l, b"a\r\n");
        assert_eq!(read_line(&mut l).unwrap(), b"a\r\n");
        l.termios.iflag |= IGNCR;
        type_in(&mut l, b"b\r\n");
        assert_eq!(read_line(&mut l).unwrap(), b"b\n");
        let out = |l: &Ldisc, s: &[u8]| {
            let mut v = Vec::new();
            for &b in s {
                l.output(b, &mut |o| v.push(o));
            }
            v
        };
        assert_eq!(out(&l, b"x\ny"), b"x\r\ny");
        l.termios.oflag &= !ONLCR;
        assert_eq!(out(&l, b"x\n"), b"x\n");
        l.termios.oflag = ONLCR;
        assert_eq!(out(&l, b"x\n"), b"x\n", "ONLCR acts only under OPOST");
    }

    #[test]
    fn raw_mode_passes_every_byte() {
        let mut l = Ldisc::new();
        type_in(&mut l, b"pending");
        let mut t = l.termios;
        t.lflag &= !(ICANON | ECHO);
        l.set_termios(t);
        assert!(l.readable(), "leaving canonical mode makes the edit line readable");
        let (echo, _) = type_in(&mut l, b"\x7f\x04");
        assert!(echo.is_empty());
        let mut buf = [0u8; 32];
        let n = l.read_raw(&mut buf);
        assert_eq!(&buf[..n], b"pending\x7f\x04");
        assert!(!l.readable());
        // Back to canonical: queued bytes become a line only with its end.
        type_in(&mut l, b"x");
        t.lflag |= ICANON;
        l.set_termios(t);
        assert!(!l.readable());
        type_in(&mut l, b"\n");
        assert_eq!(read_line(&mut l).unwrap(), b"x\n");
    }

    #[test]
    fn raw_echo_shows_controls() {
        let mut l = Ldisc::new();
        let mut t = l.termios;
        t.lflag &= !ICANON;
        l.set_termios(t);
        let (echo, _) = type_in(&mut l, b"a\r");
        assert_eq!(echo, b"a^J", "Linux echoes a raw newline as ^J under ECHOCTL");
    }

    #[test]
    fn vmin_vtime_decisions() {
        use RawWait::*;
        // VMIN 0, VTIME 0: polling.
        assert_eq!(raw_wait(0, 0, 0, 10), Return);
        // VMIN 0, VTIME t: the first byte or the timer.
        assert_eq!(raw_wait(0, 5, 0, 10), Wait(Some(5)));
        assert_eq!(raw_wait(0, 5, 1, 10), Return);
        // VMIN m, VTIME 0: m bytes, or the count if smaller.
        assert_eq!(raw_wait(3, 0, 2, 10), Wait(None));
        assert_eq!(raw_wait(3, 0, 3, 10), Return);
        assert_eq!(raw_wait(3, 0, 1, 1), Return);
        // VMIN m, VTIME t: the timer starts with the first byte.
        assert_eq!(raw_wait(3, 2, 0, 10), Wait(None));
        assert_eq!(raw_wait(3, 2, 1, 10), Wait(Some(2)));
        assert_eq!(raw_wait(3, 2, 3, 10), Return);
        assert_eq!(raw_wait(1, 0, 0, 0), Return, "a read of 0 bytes returns at once");
    }

    #[test]
    fn full_line_takes_only_its_end() {
        let mut l = Ldisc::new();
        l.termios.lflag &= !ECHO;
        for _ in 0..LINE_MAX + 10 {
            l.receive(b'x', &mut |_| {});
        }
        l.receive(b'\n', &mut |_| {});
        let mut buf = [0u8; LINE_MAX + 20];
        assert!(l.readable());
        assert_eq!(l.read_canonical(&mut buf), LINE_MAX + 1);
        assert_eq!(buf[LINE_MAX], b'\n');
    }
}
