//! Path names: joining a relative path onto the working directory and
//! normalising `.` and `..` (portable, unit-tested on the host).

use alloc::string::String;
use alloc::vec::Vec;

/// Joins `path` onto `cwd` (an absolute path) and normalises `.`/`..`.
pub fn normalize(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let full = if path.starts_with('/') { [path, ""] } else { [cwd, path] };
    for p in full.iter().flat_map(|s| s.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut s = String::from("/");
    s.push_str(&parts.join("/"));
    s
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn paths() {
        assert_eq!(normalize("/", "a/b"), "/a/b");
        assert_eq!(normalize("/x/y", "../z"), "/x/z");
        assert_eq!(normalize("/x", "/abs/./p/../q"), "/abs/q");
        assert_eq!(normalize("/", ".."), "/");
        assert_eq!(normalize("/tmp", ""), "/tmp");
    }
}
