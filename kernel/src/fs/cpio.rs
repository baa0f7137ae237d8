//! A reader for `newc` cpio archives, the format of the initramfs.
//!
//! An archive is a list of entries, each a fixed 110-byte ASCII header, the
//! entry's name and the entry's data, and ends with an entry named
//! `TRAILER!!!`. The header is the magic `070701` (or `070702`, the same
//! format with a checksum of the data) followed by 13 fields of exactly eight
//! hexadecimal digits: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
//! devminor, rdevmajor, rdevminor, namesize and check. The name (`namesize`
//! bytes including its terminating NUL) follows the header and is padded with
//! NULs so that header and name together end on a multiple of 4 bytes; the
//! data (`filesize` bytes) follows and is padded to a multiple of 4 as well.
//! So every header starts 4-byte aligned (relative to the archive's start),
//! and a file's data is 4-byte aligned too, but no more than that.
//!
//! [`entries`] walks the archive without copying: every [`CpioEntry`]
//! borrows its name and data from the archive bytes. The archive comes from
//! outside the kernel (the boot loader put it in memory), so every header is
//! checked and a malformed archive gives a [`CpioError`], never a panic.
//! Anything after the trailer (tools pad archives to 512-byte blocks) is
//! ignored.

use core::fmt;
use core::iter::FusedIterator;

/// Length of a `newc` header: a 6-byte magic and 13 eight-digit fields.
pub const HEADER_LEN: usize = 6 + 13 * 8;
/// Magic of a `newc` header without checksum.
pub const MAGIC_NEWC: &[u8; 6] = b"070701";
/// Magic of a `newc` header whose `check` field is the sum of the data bytes.
pub const MAGIC_CRC: &[u8; 6] = b"070702";
/// Name of the entry that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";

/// Mask of the file type bits in [`CpioEntry::mode`].
pub const S_IFMT: u32 = 0o170000;
/// File type: directory.
pub const S_IFDIR: u32 = 0o040000;
/// File type: regular file.
pub const S_IFREG: u32 = 0o100000;
/// File type: symbolic link (the data is the link's target).
pub const S_IFLNK: u32 = 0o120000;

// Indices of the header fields we use (after the magic, 8 digits each).
const FIELD_INO: usize = 0;
const FIELD_MODE: usize = 1;
const FIELD_NLINK: usize = 4;
const FIELD_FILESIZE: usize = 6;
const FIELD_NAMESIZE: usize = 11;
const FIELD_CHECK: usize = 12;

/// One file, directory or other node of an archive.
///
/// Invariant: `name` never starts with `/` or `./`; the archive's root
/// directory (stored as `.`) has the name `""`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CpioEntry<'a> {
    /// Path relative to the root, such as `bin/sh`.
    pub name: &'a str,
    /// File type and permission bits, as in `st_mode`.
    pub mode: u32,
    /// The file's contents (a symbolic link's target; empty for a directory).
    pub data: &'a [u8],
    /// Inode number and link count: entries of one archive with the same
    /// `ino` and `nlink >= 2` are hard links to one file, whose data comes
    /// with one of them (the first, or the last as GNU cpio writes it).
    pub ino: u32,
    pub nlink: u32,
}

impl CpioEntry<'_> {
    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
    /// Whether the entry is a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
    /// Whether the entry is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
}

/// What is wrong with an archive; `offset` is where the bad entry's header
/// starts, counted from the start of the archive.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CpioError {
    /// The header does not start with `070701` or `070702`.
    BadMagic { offset: usize },
    /// The archive ends inside a header, name or data, or before the trailer.
    Truncated { offset: usize },
    /// A header field is not eight hexadecimal digits.
    BadHex { offset: usize },
    /// The name is empty, not NUL-terminated or not UTF-8.
    BadName { offset: usize },
    /// A `070702` entry whose data does not add up to its `check` field.
    BadChecksum { offset: usize },
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, offset) = match *self {
            Self::BadMagic { offset } => ("bad magic", offset),
            Self::Truncated { offset } => ("truncated archive", offset),
            Self::BadHex { offset } => ("header field is not hexadecimal", offset),
            Self::BadName { offset } => ("bad file name", offset),
            Self::BadChecksum { offset } => ("checksum mismatch", offset),
        };
        write!(f, "cpio: {what} (entry at offset {offset:#x})")
    }
}

/// Iterates over the entries of the archive `archive`.
pub fn entries(archive: &[u8]) -> CpioIter<'_> {
    CpioIter { archive, pos: 0, done: false }
}

/// Finds the entry called `path` (a leading `/` or `./` is ignored).
pub fn find<'a>(archive: &'a [u8], path: &str) -> Result<Option<CpioEntry<'a>>, CpioError> {
    let path = strip_root(path);
    for entry in entries(archive) {
        let entry = entry?;
        if entry.name == path {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

/// The iterator [`entries`] returns. It yields each entry in archive order,
/// stops at the trailer, and stops for good after the first error.
///
/// Invariant: `pos` is the offset of the next header, a multiple of 4.
#[derive(Clone, Debug)]
pub struct CpioIter<'a> {
    archive: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for CpioIter<'a> {
    type Item = Result<CpioEntry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse_entry() {
            Ok(Some((entry, next))) => {
                self.pos = next;
                Some(Ok(entry))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl FusedIterator for CpioIter<'_> {}

impl<'a> CpioIter<'a> {
    /// Parses the entry at `self.pos`: `None` for the trailer, otherwise the
    /// entry and the offset of the header after it.
    fn parse_entry(&self) -> Result<Option<(CpioEntry<'a>, usize)>, CpioError> {
        let offset = self.pos;
        let truncated = CpioError::Truncated { offset };
        let header = self.archive.get(offset..offset + HEADER_LEN).ok_or(truncated)?;
        let magic = &header[..6];
        if magic != MAGIC_NEWC && magic != MAGIC_CRC {
            return Err(CpioError::BadMagic { offset });
        }
        let field = |i: usize| parse_hex8(&header[6 + 8 * i..14 + 8 * i]);
        let bad_hex = CpioError::BadHex { offset };
        // Parse every field, even those we ignore: a stray non-digit anywhere
        // in the header means we are not looking at a header.
        let mut fields = [0u32; 13];
        for (i, f) in fields.iter_mut().enumerate() {
            *f = field(i).ok_or(bad_hex)?;
        }
        let namesize = fields[FIELD_NAMESIZE] as usize;
        let filesize = fields[FIELD_FILESIZE] as usize;

        // The name, NUL included, then padding to a multiple of 4.
        let name_start = offset + HEADER_LEN;
        let name_end = name_start.checked_add(namesize).ok_or(truncated)?;
        let name_bytes = self.archive.get(name_start..name_end).ok_or(truncated)?;
        let bad_name = CpioError::BadName { offset };
        let (nul, name_bytes) = name_bytes.split_last().ok_or(bad_name)?;
        if *nul != 0 || name_bytes.contains(&0) {
            return Err(bad_name);
        }
        let name = core::str::from_utf8(name_bytes).map_err(|_| bad_name)?;
        if name == TRAILER {
            return Ok(None);
        }

        // The data, then padding to a multiple of 4.
        let data_start = align4(name_end).ok_or(truncated)?;
        let data_end = data_start.checked_add(filesize).ok_or(truncated)?;
        let data = self.archive.get(data_start..data_end).ok_or(truncated)?;
        if magic == MAGIC_CRC && checksum(data) != fields[FIELD_CHECK] {
            return Err(CpioError::BadChecksum { offset });
        }
        // The padding after the last entry may be missing only if nothing
        // follows; the next header's bounds check catches that case.
        let next = align4(data_end).ok_or(truncated)?;

        let entry = CpioEntry {
            name: strip_root(name),
            mode: fields[FIELD_MODE],
            data,
            ino: fields[FIELD_INO],
            nlink: fields[FIELD_NLINK],
        };
        Ok(Some((entry, next)))
    }
}

/// Parses exactly eight hexadecimal digits (no sign, no prefix).
fn parse_hex8(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc << 4 | v)
    })
}

/// Rounds `n` up to a multiple of 4, or `None` on overflow.
fn align4(n: usize) -> Option<usize> {
    Some(n.checked_add(3)? & !3)
}

/// The `070702` checksum: the sum of the data bytes, modulo 2^32.
fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |sum, &b| sum.wrapping_add(b as u32))
}

/// Removes leading `./` and `/` components; `.` alone becomes `""`.
fn strip_root(mut name: &str) -> &str {
    loop {
        if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else if name == "." {
            return "";
        } else {
            return name;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;

    /// A tiny `newc` writer: the entries, then the trailer.
    fn archive(magic: &[u8; 6], entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let trailer: (&str, u32, &[u8]) = (TRAILER, 0, &[]);
        for (ino, &(name, mode, data)) in entries.iter().chain([&trailer]).enumerate() {
            let check = if magic == MAGIC_CRC { checksum(data) } else { 0 };
            let fields =
                [ino as u32 + 1, mode, 0, 0, 1, 0, data.len() as u32, 0, 0, 0, 0, name.len() as u32 + 1, check];
            out.extend_from_slice(magic);
            for f in fields {
                out.extend_from_slice(format!("{f:08x}").as_bytes());
            }
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.resize(out.len().next_multiple_of(4), 0);
            out.extend_from_slice(data);
            out.resize(out.len().next_multiple_of(4), 0);
        }
        out
    }

    fn collect(a: &[u8]) -> Result<Vec<CpioEntry<'_>>, CpioError> {
        entries(a).collect()
    }

    #[test]
    fn files_and_directories() {
        let a = archive(
            MAGIC_NEWC,
            &[
                (".", S_IFDIR | 0o755, b""),
                ("./bin", S_IFDIR | 0o755, b""),
                ("./bin/hello", S_IFREG | 0o755, b"\x7fELF...."),
                ("/etc/motd", S_IFREG | 0o644, b"hi\n"),
                ("init", S_IFLNK | 0o777, b"bin/hello"),
            ],
        );
        let e = collect(&a).unwrap();
        let names: Vec<&str> = e.iter().map(|e| e.name).collect();
        assert_eq!(names, ["", "bin", "bin/hello", "etc/motd", "init"]);
        assert!(e[0].is_dir() && e[1].is_dir() && !e[1].is_file());
        assert!(e[2].is_file() && e[3].is_file() && e[4].is_symlink());
        assert_eq!(e[2].mode, S_IFREG | 0o755);
        assert_eq!(e[2].data, b"\x7fELF....");
        assert_eq!(e[3].data, b"hi\n");
        assert_eq!(e[4].data, b"bin/hello");
        assert!(e[1].data.is_empty());
        // The writer numbers entries from 1, one link each.
        assert_eq!((e[2].ino, e[2].nlink), (3, 1));
    }

    #[test]
    fn data_is_four_byte_aligned() {
        // Name lengths 1..=4 exercise every amount of name padding.
        let a = archive(
            MAGIC_NEWC,
            &[("a", S_IFREG, b"1"), ("ab", S_IFREG, b"22"), ("abc", S_IFREG, b"333"), ("abcd", S_IFREG, b"4444")],
        );
        for e in entries(&a) {
            let e = e.unwrap();
            let off = e.data.as_ptr() as usize - a.as_ptr() as usize;
            assert_eq!(off % 4, 0);
            assert_eq!(e.data.len(), e.name.len());
        }
        assert_eq!(collect(&a).unwrap().len(), 4);
    }

    #[test]
    fn empty_archive_and_trailing_padding() {
        let mut a = archive(MAGIC_NEWC, &[]);
        assert_eq!(collect(&a).unwrap(), []);
        a.resize(512, 0);
        assert_eq!(collect(&a).unwrap(), []);
    }

    #[test]
    fn crc_magic_is_accepted_and_checked() {
        let mut a = archive(MAGIC_CRC, &[("f", S_IFREG | 0o600, b"data")]);
        assert_eq!(collect(&a).unwrap()[0].data, b"data");
        // Flip a data byte: header 110 + name "f\0" padded to 112.
        a[112] ^= 1;
        assert_eq!(collect(&a), Err(CpioError::BadChecksum { offset: 0 }));
    }

    #[test]
    fn bad_magic() {
        let mut a = archive(MAGIC_NEWC, &[("f", S_IFREG, b"x")]);
        a[5] = b'7';
        assert_eq!(collect(&a), Err(CpioError::BadMagic { offset: 0 }));
        // The old portable ASCII format ("odc") is not accepted.
        let mut odc = a.clone();
        odc[..6].copy_from_slice(b"070707");
        assert_eq!(collect(&odc), Err(CpioError::BadMagic { offset: 0 }));
    }

    #[test]
    fn truncated_anywhere_is_an_error_not_a_panic() {
        let a = archive(MAGIC_NEWC, &[("dir", S_IFDIR, b""), ("dir/file", S_IFREG, b"hello, world")]);
        assert!(collect(&a).is_ok());
        for len in 0..a.len() {
            let r = collect(&a[..len]);
            // Cutting only the trailer's padding (3 bytes: 110 + 11 -> 124)
            // still leaves a whole trailer.
            if len >= a.len() - 3 {
                assert!(r.is_ok(), "len {len}");
            } else {
                assert!(matches!(r, Err(CpioError::Truncated { .. })), "len {len}: {r:?}");
            }
        }
    }

    #[test]
    fn sizes_past_the_end() {
        let mut a = archive(MAGIC_NEWC, &[("f", S_IFREG, b"x")]);
        // filesize is field 6: bytes 6 + 6*8 .. +8.
        a[54..62].copy_from_slice(b"7fffffff");
        assert_eq!(collect(&a), Err(CpioError::Truncated { offset: 0 }));
        let mut a = archive(MAGIC_NEWC, &[("f", S_IFREG, b"x")]);
        a[94..102].copy_from_slice(b"ffffffff"); // namesize
        assert_eq!(collect(&a), Err(CpioError::Truncated { offset: 0 }));
    }

    #[test]
    fn non_hex_fields() {
        let good = archive(MAGIC_NEWC, &[("f", S_IFREG, b"x")]);
        for (pos, bad) in [(6, b'g'), (60, b' '), (101, b'+'), (109, b'x')] {
            let mut a = good.clone();
            a[pos] = bad;
            assert_eq!(collect(&a), Err(CpioError::BadHex { offset: 0 }), "byte {pos}");
        }
        // Upper-case digits are fine.
        let mut a = good.clone();
        a[14..22].copy_from_slice(b"000081A4");
        assert_eq!(collect(&a).unwrap()[0].mode, 0o100644);
    }

    #[test]
    fn bad_names() {
        let mut a = archive(MAGIC_NEWC, &[("f\u{e9}", S_IFREG, b"x")]);
        a[HEADER_LEN + 1] = 0xff; // break the UTF-8 sequence
        assert_eq!(collect(&a), Err(CpioError::BadName { offset: 0 }));
        let mut a = archive(MAGIC_NEWC, &[("abc", S_IFREG, b"x")]);
        a[HEADER_LEN + 3] = b'd'; // no terminating NUL
        assert_eq!(collect(&a), Err(CpioError::BadName { offset: 0 }));
        let mut a = archive(MAGIC_NEWC, &[("abc", S_IFREG, b"x")]);
        a[94..102].copy_from_slice(b"00000000"); // namesize 0
        assert_eq!(collect(&a), Err(CpioError::BadName { offset: 0 }));
    }

    #[test]
    fn iteration_stops_after_an_error_and_reports_the_offset() {
        let mut a = archive(MAGIC_NEWC, &[("a", S_IFREG, b"1234"), ("b", S_IFREG, b"")]);
        // The second header starts after 112 (header + name) + 4 (data).
        a[116] = b'X';
        let mut it = entries(&a);
        assert_eq!(it.next().unwrap().unwrap().name, "a");
        assert_eq!(it.next(), Some(Err(CpioError::BadMagic { offset: 116 })));
        assert_eq!(it.next(), None);
        assert_eq!(format!("{}", CpioError::BadMagic { offset: 116 }), "cpio: bad magic (entry at offset 0x74)");
    }

    #[test]
    fn find_by_path() {
        let a = archive(MAGIC_NEWC, &[("./bin/sh", S_IFREG, b"sh"), ("init", S_IFREG, b"init")]);
        assert_eq!(find(&a, "/bin/sh").unwrap().unwrap().data, b"sh");
        assert_eq!(find(&a, "init").unwrap().unwrap().data, b"init");
        assert_eq!(find(&a, "/nope").unwrap(), None);
        assert!(find(&a[..50], "init").is_err());
    }

    #[test]
    fn root_prefixes_are_stripped() {
        assert_eq!(strip_root("."), "");
        assert_eq!(strip_root("./"), "");
        assert_eq!(strip_root(".//a/b"), "a/b");
        assert_eq!(strip_root("/./a"), "a");
        assert_eq!(strip_root(".hidden"), ".hidden");
        assert_eq!(strip_root("../x"), "../x");
    }
}
