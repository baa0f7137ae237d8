//! Path names: joining a relative path onto the working directory and
//! normalising `.` and `..` (portable, unit-tested on the host).

use alloc::collections::TryReserveError;
use alloc::string::String;

/// Joins `path` onto `cwd` (an absolute path) and normalises `.`/`..`.
///
/// The result is never longer than `cwd`, a `/` and `path` together, and
/// that much is reserved up front, fallibly: one allocation, which fails
/// with an error instead of a panic (`path` comes from user space).
pub fn normalize(cwd: &str, path: &str) -> Result<String, TryReserveError> {
    let full = if path.starts_with('/') { [path, ""] } else { [cwd, path] };
    let mut s = String::new();
    s.try_reserve_exact(cwd.len() + path.len() + 2)?;
    for p in full.iter().flat_map(|s| s.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                let parent = s.rfind('/').unwrap_or(0);
                s.truncate(parent);
            }
            p => {
                s.push('/');
                s.push_str(p);
            }
        }
    }
    if s.is_empty() {
        s.push('/');
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    fn norm(cwd: &str, path: &str) -> alloc::string::String {
        let s = normalize(cwd, path).unwrap();
        assert!(s.len() <= cwd.len() + path.len() + 2, "{s:?} longer than reserved");
        s
    }

    #[test]
    fn paths() {
        assert_eq!(norm("/", "a/b"), "/a/b");
        assert_eq!(norm("/x/y", "../z"), "/x/z");
        assert_eq!(norm("/x", "/abs/./p/../q"), "/abs/q");
        assert_eq!(norm("/", ".."), "/");
        assert_eq!(norm("/tmp", ""), "/tmp");
        assert_eq!(norm("/", ""), "/");
        assert_eq!(norm("/a/b", "../../.."), "/");
        assert_eq!(norm("/a", "b//c/./"), "/a/b/c");
        assert_eq!(norm("/a", "..x/.y"), "/a/..x/.y");
    }
}
