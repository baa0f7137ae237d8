//! Writing a `newc` cpio archive, the initramfs format QEMU's `-initrd`
//! passes to the kernel (and the one Linux unpacks).
//!
//! Each entry is a 110-byte ASCII header (magic `070701` and 13 eight-digit
//! hex fields), the NUL-terminated name padded to 4 bytes, then the data
//! padded to 4 bytes; the archive ends with an entry named `TRAILER!!!`.

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

fn header(out: &mut Vec<u8>, ino: u32, mode: u32, size: usize, name: &str) {
    let fields = [ino, mode, 0, 0, 1, 0, size as u32, 0, 0, 0, 0, name.len() as u32 + 1, 0];
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
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        header(&mut out, i as u32 + 1, e.mode, e.data.len(), &e.name);
        out.extend_from_slice(&e.data);
        pad4(&mut out);
    }
    header(&mut out, 0, 0, 0, "TRAILER!!!");
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
}
