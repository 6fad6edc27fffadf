//! Writing a file so that it is never left half-written: a temporary name, then a rename.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written under a temporary name next to its target.
pub struct PendingFile {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
}

impl PendingFile {
    /// Creates the temporary file now, so an unwritable path fails before any work is done.
    pub fn create(target: &Path) -> std::io::Result<Self> {
        if target.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                format!("{} is a directory", target.display()),
            ));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path has no file name",
                )
            })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp)?;
        Ok(Self {
            target: target.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes all bytes, syncs, and renames the file into place.
    pub fn commit(mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("file already committed"))?;
        let res = file
            .write_all(bytes)
            .and_then(|_| file.sync_all())
            .and_then(|_| std::fs::rename(&self.tmp, &self.target));
        if res.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        // Renamed (or removed): nothing left for Drop to clean.
        self.tmp = PathBuf::new();
        res
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    PendingFile::create(path)?.commit(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = std::env::temp_dir().join(format!("gilscope-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.txt");
        write_atomic(&target, b"hello").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");
        {
            let _pending = PendingFile::create(&dir.join("never.txt")).unwrap();
        }
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(PendingFile::create(&dir.join("missing/sub/x.txt")).is_err());
        assert!(PendingFile::create(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
