//! Writing a `newc` cpio archive, the initramfs format QEMU's `-initrd`
//! passes to the kernel (and the one Linux unpacks).
//!
//! Each entry is a 110-byte ASCII header (magic `070701` and 13 eight-digit
//! hex fields), the NUL-terminated name padded to 4 bytes, then the data
//! padded to 4 bytes; the archive ends with an entry named `TRAILER!!!`.
//! Hard links are entries that repeat a file's inode number, with a link
//! count of 2 or more; the file's data travels with its first entry only.

/// A file or directory to put in the archive.
pub struct Entry {
    /// Path inside the archive, without a leading `/`.
    pub name: String,
    /// Mode bits including the type (0o100755 for an executable file, 0o040755 for a directory).
    pub mode: u32,
    pub data: Vec<u8>,
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn header(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, size: usize, name: &str) {
    let fields = [ino, mode, 0, 0, nlink, 0, size as u32, 0, 0, 0, 0, name.len() as u32 + 1, 0];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

/// Builds the archive.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    archive_with_links(entries, &[])
}

/// Builds the archive with hard links: each `(name, i)` of `links` is one
/// more name for the file `entries[i]`.
pub fn archive_with_links(entries: &[Entry], links: &[(String, usize)]) -> Vec<u8> {
    let mut out = Vec::new();
    let nlink = |i: usize| 1 + links.iter().filter(|(_, t)| *t == i).count() as u32;
    for (i, e) in entries.iter().enumerate() {
        header(&mut out, i as u32 + 1, e.mode, nlink(i), e.data.len(), &e.name);
        out.extend_from_slice(&e.data);
        pad4(&mut out);
    }
    for (name, i) in links {
        header(&mut out, *i as u32 + 1, entries[*i].mode, nlink(*i), 0, name);
    }
    header(&mut out, 0, 0, 1, 0, "TRAILER!!!");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let a = archive(&[Entry { name: "init".into(), mode: 0o100755, data: b"abc".to_vec() }]);
        assert_eq!(&a[..6], b"070701");
        assert_eq!(&a[6..14], b"00000001");
        assert_eq!(&a[14..22], b"000081ed");
        assert_eq!(&a[54..62], b"00000003");
        assert_eq!(&a[110..115], b"init\0");
        // header 110 + name 5 = 115, padded to 116; data 3 padded to 4.
        assert_eq!(&a[116..119], b"abc");
        assert_eq!(&a[120..126], b"070701");
        assert!(a.windows(10).any(|w| w == b"TRAILER!!!"));
        assert_eq!(a.len() % 4, 0);
    }

    #[test]
    fn hard_links_share_the_inode_number() {
        let e = [Entry { name: "bin/busybox".into(), mode: 0o100755, data: b"xyz".to_vec() }];
        let a = archive_with_links(&e, &[("bin/sh".into(), 0)]);
        // busybox: ino 1, nlink 2, 3 bytes of data.
        assert_eq!(&a[6..14], b"00000001");
        assert_eq!(&a[38..46], b"00000002");
        assert_eq!(&a[54..62], b"00000003");
        // Its link, after busybox's header (110), name (12) and data (4).
        let l = &a[128..];
        assert_eq!(&l[6..14], b"00000001");
        assert_eq!(&l[38..46], b"00000002");
        assert_eq!(&l[54..62], b"00000000");
        assert_eq!(&l[110..117], b"bin/sh\0");
    }
}
